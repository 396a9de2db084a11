//! Per-class figures of a series of snapshots, oldest first: the deltas first→last
//! (`growing`), whether a class grew at every step, and, among suspects, owners before
//! their parts. Shared by V8 and HPROF, whose classes are both compared by name.

use crate::heap::model::{Growing, Suspect};
use std::collections::HashMap;

/// Growing classes listed at most.
const MAX_GROWING: usize = 100;
/// Suspects listed at most.
pub const MAX_SUSPECTS: usize = 5;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassStat {
    pub count: u64,
    pub self_bytes: u64,
    pub retained: u64,
}

/// One snapshot's classes by name.
pub type ClassTable = HashMap<String, ClassStat>;

/// The classes whose count or bytes grew first→last, by retained growth; `leaked` gives
/// a class's objects in the three-snapshot set (None when objects cannot be followed by
/// id). Empty with fewer than two snapshots.
pub fn growing(
    first: &ClassTable,
    last: &ClassTable,
    files: usize,
    leaked: impl Fn(&str) -> Option<u64>,
) -> Vec<Growing> {
    if files < 2 {
        return Vec::new();
    }
    let mut out: Vec<Growing> = last
        .iter()
        .filter_map(|(name, l)| {
            let f = first.get(name).copied().unwrap_or_default();
            let count_delta = l.count as i64 - f.count as i64;
            let bytes_delta = l.self_bytes as i64 - f.self_bytes as i64;
            // Bytes alone count too: a listener array that only gets longer is one
            // instance growing (DevTools' Comparison view lists size deltas as well).
            if count_delta <= 0 && bytes_delta <= 0 {
                return None;
            }
            Some(Growing {
                name: name.clone(),
                count_delta,
                bytes_delta,
                count_first: f.count,
                count_last: l.count,
                bytes_first: f.self_bytes,
                bytes_last: l.self_bytes,
                allocated_between_first_two_alive_at_last: leaked(name),
                retained_bytes_last: Some(l.retained),
                retained_bytes_delta: Some(l.retained as i64 - f.retained as i64),
                stack: None,
                location: None,
                scalene: None,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (b.retained_bytes_delta, b.bytes_delta, &a.name).cmp(&(
            a.retained_bytes_delta,
            a.bytes_delta,
            &b.name,
        ))
    });
    out.truncate(MAX_GROWING);
    out
}

/// The count rose between every two consecutive snapshots, which a leak does and churn
/// rarely does. An object made once between two snapshots rises once and then stays:
/// not growing.
pub fn grew_at_every_step<'a>(tables: impl Iterator<Item = &'a ClassTable>, name: &str) -> bool {
    let counts: Vec<u64> = tables.map(|t| t.get(name).map_or(0, |c| c.count)).collect();
    counts.windows(2).all(|w| w[1] > w[0])
}

/// A suspect whose representative path runs through a leaked object of another suspect
/// class is a part of that one (a leaked session's `roles` Array): the owner is the
/// answer, so the part is dropped. `carrier` names a class that carries others without
/// owning them (V8's `(closure)`): it never makes another suspect a part, and comes
/// after the application classes. `leaked_ids` maps each leaked object's id to its
/// suspect class.
pub fn prefer_owners(
    mut suspects: Vec<Suspect>,
    leaked_ids: &HashMap<u64, String>,
    carrier: Option<&str>,
) -> Vec<Suspect> {
    suspects.retain(|s| {
        let path = &s.retainer_path;
        let inner = &path[..path.len().saturating_sub(1)];
        !inner.iter().any(|step| {
            leaked_ids
                .get(&step.id)
                .is_some_and(|owner| owner != &s.name && Some(owner.as_str()) != carrier)
        })
    });
    suspects.sort_by_key(|s| {
        (
            Some(s.name.as_str()) == carrier,
            std::cmp::Reverse(s.retained_growth_bytes),
        )
    });
    suspects.truncate(MAX_SUSPECTS);
    suspects
}
