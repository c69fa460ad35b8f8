//! The HTTP header names the parts send each other (lower case, as HTTP/2 writes them).

/// The idempotency key of `POST /orders`.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The idempotency key of `POST /orders/{id}/confirm` (orders-api scopes keys by operation).
pub const X_IDEMPOTENCY_KEY: &str = "x-idempotency-key";
/// `true` on an answer replayed from a stored idempotency key.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";
/// The id that ties one request's log lines together across the parts.
pub const X_CORRELATION_ID: &str = "x-correlation-id";
/// W3C trace context.
pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";
