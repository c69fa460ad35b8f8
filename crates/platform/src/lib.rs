//! The service platform every part of B2B Orders stands on: configuration, the database handle
//! over MySQL and SQLite, problem+json errors, authentication, telemetry, Prometheus metrics, extractors and
//! server start-up.

pub mod auth;
pub mod binary;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod dotenv;
pub mod error;
pub mod error_docs;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod server;
pub mod telemetry;

pub use auth::{Auth, Caller, Operator, Service};
pub use b2b_domain::ErrorCode;
pub use clock::Clock;
pub use db::Db;
pub use error::{ApiError, Problem, Result};
pub use extract::{Id, JsonBody};
pub use metrics::Metrics;
pub use telemetry::CorrelationId;
