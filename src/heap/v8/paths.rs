//! Retainer paths from a GC root (the ones a person would follow), and clustering of
//! many leaked objects' paths into one representative (as memlab does).
//!
//! Paths come from one search from the root over the edges DevTools follows for its
//! "distance": no weak edges, shortcut edges only from the root, and not the two internal
//! edges DevTools hides (`sloppy_function_map` of a native context, the value slots of
//! `(map descriptors)`). As in DevTools, the user's global objects are searched first and
//! the other roots (`(GC roots)`: handles, stack, compilation cache…) only for what the
//! globals do not reach, so paths read from `global`/`Window` when one exists.
//!
//! Among those, the path shown is the one a person would follow: the fewest "costly"
//! edges first (V8's internal and hidden edges, such as an object's `map`, a closure's
//! `context`, a Map's `table`, and the `__proto__` and `constructor` properties), then
//! the fewest edges. Otherwise a module's variables are shown through some leaked
//! object's `__proto__` → `constructor` (the class, whose scope is the module's), as if
//! the prototype held them. The search is breadth-first per number of costly edges:
//! each level's costly edges seed the next level, in order of length.

use super::graph::{self, ROOT, Types};
use super::parse::Snapshot;
use crate::heap::model::{CodeLocation, Step};
use std::collections::HashMap;

const NONE: u32 = u32::MAX;

/// Search parents: for each node the node its preferred path comes from, and by which
/// edge.
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

/// The edges a person would not follow (see the module comment), looked up once.
struct Costly {
    internal: Option<u32>,
    hidden: Option<u32>,
    property: Option<u32>,
    /// String-table indices of `__proto__` and `constructor`.
    names: Vec<u32>,
}

impl Costly {
    fn of(s: &Snapshot) -> Costly {
        let names = (0..s.strings.len())
            .filter(|&i| matches!(s.strings.get(i), "__proto__" | "constructor"))
            .map(|i| i as u32)
            .collect();
        Costly {
            internal: s.edge_type_index("internal"),
            hidden: s.edge_type_index("hidden"),
            property: s.edge_type_index("property"),
            names,
        }
    }

    #[inline]
    fn is(&self, s: &Snapshot, edge: usize) -> bool {
        let ty = Some(s.edge_type(edge));
        ty == self.internal
            || ty == self.hidden
            || (ty == self.property && self.names.contains(&s.edge_name(edge)))
    }
}

/// The search's state: parents as they are found, and each reached node's length.
struct Search<'a> {
    s: &'a Snapshot,
    t: &'a Types,
    costly: Costly,
    parent: Vec<u32>,
    via: Vec<u32>,
    len: Vec<u32>,
    /// Already a seed of the next level (its first seed is its shortest).
    pending: Vec<bool>,
}

impl Search<'_> {
    fn reach(&mut self, to: usize, from: usize, edge: usize) {
        self.parent[to] = from as u32;
        self.via[to] = edge as u32;
        self.len[to] = self.len[from] + 1;
    }

    /// One level: breadth-first over cheap edges from `seeds` ((from, edge), by
    /// length), merging the seeds in by length; returns the next level's seeds.
    fn level(&mut self, seeds: &[(u32, u32)]) -> Vec<(u32, u32)> {
        let mut next = Vec::new();
        let mut queue: std::collections::VecDeque<u32> = Default::default();
        let mut k = 0;
        loop {
            let seed_len = seeds.get(k).map(|&(from, _)| self.len[from as usize] + 1);
            let queued_len = queue.front().map(|&n| self.len[n as usize]);
            let take_seed = match (seed_len, queued_len) {
                (Some(a), Some(b)) => a <= b,
                (a, b) => a.is_some() && b.is_none(),
            };
            if take_seed {
                let (from, edge) = (seeds[k].0 as usize, seeds[k].1 as usize);
                k += 1;
                let to = self.s.edge_to(edge);
                if self.parent[to] == NONE {
                    self.reach(to, from, edge);
                    queue.push_back(to as u32);
                }
            } else if let Some(node) = queue.pop_front() {
                self.expand(node as usize, &mut queue, &mut next);
            } else {
                return next;
            }
        }
    }

    fn expand(
        &mut self,
        node: usize,
        queue: &mut std::collections::VecDeque<u32>,
        next: &mut Vec<(u32, u32)>,
    ) {
        for e in self.s.edges_of(node) {
            let to = self.s.edge_to(e);
            if self.parent[to] != NONE || !followed(self.s, self.t, node, e) {
                continue;
            }
            if !self.costly.is(self.s, e) {
                self.reach(to, node, e);
                queue.push_back(to as u32);
            } else if !self.pending[to] {
                self.pending[to] = true;
                next.push((node as u32, e as u32));
            }
        }
    }
}

pub fn bfs(s: &Snapshot, t: &Types) -> Parents {
    let n = s.node_count();
    let mut search = Search {
        s,
        t,
        costly: Costly::of(s),
        parent: vec![NONE; n],
        via: vec![NONE; n],
        len: vec![0; n],
        pending: vec![false; n],
    };
    search.parent[ROOT] = ROOT as u32;
    // First the root's non-synthetic children (the user's global objects), then the
    // others, each to the end.
    for synthetic in [false, true] {
        let mut seeds: Vec<(u32, u32)> = s
            .edges_of(ROOT)
            .filter(|&e| {
                let child_synthetic = Some(s.node_type(s.edge_to(e))) == t.synthetic;
                child_synthetic == synthetic && followed(s, t, ROOT, e)
            })
            .map(|e| (ROOT as u32, e as u32))
            .collect();
        while !seeds.is_empty() {
            seeds = search.level(&seeds);
        }
    }
    Parents {
        parent: search.parent,
        edge: search.via,
    }
}

/// Where a closure is in the code: its position from the snapshot's `locations` (0-based
/// line, made 1-based) and its script's name, reached through the closure's `shared`
/// function info (`script_or_debug_info`, `script` in older V8s). None for other nodes,
/// for snapshots without locations and for scripts without a name.
pub fn closure_location(s: &Snapshot, node: usize) -> Option<CodeLocation> {
    let at = s
        .locations
        .binary_search_by_key(&(node as u32), |l| l.0)
        .ok()?;
    let line = s.locations[at].1;
    let named = |from: usize, names: &[&str]| {
        s.edges_of(from)
            .find(|&e| {
                let name = s.edge_name(e) as usize;
                name < s.strings.len() && names.contains(&s.strings.get(name))
            })
            .map(|e| s.edge_to(e))
    };
    let shared = named(node, &["shared"])?;
    let script = named(shared, &["script_or_debug_info", "script"])?;
    let file = s.node_name(script);
    (!file.is_empty() && !file.starts_with("system /")).then(|| CodeLocation {
        file: file.to_string(),
        line: line.saturating_add(1),
        function: s.node_name(node).to_string(),
    })
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
                    location: closure_location(s, to),
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
