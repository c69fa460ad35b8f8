//! customers-api: operators log in here and manage customers; other services look customers up
//! through `/internal/customers/{id}`.

pub mod cli;
pub mod customers;
pub mod operators;

use std::num::NonZeroU32;
use std::ops::RangeInclusive;

use axum::extract::FromRef;
use b2b_platform::cli::Setting;
use b2b_platform::{Auth, Clock, Db, Metrics, config, server};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::operators::Login;
use crate::operators::client_addr::TrustedProxies;
use b2b_platform::config::names::*;

/// Settings read from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub database_url: String,
    pub jwt_secret: String,
    pub service_token: String,
    pub jwt_ttl_secs: i64,
    pub login: LoginSettings,
    /// `METRICS_TOKEN`: when set, `GET /metrics` needs it.
    pub metrics_token: Option<String>,
}

/// How `POST /auth/token` is protected.
#[derive(Debug, Clone)]
pub struct LoginSettings {
    /// Attempts allowed per e-mail and client address a minute (ten times that per address).
    pub attempts_per_minute: NonZeroU32,
    /// Peers whose `X-Forwarded-For` names the client (the load balancers).
    pub trusted_proxies: TrustedProxies,
    /// Password verifications run at once (each holds about 19 MiB).
    pub concurrent_verifications: usize,
}

impl Default for LoginSettings {
    fn default() -> Self {
        Self {
            attempts_per_minute: DEFAULT_LOGIN_ATTEMPTS,
            trusted_proxies: TrustedProxies::default(),
            concurrent_verifications: default_verifications(),
        }
    }
}

/// Two verifications per core: the CPU stays busy, memory stays near 40 MiB per core.
fn default_verifications() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

pub const DEFAULT_PORT: u16 = 3001;
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/b2b-orders.db";
pub const DEFAULT_LOGIN_ATTEMPTS: NonZeroU32 = NonZeroU32::new(10).expect("non-zero");
pub const DEFAULT_JWT_TTL_SECS: i64 = 3600;
/// `JWT_EXPIRES_IN`: a minute to 30 days (a token's `exp` stays far from any overflow).
pub const JWT_TTL_SECS: RangeInclusive<i64> = 60..=30 * 86_400;
/// `LOGIN_ATTEMPTS_PER_MINUTE`: at least one; ten thousand is no brute-force protection left.
pub const LOGIN_ATTEMPTS: RangeInclusive<NonZeroU32> =
    NonZeroU32::MIN..=NonZeroU32::new(10_000).expect("non-zero");
/// `LOGIN_CONCURRENT_VERIFICATIONS`: 256 × 19 MiB is already 4.75 GiB.
pub const LOGIN_VERIFICATIONS: RangeInclusive<usize> = 1..=256;

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_env_with(false)
    }

    /// Like [`Config::from_env`]; with `dev_secrets`, missing secrets fall back to the
    /// documented development values (the all-in-one `cargo run` only).
    pub fn from_env_with(dev_secrets: bool) -> anyhow::Result<Self> {
        let (jwt_secret, service_token) = config::secrets(dev_secrets)?;
        Ok(Self {
            port: config::port(PORT, DEFAULT_PORT)?,
            database_url: config::database_url(DEFAULT_DATABASE_URL),
            jwt_secret,
            service_token,
            jwt_ttl_secs: config::duration_in(JWT_EXPIRES_IN, DEFAULT_JWT_TTL_SECS, JWT_TTL_SECS)?,
            login: LoginSettings {
                attempts_per_minute: config::parse_in(
                    LOGIN_ATTEMPTS_PER_MINUTE,
                    DEFAULT_LOGIN_ATTEMPTS,
                    LOGIN_ATTEMPTS,
                )?,
                trusted_proxies: TrustedProxies::parse(&config::var_or(TRUSTED_PROXIES, ""))?,
                concurrent_verifications: config::parse_in(
                    LOGIN_CONCURRENT_VERIFICATIONS,
                    default_verifications().clamp(1, 256),
                    LOGIN_VERIFICATIONS,
                )?,
            },
            metrics_token: config::metrics_token()?,
        })
    }
}

/// Every setting [`Config::from_env`] reads, as `--help` lists them.
pub fn settings() -> Vec<Setting> {
    let mut all = Setting::api_service(DEFAULT_PORT, DEFAULT_DATABASE_URL);
    all.extend([
        Setting::duration(
            JWT_EXPIRES_IN,
            "lifetime of an operator token",
            DEFAULT_JWT_TTL_SECS,
            &JWT_TTL_SECS,
        ),
        Setting::number(
            LOGIN_ATTEMPTS_PER_MINUTE,
            "log-in attempts per e-mail and client address a minute (ten times that per address and in failures per e-mail), then 429",
            DEFAULT_LOGIN_ATTEMPTS,
            &LOGIN_ATTEMPTS,
        ),
        Setting::new(
            TRUSTED_PROXIES,
            "load balancers whose X-Forwarded-For names the client",
            "(none)",
            "comma-separated CIDRs or addresses",
        ),
        Setting::number(
            LOGIN_CONCURRENT_VERIFICATIONS,
            "password checks run at once (about 19 MiB each), then 503",
            default_verifications().clamp(1, 256),
            &LOGIN_VERIFICATIONS,
        ),
    ]);
    all.push(Setting::metrics_token());
    all.extend(Setting::logging());
    all
}

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: Db,
    pub auth: Auth,
    pub clock: Clock,
    pub login: Login,
    pub metrics: Metrics,
}

impl AppState {
    pub fn new(db: Db, config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            metrics: SURFACE.metrics(config.metrics_token.as_deref(), Some(db.clone())),
            db,
            auth: Auth::new(
                &config.jwt_secret,
                &config.service_token,
                config.jwt_ttl_secs,
            )?,
            clock: Clock::system(),
            login: Login::new(&config.login),
        })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "B2B Orders — Customers API", description = "Operators log in and manage customers; services look customers up."),
    components(schemas(b2b_platform::Problem, b2b_domain::FieldError)),
    tags((name = "auth", description = "Operator log-in"), (name = "customers", description = "Customers (operator token)"),
         (name = "internal", description = "Service-to-service look-ups (service token)"), (name = "health"))
)]
struct ApiDoc;

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(server::health))
        .routes(routes!(operators::token))
        .routes(routes!(
            customers::handlers::create,
            customers::handlers::list
        ))
        .routes(routes!(
            customers::handlers::get,
            customers::handlers::replace,
            customers::handlers::delete
        ))
        .routes(routes!(customers::handlers::internal_get))
}

b2b_platform::surface!(api "customers-api", router, purge = operators::budget::purge_periodically);
