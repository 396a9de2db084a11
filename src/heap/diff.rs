//! A series of V8 snapshots (oldest first): per-class counts, bytes and retained sizes in
//! each, the first→last deltas, the three-snapshot set, leak suspects with their
//! clustered retainer paths, and the top consumers of the last snapshot.
//!
//! Snapshots are read one at a time; only small per-class tables and the sorted id lists
//! of the first two survive, so peak memory is one snapshot's graph plus its analysis.

use super::graph::{Classes, ROOT, Types};
use super::input::Opened;
use super::model::{self, Consumer, Format, Growing, HeapReport, SnapshotInfo, Suspect};
use super::v8::{self, ParseError, Snapshot};
use super::{HeapError, Options, dominators, paths};
use std::collections::{BTreeMap, HashMap};

/// Suspects and growing classes listed at most.
const MAX_SUSPECTS: usize = 5;
const MAX_GROWING: usize = 100;
/// Below this share of an older snapshot's objects found again (same id, same class)
/// in the next one, the files are not taken to come from one process.
const MIN_SHARED_FRACTION: f64 = 0.01;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ClassStat {
    count: u64,
    self_bytes: u64,
    retained: u64,
}

/// What is kept of a snapshot once its graph is dropped.
struct Summary {
    classes: HashMap<String, ClassStat>,
    /// (id, hash of class name) of heap objects, sorted by id; kept for the first two
    /// snapshots only (the three-snapshot set and the same-process check need them).
    ids: Vec<(u32, u32)>,
    max_id: u32,
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
struct Analysed {
    snap: Snapshot,
    types: Types,
    classes: Classes,
    dom: dominators::Dominators,
    class_retained: Vec<u64>,
}

fn analyse_one(opened: &Opened, options: &Options) -> Result<Analysed, HeapError> {
    let reader = opened.reader(options.quiet)?;
    let snap = v8::parse(reader).map_err(|e| parse_error(opened, e))?;
    let types = Types::of(&snap);
    // Dominators first: their temporaries are the peak of memory, and the classes'
    // per-node array need not be alive then.
    let dom = dominators::compute(&snap, &types);
    let classes = Classes::build(&snap, &types);
    let class_retained = dominators::class_retained(&snap, &dom, &classes);
    Ok(Analysed {
        snap,
        types,
        classes,
        dom,
        class_retained,
    })
}

/// Heap objects' (id, class hash): embedder nodes' (even) ids change between snapshots,
/// and the synthetic roots are the same in every process.
fn object_ids(a: &Analysed) -> impl Iterator<Item = (u32, u32)> + '_ {
    let hashes: Vec<u32> = a.classes.names.iter().map(|n| name_hash(n)).collect();
    (0..a.snap.node_count())
        .filter(|&n| a.snap.node_id(n) % 2 == 1 && Some(a.snap.node_type(n)) != a.types.synthetic)
        .map(move |n| (a.snap.node_id(n), hashes[a.classes.of[n] as usize]))
}

fn summarise(a: &Analysed, keep_ids: bool) -> Summary {
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

/// Share of `older`'s objects found in `newer` with the same id and class.
fn shared_fraction(older: &[(u32, u32)], newer: &Analysed) -> f64 {
    if older.is_empty() {
        return 0.0;
    }
    let found = object_ids(newer)
        .filter(|(id, h)| {
            older
                .binary_search_by_key(id, |(i, _)| *i)
                .is_ok_and(|k| older[k].1 == *h)
        })
        .count();
    found as f64 / older.len() as f64
}

/// Node's and DevTools' default file names carry the local time the snapshot was taken:
/// `Heap.20261201.154501.4242.0.001.heapsnapshot`, `Heap-20261201T154501.heapsnapshot`.
pub fn taken_at_from_name(path: &std::path::Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let digits = |s: &str| s.len() >= 6 && s.bytes().all(|b| b.is_ascii_digit());
    let (date, time) = if let Some(rest) = name.strip_prefix("Heap.") {
        let mut parts = rest.split('.');
        (parts.next()?, parts.next()?)
    } else if let Some(rest) = name.strip_prefix("Heap-") {
        let stamp = rest.split('.').next()?;
        stamp.split_once('T')?
    } else {
        return None;
    };
    if date.len() != 8 || !digits(date) || time.len() != 6 || !digits(time) {
        return None;
    }
    Some(format!(
        "{}-{}-{}T{}:{}:{} (local time, from the file name)",
        &date[..4],
        &date[4..6],
        &date[6..],
        &time[..2],
        &time[2..4],
        &time[4..]
    ))
}

/// The process id in Node's default file name (`Heap.DATE.TIME.PID.THREAD.SEQ…`).
pub fn pid_from_name(path: &std::path::Path) -> Option<u32> {
    let name = path.file_name()?.to_str()?;
    let mut parts = name.strip_prefix("Heap.")?.split('.');
    let (_date, _time, pid) = (parts.next()?, parts.next()?, parts.next()?);
    pid.parse().ok()
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
        super::file_name(&first.path),
        super::file_name(&other.path)
    ))
}

