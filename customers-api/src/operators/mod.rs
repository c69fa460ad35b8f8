//! Operators and their log-in: `POST /auth/token`.

pub mod budget;
pub mod cli;
pub mod client_addr;
pub mod repo;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap};
use b2b_domain::customer::{LoginRequest, TokenResponse};
use b2b_domain::identity;
use b2b_platform::{ApiError, JsonBody, Problem, Result};

use self::budget::Budgets;
use self::client_addr::{TrustedProxies, budget_key};
use crate::AppState;

/// Checked when the e-mail is unknown, so both failures take as long (no account enumeration).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$oDWrtxBHZdpEdhL54EZFKQ$IaDOgh13bHDvRB9ZgsL0FRWiL2QDfno/J96QOLe87Pk";

fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// How long a log-in waits for a verification slot before it is answered 503.
const VERIFICATION_WAIT: Duration = Duration::from_secs(2);

/// The log-in protection: budgets shared through the database, which peers' `X-Forwarded-For`
/// is believed, and a bound on concurrent argon2id verifications (about 19 MiB each).
#[derive(Clone)]
pub struct Login {
    pub budgets: Budgets,
    pub proxies: Arc<TrustedProxies>,
    pub verifications: Arc<tokio::sync::Semaphore>,
}

impl Login {
    pub fn new(settings: &crate::LoginSettings) -> Self {
        Self {
            budgets: Budgets::new(settings.attempts_per_minute.get()),
            proxies: Arc::new(settings.trusted_proxies.clone()),
            verifications: Arc::new(tokio::sync::Semaphore::new(
                settings.concurrent_verifications,
            )),
        }
    }

    /// The budget key of the client: its address behind our trusted proxies.
    fn client(&self, extensions: &Extensions, headers: &HeaderMap) -> String {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| budget_key(self.proxies.client(c.0.ip(), headers)))
            .unwrap_or_else(|| "unknown".to_owned())
    }
}

/// Log in as an operator: returns a bearer token (HS256 JWT). Attempts are limited per e-mail
/// and client address, per client address, and in failures per e-mail, across all replicas.
#[utoipa::path(post, operation_id = "issue_token", path = "/auth/token", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse),
              (status = 401, body = Problem, content_type = "application/problem+json", description = "Wrong e-mail or password"),
              (status = 429, body = Problem, content_type = "application/problem+json", description = "Too many attempts (`RATE_LIMITED`); see `Retry-After`"),
              (status = 503, body = Problem, content_type = "application/problem+json", description = "Too many log-ins being checked at once, or the database is unreachable; see `Retry-After`")))]
#[tracing::instrument(skip_all)]
pub async fn token(
    State(state): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    JsonBody(login): JsonBody<LoginRequest>,
) -> Result<Json<TokenResponse>> {
    let email_key = identity::key(&login.email);
    let client = state.login.client(&extensions, &headers);
    let now = state.clock.now();
    if let Err(retry_after_secs) = state
        .login
        .budgets
        .admit(&state.db, &email_key, &client, now)
        .await?
    {
        tracing::warn!("operator log-in budget spent");
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    // A disabled operator's password is still checked, so the refusal takes as long as any.
    let (id, hash, known) = match repo::find_for_login(&state.db, &login.email).await? {
        Some((id, hash, disabled)) => (id, hash, !disabled),
        None => (0, DUMMY_HASH.to_owned(), false),
    };
    // A slot per verification keeps memory bounded whatever the concurrency; a log-in that
    // cannot get one soon is told to come back rather than queued without end.
    let permit = tokio::time::timeout(
        VERIFICATION_WAIT,
        state.login.verifications.clone().acquire_owned(),
    )
    .await
    .map_err(|_| {
        tracing::warn!("log-in verifications saturated");
        ApiError::Unavailable("too many log-ins are being checked; try again shortly".to_owned())
    })?
    .map_err(|e| ApiError::Internal(e.into()))?;
    let password = login.password;
    let ok = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        verify(&password, &hash)
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    if !(ok && known) {
        state
            .login
            .budgets
            .failed(&state.db, &email_key, now)
            .await?;
        tracing::info!("operator log-in refused");
        return Err(ApiError::Unauthorized("invalid e-mail or password"));
    }
    let access_token = state
        .auth
        .issue(&id.to_string(), state.clock.now().timestamp());
    tracing::info!(operator_id = id, "operator logged in");
    Ok(Json(TokenResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: state.auth.ttl_secs(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        assert!(verify("admin123", DUMMY_HASH));
        assert!(!verify("wrong", DUMMY_HASH));
    }
}
