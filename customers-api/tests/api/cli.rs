//! The real `customers-api` binary's command line: `--help` without side effects, and operators
//! made and managed with `customers-api operators …` on a database that never saw the demo seed
//! (on MariaDB one made from `db/schema.sql` alone, as docker compose makes it; on SQLite a file
//! that does not exist yet), then logging in through the API.

use b2b_platform::Db;
use b2b_testkit::{
    Backend, JWT_SECRET, Run, SERVICE_TOKEN, ServerDb, client, on_each_backend, spawn,
};
use customers_api::{AppState, Config, app};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_customers-api");
const PASSWORD: &str = "correct horse battery";

/// A deployment as an operator of the system finds it: a database, no operator, no seed.
struct Deployment {
    dir: tempfile::TempDir,
    url: String,
    _server: Option<ServerDb>,
}

impl Deployment {
    async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, _server) = match backend {
            Backend::Sqlite => (format!("sqlite://{}/fresh.db", dir.path().display()), None),
            Backend::MySql => {
                let server = from_schema_sql().await;
                (server.url.clone(), Some(server))
            }
        };
        Self { dir, url, _server }
    }

    /// `customers-api ARGS` with `stdin` as its standard input (a pipe, never a terminal).
    fn cli(&self, args: &[&str], stdin: &str) -> Run {
        let env = [("DATABASE_URL", self.url.as_str()), ("LOG_FORMAT", "json")];
        b2b_testkit::run_cli(BIN, self.dir.path(), args, &env, stdin)
    }

    /// Runs a command that must succeed; returns its standard output.
    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.cli(args, stdin);
        assert_eq!(out.code, Some(0), "{args:?}: {out:?}");
        out.stdout
    }

    /// Runs a command that must fail with exit code 1 and one line on stderr; returns the line.
    fn refused(&self, args: &[&str], stdin: &str) -> String {
        let out = self.cli(args, stdin);
        assert_eq!(out.code, Some(1), "{args:?}: {out:?}");
        let lines = out.error_lines();
        assert_eq!(lines.len(), 1, "{args:?}: {out:?}");
        assert!(lines[0].starts_with("customers-api: "), "{out:?}");
        lines[0].to_owned()
    }

    fn add(&self, email: &str, password: &str) {
        self.ok(
            &["operators", "add", email, "--password-stdin"],
            &format!("{password}\n"),
        );
    }

    /// The service over this database.
    async fn serve(&self) -> Service {
        let db = Db::connect(&self.url, &Default::default())
            .await
            .expect("connect");
        let config = Config {
            port: 0,
            database_url: self.url.clone(),
            jwt_secret: JWT_SECRET.into(),
            service_token: SERVICE_TOKEN.into(),
            jwt_ttl_secs: 3600,
            login: customers_api::LoginSettings::default(),
            metrics_token: None,
        };
        let state = AppState::new(db, &config).expect("state");
        Service {
            base: spawn(app(state)).await,
            client: client(),
        }
    }
}

struct Service {
    base: String,
    client: reqwest::Client,
}

