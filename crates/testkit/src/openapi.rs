//! The OpenAPI drift guard each service runs: served = generated = committed.

use b2b_platform::config::names;
use serde_json::Value;

/// Asserts that the document `service` serves is the one its code generates, and that
/// `openapi/<service>.json` holds it; with `UPDATE_OPENAPI=1` the file is rewritten instead.
pub fn assert_openapi_current(service: &str, served: &Value, generated: &Value) {
    assert_eq!(served, generated);
    let committed = format!(
        "{}/../../openapi/{service}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    if std::env::var(names::UPDATE_OPENAPI).is_ok_and(|v| v == "1") {
        let text = serde_json::to_string_pretty(generated).unwrap() + "\n";
        std::fs::write(&committed, text).expect("write the committed document");
        return;
    }
    let text = std::fs::read_to_string(&committed)
        .unwrap_or_else(|_| panic!("openapi/{service}.json is missing"));
    let committed: Value = serde_json::from_str(&text).expect("the committed document is JSON");
    assert!(
        &committed == generated,
        "openapi/{service}.json is out of date: run UPDATE_OPENAPI=1 cargo nextest run -p {service} openapi"
    );
}
