//! Acquisition: everything between a validated configuration and the series the
//! analysis reads, in one path for collect, validate, rules and scan — detect the
//! runtime ([`detect`]), probe the scrape interval ([`probe`]), plan the requests and
//! the steps ([`plan`], [`steps`]: one rule for a finer second round), fetch them
//! ([`fetch`], [`fleet`] for scan), and normalise what came back ([`normalise`]: HA
//! replicas, memory parts, stale tails; [`lifetimes`]: where each process lifetime
//! begins). Nothing here computes a report figure; `analysis` does, from [`Acquired`].

pub mod alerts;
pub mod deploys;
pub mod detect;
mod error;
pub mod fetch;
pub mod fleet;
pub mod hints;
pub mod lifetimes;
mod links;
pub mod normalise;
pub mod plan;
pub mod probe;
pub mod rules;
pub mod steps;

pub use error::AcquireError;

use crate::config::CollectConfig;
use crate::evidence::{QueryRecord, RequestKind};
use crate::pack::{Pack, Role};
use crate::prom::{Client, InstantSample, RangeSeries};
use crate::timespec::{format_duration, unix_seconds};
use lifetimes::Boundaries;
use std::collections::HashMap;
use std::time::Duration;

/// Range answers by role, for the whole window. A role is absent when its query was
/// not in the pack or failed; present and empty when it matched nothing.
#[derive(Debug, Default, Clone)]
pub struct RangeData {
    pub step: f64,
    pub by_role: HashMap<Role, Vec<RangeSeries>>,
    /// Roles fetched at another step than `step` (a finer one, for short lifetimes).
    pub role_steps: HashMap<Role, f64>,
}

impl RangeData {
    pub fn new(step: f64) -> Self {
        RangeData {
            step,
            ..Default::default()
        }
    }
    /// The step `role`'s series were evaluated at.
    pub fn step_of(&self, role: Role) -> f64 {
        self.role_steps.get(&role).copied().unwrap_or(self.step)
    }
    pub fn series(&self, role: Role) -> &[RangeSeries] {
        self.by_role.get(&role).map(Vec::as_slice).unwrap_or(&[])
    }
    pub fn has_data(&self, role: Role) -> bool {
        !self.series(role).is_empty()
    }
}

/// Which slice of the window an instant query covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodName {
    Window,
    Before,
    After,
}

impl PeriodName {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodName::Window => "window",
            PeriodName::Before => "before",
            PeriodName::After => "after",
        }
    }
}

/// One period's instant answers, by role, in the pack's order.
pub type PeriodAnswers = Vec<(Role, Vec<InstantSample>)>;

/// Appended to a range query's id for its second round at a finer step.
pub const FINER_SUFFIX: &str = "_finer";

/// Everything one service's window brought back, normalised, with the requests sent.
#[derive(Debug)]
pub struct Acquired {
    pub pack: Pack,
    pub runtime_detected_from: Vec<String>,
    /// The window's step (the memory series may be finer: `data.role_steps`).
    pub step: f64,
    pub data: RangeData,
    pub instants: HashMap<PeriodName, PeriodAnswers>,
    /// Where each heap series' lifetimes begin, by index into `data`'s heap series.
    pub boundaries: Vec<Option<Boundaries>>,
    pub records: Vec<QueryRecord>,
    /// In the order things were found: configuration notes, detection, the server's
    /// warnings, normalisation, the finer round.
    pub warnings: Vec<String>,
    /// The server's URL with credentials removed, for the report.
    pub prometheus_url: String,
    /// The window the figures cover: the one asked for, or ending where the data ends
    /// ([`end_at_data`]).
    pub window: crate::config::Window,
    /// The end asked for, when the window was cut back to where the data ends.
    pub requested_to: Option<chrono::DateTime<chrono::Utc>>,
    /// The start asked for, when the data starts well after it (the window then starts
    /// at the first memory sample).
    pub requested_from: Option<chrono::DateTime<chrono::Utc>>,
    /// `ALERTS` and the rules API's answer (detection).
    pub alerts: alerts::AlertData,
    /// The series that mark deployments, and the memory before the window (onset).
    pub deploys: deploys::DeployData,
}

