//! Which runtime a set of series points to: the packs' marker metrics, matched on the
//! series' names and labels (two conventions can share a name: Micrometer's and
//! OpenTelemetry's `jvm_memory_used_bytes`), and the one rule that picks the pack. Used by
//! runtime detection ([`super::detect`]) and by the hints of an error that asked for
//! another pack ([`super::diagnose`]); it names neither, so they do not import each other.

use super::AcquireError;
use super::plan::{matchers_for, selector_text};
use super::requests::Requests;
use crate::config::QueryConfig;
use crate::pack::{self, Marker, Pack, Role};
use crate::prom::Labels;
use promql_parser::label::Matcher;
use promql_parser::parser::token::T_EQL_REGEX;
use std::collections::BTreeMap;

/// The id of the series-API call that detects one service's runtime (the same call in
/// detection and in an error's hint, so the run sends it once).
pub const DETECT_ID: &str = "runtime_detection";

/// The metric names of `packs`' markers, each once, in pack order.
pub(super) fn marker_names<'a>(packs: impl IntoIterator<Item = &'a Pack>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for marker in packs.into_iter().flat_map(Pack::markers) {
        if !names.contains(&marker.name) {
            names.push(marker.name);
        }
    }
    names
}

/// `{__name__=~"marker names", …matchers}` for a pack. Label-aware markers are matched
/// on the answer's labels ([`count_markers`]), so the request names only metrics.
pub(super) fn marker_selector(
    p: &Pack,
    matchers: Vec<Matcher>,
    id: &str,
) -> Result<String, AcquireError> {
    let names = Matcher::new_matcher(
        T_EQL_REGEX,
        "__name__".to_string(),
        marker_names([p])
            .iter()
            .map(|name| name.replace('.', "\\."))
            .collect::<Vec<_>>()
            .join("|"),
    )
    .map_err(|detail| AcquireError::Plan {
        query_id: id.into(),
        detail,
    })?;
    let mut all = vec![names];
    all.extend(matchers);
    Ok(selector_text(&all))
}

/// Series per marker, by the marker's text as the pack writes it.
pub(super) type Counts = BTreeMap<String, usize>;

/// Counts, for every marker of `packs`, the series in `series` it matches (by name and
/// labels: one series can be a marker of one convention and not of another).
pub(super) fn count_markers<'a>(
    packs: &[Pack],
    series: impl IntoIterator<Item = &'a Labels>,
) -> Counts {
    let mut markers: Vec<Marker> = Vec::new();
    // A marker two packs list is one marker: its series count once.
    for marker in packs.iter().flat_map(Pack::markers) {
        if !markers.iter().any(|m| m.text == marker.text) {
            markers.push(marker);
        }
    }
    let mut counts = Counts::new();
    for labels in series {
        for marker in markers.iter().filter(|m| m.matches(labels)) {
            *counts.entry(marker.text.clone()).or_default() += 1;
        }
    }
    counts
}

/// What [`pick`] found: the pack, and every pack found with its hits ("marker (n series)").
pub(super) struct Picked<'a> {
    pub(super) best: Option<&'a Pack>,
    pub(super) found: Vec<(&'a Pack, Vec<String>)>,
}

impl Picked<'_> {
    /// What `best` was detected from: its markers found, with their series counts.
    pub(super) fn hits_of(&self, best: &Pack) -> Vec<String> {
        self.found
            .iter()
            .find(|(p, _)| p.runtime == best.runtime)
            .map(|(_, hits)| hits.clone())
            .unwrap_or_default()
    }

    /// The found pack, if any, that reads `p`'s runtime under another convention.
    pub(super) fn variant_found(&self, p: &Pack) -> Option<&Pack> {
        self.found
            .iter()
            .map(|(v, _)| *v)
            .find(|v| v.variant_of.as_deref() == Some(p.runtime.as_str()))
    }
}

/// The pack `counts` point to, by the module's rule: a runtime's second convention
/// (a pack with `variant_of`) replaces the first when both are found — the same process
/// exports both, and reading both would count it twice; then the most series wins, a tie
/// goes to the pack listed first, and the container pack only when no runtime exports
/// its own metrics.
pub(super) fn pick<'a>(packs: &'a [Pack], counts: &Counts) -> Picked<'a> {
    let found: Vec<(usize, &Pack, Vec<String>)> = packs
        .iter()
        .map(|p| {
            let hits: Vec<String> = p
                .detect
                .iter()
                .filter_map(|n| counts.get(n).map(|c| format!("{n} ({c} series)")))
                .collect();
            let total = p.detect.iter().filter_map(|n| counts.get(n)).sum::<usize>();
            (total, p, hits)
        })
        .filter(|(total, _, _)| *total > 0)
        .collect();
    let picked = Picked {
        best: None,
        found: found.iter().map(|(_, p, h)| (*p, h.clone())).collect(),
    };
    let eligible: Vec<&(usize, &Pack, Vec<String>)> = found
        .iter()
        .filter(|(_, p, _)| picked.variant_found(p).is_none())
        .collect();
    let runtimes: Vec<&(usize, &Pack, Vec<String>)> = eligible
        .iter()
        .copied()
        .filter(|(_, p, _)| p.runtime != "container")
        .collect();
    let pool = if runtimes.is_empty() {
        eligible
    } else {
        runtimes
    };
    let best = pool
        .iter()
        .copied()
        .reduce(|a, b| if b.0 > a.0 { b } else { a })
        .map(|(_, p, _)| *p);
    Picked { best, ..picked }
}

/// Every built-in pack (or its `--queries` override), and one marker selector per pack
/// with the service's matchers.
pub(super) fn service_selectors(config: &QueryConfig) -> anyhow::Result<(Vec<Pack>, Vec<String>)> {
    let packs: Vec<Pack> = pack::builtin_runtimes()
        .into_iter()
        .map(|name| pack::load(name, config.queries_dir.as_deref()))
        .collect::<Result<_, _>>()?;
    let mut selectors = Vec::new();
    for p in packs.iter().filter(|p| !p.detect.is_empty()) {
        let heap = p
            .by_role(Role::Heap)
            .next()
            .expect("packs have a heap query");
        let text = marker_selector(p, matchers_for(config, p, heap), DETECT_ID)?;
        if !selectors.contains(&text) {
            selectors.push(text);
        }
    }
    Ok((packs, selectors))
}

/// The runtime the service's metrics point to, by the same rule as `--runtime auto`,
/// with its marker metrics found: for an error that asked for another pack. `None`
/// when there is none, or the server cannot say.
pub async fn exported_runtime(
    client: &Requests,
    config: &QueryConfig,
    window: (f64, f64),
) -> Option<(Pack, Vec<String>)> {
    let (packs, selectors) = service_selectors(config).ok()?;
    let series = client
        .series(DETECT_ID, &selectors, window.0, window.1)
        .await
        .ok()?;
    let counts = count_markers(&packs, &series.data);
    let picked = pick(&packs, &counts);
    let best = picked.best?;
    Some((best.clone(), picked.hits_of(best)))
}
