//! SVG charts drawn by the tool itself (plotters, SVG backend only; no browser), from
//! the charts' model ([`ChartData`], built by `analysis::charts::chart_data`): this file
//! decides nothing about the data, only how it looks. Memory per instance: each drawn
//! instance in its own colour, its restarts as ticks at the bottom, its OOM kills as
//! triangles on the sample it was killed at, its growth fitted per process lifetime along
//! the post-GC floor; the median of all instances, the container memory limit (dashed,
//! labelled, the y-axis reaching it) and the fix. When the model says the lines overlap
//! too much to follow, the overview is followed by one small panel per instance on the
//! same axes. GC pauses before and after the fix as horizontal bars, values written,
//! short bars kept visible. Legends sit in a band below the plots, so they never cover
//! data; time ticks fall on round UTC times.

use crate::evidence::charts::{
    ChartData, GcChart, GcStatistic, GrowthPeriod, InstanceLine, LimitBasis, MemoryChart,
    MemoryLayout, OomKillMark,
};
use crate::evidence::{Evidence, OomSource};
use crate::timespec::from_unix_seconds;
use crate::units;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub const WIDTH: u32 = 960;
/// Height of the memory overview plot; panels and the legend band add their own.
pub const HEIGHT: u32 = 540;
/// Height of one instance's panel (small multiples), two panels a row.
pub const PANEL_HEIGHT: u32 = 230;
const PANEL_COLUMNS: usize = 2;
/// The fitted growth segments' colour (no instance has it).
pub const FIT_COLOR: RGBColor = RGBColor(214, 0, 0);
/// The container memory limit, dashed (near-black, so tests can tell it from the median).
pub const LIMIT_COLOR: RGBColor = RGBColor(17, 17, 17);
/// The OOM-kill triangles' outline; filled in the instance's colour.
pub const OOM_OUTLINE: RGBColor = RGBColor(0, 0, 0);
/// OOM kills of instances not drawn, at the top edge.
pub const OTHER_OOM_FILL: RGBColor = RGBColor(160, 160, 160);
const MEDIAN_IN_PANEL: RGBColor = RGBColor(170, 170, 170);
const FIX_COLOR: RGBColor = RGBColor(0, 120, 0);
pub const BEFORE_COLOR: RGBColor = RGBColor(214, 39, 40);
pub const AFTER_COLOR: RGBColor = RGBColor(44, 160, 44);
/// A bar shorter than this many pixels is drawn this long; its written value is exact.
pub const MIN_BAR_PX: f64 = 4.0;

/// One colour per drawn instance (at most `analysis::charts::MAX_INSTANCE_LINES`).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    // Olive, not grey: grey is the median in a panel and kills of instances not drawn.
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn colour(n: usize) -> RGBColor {
    PALETTE[n % PALETTE.len()]
}

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
    time_ticks_at_most(from, to, MAX_TICKS)
}