impl Service {
    /// `POST /auth/token`: the status and the body.
    async fn login(&self, email: &str, password: &str) -> (u16, Value) {
        let resp = self
            .client
            .post(format!("{}/auth/token", self.base))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("log in");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("body"))
    }

    async fn status(&self, email: &str, password: &str) -> u16 {
        self.login(email, password).await.0
    }

    /// The token it issues works on an operator route.
    async fn token_works(&self, email: &str, password: &str) {
        let (status, body) = self.login(email, password).await;
        assert_eq!(status, 200, "{body}");
        let token = body["access_token"].as_str().expect("access_token");
        let resp = self
            .client
            .get(format!("{}/customers", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /customers");
        assert_eq!(resp.status(), 200);
    }
}

/// A new MariaDB/MySQL database holding what `db/schema.sql` makes, and nothing else: no
/// migration history, no seed.
async fn from_schema_sql() -> ServerDb {
    use sqlx::Connection;
    let server = ServerDb::new().await;
    let mut conn = sqlx::MySqlConnection::connect(&server.url)
        .await
        .expect("connect");
    let schema = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../db/schema.sql"))
        .expect("db/schema.sql");
    sqlx::raw_sql(&schema)
        .execute(&mut conn)
        .await
        .expect("load db/schema.sql");
    server
}

on_each_backend!(
    an_operator_added_from_the_command_line_logs_in,
    a_disabled_operator_is_refused_like_a_wrong_password_until_enabled,
    passwd_replaces_the_password,
    mistakes_are_one_line_and_exit_1_and_change_nothing,
    list_shows_every_operator_and_no_hash,
);

async fn an_operator_added_from_the_command_line_logs_in(backend: Backend) {
    let d = Deployment::new(backend).await;
    // One line is read: its newline goes, the inner spaces stay, what follows is not read.
    let out = d.ok(
        &["operators", "add", "ops@example.com", "--password-stdin"],
        &format!("{PASSWORD}\nnot read\n"),
    );
    assert!(out.contains("ops@example.com"), "{out}");
    if backend == Backend::Sqlite {
        assert!(d.dir.path().join("fresh.db").exists());
    }
    let api = d.serve().await;
    api.token_works("ops@example.com", PASSWORD).await;
    api.token_works("OPS@Example.com", PASSWORD).await;
    assert_eq!(api.status("ops@example.com", "correct horse").await, 401);
    assert_eq!(api.status("ops@example.com", "not read").await, 401);
    assert_eq!(
        api.status("admin@b2b.local", "admin123").await,
        401,
        "no demo operator"
    );
}

async fn a_disabled_operator_is_refused_like_a_wrong_password_until_enabled(backend: Backend) {
    let d = Deployment::new(backend).await;
    d.add("ops@example.com", PASSWORD);
    let api = d.serve().await;
    assert_eq!(api.status("ops@example.com", PASSWORD).await, 200);

    d.ok(&["operators", "disable", "OPS@example.com"], "");
    let (status, disabled) = api.login("ops@example.com", PASSWORD).await;
    let (_, wrong) = api.login("ops@example.com", "wrong password!").await;
    assert_eq!(status, 401);
    assert_eq!(disabled, wrong, "nothing tells a disabled operator apart");
    d.ok(&["operators", "disable", "ops@example.com"], "");
    assert_eq!(api.status("ops@example.com", PASSWORD).await, 401);

    d.ok(&["operators", "enable", "ops@example.com"], "");
    api.token_works("ops@example.com", PASSWORD).await;
}

async fn passwd_replaces_the_password(backend: Backend) {
    let d = Deployment::new(backend).await;
    d.add("ops@example.com", PASSWORD);
    let new = "another long pass phrase";
    d.ok(
        &["operators", "passwd", "Ops@Example.com", "--password-stdin"],
        &format!("{new}\n"),
    );
    let api = d.serve().await;
    assert_eq!(api.status("ops@example.com", PASSWORD).await, 401);
    api.token_works("ops@example.com", new).await;
}

async fn mistakes_are_one_line_and_exit_1_and_change_nothing(backend: Backend) {
    let d = Deployment::new(backend).await;
    d.add("ops@example.com", PASSWORD);
    let add = |email: &'static str| ["operators", "add", email, "--password-stdin"];
    let line = |p: &str| format!("{p}\n");

    let msg = d.refused(&add("OPS@example.com"), &line("yet another password"));
    assert!(msg.contains("exists already"), "{msg}");
    for cmd in ["passwd", "disable", "enable"] {
        let mut args = vec!["operators", cmd, "nobody@example.com"];
        if cmd == "passwd" {
            args.push("--password-stdin");
        }
        let msg = d.refused(&args, &line(PASSWORD));
        assert!(
            msg.contains("no operator has the e-mail nobody@example.com"),
            "{msg}"
        );
    }
    // Characters, not bytes: eleven `é` are 22 bytes and still too short.
    for weak in ["", "short", "ééééééééééé"] {
        let msg = d.refused(&add("new@example.com"), &line(weak));
        assert!(msg.contains("too short"), "{weak:?}: {msg}");
    }
    let msg = d.refused(&add("not-an-e-mail"), &line(PASSWORD));
    assert!(msg.contains("valid e-mail"), "{msg}");
    let msg = d.refused(&["operators", "add", "new@example.com"], &line(PASSWORD));
    assert!(msg.contains("--password-stdin"), "{msg}");
    let msg = d.refused(
        &["operators", "passwd", "ops@example.com", "--password-stdin"],
        &line("too short"),
    );
    assert!(msg.contains("at least 12"), "{msg}");

    let list = d.ok(&["operators", "list"], "");
    assert!(!list.contains("new@example.com"), "{list}");
    let api = d.serve().await;
    assert_eq!(api.status("ops@example.com", PASSWORD).await, 200);
    // Twelve `é` are enough.
    d.add("new@example.com", "éééééééééééé");
    assert_eq!(api.status("new@example.com", "éééééééééééé").await, 200);
}

async fn list_shows_every_operator_and_no_hash(backend: Backend) {
    let d = Deployment::new(backend).await;
    d.add("ops@example.com", PASSWORD);
    d.add("night-shift@example.com", PASSWORD);
    d.ok(&["operators", "disable", "night-shift@example.com"], "");
    let list = d.ok(&["operators", "list"], "");
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(
        lines[0].starts_with("email")
            && lines[0].contains("created")
            && lines[0].contains("disabled"),
        "{list}"
    );
    assert!(
        lines[1].starts_with("ops@example.com") && lines[1].ends_with(" no"),
        "{list}"
    );
    assert!(lines[2].starts_with("night-shift@example.com"), "{list}");
    assert!(
        !lines[2].ends_with(" no"),
        "a disabled operator shows since when: {list}"
    );
    assert!(!list.contains("argon2") && !list.contains('$'), "{list}");
}

#[test]
fn the_command_line_is_well_formed() {
    use clap::CommandFactory;
    customers_api::cli::Cli::command().debug_assert();
}

#[test]
fn help_and_version_exit_0_without_serving_or_touching_a_database() {
    b2b_testkit::assert_help_is_offline(
        BIN,
        &[
            &["--help"],
            &["--version"],
            &["help"],
            &["serve", "--help"],
            &["migrate", "--help"],
            &["seed", "--help"],
            &["healthcheck", "--help"],
            &["operators", "--help"],
            &["operators", "add", "--help"],
            &["operators", "passwd", "--help"],
            &["operators", "disable", "--help"],
            &["operators", "enable", "--help"],
            &["operators", "list", "--help"],
        ],
    );
}

#[test]
fn each_commands_help_lists_its_settings_with_defaults_and_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| b2b_testkit::run_cli(BIN, dir.path(), args, &[], "").stdout;
    let serve = help(&["serve", "--help"]);
    for expected in [
        "PORT=3001",
        "DATABASE_URL=sqlite://data/b2b-orders.db",
        "JWT_SECRET (required)",
        "JWT_EXPIRES_IN=1h",
        "from 1m to 30d",
        "LOGIN_ATTEMPTS_PER_MINUTE=10",
        "from 1 to 10000",
    ] {
        assert!(serve.contains(expected), "{expected:?} in {serve}");
    }
    let add = help(&["operators", "add", "--help"]);
    assert!(
        add.contains("DATABASE_URL=") && !add.contains("JWT_SECRET"),
        "{add}"
    );
    let health = help(&["healthcheck", "--help"]);
    assert!(
        health.contains("PORT=3001") && !health.contains("DATABASE_URL"),
        "{health}"
    );
}

