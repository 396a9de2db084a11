//! Shortest retainer paths from a GC root, and clustering of many leaked objects' paths
//! into one representative (as memlab does).
//!
//! Paths come from one breadth-first search from the root over the edges DevTools
//! follows for its "distance": no weak edges, shortcut edges only from the root, and not
//! the two internal edges DevTools hides (`sloppy_function_map` of a native context, the
//! value slots of `(map descriptors)`). As in DevTools, the user's global objects are
//! searched first and the other roots (`(GC roots)`: handles, stack, compilation cache…)
//! only for what the globals do not reach, so paths read from `global`/`Window` when one
//! exists.

use super::graph::{self, ROOT, Types};
use super::parse::Snapshot;
use crate::heap::model::Step;
use std::collections::HashMap;

const NONE: u32 = u32::MAX;

/// BFS parents: for each node the node it was first reached from, and by which edge.
pub struct Parents {
    parent: Vec<u32>,
    edge: Vec<u32>,
}

fn followed(s: &Snapshot, t: &Types, from: usize, edge: usize) -> bool {
    if !t.essential(s, from, edge) {
        return false;
    }
    let ty = Some(s.node_type(from));
    if ty == t.hidden
        && s.node_name(from) == "system / NativeContext"
        && Some(s.edge_type(edge)) != t.e_element
        && Some(s.edge_type(edge)) != t.e_hidden
        && s.strings.get(s.edge_name(edge) as usize) == "sloppy_function_map"
    {
        return false;
    }
    if ty == t.array && s.node_name(from) == "(map descriptors)" {
        let index = s.edge_name(edge);
        return index < 2 || index % 3 != 1;
    }
    true
}

pub fn bfs(s: &Snapshot, t: &Types) -> Parents {
    let n = s.node_count();
    let mut parent = vec![NONE; n];
    let mut via = vec![NONE; n];
    parent[ROOT] = ROOT as u32;
    let mut queue: std::collections::VecDeque<u32> = Default::default();
    // Phase 1 seeds: the root's non-synthetic children (the user's global objects);
    // phase 2: the others.
    for phase in 0..2 {
        for e in s.edges_of(ROOT) {
            let to = s.edge_to(e);
            let synthetic = Some(s.node_type(to)) == t.synthetic;
            if parent[to] == NONE && synthetic == (phase == 1) && followed(s, t, ROOT, e) {
                parent[to] = ROOT as u32;
                via[to] = e as u32;
                queue.push_back(to as u32);
            }
        }
        while let Some(node) = queue.pop_front() {
            let node = node as usize;
            for e in s.edges_of(node) {
                let to = s.edge_to(e);
                if parent[to] == NONE && followed(s, t, node, e) {
                    parent[to] = node as u32;
                    via[to] = e as u32;
                    queue.push_back(to as u32);
                }
            }
        }
    }
    Parents { parent, edge: via }
}

impl Parents {
    /// The path from a root's child to `node` (empty when unreachable).
    pub fn path(&self, s: &Snapshot, t: &Types, node: usize) -> Vec<Step> {
        let mut chain: Vec<usize> = Vec::new();
        let mut at = node;
        if self.parent[at] == NONE {
            return Vec::new();
        }
        while at != ROOT {
            chain.push(at);
            at = self.parent[at] as usize;
            if chain.len() > s.node_count() {
                break; // impossible with BFS parents; never loop forever
            }
        }
        chain.reverse();
        chain
            .iter()
            .enumerate()
            .map(|(i, &to)| {
                // The first step is a root's child: the edge from the synthetic root
                // (an index) says nothing.
                let edge = (i > 0).then(|| self.edge[to] as usize);
                Step {
                    node: graph::node_label(s, t, to),
                    edge: edge.map(|e| graph::edge_label(s, t, e)),
                    edge_type: edge.map(|e| graph::edge_type_name(s, e)),
                    id: u64::from(s.node_id(to)),
                }
            })
            .collect()
    }

    /// A hash of the path's shape: edge kinds and names (element indices dropped) and
    /// node types and names; computed without building the path.
    fn shape(&self, s: &Snapshot, t: &Types, node: usize) -> Option<u64> {
        if self.parent[node] == NONE {
            return None;
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut mix = |v: u32| {
            h ^= u64::from(v);
            h = h.wrapping_mul(0x0100_0000_01b3).rotate_left(17);
        };
        let mut at = node;
        let mut steps = 0;
        // A run of identical steps (a linked list: `_idleNext` → Timeout → `_idleNext`…)
        // counts once, so every member of a chain has the same shape.
        let mut previous: Option<(u32, u32, u32, u32)> = None;
        while at != ROOT && steps <= s.node_count() {
            let e = self.edge[at] as usize;
            let ty = Some(s.edge_type(e));
            let step = (
                s.edge_type(e),
                s.edge_name(e),
                s.node_type(at),
                s.node_name_index(at),
            );
            if previous == Some(step) {
                at = self.parent[at] as usize;
                steps += 1;
                continue;
            }
            previous = Some(step);
            mix(s.edge_type(e));
            // Element indices and numbered internal slots (a Map's table) differ per
            // object; the shape ignores them.
            mix(
                if ty == t.e_element
                    || ty == t.e_hidden
                    || numeric(s.strings.get(s.edge_name(e) as usize))
                {
                    NONE
                } else {
                    s.edge_name(e)
                },
            );
            mix(s.node_type(at));
            mix(s.node_name_index(at));
            at = self.parent[at] as usize;
            steps += 1;
        }
        Some(h)
    }
}

fn numeric(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
}

/// Clusters the paths of `nodes` by shape; returns the representative path of the
/// biggest cluster (its first node's, nodes taken in the order given) and its size.
pub fn representative(
    s: &Snapshot,
    t: &Types,
    parents: &Parents,
    nodes: &[usize],
) -> Option<(Vec<Step>, u64)> {
    let mut clusters: HashMap<u64, (usize, u64)> = HashMap::new();
    for (i, &node) in nodes.iter().enumerate() {
        let Some(key) = parents.shape(s, t, node) else {
            continue;
        };
        clusters.entry(key).or_insert((i, 0)).1 += 1;
    }
    let (&best, count) = clusters
        .values()
        .map(|(i, c)| (i, *c))
        .max_by_key(|(i, c)| (*c, std::cmp::Reverse(**i)))?;
    Some((parents.path(s, t, nodes[best]), count))
}