/// [`time_ticks`] with at most `max` ticks (a narrow panel has room for fewer labels).
fn time_ticks_at_most(from: f64, to: f64, max: i64) -> (Vec<f64>, f64) {
    let mut chosen = (Vec::new(), TICK_STEPS[TICK_STEPS.len() - 1]);
    // A label is centred on its tick: one in the last 3 % of the axis would run off the
    // chart's right edge, so no tick goes there.
    let last = to - 0.03 * (to - from);
    for step in TICK_STEPS {
        let first = (from / step).ceil() * step;
        let count = ((last - first) / step).floor() as i64 + 1;
        if count <= max {
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

/// How a legend entry is marked.
#[derive(Clone, Copy)]
enum Mark {
    Line(RGBColor, u32),
    /// A short vertical tick, as restarts are drawn.
    Tick(RGBColor),
    Swatch(RGBColor),
    /// A dashed line, as the memory limit is drawn.
    Dashed(RGBColor),
    /// A triangle pointing down, as OOM kills are drawn.
    Triangle(RGBColor),
    /// None: the entry explains the one before it.
    Blank,
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
    area: &DrawingArea<DB, Shift>,
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
            Mark::Dashed(color) => area.draw(&DashedPathElement::new(
                vec![(x, y), (x + LEGEND_MARK, y)],
                6,
                4,
                color.stroke_width(2),
            )),
            Mark::Blank => Ok(()),
            Mark::Triangle(color) => {
                let (l, r, tip) = (x + 5, x + LEGEND_MARK - 5, x + LEGEND_MARK / 2);
                let _ = area.draw(&Polygon::new(
                    vec![(l, y - 6), (r, y - 6), (tip, y + 7)],
                    color.filled(),
                ));
                area.draw(&PathElement::new(
                    vec![(l, y - 6), (r, y - 6), (tip, y + 7), (l, y - 6)],
                    OOM_OUTLINE.stroke_width(1),
                ))
            }
        };
        let _ = area.draw(&Text::new(
            entry.label.clone(),
            (x + LEGEND_MARK + 6, y),
            font.clone(),
        ));
    }
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

/// What one plot of the memory chart shows.
#[derive(Clone, Copy, PartialEq)]
enum Plot {
    /// Every drawn instance; `fits` unless the instances have panels of their own.
    Overview { fits: bool },
    /// One instance (by its index in the model), with the median for reference.
    Panel(usize),
}

/// The y-axis top, in MB: the highest sample, median or limit, with room above, so the
/// limit line is always on the chart.
fn memory_top(chart: &MemoryChart) -> f64 {
    let max = chart
        .instances
        .iter()
        .flat_map(|i| i.points.iter().map(|p| p.1))
        .chain(chart.median.points.iter().map(|p| p.1))
        .chain(chart.limit.map(|l| l.bytes))
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max)
        / 1e6;
    (max * 1.08).max(1.0)
}

/// Memory per instance (MB) over the window: the overview plot, one panel per instance
/// when the model asks for small multiples, and the legend in a band below.
pub fn memory(chart: &MemoryChart) -> String {
    let entries = memory_legend(chart);
    let layout = legend_layout(&entries, WIDTH as i32);
    let panels = match chart.layout {
        MemoryLayout::SmallMultiples => chart.instances.len(),
        MemoryLayout::Overlaid => 0,
    };
    let rows = panels.div_ceil(PANEL_COLUMNS);
    let grid_height = rows as u32 * PANEL_HEIGHT;
    let top = memory_top(chart);
    let mut svg = String::new();
    {
        let size = (WIDTH, HEIGHT + grid_height + legend_height(&layout));
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        let _ = root.fill(&WHITE);
        let (plot, rest) = root.split_vertically(HEIGHT);
        let (grid, band) = rest.split_vertically(grid_height);
        let mut titled = plot.margin(10, 0, 0, 0);
        for (line, size) in memory_title(&chart.service, &chart.memory_name) {
            match titled.titled(&line, ("sans-serif", size)) {
                Ok(next) => titled = next,
                Err(_) => return svg_fallback(),
            }
        }
        let overview = Plot::Overview { fits: panels == 0 };
        if draw_memory_plot(&titled, chart, top, overview).is_none() {
            return svg_fallback();
        }
        if panels > 0 {
            let cells = grid.split_evenly((rows, PANEL_COLUMNS));
            for (k, cell) in cells.iter().enumerate().take(panels) {
                draw_panel(cell, chart, top, k);
            }
        }
        draw_legend(&band, &entries, &layout);
        let _ = root.present();
    }
    svg
}

/// One instance's panel: its name and growth as the title, then the plot.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &MemoryChart,
    top: f64,
    k: usize,
) -> Option<()> {
    let line = &chart.instances[k];
    let style = ("sans-serif", PANEL_TITLE_FONT)
        .into_font()
        .color(&colour(k));
    let titled = area
        .margin(6, 0, 6, 6)
        .titled(&panel_title(line), style)
        .ok()?;
    draw_memory_plot(&titled, chart, top, Plot::Panel(k))
}

