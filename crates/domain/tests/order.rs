//! Order status spelling, and the confirm and cancel rules.

use b2b_domain::FromJson;
use b2b_domain::order::*;
use chrono::{Duration, Utc};
use serde_json::json;

#[test]
fn status_round_trips() {
    for s in [
        OrderStatus::Created,
        OrderStatus::Confirmed,
        OrderStatus::Canceled,
    ] {
        assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
    }
    assert_eq!(OrderStatus::parse("created"), None);
}

#[test]
fn confirm_rules() {
    assert_eq!(
        confirm_decision(OrderStatus::Created),
        ConfirmDecision::Confirm
    );
    assert_eq!(
        confirm_decision(OrderStatus::Confirmed),
        ConfirmDecision::AlreadyConfirmed
    );
    assert_eq!(
        confirm_decision(OrderStatus::Canceled),
        ConfirmDecision::Forbidden
    );
}

#[test]
fn cancel_window_is_counted_from_confirmation() {
    let at = Utc::now();
    let w = Duration::minutes(10);
    let d = |status, now| cancel_decision(status, Some(at), now, w);
    assert_eq!(
        d(OrderStatus::Confirmed, at + Duration::minutes(10)),
        CancelDecision::Cancel
    );
    assert_eq!(
        d(OrderStatus::Confirmed, at + Duration::minutes(11)),
        CancelDecision::WindowClosed
    );
    assert_eq!(
        d(OrderStatus::Created, at + Duration::days(9)),
        CancelDecision::Cancel
    );
    assert_eq!(
        d(OrderStatus::Canceled, at),
        CancelDecision::AlreadyCanceled
    );
}

#[test]
fn order_requests_are_validated_line_by_line() {
    let body = json!({"customer_id": 0, "items": [{"product_id": 1, "qty": 0}, {"product_id": 1, "qty": 2, "x": 1}]});
    let fields: Vec<_> = NewOrder::from_json(&body)
        .err()
        .unwrap()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["customer_id", "items[0].qty", "items[1].x"]);
    let dup = json!({"customer_id": 1, "items": [{"product_id": 1, "qty": 1}, {"product_id": 1, "qty": 2}]});
    assert_eq!(
        NewOrder::from_json(&dup).err().unwrap()[0].field,
        "items[1].product_id"
    );
    assert!(NewOrder::from_json(&json!({"customer_id": 1, "items": []})).is_err());
    let ok =
        NewOrder::from_json(&json!({"customer_id": 1, "items": [{"product_id": 2, "qty": 3}]}))
            .unwrap();
    assert_eq!(ok.items[0].qty, 3);
}

#[test]
fn subtotals_are_checked() {
    assert_eq!(subtotal(1299, 3), Some(3897));
    assert_eq!(subtotal(i64::MAX, 2), None);
}
