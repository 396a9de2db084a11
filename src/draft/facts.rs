//! What a draft knows of itself, for the report: when `init` created it, the heap
//! evidence's cause and when it was first attached, `validate`'s last Status and since
//! when it has said resolved (all recorded in its parameters), and the other leakcollect
//! drafts in its folder for the same service or pattern (Similar Incidents).

use super::params::{Params, RecordedCause, RecordedValidation};
use crate::evidence::{DraftFacts, HeapCause, Shared, SimilarIncident, StatusState};
use chrono::{DateTime, Utc};
use std::io::Read;
use std::path::Path;

/// Other drafts listed at most (newest windows first).
const MAX_SIMILAR: usize = 10;
/// Files looked at in the folder at most (a folder of reports, not a data dump).
const MAX_FILES: usize = 500;
/// Bytes read of each: the params block is the draft's second line.
const HEAD_BYTES: u64 = 16 << 10;

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn same_patterns(a: &HeapCause, b: &HeapCause) -> bool {
    let set = |c: &HeapCause| {
        c.patterns
            .iter()
            .map(|p| {
                let mut objects = p.objects.clone();
                objects.sort();
                (p.pattern.clone(), objects)
            })
            .collect::<std::collections::BTreeSet<_>>()
    };
    set(a) == set(b)
}

/// Records the heap evidence's cause. Its time is kept while the cause stays the same (a
/// refresh is not a finding); it is now only when heap files were `given` on this run —
/// files attached by an older leakcollect have a cause but no true time.
pub fn record_cause(
    params: &mut Params,
    cause: Option<HeapCause>,
    given: bool,
    now: DateTime<Utc>,
) {
    params.root_cause = cause.map(|cause| match &params.root_cause {
        Some(r) if same_patterns(&r.cause, &cause) => RecordedCause {
            identified_at: r.identified_at.clone(),
            cause,
        },
        _ => RecordedCause {
            identified_at: given.then(|| rfc3339(now)),
            cause,
        },
    });
}

/// Records `validate`'s Status; a resolved verdict keeps the start of its streak.
pub fn record_validation(params: &mut Params, state: StatusState, now: DateTime<Utc>) {
    let resolved_since = (state == StatusState::Resolved).then(|| {
        params
            .validated
            .as_ref()
            .filter(|v| v.state == StatusState::Resolved)
            .and_then(|v| v.resolved_since.clone())
            .unwrap_or_else(|| rfc3339(now))
    });
    params.validated = Some(RecordedValidation {
        state,
        checked_at: rfc3339(now),
        resolved_since,
    });
}

/// The draft's facts and its recorded cause, for `attach` and `validate --draft`. The
/// draft's own times stand for the investigation only when they come before the fix.
pub fn facts(
    path: &Path,
    params: &Params,
    fix: Option<DateTime<Utc>>,
) -> (DraftFacts, Option<HeapCause>) {
    let before_fix = |t: Option<DateTime<Utc>>| t.filter(|t| fix.is_none_or(|f| *t < f));
    let recorded = params.root_cause.as_ref();
    let validated = params.validated.as_ref();
    let facts = DraftFacts {
        investigator: params.investigator.clone(),
        investigation_started_at: before_fix(params.started_at.as_deref().and_then(parse_time)),
        root_cause_identified_at: before_fix(
            recorded
                .and_then(|r| r.identified_at.as_deref())
                .and_then(parse_time),
        ),
        similar_incidents: similar(path, params),
        validated_state: validated.map(|v| v.state),
        report_completed_at: validated
            .and_then(|v| v.resolved_since.as_deref())
            .and_then(parse_time),
        validated_at: validated.and_then(|v| parse_time(&v.checked_at)),
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

/// A file name that can stand in a Markdown link and inside a block: no control
/// characters and nothing that ends a link or a comment.
fn safe_name(name: &str) -> bool {
    !name
        .chars()
        .any(|c| c.is_control() || matches!(c, '<' | '>' | '[' | ']' | '(' | ')' | '`'))
}

/// The parameters of another draft: its first `HEAD_BYTES` only.
fn recorded_params(path: &Path) -> Option<Params> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(HEAD_BYTES)
        .read_to_end(&mut head)
        .ok()?;
    super::session::recorded_params(&String::from_utf8_lossy(&head))
}

/// The other drafts in the folder (regular `*.md` files with leakcollect's parameters)
/// that share the service or a heap pattern with this one.
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
        .take(MAX_FILES)
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .filter(|e| Some(e.file_name().as_os_str()) != own)
        // Not followed: a link or a FIFO is not a report of this folder.
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            if !safe_name(&name) {
                return None;
            }
            let other = recorded_params(&e.path())?;
            let mut shares = Vec::new();
            if other.service.is_some() && other.service == params.service {
                shares.push(Shared::Service);
            }
            if patterns(&other).iter().any(|p| ours.contains(p)) {
                shares.push(Shared::Pattern);
            }
            (!shares.is_empty()).then(|| SimilarIncident {
                path: name,
                service: other.service.clone().unwrap_or_default(),
                from: other
                    .from
                    .as_deref()
                    .and_then(|f| crate::timespec::parse_time(f, Utc::now()).ok())
                    .filter(|_| !other.from.as_deref().is_some_and(|f| f.starts_with("now"))),
                shares,
            })
        })
        .collect();
    // Newest windows first; those without a time last, by name.
    found.sort_by(|a, b| b.from.cmp(&a.from).then(a.path.cmp(&b.path)));
    found.truncate(MAX_SIMILAR);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_break_a_link_or_a_block_are_skipped() {
        assert!(safe_name("2026-10-api-leak.md"));
        for bad in ["a\n<!-- x -->.md", "a>b.md", "a](x).md", "a`b.md"] {
            assert!(!safe_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_resolved_streak_keeps_its_start() {
        let mut p = Params::default();
        let t0 = parse_time("2026-12-01T10:00:00Z").unwrap();
        let t1 = parse_time("2026-12-02T10:00:00Z").unwrap();
        record_validation(&mut p, StatusState::Resolved, t0);
        record_validation(&mut p, StatusState::Resolved, t1);
        let v = p.validated.clone().unwrap();
        assert_eq!(v.resolved_since.as_deref(), Some("2026-12-01T10:00:00Z"));
        assert_eq!(v.checked_at, "2026-12-02T10:00:00Z");
        record_validation(&mut p, StatusState::InProgress, t1);
        assert_eq!(p.validated.unwrap().resolved_since, None);
    }
}
