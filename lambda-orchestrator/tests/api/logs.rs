//! The orchestrator's own log lines, read from the real binary's stdout: every line of a request
//! (its retries, its compensation, its outcome) carries the correlation id its answer carries,
//! which is the body's `correlation_id` when there is one, whatever the header says.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use b2b_testkit::{Backend, JWT_SECRET, SERVICE_TOKEN, client};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{Answer, Apis, ORCHESTRATE, WIDGET, on_each_backend, operator_token, request};
use crate::proxy::{Action, Proxy};

/// The orchestrator binary, with the JSON lines it has written so far.
struct Running {
    _child: Child,
    base: String,
    lines: Arc<Mutex<Vec<Value>>>,
}

impl Running {
    async fn start(customers: &str, orders: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_lambda-orchestrator"))
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", port.to_string())
            .env("JWT_SECRET", JWT_SECRET)
            .env("SERVICE_TOKEN", SERVICE_TOKEN)
            .env("CUSTOMERS_API_BASE", customers)
            .env("ORDERS_API_BASE", orders)
            .env("UPSTREAM_BACKOFF_MS", "5")
            .env("UPSTREAM_MAX_BACKOFF_MS", "20")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the orchestrator");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let sink = lines.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = out.next_line().await {
                let v = serde_json::from_str(&line)
                    .unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
                sink.lock().expect("lines").push(v);
            }
        });
        let base = format!("http://127.0.0.1:{port}");
        let http = client();
        for _ in 0..200 {
            if http.get(format!("{base}/health")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Self {
            _child: child,
            base,
            lines,
        }
    }

    /// Sends one orchestration and returns its answer with the log lines written inside its
    /// request span (found by path, not by id), once its closing line is out.
    async fn call(&self, body: &Value, header: Option<&str>) -> (Answer, Vec<Value>) {
        self.call_with(body, header, &[]).await
    }

    /// [`Running::call`] with these headers too.
    async fn call_with(
        &self,
        body: &Value,
        header: Option<&str>,
        extra: &[(&str, &str)],
    ) -> (Answer, Vec<Value>) {
        let seen = self.lines.lock().expect("lines").len();
        let mut req = client()
            .request(Method::POST, format!("{}{ORCHESTRATE}", self.base))
            .bearer_auth(operator_token())
            .json(body);
        if let Some(h) = header {
            req = req.header("X-Correlation-Id", h);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let answer = Answer::from(req).await;
        for _ in 0..200 {
            let lines = self.lines.lock().expect("lines")[seen..].to_vec();
            let mine: Vec<Value> = lines.into_iter().filter(of_orchestration).collect();
            if mine.iter().any(|l| {
                matches!(
                    l["message"].as_str(),
                    Some("request served" | "request failed")
                )
            }) {
                return (answer, mine);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the request's closing log line never came");
    }
}

/// A line logged inside the request span of an orchestration.
fn of_orchestration(line: &Value) -> bool {
    line["spans"].as_array().is_some_and(|spans| {
        spans
            .iter()
            .any(|s| s["name"] == "request" && s["path"] == ORCHESTRATE)
    })
}

/// Every `correlation_id` anywhere in a line: the event's fields, the current span, the span list.
fn correlation_ids(v: &Value, found: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "correlation_id" {
                    found.push(v.as_str().unwrap_or("<not a string>").to_owned());
                }
                correlation_ids(v, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| correlation_ids(v, found)),
        _ => {}
    }
}

fn assert_every_line_carries(lines: &[Value], id: &str) {
    assert!(!lines.is_empty(), "no log line");
    for line in lines {
        let mut ids = Vec::new();
        correlation_ids(line, &mut ids);
        assert!(!ids.is_empty(), "no correlation id in {line}");
        assert!(
            ids.iter().all(|i| i == id),
            "{id} expected, got {ids:?} in {line}"
        );
    }
}

fn messages(lines: &[Value]) -> Vec<&str> {
    lines
        .iter()
        .map(|l| l["message"].as_str().unwrap_or_default())
        .collect()
}

async fn every_log_line_of_a_request_carries_the_answers_correlation_id(backend: Backend) {
    let apis = Apis::start(backend).await;
    let fail_confirms = Arc::new(AtomicBool::new(false));
    let failing = fail_confirms.clone();
    let proxy = Proxy::spawn(&apis.orders, move |n, method, path| {
        let first_create = n == 0 && method == Method::POST && path == "/orders";
        let confirm_or_cancel = path.ends_with("/confirm") || path.ends_with("/cancel");
        if first_create || (confirm_or_cancel && failing.load(Ordering::SeqCst)) {
            Action::Answer(503)
        } else {
            Action::Forward
        }
    })
    .await;
    let orch = Running::start(&apis.customers, &proxy.base).await;

    // The header says one thing, the body another: the body's id is the request's.
    let mut body = request(1, &[(WIDGET, 1)], "logs-1");
    body["correlation_id"] = json!("from-body-1");
    let (answer, lines) = orch.call(&body, Some("from-header-1")).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["correlationId"], "from-body-1");
    assert_eq!(answer.header("x-correlation-id"), Some("from-body-1"));
    assert!(
        messages(&lines).contains(&"retrying upstream call"),
        "{lines:?}"
    );
    assert_every_line_carries(&lines, "from-body-1");

    // No header (the middleware makes one up): the body's id again, through the retries of a
    // failing confirmation and of its compensation.
    fail_confirms.store(true, Ordering::SeqCst);
    let mut body = request(1, &[(WIDGET, 1)], "logs-2");
    body["correlation_id"] = json!("from-body-2");
    let (answer, lines) = orch.call(&body, None).await;
    assert_eq!(answer.body["success"], false, "{}", answer.body);
    assert_eq!(answer.body["correlationId"], "from-body-2");
    assert_eq!(answer.header("x-correlation-id"), Some("from-body-2"));
    let said = messages(&lines);
    assert!(said.contains(&"retrying upstream call"), "{said:?}");
    assert!(
        said.contains(&"compensation failed: order left as it is"),
        "{said:?}"
    );
    assert_every_line_carries(&lines, "from-body-2");
}

/// The request span's `(trace_id, span_id)` on every line (the same on all of them).
fn trace_of(lines: &[Value]) -> (String, String) {
    let ids: std::collections::BTreeSet<(String, String)> = lines
        .iter()
        .map(|line| {
            let span = line["spans"]
                .as_array()
                .and_then(|s| s.iter().find(|s| s["name"] == "request"))
                .unwrap_or_else(|| panic!("no request span in {line}"));
            let id = |k: &str| {
                span[k]
                    .as_str()
                    .unwrap_or_else(|| panic!("no {k} in {line}"))
                    .to_owned()
            };
            (id("trace_id"), id("span_id"))
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids.into_iter().next().expect("one")
}

async fn log_lines_carry_the_callers_trace_and_upstream_calls_pass_it_on(backend: Backend) {
    let apis = Apis::start(backend).await;
    let proxy = Proxy::spawn(&apis.orders, |_, _, _| Action::Forward).await;
    let orch = Running::start(&apis.customers, &proxy.base).await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace}-00f067aa0ba902b7-01");
    let headers = [
        ("traceparent", traceparent.as_str()),
        ("tracestate", "vendor=opaque"),
    ];
    let body = request(1, &[(WIDGET, 1)], "traced-1");
    let (answer, lines) = orch.call_with(&body, None, &headers).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let (trace_id, span_id) = trace_of(&lines);
    assert_eq!(trace_id, trace);
    assert_eq!(span_id.len(), 16);
    assert_ne!(
        span_id, "00f067aa0ba902b7",
        "the orchestrator's span is its own"
    );
    // orders-api was called in the same trace, as a child of the orchestrator's span, with the
    // caller's tracestate.
    let seen = proxy.log();
    assert!(!seen.is_empty());
    for call in seen {
        let header = |k: &str| call.headers.get(k).and_then(|v| v.to_str().ok());
        assert_eq!(
            header("traceparent"),
            Some(format!("00-{trace}-{span_id}-01").as_str()),
            "{} {}",
            call.method,
            call.path
        );
        assert_eq!(header("tracestate"), Some("vendor=opaque"));
    }

    // None, or a malformed one: a new trace of its own, whose id the log lines carry.
    for headers in [
        &[][..],
        &[
            ("traceparent", "00-not-a-trace-01"),
            ("tracestate", "vendor=dropped"),
        ][..],
    ] {
        let key = format!("traced-{}", headers.len() + 2);
        let (answer, lines) = orch
            .call_with(&request(1, &[(WIDGET, 1)], &key), None, headers)
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        let (trace_id, _) = trace_of(&lines);
        assert_eq!(trace_id.len(), 32);
        assert_ne!(trace_id, trace);
        assert_ne!(trace_id, "0".repeat(32));
        let last = proxy.log().pop().expect("a call");
        let passed = last
            .headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok());
        assert!(passed.is_some_and(|p| p.contains(&trace_id)), "{passed:?}");
        assert!(last.headers.get("tracestate").is_none());
    }
}

on_each_backend!(
    every_log_line_of_a_request_carries_the_answers_correlation_id,
    log_lines_carry_the_callers_trace_and_upstream_calls_pass_it_on,
);
