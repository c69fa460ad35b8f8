//! Product routes (operator token).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use b2b_domain::page::Page;
use b2b_domain::product::{NewProduct, Product, ProductPatch};
use b2b_platform::extract::{QueryParams, check};
use b2b_platform::{ApiError, Id, JsonBody, Operator, Problem, Result};

use super::repo::{self, WriteError};
use crate::AppState;

fn not_found(id: i64) -> ApiError {
    ApiError::not_found("PRODUCT_NOT_FOUND", format!("product {id} not found"))
}

/// Create a product.
#[utoipa::path(post, operation_id = "create_product", path = "/products", tag = "products", request_body = NewProduct, security(("operator_jwt" = [])),
    responses((status = 201, body = Product, description = "Created"),
              (status = 409, body = Problem, content_type = "application/problem+json", description = "Sku taken (`SKU_TAKEN`)")))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    _: Operator,
    JsonBody(input): JsonBody<NewProduct>,
) -> Result<(StatusCode, Json<Product>)> {
    match repo::insert(&state.db, &input, state.clock.now()).await {
        Ok(p) => {
            tracing::info!(product_id = p.id, "product created");
            Ok((StatusCode::CREATED, Json(p)))
        }
        Err(WriteError::SkuTaken) => Err(ApiError::conflict(
            "SKU_TAKEN",
            "a product with this sku already exists",
        )),
        Err(WriteError::Db(e)) => Err(e.into()),
    }
}

/// List products by id ascending; `search` matches sku or name, without regard to case.
#[utoipa::path(get, operation_id = "list_products", path = "/products", tag = "products",
    params(("search" = Option<String>, Query, max_length = 255, description = "Part of the sku or name"),
           ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (default 20)"),
           ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    security(("operator_jwt" = [])), responses((status = 200, body = Page<Product>)))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    _: Operator,
    q: QueryParams,
) -> Result<Json<Page<Product>>> {
    let mut errors = Vec::new();
    let search = q.search(&mut errors);
    let page = q.page(&mut errors);
    check(errors)?;
    let rows = repo::list(&state.db, search.as_deref(), page).await?;
    Ok(Json(page.page(rows, |p| p.id)))
}

/// Get a product.
#[utoipa::path(get, operation_id = "get_product", path = "/products/{id}", tag = "products", params(("id" = i64, Path, minimum = 1)),
    security(("operator_jwt" = [])),
    responses((status = 200, body = Product),
              (status = 404, body = Problem, content_type = "application/problem+json", description = "No such product")))]
#[tracing::instrument(skip_all, fields(product_id = id))]
pub async fn get(State(state): State<AppState>, _: Operator, Id(id): Id) -> Result<Json<Product>> {
    repo::get(&state.db, id)
        .await?
        .map(Json)
        .ok_or_else(|| not_found(id))
}

/// Change any of `name`, `price_cents`, `stock` (the sku cannot change).
#[utoipa::path(patch, operation_id = "patch_product", path = "/products/{id}", tag = "products", params(("id" = i64, Path, minimum = 1)),
    request_body = ProductPatch, security(("operator_jwt" = [])),
    responses((status = 200, body = Product),
              (status = 404, body = Problem, content_type = "application/problem+json", description = "No such product")))]
#[tracing::instrument(skip_all, fields(product_id = id))]
pub async fn patch(
    State(state): State<AppState>,
    _: Operator,
    Id(id): Id,
    JsonBody(input): JsonBody<ProductPatch>,
) -> Result<Json<Product>> {
    repo::patch(&state.db, id, &input, state.clock.now())
        .await?
        .map(Json)
        .ok_or_else(|| not_found(id))
}
