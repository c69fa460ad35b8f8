//! Calls to customers-api and orders-api with the service token: one shared keep-alive client,
//! a time-out per attempt, retried as [`crate::retry`] says, all within one deadline.

use std::time::Duration;

use b2b_domain::ErrorCode;
use b2b_domain::headers::{IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED, X_IDEMPOTENCY_KEY};
use b2b_platform::metrics::{UPSTREAM_ATTEMPTS, UPSTREAM_RETRIES};
use b2b_platform::telemetry::{TraceContext, X_CORRELATION_ID};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;

pub use crate::retry::RetryPolicy;
use crate::retry::retryable;

/// An answer from a service: its status and JSON body (`Null` when not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    /// `Idempotent-Replayed: true` was set.
    pub replayed: bool,
}

impl Answer {
    /// The problem `code` of an error answer; `None` when absent or unknown to this build.
    pub fn code(&self) -> Option<ErrorCode> {
        self.body
            .get("code")
            .and_then(Value::as_str)
            .and_then(ErrorCode::parse)
    }
}

/// No answer at all after every attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreachable {
    Timeout,
    Connection,
}

#[derive(Clone, Debug)]
pub struct Upstream {
    http: reqwest::Client,
    customers: String,
    orders: String,
    token: String,
    pub policy: RetryPolicy,
}

impl Upstream {
    pub fn new(
        customers: &str,
        orders: &str,
        token: &str,
        policy: RetryPolicy,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(policy.attempt_timeout.min(Duration::from_secs(2)))
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            http,
            customers: customers.trim_end_matches('/').to_owned(),
            orders: orders.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            policy,
        })
    }

    /// The part `url` is of: the `target` label of the upstream metrics.
    fn target(&self, url: &str) -> &'static str {
        // By path too: both bases may be one gateway.
        let customers = url
            .strip_prefix(self.customers.as_str())
            .is_some_and(|path| path.starts_with("/internal/customers/"));
        if customers {
            "customers-api"
        } else {
            "orders-api"
        }
    }

    /// One call with retries, until `deadline`.
    #[tracing::instrument(name = "upstream call", skip(self, body, headers, correlation, deadline), fields(target = self.target(&url), %method, attempts, correlation_id = correlation, otel.kind = "client"))]
    async fn call(
        &self,
        method: Method,
        url: String,
        body: Option<&Value>,
        headers: &[(&str, &str)],
        correlation: &str,
        deadline: Instant,
    ) -> Result<Answer, Unreachable> {
        let target = self.target(&url);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Unreachable::Timeout);
            }
            metrics::counter!(UPSTREAM_ATTEMPTS, "target" => target).increment(1);
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&self.token)
                .header(X_CORRELATION_ID, correlation)
                .timeout(self.policy.attempt_timeout.min(remaining));
            for (k, v) in TraceContext::outgoing() {
                req = req.header(k, v);
            }
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let replayed = resp
                        .headers()
                        .get(IDEMPOTENT_REPLAYED)
                        .is_some_and(|v| v == "true");
                    match resp.bytes().await {
                        Ok(bytes) => Ok(Answer {
                            status,
                            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                            replayed,
                        }),
                        Err(e) if e.is_timeout() => Err(Unreachable::Timeout),
                        Err(_) => Err(Unreachable::Connection),
                    }
                }
                Err(e) if e.is_timeout() => Err(Unreachable::Timeout),
                Err(_) => Err(Unreachable::Connection),
            };
            let again = match &outcome {
                Ok(answer) => retryable(answer),
                Err(_) => true,
            };
            if !again || attempt >= self.policy.attempts {
                tracing::Span::current().record("attempts", attempt);
                return outcome;
            }
            let pause = self
                .policy
                .backoff(attempt)
                .min(deadline.saturating_duration_since(Instant::now()));
            metrics::counter!(UPSTREAM_RETRIES, "target" => target).increment(1);
            tracing::info!(attempt, ?pause, status = ?outcome.as_ref().map(|a| a.status.as_u16()), "retrying upstream call");
            tokio::time::sleep(pause).await;
        }
    }

    /// The customer, soft-deleted or not: whether it may order is for orders-api to say (after
    /// the key, so a replay still finds the customer its order was for).
    pub async fn customer(
        &self,
        id: i64,
        correlation: &str,
        deadline: Instant,
    ) -> Result<Answer, Unreachable> {
        let url = format!(
            "{}/internal/customers/{id}?include_deleted=true",
            self.customers
        );
        self.call(Method::GET, url, None, &[], correlation, deadline)
            .await
    }

    pub async fn create_order(
        &self,
        body: &Value,
        key: &str,
        correlation: &str,
        deadline: Instant,
    ) -> Result<Answer, Unreachable> {
        let url = format!("{}/orders", self.orders);
        self.call(
            Method::POST,
            url,
            Some(body),
            &[(IDEMPOTENCY_KEY, key)],
            correlation,
            deadline,
        )
        .await
    }

    pub async fn confirm_order(
        &self,
        id: i64,
        key: &str,
        correlation: &str,
        deadline: Instant,
    ) -> Result<Answer, Unreachable> {
        let url = format!("{}/orders/{id}/confirm", self.orders);
        self.call(
            Method::POST,
            url,
            None,
            &[(X_IDEMPOTENCY_KEY, key)],
            correlation,
            deadline,
        )
        .await
    }

    /// Cancels the order only while it is still `CREATED`: a compensation never undoes a
    /// confirmation that went through (answered 409 `ORDER_NOT_CREATED`).
    pub async fn cancel_unconfirmed_order(
        &self,
        id: i64,
        correlation: &str,
        deadline: Instant,
    ) -> Result<Answer, Unreachable> {
        let url = format!("{}/orders/{id}/cancel?if_status=CREATED", self.orders);
        self.call(Method::POST, url, None, &[], correlation, deadline)
            .await
    }

    pub async fn get_order(
        &self,
        id: i64,
        correlation: &str,
        deadline: Instant,
    ) -> Result<Answer, Unreachable> {
        let url = format!("{}/orders/{id}", self.orders);
        self.call(Method::GET, url, None, &[], correlation, deadline)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `https://` bases work: the request reaches the network (here a closed port) instead of
    /// failing in the client for want of TLS support.
    #[tokio::test]
    async fn https_upstreams_are_spoken_to() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("https://{}", closed.local_addr().unwrap());
        drop(closed);
        let up = Upstream::new(&base, &base, "token", RetryPolicy::default()).unwrap();
        let err = up
            .http
            .get(format!("{base}/health"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_connect() && !err.is_builder(), "{err:?}");
    }
}
