//! One V8 snapshot read and analysed ([`AnalysedSnapshot`]: the graph, its classes,
//! dominators and per-class retained sizes) and what is kept of it once its graph is
//! dropped ([`Summary`]: per-class counts and bytes, the sorted ids of its objects).

use super::dominators;
use super::graph::{Classes, Types};
use super::names::taken_at_from_name;
use super::parse::{self, ParseError, Snapshot};
use crate::heap::input::Opened;
use crate::heap::model::{SnapshotInfo, TimeSource};
use crate::heap::{HeapError, Options};
use std::collections::HashMap;

pub use crate::heap::graph::classes::ClassStat;

/// What is kept of a snapshot once its graph is dropped.
pub struct Summary {
    pub classes: HashMap<String, ClassStat>,
    /// (id, hash of class name) of heap objects, sorted by id; kept for the first two
    /// snapshots only (the three-snapshot set and the same-process check need them).
    pub ids: Vec<(u32, u32)>,
    pub max_id: u32,
}

fn parse_error(opened: &Opened, e: ParseError) -> HeapError {
    let path = opened.path.clone();
    if !matches!(e, ParseError::Io(_))
        && let Some(fault) = opened.gzip_fault()
    {
        return fault;
    }
    match e {
        ParseError::Io(io) => opened.read_error(io),
        ParseError::Eof => HeapError::Truncated {
            path,
            detail: "the JSON stops in the middle".into(),
        },
        ParseError::Syntax { offset, detail } => HeapError::Invalid {
            path,
            what: "V8 heap snapshot",
            detail: format!("{detail} at byte {offset}"),
        },
        ParseError::Invalid(detail) => HeapError::Invalid {
            path,
            what: "V8 heap snapshot",
            detail,
        },
    }
}

/// A class name's hash, to tell "same id, same class" across snapshots.
fn name_hash(name: &str) -> u32 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    h.finish() as u32
}

/// A parsed snapshot with everything computed on it.
pub struct AnalysedSnapshot {
    pub snap: Snapshot,
    pub types: Types,
    pub classes: Classes,
    /// Each node's retained size (0 when unreachable).
    pub retained: Vec<u64>,
    pub class_retained: Vec<u64>,
}

pub fn analyse_one(opened: &Opened, options: &Options) -> Result<AnalysedSnapshot, HeapError> {
    let reader = opened.reader(options.quiet)?;
    let snap = parse::parse(reader).map_err(|e| parse_error(opened, e))?;
    Ok(analyse_graph(snap))
}

/// Classes, dominators and per-class retained sizes of a parsed snapshot.
pub fn analyse_graph(snap: Snapshot) -> AnalysedSnapshot {
    let types = Types::of(&snap);
    // Dominators first: their temporaries are the peak of memory, and the classes'
    // per-node array need not be alive then.
    let dom = dominators::compute(&snap, &types);
    let classes = Classes::build(&snap, &types);
    let class_retained = dominators::class_retained(&dom, &classes);
    // Only the retained sizes are read later: the tree itself (8 bytes a node) is
    // dropped before the retainer-path search allocates its own arrays.
    AnalysedSnapshot {
        snap,
        types,
        classes,
        retained: dom.retained,
        class_retained,
    }
}

/// Heap objects' (id, class hash): embedder nodes' (even) ids change between snapshots,
/// and the synthetic roots are the same in every process.
pub fn object_ids(a: &AnalysedSnapshot) -> impl Iterator<Item = (u32, u32)> + '_ {
    let hashes: Vec<u32> = a.classes.names.iter().map(|n| name_hash(n)).collect();
    (0..a.snap.node_count())
        .filter(|&n| a.snap.node_id(n) % 2 == 1 && Some(a.snap.node_type(n)) != a.types.synthetic)
        .map(move |n| (a.snap.node_id(n), hashes[a.classes.of[n] as usize]))
}

pub fn summarise(a: &AnalysedSnapshot, keep_ids: bool) -> Summary {
    let mut per_class = vec![ClassStat::default(); a.classes.names.len()];
    for node in 0..a.snap.node_count() {
        let c = &mut per_class[a.classes.of[node] as usize];
        c.count += 1;
        c.self_bytes += u64::from(a.snap.self_size(node));
    }
    let mut ids: Vec<(u32, u32)> = if keep_ids {
        object_ids(a).collect()
    } else {
        Vec::new()
    };
    ids.sort_unstable();
    let classes = a
        .classes
        .names
        .iter()
        .zip(per_class)
        .zip(&a.class_retained)
        .map(|((name, mut stat), &retained)| {
            stat.retained = retained;
            (name.clone(), stat)
        })
        .collect();
    Summary {
        classes,
        max_id: a.snap.max_id(),
        ids,
    }
}

pub fn info(opened: &Opened, a: &AnalysedSnapshot) -> SnapshotInfo {
    let total: u64 = (0..a.snap.node_count())
        .map(|n| u64::from(a.snap.self_size(n)))
        .sum();
    let named = taken_at_from_name(&opened.path).map(|t| (t, TimeSource::FileName));
    opened.info(
        total,
        a.snap.node_count() as u64,
        named,
        Some(u64::from(a.snap.max_id())),
    )
}
