//! Orders, their lines, money arithmetic and the allowed status changes.

use std::ops::RangeInclusive;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::{Fields, FromJson, int_schema};

/// Most lines in one order, and the range of one line's quantity.
pub const MAX_LINES: usize = 100;
pub const QTY: RangeInclusive<i64> = 1..=10_000;
/// Ids a request may name.
pub const ID: RangeInclusive<i64> = 1..=i64::MAX;

crate::schemas! {
    product_id_schema = int_schema(ID, Some(2));
    qty_schema = int_schema(QTY, Some(3));
    customer_id_schema = int_schema(ID, Some(1));
}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Created,
    Confirmed,
    Canceled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Confirmed => "CONFIRMED",
            Self::Canceled => "CANCELED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CREATED" => Some(Self::Created),
            "CONFIRMED" => Some(Self::Confirmed),
            "CANCELED" => Some(Self::Canceled),
            _ => None,
        }
    }
}

/// What a confirmation does to an order in a given state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmDecision {
    Confirm,
    /// Already confirmed: answered unchanged.
    AlreadyConfirmed,
    Forbidden,
}

/// What a cancellation does to an order in a given state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelDecision {
    /// Cancel and give the stock back.
    Cancel,
    /// Already canceled: answered unchanged, nothing restored.
    AlreadyCanceled,
    /// Confirmed longer ago than the cancellation window.
    WindowClosed,
}

pub fn confirm_decision(status: OrderStatus) -> ConfirmDecision {
    match status {
        OrderStatus::Created => ConfirmDecision::Confirm,
        OrderStatus::Confirmed => ConfirmDecision::AlreadyConfirmed,
        OrderStatus::Canceled => ConfirmDecision::Forbidden,
    }
}

/// `CREATED → CANCELED` always; `CONFIRMED → CANCELED` only within `window` of `confirmed_at`.
pub fn cancel_decision(
    status: OrderStatus,
    confirmed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    window: Duration,
) -> CancelDecision {
    match status {
        OrderStatus::Created => CancelDecision::Cancel,
        OrderStatus::Canceled => CancelDecision::AlreadyCanceled,
        OrderStatus::Confirmed => match confirmed_at {
            Some(at) if now <= at + window => CancelDecision::Cancel,
            _ => CancelDecision::WindowClosed,
        },
    }
}

/// The subtotal of a line; `None` on overflow (impossible within the validated ranges).
pub fn subtotal(unit_price_cents: i64, qty: i64) -> Option<i64> {
    unit_price_cents.checked_mul(qty)
}

/// One line of an order, with the price captured when the order was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderItem {
    #[schema(example = 2)]
    pub product_id: i64,
    #[schema(example = 3)]
    pub qty: i64,
    #[schema(example = 1299)]
    pub unit_price_cents: i64,
    #[schema(example = 3897)]
    pub subtotal_cents: i64,
}

/// An order with its lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Order {
    #[schema(example = 1)]
    pub id: i64,
    #[schema(example = 1)]
    pub customer_id: i64,
    pub status: OrderStatus,
    #[schema(example = 3897)]
    pub total_cents: i64,
    pub items: Vec<OrderItem>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub canceled_at: Option<DateTime<Utc>>,
}

/// One line of `POST /orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrderLine {
    #[schema(schema_with = product_id_schema)]
    pub product_id: i64,
    #[schema(schema_with = qty_schema)]
    pub qty: i64,
}

/// The body of `POST /orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    #[schema(schema_with = customer_id_schema)]
    pub customer_id: i64,
    /// 1–100 lines, each product at most once.
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<NewOrderLine>,
}

impl NewOrder {
    /// The same request in one canonical form: its lines (a set: no product twice) by product id.
    pub fn canonical(&self) -> Self {
        let mut items = self.items.clone();
        items.sort_by_key(|l| l.product_id);
        Self {
            customer_id: self.customer_id,
            items,
        }
    }
}

impl NewOrderLine {
    fn from_fields(f: &mut Fields<'_>) -> Option<Self> {
        let product_id = f.int("product_id", ID);
        let qty = f.int("qty", QTY);
        Some(Self {
            product_id: product_id?,
            qty: qty?,
        })
    }
}

/// Reads `items` of an order request: 1–100 lines, each product at most once.
pub fn read_lines(f: &mut Fields<'_>) -> Option<Vec<NewOrderLine>> {
    let items = f.array("items", 1..=MAX_LINES, NewOrderLine::from_fields)?;
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    let mut ok = true;
    for (i, line) in items.iter().enumerate() {
        if !seen.insert(line.product_id) {
            f.error(
                &format!("items[{i}].product_id"),
                "product appears more than once",
            );
            ok = false;
        }
    }
    ok.then_some(items)
}

impl FromJson for NewOrder {
    fn from_fields(f: &mut Fields<'_>) -> Option<Self> {
        let customer_id = f.int("customer_id", ID);
        let items = read_lines(f);
        Some(Self {
            customer_id: customer_id?,
            items: items?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
