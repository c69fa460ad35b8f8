//! Faults produced for real: a service down, a service too slow, a proxy answering 5xx or
//! losing answers, a confirmation that fails after the order was created.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::{Json, Router};
use b2b_testkit::{Backend, spawn};
use lambda_orchestrator::upstream::RetryPolicy;
use serde_json::json;

use crate::helpers::{Apis, Orchestrator, SCARCE, WIDGET, on_each_backend, quick_policy, request};
use crate::proxy::{Action, Proxy};

/// A base URL where nothing listens.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// A customers-api stand-in that answers only after `delay`; counts the requests it gets.
async fn slow_server(delay: Duration) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    let app = Router::new().fallback(move || {
        seen.fetch_add(1, Ordering::SeqCst);
        async move {
            tokio::time::sleep(delay).await;
            Json(json!({"id": 1, "name": "ACME Corp", "email": "ops@acme.com", "phone": null}))
        }
    });
    (spawn(app).await, hits)
}

#[tokio::test]
async fn an_unreachable_service_is_503_and_nothing_is_created() {
    let apis = Apis::start(Backend::Sqlite).await;
    let down = closed_port().await;
    let body = request(1, &[(WIDGET, 2)], "down-1");

    let orch = Orchestrator::spawn(&apis.customers, &down, quick_policy()).await;
    let error = orch
        .call(&body)
        .await
        .failure(503, "UPSTREAM_UNAVAILABLE")
        .clone();
    assert!(
        error["message"].as_str().unwrap().contains("orders-api"),
        "{error}"
    );

    let orch = Orchestrator::spawn(&down, &apis.orders, quick_policy()).await;
    let error = orch
        .call(&body)
        .await
        .failure(503, "UPSTREAM_UNAVAILABLE")
        .clone();
    assert!(
        error["message"].as_str().unwrap().contains("customers-api"),
        "{error}"
    );

    assert!(apis.orders_of(1).await.is_empty());
    assert_eq!(apis.stock(WIDGET).await, 1000);
}

#[tokio::test]
async fn a_slow_service_is_504_within_the_deadline() {
    let apis = Apis::start(Backend::Sqlite).await;
    let (slow, hits) = slow_server(Duration::from_secs(10)).await;
    let policy = RetryPolicy {
        attempts: 2,
        attempt_timeout: Duration::from_millis(300),
        base_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(100),
        deadline: Duration::from_secs(3),
    };
    let orch = Orchestrator::spawn(&slow, &apis.orders, policy.clone()).await;

    let started = Instant::now();
    let a = orch.call(&request(1, &[(WIDGET, 2)], "slow-1")).await;
    let elapsed = started.elapsed();

    a.failure(504, "UPSTREAM_TIMEOUT");
    assert_eq!(hits.load(Ordering::SeqCst), 2, "one request per attempt");
    assert!(elapsed >= 2 * policy.attempt_timeout, "{elapsed:?}");
    assert!(
        elapsed < policy.deadline + Duration::from_secs(1),
        "{elapsed:?}"
    );
    assert!(apis.orders_of(1).await.is_empty());
}

