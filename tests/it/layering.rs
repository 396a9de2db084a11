//! The layering README's Layout states: commands → draft → render → analysis → acquire →
//! prom, with the evidence model and small utilities shared. Fails when a module names a
//! module above it, or when the modules' references form a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top to bottom: a module may name those after it, never those before it.
const PIPELINE: &[&str] = &["commands", "draft", "render", "analysis", "acquire", "prom"];

/// Top-level module → the top-level modules its files name as `crate::…`.
fn references() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    let root = stack[0].clone();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&root).expect("under src");
            let first = relative.components().next().expect("a component");
            let top = first
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            let text = std::fs::read_to_string(&path).expect("a source file");
            let named = graph.entry(top.clone()).or_default();
            for (i, _) in text.match_indices("crate::") {
                let rest = &text[i + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != top {
                    named.insert(name);
                }
            }
        }
    }
    graph
}

#[test]
fn no_module_names_one_above_it() {
    let graph = references();
    assert!(graph.contains_key("acquire"), "src/acquire was not read");
    let mut wrong = Vec::new();
    for (module, named) in &graph {
        if matches!(module.as_str(), "lib" | "main") {
            continue;
        }
        let rank = PIPELINE.iter().position(|m| m == module);
        for other in named {
            let Some(other_rank) = PIPELINE.iter().position(|m| m == other) else {
                continue;
            };
            // Shared modules (evidence, config, pack…) sit below the whole pipeline
            // except prom; pipeline modules only name those after them.
            let allowed = match rank {
                Some(rank) => other_rank > rank,
                None => other == "prom",
            };
            if !allowed {
                wrong.push(format!("{module} names crate::{other}"));
            }
        }
    }
    assert!(wrong.is_empty(), "data must flow one way: {wrong:?}");
}

#[test]
fn modules_form_no_cycle() {
    let graph = references();
    // Depth-first search with colours: grey on the stack, black done.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        colour: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match colour.get(node) {
            Some(1) => {
                let start = path.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            Some(2) => return None,
            _ => {}
        }
        colour.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, colour, path) {
                return Some(cycle);
            }
        }
        path.pop();
        colour.insert(node.to_string(), 2);
        None
    }
    let mut colour = BTreeMap::new();
    for node in graph.keys() {
        let cycle = visit(node, &graph, &mut colour, &mut Vec::new());
        assert!(
            cycle.is_none(),
            "import cycle: {}",
            cycle.unwrap().join(" → ")
        );
    }
}

/// The output layer reads the models only: the charts draw `evidence::charts`, built in
/// `analysis::charts`, and name nothing the models are computed from. Only
/// render/chart.rs for now: render/markdown.rs still names `analysis` (being removed).
#[test]
fn render_reads_the_models_only() {
    // The output layer formats the models; the data it would need from acquisition or
    // the decisions analysis makes are fields of the models.
    let graph = references();
    let named: Vec<&String> = graph["render"]
        .iter()
        .filter(|m| ["acquire", "prom", "analysis"].contains(&m.as_str()))
        .collect();
    assert!(named.is_empty(), "render/ names crate::{named:?}");
}

#[test]
fn the_checks_see_a_violation() {
    // The scanner must read `crate::` paths, or the tests above prove nothing.
    let graph = references();
    assert!(graph["commands"].contains("acquire"));
    assert!(graph["analysis"].contains("acquire"));
}

/// A block is known in one place: its row in `render::blocks::BLOCKS`. Its marker name
/// written as a string anywhere else in src/ is a second place that can drift. (Names
/// with a hyphen only: `service` or `status` also name labels and JSON fields.)
#[test]
fn each_block_is_named_in_one_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![root.clone()];
    let mut texts = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                texts.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut twice = Vec::new();
    let names: Vec<&str> = leakcollect::render::blocks::BLOCKS
        .iter()
        .map(|b| b.name)
        .filter(|n| n.contains('-'))
        .collect();
    assert!(names.len() > 20, "{names:?}");
    for name in names {
        for (path, text) in &texts {
            if !path.ends_with("render/blocks.rs") && text.contains(&format!("\"{name}\"")) {
                twice.push(format!("{name} in {}", path.display()));
            }
        }
    }
    assert!(
        twice.is_empty(),
        "block names outside the block table: {twice:#?}"
    );
}
