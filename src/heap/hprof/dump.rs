//! One dump as an indexed object graph ([`Dump`]): nodes numbered in id (address) order,
//! so that an id is found by a bucketed binary search instead of a hash map, and edges in
//! compressed rows of `u32`s. Built from the parser's flat arrays, which are dropped as
//! their sorted copies are made (peak memory).
//!
//! The synthetic root (node 0) leads to every class (a class lives as long as its
//! loader, and its static fields are where a person starts) and then to every GC root
//! of the dump (threads, JNI references, stack frames, monitors, sticky classes).

use super::parse::{Class, ClassKind, Raw, java_name};
use super::read::ParseError;
use crate::heap::graph::ObjectGraph;
use std::collections::HashMap;

/// Node ids, ascending, node 0 (the root) being 0: as `u32` steps of the ids' common
/// alignment above the lowest id when they all fit (addresses of a heap below 32 GB: half
/// the memory), else as they are.
enum Ids {
    Compact { base: u64, shift: u32, v: Vec<u32> },
    Wide(Vec<u64>),
}

impl Ids {
    fn of(sorted: Vec<u64>) -> Ids {
        let base = sorted.get(1).copied().unwrap_or(0);
        let spread = sorted[1..].iter().fold(0u64, |acc, &id| acc | (id - base));
        let shift = spread.trailing_zeros().min(16);
        let top = sorted.last().map_or(0, |&id| (id - base) >> shift);
        if sorted.len() < 2 || top >= u64::from(u32::MAX) {
            return Ids::Wide(sorted);
        }
        // 0 is the root; every object is one above its step.
        let v = std::iter::once(0)
            .chain(
                sorted[1..]
                    .iter()
                    .map(|&id| ((id - base) >> shift) as u32 + 1),
            )
            .collect();
        Ids::Compact { base, shift, v }
    }

    #[inline]
    fn get(&self, i: usize) -> u64 {
        match self {
            Ids::Compact { base, shift, v } => match v[i] {
                0 => 0,
                k => base + (u64::from(k - 1) << shift),
            },
            Ids::Wide(v) => v[i],
        }
    }

    fn len(&self) -> usize {
        match self {
            Ids::Compact { v, .. } => v.len(),
            Ids::Wide(v) => v.len(),
        }
    }
}

/// Finds a node by its id in the sorted id array: buckets of the id range, each searched
/// by binary search (about 8 ids a bucket: 0.5 bytes of index per object).
struct IdIndex {
    min: u64,
    shift: u32,
    starts: Vec<u32>,
}

impl IdIndex {
    fn build(ids: &[u64]) -> IdIndex {
        let (min, max) = (ids[0], ids[ids.len() - 1]);
        let wanted = (ids.len() / 8).max(1).next_power_of_two() as u64;
        let mut shift = 0;
        while ((max - min) >> shift) >= wanted {
            shift += 1;
        }
        let buckets = (((max - min) >> shift) + 1) as usize;
        let mut starts = vec![0u32; buckets + 1];
        for &id in ids {
            starts[((id - min) >> shift) as usize + 1] += 1;
        }
        for b in 0..buckets {
            starts[b + 1] += starts[b];
        }
        IdIndex { min, shift, starts }
    }

    #[inline]
    fn find(&self, get: impl Fn(usize) -> u64, id: u64) -> Option<u32> {
        let b = (id.checked_sub(self.min)? >> self.shift) as usize;
        let (mut lo, mut hi) = (
            *self.starts.get(b)? as usize,
            *self.starts.get(b + 1)? as usize,
        );
        while lo < hi {
            let mid = (lo + hi) / 2;
            match get(mid).cmp(&id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid as u32),
            }
        }
        None
    }
}

pub struct Dump {
    pub timestamp_ms: u64,
    pub strings: HashMap<u64, Box<str>>,
    pub classes: Vec<Class>,
    /// Per class entry: its Java name's index in `names`.
    pub class_name: Vec<u32>,
    /// Distinct Java class names.
    pub names: Vec<String>,
    /// Node ids, ascending; node 0 is the root (id 0): see [`Dump::id`].
    ids: Ids,
    /// Per node: its class entry (class objects: the `java.lang.Class` entry).
    pub class_of: Vec<u32>,
    pub size: Vec<u32>,
    pub first_edge: Vec<u32>,
    pub edge_to: Vec<u32>,
    /// See `Raw::labels`; empty when the dump was built without labels.
    pub edge_label: Vec<u32>,
    /// Class objects' nodes, by class entry (sorted by node).
    pub class_nodes: Vec<(u32, u32)>,
    /// References to ids the dump does not hold (left out, as Eclipse MAT does).
    pub dangling: u64,
    index: IdIndex,
}

impl ObjectGraph for Dump {
    fn node_count(&self) -> usize {
        self.ids.len()
    }
    fn root(&self) -> usize {
        0
    }
    #[inline]
    fn edges_of(&self, node: usize) -> std::ops::Range<usize> {
        self.first_edge[node] as usize..self.first_edge[node + 1] as usize
    }
    #[inline]
    fn edge_to(&self, edge: usize) -> usize {
        self.edge_to[edge] as usize
    }
    #[inline]
    fn strong(&self, _from: usize, _edge: usize) -> bool {
        // Weak references were left out by the parser.
        true
    }
    #[inline]
    fn self_size(&self, node: usize) -> u64 {
        u64::from(self.size[node])
    }
}

impl Dump {
    pub fn find(&self, id: u64) -> Option<usize> {
        self.index.find(|i| self.ids.get(i), id).map(|n| n as usize)
    }