/// Panel titles are written at this size.
const PANEL_TITLE_FONT: f64 = 14.0;

/// A panel's title: the instance, with its growth in each period as the report's
/// per-instance table gives it; what does not fit the panel's width (by the legend's
/// generous estimate) is left off, the rates first, then the end of the name.
fn panel_title(line: &InstanceLine) -> String {
    let rates: Vec<String> = line
        .growth
        .iter()
        .filter_map(|(period, rate)| {
            let rate = units::mb_per_hour((*rate)?);
            Some(match period {
                GrowthPeriod::Window => rate,
                GrowthPeriod::BeforeFix => format!("{rate} before the fix"),
                GrowthPeriod::AfterFix => format!("{rate} after"),
            })
        })
        .collect();
    let room = ((WIDTH as usize / PANEL_COLUMNS) as f64 - 20.0) / (0.6 * PANEL_TITLE_FONT / 1.24);
    let room = room.floor() as usize;
    (0..=rates.len())
        .rev()
        .map(|n| match n {
            0 => line.name.clone(),
            n => format!("{}: {}", line.name, rates[..n].join(", ")),
        })
        .find(|title| title.chars().count() <= room)
        .unwrap_or_else(|| {
            let kept: String = line.name.chars().take(room.saturating_sub(1)).collect();
            format!("{kept}…")
        })
}

/// The axes of a memory plot, with round time ticks (fewer, smaller, in a panel).
fn memory_axes<'a, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, Shift>,
    chart: &MemoryChart,
    top: f64,
    panel: bool,
) -> Option<ChartContext<'a, DB, Cartesian2d<TickedAxis, RangedCoordf64>>> {
    let from = chart.from.timestamp() as f64;
    let to = (chart.to.timestamp() as f64).max(from + 1.0);
    let (ticks, step) = time_ticks_at_most(from, to, if panel { 5 } else { MAX_TICKS });
    let mut built = ChartBuilder::on(area)
        .margin(if panel { 4 } else { 12 })
        .x_label_area_size(if panel { 24 } else { 44 })
        .y_label_area_size(if panel { 48 } else { 70 })
        .build_cartesian_2d(TickedAxis::new(from..to, ticks), 0.0..top)
        .ok()?;
    let x_label = |x: &f64| tick_label(*x, step);
    let y_label = |v: &f64| axis_number(*v, top);
    let window = format!(
        "{} → {} (UTC)",
        chart.from.format("%Y-%m-%d %H:%M"),
        chart.to.format("%Y-%m-%d %H:%M")
    );
    let mut mesh = built.configure_mesh();
    mesh.max_light_lines(1)
        .label_style(("sans-serif", if panel { 12 } else { AXIS_FONT }))
        .axis_desc_style(("sans-serif", AXIS_FONT))
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label);
    if panel {
        mesh.y_labels(5);
    } else {
        mesh.y_desc("MB").x_desc(window);
    }
    mesh.draw().ok()?;
    Some(built)
}

