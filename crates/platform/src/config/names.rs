//! The name of every environment variable the product reads: the one place each is spelled.

// Every server part.
pub const PORT: &str = "PORT";
pub const JWT_SECRET: &str = "JWT_SECRET";
pub const SERVICE_TOKEN: &str = "SERVICE_TOKEN";
pub const METRICS_TOKEN: &str = "METRICS_TOKEN";
pub const RUST_LOG: &str = "RUST_LOG";
pub const LOG_FORMAT: &str = "LOG_FORMAT";
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
// The two APIs.
pub const DATABASE_URL: &str = "DATABASE_URL";
// customers-api.
pub const JWT_EXPIRES_IN: &str = "JWT_EXPIRES_IN";
pub const LOGIN_ATTEMPTS_PER_MINUTE: &str = "LOGIN_ATTEMPTS_PER_MINUTE";
pub const TRUSTED_PROXIES: &str = "TRUSTED_PROXIES";
pub const LOGIN_CONCURRENT_VERIFICATIONS: &str = "LOGIN_CONCURRENT_VERIFICATIONS";
// orders-api, and the orchestrator's upstreams.
pub const CUSTOMERS_API_BASE: &str = "CUSTOMERS_API_BASE";
pub const ORDERS_API_BASE: &str = "ORDERS_API_BASE";
pub const CUSTOMERS_API_TIMEOUT_MS: &str = "CUSTOMERS_API_TIMEOUT_MS";
pub const IDEMPOTENCY_KEY_EXPIRATION_HOURS: &str = "IDEMPOTENCY_KEY_EXPIRATION_HOURS";
pub const ORDER_CANCELLATION_WINDOW_MINUTES: &str = "ORDER_CANCELLATION_WINDOW_MINUTES";
// lambda-orchestrator.
pub const UPSTREAM_MAX_ATTEMPTS: &str = "UPSTREAM_MAX_ATTEMPTS";
pub const UPSTREAM_TIMEOUT_MS: &str = "UPSTREAM_TIMEOUT_MS";
pub const UPSTREAM_BACKOFF_MS: &str = "UPSTREAM_BACKOFF_MS";
pub const UPSTREAM_MAX_BACKOFF_MS: &str = "UPSTREAM_MAX_BACKOFF_MS";
pub const ORCHESTRATION_DEADLINE_MS: &str = "ORCHESTRATION_DEADLINE_MS";
pub const AWS_LAMBDA_RUNTIME_API: &str = "AWS_LAMBDA_RUNTIME_API";
pub const METRICS_EMF: &str = "METRICS_EMF";
// The all-in-one binary.
pub const BIND_ADDRESS: &str = "BIND_ADDRESS";
pub const CUSTOMERS_PORT: &str = "CUSTOMERS_PORT";
pub const ORDERS_PORT: &str = "ORDERS_PORT";
pub const ORCHESTRATOR_PORT: &str = "ORCHESTRATOR_PORT";
// The test kit.
pub const TEST_MYSQL_URL: &str = "TEST_MYSQL_URL";
pub const REQUIRE_MYSQL_TESTS: &str = "REQUIRE_MYSQL_TESTS";
pub const UPDATE_OPENAPI: &str = "UPDATE_OPENAPI";