/// Acquires one service's window as `config` describes it; with `--fix-deployed auto`
/// the fix is the time `pick_fix` takes from the deploy series, found before the
/// requests are planned (the periods depend on it).
pub async fn acquire(
    config: &CollectConfig,
    pick_fix: deploys::FixPicker,
) -> anyhow::Result<Acquired> {
    let client = Client::new(config.client.clone())?;
    let (from, to) = (
        unix_seconds(config.window.from),
        unix_seconds(config.window.to),
    );
    let mut records = Vec::new();
    let mut warnings = config.notes.clone();
    let (pack, runtime_detected_from) = match &config.pack {
        Some(pack) => (
            pack.clone(),
            vec![format!("--runtime {} given", pack.runtime)],
        ),
        None => detect::detect_runtime(&client, config, &mut records, &mut warnings).await?,
    };
    let heap_query = pack
        .by_role(Role::Heap)
        .next()
        .expect("packs have a heap query");
    // With an unknown scrape interval no finer step is tried: below the interval, points
    // repeat samples and flatten the slope.
    let (step, scrape_interval) = match config.step {
        Some(step) => (step, None),
        None => {
            let matchers = plan::matchers_for(config, &pack, heap_query);
            let (interval, record) =
                probe::scrape_interval(&client, &pack, &matchers, (from, to)).await?;
            records.extend(record);
            (steps::window_step(to - from, interval), interval)
        }
    };
    let step = step.as_secs_f64();
    // Listed after the window's own requests, which come first in the appendix.
    let (deploy_data, deploy_records, deploy_warnings) =
        deploys::fetch(&client, config, &pack, (step, scrape_interval)).await?;
    let resolved = resolve_fix(config, &pack, &deploy_data, pick_fix)?;
    let config = &resolved;
    let planned = plan::plan(config, &pack, step)?;
    let fetched = fetch::fetch_all(&client, config, &planned, (from, to, step)).await?;
    records.extend(fetched.records);
    records.extend(deploy_records);
    warnings.extend(fetched.warnings);
    warnings.extend(deploy_warnings);
    let mut data = fetched.data;
    if !data.has_data(Role::Heap) {
        return Err(
            hints::no_data(&client, config, &pack, heap_query, (from, to))
                .await
                .into(),
        );
    }
    warnings.extend(normalise::normalise(&mut data, to).warnings());
    warnings.extend(lifetimes::restart_source_note(&pack, &data));
    let mut acquired = Acquired {
        boundaries: lifetimes::heap_boundaries(&data),
        pack,
        runtime_detected_from,
        step,
        data,
        instants: fetched.instants,
        records,
        warnings,
        prometheus_url: client.display_url().to_string(),
        window: config.window.clone(),
        requested_to: None,
        requested_from: None,
        alerts: Default::default(),
        deploys: deploy_data,
    };
    if config.end_at_data {
        cut_to_data(&client, config, &mut acquired).await?;
    }
    let (from, to) = (
        unix_seconds(acquired.window.from),
        unix_seconds(acquired.window.to),
    );
    if let Some(interval) = scrape_interval {
        refine(&client, &planned, &mut acquired, (from, to), interval).await;
    }
    let (alerts, records, warnings) =
        alerts::acquire_alerts(&client, config, &acquired.pack, (from, to), step).await;
    acquired.alerts = alerts;
    acquired.records.extend(records);
    acquired.warnings.extend(warnings);
    Ok(acquired)
}

/// `config` with the fix `--fix-deployed auto` found; unchanged without `auto`.
fn resolve_fix(
    config: &CollectConfig,
    pack: &Pack,
    data: &deploys::DeployData,
    pick_fix: deploys::FixPicker,
) -> Result<CollectConfig, AcquireError> {
    let mut resolved = config.clone();
    if config.window.fix_spec != Some(crate::config::FixSpec::Auto) {
        return Ok(resolved);
    }
    let Some(fix) = pick_fix(config, data) else {
        return Err(AcquireError::NoDeployment {
            selector: deploys::looked_for_selector(config, pack),
            from: crate::timespec::display(config.window.from),
            to: crate::timespec::display(config.window.to),
            looked_for: deploys::LOOKED_FOR.to_string(),
        });
    };
    resolved.window.fix_deployed = Some(crate::timespec::from_unix_seconds(fix));
    Ok(resolved)
}

