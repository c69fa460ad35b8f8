//! A typed client for customers-api's internal look-up, called with the service token.

use std::time::Duration;

use b2b_platform::telemetry::{TraceContext, X_CORRELATION_ID};
use b2b_platform::{ApiError, CorrelationId, ErrorCode};
use reqwest::StatusCode;

/// Answers of a customer check.
#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("customer not found")]
    NotFound,
    /// Unreachable, timed out, or answered with an error of its own.
    #[error("customers-api unavailable: {0}")]
    Unavailable(String),
}

#[derive(Clone, Debug)]
pub struct CustomersClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl CustomersClient {
    pub fn new(base: &str, service_token: &str, timeout: Duration) -> anyhow::Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        anyhow::ensure!(
            base.starts_with("http://") || base.starts_with("https://"),
            "not an http(s) URL: {base}"
        );
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            http,
            base,
            token: service_token.to_owned(),
        })
    }

    /// Whether customer `id` exists (and is not deleted).
    #[tracing::instrument(skip(self, correlation), fields(customer_id = id, otel.kind = "client"))]
    pub async fn ensure_exists(
        &self,
        id: i64,
        correlation: &CorrelationId,
    ) -> Result<(), CustomerError> {
        let mut req = self
            .http
            .get(format!("{}/internal/customers/{id}", self.base))
            .bearer_auth(&self.token)
            .header(X_CORRELATION_ID, &correlation.0);
        for (k, v) in TraceContext::outgoing() {
            req = req.header(k, v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| CustomerError::Unavailable(e.to_string()))?;
        match resp.status() {
            s if s.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Err(CustomerError::NotFound),
            other => Err(CustomerError::Unavailable(format!(
                "customers-api answered {other}"
            ))),
        }
    }
}

impl CustomersClient {
    /// [`CustomersClient::ensure_exists`] as the API answers it: 404 `CUSTOMER_NOT_FOUND`, or 503
    /// when customers-api cannot say.
    pub async fn check(&self, id: i64, correlation: &CorrelationId) -> Result<(), ApiError> {
        self.ensure_exists(id, correlation)
            .await
            .map_err(|e| match e {
                CustomerError::NotFound => ApiError::not_found(
                    ErrorCode::CustomerNotFound,
                    format!("customer {id} not found"),
                ),
                CustomerError::Unavailable(why) => {
                    tracing::warn!(reason = %why, "customers-api unavailable");
                    ApiError::Unavailable(
                        "customers-api is unavailable; try again shortly".to_owned(),
                    )
                }
            })
    }
}
