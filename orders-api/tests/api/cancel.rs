//! Cancellation: stock comes back once; a confirmed order only within its window.

use b2b_testkit::Backend;
use chrono::Duration;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{SCARCE, TestApp, on_each_backend, problem};

on_each_backend!(
    canceling_restores_stock_once,
    a_confirmed_order_is_canceled_within_the_window,
    past_the_window_nothing_changes,
    a_compensation_cancels_only_an_unconfirmed_order,
);

fn id(order: &Value) -> i64 {
    order["id"].as_i64().unwrap()
}

async fn canceling_restores_stock_once(backend: Backend) {
    let app = TestApp::on(backend).await;
    let order = id(&app.create_order(&[(1, 3), (SCARCE, 2)]).await);
    let untouched = app.create_order(&[(1, 1)]).await;
    assert_eq!(app.stocks(&[1, SCARCE]).await, [496, 3]);

    app.clock.advance(Duration::minutes(1));
    let canceled = app.json_ok(app.cancel(order).await, 200).await;
    assert_eq!(canceled["status"], "CANCELED");
    assert!(canceled["canceled_at"].is_string() && canceled["confirmed_at"].is_null());
    assert_ne!(canceled["updated_at"], canceled["created_at"]);
    assert_eq!(app.stocks(&[1, SCARCE]).await, [499, 5]);
    assert_eq!(app.order_by_id(order).await, canceled);

    app.clock.advance(Duration::minutes(1));
    let again = app.json_ok(app.cancel(order).await, 200).await;
    assert_eq!(again, canceled, "returned unchanged");
    assert_eq!(app.stocks(&[1, SCARCE]).await, [499, 5], "restored once");
    assert_eq!(app.order_by_id(id(&untouched)).await, untouched);
}

async fn a_confirmed_order_is_canceled_within_the_window(backend: Backend) {
    let app = TestApp::on(backend).await;
    let order = id(&app.create_order(&[(SCARCE, 4)]).await);
    assert_eq!(app.confirm(order, "window-1").await.status(), 200);
    // ORDER_CANCELLATION_WINDOW_MINUTES is 10; its last instant still counts.
    app.clock.advance(Duration::minutes(10));
    let canceled = app.json_ok(app.cancel(order).await, 200).await;
    assert_eq!(canceled["status"], "CANCELED");
    assert!(canceled["confirmed_at"].is_string() && canceled["canceled_at"].is_string());
    assert_eq!(app.stock(SCARCE).await, 5);
}

async fn past_the_window_nothing_changes(backend: Backend) {
    let app = TestApp::on(backend).await;
    let order = id(&app.create_order(&[(SCARCE, 4), (2, 10)]).await);
    let confirmed = app.json_ok(app.confirm(order, "window-2").await, 200).await;
    app.clock
        .advance(Duration::minutes(10) + Duration::microseconds(1));
    problem(app.cancel(order).await, 409, "CANCELLATION_WINDOW_CLOSED").await;
    app.clock.advance(Duration::days(1));
    problem(app.cancel(order).await, 409, "CANCELLATION_WINDOW_CLOSED").await;
    assert_eq!(app.order_by_id(order).await, confirmed);
    assert_eq!(app.stocks(&[SCARCE, 2]).await, [1, 990], "nothing restored");
}

/// A cancel as the orchestrator's compensation sends it.
async fn compensate(app: &TestApp, id: i64) -> reqwest::Response {
    let path = format!("/orders/{id}/cancel?if_status=CREATED");
    app.service(Method::POST, &path).send().await.unwrap()
}

async fn a_compensation_cancels_only_an_unconfirmed_order(backend: Backend) {
    let app = TestApp::on(backend).await;
    let created = id(&app.create_order(&[(SCARCE, 2)]).await);
    let canceled = app.json_ok(compensate(&app, created).await, 200).await;
    assert_eq!(canceled["status"], "CANCELED");
    assert_eq!(
        app.json_ok(compensate(&app, created).await, 200).await,
        canceled
    );
    assert_eq!(app.stock(SCARCE).await, 5);

    let confirmed = id(&app.create_order(&[(SCARCE, 3)]).await);
    let before = app
        .json_ok(app.confirm(confirmed, "comp-1").await, 200)
        .await;
    problem(compensate(&app, confirmed).await, 409, "ORDER_NOT_CREATED").await;
    assert_eq!(app.order_by_id(confirmed).await, before);
    assert_eq!(app.stock(SCARCE).await, 2, "a confirmation is not undone");

    let path = format!("/orders/{confirmed}/cancel?if_status=CONFIRMED");
    let resp = app.service(Method::POST, &path).send().await.unwrap();
    let body = problem(resp, 400, "VALIDATION_ERROR").await;
    assert_eq!(body["errors"][0]["field"], "if_status");
    assert_eq!(app.order_by_id(confirmed).await, before);
}

#[tokio::test]
async fn unknown_orders_cannot_be_canceled() {
    let app = TestApp::spawn().await;
    problem(app.cancel(999).await, 404, "ORDER_NOT_FOUND").await;
}
