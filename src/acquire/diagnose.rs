//! Why a request found nothing, said from what the server does have. For one service
//! (collect, validate, rules: [`no_data`], [`suggestion`]) which part of the request is
//! wrong: the names (OpenTelemetry's kept in UTF-8, which the packs do not read), the
//! runtime (the pack the service's metrics point to), the service value (the nearest
//! existing one, an exact case-insensitive match first, or OpenTelemetry's
//! `service.namespace/service.name` in `job`), the service label (the labels the metrics
//! do have, and the one holding the service, `service_name` asked first), or the window
//! (where the newest sample is). For scan's selector ([`selector_hint`]), which
//! `label="value"` matched nothing. Each hint is one clause saying what to do; an empty
//! one means the server could not tell.

use super::AcquireError;
use super::markers;
use super::plan::{matchers_for, selector_text};
use super::requests::Requests;
use crate::config::QueryConfig;
use crate::pack::{self, Pack, PackQuery};
use crate::timespec::{display, from_unix_seconds, unix_seconds};
use promql_parser::label::Matcher;

/// How far before the window the newest sample is looked for.
const NEWEST_LOOKBACK_DAYS: f64 = 30.0;

/// The error for a heap query that matched nothing: its raw selector with the service's
/// matchers, the window as RFC 3339 in UTC, and why.
pub async fn no_data(
    client: &Requests,
    config: &QueryConfig,
    pack: &Pack,
    heap: &PackQuery,
    window: (f64, f64),
) -> AcquireError {
    let raw = pack::first_selector(&heap.promql).unwrap_or_else(|| heap.promql.clone());
    let selector = pack::inject(&raw, &matchers_for(config, pack, heap)).unwrap_or(raw.clone());
    AcquireError::NoData {
        selector,
        from: display(config.window.from),
        to: display(config.window.to),
        hint: suggestion(client, config, &raw, window).await,
    }
}

/// Which part of the request is wrong, for an error that found no series of
/// `series_match` (a selector without the service's matchers) for the service.
pub async fn suggestion(
    client: &Requests,
    config: &QueryConfig,
    series_match: &str,
    (from, to): (f64, f64),
) -> String {
    let label = &config.service_label;
    let Ok(values) = client.label_values(label, series_match, from, to).await else {
        return String::new();
    };
    if values.contains(&config.service) && !config.selector.is_empty() {
        return format!(
            "{label}={:?} has series, so --selector {} matched nothing",
            config.service,
            selector_text(&config.selector)
        );
    }
    if !values.contains(&config.service)
        && let Some(hint) = utf8_names_hint(client, config, (from, to)).await
    {
        return hint;
    }
    if let Some(hint) = runtime_hint(client, config, (from, to)).await {
        return hint;
    }
    if values.contains(&config.service) {
        return format!(
            "{label}={:?} has series, but not of this metric: is --runtime right?",
            config.service
        );
    }
    let namespaced = namespaced_values(&config.service, &values);
    if let Some(first) = namespaced.first() {
        return format!(
            "did you mean {label}={first:?}? OpenTelemetry writes service.namespace/service.name into {label}: give --service {first}{}",
            if namespaced.len() > 1 {
                format!(" (also: {})", first_few(&namespaced[1..]))
            } else {
                String::new()
            }
        );
    }
    if !values.is_empty()
        && let Some((holder, value)) =
            label_holding(client, series_match, &config.service, (from, to)).await
        && holder != *label
    {
        return format!(
            "no series of these metrics has {label}={:?}, but {holder}={value:?} has (OpenTelemetry's resource attributes become labels such as service_name): did you mean --service-label {holder} --service {value}?",
            config.service
        );
    }
    if let Some(best) = closest(&config.service, &values) {
        return format!("did you mean {label}={best:?}?");
    }
    if !values.is_empty() {
        return format!(
            "no series of these metrics has {label}={:?} (it has {}): check --service",
            config.service,
            first_few(&values)
        );
    }
    if let Some(hint) = label_hint(client, config, series_match, (from, to)).await {
        return hint;
    }
    newest_sample(client, series_match, from, config.pack.as_ref()).await
}

