//! The three parts started on port 0 the way both the API and the model suites want them:
//! customers-api and orders-api over one database, each with a pool of its own as separate
//! services have, and the orchestrator's configuration. Included by both test binaries.

use std::time::Duration;

use b2b_platform::db::DbOptions;
use b2b_platform::{Clock, Db};
use b2b_testkit::{JWT_SECRET, SERVICE_TOKEN, spawn};
use lambda_orchestrator::upstream::RetryPolicy;

async fn pool(url: &str) -> Db {
    Db::connect(url, &DbOptions::default())
        .await
        .expect("service pool")
}

/// customers-api over the database at `url`; its base URL.
pub async fn spawn_customers_api(url: &str) -> String {
    let config = customers_api::Config {
        port: 0,
        database_url: url.into(),
        jwt_secret: JWT_SECRET.into(),
        service_token: SERVICE_TOKEN.into(),
        jwt_ttl_secs: 3600,
        login: customers_api::LoginSettings::default(),
        metrics_token: None,
    };
    let state = customers_api::AppState::new(pool(url).await, &config).expect("state");
    spawn(customers_api::app(state)).await
}

/// orders-api over the database at `url`, calling customers-api at `customers`, on `clock`
/// when given; its base URL.
pub async fn spawn_orders_api(
    url: &str,
    customers: &str,
    timeout: Duration,
    window_minutes: i64,
    clock: Option<Clock>,
) -> String {
    let config = orders_api::Config {
        port: 0,
        database_url: url.into(),
        jwt_secret: JWT_SECRET.into(),
        service_token: SERVICE_TOKEN.into(),
        customers_api_base: customers.into(),
        customers_api_timeout: timeout,
        idempotency_ttl_hours: 24,
        cancellation_window_minutes: window_minutes,
        metrics_token: None,
    };
    let mut state = orders_api::AppState::new(pool(url).await, &config).expect("state");
    if let Some(clock) = clock {
        state.clock = clock;
    }
    spawn(orders_api::app(state)).await
}

/// The orchestrator's configuration, calling the services at these bases.
pub fn config(customers: &str, orders: &str, policy: RetryPolicy) -> lambda_orchestrator::Config {
    lambda_orchestrator::Config {
        port: 0,
        jwt_secret: JWT_SECRET.into(),
        service_token: SERVICE_TOKEN.into(),
        customers_api_base: customers.into(),
        orders_api_base: orders.into(),
        policy,
        metrics_token: None,
        metrics_emf: false,
    }
}
