//! Retainer paths in a JVM dump, in Java's words: the shortest path from a GC root, found
//! by one breadth-first search from the synthetic root, whose edges lead to the classes
//! first (so that, of equally short paths, the one from a static field wins) and then to
//! the other GC roots. Steps read `class com.shop.Orders → static PENDING:
//! java.util.HashMap → table: java.util.HashMap$Node[] → [5]: java.util.HashMap$Node`.
//! Many leaked objects' paths are clustered by shape (edge kinds, field names and classes,
//! element indices left out) into one representative, as for V8.

use super::dump::Dump;
use super::parse::ClassKind;
use crate::heap::graph::ObjectGraph;
use crate::heap::model::Step;
use std::collections::HashMap;

const NONE: u32 = u32::MAX;

/// Search parents: for each node the node its path comes from, and by which edge.
pub struct Parents {
    parent: Vec<u32>,
    edge: Vec<u32>,
}

pub fn bfs(d: &Dump) -> Parents {
    let n = d.node_count();
    let mut parent = vec![NONE; n];
    let mut edge = vec![NONE; n];
    let mut queue = std::collections::VecDeque::new();
    parent[0] = 0;
    queue.push_back(0u32);
    while let Some(node) = queue.pop_front() {
        for e in d.edges_of(node as usize) {
            let to = d.edge_to(e);
            if parent[to] == NONE {
                parent[to] = node;
                edge[to] = e as u32;
                queue.push_back(to as u32);
            }
        }
    }
    Parents { parent, edge }
}

/// How a node reads in a path: `class X` for a class object, else its class's name.
pub fn node_label(d: &Dump, node: usize) -> String {
    match d.class_of_mirror(node) {
        Some(c) => format!("class {}", d.names[d.class_name[c] as usize]),
        None => d.name_of(node).to_string(),
    }
}

/// What kind of reference an edge is: `static`, `loader`, `field`, `element` or `root`.
fn edge_kind(d: &Dump, from: usize, edge: usize) -> &'static str {
    if from == 0 {
        return "root";
    }
    match d.kind(from) {
        ClassKind::ObjectArray => "element",
        ClassKind::Mirror => match d.class_of_mirror(from) {
            Some(c) if (d.edge_label[edge] as usize) < d.classes[c].static_refs.len() => "static",
            _ => "loader",
        },
        _ => "field",
    }
}

/// How an edge reads: `static NAME`, `<loader>`, a field's name, `[index]`.
pub fn edge_label(d: &Dump, from: usize, edge: usize) -> String {
    let label = d.edge_label.get(edge).copied().unwrap_or(0) as usize;
    match edge_kind(d, from, edge) {
        "element" => format!("[{label}]"),
        "static" => {
            let c = d.class_of_mirror(from).expect("a class");
            format!("static {}", d.string(d.classes[c].static_refs[label]))
        }
        "loader" => "<loader>".into(),
        "field" => {
            let class = &d.classes[d.class_of[from] as usize];
            let name = class
                .layout
                .as_ref()
                .and_then(|l| l.refs.get(label))
                .map_or("?", |&(_, name)| d.string(name));
            name.to_string()
        }
        _ => String::new(),
    }
}

/// The name id (or index class) of an edge, for a path's shape.
fn shape_label(d: &Dump, from: usize, edge: usize) -> u64 {
    match edge_kind(d, from, edge) {
        "element" => u64::MAX,
        "field" => d.classes[d.class_of[from] as usize]
            .layout
            .as_ref()
            .and_then(|l| l.refs.get(d.edge_label[edge] as usize))
            .map_or(0, |r| r.1),
        _ => u64::from(d.edge_label.get(edge).copied().unwrap_or(0)),
    }
}

impl Parents {
    /// The path from a GC root to `node` (empty when unreachable).
    pub fn path(&self, d: &Dump, node: usize) -> Vec<Step> {
        if self.parent[node] == NONE || node == 0 {
            return Vec::new();
        }
        let mut chain = Vec::new();
        let mut at = node;
        while at != 0 && chain.len() <= d.node_count() {
            chain.push(at);
            at = self.parent[at] as usize;
        }
        chain.reverse();
        chain
            .iter()
            .enumerate()
            .map(|(i, &to)| {
                let from = self.parent[to] as usize;
                let e = self.edge[to] as usize;
                Step {
                    node: node_label(d, to),
                    edge: (i > 0).then(|| edge_label(d, from, e)),
                    edge_type: (i > 0).then(|| edge_kind(d, from, e).to_string()),
                    id: d.id(to),
                    location: None,
                }
            })
            .collect()
    }

    /// A hash of the path's shape, computed without building the path; a run of
    /// identical steps (a linked list of `HashMap$Node`s by `next`) counts once.
    fn shape(&self, d: &Dump, node: usize) -> Option<u64> {
        if self.parent[node] == NONE {
            return None;
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut mix = |v: u64| {
            h ^= v;
            h = h.wrapping_mul(0x0100_0000_01b3).rotate_left(17);
        };
        let mut at = node;
        let mut steps = 0;
        let mut previous = None;
        while at != 0 && steps <= d.node_count() {
            let from = self.parent[at] as usize;
            let e = self.edge[at] as usize;
            let step = (shape_label(d, from, e), d.class_of[at]);
            if previous != Some(step) {
                previous = Some(step);
                mix(step.0);
                mix(u64::from(step.1));
            }
            at = from;
            steps += 1;
        }
        Some(h)
    }
}

/// Clusters the paths of `nodes` by shape; returns the representative path of the
/// biggest cluster (its first node's, nodes taken in the order given) and its size.
pub fn representative(d: &Dump, parents: &Parents, nodes: &[usize]) -> Option<(Vec<Step>, u64)> {
    let mut clusters: HashMap<u64, (usize, u64)> = HashMap::new();
    for (i, &node) in nodes.iter().enumerate() {
        let Some(key) = parents.shape(d, node) else {
            continue;
        };
        clusters.entry(key).or_insert((i, 0)).1 += 1;
    }
    let (&best, count) = clusters
        .values()
        .map(|(i, c)| (i, *c))
        .max_by_key(|(i, c)| (*c, std::cmp::Reverse(**i)))?;
    Some((parents.path(d, nodes[best]), count))
}
