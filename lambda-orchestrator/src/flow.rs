//! The orchestration: look the customer up, create the order, confirm it, answer; cancel the
//! order when it was created but cannot be confirmed. The `idempotency_key` goes on both the
//! create and the confirm, so a repeated call replays the same order (docs/design.md).

use std::time::Duration;

use axum::http::StatusCode;
use b2b_domain::ErrorCode;
use b2b_domain::order::OrderStatus;
use b2b_platform::metrics::COMPENSATIONS;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::envelope::{CustomerSummary, Failure, OrchestratorRequest, OrderSummary, SuccessData};
use crate::upstream::{Answer, Unreachable, Upstream};

/// Time kept back from the main steps so a compensation can still run before the deadline.
const COMPENSATION_RESERVE: Duration = Duration::from_secs(4);

fn unreachable(service: &str, u: Unreachable) -> Failure {
    match u {
        Unreachable::Timeout => Failure::new(
            ErrorCode::UpstreamTimeout,
            format!("{service} did not answer in time"),
        ),
        Unreachable::Connection => Failure::new(
            ErrorCode::UpstreamUnavailable,
            format!("{service} is unreachable"),
        ),
    }
}

/// An answer the flow has no better mapping for.
fn unexpected(service: &str, a: &Answer) -> Failure {
    let code = match a.status.as_u16() {
        503 => ErrorCode::UpstreamUnavailable,
        504 => ErrorCode::UpstreamTimeout,
        _ => ErrorCode::UpstreamError,
    };
    Failure::new(code, format!("{service} answered {}", a.status))
        .with_details(json!({ "upstream_status": a.status.as_u16() }))
}

fn problem_detail(a: &Answer) -> String {
    a.body
        .get("detail")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn parse<T: serde::de::DeserializeOwned>(service: &str, a: &Answer) -> Result<T, Failure> {
    serde_json::from_value(a.body.clone()).map_err(|_| unexpected(service, a))
}

/// Runs the whole orchestration.
pub async fn create_and_confirm(
    up: &Upstream,
    req: &OrchestratorRequest,
    correlation: &str,
) -> Result<SuccessData, Failure> {
    let started = Instant::now();
    let deadline = started + up.policy.deadline;
    let steps_deadline = deadline
        .checked_sub(COMPENSATION_RESERVE)
        .filter(|d| *d > started)
        .unwrap_or(deadline);

    // 1. The customer.
    let a = up
        .customer(req.customer_id, correlation, steps_deadline)
        .await
        .map_err(|u| unreachable("customers-api", u))?;
    let customer: CustomerSummary = match a.status {
        StatusCode::OK => parse("customers-api", &a)?,
        StatusCode::NOT_FOUND => {
            return Err(Failure::new(
                ErrorCode::CustomerNotFound,
                format!("customer {} not found", req.customer_id),
            ));
        }
        _ => return Err(unexpected("customers-api", &a)),
    };

    // 2. The order.
    let body = json!({ "customer_id": req.customer_id, "items": req.items });
    let a = up
        .create_order(&body, &req.idempotency_key, correlation, steps_deadline)
        .await
        .map_err(|u| unreachable("orders-api", u))?;
    let order: OrderSummary = match (a.status, a.code()) {
        (StatusCode::CREATED, _) => parse("orders-api", &a)?,
        (StatusCode::NOT_FOUND, Some(ErrorCode::ProductNotFound)) => {
            return Err(Failure::new(ErrorCode::ProductNotFound, problem_detail(&a))
                .with_details(json!({ "product_ids": a.body.get("product_ids") })));
        }
        (StatusCode::NOT_FOUND, Some(ErrorCode::CustomerNotFound)) => {
            return Err(Failure::new(
                ErrorCode::CustomerNotFound,
                problem_detail(&a),
            ));
        }
        (StatusCode::CONFLICT, Some(ErrorCode::InsufficientStock)) => {
            return Err(
                Failure::new(ErrorCode::InsufficientStock, problem_detail(&a))
                    .with_details(json!({ "product_ids": a.body.get("product_ids") })),
            );
        }
        (StatusCode::CONFLICT, _) => {
            return Err(Failure::new(
                ErrorCode::Conflict,
                "a call with this idempotency key is still running",
            ));
        }
        (StatusCode::UNPROCESSABLE_ENTITY, _) => {
            return Err(Failure::new(
                ErrorCode::IdempotencyKeyReused,
                "this idempotency key was already used with a different customer or items",
            ));
        }
        _ => return Err(unexpected("orders-api", &a)),
    };

    // 3. The confirmation; on failure, the compensation.
    let failure = match up
        .confirm_order(order.id, &req.idempotency_key, correlation, steps_deadline)
        .await
    {
        // A replayed confirmation is answered as it was first, whatever happened to the order
        // since: the call with this key took effect then.
        Ok(a) if a.status == StatusCode::OK => {
            let confirmed: OrderSummary = parse("orders-api", &a)?;
            return Ok(SuccessData {
                customer,
                order: confirmed,
            });
        }
        // Another call with this key is confirming it right now: leave the order to that call.
        Ok(a)
            if a.status == StatusCode::CONFLICT
                && a.code() == Some(ErrorCode::IdempotencyKeyInFlight) =>
        {
            return Err(Failure::new(
                ErrorCode::Conflict,
                "a call with this idempotency key is still running",
            )
            .with_details(json!({ "order_id": order.id })));
        }
        Ok(a) if a.status == StatusCode::CONFLICT => Failure::new(
            ErrorCode::Conflict,
            format!(
                "order {} cannot be confirmed: {}",
                order.id,
                problem_detail(&a)
            ),
        ),
        Ok(a) if a.status == StatusCode::UNPROCESSABLE_ENTITY => Failure::new(
            ErrorCode::IdempotencyKeyReused,
            "this idempotency key was already used to confirm another order",
        ),
        Ok(a) => unexpected("orders-api", &a),
        Err(u) => unreachable("orders-api", u),
    };
    let compensated = match up
        .cancel_unconfirmed_order(order.id, correlation, deadline)
        .await
    {
        Ok(a) if a.status == StatusCode::OK => true,
        // Not CREATED any more: the confirmation went through after all (ours, answered too
        // late, or a concurrent call's with the same key), so the order stands confirmed.
        Ok(a)
            if a.status == StatusCode::CONFLICT && a.code() == Some(ErrorCode::OrderNotCreated) =>
        {
            let now = up
                .get_order(order.id, correlation, deadline)
                .await
                .map_err(|u| unreachable("orders-api", u))?;
            let current: OrderSummary = parse("orders-api", &now)?;
            if current.status == OrderStatus::Confirmed {
                metrics::counter!(COMPENSATIONS, "outcome" => "found_confirmed").increment(1);
                return Ok(SuccessData {
                    customer,
                    order: current,
                });
            }
            current.status == OrderStatus::Canceled
        }
        other => {
            tracing::error!(order_id = order.id, outcome = ?other.map(|a| a.status), "compensation failed: order left as it is");
            false
        }
    };
    metrics::counter!(COMPENSATIONS, "outcome" => if compensated { "canceled" } else { "failed" })
        .increment(1);
    let details = json!({ "order_id": order.id, "compensated": compensated });
    Err(Failure {
        details: Some(details),
        ..failure
    })
}
