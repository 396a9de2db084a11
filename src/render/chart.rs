//! SVG charts drawn by the tool itself (plotters, SVG backend only; no browser): memory
//! per instance with restarts as ticks, the fix as a vertical line and the growth fitted
//! per process lifetime along the post-GC floor; GC pauses before and after the fix,
//! overall and per kind, with their values written on the bars. Legends sit in a band
//! below the plot, so they never cover data; time ticks fall on round UTC times. A
//! 300-pod service still gives a readable chart: at most `MAX_INSTANCE_LINES` instances
//! (the highest growth, plus the one whose fitted growth is drawn) and the median.

use crate::acquire::RangeData;
use crate::acquire::lifetimes::{Boundaries, instance_name};
use crate::analysis::Analysed;
use crate::analysis::growth::lifetime_floor_segments;
use crate::evidence::{Evidence, Period};
use crate::pack::Role;
use crate::prom::RangeSeries;
use crate::stats::median;
use crate::timespec::{from_unix_seconds, unix_seconds};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub const MAX_INSTANCE_LINES: usize = 8;
pub const WIDTH: u32 = 960;
/// Height of the plot; the legend band below it adds its own rows.
pub const HEIGHT: u32 = 540;
/// The fitted growth segments' colour (no instance has it).
pub const FIT_COLOR: RGBColor = RGBColor(214, 0, 0);
const FIX_COLOR: RGBColor = RGBColor(0, 120, 0);
const BEFORE_COLOR: RGBColor = RGBColor(214, 39, 40);
const AFTER_COLOR: RGBColor = RGBColor(44, 160, 44);

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

/// Tick spacings a reader counts in without effort (seconds): minutes for short windows,
/// whole hours and their 2/3/6/12 multiples, then days.
const TICK_STEPS: [f64; 17] = [
    60.0,
    120.0,
    300.0,
    600.0,
    900.0,
    1800.0,
    3600.0,
    7200.0,
    10_800.0,
    21_600.0,
    43_200.0,
    86_400.0,
    172_800.0,
    259_200.0,
    604_800.0,
    1_209_600.0,
    2_419_200.0,
];
const MAX_TICKS: i64 = 10;
/// Axis labels a little larger than plotters' default, which reads small at 960 px.
const AXIS_FONT: u32 = 15;

/// Tick times for `[from, to]`: every multiple (since the Unix epoch, so whole UTC hours
/// and midnights) of the smallest round step that gives at most `MAX_TICKS` ticks; the
/// steps grow by at most 2.5×, so a window gets about 5–10. Also returns the step.
pub fn time_ticks(from: f64, to: f64) -> (Vec<f64>, f64) {
    let mut chosen = (Vec::new(), TICK_STEPS[TICK_STEPS.len() - 1]);
    // A label is centred on its tick: one in the last 3 % of the axis would run off the
    // chart's right edge, so no tick goes there.
    let last = to - 0.03 * (to - from);
    for step in TICK_STEPS {
        let first = (from / step).ceil() * step;
        let count = ((last - first) / step).floor() as i64 + 1;
        if count <= MAX_TICKS {
            let ticks = (0..count.max(0)).map(|k| first + k as f64 * step).collect();
            chosen = (ticks, step);
            break;
        }
    }
    chosen
}

