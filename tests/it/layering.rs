//! The layering README's Layout states: commands → draft → render → analysis → acquire →
//! prom, with the evidence model and small utilities shared. Fails when a module names a
//! module above it, when the modules' references form a cycle, or when the files of one
//! module import each other in a cycle (`acquire/detect.rs` → `acquire/hints.rs` (now `diagnose.rs`) →
//! `acquire/detect.rs`). References are read from `crate::` and `super::` paths, grouped
//! imports (`use crate::{a, b::{c, d}}`) included, comments left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top to bottom: a module may name those after it, never those before it.
const PIPELINE: &[&str] = &["commands", "draft", "render", "analysis", "acquire", "prom"];

/// Source text without comments (doc links name paths too, but are not imports).
fn code_only(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a use tree (or a plain path) starting at `text` names, each as its
/// segments: `a::b` → [a, b]; `{a, b::{c, d}}` → [a], [b, c], [b, d]; `*` and `self`
/// inside braces name the prefix itself.
fn use_paths(text: &str) -> Vec<Vec<String>> {
    fn ident(chars: &[char], i: &mut usize) -> String {
        let start = *i;
        while *i < chars.len() && (chars[*i].is_ascii_alphanumeric() || chars[*i] == '_') {
            *i += 1;
        }
        chars[start..*i].iter().collect()
    }
    fn skip_space(chars: &[char], i: &mut usize) {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    }
    /// One tree at `i`, under `prefix`, into `out`.
    fn tree(chars: &[char], i: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        skip_space(chars, i);
        if chars.get(*i) == Some(&'{') {
            *i += 1;
            loop {
                skip_space(chars, i);
                match chars.get(*i) {
                    Some('}') => {
                        *i += 1;
                        return;
                    }
                    Some(',') => *i += 1,
                    Some(_) => {
                        let before = *i;
                        tree(chars, i, prefix.clone(), out);
                        if *i == before {
                            *i += 1; // not a path: skip the character
                        }
                    }
                    None => return,
                }
            }
        }
        let name = ident(chars, i);
        if name.is_empty() {
            if chars.get(*i) == Some(&'*') {
                *i += 1;
                out.push(prefix);
            }
            return;
        }
        let mut path = prefix;
        if name != "self" {
            path.push(name);
        }
        if chars.get(*i) == Some(&':') && chars.get(*i + 1) == Some(&':') {
            *i += 2;
            tree(chars, i, path, out);
        } else {
            out.push(path);
        }
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    tree(&chars, &mut 0, Vec::new(), &mut out);
    out
}

/// Every path `text` names after `anchor` (`crate::`, `super::`), grouped imports
/// included.
fn paths_after(text: &str, anchor: &str) -> Vec<Vec<String>> {
    text.match_indices(anchor)
        .filter(|(i, _)| {
            // `crate::` inside `foo_crate::` or `$crate::` is not this crate's root.
            !text[..*i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        })
        .flat_map(|(i, _)| use_paths(&text[i + anchor.len()..]))
        .filter(|path| !path.is_empty())
        .collect()
}

/// Every `.rs` file under src, with its path relative to src and its code.
fn sources() -> Vec<(std::path::PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![root.clone()];
    let mut out = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                let relative = path.strip_prefix(&root).expect("under src").to_path_buf();
                out.push((relative, code_only(&text)));
            }
        }
    }
    out.sort();
    out
}

/// Top-level module → the top-level modules its files name as `crate::…`.
fn references() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (relative, text) in sources() {
        let first = relative.components().next().expect("a component");
        let top = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let named = graph.entry(top.clone()).or_default();
        for path in paths_after(&text, "crate::") {
            if path[0] != top {
                named.insert(path[0].clone());
            }
        }
    }
    graph
}

/// Within each top-level module with a folder: file → the files of the same module it
/// names (`super::file`, `crate::module::file`, or an item `mod.rs` re-exports from
/// one). Nodes are `module/file` without `.rs`; `mod.rs` is no node: a module's root
/// declares and assembles its files, which share what it defines.
fn file_references() -> BTreeMap<String, BTreeSet<String>> {
    let all = sources();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (relative, text) in &all {
        let parts: Vec<String> = relative
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        let [module, file] = parts.as_slice() else {
            continue;
        };
        if file == "mod" {
            continue;
        }
        let files: BTreeSet<String> = all
            .iter()
            .filter(|(r, _)| r.starts_with(module) && r.components().count() == 2)
            .map(|(r, _)| r.file_stem().unwrap().to_string_lossy().to_string())
            .filter(|f| f != "mod")
            .collect();
        let root = all
            .iter()
            .find(|(r, _)| *r == Path::new(module).join("mod.rs"))
            .map(|(_, t)| t.as_str())
            .unwrap_or("");
        // `pub use file::Name` in mod.rs: `super::Name` is that file's.
        let mut reexported: BTreeMap<String, String> = BTreeMap::new();
        for (i, _) in root.match_indices("pub use ") {
            for path in use_paths(&root[i + "pub use ".len()..]) {
                if path.len() >= 2 && files.contains(&path[0]) {
                    reexported.insert(path[path.len() - 1].clone(), path[0].clone());
                }
            }
        }
        let mut named: Vec<Vec<String>> = paths_after(text, "super::");
        named.extend(
            paths_after(text, "crate::")
                .into_iter()
                .filter(|p| p[0] == *module && p.len() > 1)
                .map(|p| p[1..].to_vec()),
        );
        let node = format!("{module}/{file}");
        let edges = graph.entry(node.clone()).or_default();
        for path in named {
            let target = if files.contains(&path[0]) {
                Some(path[0].clone())
            } else {
                reexported.get(&path[0]).cloned()
            };
            if let Some(target) = target.filter(|t| t != file) {
                edges.insert(format!("{module}/{target}"));
            }
        }
    }
    graph
}

/// A cycle in `graph`, as the nodes around it (first repeated last), if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
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
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut colour, &mut Vec::new()))
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
    let cycle = find_cycle(&references());
    assert!(
        cycle.is_none(),
        "import cycle: {}",
        cycle.unwrap().join(" → ")
    );
}

/// File cycles that exist in modules other engineers own, each to be broken by its
/// owner: an edge listed here is left out of the file graph. Empty when there are none.
const KNOWN_FILE_CYCLES: &[(&str, &str)] = &[];

#[test]
fn files_of_a_module_form_no_cycle() {
    let mut graph = file_references();
    assert!(
        graph["acquire/detect"].contains("acquire/plan"),
        "the file graph reads `use super::…`"
    );
    for (from, to) in KNOWN_FILE_CYCLES {
        graph.get_mut(*from).map(|edges| edges.remove(*to));
    }
    let cycle = find_cycle(&graph);
    assert!(
        cycle.is_none(),
        "files of one module import each other: {}",
        cycle.unwrap().join(" → ")
    );
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
    // Grouped imports, nested braces included.
    let paths = paths_after(
        "use crate::{acquire::{self, plan::{a, b}}, prom::*};\nlet x = crate::pack::Role;",
        "crate::",
    );
    let names: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        names,
        [
            "acquire",
            "acquire::plan::a",
            "acquire::plan::b",
            "prom",
            "pack::Role"
        ]
    );
    assert!(paths_after("$crate::x; foo_crate::y", "crate::").is_empty());
    // A cycle of files is found.
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("m/a", &["m/b"][..]), ("m/b", &["m/c"]), ("m/c", &["m/a"])]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect();
    assert_eq!(find_cycle(&graph).unwrap(), ["m/a", "m/b", "m/c", "m/a"]);
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
