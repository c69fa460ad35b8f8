//! The callers a route accepts, as extractors: an operator, a service, or either (a 403 for the wrong kind).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::Auth;
use crate::error::ApiError;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An operator, by the token's `sub`.
    Operator(String),
    /// Another service of the system.
    Service,
}

/// An operator (JWT) — the only caller accepted on customer and product routes.
#[derive(Debug, Clone)]
pub struct Operator(pub String);

/// Another service (service token) — the only caller accepted on `/internal/*`.
#[derive(Debug, Clone)]
pub struct Service;

/// Either an operator or a service — order routes.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

/// Each caller kind is an extractor that identifies the request and then accepts or refuses the
/// principal.
macro_rules! extract_caller {
    ($caller:ty, $accept:expr) => {
        impl<S: Send + Sync> FromRequestParts<S> for $caller
        where
            Auth: FromRef<S>,
        {
            type Rejection = ApiError;
            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
                Auth::from_ref(state).identify(parts).and_then($accept)
            }
        }
    };
}

extract_caller!(Operator, |p| match p {
    Principal::Operator(sub) => Ok(Operator(sub)),
    Principal::Service => Err(ApiError::Forbidden("this route needs an operator token")),
});
extract_caller!(Service, |p| match p {
    Principal::Service => Ok(Service),
    Principal::Operator(_) => Err(ApiError::Forbidden("this route needs the service token")),
});
extract_caller!(Caller, |p| Ok(Caller(p)));
