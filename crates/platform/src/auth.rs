//! Who is calling: operators with an HS256 JWT, or other services with the shared service token.
//!
//! Route groups take the extractor of the caller they accept: [`Operator`], [`Service`] or
//! [`Caller`] (either). A missing or bad credential is a 401; a good one of the wrong kind, a 403.
//!
//! Both secrets are lists so they can be rotated without downtime (README, "Rotating secrets"):
//! tokens are signed with the first `JWT_SECRET` key and name it in their `kid`; every listed
//! key, and every listed `SERVICE_TOKEN`, is accepted.

mod caller;

use std::sync::Arc;

use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::config::names;
use crate::error::ApiError;

pub use caller::{Caller, Operator, Principal, Service};

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
    /// The `JWT_SECRET` keys in order; the first signs.
    keys: Vec<Key>,
    validation: Validation,
    service_tokens: Vec<Vec<u8>>,
    ttl_secs: i64,
}

/// One HS256 key and the id tokens signed with it carry.
struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// The `kid` of a key: the first 8 hex digits of its SHA-256. Stable across restarts and
/// processes, so every instance names a key alike; it tells nothing an HS256 signature does not
/// already let one check offline.
pub fn key_id(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("ttl_secs", &self.0.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// `jwt_secret` and `service_token` are comma-separated lists (see
    /// [`crate::config::secret_entries`]); refuses any entry shorter than 32 bytes.
    pub fn new(jwt_secret: &str, service_token: &str, ttl_secs: i64) -> anyhow::Result<Self> {
        crate::config::check_secret(names::JWT_SECRET, jwt_secret)?;
        crate::config::check_secret(names::SERVICE_TOKEN, service_token)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        // `exp` and `iat` are checked against the caller's clock in `verify`.
        validation.validate_exp = false;
        let keys = crate::config::secret_entries(jwt_secret)
            .map(|secret| Key {
                kid: key_id(secret),
                encoding: EncodingKey::from_secret(secret.as_bytes()),
                decoding: DecodingKey::from_secret(secret.as_bytes()),
            })
            .collect();
        let service_tokens = crate::config::secret_entries(service_token)
            .map(|t| t.as_bytes().to_vec())
            .collect();
        Ok(Self(Arc::new(AuthInner {
            keys,
            validation,
            service_tokens,
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
        let key = &self.0.keys[0];
        let header = Header {
            kid: Some(key.kid.clone()),
            ..Header::new(Algorithm::HS256)
        };
        jsonwebtoken::encode(&header, &claims, &key.encoding)
            .expect("HS256 signing with a byte key cannot fail")
    }

    /// Checks signature, algorithm, `exp`, `iss`, `aud`, and `iat` not in the future. The key is
    /// the one the token's `kid` names; a token without one (issued before keys had ids) is
    /// tried against every key; a `kid` naming no listed key is refused.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, ApiError> {
        const INVALID: ApiError = ApiError::Unauthorized("invalid or expired token");
        let header = jsonwebtoken::decode_header(token).map_err(|_| INVALID)?;
        let mut candidates = self
            .0
            .keys
            .iter()
            .filter(|k| header.kid.as_deref().is_none_or(|kid| kid == k.kid))
            .peekable();
        if candidates.peek().is_none() {
            return Err(ApiError::Unauthorized(
                "token signed with a key that is no longer accepted",
            ));
        }
        let claims = candidates
            .find_map(|k| {
                jsonwebtoken::decode::<Claims>(token, &k.decoding, &self.0.validation).ok()
            })
            .ok_or(INVALID)?
            .claims;
        if claims.exp + LEEWAY_SECS < now || claims.iat > now + LEEWAY_SECS {
            return Err(INVALID);
        }
        Ok(claims)
    }

    /// Whether `token` is one of the service tokens, each compared in constant time (and all
    /// of them always, so the time taken does not tell which one matched).
    pub fn is_service_token(&self, token: &str) -> bool {
        self.0
            .service_tokens
            .iter()
            .fold(Choice::from(0), |found, t| {
                found | token.as_bytes().ct_eq(t)
            })
            .into()
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
