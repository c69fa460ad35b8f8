//! Out-of-range settings stop the real binary at start-up with one line naming the variable and
//! its range (exit 1): never a panic inside chrono, never a value that overflows later.

use b2b_testkit::assert_refused;

const BIN: &str = env!("CARGO_BIN_EXE_orders-api");
const HUGE: &str = "9999999999999";

#[test]
fn a_huge_key_lifetime_or_cancellation_window_stops_start_up() {
    assert_refused(
        BIN,
        "IDEMPOTENCY_KEY_EXPIRATION_HOURS",
        HUGE,
        "from 1 to 8760",
    );
    assert_refused(
        BIN,
        "IDEMPOTENCY_KEY_EXPIRATION_HOURS",
        "0",
        "from 1 to 8760",
    );
    assert_refused(
        BIN,
        "ORDER_CANCELLATION_WINDOW_MINUTES",
        HUGE,
        "from 0 to 525600",
    );
    assert_refused(
        BIN,
        "ORDER_CANCELLATION_WINDOW_MINUTES",
        "-1",
        "from 0 to 525600",
    );
}

#[test]
fn other_numeric_settings_out_of_range_stop_start_up() {
    assert_refused(BIN, "CUSTOMERS_API_TIMEOUT_MS", HUGE, "from 100 to 60000");
    assert_refused(BIN, "CUSTOMERS_API_TIMEOUT_MS", "0", "from 100 to 60000");
    assert_refused(BIN, "PORT", HUGE, "from 1 to 65535");
}