/// With a `--runtime` given: the runtime the service's metrics do point to, when another.
async fn runtime_hint(
    client: &Requests,
    config: &QueryConfig,
    window: (f64, f64),
) -> Option<String> {
    let given = config.pack.as_ref()?;
    let (found, hits) = markers::exported_runtime(client, config, window).await?;
    if found.runtime == given.runtime {
        return None;
    }
    let example = hits.first().map_or(String::new(), |h| format!(": {h}"));
    Some(format!(
        "the service exports {} metrics{example}; use --runtime {} (or auto)",
        found.title, found.runtime
    ))
}

/// When the metrics exist but none has `--service-label`: the labels they have, and the
/// one whose values hold the service (else the nearest name).
async fn label_hint(
    client: &Requests,
    config: &QueryConfig,
    series_match: &str,
    (from, to): (f64, f64),
) -> Option<String> {
    let names = label_names(client, series_match, (from, to)).await?;
    let holder = label_holding(client, series_match, &config.service, (from, to)).await;
    let advice = match holder {
        Some((name, value)) if value == config.service => {
            format!("did you mean --service-label {name}?")
        }
        Some((name, value)) => format!(
            "did you mean --service-label {name} --service {value}? (OpenTelemetry writes service.namespace/service.name into {name})"
        ),
        None => match closest(&config.service_label, &names) {
            Some(name) => format!("did you mean --service-label {name}?"),
            None => "name the label that holds the service with --service-label".to_string(),
        },
    };
    Some(format!(
        "no series of these metrics has the label `{}` (labels they have: {}): {advice}",
        config.service_label,
        first_few(&names)
    ))
}

/// The label names of the series matching `series_match`, `__name__` left out, with the
/// labels OpenTelemetry's translators use for the service first (`service_name`, then
/// `job`), so they are the ones asked about first.
async fn label_names(
    client: &Requests,
    series_match: &str,
    (from, to): (f64, f64),
) -> Option<Vec<String>> {
    let mut names: Vec<String> = client
        .label_names(series_match, from, to)
        .await
        .ok()?
        .iter()
        .filter(|n| *n != "__name__")
        .cloned()
        .collect();
    names.sort_by_key(|n| {
        SERVICE_LABELS
            .iter()
            .position(|s| s == n)
            .unwrap_or(usize::MAX)
    });
    (!names.is_empty()).then_some(names)
}

/// Labels that commonly hold the service, asked about first: OpenTelemetry's promoted
/// `service.name` resource attribute, then the scrape job (OpenTelemetry's
/// `service.namespace/service.name` through the Collector or the OTLP receiver).
const SERVICE_LABELS: &[&str] = &["service_name", "job", "service", "app"];

/// The first label (of at most a few dozen) with a value naming `service`: the same text
/// ignoring case, or `namespace/service` as OpenTelemetry writes `job`. Label-values calls
/// are cheap (index only), and this runs only on an error path.
async fn label_holding(
    client: &Requests,
    series_match: &str,
    service: &str,
    (from, to): (f64, f64),
) -> Option<(String, String)> {
    for name in label_names(client, series_match, (from, to))
        .await?
        .iter()
        .take(30)
    {
        let Ok(values) = client.label_values(name, series_match, from, to).await else {
            continue;
        };
        if let Some(value) = values.iter().find(|v| v.eq_ignore_ascii_case(service)) {
            return Some((name.clone(), value.clone()));
        }
        if let Some(value) = namespaced_values(service, &values).first() {
            return Some((name.clone(), value.clone()));
        }
    }
    None
}

/// Values that are `service` under a namespace (`shop/api` for `api`), as OpenTelemetry
/// writes `service.namespace/service.name` into `job`.
pub fn namespaced_values(service: &str, values: &[String]) -> Vec<String> {
    values
        .iter()
        .filter(|v| {
            v.rsplit_once('/').is_some_and(|(namespace, name)| {
                !namespace.is_empty() && name.eq_ignore_ascii_case(service)
            })
        })
        .cloned()
        .collect()
}

