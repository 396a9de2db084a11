//! Links a reader can click: each query on Prometheus's graph page, and in Grafana
//! Explore, over the period it covers. Built with a URL encoder, never by pasting.

use crate::prom::client::redact_url;
use chrono::{DateTime, Utc};
use serde_json::json;

/// Prometheus's graph page for `promql`, ending at `end` and spanning `range_seconds`.
pub fn prometheus_graph(
    ui: &str,
    promql: &str,
    end: DateTime<Utc>,
    range_seconds: f64,
) -> Option<String> {
    let mut url = reqwest::Url::parse(&format!("{}/graph", ui.trim_end_matches('/'))).ok()?;
    let clean = redact_url(&url);
    url = reqwest::Url::parse(&clean).ok()?;
    url.query_pairs_mut()
        .append_pair("g0.expr", promql)
        .append_pair("g0.tab", "0")
        .append_pair(
            "g0.range_input",
            &crate::timespec::format_duration(std::time::Duration::from_secs(
                range_seconds.max(1.0) as u64,
            )),
        )
        .append_pair("g0.end_input", &end.format("%Y-%m-%d %H:%M:%S").to_string());
    Some(url.to_string())
}

/// Grafana Explore with `promql` over `[from, to]`, in the datasource when given.
pub fn grafana_explore(
    grafana: &str,
    datasource: Option<&str>,
    promql: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<String> {
    let mut url =
        reqwest::Url::parse(&format!("{}/explore", grafana.trim_end_matches('/'))).ok()?;
    let mut query = json!({"refId": "A", "expr": promql});
    let mut pane = json!({
        "queries": [],
        "range": {"from": from.timestamp_millis().to_string(), "to": to.timestamp_millis().to_string()},
    });
    if let Some(uid) = datasource {
        query["datasource"] = json!({"type": "prometheus", "uid": uid});
        pane["datasource"] = json!(uid);
    }
    pane["queries"] = json!([query]);
    url.query_pairs_mut()
        .append_pair("schemaVersion", "1")
        .append_pair("orgId", "1")
        .append_pair("panes", &json!({"leakcollect": pane}).to_string());
    Some(url.to_string())
}

/// A Grafana dashboard by uid over `[from, to]`: `GRAFANA/d/UID?from=ms&to=ms`.
pub fn grafana_dashboard(
    grafana: &str,
    uid: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<String> {
    let mut url = reqwest::Url::parse(&format!("{}/", grafana.trim_end_matches('/'))).ok()?;
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .push("d")
        .push(uid);
    url.query_pairs_mut()
        .append_pair("orgId", "1")
        .append_pair("from", &from.timestamp_millis().to_string())
        .append_pair("to", &to.timestamp_millis().to_string());
    Some(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn decoded(url: &str, key: &str) -> String {
        reqwest::Url::parse(url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.to_string())
            .unwrap()
    }

    #[test]
    fn links_round_trip_any_promql() {
        let promql =
            r#"histogram_quantile(0.95, sum by (le) (increase(x_bucket{job="a&b #1"}[1d]))) > 0.1"#;
        let end = Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap();
        let graph = prometheus_graph(
            "http://user:pw@prom:9090/prometheus/",
            promql,
            end,
            86_400.0,
        )
        .unwrap();
        assert!(
            graph.starts_with("http://prom:9090/prometheus/graph?"),
            "{graph}"
        );
        assert_eq!(decoded(&graph, "g0.expr"), promql);
        assert_eq!(decoded(&graph, "g0.range_input"), "1d");
        assert_eq!(decoded(&graph, "g0.end_input"), "2026-11-21 08:00:00");
        let explore = grafana_explore(
            "https://grafana.example",
            Some("prom-uid"),
            promql,
            end - chrono::Duration::days(1),
            end,
        )
        .unwrap();
        let panes: serde_json::Value = serde_json::from_str(&decoded(&explore, "panes")).unwrap();
        let pane = &panes["leakcollect"];
        assert_eq!(pane["queries"][0]["expr"], promql);
        assert_eq!(pane["datasource"], "prom-uid");
        assert_eq!(pane["range"]["to"], end.timestamp_millis().to_string());
        let d = grafana_dashboard("https://g.example/grafana/", "api leak", end, end).unwrap();
        assert!(
            d.starts_with("https://g.example/grafana/d/api%20leak?"),
            "{d}"
        );
        assert_eq!(decoded(&d, "to"), end.timestamp_millis().to_string());
    }
}
