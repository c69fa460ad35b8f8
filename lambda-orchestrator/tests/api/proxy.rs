//! A fault-injecting HTTP proxy put in front of a real service. A rule chosen by the test says,
//! per request, whether to forward it, answer for the service, or forward it and then lose the
//! answer; every request is logged so tests can count the orchestrator's attempts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use b2b_testkit::{client, spawn};
use serde_json::json;

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    Forward,
    /// Answer this status without forwarding.
    Answer(u16),
    /// Forward (the effect happens), then answer this status instead of the real answer.
    Lose(u16),
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    /// What the orchestrator got.
    pub status: u16,
    /// What the service answered, when forwarded.
    pub upstream: Option<u16>,
}

type Rule = dyn Fn(usize, &Method, &str) -> Action + Send + Sync;

struct Inner {
    target: String,
    client: reqwest::Client,
    rule: Box<Rule>,
    next: AtomicUsize,
    log: Mutex<Vec<Seen>>,
}

#[derive(Clone)]
pub struct Proxy {
    pub base: String,
    inner: Arc<Inner>,
}

impl Proxy {
    /// A proxy to `target`; `rule(n, method, path)` decides for the `n`th request (from 0).
    pub async fn spawn(
        target: &str,
        rule: impl Fn(usize, &Method, &str) -> Action + Send + Sync + 'static,
    ) -> Self {
        let inner = Arc::new(Inner {
            target: target.to_owned(),
            client: client(),
            rule: Box::new(rule),
            next: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(inner.clone());
        Self {
            base: spawn(app).await,
            inner,
        }
    }

    pub fn log(&self) -> Vec<Seen> {
        self.inner.log.lock().expect("log").clone()
    }

    /// `(method path, status the orchestrator got)` of every request, in order.
    pub fn calls(&self) -> Vec<(String, u16)> {
        self.log()
            .into_iter()
            .map(|s| (format!("{} {}", s.method, s.path), s.status))
            .collect()
    }
}

async fn handle(State(p): State<Arc<Inner>>, req: Request) -> Response {
    let n = p.next.fetch_add(1, Ordering::SeqCst);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let headers = req.headers().clone();
    let (resp, upstream) = match (p.rule)(n, &method, &path) {
        Action::Forward => {
            let resp = forward(&p, req).await;
            let status = resp.status().as_u16();
            (resp, Some(status))
        }
        Action::Answer(status) => (injected(status), None),
        Action::Lose(status) => {
            let lost = forward(&p, req).await.status().as_u16();
            (injected(status), Some(lost))
        }
    };
    let status = resp.status().as_u16();
    p.log.lock().expect("log").push(Seen {
        method,
        path,
        headers,
        status,
        upstream,
    });
    resp
}

/// A problem+json answer made up by the proxy.
fn injected(status: u16) -> Response {
    let status = StatusCode::from_u16(status).expect("status");
    let body = json!({"type": "about:blank", "title": "injected fault", "status": status.as_u16(),
                      "detail": "answered by the test proxy", "code": "INJECTED_FAULT"});
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

async fn forward(p: &Inner, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    let mut headers = parts.headers.clone();
    headers.remove(header::HOST);
    let answer = p
        .client
        .request(parts.method.clone(), format!("{}{path}", p.target))
        .headers(headers)
        .body(bytes)
        .send()
        .await
        .expect("the proxied service answers");
    let status = answer.status();
    let mut headers = answer.headers().clone();
    for hop in [header::CONNECTION, header::TRANSFER_ENCODING] {
        headers.remove(hop);
    }
    let bytes = answer.bytes().await.expect("the proxied body");
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}
