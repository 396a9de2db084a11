//! Which requests retain memory: the per-route attribution of a period's growth
//! (`analysis::routes::leak_by_route`), as the report and the JSON show it.

use serde::{Deserialize, Serialize};

/// One route's part of the growth.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RouteLeak {
    /// The request method (`GET`, `POST`…); empty when the counter has no method label
    /// and for `other`.
    pub method: String,
    /// The route as the counter labels it; `other` for the routes past the busiest ones.
    pub route: String,
    /// The service's requests per second on this route (all instances), averaged over
    /// the steps fitted.
    pub requests_per_second: f64,
    /// Memory retained per request (bytes, non-negative); null when it cannot be told
    /// (`cannot_tell`, or the period's `leak_by_route_missing`).
    pub bytes_per_request: Option<f64>,
    /// 95 % interval of `bytes_per_request` (lower bound at least 0).
    pub bytes_per_request_interval: Option<[f64; 2]>,
    /// This route's share of the fitted growth over the steps fitted (0–1).
    pub share_of_growth: Option<f64>,
    /// Whether this route retains memory: its interval's lower bound is above zero.
    #[serde(default)]
    pub retains: bool,
    /// Why this route's figures are missing when the others are not.
    #[serde(default)]
    pub cannot_tell: Option<RouteAmbiguity>,
    /// Memory after 1,000 and 10,000 requests of this route from the period's baseline,
    /// when it retains memory.
    #[serde(default)]
    pub load_test: Option<RouteLoadTest>,
}

/// Why one route's retention cannot be told apart.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RouteAmbiguity {
    /// Its traffic is the same at every step (a health probe): it cannot be told from
    /// the growth no route explains, which includes whatever it retains.
    ConstantTraffic,
}

/// Why a period has no per-route figures.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoutesMissing {
    /// No per-route request counter matched (or it has no route label).
    NoRouteCounters,
    /// Fewer memory floor steps with request counts than the fit needs.
    TooFewSteps,
    /// Two or more routes' traffic has the same shape over the period: whichever retains
    /// memory, the fit cannot say which (`leak_by_route_alike` names them).
    TrafficShapesAlike,
    /// The fitted memory floor does not grow: there is nothing to attribute.
    NoGrowth,
    /// Every route's traffic is the same at every step: none can be told from the growth
    /// no route explains.
    ConstantTraffic,
}

impl RoutesMissing {
    /// The reason in words, for the warning and the report.
    pub fn reason(self) -> &'static str {
        match self {
            RoutesMissing::NoRouteCounters => {
                "no per-route request counter with a route label was found"
            }
            RoutesMissing::TooFewSteps => {
                "too few steps of the memory floor with request counts to fit the routes"
            }
            RoutesMissing::TrafficShapesAlike => {
                "can't tell: the traffic of these routes has the same shape over the period, so any of them could retain the memory"
            }
            RoutesMissing::NoGrowth => "the memory floor does not grow over the period",
            RoutesMissing::ConstantTraffic => {
                "can't tell: every route's traffic is constant over the period, so it cannot be told from growth no route explains"
            }
        }
    }
}

/// Memory after a number of one route's requests, from the period's baseline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RouteLoadTest {
    pub after_1k_requests_bytes: f64,
    pub after_10k_requests_bytes: f64,
}
