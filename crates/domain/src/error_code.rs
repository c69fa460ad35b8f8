//! The error codes every part answers with: the one place each code is spelled. A caller parses
//! an upstream problem's `code` into [`ErrorCode`] and matches on it, so renaming a code is a
//! compile error in every part that reacts to it rather than a silent fall-through.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($variant:ident = $code:literal, $status:literal, $example:literal;)*) => {
        /// A stable machine-readable error code, serialised as its `SCREAMING_SNAKE` text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $(#[serde(rename = $code)] $variant,)*
        }

        impl ErrorCode {
            pub const ALL: &[Self] = &[$(Self::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code,)* }
            }

            /// The HTTP status every part answers this code with.
            pub const fn status(self) -> u16 {
                match self { $(Self::$variant => $status,)* }
            }

            /// A message this code is sent with, for the examples of the OpenAPI documents.
            pub const fn example_detail(self) -> &'static str {
                match self { $(Self::$variant => $example,)* }
            }
        }
    };
}

error_codes! {
    ValidationError = "VALIDATION_ERROR", 400, "request validation failed";
    MalformedJson = "MALFORMED_JSON", 400, "malformed JSON: EOF while parsing an object at line 1 column 1";
    UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE", 415, "content type must be application/json";
    PayloadTooLarge = "PAYLOAD_TOO_LARGE", 413, "request body is larger than 64 KiB";
    Unauthorized = "UNAUTHORIZED", 401, "missing bearer token";
    Forbidden = "FORBIDDEN", 403, "this route needs an operator token";
    NotFound = "NOT_FOUND", 404, "no such route";
    PreconditionFailed = "PRECONDITION_FAILED", 412, "product 7 changed since the version in If-Match: read it again";
    RateLimited = "RATE_LIMITED", 429, "too many requests";
    ServiceUnavailable = "SERVICE_UNAVAILABLE", 503, "the database is unavailable; try again shortly";
    InternalError = "INTERNAL_ERROR", 500, "an unexpected error occurred";
    CustomerNotFound = "CUSTOMER_NOT_FOUND", 404, "customer 42 not found";
    EmailTaken = "EMAIL_TAKEN", 409, "a customer with this e-mail already exists";
    ProductNotFound = "PRODUCT_NOT_FOUND", 404, "products not found: 7";
    SkuTaken = "SKU_TAKEN", 409, "a product with this sku already exists";
    InsufficientStock = "INSUFFICIENT_STOCK", 409, "insufficient stock for products: 7";
    OrderNotFound = "ORDER_NOT_FOUND", 404, "order 42 not found";
    OrderNotConfirmable = "ORDER_NOT_CONFIRMABLE", 409, "order 42 is canceled and cannot be confirmed";
    OrderNotCreated = "ORDER_NOT_CREATED", 409, "order 42 is CONFIRMED and was left as it is (if_status=CREATED)";
    CancellationWindowClosed = "CANCELLATION_WINDOW_CLOSED", 409, "order 42 was confirmed more than 10 minutes ago";
    IdempotencyKeyInFlight = "IDEMPOTENCY_KEY_IN_FLIGHT", 409, "a request with this idempotency key is still in progress";
    IdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED", 422, "this idempotency key was already used with a different request";
    Conflict = "CONFLICT", 409, "a call with this idempotency key is still running";
    UpstreamError = "UPSTREAM_ERROR", 502, "orders-api answered 500 Internal Server Error";
    UpstreamUnavailable = "UPSTREAM_UNAVAILABLE", 503, "orders-api is unreachable";
    UpstreamTimeout = "UPSTREAM_TIMEOUT", 504, "orders-api did not answer in time";
}

impl ErrorCode {
    /// The code `text` names; `None` for one this build does not know (a newer part's).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}

/// A code this build does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCode(pub String);

impl std::str::FromStr for ErrorCode {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownCode(s.to_owned()))
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
