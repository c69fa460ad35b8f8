//! The B2B orders domain: what the parts say to each other and the rules they share. No I/O.

pub mod customer;
pub mod error_code;
pub mod headers;
pub mod identity;
pub mod order;
pub mod page;
pub mod product;
pub mod validation;

pub use error_code::ErrorCode;
pub use validation::{FieldError, Fields, FromJson};
