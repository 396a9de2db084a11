//! Any bytes as a V8 heap snapshot: the streaming lexer and parser give a snapshot or a
//! `ParseError`, never a panic; and whatever graph they accept goes through the whole
//! per-snapshot analysis (classes, dominators, retained sizes, summary, retainer paths,
//! their clustering and pattern hints) without a panic or an endless loop.
#![no_main]

use leakcollect::heap::v8::{parse, paths, pattern, snapshot};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(snap) = parse::parse(data) else { return };
    let a = snapshot::analyse_graph(snap);
    let _ = snapshot::summarise(&a, true);
    let parents = paths::bfs(&a.snap, &a.types);
    let nodes: Vec<usize> = (0..a.snap.node_count()).collect();
    if let Some((path, _)) = paths::representative(&a.snap, &a.types, &parents, &nodes) {
        let _ = pattern::pattern(&path);
    }
});