/// An f64 axis whose ticks (and grid lines) are exactly `ticks`: plotters' own choice
/// for f64 ranges gives times like 14:46, and its `WithKeyPoints` on f64 loses the label
/// formatter.
struct TickedAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl TickedAxis {
    fn new(range: std::ops::Range<f64>, ticks: Vec<f64>) -> Self {
        Self {
            inner: range.into(),
            ticks,
        }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // No light (minor) grid lines: only the labelled ticks.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

/// A tick's label: the time of day, with the date at midnight (and only the date for
/// steps of a day or more), so a reader always knows which day a tick falls on.
fn tick_label(t: f64, step: f64) -> String {
    let time = from_unix_seconds(t);
    if step >= 86_400.0 {
        time.format("%m-%d").to_string()
    } else if t.rem_euclid(86_400.0) == 0.0 {
        time.format("%m-%d %H:%M").to_string()
    } else {
        time.format("%H:%M").to_string()
    }
}

/// The median across every instance (not only those drawn), at every sample time.
fn median_line(heap: &[RangeSeries]) -> Vec<(f64, f64)> {
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

/// What the median line runs over, in the report's own counts: the text's "median of N
/// instances" is one period's instances, the line is every series in the window.
fn median_label(evidence: &Evidence, series: usize) -> String {
    match (&evidence.periods.before, &evidence.periods.after) {
        (Some(before), Some(after)) => format!(
            "median of all instances at each time ({series} series over the window: {} before the fix, {} after)",
            before.instance_count, after.instance_count
        ),
        _ => format!("median of all {series} instances at each time"),
    }
}

/// The period whose growth is the leak's: before the fix, else the whole window.
fn leak_period(evidence: &Evidence) -> &Period {
    evidence
        .periods
        .before
        .as_ref()
        .unwrap_or(&evidence.periods.window)
}

/// Which heap series to draw, highest window growth first, and which one's fitted growth
/// to draw: the leak period's instance nearest its median rate (the rate the label
/// quotes), swapped in for the last one drawn when not among them, so the fitted line
/// always sits on drawn samples.
fn pick_instances(evidence: &Evidence, heap: &[RangeSeries]) -> (Vec<usize>, Option<usize>) {
    let growth_of = |i: usize| {
        let name = instance_name(&heap[i].labels);
        evidence
            .periods
            .window
            .instances
            .iter()
            .find(|x| x.instance == name)
            .and_then(|x| x.growth_bytes_per_hour)
            .unwrap_or(f64::NEG_INFINITY)
    };
    let mut order: Vec<usize> = (0..heap.len()).collect();
    order.sort_by(|a, b| growth_of(*b).total_cmp(&growth_of(*a)));
    let mut shown: Vec<usize> = order.into_iter().take(MAX_INSTANCE_LINES).collect();
    let leak = leak_period(evidence);
    let fitted = leak.growth_bytes_per_hour.and_then(|median_rate| {
        let nearest = leak
            .instances
            .iter()
            .filter_map(|x| Some((x, (x.growth_bytes_per_hour? - median_rate).abs())))
            .min_by(|a, b| a.1.total_cmp(&b.1))?
            .0;
        heap.iter()
            .position(|s| instance_name(&s.labels) == nearest.instance)
    });
    if let Some(i) = fitted
        && !shown.contains(&i)
    {
        shown.pop();
        shown.push(i);
    }
    (shown, fitted)
}

/// How a legend entry is marked.
#[derive(Clone, Copy)]
enum Mark {
    Line(RGBColor, u32),
    /// A short vertical tick, as restarts are drawn.
    Tick(RGBColor),
    Swatch(RGBColor),
}

struct LegendEntry {
    mark: Mark,
    label: String,
}

/// Legend text size as given to plotters (it writes `size / 1.24` px into the SVG).
const LEGEND_FONT: f64 = 16.0;
const LEGEND_MARK: i32 = 24;
const LEGEND_GAP: i32 = 22;
const LEGEND_ROW: i32 = 22;
const LEGEND_PAD: i32 = 10;

/// A generous width for `label` in the legend font: sans-serif averages well under
/// 0.6 em per character, so entries never run into each other.
fn label_width(label: &str) -> i32 {
    (label.chars().count() as f64 * 0.6 * LEGEND_FONT / 1.24).ceil() as i32
}

/// Places the entries left to right, wrapping within `width`: each entry's (x, row).
fn legend_layout(entries: &[LegendEntry], width: i32) -> Vec<(i32, i32)> {
    let mut out = Vec::with_capacity(entries.len());
    let (mut x, mut row) = (LEGEND_PAD, 0);
    for entry in entries {
        let w = LEGEND_MARK + 6 + label_width(&entry.label);
        if x > LEGEND_PAD && x + w > width - LEGEND_PAD {
            x = LEGEND_PAD;
            row += 1;
        }
        out.push((x, row));
        x += w + LEGEND_GAP;
    }
    out
}

fn legend_height(layout: &[(i32, i32)]) -> u32 {
    let rows = layout.iter().map(|p| p.1 + 1).max().unwrap_or(0);
    (rows * LEGEND_ROW + 2 * LEGEND_PAD) as u32
}

/// Draws the legend framed in `area`, a band of its own below the plot.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[LegendEntry],
    layout: &[(i32, i32)],
) {
    let (w, h) = area.dim_in_pixel();
    let _ = area.draw(&Rectangle::new(
        [(2, 2), (w as i32 - 3, h as i32 - 3)],
        BLACK.stroke_width(1),
    ));
    let font = ("sans-serif", LEGEND_FONT)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (entry, &(x, row)) in entries.iter().zip(layout) {
        let y = LEGEND_PAD + row * LEGEND_ROW + LEGEND_ROW / 2;
        let _ = match entry.mark {
            Mark::Line(color, width) => area.draw(&PathElement::new(
                vec![(x, y), (x + LEGEND_MARK, y)],
                color.stroke_width(width),
            )),
            Mark::Tick(color) => area.draw(&PathElement::new(
                vec![(x + LEGEND_MARK / 2, y + 7), (x + LEGEND_MARK / 2, y - 7)],
                color.stroke_width(2),
            )),
            Mark::Swatch(color) => area.draw(&Rectangle::new(
                [(x + 4, y - 7), (x + LEGEND_MARK - 4, y + 7)],
                color.filled(),
            )),
        };
        let _ = area.draw(&Text::new(
            entry.label.clone(),
            (x + LEGEND_MARK + 6, y),
            font.clone(),
        ));
    }
}

/// The fitted growth, drawn on the instance nearest the leak period's median rate: one
/// segment per process lifetime in the leak period, along its post-GC floor (restarts
/// reset the heap, so one line over the whole period would climb above every sample).
fn fitted_segments(
    evidence: &Evidence,
    series: &RangeSeries,
    boundaries: Option<&Boundaries>,
) -> Vec<[(f64, f64); 2]> {
    let leak = leak_period(evidence);
    let (from, to) = (unix_seconds(leak.from), unix_seconds(leak.to));
    let points: Vec<(f64, f64)> = series
        .points
        .iter()
        .copied()
        .filter(|p| p.0 >= from && p.0 <= to && p.1.is_finite())
        .collect();
    let times = boundaries.map_or(&[][..], |b| &b.times[..]);
    lifetime_floor_segments(&points, times)
}

/// Memory per instance (MB) over the window: the median across instances, each
/// instance's restarts as ticks, the fix as a vertical line, and the leak period's growth
/// fitted per process lifetime; the legend in a band below the plot.
pub fn memory(evidence: &Evidence, data: &RangeData, boundaries: &[Option<Boundaries>]) -> String {
    let heap = data.series(Role::Heap);
    let (shown, fitted) = pick_instances(evidence, heap);
    let boundaries_of = |i: usize| boundaries.get(i).and_then(Option::as_ref);
    let mut entries = Vec::new();
    for (n, &i) in shown.iter().enumerate() {
        entries.push(LegendEntry {
            mark: Mark::Line(PALETTE[n % PALETTE.len()], 2),
            label: instance_name(&heap[i].labels),
        });
    }
    entries.push(LegendEntry {
        mark: Mark::Line(BLACK, 2),
        label: median_label(evidence, heap.len()),
    });
    let segments = fitted.map_or_else(Vec::new, |i| {
        fitted_segments(evidence, &heap[i], boundaries_of(i))
    });
    let leak = leak_period(evidence);
    if let (Some(i), Some(rate), false) = (fitted, leak.growth_bytes_per_hour, segments.is_empty())
    {
        let rate = crate::units::mb_per_hour(rate);
        let period = if evidence.periods.before.is_some() {
            "before the fix"
        } else {
            "over the window"
        };
        entries.push(LegendEntry {
            mark: Mark::Line(FIT_COLOR, 3),
            label: format!(
                "growth fitted per process lifetime on the post-GC floor (drawn for {}); median rate {period}: {rate}",
                instance_name(&heap[i].labels)
            ),
        });
    }
    let restarts_drawn = shown
        .iter()
        .any(|&i| boundaries_of(i).is_some_and(|b| !b.times.is_empty()));
    if restarts_drawn {
        entries.push(LegendEntry {
            mark: Mark::Tick(BLACK),
            label: "restart (tick at the bottom, in its instance's colour)".into(),
        });
    }
    if let Some(fix) = evidence.fix_deployed {
        entries.push(LegendEntry {
            mark: Mark::Line(FIX_COLOR, 3),
            label: format!("fix deployed {} UTC", fix.format("%Y-%m-%d %H:%M")),
        });
    }
    let layout = legend_layout(&entries, WIDTH as i32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT + legend_height(&layout)))
            .into_drawing_area();
        let _ = root.fill(&WHITE);
        let (plot, band) = root.split_vertically(HEIGHT);
        let plotted = draw_memory_plot(&plot, evidence, heap, &shown, &boundaries_of, &segments);
        if plotted.is_none() {
            return svg_fallback();
        }
        draw_legend(&band, &entries, &layout);
        let _ = root.present();
    }
    svg
}

