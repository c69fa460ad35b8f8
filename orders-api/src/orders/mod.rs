//! Orders: creation that never oversells, idempotent confirmation, cancellation within its
//! window, and the reads.

pub mod error;
pub mod handlers;
pub mod repo;
pub mod service;
