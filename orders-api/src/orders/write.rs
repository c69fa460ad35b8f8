//! The three state changes, each one transaction run through [`crate::idempotency::run_once`].
//!
//! Stock is taken with a guarded decrement (`stock = stock - ? WHERE id = ? AND stock >= ?`), line
//! by line in product-id order so concurrent orders lock rows in the same order; the row locks
//! make it correct across any number of orders-api replicas on one database, and the `CHECK
//! (stock >= 0)` is a last guard. Nothing is ever read and then written back.

use std::collections::HashMap;

use axum::http::StatusCode;
use b2b_domain::order::{CancelDecision, ConfirmDecision, NewOrder, Order, OrderItem, OrderStatus};
use b2b_domain::order::{cancel_decision, confirm_decision, subtotal};
use b2b_platform::metrics::ORDERS_REFUSED;
use b2b_platform::sql::{Arg, Exec, Tx, placeholders};
use b2b_platform::{ApiError, CorrelationId, ErrorCode, args};
use chrono::{DateTime, Duration, Utc};

use super::repo::get_in;
use crate::customers_client::CustomersClient;
use crate::idempotency::{Effect, TxError};

/// Creates an order.
pub struct Create<'a> {
    pub order: &'a NewOrder,
    /// The customer check, when it must run inside the transaction: a keyed create checks its
    /// customer only once it holds its key.
    pub customer: Option<(&'a CustomersClient, &'a CorrelationId)>,
}
/// Confirms order `.0`.
pub struct Confirm(pub i64);
/// Cancels an order.
pub struct Cancel {
    pub id: i64,
    /// How long after its confirmation an order may still be cancelled.
    pub window: Duration,
    /// Cancel only an order still `CREATED` (a compensation must not undo a confirmation).
    pub only_created: bool,
}

impl Effect for Create<'_> {
    type Output = Order;
    async fn apply(&self, tx: &mut Tx, now: DateTime<Utc>) -> Result<Order, TxError> {
        if let Some((client, correlation)) = self.customer {
            client.check(self.order.customer_id, correlation).await?;
        }
        create(tx, self.order, now).await
    }
}

impl Effect for Confirm {
    type Output = Order;
    fn apply(
        &self,
        tx: &mut Tx,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Order, TxError>> + Send {
        confirm(tx, self.0, now)
    }
}

impl Effect for Cancel {
    type Output = Order;
    fn apply(
        &self,
        tx: &mut Tx,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Order, TxError>> + Send {
        cancel(tx, self, now)
    }
}

fn ids_list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn order_not_found(id: i64) -> TxError {
    ApiError::not_found(ErrorCode::OrderNotFound, format!("order {id} not found")).into()
}

/// Creates an order in `CREATED`, taking its stock; all lines or none.
pub async fn create(tx: &mut Tx, req: &NewOrder, now: DateTime<Utc>) -> Result<Order, TxError> {
    const TAKE: &str = "UPDATE products SET stock = stock - ?, updated_at = ?, version = version + 1 WHERE id = ? AND stock >= ?";
    let lines = req.canonical().items;

    let mut short = Vec::new();
    for l in &lines {
        if tx
            .execute(TAKE, &args![l.qty, now, l.product_id, l.qty])
            .await?
            == 0
        {
            short.push(l.product_id);
        }
    }
    // Read after the decrements: the rows are locked by now, so these are the prices that hold.
    let ids: Vec<Arg> = lines.iter().map(|l| Arg::I64(l.product_id)).collect();
    let sql = format!(
        "SELECT id, price_cents FROM products WHERE id IN ({})",
        placeholders(ids.len())
    );
    let prices: HashMap<i64, i64> = tx
        .fetch_all::<(i64, i64)>(&sql, &ids)
        .await?
        .into_iter()
        .collect();

    let missing: Vec<i64> = lines
        .iter()
        .map(|l| l.product_id)
        .filter(|id| !prices.contains_key(id))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::Products {
            status: StatusCode::NOT_FOUND,
            code: ErrorCode::ProductNotFound,
            detail: format!("products not found: {}", ids_list(&missing)),
            product_ids: missing,
        }
        .into());
    }
    if !short.is_empty() {
        metrics::counter!(ORDERS_REFUSED, "reason" => "insufficient_stock").increment(1);
        return Err(ApiError::Products {
            status: StatusCode::CONFLICT,
            code: ErrorCode::InsufficientStock,
            detail: format!("insufficient stock for products: {}", ids_list(&short)),
            product_ids: short,
        }
        .into());
    }

    let mut items = Vec::with_capacity(lines.len());
    let mut total: i64 = 0;
    for l in &lines {
        let unit = prices[&l.product_id];
        let sub = subtotal(unit, l.qty)
            .ok_or_else(|| ApiError::field("items", "order total is too large"))?;
        total = total
            .checked_add(sub)
            .ok_or_else(|| ApiError::field("items", "order total is too large"))?;
        items.push(OrderItem {
            product_id: l.product_id,
            qty: l.qty,
            unit_price_cents: unit,
            subtotal_cents: sub,
        });
    }