#[tokio::test]
async fn the_deadline_cuts_the_retries_short() {
    let apis = Apis::start(Backend::Sqlite).await;
    let (slow, hits) = slow_server(Duration::from_secs(10)).await;
    let policy = RetryPolicy {
        attempts: 10,
        attempt_timeout: Duration::from_secs(1),
        deadline: Duration::from_millis(1500),
        ..quick_policy()
    };
    let orch = Orchestrator::spawn(&slow, &apis.orders, policy.clone()).await;

    let started = Instant::now();
    let a = orch.call(&request(1, &[(WIDGET, 2)], "slow-2")).await;
    let elapsed = started.elapsed();

    a.failure(504, "UPSTREAM_TIMEOUT");
    assert!(hits.load(Ordering::SeqCst) <= 2);
    assert!(
        elapsed < policy.deadline + Duration::from_secs(1),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn transient_503s_are_retried_until_the_service_answers() {
    let apis = Apis::start(Backend::Sqlite).await;
    let proxy = Proxy::spawn(&apis.orders, |n, _, _| {
        if n < 2 {
            Action::Answer(503)
        } else {
            Action::Forward
        }
    })
    .await;
    let orch = Orchestrator::spawn(&apis.customers, &proxy.base, quick_policy()).await;

    let a = orch.call(&request(1, &[(WIDGET, 2)], "flaky-1")).await;

    let id = a.order_id();
    let confirm = format!("POST /orders/{id}/confirm");
    assert_eq!(
        proxy.calls(),
        [
            ("POST /orders".to_owned(), 503),
            ("POST /orders".to_owned(), 503),
            ("POST /orders".to_owned(), 201),
            (confirm, 200),
        ]
    );
    assert_eq!(apis.orders_of(1).await.len(), 1);
    assert_eq!(apis.stock(WIDGET).await, 1000 - 2);
}

#[tokio::test]
async fn retries_stop_after_the_configured_attempts() {
    let apis = Apis::start(Backend::Sqlite).await;
    let proxy = Proxy::spawn(&apis.orders, |_, _, _| Action::Answer(503)).await;
    let policy = quick_policy();
    let orch = Orchestrator::spawn(&apis.customers, &proxy.base, policy.clone()).await;

    let a = orch.call(&request(1, &[(WIDGET, 2)], "flaky-2")).await;

    a.failure(503, "UPSTREAM_UNAVAILABLE");
    assert_eq!(proxy.log().len(), policy.attempts as usize);
}

#[tokio::test]
async fn a_lost_create_answer_is_retried_with_the_same_key() {
    let apis = Apis::start(Backend::Sqlite).await;
    let proxy = Proxy::spawn(&apis.orders, |n, _, _| {
        if n == 0 {
            Action::Lose(502)
        } else {
            Action::Forward
        }
    })
    .await;
    let orch = Orchestrator::spawn(&apis.customers, &proxy.base, quick_policy()).await;

    let a = orch.call(&request(1, &[(WIDGET, 2)], "lost-1")).await;

    assert_eq!(a.order()["status"], "CONFIRMED");
    let log = proxy.log();
    assert_eq!((log[0].status, log[0].upstream), (502, Some(201)));
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(apis.orders_of(1).await.len(), 1, "the retry replayed");
    assert_eq!(apis.stock(WIDGET).await, 1000 - 2, "stock taken once");
}

#[tokio::test]
async fn an_order_created_whose_answers_all_got_lost_is_finished_by_the_same_key() {
    let apis = Apis::start(Backend::Sqlite).await;
    let proxy = Proxy::spawn(&apis.orders, |_, _, _| Action::Lose(503)).await;
    let flaky = Orchestrator::spawn(&apis.customers, &proxy.base, quick_policy()).await;
    let body = request(1, &[(WIDGET, 2)], "lost-2");

    flaky.call(&body).await.failure(503, "UPSTREAM_UNAVAILABLE");
    let orders = apis.orders_of(1).await;
    assert_eq!(orders.len(), 1, "created once whatever the retries");

    let a = apis.orchestrator().await.call(&body).await;
    assert_eq!(a.order_id(), orders[0]["id"].as_i64().unwrap());
    assert_eq!(a.order()["status"], "CONFIRMED");
    assert_eq!(apis.orders_of(1).await.len(), 1);
    assert_eq!(apis.stock(WIDGET).await, 1000 - 2);
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    let apis = Apis::start(Backend::Sqlite).await;
    let customers = Proxy::spawn(&apis.customers, |_, _, _| Action::Forward).await;
    let orders = Proxy::spawn(&apis.orders, |_, _, _| Action::Forward).await;
    let orch = Orchestrator::spawn(&customers.base, &orders.base, quick_policy()).await;

    let a = orch.call(&request(999, &[(WIDGET, 1)], "4xx-1")).await;
    a.failure(404, "CUSTOMER_NOT_FOUND");
    let lookup = ("GET /internal/customers/999".to_owned(), 404);
    assert_eq!(customers.calls(), [lookup]);
    assert!(orders.log().is_empty());

    let a = orch.call(&request(1, &[(SCARCE, 6)], "4xx-2")).await;
    a.failure(409, "INSUFFICIENT_STOCK");
    assert_eq!(orders.calls(), [("POST /orders".to_owned(), 409)]);
}

on_each_backend!(a_failed_confirmation_is_compensated);

async fn a_failed_confirmation_is_compensated(backend: Backend) {
    let apis = Apis::start(backend).await;
    let proxy = Proxy::spawn(&apis.orders, |_, _, path| {
        if path.ends_with("/confirm") {
            Action::Answer(500)
        } else {
            Action::Forward
        }
    })
    .await;
    let orch = Orchestrator::spawn(&apis.customers, &proxy.base, quick_policy()).await;
    let body = request(1, &[(WIDGET, 3), (SCARCE, 2)], "comp-1");

    let a = orch.call(&body).await;

    let error = a.failure(502, "UPSTREAM_ERROR");
    assert_eq!(error["details"]["compensated"], true, "{error}");
    let id = error["details"]["order_id"].as_i64().expect("order_id");
    assert_eq!(
        proxy.calls(),
        [
            ("POST /orders".to_owned(), 201),
            (format!("POST /orders/{id}/confirm"), 500),
            (format!("POST /orders/{id}/cancel"), 200),
        ],
        "a 500 is not retried; the order is cancelled"
    );
    let order = apis.order(id).await;
    assert_eq!(order["status"], "CANCELED");
    assert!(order["canceled_at"].is_string(), "{order}");
    assert_eq!(apis.stock(WIDGET).await, 1000);
    assert_eq!(apis.stock(SCARCE).await, 5);

    // The same key later: still that one (cancelled) order, and no stock taken again.
    let again = apis.orchestrator().await.call(&body).await;
    let error = again.failure(409, "CONFLICT");
    assert_eq!(error["details"]["order_id"], id, "{error}");
    assert_eq!(apis.orders_of(1).await.len(), 1);
    assert_eq!(apis.stock(WIDGET).await, 1000);
    assert_eq!(apis.stock(SCARCE).await, 5);
}

#[tokio::test]
async fn a_confirmation_that_went_through_is_never_undone_by_the_compensation() {
    let apis = Apis::start(Backend::Sqlite).await;
    // The confirmation happens, but its answer is lost: the orchestrator sees a 500.
    let proxy = Proxy::spawn(&apis.orders, |_, _, path| {
        if path.ends_with("/confirm") {
            Action::Lose(500)
        } else {
            Action::Forward
        }
    })
    .await;
    let orch = Orchestrator::spawn(&apis.customers, &proxy.base, quick_policy()).await;

    let a = orch
        .call(&request(1, &[(WIDGET, 4)], "lost-confirm-1"))
        .await;

    assert_eq!(
        a.order()["status"],
        "CONFIRMED",
        "the order stands confirmed"
    );
    let id = a.order_id();
    let calls = proxy.calls();
    assert_eq!(
        calls[2],
        (format!("POST /orders/{id}/cancel"), 409),
        "{calls:?}"
    );
    assert_eq!(apis.order(id).await["status"], "CONFIRMED");
    assert_eq!(
        apis.stock(WIDGET).await,
        1000 - 4,
        "stock taken once, not given back"
    );
}

/// OWASP API10 (unsafe consumption of APIs): an upstream answer that is not what the contract
/// says is refused as 502, never trusted, never a 500.
#[tokio::test]
async fn a_malformed_upstream_answer_is_a_502_not_trusted() {
    let apis = Apis::start(Backend::Sqlite).await;
    let garbage =
        Router::new().fallback(|| async { (axum::http::StatusCode::OK, "<html>not json</html>") });
    let wrong_shape = Router::new().fallback(|| async { Json(json!({"id": "one", "name": 5})) });
    for fake in [spawn(garbage).await, spawn(wrong_shape).await] {
        let orch = Orchestrator::spawn(&fake, &apis.orders, quick_policy()).await;
        orch.call(&request(1, &[(WIDGET, 1)], "garbage-1"))
            .await
            .failure(502, "UPSTREAM_ERROR");
    }
    assert!(
        apis.orders_of(1).await.is_empty(),
        "nothing was ordered on a malformed answer"
    );
}