/// A memory plot: the lines, the median, fits, restarts, the limit, the fix and the OOM
/// kills, in that order (markers last, so no line covers them).
fn draw_memory_plot<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &MemoryChart,
    top: f64,
    plot: Plot,
) -> Option<()> {
    let mut cc = memory_axes(area, chart, top, matches!(plot, Plot::Panel(_)))?;
    let mb = |p: &(f64, f64)| (p.0, p.1 / 1e6);
    let lines: Vec<(usize, &InstanceLine)> = match plot {
        Plot::Overview { .. } => chart.instances.iter().enumerate().collect(),
        Plot::Panel(k) => vec![(k, &chart.instances[k])],
    };
    let median = chart.median.points.iter().map(mb);
    if matches!(plot, Plot::Panel(_)) {
        // Behind the instance, for reference.
        let _ = cc.draw_series(LineSeries::new(median, MEDIAN_IN_PANEL.stroke_width(1)));
    }
    for (n, line) in &lines {
        let points = line.points.iter().map(mb);
        let _ = cc.draw_series(LineSeries::new(points, colour(*n).stroke_width(1)));
    }
    if let Plot::Overview { .. } = plot {
        let median = chart.median.points.iter().map(mb);
        let _ = cc.draw_series(LineSeries::new(median, BLACK.stroke_width(2)));
    }
    if plot != (Plot::Overview { fits: false }) {
        let width = if matches!(plot, Plot::Panel(_)) { 2 } else { 3 };
        for (_, line) in &lines {
            let _ = cc.draw_series(line.fits.iter().map(|f| {
                PathElement::new(
                    vec![mb(&f.start), mb(&f.end)],
                    FIT_COLOR.stroke_width(width),
                )
            }));
        }
    }
    for (n, line) in &lines {
        let ticks = line.restarts.iter().map(|r| {
            PathElement::new(
                vec![(r.at, 0.0), (r.at, top * 0.04)],
                colour(*n).stroke_width(2),
            )
        });
        let _ = cc.draw_series(ticks);
    }
    draw_limit(&mut cc, chart, plot);
    if let Some(fix) = chart.fix {
        let x = fix.timestamp() as f64;
        let _ = cc.draw_series(std::iter::once(PathElement::new(
            vec![(x, 0.0), (x, top)],
            FIX_COLOR.stroke_width(3),
        )));
    }
    for (n, line) in &lines {
        for kill in &line.oom_kills {
            draw_oom_kill(
                &mut cc,
                kill,
                kill.bytes.map_or(top, |b| b / 1e6),
                colour(*n),
            );
        }
    }
    if let Plot::Overview { .. } = plot {
        for kill in &chart.other_oom_kills {
            draw_oom_kill(&mut cc, kill, top, OTHER_OOM_FILL);
        }
    }
    Some(())
}

type MemoryContext<'a, DB> = ChartContext<'a, DB, Cartesian2d<TickedAxis, RangedCoordf64>>;

/// The container limit, dashed across the plot; labelled on the overview.
fn draw_limit<DB: DrawingBackend>(cc: &mut MemoryContext<'_, DB>, chart: &MemoryChart, plot: Plot) {
    let Some(limit) = chart.limit else {
        return;
    };
    let (from, to) = (chart.from.timestamp() as f64, chart.to.timestamp() as f64);
    let y = limit.bytes / 1e6;
    let _ = cc.draw_series(std::iter::once(DashedPathElement::new(
        vec![(from, y), (to, y)],
        9,
        6,
        LIMIT_COLOR.stroke_width(2),
    )));
    if let Plot::Overview { .. } = plot {
        let font = ("sans-serif", 14)
            .into_font()
            .color(&LIMIT_COLOR)
            .pos(Pos::new(HPos::Right, VPos::Bottom));
        let label = format!("container memory limit {}", units::mb(limit.bytes));
        let _ = cc.draw_series(std::iter::once(
            EmptyElement::at((to, y)) + Text::new(label, (-6, -4), font),
        ));
    }
}

/// An OOM kill: a triangle pointing down at the sample the instance was killed at (or
/// hanging from the top edge when its instance is not drawn), "×n" beside it when
/// several were counted at once.
fn draw_oom_kill<DB: DrawingBackend>(
    cc: &mut MemoryContext<'_, DB>,
    kill: &OomKillMark,
    y: f64,
    fill: RGBColor,
) {
    // Tip at the point; the body above it (or below the top edge).
    let body = if kill.bytes.is_some() { -13 } else { 13 };
    let shape = vec![(-7, body), (7, body), (0, 0)];
    let outline = vec![(-7, body), (7, body), (0, 0), (-7, body)];
    let _ = cc.draw_series(std::iter::once(
        EmptyElement::at((kill.at, y))
            + Polygon::new(shape, fill.filled())
            + PathElement::new(outline, OOM_OUTLINE.stroke_width(1)),
    ));
    if kill.count > 1 {
        let font = ("sans-serif", 12)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let _ = cc.draw_series(std::iter::once(
            EmptyElement::at((kill.at, y))
                + Text::new(format!("×{}", kill.count), (9, body / 2), font),
        ));
    }
}

