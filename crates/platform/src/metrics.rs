//! Prometheus metrics: each app keeps its own registry, rendered as text at `GET /metrics`.
//!
//! The all-in-one binary serves three apps in one process and the tests start many, so the one
//! process-wide `metrics` recorder is a dispatcher: while a request runs, every
//! `metrics::counter!` of the code serving it goes to the registry of the app serving it (a
//! task-local set by [`track`]). Each port's `/metrics` shows exactly its own part's series,
//! labelled `service`; a count made outside a request (a spawned task) is dropped.

mod dispatch;
mod openapi;

use dispatch::Dispatch;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once, PoisonError, RwLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{SharedString, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use subtle::ConstantTimeEq;

use crate::db::Db;
use crate::error::ApiError;

pub use dispatch::track;
pub use openapi::{METRICS_SCHEME, document};

pub const HTTP_REQUESTS: &str = "http_requests_total";
pub const HTTP_DURATION: &str = "http_request_duration_seconds";
pub const DB_POOL_CONNECTIONS: &str = "db_pool_connections";
pub const DB_POOL_MAX: &str = "db_pool_max_connections";
pub const IDEMPOTENCY_REQUESTS: &str = "idempotency_requests_total";
pub const ORDERS_REFUSED: &str = "orders_refused_total";
pub const ORCHESTRATIONS: &str = "orchestrations_total";
pub const UPSTREAM_ATTEMPTS: &str = "upstream_attempts_total";
pub const UPSTREAM_RETRIES: &str = "upstream_retries_total";
pub const COMPENSATIONS: &str = "compensations_total";
/// The `route` of a request no route matched (the raw path would make a series per URL).
pub const UNMATCHED: &str = "unmatched";
/// `Content-Type` of the text exposition format.
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Histogram samples wait in a buffer until drained; with nobody scraping, every this many
/// requests drain them.
const UPKEEP_EVERY: u64 = 1024;

/// One app's registry, its optional scrape token and the pool it reports on; cheap to clone.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    token: Option<Vec<u8>>,
    pool: Option<Db>,
    /// Route templates and statuses as shared strings, so a request's labels allocate nothing.
    labels: RwLock<HashSet<Arc<str>>>,
    requests: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("token", &self.0.token.is_some())
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// A registry whose series all carry `service="<service>"`; with `token`, scraping needs
    /// it; with `pool`, each scrape reports that pool's connections in use and idle.
    pub fn new(service: &'static str, token: Option<&str>, pool: Option<Db>) -> Self {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            // Fails only when another recorder was installed first; then only the HTTP and pool
            // series (recorded here directly) are shown.
            let _ = metrics::set_global_recorder(Dispatch);
        });
        let recorder = PrometheusBuilder::new()
            .add_global_label("service", service)
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), &BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        metrics::with_local_recorder(&recorder, describe);
        Self(Arc::new(Inner {
            handle: recorder.handle(),
            recorder,
            token: token.map(|t| t.as_bytes().to_vec()),
            pool,
            labels: RwLock::default(),
            requests: AtomicU64::new(0),
        }))
    }

    /// `GET /metrics`, served from this registry.
    pub fn routes(&self) -> axum::Router {
        axum::Router::new()
            .route("/metrics", get(scrape))
            .with_state(self.clone())
    }

    /// The exposition text: every series so far, and the pool as it is now.
    pub fn render(&self) -> String {
        if let Some(db) = &self.0.pool {
            let (size, idle, max) = crate::on_db!(db, |p| (
                p.size(),
                p.num_idle(),
                p.options().get_max_connections()
            ));
            let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
            metrics::with_local_recorder(&self.0.recorder, || {
                metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(size - idle);
                metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(idle);
                metrics::gauge!(DB_POOL_MAX).set(max);
            });
        }
        self.0.handle.render()
    }

    fn allowed(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.0.token else {
            return true;
        };
        headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .is_some_and(|t| t.trim().as_bytes().ct_eq(token).into())
    }

    fn intern(&self, s: &str) -> SharedString {
        let known = self
            .0
            .labels
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(s)
            .cloned();
        let shared = known.unwrap_or_else(|| {
            let mut labels = self
                .0
                .labels
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(known) = labels.get(s) {
                return known.clone();
            }
            let shared: Arc<str> = Arc::from(s);
            labels.insert(shared.clone());
            shared
        });
        SharedString::from(shared)
    }

    fn observe(
        &self,
        method: &'static str,
        route: SharedString,
        status: StatusCode,
        took: Duration,
    ) {
        let status = self.intern(status.as_str());
        metrics::with_local_recorder(&self.0.recorder, || {
            metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
                .increment(1);
            metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route)
                .record(took.as_secs_f64());
        });
        if self.0.requests.fetch_add(1, Ordering::Relaxed) % UPKEEP_EVERY == UPKEEP_EVERY - 1 {
            self.0.handle.run_upkeep();
        }
    }
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route template"
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Database pool connections, by state (in_use, idle)"
    );
    describe_gauge!(DB_POOL_MAX, "The database pool's maximum size");
    describe_counter!(
        IDEMPOTENCY_REQUESTS,
        "Keyed requests by scope and outcome (fresh, replayed, in_flight, mismatch)"
    );
    describe_counter!(ORDERS_REFUSED, "Orders refused, by reason");
    describe_counter!(
        ORCHESTRATIONS,
        "Orchestrations by outcome: success or the envelope's error code"
    );
    describe_counter!(
        UPSTREAM_ATTEMPTS,
        "Calls sent to another part, retries included, by target"
    );
    describe_counter!(
        UPSTREAM_RETRIES,
        "Calls sent again after a transient failure, by target"
    );
    describe_counter!(
        COMPENSATIONS,
        "Orders created but not confirmed, by what the compensation did"
    );
}

/// `GET /metrics`: the exposition text; with `METRICS_TOKEN` set, only for that bearer token.
async fn scrape(State(m): State<Metrics>, headers: HeaderMap) -> Response {
    if !m.allowed(&headers) {
        return ApiError::Unauthorized("missing or wrong metrics token").into_response();
    }
    ([(CONTENT_TYPE, TEXT_FORMAT)], m.render()).into_response()
}

#[cfg(test)]
mod tests;
