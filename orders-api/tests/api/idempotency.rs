//! Idempotency keys (SPEC §6): a keyed request takes effect once and is replayed after; a
//! failure stores nothing; keys are scoped by operation and expire.

use b2b_testkit::Backend;
use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    SCARCE, TestApp, error_fields, on_each_backend, order_body, problem, replayed,
};

on_each_backend!(
    a_confirmation_is_replayed_for_its_key,
    a_retried_create_returns_the_same_order,
    expired_keys_run_again,
    expired_keys_are_purged,
);

/// Status, replay flag and exact body text of a response.
async fn outcome(resp: reqwest::Response) -> (u16, bool, String) {
    let replay = replayed(&resp);
    (resp.status().as_u16(), replay, resp.text().await.unwrap())
}

fn id(order: &Value) -> i64 {
    order["id"].as_i64().unwrap()
}

#[tokio::test]
async fn confirming_needs_a_well_formed_key() {
    let app = TestApp::spawn().await;
    let order = id(&app.create_order(&[(1, 1)]).await);
    let path = format!("/orders/{order}/confirm");
    let resp = app.op(Method::POST, &path).send().await.unwrap();
    let body = problem(resp, 400, "VALIDATION_ERROR").await;
    assert_eq!(error_fields(&body), ["x-idempotency-key"]);
    for bad in ["", "has space", "tab\there", &"k".repeat(256)] {
        let body = problem(app.confirm(order, bad).await, 400, "VALIDATION_ERROR").await;
        assert_eq!(error_fields(&body), ["x-idempotency-key"], "{bad:?}");
    }
    let resp = app
        .order(&order_body(1, &[(1, 1)]), Some("with space"))
        .await;
    let body = problem(resp, 400, "VALIDATION_ERROR").await;
    assert_eq!(error_fields(&body), ["idempotency-key"]);
    assert_eq!(app.order_by_id(order).await["status"], "CREATED");
    assert_eq!(app.count("orders").await, 1);
    assert_eq!(app.count("idempotency_keys").await, 0);
    // The longest key there may be, of every allowed character.
    let longest: String = ('!'..='~').cycle().take(255).collect();
    assert_eq!(app.confirm(order, &longest).await.status(), 200);
}

async fn a_confirmation_is_replayed_for_its_key(backend: Backend) {
    let app = TestApp::on(backend).await;
    let order = id(&app.create_order(&[(1, 1)]).await);
    let other = id(&app.create_order(&[(2, 1)]).await);

    let (status, replay, first) = outcome(app.confirm(order, "confirm-1").await).await;
    assert_eq!((status, replay), (200, false));
    let confirmed: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(confirmed["status"], "CONFIRMED");
    assert!(confirmed["confirmed_at"].is_string());
    assert_eq!(app.order_by_id(order).await, confirmed);

    app.clock.advance(Duration::minutes(1));
    assert_eq!(
        outcome(app.confirm(order, "confirm-1").await).await,
        (200, true, first.clone())
    );
    // A new key on a confirmed order: 200, unchanged, not a replay.
    assert_eq!(
        outcome(app.confirm(order, "confirm-2").await).await,
        (200, false, first.clone())
    );

    let resp = app.confirm(other, "confirm-1").await;
    problem(resp, 422, "IDEMPOTENCY_KEY_REUSED").await;
    assert_eq!(app.order_by_id(other).await["status"], "CREATED");

    // Canceled since: a new confirmation is refused, a retry of the first one is answered as it was.
    assert_eq!(app.cancel(order).await.status(), 200);
    problem(
        app.confirm(order, "confirm-3").await,
        409,
        "ORDER_NOT_CONFIRMABLE",
    )
    .await;
    assert_eq!(
        outcome(app.confirm(order, "confirm-1").await).await,
        (200, true, first)
    );
    assert_eq!(app.order_by_id(order).await["status"], "CANCELED");
}

#[tokio::test]
async fn a_canceled_order_cannot_be_confirmed() {
    let app = TestApp::spawn().await;
    let order = id(&app.create_order(&[(1, 1)]).await);
    assert_eq!(app.cancel(order).await.status(), 200);
    problem(
        app.confirm(order, "late").await,
        409,
        "ORDER_NOT_CONFIRMABLE",
    )
    .await;
    assert_eq!(app.order_by_id(order).await["status"], "CANCELED");
    assert_eq!(app.count("idempotency_keys").await, 0);
}

#[tokio::test]
async fn a_failed_request_leaves_its_key_free() {
    let app = TestApp::spawn().await;
    problem(app.confirm(999, "retry-me").await, 404, "ORDER_NOT_FOUND").await;
    let canceled = id(&app.create_order(&[(1, 1)]).await);
    app.cancel(canceled).await;
    problem(
        app.confirm(canceled, "retry-me").await,
        409,
        "ORDER_NOT_CONFIRMABLE",
    )
    .await;
    assert_eq!(app.count("idempotency_keys").await, 0);

    // Had a failure been stored, this would be a 422 (another order) or a replayed failure.
    let order = id(&app.create_order(&[(1, 1)]).await);
    let (status, replay, body) = outcome(app.confirm(order, "retry-me").await).await;
    assert_eq!((status, replay), (200, false), "{body}");
}

