//! `scan`'s decision per service: how its growth reads against `--min-growth`.

use crate::evidence::scan::{Flag, ServiceRow};

/// One service's row and flag from its figures over the window.
pub fn service_row(
    service: &str,
    runtime: &str,
    figures: &crate::evidence::Period,
    threshold: f64,
) -> ServiceRow {
    let instances_leaking = figures
        .instances
        .iter()
        .filter(|i| {
            i.growth_interval_bytes_per_hour
                .is_some_and(|[lo, _]| lo > threshold)
        })
        .count();
    let flag = match (
        figures.growth_interval_bytes_per_hour,
        figures.growth_bytes_per_hour,
    ) {
        (Some([lo, _]), _) if lo > threshold => Flag::Leaking,
        (_, Some(g)) if g > threshold => Flag::Growing,
        _ if instances_leaking > 0 => Flag::Partial,
        (_, None) => Flag::Unknown,
        _ => Flag::Ok,
    };
    ServiceRow {
        service: service.to_string(),
        runtime: runtime.to_string(),
        instances: figures.instance_count,
        growth_bytes_per_hour: figures.growth_bytes_per_hour,
        growth_interval_bytes_per_hour: figures.growth_interval_bytes_per_hour,
        growth_bytes_per_hour_total: figures.growth_bytes_per_hour_total,
        growth_percent: figures.growth_percent,
        restarts: figures.restarts,
        heap_end_bytes: figures.heap_end_bytes,
        instances_leaking,
        flag,
        top_route: None,
    }
}
