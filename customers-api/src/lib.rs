//! customers-api: operators log in here and manage customers; other services look customers up
//! through `/internal/customers/{id}`.

pub mod customers;
pub mod operators;

use std::num::NonZeroU32;
use std::ops::RangeInclusive;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::response::Response;
use b2b_platform::db::DbOptions;
use b2b_platform::server::Health;
use b2b_platform::{Auth, Clock, Db, Metrics, config, openapi as docs, server};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::operators::limiter::LoginLimiter;

/// Settings read from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub database_url: String,
    pub jwt_secret: String,
    pub service_token: String,
    pub jwt_ttl_secs: i64,
    /// Log-in attempts allowed per e-mail and minute (ten times that per client address).
    pub login_attempts_per_minute: NonZeroU32,
    /// `METRICS_TOKEN`: when set, `GET /metrics` needs it.
    pub metrics_token: Option<String>,
}

pub const DEFAULT_PORT: u16 = 3001;
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/b2b-orders.db";
pub const DEFAULT_LOGIN_ATTEMPTS: NonZeroU32 = NonZeroU32::new(10).expect("non-zero");
/// `JWT_EXPIRES_IN`: a minute to 30 days (a token's `exp` stays far from any overflow).
pub const JWT_TTL_SECS: RangeInclusive<i64> = 60..=30 * 86_400;
/// `LOGIN_ATTEMPTS_PER_MINUTE`: at least one; ten thousand is no brute-force protection left.
pub const LOGIN_ATTEMPTS: RangeInclusive<NonZeroU32> =
    NonZeroU32::MIN..=NonZeroU32::new(10_000).expect("non-zero");

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_env_with(false)
    }

    /// Like [`Config::from_env`]; with `dev_secrets`, missing secrets fall back to the
    /// documented development values (the all-in-one `cargo run` only).
    pub fn from_env_with(dev_secrets: bool) -> anyhow::Result<Self> {
        let (jwt_secret, service_token) = config::secrets(dev_secrets)?;
        Ok(Self {
            port: config::port("PORT", DEFAULT_PORT)?,
            database_url: config::var_or("DATABASE_URL", DEFAULT_DATABASE_URL),
            jwt_secret,
            service_token,
            jwt_ttl_secs: config::duration_in("JWT_EXPIRES_IN", 3600, JWT_TTL_SECS)?,
            login_attempts_per_minute: config::parse_in(
                "LOGIN_ATTEMPTS_PER_MINUTE",
                DEFAULT_LOGIN_ATTEMPTS,
                LOGIN_ATTEMPTS,
            )?,
            metrics_token: config::metrics_token()?,
        })
    }
}

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: Db,
    pub auth: Auth,
    pub clock: Clock,
    pub login_limiter: Arc<LoginLimiter>,
    pub metrics: Metrics,
}

impl AppState {
    pub fn new(db: Db, config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            metrics: Metrics::new(
                "customers-api",
                config.metrics_token.as_deref(),
                Some(db.clone()),
            ),
            db,
            auth: Auth::new(
                &config.jwt_secret,
                &config.service_token,
                config.jwt_ttl_secs,
            )?,
            clock: Clock::system(),
            login_limiter: Arc::new(LoginLimiter::new(config.login_attempts_per_minute)),
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
        .routes(routes!(health))
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

/// The OpenAPI document of this service.
pub fn openapi() -> utoipa::openapi::OpenApi {
    docs::document(
        router(),
        docs::ErrorDocs::Problems {
            uses_database: true,
        },
    )
}

/// The service's whole HTTP surface.
pub fn app(state: AppState) -> Router {
    docs::app(
        router(),
        state,
        docs::ErrorDocs::Problems {
            uses_database: true,
        },
    )
}

/// Health: 200 when the database answers, 503 otherwise.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health, description = "The database is unreachable")))]
async fn health(State(state): State<AppState>) -> Response {
    server::health(&state.db).await
}

/// Connects, applies migrations and serves until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url, &DbOptions::default()).await?;
    db.migrate().await?;
    let state = AppState::new(db.clone(), &config)?;
    let listener = server::bind(config.port).await?;
    tracing::info!(
        port = config.port,
        backend = db.backend(),
        "customers-api listening"
    );
    server::serve(listener, app(state), server::shutdown_signal()).await?;
    db.close().await;
    Ok(())
}
