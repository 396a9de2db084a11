//! Scalene JSON profiles (`scalene run -o profile.json`, Scalene 2.x; Python): per file
//! and line, the memory Scalene sampled (`n_malloc_mb` allocated, `n_peak_mb`,
//! `n_growth_mb`, `n_mallocs`) and its own leak detector's report (`leaks`: line →
//! likelihood, velocity in MB/s). One profile is one run, so nothing is compared: the
//! lines Scalene reports as leaks are the suspects, ranked above every line that only
//! allocates (by likelihood, then velocity); the other lines follow by growth, then by
//! what they allocated. Scalene's MB are 2^20 bytes; the model holds bytes.

use super::input::Opened;
use super::model::{self, CodeLocation, Consumer, Format, Growing, HeapReport, ScaleneLine};
use super::model::{Pattern, PatternKind, Suspect, Technique, TimeSource};
use super::{HeapError, Options};
use serde_json::Value;
use std::io::Read;

/// A `serde_json::Value` tree of the whole profile: measured 7× on a 1.7 MB profile.
pub const MEMORY_PER_BYTE: f64 = 8.0;
const MIB: f64 = 1_048_576.0;
const MAX_SUSPECTS: usize = 3;
/// Scalene writes its keys sorted; a profile's first key is one of these.
const FIRST_KEYS: [&str; 4] = ["alloc_samples", "args", "async_profile", "elapsed_time_sec"];

pub fn sniff(head: &[u8]) -> bool {
    super::formats::json_first_key(head).is_some_and(|k| FIRST_KEYS.contains(&k))
}

/// One line with memory data.
struct Line {
    code: String,
    location: CodeLocation,
    figures: ScaleneLine,
}

fn read(file: &Opened, options: &Options) -> Result<Value, HeapError> {
    let mut bytes = Vec::new();
    file.reader(options.quiet)?
        .read_to_end(&mut bytes)
        .map_err(|e| file.read_error(e))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        if let Some(fault) = file.gzip_fault() {
            return fault;
        }
        if e.is_eof() {
            HeapError::Truncated {
                path: file.path.clone(),
                detail: "the JSON stops in the middle".into(),
            }
        } else {
            HeapError::Invalid {
                path: file.path.clone(),
                what: "Scalene profile",
                detail: e.to_string(),
            }
        }
    })
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// The function a line is in: the `functions` entry starting at the line's
/// `start_function_line`, else the module.
fn function_of(file: &Value, line: &Value) -> String {
    let start = line.get("start_function_line").and_then(Value::as_u64);
    file.get("functions")
        .and_then(Value::as_array)
        .and_then(|fs| {
            fs.iter()
                .find(|f| f.get("lineno").and_then(Value::as_u64) == start)
        })
        .and_then(|f| f.get("line").and_then(Value::as_str))
        .unwrap_or("<module>")
        .to_string()
}

/// Every line with memory data or a leak report, in Scalene's files.
fn lines(p: &Value) -> Vec<Line> {
    let mut out = Vec::new();
    let Some(files) = p.get("files").and_then(Value::as_object) else {
        return out;
    };
    for (name, file) in files {
        let leaks = file.get("leaks").and_then(Value::as_object);
        for line in file
            .get("lines")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(lineno) = line.get("lineno").and_then(Value::as_u64) else {
                continue;
            };
            let leak = leaks.and_then(|l| l.get(&lineno.to_string()));
            let figures = ScaleneLine {
                malloc_mb: num(line, "n_malloc_mb"),
                peak_mb: num(line, "n_peak_mb"),
                growth_mb: num(line, "n_growth_mb"),
                mallocs: num(line, "n_mallocs") as u64,
                leak_likelihood: leak.map(|l| num(l, "likelihood")),
                leak_velocity_mb_s: leak.map(|l| num(l, "velocity_mb_s")),
            };
            if figures.malloc_mb <= 0.0 && figures.peak_mb <= 0.0 && leak.is_none() {
                continue;
            }
            out.push(Line {
                code: line
                    .get("line")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .trim()
                    .to_string(),
                location: CodeLocation {
                    file: name.clone(),
                    line: u32::try_from(lineno).unwrap_or(u32::MAX),
                    function: function_of(file, line),
                },
                figures,
            });
        }
    }
    rank(&mut out);
    out
}

/// Scalene's leaks first (likelihood, then velocity), then growth, then allocation.
fn rank(lines: &mut [Line]) {
    let key = |l: &Line| {
        (
            l.figures.leak_likelihood.is_some(),
            l.figures.leak_likelihood.unwrap_or(0.0),
            l.figures.leak_velocity_mb_s.unwrap_or(0.0),
            l.figures.growth_mb,
            l.figures.malloc_mb,
        )
    };
    lines.sort_by(|a, b| {
        key(b)
            .partial_cmp(&key(a))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.location.line.cmp(&b.location.line))
    });
}

