//! Statements written once, run on either backend: arguments as values ([`Arg`], built with
//! [`args!`](crate::args)), rows as any type that derives `sqlx::FromRow`, run through [`Exec`]
//! on the pool or in a write transaction ([`Tx`]).

use chrono::{DateTime, Utc};
use sqlx::mysql::MySqlRow;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, MySql, Sqlite, Transaction};

use super::Db;
use super::dialect::{self, InsertedId, bind_all};

/// One bound argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    I64(i64),
    Text(String),
    OptText(Option<String>),
    Time(DateTime<Utc>),
}

macro_rules! arg_from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {
        $(impl From<$t> for Arg {
            fn from($v: $t) -> Self {
                $e
            }
        })*
    };
}

arg_from! {
    i64 => |v| Self::I64(v),
    &str => |v| Self::Text(v.to_owned()),
    String => |v| Self::Text(v),
    &String => |v| Self::Text(v.clone()),
    Option<String> => |v| Self::OptText(v),
    &Option<String> => |v| Self::OptText(v.clone()),
    DateTime<Utc> => |v| Self::Time(v),
}

/// `args![a, b, c]`: an array of values convertible into [`Arg`].
#[macro_export]
macro_rules! args {
    ($($a:expr),* $(,)?) => { [$($crate::db::Arg::from($a)),*] };
}

/// A statement whose text depends on its arguments: optional filters, `IN (…)` lists, the rows
/// of a multi-row `INSERT`.
#[derive(Debug, Default, Clone)]
pub struct Query {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl Query {
    pub fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_owned(),
            args: Vec::new(),
        }
    }

    /// Appends `sql` and the arguments of its placeholders.
    pub fn push(&mut self, sql: &str, args: impl IntoIterator<Item = Arg>) -> &mut Self {
        self.sql.push_str(sql);
        self.args.extend(args);
        self
    }

    /// Appends `n` copies of `piece`, joined by `sep` (arguments are pushed apart).
    pub fn repeat(&mut self, piece: &str, sep: &str, n: usize) -> &mut Self {
        self.sql.push_str(&vec![piece; n].join(sep));
        self
    }

    /// Appends `?, ?, …` for `values`, bound to them: an `IN (…)` list.
    pub fn list(&mut self, values: impl IntoIterator<Item = i64>) -> &mut Self {
        let before = self.args.len();
        self.args.extend(values.into_iter().map(Arg::I64));
        let n = self.args.len() - before;
        self.repeat("?", ", ", n)
    }
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

/// A write transaction on either backend, from [`Db::write_tx`]. Dropped without a commit, it
/// rolls back.
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

    pub(super) async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::MySql(t) => t.commit().await,
            Tx::Sqlite(t) => t.commit().await,
        }
    }

    /// Runs `UPDATE {table} SET … WHERE id = ? …`, which changes one row found by its primary
    /// key, through that key on every engine (see [`dialect`]); returns the rows it matched.
    pub async fn update_by_key(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<u64> {
        let sql = dialect::update_by_key(self, sql);
        self.execute(&sql, args).await
    }

    /// Runs a `SELECT` whose rows stay locked until the transaction ends (see [`dialect`]).
    pub async fn fetch_locked<R: Row>(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<Vec<R>> {
        let sql = dialect::locking_read(self, sql);
        self.fetch_all(&sql, args).await
    }
}

impl Exec for Tx {
    executor_methods!(&mut *);
}

/// One connection taken from the pool for a few reads in a row (a page, then its lines): sqlx
/// pings a connection each time it goes back to its pool, so one checkout is one round trip less
/// per statement after the first.
pub enum Session {
    MySql(PoolConnection<MySql>),
    Sqlite(PoolConnection<Sqlite>),
}

impl Session {
    fn inner(&mut self) -> Inner<'_, sqlx::MySqlConnection, sqlx::SqliteConnection> {
        match self {
            Session::MySql(c) => Inner::MySql(&mut **c),
            Session::Sqlite(c) => Inner::Sqlite(&mut **c),
        }
    }
}

impl Exec for Session {
    executor_methods!(&mut *);
}

impl Db {
    /// A connection of the pool for several statements outside a transaction.
    pub async fn session(&self) -> sqlx::Result<Session> {
        Ok(match self {
            Db::MySql(p) => Session::MySql(p.acquire().await?),
            Db::Sqlite(p) => Session::Sqlite(p.acquire().await?),
        })
    }

    /// Single statements outside a transaction.
    pub fn conn(&self) -> Conn {
        Conn { db: self.clone() }
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
