//! The error type of the APIs: each variant is a piece of the HTTP contract, sent as RFC 9457
//! `application/problem+json`. Internal causes are logged (with the request's correlation id,
//! which is on the span), never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use b2b_domain::{ErrorCode, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request validation failed")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    #[error("request body is larger than 64 KiB")]
    PayloadTooLarge,
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{detail}")]
    NotFound { code: ErrorCode, detail: String },
    #[error("{detail}")]
    Conflict { code: ErrorCode, detail: String },
    /// A refusal a service words itself, beyond the common ones: its own status, the products
    /// it concerns (`product_ids`), and a `Retry-After` in seconds when a retry will do.
    #[error("{detail}")]
    Refused {
        status: StatusCode,
        code: ErrorCode,
        detail: String,
        product_ids: Option<Vec<i64>>,
        retry_after: Option<u32>,
    },
    #[error("{detail}")]
    Unprocessable { code: ErrorCode, detail: String },
    /// An `If-Match` that the resource no longer matches.
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn not_found(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::NotFound {
            code,
            detail: detail.into(),
        }
    }

    pub fn conflict(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }

    pub fn field(field: &str, message: &str) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) | Self::MalformedJson(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::Refused { status, .. } => *status,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) => ErrorCode::ValidationError,
            Self::MalformedJson(_) => ErrorCode::MalformedJson,
            Self::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            Self::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Refused { code, .. } => *code,
            Self::PreconditionFailed(_) => ErrorCode::PreconditionFailed,
            Self::TooManyRequests { .. } => ErrorCode::RateLimited,
            Self::Unavailable(_) => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::InternalError,
        }
    }

    /// The body sent to the client.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let detail = match self {
            Self::Internal(_) => "an unexpected error occurred".to_owned(),
            other => other.to_string(),
        };
        Problem {
            errors: match self {
                Self::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
            product_ids: match self {
                Self::Refused { product_ids, .. } => product_ids.clone(),
                _ => None,
            },
            ..Problem::new(status, self.code(), detail)
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[schema(value_type = String)]
    pub code: ErrorCode,
    /// Every failing field, when the request parsed but some fields were invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<FieldError>>)]
    pub errors: Option<Vec<FieldError>>,
    /// orders-api's: documented there (`product_ids` in its `Problem` schema).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub product_ids: Option<Vec<i64>>,
}

impl Problem {
    /// A problem without field errors or product ids.
    pub fn new(status: StatusCode, code: ErrorCode, detail: String) -> Self {
        Self {
            r#type: format!(
                "urn:b2b-orders:problem:{}",
                code.as_str().to_ascii_lowercase().replace('_', "-")
            ),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code,
            errors: None,
            product_ids: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let problem = self.problem();
        let mut resp = (self.status(), axum::Json(problem)).into_response();
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            Self::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::Refused {
                retry_after: Some(secs),
                ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            Self::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            Self::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        resp
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_unavailable(&e) || crate::db::is_transient(&e) {
            tracing::warn!(error = %e, "database unavailable");
            Self::Unavailable("the database is unavailable; try again shortly".to_owned())
        } else {
            Self::Internal(e.into())
        }
    }
}
