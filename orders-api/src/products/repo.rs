//! Product storage. The sku's uniqueness lives in `sku_key` (its identity key), and `version`
//! counts the writes of a row: every `UPDATE products` adds one, and the ETag shows it.
//!
//! An order first locks its products' rows (in product-id order, so concurrent orders lock them in
//! the same order) and reads their prices and stock, which says which products are missing or
//! short; then one guarded decrement takes every line (`stock = stock - CASE id … END WHERE id IN
//! (…) AND stock >= CASE id … END`), which must change every row. The row locks make it correct
//! across any number of orders-api replicas on one database, the guard does not depend on the
//! read, and the `CHECK (stock >= 0)` is a last guard.

use b2b_domain::identity;
use b2b_domain::order::{NewOrderLine, OrderItem};
use b2b_domain::product::{NewProduct, Product, ProductPatch};
use b2b_platform::db::dialect::contains_any;
use b2b_platform::db::is_unique_violation;
use b2b_platform::db::{Arg, Exec, Query, Tx};
use b2b_platform::extract::PageRequest;
use b2b_platform::{Db, args};
use chrono::{DateTime, Utc};

use super::etag::IfMatch;

macro_rules! columns {
    () => {
        "id, sku, name, price_cents, stock, version, created_at, updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    sku: String,
    name: String,
    price_cents: i64,
    stock: i64,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A product with the version its ETag names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    pub product: Product,
    pub version: i64,
}

impl From<Row> for Versioned {
    fn from(r: Row) -> Self {
        let version = r.version;
        Self {
            product: r.into(),
            version,
        }
    }
}

impl From<Row> for Product {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            sku: r.sku,
            name: r.name,
            price_cents: r.price_cents,
            stock: r.stock,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// What a write can run into.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the sku is taken")]
    SkuTaken,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub async fn insert(db: &Db, p: &NewProduct, now: DateTime<Utc>) -> Result<Versioned, WriteError> {
    const SQL: &str = "INSERT INTO products (sku, sku_key, name, price_cents, stock, version, created_at, updated_at) \
                       VALUES (?, ?, ?, ?, ?, 1, ?, ?)";
    let args = args![
        &p.sku,
        identity::key(&p.sku),
        &p.name,
        p.price_cents,
        p.stock,
        now,
        now
    ];
    let id = db.insert(SQL, &args).await.map_err(|e| {
        if is_unique_violation(&e) {
            WriteError::SkuTaken
        } else {
            WriteError::Db(e)
        }
    })?;
    let product = Product {
        id,
        sku: p.sku.clone(),
        name: p.name.clone(),
        price_cents: p.price_cents,
        stock: p.stock,
        created_at: now,
        updated_at: now,
    };
    Ok(Versioned {
        product,
        version: 1,
    })
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<Versioned>> {
    get_on(&mut db.conn(), id).await
}

async fn get_on(exec: &mut impl Exec, id: i64) -> sqlx::Result<Option<Versioned>> {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM products WHERE id = ?");
    Ok(exec
        .fetch_optional::<Row>(SQL, &args![id])
        .await?
        .map(Versioned::from))
}

/// One keyset page, optionally matching `search` on sku or name (without regard to case).
pub async fn list(db: &Db, search: Option<&str>, page: PageRequest) -> sqlx::Result<Vec<Product>> {
    let mut q = Query::new(concat!(
        "SELECT ",
        columns!(),
        " FROM products WHERE id > ?"
    ));
    q.push("", args![page.after]);
    if let Some(s) = search {
        contains_any(db, &mut q, &["sku", "name"], s);
    }
    q.push(" ORDER BY id LIMIT ?", args![page.fetch()]);
    let rows: Vec<Row> = db.fetch_all(&q.sql, &q.args).await?;
    Ok(rows.into_iter().map(Product::from).collect())
}

/// What a `PATCH` came to.
#[derive(Debug)]
pub enum Patched {
    Done(Versioned),
    NotFound,
    /// The product exists, but at none of the versions asked for.
    Stale,
}

/// Applies the fields present in `patch` when the product is at a version `expected` allows,
/// in one statement (the version is checked by the `UPDATE` itself, never read first), and
/// reads the result back in the same transaction, so the answer and its ETag are this write's.
pub async fn patch(
    db: &Db,
    id: i64,
    patch: &ProductPatch,
    expected: &IfMatch,
    now: DateTime<Utc>,
) -> sqlx::Result<Patched> {
    let mut q = Query::new("UPDATE products SET updated_at = ?, version = version + 1");
    q.push("", args![now]);
    if let Some(name) = &patch.name {
        q.push(", name = ?", args![name]);
    }
    if let Some(price) = patch.price_cents {
        q.push(", price_cents = ?", args![price]);
    }
    if let Some(stock) = patch.stock {
        q.push(", stock = ?", args![stock]);
    }
    q.push(" WHERE id = ?", args![id]);
    if let IfMatch::Versions(v) = expected {
        q.push(" AND version IN (", [])
            .list(v.iter().copied())
            .push(")", []);
    }
    let q = &q;
    let (changed, found) = db
        .write_tx(1, |mut tx| async move {
            let changed = match expected {
                // No tag this server could have sent: nothing can match.
                IfMatch::Versions(v) if v.is_empty() => 0,
                _ => tx.execute(&q.sql, &q.args).await?,
            };
            let found = get_on(&mut tx, id).await?;
            Ok::<_, sqlx::Error>((tx, (changed, found)))
        })
        .await?;
    Ok(match (changed, found) {
        (0, None) => Patched::NotFound,
        (0, Some(_)) => Patched::Stale,
        (_, Some(p)) => Patched::Done(p),
        (_, None) => Patched::NotFound,
    })
}

/// A product an order names, as its row stands once locked.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Held {
    pub id: i64,
    pub price_cents: i64,
    pub stock: i64,
}

/// Locks the rows of the products of `ids` that exist until the transaction ends, and reads them.
pub async fn hold(tx: &mut Tx, ids: impl IntoIterator<Item = i64>) -> sqlx::Result<Vec<Held>> {
    let mut q = Query::new("SELECT id, price_cents, stock FROM products WHERE id IN (");
    q.list(ids).push(") ORDER BY id", []);
    tx.fetch_locked(&q.sql, &q.args).await
}

/// Takes each line's quantity from its product's stock, all lines in one guarded statement;
/// returns how many products it changed (each line's, when every product has enough).
pub async fn take_stock(
    tx: &mut Tx,
    lines: &[NewOrderLine],
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let lines: Vec<(i64, i64)> = lines.iter().map(|l| (l.product_id, l.qty)).collect();
    tx.execute(&take_sql(lines.len()), &stock_args(&lines, now, true))
        .await
}

/// Gives the lines' units back to their products. The ids are listed in the statement (no
/// subquery), so it locks exactly those rows on every engine: MariaDB before 11.1 runs
/// `WHERE id IN (SELECT …)` of a single-table UPDATE as a scan that locks the whole catalogue.
pub async fn restore(tx: &mut Tx, items: &[OrderItem], now: DateTime<Utc>) -> sqlx::Result<u64> {
    let lines: Vec<(i64, i64)> = items.iter().map(|i| (i.product_id, i.qty)).collect();
    tx.execute(&restore_sql(lines.len()), &stock_args(&lines, now, false))
        .await
}

/// `UPDATE products SET stock = stock - CASE id WHEN ? THEN ? … END, updated_at = ?, version =
/// version + 1 WHERE id IN (…) AND stock >= CASE id WHEN ? THEN ? … END` for `lines` lines.
pub fn take_sql(lines: usize) -> String {
    stock_sql('-', lines, true)
}

/// `UPDATE products SET stock = stock + CASE id WHEN ? THEN ? … END, updated_at = ?, version =
/// version + 1 WHERE id IN (…)` for `lines` lines.
pub fn restore_sql(lines: usize) -> String {
    stock_sql('+', lines, false)
}

/// A stock change of `lines` products by primary key, each by its own quantity; `guarded`, only
/// where the stock covers it.
fn stock_sql(sign: char, lines: usize, guarded: bool) -> String {
    let mut q = Query::new(&format!(
        "UPDATE products SET stock = stock {sign} CASE id "
    ));
    q.repeat("WHEN ? THEN ?", " ", lines)
        .push(
            " END, updated_at = ?, version = version + 1 WHERE id IN (",
            [],
        )
        .repeat("?", ", ", lines)
        .push(")", []);
    if guarded {
        q.push(" AND stock >= CASE id ", [])
            .repeat("WHEN ? THEN ?", " ", lines)
            .push(" END", []);
    }
    q.sql
}

/// The arguments of [`stock_sql`] for `(product id, quantity)` lines.
fn stock_args(lines: &[(i64, i64)], now: DateTime<Utc>, guarded: bool) -> Vec<Arg> {
    let cases = || lines.iter().flat_map(|&(id, qty)| args![id, qty]);
    let mut args: Vec<Arg> = cases().collect();
    args.push(now.into());
    args.extend(lines.iter().map(|&(id, _)| Arg::I64(id)));
    if guarded {
        args.extend(cases());
    }
    args
}
