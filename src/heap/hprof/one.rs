//! One dump read and analysed ([`Analysed`]: the graph, retained sizes, per-class
//! figures) and what is kept of it once its graph is dropped ([`Summary`]: per-class
//! counts and bytes, the header's time, the symbol addresses and a sample of object
//! fingerprints that say whether the next dump comes from the same JVM and whether its
//! objects kept their ids).
//!
//! Per-class figures count reachable objects only (from the GC roots over strong
//! references), as Eclipse MAT does: a dump taken without a GC first (`live=false`,
//! `jmap -dump` without `:live`) also holds garbage.

use super::dump::{self, Dump};
use super::parse::{self, ClassKind};
use super::read::ParseError;
use crate::heap::graph::classes::{ClassStat, ClassTable};
use crate::heap::graph::{ObjectGraph, dominators};
use crate::heap::input::Opened;
use crate::heap::model::SnapshotInfo;
use crate::heap::{HeapError, Options};

/// One object in this many is fingerprinted for the id check (chosen by its id, so the
/// same objects are sampled in every dump).
const SAMPLE_SHIFT: u32 = 3;

pub struct Analysed {
    pub dump: Dump,
    /// Retained size per node (0 when unreachable).
    pub retained: Vec<u64>,
    pub classes: ClassTable,
    /// Retained bytes per class entry, an object counted only when no object of its
    /// class dominates it.
    pub class_retained: Vec<u64>,
    pub total_bytes: u64,
    pub objects: u64,
}

impl Analysed {
    pub fn reachable(&self, node: usize) -> bool {
        node == 0 || self.retained[node] > 0
    }
}

/// What is kept of a dump once its graph is dropped.
pub struct Summary {
    pub classes: ClassTable,
    pub timestamp_ms: u64,
    /// (hash of the text, address) of every symbol (class, field and method names).
    pub symbols: Vec<(u64, u64)>,
    /// (id, fingerprint) of the sampled reachable objects, by id.
    pub sample: Vec<(u64, (u32, u32))>,
    /// Ids of all reachable objects (kept for the first dump only, for the three-dump set).
    pub ids: Vec<u64>,
}

pub fn parse_error(opened: &Opened, e: ParseError) -> HeapError {
    let path = opened.path.clone();
    if !matches!(e, ParseError::Io(_))
        && let Some(fault) = opened.gzip_fault()
    {
        return fault;
    }
    let invalid = |detail: String| HeapError::Invalid {
        path: path.clone(),
        what: "JVM heap dump (HPROF)",
        detail,
    };
    match e {
        ParseError::Io(io) => opened.read_error(io),
        ParseError::Eof { what, offset } => HeapError::Truncated {
            path,
            detail: format!("mid-record: {what} at byte {offset}"),
        },
        ParseError::NotHprof(name) => invalid(format!(
            "its header names {name:?}, not JAVA PROFILE 1.0.1 or 1.0.2"
        )),
        // 32-bit JVMs write 4, 64-bit JVMs 8: any other size is not a JVM's dump.
        ParseError::IdSize(size) => invalid(format!(
            "its identifier size is {size} bytes, HPROF's are 4 (32-bit JVM) or 8 (64-bit JVM)"
        )),
        ParseError::UnknownTag { tag, offset } => invalid(format!(
            "unknown record tag 0x{tag:02x} at byte {offset}{}",
            android_hint(tag)
        )),
        ParseError::UnknownSubTag { tag, offset } => invalid(format!(
            "unknown heap dump record tag 0x{tag:02x} at byte {offset}{}",
            android_hint(tag)
        )),
        ParseError::Invalid(detail) => invalid(detail),
    }
}

/// Android's dumps add their own tags; `hprof-conv` writes the standard format.
fn android_hint(tag: u8) -> &'static str {
    if matches!(tag, 0x89..=0x8e | 0x90 | 0xc3 | 0xfe) {
        " (an Android heap dump? convert it with `hprof-conv` first)"
    } else {
        ""
    }
}

/// Reads a dump and analyses it: `labels` keeps the field names for retainer paths
/// (the last dump only).
pub fn analyse_one(
    opened: &Opened,
    options: &Options,
    labels: bool,
) -> Result<Analysed, HeapError> {
    let reader = opened.reader(options.quiet)?;
    let raw = parse::parse(reader).map_err(|e| parse_error(opened, e))?;
    if raw.heap_records == 0 || raw.ids.len() <= 1 {
        return Err(HeapError::EmptyHeap {
            path: opened.path.clone(),
        });
    }
    let dump = dump::build(raw, labels).map_err(|e| parse_error(opened, e))?;
    Ok(analyse_dump(dump))
}