fn info(opened: &Opened, a: &Analysed) -> SnapshotInfo {
    let total: u64 = (0..a.snap.node_count())
        .map(|n| u64::from(a.snap.self_size(n)))
        .sum();
    SnapshotInfo {
        path: opened.path.display().to_string(),
        size_bytes: opened.size_bytes,
        gzip: opened.gzip,
        total_heap_bytes: total,
        objects: a.snap.node_count() as u64,
        taken_at: taken_at_from_name(&opened.path),
        max_object_id: Some(u64::from(a.snap.max_id())),
    }
}

pub fn analyse_v8(opened: Vec<Opened>, options: &Options) -> Result<HeapReport, HeapError> {
    let mut warnings = Vec::new();
    let mut infos = Vec::new();
    let mut summaries: Vec<Summary> = Vec::new();
    let mut comparable = true;
    let mut last = None;
    for (k, file) in opened.iter().enumerate() {
        let a = analyse_one(file, options)?;
        infos.push(info(file, &a));
        // The id lists of the first two snapshots are kept to the end; the others' only
        // until the next snapshot has been checked against them.
        let keep_ids = k < 2 || k + 1 < opened.len();
        let summary = summarise(&a, keep_ids);
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
                    super::file_name(&opened[k - 1].path),
                    super::file_name(&file.path),
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
    })
}

struct Series<'a> {
    summaries: &'a [Summary],
    comparable: bool,
}

/// Per class of the last snapshot: its nodes in the three-snapshot set (absent in the
/// first, present in the second, alive in the last; with two snapshots: new in the
/// second), sorted by id.
type Survivors = BTreeMap<String, Vec<usize>>;

