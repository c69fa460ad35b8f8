//! Reading settings from the environment, with one clear line for anything missing or invalid.

use std::str::FromStr;

use anyhow::{Context, bail};

/// Development values that only the all-in-one `cargo run` falls back to.
pub const DEV_JWT_SECRET: &str = "dev-only-jwt-secret-0123456789abcdef";
pub const DEV_SERVICE_TOKEN: &str = "dev-only-service-token-0123456789abcdef";
pub const MIN_SECRET_BYTES: usize = 32;

/// Loads `.env` from the working directory when present.
pub fn load_dotenv() {
    let _ = dotenvy::dotenv();
}

/// A variable's value, or `default` when unset or empty.
pub fn var_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// A variable parsed as `T`, or `default` when unset.
pub fn parse_or<T: FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name).ok().filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|e| anyhow::anyhow!("{name} is invalid ({v:?}): {e}")),
    }
}

/// A secret of at least 32 bytes: from the environment, else `dev_fallback` (only the
/// all-in-one `cargo run` passes one, and it says so in its log), else an error.
pub fn secret_or(name: &str, dev_fallback: Option<&str>) -> anyhow::Result<String> {
    match (
        std::env::var(name).ok().filter(|v| !v.is_empty()),
        dev_fallback,
    ) {
        (Some(v), _) => {
            check_secret(name, &v)?;
            Ok(v)
        }
        (None, Some(dev)) => {
            tracing::warn!(
                "{name} is not set: using the documented development value (never in production)"
            );
            Ok(dev.to_owned())
        }
        (None, None) => secret(name),
    }
}

/// `JWT_SECRET` and `SERVICE_TOKEN`, each at least 32 bytes; with `dev_fallback` (the all-in-one
/// `cargo run` only) the documented development values stand in for missing ones.
pub fn secrets(dev_fallback: bool) -> anyhow::Result<(String, String)> {
    Ok((
        secret_or("JWT_SECRET", dev_fallback.then_some(DEV_JWT_SECRET))?,
        secret_or("SERVICE_TOKEN", dev_fallback.then_some(DEV_SERVICE_TOKEN))?,
    ))
}

/// A required secret of at least 32 bytes.
pub fn secret(name: &str) -> anyhow::Result<String> {
    let v = std::env::var(name).with_context(|| {
        format!("{name} is not set (at least {MIN_SECRET_BYTES} bytes required)")
    })?;
    check_secret(name, &v)?;
    Ok(v)
}

pub fn check_secret(name: &str, value: &str) -> anyhow::Result<()> {
    if value.len() < MIN_SECRET_BYTES {
        bail!(
            "{name} is too short: {} bytes, at least {MIN_SECRET_BYTES} required",
            value.len()
        );
    }
    Ok(())
}

/// Parses durations such as `3600`, `90s`, `15m`, `1h`, `2d` into seconds.
pub fn parse_duration_secs(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: i64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(mult).filter(|v| *v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("1h"), Some(3600));
        assert_eq!(parse_duration_secs("90"), Some(90));
        assert_eq!(parse_duration_secs("15m"), Some(900));
        assert_eq!(parse_duration_secs("0"), None);
        assert_eq!(parse_duration_secs("1y"), None);
        assert_eq!(parse_duration_secs("h"), None);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(check_secret("JWT_SECRET", "short").is_err());
        assert!(check_secret("JWT_SECRET", DEV_JWT_SECRET).is_ok());
        assert!(check_secret("SERVICE_TOKEN", DEV_SERVICE_TOKEN).is_ok());
    }
}
