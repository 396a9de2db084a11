//! Typed responses of `/api/v1/query` and `/api/v1/query_range`.

use serde::Deserialize;
use std::collections::BTreeMap;

pub const QUERY_PATH: &str = "/api/v1/query";
pub const QUERY_RANGE_PATH: &str = "/api/v1/query_range";
pub const SERIES_PATH: &str = "/api/v1/series";
pub const METADATA_PATH: &str = "/api/v1/metadata";

/// `/api/v1/label/<name>/values`; `name` must already be a valid label name.
pub fn label_values_path(name: &str) -> String {
    format!("/api/v1/label/{name}/values")
}

pub type Labels = BTreeMap<String, String>;

/// The envelope every API answer shares.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub status: String,
    #[serde(default)]
    pub data: Option<Data>,
    #[serde(default, rename = "errorType")]
    pub error_type: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
    #[serde(default)]
    pub infos: Vec<String>,
}

/// The answer of the series endpoint: label sets, not samples.
#[derive(Debug, Deserialize)]
pub struct SeriesEnvelope {
    pub status: String,
    #[serde(default)]
    pub data: Vec<Labels>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub enum Data {
    Matrix(Vec<RawRangeSeries>),
    Vector(Vec<RawInstantSample>),
    Scalar(RawPoint),
    String(RawPoint),
}

/// `[unix_seconds, "value"]`: Prometheus sends values as strings so NaN and ±Inf survive JSON.
pub type RawPoint = (f64, String);

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

/// Parses a sample value as Prometheus formats it (`"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`).
pub fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        other => other.parse::<f64>().ok(),
    }
}

pub fn parse_point(raw: &RawPoint) -> Result<(f64, f64), String> {
    parse_value(&raw.1)
        .map(|v| (raw.0, v))
        .ok_or_else(|| format!("sample value {:?} is not a number", raw.1))
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
                assert!(parse_point(&series[0].values[1]).unwrap().1.is_nan());
            }
            other => panic!("unexpected {other:?}"),
        }
        let err: Envelope = serde_json::from_str(
            r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
        )
        .unwrap();
        assert_eq!(err.error_type.as_deref(), Some("bad_data"));
        assert!(err.data.is_none());
    }
}