/// The memory chart's title: one line at 20 when it fits the width (by the legend's
/// generous estimate), else the units on a second, smaller line, so a long service or
/// memory name stays on the chart.
fn memory_title(service: &str, memory_name: &str) -> Vec<(String, u32)> {
    let units = "MB = 10^6 bytes, times UTC";
    let one = format!("{service}: {memory_name} per instance ({units})");
    let fits = one.chars().count() as f64 * 0.6 * 20.0 / 1.24 <= f64::from(WIDTH) - 40.0;
    if fits {
        vec![(one, 20)]
    } else {
        vec![
            (format!("{service}: {memory_name} per instance"), 20),
            (units.to_string(), 16),
        ]
    }
}

/// The plot of `memory`: axes with round time ticks, the lines, ticks and segments.
fn draw_memory_plot<'b, DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    evidence: &Evidence,
    heap: &[RangeSeries],
    shown: &[usize],
    boundaries_of: &dyn Fn(usize) -> Option<&'b Boundaries>,
    segments: &[[(f64, f64); 2]],
) -> Option<()> {
    let from = unix_seconds(evidence.window.from);
    let to = unix_seconds(evidence.window.to).max(from + 1.0);
    let max = heap
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max)
        / 1e6;
    let top = (max * 1.1).max(1.0);
    let (ticks, step) = time_ticks(from, to);
    let mut titled = area.margin(10, 0, 0, 0);
    for (line, size) in memory_title(&evidence.service, &evidence.memory_name) {
        titled = titled.titled(&line, ("sans-serif", size)).ok()?;
    }
    let mut chart = ChartBuilder::on(&titled)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(TickedAxis::new(from..to, ticks), 0.0..top)
        .ok()?;
    chart
        .configure_mesh()
        .max_light_lines(1)
        .label_style(("sans-serif", AXIS_FONT))
        .axis_desc_style(("sans-serif", AXIS_FONT))
        .x_label_formatter(&|x| tick_label(*x, step))
        .y_label_formatter(&|v| axis_number(*v, top))
        .y_desc("MB")
        .x_desc(format!(
            "{} → {} (UTC)",
            evidence.window.from.format("%Y-%m-%d %H:%M"),
            evidence.window.to.format("%Y-%m-%d %H:%M")
        ))
        .draw()
        .ok()?;
    for (n, &i) in shown.iter().enumerate() {
        let color = PALETTE[n % PALETTE.len()];
        let points = heap[i]
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|(t, v)| (*t, v / 1e6));
        let _ = chart.draw_series(LineSeries::new(points, color.stroke_width(1)));
        // Restarts of this instance as ticks at the bottom.
        if let Some(b) = boundaries_of(i) {
            let ticks = b.times.iter().map(|t| {
                PathElement::new(vec![(*t, 0.0), (*t, top * 0.04)], color.stroke_width(2))
            });
            let _ = chart.draw_series(ticks);
        }
    }
    let _ = chart.draw_series(LineSeries::new(median_line(heap), BLACK.stroke_width(2)));
    let _ = chart.draw_series(segments.iter().map(|[a, b]| {
        PathElement::new(
            vec![(a.0, a.1 / 1e6), (b.0, b.1 / 1e6)],
            FIT_COLOR.stroke_width(3),
        )
    }));
    if let Some(fix) = evidence.fix_deployed {
        let x = unix_seconds(fix);
        let _ = chart.draw_series(std::iter::once(PathElement::new(
            vec![(x, 0.0), (x, top)],
            FIX_COLOR.stroke_width(3),
        )));
    }
    Some(())
}

