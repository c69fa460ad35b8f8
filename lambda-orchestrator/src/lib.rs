//! lambda-orchestrator: one call validates the customer, creates the order and confirms it.
//! The same router is served by `lambda_http` inside AWS Lambda and by a plain HTTP server
//! locally.

pub mod emf;
pub mod envelope;
pub mod flow;
pub mod handler;
mod lambda;
pub mod retry;
mod settings;
pub mod upstream;

use axum::Json;
use axum::extract::FromRef;
use b2b_platform::server::Health;
use b2b_platform::{Auth, Metrics, config, openapi as docs, server};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::lambda::lambda_service;
pub use crate::settings::*;
use crate::upstream::Upstream;

/// What the handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub auth: Auth,
    pub upstream: Upstream,
    pub metrics: Metrics,
    /// Whether orchestrations are also logged as EMF lines.
    pub emf: bool,
}

impl AppState {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            auth: Auth::new(&config.jwt_secret, &config.service_token, 3600)?,
            metrics: SURFACE.metrics(config.metrics_token.as_deref(), None),
            emf: config.metrics_emf,
            upstream: Upstream::new(
                &config.customers_api_base,
                &config.orders_api_base,
                // During a rotation the first listed token is the one sent (README).
                config::primary_secret(&config.service_token),
                config.policy.clone(),
            )?,
        })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "B2B Orders — Orchestrator", description = "Validates a customer, creates an order and confirms it, in one call."),
    tags((name = "orchestrator"), (name = "health"))
)]
struct ApiDoc;

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(handler::create_and_confirm_order))
}

// Its own error envelope on every route.
b2b_platform::surface!(
    "lambda-orchestrator",
    router,
    docs::ErrorDocs::OwnEnvelope(envelope::ERROR_BODIES)
);

/// Health of the orchestrator itself (it keeps no database).
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

/// Serves locally on `PORT` until Ctrl-C or SIGTERM.
pub async fn run_local(config: Config) -> anyhow::Result<()> {
    let state = AppState::new(&config)?;
    let listener = server::bind(config.port).await?;
    tracing::info!(port = config.port, "orchestrator listening (local mode)");
    server::serve(listener, app(state), server::shutdown_signal()).await
}

/// Runs as an AWS Lambda function behind API Gateway (REST or HTTP API) or a function URL.
pub async fn run_lambda(config: Config) -> anyhow::Result<()> {
    let state = AppState::new(&config)?;
    lambda_http::run(lambda_service(app(state)))
        .await
        .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
}
