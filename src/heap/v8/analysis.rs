//! The analysis of a V8 series (the registry's entry point): each snapshot read and
//! analysed in turn, checked against the one before (order, the same heap twice, one
//! process), then the deltas, the three-snapshot set, suspects and top consumers.
//!
//! Snapshots are read one at a time; only small per-class tables and the sorted id lists
//! of the first two survive, so peak memory is one snapshot's graph plus its analysis.

use super::names::pid_from_name;
use super::paths;
use super::series::Series;
use super::snapshot::{self, AnalysedSnapshot, Summary};
use super::suspects::{suspects, top_consumers};
use crate::heap::input::Opened;
use crate::heap::model::{self, Format, HeapReport, Technique};
use crate::heap::{HeapError, Options};

/// Below this share of an older snapshot's objects found again (same id, same class)
/// in the next one, the files are not taken to come from one process.
const MIN_SHARED_FRACTION: f64 = 0.01;

/// Share of `older`'s objects found in `newer` with the same id and class.
fn shared_fraction(older: &[(u32, u32)], newer: &AnalysedSnapshot) -> f64 {
    if older.is_empty() {
        return 0.0;
    }
    let found = snapshot::object_ids(newer)
        .filter(|(id, h)| {
            older
                .binary_search_by_key(id, |(i, _)| *i)
                .is_ok_and(|k| older[k].1 == *h)
        })
        .count();
    found as f64 / older.len() as f64
}

/// Two of Node's default file names with different process ids: the snapshots come from
/// different processes, whose object ids mean different objects (even when, started from
/// the same startup snapshot, they look alike).
fn different_processes(opened: &[Opened]) -> Option<String> {
    let pids: Vec<(u32, &Opened)> = opened
        .iter()
        .filter_map(|o| pid_from_name(&o.path).map(|p| (p, o)))
        .collect();
    let (first_pid, first) = pids.first()?;
    let (pid, other) = pids.iter().find(|(p, _)| p != first_pid)?;
    Some(format!(
        "{} and {} were written by different processes (pid {first_pid} and {pid} in Node's file names): object ids are not comparable across processes; showing count deltas only, without the three-snapshot set",
        crate::heap::file_name(&first.path),
        crate::heap::file_name(&other.path)
    ))
}

pub fn analyse(opened: Vec<Opened>, options: &Options) -> Result<HeapReport, HeapError> {
    let mut warnings = Vec::new();
    let mut infos = Vec::new();
    let mut summaries: Vec<Summary> = Vec::new();
    let mut comparable = true;
    let mut last = None;
    for (k, file) in opened.iter().enumerate() {
        let a = snapshot::analyse_one(file, options)?;
        infos.push(snapshot::info(file, &a));
        // The id lists of the first two snapshots are kept to the end; the others' only
        // until the next snapshot has been checked against them.
        let keep_ids = k < 2 || k + 1 < opened.len();
        let summary = snapshot::summarise(&a, keep_ids);
        if let Some(prev) = summaries.last() {
            if summary.max_id < prev.max_id {
                return Err(HeapError::OutOfOrder {
                    path: file.path.clone(),
                    max_id: u64::from(summary.max_id),
                    previous: opened[k - 1].path.clone(),
                    previous_max_id: u64::from(prev.max_id),
                });
            }
            // The same heap twice (one file given twice, or a copy): comparing it with
            // itself would report "nothing grew" as if it were a finding.
            if summary.max_id == prev.max_id && summary.classes == prev.classes {
                return Err(HeapError::Identical {
                    path: file.path.clone(),
                    previous: opened[k - 1].path.clone(),
                });
            }
            let shared = shared_fraction(&prev.ids, &a);
            if shared < MIN_SHARED_FRACTION {
                comparable = false;
                warnings.push(format!(
                    "{} and {} share almost no objects ({:.2} % of the older one's ids found with the same class): they do not seem to come from one process; showing count deltas only, without the three-snapshot set",
                    crate::heap::file_name(&opened[k - 1].path),
                    crate::heap::file_name(&file.path),
                    shared * 100.0
                ));
            }
        }
        if k >= 3
            && let Some(prev) = summaries.last_mut()
        {
            prev.ids = Vec::new();
        }
        summaries.push(summary);
        if k + 1 == opened.len() {
            last = Some(a);
        }
    }
    let last = last.expect("at least one file");
    if comparable && let Some(warning) = different_processes(&opened) {
        comparable = false;
        warnings.push(warning);
    }
    if opened.len() == 1 {
        warnings.push(
            "one snapshot only: it shows what the heap holds (top consumers, retained sizes) but not what grows; take two or three snapshots minutes apart under load to find a leak".into(),
        );
    }
    let series = Series {
        summaries: &summaries,
        comparable: comparable && opened.len() > 1,
    };
    let survivors = series.survivors(&last);
    let growing = series.growing(&survivors);
    let parents = paths::bfs(&last.snap, &last.types);
    let suspects = suspects(&series, &last, &parents, &growing, &survivors);
    let top_consumers = top_consumers(&last, &parents);
    Ok(HeapReport {
        schema: model::SCHEMA_ID,
        format: Format::V8,
        snapshots: infos,
        sample_types: None,
        ids_comparable: series.comparable,
        growing,
        top_consumers,
        suspects,
        warnings,
        technique: technique(opened.len(), series.comparable),
        leaked_object: None,
        hints: Vec::new(),
    })
}

/// How the series was compared: by object ids when they are comparable.
fn technique(files: usize, comparable: bool) -> Technique {
    match (files, comparable) {
        (1, _) => Technique::SingleSnapshot,
        (_, false) => Technique::CountDeltas,
        (2, true) => Technique::NewInSecond,
        _ => Technique::ThreeSnapshot,
    }
}