/// The GC bars: which statistic, and per group (all pauses, then each kind) the value
/// before and after the fix, in seconds.
struct GcBars {
    /// "p95", "mean and max" or "mean", as the title says it.
    statistic: &'static str,
    groups: Vec<(String, Option<f64>, Option<f64>)>,
}

/// The p95 where the runtime has a histogram (overall and per kind), else a summary's
/// mean and max: never a made-up p95.
fn gc_bars(before: &Period, after: &Period) -> Option<GcBars> {
    if let (Some(b), Some(a)) = (before.gc_pause_p95_seconds, after.gc_pause_p95_seconds) {
        let mut groups = vec![("all kinds".to_string(), Some(b), Some(a))];
        let mut kinds: Vec<&String> = before
            .gc_pause_p95_by_kind
            .keys()
            .chain(after.gc_pause_p95_by_kind.keys())
            .collect();
        kinds.sort();
        kinds.dedup();
        for kind in kinds {
            groups.push((
                kind.clone(),
                before.gc_pause_p95_by_kind.get(kind).copied(),
                after.gc_pause_p95_by_kind.get(kind).copied(),
            ));
        }
        return Some(GcBars {
            statistic: "p95",
            groups,
        });
    }
    let (b, a) = (before.gc_pause_mean_seconds?, after.gc_pause_mean_seconds?);
    let mut groups = vec![("mean".to_string(), Some(b), Some(a))];
    if before.gc_pause_max_seconds.is_some() || after.gc_pause_max_seconds.is_some() {
        groups.push((
            "max".to_string(),
            before.gc_pause_max_seconds,
            after.gc_pause_max_seconds,
        ));
    }
    Some(GcBars {
        statistic: if groups.len() > 1 {
            "mean and max"
        } else {
            "mean"
        },
        groups,
    })
}

