//! SVG charts drawn by the tool itself (plotters, SVG backend only; no browser): memory
//! per instance with the fitted growth, restarts and the fix marked; GC pauses before and
//! after the fix. A 300-pod service still gives a readable chart: at most
//! `MAX_INSTANCE_LINES` instances (highest growth) plus the median.

use crate::acquire::RangeData;
use crate::acquire::lifetimes::Boundaries;
use crate::analysis::Analysed;
use crate::evidence::{Evidence, Period};
use crate::pack::Role;
use crate::stats::median;
use crate::timespec::{from_unix_seconds, unix_seconds};
use plotters::prelude::*;

pub const MAX_INSTANCE_LINES: usize = 8;
pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 540;

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(23, 190, 207),
];

fn time_label(seconds: f64, span: f64) -> String {
    let t = from_unix_seconds(seconds);
    if span > 2.0 * 86_400.0 {
        t.format("%m-%d %H:%M").to_string()
    } else {
        t.format("%H:%M").to_string()
    }
}

/// Memory per instance (MB) over the window, with the median across instances, each
/// instance's restarts as ticks, the fix as a vertical line, and the fitted growth of the
/// leak period drawn from the median baseline.
/// The median across every instance (not only those drawn), at every sample time.
fn median_line(heap: &[crate::prom::RangeSeries]) -> Vec<(f64, f64)> {
    let mut grid: Vec<f64> = heap
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    grid.iter()
        .filter_map(|t| {
            let values: Vec<f64> = heap
                .iter()
                .filter_map(|s| {
                    // Points are in time order (the client sorts them).
                    s.points
                        .binary_search_by(|p| p.0.total_cmp(t))
                        .ok()
                        .map(|i| s.points[i].1)
                })
                .collect();
            median(&values).map(|m| (*t, m / 1e6))
        })
        .collect()
}

pub fn memory(evidence: &Evidence, data: &RangeData, boundaries: &[Option<Boundaries>]) -> String {
    let from = unix_seconds(evidence.window.from);
    let to = unix_seconds(evidence.window.to);
    let span = (to - from).max(1.0);
    let heap = data.series(Role::Heap);
    // Highest growth first, as in the report's table.
    let mut order: Vec<usize> = (0..heap.len()).collect();
    let growth_of = |i: usize| {
        let name = crate::acquire::lifetimes::instance_name(&heap[i].labels);
        evidence
            .periods
            .window
            .instances
            .iter()
            .find(|x| x.instance == name)
            .and_then(|x| x.growth_bytes_per_hour)
            .unwrap_or(f64::NEG_INFINITY)
    };
    order.sort_by(|a, b| growth_of(*b).total_cmp(&growth_of(*a)));
    let shown: Vec<usize> = order.iter().copied().take(MAX_INSTANCE_LINES).collect();
    let max = heap
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max)
        / 1e6;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let title = format!(
            "{}: {} per instance (MB = 10^6 bytes, times UTC)",
            evidence.service, evidence.memory_name
        );
        let Ok(mut chart) = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(from..to, 0.0..(max * 1.1).max(1.0))
        else {
            return svg_fallback();
        };
        let _ = chart
            .configure_mesh()
            .x_labels(8)
            .x_label_formatter(&|x| time_label(*x, span))
            .y_desc("MB")
            .x_desc(format!(
                "{} → {} (UTC)",
                evidence.window.from.format("%Y-%m-%d %H:%M"),
                evidence.window.to.format("%Y-%m-%d %H:%M")
            ))
            .draw();
        for (n, &i) in shown.iter().enumerate() {
            let color = PALETTE[n % PALETTE.len()];
            let series = &heap[i];
            let name = crate::acquire::lifetimes::instance_name(&series.labels);
            let points: Vec<(f64, f64)> = series
                .points
                .iter()
                .filter(|p| p.1.is_finite())
                .map(|(t, v)| (*t, v / 1e6))
                .collect();
            if let Ok(drawn) = chart.draw_series(LineSeries::new(points, color.stroke_width(1))) {
                drawn.label(name).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            }
            // Restarts of this instance as ticks at the bottom.
            if let Some(Some(b)) = boundaries.get(i) {
                let ticks = b.times.iter().map(|t| {
                    PathElement::new(vec![(*t, 0.0), (*t, max * 0.05)], color.stroke_width(2))
                });
                let _ = chart.draw_series(ticks);
            }
        }
        let median_line = median_line(heap);
        if let Ok(drawn) = chart.draw_series(LineSeries::new(median_line, BLACK.stroke_width(2))) {
            drawn
                .label(format!("median of {} instances", heap.len()))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(2))
                });
        }
        // The leak period's fitted growth from its median baseline.
        let leak: &Period = evidence
            .periods
            .before
            .as_ref()
            .unwrap_or(&evidence.periods.window);
        if let (Some(base), Some(g)) = (leak.heap_baseline_bytes, leak.growth_bytes_per_hour) {
            let (a, b) = (unix_seconds(leak.from), unix_seconds(leak.to));
            let end = base + g * (b - a) / 3600.0;
            if let Ok(drawn) = chart.draw_series(LineSeries::new(
                vec![(a, base / 1e6), (b, end / 1e6)],
                RED.stroke_width(2),
            )) {
                drawn
                    .label(format!(
                        "fitted growth rate {:.2} MB/hour (slope; restarts removed)",
                        g / 1e6
                    ))
                    .legend(|(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], RED.stroke_width(2))
                    });
            }
        }
        if let Some(fix) = evidence.fix_deployed {
            let x = unix_seconds(fix);
            if let Ok(drawn) = chart.draw_series(std::iter::once(PathElement::new(
                vec![(x, 0.0), (x, max * 1.1)],
                GREEN.stroke_width(3),
            ))) {
                drawn
                    .label(format!("fix deployed {}", fix.format("%Y-%m-%d %H:%M")))
                    .legend(|(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], GREEN.stroke_width(3))
                    });
            }
        }
        let _ = chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw();
        let _ = root.present();
    }
    svg
}

