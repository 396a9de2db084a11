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
