//! Logs as JSON lines (or readable text on a terminal), the correlation id and the W3C trace
//! context that tie a request's log lines, its response and its calls to other services together,
//! and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, its spans exported over OTLP.

mod correlate;
mod trace;

use std::io::IsTerminal;
use std::sync::OnceLock;

use crate::config::names;
use axum::http::HeaderName;
use b2b_domain::headers;
use opentelemetry::trace::TracerProvider;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub use correlate::{CorrelationId, RequestSpan, correlate};
pub use trace::{TraceContext, TraceParent};

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

#[cfg(test)]
mod tests;
