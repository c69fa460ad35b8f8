//! The lambda-orchestrator test suite: one binary driving the orchestrator against the real
//! customers-api and orders-api on port 0, through HTTP and through Lambda events.

mod cli;
mod envelope;
mod faults;
mod flow;
mod helpers;
mod lambda_events;
mod logs;
mod metrics;
mod openapi;
mod proxy;
mod settings;
