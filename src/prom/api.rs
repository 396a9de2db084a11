//! API paths and typed responses of `/api/v1/query`, `/api/v1/query_range`, the
//! index endpoints (series, labels, label values, metadata) and `/api/v1/rules`.

use serde::Deserialize;
use std::collections::BTreeMap;

pub const QUERY_PATH: &str = "/api/v1/query";
pub const QUERY_RANGE_PATH: &str = "/api/v1/query_range";
pub const SERIES_PATH: &str = "/api/v1/series";
pub const METADATA_PATH: &str = "/api/v1/metadata";
pub const LABELS_PATH: &str = "/api/v1/labels";
/// The rules API: Prometheus and Thanos serve it; Mimir and Cortex under their
/// `/prometheus` prefix (part of `--prometheus-url`); VictoriaMetrics only when
/// `-vmalert.proxyURL` points at vmalert.
pub const RULES_PATH: &str = "/api/v1/rules";

/// `/api/v1/label/<name>/values`; `name` must already be a valid label name.
pub fn label_values_path(name: &str) -> String {
    format!("/api/v1/label/{name}/values")
}

pub type Labels = BTreeMap<String, String>;

/// The envelope every API answer shares; `T` is the endpoint's `data` (query results,
/// label sets, label values, metadata).
#[derive(Debug, Deserialize)]
pub struct Envelope<T = Data> {
    pub status: String,
    #[serde(default = "Option::default")]
    pub data: Option<T>,
    #[serde(default, rename = "errorType")]
    pub error_type: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
    #[serde(default)]
    pub infos: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub enum Data {
    Matrix(Vec<RawRangeSeries>),
    Vector(Vec<RawInstantSample>),
    Scalar(RawPoint),
    String((f64, String)),
}

/// `[unix_seconds, "value"]`: Prometheus sends values as strings so NaN and ±Inf survive
/// JSON. Parsed while decoding, straight from the response's bytes: a long range holds
/// no per-sample string at any point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawPoint(pub f64, pub f64);

impl<'de> Deserialize<'de> for RawPoint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PointVisitor;
        impl<'de> serde::de::Visitor<'de> for PointVisitor {
            type Value = RawPoint;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a [time, \"value\"] pair")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawPoint, A::Error> {
                use serde::de::Error;
                let time: f64 = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let value = seq
                    .next_element::<ValueText>()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?
                    .0;
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::invalid_length(3, &self));
                }
                Ok(RawPoint(time, value))
            }
        }
        deserializer.deserialize_seq(PointVisitor)
    }
}

/// A sample value given as a string, parsed without keeping the string.
struct ValueText(f64);

impl<'de> Deserialize<'de> for ValueText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl serde::de::Visitor<'_> for TextVisitor {
            type Value = ValueText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a sample value as a string (\"1.5\", \"NaN\", \"+Inf\")")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ValueText, E> {
                parse_value(text)
                    .map(ValueText)
                    .ok_or_else(|| E::custom(format!("sample value {text:?} is not a number")))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

#[derive(Debug, Deserialize)]
pub struct RawRangeSeries {
    #[serde(default)]
    pub metric: Labels,
    #[serde(default)]
    pub values: Vec<RawPoint>,
}

#[derive(Debug, Deserialize)]
pub struct RawInstantSample {
    #[serde(default)]
    pub metric: Labels,
    pub value: RawPoint,
}

/// One series of a range query, values parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    pub labels: Labels,
    /// (unix seconds, value), in time order.
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InstantSample {
    pub labels: Labels,
    pub time: f64,
    pub value: f64,
}

/// `/api/v1/rules?type=alert`'s `data`: the alerting rules by group. Fields that only
/// some servers send (vmalert adds its own) are ignored; missing ones default.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct RulesData {
    #[serde(default)]
    pub groups: Vec<RuleGroup>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct RuleGroup {
    #[serde(default)]
    pub name: String,
    /// The rule file the group came from.
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// One rule of a group. Alerting rules have `type: "alerting"`, their `for` in
/// seconds as `duration`, and the alerts active now.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Rule {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    /// The expression, as the server formats it.
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub duration: Option<f64>,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub annotations: Labels,
    #[serde(default)]
    pub alerts: Vec<RuleAlert>,
}

/// An alert a rule has active now (pending or firing).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct RuleAlert {
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub state: String,
    /// RFC 3339: when the alert became active (pending).
    #[serde(default, rename = "activeAt")]
    pub active_at: Option<String>,
}

/// Parses a sample value as Prometheus formats it (`"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`).
pub fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        other => other.parse::<f64>().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_special_values() {
        assert!(parse_value("NaN").unwrap().is_nan());
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_value("1e3"), Some(1000.0));
        assert_eq!(parse_value("abc"), None);
    }

    #[test]
    fn decodes_matrix_and_error_envelopes() {
        let ok: Envelope = serde_json::from_str(
            r#"{"status":"success","warnings":["w1"],"data":{"resultType":"matrix","result":[{"metric":{"job":"api"},"values":[[1.5,"1"],[2.5,"NaN"]]}]}}"#,
        )
        .unwrap();
        assert_eq!(ok.warnings, vec!["w1"]);
        match ok.data.unwrap() {
            Data::Matrix(series) => {
                assert_eq!(series[0].metric["job"], "api");
                assert!(series[0].values[1].1.is_nan());
                assert_eq!(series[0].values[0], RawPoint(1.5, 1.0));
            }
            other => panic!("unexpected {other:?}"),
        }
        let err: Envelope = serde_json::from_str(
            r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
        )
        .unwrap();
        assert_eq!(err.error_type.as_deref(), Some("bad_data"));
        assert!(err.data.is_none());
        let bad = serde_json::from_str::<Envelope>(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}"#,
        )
        .unwrap_err();
        assert!(
            bad.to_string()
                .contains(r#"sample value "x" is not a number"#),
            "{bad}"
        );
        assert!(serde_json::from_str::<RawPoint>(r#"[1,"2",3]"#).is_err());
        assert!(serde_json::from_str::<RawPoint>(r#"[1]"#).is_err());
    }

    #[test]
    fn decodes_rules() {
        let rules: Envelope<RulesData> = serde_json::from_str(
            r#"{"status":"success","data":{"groups":[{"name":"g","file":"/r.yml","interval":15,"rules":[{"state":"firing","name":"ApiMemoryGrowth","query":"x > 1","duration":7200,"labels":{"severity":"warning"},"annotations":{},"alerts":[{"labels":{"alertname":"ApiMemoryGrowth"},"state":"firing","activeAt":"2026-11-20T08:00:00.123Z","value":"2e+06"}],"health":"ok","type":"alerting"}]}]}}"#,
        )
        .unwrap();
        let rule = &rules.data.unwrap().groups[0].rules[0];
        assert_eq!(rule.kind, "alerting");
        assert_eq!(rule.duration, Some(7200.0));
        assert_eq!(
            rule.alerts[0].active_at.as_deref(),
            Some("2026-11-20T08:00:00.123Z")
        );
    }
}
