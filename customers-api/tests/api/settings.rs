//! Out-of-range settings stop the real binary at start-up with one line naming the variable and
//! its range (exit 1): never a panic, never a value that overflows later.

use b2b_testkit::assert_refused;

const BIN: &str = env!("CARGO_BIN_EXE_customers-api");
const HUGE: &str = "9999999999999";

#[test]
fn a_huge_token_lifetime_stops_start_up() {
    assert_refused(BIN, "JWT_EXPIRES_IN", HUGE, "from 1m to 30d");
    assert_refused(
        BIN,
        "JWT_EXPIRES_IN",
        "9223372036854775807s",
        "from 1m to 30d",
    );
    assert_refused(BIN, "JWT_EXPIRES_IN", "0", "from 1m to 30d");
}

#[test]
fn other_numeric_settings_out_of_range_stop_start_up() {
    assert_refused(BIN, "LOGIN_ATTEMPTS_PER_MINUTE", HUGE, "from 1 to 10000");
    assert_refused(BIN, "LOGIN_ATTEMPTS_PER_MINUTE", "0", "from 1 to 10000");
    assert_refused(BIN, "PORT", "70000", "from 1 to 65535");
    assert_refused(BIN, "PORT", "http", "from 1 to 65535");
}
