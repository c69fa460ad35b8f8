//! `GET /metrics` of orders-api: keyed requests by outcome, orders refused for stock, requests
//! by route template, and the pool.

use std::time::Duration;

use b2b_testkit::exposition::{Exposition, scrape};
use b2b_testkit::{Backend, TestDb, problem, spawn};
use orders_api::{AppState, Config, app};
use reqwest::Method;

use crate::helpers::{SCARCE, TestApp, config, on_each_backend, order_body, spawn_customers_api};

const TOKEN: &str = "metrics-token-0123456789abcdef-0123";

fn keyed(m: &Exposition, scope: &str, outcome: &str) -> f64 {
    m.value(
        "idempotency_requests_total",
        &[("scope", scope), ("outcome", outcome)],
    )
}

fn requests(m: &Exposition, method: &str, route: &str, status: &str) -> f64 {
    let labels = [("method", method), ("route", route), ("status", status)];
    m.value("http_requests_total", &labels)
}

on_each_backend!(keyed_requests_and_refusals_are_counted_as_they_were_answered);

async fn keyed_requests_and_refusals_are_counted_as_they_were_answered(backend: Backend) {
    let app = TestApp::on(backend).await;
    let first = order_body(1, &[(2, 1)]);
    let resp = app.order(&first, Some("m-1")).await;
    let order = app.json_ok(resp, 201).await;
    let resp = app.order(&first, Some("m-1")).await;
    assert_eq!(resp.headers()["idempotent-replayed"], "true");
    let other = order_body(1, &[(3, 1)]);
    problem(
        app.order(&other, Some("m-1")).await,
        422,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
    let too_many = order_body(1, &[(SCARCE, 6)]);
    problem(app.order(&too_many, None).await, 409, "INSUFFICIENT_STOCK").await;
    problem(
        app.order(&too_many, Some("m-2")).await,
        409,
        "INSUFFICIENT_STOCK",
    )
    .await;
    let id = order["id"].as_i64().unwrap();
    assert_eq!(app.confirm(id, "c-1").await.status(), 200);
    assert_eq!(app.confirm(id, "c-1").await.status(), 200);
    app.order_by_id(id).await;

    let m = scrape(&app.client, &app.base, None).await;
    assert_eq!(keyed(&m, "orders.create", "fresh"), 1.0);
    assert_eq!(keyed(&m, "orders.create", "replayed"), 1.0);
    assert_eq!(keyed(&m, "orders.create", "mismatch"), 1.0);
    assert_eq!(keyed(&m, "orders.confirm", "fresh"), 1.0);
    assert_eq!(keyed(&m, "orders.confirm", "replayed"), 1.0);
    // A refused keyed request leaves no key behind, so it has no outcome of its own.
    assert_eq!(m.value("idempotency_requests_total", &[]), 5.0);
    let refused = m.value("orders_refused_total", &[("reason", "insufficient_stock")]);
    assert_eq!(refused, 2.0);

    assert_eq!(requests(&m, "POST", "/orders", "201"), 2.0);
    assert_eq!(requests(&m, "POST", "/orders", "422"), 1.0);
    assert_eq!(requests(&m, "POST", "/orders", "409"), 2.0);
    assert_eq!(requests(&m, "POST", "/orders/{id}/confirm", "200"), 2.0);
    assert_eq!(requests(&m, "GET", "/orders/{id}", "200"), 1.0);
    let routes = m.label_values("http_requests_total", "route");
    assert_eq!(routes, ["/orders", "/orders/{id}", "/orders/{id}/confirm"]);
    assert!(
        m.samples
            .iter()
            .all(|s| s.labels.contains(&("service".into(), "orders-api".into())))
    );
    let pool = m.value("db_pool_connections", &[]);
    assert!(
        pool >= 1.0 && pool <= m.value("db_pool_max_connections", &[]),
        "pool {pool}"
    );
}

#[tokio::test]
async fn with_metrics_token_set_only_its_bearer_may_scrape() {
    let db = TestDb::new(Backend::Sqlite).await.seeded().await;
    let customers = spawn_customers_api(&db).await;
    let config = Config {
        metrics_token: Some(TOKEN.into()),
        ..config(&db, &customers, Duration::from_secs(5))
    };
    let base = spawn(app(AppState::new(db.db.clone(), &config).unwrap())).await;
    let client = b2b_testkit::client();
    let url = format!("{base}/metrics");
    problem(client.get(&url).send().await.unwrap(), 401, "UNAUTHORIZED").await;
    let service = client
        .get(&url)
        .bearer_auth(b2b_testkit::SERVICE_TOKEN)
        .send();
    problem(service.await.unwrap(), 401, "UNAUTHORIZED").await;
    let m = scrape(&client, &base, Some(TOKEN)).await;
    assert_eq!(requests(&m, "GET", "/metrics", "401"), 2.0);
    let health = client.request(Method::GET, format!("{base}/health")).send();
    assert_eq!(health.await.unwrap().status(), 200);
}
