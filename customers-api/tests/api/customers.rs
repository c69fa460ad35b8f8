//! Customers CRUD as an operator sees it, the internal look-up, and correlation ids.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use b2b_testkit::SERVICE_TOKEN;

use crate::helpers::{TestApp, ids, problem};

fn timestamp(v: &Value) -> DateTime<Utc> {
    let raw = v.as_str().expect("a timestamp string");
    let t = DateTime::parse_from_rfc3339(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
    assert_eq!(t.offset().local_minus_utc(), 0, "{raw} is UTC");
    t.with_timezone(&Utc)
}

#[tokio::test]
async fn a_created_customer_reads_back_the_same_everywhere() {
    let app = TestApp::spawn().await;
    let body =
        json!({"name": "  Wayne Enterprises ", "email": "Bruce@Wayne.com", "phone": "+1-555-0199"});
    let resp = app.post("/customers", &body).await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    assert!(id > 5, "a new id after the seed");
    assert_eq!(created["name"], "Wayne Enterprises", "trimmed");
    assert_eq!(created["email"], "Bruce@Wayne.com", "kept as written");
    assert_eq!(created["phone"], "+1-555-0199");
    assert_eq!(
        timestamp(&created["created_at"]),
        timestamp(&created["updated_at"])
    );
    assert!(
        (Utc::now() - timestamp(&created["created_at"]))
            .num_seconds()
            .abs()
            < 60
    );

    assert_eq!(app.customer(id).await.unwrap(), created);
    let internal = app
        .get_as(&format!("/internal/customers/{id}"), SERVICE_TOKEN)
        .await;
    assert_eq!(internal.json::<Value>().await.unwrap(), created);
    assert_eq!(app.all_customers().await.last().unwrap(), &created);
}

#[tokio::test]
async fn a_phone_is_optional() {
    let app = TestApp::spawn().await;
    for body in [
        json!({"name": "No Phone", "email": "a@nophone.com"}),
        json!({"name": "Null Phone", "email": "b@nophone.com", "phone": null}),
    ] {
        let resp = app.post("/customers", &body).await;
        assert_eq!(resp.status(), 201);
        assert_eq!(resp.json::<Value>().await.unwrap()["phone"], Value::Null);
    }
}

#[tokio::test]
async fn a_taken_email_is_a_conflict_whatever_its_case() {
    let app = TestApp::spawn().await;
    for email in ["ops@acme.com", "OPS@ACME.COM", " Ops@Acme.com "] {
        let resp = app
            .post("/customers", &json!({"name": "Copycat", "email": email}))
            .await;
        problem(resp, 409, "EMAIL_TAKEN").await;
    }
    assert_eq!(app.all_customers().await.len(), 5, "nothing was created");
}

#[tokio::test]
async fn concurrent_creates_with_one_email_admit_exactly_one() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "Race Ltd", "email": "race@example.com"});
    // Spawned tasks so the eight requests really are in flight together.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let req = app.op(Method::POST, "/customers").json(&body);
        set.spawn(async move { req.send().await.unwrap().status().as_u16() });
    }
    let mut statuses = set.join_all().await;
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    let found = app.page("/customers?search=race@example.com").await;
    assert_eq!(ids(&found).len(), 1);
}

