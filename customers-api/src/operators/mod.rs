//! Operators and their log-in: `POST /auth/token`.

pub mod cli;
pub mod limiter;
pub mod repo;

use std::net::SocketAddr;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::Extensions;
use b2b_domain::customer::{LoginRequest, TokenResponse};
use b2b_platform::{ApiError, JsonBody, Problem, Result};

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

/// The client's address, when the server was started with connection info.
fn client_ip(extensions: &Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Log in as an operator: returns a bearer token (HS256 JWT). Attempts are rate-limited per
/// e-mail and per client address.
#[utoipa::path(post, operation_id = "issue_token", path = "/auth/token", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse),
              (status = 401, body = Problem, content_type = "application/problem+json", description = "Wrong e-mail or password"),
              (status = 429, body = Problem, content_type = "application/problem+json", description = "Too many attempts; see `Retry-After`")))]
#[tracing::instrument(skip_all)]
pub async fn token(
    State(state): State<AppState>,
    extensions: Extensions,
    JsonBody(login): JsonBody<LoginRequest>,
) -> Result<Json<TokenResponse>> {
    if let Err(retry_after_secs) = state
        .login_limiter
        .check(&login.email, client_ip(&extensions))
    {
        tracing::warn!("operator log-in rate limit reached");
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    // A disabled operator's password is still checked, so the refusal takes as long as any.
    let (id, hash, known) = match repo::find_for_login(&state.db, &login.email).await? {
        Some((id, hash, disabled)) => (id, hash, !disabled),
        None => (0, DUMMY_HASH.to_owned(), false),
    };
    let password = login.password;
    let ok = tokio::task::spawn_blocking(move || verify(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    if !(ok && known) {
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
