//! The dominator tree of a snapshot's graph and every object's retained size: what would
//! be freed if the object went away. Reachability is from the root over essential edges
//! only (no weak edges; shortcut edges only from the root), as in DevTools.
//!
//! Algorithm: semi-NCA (Lengauer–Tarjan's semidominators with path compression, then
//! immediate dominators as the nearest common ancestor on the DFS tree). It is
//! near-linear whatever the graph's shape, where Cooper–Harvey–Kennedy's iteration can
//! take many passes on the long chains a leak builds (linked lists, listener arrays).
//! Everything is iterative: a 150,000-deep chain must not overflow the stack.

use super::graph::{Classes, ROOT, Types};
use super::parse::Snapshot;

const NONE: u32 = u32::MAX;

pub struct Dominators {
    /// Immediate dominator per node (node index), `NONE` for unreachable nodes; the root's
    /// is itself.
    pub idom: Vec<u32>,
    /// Retained size per node (0 for unreachable nodes).
    pub retained: Vec<u64>,
    /// Reachable nodes in DFS preorder (a dominator precedes everything it dominates).
    pub order: Vec<u32>,
}

impl Dominators {
    pub fn reachable(&self, node: usize) -> bool {
        self.idom[node] != NONE
    }
}

/// Predecessors over essential edges, as a compressed adjacency list in preorder
/// numbers (unreachable predecessors left out), so the main loop needs no node→number
/// map.
fn predecessors(s: &Snapshot, t: &Types, pre: &[u32], m: usize) -> (Vec<u32>, Vec<u32>) {
    let n = s.node_count();
    let mut start = vec![0u32; m + 1];
    for from in 0..n {
        if pre[from] == NONE {
            continue;
        }
        for e in s.edges_of(from) {
            if t.essential(s, from, e) {
                start[pre[s.edge_to(e)] as usize + 1] += 1;
            }
        }
    }
    for i in 0..m {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut preds = vec![0u32; start[m] as usize];
    for from in 0..n {
        if pre[from] == NONE {
            continue;
        }
        for e in s.edges_of(from) {
            if t.essential(s, from, e) {
                let to = pre[s.edge_to(e)] as usize;
                preds[fill[to] as usize] = pre[from];
                fill[to] += 1;
            }
        }
    }
    (start, preds)
}

/// Depth-first preorder from the root: (preorder number per node, node per number,
/// DFS-tree parent per number).
fn dfs(s: &Snapshot, t: &Types) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let n = s.node_count();
    let mut pre = vec![NONE; n];
    let mut vertex = Vec::with_capacity(n);
    let mut parent = Vec::with_capacity(n);
    let mut stack: Vec<(u32, u32)> = vec![(ROOT as u32, s.edges_of(ROOT).start as u32)];
    pre[ROOT] = 0;
    vertex.push(ROOT as u32);
    parent.push(0);
    while let Some(top) = stack.last_mut() {
        let node = top.0 as usize;
        let end = s.edges_of(node).end as u32;
        let mut pushed = None;
        while top.1 < end {
            let e = top.1 as usize;
            top.1 += 1;
            if !t.essential(s, node, e) {
                continue;
            }
            let to = s.edge_to(e);
            if pre[to] == NONE {
                pre[to] = vertex.len() as u32;
                vertex.push(to as u32);
                parent.push(pre[node]);
                pushed = Some(to);
                break;
            }
        }
        match pushed {
            Some(to) => stack.push((to as u32, s.edges_of(to).start as u32)),
            None => {
                stack.pop();
            }
        }
    }
    (pre, vertex, parent)
}

