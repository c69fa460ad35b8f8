//! Product storage.

use b2b_domain::product::{NewProduct, Product, ProductPatch};
use b2b_platform::db::is_unique_violation;
use b2b_platform::extract::PageRequest;
use b2b_platform::sql::Arg;
use b2b_platform::{Db, args};
use chrono::{DateTime, Utc};

const COLUMNS: &str = "id, sku, name, price_cents, stock, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    sku: String,
    name: String,
    price_cents: i64,
    stock: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
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

pub async fn insert(db: &Db, p: &NewProduct, now: DateTime<Utc>) -> Result<Product, WriteError> {
    const SQL: &str = "INSERT INTO products (sku, name, price_cents, stock, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)";
    let id = db
        .insert(
            SQL,
            &args![&p.sku, &p.name, p.price_cents, p.stock, now, now],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                WriteError::SkuTaken
            } else {
                WriteError::Db(e)
            }
        })?;
    Ok(Product {
        id,
        sku: p.sku.clone(),
        name: p.name.clone(),
        price_cents: p.price_cents,
        stock: p.stock,
        created_at: now,
        updated_at: now,
    })
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<Product>> {
    let sql = format!("SELECT {COLUMNS} FROM products WHERE id = ?");
    Ok(db
        .fetch_optional::<Row>(&sql, &args![id])
        .await?
        .map(Product::from))
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

/// Applies the fields present in `patch`; `None` when there is no such product.
pub async fn patch(
    db: &Db,
    id: i64,
    patch: &ProductPatch,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Product>> {
    let mut sets = vec!["updated_at = ?"];
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
    let sql = format!("UPDATE products SET {} WHERE id = ?", sets.join(", "));
    if db.execute(&sql, &values).await? == 0 {
        return Ok(None);
    }
    get(db, id).await
}
