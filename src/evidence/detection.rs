//! How the leak was detected: the first alert that fired for the service (from the
//! `ALERTS` series) and the rule behind it (from the rules API), or, when none fired,
//! when a `leakcollect rules` alert would have. Filled by `analysis::detection`.

use crate::prom::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where the detection figure comes from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DetectionSource {
    /// An alert fired (`ALERTS{alertstate="firing"}`).
    Alert,
    /// No alert fired; the growth rule of `leakcollect rules` would have.
    WouldHaveFired,
    /// No alert fired and the growth rule would not have (or could not be evaluated),
    /// or `ALERTS` could not be read.
    #[default]
    None,
}

/// An alert's state at the window's end.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Firing,
    Pending,
    Resolved,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Detection {
    pub source: DetectionSource,
    /// The span `ALERTS` was searched over: `--lookback` before the window to its end.
    pub searched_from: Option<DateTime<Utc>>,
    pub searched_to: Option<DateTime<Utc>>,
    /// The first alert that fired (source `alert`).
    pub alertname: Option<String>,
    /// Its `severity` label.
    pub severity: Option<String>,
    /// When it became active (its first pending sample; the firing time for a rule
    /// without `for`).
    pub pending_at: Option<DateTime<Utc>>,
    /// Its first firing sample (source `alert`), or when the growth rule would first
    /// have fired (source `would-have-fired`).
    pub firing_at: Option<DateTime<Utc>>,
    /// The alert's state at the window's end.
    pub state_at_end: Option<AlertState>,
    /// The alert was already firing where the search began (`searched_from`): it fired
    /// earlier, and `firing_at` is null; a longer `--lookback` shows when.
    #[serde(default)]
    pub firing_before_search: bool,
    /// A would-have-fired rule was already pending at its first evaluation, at the
    /// window's start: the threshold was crossed before the window.
    #[serde(default)]
    pub pending_at_window_start: bool,
    /// How many alerting rules the rules API lists (null: it could not be read). 0 means
    /// no alert could have fired on this server.
    #[serde(default)]
    pub alerting_rules: Option<usize>,
    /// The alert's labels (`alertname` among them).
    #[serde(default)]
    pub labels: Labels,
    /// Other alerts that fired for the service in the span, first firing first.
    #[serde(default)]
    pub other_alerts: Vec<String>,
    /// The rule behind the alert, from the rules API, or the growth rule that would
    /// have fired.
    pub rule: Option<AlertRule>,
    /// Why the rule behind the alert is not known (rules API missing, rule gone).
    pub rule_unavailable_because: Option<String>,
    /// One sentence: what was found, or why nothing is known.
    pub because: String,
}

/// An alerting rule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct AlertRule {
    pub alertname: String,
    /// The expression, as the server (or `leakcollect rules`) writes it.
    pub expr: String,
    /// How long the expression must hold before the alert fires (`for`), in seconds.
    pub for_seconds: f64,
    /// The number the expression compares with at its top level (`… > 5e6`), if any.
    pub threshold: Option<f64>,
    /// The rule group and file (rules API only).
    pub group: Option<String>,
    pub file: Option<String>,
    /// For a would-have-fired rule: the step its expression was evaluated at.
    pub evaluated_step_seconds: Option<f64>,
}