/// The memory chart's legend: each instance by name, then what every other mark means.
fn memory_legend(chart: &MemoryChart) -> Vec<LegendEntry> {
    let mut entries: Vec<LegendEntry> = chart
        .instances
        .iter()
        .enumerate()
        .map(|(n, line)| LegendEntry {
            mark: Mark::Line(colour(n), 2),
            label: line.name.clone(),
        })
        .collect();
    entries.push(LegendEntry {
        mark: Mark::Line(BLACK, 2),
        label: median_label(chart),
    });
    if chart.instances.iter().any(|i| !i.fits.is_empty()) {
        let panels = match chart.layout {
            MemoryLayout::SmallMultiples => " (in its panel)",
            MemoryLayout::Overlaid => "",
        };
        entries.push(LegendEntry {
            mark: Mark::Line(FIT_COLOR, 3),
            label: format!(
                "growth fitted per process lifetime along the post-GC floor, for every instance{panels}"
            ),
        });
        entries.extend(growth_label(chart).map(|label| LegendEntry {
            mark: Mark::Blank,
            label,
        }));
    }
    if chart.instances.iter().any(|i| !i.restarts.is_empty()) {
        entries.push(LegendEntry {
            mark: Mark::Tick(BLACK),
            label: "restart, not an OOM kill (tick at the bottom, in its instance's colour)".into(),
        });
    }
    if let Some(label) = oom_label(chart) {
        entries.push(LegendEntry {
            mark: Mark::Triangle(OTHER_OOM_FILL),
            label,
        });
    }
    if let Some(limit) = chart.limit {
        let compared = match limit.compared {
            LimitBasis::Rss => "RSS, not drawn here",
            LimitBasis::Drawn => "this memory",
        };
        entries.push(LegendEntry {
            mark: Mark::Dashed(LIMIT_COLOR),
            label: format!(
                "container memory limit {} (the report's % of the limit compares {compared})",
                units::mb(limit.bytes)
            ),
        });
    }
    if let Some(fix) = chart.fix {
        entries.push(LegendEntry {
            mark: Mark::Line(FIX_COLOR, 3),
            label: format!("fix deployed {} UTC", fix.format("%Y-%m-%d %H:%M")),
        });
    }
    entries
}

/// What the median line runs over, in the report's own counts: the text's "median of N
/// instances" is one period's instances, the line is every series in the window.
fn median_label(chart: &MemoryChart) -> String {
    let count = |p: GrowthPeriod| {
        chart
            .growth
            .iter()
            .find(|g| g.period == p)
            .map(|g| g.instance_count)
    };
    let series = chart.series_total;
    match (
        count(GrowthPeriod::BeforeFix),
        count(GrowthPeriod::AfterFix),
    ) {
        (Some(before), Some(after)) => format!(
            "median of all instances at each time ({series} series over the window: {before} before the fix, {after} after)"
        ),
        _ => format!("median of all {series} instances at each time"),
    }
}

/// The report's growth the fitted segments stand behind: per period, the median of the
/// instances' fits weighted by hours observed.
fn growth_label(chart: &MemoryChart) -> Option<String> {
    let rates: Vec<String> = chart
        .growth
        .iter()
        .filter_map(|g| {
            let rate = units::mb_per_hour(g.bytes_per_hour?);
            Some(match g.period {
                GrowthPeriod::Window => format!("{rate} over the window"),
                GrowthPeriod::BeforeFix => format!("{rate} before the fix"),
                GrowthPeriod::AfterFix => format!("{rate} after"),
            })
        })
        .collect();
    (!rates.is_empty()).then(|| {
        format!(
            "the report's growth, their median weighted by hours observed: {}",
            rates.join(", ")
        )
    })
}

