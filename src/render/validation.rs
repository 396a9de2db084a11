//! `validate`'s result for people: the text on stdout, the Markdown summary, and the
//! view the draft's Status, timeline, Next Review and Validation runs blocks read. The
//! verdict, its reason and the next review are fields of the model (`analysis::verdict`);
//! this only words them.

use super::evidence::block;
use super::registry::inline_safe;
use crate::evidence::{Validation, Verdict};
use crate::render::blocks::BlockId;
use crate::units;
use serde_json::{Value, json};

/// The verdict's JSON name (`resolved`, `leaking`, `inconclusive`).
pub fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Resolved => "resolved",
        Verdict::Leaking => "leaking",
        Verdict::Inconclusive => "inconclusive",
    }
}

/// Why the next review is when it is, in words.
fn next_review_words(v: &Validation) -> String {
    match (v.verdict, v.next_review) {
        (Verdict::Leaking, _) | (_, None) => "after the next fix is deployed".to_string(),
        (Verdict::Resolved, Some(t)) => {
            format!(
                "{} (a follow-up a week after the validation)",
                units::date(t)
            )
        }
        (Verdict::Inconclusive, Some(t)) if v.enough_data_at == Some(t) => {
            format!("{} (enough data after the fix by then)", units::time(t))
        }
        (Verdict::Inconclusive, Some(t)) => {
            format!("{} (next scheduled validate)", units::time(t))
        }
    }
}

/// This run's row of the Validation runs table.
fn run_row(v: &Validation) -> String {
    let after = v.evidence.periods.after.as_ref();
    let growth = after
        .and_then(|p| p.growth_bytes_per_hour)
        .map_or(units::NA.to_string(), units::mb_per_hour);
    let interval = after
        .and_then(|p| p.growth_interval_bytes_per_hour)
        .map(|[lo, hi]| {
            format!(
                " ({} to {})",
                units::mb_per_hour(lo),
                units::mb_per_hour(hi)
            )
        })
        .unwrap_or_default();
    let oom = after
        .and_then(|p| p.oom_kills)
        .map_or("unknown".to_string(), |n| n.to_string());
    format!(
        "| {} | {} | {growth}{interval} | {oom} | {} |",
        v.checked_at.format("%Y-%m-%d %H:%M"),
        units::hours(v.hours_after_fix),
        verdict_name(v.verdict)
    )
}

/// The view `validate` adds to the draft's blocks: timeline row, next review, and the
/// history of runs (`previous_rows` from the draft, plus this run).
pub fn view(v: &Validation, previous_rows: Vec<String>) -> Value {
    let mut rows = previous_rows;
    rows.push(run_row(v));
    json!({
        "verdict": verdict_name(v.verdict),
        "resolved": v.verdict == Verdict::Resolved,
        "reason": v.reason,
        "checked_at": v.checked_at,
        "next_review": next_review_words(v),
        "max_growth": v.thresholds.max_growth_bytes_per_hour,
        "min_hours": v.thresholds.min_hours,
        "rows": rows,
    })
}

/// The plain-text answer on stdout.
pub fn text(v: &Validation) -> String {
    let e = &v.evidence;
    let mut out = format!(
        "{}: {}\nservice {} ({}), fix deployed {}, checked {}\n",
        verdict_name(v.verdict),
        v.reason,
        e.service,
        e.runtime,
        e.fix_deployed.map_or(units::NA.into(), units::time),
        units::time(v.checked_at)
    );
    for (name, period) in [
        ("before the fix", e.periods.before.as_ref()),
        ("after the fix and warm-up", e.periods.after.as_ref()),
    ] {
        if let Some(p) = period {
            out.push_str(&format!(
                "{name} ({} → {}, {} of data): growth {}{}, OOM kills {}, restarts {}\n",
                units::time(p.from),
                units::time(p.to),
                units::hours(p.observed_hours),
                p.growth_bytes_per_hour
                    .map_or(units::NA.into(), units::mb_per_hour),
                p.growth_interval_bytes_per_hour
                    .map(|[lo, hi]| format!(
                        " (95% interval {} to {})",
                        units::mb_per_hour(lo),
                        units::mb_per_hour(hi)
                    ))
                    .unwrap_or_default(),
                p.oom_kills.map_or("unknown".into(), |n| n.to_string()),
                p.restarts
            ));
        }
    }
    if let Some(t) = v.enough_data_at {
        out.push_str(&format!(
            "enough data after the fix at {}\n",
            units::time(t)
        ));
    }
    out
}

/// The Markdown summary on stdout: the verdict, then the After Fix, Improvement and
/// Validation runs blocks.
pub fn markdown(v: &Validation, view: &Value) -> String {
    let mut out = format!(
        "**Validation** ({}): **{}** — {}\n\n",
        units::time(v.checked_at),
        verdict_name(v.verdict),
        inline_safe(&v.reason)
    );
    for id in [
        BlockId::AfterFix,
        BlockId::Improvement,
        BlockId::ValidationRuns,
    ] {
        if let Some(text) = block(&v.evidence, id, Some(view)) {
            out.push_str(&text);
            out.push('\n');
        }
    }
    out
}
