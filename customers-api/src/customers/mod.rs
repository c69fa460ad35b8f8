//! Customers: CRUD with soft delete, search and keyset pages, and the internal look-up.

pub mod handlers;
pub mod repo;
