//! Running the binaries: start-up with one bad setting, a command line, `--help` offline.

use std::time::Duration;

use crate::{JWT_SECRET, SERVICE_TOKEN};
use b2b_platform::config::names;

/// Runs `bin` (a path from `env!("CARGO_BIN_EXE_…")`) in an empty directory with a clean
/// environment — valid secrets, a fresh SQLite file, a free port — plus `env`, and waits for it
/// to stop (at most 20 s: a binary that accepts the setting is killed, with `code` `None`).
pub fn start_up(bin: &str, env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
        .to_string();
    let url = format!("sqlite://{}/b2b.db", dir.path().display());
    let mut all = vec![
        (names::JWT_SECRET, JWT_SECRET),
        (names::SERVICE_TOKEN, SERVICE_TOKEN),
        (names::DATABASE_URL, url.as_str()),
        (names::PORT, port.as_str()),
        (names::LOG_FORMAT, "json"),
    ];
    all.extend_from_slice(env);
    run_for(bin, dir.path(), &[], &all, "", Duration::from_secs(20))
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
    let lines = out.error_lines();
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
    pub took: Duration,
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
    run_for(bin, dir, args, env, stdin, Duration::from_secs(60))
}

fn run_for(
    bin: &str,
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
    limit: Duration,
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
    let deadline = started + limit;
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
            out.took < Duration::from_secs(10),
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
