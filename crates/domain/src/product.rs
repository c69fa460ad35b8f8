//! Products: the catalogue and its stock.

use std::ops::RangeInclusive;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validation::{Fields, FromJson, Text, int_schema};

/// A product's stock-keeping unit.
pub const SKU: Text = Text { min: 1, max: 64 };
/// A product's name.
pub const NAME: Text = Text { min: 1, max: 255 };

/// Prices accepted, in cents: at most this keeps every order total far from overflow.
pub const PRICE_CENTS: RangeInclusive<i64> = 0..=1_000_000_000_000;
/// Stock accepted for one product.
pub const STOCK: RangeInclusive<i64> = 0..=1_000_000_000;

crate::schemas! {
    sku_schema = SKU.schema(true, Some("WID-001"));
    name_schema = NAME.schema(true, Some("Widget"));
    patched_name_schema = NAME.schema(true, None);
    price_schema = int_schema(PRICE_CENTS, Some(1299));
    stock_schema = int_schema(STOCK, Some(100));
    patched_price_schema = int_schema(PRICE_CENTS, None);
    patched_stock_schema = int_schema(STOCK, None);
}

/// A product of the catalogue with its stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Product {
    #[schema(example = 2)]
    pub id: i64,
    #[schema(example = "WID-001")]
    pub sku: String,
    #[schema(example = "Widget")]
    pub name: String,
    #[schema(example = 1299)]
    pub price_cents: i64,
    #[schema(example = 100)]
    pub stock: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /products`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    #[schema(schema_with = sku_schema)]
    pub sku: String,
    #[schema(schema_with = name_schema)]
    pub name: String,
    #[schema(schema_with = price_schema)]
    pub price_cents: i64,
    #[schema(schema_with = stock_schema)]
    pub stock: i64,
}

impl FromJson for NewProduct {
    fn from_fields(f: &mut Fields<'_>) -> Option<Self> {
        crate::read_all!(Self {
            sku: f.string("sku", SKU),
            name: f.string("name", NAME),
            price_cents: f.int("price_cents", PRICE_CENTS),
            stock: f.int("stock", STOCK),
        })
    }
}

/// The body of `PATCH /products/{id}`: any of the fields; `sku` cannot be changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    #[schema(schema_with = patched_name_schema)]
    pub name: Option<String>,
    #[schema(schema_with = patched_price_schema)]
    pub price_cents: Option<i64>,
    #[schema(schema_with = patched_stock_schema)]
    pub stock: Option<i64>,
}

impl FromJson for ProductPatch {
    fn from_fields(f: &mut Fields<'_>) -> Option<Self> {
        f.forbidden("sku", "cannot be changed");
        crate::read_all!(Self {
            name: f.opt_present_string("name", NAME),
            price_cents: f.opt_int("price_cents", PRICE_CENTS),
            stock: f.opt_int("stock", STOCK),
        })
    }
}
