//! Product routes (operator token).

use axum::Json;
use axum::extract::State;
use axum::http::header::ETAG;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use b2b_domain::page::Page;
use b2b_domain::product::{NewProduct, Product, ProductPatch};
use b2b_platform::extract::{QueryParams, check};
use b2b_platform::{ApiError, ErrorCode, Id, JsonBody, Operator, Problem, Result};

use super::etag::{IfMatch, etag};
use super::repo::{self, Patched, Versioned, WriteError};
use crate::AppState;

/// A product answer: the product, and its version as a strong `ETag`.
type Tagged = ([(HeaderName, HeaderValue); 1], Json<Product>);

fn tagged(v: Versioned) -> Tagged {
    ([(ETAG, etag(v.version))], Json(v.product))
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(
        ErrorCode::ProductNotFound,
        format!("product {id} not found"),
    )
}

/// Create a product.
#[utoipa::path(post, operation_id = "create_product", path = "/products", tag = "products", request_body = NewProduct, security(("operator_jwt" = [])),
    responses((status = 201, body = Product, description = "Created",
               headers(("ETag" = String, description = "The product's version, a strong entity tag such as `\"1\"`: send it back in `If-Match` to patch only this version"))),
              (status = 409, body = Problem, content_type = "application/problem+json", description = "Sku taken (`SKU_TAKEN`)")))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    _: Operator,
    JsonBody(input): JsonBody<NewProduct>,
) -> Result<(StatusCode, Tagged)> {
    match repo::insert(&state.db, &input, state.clock.now()).await {
        Ok(p) => {
            tracing::info!(product_id = p.product.id, "product created");
            Ok((StatusCode::CREATED, tagged(p)))
        }
        Err(WriteError::SkuTaken) => Err(ApiError::conflict(
            ErrorCode::SkuTaken,
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

/// Get a product; its version is in `ETag`.
#[utoipa::path(get, operation_id = "get_product", path = "/products/{id}", tag = "products", params(Id),
    security(("operator_jwt" = [])),
    responses((status = 200, body = Product,
               headers(("ETag" = String, description = "The product's version, a strong entity tag such as `\"3\"`; it changes with every write, an order's included"))),
              (status = 404, body = Problem, content_type = "application/problem+json", description = "No such product (`PRODUCT_NOT_FOUND`)")))]
#[tracing::instrument(skip_all, fields(product_id = id))]
pub async fn get(State(state): State<AppState>, _: Operator, Id(id): Id) -> Result<Tagged> {
    repo::get(&state.db, id)
        .await?
        .map(tagged)
        .ok_or_else(|| not_found(id))
}

/// Change any of `name`, `price_cents`, `stock` (the sku cannot change).
///
/// With `If-Match`, only while the product is at a version listed there: a stock correction
/// made from a read cannot erase the units that orders took since (412 when it changed: read
/// it again). Without it, the patch applies to whatever the product is now.
#[utoipa::path(patch, operation_id = "patch_product", path = "/products/{id}", tag = "products",
    params(Id,
           ("If-Match" = Option<String>, Header, description = "`*`, or the `ETag`s (comma-separated) the product must still have; strong comparison, so a weak `W/` tag never matches")),
    request_body = ProductPatch, security(("operator_jwt" = [])),
    responses((status = 200, body = Product,
               headers(("ETag" = String, description = "The product's new version"))),
              (status = 400, body = Problem, content_type = "application/problem+json", description = "Malformed JSON, invalid fields or a malformed `If-Match` (every failing field is listed in `errors`; the header as `if-match`)"),
              (status = 404, body = Problem, content_type = "application/problem+json", description = "No such product (`PRODUCT_NOT_FOUND`)"),
              (status = 412, body = Problem, content_type = "application/problem+json", description = "The product changed since the `If-Match` version (`PRECONDITION_FAILED`); nothing was written")))]
#[tracing::instrument(skip_all, fields(product_id = id))]
pub async fn patch(
    State(state): State<AppState>,
    _: Operator,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(input): JsonBody<ProductPatch>,
) -> Result<Tagged> {
    match repo::patch(&state.db, id, &input, &if_match, state.clock.now()).await? {
        Patched::Done(p) => Ok(tagged(p)),
        Patched::NotFound => Err(not_found(id)),
        Patched::Stale => {
            tracing::info!("product patch refused: If-Match is stale");
            Err(ApiError::PreconditionFailed(format!(
                "product {id} changed since the version in If-Match: read it again"
            )))
        }
    }
}