#[tokio::test]
async fn replace_sets_every_field_and_a_missing_phone_becomes_null() {
    let app = TestApp::spawn().await;
    let before = app.customer(1).await.unwrap();
    assert_eq!(before["phone"], "+1-555-0100");

    let resp = app
        .put(
            "/customers/1",
            &json!({"name": "ACME Holdings", "email": "hq@acme.com"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let after: Value = resp.json().await.unwrap();
    assert_eq!(
        (&after["id"], &after["name"], &after["email"]),
        (&json!(1), &json!("ACME Holdings"), &json!("hq@acme.com"))
    );
    assert_eq!(after["phone"], Value::Null);
    assert_eq!(after["created_at"], before["created_at"]);
    assert!(timestamp(&after["updated_at"]) > timestamp(&before["updated_at"]));
    assert_eq!(app.customer(1).await.unwrap(), after);

    // The old address is free now; changing only the case of one's own address is no conflict.
    app.create("Old Address Co", "ops@acme.com").await;
    let resp = app
        .put(
            "/customers/1",
            &json!({"name": "ACME Holdings", "email": "HQ@ACME.COM"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn replace_with_another_customers_email_is_a_conflict() {
    let app = TestApp::spawn().await;
    let before = app.customer(2).await.unwrap();
    let resp = app
        .put(
            "/customers/2",
            &json!({"name": "Globex", "email": "OPS@acme.com"}),
        )
        .await;
    problem(resp, 409, "EMAIL_TAKEN").await;
    assert_eq!(app.customer(2).await.unwrap(), before, "unchanged");
}

#[tokio::test]
async fn unknown_customers_are_404() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "Ghost", "email": "ghost@example.com"});
    let responses = [
        app.get("/customers/999999").await,
        app.put("/customers/999999", &body).await,
        app.delete("/customers/999999").await,
        app.get_as("/internal/customers/999999", SERVICE_TOKEN)
            .await,
    ];
    for resp in responses {
        problem(resp, 404, "CUSTOMER_NOT_FOUND").await;
    }
    assert_eq!(
        app.all_customers().await.len(),
        5,
        "the PUT created nothing"
    );
}

#[tokio::test]
async fn a_deleted_customer_is_gone_from_every_route() {
    let app = TestApp::spawn().await;
    let resp = app.delete("/customers/1").await;
    assert_eq!(resp.status(), 204);
    assert!(resp.bytes().await.unwrap().is_empty());

    problem(app.get("/customers/1").await, 404, "CUSTOMER_NOT_FOUND").await;
    let resp = app.get_as("/internal/customers/1", SERVICE_TOKEN).await;
    problem(resp, 404, "CUSTOMER_NOT_FOUND").await;
    let resp = app
        .put(
            "/customers/1",
            &json!({"name": "ACME Corp", "email": "ops@acme.com"}),
        )
        .await;
    problem(resp, 404, "CUSTOMER_NOT_FOUND").await;
    problem(app.delete("/customers/1").await, 404, "CUSTOMER_NOT_FOUND").await;

    assert_eq!(ids(&app.page("/customers").await), [2, 3, 4, 5]);
    assert!(ids(&app.page("/customers?search=acme").await).is_empty());
}

#[tokio::test]
async fn a_deleted_customers_email_can_be_used_again() {
    let app = TestApp::spawn().await;
    assert_eq!(app.delete("/customers/1").await.status(), 204);
    let again = app.create("ACME Reborn", "OPS@acme.com").await;
    assert_ne!(again["id"], 1);
    assert!(
        app.customer(1).await.is_none(),
        "the deleted one stays deleted"
    );
    // and once more, over a second deleted row holding the same address
    assert_eq!(
        app.delete(&format!("/customers/{}", again["id"]))
            .await
            .status(),
        204
    );
    app.create("ACME Third", "ops@acme.com").await;
}

#[tokio::test]
async fn a_correlation_id_is_echoed_when_sent() {
    let app = TestApp::spawn().await;
    for (method, path, auth) in [
        (Method::GET, "/customers/1", true),
        (Method::GET, "/customers/999", true),
        (Method::GET, "/customers", false),
        (Method::GET, "/nope", false),
    ] {
        let req = if auth {
            app.op(method, path)
        } else {
            app.anon(method, path)
        };
        let resp = req
            .header("x-correlation-id", "req-789")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["x-correlation-id"], "req-789", "{path}");
    }
}

#[tokio::test]
async fn a_correlation_id_is_generated_when_missing_or_unusable() {
    let app = TestApp::spawn().await;
    let mut seen = Vec::new();
    for sent in [None, None, Some("has spaces in it")] {
        let mut req = app.op(Method::GET, "/customers/1");
        if let Some(id) = sent {
            req = req.header("x-correlation-id", id);
        }
        let resp = req.send().await.unwrap();
        let id = resp.headers()["x-correlation-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(!id.is_empty() && Some(id.as_str()) != sent);
        seen.push(id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3, "a new id per request: {seen:?}");
}

/// The orchestrator's look-up for a replayed call finds a deleted customer when it asks to.
#[tokio::test]
async fn the_internal_look_up_finds_a_deleted_customer_only_when_asked() {
    let app = TestApp::spawn().await;
    let before = app.get_as("/internal/customers/2", SERVICE_TOKEN).await;
    let before: Value = before.json().await.unwrap();
    assert_eq!(app.delete("/customers/2").await.status(), 204);

    let resp = app.get_as("/internal/customers/2", SERVICE_TOKEN).await;
    problem(resp, 404, "CUSTOMER_NOT_FOUND").await;
    let path = "/internal/customers/2?include_deleted=false";
    problem(
        app.get_as(path, SERVICE_TOKEN).await,
        404,
        "CUSTOMER_NOT_FOUND",
    )
    .await;
    let resp = app
        .get_as("/internal/customers/2?include_deleted=true", SERVICE_TOKEN)
        .await;
    assert_eq!(resp.status(), 200);
    let found: Value = resp.json().await.unwrap();
    assert_eq!(found["email"], before["email"]);
    assert_eq!(found["name"], before["name"]);
    let resp = app
        .get_as("/internal/customers/2?include_deleted=yes", SERVICE_TOKEN)
        .await;
    problem(resp, 400, "VALIDATION_ERROR").await;
    let resp = app
        .get_as(
            "/internal/customers/999?include_deleted=true",
            SERVICE_TOKEN,
        )
        .await;
    problem(resp, 404, "CUSTOMER_NOT_FOUND").await;
}
