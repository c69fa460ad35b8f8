//! Keyset pages: `{"data": [...], "next_cursor": ...}`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Smallest, default and largest `limit` of a list.
pub const LIMIT_RANGE: std::ops::RangeInclusive<i64> = 1..=100;
pub const DEFAULT_LIMIT: i64 = 20;

/// One page of a list, ordered by id ascending.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Opaque cursor for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
