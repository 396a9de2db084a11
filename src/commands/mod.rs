//! One module per command; each takes a validated configuration.

pub mod collect;
pub mod queries;
pub mod synth;
