//! Who is calling: operators with an HS256 JWT, or other services with the shared service token.
//!
//! Route groups take the extractor of the caller they accept: [`Operator`], [`Service`] or
//! [`Caller`] (either). A missing or bad credential is a 401; a good one of the wrong kind, a 403.
//!
//! Both secrets are lists so they can be rotated without downtime (README, "Rotating secrets"):
//! tokens are signed with the first `JWT_SECRET` key and name it in their `kid`; every listed
//! key, and every listed `SERVICE_TOKEN`, is accepted.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::config::names;
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

    const OLD: &str = "old-secret-0123456789abcdef-0123456789";
    const NEW: &str = "new-secret-0123456789abcdef-0123456789";

    fn header_of(token: &str) -> jsonwebtoken::Header {
        jsonwebtoken::decode_header(token).unwrap()
    }

    fn sign_kid(claims: serde_json::Value, kid: &str, secret: &str) -> String {
        let header = Header {
            kid: Some(kid.to_owned()),
            ..Header::new(Algorithm::HS256)
        };
        encode(
            &header,
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn a_key_id_is_stable_short_and_not_the_key() {
        assert_eq!(key_id(NEW), key_id(NEW));
        assert_ne!(key_id(NEW), key_id(OLD));
        assert_eq!(key_id(NEW).len(), 8);
        assert!(key_id(NEW).chars().all(|c| c.is_ascii_hexdigit()));
        assert!(!NEW.contains(&key_id(NEW)));
        // SHA-256("abc") begins ba7816bf: the id is the digest, not something process-local.
        assert_eq!(key_id("abc"), "ba7816bf");
    }

    #[test]
    fn tokens_are_signed_with_the_first_key_and_carry_its_id() {
        let both = Auth::new(&format!("{NEW},{OLD}"), SERVICE, 3600).unwrap();
        let t = both.issue("7", 1_000_000);
        assert_eq!(header_of(&t).kid.as_deref(), Some(key_id(NEW).as_str()));
        let only_new = Auth::new(NEW, SERVICE, 3600).unwrap();
        let only_old = Auth::new(OLD, SERVICE, 3600).unwrap();
        assert_eq!(only_new.verify(&t, 1_000_000).unwrap().sub, "7");
        assert!(only_old.verify(&t, 1_000_000).is_err());
    }

    #[test]
    fn a_token_is_checked_with_the_key_its_kid_names() {
        let now = 1_000_000;
        let a = Auth::new(&format!("{NEW},{OLD}"), SERVICE, 3600).unwrap();
        let by_old = sign_kid(claims(now), &key_id(OLD), OLD);
        assert_eq!(a.verify(&by_old, now).unwrap().sub, "1");
        // Signed with a listed key but naming the other one: the named key decides.
        let mislabelled = sign_kid(claims(now), &key_id(NEW), OLD);
        let err = a.verify(&mislabelled, now).unwrap_err();
        assert_eq!(err.to_string(), "invalid or expired token");
    }

    #[test]
    fn a_token_without_kid_is_tried_against_every_key() {
        let now = 1_000_000;
        let a = Auth::new(&format!("{NEW},{OLD}"), SERVICE, 3600).unwrap();
        for secret in [NEW, OLD] {
            let legacy = sign(claims(now), Algorithm::HS256, secret);
            assert!(header_of(&legacy).kid.is_none());
            assert_eq!(
                a.verify(&legacy, now).unwrap().sub,
                "1",
                "signed with {secret}"
            );
        }
        let foreign = sign(claims(now), Algorithm::HS256, SECRET);
        assert!(a.verify(&foreign, now).is_err());
    }

    #[test]
    fn a_kid_naming_no_listed_key_is_refused() {
        let now = 1_000_000;
        let a = Auth::new(NEW, SERVICE, 3600).unwrap();
        let by_removed_key = sign_kid(claims(now), &key_id(OLD), OLD);
        let err = a.verify(&by_removed_key, now).unwrap_err();
        assert!(matches!(err, ApiError::Unauthorized(_)), "{err:?}");
        assert!(err.to_string().contains("no longer accepted"), "{err}");
        // An id that is right but with a forged signature is still a plain refusal.
        let forged = sign_kid(claims(now), &key_id(NEW), SECRET);
        assert!(a.verify(&forged, now).is_err());
    }

    #[test]
    fn every_listed_service_token_is_accepted() {
        let other = "other-service-token-0123456789abcdef";
        let a = Auth::new(SECRET, &format!("{SERVICE},{other}"), 3600).unwrap();
        assert!(a.is_service_token(SERVICE));
        assert!(a.is_service_token(other));
        assert!(!a.is_service_token(&format!("{SERVICE},{other}")));
        assert!(!a.is_service_token(&other[..other.len() - 1]));
        assert!(!a.is_service_token(""));
    }

    #[test]
    fn a_short_entry_in_a_list_is_refused() {
        let err = Auth::new(&format!("{NEW},short"), SERVICE, 60).unwrap_err();
        assert!(err.to_string().contains("JWT_SECRET entry 2 of 2"), "{err}");
        let err = Auth::new(NEW, &format!("short,{SERVICE}"), 60).unwrap_err();
        assert!(
            err.to_string().contains("SERVICE_TOKEN entry 1 of 2"),
            "{err}"
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(Auth::new("short", SERVICE, 60).is_err());
        assert!(Auth::new(SECRET, "short", 60).is_err());
    }
}
