//! The correlation id and the request span each request is served in, and the middleware that sets both up.

use std::time::Instant;

use axum::extract::{FromRequestParts, Request};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::X_CORRELATION_ID;
use super::trace::{CURRENT_TRACE, trace_of};

/// The correlation id of the request being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationId(pub String);

impl CorrelationId {
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// A client's id is kept when it is 1–128 visible ASCII characters.
    pub fn accept(raw: &str) -> Option<Self> {
        let ok = (1..=128).contains(&raw.len()) && raw.bytes().all(|b| (b'!'..=b'~').contains(&b));
        ok.then(|| Self(raw.to_owned()))
    }
}

impl Default for CorrelationId {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CorrelationId {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<CorrelationId>()
            .cloned()
            .unwrap_or_default())
    }
}

/// The span [`correlate`] runs a request in. A handler that learns the request's correlation id
/// only from its body (the orchestrator) puts it here, so every later line of the request —
/// those of nested spans and the closing "request served" — carries that id, not the header's.
#[derive(Debug, Clone)]
pub struct RequestSpan(tracing::Span);

impl RequestSpan {
    /// The span of the request these extensions belong to (a disabled one outside [`correlate`]).
    pub fn of(extensions: &axum::http::Extensions) -> Self {
        extensions
            .get::<Self>()
            .cloned()
            .unwrap_or_else(|| Self(tracing::Span::none()))
    }

    /// Makes `id` the request's correlation id in its log lines from now on. The JSON format
    /// replaces the field; the pretty one shows both, the later last.
    pub fn set_correlation_id(&self, id: &CorrelationId) {
        self.0.record("correlation_id", id.0.as_str());
    }
}

/// Middleware: takes or makes the correlation id and the trace context, runs the request in a
/// span carrying both (the part's `service` name too), logs the outcome, and echoes the id in
/// `X-Correlation-Id` (unless the handler set its own).
pub async fn correlate(
    axum::extract::State(service): axum::extract::State<&'static str>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = req
        .headers()
        .get(&X_CORRELATION_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(CorrelationId::accept)
        .unwrap_or_default();
    req.extensions_mut().insert(id.clone());
    let span = tracing::info_span!(
        "request",
        service,
        correlation_id = %id.0,
        trace_id = tracing::field::Empty,
        span_id = tracing::field::Empty,
        method = %req.method(),
        path = %req.uri().path(),
        otel.kind = "server",
    );
    let trace = trace_of(&req, &span);
    span.record("trace_id", trace.trace_id());
    span.record("span_id", trace.span_id());
    req.extensions_mut().insert(trace.clone());
    req.extensions_mut().insert(RequestSpan(span.clone()));
    let started = Instant::now();
    let mut resp = CURRENT_TRACE
        .scope(trace, next.run(req).instrument(span.clone()))
        .await;
    let status = resp.status().as_u16();
    span.in_scope(|| {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::error!(status, latency_ms = ms, "request failed");
        } else {
            tracing::info!(status, latency_ms = ms, "request served");
        }
    });
    if let (false, Ok(v)) = (
        resp.headers().contains_key(&X_CORRELATION_ID),
        HeaderValue::from_str(&id.0),
    ) {
        resp.headers_mut().insert(X_CORRELATION_ID, v);
    }
    resp
}
