//! The database handle: MySQL (production) or SQLite (embedded), chosen by the URL's scheme.
//!
//! Repositories write each query once with `?` placeholders and run it on whichever pool is
//! behind [`Db`] through [`on_db!`]; the few places where the dialects differ (reading back a
//! new id, how a write transaction starts) are the traits [`WritePool`] and [`InsertedId`].

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlPoolOptions, MySqlQueryResult};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::{Executor, MySql, MySqlPool, Sqlite, SqlitePool, Transaction};

/// A pool on one of the two backends.
#[derive(Clone, Debug)]
pub enum Db {
    MySql(MySqlPool),
    Sqlite(SqlitePool),
}

/// Runs `$body` with `$pool` bound to the concrete pool behind a [`Db`]; the body is written
/// once and compiled for each backend.
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::MySql($pool) => $body,
            $crate::db::Db::Sqlite($pool) => $body,
        }
    };
}

static MYSQL_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../db/migrations/mysql");
static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../db/migrations/sqlite");
const MYSQL_SEED: &str = include_str!("../../../db/seed.sql");
#[cfg(test)]
const MYSQL_SCHEMA: &str = include_str!("../../../db/schema.sql");
const SQLITE_SEED: &str = include_str!("../../../db/sqlite-seed.sql");

/// How long a statement waits for a row lock before the database gives up (MySQL/MariaDB), and
/// how long SQLite waits for the write lock. Short, so contention surfaces as a retry or a 409/503
/// rather than a hung request.
pub const LOCK_WAIT_SECS: u64 = 5;

/// Pool settings.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

impl Db {
    /// Connects to `url`: `mysql://…` or `sqlite://…` (the SQLite file is created if missing).
    pub async fn connect(url: &str, opts: &DbOptions) -> anyhow::Result<Self> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                let options = MySqlConnectOptions::from_str(&url)
                    .map_err(|e| anyhow::anyhow!("DATABASE_URL is not a valid MySQL URL: {e}"))?;
                let tls = TlsSettings::of(&options);
                if let Some(ca) = &tls.ca_file {
                    std::fs::File::open(ca).with_context(|| {
                        format!("DATABASE_URL's ssl-ca {} cannot be read", ca.display())
                    })?;
                }
                let pool = MySqlPoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(opts.acquire_timeout)
                    // sqlx already pings every connection when it goes back to the pool and
                    // drops a broken one; a second ping at checkout costs a round trip per
                    // query (6 of an orchestrated order's 31, BENCHMARKS.md) and only saves one
                    // failed request per stale connection after a database restart.
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                format!("SET SESSION innodb_lock_wait_timeout = {LOCK_WAIT_SECS}")
                                    .as_str(),
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await
                    .map_err(|e| tls.connect_error(&e))?;
                Ok(Self::MySql(pool))
            }
            "sqlite" => {
                let options = SqliteConnectOptions::from_str(url)
                    .context("DATABASE_URL is not a valid SQLite URL")?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(LOCK_WAIT_SECS))
                    .foreign_keys(true);
                let parent = std::path::Path::new(options.get_filename()).parent();
                if let Some(parent) = parent.filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).with_context(|| {
                        format!("cannot create the directory {}", parent.display())
                    })?;
                }
                let pool = SqlitePoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(opts.acquire_timeout)
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await
                    .context("cannot open the SQLite database at DATABASE_URL")?;
                Ok(Self::Sqlite(pool))
            }
            _ => bail!(
                "DATABASE_URL has an unsupported scheme {scheme:?}: use mysql://user:pass@host:3306/db or sqlite://path/to/file.db"
            ),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::MySql(_) => "mysql",
            Self::Sqlite(_) => "sqlite",
        }
    }

    /// Applies the pending migrations of this backend. On MySQL, services starting together
    /// take turns through a named lock (sqlx's own waits with a timeout of -1, which MariaDB
    /// does not honour).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Self::MySql(pool) => {
                let mut conn = pool.acquire().await?;
                let locked: Option<i64> =
                    sqlx::query_scalar("SELECT GET_LOCK('b2b_orders_migrations', 60)")
                        .fetch_one(&mut *conn)
                        .await?;
                anyhow::ensure!(
                    locked == Some(1),
                    "another process held the migration lock for 60 s"
                );
                let result = MYSQL_MIGRATOR.run_direct(&mut *conn).await;
                let _ = sqlx::query("SELECT RELEASE_LOCK('b2b_orders_migrations')")
                    .execute(&mut *conn)
                    .await;
                result
            }
            Self::Sqlite(pool) => SQLITE_MIGRATOR.run(pool).await,
        }
        .context("applying database migrations failed")
    }

    /// Loads the demo data when the database holds no operator yet; says whether it did.
    pub async fn seed_if_empty(&self) -> anyhow::Result<bool> {
        let count: i64 = on_db!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM operators"
        )
        .fetch_one(pool)
        .await)?;
        if count > 0 {
            return Ok(false);
        }
        match self {
            Self::MySql(pool) => sqlx::raw_sql(MYSQL_SEED).execute(pool).await.map(|_| ()),
            Self::Sqlite(pool) => sqlx::raw_sql(SQLITE_SEED).execute(pool).await.map(|_| ()),
        }
        .context("loading the demo seed failed")?;
        Ok(true)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        let probe = on_db!(self, |pool| sqlx::query_scalar::<_, i32>("SELECT 1")
            .fetch_one(pool)
            .await);
        probe.is_ok()
    }

    pub async fn close(&self) {
        on_db!(self, |pool| pool.close().await)
    }
}

