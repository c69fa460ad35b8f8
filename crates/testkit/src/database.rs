//! A fresh database per test: a temporary SQLite file always, a new MariaDB/MySQL database on
//! the server at `TEST_MYSQL_URL`, dropped again when the test passes.

use b2b_platform::Db;
use b2b_platform::config::names;
use b2b_platform::db::DbOptions;
use sqlx::Connection;

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
    /// Removed with the test: the SQLite file's directory, or the server database.
    _dir: Option<tempfile::TempDir>,
    _server: Option<ServerDb>,
}

/// The server URL for MariaDB tests (`TEST_MYSQL_URL`), or `None` when not configured.
pub fn mysql_url() -> Option<String> {
    std::env::var(names::TEST_MYSQL_URL)
        .ok()
        .filter(|u| !u.is_empty())
}

fn options() -> DbOptions {
    DbOptions {
        max_connections: 12,
        ..DbOptions::default()
    }
}

/// A new, empty database on the server at `TEST_MYSQL_URL`, dropped again when the test passes;
/// a failed test leaves it to be looked at (CI drops those before its next run).
pub struct ServerDb {
    pub url: String,
    name: String,
}

impl ServerDb {
    pub async fn new() -> Self {
        let admin = mysql_url().expect("TEST_MYSQL_URL is not set");
        let name = format!("b2b_test_{}", uuid::Uuid::new_v4().simple());
        on_server(&admin, format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        // The server part of the URL: its database (if any) and parameters give way to ours.
        let after_scheme = admin.find("://").map_or(0, |i| i + 3);
        let end = admin[after_scheme..]
            .find(['/', '?'])
            .map_or(admin.len(), |i| after_scheme + i);
        let url = format!("{}/{name}", &admin[..end]);
        Self { url, name }
    }
}

async fn on_server(admin: &str, sql: String) -> Result<(), sqlx::Error> {
    let mut conn = sqlx::MySqlConnection::connect(admin).await?;
    sqlx::raw_sql(&sql).execute(&mut conn).await?;
    conn.close().await
}

impl Drop for ServerDb {
    fn drop(&mut self) {
        let (Some(admin), false) = (mysql_url(), std::thread::panicking()) else {
            return;
        };
        let sql = format!("DROP DATABASE IF EXISTS {}", self.name);
        // Drop may run inside the test's runtime, which cannot block on a future: a thread and
        // a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().map_err(sqlx::Error::Io)?;
            rt.block_on(on_server(&admin, sql))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "could not drop the test database {}: {dropped:?}",
                self.name
            );
        }
    }
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::MySql => Self::mysql().await,
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
            _server: None,
        }
    }

    /// A new, migrated database on the server at `TEST_MYSQL_URL` (which must be set).
    pub async fn mysql() -> Self {
        let server = ServerDb::new().await;
        let db = Db::connect(&server.url, &options())
            .await
            .expect("connect to the test database");
        db.migrate().await.expect("migrate mysql");
        Self {
            db,
            url: server.url.clone(),
            backend: Backend::MySql,
            _dir: None,
            _server: Some(server),
        }
    }

    /// Loads the demo seed (one operator, five customers, ten products).
    pub async fn seeded(self) -> Self {
        self.db.seed_if_empty().await.expect("seed");
        self
    }
}
