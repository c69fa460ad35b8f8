//! The all-in-one `b2b-orders` binary's command line: `--help` and `--version` print and exit
//! 0 without serving or creating its database; started without secrets it says once, not once
//! per part, that it uses the development values.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_b2b-orders");

#[test]
fn help_and_version_exit_0_without_serving_or_touching_a_database() {
    b2b_testkit::assert_help_is_offline(
        BIN,
        &[&["--help"], &["--version"], &["help"], &["serve", "--help"]],
    );
}

#[test]
fn help_lists_every_parts_settings_once_with_the_development_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let out = b2b_testkit::run_cli(BIN, dir.path(), &["--help"], &[], "");
    for expected in [
        "CUSTOMERS_PORT=3001",
        "ORCHESTRATOR_PORT=3000",
        "JWT_SECRET=dev-only-jwt-secret",
        "JWT_EXPIRES_IN=1h",
        "IDEMPOTENCY_KEY_EXPIRATION_HOURS=24",
        "UPSTREAM_MAX_ATTEMPTS=4",
    ] {
        assert!(out.stdout.contains(expected), "{expected:?} in {out:?}");
    }
    assert_eq!(out.stdout.matches("DATABASE_URL=").count(), 1, "{out:?}");
    assert!(!out.stdout.contains("\n  PORT="), "{out:?}");
}

fn free_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("address").port().to_string()
}

#[test]
fn the_development_secrets_warning_is_logged_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LOG_FORMAT", "json")
        .env("CUSTOMERS_PORT", free_port())
        .env("ORDERS_PORT", free_port())
        .env("ORCHESTRATOR_PORT", free_port())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let running = line.contains("B2B Orders is running");
        lines.push(line);
        if running || Instant::now() > deadline {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines.iter().any(|l| l.contains("B2B Orders is running")),
        "{lines:#?}"
    );
    let warnings: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("development value"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains("JWT_SECRET and SERVICE_TOKEN"),
        "{warnings:#?}"
    );
}
