//! TLS to the database: a second MariaDB, started by the test with a certificate made by the
//! test and `require_secure_transport=ON`, is reached with each `ssl-mode` of `DATABASE_URL`;
//! a wrong CA and a plain-text connection are refused, the binary with one line.
//!
//! The server of the other tests is left alone: this one has its own data directory, port and
//! socket, lives at most ten minutes, and is stopped when the test ends.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use b2b_platform::Db;
use b2b_platform::db::DbOptions;
use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};
use sqlx::{ConnectOptions, Executor};

const USER: &str = "b2b_tls";
const PASSWORD: &str = "b2b-tls-password";
const DATABASE: &str = "b2b_tls";

/// Runs `program` and fails the test with its output unless it succeeds.
fn run(program: &str, args: &[&str], dir: &Path) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`ca.pem`), a server certificate it signed for `localhost` and `127.0.0.1`
/// (`server.pem`, `server.key`), and an unrelated CA (`other-ca.pem`).
fn make_certificates(dir: &Path) {
    let ca = |name: &str, cn: &str| {
        let subj = format!("/CN={cn}");
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        run(
            "openssl",
            &[
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", &subj,
                "-keyout", &key, "-out", &pem,
            ],
            dir,
        );
    };
    ca("ca", "b2b test CA");
    ca("other-ca", "b2b unrelated CA");
    run(
        "openssl",
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        dir,
    );
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("write server.ext");
    run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
        dir,
    );
}

