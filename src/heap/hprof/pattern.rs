//! The JVM leak-pattern hint read off a retainer path (and the leaked class's name): a
//! ThreadLocal on pooled threads, objects held by finalizers or cleaners, a class loader
//! never released, listeners never removed, an unbounded cache, a static collection that
//! grows. Tried in [`DETECTORS`] order, most specific first; each says what it is based
//! on.

use crate::heap::model::{Pattern, PatternKind, Step};

/// One shape: the hint when the path (to an object of class `leaked`) shows it.
type Detector = fn(&[Step], &str) -> Option<Pattern>;

const DETECTORS: [Detector; 6] = [
    thread_local,
    finalizer,
    class_loader,
    listeners,
    cache,
    static_collection,
];

pub fn pattern(steps: &[Step], leaked: &str) -> Pattern {
    DETECTORS
        .iter()
        .find_map(|detect| detect(steps, leaked))
        .unwrap_or_else(|| Pattern {
            kind: PatternKind::Unknown,
            based_on: "the retainer path shows none of the known shapes".into(),
        })
}

fn hint(kind: PatternKind, based_on: String) -> Option<Pattern> {
    Some(Pattern { kind, based_on })
}

fn edge(step: &Step) -> &str {
    step.edge.as_deref().unwrap_or("")
}

fn thread_local(steps: &[Step], _: &str) -> Option<Pattern> {
    let i = steps
        .iter()
        .position(|s| edge(s) == "threadLocals" || edge(s) == "inheritableThreadLocals")?;
    let owner = if i == 0 {
        "a thread"
    } else {
        &steps[i - 1].node
    };
    hint(
        PatternKind::ThreadLocal,
        format!(
            "the retainer path goes through `{}` of a {owner}: a ThreadLocal's value stays with the thread, and a pooled thread never ends",
            edge(&steps[i])
        ),
    )
}

fn finalizer(steps: &[Step], _: &str) -> Option<Pattern> {
    let step = steps.iter().find(|s| {
        s.node == "java.lang.ref.Finalizer"
            || s.node.starts_with("jdk.internal.ref.Cleaner")
            || s.node.starts_with("java.lang.ref.Cleaner")
            || s.node.starts_with("jdk.internal.ref.PhantomCleanable")
    })?;
    hint(
        PatternKind::Finalizer,
        format!(
            "the retainer path goes through a {}: the objects wait for finalization or cleaning, which only happens to objects nobody closed",
            step.node
        ),
    )
}

fn class_loader(steps: &[Step], leaked: &str) -> Option<Pattern> {
    if leaked.ends_with("ClassLoader") {
        return hint(
            PatternKind::ClassLoader,
            format!("the leaked objects are class loaders ({leaked}), each holding its classes"),
        );
    }
    let step = steps.iter().find(|s| edge(s) == "<loader>")?;
    hint(
        PatternKind::ClassLoader,
        format!(
            "the retainer path goes through a class's loader ({}): the loader and all its classes stay loaded",
            step.node
        ),
    )
}

fn listeners(steps: &[Step], leaked: &str) -> Option<Pattern> {
    let named = |s: &str| {
        let l = s.to_ascii_lowercase();
        l.contains("listener") || l.contains("callback") || l.contains("observer")
    };
    if let Some(step) = steps.iter().find(|s| named(edge(s))) {
        return hint(
            PatternKind::Listeners,
            format!(
                "the retainer path goes through `{}` ({}): listeners added and never removed",
                edge(step),
                step.node
            ),
        );
    }
    named(leaked).then(|| Pattern {
        kind: PatternKind::Listeners,
        based_on: format!("the leaked objects are listeners ({leaked}) that stay registered"),
    })
}

fn cache(steps: &[Step], _: &str) -> Option<Pattern> {
    let step = steps
        .iter()
        .find(|s| edge(s).to_ascii_lowercase().contains("cache"))?;
    hint(
        PatternKind::UnboundedCache,
        format!(
            "the retainer path goes through `{}` ({}): a cache that only grows has no bound or eviction",
            edge(step),
            step.node
        ),
    )
}

/// A `java.util` collection held by a static field.
fn static_collection(steps: &[Step], _: &str) -> Option<Pattern> {
    let i = steps
        .iter()
        .position(|s| edge(s).starts_with("static ") && s.node.starts_with("java.util."))?;
    let class = if i == 0 {
        "a class"
    } else {
        &steps[i - 1].node
    };
    hint(
        PatternKind::StaticCollection,
        format!(
            "the retainer path starts at `{}` of {class}, a {}: a static collection lives as long as its class",
            edge(&steps[i]),
            steps[i].node
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(steps: &[(&str, &str)]) -> Vec<Step> {
        steps
            .iter()
            .enumerate()
            .map(|(i, (edge, node))| Step {
                node: node.to_string(),
                edge: (i > 0).then(|| edge.to_string()),
                edge_type: None,
                id: i as u64,
                location: None,
            })
            .collect()
    }

    #[test]
    fn a_static_map_is_a_static_collection_and_a_cache_name_wins() {
        let orders = path(&[
            ("", "class com.shop.Orders"),
            ("static PENDING", "java.util.HashMap"),
            ("table", "java.util.HashMap$Node[]"),
            ("[3]", "java.util.HashMap$Node"),
            ("value", "com.shop.Order"),
        ]);
        let p = pattern(&orders, "com.shop.Order");
        assert_eq!(p.kind, PatternKind::StaticCollection);
        assert!(
            p.based_on
                .contains("`static PENDING` of class com.shop.Orders")
        );
        let cache = path(&[
            ("", "class com.shop.Prices"),
            ("static PRICE_CACHE", "java.util.HashMap"),
            ("table", "java.util.HashMap$Node[]"),
        ]);
        assert_eq!(pattern(&cache, "X").kind, PatternKind::UnboundedCache);
    }

    #[test]
    fn thread_locals_before_anything_else() {
        let p = path(&[
            ("", "java.lang.Thread"),
            ("threadLocals", "java.lang.ThreadLocal$ThreadLocalMap"),
            ("table", "java.lang.ThreadLocal$ThreadLocalMap$Entry[]"),
            ("[1]", "java.lang.ThreadLocal$ThreadLocalMap$Entry"),
            ("value", "java.util.ArrayList"),
        ]);
        assert_eq!(
            pattern(&p, "com.shop.Listener").kind,
            PatternKind::ThreadLocal
        );
    }
}