/// When the service has no runtime metrics under the translated names but does under
/// OpenTelemetry's UTF-8 ones (Prometheus 3's OTLP receiver with `translation_strategy`
/// `NoUTF8EscapingWithSuffixes` or `NoTranslation` keeps `jvm.memory.used`): which, and
/// what to do. The built-in packs read the translated names, which every server accepts;
/// a query naming a dotted label (`"jvm.memory.type"="heap"`) fails to parse on servers
/// before Prometheus 3.
async fn utf8_names_hint(
    client: &Requests,
    config: &QueryConfig,
    (from, to): (f64, f64),
) -> Option<String> {
    let mut matchers = super::plan::base_matchers(config);
    // Any metric name with a dot: only UTF-8 names have one (`{__name__=~…}` with a dotted
    // value is valid on every server, unlike a dotted label name).
    matchers.push(
        Matcher::new_matcher(
            promql_parser::parser::token::T_EQL_REGEX,
            "__name__".to_string(),
            r"[^.]+\..+".to_string(),
        )
        .ok()?,
    );
    let selector = selector_text(&matchers);
    let mut names = (*client
        .label_values("__name__", &selector, from, to)
        .await
        .ok()?)
    .clone();
    // Trust only what the matcher asked for (a proxy may ignore match[]).
    names.retain(|name| name.contains('.'));
    if names.is_empty() {
        return None;
    }
    Some(format!(
        "the service's metrics are stored under OpenTelemetry's UTF-8 names ({}): the built-in packs read the translated names (jvm_memory_used_bytes); set Prometheus's otlp.translation_strategy to UnderscoreEscapingWithSuffixes, or give --queries a directory with packs written in quoted names ({{\"jvm.memory.used\", \"jvm.memory.type\"=\"heap\"}}; see docs/packs/README.md)",
        first_few(&names)
    ))
}

/// When nothing matches `series_match` in the window: where its newest sample is (up to
/// [`NEWEST_LOOKBACK_DAYS`] before the window, or after it up to now). With none at all,
/// a `--runtime` given (`given`) is the likelier mistake.
pub async fn newest_sample(
    client: &Requests,
    series_match: &str,
    from: f64,
    given: Option<&Pack>,
) -> String {
    match newest_timestamp(client, series_match, from).await {
        Ok(Some(newest)) => format!(
            "the newest sample of these metrics is at {}, {} the window: move --from/--to",
            display(from_unix_seconds(newest)),
            if newest < from { "before" } else { "after" }
        ),
        Ok(None) => match given {
            Some(pack) => format!(
                "this server has no {} metrics in the window or the {NEWEST_LOOKBACK_DAYS} days before it: is --runtime {} right? (--runtime auto detects it)",
                pack.title, pack.runtime
            ),
            None => format!(
                "no series of these metrics has a sample in the window or the {NEWEST_LOOKBACK_DAYS} days before it: is this the right server?"
            ),
        },
        Err(_) => {
            "no series of these metrics has a sample in the window: check --from and --to".into()
        }
    }
}

/// The newest sample's time, in two instant queries: `timestamp()` sees the newest
/// sample of the 5 minutes before each subquery step, so a 10-minute grid over the whole
/// span finds it to within 10 minutes, and a 1-minute grid there finds it exactly.
async fn newest_timestamp(
    client: &Requests,
    series_match: &str,
    from: f64,
) -> Result<Option<f64>, crate::prom::PromError> {
    let now = unix_seconds(chrono::Utc::now());
    let span = ((now - from).max(0.0) + NEWEST_LOOKBACK_DAYS * 86_400.0).ceil();
    let newest = |range: f64, step: &str, at: f64| {
        let promql = format!("max(max_over_time(timestamp({series_match})[{range}s:{step}]))");
        async move {
            let answer = client.query("newest_sample", &promql, at).await?;
            Ok::<_, crate::prom::PromError>(
                answer
                    .data
                    .first()
                    .map(|s| s.value)
                    .filter(|v| v.is_finite()),
            )
        }
    };
    let Some(coarse) = newest(span, "10m", now).await? else {
        return Ok(None);
    };
    Ok(newest(1200.0, "1m", coarse + 900.0).await?.or(Some(coarse)))
}

