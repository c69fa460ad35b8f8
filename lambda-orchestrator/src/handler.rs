//! `POST /orchestrator/create-and-confirm-order`: the caller's credentials and body checked, the
//! flow run, and every answer in the orchestrator's envelope with its correlation id.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use b2b_domain::{ErrorCode, FromJson};
use b2b_platform::CorrelationId;
use b2b_platform::auth::Principal;
use b2b_platform::extract::{BodyError, read_json_value};
use b2b_platform::telemetry::{RequestSpan, X_CORRELATION_ID};

use crate::envelope::{Failure, FailureBody, OrchestratorRequest, Success};
use crate::{AppState, emf, flow};

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
        emf::orchestrated(state.emf, f.code.as_str(), &correlation.0);
        respond(f.status(), &correlation.0, f.into_body(&correlation.0))
    };
    match auth {
        Ok(Principal::Operator(_)) => {}
        Ok(Principal::Service) => {
            return fail(Failure::new(
                ErrorCode::Forbidden,
                "this endpoint needs an operator token",
            ));
        }
        Err(_) => {
            return fail(Failure::new(
                ErrorCode::Unauthorized,
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
            tracing::warn!(code = f.code.as_str(), "orchestration failed");
            fail(f)
        }
    }
}
