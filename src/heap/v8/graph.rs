//! Names on the V8 graph, as Chrome DevTools shows them: a node's class (the
//! "Constructor" column of the Summary view), an edge's label in a retainer path, and
//! which edges count for reachability.
//!
//! Class grouping (documented in docs/heap.md): `object` and `native` nodes are grouped by
//! their name (the constructor: `LeakyRequestContext`, `Map`, `Object`, `system / Context`);
//! `hidden` nodes are `(system)`; `code` is `(compiled code)`; all string kinds are
//! `(string)`; every other type is its type name in parentheses (`(closure)`, `(array)`,
//! `(number)`, `(regexp)`, `(synthetic)`…). Function names stay visible in retainer paths.

use super::parse::Snapshot;
use std::collections::HashMap;

/// Type and edge-type indices looked up once, by name (the table differs by V8 version).
#[derive(Debug, Clone, Copy)]
pub struct Types {
    pub hidden: Option<u32>,
    pub object: Option<u32>,
    pub native: Option<u32>,
    pub closure: Option<u32>,
    pub synthetic: Option<u32>,
    pub array: Option<u32>,
    pub e_context: Option<u32>,
    pub e_element: Option<u32>,
    pub e_hidden: Option<u32>,
    pub e_weak: Option<u32>,
    pub e_shortcut: Option<u32>,
}

impl Types {
    pub fn of(s: &Snapshot) -> Types {
        Types {
            hidden: s.type_index("hidden"),
            object: s.type_index("object"),
            native: s.type_index("native"),
            closure: s.type_index("closure"),
            synthetic: s.type_index("synthetic"),
            array: s.type_index("array"),
            e_context: s.edge_type_index("context"),
            e_element: s.edge_type_index("element"),
            e_hidden: s.edge_type_index("hidden"),
            e_weak: s.edge_type_index("weak"),
            e_shortcut: s.edge_type_index("shortcut"),
        }
    }

    /// Whether an edge keeps its target alive for the dominator tree and for retainer
    /// paths: weak edges never do; shortcut edges only from the root (where V8 uses them
    /// to mark the user's global objects), as in DevTools.
    #[inline]
    pub fn essential(&self, s: &Snapshot, from: usize, edge: usize) -> bool {
        let t = Some(s.edge_type(edge));
        t != self.e_weak && (t != self.e_shortcut || from == ROOT)
    }
}

/// The snapshot's synthetic root is always node 0.
pub const ROOT: usize = 0;

/// Every node's class, as small integers, and the class names.
pub struct Classes {
    pub of: Vec<u32>,
    pub names: Vec<String>,
}

impl Classes {
    pub fn build(s: &Snapshot, t: &Types) -> Classes {
        let types = s.node_types.len() as u32;
        // Key: a node type for grouped types, or types + name index for named ones.
        let mut by_key: HashMap<u32, u32> = HashMap::new();
        let mut by_name: HashMap<String, u32> = HashMap::new();
        let mut names = Vec::new();
        let mut of = Vec::with_capacity(s.node_count());
        for node in 0..s.node_count() {
            let ty = s.node_type(node);
            let named = Some(ty) == t.object || Some(ty) == t.native;
            let key = if named {
                types + s.node_name_index(node)
            } else {
                ty
            };
            let class = *by_key.entry(key).or_insert_with(|| {
                let name = class_name(s, t, node);
                *by_name.entry(name.clone()).or_insert_with(|| {
                    names.push(name);
                    names.len() as u32 - 1
                })
            });
            of.push(class);
        }
        Classes { of, names }
    }
}

/// The DevTools class name of a node (see the module comment).
pub fn class_name(s: &Snapshot, t: &Types, node: usize) -> String {
    let ty = s.node_type(node);
    if Some(ty) == t.object || Some(ty) == t.native {
        return s.node_name(node).to_string();
    }
    if Some(ty) == t.hidden {
        return "(system)".into();
    }
    match s.node_types[ty as usize].as_str() {
        "code" => "(compiled code)".into(),
        "string" | "concatenated string" | "sliced string" => "(string)".into(),
        other => format!("({other})"),
    }
}

/// How a node reads in a retainer path: the class for objects, the function name for
/// closures (`onRequest()`), a short quoted value for strings, the name otherwise.
pub fn node_label(s: &Snapshot, t: &Types, node: usize) -> String {
    let ty = s.node_type(node);
    let name = s.node_name(node);
    if Some(ty) == t.closure {
        return if name.is_empty() {
            "(anonymous function)".into()
        } else {
            format!("{name}()")
        };
    }
    match s.node_types[ty as usize].as_str() {
        "string" | "concatenated string" | "sliced string" => {
            let short: String = name.chars().take(40).collect();
            format!("{short:?}")
        }
        "object" | "native" | "hidden" | "synthetic" | "array" if !name.is_empty() => {
            name.to_string()
        }
        _ => class_name(s, t, node),
    }
}

/// How an edge reads in a retainer path, as in DevTools: property and context-variable
/// names as they are (`_events`, `cache`), element and hidden edges as `[752]`,
/// internal edges by V8's name for them (`context`, `table`, `elements`).
pub fn edge_label(s: &Snapshot, t: &Types, edge: usize) -> String {
    let ty = Some(s.edge_type(edge));
    let raw = s.edge_name(edge);
    if ty == t.e_element || ty == t.e_hidden {
        return format!("[{raw}]");
    }
    let name = s.strings.get(raw as usize);
    // Numbered internal slots (the entries of a Map's or Set's table) read like elements.
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        format!("[{name}]")
    } else {
        name.to_string()
    }
}

pub fn edge_type_name(s: &Snapshot, edge: usize) -> String {
    s.edge_types[s.edge_type(edge) as usize].clone()
}
