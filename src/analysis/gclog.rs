//! The GC log's figures and its leak verdict: collections by kind (count, pause p95 and
//! max), the live-heap floor (the heap left after each collection that empties the whole
//! heap, `gclog::Parsed::floor`), its trend — the project's Theil–Sen estimator
//! (`growth::theil_sen_interval`) per process lifetime, weighted by lifetime length, as
//! `growth::instance_growth` does for Prometheus series — and the verdict from it.
//! One function, [`gc_log_report`], builds the whole model; [`verdict`] is the rule.

use super::growth::theil_sen_interval;
use crate::gclog::model::{
    FloorBasis, FloorPoint, GcLogReport, KindSummary, LogFile, Quote, QuoteRole, SCHEMA_ID,
    ToolBox, Trend, Verdict, VerdictRule,
};
use crate::gclog::{GcLog, Process, Runtime, file_name};

/// Fewer floor collections than this (in lifetimes long enough to fit) say nothing about
/// a trend: the same minimum as a Prometheus lifetime's (`growth::MIN_LIFETIME_POINTS`).
pub const MIN_FLOOR_POINTS: usize = super::growth::MIN_LIFETIME_POINTS;
/// A lifetime needs this many floor collections to be fitted at all.
const MIN_LIFETIME_FLOORS: usize = 3;
/// A rising floor must rise by at least this share of its first value over the log …
pub const MIN_RISE_SHARE: f64 = 0.10;
/// … and at least this many bytes (1 MB), so a small heap's noise is no leak.
pub const MIN_RISE_BYTES: f64 = 1e6;

/// A floor point on the combined timeline, with the lifetime it belongs to.
struct Point {
    at: f64,
    bytes: u64,
    lifetime: usize,
    file: usize,
    line: usize,
    text: Option<String>,
}

/// The whole model from the collections read.
pub fn gc_log_report(log: &GcLog) -> GcLogReport {
    let (points, files, lifetimes, span_seconds) = timeline(log);
    let trend = trend(&points, lifetimes);
    let verdict = verdict(&trend);
    let mut warnings = Vec::new();
    if trend.fitted_points < points.len() {
        warnings.push(format!(
            "{} floor collection(s) in process lifetimes with fewer than {MIN_LIFETIME_FLOORS} are left out of the trend",
            points.len() - trend.fitted_points
        ));
    }
    GcLogReport {
        schema: SCHEMA_ID,
        runtime: log.runtime,
        files,
        processes: lifetimes,
        span_seconds,
        collections: log.files.iter().map(|f| f.collections.len()).sum(),
        kinds: kinds(log),
        floor_basis: match log.runtime {
            Runtime::Node => FloorBasis::NodeMarkCompact,
            Runtime::Jvm => FloorBasis::JvmFullAndCycleEnd,
            Runtime::Go => FloorBasis::GoLiveHeap,
        },
        evidence: quotes(&points, log),
        floor: points
            .iter()
            .map(|p| FloorPoint {
                at_seconds: p.at,
                bytes: p.bytes,
                file: p.file,
                line: p.line,
            })
            .collect(),
        trend,
        verdict,
        verdict_rule: VerdictRule {
            min_floor_points: MIN_FLOOR_POINTS,
            min_rise_share: MIN_RISE_SHARE,
            min_rise_bytes: MIN_RISE_BYTES,
        },
        tool: match log.runtime {
            Runtime::Node => ToolBox::NodeTraceGc,
            Runtime::Jvm => ToolBox::OtherJvmGcLog,
            Runtime::Go => ToolBox::OtherGoGctrace,
        },
        warnings,
    }
}

/// The leak verdict: too few floor collections to say; rising when the slope's 95 %
/// interval is above zero and the floor rose over the log by at least
/// [`MIN_RISE_SHARE`] of its first value and [`MIN_RISE_BYTES`]; else flat.
pub fn verdict(trend: &Trend) -> Verdict {
    let (Some([low, _]), Some(rise), Some(first)) = (
        trend.interval_bytes_per_hour,
        trend.rise_bytes,
        trend.first_bytes,
    ) else {
        return Verdict::TooFewCollections;
    };
    if trend.fitted_points < MIN_FLOOR_POINTS {
        return Verdict::TooFewCollections;
    }
    if low > 0.0 && rise >= MIN_RISE_BYTES.max(MIN_RISE_SHARE * first as f64) {
        Verdict::Rising
    } else {
        Verdict::Flat
    }
}