pub fn compute(s: &Snapshot, t: &Types) -> Dominators {
    let n = s.node_count();
    let (pre, vertex, parent) = dfs(s, t);
    let m = vertex.len();
    let (pstart, preds) = predecessors(s, t, &pre, m);
    drop(pre);
    // All arrays below are indexed by preorder number.
    let mut semi: Vec<u32> = (0..m as u32).collect();
    let mut label: Vec<u32> = (0..m as u32).collect();
    let mut ancestor = vec![NONE; m];
    let mut path = Vec::new();
    for w in (1..m).rev() {
        let mut best = semi[w];
        for &pv in &preds[pstart[w] as usize..pstart[w + 1] as usize] {
            let u = eval(pv, &mut ancestor, &mut label, &semi, &mut path);
            best = best.min(semi[u as usize]);
        }
        semi[w] = best;
        ancestor[w] = parent[w];
    }
    // Free the temporaries before the per-node results are allocated (peak memory).
    drop((ancestor, label, preds, pstart));
    // The DFS parents become the immediate dominators, in place.
    let mut idom_pre = parent;
    for w in 1..m {
        let mut d = idom_pre[w];
        while d > semi[w] {
            d = idom_pre[d as usize];
        }
        idom_pre[w] = d;
    }
    let mut idom = vec![NONE; n];
    let mut retained = vec![0u64; n];
    for w in 0..m {
        let node = vertex[w] as usize;
        idom[node] = vertex[idom_pre[w] as usize];
        retained[node] = u64::from(s.self_size(node));
    }
    // Children come after their dominator in preorder: add bottom-up.
    for w in (1..m).rev() {
        let node = vertex[w] as usize;
        let d = idom[node] as usize;
        retained[d] += retained[node];
    }
    Dominators {
        idom,
        retained,
        order: vertex,
    }
}

/// Lengauer–Tarjan's EVAL with path compression (iterative): the vertex with the
/// smallest semidominator on the forest path above `v`.
fn eval(v: u32, ancestor: &mut [u32], label: &mut [u32], semi: &[u32], path: &mut Vec<u32>) -> u32 {
    if ancestor[v as usize] == NONE {
        return v;
    }
    path.clear();
    let mut u = v;
    while ancestor[ancestor[u as usize] as usize] != NONE {
        path.push(u);
        u = ancestor[u as usize];
    }
    while let Some(x) = path.pop() {
        let (x, a) = (x as usize, ancestor[x as usize] as usize);
        if semi[label[a] as usize] < semi[label[x] as usize] {
            label[x] = label[a];
        }
        ancestor[x] = ancestor[a];
    }
    label[v as usize]
}

/// Retained bytes per class, counting an object only when no object of the same class
/// dominates it (so a linked list of 1,000 `Item`s counts once, as DevTools' Summary
/// does).
pub fn class_retained(s: &Snapshot, d: &Dominators, classes: &Classes) -> Vec<u64> {
    let n = s.node_count();
    // Dominator-tree children, compressed.
    let mut start = vec![0u32; n + 1];
    for &node in &d.order[1..] {
        start[d.idom[node as usize] as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut children = vec![0u32; start[n] as usize];
    for &node in &d.order[1..] {
        let p = d.idom[node as usize] as usize;
        children[fill[p] as usize] = node;
        fill[p] += 1;
    }
    drop(fill);
    let mut totals = vec![0u64; classes.names.len()];
    let mut active = vec![0u32; classes.names.len()];
    // (node, next child offset); a node's class is active while its subtree is walked.
    let mut stack: Vec<(u32, u32)> = vec![(ROOT as u32, start[ROOT])];
    let c = classes.of[ROOT] as usize;
    totals[c] += d.retained[ROOT];
    active[c] += 1;
    while let Some(top) = stack.last_mut() {
        let node = top.0 as usize;
        if top.1 < start[node + 1] {
            let child = children[top.1 as usize] as usize;
            top.1 += 1;
            let c = classes.of[child] as usize;
            if active[c] == 0 {
                totals[c] += d.retained[child];
            }
            active[c] += 1;
            stack.push((child as u32, start[child]));
        } else {
            active[classes.of[node] as usize] -= 1;
            stack.pop();
        }
    }
    totals
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
