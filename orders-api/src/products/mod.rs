//! Products: the catalogue and its stock.

pub mod handlers;
pub mod repo;
