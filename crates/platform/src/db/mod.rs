//! The database handle: MySQL (production) or SQLite (embedded), chosen by the URL's scheme.
//!
//! Repositories write each statement once with `?` placeholders and run it through [`Exec`] on
//! the pool or in a [`Tx`] from [`Db::write_tx`]; every place where the two dialects differ is
//! in [`dialect`].

mod connect;
pub mod dialect;
mod migrate;
mod pattern;
mod query;
mod write_tx;

use std::time::Duration;

use sqlx::{MySqlPool, SqlitePool};

pub use dialect::{is_transient, is_unavailable, is_unique_violation};
pub use query::{Arg, Conn, Exec, Query, Row, Session, Tx};
pub use write_tx::DbFailure;

/// A pool on one of the two backends.
#[derive(Clone, Debug)]
pub enum Db {
    MySql(MySqlPool),
    Sqlite(SqlitePool),
}

/// Runs `$body` with `$pool` bound to the concrete pool behind a [`Db`], for what concerns the
/// pool itself (migrations, metrics); statements go through [`Exec`].
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::MySql($pool) => $body,
            $crate::db::Db::Sqlite($pool) => $body,
        }
    };
}
pub(crate) use on_db;

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
    pub fn backend(&self) -> &'static str {
        match self {
            Self::MySql(_) => "mysql",
            Self::Sqlite(_) => "sqlite",
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        self.fetch_optional::<(i32,)>("SELECT 1", &[]).await.is_ok()
    }

    pub async fn close(&self) {
        on_db!(self, |pool| pool.close().await)
    }
}
