//! Reading settings from the environment, with one clear line for anything missing or invalid.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;

use anyhow::bail;

mod durations;
pub mod names;
mod secrets;

pub use durations::{duration_range_text, human_secs, parse_duration_secs};
pub use secrets::*;

pub use crate::dotenv::{database_url, load as load_dotenv};

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
