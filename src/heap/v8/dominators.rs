//! The dominator tree of a V8 snapshot: the shared algorithm
//! ([`crate::heap::graph::dominators`]) over the snapshot's essential edges (no weak
//! edges; shortcut edges only from the root), as in DevTools.

use super::graph::{Classes, ROOT, Types};
use super::parse::Snapshot;
use crate::heap::graph::{ObjectGraph, dominators};

pub use dominators::Dominators;

/// A snapshot seen as an object graph: its edges, with V8's rule for which keep alive.
struct V8Graph<'a> {
    s: &'a Snapshot,
    t: &'a Types,
}

impl ObjectGraph for V8Graph<'_> {
    fn node_count(&self) -> usize {
        self.s.node_count()
    }
    fn root(&self) -> usize {
        ROOT
    }
    #[inline]
    fn edges_of(&self, node: usize) -> std::ops::Range<usize> {
        self.s.edges_of(node)
    }
    #[inline]
    fn edge_to(&self, edge: usize) -> usize {
        self.s.edge_to(edge)
    }
    #[inline]
    fn strong(&self, from: usize, edge: usize) -> bool {
        self.t.essential(self.s, from, edge)
    }
    #[inline]
    fn self_size(&self, node: usize) -> u64 {
        u64::from(self.s.self_size(node))
    }
}

pub fn compute(s: &Snapshot, t: &Types) -> Dominators {
    dominators::compute(&V8Graph { s, t })
}

/// Retained bytes per class, counting an object only when no object of the same class
/// dominates it (so a linked list of 1,000 `Item`s counts once, as DevTools' Summary
/// does).
pub fn class_retained(d: &Dominators, classes: &Classes) -> Vec<u64> {
    dominators::class_retained(d, &classes.of, classes.names.len())
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::heap::v8::parse;

    /// root → a, root → b, a → c, b → c, c → d: c and d are retained by the root only;
    /// a, b retain only themselves. Weak edge b ⇢ e leaves e unreachable.
    #[test]
    fn diamond_and_weak_edge() {
        let json = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],
"node_types":[["hidden","object","synthetic"],"string","number","number","number"],
"edge_fields":["type","name_or_index","to_node"],"edge_types":[["property","weak"],"string_or_number","node"]}},
"nodes":[2,0,1,0,2, 1,1,3,10,1, 1,1,5,20,2, 1,1,7,30,1, 1,1,9,40,0, 1,1,11,50,0],
"edges":[0,1,5, 0,1,10, 0,1,15, 0,1,15, 1,1,25, 0,1,20],
"strings":["","X"]}"#;
        let s = parse::parse(json.as_bytes()).unwrap();
        let t = Types::of(&s);
        let d = compute(&s, &t);
        assert_eq!(d.idom[3], 0, "c is dominated by the root");
        assert_eq!(d.idom[4], 3, "d by c");
        assert_eq!(d.retained[3], 70);
        assert_eq!(d.retained[1], 10);
        assert_eq!(d.retained[2], 20);
        assert!(!d.reachable(5), "only a weak edge reaches e");
        assert_eq!(d.retained[0], 100);
    }
}
