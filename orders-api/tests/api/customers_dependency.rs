//! Creating an order asks customers-api about the customer; when it is down, slow or failing,
//! the answer is 503 and nothing is written.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use b2b_testkit::{SERVICE_TOKEN, TestDb, spawn};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, order_body, problem, token};

/// A stand-in for customers-api that answers after `delay_ms` with `status`, and remembers the
/// `Authorization` and `X-Correlation-Id` it was sent.
#[derive(Clone, Default)]
struct Fake {
    delay_ms: Arc<AtomicU64>,
    status: Arc<AtomicU16>,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

async fn lookup(
    State(fake): State<Fake>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> (StatusCode, String) {
    let header = |name: &str| {
        let value = headers.get(name).and_then(|v| v.to_str().ok());
        value.unwrap_or_default().to_owned()
    };
    let seen = (header("authorization"), header("x-correlation-id"));
    fake.seen.lock().unwrap().push(seen);
    tokio::time::sleep(Duration::from_millis(fake.delay_ms.load(Ordering::SeqCst))).await;
    let status = StatusCode::from_u16(fake.status.load(Ordering::SeqCst)).unwrap();
    let body = json!({"id": id, "name": "Fake", "email": "fake@example.com", "phone": null});
    (status, body.to_string())
}

impl Fake {
    async fn spawn(status: u16) -> (Self, String) {
        let fake = Self::default();
        fake.status.store(status, Ordering::SeqCst);
        let router = axum::Router::new()
            .route("/internal/customers/{id}", get(lookup))
            .with_state(fake.clone());
        (fake, spawn(router).await)
    }
}

/// orders-api calling customers-api at `base` with a 300 ms time-out.
async fn app_calling(base: &str) -> TestApp {
    let db = TestDb::sqlite().await.seeded().await;
    TestApp::start(db, base, Duration::from_millis(300)).await
}

/// Asserts that the failed attempts left no order, no key and all stock in place.
async fn nothing_written(app: &TestApp) {
    assert_eq!(app.count("orders").await, 0);
    assert_eq!(app.count("order_items").await, 0);
    assert_eq!(app.count("idempotency_keys").await, 0);
    assert_eq!(app.stocks(&[1, 2]).await, [500, 1000]);
}

/// Creates a customer through customers-api; its id.
async fn new_customer(app: &TestApp, name: &str, email: &str) -> i64 {
    let resp = app
        .client
        .post(format!("{}/customers", app.customers))
        .bearer_auth(token())
        .json(&json!({"name": name, "email": email}))
        .send()
        .await
        .unwrap();
    app.json_ok(resp, 201).await["id"].as_i64().unwrap()
}

/// Deletes a customer through customers-api.
async fn delete_customer(app: &TestApp, id: i64) {
    let resp = app
        .client
        .delete(format!("{}/customers/{id}", app.customers))
        .bearer_auth(token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
}

#[tokio::test]
async fn customers_created_and_deleted_there_are_seen_here() {
    let app = TestApp::spawn().await;
    let customer = new_customer(&app, "Wayne Enterprises", "supply@wayne.com").await;

    let order = app
        .json_ok(app.order(&order_body(customer, &[(1, 1)]), None).await, 201)
        .await;
    assert_eq!(order["customer_id"], customer);

    delete_customer(&app, customer).await;
    let resp = app.order(&order_body(customer, &[(1, 1)]), None).await;
    problem(resp, 404, "CUSTOMER_NOT_FOUND").await;
    assert_eq!(app.stock(1).await, 499);
}

/// A retry of a create that took effect gets its answer, even when the customer check would now
/// fail (the key is only read after a failed check).
#[tokio::test]
async fn a_create_that_took_effect_is_replayed_after_its_customer_is_gone() {
    let app = TestApp::spawn().await;
    let customer = new_customer(&app, "Stark Industries", "buy@stark.com").await;
    let order = order_body(customer, &[(1, 2)]);
    let first = app
        .json_ok(app.order(&order, Some("gone-1")).await, 201)
        .await;

    delete_customer(&app, customer).await;
    let resp = app.order(&order, Some("gone-1")).await;
    assert_eq!(resp.headers()["idempotent-replayed"], "true");
    assert_eq!(app.json_ok(resp, 201).await, first);
    // Another request under that key is still refused as such.
    let resp = app
        .order(&order_body(customer, &[(1, 3)]), Some("gone-1"))
        .await;
    problem(resp, 422, "IDEMPOTENCY_KEY_REUSED").await;
    // Without a key, or with a new one, the customer is gone.
    let resp = app.order(&order, Some("gone-2")).await;
    problem(resp, 404, "CUSTOMER_NOT_FOUND").await;
    assert_eq!(app.stock(1).await, 498, "stock taken once");
    assert_eq!(app.count("orders").await, 1);
}

#[tokio::test]
async fn the_look_up_uses_the_service_token_and_the_correlation_id() {
    let (fake, base) = Fake::spawn(200).await;
    let app = app_calling(&base).await;
    let resp = app
        .op(Method::POST, "/orders")
        .header("X-Correlation-Id", "corr-42")
        .json(&order_body(3, &[(1, 1)]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let seen = fake.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [(format!("Bearer {SERVICE_TOKEN}"), "corr-42".to_owned())]
    );
}

#[tokio::test]
async fn customers_api_down_is_503_and_nothing_is_written() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = app_calling(&base).await;
    let resp = app
        .order(&order_body(1, &[(1, 3), (2, 1)]), Some("down-1"))
        .await;
    assert!(resp.headers().contains_key("retry-after"));
    let body = problem(resp, 503, "SERVICE_UNAVAILABLE").await;
    assert!(
        !body["detail"].as_str().unwrap().contains("127.0.0.1"),
        "no internals leak"
    );
    nothing_written(&app).await;
}

#[tokio::test]
async fn customers_api_slow_is_503_and_the_key_can_be_retried() {
    let (fake, base) = Fake::spawn(200).await;
    fake.delay_ms.store(3_000, Ordering::SeqCst);
    let app = app_calling(&base).await;
    let body = order_body(1, &[(1, 3), (2, 1)]);
    problem(
        app.order(&body, Some("slow-1")).await,
        503,
        "SERVICE_UNAVAILABLE",
    )
    .await;
    nothing_written(&app).await;

    fake.delay_ms.store(0, Ordering::SeqCst);
    let order = app
        .json_ok(app.order(&body, Some("slow-1")).await, 201)
        .await;
    assert_eq!(order["status"], "CREATED");
    assert_eq!(app.stocks(&[1, 2]).await, [497, 999]);
}

#[tokio::test]
async fn customers_api_failing_is_503_and_nothing_is_written() {
    let (_fake, base) = Fake::spawn(500).await;
    let app = app_calling(&base).await;
    let resp = app.order(&order_body(1, &[(1, 3), (2, 1)]), None).await;
    problem(resp, 503, "SERVICE_UNAVAILABLE").await;
    nothing_written(&app).await;
}
