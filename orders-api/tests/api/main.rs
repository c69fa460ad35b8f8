//! The orders-api test suite: one binary whose tests talk HTTP to real servers (orders-api next
//! to a real customers-api, over one database they share).

mod helpers;

mod cancel;
mod cli;
mod concurrency;
mod customers_dependency;
mod idempotency;
mod identity;
mod metrics;
mod openapi;
mod orders;
mod polling;
mod preconditions;
mod products;
mod replay;
mod rotation;
mod settings;
