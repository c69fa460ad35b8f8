//! orders-api's one field beyond the platform's problem: `product_ids`, in its `Problem` schema.

use utoipa::openapi::schema::Schema;
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// The fields orders-api's problems add, documented as the derive writes them.
#[derive(ToSchema)]
#[allow(dead_code)]
struct OrdersProblemFields {
    /// The products concerned, on `PRODUCT_NOT_FOUND` and `INSUFFICIENT_STOCK`.
    product_ids: Option<Vec<i64>>,
}

/// Adds them to the `Problem` schema (after the routes, which register the platform's).
pub fn add_product_ids(api: &mut OpenApi) {
    let schemas = &mut api.components.get_or_insert_with(Default::default).schemas;
    let Some(RefOr::T(Schema::Object(problem))) = schemas.get_mut("Problem") else {
        return;
    };
    if let RefOr::T(Schema::Object(fields)) = OrdersProblemFields::schema() {
        problem.properties.extend(fields.properties);
    }
}
