//! When to try an upstream call again, and how long to wait first: connection errors, time-outs,
//! 502/503/504 and an in-flight 409 only, with exponential back-off and full jitter.

use std::time::Duration;

use b2b_domain::ErrorCode;
use reqwest::StatusCode;

use crate::upstream::Answer;

/// How hard to try.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub attempts: u32,
    pub attempt_timeout: Duration,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// The whole orchestration, compensation included; inside the Lambda's 30 s.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            attempt_timeout: Duration::from_secs(5),
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            deadline: Duration::from_secs(25),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: a random pause up to `base · 2^(attempt-1)`, capped.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base_backoff
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(self.max_backoff);
        let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::random_range(0..=ms))
    }
}

/// Whether an answer is worth another attempt: a gateway's 502/503/504, or a 409 saying the
/// same key is still in flight (it will be answered once that call ends).
pub(crate) fn retryable(a: &Answer) -> bool {
    matches!(a.status.as_u16(), 502..=504)
        || (a.status == StatusCode::CONFLICT && a.code() == Some(ErrorCode::IdempotencyKeyInFlight))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_by_the_exponential_ceiling() {
        let p = RetryPolicy {
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(250),
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            assert!(p.backoff(1) <= Duration::from_millis(100));
            assert!(p.backoff(2) <= Duration::from_millis(200));
            assert!(p.backoff(9) <= Duration::from_millis(250));
        }
    }

    #[test]
    fn only_transient_answers_are_retried() {
        let a = |status: u16, code: &str| Answer {
            status: StatusCode::from_u16(status).unwrap(),
            body: serde_json::json!({ "code": code }),
            replayed: false,
        };
        assert!(retryable(&a(503, "")));
        assert!(retryable(&a(502, "")));
        assert!(retryable(&a(504, "")));
        assert!(retryable(&a(
            409,
            ErrorCode::IdempotencyKeyInFlight.as_str()
        )));
        assert!(!retryable(&a(409, ErrorCode::InsufficientStock.as_str())));
        assert!(!retryable(&a(500, "")));
        assert!(!retryable(&a(404, "")));
        assert!(!retryable(&a(422, "")));
    }
}
