//! Logs as JSON lines (or readable text on a terminal), the correlation id and the W3C trace
//! context that tie a request's log lines, its response and its calls to other services together,
//! and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, its spans exported over OTLP.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Instant;

use crate::config::names;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use b2b_domain::headers;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider,
};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub const X_CORRELATION_ID: HeaderName = HeaderName::from_static(headers::X_CORRELATION_ID);
pub const TRACEPARENT: HeaderName = HeaderName::from_static(headers::TRACEPARENT);
pub const TRACESTATE: HeaderName = HeaderName::from_static(headers::TRACESTATE);
/// Where spans go (`http://collector:4318`; `/v1/traces` is added). Unset: nothing is exported.
pub const OTLP_ENDPOINT: &str = names::OTEL_EXPORTER_OTLP_ENDPOINT;

/// The span exporter, when `OTEL_EXPORTER_OTLP_ENDPOINT` was set at [`init`]. Process-global
/// because the `tracing` subscriber is; unset, requests take none of the OpenTelemetry paths.
static OTLP: OnceLock<opentelemetry_sdk::trace::SdkTracerProvider> = OnceLock::new();

/// Starts logging: `LOG_FORMAT` = `json` or `pretty` (default json unless on a terminal),
/// filtered by `RUST_LOG` (default `info`); and span export when `OTEL_EXPORTER_OTLP_ENDPOINT`
/// is set, as `service` unless `OTEL_SERVICE_NAME` says otherwise. Safe to call more than once.
pub fn init(service: &'static str) {
    let json = match std::env::var(names::LOG_FORMAT).as_deref() {
        Ok("json") => true,
        Ok("pretty") => false,
        _ => !std::io::stdout().is_terminal(),
    };
    init_with(Logging {
        service,
        writer: BoxMakeWriter::new(std::io::stdout),
        json,
        otlp_endpoint: std::env::var(OTLP_ENDPOINT)
            .ok()
            .filter(|e| !e.trim().is_empty()),
    });
}

/// What [`init`] reads from the environment, given (a test writes its logs to itself).
pub struct Logging {
    pub service: &'static str,
    pub writer: BoxMakeWriter,
    pub json: bool,
    /// The collector's base URL; `/v1/traces` is added.
    pub otlp_endpoint: Option<String>,
}

/// [`init`] with the settings given.
pub fn init_with(logging: Logging) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(logging.writer);
    let fmt = if logging.json {
        fmt.json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .boxed()
    } else {
        fmt.boxed()
    };
    let otel = logging
        .otlp_endpoint
        .and_then(|endpoint| otlp_tracer(logging.service, &endpoint))
        .map(|tracer| tracing_opentelemetry::layer().with_tracer(tracer));
    // The filter is the log lines': spans are exported whatever RUST_LOG says of them.
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(otel)
        .try_init();
}

fn otlp_tracer(
    service: &'static str,
    endpoint: &str,
) -> Option<opentelemetry_sdk::trace::SdkTracer> {
    if OTLP.get().is_some() {
        return None;
    }
    use opentelemetry_otlp::WithExportConfig;
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(&url)
        .build()
        .map_err(|e| eprintln!("{OTLP_ENDPOINT}={endpoint}: no span export: {e}"))
        .ok()?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var_os(names::OTEL_SERVICE_NAME).is_none() {
        resource = resource.with_service_name(service);
    }
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    let tracer = provider.tracer("b2b-orders");
    OTLP.set(provider).ok()?;
    Some(tracer)
}

/// Sends the spans ended so far (before exit, or before a test looks). Blocks.
pub fn flush_spans() {
    if let Some(Err(e)) = OTLP.get().map(|p| p.force_flush()) {
        tracing::warn!(error = %e, "spans not exported");
    }
}

/// A `traceparent` header (W3C Trace Context, version 00): the trace and the caller's span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: u128,
    pub span_id: u64,
    pub sampled: bool,
}

impl TraceParent {
    /// A well-formed header, or `None` (then the request starts a trace of its own). A later
    /// version is read as 00 is, as the recommendation says; `ff` and all-zero ids are invalid.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.trim().split('-');
        let (version, trace, span, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let later = parts.next();
        if !hex(version, 2) || version == "ff" || (version == "00" && later.is_some()) {
            return None;
        }
        if !(hex(trace, 32) && hex(span, 16) && hex(flags, 2)) {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok().filter(|&t| t != 0)?;
        let span_id = u64::from_str_radix(span, 16).ok().filter(|&s| s != 0)?;
        let sampled = u8::from_str_radix(flags, 16).ok()? & 1 == 1;
        Some(Self {
            trace_id,
            span_id,
            sampled,
        })
    }

    pub fn header(&self) -> String {
        format!(
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id,
            self.span_id,
            u8::from(self.sampled)
        )
    }
}

/// The trace a request is part of: its trace id, this service's span of it, and the caller's
/// `tracestate`, passed on unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    pub parent: TraceParent,
    pub tracestate: Option<HeaderValue>,
}

