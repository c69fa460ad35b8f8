//! The all-in-one `cargo run` checks every part's settings, and its own ports, the same way:
//! one line naming the variable and its range, exit 1, no panic.

use b2b_testkit::assert_refused_with;

const BIN: &str = env!("CARGO_BIN_EXE_b2b-orders");
const HUGE: &str = "9999999999999";

fn free_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("address").port().to_string()
}

#[test]
fn out_of_range_settings_stop_the_whole_system() {
    // Free ports, so a binary that wrongly starts does not take 3000–3002 from anyone.
    let ports = [free_port(), free_port(), free_port()];
    let env = [
        ("CUSTOMERS_PORT", ports[0].as_str()),
        ("ORDERS_PORT", ports[1].as_str()),
        ("ORCHESTRATOR_PORT", ports[2].as_str()),
    ];
    let refused = |name: &str, value: &str, allowed: &str| {
        assert_refused_with(BIN, &env, name, value, allowed);
    };
    refused("IDEMPOTENCY_KEY_EXPIRATION_HOURS", HUGE, "from 1 to 8760");
    refused("JWT_EXPIRES_IN", HUGE, "from 1m to 30d");
    refused("ORCHESTRATION_DEADLINE_MS", HUGE, "from 1000 to 900000");
    refused("ORDERS_PORT", "70000", "from 1 to 65535");
    refused("BIND_ADDRESS", "localhost", "invalid IP address syntax");
}
