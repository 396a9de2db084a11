//! What a draft knows of itself, for the report: when `init` created it, the heap
//! evidence's cause and when it was first attached (both recorded in its parameters),
//! and the other leakcollect drafts in its folder for the same service or pattern
//! (Similar Incidents).

use super::params::{Params, RecordedCause};
use crate::evidence::{DraftFacts, HeapCause, Shared, SimilarIncident};
use chrono::{DateTime, Utc};
use std::path::Path;

/// Other drafts listed at most (by file name).
const MAX_SIMILAR: usize = 10;
/// Files larger than this are not drafts (a report is a few hundred KB at most).
const MAX_DRAFT_BYTES: u64 = 8 << 20;

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Records the heap evidence's cause; the time it was identified is kept while the cause
/// stays the same (a refresh is not a new finding).
pub fn record_cause(params: &mut Params, cause: Option<HeapCause>, now: DateTime<Utc>) {
    params.root_cause = cause.map(|cause| match &params.root_cause {
        Some(r) if r.cause.patterns == cause.patterns => RecordedCause {
            identified_at: r.identified_at.clone(),
            cause,
        },
        _ => RecordedCause {
            identified_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            cause,
        },
    });
}

/// The draft's facts and its recorded cause, for `attach` and `validate --draft`.
pub fn facts(path: &Path, params: &Params) -> (DraftFacts, Option<HeapCause>) {
    let recorded = params.root_cause.as_ref();
    let facts = DraftFacts {
        investigation_started_at: params.started_at.as_deref().and_then(parse_time),
        root_cause_identified_at: recorded.and_then(|r| parse_time(&r.identified_at)),
        similar_incidents: similar(path, params),
    };
    (facts, recorded.map(|r| r.cause.clone()))
}

fn patterns(params: &Params) -> Vec<String> {
    params
        .root_cause
        .iter()
        .flat_map(|r| r.cause.patterns.iter().map(|p| p.pattern.clone()))
        .collect()
}

/// The other drafts in the folder (`*.md` with leakcollect's parameters) that share the
/// service or a heap pattern with this one.
fn similar(path: &Path, params: &Params) -> Vec<SimilarIncident> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let own = path.file_name();
    let ours = patterns(params);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<SimilarIncident> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .filter(|e| Some(e.file_name().as_os_str()) != own)
        .filter(|e| {
            e.metadata()
                .is_ok_and(|m| m.is_file() && m.len() <= MAX_DRAFT_BYTES)
        })
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).ok()?;
            let other = super::session::recorded_params(&text)?;
            let mut shares = Vec::new();
            if other.service.is_some() && other.service == params.service {
                shares.push(Shared::Service);
            }
            if patterns(&other).iter().any(|p| ours.contains(p)) {
                shares.push(Shared::Pattern);
            }
            (!shares.is_empty()).then(|| SimilarIncident {
                path: e.file_name().to_string_lossy().into_owned(),
                service: other.service.clone().unwrap_or_default(),
                from: other.from.clone().unwrap_or_default(),
                shares,
            })
        })
        .collect();
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found.truncate(MAX_SIMILAR);
    found
}
