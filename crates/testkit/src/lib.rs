//! Test support shared by the services' test suites: a fresh database per test (a temporary
//! SQLite file always; a new MariaDB/MySQL database when `TEST_MYSQL_URL` is set), servers bound
//! to port 0, the secrets the tests sign with, and a reader of `/metrics`.

pub mod exposition;

use std::net::SocketAddr;

use b2b_platform::Db;
use b2b_platform::config::names;
use b2b_platform::db::DbOptions;
use sqlx::Connection;

pub const JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef-0123456789";
pub const SERVICE_TOKEN: &str = "test-service-token-0123456789abcdef-0123";

/// The backends a storage story runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MySql,
}

/// A migrated database that belongs to one test.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
}

/// The server URL for MariaDB tests, or `None` when not configured. With
/// `REQUIRE_MYSQL_TESTS=1` (as CI sets) a missing URL fails the test instead of skipping it.
pub fn mysql_url() -> Option<String> {
    let url = std::env::var(names::TEST_MYSQL_URL)
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var(names::REQUIRE_MYSQL_TESTS).is_ok_and(|v| v == "1") {
        panic!("REQUIRE_MYSQL_TESTS=1 but TEST_MYSQL_URL is not set");
    }
    url
}

/// Every backend available to this run: SQLite always, MySQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Sqlite];
    if mysql_url().is_some() {
        b.push(Backend::MySql);
    }
    b
}

fn options() -> DbOptions {
    DbOptions {
        max_connections: 12,
        ..DbOptions::default()
    }
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::MySql => Self::mysql().await.expect("TEST_MYSQL_URL is not set"),
        }
    }

    /// A migrated SQLite database in a temporary directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/test.db", dir.path().display());
        let db = Db::connect(&url, &options()).await.expect("open sqlite");
        db.migrate().await.expect("migrate sqlite");
        Self {
            db,
            url,
            backend: Backend::Sqlite,
            _dir: Some(dir),
        }
    }

    /// A new, migrated database on the server at `TEST_MYSQL_URL`, or `None` when unset.
    pub async fn mysql() -> Option<Self> {
        let admin = mysql_url()?;
        let name = format!("b2b_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::MySqlConnection::connect(&admin)
            .await
            .expect("connect to TEST_MYSQL_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        // The server part of the URL: its database (if any) and parameters give way to ours.
        let after_scheme = admin.find("://").map_or(0, |i| i + 3);
        let end = admin[after_scheme..]
            .find(['/', '?'])
            .map_or(admin.len(), |i| after_scheme + i);
        let url = format!("{}/{name}", &admin[..end]);
        let db = Db::connect(&url, &options())
            .await
            .expect("connect to the test database");
        db.migrate().await.expect("migrate mysql");
        Some(Self {
            db,
            url,
            backend: Backend::MySql,
            _dir: None,
        })
    }

    /// Loads the demo seed (one operator, five customers, ten products).
    pub async fn seeded(self) -> Self {
        self.db.seed_if_empty().await.expect("seed");
        self
    }
}

/// Serves `app` on 127.0.0.1 at a free port; returns its base URL (`http://127.0.0.1:PORT`).
pub async fn spawn(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    format!("http://{addr}")
}

/// A client with a short time-out, so a hung server fails the test instead of stalling it.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Runs each story `async fn story(backend: Backend)` as the tests `story::sqlite` and
/// `story::mysql`; the second returns early when `TEST_MYSQL_URL` is not set (and fails when
/// `REQUIRE_MYSQL_TESTS=1`, as in CI).
#[macro_export]
macro_rules! on_each_backend {
    ($($story:ident),+ $(,)?) => {$(
        mod $story {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$story($crate::Backend::Sqlite).await;
            }

            // `cfg(mysql_tests)` comes from the calling package's build script.
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            #[cfg_attr(not(mysql_tests), ignore = "TEST_MYSQL_URL was not set when the tests were built")]
            async fn mysql() {
                super::$story($crate::Backend::MySql).await;
            }
        }
    )+};
}

/// Asserts a problem+json answer (RFC 9457) with `status` and `code`; returns its body.
pub async fn problem(resp: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(resp.status(), status, "status of {}", resp.url());
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: serde_json::Value = resp.json().await.expect("problem body");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    for key in ["type", "title", "detail"] {
        assert!(
            body[key].as_str().is_some_and(|s| !s.is_empty()),
            "{key} missing in {body}"
        );
    }
    body
}

/// The `field`s of a problem's `errors`, in order.
pub fn error_fields(problem: &serde_json::Value) -> Vec<String> {
    let errors = problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {problem}"));
    errors
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect()
}

/// The ids of a list page's rows.
pub fn ids(page: &serde_json::Value) -> Vec<i64> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}

