//! Extractors that turn bad requests into *our* problem+json errors: JSON bodies validated
//! field by field, positive integer ids, and list parameters (`limit`, `cursor`).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use b2b_domain::page::{DEFAULT_LIMIT, LIMIT_RANGE, Page};
use b2b_domain::{FieldError, FromJson};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::error::ApiError;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Why a JSON body could not be read.
#[derive(Debug)]
pub enum BodyError {
    UnsupportedMediaType,
    TooLarge,
    Malformed(String),
    Invalid(Vec<FieldError>),
}

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::UnsupportedMediaType => Self::UnsupportedMediaType,
            BodyError::TooLarge => Self::PayloadTooLarge,
            BodyError::Malformed(why) => Self::MalformedJson(why),
            BodyError::Invalid(errors) => Self::Validation(errors),
        }
    }
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Reads a request body as a JSON value: 415 unless JSON, 413 past [`BODY_LIMIT`], 400 on bad syntax.
pub async fn read_json_value<S: Send + Sync>(req: Request, state: &S) -> Result<Value, BodyError> {
    if !is_json(&req) {
        return Err(BodyError::UnsupportedMediaType);
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            BodyError::TooLarge
        } else {
            BodyError::Malformed("the request body could not be read".to_owned())
        }
    })?;
    if bytes.len() > BODY_LIMIT {
        return Err(BodyError::TooLarge);
    }
    serde_json::from_slice(&bytes).map_err(|e| BodyError::Malformed(e.to_string()))
}

/// A JSON body read with [`FromJson`]: every failing field is reported.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: FromJson> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let value = read_json_value(req, state).await?;
        T::from_json(&value).map(Self).map_err(ApiError::Validation)
    }
}

/// A positive integer id from the path's last parameter.
#[derive(Debug, Clone, Copy)]
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::field("id", "must be a positive integer"))?;
        raw.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Self)
            .ok_or_else(|| ApiError::field("id", "must be a positive integer"))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("not-a-cursor"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("id:-1")), None);
        for other_spelling in ["id:007", "id:+7", "id: 7"] {
            assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode(other_spelling)), None);
        }
    }

    #[test]
    fn limits_are_bounded() {
        let q = |v: &str| QueryParams(HashMap::from([("limit".to_owned(), v.to_owned())]));
        for bad in ["0", "101", "x", "-1"] {
            let mut errors = vec![];
            q(bad).page(&mut errors);
            assert_eq!(errors.len(), 1, "{bad}");
        }
        let mut errors = vec![];
        assert_eq!(q("100").page(&mut errors).limit, 100);
        assert!(errors.is_empty());
    }

    #[test]
    fn pages_know_when_more_follow() {
        let p = PageRequest { limit: 2, after: 0 };
        let page = p.page(vec![1, 2, 3], |v| *v);
        assert_eq!(page.data, [1, 2]);
        assert_eq!(decode_cursor(page.next_cursor.as_deref().unwrap()), Some(2));
        assert!(p.page(vec![1, 2], |v| *v).next_cursor.is_none());
    }
}