    /// A node's id (its address in the dump; 0 for the root).
    #[inline]
    pub fn id(&self, node: usize) -> u64 {
        self.ids.get(node)
    }

    /// A node's class name (Java's).
    pub fn name_of(&self, node: usize) -> &str {
        &self.names[self.class_name[self.class_of[node] as usize] as usize]
    }

    pub fn string(&self, id: u64) -> &str {
        self.strings.get(&id).map_or("", |s| s)
    }

    /// The class entry a class object stands for.
    pub fn class_of_mirror(&self, node: usize) -> Option<usize> {
        let k = self
            .class_nodes
            .binary_search_by_key(&(node as u32), |&(n, _)| n)
            .ok()?;
        Some(self.class_nodes[k].1 as usize)
    }

    pub fn kind(&self, node: usize) -> ClassKind {
        self.classes[self.class_of[node] as usize].kind
    }
}

/// The indexed graph of a parsed dump; `labels`: keep the edges' field names and
/// indices (for retainer paths).
pub fn build(raw: Raw, labels: bool) -> Result<Dump, ParseError> {
    let Raw {
        timestamp_ms,
        strings,
        mut classes,
        class_by_id: _,
        ids,
        class_of,
        size,
        edge_count,
        targets,
        labels: raw_labels,
        mut roots,
        heap_records: _,
        id_size: _,
    } = raw;
    let n = ids.len();
    if targets.len() >= u32::MAX as usize || n >= u32::MAX as usize {
        return Err(ParseError::Invalid(
            "more than 4 billion objects or references".into(),
        ));
    }
    let mut perm: Vec<u32> = (0..n as u32).collect();
    if !ids.is_sorted() {
        perm.sort_unstable_by_key(|&i| ids[i as usize]);
    }
    let sorted: Vec<u64> = perm.iter().map(|&i| ids[i as usize]).collect();
    drop(ids);
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(ParseError::Invalid(format!(
            "two objects have the same id 0x{:x}",
            w[0]
        )));
    }
    let index = IdIndex::build(&sorted);
    let find = |id: u64| index.find(|i| sorted[i], id);
    let new_class: Vec<u32> = perm.iter().map(|&i| class_of[i as usize]).collect();
    drop(class_of);
    let new_size: Vec<u32> = perm.iter().map(|&i| size[i as usize]).collect();
    drop(size);
    let mut old_start = Vec::with_capacity(n + 1);
    old_start.push(0u32);
    let mut total = 0u32;
    for &c in &edge_count {
        total += c;
        old_start.push(total);
    }
    drop(edge_count);
    // The root's edges: the classes first, then the dump's GC roots.
    let mut class_nodes: Vec<(u32, u32)> = Vec::new();
    let mut root_edges: Vec<u32> = Vec::new();
    for (c, class) in classes.iter().enumerate() {
        if class.id != 0
            && let Some(node) = find(class.id)
        {
            class_nodes.push((node, c as u32));
            root_edges.push(node);
        }
    }
    class_nodes.sort_unstable();
    roots.sort_unstable();
    roots.dedup();
    root_edges.extend(roots.iter().filter_map(|&id| find(id)));
    drop(roots);
    let capacity = targets.len() + root_edges.len();
    let mut edge_to = Vec::with_capacity(capacity);
    let mut edge_label = Vec::with_capacity(if labels { capacity } else { 0 });
    let mut first_edge = Vec::with_capacity(n + 1);
    first_edge.push(0u32);
    let mut dangling = 0u64;
    for (r, &old) in perm.iter().enumerate() {
        if r == 0 {
            edge_to.extend_from_slice(&root_edges);
            if labels {
                edge_label.extend(std::iter::repeat_n(0, root_edges.len()));
            }
        } else {
            let old = old as usize;
            for e in old_start[old] as usize..old_start[old + 1] as usize {
                match find(targets[e]) {
                    Some(t) => {
                        edge_to.push(t);
                        if labels {
                            edge_label.push(raw_labels[e]);
                        }
                    }
                    None => dangling += 1,
                }
            }
        }
        first_edge.push(edge_to.len() as u32);
    }
    drop((targets, raw_labels, old_start, perm));
    let mut names: Vec<String> = Vec::new();
    let mut by_name: HashMap<String, u32> = HashMap::new();
    let class_name = classes
        .iter_mut()
        .map(|class| {
            let name = java_name(&class.raw_name);
            *by_name.entry(name.clone()).or_insert_with(|| {
                names.push(name);
                names.len() as u32 - 1
            })
        })
        .collect();
    Ok(Dump {
        timestamp_ms,
        strings,
        classes,
        class_name,
        names,
        ids: Ids::of(sorted),
        class_of: new_class,
        size: new_size,
        first_edge,
        edge_to,
        edge_label,
        class_nodes,
        dangling,
        index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_compact_when_they_fit_and_found_either_way() {
        let aligned = vec![0, 0x7_0000_0010, 0x7_0000_0028, 0x7_ffff_fff8];
        let wide = vec![0, 8, 1 << 40];
        for (sorted, compact) in [(aligned, true), (wide, false)] {
            let index = IdIndex::build(&sorted);
            let ids = Ids::of(sorted.clone());
            assert_eq!(matches!(ids, Ids::Compact { .. }), compact);
            for (i, &id) in sorted.iter().enumerate() {
                assert_eq!(ids.get(i), id);
                assert_eq!(index.find(|k| ids.get(k), id), Some(i as u32));
            }
            assert_eq!(index.find(|k| ids.get(k), 0x7_0000_0018), None);
        }
    }
}
