//! Queries written once, run on either backend: arguments as values ([`Arg`], built with
//! [`args!`](crate::args)), rows as any type that derives `sqlx::FromRow`, and a write
//! transaction ([`Tx`]) that hides which database it runs on. The only dialect forks are how a
//! write transaction begins and how a new id is read back (see [`crate::db`]).

use chrono::{DateTime, Utc};
use sqlx::mysql::MySqlRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, MySql, Sqlite, Transaction};

use crate::db::{Db, InsertedId, WritePool};

/// One bound argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    I64(i64),
    Text(String),
    OptText(Option<String>),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::I64(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Self::OptText(v)
    }
}
impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Self {
        Self::OptText(v.clone())
    }
}
impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Self::Time(v)
    }
}
impl From<Option<DateTime<Utc>>> for Arg {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Self::OptTime(v)
    }
}

/// `args![a, b, c]`: an array of values convertible into [`Arg`].
#[macro_export]
macro_rules! args {
    ($($a:expr),* $(,)?) => { [$($crate::sql::Arg::from($a)),*] };
}

/// On MySQL/MariaDB times are sent as `DATETIME`, the columns' type: sqlx sends a
/// `DateTime<Utc>` as `TIMESTAMP`, whose range (1970–2038) MariaDB applies to the parameter, so
/// `GET /orders?from=1970-01-01T00:00:00Z` or `to=2039-…` matched nothing. SQLite keeps the
/// RFC 3339 text its rows were written with.
macro_rules! bind_all {
    (mysql, $q:expr, $args:expr) => {
        bind_all!($q, $args, |v: &DateTime<Utc>| v.naive_utc())
    };
    (sqlite, $q:expr, $args:expr) => {
        bind_all!($q, $args, |v: &DateTime<Utc>| *v)
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
                Arg::OptTime(v) => q.bind(v.as_ref().map(time)),
            };
        }
        q
    }};
}

/// A row type readable from both backends (anything deriving `sqlx::FromRow` over supported types).
pub trait Row:
    for<'r> FromRow<'r, MySqlRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin
{
}
impl<T> Row for T where
    T: for<'r> FromRow<'r, MySqlRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin
{
}

