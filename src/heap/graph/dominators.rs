//! The dominator tree of an object graph and every object's retained size: what would
//! be freed if the object went away. Reachability is from the root over the edges the
//! format calls strong ([`ObjectGraph::strong`]: V8's essential edges, HPROF's
//! references other than a weak `referent`).
//!
//! Algorithm: semi-NCA (Lengauer–Tarjan's semidominators with path compression, then
//! immediate dominators as the nearest common ancestor on the DFS tree). It is
//! near-linear whatever the graph's shape, where Cooper–Harvey–Kennedy's iteration can
//! take many passes on the long chains a leak builds (linked lists, listener arrays).
//! Everything is iterative: a 150,000-deep chain must not overflow the stack.

use super::ObjectGraph;

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
fn predecessors<G: ObjectGraph>(s: &G, pre: &[u32], m: usize) -> (Vec<u32>, Vec<u32>) {
    let n = s.node_count();
    let mut start = vec![0u32; m + 1];
    for from in 0..n {
        if pre[from] == NONE {
            continue;
        }
        for e in s.edges_of(from) {
            if s.strong(from, e) {
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
            if s.strong(from, e) {
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
fn dfs<G: ObjectGraph>(s: &G) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let n = s.node_count();
    let root = s.root();
    let mut pre = vec![NONE; n];
    let mut vertex = Vec::with_capacity(n);
    let mut parent = Vec::with_capacity(n);
    let mut stack: Vec<(u32, u32)> = vec![(root as u32, s.edges_of(root).start as u32)];
    pre[root] = 0;
    vertex.push(root as u32);
    parent.push(0);
    while let Some(top) = stack.last_mut() {
        let node = top.0 as usize;
        let end = s.edges_of(node).end as u32;
        let mut pushed = None;
        while top.1 < end {
            let e = top.1 as usize;
            top.1 += 1;
            if !s.strong(node, e) {
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

pub fn compute<G: ObjectGraph>(s: &G) -> Dominators {
    let n = s.node_count();
    let (pre, vertex, parent) = dfs(s);
    let m = vertex.len();
    let (pstart, preds) = predecessors(s, &pre, m);
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
        retained[node] = s.self_size(node);
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
/// `class_of` is each node's class, `classes` how many there are.
pub fn class_retained(d: &Dominators, class_of: &[u32], classes: usize) -> Vec<u64> {
    let n = class_of.len();
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
    let mut totals = vec![0u64; classes];
    let mut active = vec![0u32; classes];
    // (node, next child offset); a node's class is active while its subtree is walked.
    let root = d.order[0] as usize;
    let mut stack: Vec<(u32, u32)> = vec![(root as u32, start[root])];
    let c = class_of[root] as usize;
    totals[c] += d.retained[root];
    active[c] += 1;
    while let Some(top) = stack.last_mut() {
        let node = top.0 as usize;
        if top.1 < start[node + 1] {
            let child = children[top.1 as usize] as usize;
            top.1 += 1;
            let c = class_of[child] as usize;
            if active[c] == 0 {
                totals[c] += d.retained[child];
            }
            active[c] += 1;
            stack.push((child as u32, start[child]));
        } else {
            active[class_of[node] as usize] -= 1;
            stack.pop();
        }
    }
    totals
}
