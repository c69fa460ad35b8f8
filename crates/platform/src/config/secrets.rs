//! The secret settings: `JWT_SECRET` and `SERVICE_TOKEN` (lists of keys during a rotation) and
//! `METRICS_TOKEN`, each refused at start-up when any key is too short.

use anyhow::{Context, bail};

use super::names::{JWT_SECRET, METRICS_TOKEN, SERVICE_TOKEN};

/// Development values that only the all-in-one `cargo run` falls back to.
pub const DEV_JWT_SECRET: &str = "dev-only-jwt-secret-0123456789abcdef";
pub const DEV_SERVICE_TOKEN: &str = "dev-only-service-token-0123456789abcdef";
pub const MIN_SECRET_BYTES: usize = 32;

/// A secret of at least 32 bytes from the environment, `None` when unset or empty.
fn secret_if_set(name: &str) -> anyhow::Result<Option<String>> {
    match std::env::var(name).ok().filter(|v| !v.is_empty()) {
        Some(v) => {
            check_secret(name, &v)?;
            Ok(Some(v))
        }
        None => Ok(None),
    }
}

/// `JWT_SECRET` and `SERVICE_TOKEN`, each a comma-separated list of keys of at least 32 bytes
/// (one key but during a rotation, the first in use); with `dev_fallback` (the all-in-one
/// `cargo run` only) the documented development values stand in for missing ones, and the log
/// says so once per process: the all-in-one reads the secrets once per part.
pub fn secrets(dev_fallback: bool) -> anyhow::Result<(String, String)> {
    let mut missing = Vec::new();
    let mut resolve = |name: &'static str, dev: &str| -> anyhow::Result<String> {
        match secret_if_set(name)? {
            Some(v) => Ok(v),
            None if dev_fallback => {
                missing.push(name);
                Ok(dev.to_owned())
            }
            None => secret(name),
        }
    };
    let jwt = resolve(JWT_SECRET, DEV_JWT_SECRET)?;
    let service = resolve(SERVICE_TOKEN, DEV_SERVICE_TOKEN)?;
    if !missing.is_empty() {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            let verb = if missing.len() == 1 { "is" } else { "are" };
            tracing::warn!(
                "{} {verb} not set: using the documented development values (never in production)",
                missing.join(" and ")
            );
        });
    }
    Ok((jwt, service))
}

/// A required secret of at least 32 bytes.
pub fn secret(name: &str) -> anyhow::Result<String> {
    let v = std::env::var(name).with_context(|| {
        format!("{name} is not set (at least {MIN_SECRET_BYTES} bytes required)")
    })?;
    check_secret(name, &v)?;
    Ok(v)
}

/// `METRICS_TOKEN`: when set (at least 32 bytes), `GET /metrics` needs it as a bearer token;
/// unset or empty, `/metrics` is open like `/health`.
pub fn metrics_token() -> anyhow::Result<Option<String>> {
    match std::env::var(METRICS_TOKEN).ok().filter(|v| !v.is_empty()) {
        Some(v) => check_secret(METRICS_TOKEN, &v).map(|()| Some(v)),
        None => Ok(None),
    }
}

/// Refuses a secret setting any of whose comma-separated entries (the keys in use during a
/// rotation) is shorter than [`MIN_SECRET_BYTES`]; the line names the variable and the entry.
pub fn check_secret(name: &str, value: &str) -> anyhow::Result<()> {
    let entries: Vec<&str> = secret_entries(value).collect();
    for (i, entry) in entries.iter().enumerate() {
        if entry.len() >= MIN_SECRET_BYTES {
            continue;
        }
        if entries.len() == 1 {
            bail!(
                "{name} is too short: {} bytes, at least {MIN_SECRET_BYTES} required",
                entry.len()
            );
        }
        bail!(
            "{name} entry {} of {} (comma-separated) is too short: {} bytes, at least {MIN_SECRET_BYTES} required",
            i + 1,
            entries.len(),
            entry.len()
        );
    }
    Ok(())
}

/// The keys of a secret setting, in order: `JWT_SECRET=new,old` during a rotation. Entries are
/// taken verbatim (no trimming), so a single secret means exactly what it did before lists.
pub fn secret_entries(value: &str) -> impl Iterator<Item = &str> {
    value.split(',')
}

/// The first key of a secret setting: the one tokens are signed with and the service token
/// that is sent.
pub fn primary_secret(value: &str) -> &str {
    secret_entries(value).next().unwrap_or(value)
}
