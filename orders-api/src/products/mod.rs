//! Products: the catalogue and its stock.

pub mod etag;
pub mod handlers;
pub mod repo;
