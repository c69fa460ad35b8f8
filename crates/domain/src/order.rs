//! Orders, their lines, money arithmetic and the allowed status changes.

use std::ops::RangeInclusive;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::{Fields, FromJson, array_schema, int_schema};

/// How many lines one order has, and the range of one line's quantity.
pub const LINES: RangeInclusive<usize> = 1..=100;
pub const QTY: RangeInclusive<i64> = 1..=10_000;
/// Ids a request may name.
pub const ID: RangeInclusive<i64> = 1..=i64::MAX;

crate::schemas! {
    product_id_schema = int_schema(ID, Some(2));
    qty_schema = int_schema(QTY, Some(3));
    customer_id_schema = int_schema(ID, Some(1));
}

fn lines_schema() -> utoipa::openapi::Array {
    array_schema(
        "NewOrderLine",
        LINES,
        "1–100 lines, each product at most once.",
    )
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

/// The earliest confirmation that can still be cancelled at `now`: the cancellation window,
/// written once (the guard of the cancel's `UPDATE` binds it too).
pub fn cancellable_since(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    now - window
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
            Some(at) if at >= cancellable_since(now, window) => CancelDecision::Cancel,
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
    #[schema(schema_with = lines_schema)]
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
        crate::read_all!(Self {
            product_id: f.int("product_id", ID),
            qty: f.int("qty", QTY),
        })
    }
}

/// Reads `items` of an order request: 1–100 lines, each product at most once.
pub fn read_lines(f: &mut Fields<'_>) -> Option<Vec<NewOrderLine>> {
    let items = f.array("items", LINES, NewOrderLine::from_fields)?;
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
        crate::read_all!(Self {
            customer_id: f.int("customer_id", ID),
            items: read_lines(f),
        })
    }
}