/// `name` on `PATH` or in the `sbin` directories where distributions put mariadbd.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Whether this process runs as root (mariadbd then needs `--user=root`).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A MariaDB of the test's own that accepts TLS connections only.
struct TlsMariaDb {
    server: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl TlsMariaDb {
    /// Fails (never passes unrun) when MariaDB's server programs are not installed here.
    async fn start() -> Self {
        let (Some(install_db), Some(mariadbd)) =
            (find_program("mariadb-install-db"), find_program("mariadbd"))
        else {
            panic!("mariadbd and mariadb-install-db must be installed for this MariaDB test");
        };
        let dir = tempfile::Builder::new()
            .prefix("b2b-tls-")
            .tempdir()
            .expect("temp dir");
        make_certificates(dir.path());
        let data = dir.path().join("data");
        let root_user = is_root().then_some("--user=root");
        let mut install = vec![
            "--no-defaults".to_owned(),
            format!("--datadir={}", data.display()),
            "--auth-root-authentication-method=normal".to_owned(),
            "--skip-test-db".to_owned(),
        ];
        install.extend(root_user.map(str::to_owned));
        let install: Vec<&str> = install.iter().map(String::as_str).collect();
        run(&install_db.display().to_string(), &install, dir.path());

        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let mut args = vec![
            // Bounded even if the test process dies before its Drop runs.
            "--signal=TERM".to_owned(),
            "600".to_owned(),
            mariadbd.display().to_string(),
            "--no-defaults".to_owned(),
            format!("--datadir={}", data.display()),
            format!("--port={port}"),
            "--bind-address=127.0.0.1".to_owned(),
            format!("--socket={}", path("sock")),
            format!("--pid-file={}", path("mariadbd.pid")),
            format!("--log-error={}", path("error.log")),
            format!("--ssl-cert={}", path("server.pem")),
            format!("--ssl-key={}", path("server.key")),
            format!("--ssl-ca={}", path("ca.pem")),
            "--require-secure-transport=ON".to_owned(),
            "--innodb-buffer-pool-size=16M".to_owned(),
        ];
        args.extend(root_user.map(str::to_owned));
        let server = Command::new("timeout")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd");
        let mut me = Self { server, port, dir };
        me.wait_ready().await;
        me.create_user().await;
        me
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// The local socket counts as secure transport: the administrator's way in.
    fn admin(&self) -> MySqlConnectOptions {
        MySqlConnectOptions::new()
            .socket(self.socket())
            .username("root")
            .ssl_mode(MySqlSslMode::Disabled)
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.server.try_wait().expect("wait") {
                panic!("mariadbd stopped ({status}):\n{}", self.error_log());
            }
            if self.admin().connect().await.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "mariadbd not ready in 60 s:\n{}",
                self.error_log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn create_user(&self) {
        let mut conn = self.admin().connect().await.expect("admin connection");
        for sql in [
            format!("CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'"),
            format!("CREATE DATABASE {DATABASE}"),
            format!("GRANT ALL ON {DATABASE}.* TO '{USER}'@'%'"),
        ] {
            conn.execute(sql.as_str()).await.expect(&sql);
        }
    }

    /// `DATABASE_URL` for this server over TCP, with `query` appended.
    fn url(&self, query: &str) -> String {
        let base = format!(
            "mysql://{USER}:{PASSWORD}@127.0.0.1:{}/{DATABASE}",
            self.port
        );
        if query.is_empty() {
            base
        } else {
            format!("{base}?{query}")
        }
    }

    fn file(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

impl Drop for TlsMariaDb {
    fn drop(&mut self) {
        // TERM to `timeout` reaches mariadbd, which shuts down; then the data directory goes.
        let _ = Command::new("kill")
            .args(["-TERM", &self.server.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.server.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("mariadbd.pid")) {
            let _ = Command::new("kill").args(["-KILL", pid.trim()]).status();
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn options() -> DbOptions {
    DbOptions {
        max_connections: 2,
        ..DbOptions::default()
    }
}

/// The TLS version of the pool's session, empty on a plain connection.
async fn tls_version(db: &Db) -> String {
    let Db::MySql(pool) = db else {
        panic!("a MySQL pool")
    };
    let (_, version): (String, String) = sqlx::query_as("SHOW SESSION STATUS LIKE 'Ssl_version'")
        .fetch_one(pool)
        .await
        .expect("Ssl_version");
    version
}

/// The refusal of `url`, checked to be one line.
async fn refusal(url: &str) -> String {
    let err = Db::connect(url, &options())
        .await
        .expect_err("the connection is refused");
    let msg = format!("{err:#}");
    assert_eq!(msg.lines().count(), 1, "{msg}");
    msg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mysql_tests),
    ignore = "needs TEST_MYSQL_URL (MariaDB installed: the test starts a second server with TLS)"
)]
async fn the_services_reach_a_mariadb_that_requires_tls_and_refuse_a_wrong_ca() {
    let server = TlsMariaDb::start().await;
    let ca = server.file("ca.pem");

    // Encrypted without a check of the certificate, as MySQL clients do for these two modes.
    for query in ["", "ssl-mode=preferred", "ssl-mode=required"] {
        let db = Db::connect(&server.url(query), &options())
            .await
            .unwrap_or_else(|e| panic!("{query:?}: {e:#}"));
        assert!(tls_version(&db).await.starts_with("TLS"), "{query:?}");
        db.close().await;
    }

    // The certificate checked against the given CA (and the webpki roots), then the host name.
    for mode in ["verify_ca", "verify_identity"] {
        let url = server.url(&format!("ssl-mode={mode}&ssl-ca={ca}"));
        let db = Db::connect(&url, &options())
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e:#}"));
        assert!(tls_version(&db).await.starts_with("TLS"), "{mode}");
        db.migrate().await.expect("migrations over TLS");
        db.close().await;
    }

    // Without the CA, the bundled public roots do not vouch for a private certificate.
    let msg = refusal(&server.url("ssl-mode=verify_ca")).await;
    assert!(msg.contains("not signed by a public CA"), "{msg}");
    assert!(msg.contains("ssl-ca="), "{msg}");

    // A wrong CA: refused, and the service says so in one line and exits 1.
    let wrong = server.url(&format!(
        "ssl-mode=verify_ca&ssl-ca={}",
        server.file("other-ca.pem")
    ));
    let msg = refusal(&wrong).await;
    assert!(msg.contains("UnknownIssuer"), "{msg}");
    assert!(msg.contains("not signed by the CA in ssl-ca"), "{msg}");
    let out = b2b_testkit::start_up(
        env!("CARGO_BIN_EXE_customers-api"),
        &[("DATABASE_URL", wrong.as_str())],
    );
    let lines = out.error_lines();
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(lines.len(), 1, "{out:?}");
    assert!(lines[0].contains("DATABASE_URL"), "{out:?}");
    assert!(
        lines[0].contains("not signed by the CA in ssl-ca"),
        "{out:?}"
    );
    assert!(
        !lines[0].contains(PASSWORD),
        "no password in the log: {out:?}"
    );

    // Plain text to a server that requires TLS.
    let msg = refusal(&server.url("ssl-mode=disabled")).await;
    assert!(msg.contains("Access denied"), "{msg}");
    assert!(msg.contains("requires TLS"), "{msg}");

    // A CA file that is not there is named, before any connection.
    let msg = refusal(&server.url("ssl-mode=verify_ca&ssl-ca=/nonexistent/ca.pem")).await;
    assert!(msg.contains("/nonexistent/ca.pem"), "{msg}");
}
