//! Customer storage. The e-mail's uniqueness lives in `email_key` (lower-cased while the
//! customer is live, NULL once deleted), so a deleted customer's address can be used again.

use b2b_domain::customer::{Customer, CustomerInput};
use b2b_platform::db::{InsertedId, is_unique_violation};
use b2b_platform::extract::PageRequest;
use b2b_platform::{Db, on_db};
use chrono::{DateTime, Utc};

const COLUMNS: &str = "id, name, email, phone, created_at, updated_at";

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
    #[error("no such customer")]
    NotFound,
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

pub async fn insert(
    db: &Db,
    input: &CustomerInput,
    now: DateTime<Utc>,
) -> Result<Customer, WriteError> {
    const SQL: &str = "INSERT INTO customers (name, email, email_key, phone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)";
    let key = input.email.to_lowercase();
    let id = on_db!(db, |pool| sqlx::query(SQL)
        .bind(&input.name)
        .bind(&input.email)
        .bind(&key)
        .bind(&input.phone)
        .bind(now)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.inserted_id()))
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
    let sql = format!("SELECT {COLUMNS} FROM customers WHERE id = ? AND deleted_at IS NULL");
    let row = on_db!(db, |pool| sqlx::query_as::<_, Row>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(Customer::from))
}

/// One keyset page of live customers, optionally matching `search` on name or e-mail.
pub async fn list(db: &Db, search: Option<&str>, page: PageRequest) -> sqlx::Result<Vec<Customer>> {
    let rows = match search {
        None => {
            let sql = format!(
                "SELECT {COLUMNS} FROM customers WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?"
            );
            on_db!(db, |pool| sqlx::query_as::<_, Row>(&sql)
                .bind(page.after)
                .bind(page.fetch())
                .fetch_all(pool)
                .await)?
        }
        Some(s) => {
            // SQLite's LOWER and LIKE fold ASCII letters only ("école" would miss "ÉCOLE"):
            // there, GLOB with a class of both cases for each letter.
            let (matches, pattern) = match db {
                Db::MySql(_) => (
                    "LOWER(name) LIKE ? ESCAPE '!' OR LOWER(email) LIKE ? ESCAPE '!'",
                    b2b_platform::sql::like_pattern(&s.to_lowercase()),
                ),
                Db::Sqlite(_) => ("name GLOB ? OR email GLOB ?", glob_pattern(s)),
            };
            let sql = format!(
                "SELECT {COLUMNS} FROM customers WHERE deleted_at IS NULL AND id > ? \
                 AND ({matches}) ORDER BY id LIMIT ?"
            );
            on_db!(db, |pool| sqlx::query_as::<_, Row>(&sql)
                .bind(page.after)
                .bind(&pattern)
                .bind(&pattern)
                .bind(page.fetch())
                .fetch_all(pool)
                .await)?
        }
    };
    Ok(rows.into_iter().map(Customer::from).collect())
}

/// A SQLite `GLOB` pattern matching `search` anywhere without regard to case: each letter
/// becomes a class of its cases (`[éÉ]`), and `*`, `?` and `[` are taken literally.
fn glob_pattern(search: &str) -> String {
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

/// Replaces every field of a live customer.
pub async fn replace(
    db: &Db,
    id: i64,
    input: &CustomerInput,
    now: DateTime<Utc>,
) -> Result<Customer, WriteError> {
    const SQL: &str = "UPDATE customers SET name = ?, email = ?, email_key = ?, phone = ?, updated_at = ? \
                       WHERE id = ? AND deleted_at IS NULL";
    let key = input.email.to_lowercase();
    let affected = on_db!(db, |pool| sqlx::query(SQL)
        .bind(&input.name)
        .bind(&input.email)
        .bind(&key)
        .bind(&input.phone)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
    .map_err(classify)?;
    if affected == 0 {
        return Err(WriteError::NotFound);
    }
    get(db, id).await?.ok_or(WriteError::NotFound)
}

/// Soft-deletes a live customer and frees its e-mail; says whether there was one.
pub async fn soft_delete(db: &Db, id: i64, now: DateTime<Utc>) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE customers SET deleted_at = ?, updated_at = ?, email_key = NULL WHERE id = ? AND deleted_at IS NULL";
    let affected = on_db!(db, |pool| sqlx::query(SQL)
        .bind(now)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(affected > 0)
}

#[cfg(test)]
mod tests {
    use super::glob_pattern;

    #[test]
    fn glob_patterns_fold_case_and_keep_wildcards_literal() {
        assert_eq!(glob_pattern("Éc1"), "*[Éé][Cc]1*");
        assert_eq!(glob_pattern("*?[]%_^"), "*[*][?][[]]%_^*");
    }
}
