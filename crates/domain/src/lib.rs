//! The B2B orders domain: what the parts say to each other and the rules they share. No I/O.

pub mod customer;
pub mod identity;
pub mod order;
pub mod page;
pub mod product;
pub mod validation;

pub use validation::{FieldError, Fields, FromJson};
