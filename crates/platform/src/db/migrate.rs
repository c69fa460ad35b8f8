//! The schema and the demo data: each backend's migrations (embedded), applied under a lock on
//! MySQL, and the seed loaded into an empty database.

use anyhow::Context;

use super::Db;

static MYSQL_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../db/migrations/mysql");
static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../db/migrations/sqlite");
const MYSQL_SEED: &str = include_str!("../../../../db/seed.sql");
const SQLITE_SEED: &str = include_str!("../../../../db/sqlite-seed.sql");

impl Db {
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
        let count: i64 = super::on_db!(self, |pool| sqlx::query_scalar(
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
}
