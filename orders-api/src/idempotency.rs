//! Idempotency keys: a request with a key takes effect once; its outcome is stored with a
//! fingerprint of the request, in the same transaction as its effect, and replayed to every
//! later request with the same key.
//!
//! The key is claimed first: the effect's transaction starts by inserting the key's row
//! (unique on scope and key) and ends by writing the outcome into it, all or nothing. So
//! - a key that already took effect fails that first insert at once and its outcome is replayed,
//!   whatever changed since (a customer deleted, stock gone) and before any row another
//!   transaction holds is touched;
//! - a concurrent request with the same key waits on the first one's uncommitted row, then
//!   replays its outcome — or, after the lock time-out, gets 409 with `Retry-After`; a create
//!   checks its customer only once it holds the key, so a retry never answers 404 beside a
//!   first request that is making the order;
//! - a request that fails rolls back and leaves no key behind.
//!
//! Deadlocks and lock-wait time-outs on other rows are retried, then answered 503.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use b2b_domain::headers::IDEMPOTENT_REPLAYED;
use b2b_domain::validation::is_valid_idempotency_key;
use b2b_platform::db::{is_lock_wait_timeout, is_transient, is_unique_violation};
use b2b_platform::metrics::IDEMPOTENCY_REQUESTS;
use b2b_platform::sql::{Exec, Tx};
use b2b_platform::{ApiError, Clock, Db, ErrorCode, args};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tracing::Instrument;

pub const CREATE_SCOPE: &str = "orders.create";
pub const CONFIRM_SCOPE: &str = "orders.confirm";
/// Attempts of one transaction that meets deadlocks or lock-wait time-outs.
const TRIES: u32 = 5;

/// A key claimed for one request.
#[derive(Debug, Clone)]
pub struct Claim {
    pub scope: &'static str,
    pub key: String,
    /// SHA-256 of the request, so the same key with another request is recognised.
    pub fingerprint: String,
}

impl Claim {
    pub fn new(scope: &'static str, key: String, request: &[u8]) -> Self {
        let fingerprint = format!(
            "{:x}",
            Sha256::new()
                .chain_update(scope)
                .chain_update(b"\n")
                .chain_update(request)
                .finalize()
        );
        Self {
            scope,
            key,
            fingerprint,
        }
    }
}

/// Reads header `name`: `None` when absent, 400 when not 1–255 characters from `!` to `~`.
pub fn key_header(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    let Some(raw) = headers.get(name) else {
        return Ok(None);
    };
    raw.to_str()
        .ok()
        .filter(|k| is_valid_idempotency_key(k))
        .map(|k| Some(k.to_owned()))
        .ok_or_else(|| {
            ApiError::field(name, "must be 1-255 characters from '!' to '~' (no spaces)")
        })
}

/// An error inside an effect's transaction: a database error (retried when transient) or an
/// answer for the client.
#[derive(Debug)]
pub enum TxError {
    Db(sqlx::Error),
    Api(ApiError),
}

impl From<sqlx::Error> for TxError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

impl From<ApiError> for TxError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: i64,
    request_fingerprint: String,
    response_status: Option<i32>,
    response_body: Option<String>,
    expires_at: DateTime<Utc>,
}

/// What an earlier request with the same key left.
enum Prior {
    None,
    Replay(u16, String),
    Mismatch,
}

async fn find(db: &Db, claim: &Claim, now: DateTime<Utc>) -> sqlx::Result<Prior> {
    const SQL: &str = "SELECT id, request_fingerprint, response_status, response_body, expires_at \
                       FROM idempotency_keys WHERE scope = ? AND `key` = ?";
    let Some(row) = db
        .fetch_optional::<KeyRow>(SQL, &args![claim.scope, &claim.key])
        .await?
    else {
        return Ok(Prior::None);
    };
    if row.expires_at <= now {
        db.execute(
            "DELETE FROM idempotency_keys WHERE id = ? AND expires_at <= ?",
            &args![row.id, now],
        )
        .await?;
        return Ok(Prior::None);
    }
    if row.request_fingerprint != claim.fingerprint {
        return Ok(Prior::Mismatch);
    }
    Ok(match (row.response_status, row.response_body) {
        (Some(status), Some(body)) => Prior::Replay(u16::try_from(status).unwrap_or(200), body),
        // Committed without an outcome cannot happen: both are written in one transaction.
        _ => Prior::None,
    })
}

