//! Customer storage. The e-mail's uniqueness lives in `email_key` (its identity key while the
//! customer is live, NULL once deleted), so a deleted customer's address can be used again.

use b2b_domain::customer::{Customer, CustomerInput};
use b2b_domain::identity;
use b2b_platform::db::dialect::contains_any;
use b2b_platform::db::is_unique_violation;
use b2b_platform::db::{Arg, Query};
use b2b_platform::extract::PageRequest;
use b2b_platform::{Db, args};
use chrono::{DateTime, Utc};

macro_rules! columns {
    () => {
        "id, name, email, phone, created_at, updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    email: String,
    phone: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Customer {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            name: r.name,
            email: r.email,
            phone: r.phone,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// What a write can run into.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the e-mail is taken")]
    EmailTaken,
    #[error("no customer {0}")]
    NotFound(i64),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn classify(e: sqlx::Error) -> WriteError {
    if is_unique_violation(&e) {
        WriteError::EmailTaken
    } else {
        WriteError::Db(e)
    }
}

/// The arguments of a write: the customer's fields, its e-mail's identity key, the time, and
/// `last` (the creation time of an insert, the id of a replace).
fn written(input: &CustomerInput, now: DateTime<Utc>, last: Arg) -> [Arg; 6] {
    args![
        &input.name,
        &input.email,
        identity::key(&input.email),
        &input.phone,
        now,
        last
    ]
}

pub async fn insert(
    db: &Db,
    input: &CustomerInput,
    now: DateTime<Utc>,
) -> Result<Customer, WriteError> {
    const SQL: &str = "INSERT INTO customers (name, email, email_key, phone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)";
    let id = db
        .insert(SQL, &written(input, now, now.into()))
        .await
        .map_err(classify)?;
    Ok(Customer {
        id,
        name: input.name.clone(),
        email: input.email.clone(),
        phone: input.phone.clone(),
        created_at: now,
        updated_at: now,
    })
}

/// A live (not deleted) customer.
pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<Customer>> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM customers WHERE id = ? AND deleted_at IS NULL"
    );
    Ok(db
        .fetch_optional::<Row>(SQL, &args![id])
        .await?
        .map(Customer::from))
}

/// A customer, soft-deleted or not (what an order replayed after the deletion was made for).
pub async fn get_even_deleted(db: &Db, id: i64) -> sqlx::Result<Option<Customer>> {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM customers WHERE id = ?");
    Ok(db
        .fetch_optional::<Row>(SQL, &args![id])
        .await?
        .map(Customer::from))
}

/// One keyset page of live customers, optionally matching `search` on name or e-mail.
pub async fn list(db: &Db, search: Option<&str>, page: PageRequest) -> sqlx::Result<Vec<Customer>> {
    const LIVE: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM customers WHERE deleted_at IS NULL AND id > ?"
    );
    let mut q = Query::new(LIVE);
    q.push("", args![page.after]);
    if let Some(s) = search {
        contains_any(db, &mut q, &["name", "email"], s);
    }
    q.push(" ORDER BY id LIMIT ?", args![page.fetch()]);
    let rows: Vec<Row> = db.fetch_all(&q.sql, &q.args).await?;
    Ok(rows.into_iter().map(Customer::from).collect())
}

/// Replaces every field of a live customer.
pub async fn replace(
    db: &Db,
    id: i64,
    input: &CustomerInput,
    now: DateTime<Utc>,
) -> Result<Customer, WriteError> {
    const SQL: &str = "UPDATE customers SET name = ?, email = ?, email_key = ?, phone = ?, updated_at = ? \
                       WHERE id = ? AND deleted_at IS NULL";
    if db
        .execute(SQL, &written(input, now, id.into()))
        .await
        .map_err(classify)?
        == 0
    {
        return Err(WriteError::NotFound(id));
    }
    get(db, id).await?.ok_or(WriteError::NotFound(id))
}

/// Soft-deletes a live customer and frees its e-mail; says whether there was one.
pub async fn soft_delete(db: &Db, id: i64, now: DateTime<Utc>) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE customers SET deleted_at = ?, updated_at = ?, email_key = NULL WHERE id = ? AND deleted_at IS NULL";
    Ok(db.execute(SQL, &args![now, now, id]).await? > 0)
}
