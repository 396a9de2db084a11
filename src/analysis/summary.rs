//! The TL;DR's facts (docs/figures.md, "TL;DR"): the leaking period's growth per
//! instance and span, what it cost (OOM kills, failed requests, slower responses — only
//! those the evidence shows), the cause when heap evidence names one, and the fix with
//! the growth after it. The sentence itself is the `tldr` partial's.

use super::symptoms::LeakSpan;
use crate::evidence::{
    Consequence, DraftFacts, Evidence, HeapCause, LatencyReference, Tldr, TldrFix,
};

/// A draft's facts and the heap evidence's cause, added to the evidence; the TL;DR is
/// chosen again so it names the cause.
pub fn with_draft(evidence: &mut Evidence, facts: DraftFacts, cause: Option<HeapCause>) {
    evidence.draft = Some(facts);
    evidence.root_cause = cause;
    evidence.tldr = tldr(evidence);
    evidence.lessons = super::lessons::lessons(evidence);
}

/// The TL;DR's facts; `None` when nothing leaked (no growth the symptoms rule counts).
pub fn tldr(evidence: &Evidence) -> Option<Tldr> {
    if evidence.symptoms.linear_growth.present != Some(true) {
        return None;
    }
    let (leak, span) = evidence.leak_period();
    let growth = leak.growth_bytes_per_hour?;
    let mut consequences = Vec::new();
    if let Some(count) = leak.oom_kills.filter(|n| *n > 0) {
        consequences.push(Consequence::OomKills { count });
    }
    if let Some(a) = leak.affected.as_ref().filter(|a| a.failed >= 0.5) {
        consequences.push(Consequence::FailedRequests {
            count: a.failed.round(),
            percent: a.failed_percent,
            at_least: !a.complete,
        });
    }
    if evidence.symptoms.service_degradation.present == Some(true) {
        // The latency the degradation rule compared: its rise within the period, else the
        // period's p95 against the after-fix one.
        let after = evidence
            .periods
            .after
            .as_ref()
            .and_then(|a| a.latency_p95_seconds);
        // The comparison the degradation rule found worse: against the after-fix level
        // first (as the box reads), else the period's rise.
        use super::symptoms::latency_worse;
        let pair = match (leak.latency_trend_seconds, leak.latency_p95_seconds, after) {
            (_, Some(before), Some(after)) if latency_worse(before, after) => {
                Some((before, after, LatencyReference::AfterFix))
            }
            (Some([a, b]), _, _) if latency_worse(b, a) => {
                Some((b, a, LatencyReference::PeriodStart))
            }
            _ => None,
        };
        if let Some((p95_seconds, reference_seconds, reference)) = pair {
            consequences.push(Consequence::SlowerResponses {
                p95_seconds,
                reference_seconds,
                reference,
            });
        }
    }
    let fix = evidence.fix_deployed.map(|at| TldrFix {
        at,
        growth_bytes_per_hour: evidence
            .periods
            .after
            .as_ref()
            .and_then(|a| a.growth_bytes_per_hour),
        // In a draft, validate's Status (the one its Status block keeps) wins.
        state: evidence
            .draft
            .as_ref()
            .and_then(|d| d.validated_state)
            .or(evidence.status.as_ref().map(|s| s.state)),
    });
    Some(Tldr {
        growth_bytes_per_hour: growth,
        leak_from: leak.from,
        leak_to: leak.to,
        leak_hours: leak.hours,
        consequences,
        stopped_at: match span {
            LeakSpan::BeforeRollout(at) => Some(at),
            _ => None,
        },
        cause: evidence.root_cause.clone(),
        fix,
    })
}
