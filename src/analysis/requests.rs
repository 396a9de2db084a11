//! Memory retained per 1,000 requests: each instance's memory against its cumulative
//! request counter (`growth::bytes_per_request`), weighted by hours observed.

use super::PeriodView;
use super::growth::bytes_per_request;
use super::levels::clip;
use crate::acquire::lifetimes::matching;
use crate::pack::Role;
use crate::stats::weighted_median;

const HOUR: f64 = 3600.0;

pub fn bytes_per_1k_requests(view: &PeriodView) -> Option<f64> {
    let mut per_request = Vec::new();
    for i in &view.instances {
        let Some(requests) = matching(&i.heap.labels, view.data.series(Role::Requests)) else {
            continue;
        };
        let requests = clip(&requests.points, view.start, view.end);
        if let Some(bpr) = bytes_per_request(&i.points, &requests, i.cut) {
            per_request.push((bpr, i.span() / HOUR));
        }
    }
    weighted_median(&per_request).map(|b| b * 1000.0)
}

/// Memory after 1,000 and 10,000 requests from the period's own baseline, at its own
/// measured retention per request.
pub fn load_test(p: &crate::evidence::Period) -> Option<crate::evidence::LoadTest> {
    let (base, per_1k) = (p.heap_baseline_bytes?, p.bytes_per_1k_requests?);
    Some(crate::evidence::LoadTest {
        baseline_bytes: base,
        per_1k_requests_bytes: per_1k,
        after_1k_requests_bytes: base + per_1k,
        after_10k_requests_bytes: base + 10.0 * per_1k,
    })
}