impl TraceContext {
    pub fn trace_id(&self) -> String {
        format!("{:032x}", self.parent.trace_id)
    }

    pub fn span_id(&self) -> String {
        format!("{:016x}", self.parent.span_id)
    }

    /// The headers that carry the trace on to another part: from the current span (the upstream
    /// call's) when spans are exported, else from the request's own span.
    pub fn outgoing() -> Vec<(HeaderName, HeaderValue)> {
        let Ok(mut ctx) = CURRENT_TRACE.try_with(Clone::clone) else {
            return Vec::new();
        };
        if OTLP.get().is_some() {
            let cx = tracing::Span::current().context();
            let span = cx.span();
            let sc = span.span_context();
            if sc.is_valid() {
                ctx.parent.span_id = u64::from_be_bytes(sc.span_id().to_bytes());
            }
        }
        let mut headers = Vec::with_capacity(2);
        if let Ok(v) = HeaderValue::from_str(&ctx.parent.header()) {
            headers.push((TRACEPARENT, v));
        }
        if let Some(state) = ctx.tracestate {
            headers.push((TRACESTATE, state));
        }
        headers
    }
}

tokio::task_local! {
    /// The trace of the request this task serves, for the clients that call other parts.
    static CURRENT_TRACE: TraceContext;
}

fn random_nonzero<T: Default + PartialEq>(draw: impl Fn() -> T) -> T {
    loop {
        let v = draw();
        if v != T::default() {
            return v;
        }
    }
}

/// The request's trace context from its headers (or a new trace), and, when spans are
/// exported, `span` made the child of the caller's span so the ids are the exported ones.
fn trace_of(req: &Request, span: &tracing::Span) -> TraceContext {
    let incoming = req
        .headers()
        .get(&TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse);
    // A tracestate without a valid traceparent is dropped, as the specification says.
    let tracestate = incoming
        .and(req.headers().get(&TRACESTATE))
        .filter(|v| !v.is_empty() && v.len() <= 512)
        .cloned();
    if OTLP.get().is_some() {
        if let Some(p) = incoming {
            let flags = if p.sampled {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            };
            let remote = SpanContext::new(
                TraceId::from_bytes(p.trace_id.to_be_bytes()),
                SpanId::from_bytes(p.span_id.to_be_bytes()),
                flags,
                true,
                TraceState::default(),
            );
            let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
        }
        let cx = span.context();
        let otel = cx.span();
        let sc = otel.span_context();
        if sc.is_valid() {
            return TraceContext {
                parent: TraceParent {
                    trace_id: u128::from_be_bytes(sc.trace_id().to_bytes()),
                    span_id: u64::from_be_bytes(sc.span_id().to_bytes()),
                    sampled: sc.is_sampled(),
                },
                tracestate,
            };
        }
    }
    TraceContext {
        parent: TraceParent {
            trace_id: incoming.map_or_else(|| random_nonzero(rand::random::<u128>), |p| p.trace_id),
            span_id: random_nonzero(rand::random::<u64>),
            sampled: incoming.is_none_or(|p| p.sampled),
        },
        tracestate,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_kept_only_when_sane() {
        assert_eq!(CorrelationId::accept("req-789").unwrap().0, "req-789");
        assert!(CorrelationId::accept("").is_none());
        assert!(CorrelationId::accept("has space").is_none());
        assert!(CorrelationId::accept(&"x".repeat(129)).is_none());
        assert_ne!(CorrelationId::new(), CorrelationId::new());
    }

    #[test]
    fn traceparents_are_read_as_the_w3c_recommendation_says() {
        let raw = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let p = TraceParent::parse(raw).expect("valid");
        assert_eq!(p.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_eq!(p.span_id, 0x00f067aa0ba902b7);
        assert!(p.sampled);
        assert_eq!(p.header(), raw);
        let unsampled =
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
        assert!(!unsampled.expect("valid").sampled);
        // A later version may add fields after the four it shares with 00.
        assert!(
            TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")
                .is_some()
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert!(TraceParent::parse(bad).is_none(), "{bad}");
        }
    }
}
