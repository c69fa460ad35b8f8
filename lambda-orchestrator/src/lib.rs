//! lambda-orchestrator: one call validates the customer, creates the order and confirms it.
//! The same router is served by `lambda_http` inside AWS Lambda and by a plain HTTP server
//! locally.

pub mod emf;
pub mod envelope;
pub mod flow;
pub mod upstream;

use std::ops::RangeInclusive;
use std::time::Duration;

use axum::extract::{FromRef, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use b2b_domain::FromJson;
use b2b_platform::auth::Principal;
use b2b_platform::cli::Setting;
use b2b_platform::extract::{BodyError, read_json_value};
use b2b_platform::server::Health;
use b2b_platform::telemetry::{RequestSpan, X_CORRELATION_ID};
use b2b_platform::{Auth, CorrelationId, Metrics, config, openapi as docs, server};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::envelope::{Failure, FailureBody, OrchestratorRequest, Success};
use crate::upstream::{RetryPolicy, Upstream};

pub const DEFAULT_PORT: u16 = 3000;
/// `UPSTREAM_MAX_ATTEMPTS`, the first included.
pub const ATTEMPTS: RangeInclusive<u32> = 1..=10;
/// `UPSTREAM_TIMEOUT_MS`: 100 ms to a minute.
pub const ATTEMPT_TIMEOUT_MS: RangeInclusive<u64> = 100..=60_000;
/// `UPSTREAM_BACKOFF_MS` and `UPSTREAM_MAX_BACKOFF_MS`: none to a minute.
pub const BACKOFF_MS: RangeInclusive<u64> = 0..=60_000;
/// `ORCHESTRATION_DEADLINE_MS`: a second to 15 minutes, the longest a Lambda can run.
pub const DEADLINE_MS: RangeInclusive<u64> = 1_000..=900_000;
pub const DEFAULT_ATTEMPTS: u32 = 4;
pub const DEFAULT_ATTEMPT_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_BACKOFF_MS: u64 = 100;
pub const DEFAULT_MAX_BACKOFF_MS: u64 = 2_000;
pub const DEFAULT_DEADLINE_MS: u64 = 25_000;
pub const DEFAULT_CUSTOMERS_API_BASE: &str = "http://localhost:3001";
pub const DEFAULT_ORDERS_API_BASE: &str = "http://localhost:3002";

/// Settings read from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub jwt_secret: String,
    pub service_token: String,
    pub customers_api_base: String,
    pub orders_api_base: String,
    pub policy: RetryPolicy,
    /// `METRICS_TOKEN`: when set, `GET /metrics` needs it.
    pub metrics_token: Option<String>,
    /// `METRICS_EMF`: also log each orchestration as a CloudWatch embedded-metric-format line
    /// (default: on inside Lambda only).
    pub metrics_emf: bool,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_env_with(false)
    }

    /// Like [`Config::from_env`]; with `dev_secrets`, missing secrets fall back to the
    /// documented development values (the all-in-one `cargo run` only).
    pub fn from_env_with(dev_secrets: bool) -> anyhow::Result<Self> {
        let ms = |name: &str, default: u64, range: RangeInclusive<u64>| {
            config::parse_in(name, default, range).map(Duration::from_millis)
        };
        let policy = RetryPolicy {
            attempts: config::parse_in("UPSTREAM_MAX_ATTEMPTS", DEFAULT_ATTEMPTS, ATTEMPTS)?,
            attempt_timeout: ms(
                "UPSTREAM_TIMEOUT_MS",
                DEFAULT_ATTEMPT_TIMEOUT_MS,
                ATTEMPT_TIMEOUT_MS,
            )?,
            base_backoff: ms("UPSTREAM_BACKOFF_MS", DEFAULT_BACKOFF_MS, BACKOFF_MS)?,
            max_backoff: ms(
                "UPSTREAM_MAX_BACKOFF_MS",
                DEFAULT_MAX_BACKOFF_MS,
                BACKOFF_MS,
            )?,
            deadline: ms(
                "ORCHESTRATION_DEADLINE_MS",
                DEFAULT_DEADLINE_MS,
                DEADLINE_MS,
            )?,
        };
        let (jwt_secret, service_token) = config::secrets(dev_secrets)?;
        Ok(Self {
            port: config::port("PORT", DEFAULT_PORT)?,
            jwt_secret,
            service_token,
            customers_api_base: config::var_or("CUSTOMERS_API_BASE", DEFAULT_CUSTOMERS_API_BASE),
            orders_api_base: config::var_or("ORDERS_API_BASE", DEFAULT_ORDERS_API_BASE),
            policy,
            metrics_token: config::metrics_token()?,
            metrics_emf: emf::enabled()?,
        })
    }
}