    const ORDER: &str = "INSERT INTO orders (customer_id, status, total_cents, created_at, updated_at) VALUES (?, ?, ?, ?, ?)";
    let id = tx
        .insert(
            ORDER,
            &args![
                req.customer_id,
                OrderStatus::Created.as_str(),
                total,
                now,
                now
            ],
        )
        .await?;
    let mut values = Vec::with_capacity(items.len() * 5);
    for i in &items {
        values.extend(args![
            id,
            i.product_id,
            i.qty,
            i.unit_price_cents,
            i.subtotal_cents
        ]);
    }
    let rows = vec!["(?, ?, ?, ?, ?)"; items.len()].join(", ");
    let sql = format!(
        "INSERT INTO order_items (order_id, product_id, qty, unit_price_cents, subtotal_cents) VALUES {rows}"
    );
    tx.execute(&sql, &values).await?;

    Ok(Order {
        id,
        customer_id: req.customer_id,
        status: OrderStatus::Created,
        total_cents: total,
        items,
        created_at: now,
        updated_at: now,
        confirmed_at: None,
        canceled_at: None,
    })
}

/// `CREATED → CONFIRMED`; a confirmed order is returned unchanged; a canceled one is a 409.
pub async fn confirm(tx: &mut Tx, id: i64, now: DateTime<Utc>) -> Result<Order, TxError> {
    let sql = format!(
        "{} SET status = 'CONFIRMED', confirmed_at = ?, updated_at = ? WHERE id = ? AND status = 'CREATED'",
        tx.update_by_key("orders")
    );
    let changed = tx.execute(&sql, &args![now, now, id]).await?;
    let order = get_in(tx, id).await?.ok_or_else(|| order_not_found(id))?;
    if changed == 0 && confirm_decision(order.status) == ConfirmDecision::Forbidden {
        return Err(ApiError::conflict(
            ErrorCode::OrderNotConfirmable,
            format!("order {id} is canceled and cannot be confirmed"),
        )
        .into());
    }
    Ok(order)
}

/// `CREATED → CANCELED`, or `CONFIRMED → CANCELED` within `window` of `confirmed_at`, giving the
/// stock back in the same transaction. The guarded status update lets exactly one of any number
/// of racing cancels restore the stock; the others find the order canceled and return it.
pub async fn cancel(tx: &mut Tx, c: &Cancel, now: DateTime<Utc>) -> Result<Order, TxError> {
    let update = tx.update_by_key("orders");
    let id = c.id;
    let changed = if c.only_created {
        let sql = format!(
            "{update} SET status = 'CANCELED', canceled_at = ?, updated_at = ? WHERE id = ? AND status = 'CREATED'"
        );
        tx.execute(&sql, &args![now, now, id]).await?
    } else {
        let sql = format!(
            "{update} SET status = 'CANCELED', canceled_at = ?, updated_at = ? \
             WHERE id = ? AND (status = 'CREATED' OR (status = 'CONFIRMED' AND confirmed_at >= ?))"
        );
        tx.execute(&sql, &args![now, now, id, now - c.window])
            .await?
    };
    let order = get_in(tx, id).await?.ok_or_else(|| order_not_found(id))?;
    if changed == 1 {
        restore(tx, &order.items, now).await?;
    }
    if changed == 0 {
        match cancel_decision(order.status, order.confirmed_at, now, c.window) {
            CancelDecision::AlreadyCanceled => {}
            _ if c.only_created => {
                return Err(ApiError::conflict(
                    ErrorCode::OrderNotCreated,
                    format!(
                        "order {id} is {} and was left as it is (if_status=CREATED)",
                        order.status.as_str()
                    ),
                )
                .into());
            }
            CancelDecision::WindowClosed => {
                return Err(ApiError::conflict(
                    ErrorCode::CancellationWindowClosed,
                    format!(
                        "order {id} was confirmed more than {} minutes ago",
                        c.window.num_minutes()
                    ),
                )
                .into());
            }
            CancelDecision::Cancel => {
                return Err(ApiError::Internal(anyhow::anyhow!(
                    "order {id} cancellable but not cancelled"
                ))
                .into());
            }
        }
    }
    Ok(order)
}

/// Gives the lines' units back to their products. The ids are listed in the statement (no
/// subquery), so it locks exactly those rows on every engine: MariaDB before 11.1 runs
/// `WHERE id IN (SELECT …)` of a single-table UPDATE as a scan that locks the whole catalogue.
async fn restore(tx: &mut Tx, items: &[OrderItem], now: DateTime<Utc>) -> sqlx::Result<u64> {
    let mut values = Vec::with_capacity(items.len() * 3 + 1);
    for i in items {
        values.extend(args![i.product_id, i.qty]);
    }
    values.push(now.into());
    values.extend(items.iter().map(|i| Arg::I64(i.product_id)));
    tx.execute(&restore_sql(items.len()), &values).await
}

/// `UPDATE products SET stock = stock + CASE id WHEN ? THEN ? … END, updated_at = ?, version = version + 1
/// WHERE id IN (…)`.
pub fn restore_sql(lines: usize) -> String {
    format!(
        "UPDATE products SET stock = stock + CASE id {} END, updated_at = ?, version = version + 1 WHERE id IN ({})",
        vec!["WHEN ? THEN ?"; lines].join(" "),
        placeholders(lines)
    )
}
