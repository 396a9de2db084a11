//! A thin client for the Prometheus HTTP API (also spoken by Thanos, Mimir and
//! VictoriaMetrics): API paths, typed responses, range slicing and error classes.

pub mod api;
pub mod backend;
pub mod client;
pub mod error;
pub mod range;

pub use api::{InstantSample, Labels, RangeSeries};
pub use backend::{Backend, PartialResponse};
pub use client::{Answer, Client, ClientOptions};
pub use error::PromError;