/// What `DATABASE_URL` asks of TLS (`ssl-mode`, `ssl-ca`), as sqlx read it: sqlx parses both
/// parameters the way MySQL clients do; this only makes their failures say what to change.
struct TlsSettings {
    /// `DISABLED`, `PREFERRED` (the default), `REQUIRED`, `VERIFY_CA` or `VERIFY_IDENTITY`.
    mode: String,
    /// The CA file of `ssl-ca`, trusted besides the bundled public roots (webpki-roots).
    ca_file: Option<std::path::PathBuf>,
}

impl TlsSettings {
    fn of(options: &MySqlConnectOptions) -> Self {
        use sqlx::ConnectOptions;
        let url = options.to_url_lossy();
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        Self {
            mode: param("ssl-mode").unwrap_or_default(),
            // An inline PEM prints as itself, a file as `file: <path>`.
            ca_file: param("ssl-ca")
                .and_then(|v| v.strip_prefix("file: ").map(std::path::PathBuf::from)),
        }
    }

    /// One line: sqlx's reason (whose `Display` already holds its source) and, for the TLS
    /// failures an operator meets, the setting to look at.
    fn connect_error(&self, e: &sqlx::Error) -> anyhow::Error {
        let verifying = matches!(self.mode.as_str(), "VERIFY_CA" | "VERIFY_IDENTITY");
        let hint = match e {
            sqlx::Error::Io(_) | sqlx::Error::Tls(_)
                if verifying && e.to_string().contains("certificate") =>
            {
                match &self.ca_file {
                    Some(ca) => format!(
                        " (the server's TLS certificate is not signed by the CA in ssl-ca {}{})",
                        ca.display(),
                        if self.mode == "VERIFY_IDENTITY" {
                            ", or does not name the host of DATABASE_URL"
                        } else {
                            ""
                        }
                    ),
                    None => " (the server's TLS certificate is not signed by a public CA: \
                              name its CA file with ssl-ca=/path/to/ca.pem)"
                        .to_owned(),
                }
            }
            sqlx::Error::Database(_) if self.mode == "DISABLED" => {
                " (ssl-mode=disabled: a server that requires TLS refuses plain-text \
                 connections like this; use ssl-mode=required or verify_ca)"
                    .to_owned()
            }
            _ => String::new(),
        };
        anyhow::anyhow!("cannot connect to the MySQL database at DATABASE_URL: {e}{hint}")
    }
}

/// How a write transaction starts on each backend.
pub trait WritePool {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = sqlx::Result<Transaction<'static, Self::Database>>> + Send;
}

impl WritePool for MySqlPool {
    type Database = MySql;
    fn begin_write(
        &self,
    ) -> impl Future<Output = sqlx::Result<Transaction<'static, MySql>>> + Send {
        self.begin()
    }
}