/// A pause as the report writes it (`505.0 ms`, `1.20 s`), so the chart and the text
/// never show two values for the same figure.
fn pause_label(seconds: f64) -> String {
    crate::units::pause(seconds)
}

/// An axis number with as many decimals as the axis needs: 500, 7.5, 0.25.
fn axis_number(v: f64, top: f64) -> String {
    if top >= 20.0 {
        format!("{v:.0}")
    } else if top >= 2.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// GC pauses before and after the fix, grouped (all pauses, then per kind), each bar with
/// its value; the title says the statistic and both periods.
pub fn gc(evidence: &Evidence) -> Option<String> {
    let (before, after) = (
        evidence.periods.before.as_ref()?,
        evidence.periods.after.as_ref()?,
    );
    let bars = gc_bars(before, after)?;
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.format("%m-%d %H:%M").to_string();
    let entries = [
        LegendEntry {
            mark: Mark::Swatch(BEFORE_COLOR),
            label: format!(
                "before the fix ({} → {} UTC)",
                stamp(before.from),
                stamp(before.to)
            ),
        },
        LegendEntry {
            mark: Mark::Swatch(AFTER_COLOR),
            label: format!(
                "after the fix ({} → {} UTC)",
                stamp(after.from),
                stamp(after.to)
            ),
        },
    ];
    let layout = legend_layout(&entries, WIDTH as i32);
    let band = legend_height(&layout);
    let top = bars
        .groups
        .iter()
        .flat_map(|g| [g.1, g.2])
        .flatten()
        .fold(0.0_f64, f64::max)
        * 1000.0
        * 1.15;
    let groups = bars.groups.len();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let (plot, legend) = root.split_vertically(HEIGHT - band);
        // The title on two lines: on one, a service name of any length pushed the
        // periods off the chart.
        let plot = plot
            .margin(10, 0, 0, 0)
            .titled(
                &format!(
                    "{}: GC pause {} over each period,",
                    evidence.service, bars.statistic
                ),
                ("sans-serif", 20),
            )
            .ok()?
            .titled(
                &format!(
                    "before ({} → {}) and after ({} → {}) the fix (UTC)",
                    stamp(before.from),
                    stamp(before.to),
                    stamp(after.from),
                    stamp(after.to)
                ),
                ("sans-serif", 18),
            )
            .ok()?;
        let centres: Vec<f64> = (0..groups).map(|i| i as f64 + 0.5).collect();
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(
                TickedAxis::new(0.0..groups as f64, centres),
                0.0..top.max(0.001),
            )
            .ok()?;
        let names: Vec<String> = bars.groups.iter().map(|g| g.0.clone()).collect();
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(0)
            .label_style(("sans-serif", AXIS_FONT))
            .axis_desc_style(("sans-serif", AXIS_FONT))
            .y_label_formatter(&|v| axis_number(*v, top))
            .x_label_formatter(&|x: &f64| {
                names.get(x.floor() as usize).cloned().unwrap_or_default()
            })
            .y_desc("ms")
            .x_desc(if bars.statistic == "p95" {
                "\"all kinds\": every pause; then each kind of collection"
            } else {
                "the runtime publishes a summary (no histogram, so no p95)"
            })
            .draw();
        let value_font = ("sans-serif", 15)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        for (i, (_, b, a)) in bars.groups.iter().enumerate() {
            for (offset, value, color) in [(0.12, b, BEFORE_COLOR), (0.52, a, AFTER_COLOR)] {
                let (x0, x1) = (i as f64 + offset, i as f64 + offset + 0.36);
                let label = match value {
                    Some(v) => {
                        let _ = chart.draw_series(std::iter::once(Rectangle::new(
                            [(x0, 0.0), (x1, v * 1000.0)],
                            color.filled(),
                        )));
                        pause_label(*v)
                    }
                    None => "no data".to_string(),
                };
                let y = value.map_or(0.0, |v| v * 1000.0);
                let _ = chart.draw_series(std::iter::once(
                    EmptyElement::at(((x0 + x1) / 2.0, y))
                        + Text::new(label, (0, -3), value_font.clone()),
                ));
            }
        }
        draw_legend(&legend, &entries, &layout);
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
/// and the relative link prefix to it. A symbolic link's charts go next to the file it
/// leads to, where the report's relative links are read from.
pub fn assets_for(path: &std::path::Path) -> (std::path::PathBuf, String) {
    let path = crate::output::real_path(path);
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
    crate::output::create_folder(dir)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_tick_label_runs_off_the_right_edge() {
        // A 3 h tick 1,000 s before the window's end would be centred off the chart.
        let (from, to) = (0.0, 75_600.0 + 1_000.0);
        let (ticks, step) = time_ticks(from, to);
        assert_eq!(step, 10_800.0);
        assert!(
            ticks.iter().all(|t| *t <= to - 0.03 * (to - from)),
            "{ticks:?}"
        );
        assert_eq!(ticks.last(), Some(&64_800.0));
    }

    #[test]
    fn ticks_fall_on_round_utc_times_about_five_to_ten() {
        let odd_start = 1_800_000_123.0;
        for hours in [1.0, 6.0, 24.0, 36.0, 72.0, 168.0, 480.0, 720.0, 2160.0] {
            let to = odd_start + hours * 3600.0;
            let (ticks, step) = time_ticks(odd_start, to);
            assert!(TICK_STEPS.contains(&step));
            assert!(
                (5..=10).contains(&ticks.len()),
                "{hours} h: {} ticks of {step} s",
                ticks.len()
            );
            for t in &ticks {
                assert_eq!(t.rem_euclid(step), 0.0, "{hours} h: tick {t} off {step}");
                assert!((odd_start..=to).contains(t));
            }
        }
        // A day gets 3-hourly ticks on the clock, not 12:00, 14:46, 17:33.
        let day = 1_800_000_000.0 - 1_800_000_000.0_f64.rem_euclid(86_400.0) + 12.0 * 3600.0;
        let (ticks, step) = time_ticks(day, day + 86_400.0);
        assert_eq!(step, 10_800.0);
        let labels: Vec<String> = ticks.iter().map(|t| tick_label(*t, step)).collect();
        assert_eq!(labels[0], "12:00");
        assert_eq!(labels[1], "15:00");
        assert!(labels.iter().any(|l| l.ends_with(" 00:00")), "{labels:?}");
    }

    fn fixture() -> Evidence {
        serde_json::from_str(include_str!("../../tests/fixtures/evidence-fix.json")).unwrap()
    }

    fn instance(name: &str, growth: f64) -> crate::evidence::InstanceFigures {
        crate::evidence::InstanceFigures {
            instance: name.into(),
            labels: Default::default(),
            growth_bytes_per_hour: Some(growth),
            growth_interval_bytes_per_hour: None,
            lifetimes_fitted: 1,
            heap_start_bytes: None,
            heap_end_bytes: None,
            heap_peak_bytes: None,
            restarts: 0,
        }
    }

    #[test]
    fn the_fitted_instance_is_the_median_like_one_and_always_drawn() {
        // Twelve pods growing 1..12 MB/h; the leak period's median rate is 2 MB/h, so
        // the pod it belongs to is not among the eight fastest.
        let mut evidence = fixture();
        let names: Vec<String> = (1..=12).map(|i| format!("pod-{i}")).collect();
        let growth = |i: usize| (i + 1) as f64 * 1e6;
        evidence.periods.window.instances = names
            .iter()
            .enumerate()
            .map(|(i, n)| instance(n, growth(i)))
            .collect();
        let leak = evidence.periods.before.as_mut().unwrap();
        leak.instances = evidence.periods.window.instances.clone();
        leak.growth_bytes_per_hour = Some(2.1e6);
        let heap: Vec<RangeSeries> = names
            .iter()
            .map(|n| RangeSeries {
                labels: [("pod".to_string(), n.clone())].into_iter().collect(),
                points: Vec::new(),
            })
            .collect();
        let (shown, fitted) = pick_instances(&evidence, &heap);
        assert_eq!(fitted, Some(1), "pod-2 grows nearest the median rate");
        assert_eq!(shown.len(), MAX_INSTANCE_LINES);
        assert_eq!(shown[..7], [11, 10, 9, 8, 7, 6, 5], "fastest first");
        assert_eq!(shown[7], 1, "the fitted pod takes the last place");
        // Its median label counts what the line runs over, with the text's period counts.
        let label = median_label(&evidence, heap.len());
        assert!(
            label.contains("12 series over the window: 3 before the fix, 3 after"),
            "{label}"
        );
    }

    #[test]
    fn a_long_memory_title_takes_two_lines() {
        let short = memory_title("api", "V8 heap used");
        assert_eq!(short.len(), 1);
        assert!(short[0].0.ends_with("(MB = 10^6 bytes, times UTC)"));
        let long = memory_title(
            "payments-ledger-reconciliation-worker",
            "managed heap (GC total memory)",
        );
        assert_eq!(long.len(), 2, "{long:?}");
        assert_eq!(long[1].0, "MB = 10^6 bytes, times UTC");
    }

    #[test]
    fn legend_entries_wrap_within_the_width_without_overlap() {
        let entries: Vec<LegendEntry> = (0..12)
            .map(|i| LegendEntry {
                mark: Mark::Line(BLACK, 2),
                label: "x".repeat(10 + 9 * i),
            })
            .collect();
        let layout = legend_layout(&entries, WIDTH as i32);
        for (i, (entry, &(x, row))) in entries.iter().zip(&layout).enumerate() {
            let end = x + LEGEND_MARK + 6 + label_width(&entry.label);
            assert!(end <= WIDTH as i32 - LEGEND_PAD, "entry {i} ends at {end}");
            if let Some(&(next_x, next_row)) = layout.get(i + 1)
                && next_row == row
            {
                assert!(
                    next_x >= end + LEGEND_GAP,
                    "entries {i} and {} overlap",
                    i + 1
                );
            }
        }
        assert!(
            layout.last().unwrap().1 >= 2,
            "long labels wrap to more rows"
        );
        assert_eq!(
            legend_height(&layout) as i32,
            (layout.last().unwrap().1 + 1) * LEGEND_ROW + 2 * LEGEND_PAD
        );
    }

    #[test]
    fn axis_numbers_carry_the_decimals_the_axis_needs() {
        assert_eq!(axis_number(500.0, 550.0), "500");
        assert_eq!(axis_number(7.5, 11.0), "7.5");
        assert_eq!(axis_number(0.25, 1.1), "0.25");
        // Pauses as the report writes them.
        assert_eq!(pause_label(0.00962), "9.6 ms");
        assert_eq!(pause_label(0.955), "955.0 ms");
    }

    #[test]
    fn gc_bars_per_kind_for_histograms_mean_and_max_for_summaries() {
        let mut before = Period {
            gc_pause_p95_seconds: Some(0.5),
            ..Default::default()
        };
        before.gc_pause_p95_by_kind.insert("major".into(), 0.9);
        before.gc_pause_p95_by_kind.insert("minor".into(), 0.01);
        let mut after = Period {
            gc_pause_p95_seconds: Some(0.05),
            ..Default::default()
        };
        after.gc_pause_p95_by_kind.insert("minor".into(), 0.009);
        after
            .gc_pause_p95_by_kind
            .insert("incremental".into(), 0.002);
        let bars = gc_bars(&before, &after).unwrap();
        assert_eq!(bars.statistic, "p95");
        let names: Vec<&str> = bars.groups.iter().map(|g| g.0.as_str()).collect();
        assert_eq!(names, ["all kinds", "incremental", "major", "minor"]);
        assert_eq!(bars.groups[2], ("major".into(), Some(0.9), None));
        // A summary runtime: no p95 at all, so mean and max, never a made-up p95.
        let summary = |mean, max| Period {
            gc_pause_mean_seconds: Some(mean),
            gc_pause_max_seconds: Some(max),
            ..Default::default()
        };
        let bars = gc_bars(&summary(0.02, 0.3), &summary(0.01, 0.1)).unwrap();
        assert_eq!(bars.statistic, "mean and max");
        assert_eq!(bars.groups[1], ("max".into(), Some(0.3), Some(0.1)));
        // Go's summary has no max series: the title must not promise one.
        let mean_only = |mean| Period {
            gc_pause_mean_seconds: Some(mean),
            ..Default::default()
        };
        let bars = gc_bars(&mean_only(0.004), &mean_only(0.001)).unwrap();
        assert_eq!((bars.statistic, bars.groups.len()), ("mean", 1));
        assert!(gc_bars(&Period::default(), &Period::default()).is_none());
    }
}