/// How a binary ended when started with one bad setting.
#[derive(Debug)]
pub struct StartUp {
    /// `None` when it had to be killed (it started anyway) or died of a signal.
    pub code: Option<i32>,
    pub stderr: String,
}

/// Runs `bin` (a path from `env!("CARGO_BIN_EXE_…")`) in an empty directory with a clean
/// environment — valid secrets, a fresh SQLite file, a free port — plus `env`, and waits for it
/// to stop (at most 20 s: a binary that accepts the setting is killed, with `code` `None`).
pub fn start_up(bin: &str, env: &[(&str, &str)]) -> StartUp {
    use std::io::Read;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = std::process::Command::new(bin)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(names::JWT_SECRET, JWT_SECRET)
        .env(names::SERVICE_TOKEN, SERVICE_TOKEN)
        .env(
            names::DATABASE_URL,
            format!("sqlite://{}/b2b.db", dir.path().display()),
        )
        .env(names::PORT, port.to_string())
        .env(names::LOG_FORMAT, "json")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the binary");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    StartUp {
        code: status.and_then(|s| s.code()),
        stderr,
    }
}

/// Asserts that `bin` refuses to start with `name=value`: exit code 1 and one line on stderr
/// naming the variable and containing `allowed` (its range), and no panic.
pub fn assert_refused(bin: &str, name: &str, value: &str, allowed: &str) {
    assert_refused_with(bin, &[], name, value, allowed);
}

/// [`assert_refused`] with other settings as well (say, free ports for every part).
pub fn assert_refused_with(
    bin: &str,
    env: &[(&str, &str)],
    name: &str,
    value: &str,
    allowed: &str,
) {
    let mut env = env.to_vec();
    env.push((name, value));
    let out = start_up(bin, &env);
    let what = format!("{name}={value}: {out:?}");
    assert_eq!(out.code, Some(1), "{what}");
    assert!(!out.stderr.contains("panicked"), "{what}");
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "{what}");
    assert!(lines[0].contains(name), "{what}");
    assert!(lines[0].contains(allowed), "{what}");
}

/// How one run of a binary's command line ended.
#[derive(Debug)]
pub struct Run {
    /// `None` when it had to be killed (it ran past its time) or died of a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: std::time::Duration,
}

impl Run {
    /// The non-blank lines of standard error.
    pub fn error_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }
}

/// Runs `bin args` in `dir` with a clean environment plus `env`, `stdin` as its standard input
/// (closed after), and waits for it (at most 60 s, then it is killed).
pub fn run_cli(
    bin: &str,
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> Run {
    use std::io::{Read, Write};
    use std::process::Stdio;
    let started = std::time::Instant::now();
    let mut child = std::process::Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let mut input = child.stdin.take().expect("stdin");
    // A binary that exits without reading its input closes the pipe: not this helper's failure.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut out = String::new();
            let _ = pipe.read_to_string(&mut out);
            out
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("stderr")));
    let deadline = started + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    Run {
        code: status.and_then(|s| s.code()),
        took: started.elapsed(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// Asserts that `bin` with each of `runs` (say `["--help"]`, `["serve", "--help"]`) prints
/// usage (or, for `--version`, its version) and exits 0 at once, without serving or touching a
/// database: every port setting names a port this test holds open, valid secrets are set, and
/// `DATABASE_URL` names a SQLite file in an empty directory that must stay empty.
pub fn assert_help_is_offline(bin: &str, runs: &[&[&str]]) {
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("a port to hold");
    let port = held.local_addr().expect("address").port().to_string();
    for args in runs {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/b2b.db", dir.path().display());
        let env = [
            (names::PORT, port.as_str()),
            (names::CUSTOMERS_PORT, port.as_str()),
            (names::ORDERS_PORT, port.as_str()),
            (names::ORCHESTRATOR_PORT, port.as_str()),
            (names::DATABASE_URL, url.as_str()),
            (names::JWT_SECRET, JWT_SECRET),
            (names::SERVICE_TOKEN, SERVICE_TOKEN),
        ];
        let out = run_cli(bin, dir.path(), args, &env, "");
        let what = format!("{bin} {args:?}: {out:?}");
        assert_eq!(out.code, Some(0), "{what}");
        assert!(
            out.took < std::time::Duration::from_secs(10),
            "{what}: took {:?}",
            out.took
        );
        if args.contains(&"--version") {
            assert!(
                out.stdout.contains(env!("CARGO_PKG_VERSION")),
                "{what}: no version"
            );
        } else {
            assert!(out.stdout.contains("Usage:"), "{what}: no usage");
        }
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("read the directory")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert!(left.is_empty(), "{what}: it wrote {left:?}");
    }
    drop(held);
}
