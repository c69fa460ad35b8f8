//! The process-wide recorder that sends each count to the registry of the app serving the request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

use super::{Metrics, UNMATCHED};

tokio::task_local! {
    pub(super) static CURRENT: Metrics;
}

fn method_label(m: &Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: counts and times each request by method, route template and status, and runs
/// it with this app's registry as the one `metrics::counter!` reaches.
pub async fn track(State(m): State<Metrics>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(SharedString::const_str(UNMATCHED), |p| m.intern(p.as_str()));
    let resp = CURRENT.scope(m.clone(), next.run(req)).await;
    m.observe(method, route, resp.status(), started.elapsed());
    resp
}

/// The process-wide recorder: forwards to the registry of the request being served.
pub(super) struct Dispatch;

impl Recorder for Dispatch {
    // Descriptions are given to each registry when it is made.
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, meta: &Metadata<'_>) -> Counter {
        CURRENT
            .try_with(|m| m.0.recorder.register_counter(key, meta))
            .unwrap_or_else(|_| Counter::noop())
    }

    fn register_gauge(&self, key: &Key, meta: &Metadata<'_>) -> Gauge {
        CURRENT
            .try_with(|m| m.0.recorder.register_gauge(key, meta))
            .unwrap_or_else(|_| Gauge::noop())
    }

    fn register_histogram(&self, key: &Key, meta: &Metadata<'_>) -> Histogram {
        CURRENT
            .try_with(|m| m.0.recorder.register_histogram(key, meta))
            .unwrap_or_else(|_| Histogram::noop())
    }
}
