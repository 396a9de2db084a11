//! Every integration test, in one binary: one link instead of sixteen, measured 1.5–2.5×
//! faster from clean and 3–4× faster after a change to the library (see CHANGELOG).
//! Each module is one area; `common` starts real servers and runs the real binary.

mod common;

mod attach;
mod backends;
mod charts;
mod dashboard;
mod deployments;
mod detection;
mod draft_props;
mod e2e;
mod errors;
mod faults;
mod fill;
mod gclog;
mod heap;
mod heap_sources;
mod help;
mod hprof;
mod layering;
mod lifetimes;
mod live;
mod otel;
mod readme;
mod render;
mod requests;
mod restarts;
mod routes;
mod rules;
mod runtimes;
mod scan;
mod summary;
mod symptoms;
mod tls;
mod trust;
mod validate;
mod writes;
