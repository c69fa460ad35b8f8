//! Order routes (operator token or service token).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use b2b_domain::headers::{IDEMPOTENCY_KEY, X_IDEMPOTENCY_KEY};
use b2b_domain::order::{NewOrder, Order, OrderStatus};
use b2b_domain::page::Page;
use b2b_platform::extract::{QueryParams, check};
use b2b_platform::{ApiError, Caller, CorrelationId, Id, JsonBody, Problem, Result};

use super::error::OrderError;
use super::repo::{self, Filter};
use super::service;
use crate::AppState;
use crate::idempotency::{CONFIRM_SCOPE, CREATE_SCOPE, Claim, Written, key_header};

/// Create an order in `CREATED`, taking its stock (all lines or none). With an
/// `Idempotency-Key`, a retried request returns the same order and takes stock once.
#[utoipa::path(post, operation_id = "create_order", path = "/orders", tag = "orders", request_body = NewOrder,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1-255 characters from '!' to '~'")),
    security(("operator_jwt" = []), ("service_token" = [])),
    responses((status = 201, body = Order, description = "Created (or replayed, with `Idempotent-Replayed: true`)"),
              (status = 404, body = Problem, content_type = "application/problem+json", description = "`CUSTOMER_NOT_FOUND` or `PRODUCT_NOT_FOUND` (with `product_ids`)"),
              (status = 409, body = Problem, content_type = "application/problem+json", description = "`INSUFFICIENT_STOCK` (with `product_ids`), or the key is in flight (`IDEMPOTENCY_KEY_IN_FLIGHT`, with `Retry-After`)"),
              (status = 422, body = Problem, content_type = "application/problem+json", description = "The key was used with another request (`IDEMPOTENCY_KEY_REUSED`)")))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    _: Caller,
    correlation: CorrelationId,
    headers: HeaderMap,
    JsonBody(req): JsonBody<NewOrder>,
) -> Result<Written> {
    // The fingerprint is of what the request means: the lines are a set, so their order in the
    // body does not make it another request.
    let claim = key_header(&headers, IDEMPOTENCY_KEY)?.map(|key| {
        let request = serde_json::to_vec(&req.canonical()).unwrap_or_default();
        Claim::new(CREATE_SCOPE, key, &request)
    });
    let written = service::create(&state, &req, claim.as_ref(), &correlation).await?;
    tracing::info!(customer_id = req.customer_id, "order created");
    Ok(written)
}

