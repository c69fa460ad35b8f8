//! `GET /metrics` of the orchestrator: orchestrations by outcome, upstream attempts and retries
//! by target, compensations; and what orders-api counted of the same traffic.

use b2b_testkit::exposition::scrape;
use b2b_testkit::{Backend, client, problem, spawn};
use lambda_orchestrator::{AppState, app};
use reqwest::Method;

use crate::helpers::{
    Apis, Orchestrator, SCARCE, WIDGET, config, on_each_backend, quick_policy, request,
};
use crate::proxy::{Action, Proxy};

const TOKEN: &str = "metrics-token-0123456789abcdef-0123";

on_each_backend!(orchestrations_and_their_upstream_calls_are_counted);

async fn orchestrations_and_their_upstream_calls_are_counted(backend: Backend) {
    let apis = Apis::start(backend).await;
    let orch = apis.orchestrator().await;
    orch.call(&request(1, &[(WIDGET, 1)], "m-1")).await.order();
    orch.call(&request(1, &[(WIDGET, 1)], "m-1")).await.order();
    let stock = orch.call(&request(1, &[(SCARCE, 6)], "m-2")).await;
    stock.failure(409, "INSUFFICIENT_STOCK");
    let nobody = orch.call(&request(999_999, &[(WIDGET, 1)], "m-3")).await;
    nobody.failure(404, "CUSTOMER_NOT_FOUND");
    let anon = orch
        .post()
        .json(&request(1, &[(WIDGET, 1)], "m-4"))
        .send()
        .await;
    assert_eq!(anon.unwrap().status(), 401);

    let http = client();
    let m = scrape(&http, &orch.base, None).await;
    let outcome = |o: &str| m.value("orchestrations_total", &[("outcome", o)]);
    assert_eq!(outcome("success"), 2.0);
    assert_eq!(outcome("INSUFFICIENT_STOCK"), 1.0);
    assert_eq!(outcome("CUSTOMER_NOT_FOUND"), 1.0);
    assert_eq!(outcome("UNAUTHORIZED"), 1.0);
    assert_eq!(m.value("orchestrations_total", &[]), 5.0);
    let attempts = |t: &str| m.value("upstream_attempts_total", &[("target", t)]);
    // A look-up per authorised call; a create and a confirm per success, a create for the
    // refused one, nothing for the unknown customer.
    assert_eq!(attempts("customers-api"), 4.0);
    assert_eq!(attempts("orders-api"), 5.0);
    assert_eq!(m.value("upstream_retries_total", &[]), 0.0);
    assert_eq!(m.value("compensations_total", &[]), 0.0);
    let route = [("route", "/orchestrator/create-and-confirm-order")];
    assert_eq!(m.value("http_requests_total", &route), 5.0);
    assert!(m.samples.iter().all(|s| {
        s.labels
            .contains(&("service".into(), "lambda-orchestrator".into()))
    }));
    assert_eq!(
        m.value("db_pool_connections", &[]),
        0.0,
        "the orchestrator has no database"
    );

    // orders-api saw the repeated call as two replays.
    let orders = scrape(&http, &apis.orders, None).await;
    let keyed = |scope: &str, o: &str| {
        orders.value(
            "idempotency_requests_total",
            &[("scope", scope), ("outcome", o)],
        )
    };
    assert_eq!(keyed("orders.create", "fresh"), 1.0);
    assert_eq!(keyed("orders.create", "replayed"), 1.0);
    assert_eq!(keyed("orders.confirm", "fresh"), 1.0);
    assert_eq!(keyed("orders.confirm", "replayed"), 1.0);
    let refused = orders.value("orders_refused_total", &[("reason", "insufficient_stock")]);
    assert_eq!(refused, 1.0);
}

on_each_backend!(a_retry_and_a_compensation_are_counted);

async fn a_retry_and_a_compensation_are_counted(backend: Backend) {
    let apis = Apis::start(backend).await;
    // The first create is answered 503 (retried); every confirmation fails (compensated).
    let proxy = Proxy::spawn(&apis.orders, |n, _, path| {
        if n == 0 {
            Action::Answer(503)
        } else if path.ends_with("/confirm") {
            Action::Answer(500)
        } else {
            Action::Forward
        }
    })
    .await;
    let orch = Orchestrator::spawn(&apis.customers, &proxy.base, quick_policy()).await;
    let a = orch.call(&request(1, &[(WIDGET, 1)], "m-5")).await;
    let error = a.failure(502, "UPSTREAM_ERROR");
    assert_eq!(error["details"]["compensated"], true, "{error}");

    let m = scrape(&client(), &orch.base, None).await;
    assert_eq!(
        m.value("orchestrations_total", &[("outcome", "UPSTREAM_ERROR")]),
        1.0
    );
    let orders = [("target", "orders-api")];
    assert_eq!(proxy.calls().len(), 4, "{:?}", proxy.calls());
    assert_eq!(m.value("upstream_attempts_total", &orders), 4.0);
    assert_eq!(m.value("upstream_retries_total", &orders), 1.0);
    let customers = [("target", "customers-api")];
    assert_eq!(m.value("upstream_retries_total", &customers), 0.0);
    assert_eq!(
        m.value("compensations_total", &[("outcome", "canceled")]),
        1.0
    );
    assert_eq!(m.value("compensations_total", &[]), 1.0);
}

#[tokio::test]
async fn with_metrics_token_set_only_its_bearer_may_scrape() {
    let mut config = config("http://127.0.0.1:9", "http://127.0.0.1:9", quick_policy());
    config.metrics_token = Some(TOKEN.into());
    let base = spawn(app(AppState::new(&config).unwrap())).await;
    let http = client();
    let url = format!("{base}/metrics");
    problem(http.get(&url).send().await.unwrap(), 401, "UNAUTHORIZED").await;
    let operator = http
        .get(&url)
        .bearer_auth(crate::helpers::operator_token())
        .send();
    problem(operator.await.unwrap(), 401, "UNAUTHORIZED").await;
    let m = scrape(&http, &base, Some(TOKEN)).await;
    let denied = [("route", "/metrics"), ("status", "401")];
    assert_eq!(m.value("http_requests_total", &denied), 2.0);
    let health = http.request(Method::GET, format!("{base}/health")).send();
    assert_eq!(health.await.unwrap().status(), 200);
}
