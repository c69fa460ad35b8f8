//! List parameters from the query string (`limit`, `cursor`, search, ids, timestamps) checked
//! field by field, and keyset pages.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use b2b_domain::FieldError;
use b2b_domain::page::{DEFAULT_LIMIT, LIMIT_RANGE, Page};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ApiError;

/// The raw query string parameters, read by the list handlers.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Self(q))
            .map_err(|_| ApiError::BadRequest("the query string is malformed".to_owned()))
    }
}

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A free-text `search` of at most 255 characters, trimmed; blank counts as absent.
    pub fn search(&self, errors: &mut Vec<FieldError>) -> Option<String> {
        let raw = self.get("search")?;
        if raw.chars().count() > 255 {
            errors.push(FieldError::new("search", "must be at most 255 characters"));
            return None;
        }
        let s = raw.trim();
        (!s.is_empty()).then(|| s.to_owned())
    }

    /// A positive integer filter.
    pub fn id(&self, name: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
        let raw = self.get(name)?;
        match raw.parse::<i64>() {
            Ok(v) if v > 0 => Some(v),
            _ => {
                errors.push(FieldError::new(name, "must be a positive integer"));
                None
            }
        }
    }

    /// An RFC 3339 timestamp filter.
    pub fn timestamp(
        &self,
        name: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let raw = self.get(name)?;
        match chrono::DateTime::parse_from_rfc3339(raw) {
            Ok(t) => Some(t.with_timezone(&chrono::Utc)),
            Err(_) => {
                errors.push(FieldError::new(
                    name,
                    "must be an RFC 3339 timestamp, e.g. 2026-01-31T00:00:00Z",
                ));
                None
            }
        }
    }

    /// `limit` and `cursor`.
    pub fn page(&self, errors: &mut Vec<FieldError>) -> PageRequest {
        let limit = match self.get("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if LIMIT_RANGE.contains(&n) => n,
                _ => {
                    errors.push(FieldError::new(
                        "limit",
                        "must be an integer between 1 and 100",
                    ));
                    DEFAULT_LIMIT
                }
            },
        };
        let after = match self.get("cursor") {
            None | Some("") => 0,
            Some(raw) => decode_cursor(raw).unwrap_or_else(|| {
                errors.push(FieldError::new(
                    "cursor",
                    "is not a cursor returned by this list",
                ));
                0
            }),
        };
        PageRequest { limit, after }
    }
}

/// Turns collected query errors into a 400.
pub fn check(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Where a keyset page starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    /// Rows with an id greater than this one.
    pub after: i64,
}

impl PageRequest {
    /// Rows to fetch: one more than the limit tells whether a next page exists.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Builds the page from rows fetched with [`PageRequest::fetch`].
    pub fn page<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> i64) -> Page<T> {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| encode_cursor(id_of(r)))
        } else {
            None
        };
        Page {
            data: rows,
            next_cursor,
        }
    }
}

const CURSOR_PREFIX: &str = "id:";

/// The cursors [`encode_cursor`] makes (for ids below 10^18), as a regular expression for the
/// OpenAPI documents: unpadded base64url of `id:` and the id in decimal. `aWQ6` is `id:`; then
/// each group of three digits is four characters, and one or two trailing digits two or three.
/// The first digit is not 0 unless it is the only one. An empty cursor is the first page.
pub const CURSOR_PATTERN: &str = concat!(
    "^(?:aWQ6(?:",
    // one digit
    "(?:[MN][AQgw]|O[AQ])",
    // two digits
    "|(?:M[Tjz]|N[DTjz]|O[DT])[AEIMQUYcgk]",
    // three digits, up to four more groups of three, then maybe three, two or one more
    "|(?:M[Tjz]|N[DTjz]|O[DT])[AEIMQUYcgk][w-z0-5]",
    "(?:(?:[MN][DTjz]|O[DT])[AEIMQUYcgk][w-z0-5]){0,4}",
    "(?:(?:[MN][DTjz]|O[DT])[AEIMQUYcgk][w-z0-5]|(?:[MN][DTjz]|O[DT])[AEIMQUYcgk]|(?:[MN][AQgw]|O[AQ]))?",
    "))?$"
);

pub fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{id}"))
}

/// The id in a cursor made by [`encode_cursor`]; anything else (even another spelling of the
/// same id, such as `id:007`) is not a cursor.
pub fn decode_cursor(raw: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    text.strip_prefix(CURSOR_PREFIX)?
        .parse()
        .ok()
        .filter(|id: &i64| *id >= 0 && encode_cursor(*id) == raw)
}
