//! Reading settings from the environment, with one clear line for anything missing or invalid.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;

use anyhow::{Context, bail};

/// Development values that only the all-in-one `cargo run` falls back to.
pub const DEV_JWT_SECRET: &str = "dev-only-jwt-secret-0123456789abcdef";
pub const DEV_SERVICE_TOKEN: &str = "dev-only-service-token-0123456789abcdef";
pub const MIN_SECRET_BYTES: usize = 32;

pub use crate::dotenv::{database_url, load as load_dotenv};

/// The database setting both APIs read.
pub const DATABASE_URL: &str = "DATABASE_URL";

/// A variable's value, or `default` when unset or empty.
pub fn var_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// A variable's value, `None` when unset or empty; a value that is not UTF-8 is an error (it
/// would otherwise pass silently for unset).
fn raw(name: &str) -> anyhow::Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => bail!("{name} is not valid UTF-8"),
    }
}

/// Every port setting: 0 ("any free port") is refused, since a service's neighbours and its own
/// health check must know where it listens.
pub const PORTS: RangeInclusive<u16> = 1..=65535;

/// A whole-number setting within `range`, or `default` when unset or empty. Garbage, a negative
/// or fractional number and a value too large for its type are refused like an out-of-range one,
/// with one line naming the variable and its range: every numeric setting is checked here, so no
/// later conversion (chrono durations, deadlines on the clock) can panic or overflow.
pub fn parse_in<T>(name: &str, default: T, range: RangeInclusive<T>) -> anyhow::Result<T>
where
    T: FromStr + PartialOrd + Display,
{
    debug_assert!(range.contains(&default), "{name}: default out of range");
    match raw(name)? {
        None => Ok(default),
        Some(v) => value_in(name, &v, &range),
    }
}

/// A variable parsed as `T`, or `default` when unset: for the test tools' knobs only; a service's
/// settings go through [`parse_in`], with their range.
pub fn parse_or<T: FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: Display,
{
    match raw(name)? {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|e| anyhow::anyhow!("{name} is invalid ({v:?}): {e}")),
    }
}

/// A port setting (see [`PORTS`]).
pub fn port(name: &str, default: u16) -> anyhow::Result<u16> {
    parse_in(name, default, PORTS)
}

/// `raw` parsed as a whole number within `range`; the check behind [`parse_in`].
pub fn value_in<T>(name: &str, raw: &str, range: &RangeInclusive<T>) -> anyhow::Result<T>
where
    T: FromStr + PartialOrd + Display,
{
    match raw.trim().parse::<T>() {
        Ok(v) if range.contains(&v) => Ok(v),
        _ => bail!(
            "{name} must be a whole number {}, got {raw:?}",
            range_text(range)
        ),
    }
}

/// `from 1 to 8760`: a whole-number range as start-up errors and `--help` both say it.
pub fn range_text<T: Display>(range: &RangeInclusive<T>) -> String {
    format!("from {} to {}", range.start(), range.end())
}

/// `from 1m to 30d (seconds, or a number with s, m, h or d)`: a duration range as start-up
/// errors and `--help` both say it.
pub fn duration_range_text(range: &RangeInclusive<i64>) -> String {
    format!(
        "from {} to {} (seconds, or a number with s, m, h or d)",
        human_secs(*range.start()),
        human_secs(*range.end())
    )
}

/// A duration setting in seconds (`3600`, `90s`, `15m`, `1h`, `2d`) within `range`, or
/// `default_secs` when unset or empty; anything else is refused with its range.
pub fn duration_in(
    name: &str,
    default_secs: i64,
    range: RangeInclusive<i64>,
) -> anyhow::Result<i64> {
    debug_assert!(
        range.contains(&default_secs),
        "{name}: default out of range"
    );
    match raw(name)? {
        None => Ok(default_secs),
        Some(v) => duration_value_in(name, &v, &range),
    }
}

/// `raw` as a duration in seconds within `range`; the check behind [`duration_in`].
pub fn duration_value_in(
    name: &str,
    raw: &str,
    range: &RangeInclusive<i64>,
) -> anyhow::Result<i64> {
    match parse_duration_secs(raw) {
        Some(secs) if range.contains(&secs) => Ok(secs),
        _ => bail!(
            "{name} must be a duration {}, got {raw:?}",
            duration_range_text(range)
        ),
    }
}

