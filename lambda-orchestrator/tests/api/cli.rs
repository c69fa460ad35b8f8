//! The real `lambda-orchestrator` binary's command line: `--help` and `--version` print and
//! exit 0 without serving; inside Lambda (`AWS_LAMBDA_RUNTIME_API` set), started with no
//! arguments as Lambda starts it, it serves Lambda events.

use std::io::{BufRead, BufReader};
use std::time::Duration;

use b2b_testkit::{JWT_SECRET, SERVICE_TOKEN};

const BIN: &str = env!("CARGO_BIN_EXE_lambda-orchestrator");

#[test]
fn help_and_version_exit_0_without_serving() {
    b2b_testkit::assert_help_is_offline(
        BIN,
        &[
            &["--help"],
            &["--version"],
            &["help"],
            &["serve", "--help"],
            &["healthcheck", "--help"],
        ],
    );
}

#[test]
fn serves_help_lists_its_settings_with_defaults_and_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let out = b2b_testkit::run_cli(BIN, dir.path(), &["serve", "--help"], &[], "");
    for expected in [
        "PORT=3000",
        "UPSTREAM_MAX_ATTEMPTS=4",
        "from 1 to 10",
        "ORCHESTRATION_DEADLINE_MS=25000",
        "from 1000 to 900000",
        "AWS_LAMBDA_RUNTIME_API",
    ] {
        assert!(out.stdout.contains(expected), "{expected:?} in {out:?}");
    }
}

/// A stand-in for the Lambda runtime API: the binary's first request must be the one a Lambda
/// runtime makes for its next event.
#[test]
fn inside_lambda_with_no_arguments_it_asks_the_runtime_for_events() {
    let runtime = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = runtime.local_addr().unwrap().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if let Ok((conn, _)) = runtime.accept() {
            let mut line = String::new();
            let _ = BufReader::new(&conn).read_line(&mut line);
            let _ = tx.send(line);
        }
    });
    let mut child = std::process::Command::new(BIN)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", "b2b-orders-orchestrator")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("JWT_SECRET", JWT_SECRET)
        .env("SERVICE_TOKEN", SERVICE_TOKEN)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first = rx.recv_timeout(Duration::from_secs(20));
    let _ = child.kill();
    let _ = child.wait();
    let first = first.expect("no request reached the runtime API");
    assert!(
        first.starts_with("GET /2018-06-01/runtime/invocation/next "),
        "{first:?}"
    );
}
