//! The orchestrator's settings: their defaults and ranges, read from the environment and
//! listed by `--help`.

use std::ops::RangeInclusive;
use std::time::Duration;

use b2b_platform::cli::Setting;
use b2b_platform::config::{self, names::*};

use crate::emf;
use crate::retry::RetryPolicy;

pub const DEFAULT_PORT: u16 = 3000;
/// `UPSTREAM_MAX_ATTEMPTS`, the first included.
pub const ATTEMPTS: RangeInclusive<u32> = 1..=10;
/// `UPSTREAM_TIMEOUT_MS`: 100 ms to a minute.
pub const ATTEMPT_TIMEOUT_MS: RangeInclusive<u64> = 100..=60_000;
/// `UPSTREAM_BACKOFF_MS` and `UPSTREAM_MAX_BACKOFF_MS`: none to a minute.
pub const BACKOFF_MS: RangeInclusive<u64> = 0..=60_000;
/// `ORCHESTRATION_DEADLINE_MS`: a second to 15 minutes, the longest a Lambda can run.
pub const DEADLINE_MS: RangeInclusive<u64> = 1_000..=900_000;
pub const DEFAULT_ATTEMPTS: u32 = 4;
pub const DEFAULT_ATTEMPT_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_BACKOFF_MS: u64 = 100;
pub const DEFAULT_MAX_BACKOFF_MS: u64 = 2_000;
pub const DEFAULT_DEADLINE_MS: u64 = 25_000;
pub const DEFAULT_CUSTOMERS_API_BASE: &str = "http://localhost:3001";
pub const DEFAULT_ORDERS_API_BASE: &str = "http://localhost:3002";

/// Settings read from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub jwt_secret: String,
    pub service_token: String,
    pub customers_api_base: String,
    pub orders_api_base: String,
    pub policy: RetryPolicy,
    /// `METRICS_TOKEN`: when set, `GET /metrics` needs it.
    pub metrics_token: Option<String>,
    /// `METRICS_EMF`: also log each orchestration as a CloudWatch embedded-metric-format line
    /// (default: on inside Lambda only).
    pub metrics_emf: bool,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_env_with(false)
    }

    /// Like [`Config::from_env`]; with `dev_secrets`, missing secrets fall back to the
    /// documented development values (the all-in-one `cargo run` only).
    pub fn from_env_with(dev_secrets: bool) -> anyhow::Result<Self> {
        let ms = |name: &str, default: u64, range: RangeInclusive<u64>| {
            config::parse_in(name, default, range).map(Duration::from_millis)
        };
        let policy = RetryPolicy {
            attempts: config::parse_in(UPSTREAM_MAX_ATTEMPTS, DEFAULT_ATTEMPTS, ATTEMPTS)?,
            attempt_timeout: ms(
                UPSTREAM_TIMEOUT_MS,
                DEFAULT_ATTEMPT_TIMEOUT_MS,
                ATTEMPT_TIMEOUT_MS,
            )?,
            base_backoff: ms(UPSTREAM_BACKOFF_MS, DEFAULT_BACKOFF_MS, BACKOFF_MS)?,
            max_backoff: ms(UPSTREAM_MAX_BACKOFF_MS, DEFAULT_MAX_BACKOFF_MS, BACKOFF_MS)?,
            deadline: ms(ORCHESTRATION_DEADLINE_MS, DEFAULT_DEADLINE_MS, DEADLINE_MS)?,
        };
        let (jwt_secret, service_token) = config::secrets(dev_secrets)?;
        Ok(Self {
            port: config::port(PORT, DEFAULT_PORT)?,
            jwt_secret,
            service_token,
            customers_api_base: config::var_or(CUSTOMERS_API_BASE, DEFAULT_CUSTOMERS_API_BASE),
            orders_api_base: config::var_or(ORDERS_API_BASE, DEFAULT_ORDERS_API_BASE),
            policy,
            metrics_token: config::metrics_token()?,
            metrics_emf: emf::enabled()?,
        })
    }
}

/// Every setting [`Config::from_env`] reads, as `--help` lists them.
pub fn settings() -> Vec<Setting> {
    let mut all = vec![Setting::port(
        PORT,
        "the port to listen on (not in AWS Lambda)",
        DEFAULT_PORT,
    )];
    all.extend(Setting::secrets(false));
    all.extend([
        Setting::new(
            CUSTOMERS_API_BASE,
            "where customers-api is",
            DEFAULT_CUSTOMERS_API_BASE,
            "an http:// or https:// URL",
        ),
        Setting::new(
            ORDERS_API_BASE,
            "where orders-api is",
            DEFAULT_ORDERS_API_BASE,
            "an http:// or https:// URL",
        ),
        Setting::number(
            UPSTREAM_MAX_ATTEMPTS,
            "attempts per call to an API, the first included",
            DEFAULT_ATTEMPTS,
            &ATTEMPTS,
        ),
        Setting::number(
            UPSTREAM_TIMEOUT_MS,
            "time-out of one attempt, in milliseconds",
            DEFAULT_ATTEMPT_TIMEOUT_MS,
            &ATTEMPT_TIMEOUT_MS,
        ),
        Setting::number(
            UPSTREAM_BACKOFF_MS,
            "longest random wait before the first retry, in milliseconds (doubling with each retry)",
            DEFAULT_BACKOFF_MS,
            &BACKOFF_MS,
        ),
        Setting::number(
            UPSTREAM_MAX_BACKOFF_MS,
            "longest wait between retries, in milliseconds",
            DEFAULT_MAX_BACKOFF_MS,
            &BACKOFF_MS,
        ),
        Setting::number(
            ORCHESTRATION_DEADLINE_MS,
            "time budget of one orchestration, compensation included, in milliseconds",
            DEFAULT_DEADLINE_MS,
            &DEADLINE_MS,
        ),
        Setting::new(
            AWS_LAMBDA_RUNTIME_API,
            "set by AWS Lambda: serve Lambda events instead of HTTP on PORT",
            "unset",
            "host:port",
        ),
    ]);
    all.push(Setting::metrics_token());
    all.push(Setting::new(
        METRICS_EMF,
        "also log each orchestration as a CloudWatch embedded-metric-format line",
        "1 inside AWS Lambda, else 0",
        "0 or 1",
    ));
    all.extend(Setting::logging());
    all
}