/// Up to six values, then `…`.
fn first_few(values: &[String]) -> String {
    let mut shown: Vec<&str> = values.iter().take(6).map(String::as_str).collect();
    if values.len() > 6 {
        shown.push("…");
    }
    shown.join(", ")
}

/// The candidate nearest to `wanted`, if near enough to be a typo of it: an exact
/// match, else one differing only in case, else the nearest ignoring case.
pub fn closest<'a>(wanted: &str, candidates: &'a [String]) -> Option<&'a String> {
    let lower = wanted.to_lowercase();
    if let Some(same) = candidates
        .iter()
        .find(|c| *c == wanted)
        .or_else(|| candidates.iter().find(|c| c.to_lowercase() == lower))
    {
        return Some(same);
    }
    candidates
        .iter()
        .map(|c| (strsim_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (wanted.chars().count().max(c.chars().count()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// Why a selector matched no runtime metrics: none in the window at all, or which of its
/// `label="value"` matchers has no such value, with the nearest one that exists.
pub async fn selector_hint(
    client: &Requests,
    selector: &[Matcher],
    markers: &[String],
    (from, to): (f64, f64),
) -> String {
    let runtime_series = format!("{{__name__=~\"{}\"}}", markers.join("|"));
    match client
        .series("scan_hint", std::slice::from_ref(&runtime_series), from, to)
        .await
    {
        Ok(any) if any.data.is_empty() => {
            let newest = newest_sample(client, &runtime_series, from, None).await;
            return format!("; no runtime metrics exist in the window at all ({newest})");
        }
        Ok(_) => {}
        Err(_) => return String::new(),
    }
    for matcher in selector {
        if matcher.op != promql_parser::label::MatchOp::Equal || matcher.value.is_empty() {
            continue;
        }
        let Ok(values) = client
            .label_values(&matcher.name, &runtime_series, from, to)
            .await
        else {
            continue;
        };
        if values.contains(&matcher.value) {
            continue;
        }
        return match closest(&matcher.value, &values) {
            Some(best) => format!(
                "; no runtime series has {}={:?}: did you mean {}={best:?}?",
                matcher.name, matcher.value, matcher.name
            ),
            None if values.is_empty() => {
                format!("; no runtime series has the label {}", matcher.name)
            }
            None => {
                let mut shown: Vec<&str> = values.iter().take(5).map(String::as_str).collect();
                if values.len() > 5 {
                    shown.push("…");
                }
                format!(
                    "; no runtime series has {}={:?} (it has {})",
                    matcher.name,
                    matcher.value,
                    shown.join(", ")
                )
            }
        };
    }
    "; runtime metrics exist in the window, but not under this selector".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let values = vec!["api".to_string(), "billing".to_string()];
        assert_eq!(closest("apu", &values).map(String::as_str), Some("api"));
        assert_eq!(closest("checkout", &values), None);
        // Case first: API is api, not a typo of something else.
        let values = vec!["apx".to_string(), "api".to_string(), "API".to_string()];
        assert_eq!(closest("API", &values).map(String::as_str), Some("API"));
        assert_eq!(closest("Api", &values).map(String::as_str), Some("api"));
        let values = vec!["Billing".to_string()];
        assert_eq!(
            closest("BILING", &values).map(String::as_str),
            Some("Billing")
        );
        assert_eq!(strsim_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn finds_opentelemetry_namespaced_jobs() {
        let values = vec![
            "shop/api".to_string(),
            "billing/API".to_string(),
            "api-gateway".to_string(),
            "/api".to_string(),
        ];
        assert_eq!(
            namespaced_values("api", &values),
            vec!["shop/api", "billing/API"]
        );
        assert!(namespaced_values("gateway", &values).is_empty());
    }
}
