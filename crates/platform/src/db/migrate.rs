//! The schema and the demo data: each backend's migrations (embedded), applied under a lock on
//! MySQL, and the seed loaded into an empty database.

use anyhow::Context;

use super::Db;

static MYSQL_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../db/migrations/mysql");
static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../db/migrations/sqlite");
const MYSQL_SEED: &str = include_str!("../../../../db/seed.sql");
#[cfg(test)]
const MYSQL_SCHEMA: &str = include_str!("../../../../db/schema.sql");
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

#[cfg(test)]
mod tests {
    use crate::db::{Db, DbOptions};

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