/// Every setting [`Config::from_env`] reads, as `--help` lists them.
pub fn settings() -> Vec<Setting> {
    let mut all = vec![Setting::port(
        "PORT",
        "the port to listen on (not in AWS Lambda)",
        DEFAULT_PORT,
    )];
    all.extend(Setting::secrets(false));
    all.extend([
        Setting::new(
            "CUSTOMERS_API_BASE",
            "where customers-api is",
            DEFAULT_CUSTOMERS_API_BASE,
            "an http:// or https:// URL",
        ),
        Setting::new(
            "ORDERS_API_BASE",
            "where orders-api is",
            DEFAULT_ORDERS_API_BASE,
            "an http:// or https:// URL",
        ),
        Setting::number(
            "UPSTREAM_MAX_ATTEMPTS",
            "attempts per call to an API, the first included",
            DEFAULT_ATTEMPTS,
            &ATTEMPTS,
        ),
        Setting::number(
            "UPSTREAM_TIMEOUT_MS",
            "time-out of one attempt, in milliseconds",
            DEFAULT_ATTEMPT_TIMEOUT_MS,
            &ATTEMPT_TIMEOUT_MS,
        ),
        Setting::number(
            "UPSTREAM_BACKOFF_MS",
            "longest random wait before the first retry, in milliseconds (doubling with each retry)",
            DEFAULT_BACKOFF_MS,
            &BACKOFF_MS,
        ),
        Setting::number(
            "UPSTREAM_MAX_BACKOFF_MS",
            "longest wait between retries, in milliseconds",
            DEFAULT_MAX_BACKOFF_MS,
            &BACKOFF_MS,
        ),
        Setting::number(
            "ORCHESTRATION_DEADLINE_MS",
            "time budget of one orchestration, compensation included, in milliseconds",
            DEFAULT_DEADLINE_MS,
            &DEADLINE_MS,
        ),
        Setting::new(
            "AWS_LAMBDA_RUNTIME_API",
            "set by AWS Lambda: serve Lambda events instead of HTTP on PORT",
            "unset",
            "host:port",
        ),
    ]);
    all.push(Setting::metrics_token());
    all.push(Setting::new(
        "METRICS_EMF",
        "also log each orchestration as a CloudWatch embedded-metric-format line",
        "1 inside AWS Lambda, else 0",
        "0 or 1",
    ));
    all.extend(Setting::logging());
    all
}

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
            metrics: Metrics::new("lambda-orchestrator", config.metrics_token.as_deref(), None),
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
        .routes(routes!(create_and_confirm_order))
}

/// The OpenAPI document of the orchestrator.
pub fn openapi() -> utoipa::openapi::OpenApi {
    docs::document(router(), docs::ErrorDocs::OwnEnvelope)
}

/// The service's whole HTTP surface.
pub fn app(state: AppState) -> Router {
    docs::app(
        router(),
        state,
        docs::ErrorDocs::OwnEnvelope,
        "lambda-orchestrator",
    )
}

/// Health of the orchestrator itself (it keeps no database).
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

fn respond(status: StatusCode, correlation: &str, body: impl serde::Serialize) -> Response {
    let mut resp = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(correlation) {
        resp.headers_mut().insert(X_CORRELATION_ID, v);
    }
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer"),
        );
    }
    resp
}

