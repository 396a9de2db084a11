//! Turning raw series into figures: restart-aware growth, levels, counts and quantiles.
//! Each figure is computed in exactly one place, here or in a submodule.

pub mod growth;
pub mod period;
pub mod replicas;
pub mod resolution;
pub mod restarts;
pub mod stats;
pub mod verdict;
