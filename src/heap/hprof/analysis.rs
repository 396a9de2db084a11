//! The analysis of a series of JVM dumps (the registry's entry point): each dump read and
//! analysed in turn and checked against the one before (one JVM, then in order, and not
//! the same dump twice), whether objects kept their ids, then the deltas, the three-dump
//! set where it is sound, suspects and top consumers.
//!
//! HPROF ids are addresses, and a compacting collector (every full GC, every live dump)
//! moves objects: an id-based "allocated between the first two dumps" is then wrong. So
//! a sample of objects is followed from dump to dump (`one::compare_sample`); only when
//! (nearly) all kept their ids and contents is the three-dump set computed. Otherwise it
//! is left out, `id_check` says why, and a suspect's count is its class's instance
//! growth.

use super::one::{self, Analysed, Summary};
use super::{paths, pattern};
use crate::heap::graph::ObjectGraph;
use crate::heap::graph::classes::{self, ClassTable};
use crate::heap::input::Opened;
use crate::heap::model::{
    self, Consumer, Format, Growing, HeapReport, IdCheck, IdPair, Suspect, Technique,
};
use crate::heap::{HeapError, Options};
use std::collections::HashMap;

/// At most this share of the sampled objects found again at the same id may refer to
/// other ids for the ids to count as stable (the objects the program changed in
/// between: a map's table, a list's array). Another object at an old address is never
/// tolerated: it shows the collector moved objects or reused the place (measured: none
/// with Epsilon, which never moves objects; 0.5–4 % of the sample with G1).
const MAX_CHANGED: f64 = 0.02;
/// Above this share of the symbols both dumps hold at other addresses, the dumps come
/// from two JVMs (one JVM: none move; two runs of a program: the names made at run time).
const MAX_MOVED_SYMBOLS: f64 = 0.02;

pub fn analyse(opened: Vec<Opened>, options: &Options) -> Result<HeapReport, HeapError> {
    let n = opened.len();
    let mut infos = Vec::new();
    let mut summaries: Vec<Summary> = Vec::new();
    let mut pairs = Vec::new();
    // Ids of dump 2's objects absent in dump 1 (3+ dumps), or dump 1's ids (2 dumps).
    let mut known: Vec<u64> = Vec::new();
    let mut last = None;
    for (k, file) in opened.iter().enumerate() {
        let a = one::analyse_one(file, options, k + 1 == n)?;
        infos.push(one::info(file, &a));
        let summary = one::summarise(&a, k == 0 || (k == 1 && n >= 3), k + 1 < n);
        if k > 0 {
            let prev = &summaries[k - 1];
            check(&opened, k, prev, &summary)?;
            let (shared, other, changed) = one::compare_sample(&prev.sample, &a);
            pairs.push(IdPair {
                from: k,
                to: k + 1,
                sampled: prev.sample.len() as u64,
                shared,
                other,
                changed,
                stable: shared > 0 && other == 0 && changed as f64 <= shared as f64 * MAX_CHANGED,
            });
        }
        if k == 1 && n >= 3 {
            known = minus(&summary.ids, &summaries[0].ids);
        } else if k == 0 && n == 2 {
            known = summary.ids.clone();
        }
        summaries.push(summary);
        if k >= 1 {
            summaries[k - 1].ids = Vec::new();
            summaries[k].ids = Vec::new();
        }
        if k + 1 == n {
            last = Some(a);
        }
    }
    let last = last.expect("at least one file");
    let id_check = (n > 1).then(|| IdCheck {
        stable: pairs.iter().all(|p| p.stable),
        pairs,
    });
    let comparable = id_check.as_ref().is_some_and(|c| c.stable);
    let technique = match (n, comparable) {
        (1, _) => Technique::SingleSnapshot,
        (_, false) => Technique::InstanceGrowth,
        (2, true) => Technique::NewInSecond,
        _ => Technique::ThreeSnapshot,
    };
    let mut warnings = Vec::new();
    if n == 1 {
        warnings.push("one dump only: it shows what the heap holds (top consumers, retained sizes) but not what grows; take two or three dumps minutes apart under load to find a leak".into());
    }
    if let Some(check) = id_check.as_ref().filter(|c| !c.stable) {
        warnings.push(moved_warning(check));
    }
    // In the three-dump set (or new in dump 2 of 2) when ids are comparable.
    let leaked = comparable.then(|| leaked_bits(&last, &known, n == 2));
    let leaked_id = |node: usize| {
        leaked
            .as_ref()
            .is_some_and(|b| b[node / 64] >> (node % 64) & 1 == 1)
    };
    let tables: Vec<&ClassTable> = summaries.iter().map(|s| &s.classes).collect();
    let leaked_counts = comparable.then(|| count_leaked(&last, &leaked_id));
    let growing = classes::growing(tables[0], tables[n - 1], n, |name| {
        leaked_counts
            .as_ref()
            .map(|c| c.get(name).copied().unwrap_or(0))
    });
    let parents = paths::bfs(&last.dump);
    let suspects = suspects(
        &tables,
        &last,
        &parents,
        &growing,
        comparable.then_some(&leaked_id),
    );
    let top_consumers = top_consumers(&last, &parents);
    Ok(HeapReport {
        schema: model::SCHEMA_ID,
        format: Format::Hprof,
        snapshots: infos,
        sample_types: None,
        ids_comparable: comparable,
        growing,
        top_consumers,
        suspects,
        warnings,
        technique,
        leaked_object: None,
        hints: Vec::new(),
        id_check,
        tool: Format::Hprof.tool(),
        root_cause: None,
    })
}

