//! The real `orders-api` binary's command line: `--help` and `--version` print and exit 0
//! without serving or touching a database.

const BIN: &str = env!("CARGO_BIN_EXE_orders-api");

#[test]
fn help_and_version_exit_0_without_serving_or_touching_a_database() {
    b2b_testkit::assert_help_is_offline(
        BIN,
        &[
            &["--help"],
            &["--version"],
            &["help"],
            &["serve", "--help"],
            &["migrate", "--help"],
            &["healthcheck", "--help"],
        ],
    );
}

#[test]
fn serves_help_lists_its_settings_with_defaults_and_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let out = b2b_testkit::run_cli(BIN, dir.path(), &["serve", "--help"], &[], "");
    for expected in [
        "PORT=3002",
        "IDEMPOTENCY_KEY_EXPIRATION_HOURS=24",
        "from 1 to 8760",
        "ORDER_CANCELLATION_WINDOW_MINUTES=10",
        "from 0 to 525600",
        "CUSTOMERS_API_TIMEOUT_MS=3000",
        "SERVICE_TOKEN (required)",
    ] {
        assert!(out.stdout.contains(expected), "{expected:?} in {out:?}");
    }
}

#[test]
fn an_unknown_command_still_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = b2b_testkit::run_cli(BIN, dir.path(), &["seed"], &[], "");
    assert_eq!(out.code, Some(1), "{out:?}");
}
