//! Why an order write was refused, and how each refusal is answered: every code of the write
//! path is in [`From<OrderError> for ApiError`](ApiError).

use axum::http::StatusCode;
use b2b_domain::order::OrderStatus;
use b2b_platform::db::DbFailure;
use b2b_platform::{ApiError, ErrorCode};

use crate::customers_client::CustomerError;

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("customer {0} not found")]
    CustomerNotFound(i64),
    #[error("customers-api is unavailable; try again shortly")]
    CustomersUnavailable,
    #[error("products not found: {}", ids(.0))]
    ProductsNotFound(Vec<i64>),
    #[error("insufficient stock for products: {}", ids(.0))]
    InsufficientStock(Vec<i64>),
    #[error("order total is too large")]
    TotalTooLarge,
    #[error("order {0} not found")]
    NotFound(i64),
    #[error("order {0} is canceled and cannot be confirmed")]
    NotConfirmable(i64),
    #[error("order {id} is {} and was left as it is (if_status=CREATED)", .status.as_str())]
    NotCreated { id: i64, status: OrderStatus },
    #[error("order {id} was confirmed more than {minutes} minutes ago")]
    WindowClosed { id: i64, minutes: i64 },
    /// A request with the same idempotency key is still running.
    #[error("a request with this idempotency key is still in progress")]
    KeyInFlight,
    #[error("this idempotency key was already used with a different request")]
    KeyReused,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn ids(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl DbFailure for OrderError {
    fn database(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Db(e) => Some(e),
            _ => None,
        }
    }
}

impl From<CustomerError> for OrderError {
    fn from(e: CustomerError) -> Self {
        match e {
            CustomerError::NotFound(id) => Self::CustomerNotFound(id),
            CustomerError::Unavailable(why) => {
                tracing::warn!(reason = %why, "customers-api unavailable");
                Self::CustomersUnavailable
            }
        }
    }
}

impl From<OrderError> for ApiError {
    fn from(e: OrderError) -> Self {
        let detail = e.to_string();
        let refused = |status, code, product_ids, retry_after| ApiError::Refused {
            status,
            code,
            detail: detail.clone(),
            product_ids,
            retry_after,
        };
        match e {
            OrderError::CustomerNotFound(_) => {
                ApiError::not_found(ErrorCode::CustomerNotFound, detail)
            }
            OrderError::CustomersUnavailable => ApiError::Unavailable(detail),
            OrderError::ProductsNotFound(ids) => refused(
                StatusCode::NOT_FOUND,
                ErrorCode::ProductNotFound,
                Some(ids),
                None,
            ),
            OrderError::InsufficientStock(ids) => refused(
                StatusCode::CONFLICT,
                ErrorCode::InsufficientStock,
                Some(ids),
                None,
            ),
            OrderError::TotalTooLarge => ApiError::field("items", &detail),
            OrderError::NotFound(_) => ApiError::not_found(ErrorCode::OrderNotFound, detail),
            OrderError::NotConfirmable(_) => {
                ApiError::conflict(ErrorCode::OrderNotConfirmable, detail)
            }
            OrderError::NotCreated { .. } => ApiError::conflict(ErrorCode::OrderNotCreated, detail),
            OrderError::WindowClosed { .. } => {
                ApiError::conflict(ErrorCode::CancellationWindowClosed, detail)
            }
            OrderError::KeyInFlight => refused(
                StatusCode::CONFLICT,
                ErrorCode::IdempotencyKeyInFlight,
                None,
                Some(1),
            ),
            OrderError::KeyReused => ApiError::Unprocessable {
                code: ErrorCode::IdempotencyKeyReused,
                detail,
            },
            OrderError::Db(e) => e.into(),
            OrderError::Internal(e) => ApiError::Internal(e),
        }
    }
}
