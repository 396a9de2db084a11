//! `--runtime auto`: which packs' marker metrics exist, by one series-API call (index
//! only, cheap on long windows) — for one service (collect, validate, rules) or for every
//! service under a selector (scan). Markers are matched on the answer's names and labels,
//! since two conventions can share a name (Micrometer's and OpenTelemetry's
//! `jvm_memory_used_bytes`). One rule picks the pack: a runtime's second convention (an
//! OpenTelemetry pack, `variant_of`) replaces the first when both are found, then the
//! most series wins, a tie goes to the pack listed first, and the container pack only
//! when no runtime exports its own metrics. The same call tells an error for a given
//! `--runtime` which runtime the service does export ([`exported_runtime`]).

use super::AcquireError;
use super::diagnose;
use super::markers::{
    Picked, count_markers, marker_names, marker_selector, pick, service_selectors,
};
use super::plan::{base_matchers, selector_text};
use super::requests::Requests;
use crate::config::QueryConfig;
use crate::evidence::{QueryRecord, RequestKind};
use crate::pack::Pack;
use crate::prom::Labels;
use crate::timespec::{display, unix_seconds};
use promql_parser::label::Matcher;
use std::collections::BTreeMap;

pub use super::markers::DETECT_ID;
pub const FLEET_DETECT_ID: &str = "scan_detection";

/// Asks the series API for `selectors` and records the request.
async fn ask(
    client: &Requests,
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
        // One match[] per line: each is a selector that runs on its own.
        promql: selectors.join("\n"),
        start: Some(from),
        end: Some(to),
        ok: true,
        series: answer.data.len(),
        warnings: answer.warnings.clone(),
        requests: answer.requests,
        ..Default::default()
    });
    Ok(answer.data.clone())
}

/// The warning for another pack found next to `best`: the same runtime under a second
/// convention (read once, through `best`), or another runtime (a sidecar?).
fn other_found_warning(
    picked: &Picked,
    best: &Pack,
    other: &Pack,
    hits: &[String],
) -> Option<String> {
    if other.runtime == best.runtime || other.runtime == "container" {
        return None;
    }
    if best.variant_of.as_deref() == Some(other.runtime.as_str()) {
        return Some(format!(
            "the service also exports {} metrics ({}): the same runtime under a second naming convention; this report reads the {} names only, so nothing is counted twice (--runtime {} reads the other)",
            other.title,
            hits.join(", "),
            best.title,
            other.runtime
        ));
    }
    if picked.variant_found(other).is_some() {
        // Its other convention was found too; that one's warning covers the process.
        return None;
    }
    Some(format!(
        "the service also exports {} metrics ({}): a sidecar or a second process? This report covers {}; run with --runtime {} for the other",
        other.title,
        hits.join(", "),
        best.title,
        other.runtime
    ))
}

/// The service's pack and what it was detected from; other runtimes found become
/// warnings.
pub async fn detect_runtime(
    client: &Requests,
    config: &QueryConfig,
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
    let counts = count_markers(&packs, &series);
    let picked = pick(&packs, &counts);
    let Some(best) = picked.best else {
        let markers = marker_names(&packs);
        let series_match = format!("{{__name__=~\"{}\"}}", markers.join("|"));
        return Err(AcquireError::NoRuntime {
            selector: selector_text(&base_matchers(config)),
            from: display(config.window.from),
            to: display(config.window.to),
            hint: diagnose::suggestion(client, config, &series_match, window).await,
            checked: markers.join(", "),
        }
        .into());
    };
    for (other, hits) in &picked.found {
        warnings.extend(other_found_warning(&picked, best, other, hits));
    }
    Ok((best.clone(), picked.hits_of(best)))
}

/// Every service (value of `label`) under `selector` with the runtime of its pack, by
/// the same rule as one service's.
pub async fn detect_fleet(
    client: &Requests,
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
    let mut by_service: BTreeMap<&String, Vec<&Labels>> = BTreeMap::new();
    for labels in &series {
        if let Some(service) = labels.get(label) {
            by_service.entry(service).or_default().push(labels);
        }
    }
    let runtime_of: BTreeMap<String, String> = by_service
        .into_iter()
        .filter_map(|(service, series)| {
            let counts = count_markers(packs, series);
            Some((service.clone(), pick(packs, &counts).best?.runtime.clone()))
        })
        .collect();
    if runtime_of.is_empty() {
        let markers = marker_names(packs);
        let hint = if !series.is_empty() {
            format!(
                "; {} series matched, but none has the label `{label}` (is --service-label right?)",
                series.len()
            )
        } else if !selector.is_empty() {
            diagnose::selector_hint(client, selector, &markers, window).await
        } else {
            let all = format!("{{__name__=~\"{}\"}}", markers.join("|"));
            let newest = diagnose::newest_sample(client, &all, window.0, None).await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack;

    fn series(name: &str, labels: &[(&str, &str)]) -> Labels {
        let mut out: Labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        out.insert("__name__".into(), name.into());
        out
    }

    fn picked(series: &[Labels]) -> (Option<String>, Vec<String>) {
        let packs = pack::builtin_packs();
        let counts = count_markers(&packs, series);
        let picked = pick(&packs, &counts);
        let found = picked
            .found
            .iter()
            .map(|(p, _)| p.runtime.clone())
            .collect();
        (picked.best.map(|p| p.runtime.clone()), found)
    }

    #[test]
    fn conventions_sharing_a_name_are_told_apart_by_labels() {
        let micrometer = series("jvm_memory_used_bytes", &[("area", "heap"), ("id", "Eden")]);
        let agent = series(
            "jvm_memory_used_bytes",
            &[
                ("jvm_memory_type", "heap"),
                ("jvm_memory_pool_name", "Eden"),
            ],
        );
        assert_eq!(
            picked(std::slice::from_ref(&micrometer)),
            (Some("jvm".into()), vec!["jvm".into()])
        );
        assert_eq!(
            picked(std::slice::from_ref(&agent)),
            (Some("jvm-otel".into()), vec!["jvm-otel".into()])
        );
        // Both from one process: the OpenTelemetry convention is read, however many
        // series the other has.
        let many_micrometer: Vec<Labels> = (0..10)
            .map(|i| {
                series(
                    "jvm_memory_used_bytes",
                    &[("area", "heap"), ("id", &i.to_string())],
                )
            })
            .chain([agent])
            .collect();
        let (best, found) = picked(&many_micrometer);
        assert_eq!(best.as_deref(), Some("jvm-otel"));
        assert_eq!(found, vec!["jvm", "jvm-otel"]);
    }

    #[test]
    fn a_variant_does_not_hide_another_runtime() {
        // A Go sidecar next to a Python process exporting both conventions: Python via
        // OpenTelemetry wins on series; Go stays a sidecar.
        let all = [
            series("python_info", &[]),
            series("cpython_gc_collections_total", &[("generation", "0")]),
            series("cpython_gc_collections_total", &[("generation", "1")]),
            series("go_goroutines", &[]),
        ];
        let (best, found) = picked(&all);
        assert_eq!(best.as_deref(), Some("python-otel"));
        assert_eq!(found, vec!["go", "python", "python-otel"]);
        let packs = pack::builtin_packs();
        let counts = count_markers(&packs, &all);
        let picked = pick(&packs, &counts);
        let best = picked.best.unwrap();
        let warnings: Vec<String> = picked
            .found
            .iter()
            .filter_map(|(other, hits)| other_found_warning(&picked, best, other, hits))
            .collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("Go (client_golang)") && warnings[0].contains("sidecar"));
        assert!(warnings[1].contains("second naming convention"));
    }
}
