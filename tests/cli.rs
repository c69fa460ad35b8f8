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

/// Starts the system on free ports in an empty folder with `env`, and reads its standard output
/// until the banner (or 60 s); the caller kills it, then drops the folder.
struct Started {
    child: std::process::Child,
    lines: Vec<String>,
    ports: [u16; 3],
    _dir: tempfile::TempDir,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(env: &[(&str, &str)]) -> Started {
    start_in(tempfile::tempdir().unwrap(), "", env)
}

/// [`start`] in the folder `sub` of `dir`.
fn start_in(dir: tempfile::TempDir, sub: &str, env: &[(&str, &str)]) -> Started {
    let ports = [free_port(), free_port(), free_port()];
    let mut child = std::process::Command::new(BIN)
        .current_dir(dir.path().join(sub))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LOG_FORMAT", "json")
        .env("CUSTOMERS_PORT", &ports[0])
        .env("ORDERS_PORT", &ports[1])
        .env("ORCHESTRATOR_PORT", &ports[2])
        .envs(env.iter().copied())
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
    let started = Started {
        child,
        lines,
        ports: ports.map(|p| p.parse().unwrap()),
        _dir: dir,
    };
    assert!(
        started
            .lines
            .iter()
            .any(|l| l.contains("B2B Orders is running")),
        "{:#?}",
        started.lines
    );
    started
}

#[test]
fn the_development_secrets_warning_is_logged_once() {
    let lines = std::mem::take(&mut start(&[]).lines);
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

/// Whether something accepts connections on `ip:port`.
fn reachable(ip: [u8; 4], port: u16) -> bool {
    let addr = std::net::SocketAddr::from((ip, port));
    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

#[test]
fn the_system_listens_on_loopback_only_unless_bind_address_says_otherwise() {
    // 127.0.0.2 is another address of this machine (all of 127/8 is loopback on Linux): a socket
    // bound to 127.0.0.1 does not answer there, one bound to every interface does, as it would
    // on the machine's network addresses.
    let system = start(&[]);
    let answered: Vec<_> = system
        .ports
        .iter()
        .map(|&p| (reachable([127, 0, 0, 1], p), reachable([127, 0, 0, 2], p)))
        .collect();
    drop(system);
    assert_eq!(
        answered,
        vec![(true, false); 3],
        "(127.0.0.1, 127.0.0.2) per port"
    );

    let system = start(&[("BIND_ADDRESS", "0.0.0.0")]);
    let answered: Vec<_> = system
        .ports
        .iter()
        .map(|&p| reachable([127, 0, 0, 2], p))
        .collect();
    drop(system);
    assert_eq!(
        answered,
        vec![true; 3],
        "127.0.0.2 per port with BIND_ADDRESS=0.0.0.0"
    );
}

#[test]
fn a_dot_env_above_the_working_folder_is_read_and_its_sqlite_path_is_taken_from_its_folder() {
    // As when a part is started from its own folder of the repository, with `.env` at the root.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=sqlite://data/from-dot-env.db\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("orders-api")).unwrap();
    let system = start_in(dir, "orders-api", &[]);
    let root = system._dir.path();
    assert!(
        root.join("data/from-dot-env.db").is_file(),
        "{:#?}",
        system.lines
    );
    assert!(!root.join("orders-api/data").exists());
}