/// The OOM kills' entry: how many (the report's count for the window) and from where.
fn oom_label(chart: &MemoryChart) -> Option<String> {
    let count = chart.oom_kill_count();
    let source = match chart.oom_source {
        OomSource::KubeStateMetrics => "from kube-state-metrics",
        OomSource::Cadvisor => "from cAdvisor",
        OomSource::MemoryAtLimit => "restarts right after memory reached 95% of the limit",
        OomSource::Unknown => return None,
    };
    if count == 0 {
        return None;
    }
    let mut label =
        format!("OOM kill, on the last sample before it ({count} in the window, {source})");
    let others: u64 = chart.other_oom_kills.iter().map(|k| k.count).sum();
    if others > 0 {
        label.push_str(&format!(
            "; {others} of instances not drawn, grey at the top"
        ));
    }
    Some(label)
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

/// The GC chart's title band, one row per group (two bars), and the x-axis band.
const GC_TITLE: u32 = 78;
const GC_ROW: u32 = 64;
const GC_AXIS: u32 = 70;

/// GC pauses before and after the fix as horizontal bars, one group a row (every pause,
/// then each kind; or a summary's mean and max), each bar with its value; the chart is
/// as tall as its rows need. A bar shorter than `MIN_BAR_PX` is drawn that long.
pub fn gc(chart: &GcChart) -> String {
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.format("%m-%d %H:%M").to_string();
    let period = |(from, to)| format!("{} → {} UTC", stamp(from), stamp(to));
    let entries = [
        LegendEntry {
            mark: Mark::Swatch(BEFORE_COLOR),
            label: format!("before the fix ({})", period(chart.before)),
        },
        LegendEntry {
            mark: Mark::Swatch(AFTER_COLOR),
            label: format!("after the fix ({})", period(chart.after)),
        },
    ];
    let layout = legend_layout(&entries, WIDTH as i32);
    let plot_height = GC_TITLE + chart.groups.len() as u32 * GC_ROW + GC_AXIS;
    let mut svg = String::new();
    {
        let size = (WIDTH, plot_height + legend_height(&layout));
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        let _ = root.fill(&WHITE);
        let (plot, legend) = root.split_vertically(plot_height);
        // The title on two lines: on one, a service name of any length pushed the
        // periods off the chart.
        let first = format!(
            "{}: GC pause {} over each period,",
            chart.service,
            chart.statistic.as_str()
        );
        let second = format!(
            "before ({} → {}) and after ({} → {}) the fix (UTC)",
            stamp(chart.before.0),
            stamp(chart.before.1),
            stamp(chart.after.0),
            stamp(chart.after.1)
        );
        let titled = plot
            .margin(10, 0, 0, 0)
            .titled(&first, ("sans-serif", 20))
            .and_then(|p| p.titled(&second, ("sans-serif", 18)));
        let Ok(titled) = titled else {
            return svg_fallback();
        };
        if draw_gc_bars(&titled, chart).is_none() {
            return svg_fallback();
        }
        draw_legend(&legend, &entries, &layout);
        let _ = root.present();
    }
    svg
}

/// The bars: group `i` is the row from the top, before above after.
fn draw_gc_bars<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &GcChart) -> Option<()> {
    let rows = chart.groups.len();
    let max_ms = chart
        .groups
        .iter()
        .flat_map(|g| [g.before, g.after])
        .flatten()
        .fold(0.0_f64, f64::max)
        * 1000.0;
    // Room right of the longest bar for its value.
    let x_top = (max_ms * 1.15).max(0.001);
    let centres: Vec<f64> = (0..rows).map(|i| i as f64 + 0.5).collect();
    let mut cc = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..x_top, TickedAxis::new(0.0..rows as f64, centres))
        .ok()?;
    let names: Vec<&str> = chart.groups.iter().map(|g| g.name.as_str()).collect();
    let row_name = |y: &f64| {
        let row = rows as f64 - 1.0 - y.floor();
        names
            .get(row as usize)
            .map_or(String::new(), |n| n.to_string())
    };
    let x_label = |v: &f64| axis_number(*v, x_top);
    let _ = cc
        .configure_mesh()
        .disable_y_mesh()
        .max_light_lines(0)
        .label_style(("sans-serif", AXIS_FONT))
        .axis_desc_style(("sans-serif", AXIS_FONT))
        .x_label_formatter(&x_label)
        .y_label_formatter(&row_name)
        .x_desc(match chart.statistic {
            GcStatistic::P95 => "ms; \"all kinds\": every pause, then each kind of collection",
            _ => "ms; the runtime publishes a summary (no histogram, so no p95)",
        })
        .draw();
    let px_per_ms = f64::from(cc.plotting_area().dim_in_pixel().0) / x_top;
    let shortest = MIN_BAR_PX / px_per_ms;
    let value_font = ("sans-serif", 15)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, group) in chart.groups.iter().enumerate() {
        let base = (rows - 1 - i) as f64;
        for (low, value, color) in [
            (base + 0.52, group.before, BEFORE_COLOR),
            (base + 0.14, group.after, AFTER_COLOR),
        ] {
            let (high, middle) = (low + 0.34, low + 0.17);
            let end = value.map_or(0.0, |v| (v * 1000.0).max(shortest));
            if value.is_some() {
                let _ = cc.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, low), (end, high)],
                    color.filled(),
                )));
            }
            let label = value.map_or_else(|| "no data".to_string(), pause_label);
            let _ = cc.draw_series(std::iter::once(
                EmptyElement::at((end, middle)) + Text::new(label, (6, 0), value_font.clone()),
            ));
        }
    }
    Some(())
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

