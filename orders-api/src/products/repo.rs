//! Product storage. The sku's uniqueness lives in `sku_key` (its identity key), and `version`
//! counts the writes of a row: every `UPDATE products` adds one, and the ETag shows it.

use b2b_domain::identity;
use b2b_domain::product::{NewProduct, Product, ProductPatch};
use b2b_platform::db::is_unique_violation;
use b2b_platform::extract::PageRequest;
use b2b_platform::sql::{Arg, Exec, placeholders};
use b2b_platform::{Db, args};
use chrono::{DateTime, Utc};

use super::etag::IfMatch;

const COLUMNS: &str = "id, sku, name, price_cents, stock, version, created_at, updated_at";

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
    let sql = format!("SELECT {COLUMNS} FROM products WHERE id = ?");
    Ok(exec
        .fetch_optional::<Row>(&sql, &args![id])
        .await?
        .map(Versioned::from))
}

/// One keyset page, optionally matching `search` on sku or name (without regard to case).
pub async fn list(db: &Db, search: Option<&str>, page: PageRequest) -> sqlx::Result<Vec<Product>> {
    let rows: Vec<Row> = match search {
        None => {
            let sql = format!("SELECT {COLUMNS} FROM products WHERE id > ? ORDER BY id LIMIT ?");
            db.fetch_all(&sql, &args![page.after, page.fetch()]).await?
        }
        Some(s) => {
            let (matches, pattern) = b2b_platform::sql::contains_any(db, &["sku", "name"], s);
            let sql = format!(
                "SELECT {COLUMNS} FROM products WHERE id > ? AND {matches} ORDER BY id LIMIT ?"
            );
            db.fetch_all(&sql, &args![page.after, &pattern, &pattern, page.fetch()])
                .await?
        }
    };
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
    let mut sets = vec!["updated_at = ?", "version = version + 1"];
    let mut values: Vec<Arg> = vec![now.into()];
    if let Some(name) = &patch.name {
        sets.push("name = ?");
        values.push(name.into());
    }
    if let Some(price) = patch.price_cents {
        sets.push("price_cents = ?");
        values.push(price.into());
    }
    if let Some(stock) = patch.stock {
        sets.push("stock = ?");
        values.push(stock.into());
    }
    values.push(id.into());
    let mut sql = format!("UPDATE products SET {} WHERE id = ?", sets.join(", "));
    let mut tx = db.begin_write().await?;
    let changed = match expected {
        IfMatch::Any => tx.execute(&sql, &values).await?,
        // No tag this server could have sent: nothing can match.
        IfMatch::Versions(v) if v.is_empty() => 0,
        IfMatch::Versions(v) => {
            sql.push_str(&format!(" AND version IN ({})", placeholders(v.len())));
            values.extend(v.iter().map(|&v| Arg::I64(v)));
            tx.execute(&sql, &values).await?
        }
    };
    let found = get_on(&mut tx, id).await?;
    tx.commit().await?;
    Ok(match (changed, found) {
        (0, None) => Patched::NotFound,
        (0, Some(_)) => Patched::Stale,
        (_, Some(p)) => Patched::Done(p),
        (_, None) => Patched::NotFound,
    })
}
