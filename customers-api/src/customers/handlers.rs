//! Customer routes (operator token) and the internal look-up (service token).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use b2b_domain::customer::{Customer, CustomerInput};
use b2b_domain::page::Page;
use b2b_platform::extract::{QueryParams, check};
use b2b_platform::{ApiError, ErrorCode, Id, JsonBody, Operator, Problem, Result, Service};

use super::repo::{self, WriteError};
use crate::AppState;

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(
        ErrorCode::CustomerNotFound,
        format!("customer {id} not found"),
    )
}

fn write_error(e: WriteError) -> ApiError {
    match e {
        WriteError::EmailTaken => ApiError::conflict(
            ErrorCode::EmailTaken,
            "a customer with this e-mail already exists",
        ),
        WriteError::NotFound(id) => not_found(id),
        WriteError::Db(e) => e.into(),
    }
}

/// Create a customer.
#[utoipa::path(post, operation_id = "create_customer", path = "/customers", tag = "customers", request_body = CustomerInput,
    security(("operator_jwt" = [])),
    responses((status = 201, body = Customer, description = "Created"),
              (status = 409, body = Problem, content_type = "application/problem+json", description = "E-mail taken (`EMAIL_TAKEN`)")))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    _: Operator,
    JsonBody(input): JsonBody<CustomerInput>,
) -> Result<(StatusCode, Json<Customer>)> {
    let customer = repo::insert(&state.db, &input, state.clock.now())
        .await
        .map_err(write_error)?;
    tracing::info!(customer_id = customer.id, "customer created");
    Ok((StatusCode::CREATED, Json(customer)))
}

/// List customers, by id ascending; `search` matches name or e-mail, without regard to case.
#[utoipa::path(get, operation_id = "list_customers", path = "/customers", tag = "customers",
    params(("search" = Option<String>, Query, max_length = 255, description = "Part of the name or e-mail"),
           ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (default 20)"),
           ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    security(("operator_jwt" = [])),
    responses((status = 200, body = Page<Customer>)))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    _: Operator,
    q: QueryParams,
) -> Result<Json<Page<Customer>>> {
    let mut errors = Vec::new();
    let search = q.search(&mut errors);
    let page = q.page(&mut errors);
    check(errors)?;
    let rows = repo::list(&state.db, search.as_deref(), page).await?;
    Ok(Json(page.page(rows, |c| c.id)))
}

/// Get a customer.
#[utoipa::path(get, operation_id = "get_customer", path = "/customers/{id}", tag = "customers", params(Id),
    security(("operator_jwt" = [])),
    responses((status = 200, body = Customer),
              (status = 404, body = Problem, content_type = "application/problem+json", description = "No such customer, or deleted (`CUSTOMER_NOT_FOUND`)")))]
#[tracing::instrument(skip_all, fields(customer_id = id))]
pub async fn get(State(state): State<AppState>, _: Operator, Id(id): Id) -> Result<Json<Customer>> {
    repo::get(&state.db, id)
        .await?
        .map(Json)
        .ok_or_else(|| not_found(id))
}

/// Replace a customer (a missing `phone` becomes null).
#[utoipa::path(put, operation_id = "replace_customer", path = "/customers/{id}", tag = "customers", params(Id),
    request_body = CustomerInput, security(("operator_jwt" = [])),
    responses((status = 200, body = Customer),
              (status = 404, body = Problem, content_type = "application/problem+json", description = "No such customer, or deleted (`CUSTOMER_NOT_FOUND`)"),
              (status = 409, body = Problem, content_type = "application/problem+json", description = "E-mail taken (`EMAIL_TAKEN`)")))]
#[tracing::instrument(skip_all, fields(customer_id = id))]
pub async fn replace(
    State(state): State<AppState>,
    _: Operator,
    Id(id): Id,
    JsonBody(input): JsonBody<CustomerInput>,
) -> Result<Json<Customer>> {
    repo::replace(&state.db, id, &input, state.clock.now())
        .await
        .map(Json)
        .map_err(write_error)
}

/// Delete a customer (soft: it disappears from the API and its e-mail can be used again).
#[utoipa::path(delete, operation_id = "delete_customer", path = "/customers/{id}", tag = "customers", params(Id),
    security(("operator_jwt" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = Problem, content_type = "application/problem+json", description = "No such customer, or deleted (`CUSTOMER_NOT_FOUND`)")))]
#[tracing::instrument(skip_all, fields(customer_id = id))]
pub async fn delete(State(state): State<AppState>, _: Operator, Id(id): Id) -> Result<StatusCode> {
    if repo::soft_delete(&state.db, id, state.clock.now()).await? {
        tracing::info!("customer deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(id))
    }
}

/// Look a customer up for another service. With `include_deleted=true` a soft-deleted customer
/// is found too: the orchestrator answers a replayed call with the customer its order was for.
#[utoipa::path(get, operation_id = "get_internal_customer", path = "/internal/customers/{id}", tag = "internal",
    params(Id,
           ("include_deleted" = Option<bool>, Query, description = "`true`: find a soft-deleted customer too")),
    security(("service_token" = [])),
    responses((status = 200, body = Customer),
              (status = 404, body = Problem, content_type = "application/problem+json", description = "No such customer, or deleted without `include_deleted=true` (`CUSTOMER_NOT_FOUND`)")))]
#[tracing::instrument(skip_all, fields(customer_id = id))]
pub async fn internal_get(
    State(state): State<AppState>,
    _: Service,
    Id(id): Id,
    q: QueryParams,
) -> Result<Json<Customer>> {
    let customer = match q.get("include_deleted") {
        None | Some("false") => repo::get(&state.db, id).await?,
        Some("true") => repo::get_even_deleted(&state.db, id).await?,
        Some(_) => return Err(ApiError::field("include_deleted", "must be true or false")),
    };
    customer.map(Json).ok_or_else(|| not_found(id))
}
