//! The parameters `init` and `attach` record in a draft (a hidden `params` block), so a
//! later `attach DRAFT` or `validate --draft DRAFT` needs nothing else.

use super::DraftError;
use crate::cli::{CollectArgs, DraftParamArgs, Format, PrometheusArgs};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Params {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_deployed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookback: Option<String>,
    /// Heap snapshots or profiles (`attach --heap`), oldest first, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heap: Option<Vec<String>>,
    /// The code the heap profiles were taken of (`attach --source`), absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// GC logs (`attach --gc-log`), oldest first, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gc_log: Option<Vec<String>>,
    /// Where `attach --dashboard` writes the Grafana dashboard (absolute), rewritten by
    /// every attach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<String>,
    /// `init --investigator`: the header's Investigator line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub investigator: Option<String>,
    /// When `init` created the draft (RFC 3339): the timeline's "Investigation started".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// The cause the heap evidence named, and when it was first attached: the timeline's
    /// "Root cause identified", the TL;DR's cause (also for `validate --draft`, which
    /// does not read the heap files) and other drafts' Similar Incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<RecordedCause>,
    /// The last `validate --draft` verdict's Status, and since when it has said resolved:
    /// the TL;DR and Lessons state validate's Status (the one the Status block keeps), and
    /// Report Completed the day the leak was first found resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validated: Option<RecordedValidation>,
}

/// `validate --draft`'s last verdict as a draft records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedValidation {
    pub state: crate::evidence::StatusState,
    /// RFC 3339.
    pub checked_at: String,
    /// RFC 3339: the first run of the current streak of resolved verdicts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_since: Option<String>,
}

/// The heap evidence's cause as a draft records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedCause {
    /// RFC 3339; kept while the cause stays the same; null when the cause was first
    /// recorded from files attached before leakcollect recorded causes (no true time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identified_at: Option<String>,
    pub cause: crate::evidence::HeapCause,
}

const PREFIX: &str = "<!-- leakcollect:params ";

impl Params {
    /// The parameters given on the command line.
    pub fn given(args: &DraftParamArgs) -> Params {
        Params {
            service: args.service.clone(),
            service_label: args.service_label.clone(),
            selector: args.selector.clone(),
            container: args.container.clone(),
            from: args.from.clone(),
            to: args.to.clone(),
            fix_deployed: args.fix_deployed.clone(),
            runtime: args.runtime.clone(),
            warmup: args.warmup.clone(),
            lookback: args.lookback.clone(),
            heap: None,
            started_at: None,
            investigator: None,
            root_cause: None,
            validated: None,
            dashboard: None,
            gc_log: None,
            source: None,
        }
    }

    /// The collect arguments for a draft's parameters (recorded, overridden by those given).
    pub fn collect_args(
        &self,
        path: &Path,
        queries: Option<std::path::PathBuf>,
        step: Option<String>,
        prometheus: &PrometheusArgs,
    ) -> Result<CollectArgs, DraftError> {
        let missing = |flag| DraftError::MissingParam {
            path: path.to_path_buf(),
            flag,
        };
        Ok(CollectArgs {
            service: Some(self.service.clone().ok_or_else(|| missing("--service"))?),
            service_label: self.service_label.clone().unwrap_or_else(|| "job".into()),
            selector: self.selector.clone(),
            container: self.container.clone(),
            from: Some(self.from.clone().ok_or_else(|| missing("--from"))?),
            to: self.to.clone().unwrap_or_else(|| "now".into()),
            fix_deployed: self.fix_deployed.clone(),
            runtime: self.runtime.clone().unwrap_or_else(|| "auto".into()),
            warmup: self
                .warmup
                .clone()
                .unwrap_or_else(|| crate::cli::DEFAULT_WARMUP.into()),
            lookback: self
                .lookback
                .clone()
                .unwrap_or_else(|| crate::cli::DEFAULT_LOOKBACK.into()),
            format: Format::Markdown,
            output: None,
            assets: None,
            template: None,
            queries,
            step,
            quiet: true,
            prometheus: prometheus.clone(),
        })
    }

    /// Values given now override the recorded ones.
    pub fn merged_with(&self, given: &Params) -> Params {
        let pick = |a: &Option<String>, b: &Option<String>| b.clone().or_else(|| a.clone());
        Params {
            service: pick(&self.service, &given.service),
            service_label: pick(&self.service_label, &given.service_label),
            selector: pick(&self.selector, &given.selector),
            container: pick(&self.container, &given.container),
            from: pick(&self.from, &given.from),
            to: pick(&self.to, &given.to),
            fix_deployed: pick(&self.fix_deployed, &given.fix_deployed),
            runtime: pick(&self.runtime, &given.runtime),
            warmup: pick(&self.warmup, &given.warmup),
            lookback: pick(&self.lookback, &given.lookback),
            heap: given.heap.clone().or_else(|| self.heap.clone()),
            started_at: self.started_at.clone().or_else(|| given.started_at.clone()),
            investigator: given
                .investigator
                .clone()
                .or_else(|| self.investigator.clone()),
            root_cause: given.root_cause.clone().or_else(|| self.root_cause.clone()),
            validated: given.validated.clone().or_else(|| self.validated.clone()),
            dashboard: given.dashboard.clone().or_else(|| self.dashboard.clone()),
            gc_log: given.gc_log.clone().or_else(|| self.gc_log.clone()),
            source: given.source.clone().or_else(|| self.source.clone()),
        }
    }

    /// The content of the params block: one HTML comment line, invisible when rendered.
    pub fn to_block_content(&self) -> String {
        let json = serde_json::to_string(self).expect("params serialize");
        // "--" may not appear inside an HTML comment; JSON allows escaping it.
        format!("{PREFIX}{} -->\n", json.replace("--", "-\\u002d"))
    }

    pub fn from_block_content(content: &str) -> Option<Params> {
        let line = content.lines().find(|l| l.starts_with(PREFIX))?;
        let json = line
            .strip_prefix(PREFIX)?
            .trim_end_matches('\r')
            .strip_suffix("-->")?;
        serde_json::from_str(json.trim()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_merge() {
        let p = Params {
            service: Some("api--x -->".into()),
            from: Some("now-24h".into()),
            ..Default::default()
        };
        let content = p.to_block_content();
        assert!(!content[4..content.len() - 4].contains("--"), "{content}");
        assert_eq!(Params::from_block_content(&content), Some(p.clone()));
        let merged = p.merged_with(&Params {
            from: Some("now-2d".into()),
            ..Default::default()
        });
        assert_eq!(merged.from.as_deref(), Some("now-2d"));
        assert_eq!(merged.service.as_deref(), Some("api--x -->"));
    }
}