/// Every floor point on one timeline: a clock that goes back (a file, or a line, whose
/// time is below the one before) or a line from another process ([`new_process`]) starts
/// a new process lifetime, placed right after the previous one (the time between
/// processes is unknown, so it is left out). Also the files' summaries, the number of
/// lifetimes and the span covered.
fn timeline(log: &GcLog) -> (Vec<Point>, Vec<LogFile>, usize, f64) {
    let mut points = Vec::new();
    let mut files = Vec::new();
    let (mut offset, mut last_raw, mut lifetime) = (0.0, f64::NEG_INFINITY, 0usize);
    let (mut start, mut end) = (None::<f64>, 0.0f64);
    let mut previous: Option<Process> = None;
    for (index, file) in log.files.iter().enumerate() {
        let mut continues = index > 0;
        for (k, c) in file.collections.iter().enumerate() {
            let raw = c.parsed.at_seconds.unwrap_or(last_raw.max(0.0));
            let new = previous.is_some_and(|p| new_process(p, c.parsed.process));
            previous = Some(c.parsed.process);
            if raw < last_raw || new {
                // Right after the previous collection: its clock may start anywhere.
                offset = last_raw + offset - raw;
                lifetime += 1;
                if k == 0 {
                    continues = false;
                }
            }
            last_raw = raw;
            let at = raw + offset;
            start.get_or_insert(at);
            end = end.max(at);
            if let (true, Some(bytes)) = (c.parsed.floor, c.parsed.after_bytes) {
                points.push(Point {
                    at,
                    bytes,
                    lifetime,
                    file: index,
                    line: c.line,
                    text: c.text.clone(),
                });
            }
        }
        files.push(LogFile {
            path: file.path.display().to_string(),
            name: file_name(&file.path),
            size_bytes: file.size_bytes,
            gzip: file.gzip,
            lines: file.lines,
            collections: file.collections.len(),
            continues_previous: continues && !file.collections.is_empty(),
        });
    }
    let span = start.map_or(0.0, |s| end - s);
    (points, files, lifetime + 1, span)
}

/// Whether a line from `this` comes from another process than the line before, from
/// `previous`: another Node.js pid, or a JVM's `GC(0)` / Go's `gc 1` after other
/// collections (several lines of one `GC(0)` are one process).
fn new_process(previous: Process, this: Process) -> bool {
    match (previous, this) {
        (Process::Pid(a), Process::Pid(b)) => a != b,
        (Process::First, Process::First) => false,
        (_, Process::First) => true,
        _ => false,
    }
}

/// The floor points of each lifetime long enough to fit.
fn fittable(points: &[Point], lifetimes: usize) -> Vec<Vec<(f64, f64)>> {
    (0..lifetimes)
        .map(|l| {
            points
                .iter()
                .filter(|p| p.lifetime == l)
                .map(|p| (p.at, p.bytes as f64))
                .collect::<Vec<_>>()
        })
        .filter(|l| l.len() >= MIN_LIFETIME_FLOORS && l[l.len() - 1].0 > l[0].0)
        .collect()
}

/// Theil–Sen per lifetime with Sen's interval, weighted by the lifetime's length.
fn trend(points: &[Point], lifetimes: usize) -> Trend {
    let (mut slope, mut low, mut high, mut seconds) = (0.0, 0.0, 0.0, 0.0);
    let mut fitted_points = 0;
    for lifetime in fittable(points, lifetimes) {
        let length = lifetime[lifetime.len() - 1].0 - lifetime[0].0;
        if let Some((s, l, h)) = theil_sen_interval(&lifetime) {
            slope += s * length;
            low += l * length;
            high += h * length;
            seconds += length;
            fitted_points += lifetime.len();
        }
    }
    let fitted = seconds > 0.0;
    let per_hour = |v: f64| v / seconds * 3600.0;
    Trend {
        bytes_per_hour: fitted.then(|| per_hour(slope)),
        interval_bytes_per_hour: fitted.then(|| [per_hour(low), per_hour(high)]),
        fitted_seconds: seconds,
        fitted_points,
        rise_bytes: fitted.then_some(slope),
        first_bytes: points.first().map(|p| p.bytes),
        last_bytes: points.last().map(|p| p.bytes),
        min_bytes: points.iter().map(|p| p.bytes).min(),
        max_bytes: points.iter().map(|p| p.bytes).max(),
    }
}

/// Collections by kind, in order of first appearance: count, pause p95 (nearest rank)
/// and max.
fn kinds(log: &GcLog) -> Vec<KindSummary> {
    let mut order: Vec<(String, bool, Vec<f64>, usize)> = Vec::new();
    for c in log.files.iter().flat_map(|f| &f.collections) {
        let index = match order.iter().position(|k| k.0 == c.parsed.kind) {
            Some(i) => i,
            None => {
                order.push((c.parsed.kind.clone(), false, Vec::new(), 0));
                order.len() - 1
            }
        };
        let entry = &mut order[index];
        entry.1 |= c.parsed.floor;
        entry.3 += 1;
        entry.2.extend(c.parsed.pause_seconds);
    }
    order
        .into_iter()
        .map(|(kind, floor, mut pauses, count)| {
            pauses.sort_by(f64::total_cmp);
            let rank = ((0.95 * pauses.len() as f64).ceil() as usize).max(1);
            KindSummary {
                kind,
                floor,
                count,
                pause_p95_seconds: pauses.get(rank - 1).copied(),
                pause_max_seconds: pauses.last().copied(),
            }
        })
        .collect()
}

