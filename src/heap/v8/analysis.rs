//! The analysis of a V8 series (the registry's entry point): each snapshot read and
//! analysed in turn, checked against the one before (one process, then order, and not
//! the same heap twice), then the deltas, the three-snapshot set, suspects and top
//! consumers.
//!
//! Snapshots are read one at a time; only small per-class tables and the sorted id lists
//! of the first two survive, so peak memory is one snapshot's graph plus its analysis.

use super::paths;
use super::process::{self, Evidence};
use super::series::Series;
use super::snapshot::{self, AnalysedSnapshot, Summary};
use super::suspects::{suspects, top_consumers};
use crate::heap::input::Opened;
use crate::heap::model::{self, Format, HeapReport, Technique};
use crate::heap::{HeapError, Options};

pub fn analyse(opened: Vec<Opened>, options: &Options) -> Result<HeapReport, HeapError> {
    let mut warnings = Vec::new();
    let mut infos = Vec::new();
    let mut summaries: Vec<Summary> = Vec::new();
    let mut checks = Checks {
        opened: &opened,
        first_pair: None,
    };
    let mut last = None;
    for (k, file) in opened.iter().enumerate() {
        let a = snapshot::analyse_one(file, options)?;
        infos.push(snapshot::info(file, &a));
        // The id lists of the first two snapshots are kept to the end; the others' only
        // until the next snapshot has been checked against them.
        let keep_ids = k < 2 || k + 1 < opened.len();
        let summary = snapshot::summarise(&a, keep_ids);
        if k > 0 {
            checks.check(k, &summaries, &summary, &a)?;
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
    if opened.len() == 1 {
        warnings.push(
            "one snapshot only: it shows what the heap holds (top consumers, retained sizes) but not what grows; take two or three snapshots minutes apart under load to find a leak".into(),
        );
    }
    let series = Series {
        summaries: &summaries,
        comparable: opened.len() > 1,
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
        technique: technique(opened.len()),
        leaked_object: None,
        hints: Vec::new(),
        tool: Format::V8.tool(),
        root_cause: None,
        id_check: None,
    })
}

/// The checks of each snapshot against the earlier ones, as the snapshots are read:
/// one process (else the file from another one is named), then in order, and not the
/// same heap twice.
struct Checks<'a> {
    opened: &'a [Opened],
    /// The first two files come from different processes; which of them is the odd
    /// one is known from the third.
    first_pair: Option<Evidence>,
}

impl Checks<'_> {
    fn check(
        &mut self,
        k: usize,
        summaries: &[Summary],
        summary: &Summary,
        a: &AnalysedSnapshot,
    ) -> Result<(), HeapError> {
        if let Some(evidence) = self.first_pair.take() {
            return Err(self.odd_of_first_two(summaries, a, evidence));
        }
        let prev = &summaries[k - 1];
        match process::compare(&self.opened[k - 1], &prev.ids, &self.opened[k], a) {
            Ok(()) => self.in_order(k, prev, summary),
            Err(evidence) if k == 1 && self.opened.len() > 2 => {
                self.first_pair = Some(evidence);
                Ok(())
            }
            Err(evidence) => Err(self.different(k, &[k - 1], evidence)),
        }
    }

    /// Snapshots of one process: ids only grow, and the same heap twice (one file given
    /// twice, or a copy) would report "nothing grew" as if it were a finding.
    fn in_order(&self, k: usize, prev: &Summary, summary: &Summary) -> Result<(), HeapError> {
        if summary.max_id < prev.max_id {
            return Err(HeapError::OutOfOrder {
                path: self.opened[k].path.clone(),
                max_id: u64::from(summary.max_id),
                previous: self.opened[k - 1].path.clone(),
                previous_max_id: u64::from(prev.max_id),
            });
        }
        if summary.max_id == prev.max_id && summary.classes == prev.classes {
            return Err(HeapError::Identical {
                path: self.opened[k].path.clone(),
                previous: self.opened[k - 1].path.clone(),
            });
        }
        Ok(())
    }

    /// Files 1 and 2 differ: the third (`a`) tells which is the odd one, the one of a
    /// process the others do not share.
    fn odd_of_first_two(
        &self,
        summaries: &[Summary],
        a: &AnalysedSnapshot,
        evidence: Evidence,
    ) -> HeapError {
        let third = &self.opened[2];
        let with = |k: usize| process::compare(&self.opened[k], &summaries[k].ids, third, a);
        match (with(0).is_ok(), with(1).is_ok()) {
            (false, true) => self.different(0, &[1, 2], evidence),
            (true, _) => self.different(1, &[0, 2], evidence),
            (false, false) => self.different(1, &[0], evidence),
        }
    }

    fn different(&self, odd: usize, others: &[usize], evidence: Evidence) -> HeapError {
        let others: Vec<String> = others
            .iter()
            .map(|&k| self.opened[k].path.display().to_string())
            .collect();
        HeapError::DifferentProcess {
            path: self.opened[odd].path.clone(),
            others: others.join(" and "),
            evidence,
        }
    }
}

/// How the series was compared: by object ids, one process's.
fn technique(files: usize) -> Technique {
    match files {
        1 => Technique::SingleSnapshot,
        2 => Technique::NewInSecond,
        _ => Technique::ThreeSnapshot,
    }
}
