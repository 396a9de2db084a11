//! Leak suspects (growing application classes with leaked objects, each with the
//! representative retainer path of its leaked objects and a pattern hint) and the top
//! consumers of the last snapshot.

use super::graph::ROOT;
use super::series::{Series, Survivors};
use super::snapshot::AnalysedSnapshot;
use super::{paths, pattern};
use crate::heap::graph::classes;
use crate::heap::model::{Consumer, Growing, Suspect};
use std::collections::HashMap;

/// V8's own groupings are never suspects: they grow as a consequence of what the
/// application holds (its strings, arrays, contexts), and the class that holds them is
/// the useful answer. They stay in `growing`.
fn internal(name: &str) -> bool {
    (name.starts_with('(') && name != "(closure)")
        || name.starts_with("system /")
        || name.is_empty()
}

pub fn suspects(
    series: &Series,
    last: &AnalysedSnapshot,
    parents: &paths::Parents,
    growing: &[Growing],
    survivors: &Survivors,
) -> Vec<Suspect> {
    let mut out: Vec<Suspect> = Vec::new();
    // Which suspect class each leaked object (by id) belongs to.
    let mut leaked_ids: HashMap<u64, String> = HashMap::new();
    for g in growing {
        let retained_growth = g.retained_bytes_delta.unwrap_or(0);
        if internal(&g.name) || retained_growth <= 0 || !series.grew_at_every_step(&g.name) {
            continue;
        }
        // The leaked objects: the class's part of the three-snapshot set.
        let leaked: Vec<usize> = match survivors.get(&g.name) {
            Some(v) if !v.is_empty() => v.clone(),
            _ => continue,
        };
        let (retainer_path, path_count) =
            paths::representative(&last.snap, &last.types, parents, &leaked).unwrap_or_default();
        let pattern = pattern::pattern(&retainer_path);
        for &n in &leaked {
            leaked_ids.insert(u64::from(last.snap.node_id(n)), g.name.clone());
        }
        out.push(Suspect {
            name: g.name.clone(),
            count: leaked.len() as u64,
            retained_bytes: g.retained_bytes_last.unwrap_or(0),
            retained_growth_bytes: retained_growth,
            retainer_path,
            path_count,
            pattern,
            stack: None,
            location: None,
        });
    }
    // Closures are carriers, not owners: a context captured by a leaked listener is
    // still reported as itself.
    classes::prefer_owners(out, &leaked_ids, Some("(closure)"))
}

/// The last snapshot's classes by retained size, leaving out the root's own children
/// (the global objects and the GC-root groups, which retain everything) and V8's
/// groupings; each with the path of its biggest instance.
pub fn top_consumers(last: &AnalysedSnapshot, parents: &paths::Parents) -> Vec<Consumer> {
    let s = &last.snap;
    let mut excluded = vec![false; last.classes.names.len()];
    excluded[last.classes.of[ROOT] as usize] = true;
    for e in s.edges_of(ROOT) {
        excluded[last.classes.of[s.edge_to(e)] as usize] = true;
    }
    let mut ranked: Vec<usize> = (0..last.classes.names.len())
        .filter(|&c| !excluded[c] && !internal(&last.classes.names[c]))
        .collect();
    ranked.sort_by_key(|&c| std::cmp::Reverse(last.class_retained[c]));
    ranked.truncate(3);
    ranked
        .into_iter()
        .map(|c| {
            let mut count = 0;
            let mut self_bytes = 0;
            let mut biggest = (0u64, ROOT);
            for n in 0..s.node_count() {
                if last.classes.of[n] as usize == c {
                    count += 1;
                    self_bytes += u64::from(s.self_size(n));
                    if last.retained[n] > biggest.0 {
                        biggest = (last.retained[n], n);
                    }
                }
            }
            Consumer {
                name: last.classes.names[c].clone(),
                count,
                self_bytes,
                retained_bytes: last.class_retained[c],
                retainer_path: if biggest.1 == ROOT {
                    Vec::new()
                } else {
                    parents.path(s, &last.types, biggest.1)
                },
                location: None,
            }
        })
        .collect()
}