impl Series<'_> {
    fn survivors(&self, last: &Analysed) -> Survivors {
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

    fn growing(&self, survivors: &Survivors) -> Vec<Growing> {
        let (first, last) = (
            &self.summaries[0],
            &self.summaries[self.summaries.len() - 1],
        );
        let mut out: Vec<Growing> = last
            .classes
            .iter()
            .filter_map(|(name, l)| {
                let f = first.classes.get(name).copied().unwrap_or_default();
                let count_delta = l.count as i64 - f.count as i64;
                let bytes_delta = l.self_bytes as i64 - f.self_bytes as i64;
                // Bytes alone count too: a listener array that only gets longer is one
                // instance growing (DevTools' Comparison view lists size deltas as well).
                if (count_delta <= 0 && bytes_delta <= 0) || self.summaries.len() < 2 {
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
                    allocated_between_first_two_alive_at_last: self
                        .comparable
                        .then(|| survivors.get(name).map_or(0, |v| v.len() as u64)),
                    retained_bytes_last: Some(l.retained),
                    retained_bytes_delta: Some(l.retained as i64 - f.retained as i64),
                    stack: None,
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

    /// Grew at every step (never fell), which a leak does and churn rarely does.
    fn grew_steadily(&self, name: &str) -> bool {
        let counts: Vec<u64> = self
            .summaries
            .iter()
            .map(|s| s.classes.get(name).map_or(0, |c| c.count))
            .collect();
        counts.windows(2).all(|w| w[1] >= w[0])
    }
}

/// V8's own groupings are never suspects: they grow as a consequence of what the
/// application holds (its strings, arrays, contexts), and the class that holds them is
/// the useful answer. They stay in `growing`.
fn internal(name: &str) -> bool {
    (name.starts_with('(') && name != "(closure)")
        || name.starts_with("system /")
        || name.is_empty()
}

fn suspects(
    series: &Series,
    last: &Analysed,
    parents: &paths::Parents,
    growing: &[Growing],
    survivors: &Survivors,
) -> Vec<Suspect> {
    let class_ids: HashMap<&str, u32> = last
        .classes
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();
    let mut out: Vec<Suspect> = Vec::new();
    // Which suspect class each leaked object (by id) belongs to.
    let mut leaked_ids: HashMap<u64, String> = HashMap::new();
    for g in growing {
        let retained_growth = g.retained_bytes_delta.unwrap_or(0);
        if internal(&g.name) || retained_growth <= 0 || !series.grew_steadily(&g.name) {
            continue;
        }
        let leaked: Vec<usize> = if series.comparable {
            match survivors.get(&g.name) {
                Some(v) if !v.is_empty() => v.clone(),
                _ => continue,
            }
        } else {
            // Without comparable ids, the newest instances (highest ids) stand in.
            let Some(&class) = class_ids.get(g.name.as_str()) else {
                continue;
            };
            let mut all: Vec<usize> = (0..last.snap.node_count())
                .filter(|&n| last.classes.of[n] == class)
                .collect();
            all.sort_by_key(|&n| std::cmp::Reverse(last.snap.node_id(n)));
            all.truncate(g.count_delta as usize);
            all
        };
        let (retainer_path, path_count) =
            paths::representative(&last.snap, &last.types, parents, &leaked).unwrap_or_default();
        let pattern = paths::pattern(&retainer_path);
        for &n in &leaked {
            leaked_ids.insert(u64::from(last.snap.node_id(n)), g.name.clone());
        }
        out.push(Suspect {
            name: g.name.clone(),
            count: leaked.len() as u64,
            retained_bytes: g.retained_bytes_last.unwrap_or(0),
            retained_growth_bytes: retained_growth,
            retainer_path,
            path_count,
            pattern,
            stack: None,
        });
    }
    prefer_owners(out, &leaked_ids)
}

/// A suspect whose representative path runs through a leaked object of another suspect
/// class is a part of that one (a leaked session's `roles` Array): the owner is the
/// answer, so the part is dropped. Closures are carriers, not owners: a context captured
/// by a leaked listener is still reported as itself. Application classes come before
/// `(closure)`.
fn prefer_owners(mut suspects: Vec<Suspect>, leaked_ids: &HashMap<u64, String>) -> Vec<Suspect> {
    suspects.retain(|s| {
        let path = &s.retainer_path;
        let inner = &path[..path.len().saturating_sub(1)];
        !inner.iter().any(|step| {
            leaked_ids
                .get(&step.id)
                .is_some_and(|owner| owner != &s.name && owner != "(closure)")
        })
    });
    suspects.sort_by_key(|s| {
        (
            s.name == "(closure)",
            std::cmp::Reverse(s.retained_growth_bytes),
        )
    });
    suspects.truncate(MAX_SUSPECTS);
    suspects
}

/// The last snapshot's classes by retained size, leaving out the root's own children
/// (the global objects and the GC-root groups, which retain everything) and V8's
/// groupings; each with the path of its biggest instance.
fn top_consumers(last: &Analysed, parents: &paths::Parents) -> Vec<Consumer> {
    let s = &last.snap;
    let mut excluded = vec![false; last.classes.names.len()];
    excluded[last.classes.of[ROOT] as usize] = true;
    for e in s.edges_of(ROOT) {
        excluded[last.classes.of[s.edge_to(e)] as usize] = true;
    }
    let mut ranked: Vec<usize> = (0..last.classes.names.len())
        .filter(|&c| !excluded[c] && !internal(&last.classes.names[c]))
        .collect();
    ranked.sort_by_key(|&c| std::cmp::Reverse(last.class_retained[c]));
    ranked.truncate(3);
    ranked
        .into_iter()
        .map(|c| {
            let mut count = 0;
            let mut self_bytes = 0;
            let mut biggest = (0u64, ROOT);
            for n in 0..s.node_count() {
                if last.classes.of[n] as usize == c {
                    count += 1;
                    self_bytes += u64::from(s.self_size(n));
                    if last.dom.retained[n] > biggest.0 {
                        biggest = (last.dom.retained[n], n);
                    }
                }
            }
            Consumer {
                name: last.classes.names[c].clone(),
                count,
                self_bytes,
                retained_bytes: last.class_retained[c],
                retainer_path: if biggest.1 == ROOT {
                    Vec::new()
                } else {
                    parents.path(s, &last.types, biggest.1)
                },
            }
        })
        .collect()
}
