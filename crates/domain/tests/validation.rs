//! Every failing field listed; missing, null, wrong types, fractions; idempotency keys.

use b2b_domain::validation::*;
use serde_json::json;

struct Sample {
    name: String,
    qty: i64,
    phone: Option<String>,
}

impl FromJson for Sample {
    fn from_fields(f: &mut Fields<'_>) -> Option<Self> {
        let name = f.string("name", Text { min: 1, max: 5 });
        let qty = f.int("qty", 1..=10);
        let phone = f.opt_string("phone", 3);
        Some(Self {
            name: name?,
            qty: qty?,
            phone: phone?,
        })
    }
}

#[test]
fn lists_every_failing_field() {
    let err = Sample::from_json(&json!({"name": 3, "qty": 11, "phone": "12345", "x": 1}))
        .err()
        .unwrap();
    let fields: Vec<_> = err.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["name", "qty", "phone", "x"]);
}

#[test]
fn reports_missing_and_accepts_valid() {
    let err = Sample::from_json(&json!({})).err().unwrap();
    assert_eq!(err.len(), 2);
    assert!(err.iter().all(|e| e.message == "is required"));
    let ok = Sample::from_json(&json!({"name": " ab ", "qty": 2, "phone": null})).unwrap();
    assert_eq!((ok.name.as_str(), ok.qty, ok.phone), ("ab", 2, None));
    // Lengths count what was sent, blanks included; a blank value is empty.
    let err = Sample::from_json(&json!({"name": "ab    ", "qty": 2, "phone": "  "}))
        .err()
        .unwrap();
    assert_eq!(err[0].message, "must be between 1 and 5 characters");
    assert_eq!(err.len(), 1, "a blank optional string is absent: {err:?}");
    let err = Sample::from_json(&json!({"name": " \t", "qty": 2}))
        .err()
        .unwrap();
    assert_eq!(err[0].message, "must not be empty");
}

#[test]
fn rejects_non_objects_and_fractions() {
    assert_eq!(
        Sample::from_json(&json!([1])).err().unwrap()[0].field,
        "body"
    );
    let err = Sample::from_json(&json!({"name": "a", "qty": 1.5}))
        .err()
        .unwrap();
    assert_eq!(err[0].message, "must be an integer");
    assert_eq!(
        Sample::from_json(&json!({"name": "a", "qty": 3.0}))
            .unwrap()
            .qty,
        3
    );
    // A whole number with a fraction part, read exactly (serde_json's `float_roundtrip`).
    for text in [
        r#"{"name": "a", "qty": 1e300}"#,
        r#"{"name": "a", "qty": 1927560440112723.0}"#,
    ] {
        let err = Sample::from_json(&serde_json::from_str(text).unwrap())
            .err()
            .unwrap();
        assert_eq!(err[0].message, "must be between 1 and 10", "{text}");
    }
}

#[test]
fn idempotency_keys() {
    assert!(is_valid_idempotency_key("abc-123"));
    assert!(!is_valid_idempotency_key(""));
    assert!(!is_valid_idempotency_key("a b"));
    assert!(!is_valid_idempotency_key(&"a".repeat(256)));
    assert!(!is_valid_idempotency_key("é"));
}
