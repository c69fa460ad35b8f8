//! `GET /metrics`: the traffic a test makes is what the counters say, by route template.

use b2b_testkit::exposition::{Exposition, scrape};
use b2b_testkit::{Backend, on_each_backend, problem};
use reqwest::Method;

use crate::helpers::TestApp;

const TOKEN: &str = "metrics-token-0123456789abcdef-0123";

fn requests(m: &Exposition, method: &str, route: &str, status: &str) -> f64 {
    let labels = [("method", method), ("route", route), ("status", status)];
    m.value("http_requests_total", &labels)
}

on_each_backend!(requests_are_counted_by_route_template_and_status);

async fn requests_are_counted_by_route_template_and_status(backend: Backend) {
    let app = TestApp::on(backend).await;
    assert_eq!(app.login("admin@b2b.local", "admin123").await.status(), 200);
    assert_eq!(
        app.login("admin@b2b.local", "wrong-password")
            .await
            .status(),
        401
    );
    for id in [1, 2] {
        assert_eq!(app.get(&format!("/customers/{id}")).await.status(), 200);
    }
    assert_eq!(app.get("/customers/999999").await.status(), 404);
    assert_eq!(app.get("/no/such/route/42").await.status(), 404);

    let m = scrape(&app.client, &app.base, None).await;
    assert_eq!(requests(&m, "POST", "/auth/token", "200"), 1.0);
    assert_eq!(requests(&m, "POST", "/auth/token", "401"), 1.0);
    assert_eq!(requests(&m, "GET", "/customers/{id}", "200"), 2.0);
    assert_eq!(requests(&m, "GET", "/customers/{id}", "404"), 1.0);
    assert_eq!(requests(&m, "GET", "unmatched", "404"), 1.0);
    // Never the raw path: no series per id or per unknown URL.
    let routes = m.label_values("http_requests_total", "route");
    assert_eq!(
        routes,
        ["/auth/token", "/customers/{id}", "unmatched"],
        "the scrape itself is counted after it answers"
    );
    let timed = [("method", "GET"), ("route", "/customers/{id}")];
    assert_eq!(m.value("http_request_duration_seconds_count", &timed), 3.0);
    assert_eq!(m.types["http_request_duration_seconds"], "histogram");
    assert!(m.samples.iter().all(|s| {
        s.labels
            .contains(&("service".into(), "customers-api".into()))
    }));

    // The pool as it is at the scrape: some connections, within the maximum.
    let idle = m.value("db_pool_connections", &[("state", "idle")]);
    let in_use = m.value("db_pool_connections", &[("state", "in_use")]);
    assert!(idle + in_use >= 1.0, "idle {idle}, in use {in_use}");
    assert!(m.value("db_pool_max_connections", &[]) >= idle + in_use);

    // The scrape before this one is counted too.
    let again = scrape(&app.client, &app.base, None).await;
    assert_eq!(requests(&again, "GET", "/metrics", "200"), 1.0);
    for family in again.types.keys() {
        assert!(again.helped.contains(family), "{family} has no # HELP");
    }

    // Read at each scrape, not kept: with the traffic over, no connection stays in use (sqlx
    // hands a MariaDB connection back after a ping, so it may take a moment).
    let mut in_use = f64::NAN;
    for _ in 0..50 {
        let m = scrape(&app.client, &app.base, None).await;
        in_use = m.value("db_pool_connections", &[("state", "in_use")]);
        if in_use == 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(in_use, 0.0, "connections still in use after the traffic");
}

#[tokio::test]
async fn with_metrics_token_set_only_its_bearer_may_scrape() {
    let app = TestApp::configured(Backend::Sqlite, |c| c.metrics_token = Some(TOKEN.into())).await;
    let get = |token: Option<&str>| {
        let req = app.anon(Method::GET, "/metrics");
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
        .send()
    };
    problem(get(None).await.unwrap(), 401, "UNAUTHORIZED").await;
    problem(
        get(Some("not-the-token")).await.unwrap(),
        401,
        "UNAUTHORIZED",
    )
    .await;
    // An operator's token is not the metrics token.
    problem(
        get(Some(&crate::helpers::token())).await.unwrap(),
        401,
        "UNAUTHORIZED",
    )
    .await;
    let m = scrape(&app.client, &app.base, Some(TOKEN)).await;
    assert_eq!(requests(&m, "GET", "/metrics", "401"), 3.0);
    // /health stays open.
    assert_eq!(
        app.anon(Method::GET, "/health")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
