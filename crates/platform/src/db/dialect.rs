//! Every place where MySQL/MariaDB and SQLite differ in what we send them or what they answer:
//! how a write transaction starts, how a new row's id is read back, how times are bound, which
//! index an update by primary key uses, which index a page of one status reads, how a read locks its rows, how a counter is upserted, how "contains, without regard
//! to case" is matched, and which errors mean what. Everything else is written once.

use std::borrow::Cow;

use sqlx::mysql::{MySqlDatabaseError, MySqlQueryResult};
use sqlx::sqlite::SqliteQueryResult;

use super::{Arg, Db, Query, Tx};

/// Starts a write transaction. SQLite takes the write lock up front: a deferred transaction that
/// reads then writes can fail to upgrade its lock (SQLITE_BUSY) instead of waiting for it.
pub(super) async fn begin_write(db: &Db) -> sqlx::Result<Tx> {
    Ok(match db {
        Db::MySql(p) => Tx::MySql(p.begin().await?),
        Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
    })
}

/// The id of the row an `INSERT` just made (no `RETURNING` on MySQL).
pub(super) trait InsertedId {
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

/// Binds `$args` to `$q`. On MySQL/MariaDB times are sent as `DATETIME`, the columns' type: sqlx
/// sends a `DateTime<Utc>` as `TIMESTAMP`, whose range (1970–2038) MariaDB applies to the
/// parameter, so `GET /orders?from=1970-01-01T00:00:00Z` or `to=2039-…` matched nothing. SQLite
/// keeps the RFC 3339 text its rows were written with.
macro_rules! bind_all {
    (mysql, $q:expr, $args:expr) => {
        $crate::db::dialect::bind_all!($q, $args, |v: &DateTime<Utc>| v.naive_utc())
    };
    (sqlite, $q:expr, $args:expr) => {
        $crate::db::dialect::bind_all!($q, $args, |v: &DateTime<Utc>| *v)
    };
    ($q:expr, $args:expr, $time:expr) => {{
        let time = $time;
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::I64(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
                Arg::OptText(v) => q.bind(v.as_deref()),
                Arg::Time(v) => q.bind(time(v)),
            };
        }
        q
    }};
}
pub(crate) use bind_all;

/// `UPDATE {table} SET …` of a row found by its primary key. On MySQL/MariaDB it says `FORCE
/// INDEX (PRIMARY)`: given `WHERE id = ? AND status = ?`, MariaDB otherwise picks the
/// `(status, id)` index, and its next-key locks there make writers of other rows wait behind
/// this one (SQLite locks the whole file anyway).
pub(super) fn update_by_key<'a>(tx: &Tx, sql: &'a str) -> Cow<'a, str> {
    match tx {
        Tx::MySql(_) => Cow::Owned(sql.replacen(" SET ", " FORCE INDEX (PRIMARY) SET ", 1)),
        Tx::Sqlite(_) => Cow::Borrowed(sql),
    }
}

/// The index hint that goes after a table's name (` FORCE INDEX (index)`), on MySQL/MariaDB only.
/// Given `status = ? AND id > ? ORDER BY id LIMIT n`, MariaDB 10.11 may read the `(status, id)`
/// index by `status` alone and check `id` entry by entry from the status's first order, so that a
/// deep page of one status reads every earlier order of it; named, the index is read as the
/// range it is. SQLite plans that range by itself.
pub fn force_index(db: &Db, index: &str) -> String {
    match db {
        Db::MySql(_) => format!(" FORCE INDEX ({index})"),
        Db::Sqlite(_) => String::new(),
    }
}

/// A `SELECT` that locks the rows it reads until the transaction ends: `FOR UPDATE` on
/// MySQL/MariaDB; on SQLite the write transaction already holds the database's write lock
/// (`BEGIN IMMEDIATE`), so no other writer can change them.
pub(super) fn locking_read<'a>(tx: &Tx, sql: &'a str) -> Cow<'a, str> {
    match tx {
        Tx::MySql(_) => Cow::Owned(format!("{sql} FOR UPDATE")),
        Tx::Sqlite(_) => Cow::Borrowed(sql),
    }
}

/// Adds one to `counter` of the row of `table` whose `key` columns are `args`, making the row at
/// 1 when there is none; returns the new count, in one atomic statement. MySQL has no
/// `RETURNING`, but `LAST_INSERT_ID(expr)` hands the count back in the statement's answer.
pub async fn count_up(
    db: &Db,
    table: &str,
    key: [&str; 2],
    counter: &str,
    args: &[Arg],
) -> sqlx::Result<i64> {
    let ([a, b], c) = (key, counter);
    match db {
        Db::MySql(_) => {
            let sql = format!(
                "INSERT INTO {table} ({a}, {b}, {c}) VALUES (?, ?, LAST_INSERT_ID(1)) \
                 ON DUPLICATE KEY UPDATE {c} = LAST_INSERT_ID({c} + 1)"
            );
            db.insert(&sql, args).await
        }
        Db::Sqlite(_) => {
            let sql = format!(
                "INSERT INTO {table} ({a}, {b}, {c}) VALUES (?, ?, 1) \
                 ON CONFLICT ({a}, {b}) DO UPDATE SET {c} = {c} + 1 RETURNING {c}"
            );
            let row: Option<(i64,)> = db.fetch_optional(&sql, args).await?;
            row.map(|r| r.0).ok_or(sqlx::Error::RowNotFound)
        }
    }
}

/// Appends ` AND (…)` to `q`: a "contains, without regard to case" match of `search` on any of
/// `columns`.
///
/// SQLite's `LOWER` and `LIKE` fold ASCII letters only ("école" would miss "ÉCOLE"), so there the
/// match is a `GLOB` with a class of both cases for each letter; MySQL's `LIKE` folds them all.
pub fn contains_any(db: &Db, q: &mut Query, columns: &[&str], search: &str) {
    let (each, pattern) = match db {
        Db::MySql(_) => (
            "LOWER({}) LIKE ? ESCAPE '!'",
            super::pattern::like(&search.to_lowercase()),
        ),
        Db::Sqlite(_) => ("{} GLOB ?", super::pattern::glob(search)),
    };
    let condition = columns
        .iter()
        .map(|c| each.replace("{}", c))
        .collect::<Vec<_>>()
        .join(" OR ");
    let args = columns.iter().map(|_| Arg::Text(pattern.clone()));
    q.push(&format!(" AND ({condition})"), args);
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
