//! Out-of-range settings stop the real binary at start-up with one line naming the variable and
//! its range (exit 1): never a panic, never a deadline that overflows at the first request.

use b2b_testkit::assert_refused;

const BIN: &str = env!("CARGO_BIN_EXE_lambda-orchestrator");
const HUGE: &str = "9999999999999";

#[test]
fn a_huge_deadline_or_retry_setting_stops_start_up() {
    assert_refused(
        BIN,
        "ORCHESTRATION_DEADLINE_MS",
        HUGE,
        "from 1000 to 900000",
    );
    assert_refused(
        BIN,
        "ORCHESTRATION_DEADLINE_MS",
        "18446744073709551615",
        "from 1000 to 900000",
    );
    assert_refused(BIN, "UPSTREAM_MAX_ATTEMPTS", HUGE, "from 1 to 10");
    assert_refused(BIN, "UPSTREAM_MAX_ATTEMPTS", "0", "from 1 to 10");
    assert_refused(BIN, "UPSTREAM_TIMEOUT_MS", HUGE, "from 100 to 60000");
    assert_refused(BIN, "UPSTREAM_BACKOFF_MS", HUGE, "from 0 to 60000");
    assert_refused(BIN, "UPSTREAM_MAX_BACKOFF_MS", "-5", "from 0 to 60000");
    assert_refused(BIN, "PORT", "0x10", "from 1 to 65535");
}

#[test]
fn a_short_metrics_token_or_an_unknown_emf_switch_stops_start_up() {
    assert_refused(BIN, "METRICS_TOKEN", "short", "at least 32 required");
    assert_refused(BIN, "METRICS_EMF", "yes", "1 or 0");
}
