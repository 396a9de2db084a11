//! The dashboard's model (`evidence::dashboard`) as Grafana dashboard JSON, through
//! serde structs shaped like `@grafana/schema`'s `Dashboard` (tests type-check the
//! output against it with TypeScript). Only layout and Grafana's spelling are decided
//! here; what each panel shows is in the model.

use crate::evidence::dashboard::{DashboardPlan, PanelPlan, PanelUnit, TargetPlan};
use serde::Serialize;
use serde_json::{Value, json};

/// The dashboard JSON schema version: the one Grafana 10.4 writes and every Grafana 11
/// loads (migrating it forward on load).
pub const SCHEMA_VERSION: u32 = 39;
/// The datasource template variable every panel and target uses.
pub const DATASOURCE_VAR: &str = "datasource";
const PANEL_HEIGHT: u32 = 9;
const FULL_WIDTH: u32 = 24;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Dashboard {
    uid: String,
    title: String,
    description: String,
    tags: Vec<String>,
    timezone: &'static str,
    editable: bool,
    schema_version: u32,
    time: TimeRange,
    templating: Templating,
    annotations: Annotations,
    panels: Vec<Panel>,
}

#[derive(Debug, Serialize)]
struct TimeRange {
    from: String,
    to: String,
}

#[derive(Debug, Serialize)]
struct Templating {
    list: Vec<Variable>,
}

#[derive(Debug, Serialize)]
struct Variable {
    name: &'static str,
    label: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    query: &'static str,
}

#[derive(Debug, Serialize)]
struct Annotations {
    list: Vec<Annotation>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    name: String,
    datasource: DataSource,
    enable: bool,
    icon_color: &'static str,
    /// Events carried in the dashboard itself (Grafana shows them without a query,
    /// as it does a snapshot's): the fix's time comes from the evidence.
    snapshot_data: Vec<AnnotationEvent>,
}

#[derive(Debug, Serialize)]
struct AnnotationEvent {
    /// Milliseconds since the epoch.
    time: i64,
    title: String,
    text: String,
    tags: Vec<&'static str>,
}

#[derive(Debug, Serialize, Clone)]
struct DataSource {
    #[serde(rename = "type")]
    kind: &'static str,
    uid: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Panel {
    id: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    title: String,
    description: String,
    datasource: DataSource,
    grid_pos: GridPos,
    targets: Vec<Target>,
    field_config: FieldConfigSource,
    options: Value,
}

#[derive(Debug, Serialize)]
struct GridPos {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    ref_id: String,
    datasource: DataSource,
    expr: String,
    legend_format: String,
    range: bool,
}

#[derive(Debug, Serialize)]
struct FieldConfigSource {
    defaults: FieldDefaults,
    overrides: Vec<Override>,
}

#[derive(Debug, Serialize)]
struct FieldDefaults {
    unit: &'static str,
    custom: Value,
}

#[derive(Debug, Serialize)]
struct Override {
    matcher: Matcher,
    properties: Vec<Property>,
}

#[derive(Debug, Serialize)]
struct Matcher {
    id: &'static str,
    options: &'static str,
}

#[derive(Debug, Serialize)]
struct Property {
    id: &'static str,
    value: Value,
}

fn prometheus() -> DataSource {
    DataSource {
        kind: "prometheus",
        uid: format!("${{{DATASOURCE_VAR}}}"),
    }
}

/// Grafana's unit id: SI bytes (the report's MB are 10⁶ bytes).
fn unit(u: PanelUnit) -> &'static str {
    match u {
        PanelUnit::Bytes | PanelUnit::BytesPerHour => "decbytes",
        PanelUnit::Seconds => "s",
        PanelUnit::Count => "short",
    }
}

fn target(t: &TargetPlan) -> Target {
    Target {
        ref_id: t.ref_id.clone(),
        datasource: prometheus(),
        expr: t.expr.clone(),
        legend_format: t.legend.clone(),
        range: true,
    }
}

fn panel(index: usize, p: &PanelPlan) -> Panel {
    let axis_label = match p.unit {
        PanelUnit::BytesPerHour => "per hour",
        _ => "",
    };
    let mut overrides = Vec::new();
    if let Some(value) = p.threshold {
        // In `overrides`, not `defaults`: the schema types a threshold's mode as an enum,
        // which a JSON string cannot be in TypeScript; an override's value is untyped
        // and Grafana applies it the same way.
        overrides.push(Override {
            matcher: Matcher {
                id: "byType",
                options: "number",
            },
            properties: vec![Property {
                id: "thresholds",
                value: json!({
                    "mode": "absolute",
                    "steps": [
                        {"color": "transparent", "value": null},
                        {"color": "red", "value": value},
                    ],
                }),
            }],
        });
    }
    let threshold_style = if p.threshold.is_some() {
        "dashed"
    } else {
        "off"
    };
    Panel {
        id: index as u32 + 1,
        kind: "timeseries",
        title: p.title.clone(),
        description: p.description.clone(),
        datasource: prometheus(),
        grid_pos: GridPos {
            x: 0,
            y: index as u32 * PANEL_HEIGHT,
            w: FULL_WIDTH,
            h: PANEL_HEIGHT,
        },
        targets: p.targets.iter().map(target).collect(),
        field_config: FieldConfigSource {
            defaults: FieldDefaults {
                unit: unit(p.unit),
                custom: json!({
                    "axisLabel": axis_label,
                    "thresholdsStyle": {"mode": threshold_style},
                    "spanNulls": false,
                }),
            },
            overrides,
        },
        options: json!({
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }),
    }
}

/// The Grafana dashboard JSON for `plan`, pretty-printed with a final newline.
pub fn render(plan: &DashboardPlan) -> String {
    let grafana = DataSource {
        kind: "grafana",
        uid: "-- Grafana --".into(),
    };
    let annotations = plan
        .fix
        .iter()
        .map(|fix| Annotation {
            name: "Fix deployed".into(),
            datasource: grafana.clone(),
            enable: true,
            icon_color: "green",
            snapshot_data: vec![AnnotationEvent {
                time: fix.at.timestamp_millis(),
                title: "Fix deployed".into(),
                text: fix.text.clone(),
                tags: vec!["leakcollect", "fix"],
            }],
        })
        .collect();
    let dashboard = Dashboard {
        uid: plan.uid.clone(),
        title: plan.title.clone(),
        description: plan.description.clone(),
        tags: vec![
            "leakcollect".into(),
            "memory-leak".into(),
            plan.service.clone(),
        ],
        timezone: "utc",
        editable: true,
        schema_version: SCHEMA_VERSION,
        time: TimeRange {
            from: plan
                .from
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            to: plan.to.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        },
        templating: Templating {
            list: vec![Variable {
                name: DATASOURCE_VAR,
                label: "Prometheus",
                kind: "datasource",
                query: "prometheus",
            }],
        },
        annotations: Annotations { list: annotations },
        panels: plan
            .panels
            .iter()
            .enumerate()
            .map(|(i, p)| panel(i, p))
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&dashboard).expect("the dashboard serializes");
    text.push('\n');
    text
}
