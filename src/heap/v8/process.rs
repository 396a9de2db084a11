//! Whether two snapshots come from one process. V8 object ids belong to the process
//! that wrote them, so objects can only be followed from snapshot to snapshot within
//! one process; snapshots of another one must be refused, not compared.
//!
//! Ids alone rarely tell: two Node processes start from the same startup snapshot and,
//! running the same code, number their objects almost alike. What does tell: within one
//! process an id always names the same object, so it keeps its class from snapshot to
//! snapshot (measured: not one object of ~40,000 changed class in Node 20, also with the
//! files given out of order), while in two processes of the same program 2–3 % of the
//! ids they share name objects of other classes, and 30 % in two different programs.
//! Node's default file names, which carry the process id, tell first when both have one.

use super::names::pid_from_name;
use super::snapshot::{self, AnalysedSnapshot};
use crate::heap::input::Opened;

/// Below this share of the older snapshot's objects found again (same id, same class),
/// the files share almost nothing.
const MIN_SHARED_FRACTION: f64 = 0.01;
/// Above this share of the ids both hold naming objects of other classes, they are two
/// processes (one process: 0; two runs of one program: 2–3 %).
const MAX_OTHER_CLASS_FRACTION: f64 = 0.005;

/// What shows that two snapshots come from different processes.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// Node's default file names carry different process ids.
    Pids { older: u32, newer: u32 },
    /// Almost none of the older snapshot's objects are in the newer one.
    NoSharedObjects { fraction: f64 },
    /// Ids both snapshots hold name objects of other classes.
    OtherClasses { other: u64, shared: u64 },
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Evidence::Pids { older, newer } => {
                write!(f, "pid {older} and {newer} in Node's file names")
            }
            Evidence::NoSharedObjects { fraction } => write!(
                f,
                "they share almost no objects: {:.2} % of the older one's ids found with the same class",
                fraction * 100.0
            ),
            Evidence::OtherClasses { other, shared } => write!(
                f,
                "{other} of the {shared} object ids both hold name objects of other classes; within one process an id keeps its object"
            ),
        }
    }
}

/// One process, or the evidence of two: `older_ids` are the older snapshot's (id, class
/// hash) pairs, sorted by id.
pub fn compare(
    older: &Opened,
    older_ids: &[(u32, u32)],
    newer: &Opened,
    newer_snapshot: &AnalysedSnapshot,
) -> Result<(), Evidence> {
    if let (Some(a), Some(b)) = (pid_from_name(&older.path), pid_from_name(&newer.path))
        && a != b
    {
        return Err(Evidence::Pids { older: a, newer: b });
    }
    let (mut shared, mut other) = (0u64, 0u64);
    for (id, class) in snapshot::object_ids(newer_snapshot) {
        if let Ok(k) = older_ids.binary_search_by_key(&id, |(i, _)| *i) {
            shared += 1;
            other += u64::from(older_ids[k].1 != class);
        }
    }
    let found = (shared - other) as f64 / older_ids.len().max(1) as f64;
    if found < MIN_SHARED_FRACTION {
        return Err(Evidence::NoSharedObjects { fraction: found });
    }
    if other as f64 > shared as f64 * MAX_OTHER_CLASS_FRACTION {
        return Err(Evidence::OtherClasses { other, shared });
    }
    Ok(())
}