fn mismatch() -> ApiError {
    ApiError::Unprocessable {
        code: ErrorCode::IdempotencyKeyReused,
        detail: "this idempotency key was already used with a different request".to_owned(),
    }
}

fn json_response(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if replayed {
        resp.headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    resp
}

/// The stored outcome of an earlier request with this key, if it completed.
async fn replay(
    db: &Db,
    claim: Option<&Claim>,
    now: DateTime<Utc>,
) -> Result<Option<Response>, ApiError> {
    let Some(claim) = claim else { return Ok(None) };
    match find(db, claim, now).await? {
        Prior::None => Ok(None),
        Prior::Mismatch => {
            count(Some(claim), "mismatch");
            Err(mismatch())
        }
        Prior::Replay(status, body) => {
            count(Some(claim), "replayed");
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            Ok(Some(json_response(status, body, true)))
        }
    }
}

/// Why a transaction did not commit.
enum Claimed {
    /// The key was already stored.
    Taken,
    Error(TxError),
}

/// Claims the key: the first statement of the effect's transaction.
async fn claim_key(
    tx: &mut Tx,
    claim: &Claim,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<(), Claimed> {
    const SQL: &str = "INSERT INTO idempotency_keys \
                       (scope, `key`, request_fingerprint, status, created_at, expires_at) \
                       VALUES (?, ?, ?, 'PENDING', ?, ?)";
    let args = args![claim.scope, &claim.key, &claim.fingerprint, now, now + ttl];
    tx.execute(SQL, &args).await.map(drop).map_err(|e| {
        if is_unique_violation(&e) {
            Claimed::Taken
        } else if is_lock_wait_timeout(&e) {
            // Another request with this key has held it longer than the lock time-out.
            Claimed::Error(TxError::Api(ApiError::InFlight))
        } else {
            Claimed::Error(TxError::Db(e))
        }
    })
}

/// Writes the outcome into the claimed key: the last statement of the effect's transaction.
async fn complete(tx: &mut Tx, claim: &Claim, status: StatusCode, body: &str) -> sqlx::Result<()> {
    const SQL: &str = "UPDATE idempotency_keys SET status = 'COMPLETED', response_status = ?, response_body = ? \
                       WHERE scope = ? AND `key` = ?";
    let args = args![i64::from(status.as_u16()), body, claim.scope, &claim.key];
    tx.execute(SQL, &args).await.map(drop)
}

/// A state change run inside a write transaction.
pub trait Effect {
    type Output: Serialize + Send;
    fn apply(
        &self,
        tx: &mut Tx,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Self::Output, TxError>> + Send;
}

/// Runs `effect` in a write transaction, at most once per key: claims the key, runs the effect,
/// stores its outcome under the key and commits, all or nothing. Deadlocks and lock-wait
/// time-outs are retried a bounded number of times, then answered with 503.
pub async fn run_once(
    db: &Db,
    clock: &Clock,
    claim: Option<&Claim>,
    ttl: Duration,
    status: StatusCode,
    effect: impl Effect,
) -> Result<Response, ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let now = clock.now();
        let outcome: Result<Response, Claimed> = async {
            let mut tx = db
                .begin_write()
                .await
                .map_err(|e| Claimed::Error(e.into()))?;
            if let Some(c) = claim {
                claim_key(&mut tx, c, now, ttl).await?;
            }
            let value = effect.apply(&mut tx, now).await.map_err(Claimed::Error)?;
            let body = serde_json::to_string(&value)
                .map_err(|e| Claimed::Error(TxError::Api(ApiError::Internal(e.into()))))?;
            if let Some(c) = claim {
                complete(&mut tx, c, status, &body)
                    .await
                    .map_err(|e| Claimed::Error(e.into()))?;
            }
            tx.commit().await.map_err(|e| Claimed::Error(e.into()))?;
            count(claim, "fresh");
            Ok(json_response(status, body, false))
        }
        // One span per attempt: with OTLP export on, the transaction shows in the trace.
        .instrument(tracing::info_span!("db transaction", attempt))
        .await;
        match outcome {
            Ok(resp) => return Ok(resp),
            // Refused now, with the key held: nobody else's outcome can stand under it.
            Err(Claimed::Error(TxError::Api(e))) => {
                if matches!(e, ApiError::InFlight) {
                    count(claim, "in_flight");
                }
                return Err(e);
            }
            Err(Claimed::Error(TxError::Db(e))) if attempt < TRIES && is_transient(&e) => {
                tracing::info!(attempt, error = %e, "transaction conflict, retrying");
                let base = 10u64 << attempt;
                tokio::time::sleep(std::time::Duration::from_millis(
                    base + rand::random_range(0..base),
                ))
                .await;
            }
            Err(Claimed::Error(TxError::Db(e))) => return Err(e.into()),
            // The key was committed by another request: answer with its outcome (or, when it had
            // expired and is now deleted, run again).
            Err(Claimed::Taken) => {
                if let Some(resp) = replay(db, claim, clock.now()).await? {
                    return Ok(resp);
                }
                if attempt >= TRIES {
                    count(claim, "in_flight");
                    return Err(ApiError::InFlight);
                }
            }
        }
    }
}

/// Counts a keyed request's outcome (`idempotency_requests_total`); unkeyed ones are not.
fn count(claim: Option<&Claim>, outcome: &'static str) {
    if let Some(c) = claim {
        metrics::counter!(IDEMPOTENCY_REQUESTS, "scope" => c.scope, "outcome" => outcome)
            .increment(1);
    }
}

/// Deletes expired keys; returns how many.
pub async fn purge(db: &Db, now: DateTime<Utc>) -> sqlx::Result<u64> {
    db.execute(
        "DELETE FROM idempotency_keys WHERE expires_at <= ?",
        &args![now],
    )
    .await
}

/// Purges expired keys every ten minutes, for as long as the service runs.
pub async fn purge_periodically(db: Db, clock: Clock) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tick.tick().await;
        match purge(&db, clock.now()).await {
            Ok(n) if n > 0 => tracing::info!(purged = n, "expired idempotency keys purged"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging idempotency keys failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use b2b_domain::headers::X_IDEMPOTENCY_KEY;

    #[test]
    fn fingerprints_depend_on_scope_and_request() {
        let a = Claim::new(CREATE_SCOPE, "k".into(), b"{}");
        assert_eq!(
            a.fingerprint,
            Claim::new(CREATE_SCOPE, "k".into(), b"{}").fingerprint
        );
        assert_ne!(
            a.fingerprint,
            Claim::new(CONFIRM_SCOPE, "k".into(), b"{}").fingerprint
        );
        assert_ne!(
            a.fingerprint,
            Claim::new(CREATE_SCOPE, "k".into(), b"[]").fingerprint
        );
        assert_eq!(a.fingerprint.len(), 64);
    }

    #[test]
    fn key_headers_are_checked() {
        let mut h = HeaderMap::new();
        assert!(key_header(&h, X_IDEMPOTENCY_KEY).unwrap().is_none());
        h.insert(X_IDEMPOTENCY_KEY, HeaderValue::from_static("abc-123"));
        assert_eq!(
            key_header(&h, X_IDEMPOTENCY_KEY).unwrap().as_deref(),
            Some("abc-123")
        );
        h.insert(X_IDEMPOTENCY_KEY, HeaderValue::from_static("has space"));
        assert!(key_header(&h, X_IDEMPOTENCY_KEY).is_err());
    }
}