async fn a_retried_create_returns_the_same_order(backend: Backend) {
    let app = TestApp::on(backend).await;
    let body = order_body(3, &[(1, 2), (4, 1)]);
    let (status, replay, first) = outcome(app.order(&body, Some("create-1")).await).await;
    assert_eq!((status, replay), (201, false), "{first}");
    assert_eq!(
        outcome(app.order(&body, Some("create-1")).await).await,
        (201, true, first.clone())
    );
    // The same request written differently is still the same request.
    let reordered = json!({"items": [{"qty": 2, "product_id": 1}, {"qty": 1, "product_id": 4}], "customer_id": 3});
    assert_eq!(
        outcome(app.order(&reordered, Some("create-1")).await).await,
        (201, true, first)
    );
    assert_eq!(app.stocks(&[1, 4]).await, [498, 24], "stock taken once");
    assert_eq!(app.count("orders").await, 1);

    for different in [
        order_body(3, &[(1, 3), (4, 1)]),
        order_body(2, &[(1, 2), (4, 1)]),
    ] {
        let resp = app.order(&different, Some("create-1")).await;
        problem(resp, 422, "IDEMPOTENCY_KEY_REUSED").await;
    }
    assert_eq!(app.stocks(&[1, 4]).await, [498, 24]);
    assert_eq!(app.count("orders").await, 1);
}

#[tokio::test]
async fn a_create_that_failed_is_retried_with_its_key() {
    let app = TestApp::spawn().await;
    let body = order_body(1, &[(SCARCE, 8)]);
    problem(
        app.order(&body, Some("short-1")).await,
        409,
        "INSUFFICIENT_STOCK",
    )
    .await;
    assert_eq!(app.count("idempotency_keys").await, 0);

    app.patch_ok("/products/10", &json!({"stock": 8})).await;
    let (status, replay, first) = outcome(app.order(&body, Some("short-1")).await).await;
    assert_eq!((status, replay), (201, false), "{first}");
    assert_eq!(
        outcome(app.order(&body, Some("short-1")).await).await,
        (201, true, first)
    );
    assert_eq!(app.stock(SCARCE).await, 0);
}

#[tokio::test]
async fn keys_are_scoped_by_operation() {
    let app = TestApp::spawn().await;
    let resp = app
        .order(&order_body(1, &[(1, 1)]), Some("shared-key"))
        .await;
    let order = id(&app.json_ok(resp, 201).await);
    let resp = app.confirm(order, "shared-key").await;
    assert_eq!(outcome(resp).await.0, 200);
    let resp = app
        .order(&order_body(1, &[(1, 1)]), Some("shared-key"))
        .await;
    assert!(replayed(&resp));
    assert_eq!(id(&resp.json().await.unwrap()), order);
    assert_eq!(app.count("orders").await, 1);
}

async fn expired_keys_run_again(backend: Backend) {
    let app = TestApp::on(backend).await;
    let body = order_body(1, &[(1, 5)]);
    let first = app
        .json_ok(app.order(&body, Some("old-key")).await, 201)
        .await;
    let confirmed = app.confirm(id(&first), "old-confirm").await;
    assert_eq!(confirmed.status(), 200);

    app.clock.advance(Duration::hours(23));
    assert!(
        replayed(&app.order(&body, Some("old-key")).await),
        "still live after 23 h"
    );
    assert!(replayed(&app.confirm(id(&first), "old-confirm").await));

    // IDEMPOTENCY_KEY_EXPIRATION_HOURS is 24: past it, the key is new again.
    app.clock.advance(Duration::hours(2));
    let resp = app.order(&body, Some("old-key")).await;
    assert!(!replayed(&resp));
    let second = app.json_ok(resp, 201).await;
    assert_ne!(id(&second), id(&first));
    assert_eq!(app.stock(1).await, 490, "each run took stock");
    let resp = app.confirm(id(&first), "old-confirm").await;
    assert!(!replayed(&resp));
    assert_eq!(app.json_ok(resp, 200).await["status"], "CONFIRMED");
    // And the new run is what a retry replays from now on.
    let again = app.order(&body, Some("old-key")).await;
    assert!(replayed(&again));
    assert_eq!(id(&again.json().await.unwrap()), id(&second));
}

async fn expired_keys_are_purged(backend: Backend) {
    let app = TestApp::on(backend).await;
    let resp = app.order(&order_body(1, &[(1, 1)]), Some("purge-1")).await;
    let order = app.json_ok(resp, 201).await;
    let t0: DateTime<Utc> = order["created_at"].as_str().unwrap().parse().unwrap();
    app.confirm(id(&order), "purge-2").await;
    app.clock.advance(Duration::hours(12));
    let later = id(&app.create_order(&[(2, 1)]).await);
    app.confirm(later, "purge-3").await;
    assert_eq!(app.count("idempotency_keys").await, 3);

    let purge = |now| orders_api::idempotency::purge(&app.db.db, now);
    assert_eq!(purge(t0 + Duration::hours(23)).await.unwrap(), 0);
    assert_eq!(purge(t0 + Duration::hours(24)).await.unwrap(), 2);
    assert_eq!(app.count("idempotency_keys").await, 1);
    assert_eq!(purge(t0 + Duration::hours(36)).await.unwrap(), 1);
    assert_eq!(app.count("idempotency_keys").await, 0);
    assert_eq!(app.count("orders").await, 2, "only keys are purged");
}
