//! Tokens and service tokens: issue, verify, forgeries, rotation, key ids.

use b2b_platform::ApiError;
use b2b_platform::auth::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};

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