/// `90` as `90s`, `900` as `15m`, `86400` as `1d`: the largest unit that divides it exactly.
pub fn human_secs(secs: i64) -> String {
    match secs {
        0 => "0s".to_owned(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

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
    let jwt = resolve("JWT_SECRET", DEV_JWT_SECRET)?;
    let service = resolve("SERVICE_TOKEN", DEV_SERVICE_TOKEN)?;
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
    match std::env::var("METRICS_TOKEN")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(v) => check_secret("METRICS_TOKEN", &v).map(|()| Some(v)),
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

    fn refusal<T: std::fmt::Debug>(r: anyhow::Result<T>) -> String {
        let msg = format!("{:#}", r.expect_err("refused"));
        assert_eq!(msg.lines().count(), 1, "{msg}");
        msg
    }

    #[test]
    fn whole_numbers_in_range_are_taken() {
        assert_eq!(value_in("N", "1", &(1..=8760)).unwrap(), 1);
        assert_eq!(value_in("N", "8760", &(1..=8760)).unwrap(), 8760);
        assert_eq!(value_in("N", " 24 ", &(1..=8760)).unwrap(), 24);
        assert_eq!(value_in("PORT", "65535", &PORTS).unwrap(), 65535);
    }

    #[test]
    fn out_of_range_garbage_and_huge_values_name_the_variable_and_its_range() {
        for raw in [
            "0",
            "8761",
            "-1",
            "1.5",
            "24h",
            "",
            "abc",
            "9999999999999",
            "99999999999999999999999",
        ] {
            let msg = refusal(value_in::<i64>(
                "IDEMPOTENCY_KEY_EXPIRATION_HOURS",
                raw,
                &(1..=8760),
            ));
            assert!(msg.contains("IDEMPOTENCY_KEY_EXPIRATION_HOURS"), "{msg}");
            assert!(msg.contains("from 1 to 8760"), "{msg}");
        }
        for raw in ["0", "70000", "9999999999999", "-80"] {
            let msg = refusal(value_in("PORT", raw, &PORTS));
            assert!(
                msg.contains("PORT must be a whole number from 1 to 65535"),
                "{msg}"
            );
        }
        let msg = refusal(value_in::<u64>(
            "UPSTREAM_BACKOFF_MS",
            "18446744073709551616",
            &(0..=60_000),
        ));
        assert!(msg.contains("from 0 to 60000"), "{msg}");
    }

    #[test]
    fn durations_in_range_are_taken() {
        let range = 60..=30 * 86_400;
        assert_eq!(duration_value_in("T", "1h", &range).unwrap(), 3600);
        assert_eq!(duration_value_in("T", "60", &range).unwrap(), 60);
        assert_eq!(duration_value_in("T", "30d", &range).unwrap(), 30 * 86_400);
    }

    #[test]
    fn durations_out_of_range_or_garbage_name_the_variable_and_its_range() {
        let range = 60..=30 * 86_400;
        for raw in [
            "59",
            "31d",
            "0",
            "1y",
            "h",
            "-1h",
            "9999999999999",
            "9999999999999d",
            "9223372036854775807",
        ] {
            let msg = refusal(duration_value_in("JWT_EXPIRES_IN", raw, &range));
            assert!(
                msg.contains("JWT_EXPIRES_IN must be a duration from 1m to 30d"),
                "{msg}"
            );
        }
    }

    #[test]
    fn ranges_print_in_the_largest_exact_unit() {
        assert_eq!(human_secs(90), "90s");
        assert_eq!(human_secs(900), "15m");
        assert_eq!(human_secs(7200), "2h");
        assert_eq!(human_secs(86_400), "1d");
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(check_secret("JWT_SECRET", "short").is_err());
        assert!(check_secret("JWT_SECRET", DEV_JWT_SECRET).is_ok());
        assert!(check_secret("SERVICE_TOKEN", DEV_SERVICE_TOKEN).is_ok());
    }

    #[test]
    fn every_entry_of_a_secret_list_is_checked_and_named() {
        let long = "k".repeat(MIN_SECRET_BYTES);
        assert!(check_secret("JWT_SECRET", &format!("{long},{DEV_JWT_SECRET}")).is_ok());
        let msg = refusal(check_secret("JWT_SECRET", &format!("{long},short,{long}")));
        assert!(
            msg.contains("JWT_SECRET entry 2 of 3 (comma-separated) is too short: 5 bytes"),
            "{msg}"
        );
        let msg = refusal(check_secret("SERVICE_TOKEN", &format!("{long},")));
        assert!(msg.contains("SERVICE_TOKEN entry 2 of 2"), "{msg}");
        let msg = refusal(check_secret("SERVICE_TOKEN", "short"));
        assert!(msg.contains("SERVICE_TOKEN is too short: 5 bytes"), "{msg}");
    }

    #[test]
    fn the_first_entry_is_the_primary_one() {
        assert_eq!(primary_secret("new,old"), "new");
        assert_eq!(primary_secret("only"), "only");
        assert_eq!(secret_entries("a,b,c").count(), 3);
    }
}
