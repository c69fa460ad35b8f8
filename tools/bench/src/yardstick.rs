//! The yardstick: what the database itself can commit. Each task owns one connection and loops
//! on the smallest write transaction there is (`BEGIN; INSERT one row; COMMIT`), the way the
//! services run theirs (sqlx, prepared statements, one round trip per statement).

use sqlx::{Connection, Executor, MySqlConnection};

use crate::driver::Worker;

pub const TABLE_SQL: &str = "CREATE TABLE IF NOT EXISTS bench_commits (\
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
    task BIGINT NOT NULL, \
    seq BIGINT NOT NULL, \
    note VARCHAR(64) NOT NULL, \
    created_at DATETIME(6) NOT NULL) ENGINE = InnoDB";

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
            sqlx::query(
                "INSERT INTO bench_commits (task, seq, note, created_at) VALUES (?, ?, 'yardstick', UTC_TIMESTAMP(6))",
            )
            .bind(self.task)
            .bind(self.seq)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        }
        .await;
        result.map_err(|e| match e {
            sqlx::Error::Database(d) => format!("db {}", d.code().unwrap_or_default()),
            _ => "db".to_owned(),
        })
    }
}