/// The first, middle and last floor collections, verbatim.
fn quotes(points: &[Point], log: &GcLog) -> Vec<Quote> {
    let n = points.len();
    let picks: Vec<(QuoteRole, usize)> = match n {
        0 => Vec::new(),
        1 => vec![(QuoteRole::First, 0)],
        2 => vec![(QuoteRole::First, 0), (QuoteRole::Last, 1)],
        _ => vec![
            (QuoteRole::First, 0),
            (QuoteRole::Middle, n / 2),
            (QuoteRole::Last, n - 1),
        ],
    };
    picks
        .into_iter()
        .map(|(role, i)| {
            let p = &points[i];
            Quote {
                role,
                file: file_name(&log.files[p.file].path),
                line: p.line,
                text: p.text.clone().unwrap_or_default(),
                bytes: p.bytes,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gclog::{Collection, LogFile as Read, Parsed};

    fn log(files: &[&[(f64, u64)]]) -> GcLog {
        GcLog {
            runtime: Runtime::Go,
            files: files
                .iter()
                .enumerate()
                .map(|(i, points)| Read {
                    path: format!("/x/{i}.log").into(),
                    size_bytes: 1,
                    gzip: false,
                    lines: points.len(),
                    collections: points
                        .iter()
                        .enumerate()
                        .map(|(k, (t, b))| Collection {
                            parsed: Parsed {
                                kind: "GC".into(),
                                floor: true,
                                at_seconds: Some(*t),
                                before_bytes: Some(*b),
                                after_bytes: Some(*b),
                                pause_seconds: Some(0.001 * k as f64),
                                gc_id: None,
                                // Go's `gc 1`: each file here is its own process.
                                process: if k == 0 {
                                    Process::First
                                } else {
                                    Process::Unknown
                                },
                            },
                            line: k + 1,
                            text: Some(format!("line {k}")),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_rising_floor_across_two_processes_is_fitted_per_process() {
        let a: Vec<(f64, u64)> = (0..10)
            .map(|i| (i as f64 * 60.0, 10_000_000 + i * 1_000_000))
            .collect();
        let b: Vec<(f64, u64)> = (0..10)
            .map(|i| (i as f64 * 60.0, 10_000_000 + i * 1_000_000))
            .collect();
        let report = gc_log_report(&log(&[&a, &b]));
        assert_eq!(report.processes, 2);
        assert!(!report.files[1].continues_previous);
        // 1 MB a minute in both lifetimes: 60 MB/hour, not the drop between them.
        let slope = report.trend.bytes_per_hour.unwrap();
        assert!((slope - 60e6).abs() < 1.0, "{slope}");
        assert_eq!(report.verdict, Verdict::Rising);
        assert_eq!(report.evidence.len(), 3);
        assert_eq!(report.evidence[2].file, "1.log");
        assert_eq!(report.kinds[0].count, 20);
    }

    #[test]
    fn a_new_process_starts_a_lifetime_even_when_its_clock_continues() {
        let a: Vec<(f64, u64)> = (0..8)
            .map(|i| (i as f64, 10_000_000 + i * 1_000_000))
            .collect();
        let b: Vec<(f64, u64)> = (20..28).map(|i| (i as f64, 2_000_000)).collect();
        let report = gc_log_report(&log(&[&a, &b]));
        assert_eq!(report.processes, 2);
        assert!(!report.files[1].continues_previous);
        // The second process starts right after the first: no 13 s gap in the span.
        assert_eq!(report.span_seconds, 14.0);
        assert!(new_process(Process::Pid(1), Process::Pid(2)));
        assert!(!new_process(Process::Pid(1), Process::Pid(1)));
        assert!(!new_process(Process::First, Process::First));
        assert!(new_process(Process::Unknown, Process::First));
    }

    #[test]
    fn flat_noise_and_too_few() {
        let flat: Vec<(f64, u64)> = (0..12)
            .map(|i| (i as f64, 50_000_000 + [0, 300_000, 100_000][i % 3]))
            .collect();
        assert_eq!(gc_log_report(&log(&[&flat])).verdict, Verdict::Flat);
        let few: Vec<(f64, u64)> = (0..4).map(|i| (i as f64, 1_000_000 * (i + 1))).collect();
        assert_eq!(
            gc_log_report(&log(&[&few])).verdict,
            Verdict::TooFewCollections
        );
    }

    #[test]
    fn p95_is_nearest_rank() {
        let points: Vec<(f64, u64)> = (0..20).map(|i| (i as f64, 1)).collect();
        let k = &gc_log_report(&log(&[&points])).kinds[0];
        // pauses 0..19 ms: rank ceil(19) = 19th value, 18 ms
        assert!((k.pause_p95_seconds.unwrap() - 0.018).abs() < 1e-12);
        assert!((k.pause_max_seconds.unwrap() - 0.019).abs() < 1e-12);
    }
}