/// The evidence that objects moved, for the warnings.
fn moved_warning(check: &IdCheck) -> String {
    let moved: Vec<String> = check
        .pairs
        .iter()
        .filter(|p| !p.stable)
        .map(|p| {
            format!(
                "dump {} → {}: of {} sampled objects found again at the same address, {} are other objects and {} refer to other addresses",
                p.from, p.to, p.shared, p.other, p.changed
            )
        })
        .collect();
    format!(
        "objects moved between dumps ({}): HPROF ids are addresses and the collector compacted the heap, so objects cannot be followed by id; the three-dump set is left out (a wrong count is worse than none) and each suspect's count is its class's instance growth",
        moved.join("; ")
    )
}

/// The one-JVM, order and same-dump checks of dump `k` against the one before.
fn check(opened: &[Opened], k: usize, prev: &Summary, cur: &Summary) -> Result<(), HeapError> {
    let (shared, moved) = one::compare_symbols(&prev.symbols, &cur.symbols);
    if shared == 0 || moved as f64 > shared as f64 * MAX_MOVED_SYMBOLS {
        return Err(HeapError::DifferentJvm {
            path: opened[k].path.clone(),
            previous: opened[k - 1].path.clone(),
            shared,
            moved,
        });
    }
    if cur.timestamp_ms < prev.timestamp_ms {
        return Err(HeapError::DumpOutOfOrder {
            path: opened[k].path.clone(),
            at: time(cur.timestamp_ms),
            previous: opened[k - 1].path.clone(),
            previous_at: time(prev.timestamp_ms),
        });
    }
    if cur.timestamp_ms == prev.timestamp_ms && cur.classes == prev.classes {
        return Err(HeapError::Identical {
            path: opened[k].path.clone(),
            previous: opened[k - 1].path.clone(),
        });
    }
    Ok(())
}

fn time(ms: u64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms as i64)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| format!("{ms} ms"))
}

/// Sorted `a` without the ids in sorted `b`.
fn minus(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::new();
    let mut j = 0;
    for &id in a {
        while j < b.len() && b[j] < id {
            j += 1;
        }
        if j == b.len() || b[j] != id {
            out.push(id);
        }
    }
    out
}

/// One bit per node of the last dump: in the three-dump set (`known`: the ids new in
/// dump 2), or with two dumps (`absent`: `known` is dump 1's ids) new in dump 2. Nodes
/// and `known` are both in id order: one merge.
fn leaked_bits(last: &Analysed, known: &[u64], absent: bool) -> Vec<u64> {
    let d = &last.dump;
    let mut bits = vec![0u64; d.node_count().div_ceil(64)];
    let mut j = 0;
    for node in 1..d.node_count() {
        let id = d.id(node);
        while j < known.len() && known[j] < id {
            j += 1;
        }
        let found = j < known.len() && known[j] == id;
        if found != absent && last.reachable(node) {
            bits[node / 64] |= 1 << (node % 64);
        }
    }
    bits
}

/// Per class name: reachable objects of the last dump in the leaked set.
fn count_leaked(last: &Analysed, leaked: &dyn Fn(usize) -> bool) -> HashMap<String, u64> {
    let d = &last.dump;
    let mut counts = vec![0u64; d.names.len()];
    for node in 1..d.node_count() {
        if last.reachable(node) && d.class_of_mirror(node).is_none() && leaked(node) {
            counts[d.class_name[d.class_of[node] as usize] as usize] += 1;
        }
    }
    d.names
        .iter()
        .zip(counts)
        .filter(|(_, c)| *c > 0)
        .map(|(n, c)| (n.clone(), c))
        .collect()
}

/// JDK classes, arrays and `java.lang.Class` grow as a consequence of what the
/// application holds (its maps' nodes, its strings): the class that holds them is the
/// useful answer. They stay in `growing`, and are suspects only when no application
/// class is.
fn jdk(name: &str) -> bool {
    name.ends_with("[]")
        || name.starts_with('(')
        || ["java.", "javax.", "jdk.", "sun.", "com.sun."]
            .iter()
            .any(|p| name.starts_with(p))
}

