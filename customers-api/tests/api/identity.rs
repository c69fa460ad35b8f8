//! Identities on every backend alike: e-mails match without regard to case, and to case only,
//! and every valid input fits the columns it is stored in (ISSUE 11, holes 5 and 6).

use b2b_testkit::{Backend, on_each_backend};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

/// 178 characters the validator accepts whose lower case is 278: ten labels of ten `İ`, each
/// of which lower-cases to two characters (`i` + U+0307).
fn dotted_i_email() -> String {
    let labels = vec!["İ".repeat(10); 10].join(".");
    format!("{}@{labels}.com", "a".repeat(64))
}

on_each_backend!(
    an_accent_in_the_operator_email_is_another_operator,
    an_email_whose_lower_case_is_longer_is_stored,
    fields_at_their_longest_in_wide_characters_are_stored,
);

async fn an_accent_in_the_operator_email_is_another_operator(backend: Backend) {
    let app = TestApp::on(backend).await;
    for email in [
        "ádmin@b2b.local",
        "admin@b2b.locál",
        "ａdmin@b2b.local",
        "ad\u{ad}min@b2b.local",
    ] {
        let resp = app.login(email, "admin123").await;
        problem(resp, 401, "UNAUTHORIZED").await;
    }
    for email in ["admin@b2b.local", "ADMIN@B2B.LOCAL"] {
        assert_eq!(app.login(email, "admin123").await.status(), 200, "{email}");
    }
}

async fn an_email_whose_lower_case_is_longer_is_stored(backend: Backend) {
    let app = TestApp::on(backend).await;
    let email = dotted_i_email();
    assert_eq!(email.chars().count(), 178);
    assert_eq!(email.to_lowercase().chars().count(), 278);
    let created = app.create("Dotted I", &email).await;
    assert_eq!(created["email"], email.as_str());
    let resp = app
        .post("/customers", &json!({"name": "Again", "email": email}))
        .await;
    problem(resp, 409, "EMAIL_TAKEN").await;

    // At the validator's limit: 255 characters, 170 of them `İ` (a label holds at most 28).
    let long = format!(
        "{}@{}.com",
        "a".repeat(64),
        vec!["İ".repeat(10); 17].join(".")
    );
    assert_eq!(long.chars().count(), 255);
    let resp = app
        .post("/customers", &json!({"name": "Longest", "email": long}))
        .await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let id = app.create("Replaced", "replaced@example.com").await["id"].clone();
    let resp = app
        .put(
            &format!("/customers/{id}"),
            &json!({"name": "R", "email": email}),
        )
        .await;
    problem(resp, 409, "EMAIL_TAKEN").await;
}

async fn fields_at_their_longest_in_wide_characters_are_stored(backend: Backend) {
    let app = TestApp::on(backend).await;
    // Four-byte characters: limits count characters, and so do the columns.
    let body =
        json!({"name": "𝔸".repeat(255), "email": "wide@example.com", "phone": "𝟙".repeat(50)});
    let resp = app.post("/customers", &body).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["name"], body["name"]);
    assert_eq!(created["phone"], body["phone"]);
}
