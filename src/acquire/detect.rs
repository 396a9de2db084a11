//! `--runtime auto`: which packs' marker metrics exist, by one series-API call (index
//! only, cheap on long windows) — for one service (collect, validate, rules) or for every
//! service under a selector (scan). One rule picks the pack: the most series wins, a tie
//! goes to the pack listed first, and the container pack only when no runtime exports
//! its own metrics. The same call tells an error for a given `--runtime` which runtime
//! the service does export ([`exported_runtime`]).

use super::AcquireError;
use super::hints;
use super::plan::{base_matchers, matchers_for, selector_text};
use crate::config::CollectConfig;
use crate::evidence::{QueryRecord, RequestKind};
use crate::pack::{self, Pack, Role};
use crate::prom::{Client, Labels};
use crate::timespec::{display, unix_seconds};
use promql_parser::label::Matcher;
use promql_parser::parser::token::T_EQL_REGEX;
use std::collections::BTreeMap;

pub const DETECT_ID: &str = "runtime_detection";
pub const FLEET_DETECT_ID: &str = "scan_detection";

/// `{__name__=~"markers", …matchers}` for a pack.
fn marker_selector(p: &Pack, matchers: Vec<Matcher>, id: &str) -> Result<String, AcquireError> {
    let names = Matcher::new_matcher(T_EQL_REGEX, "__name__".to_string(), p.detect.join("|"))
        .map_err(|detail| AcquireError::Plan {
            query_id: id.into(),
            detail,
        })?;
    let mut all = vec![names];
    all.extend(matchers);
    Ok(selector_text(&all))
}

/// Asks the series API for `selectors` and records the request.
async fn ask(
    client: &Client,
    id: &str,
    description: &str,
    selectors: &[String],
    (from, to): (f64, f64),
    records: &mut Vec<QueryRecord>,
) -> anyhow::Result<Vec<Labels>> {
    let answer = client.series(id, selectors, from, to).await?;
    records.push(QueryRecord {
        id: id.into(),
        role: "detect".into(),
        kind: RequestKind::Series,
        description: description.into(),
        promql: selectors.join(" "),
        start: Some(from),
        end: Some(to),
        ok: true,
        series: answer.data.len(),
        warnings: answer.warnings,
        requests: answer.requests,
        ..Default::default()
    });
    Ok(answer.data)
}

/// Series per marker metric name.
type Counts = BTreeMap<String, usize>;

/// The pack `counts` point to, by the module's rule, with the packs found (series
/// total, pack, "name (n series)" hits).
fn pick<'a>(
    packs: &'a [Pack],
    counts: &Counts,
) -> (Option<&'a Pack>, Vec<(&'a Pack, Vec<String>)>) {
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
    let runtimes: Vec<&(usize, &Pack, Vec<String>)> = found
        .iter()
        .filter(|(_, p, _)| p.runtime != "container")
        .collect();
    let pool = if runtimes.is_empty() {
        found.iter().collect::<Vec<_>>()
    } else {
        runtimes
    };
    let best = pool
        .iter()
        .copied()
        .reduce(|a, b| if b.0 > a.0 { b } else { a })
        .map(|(_, p, _)| *p);
    (best, found.into_iter().map(|(_, p, h)| (p, h)).collect())
}