/// Records in `evidence` where the charts go without writing them (dry runs).
pub fn plan_all(charts: &ChartData, evidence: &mut Evidence, link_prefix: &str) {
    evidence
        .charts
        .insert("memory".into(), format!("{link_prefix}/memory.svg"));
    if charts.gc.is_some() {
        evidence
            .charts
            .insert("gc".into(), format!("{link_prefix}/gc.svg"));
    }
}

/// Writes `charts` into `dir` (created if missing) and records their paths, relative to
/// `link_base`, in `evidence`.
pub fn write_all(
    charts: &ChartData,
    evidence: &mut Evidence,
    dir: &std::path::Path,
    link_prefix: &str,
) -> Result<(), crate::output::OutputError> {
    crate::output::create_folder(dir)?;
    let mut drawn = vec![("memory", memory(&charts.memory))];
    if let Some(chart) = &charts.gc {
        drawn.push(("gc", gc(chart)));
    }
    for (name, svg) in drawn {
        let file = format!("{name}.svg");
        crate::output::write_atomic(&dir.join(&file), svg.as_bytes())?;
        evidence
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
    fn a_panel_title_leaves_off_what_does_not_fit() {
        let line = |name: &str| InstanceLine {
            name: name.into(),
            points: Vec::new(),
            restarts: Vec::new(),
            oom_kills: Vec::new(),
            fits: Vec::new(),
            growth: vec![
                (GrowthPeriod::BeforeFix, Some(120.23e6)),
                (GrowthPeriod::AfterFix, Some(0.01e6)),
            ],
        };
        assert_eq!(
            panel_title(&line("10.0.0.1:9091")),
            "10.0.0.1:9091: 120.2 MB/hour before the fix, 0.01 MB/hour after"
        );
        // With the first rate: 77 characters, more than a panel's width.
        let long = panel_title(&line("payments-ledger-reconciliation-7f9c8d6b5-x2x9q"));
        assert_eq!(long, "payments-ledger-reconciliation-7f9c8d6b5-x2x9q");
        let medium = panel_title(&line("api-7f9c8d6b5-x2x9q"));
        assert_eq!(medium, "api-7f9c8d6b5-x2x9q: 120.2 MB/hour before the fix");
        let huge = panel_title(&line(&"p".repeat(200)));
        assert!(huge.ends_with('…') && huge.chars().count() < 70, "{huge}");
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
}