/// Get an order with its lines.
#[utoipa::path(get, operation_id = "get_order", path = "/orders/{id}", tag = "orders", params(Id),
    security(("operator_jwt" = []), ("service_token" = [])),
    responses((status = 200, body = Order),
              (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order (`ORDER_NOT_FOUND`)")))]
#[tracing::instrument(skip_all, fields(order_id = id))]
pub async fn get(State(state): State<AppState>, _: Caller, Id(id): Id) -> Result<Json<Order>> {
    repo::get(&state.db, id)
        .await?
        .map(Json)
        .ok_or_else(|| OrderError::NotFound(id).into())
}

/// List orders by id ascending, filtered by status, customer and creation time (inclusive bounds).
#[utoipa::path(get, operation_id = "list_orders", path = "/orders", tag = "orders",
    params(("status" = Option<OrderStatus>, Query), ("customer_id" = Option<i64>, Query, minimum = 1),
           ("from" = Option<String>, Query, format = DateTime, description = "Created at or after (RFC 3339)"),
           ("to" = Option<String>, Query, format = DateTime, description = "Created at or before (RFC 3339)"),
           ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (default 20)"),
           ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    security(("operator_jwt" = []), ("service_token" = [])), responses((status = 200, body = Page<Order>)))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    _: Caller,
    q: QueryParams,
) -> Result<Json<Page<Order>>> {
    let mut errors = Vec::new();
    let status = q.get("status").and_then(|s| {
        let parsed = OrderStatus::parse(s);
        if parsed.is_none() {
            errors.push(b2b_domain::FieldError::new(
                "status",
                "must be one of CREATED, CONFIRMED, CANCELED",
            ));
        }
        parsed
    });
    let filter = Filter {
        status,
        customer_id: q.id("customer_id", &mut errors),
        from: q.timestamp("from", &mut errors),
        to: q.timestamp("to", &mut errors),
    };
    let page = q.page(&mut errors);
    check(errors)?;
    let rows = repo::list(&state.db, &filter, page).await?;
    Ok(Json(page.page(rows, |o| o.id)))
}

/// Confirm an order (`CREATED → CONFIRMED`). `X-Idempotency-Key` is required: the same key
/// replays the first outcome; a confirmed order is returned unchanged.
#[utoipa::path(post, operation_id = "confirm_order", path = "/orders/{id}/confirm", tag = "orders",
    params(Id,
           ("X-Idempotency-Key" = String, Header, pattern = "^[!-~]{1,255}$", description = "Required; 1-255 characters from '!' to '~'")),
    security(("operator_jwt" = []), ("service_token" = [])),
    responses((status = 200, body = Order, description = "Confirmed (or replayed, with `Idempotent-Replayed: true`)"),
              (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order (`ORDER_NOT_FOUND`)"),
              (status = 409, body = Problem, content_type = "application/problem+json", description = "The order is canceled (`ORDER_NOT_CONFIRMABLE`), or the key is in flight (`IDEMPOTENCY_KEY_IN_FLIGHT`, with `Retry-After`)"),
              (status = 422, body = Problem, content_type = "application/problem+json", description = "The key was used with another request (`IDEMPOTENCY_KEY_REUSED`)")))]
#[tracing::instrument(skip_all, fields(order_id = id))]
pub async fn confirm(
    State(state): State<AppState>,
    _: Caller,
    Id(id): Id,
    headers: HeaderMap,
) -> Result<Written> {
    let key = key_header(&headers, X_IDEMPOTENCY_KEY)?
        .ok_or_else(|| ApiError::field(X_IDEMPOTENCY_KEY, "is required"))?;
    // A key that already took effect is replayed before the order's row is touched (the key is
    // claimed first), so a retry never waits on a lock someone else holds on it.
    let claim = Claim::new(CONFIRM_SCOPE, key, format!("order:{id}").as_bytes());
    Ok(service::confirm(&state, id, &claim).await?)
}

/// Cancel an order, giving its stock back: `CREATED` always, `CONFIRMED` within the cancellation
/// window; a canceled order is returned unchanged. With `if_status=CREATED` only an order not
/// yet confirmed is cancelled (what the orchestrator's compensation uses).
#[utoipa::path(post, operation_id = "cancel_order", path = "/orders/{id}/cancel", tag = "orders",
    params(Id,
           ("if_status" = Option<String>, Query, pattern = "^CREATED$", description = "`CREATED`: cancel only an order not yet confirmed")),
    security(("operator_jwt" = []), ("service_token" = [])),
    responses((status = 200, body = Order),
              (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order (`ORDER_NOT_FOUND`)"),
              (status = 409, body = Problem, content_type = "application/problem+json", description = "Confirmed longer ago than the window (`CANCELLATION_WINDOW_CLOSED`), or not `CREATED` with `if_status=CREATED` (`ORDER_NOT_CREATED`)")))]
#[tracing::instrument(skip_all, fields(order_id = id))]
pub async fn cancel(
    State(state): State<AppState>,
    _: Caller,
    Id(id): Id,
    q: QueryParams,
) -> Result<Json<Order>> {
    let only_created = match q.get("if_status").map(OrderStatus::parse) {
        None => false,
        Some(Some(OrderStatus::Created)) => true,
        Some(_) => return Err(ApiError::field("if_status", "must be CREATED")),
    };
    Ok(Json(service::cancel(&state, id, only_created).await?))
}
