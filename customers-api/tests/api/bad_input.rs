//! Requests a client gets wrong: each gets the right 4xx problem (never a 500) and changes nothing.

use b2b_testkit::SERVICE_TOKEN;
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_fields, problem};

/// Sends the same raw body to `POST /customers` and `PUT /customers/1`.
async fn both_writes(
    app: &TestApp,
    content_type: Option<&str>,
    body: impl Into<Vec<u8>>,
) -> [Response; 2] {
    let body = body.into();
    let send = |method: Method, path: &str| {
        let mut req = app.op(method, path).body(body.clone());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send()
    };
    [
        send(Method::POST, "/customers").await.unwrap(),
        send(Method::PUT, "/customers/1").await.unwrap(),
    ]
}

/// The seed is as it was: no customer added, customer 1 untouched.
async fn assert_unchanged(app: &TestApp, acme: &Value) {
    assert_eq!(app.count("customers").await, 5, "nothing was created");
    assert_eq!(
        &app.customer(1).await.unwrap(),
        acme,
        "customer 1 was not changed"
    );
}

#[tokio::test]
async fn malformed_json_is_400_without_field_errors() {
    let app = TestApp::spawn().await;
    let acme = app.customer(1).await.unwrap();
    for body in [
        r#"{"name": "A", "email": "#,
        "",
        "{name: 'A'}",
        r#"{"name": "A"} trailing"#,
        "\u{feff}{}",
    ] {
        for resp in both_writes(&app, Some("application/json"), body).await {
            let p = problem(resp, 400, "MALFORMED_JSON").await;
            assert!(p.get("errors").is_none(), "{body:?}: {p}");
        }
    }
    assert_unchanged(&app, &acme).await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = TestApp::spawn().await;
    let acme = app.customer(1).await.unwrap();
    let json_text = r#"{"name": "Plain", "email": "plain@example.com"}"#;
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
    ] {
        for resp in both_writes(&app, ct, json_text).await {
            problem(resp, 415, "UNSUPPORTED_MEDIA_TYPE").await;
        }
    }
    let login = app
        .anon(Method::POST, "/auth/token")
        .header("content-type", "text/plain");
    let resp = login
        .body(r#"{"email": "admin@b2b.local", "password": "admin123"}"#)
        .send()
        .await
        .unwrap();
    problem(resp, 415, "UNSUPPORTED_MEDIA_TYPE").await;
    assert_unchanged(&app, &acme).await;
}

#[tokio::test]
async fn a_json_content_type_with_parameters_is_accepted() {
    let app = TestApp::spawn().await;
    let [created, replaced] = both_writes(
        &app,
        Some("application/json; charset=utf-8"),
        r#"{"name": "Charset Co", "email": "charset@example.com"}"#,
    )
    .await;
    assert_eq!(
        (created.status().as_u16(), replaced.status().as_u16()),
        (201, 409),
        "the PUT hit the address the POST took"
    );
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = TestApp::spawn().await;
    let acme = app.customer(1).await.unwrap();
    let huge = json!({"name": "x".repeat(70 * 1024), "email": "huge@example.com"}).to_string();
    for resp in both_writes(&app, Some("application/json"), huge).await {
        problem(resp, 413, "PAYLOAD_TOO_LARGE").await;
    }
    // just under the limit, the body is read and its fields judged instead
    let big = json!({"name": "x".repeat(60 * 1024), "email": "big@example.com"}).to_string();
    for resp in both_writes(&app, Some("application/json"), big).await {
        assert_eq!(
            error_fields(&problem(resp, 400, "VALIDATION_ERROR").await),
            ["name"]
        );
    }
    assert_unchanged(&app, &acme).await;
}

#[tokio::test]
async fn every_failing_field_is_listed() {
    let app = TestApp::spawn().await;
    let acme = app.customer(1).await.unwrap();
    let long = |n: usize| "x".repeat(n);
    let cases = [
        (json!({}), vec!["name", "email"]),
        (
            json!({"name": "", "email": "not-an-email", "phone": long(51)}),
            vec!["name", "email", "phone"],
        ),
        (
            json!({"name": "   ", "email": "a@b@c.com"}),
            vec!["name", "email"],
        ),
        (
            json!({"name": long(256), "email": format!("{}@example.com", long(250))}),
            vec!["name", "email"],
        ),
        (
            json!({"name": 5, "email": true, "phone": 12}),
            vec!["name", "email", "phone"],
        ),
        (
            json!({"name": ["A"], "email": {"a": 1}, "phone": false}),
            vec!["name", "email", "phone"],
        ),
        (json!({"name": null, "email": null}), vec!["name", "email"]),
        (
            json!({"name": "A", "email": "a@example.com", "id": 9, "deleted_at": null}),
            vec!["id", "deleted_at"],
        ),
        (
            json!([{"name": "A", "email": "a@example.com"}]),
            vec!["body"],
        ),
        (json!("just a string"), vec!["body"]),
    ];
    for (body, fields) in cases {
        for resp in both_writes(&app, Some("application/json"), body.to_string()).await {
            let p = problem(resp, 400, "VALIDATION_ERROR").await;
            let mut got = error_fields(&p);
            got.sort();
            let mut want = fields.clone();
            want.sort();
            assert_eq!(got, want, "{body}");
            assert!(
                p["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty()))
            );
        }
    }
    assert_unchanged(&app, &acme).await;
}

#[tokio::test]
async fn lengths_are_counted_in_characters_up_to_the_limit() {
    let app = TestApp::spawn().await;
    let name = "é".repeat(255);
    let phone = "9".repeat(50);
    let resp = app
        .post(
            "/customers",
            &json!({"name": name, "email": "max@example.com", "phone": phone}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    let got = app.customer(created["id"].as_i64().unwrap()).await.unwrap();
    assert_eq!(
        (
            got["name"].as_str().unwrap(),
            got["phone"].as_str().unwrap()
        ),
        (name.as_str(), phone.as_str())
    );
}

#[tokio::test]
async fn an_id_in_the_path_must_be_a_positive_integer() {
    let app = TestApp::spawn().await;
    let acme = app.customer(1).await.unwrap();
    let body = json!({"name": "Bad Id", "email": "badid@example.com"});
    for id in [
        "abc",
        "0",
        "-1",
        "1.5",
        "1e3",
        "99999999999999999999",
        "1%20OR%201=1",
    ] {
        let path = format!("/customers/{id}");
        let internal = app
            .get_as(&format!("/internal/customers/{id}"), SERVICE_TOKEN)
            .await;
        for resp in [
            app.get(&path).await,
            app.put(&path, &body).await,
            app.delete(&path).await,
            internal,
        ] {
            assert_eq!(
                error_fields(&problem(resp, 400, "VALIDATION_ERROR").await),
                ["id"],
                "{id}"
            );
        }
    }
    assert_unchanged(&app, &acme).await;
}

#[tokio::test]
async fn unknown_routes_and_methods_get_problems_too() {
    let app = TestApp::spawn().await;
    problem(app.get("/customer/1").await, 404, "NOT_FOUND").await;
    let resp = app
        .op(Method::PATCH, "/customers/1")
        .json(&json!({"name": "Patched"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let resp = app.op(Method::DELETE, "/customers").send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(app.customer(1).await.unwrap()["name"], "ACME Corp");
}
