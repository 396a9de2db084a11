//! The scrape interval of a pack's memory series, from how many samples the last hour
//! of the window (or the whole window, if shorter) holds, so no step undercuts it. One
//! probe for collect, validate, rules and scan, with one error handling: a failed probe
//! fails the run like any other required query.

use super::requests::Requests;
use crate::evidence::{QueryRecord, RequestKind};
use crate::pack::{self, Pack, Role};
use crate::prom::PromError;
use crate::prom::range::interval_from_samples;
use crate::timespec::format_duration;
use promql_parser::label::Matcher;
use std::time::Duration;

pub const PROBE_ID: &str = "scrape_interval_probe";

/// The interval (`None` when the series has fewer than two samples in the probed span)
/// and the request's record.
pub async fn scrape_interval(
    client: &Requests,
    pack: &Pack,
    matchers: &[Matcher],
    (from, to): (f64, f64),
) -> Result<(Option<Duration>, Option<QueryRecord>), PromError> {
    let Some(selector) = pack
        .by_role(Role::Heap)
        .next()
        .and_then(|heap| pack::first_selector(&heap.promql))
    else {
        return Ok((None, None));
    };
    let span = (to - from).min(3600.0).floor().max(1.0);
    let window = format_duration(Duration::from_secs(span as u64));
    // count_over_time on the raw selector counts stored samples, not evaluation steps.
    let text = format!("max(count_over_time({selector}[{window}]))");
    let promql = pack::inject(&text, matchers).map_err(|message| PromError::BadQuery {
        query_id: PROBE_ID.into(),
        message,
    })?;
    let answer = client.query(PROBE_ID, &promql, to).await?;
    let count = answer.data.first().map(|s| s.value);
    let record = QueryRecord {
        id: PROBE_ID.into(),
        role: "probe".into(),
        kind: RequestKind::Instant,
        description: "Samples per heap series in the last hour of the window, to keep the step above the scrape interval.".into(),
        promql,
        time: Some(to),
        ok: true,
        series: answer.data.len(),
        warnings: answer.warnings.clone(),
        requests: answer.requests,
        ..Default::default()
    };
    Ok((
        count.and_then(|c| interval_from_samples(span, c)),
        Some(record),
    ))
}
