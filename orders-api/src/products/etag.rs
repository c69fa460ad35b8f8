//! Product versions on the wire: the `ETag` a product answer carries and the `If-Match` a
//! `PATCH` may send (RFC 9110 §8.8.3, §13.1.1), so a stock correction cannot erase the units
//! that orders took since the client read the product.

use axum::extract::FromRequestParts;
use axum::http::header::IF_MATCH;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use b2b_platform::ApiError;

/// More tags than any client keeps for one product; bounds the statement the list becomes.
const MAX_TAGS: usize = 64;

/// The strong entity tag of a product version: `"<version>"`.
pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::try_from(format!("\"{version}\"")).expect("digits are a valid header value")
}

/// What a request's `If-Match` asks of the product it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`, or `*`: any existing product.
    Any,
    /// One of these versions, from the strong tags of the list; weak tags and tags this server
    /// never sends match nothing (strong comparison), so the list may be empty.
    Versions(Vec<i64>),
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parse(&parts.headers).ok_or_else(|| {
            ApiError::field(
                "if-match",
                "must be * or a comma-separated list of entity tags such as \"3\" (at most 64)",
            )
        })
    }
}

/// Reads every `If-Match` field line as one list; `None` when the syntax is broken.
fn parse(headers: &HeaderMap) -> Option<IfMatch> {
    let mut lines = headers.get_all(IF_MATCH).iter().peekable();
    if lines.peek().is_none() {
        return Some(IfMatch::Any);
    }
    let joined: Vec<u8> = lines
        .map(HeaderValue::as_bytes)
        .collect::<Vec<_>>()
        .join(&b","[..]);
    let value = joined.trim_ascii();
    if value == b"*" {
        return Some(IfMatch::Any);
    }
    let mut versions = Vec::new();
    let mut tags = 0;
    let mut rest = value;
    loop {
        // A list may hold empty elements (RFC 9110 §5.6.1.2); at least one tag is needed.
        rest = rest.trim_ascii_start();
        if let Some(r) = rest.strip_prefix(b",") {
            rest = r;
            continue;
        }
        if rest.is_empty() {
            break;
        }
        let (weak, r) = match rest.strip_prefix(b"W/") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let r = r.strip_prefix(b"\"")?;
        let end = r.iter().position(|&b| b == b'"')?;
        let opaque = &r[..end];
        // etagc: %x21 / %x23-7E / obs-text
        if !opaque.iter().all(|&b| b == 0x21 || b >= 0x23 && b != 0x7f) {
            return None;
        }
        rest = r[end + 1..].trim_ascii_start();
        if !(rest.is_empty() || rest.starts_with(b",")) {
            return None;
        }
        tags += 1;
        if tags > MAX_TAGS {
            return None;
        }
        if let (false, Some(v)) = (weak, version(opaque)) {
            versions.push(v);
        }
    }
    (tags > 0).then_some(IfMatch::Versions(versions))
}

/// The version a tag names, when it is one this server could have sent (octet for octet).
fn version(opaque: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(opaque).ok()?;
    let v: i64 = text.parse().ok()?;
    (v > 0 && v.to_string() == text).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(values: &[&str]) -> Option<IfMatch> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(IF_MATCH, HeaderValue::from_str(v).unwrap());
        }
        parse(&headers)
    }

    fn versions(v: &[i64]) -> Option<IfMatch> {
        Some(IfMatch::Versions(v.to_vec()))
    }

    #[test]
    fn lists_and_stars() {
        assert_eq!(parsed(&[]), Some(IfMatch::Any));
        assert_eq!(parsed(&["*"]), Some(IfMatch::Any));
        assert_eq!(parsed(&[" * "]), Some(IfMatch::Any));
        assert_eq!(parsed(&["\"3\""]), versions(&[3]));
        assert_eq!(parsed(&["\"3\", \"5\""]), versions(&[3, 5]));
        assert_eq!(parsed(&["\"3\"", "\"5\""]), versions(&[3, 5]), "two lines");
        assert_eq!(parsed(&[",\"3\",,"]), versions(&[3]), "empty elements");
    }

    #[test]
    fn weak_and_foreign_tags_match_nothing() {
        assert_eq!(parsed(&["W/\"3\""]), versions(&[]));
        assert_eq!(parsed(&["W/\"3\", \"4\""]), versions(&[4]));
        assert_eq!(
            parsed(&["\"03\", \"x\", \"\", \"-1\", \"0\""]),
            versions(&[])
        );
        assert_eq!(parsed(&["\"99999999999999999999\""]), versions(&[]));
    }

    #[test]
    fn broken_syntax_is_refused() {
        for bad in [
            "",
            " ",
            ",",
            "3",
            "\"3",
            "\"3\" \"4\"",
            "*, \"3\"",
            "w/\"3\"",
            "W/3",
            "\"a b\"",
            "\"3\"x",
        ] {
            assert_eq!(parsed(&[bad]), None, "{bad:?}");
        }
        let many = vec!["\"1\""; 65].join(",");
        assert_eq!(parsed(&[&many]), None);
    }

    #[test]
    fn tags_are_quoted_versions() {
        assert_eq!(etag(7), "\"7\"");
    }
}
