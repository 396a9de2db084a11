//! A series of summaries, oldest first: per-class deltas first→last (`growing`), the
//! three-snapshot set (objects allocated between the first two snapshots and still alive
//! in the last), and whether a class grew at every step.

use super::snapshot::{AnalysedSnapshot, Summary};
use crate::heap::graph::classes;
use crate::heap::model::Growing;
use std::collections::BTreeMap;

pub struct Series<'a> {
    pub summaries: &'a [Summary],
    pub comparable: bool,
}

/// Per class of the last snapshot: its nodes in the three-snapshot set (absent in the
/// first, present in the second, alive in the last; with two snapshots: new in the
/// second), sorted by id.
pub type Survivors = BTreeMap<String, Vec<usize>>;

impl Series<'_> {
    pub fn survivors(&self, last: &AnalysedSnapshot) -> Survivors {
        let mut out = Survivors::new();
        if !self.comparable {
            return out;
        }
        let first = &self.summaries[0].ids;
        let second = (self.summaries.len() >= 3).then(|| &self.summaries[1].ids);
        // Objects newer than the second snapshot cannot be in it: most of a big last
        // snapshot is skipped without a search.
        let newest = second.map_or(u32::MAX, |_| self.summaries[1].max_id);
        let has = |ids: &[(u32, u32)], id: u32| ids.binary_search_by_key(&id, |(i, _)| *i).is_ok();
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); last.classes.names.len()];
        for n in 0..last.snap.node_count() {
            let id = last.snap.node_id(n);
            if id % 2 == 1 && id <= newest && !has(first, id) && second.is_none_or(|s| has(s, id)) {
                by_class[last.classes.of[n] as usize].push(n);
            }
        }
        for (class, mut nodes) in by_class.into_iter().enumerate() {
            if !nodes.is_empty() {
                nodes.sort_by_key(|&n| last.snap.node_id(n));
                out.insert(last.classes.names[class].clone(), nodes);
            }
        }
        out
    }

    pub fn growing(&self, survivors: &Survivors) -> Vec<Growing> {
        let (first, last) = (
            &self.summaries[0],
            &self.summaries[self.summaries.len() - 1],
        );
        classes::growing(
            &first.classes,
            &last.classes,
            self.summaries.len(),
            |name| {
                self.comparable
                    .then(|| survivors.get(name).map_or(0, |v| v.len() as u64))
            },
        )
    }

    /// The count rose between every two consecutive snapshots, which a leak does and
    /// churn rarely does. An object made once between two snapshots (`process.stdout`,
    /// made by the first `console.log`) rises once and then stays: not growing.
    pub fn grew_at_every_step(&self, name: &str) -> bool {
        classes::grew_at_every_step(self.summaries.iter().map(|s| &s.classes), name)
    }
}
