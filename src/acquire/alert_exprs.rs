//! The PromQL of `leakcollect rules`' alert expressions, built here (below `commands`)
//! so detection can evaluate the growth rule over the window with the very expression
//! the rule file holds.

use super::{AcquireError, plan};
use crate::config::QueryConfig;
use crate::pack::{Pack, PackQuery, Role};

/// A pack query's PromQL (`promql`: its text, perhaps with `${range}` filled) with the
/// service's matchers injected.
pub fn expr(
    config: &QueryConfig,
    pack: &Pack,
    query: &PackQuery,
    promql: &str,
) -> Result<String, AcquireError> {
    plan::inject(promql, &plan::matchers_for(config, pack, query), &query.id)
}

/// The first query of `role` in the pack, injected.
pub fn role_expr(
    config: &QueryConfig,
    pack: &Pack,
    role: Role,
) -> Result<Option<String>, AcquireError> {
    pack.by_role(role)
        .next()
        .map(|q| expr(config, pack, q, &q.promql))
        .transpose()
}

/// The growth rule's expression: growth of the post-GC floor (the lowest sample of
/// every 10 minutes) per instance, leaving out instances that restarted within the
/// hour: deriv() across a restart is meaningless, and rate() on a gauge counts every GC
/// drop as a reset.
#[derive(Debug, Clone, PartialEq)]
pub struct GrowthExpr {
    /// `deriv(min_over_time((heap)[10m:1m])[1h:1m]) * 3600`: bytes per hour.
    pub per_hour: String,
    /// The label instances are told apart by (`instance`, or `pod` for containers).
    pub join: &'static str,
    /// `changes((process start)[1h:1m]) > 0`, when the pack has a start time.
    pub restarted: Option<String>,
}

impl GrowthExpr {
    /// The alerting expression at `threshold` bytes per hour, as the rule file has it.
    pub fn alerting(&self, threshold: f64) -> String {
        let growth = format!("{} > {threshold}", self.per_hour);
        self.guarded(growth)
    }

    /// The growth itself, in bytes per hour, without a threshold (what detection
    /// evaluates over the window, to compare with any threshold).
    pub fn value(&self) -> String {
        self.guarded(self.per_hour.clone())
    }

    fn guarded(&self, growth: String) -> String {
        match &self.restarted {
            Some(restarted) => format!("({growth}) unless on ({}) ({restarted})", self.join),
            None => growth,
        }
    }
}

/// The growth rule's expression for `config`'s service and `pack`.
pub fn growth_expr(config: &QueryConfig, pack: &Pack) -> Result<GrowthExpr, AcquireError> {
    let heap_expr = role_expr(config, pack, Role::Heap)?.expect("packs have a heap query");
    let join = if pack.runtime == "container" {
        "pod"
    } else {
        "instance"
    };
    let restarted = role_expr(config, pack, Role::ProcessStart)?
        .map(|start_expr| format!("changes(({start_expr})[1h:1m]) > 0"));
    Ok(GrowthExpr {
        per_hour: format!("deriv(min_over_time(({heap_expr})[10m:1m])[1h:1m]) * 3600"),
        join,
        restarted,
    })
}

/// A connection pool's connections in use as % of its maximum, per pool: the in-use and
/// maximum series pair by their labels, the metric name aside, as `analysis::pools`
/// pairs them; a maximum of 0 (Go's database/sql: unlimited) gives no ratio.
pub fn pool_expr(config: &QueryConfig, pack: &Pack) -> Result<Option<String>, AcquireError> {
    let (Some(used), Some(max)) = (
        role_expr(config, pack, Role::ConnectionsUsed)?,
        role_expr(config, pack, Role::ConnectionsMax)?,
    ) else {
        return Ok(None);
    };
    Ok(Some(format!("({used}) / (({max}) > 0) * 100")))
}
