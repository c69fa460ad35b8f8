//! Orchestrator requests are validated field by field; failures serialise as the envelope.

use b2b_domain::{ErrorCode, FromJson};
use lambda_orchestrator::envelope::*;
use serde_json::json;

#[test]
fn requests_are_validated_field_by_field() {
    let ok = OrchestratorRequest::from_json(
        &json!({"customer_id": 1, "items": [{"product_id": 2, "qty": 3}],
        "idempotency_key": "abc-123", "correlation_id": "req-789"}),
    )
    .unwrap();
    assert_eq!(
        (ok.idempotency_key.as_str(), ok.correlation_id.as_deref()),
        ("abc-123", Some("req-789"))
    );
    let err = OrchestratorRequest::from_json(
        &json!({"customer_id": "1", "items": [], "idempotency_key": "a b", "correlation_id": "a b"}),
    )
    .unwrap_err();
    let fields: Vec<_> = err.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["customer_id", "items", "idempotency_key", "correlation_id"]
    );
}

#[test]
fn failures_serialise_as_the_envelope() {
    let body = Failure::new(ErrorCode::InsufficientStock, "no").into_body("c-1");
    let v = serde_json::to_value(body).unwrap();
    assert_eq!(
        v,
        json!({"success": false, "correlationId": "c-1", "error": {"code": ErrorCode::InsufficientStock, "message": "no"}})
    );
}
