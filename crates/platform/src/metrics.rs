//! Prometheus metrics: each app keeps its own registry, rendered as text at `GET /metrics`.
//!
//! The all-in-one binary serves three apps in one process and the tests start many, so the one
//! process-wide `metrics` recorder is a dispatcher: while a request runs, every
//! `metrics::counter!` of the code serving it goes to the registry of the app serving it (a
//! task-local set by [`track`]). Each port's `/metrics` shows exactly its own part's series,
//! labelled `service`; a count made outside a request (a spawned task) is dropped.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use subtle::ConstantTimeEq;

use crate::db::Db;
use crate::error::ApiError;

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

tokio::task_local! {
    static CURRENT: Metrics;
}

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
            let (size, idle, max) = crate::db::on_db!(db, |p| (
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
struct Dispatch;

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

/// Documents `GET /metrics` in `api`: open, or with the `metrics_token` bearer when set.
pub fn document(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{OperationBuilder, PathItem};
    use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
    use utoipa::openapi::{Content, HttpMethod, ObjectBuilder, Ref, ResponseBuilder, Type};
    use utoipa::{PartialSchema, ToSchema};

    let components = api.components.get_or_insert_with(Default::default);
    let mut bearer = Http::new(HttpAuthScheme::Bearer);
    bearer.description = Some("The METRICS_TOKEN, when it is set".to_owned());
    components.add_security_scheme(METRICS_SCHEME, SecurityScheme::Http(bearer));
    // The orchestrator documents its own envelope, not problems; this 401 is a problem.
    if !components.schemas.contains_key("Problem") {
        let mut schemas = Vec::new();
        crate::Problem::schemas(&mut schemas);
        schemas.push(("Problem".to_owned(), crate::Problem::schema()));
        components.schemas.extend(schemas);
    }
    let text = ObjectBuilder::new().schema_type(Type::String).build();
    let ok = ResponseBuilder::new()
        .description("Prometheus text exposition format: this part's series, labelled `service`")
        .content("text/plain", Content::new(Some(text)))
        .build();
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                Content::new(Some(Ref::from_schema_name("Problem"))),
            )
            .build()
    };
    let op = OperationBuilder::new()
        .tag("health")
        .operation_id(Some("metrics"))
        .summary(Some("Prometheus metrics"))
        .description(Some(
            "Request counts and latencies by route template, database pool use, and this part's \
             own counters. No customer data. Open unless METRICS_TOKEN is set.",
        ))
        .securities(Some([
            SecurityRequirement::default(),
            SecurityRequirement::new(METRICS_SCHEME, Vec::<String>::new()),
        ]))
        .response("200", ok)
        .response(
            "401",
            problem("METRICS_TOKEN is set and the request lacks it"),
        )
        .response("500", problem("Unexpected error (a bug)"))
        .build();
    api.paths
        .paths
        .insert("/metrics".to_owned(), PathItem::new(HttpMethod::Get, op));
}

/// The security scheme of `/metrics`.
pub const METRICS_SCHEME: &str = "metrics_token";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_rule() {
        let open = Metrics::new("test", None, None);
        assert!(open.allowed(&HeaderMap::new()));
        let token = "metrics-token-0123456789abcdef-0123";
        let closed = Metrics::new("test", Some(token), None);
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(AUTHORIZATION, v.parse().unwrap());
            h
        };
        assert!(!closed.allowed(&HeaderMap::new()));
        assert!(closed.allowed(&with(&format!("Bearer {token}"))));
        assert!(!closed.allowed(&with(&format!("Bearer {token}x"))));
        assert!(!closed.allowed(&with(token)), "without the scheme");
    }

    #[test]
    fn counts_outside_a_request_go_nowhere() {
        let m = Metrics::new("test", None, None);
        metrics::counter!(ORDERS_REFUSED).increment(1);
        assert!(!m.render().contains(ORDERS_REFUSED));
    }

    #[tokio::test]
    async fn counts_inside_a_request_go_to_its_app() {
        let (a, b) = (Metrics::new("a", None, None), Metrics::new("b", None, None));
        CURRENT
            .scope(a.clone(), async {
                metrics::counter!(ORDERS_REFUSED, "reason" => "x").increment(2);
            })
            .await;
        assert!(
            a.render()
                .contains(r#"orders_refused_total{service="a",reason="x"} 2"#),
            "{}",
            a.render()
        );
        assert!(!b.render().contains(ORDERS_REFUSED));
    }
}
