//! The customers-api test suite: one binary whose tests talk to a real server over HTTP.

mod auth;
mod bad_input;
mod cli;
mod client_addr;
mod customers;
mod helpers;
mod identity;
mod login_protection;
mod metrics;
mod openapi;
mod pagination;
mod replicas;
mod security;
mod settings;
mod storage;
mod tls;