/// What runs statements: the pool ([`Conn`]) or a transaction ([`Tx`]), so a read can serve
/// both inside and outside a transaction.
// Futures are used with concrete executors, where their `Send`-ness is known.
#[allow(async_fn_in_trait)]
pub trait Exec {
    async fn fetch_all<R: Row>(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<Vec<R>>;
    async fn fetch_optional<R: Row>(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<Option<R>>;
    /// Runs a statement; returns the rows it matched.
    async fn execute(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<u64>;
    /// Runs an `INSERT`; returns the new row's id.
    async fn insert(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<i64>;
}

/// The statements, written once for both backends.
macro_rules! executor_methods {
    ($($exec:tt)+) => {
        async fn fetch_all<R: Row>(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<Vec<R>> {
            match self.inner() {
                Inner::MySql(e) => bind_all!(mysql, sqlx::query_as::<MySql, R>(sql), args).fetch_all($($exec)+ e).await,
                Inner::Sqlite(e) => bind_all!(sqlite, sqlx::query_as::<Sqlite, R>(sql), args).fetch_all($($exec)+ e).await,
            }
        }

        async fn fetch_optional<R: Row>(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<Option<R>> {
            match self.inner() {
                Inner::MySql(e) => bind_all!(mysql, sqlx::query_as::<MySql, R>(sql), args).fetch_optional($($exec)+ e).await,
                Inner::Sqlite(e) => bind_all!(sqlite, sqlx::query_as::<Sqlite, R>(sql), args).fetch_optional($($exec)+ e).await,
            }
        }

        async fn execute(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<u64> {
            match self.inner() {
                Inner::MySql(e) => bind_all!(mysql, sqlx::query::<MySql>(sql), args).execute($($exec)+ e).await.map(|r| r.rows_affected()),
                Inner::Sqlite(e) => bind_all!(sqlite, sqlx::query::<Sqlite>(sql), args).execute($($exec)+ e).await.map(|r| r.rows_affected()),
            }
        }

        async fn insert(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<i64> {
            match self.inner() {
                Inner::MySql(e) => bind_all!(mysql, sqlx::query::<MySql>(sql), args).execute($($exec)+ e).await.map(|r| r.inserted_id()),
                Inner::Sqlite(e) => bind_all!(sqlite, sqlx::query::<Sqlite>(sql), args).execute($($exec)+ e).await.map(|r| r.inserted_id()),
            }
        }
    };
}

enum Inner<'a, M, S> {
    MySql(&'a mut M),
    Sqlite(&'a mut S),
}

/// Pools are cheap handles: single statements run on a clone of the pool.
pub struct Conn {
    db: Db,
}

impl Conn {
    fn inner(&mut self) -> Inner<'_, sqlx::MySqlPool, sqlx::SqlitePool> {
        match &mut self.db {
            Db::MySql(p) => Inner::MySql(p),
            Db::Sqlite(p) => Inner::Sqlite(p),
        }
    }
}

impl Exec for Conn {
    executor_methods!(&*);
}

/// A write transaction on either backend. Dropped without [`Tx::commit`], it rolls back.
pub enum Tx {
    MySql(Transaction<'static, MySql>),
    Sqlite(Transaction<'static, Sqlite>),
}

impl Tx {
    fn inner(&mut self) -> Inner<'_, sqlx::MySqlConnection, sqlx::SqliteConnection> {
        match self {
            Tx::MySql(t) => Inner::MySql(&mut **t),
            Tx::Sqlite(t) => Inner::Sqlite(&mut **t),
        }
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::MySql(t) => t.commit().await,
            Tx::Sqlite(t) => t.commit().await,
        }
    }

    pub async fn rollback(self) -> sqlx::Result<()> {
        match self {
            Tx::MySql(t) => t.rollback().await,
            Tx::Sqlite(t) => t.rollback().await,
        }
    }
}

impl Tx {
    /// `UPDATE {table}` for a statement that changes one row found by its primary key. On
    /// MySQL/MariaDB it says `FORCE INDEX (PRIMARY)`: given `WHERE id = ? AND status = ?`,
    /// MariaDB otherwise picks the `(status, id)` index, and its next-key locks there make
    /// writers of other rows wait behind this one (SQLite locks the whole file anyway).
    pub fn update_by_key(&self, table: &str) -> String {
        match self {
            Tx::MySql(_) => format!("UPDATE {table} FORCE INDEX (PRIMARY)"),
            Tx::Sqlite(_) => format!("UPDATE {table}"),
        }
    }
}

impl Exec for Tx {
    executor_methods!(&mut *);
}

impl Db {
    /// Single statements outside a transaction.
    pub fn conn(&self) -> Conn {
        Conn { db: self.clone() }
    }

    /// Starts a write transaction (on SQLite, taking the write lock at once).
    pub async fn begin_write(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            Db::MySql(p) => Tx::MySql(p.begin_write().await?),
            Db::Sqlite(p) => Tx::Sqlite(p.begin_write().await?),
        })
    }

    pub async fn fetch_all<R: Row>(&self, sql: &str, args: &[Arg]) -> sqlx::Result<Vec<R>> {
        self.conn().fetch_all(sql, args).await
    }

    pub async fn fetch_optional<R: Row>(&self, sql: &str, args: &[Arg]) -> sqlx::Result<Option<R>> {
        self.conn().fetch_optional(sql, args).await
    }

    pub async fn execute(&self, sql: &str, args: &[Arg]) -> sqlx::Result<u64> {
        self.conn().execute(sql, args).await
    }

    pub async fn insert(&self, sql: &str, args: &[Arg]) -> sqlx::Result<i64> {
        self.conn().insert(sql, args).await
    }
}

/// `?, ?, ?` for an `IN (…)` list of `n` values.
pub fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(n * 3);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DbOptions;

    #[derive(sqlx::FromRow, Debug, PartialEq)]
    struct Item {
        id: i64,
        name: String,
        at: DateTime<Utc>,
    }

    #[tokio::test]
    async fn statements_and_transactions_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(
            &format!("sqlite://{}/t.db", dir.path().display()),
            &DbOptions::default(),
        )
        .await
        .unwrap();
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, at TEXT NOT NULL)", &[])
            .await
            .unwrap();
        let at = crate::Clock::system().now();
        let id = db
            .insert("INSERT INTO t (name, at) VALUES (?, ?)", &args!["a", at])
            .await
            .unwrap();
        let mut tx = db.begin_write().await.unwrap();
        tx.insert(
            "INSERT INTO t (name, at) VALUES (?, ?)",
            &args!["rolled back", at],
        )
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        let rows: Vec<Item> = db
            .fetch_all("SELECT id, name, at FROM t WHERE id >= ?", &args![id])
            .await
            .unwrap();
        assert_eq!(
            rows,
            [Item {
                id,
                name: "a".into(),
                at
            }]
        );
        assert_eq!(placeholders(3), "?, ?, ?");
    }
}

/// A `LIKE … ESCAPE '!'` pattern matching `search` anywhere, with `%`, `_` and `!` taken literally.
/// (`!` rather than a backslash: MySQL and SQLite read backslashes in literals differently.)
pub fn like_pattern(search: &str) -> String {
    let mut p = String::with_capacity(search.len() + 2);
    p.push('%');
    for c in search.chars() {
        if matches!(c, '%' | '_' | '!') {
            p.push('!');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A "contains, without regard to case" match of `search` on any of `columns`: the SQL
/// condition (one `?` per column, all bound to the returned pattern).
///
/// SQLite's `LOWER` and `LIKE` fold ASCII letters only ("école" would miss "ÉCOLE"), so there the
/// match is a `GLOB` with a class of both cases for each letter; MySQL's `LIKE` folds them all.
pub fn contains_any(db: &Db, columns: &[&str], search: &str) -> (String, String) {
    let (each, pattern) = match db {
        Db::MySql(_) => (
            "LOWER({}) LIKE ? ESCAPE '!'",
            like_pattern(&search.to_lowercase()),
        ),
        Db::Sqlite(_) => ("{} GLOB ?", glob_pattern(search)),
    };
    let condition = columns
        .iter()
        .map(|c| each.replace("{}", c))
        .collect::<Vec<_>>()
        .join(" OR ");
    (format!("({condition})"), pattern)
}

/// A SQLite `GLOB` pattern matching `search` anywhere without regard to case: each letter
/// becomes a class of its cases (`[Éé]`), and `*`, `?` and `[` are taken literally.
pub fn glob_pattern(search: &str) -> String {
    fn single(mut chars: impl Iterator<Item = char>) -> Option<char> {
        let c = chars.next()?;
        chars.next().is_none().then_some(c)
    }
    let mut p = String::from("*");
    for c in search.chars() {
        let mut class = vec![c];
        class.extend(single(c.to_lowercase()));
        class.extend(single(c.to_uppercase()));
        class.sort_unstable();
        class.dedup();
        if class.len() > 1 || matches!(c, '*' | '?' | '[') {
            p.push('[');
            p.extend(class);
            p.push(']');
        } else {
            p.push(c);
        }
    }
    p.push('*');
    p
}

#[cfg(test)]
mod like_tests {
    use super::{glob_pattern, like_pattern};

    #[test]
    fn glob_patterns_fold_case_and_keep_wildcards_literal() {
        assert_eq!(glob_pattern("Éc1"), "*[Éé][Cc]1*");
        assert_eq!(glob_pattern("*?[]%_^"), "*[*][?][[]]%_^*");
    }

    #[test]
    fn wildcards_are_literal() {
        assert_eq!(like_pattern("50%_off!"), "%50!%!_off!!%");
        assert_eq!(like_pattern("acme"), "%acme%");
    }
}