impl WritePool for SqlitePool {
    type Database = Sqlite;
    /// SQLite takes the write lock up front: a deferred transaction that reads then writes can
    /// fail to upgrade its lock (SQLITE_BUSY) instead of waiting for it.
    fn begin_write(
        &self,
    ) -> impl Future<Output = sqlx::Result<Transaction<'static, Sqlite>>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

/// The id of the row an `INSERT` just made (no `RETURNING` on MySQL).
pub trait InsertedId {
    fn inserted_id(&self) -> i64;
}

impl InsertedId for MySqlQueryResult {
    fn inserted_id(&self) -> i64 {
        i64::try_from(self.last_insert_id()).unwrap_or(i64::MAX)
    }
}

impl InsertedId for SqliteQueryResult {
    fn inserted_id(&self) -> i64 {
        self.last_insert_rowid()
    }
}

/// A unique index refused the row (duplicate e-mail, sku or idempotency key).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// A conflict between transactions that a retry resolves: deadlock or lock-wait time-out on
/// MySQL/MariaDB, busy or locked on SQLite.
pub fn is_transient(e: &sqlx::Error) -> bool {
    let Some(db) = e.as_database_error() else {
        return false;
    };
    if let Some(my) = db.try_downcast_ref::<MySqlDatabaseError>() {
        return is_lock_wait_timeout(e) || my.number() == 1213;
    }
    matches!(
        db.code().as_deref(),
        Some("5" | "6" | "261" | "262" | "517")
    )
}

/// MySQL's lock-wait time-out (1205): another transaction holds the row.
pub fn is_lock_wait_timeout(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<MySqlDatabaseError>())
        .is_some_and(|my| my.number() == 1205)
}

/// The database cannot be reached or is going away.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(d) => d
            .try_downcast_ref::<MySqlDatabaseError>()
            // server shutting down, connection killed, query interrupted, too many connections
            .is_some_and(|my| {
                matches!(my.number(), 1040 | 1053 | 1077 | 1317 | 1927 | 2006 | 2013)
            }),
        _ => false,
    }
}

/// Runs `attempt` again while it fails with a transient conflict, at most `tries` times in all,
/// with a short randomised back-off; the last error is returned as it is.
pub async fn retry_transient<T, E, F, Fut>(tries: u32, mut attempt: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: AsTransient,
{
    let mut n = 0;
    loop {
        n += 1;
        match attempt().await {
            Err(e) if n < tries && e.is_transient() => {
                let base = 5u64 << n.min(6);
                let jitter = rand::random_range(0..base);
                tokio::time::sleep(Duration::from_millis(base + jitter)).await;
            }
            other => return other,
        }
    }
}

/// Errors that can say whether they are a transient database conflict.
pub trait AsTransient {
    fn is_transient(&self) -> bool;
}

impl AsTransient for sqlx::Error {
    fn is_transient(&self) -> bool {
        is_transient(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_schemes_are_refused_with_a_hint() {
        let err = Db::connect("postgres://x", &DbOptions::default())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("mysql://"), "{err}");
    }

    #[tokio::test]
    async fn sqlite_migrates_and_seeds_once() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/b2b.db", dir.path().display());
        let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
        db.migrate().await.unwrap();
        db.migrate().await.unwrap();
        assert!(db.seed_if_empty().await.unwrap());
        assert!(!db.seed_if_empty().await.unwrap());
        assert!(db.ping().await);
    }
}

#[cfg(test)]
mod schema_files {
    /// `db/schema.sql` (what docker compose's MySQL loads) is the MySQL migrations, verbatim.
    #[test]
    fn schema_sql_equals_the_mysql_migrations() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../db/migrations/mysql");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let migrations: String = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        assert_eq!(
            super::MYSQL_SCHEMA,
            migrations,
            "db/schema.sql differs from db/migrations/mysql: copy the migrations into it"
        );
    }

    /// The SQLite seed is the MySQL seed but for how timestamps are written.
    #[test]
    fn the_seeds_hold_the_same_rows() {
        let sqlite =
            super::SQLITE_SEED.replace("2026-01-01T00:00:00+00:00", "2026-01-01 00:00:00.000000");
        assert_eq!(sqlite, super::MYSQL_SEED);
        assert!(super::MYSQL_SEED.contains("(1, 'ACME Corp', 'ops@acme.com'"));
    }
}
