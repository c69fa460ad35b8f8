//! The orchestrator's request and its answers: `{"success": true, "correlationId", "data"}` or
//! `{"success": false, "correlationId", "error": {"code", "message", "details"?}}`.

use axum::http::StatusCode;
use b2b_domain::order::{NewOrderLine, OrderItem, OrderStatus, read_lines};
use b2b_domain::validation::is_valid_idempotency_key;
use b2b_domain::{ErrorCode, Fields, FromJson};
use b2b_platform::error_docs::ErrorBodies;
use b2b_platform::extract::BodyError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The body of `POST /orchestrator/create-and-confirm-order`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrchestratorRequest {
    #[schema(minimum = 1, example = 1)]
    pub customer_id: i64,
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<NewOrderLine>,
    /// The same key always yields the same order; 1-255 characters from `!` to `~`.
    #[schema(pattern = "^[!-~]{1,255}$", example = "abc-123")]
    pub idempotency_key: String,
    /// Optional; else the `X-Correlation-Id` header, else a new id.
    #[schema(pattern = "^[!-~]{1,128}$", example = "req-789")]
    pub correlation_id: Option<String>,
}

impl FromJson for OrchestratorRequest {
    fn from_fields(f: &mut Fields<'_>) -> Option<Self> {
        let customer_id = f.int("customer_id", 1..=i64::MAX);
        let items = read_lines(f);
        let key = f.exact_string(
            "idempotency_key",
            is_valid_idempotency_key,
            "must be 1-255 characters from '!' to '~' (no spaces)",
        );
        let correlation_id = f.opt_exact_string(
            "correlation_id",
            |id| (1..=128).contains(&id.len()) && id.bytes().all(|b| (b'!'..=b'~').contains(&b)),
            "must be 1-128 characters from '!' to '~' (no spaces)",
        );
        Some(Self {
            customer_id: customer_id?,
            items: items?,
            idempotency_key: key?,
            correlation_id: correlation_id?,
        })
    }
}

/// The customer as the orchestrator reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CustomerSummary {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

/// The confirmed order as the orchestrator reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderSummary {
    pub id: i64,
    pub status: OrderStatus,
    pub total_cents: i64,
    pub items: Vec<OrderItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SuccessData {
    pub customer: CustomerSummary,
    pub order: OrderSummary,
}

/// A created and confirmed order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Success {
    #[schema(example = true)]
    pub success: bool,
    #[serde(rename = "correlationId")]
    pub correlation_id: String,
    pub data: SuccessData,
}

/// Why the orchestration failed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    #[schema(value_type = String)]
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// A failed orchestration, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FailureBody {
    #[schema(example = false)]
    pub success: bool,
    #[serde(rename = "correlationId")]
    pub correlation_id: String,
    pub error: ErrorBody,
}

/// The orchestrator's error bodies, for the OpenAPI document.
pub const ERROR_BODIES: ErrorBodies = ErrorBodies {
    schema: "FailureBody",
    code_at: &["error", "code"],
    example: |_, code| {
        let body = Failure::new(code, code.example_detail()).into_body("req-789");
        serde_json::to_value(body).expect("an envelope serialises")
    },
};

/// A failure; its HTTP status is its code's.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<Value>,
}

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::BAD_GATEWAY)
    }

    pub fn into_body(self, correlation_id: &str) -> FailureBody {
        FailureBody {
            success: false,
            correlation_id: correlation_id.to_owned(),
            error: ErrorBody {
                code: self.code,
                message: self.message,
                details: self.details,
            },
        }
    }

    /// A body that could not be read.
    pub fn from_body(e: BodyError) -> Self {
        match e {
            BodyError::UnsupportedMediaType => Self::new(
                ErrorCode::UnsupportedMediaType,
                "content type must be application/json",
            ),
            BodyError::TooLarge => Self::new(
                ErrorCode::PayloadTooLarge,
                "request body is larger than 64 KiB",
            ),
            BodyError::Malformed(why) => {
                Self::new(ErrorCode::ValidationError, format!("malformed JSON: {why}"))
            }
            BodyError::Invalid(errors) => {
                Self::new(ErrorCode::ValidationError, "request validation failed")
                    .with_details(serde_json::json!({ "errors": errors }))
            }
        }
    }
}
