//! `scan`'s model: the fleet view, one row per service, with its flag
//! (`analysis::scan::service_row`). Schema `schema/scan.schema.json`.

use crate::evidence::QueryRecord;
use serde::Serialize;

/// How a service's growth reads against `--min-growth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flag {
    /// The service's 95 % interval lies wholly above the threshold.
    Leaking,
    /// Its median is above the threshold, not confidently.
    Growing,
    /// Neither, but some instances' own intervals are wholly above it (one bad pod).
    Partial,
    /// No growth figure (too few points per lifetime).
    Unknown,
    Ok,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Leaking => "leaking",
            Flag::Growing => "growing",
            Flag::Partial => "partial",
            Flag::Unknown => "unknown",
            Flag::Ok => "ok",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceRow {
    pub service: String,
    pub runtime: String,
    pub instances: usize,
    pub growth_bytes_per_hour: Option<f64>,
    pub growth_interval_bytes_per_hour: Option<[f64; 2]>,
    pub growth_bytes_per_hour_total: Option<f64>,
    pub growth_percent: Option<f64>,
    pub restarts: u64,
    pub heap_end_bytes: Option<f64>,
    /// Instances whose own growth interval is wholly above the threshold.
    pub instances_leaking: usize,
    pub flag: Flag,
    /// For a leaking service: the route whose requests retain the most memory
    /// (`analysis::routes::leak_by_route` over the window); null otherwise, or when no
    /// route can be told to retain memory.
    pub top_route: Option<crate::evidence::routes::RouteLeak>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scan {
    pub schema: String,
    pub selector: String,
    pub service_label: String,
    pub from: chrono::DateTime<chrono::Utc>,
    pub to: chrono::DateTime<chrono::Utc>,
    pub step_seconds: f64,
    pub threshold_bytes_per_hour: f64,
    pub services: Vec<ServiceRow>,
    /// Every request scan sent, as collect lists its own (the floor benchmarks replay
    /// them; people paste them into Grafana).
    pub queries: Vec<QueryRecord>,
    pub warnings: Vec<String>,
}
