//! Idempotency keys: a request with a key takes effect once; the key is claimed first, in the
//! effect's own transaction, and its outcome stored there and replayed to every later request
//! with the key (the races this settles: docs/design.md, "Idempotency").

mod repo;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use b2b_domain::validation::is_valid_idempotency_key;
use b2b_platform::db::Tx;
use b2b_platform::db::dialect::{is_lock_wait_timeout, is_unique_violation};
use b2b_platform::metrics::IDEMPOTENCY_REQUESTS;
use b2b_platform::{ApiError, Clock, Db};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use repo::purge;

use crate::orders::error::OrderError;

pub const CREATE_SCOPE: &str = "orders.create";
pub const CONFIRM_SCOPE: &str = "orders.confirm";
/// Attempts of one write that meets deadlocks, lock-wait time-outs or a key expiring under it.
pub const TRIES: u32 = 5;

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

/// The answer of a write: its JSON body, made now or replayed from the key.
#[derive(Debug)]
pub struct Written {
    pub status: StatusCode,
    pub body: String,
    pub replayed: bool,
}

impl IntoResponse for Written {
    fn into_response(self) -> Response {
        let json = [(header::CONTENT_TYPE, "application/json")];
        let mut resp = (self.status, json, self.body).into_response();
        if self.replayed {
            let replayed = HeaderValue::from_static("true");
            resp.headers_mut().insert("idempotent-replayed", replayed);
        }
        resp
    }
}

/// Runs `effect` in a write transaction ([`Db::write_tx`]), at most once per key: claims the
/// key, runs the effect, stores its outcome (answered with `status`) under the key and
/// commits, all or nothing. A key someone else committed is answered with its outcome.
pub async fn once<T, Fut>(
    db: &Db,
    clock: &Clock,
    claim: Option<&Claim>,
    ttl: Duration,
    status: StatusCode,
    effect: impl Fn(Tx, DateTime<Utc>) -> Fut,
) -> Result<Written, OrderError>
where
    T: Serialize,
    Fut: Future<Output = Result<(Tx, T), OrderError>>,
{
    let effect = &effect;
    for _ in 0..TRIES {
        let stored = db
            .write_tx(TRIES, |mut tx| async move {
                let now = clock.now();
                if let Some(c) = claim {
                    match repo::claim(&mut tx, c, now, ttl).await {
                        Err(e) if is_unique_violation(&e) => return Ok((tx, None)),
                        // Another request with this key has held it longer than the lock time-out.
                        Err(e) if is_lock_wait_timeout(&e) => return Err(OrderError::KeyInFlight),
                        other => other?,
                    }
                }
                let (mut tx, value) = effect(tx, now).await?;
                let body =
                    serde_json::to_string(&value).map_err(|e| OrderError::Internal(e.into()))?;
                if let Some(c) = claim {
                    repo::complete(&mut tx, c, status.as_u16(), &body).await?;
                }
                Ok((tx, Some(body)))
            })
            .await;
        match stored {
            Ok(Some(body)) => {
                count(claim, "fresh");
                let replayed = false;
                return Ok(Written {
                    status,
                    body,
                    replayed,
                });
            }
            // The key was committed by another request: answer with its outcome (or, when it had
            // expired and is now deleted, run again).
            Ok(None) => {
                if let Some(c) = claim
                    && let Some(answer) = replay(db, c, clock.now()).await?
                {
                    return Ok(answer);
                }
            }
            Err(e) => {
                if matches!(e, OrderError::KeyInFlight) {
                    count(claim, "in_flight");
                }
                return Err(e);
            }
        }
    }
    count(claim, "in_flight");
    Err(OrderError::KeyInFlight)
}

/// The stored outcome of an earlier request with this key, unless the key has expired.
async fn replay(db: &Db, claim: &Claim, now: DateTime<Utc>) -> Result<Option<Written>, OrderError> {
    let Some(stored) = repo::find(db, claim, now).await? else {
        return Ok(None);
    };
    if stored.request_fingerprint != claim.fingerprint {
        count(Some(claim), "mismatch");
        return Err(OrderError::KeyReused);
    }
    // Both are written in the transaction that committed the key.
    let (Some(status), Some(body)) = (stored.response_status, stored.response_body) else {
        return Err(OrderError::Internal(anyhow::anyhow!(
            "idempotency key {} committed without an outcome",
            claim.key
        )));
    };
    count(Some(claim), "replayed");
    let status = StatusCode::from_u16(u16::try_from(status).unwrap_or(200));
    let status = status.unwrap_or(StatusCode::OK);
    Ok(Some(Written {
        status,
        body,
        replayed: true,
    }))
}

/// Counts a keyed request's outcome (`idempotency_requests_total`); unkeyed ones are not.
fn count(claim: Option<&Claim>, outcome: &'static str) {
    if let Some(c) = claim {
        metrics::counter!(IDEMPOTENCY_REQUESTS, "scope" => c.scope, "outcome" => outcome)
            .increment(1);
    }
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
        assert!(key_header(&h, "x-idempotency-key").unwrap().is_none());
        h.insert("x-idempotency-key", HeaderValue::from_static("abc-123"));
        assert_eq!(
            key_header(&h, "x-idempotency-key").unwrap().as_deref(),
            Some("abc-123")
        );
        h.insert("x-idempotency-key", HeaderValue::from_static("has space"));
        assert!(key_header(&h, "x-idempotency-key").is_err());
    }
}
