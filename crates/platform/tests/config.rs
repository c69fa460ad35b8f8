//! Settings: whole numbers and durations in range, secrets long enough, key lists.

use b2b_platform::config::names::{self, JWT_SECRET, SERVICE_TOKEN};
use b2b_platform::config::*;

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
    assert_eq!(value_in(names::PORT, "65535", &PORTS).unwrap(), 65535);
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
            names::IDEMPOTENCY_KEY_EXPIRATION_HOURS,
            raw,
            &(1..=8760),
        ));
        assert!(
            msg.contains(names::IDEMPOTENCY_KEY_EXPIRATION_HOURS),
            "{msg}"
        );
        assert!(msg.contains("from 1 to 8760"), "{msg}");
    }
    for raw in ["0", "70000", "9999999999999", "-80"] {
        let msg = refusal(value_in(names::PORT, raw, &PORTS));
        assert!(
            msg.contains("PORT must be a whole number from 1 to 65535"),
            "{msg}"
        );
    }
    let msg = refusal(value_in::<u64>(
        names::UPSTREAM_BACKOFF_MS,
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
        let msg = refusal(duration_value_in(names::JWT_EXPIRES_IN, raw, &range));
        assert!(
            msg.contains("JWT_EXPIRES_IN must be a duration from 1m to 30d"),
            "{msg}"
        );
    }
}

#[test]
fn short_secrets_are_refused() {
    assert!(check_secret(JWT_SECRET, "short").is_err());
    assert!(check_secret(JWT_SECRET, DEV_JWT_SECRET).is_ok());
    assert!(check_secret(SERVICE_TOKEN, DEV_SERVICE_TOKEN).is_ok());
}

#[test]
fn every_entry_of_a_secret_list_is_checked_and_named() {
    let long = "k".repeat(MIN_SECRET_BYTES);
    assert!(check_secret(JWT_SECRET, &format!("{long},{DEV_JWT_SECRET}")).is_ok());
    let msg = refusal(check_secret(JWT_SECRET, &format!("{long},short,{long}")));
    assert!(
        msg.contains("JWT_SECRET entry 2 of 3 (comma-separated) is too short: 5 bytes"),
        "{msg}"
    );
    let msg = refusal(check_secret(SERVICE_TOKEN, &format!("{long},")));
    assert!(msg.contains("SERVICE_TOKEN entry 2 of 2"), "{msg}");
    let msg = refusal(check_secret(SERVICE_TOKEN, "short"));
    assert!(msg.contains("SERVICE_TOKEN is too short: 5 bytes"), "{msg}");
}

#[test]
fn the_first_entry_is_the_primary_one() {
    assert_eq!(primary_secret("new,old"), "new");
    assert_eq!(primary_secret("only"), "only");
    assert_eq!(secret_entries("a,b,c").count(), 3);
}

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
fn ranges_print_in_the_largest_exact_unit() {
    assert_eq!(human_secs(90), "90s");
    assert_eq!(human_secs(900), "15m");
    assert_eq!(human_secs(7200), "2h");
    assert_eq!(human_secs(86_400), "1d");
}
