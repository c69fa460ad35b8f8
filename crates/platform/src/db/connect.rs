//! Opening the pool: the URL's scheme picks the backend; TLS and lock-wait settings on MySQL,
//! WAL and foreign keys on SQLite.

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::Executor;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Db, DbOptions, LOCK_WAIT_SECS};

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
                    // query (BENCHMARKS.md) and only saves one failed request per stale
                    // connection after a database restart.
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