/// A line's name: its code, shortened.
fn name(l: &Line) -> String {
    let code: String = l.code.chars().take(60).collect();
    if code.is_empty() {
        l.location.function.clone()
    } else if code.len() < l.code.len() {
        format!("{code}…")
    } else {
        code
    }
}

fn bytes(mb: f64) -> i64 {
    (mb * MIB).round() as i64
}

pub fn analyse(opened: Vec<Opened>, options: &Options) -> Result<HeapReport, HeapError> {
    if let Some(second) = opened.get(1) {
        return Err(HeapError::ScaleneSeveral {
            path: second.path.clone(),
        });
    }
    let file = &opened[0];
    let p = read(file, options)?;
    if p.get("memory").and_then(Value::as_bool) != Some(true) {
        return Err(HeapError::ScaleneNoMemory {
            path: file.path.clone(),
        });
    }
    let lines = lines(&p);
    let taken = p
        .get("start_time_absolute")
        .and_then(Value::as_f64)
        .and_then(|t| chrono::DateTime::from_timestamp(t as i64, 0))
        .map(|t| {
            (
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                TimeSource::Profile,
            )
        });
    let info = file.info(
        bytes(num(&p, "max_footprint_mb")).max(0) as u64,
        num(&p, "alloc_samples") as u64,
        taken,
        None,
    );
    let growing: Vec<Growing> = lines
        .iter()
        .map(|l| Growing {
            name: name(l),
            count_delta: l.figures.mallocs as i64,
            bytes_delta: bytes(l.figures.growth_mb),
            count_first: 0,
            count_last: l.figures.mallocs,
            bytes_first: 0,
            bytes_last: bytes(l.figures.peak_mb).max(0) as u64,
            allocated_between_first_two_alive_at_last: None,
            retained_bytes_last: None,
            retained_bytes_delta: None,
            stack: None,
            location: Some(l.location.clone()),
            scalene: Some(l.figures.clone()),
        })
        .collect();
    let suspects = lines
        .iter()
        .filter(|l| l.figures.leak_likelihood.is_some())
        .take(MAX_SUSPECTS)
        .map(|l| Suspect {
            name: name(l),
            count: l.figures.mallocs,
            retained_bytes: bytes(l.figures.peak_mb).max(0) as u64,
            retained_growth_bytes: bytes(l.figures.growth_mb),
            retainer_path: Vec::new(),
            path_count: 0,
            pattern: Pattern {
                kind: PatternKind::Unknown,
                based_on: "Scalene's leak detector (likelihood and velocity); Scalene records no retainers".into(),
            },
            stack: None,
            location: Some(l.location.clone()),
        })
        .collect();
    let mut by_malloc: Vec<&Line> = lines.iter().collect();
    by_malloc.sort_by(|a, b| b.figures.malloc_mb.total_cmp(&a.figures.malloc_mb));
    let top_consumers = by_malloc
        .into_iter()
        .take(3)
        .map(|l| Consumer {
            name: name(l),
            count: l.figures.mallocs,
            self_bytes: bytes(l.figures.malloc_mb).max(0) as u64,
            retained_bytes: bytes(l.figures.malloc_mb).max(0) as u64,
            retainer_path: Vec::new(),
            location: Some(l.location.clone()),
        })
        .collect();
    Ok(HeapReport {
        schema: model::SCHEMA_ID,
        format: Format::Scalene,
        snapshots: vec![info],
        sample_types: None,
        ids_comparable: false,
        growing,
        top_consumers,
        suspects,
        warnings: Vec::new(),
        technique: Technique::ScaleneLines,
        leaked_object: None,
        hints: Vec::new(),
        tool: Format::Scalene.tool(),
        root_cause: None,
        id_check: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reported_leak_ranks_above_a_line_that_allocates_more() {
        let p: Value = serde_json::from_str(
            r#"{"memory": true, "files": {"/app/x.py": {
              "functions": [{"line": "enqueue", "lineno": 3}],
              "leaks": {"4": {"likelihood": 0.9, "velocity_mb_s": 1.5}},
              "lines": [
                {"lineno": 9, "line": "tmp = bytes(10**6)\n", "n_malloc_mb": 900.0, "n_peak_mb": 1.0, "n_growth_mb": 1.0, "n_mallocs": 90},
                {"lineno": 4, "line": "    pending[i] = C(i)\n", "n_malloc_mb": 2.0, "n_peak_mb": 2.0, "n_growth_mb": 2.0, "n_mallocs": 2, "start_function_line": 3},
                {"lineno": 5, "line": "return 1\n", "n_malloc_mb": 0.0, "n_peak_mb": 0.0}]}}}"#,
        )
        .unwrap();
        let l = lines(&p);
        assert_eq!(l.len(), 2, "lines without memory are left out");
        assert_eq!(l[0].location.line, 4);
        assert_eq!(l[0].location.function, "enqueue");
        assert_eq!(l[0].code, "pending[i] = C(i)");
        assert_eq!(l[1].location.function, "<module>");
    }
}
