//! orders-api: the catalogue with its stock, orders that never oversell, idempotent
//! confirmation, and cancellation within its window.

pub mod customers_client;
pub mod idempotency;
pub mod orders;
mod problem_doc;
pub mod products;

use std::ops::RangeInclusive;
use std::time::Duration;

use anyhow::Context;
use axum::extract::FromRef;
use b2b_platform::cli::Setting;
use b2b_platform::{Auth, Clock, Db, Metrics, config, server};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::customers_client::CustomersClient;
use b2b_platform::config::names;

pub const DEFAULT_PORT: u16 = 3002;
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/b2b-orders.db";
pub const DEFAULT_CUSTOMERS_API_BASE: &str = "http://localhost:3001";
/// `IDEMPOTENCY_KEY_EXPIRATION_HOURS`: an hour to a year.
pub const IDEMPOTENCY_TTL_HOURS: RangeInclusive<i64> = 1..=8760;
/// `ORDER_CANCELLATION_WINDOW_MINUTES`: none (only unconfirmed orders cancel) to a year.
pub const CANCELLATION_WINDOW_MINUTES: RangeInclusive<i64> = 0..=525_600;
/// `CUSTOMERS_API_TIMEOUT_MS`: 100 ms to a minute.
pub const CUSTOMERS_API_TIMEOUT_MS: RangeInclusive<u64> = 100..=60_000;
pub const DEFAULT_IDEMPOTENCY_TTL_HOURS: i64 = 24;
pub const DEFAULT_CANCELLATION_WINDOW_MINUTES: i64 = 10;
pub const DEFAULT_CUSTOMERS_API_TIMEOUT_MS: u64 = 3000;

/// Settings read from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub database_url: String,
    pub jwt_secret: String,
    pub service_token: String,
    pub customers_api_base: String,
    /// Time-out of one call to customers-api.
    pub customers_api_timeout: Duration,
    pub idempotency_ttl_hours: i64,
    pub cancellation_window_minutes: i64,
    /// `METRICS_TOKEN`: when set, `GET /metrics` needs it.
    pub metrics_token: Option<String>,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_env_with(false)
    }

    /// Like [`Config::from_env`]; with `dev_secrets`, missing secrets fall back to the
    /// documented development values (the all-in-one `cargo run` only).
    pub fn from_env_with(dev_secrets: bool) -> anyhow::Result<Self> {
        let ttl = config::parse_in(
            names::IDEMPOTENCY_KEY_EXPIRATION_HOURS,
            DEFAULT_IDEMPOTENCY_TTL_HOURS,
            IDEMPOTENCY_TTL_HOURS,
        )?;
        let window = config::parse_in(
            names::ORDER_CANCELLATION_WINDOW_MINUTES,
            DEFAULT_CANCELLATION_WINDOW_MINUTES,
            CANCELLATION_WINDOW_MINUTES,
        )?;
        let timeout_ms = config::parse_in(
            names::CUSTOMERS_API_TIMEOUT_MS,
            DEFAULT_CUSTOMERS_API_TIMEOUT_MS,
            CUSTOMERS_API_TIMEOUT_MS,
        )?;
        let (jwt_secret, service_token) = config::secrets(dev_secrets)?;
        Ok(Self {
            port: config::port(names::PORT, DEFAULT_PORT)?,
            database_url: config::database_url(DEFAULT_DATABASE_URL),
            jwt_secret,
            service_token,
            customers_api_base: config::var_or(
                names::CUSTOMERS_API_BASE,
                DEFAULT_CUSTOMERS_API_BASE,
            ),
            customers_api_timeout: Duration::from_millis(timeout_ms),
            idempotency_ttl_hours: ttl,
            cancellation_window_minutes: window,
            metrics_token: config::metrics_token()?,
        })
    }
}

/// Every setting [`Config::from_env`] reads, as `--help` lists them.
pub fn settings() -> Vec<Setting> {
    let mut all = Setting::api_service(DEFAULT_PORT, DEFAULT_DATABASE_URL);
    all.extend([
        Setting::new(
            names::CUSTOMERS_API_BASE,
            "where customers-api is, for the customer look-up of POST /orders",
            DEFAULT_CUSTOMERS_API_BASE,
            "an http:// or https:// URL",
        ),
        Setting::number(
            names::CUSTOMERS_API_TIMEOUT_MS,
            "time-out of one call to customers-api, in milliseconds",
            DEFAULT_CUSTOMERS_API_TIMEOUT_MS,
            &CUSTOMERS_API_TIMEOUT_MS,
        ),
        Setting::number(
            names::IDEMPOTENCY_KEY_EXPIRATION_HOURS,
            "how long an Idempotency-Key is remembered, in hours",
            DEFAULT_IDEMPOTENCY_TTL_HOURS,
            &IDEMPOTENCY_TTL_HOURS,
        ),
        Setting::number(
            names::ORDER_CANCELLATION_WINDOW_MINUTES,
            "how long after its confirmation an order can be cancelled, in minutes (0: only unconfirmed orders)",
            DEFAULT_CANCELLATION_WINDOW_MINUTES,
            &CANCELLATION_WINDOW_MINUTES,
        ),
    ]);
    all.push(Setting::metrics_token());
    all.extend(Setting::logging());
    all
}

/// Business settings the handlers need.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub idempotency_ttl: chrono::Duration,
    pub cancellation_window: chrono::Duration,
}

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: Db,
    pub auth: Auth,
    pub clock: Clock,
    pub customers: CustomersClient,
    pub rules: Rules,
    pub metrics: Metrics,
}

impl AppState {
    pub fn new(db: Db, config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            metrics: SURFACE.metrics(config.metrics_token.as_deref(), Some(db.clone())),
            db,
            auth: Auth::new(&config.jwt_secret, &config.service_token, 3600)?,
            clock: Clock::system(),
            customers: CustomersClient::new(
                &config.customers_api_base,
                // During a rotation the first listed token is the one sent (README).
                config::primary_secret(&config.service_token),
                config.customers_api_timeout,
            )
            .context("CUSTOMERS_API_BASE is invalid")?,
            rules: Rules {
                idempotency_ttl: chrono::Duration::hours(config.idempotency_ttl_hours),
                cancellation_window: chrono::Duration::minutes(config.cancellation_window_minutes),
            },
        })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "B2B Orders — Orders API", description = "Products with stock, orders, idempotent confirmation, cancellation."),
    components(schemas(b2b_platform::Problem, b2b_domain::FieldError, b2b_domain::order::NewOrderLine)),
    tags((name = "products", description = "The catalogue and its stock (operator token)"),
         (name = "orders", description = "Orders (operator token or service token)"), (name = "health"))
)]
struct ApiDoc;

fn router() -> OpenApiRouter<AppState> {
    use orders::handlers as o;
    use products::handlers as p;
    let mut router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(server::health))
        .routes(routes!(p::create, p::list))
        .routes(routes!(p::get, p::patch))
        .routes(routes!(o::create, o::list))
        .routes(routes!(o::get))
        .routes(routes!(o::confirm))
        .routes(routes!(o::cancel));
    problem_doc::add_product_ids(router.get_openapi_mut());
    router
}

b2b_platform::surface!(api "orders-api", router, purge = idempotency::purge_periodically);