/// Every built-in pack (or its `--queries` override), and one marker selector per pack
/// with the service's matchers.
fn service_selectors(config: &CollectConfig) -> anyhow::Result<(Vec<Pack>, Vec<String>)> {
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

fn count_names(series: &[Labels]) -> Counts {
    let mut counts = Counts::new();
    for name in series.iter().filter_map(|l| l.get("__name__")) {
        *counts.entry(name.clone()).or_default() += 1;
    }
    counts
}

/// The runtime the service's metrics point to, by the same rule as `--runtime auto`,
/// with its marker metrics found: for an error that asked for another pack. `None`
/// when there is none, or the server cannot say.
pub async fn exported_runtime(
    client: &Client,
    config: &CollectConfig,
    window: (f64, f64),
) -> Option<(Pack, Vec<String>)> {
    let (packs, selectors) = service_selectors(config).ok()?;
    let series = client
        .series(DETECT_ID, &selectors, window.0, window.1)
        .await
        .ok()?;
    let counts = count_names(&series.data);
    let (best, found) = pick(&packs, &counts);
    let best = best?.clone();
    let hits = hits_of(found, &best);
    Some((best, hits))
}

/// What `best` was detected from: its markers found, with their series counts.
fn hits_of(found: Vec<(&Pack, Vec<String>)>, best: &Pack) -> Vec<String> {
    found
        .into_iter()
        .find(|(p, _)| p.runtime == best.runtime)
        .map(|(_, hits)| hits)
        .unwrap_or_default()
}

/// The service's pack and what it was detected from; other runtimes found become
/// warnings.
pub async fn detect_runtime(
    client: &Client,
    config: &CollectConfig,
    records: &mut Vec<QueryRecord>,
    warnings: &mut Vec<String>,
) -> anyhow::Result<(Pack, Vec<String>)> {
    let (packs, selectors) = service_selectors(config)?;
    let window = (
        unix_seconds(config.window.from),
        unix_seconds(config.window.to),
    );
    let description = "Which runtimes' metrics exist for the service in the window (series API).";
    let series = ask(client, DETECT_ID, description, &selectors, window, records).await?;
    let counts = count_names(&series);
    let (best, found) = pick(&packs, &counts);
    let Some(best) = best else {
        let markers: Vec<String> = packs.iter().flat_map(|p| p.detect.clone()).collect();
        let series_match = format!("{{__name__=~\"{}\"}}", markers.join("|"));
        return Err(AcquireError::NoRuntime {
            selector: selector_text(&base_matchers(config)),
            from: display(config.window.from),
            to: display(config.window.to),
            hint: hints::suggestion(client, config, &series_match, window).await,
            checked: markers.join(", "),
        }
        .into());
    };
    for (other, hits) in &found {
        if other.runtime != best.runtime && other.runtime != "container" {
            warnings.push(format!(
                "the service also exports {} metrics ({}): a sidecar or a second process? This report covers {}; run with --runtime {} for the other",
                other.title,
                hits.join(", "),
                best.title,
                other.runtime
            ));
        }
    }
    let detected_from = hits_of(found, best);
    Ok((best.clone(), detected_from))
}

/// Every service (value of `label`) under `selector` with the runtime of its pack, by
/// the same rule as one service's.
pub async fn detect_fleet(
    client: &Client,
    packs: &[Pack],
    selector: &[Matcher],
    label: &str,
    window: (f64, f64),
    records: &mut Vec<QueryRecord>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let selectors = packs
        .iter()
        .map(|p| marker_selector(p, selector.to_vec(), FLEET_DETECT_ID))
        .collect::<Result<Vec<_>, _>>()?;
    let description = "Which services run which runtime under the selector (series API).";
    let series = ask(
        client,
        FLEET_DETECT_ID,
        description,
        &selectors,
        window,
        records,
    )
    .await?;
    let mut counts: BTreeMap<&String, Counts> = BTreeMap::new();
    for labels in &series {
        if let (Some(service), Some(name)) = (labels.get(label), labels.get("__name__")) {
            *counts
                .entry(service)
                .or_default()
                .entry(name.clone())
                .or_default() += 1;
        }
    }
    let runtime_of: BTreeMap<String, String> = counts
        .iter()
        .filter_map(|(service, counts)| {
            let (best, _) = pick(packs, counts);
            Some(((*service).clone(), best?.runtime.clone()))
        })
        .collect();
    if runtime_of.is_empty() {
        let markers: Vec<String> = packs.iter().flat_map(|p| p.detect.clone()).collect();
        let hint = if !series.is_empty() {
            format!(
                "; {} series matched, but none has the label `{label}` (is --service-label right?)",
                series.len()
            )
        } else if !selector.is_empty() {
            hints::selector_hint(client, selector, &markers, window).await
        } else {
            let all = format!("{{__name__=~\"{}\"}}", markers.join("|"));
            let newest = hints::newest_sample(client, &all, window.0, None).await;
            format!("; no runtime metrics exist in the window at all ({newest})")
        };
        return Err(AcquireError::NoFleet {
            selector: selector_text(selector),
            checked: markers.join(", "),
            hint,
        }
        .into());
    }
    Ok(runtime_of)
}