#[test]
fn an_unknown_command_still_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = b2b_testkit::run_cli(BIN, dir.path(), &["bogus"], &[], "");
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("bogus"), "{out:?}");
}

/// The terminal path, through a real pseudo-terminal (`script`, from util-linux): the prompt
/// comes, the password typed after it is not echoed, and the operator logs in with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_prompts_on_a_terminal_without_echo() {
    let d = Deployment::new(Backend::Sqlite).await;
    let typed = "typed on a terminal";
    let out = type_into_terminal(
        &d,
        &format!("{BIN} operators add tty@example.com"),
        &[("Password: ", typed), ("Password again: ", typed)],
    );
    assert!(out.contains("operator tty@example.com added"), "{out}");
    assert!(!out.contains(typed), "the password was echoed: {out}");
    let api = d.serve().await;
    api.token_works("tty@example.com", typed).await;
}

/// Runs `command` on a pseudo-terminal and answers each `(prompt, line)` once the prompt shows;
/// returns everything the terminal showed.
fn type_into_terminal(d: &Deployment, command: &str, answers: &[(&str, &str)]) -> String {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .current_dir(d.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &d.url)
        .env("LOG_FORMAT", "json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script (util-linux)");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut shown = String::new();
    let mut seen = 0;
    for (prompt, line) in answers {
        while !shown[seen..].contains(prompt) {
            let chunk = rx
                .recv_timeout(std::time::Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no {prompt:?} in {shown:?}"));
            shown.push_str(&String::from_utf8_lossy(&chunk));
        }
        seen += shown[seen..].find(prompt).expect("the prompt") + prompt.len();
        // The prompt is written just before echo is turned off: give it that moment.
        std::thread::sleep(std::time::Duration::from_millis(300));
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    let status = child.wait().expect("wait");
    while let Ok(chunk) = rx.recv_timeout(std::time::Duration::from_secs(2)) {
        shown.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(stdin);
    assert!(status.success(), "{status}: {shown}");
    shown
}
