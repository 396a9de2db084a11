//! One module per command; each takes a validated configuration.

pub mod attach;
pub mod collect;
pub mod dashboard;
pub mod gclog;
pub mod heap;
pub mod queries;
pub mod rules;
pub mod scan;
pub mod validate;
