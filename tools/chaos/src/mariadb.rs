//! The database side: a fresh `b2b_chaos_<random>` database, migrated and seeded with known
//! stocks, dropped at the end; and the local MariaDB server, restarted on purpose and always
//! left running ([`ServerGuard`]).

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use b2b_platform::Db;
use b2b_platform::args;
use b2b_platform::db::DbOptions;
use sqlx::Connection;

const MYSQLADMIN: [&str; 3] = ["mysqladmin", "-uroot", "-h127.0.0.1"];
const MARIADBD: &str = "/usr/sbin/mariadbd";

/// The chaos run's own database.
pub struct ChaosDb {
    pub name: String,
    pub url: String,
    pub db: Db,
    admin_url: String,
}

impl ChaosDb {
    /// Creates, migrates and seeds database `b2b_chaos_<run_id>` on the server at `admin_url`,
    /// then sets the stock of product `id` to `stock` for each pair.
    pub async fn create(
        admin_url: &str,
        run_id: &str,
        stocks: &[(i64, i64)],
    ) -> anyhow::Result<Self> {
        let name = format!("b2b_chaos_{run_id}");
        let mut conn = sqlx::MySqlConnection::connect(admin_url)
            .await
            .with_context(|| format!("cannot connect to {admin_url}"))?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        let _ = conn.close().await;
        let url = format!("{}/{name}", server_part(admin_url));
        let opts = DbOptions {
            max_connections: 4,
            ..DbOptions::default()
        };
        let db = Db::connect(&url, &opts).await?;
        db.migrate().await?;
        ensure!(db.seed_if_empty().await?, "the new database was not empty");
        for &(id, stock) in stocks {
            let n = db
                .execute(
                    "UPDATE products SET stock = ?, version = version + 1 WHERE id = ?",
                    &args![stock, id],
                )
                .await?;
            ensure!(n == 1, "product {id} is not in the seed");
        }
        Ok(Self {
            name,
            url,
            db,
            admin_url: admin_url.to_owned(),
        })
    }

    pub async fn drop_database(&self) -> anyhow::Result<()> {
        self.db.close().await;
        let mut conn = sqlx::MySqlConnection::connect(&self.admin_url).await?;
        sqlx::query(&format!("DROP DATABASE {}", self.name))
            .execute(&mut conn)
            .await?;
        let _ = conn.close().await;
        Ok(())
    }
}

/// `mysql://user@host:port` of a URL, without its database and options.
fn server_part(url: &str) -> &str {
    let url = url.split('?').next().unwrap_or(url);
    let Some(scheme) = url.find("://") else {
        return url;
    };
    match url[scheme + 3..].find('/') {
        Some(slash) => &url[..scheme + 3 + slash],
        None => url,
    }
}

/// Whether the local server answers `mysqladmin ping`.
pub fn ping() -> bool {
    std::process::Command::new(MYSQLADMIN[0])
        .args(&MYSQLADMIN[1..])
        .arg("ping")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether a `mariadbd` process exists (it may still be shutting down).
fn process_exists() -> bool {
    std::process::Command::new("start-stop-daemon")
        .args(["--status", "--exec", MARIADBD])
        .status()
        .is_ok_and(|s| s.success())
}

/// Stops the local server and waits until its process is gone (60 s at most), so that a start
/// afterwards is a real one.
pub async fn shutdown() -> anyhow::Result<()> {
    let status = tokio::process::Command::new(MYSQLADMIN[0])
        .args(&MYSQLADMIN[1..])
        .arg("shutdown")
        .stdout(Stdio::null())
        .status()
        .await?;
    ensure!(status.success(), "mysqladmin shutdown failed");
    let deadline = Instant::now() + Duration::from_secs(60);
    while process_exists() {
        ensure!(
            Instant::now() < deadline,
            "mariadbd still running 60 s after shutdown"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Starts the local server if it is not running and waits until it answers (60 s at most).
pub fn ensure_running() -> anyhow::Result<()> {
    if ping() {
        return Ok(());
    }
    let status = std::process::Command::new("start-stop-daemon")
        .args(["--start", "--oknodo", "--background", "--exec", MARIADBD])
        .status()
        .context("cannot run start-stop-daemon")?;
    ensure!(
        status.success(),
        "start-stop-daemon could not start mariadbd"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if ping() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    anyhow::bail!("MariaDB did not answer within 60 s of being started")
}

/// Leaves MariaDB running whatever happens to the run (error, panic, Ctrl-C).
pub struct ServerGuard;

impl Drop for ServerGuard {
    fn drop(&mut self) {
        if !ping() {
            eprintln!("chaos: MariaDB is down: starting it again");
            if let Err(e) = ensure_running() {
                eprintln!("chaos: {e:#}");
            }
        }
    }
}
