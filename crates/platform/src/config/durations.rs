//! Durations as settings write them (`3600`, `90s`, `15m`, `1h`, `2d`) and as `--help` and
//! start-up errors print them.

use std::ops::RangeInclusive;

/// `from 1m to 30d (seconds, or a number with s, m, h or d)`: a duration range as start-up
/// errors and `--help` both say it.
pub fn duration_range_text(range: &RangeInclusive<i64>) -> String {
    format!(
        "from {} to {} (seconds, or a number with s, m, h or d)",
        human_secs(*range.start()),
        human_secs(*range.end())
    )
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
