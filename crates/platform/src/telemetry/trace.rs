//! W3C Trace Context: a request's `traceparent` read (or a new trace begun) and passed on.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{OTLP, TRACEPARENT, TRACESTATE};

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
    pub(super) static CURRENT_TRACE: TraceContext;
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
pub(super) fn trace_of(req: &Request, span: &tracing::Span) -> TraceContext {
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