pub fn analyse_dump(dump: Dump) -> Analysed {
    let dom = dominators::compute(&dump);
    let class_retained = dominators::class_retained(&dom, &dump.class_of, dump.classes.len());
    let retained = dom.retained;
    let mut per_name = vec![ClassStat::default(); dump.names.len()];
    let (mut total_bytes, mut objects) = (0u64, 0u64);
    for node in 1..dump.node_count() {
        if retained[node] == 0 {
            continue;
        }
        let c = &mut per_name[dump.class_name[dump.class_of[node] as usize] as usize];
        c.count += 1;
        c.self_bytes += u64::from(dump.size[node]);
        total_bytes += u64::from(dump.size[node]);
        objects += 1;
    }
    for (entry, &r) in class_retained.iter().enumerate() {
        if dump.classes[entry].kind != ClassKind::Root {
            per_name[dump.class_name[entry] as usize].retained += r;
        }
    }
    let classes = dump
        .names
        .iter()
        .zip(per_name)
        .filter(|(_, stat)| stat.count > 0)
        .map(|(name, stat)| (name.clone(), stat))
        .collect();
    Analysed {
        dump,
        retained,
        classes,
        class_retained,
        total_bytes,
        objects,
    }
}

fn mix(h: u64, v: u64) -> u64 {
    (h ^ v).wrapping_mul(0x0100_0000_01b3).rotate_left(23)
}

/// Whether an object is in the sample (by its id alone).
#[inline]
fn sampled(id: u64) -> bool {
    (id >> 3).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SAMPLE_SHIFT) == 0
}

fn text_hash(text: &str) -> u64 {
    text.bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| mix(h, u64::from(b)))
}

/// An object's fingerprint: (its class and size, the ids it refers to). An object that
/// kept its place and its references has the same one in the next dump; when the
/// collector moved objects, the objects found at an old address are others (another
/// class or size) or refer to moved ones (other ids).
fn fingerprint(a: &Analysed, node: usize) -> (u32, u32) {
    let d = &a.dump;
    let what = mix(text_hash(d.name_of(node)), u64::from(d.size[node]));
    let mut refs = 0xcbf2_9ce4_8422_2325;
    for e in d.edges_of(node) {
        refs = mix(refs, d.id(d.edge_to(e)));
    }
    (what as u32, refs as u32)
}

/// `keep_ids`: all reachable ids (dumps 1 and 2); `sample`: the fingerprinted sample
/// (every dump but the last).
pub fn summarise(a: &Analysed, keep_ids: bool, sample: bool) -> Summary {
    let d = &a.dump;
    let mut symbols: Vec<(u64, u64)> = d
        .strings
        .iter()
        .map(|(&id, text)| (text_hash(text), id))
        .collect();
    symbols.sort_unstable();
    let reachable = (1..d.node_count()).filter(|&n| a.reachable(n));
    let sample = reachable
        .clone()
        .filter(|&n| sample && sampled(d.id(n)))
        .map(|n| (d.id(n), fingerprint(a, n)))
        .collect();
    let ids = if keep_ids {
        reachable.map(|n| d.id(n)).collect()
    } else {
        Vec::new()
    };
    Summary {
        classes: a.classes.clone(),
        timestamp_ms: d.timestamp_ms,
        symbols,
        sample,
        ids,
    }
}

/// How the sampled objects of an older dump are found in this one at the same id:
/// (found, of those another object (class or size differ), of the others those whose
/// references differ).
pub fn compare_sample(older: &[(u64, (u32, u32))], a: &Analysed) -> (u64, u64, u64) {
    let (mut shared, mut other, mut changed) = (0u64, 0u64, 0u64);
    for &(id, (what, refs)) in older {
        if let Some(node) = a.dump.find(id)
            && a.reachable(node)
        {
            shared += 1;
            let now = fingerprint(a, node);
            if now.0 != what {
                other += 1;
            } else if now.1 != refs {
                changed += 1;
            }
        }
    }
    (shared, other, changed)
}

/// Symbols both dumps hold: (shared texts, of those at another address).
pub fn compare_symbols(older: &[(u64, u64)], newer: &[(u64, u64)]) -> (u64, u64) {
    let (mut shared, mut moved) = (0u64, 0u64);
    let (mut i, mut j) = (0, 0);
    while i < older.len() && j < newer.len() {
        match older[i].0.cmp(&newer[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                moved += u64::from(older[i].1 != newer[j].1);
                i += 1;
                j += 1;
            }
        }
    }
    (shared, moved)
}

pub fn info(opened: &Opened, a: &Analysed) -> SnapshotInfo {
    let written =
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(a.dump.timestamp_ms as i64)
            .filter(|_| a.dump.timestamp_ms > 0)
            .map(|t| {
                (
                    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    crate::heap::model::TimeSource::DumpHeader,
                )
            });
    opened.info(a.total_bytes, a.objects, written, None)
}
