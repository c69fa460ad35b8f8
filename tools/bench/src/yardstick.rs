//! The yardstick: what the database itself can commit. Each task owns one connection and loops
//! on the smallest write transaction there is (`BEGIN; INSERT one row; COMMIT`), the way the
//! services run theirs (sqlx, prepared statements, one round trip per statement).

use sqlx::mysql::MySqlPoolOptions;
use sqlx::{Connection, Executor, MySqlConnection, MySqlPool};

use crate::driver::Worker;

pub const TABLE_SQL: &str = "CREATE TABLE IF NOT EXISTS bench_commits (\
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
    task BIGINT NOT NULL, \
    seq BIGINT NOT NULL, \
    note VARCHAR(64) NOT NULL, \
    created_at DATETIME(6) NOT NULL) ENGINE = InnoDB";

const INSERT: &str = "INSERT INTO bench_commits (task, seq, note, created_at) VALUES (?, ?, 'yardstick', UTC_TIMESTAMP(6))";

fn kind(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => format!("db {}", d.code().unwrap_or_default()),
        sqlx::Error::PoolTimedOut => "pool timed out".to_owned(),
        _ => "db".to_owned(),
    }
}

pub struct CommitWorker {
    conn: MySqlConnection,
    task: i64,
    seq: i64,
}

impl CommitWorker {
    pub async fn connect(url: &str, task: i64) -> anyhow::Result<Self> {
        let mut conn = MySqlConnection::connect(url).await?;
        conn.execute(TABLE_SQL).await?;
        Ok(Self { conn, task, seq: 0 })
    }
}

impl Worker for CommitWorker {
    async fn once(&mut self) -> Result<(), String> {
        self.seq += 1;
        let result = async {
            let mut tx = self.conn.begin().await?;
            sqlx::query(INSERT)
                .bind(self.task)
                .bind(self.seq)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }
        .await;
        result.map_err(|e| kind(&e))
    }
}

/// The same transaction through a shared sqlx pool with its default settings, as the services
/// use it: a checkout pings the connection first (`test_before_acquire`) and a return pings it
/// again, so the difference to [`CommitWorker`] is what the pool's pings cost.
pub struct PoolCommitWorker {
    pool: MySqlPool,
    task: i64,
    seq: i64,
}

impl PoolCommitWorker {
    pub async fn pool(url: &str, size: usize) -> anyhow::Result<MySqlPool> {
        let pool = MySqlPoolOptions::new()
            .max_connections(size as u32)
            .min_connections(size as u32)
            .connect(url)
            .await?;
        sqlx::query(TABLE_SQL).execute(&pool).await?;
        Ok(pool)
    }

    pub fn new(pool: MySqlPool, task: i64) -> Self {
        Self { pool, task, seq: 0 }
    }
}

impl Worker for PoolCommitWorker {
    async fn once(&mut self) -> Result<(), String> {
        self.seq += 1;
        let result = async {
            let mut tx = self.pool.begin().await?;
            sqlx::query(INSERT)
                .bind(self.task)
                .bind(self.seq)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }
        .await;
        result.map_err(|e| kind(&e))
    }
}
