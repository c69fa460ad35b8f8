//! Who is calling: operators with an HS256 JWT, or other services with the shared service token.
//!
//! Route groups take the extractor of the caller they accept: [`Operator`], [`Service`] or
//! [`Caller`] (either). A missing or bad credential is a 401; a good one of the wrong kind, a 403.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::error::ApiError;

pub const ISSUER: &str = "b2b-orders";
pub const AUDIENCE: &str = "b2b-orders-api";
/// Clock skew tolerated on `exp` and `iat`.
pub const LEEWAY_SECS: i64 = 30;

/// The claims of an operator token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// Keys and settings to issue and check credentials; cheap to clone.
#[derive(Clone)]
pub struct Auth(Arc<AuthInner>);

struct AuthInner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    service_token: Vec<u8>,
    ttl_secs: i64,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("ttl_secs", &self.0.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// Refuses secrets shorter than 32 bytes.
    pub fn new(jwt_secret: &str, service_token: &str, ttl_secs: i64) -> anyhow::Result<Self> {
        crate::config::check_secret("JWT_SECRET", jwt_secret)?;
        crate::config::check_secret("SERVICE_TOKEN", service_token)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        // `exp` and `iat` are checked against the caller's clock in `verify`.
        validation.validate_exp = false;
        Ok(Self(Arc::new(AuthInner {
            encoding: EncodingKey::from_secret(jwt_secret.as_bytes()),
            decoding: DecodingKey::from_secret(jwt_secret.as_bytes()),
            validation,
            service_token: service_token.as_bytes().to_vec(),
            ttl_secs,
        })))
    }

    pub fn ttl_secs(&self) -> i64 {
        self.0.ttl_secs
    }

    /// Signs a token for operator `sub`, valid from `now` (seconds since the epoch).
    pub fn issue(&self, sub: &str, now: i64) -> String {
        let claims = Claims {
            sub: sub.to_owned(),
            iat: now,
            exp: now + self.0.ttl_secs,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.0.encoding)
            .expect("HS256 signing with a byte key cannot fail")
    }

    /// Checks signature, algorithm, `exp`, `iss`, `aud`, and `iat` not in the future.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.0.decoding, &self.0.validation)
            .map_err(|_| ApiError::Unauthorized("invalid or expired token"))?;
        if data.claims.exp + LEEWAY_SECS < now || data.claims.iat > now + LEEWAY_SECS {
            return Err(ApiError::Unauthorized("invalid or expired token"));
        }
        Ok(data.claims)
    }

    /// Whether `token` is the service token, compared in constant time.
    pub fn is_service_token(&self, token: &str) -> bool {
        token.as_bytes().ct_eq(&self.0.service_token).into()
    }

    /// Identifies the caller of a request from its `Authorization` header.
    pub fn identify(&self, parts: &Parts) -> Result<Principal, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthorized("missing bearer token"))?
            .to_str()
            .map_err(|_| ApiError::Unauthorized("malformed Authorization header"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized("missing bearer token"))?;
        if self.is_service_token(token) {
            return Ok(Principal::Service);
        }
        let now = chrono::Utc::now().timestamp();
        self.verify(token, now).map(|c| Principal::Operator(c.sub))
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An operator, by the token's `sub`.
    Operator(String),
    /// Another service of the system.
    Service,
}

/// An operator (JWT) — the only caller accepted on customer and product routes.
#[derive(Debug, Clone)]
pub struct Operator(pub String);

/// Another service (service token) — the only caller accepted on `/internal/*`.
#[derive(Debug, Clone)]
pub struct Service;

/// Either an operator or a service — order routes.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Operator
where
    Auth: FromRef<S>,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Auth::from_ref(state).identify(parts)? {
            Principal::Operator(sub) => Ok(Self(sub)),
            Principal::Service => Err(ApiError::Forbidden("this route needs an operator token")),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Service
where
    Auth: FromRef<S>,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Auth::from_ref(state).identify(parts)? {
            Principal::Service => Ok(Self),
            Principal::Operator(_) => {
                Err(ApiError::Forbidden("this route needs the service token"))
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller
where
    Auth: FromRef<S>,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Auth::from_ref(state).identify(parts).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};

    const SECRET: &str = "test-secret-0123456789abcdef-0123456789";
    const SERVICE: &str = "test-service-token-0123456789abcdef";

    fn auth() -> Auth {
        Auth::new(SECRET, SERVICE, 3600).unwrap()
    }

    fn sign(claims: serde_json::Value, alg: Algorithm, secret: &str) -> String {
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn claims(now: i64) -> serde_json::Value {
        serde_json::json!({"sub": "1", "iat": now, "exp": now + 60, "iss": ISSUER, "aud": AUDIENCE})
    }

    #[test]
    fn issued_tokens_verify() {
        let a = auth();
        let t = a.issue("42", 1_000_000);
        assert_eq!(a.verify(&t, 1_000_010).unwrap().sub, "42");
        assert!(
            a.verify(&t, 1_000_000 + 3600 + LEEWAY_SECS + 1).is_err(),
            "expired"
        );
    }

    #[test]
    fn forged_and_foreign_tokens_are_refused() {
        let a = auth();
        let now = 1_000_000;
        assert!(
            a.verify(&sign(claims(now), Algorithm::HS256, SECRET), now)
                .is_ok()
        );
        assert!(
            a.verify(
                &sign(
                    claims(now),
                    Algorithm::HS256,
                    "another-secret-0123456789abcdef0123"
                ),
                now
            )
            .is_err()
        );
        assert!(
            a.verify(&sign(claims(now), Algorithm::HS384, SECRET), now)
                .is_err(),
            "alg pinned"
        );
        let mut c = claims(now);
        c["aud"] = "other".into();
        assert!(
            a.verify(&sign(c, Algorithm::HS256, SECRET), now).is_err(),
            "aud"
        );
        let mut c = claims(now);
        c["iss"] = "other".into();
        assert!(
            a.verify(&sign(c, Algorithm::HS256, SECRET), now).is_err(),
            "iss"
        );
        let mut c = claims(now);
        c["iat"] = (now + 120).into();
        assert!(
            a.verify(&sign(c, Algorithm::HS256, SECRET), now).is_err(),
            "iat in the future"
        );
        for missing in ["sub", "iat", "exp"] {
            let mut c = claims(now);
            c.as_object_mut().unwrap().remove(missing);
            assert!(
                a.verify(&sign(c, Algorithm::HS256, SECRET), now).is_err(),
                "without {missing}"
            );
        }
        // alg: none, unsigned
        let header = base64_url(r#"{"alg":"none","typ":"JWT"}"#);
        let body = base64_url(&claims(now).to_string());
        assert!(
            a.verify(&format!("{header}.{body}."), now).is_err(),
            "alg none"
        );
    }

    fn base64_url(s: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn service_token_is_exact() {
        let a = auth();
        assert!(a.is_service_token(SERVICE));
        assert!(!a.is_service_token(&SERVICE[..SERVICE.len() - 1]));
        assert!(!a.is_service_token(""));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(Auth::new("short", SERVICE, 60).is_err());
        assert!(Auth::new(SECRET, "short", 60).is_err());
    }
}