/// Create and confirm an order in one call. The same `idempotency_key` always yields the same
/// order; a call that fails after the order was created cancels it (`details.compensated`).
#[utoipa::path(post, path = "/orchestrator/create-and-confirm-order", tag = "orchestrator",
    request_body = OrchestratorRequest, security(("operator_jwt" = [])),
    responses((status = 201, body = Success, description = "Created and confirmed"),
              (status = 400, body = FailureBody, description = "`VALIDATION_ERROR`"),
              (status = 401, body = FailureBody, description = "`UNAUTHORIZED`"),
              (status = 403, body = FailureBody, description = "`FORBIDDEN`: not an operator token"),
              (status = 404, body = FailureBody, description = "`CUSTOMER_NOT_FOUND` or `PRODUCT_NOT_FOUND`"),
              (status = 409, body = FailureBody, description = "`INSUFFICIENT_STOCK`, or `CONFLICT`"),
              (status = 413, body = FailureBody, description = "`PAYLOAD_TOO_LARGE`"),
              (status = 415, body = FailureBody, description = "`UNSUPPORTED_MEDIA_TYPE`"),
              (status = 422, body = FailureBody, description = "`IDEMPOTENCY_KEY_REUSED`"),
              (status = 502, body = FailureBody, description = "`UPSTREAM_ERROR`"),
              (status = 503, body = FailureBody, description = "`UPSTREAM_UNAVAILABLE`"),
              (status = 504, body = FailureBody, description = "`UPSTREAM_TIMEOUT`")))]
#[tracing::instrument(skip_all, fields(correlation_id = tracing::field::Empty))]
pub async fn create_and_confirm_order(State(state): State<AppState>, req: Request) -> Response {
    let header_id = req
        .extensions()
        .get::<CorrelationId>()
        .cloned()
        .unwrap_or_default();
    let request_span = RequestSpan::of(req.extensions());
    let (parts, body) = req.into_parts();
    let auth = state.auth.identify(&parts);
    let value = read_json_value(Request::from_parts(parts, body), &()).await;
    // The body's correlation id wins over the header's.
    let correlation = value
        .as_ref()
        .ok()
        .and_then(|v| v.get("correlation_id"))
        .and_then(|v| v.as_str())
        .and_then(CorrelationId::accept)
        .unwrap_or(header_id);
    // From here on every line of this request, the middleware's closing line included, carries
    // the id the answer carries.
    request_span.set_correlation_id(&correlation);
    tracing::Span::current().record("correlation_id", correlation.0.as_str());
    let fail = |f: Failure| {
        emf::orchestrated(state.emf, f.code, &correlation.0);
        respond(f.status(), &correlation.0, f.into_body(&correlation.0))
    };
    match auth {
        Ok(Principal::Operator(_)) => {}
        Ok(Principal::Service) => {
            return fail(Failure::new(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "this endpoint needs an operator token",
            ));
        }
        Err(_) => {
            return fail(Failure::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "missing, invalid or expired operator token",
            ));
        }
    }
    let request = match value.map_err(Failure::from_body).and_then(|v| {
        OrchestratorRequest::from_json(&v)
            .map_err(|errors| Failure::from_body(BodyError::Invalid(errors)))
    }) {
        Ok(r) => r,
        Err(f) => return fail(f),
    };
    match flow::create_and_confirm(&state.upstream, &request, &correlation.0).await {
        Ok(data) => {
            tracing::info!(order_id = data.order.id, "order created and confirmed");
            emf::orchestrated(state.emf, "success", &correlation.0);
            respond(
                StatusCode::CREATED,
                &correlation.0,
                Success {
                    success: true,
                    correlation_id: correlation.0.clone(),
                    data,
                },
            )
        }
        Err(f) => {
            tracing::warn!(code = f.code, "orchestration failed");
            fail(f)
        }
    }
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

/// Wraps the router for Lambda: API Gateway REST events carry the stage in the path
/// (`/dev/orchestrator/...`); it is removed before routing.
pub fn lambda_service(
    app: Router,
) -> impl tower::Service<
    lambda_http::Request,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<Response, std::convert::Infallible>> + Send,
> + Clone
+ Send {
    tower::ServiceBuilder::new()
        .map_request(strip_stage)
        .service(app.into_service::<lambda_http::Body>())
}

fn strip_stage(mut req: lambda_http::Request) -> lambda_http::Request {
    use lambda_http::request::RequestContext;
    let stage = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.stage.clone(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.stage.clone(),
        _ => None,
    };
    let Some(stage) = stage.filter(|s| s != "$default") else {
        return req;
    };
    let prefix = format!("/{stage}");
    let path = req.uri().path();
    if let Some(rest) = path.strip_prefix(&prefix).filter(|r| r.starts_with('/')) {
        let rest = match req.uri().query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_owned(),
        };
        if let Ok(uri) = rest.parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}
