//! The Lambda bootstrap: the release binary's size, and its cold start (process start to the
//! first successful answer), timed two ways: in local mode by polling `/health` in a tight loop,
//! and in Lambda mode against a local Runtime API that hands the function one `GET /health`
//! event and records when the answer comes back.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tokio::sync::Notify;

use crate::services::free_port;

/// The binary's size, and whether it is stripped (no `.symtab` section name left in it).
pub fn binary(path: &Path) -> anyhow::Result<(u64, bool)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let stripped = !bytes.windows(8).any(|w| w == b".symtab\0");
    Ok((bytes.len() as u64, stripped))
}

/// One `GET /health` over a fresh connection: whether it answered 200.
fn health_ok(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.set_nodelay(true);
    if s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && &buf[9..12] == b"200"
}

/// Starts `bin` in local mode `runs` times; each time, the time from spawning the process to its
/// first 200 on `/health` (polled every 100 µs), in milliseconds.
pub fn cold_starts(
    bin: &Path,
    env: &[(String, String)],
    dir: &Path,
    runs: usize,
) -> anyhow::Result<Vec<f64>> {
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let port = free_port()?;
        let started = Instant::now();
        let mut child = Command::new(bin)
            .current_dir(dir)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let result = loop {
            if health_ok(port) {
                break Ok(started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(10) {
                break Err(anyhow::anyhow!("no 200 from /health within 10 s"));
            }
            if let Ok(Some(status)) = child.try_wait() {
                break Err(anyhow::anyhow!("exited at start: {status}"));
            }
            std::thread::sleep(Duration::from_micros(100));
        };
        let _ = child.kill();
        let _ = child.wait();
        match result {
            Ok(d) => out.push(d.as_secs_f64() * 1000.0),
            Err(e) => bail!("lambda-orchestrator cold start: {e}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(out)
}

/// An API Gateway HTTP API (v2) event for `GET /health`.
const HEALTH_EVENT: &str = r#"{"version":"2.0","routeKey":"GET /health","rawPath":"/health","rawQueryString":"","headers":{"host":"bench.local","user-agent":"b2b-bench"},"requestContext":{"accountId":"000000000000","apiId":"bench","domainName":"bench.local","domainPrefix":"bench","http":{"method":"GET","path":"/health","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"b2b-bench"},"requestId":"bench-1","routeKey":"GET /health","stage":"$default","time":"01/Jan/2026:00:00:00 +0000","timeEpoch":1767225600000},"isBase64Encoded":false}"#;

/// What the function answered first: when, and its body.
type Answer = Arc<Mutex<Option<(tokio::time::Instant, String)>>>;

/// A Lambda Runtime API that hands out one `GET /health` event, records the function's answer,
/// and then keeps the function waiting for the next event.
fn runtime_api(answer: Answer, done: Arc<Notify>) -> Router {
    let record = move |body: String| {
        let answer = answer.clone();
        let done = done.clone();
        async move {
            answer
                .lock()
                .expect("answer lock")
                .get_or_insert((tokio::time::Instant::now(), body));
            done.notify_one();
            StatusCode::ACCEPTED
        }
    };
    let served = Arc::new(AtomicBool::new(false));
    Router::new()
        .route(
            "/2018-06-01/runtime/invocation/next",
            get(move || {
                let served = served.clone();
                async move {
                    if served.swap(true, Ordering::SeqCst) {
                        std::future::pending::<()>().await;
                    }
                    let deadline = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() + 30_000)
                        .unwrap_or_default();
                    (
                        [
                            ("lambda-runtime-aws-request-id", "bench-1".to_owned()),
                            ("lambda-runtime-deadline-ms", deadline.to_string()),
                            (
                                "lambda-runtime-invoked-function-arn",
                                "arn:aws:lambda:us-east-1:000000000000:function:lambda-orchestrator".to_owned(),
                            ),
                            ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned()),
                            ("content-type", "application/json".to_owned()),
                        ],
                        HEALTH_EVENT,
                    )
                }
            }),
        )
        .route("/2018-06-01/runtime/invocation/{id}/response", post(record.clone()))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(record.clone()))
        .route("/2018-06-01/runtime/init/error", post(record))
}

/// Starts `bin` as a Lambda function against a local Runtime API `runs` times; each time, the
/// time from spawning the process to its answer to the first event (a `GET /health`), in ms.
/// Starts `bin` as Lambda starts a bootstrap: its environment, plus the Runtime API at
/// `runtime_api` and the function's name, memory and version.
pub fn start_in_lambda_mode(
    bin: &Path,
    env: &[(&str, String)],
    dir: &Path,
    runtime_api: &str,
    name: &str,
) -> anyhow::Result<tokio::process::Child> {
    tokio::process::Command::new(bin)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))
}

pub async fn lambda_cold_starts(
    bin: &Path,
    env: &[(&str, String)],
    dir: &Path,
    runs: usize,
) -> anyhow::Result<Vec<f64>> {
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let answer: Answer = Arc::default();
        let done = Arc::new(Notify::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(
            axum::serve(listener, runtime_api(answer.clone(), done.clone())).into_future(),
        );
        let started = tokio::time::Instant::now();
        let mut child =
            start_in_lambda_mode(bin, env, dir, &addr.to_string(), "lambda-orchestrator")?;
        let waited = tokio::time::timeout(Duration::from_secs(10), done.notified()).await;
        let _ = child.kill().await;
        server.abort();
        anyhow::ensure!(
            waited.is_ok(),
            "the function did not answer its first event in 10 s"
        );
        let (at, body) = answer
            .lock()
            .expect("answer lock")
            .take()
            .context("no answer recorded")?;
        anyhow::ensure!(
            body.contains("\"statusCode\":200"),
            "the first event was not answered with 200: {body}"
        );
        out.push((at - started).as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(out)
}
