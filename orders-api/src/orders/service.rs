//! The three state changes of an order, each one write transaction: what the handlers call, in
//! the domain's terms ([`OrderError`]), leaving HTTP to them.

use std::collections::HashMap;

use axum::http::StatusCode;
use b2b_domain::order::{CancelDecision, ConfirmDecision, NewOrder, Order, OrderItem, OrderStatus};
use b2b_domain::order::{cancel_decision, cancellable_since, confirm_decision, subtotal};
use b2b_platform::CorrelationId;
use b2b_platform::db::Tx;
use b2b_platform::metrics::ORDERS_REFUSED;
use chrono::{DateTime, Utc};

use super::error::OrderError;
use super::repo;
use crate::AppState;
use crate::idempotency::{self, Claim, TRIES, Written};
use crate::products::repo as products;

/// Creates an order in `CREATED`, taking its stock; all lines or none; once per key.
pub async fn create(
    state: &AppState,
    order: &NewOrder,
    claim: Option<&Claim>,
    correlation: &CorrelationId,
) -> Result<Written, OrderError> {
    // Unkeyed, the customer is checked before the transaction; keyed, inside it once the key is
    // held (see `idempotency`): a retry is answered from its key whatever changed since.
    let customers = &state.customers;
    if claim.is_none() {
        customers
            .ensure_exists(order.customer_id, correlation)
            .await?;
    }
    let ttl = state.rules.idempotency_ttl;
    let created = StatusCode::CREATED;
    idempotency::once(
        &state.db,
        &state.clock,
        claim,
        ttl,
        created,
        |mut tx, now| async move {
            if claim.is_some() {
                customers
                    .ensure_exists(order.customer_id, correlation)
                    .await?;
            }
            let order = place(&mut tx, order, now).await?;
            Ok((tx, order))
        },
    )
    .await
}

async fn place(tx: &mut Tx, req: &NewOrder, now: DateTime<Utc>) -> Result<Order, OrderError> {
    let lines = req.canonical().items;
    let held: HashMap<i64, products::Held> = products::hold(tx, lines.iter().map(|l| l.product_id))
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let missing: Vec<i64> = lines
        .iter()
        .map(|l| l.product_id)
        .filter(|id| !held.contains_key(id))
        .collect();
    if !missing.is_empty() {
        return Err(OrderError::ProductsNotFound(missing));
    }
    let short: Vec<i64> = lines
        .iter()
        .filter(|l| held[&l.product_id].stock < l.qty)
        .map(|l| l.product_id)
        .collect();
    // With the rows locked, the guarded decrement changes every one of them; were it ever to
    // change fewer, the order is refused all the same.
    if short.is_empty() && products::take_stock(tx, &lines, now).await? != lines.len() as u64 {
        return Err(OrderError::InsufficientStock(
            lines.iter().map(|l| l.product_id).collect(),
        ));
    }
    if !short.is_empty() {
        metrics::counter!(ORDERS_REFUSED, "reason" => "insufficient_stock").increment(1);
        return Err(OrderError::InsufficientStock(short));
    }

    let mut items = Vec::with_capacity(lines.len());
    let mut total: i64 = 0;
    for l in &lines {
        let unit = held[&l.product_id].price_cents;
        let sub = subtotal(unit, l.qty).ok_or(OrderError::TotalTooLarge)?;
        total = total.checked_add(sub).ok_or(OrderError::TotalTooLarge)?;
        items.push(OrderItem {
            product_id: l.product_id,
            qty: l.qty,
            unit_price_cents: unit,
            subtotal_cents: sub,
        });
    }
    let id = repo::insert(tx, req.customer_id, total, &items, now).await?;
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

/// `CREATED → CONFIRMED`, once per key; a confirmed order is returned unchanged.
pub async fn confirm(state: &AppState, id: i64, claim: &Claim) -> Result<Written, OrderError> {
    let ttl = state.rules.idempotency_ttl;
    let claim = Some(claim);
    idempotency::once(
        &state.db,
        &state.clock,
        claim,
        ttl,
        StatusCode::OK,
        |mut tx, now| async move {
            let changed = repo::confirm(&mut tx, id, now).await?;
            let order = repo::get_in(&mut tx, id)
                .await?
                .ok_or(OrderError::NotFound(id))?;
            if !changed && confirm_decision(order.status) == ConfirmDecision::Forbidden {
                return Err(OrderError::NotConfirmable(id));
            }
            Ok((tx, order))
        },
    )
    .await
}

/// `CREATED → CANCELED`, or `CONFIRMED → CANCELED` within the cancellation window, giving the
/// stock back in the same transaction; with `only_created`, only an order still `CREATED` (a
/// compensation must not undo a confirmation). The guarded status update lets exactly one of
/// any number of racing cancels restore the stock; the others find the order canceled.
pub async fn cancel(state: &AppState, id: i64, only_created: bool) -> Result<Order, OrderError> {
    let window = state.rules.cancellation_window;
    state
        .db
        .write_tx(TRIES, |mut tx| async move {
            let now = state.clock.now();
            let since = cancellable_since(now, window);
            let changed = repo::cancel(&mut tx, id, now, only_created, since).await?;
            let order = repo::get_in(&mut tx, id)
                .await?
                .ok_or(OrderError::NotFound(id))?;
            if changed {
                products::restore(&mut tx, &order.items, now).await?;
                return Ok((tx, order));
            }
            match cancel_decision(order.status, order.confirmed_at, now, window) {
                CancelDecision::AlreadyCanceled => Ok((tx, order)),
                _ if only_created => Err(OrderError::NotCreated {
                    id,
                    status: order.status,
                }),
                CancelDecision::WindowClosed => Err(OrderError::WindowClosed {
                    id,
                    minutes: window.num_minutes(),
                }),
                CancelDecision::Cancel => Err(OrderError::Internal(anyhow::anyhow!(
                    "order {id} cancellable but not cancelled"
                ))),
            }
        })
        .await
}
