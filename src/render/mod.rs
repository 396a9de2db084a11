//! Renderers of the evidence model: Markdown (handlebars) and JSON.

pub mod chart;
pub mod heap;
pub mod json;
pub mod markdown;
pub mod textfile;
