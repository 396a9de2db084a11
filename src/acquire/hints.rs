//! "did you mean …": when a service or selector matched nothing, the nearest values the
//! server does have, so the error says which part of the request is wrong.

use super::plan::selector_text;
use crate::config::CollectConfig;
use crate::prom::Client;
use promql_parser::label::Matcher;

/// "did you mean …" from the values the service label takes in the window, for an
/// error that found no series of `series_match` for the service.
pub async fn suggestion(
    client: &Client,
    config: &CollectConfig,
    series_match: &str,
    (from, to): (f64, f64),
) -> String {
    let Ok(values) = client
        .label_values(&config.service_label, series_match, from, to)
        .await
    else {
        return String::new();
    };
    match closest(&config.service, &values) {
        Some(best) if *best == config.service && !config.selector.is_empty() => format!(
            "; {}={best:?} has series, so --selector {} matched nothing",
            config.service_label,
            selector_text(&config.selector)
        ),
        Some(best) if *best == config.service => format!(
            "; {}={best:?} has series, but not of this metric: is --runtime right?",
            config.service_label
        ),
        Some(best) => format!("; did you mean {}={best:?}?", config.service_label),
        None if values.is_empty() => {
            format!("; no series of {series_match} exist in the window at all")
        }
        None => String::new(),
    }
}

/// The candidate nearest to `wanted`, if near enough to be a typo of it.
pub fn closest<'a>(wanted: &str, candidates: &'a [String]) -> Option<&'a String> {
    candidates
        .iter()
        .map(|c| (strsim_distance(wanted, c), c))
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
    client: &Client,
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
            return "; no runtime metrics exist in the window at all".into();
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
        assert_eq!(strsim_distance("kitten", "sitting"), 3);
    }
}