fn suspects(
    tables: &[&ClassTable],
    last: &Analysed,
    parents: &paths::Parents,
    growing: &[Growing],
    leaked_id: Option<&dyn Fn(usize) -> bool>,
) -> Vec<Suspect> {
    let grew = |g: &&Growing| {
        g.retained_bytes_delta.unwrap_or(0) > 0
            && g.name != "java.lang.Class"
            && classes::grew_at_every_step(tables.iter().copied(), &g.name)
    };
    let mut candidates: Vec<&Growing> = growing
        .iter()
        .filter(grew)
        .filter(|g| !jdk(&g.name))
        .collect();
    if candidates.is_empty() {
        candidates = growing
            .iter()
            .filter(grew)
            .filter(|g| !g.name.ends_with("[]"))
            .collect();
    }
    let d = &last.dump;
    // The leaked objects of each candidate (all its instances when ids moved), by id.
    let wanted: HashMap<&str, usize> = candidates
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name.as_str(), i))
        .collect();
    let by_name: Vec<Option<usize>> = d
        .names
        .iter()
        .map(|n| wanted.get(n.as_str()).copied())
        .collect();
    let mut nodes: Vec<Vec<usize>> = vec![Vec::new(); candidates.len()];
    for node in 1..d.node_count() {
        if let Some(i) = by_name[d.class_name[d.class_of[node] as usize] as usize]
            && last.reachable(node)
            && d.class_of_mirror(node).is_none()
            && leaked_id.is_none_or(|f| f(node))
        {
            nodes[i].push(node);
        }
    }
    let mut out = Vec::new();
    let mut leaked_nodes = Vec::new();
    for (g, leaked) in candidates.iter().zip(nodes) {
        if leaked.is_empty() {
            continue;
        }
        let (retainer_path, path_count) =
            paths::representative(d, parents, &leaked).unwrap_or_default();
        let pattern = pattern::pattern(&retainer_path, &g.name);
        out.push(Suspect {
            name: g.name.clone(),
            count: if leaked_id.is_some() {
                leaked.len() as u64
            } else {
                g.count_delta.max(0) as u64
            },
            retained_bytes: g.retained_bytes_last.unwrap_or(0),
            retained_growth_bytes: g.retained_bytes_delta.unwrap_or(0),
            retainer_path,
            path_count,
            pattern,
            stack: None,
            location: None,
        });
        leaked_nodes.push(leaked);
    }
    // Which suspect each leaked object on some suspect's path belongs to (only those:
    // a leak has millions of objects, the paths a few dozen steps).
    let on_paths: std::collections::HashSet<u64> = out
        .iter()
        .flat_map(|s| s.retainer_path.iter().map(|step| step.id))
        .collect();
    let mut leaked_ids: HashMap<u64, String> = HashMap::new();
    for (s, leaked) in out.iter().zip(&leaked_nodes) {
        for &node in leaked {
            if on_paths.contains(&d.id(node)) {
                leaked_ids.insert(d.id(node), s.name.clone());
            }
        }
    }
    classes::prefer_owners(out, &leaked_ids, None)
}

/// The last dump's classes by retained size (not the root, class objects or arrays),
/// each with the path of its biggest instance.
fn top_consumers(last: &Analysed, parents: &paths::Parents) -> Vec<Consumer> {
    let d = &last.dump;
    let mut by_name: HashMap<&str, u64> = HashMap::new();
    for (entry, &r) in last.class_retained.iter().enumerate() {
        let name = d.names[d.class_name[entry] as usize].as_str();
        if r > 0 && !name.ends_with("[]") && !name.starts_with('(') && name != "java.lang.Class" {
            *by_name.entry(name).or_default() += r;
        }
    }
    let mut ranked: Vec<(&str, u64)> = by_name.into_iter().collect();
    ranked.sort_by(|a, b| (b.1, a.0).cmp(&(a.1, b.0)));
    ranked.truncate(3);
    ranked
        .into_iter()
        .map(|(name, retained)| {
            let stat = last.classes.get(name).copied().unwrap_or_default();
            let biggest = (1..d.node_count())
                .filter(|&n| d.class_of_mirror(n).is_none() && d.name_of(n) == name)
                .max_by_key(|&n| last.retained[n]);
            Consumer {
                name: name.to_string(),
                count: stat.count,
                self_bytes: stat.self_bytes,
                retained_bytes: retained,
                retainer_path: biggest.map(|n| parents.path(d, n)).unwrap_or_default(),
                location: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_difference_and_symbol_comparison() {
        assert_eq!(minus(&[8, 16, 24, 40], &[16, 40, 48]), [8, 24]);
        assert_eq!(minus(&[8], &[]), [8]);
        let older = [(1, 100), (2, 200), (3, 300)];
        let newer = [(2, 200), (3, 301), (4, 400)];
        assert_eq!(one::compare_symbols(&older, &newer), (2, 1));
    }
}
