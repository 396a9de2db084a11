//! What the snapshot formats with an object graph (V8 heap snapshots, JVM HPROF dumps)
//! share: the graph's shape as the analysis sees it ([`ObjectGraph`]), the dominator tree
//! and retained sizes (`dominators`), and per-class figures compared first→last
//! (`classes`: deltas, "grew at every step", owners before their parts among suspects).
//! Each format keeps its own parsing, names, retainer paths and pattern hints.

pub mod classes;
pub mod dominators;

/// A heap graph in compressed form: nodes `0..node_count()`, each with a contiguous range
/// of outgoing edges.
pub trait ObjectGraph {
    fn node_count(&self) -> usize;
    /// The synthetic root, whose edges lead to the GC roots.
    fn root(&self) -> usize;
    fn edges_of(&self, node: usize) -> std::ops::Range<usize>;
    fn edge_to(&self, edge: usize) -> usize;
    /// Whether the edge keeps its target alive (for reachability and the dominator tree).
    fn strong(&self, from: usize, edge: usize) -> bool;
    /// The node's own (shallow) size in bytes.
    fn self_size(&self, node: usize) -> u64;
}