/// Cuts the window to the memory samples when the data starts well after the window
/// does (`--from now-2d` on a day of data) or ends well before it (`--to now` on a
/// service that stopped, or backfilled data): otherwise levels at the edges are missing,
/// per-hour and per-week figures are diluted by hours without data, the duration and
/// the Date count them. The instant queries (whose ranges span the periods) are asked
/// again for the new periods; they replace the first ones in the records.
async fn cut_to_data(
    client: &Client,
    config: &CollectConfig,
    acquired: &mut Acquired,
) -> anyhow::Result<()> {
    let (from, to) = (
        unix_seconds(acquired.window.from),
        unix_seconds(acquired.window.to),
    );
    let heap = acquired.data.series(Role::Heap);
    let first = heap
        .iter()
        .filter_map(|s| s.points.first().map(|p| p.0))
        .reduce(f64::min);
    let last = heap
        .iter()
        .filter_map(|s| s.points.last().map(|p| p.0))
        .reduce(f64::max);
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(());
    };
    let far = (2.0 * acquired.step).max(300.0);
    // A fix before the first sample keeps the start: the data is all after it, and the
    // report says the before-fix period has none.
    let fix = config.window.fix_deployed.map(unix_seconds);
    let start = if first - from > far && fix.is_none_or(|f| f > first) {
        first
    } else {
        from
    };
    let end = if to - last > far { last } else { to };
    if (start == from && end == to) || end <= start {
        return Ok(());
    }
    let mut cut = config.clone();
    cut.window.from = crate::timespec::from_unix_seconds(start);
    cut.window.to = crate::timespec::from_unix_seconds(end);
    if cut
        .window
        .fix_deployed
        .is_some_and(|fix| fix >= cut.window.to)
    {
        acquired.warnings.push(format!(
            "the data ends at {}, before the fix at {}: there is no after-fix period",
            crate::timespec::display(cut.window.to),
            cut.window
                .fix_deployed
                .map(crate::timespec::display)
                .unwrap_or_default()
        ));
        cut.window.fix_deployed = None;
    }
    let instants: Vec<plan::PlannedQuery> = plan::plan(&cut, &acquired.pack, acquired.step)?
        .into_iter()
        .filter(|q| q.period.is_some())
        .collect();
    let again = fetch::fetch_all(client, &cut, &instants, (start, end, acquired.step)).await?;
    acquired
        .records
        .retain(|r| r.kind != RequestKind::Instant || r.period.is_none());
    acquired.records.extend(again.records);
    acquired.warnings.extend(again.warnings);
    acquired.instants = again.instants;
    if start > from {
        acquired.warnings.push(format!(
            "the data starts at {}, {} after the window's start ({}): every period starts there, so levels at the start, rates per hour and per week, the duration and the Date cover the hours with data",
            crate::timespec::display(cut.window.from),
            format_duration(Duration::from_secs_f64((start - from).round())),
            crate::timespec::display(acquired.window.from),
        ));
        acquired.requested_from = Some(acquired.window.from);
    }
    if end < to {
        acquired.warnings.push(format!(
            "the data ends at {}, {} before the window's end ({}): every period ends there, so levels at the end, rates per hour and the duration cover the hours with data",
            crate::timespec::display(cut.window.to),
            format_duration(Duration::from_secs_f64((to - end).round())),
            crate::timespec::display(acquired.window.to),
        ));
        acquired.requested_to = Some(acquired.window.to);
    }
    acquired.window = cut.window;
    Ok(())
}

/// The second round: when process lifetimes are short for the window's step, the
/// memory and restart series again at a finer step (both rounds are listed).
async fn refine(
    client: &Client,
    planned: &[plan::PlannedQuery],
    acquired: &mut Acquired,
    (from, to): (f64, f64),
    interval: Duration,
) {
    let data = &acquired.data;
    let refine = steps::roles_to_refine(data);
    let series = refine.iter().map(|r| data.series(*r).len()).sum();
    let Some(lifetime) = steps::median_lifetime(data, &acquired.boundaries, from, to) else {
        return;
    };
    let Some(fine) =
        steps::finer_growth_step(data, &acquired.boundaries, (from, to), interval, series)
    else {
        return;
    };
    let (fine, coarse) = (fine.as_secs_f64(), acquired.step);
    let lifetime_text = format_duration(Duration::from_secs_f64(lifetime.round()));
    let queries: Vec<plan::PlannedQuery> = planned
        .iter()
        .filter(|i| i.period.is_none() && refine.contains(&i.query.role))
        .map(|i| i.at_step(fine))
        .collect();
    let answers = match fetch::fetch_ranges(client, &queries, (from, to, fine)).await {
        Ok(answers) => answers,
        Err(error) => {
            acquired.warnings.push(format!(
                "process lifetimes are short for this window (median {lifetime_text}), but fetching the memory series at a finer step failed ({error}); growth may be missing",
            ));
            return;
        }
    };
    let mut finer = RangeData::new(fine);
    for (item, answer) in queries.iter().zip(answers) {
        // Listed as a request of its own: both rounds were sent, and the figures come
        // from this one.
        let id = format!("{}{FINER_SUFFIX}", item.query.id);
        if let Some(first) = acquired
            .records
            .iter()
            .find(|r| r.id == item.query.id && r.kind == RequestKind::Range)
            .cloned()
        {
            acquired.records.push(QueryRecord {
                id: id.clone(),
                description: format!(
                    "{} Fetched again at a finer step: process lifetimes are short for the window's step.",
                    first.description
                ),
                promql: item.promql.clone(),
                step_seconds: Some(fine),
                requests: answer.requests,
                series: answer.data.len(),
                warnings: answer.warnings.clone(),
                ..first
            });
        }
        for w in &answer.warnings {
            acquired.warnings.push(fetch::prometheus_warning(&id, w));
        }
        finer
            .by_role
            .entry(item.query.role)
            .or_default()
            .extend(answer.data);
    }
    normalise::normalise(&mut finer, to);
    for (role, series) in finer.by_role {
        acquired.data.by_role.insert(role, series);
        acquired.data.role_steps.insert(role, fine);
    }
    acquired.boundaries = lifetimes::heap_boundaries(&acquired.data);
    acquired.warnings.push(format!(
        "process lifetimes are short for this window (median {lifetime_text}): the memory and restart series were fetched again at a {} step (the rest at {}), so each lifetime has points enough for a slope",
        format_duration(Duration::from_secs_f64(fine)),
        format_duration(Duration::from_secs_f64(coarse)),
    ));
}