/// GC pauses before and after the fix: the p95 where the runtime has one, else the mean.
pub fn gc(evidence: &Evidence) -> Option<String> {
    let (before, after) = (
        evidence.periods.before.as_ref()?,
        evidence.periods.after.as_ref()?,
    );
    let (label, b, a) = match (before.gc_pause_p95_seconds, after.gc_pause_p95_seconds) {
        (Some(b), Some(a)) => ("p95", b, a),
        _ => (
            "mean",
            before.gc_pause_mean_seconds?,
            after.gc_pause_mean_seconds?,
        ),
    };
    let top = b.max(a) * 1000.0 * 1.2;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH / 2, HEIGHT / 2 + 60)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{}: GC pause {label} before/after the fix (ms)",
                    evidence.service
                ),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..2.0, 0.0..top.max(0.001))
            .ok()?;
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(5)
            .x_label_formatter(&|x: &f64| match (x * 2.0).round() as i64 {
                1 => "before".into(),
                3 => "after".into(),
                _ => String::new(),
            })
            .y_desc("ms")
            .draw();
        let bars = [
            (0.2, 0.8, b, RGBColor(214, 39, 40)),
            (1.2, 1.8, a, RGBColor(44, 160, 44)),
        ];
        let _ = chart.draw_series(bars.iter().map(|(x0, x1, v, color)| {
            Rectangle::new([(*x0, 0.0), (*x1, v * 1000.0)], color.filled())
        }));
        let _ = root.present();
    }
    Some(svg)
}

fn svg_fallback() -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\"></svg>"
    )
}

/// The assets folder for a report or draft at `path` (`report.md` → `report-assets/`)
/// and the relative link prefix to it.
pub fn assets_for(path: &std::path::Path) -> (std::path::PathBuf, String) {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "report".into());
    let prefix = format!("{stem}-assets");
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(&prefix),
        _ => std::path::PathBuf::from(&prefix),
    };
    (dir, prefix)
}

/// Records where the charts go without writing them (dry runs).
pub fn plan_all(collected: &mut Analysed, link_prefix: &str) {
    collected
        .evidence
        .charts
        .insert("memory".into(), format!("{link_prefix}/memory.svg"));
    if gc(&collected.evidence).is_some() {
        collected
            .evidence
            .charts
            .insert("gc".into(), format!("{link_prefix}/gc.svg"));
    }
}

/// Writes the charts for `collected` into `dir` (created if missing) and records their
/// paths, relative to `link_base`, in the evidence.
pub fn write_all(
    collected: &mut Analysed,
    dir: &std::path::Path,
    link_prefix: &str,
) -> Result<(), crate::output::OutputError> {
    // Only the assets folder itself is created: a missing parent is the user's error.
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
    if parent.is_some_and(|p| !p.is_dir()) {
        return Err(crate::output::OutputError {
            path: dir.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "the folder {} does not exist",
                    parent.unwrap_or(dir).display()
                ),
            ),
        });
    }
    if !dir.is_dir() {
        std::fs::create_dir(dir).map_err(|source| crate::output::OutputError {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let mut charts = vec![(
        "memory",
        memory(
            &collected.evidence,
            &collected.acquired.data,
            &collected.acquired.boundaries,
        ),
    )];
    if let Some(gc) = gc(&collected.evidence) {
        charts.push(("gc", gc));
    }
    for (name, svg) in charts {
        let file = format!("{name}.svg");
        crate::output::write_atomic(&dir.join(&file), svg.as_bytes())?;
        collected
            .evidence
            .charts
            .insert(name.to_string(), format!("{link_prefix}/{file}"));
    }
    Ok(())
}
