//! Every statement on `idempotency_keys`.

use b2b_platform::db::{Exec, Tx};
use b2b_platform::{Db, args};
use chrono::{DateTime, Duration, Utc};

use super::Claim;

/// A key someone committed: its request's fingerprint and the outcome stored with it (`NULL`
/// only inside the transaction that claimed it).
#[derive(sqlx::FromRow)]
pub struct Stored {
    id: i64,
    pub request_fingerprint: String,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    expires_at: DateTime<Utc>,
}

/// The key as committed, unless it has expired (then it is deleted, so the key can be used again).
pub async fn find(db: &Db, claim: &Claim, now: DateTime<Utc>) -> sqlx::Result<Option<Stored>> {
    const FIND: &str = "SELECT id, request_fingerprint, response_status, response_body, expires_at \
                        FROM idempotency_keys WHERE scope = ? AND `key` = ?";
    const EXPIRED: &str = "DELETE FROM idempotency_keys WHERE id = ? AND expires_at <= ?";
    let found: Option<Stored> = db
        .fetch_optional(FIND, &args![claim.scope, &claim.key])
        .await?;
    match found {
        Some(row) if row.expires_at <= now => {
            db.execute(EXPIRED, &args![row.id, now]).await?;
            Ok(None)
        }
        other => Ok(other),
    }
}

/// Claims the key: the first statement of the effect's transaction. Fails with a unique
/// violation when the key was committed, and waits on the row while another transaction holds it.
pub async fn claim(
    tx: &mut Tx,
    claim: &Claim,
    now: DateTime<Utc>,
    ttl: Duration,
) -> sqlx::Result<()> {
    const SQL: &str = "INSERT INTO idempotency_keys (scope, `key`, request_fingerprint, created_at, expires_at) \
                       VALUES (?, ?, ?, ?, ?)";
    let args = args![claim.scope, &claim.key, &claim.fingerprint, now, now + ttl];
    tx.execute(SQL, &args).await.map(drop)
}

/// Writes the outcome into the claimed key: the last statement of the effect's transaction.
pub async fn complete(tx: &mut Tx, claim: &Claim, status: u16, body: &str) -> sqlx::Result<()> {
    const SQL: &str = "UPDATE idempotency_keys SET response_status = ?, response_body = ? \
                       WHERE scope = ? AND `key` = ?";
    let args = args![i64::from(status), body, claim.scope, &claim.key];
    tx.execute(SQL, &args).await.map(drop)
}

/// Deletes expired keys; returns how many.
pub async fn purge(db: &Db, now: DateTime<Utc>) -> sqlx::Result<u64> {
    const SQL: &str = "DELETE FROM idempotency_keys WHERE expires_at <= ?";
    db.execute(SQL, &args![now]).await
}
