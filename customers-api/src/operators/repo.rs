//! Operator storage: every statement on `operators`, the log-in's look-up included. An operator
//! is found by `email_key` (b2b_domain::identity::key, compared byte for byte, as customers are),
//! so only the case of an e-mail is ignored, on every backend.

use b2b_domain::identity;
use b2b_platform::db::is_unique_violation;
use b2b_platform::{Db, args};
use chrono::{DateTime, Utc};

/// An operator as `operators list` shows them: never the hash.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Listed {
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    id: i64,
    password_hash: String,
    disabled_at: Option<DateTime<Utc>>,
}

/// What the log-in needs: the id, the argon2 hash and whether the operator is disabled.
pub async fn find_for_login(db: &Db, email: &str) -> sqlx::Result<Option<(i64, String, bool)>> {
    const SQL: &str = "SELECT id, password_hash, disabled_at FROM operators WHERE email_key = ?";
    let row = db
        .fetch_optional::<LoginRow>(SQL, &args![identity::key(email)])
        .await?;
    Ok(row.map(|r| (r.id, r.password_hash, r.disabled_at.is_some())))
}

/// What a write can run into.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("an operator with this e-mail exists")]
    Exists,
    #[error("no operator has this e-mail")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub async fn insert(
    db: &Db,
    email: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<i64, WriteError> {
    const SQL: &str =
        "INSERT INTO operators (email, email_key, password_hash, created_at) VALUES (?, ?, ?, ?)";
    db.insert(SQL, &args![email, identity::key(email), password_hash, now])
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                WriteError::Exists
            } else {
                WriteError::Db(e)
            }
        })
}

fn found(matched: u64) -> Result<(), WriteError> {
    if matched == 0 {
        Err(WriteError::NotFound)
    } else {
        Ok(())
    }
}

pub async fn set_password(db: &Db, email: &str, password_hash: &str) -> Result<(), WriteError> {
    const SQL: &str = "UPDATE operators SET password_hash = ? WHERE email_key = ?";
    found(
        db.execute(SQL, &args![password_hash, identity::key(email)])
            .await?,
    )
}

/// Disables (at `now`, or keeps the first time when already disabled) or, with `None`, enables.
pub async fn set_disabled(
    db: &Db,
    email: &str,
    now: Option<DateTime<Utc>>,
) -> Result<(), WriteError> {
    let matched = match now {
        Some(now) => {
            const SQL: &str =
                "UPDATE operators SET disabled_at = COALESCE(disabled_at, ?) WHERE email_key = ?";
            db.execute(SQL, &args![now, identity::key(email)]).await?
        }
        None => {
            const SQL: &str = "UPDATE operators SET disabled_at = NULL WHERE email_key = ?";
            db.execute(SQL, &args![identity::key(email)]).await?
        }
    };
    found(matched)
}

/// Every operator, oldest first.
pub async fn list(db: &Db) -> sqlx::Result<Vec<Listed>> {
    const SQL: &str = "SELECT email, created_at, disabled_at FROM operators ORDER BY id";
    db.fetch_all(SQL, &[]).await
}
