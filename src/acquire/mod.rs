//! Acquisition: everything between a validated configuration and the series the
//! analysis reads, in one path for collect, validate, rules and scan — detect the
//! runtime ([`detect`]), probe the scrape interval ([`probe`]), plan the requests and
//! the steps ([`plan`], [`steps`]: one rule for a finer second round), fetch them
//! ([`fetch`], [`fleet`] for scan) through one per-run request cache ([`requests`]: each
//! request sent once), and normalise what came back ([`normalise`]: HA replicas, memory
//! parts, stale tails; [`lifetimes`]: where each process lifetime begins). Nothing here
//! computes a report figure; `analysis` does, from [`Acquired`].

pub mod alert_exprs;
pub mod alerts;
pub mod deployments;
pub mod detect;
pub mod diagnose;
mod error;
pub mod fetch;
pub mod fleet;
pub mod lifetimes;
pub mod links;
mod markers;
pub mod normalise;
pub mod plan;
pub mod probe;
pub mod requests;
pub mod steps;

pub use error::AcquireError;

use crate::config::{CollectConfig, QueryConfig};
use crate::evidence::QueryRecord;
use crate::pack::{Pack, PackQuery, Role};
use crate::prom::{Client, InstantSample, RangeSeries};
use crate::timespec::{format_duration, unix_seconds};
use lifetimes::Boundaries;
use requests::{Requests, SharedRange};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::OnceCell;

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
    /// ([`Round::window_end`]).
    pub window: crate::config::Window,
    /// The end asked for, when the window was cut back to where the data ends.
    pub requested_to: Option<chrono::DateTime<chrono::Utc>>,
    /// The start asked for, when the window was moved up to where the data starts.
    pub requested_from: Option<chrono::DateTime<chrono::Utc>>,
    /// `ALERTS` and the rules API's answer (detection).
    pub alerts: alerts::AlertData,
    /// The series that mark deployments, and the memory before the window (onset).
    pub deploys: deployments::DeployData,
}

/// Acquires one service's window as `config` describes it. After the runtime and the
/// step are known, one round holds everything that needs only them — the window's range
/// queries and the deploy series — and what needs an answer starts as soon as that
/// answer is in, under the client's one concurrency limit: the window's end (where the
/// data ends) from the memory series; then the alerts (detection) and the instant
/// queries; with `--fix-deployed auto`, the before/after instant queries once
/// `pick_fix` has the fix from the deploy series (without `--fix-deployed`, the "before"
/// ones over the part that leaked, when `pick_fix` finds a rollout after which growth
/// stopped); and the finer second round once the
/// memory and restart series are in. Every request goes through one request cache
/// ([`requests`]), so none is sent twice.
pub async fn acquire(
    collect: &CollectConfig,
    pick_fix: deployments::FixPicker,
) -> anyhow::Result<Acquired> {
    let requests = Requests::new(Client::new(collect.client.clone())?);
    let config = &collect.query;
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
        None => detect::detect_runtime(&requests, config, &mut records, &mut warnings).await?,
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
                probe::scrape_interval(&requests, &pack, &matchers, (from, to)).await?;
            records.extend(record);
            (steps::window_step(to - from, interval), interval)
        }
    };
    let step = step.as_secs_f64();
    let ranges: Vec<plan::PlannedQuery> = plan::plan(config, &pack, step)?
        .into_iter()
        .filter(|q| q.period.is_none())
        .collect();
    let bar = fetch::progress_bar(collect.output.quiet);
    // Registered before the window's range requests are spawned, so the parts of the run
    // that share those requests (where the data ends, the deploy series' window parts)
    // find them however the tasks are scheduled, and none is sent twice.
    let heap_item = ranges
        .iter()
        .find(|q| q.query.id == heap_query.id)
        .expect("the heap query is planned");
    let heap_window: SharedRange =
        Box::pin(requests.query_range(&heap_item.query.id, &heap_item.promql, from, to, step));
    let windows = deployments::window_parts(&requests, config, &pack, (step, scrape_interval))?;
    let round = Round {
        requests: &requests,
        config,
        pack: &pack,
        ranges: &ranges,
        span: (from, to, step),
        bar: &bar,
        heap_window: std::sync::Mutex::new(Some(heap_window)),
        deploy_windows: std::sync::Mutex::new(Some(windows)),
    };
    // Each computed once, by whichever part asks first.
    let (cut, deploys) = (OnceCell::new(), OnceCell::new());
    let window_end = || cut.get_or_try_init(|| round.window_end(heap_query));
    let deploy_data = || deploys.get_or_try_init(|| round.deploys(scrape_interval));
    let (series, _, instants, alerts) = tokio::try_join!(
        round.series(scrape_interval, window_end),
        deploy_data(),
        round.instants(pick_fix, window_end, deploy_data),
        round.alerts(window_end),
    )?;
    bar.finish_and_clear();
    let (deploy_data, deploy_records, deploy_warnings) = deploys
        .into_inner()
        .expect("the deploy series were fetched");
    let (final_config, mut instant_replies, instant_data, cut_warnings, split) = instants;
    let mut replies = series.replies;
    replies.extend(instant_replies.drain());
    // Range queries are recorded as sent: over the window asked for (a `${range}` in
    // one is that window's length, even when the window was then cut).
    let final_plan: Vec<plan::PlannedQuery> = plan::plan(&final_config, &pack, step)?
        .into_iter()
        .map(|q| match ranges.iter().find(|r| r.query.id == q.query.id) {
            Some(sent) if q.period.is_none() => sent.clone(),
            _ => q,
        })
        .collect();
    let (core_records, mut core_warnings) =
        fetch::records(&final_config, &final_plan, &mut replies, (from, to, step))?;
    records.extend(core_records);
    if let Some((leak, items)) = split {
        let (leak_records, leak_warnings) =
            fetch::records(&leak, &items, &mut replies, (from, to, step))?;
        records.extend(leak_records);
        core_warnings.extend(leak_warnings);
    }
    records.extend(deploy_records);
    records.extend(series.finer_records);
    warnings.extend(core_warnings);
    warnings.extend(deploy_warnings);
    warnings.extend(series.warnings);
    warnings.extend(cut_warnings);
    warnings.extend(series.finer_warnings);
    let (alert_data, alert_records, alert_warnings) = alerts;
    records.extend(alert_records);
    warnings.extend(alert_warnings);
    requests::attribute(&mut records);
    let requested_to = (final_config.window.to != config.window.to).then_some(config.window.to);
    let requested_from =
        (final_config.window.from != config.window.from).then_some(config.window.from);
    Ok(Acquired {
        boundaries: series.boundaries,
        pack,
        runtime_detected_from,
        step,
        data: series.data,
        instants: instant_data,
        records,
        warnings,
        prometheus_url: requests.display_url().to_string(),
        window: final_config.window,
        requested_to,
        requested_from,
        alerts: alert_data,
        deploys: deploy_data,
    })
}

/// The window's range data, normalised, with its lifetimes and the finer round.
struct Series {
    data: RangeData,
    boundaries: Vec<Option<Boundaries>>,
    replies: fetch::Replies,
    /// Normalisation and the restart source.
    warnings: Vec<String>,
    finer_records: Vec<QueryRecord>,
    finer_warnings: Vec<String>,
}

/// Where the data starts and ends, when the window is cut to them
/// ([`Round::window_end`]); `None` where the window's own edge stands.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct WindowEnd {
    start: Option<f64>,
    end: Option<f64>,
}

/// The deploy series, their records and warnings.
type DeployFetch = (deployments::DeployData, Vec<QueryRecord>, Vec<String>);

/// What every part of the round shares.
struct Round<'a> {
    requests: &'a Requests,
    config: &'a QueryConfig,
    pack: &'a Pack,
    /// The window's range queries (the pack's, with the derived restart counts).
    ranges: &'a [plan::PlannedQuery],
    span: (f64, f64, f64),
    bar: &'a indicatif::ProgressBar,
    /// The memory series' request, registered before the round (taken by `window_end`).
    heap_window: std::sync::Mutex<Option<SharedRange>>,
    /// The deploy series' window parts, registered before the round (taken by `deploys`).
    deploy_windows: std::sync::Mutex<Option<Vec<(deployments::DeploySeries, SharedRange)>>>,
}

impl Round<'_> {
    /// Where the window ends when the data ends well before it (`--to now` on a service
    /// that stopped, or backfilled data): otherwise levels "at the end" are missing,
    /// per-hour figures are diluted by hours without data, and the duration counts them.
    /// Read from the memory series (normalised like the window's: stale tails trimmed);
    /// `validate` keeps its window (`end_at_data`). No memory series: no data, the error.
    async fn window_end(&self, heap: &PackQuery) -> anyhow::Result<WindowEnd> {
        let (from, to, step) = self.span;
        let registered = self
            .heap_window
            .lock()
            .expect("the lock is never poisoned")
            .take()
            .expect("where the data ends is computed once");
        let answer = registered.await?;
        if answer.data.is_empty() {
            let hint = diagnose::no_data(self.requests, self.config, self.pack, heap, (from, to));
            return Err(hint.await.into());
        }
        if !self.config.end_at_data {
            return Ok(WindowEnd::default());
        }
        let mut data = RangeData::new(step);
        data.by_role.insert(Role::Heap, answer.data.clone());
        drop(answer);
        normalise::normalise(&mut data, to);
        let heap = data.series(Role::Heap);
        let first = heap
            .iter()
            .filter_map(|s| s.points.first().map(|p| p.0))
            .reduce(f64::min);
        let last = heap
            .iter()
            .filter_map(|s| s.points.last().map(|p| p.0))
            .reduce(f64::max);
        let far = (2.0 * step).max(300.0);
        // A given fix before the first sample keeps the start: the data is all after it,
        // and the report says the before-fix period has none.
        let fix = self.config.window.fix_deployed.map(unix_seconds);
        let start = first.filter(|f| f - from > far && *f < to && fix.is_none_or(|x| x > *f));
        let end = last.filter(|last| to - last > far && *last > start.unwrap_or(from));
        Ok(WindowEnd { start, end })
    }

    /// The deploy series (from `--lookback` before the window).
    async fn deploys(&self, scrape_interval: Option<Duration>) -> anyhow::Result<DeployFetch> {
        let span = (self.span.2, scrape_interval);
        let windows = self
            .deploy_windows
            .lock()
            .expect("the lock is never poisoned")
            .take()
            .expect("the deploy series are fetched once");
        deployments::fetch(
            self.requests,
            self.config,
            self.pack,
            span,
            windows,
            self.bar,
        )
        .await
    }

    /// The window's range queries, normalised, with their lifetimes; then, when the
    /// lifetimes are short for the step, the finer round.
    async fn series<'c, F, Fut>(
        &self,
        scrape_interval: Option<Duration>,
        window_end: F,
    ) -> anyhow::Result<Series>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<&'c WindowEnd>>,
    {
        let (from, to, step) = self.span;
        let answers = fetch::ranges(self.requests, self.ranges, self.span, self.bar).await;
        let mut replies = fetch::Replies::new();
        let mut data = fetch::range_data(self.ranges, answers, step, &mut replies);
        let mut warnings = normalise::normalise(&mut data, to).warnings();
        warnings.extend(lifetimes::restart_source_note(self.pack, &data));
        let mut series = Series {
            boundaries: lifetimes::heap_boundaries(&data),
            data,
            replies,
            warnings,
            finer_records: Vec::new(),
            finer_warnings: Vec::new(),
        };
        let edges = *window_end().await?;
        let (from, to) = (edges.start.unwrap_or(from), edges.end.unwrap_or(to));
        if let Some(interval) = scrape_interval {
            self.refine(&mut series, (from, to), interval).await;
        }
        Ok(series)
    }

    /// The instant queries for the final window: cut where the data ends, and with the
    /// fix `--fix-deployed auto` found (the before/after ones wait for the deploy
    /// series; the window's do not). Returns that final configuration, the replies and
    /// answers, the warnings the cut brings, and — without `--fix-deployed`, when growth
    /// stopped at a rollout — the configuration and plan of the leaking part's queries
    /// (for their records).
    async fn instants<'c, F, Fut, D, DFut>(
        &self,
        pick_fix: deployments::FixPicker,
        window_end: F,
        deploy_data: D,
    ) -> anyhow::Result<(
        QueryConfig,
        fetch::Replies,
        HashMap<PeriodName, PeriodAnswers>,
        Vec<String>,
        Option<(QueryConfig, Vec<plan::PlannedQuery>)>,
    )>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<&'c WindowEnd>>,
        D: Fn() -> DFut,
        DFut: std::future::Future<Output = anyhow::Result<&'c DeployFetch>>,
    {
        let end = *window_end().await?;
        let (cut, mut notes) = cut_window(self.config, end);
        let auto = self.config.window.fix_spec == Some(crate::config::FixSpec::Auto);
        let instants_of = |config: &QueryConfig, keep: fn(PeriodName) -> bool| {
            plan::plan(config, self.pack, self.span.2).map(|planned| {
                planned
                    .into_iter()
                    .filter(|q| q.period.is_some_and(|p| keep(p.0)))
                    .collect::<Vec<_>>()
            })
        };
        let first = if auto {
            instants_of(&cut, |p| p == PeriodName::Window)?
        } else {
            instants_of(&cut, |_| true)?
        };
        let answers = fetch::instants(self.requests, &first, self.bar).await;
        let mut replies = fetch::Replies::new();
        let mut data = fetch::instant_data(&first, answers, &mut replies);
        let mut config = cut;
        let mut split = None;
        if self.config.window.fix_spec.is_none() {
            // No fix given: a rollout after which growth stopped splits off the part that
            // leaked, whose figures (GC, latency, errors) need their own instant answers.
            let (deploys, _, _) = deploy_data().await?;
            let (from, to) = (
                unix_seconds(config.window.from),
                unix_seconds(config.window.to),
            );
            if let Some(stop) = pick_fix(&config, deploys).filter(|t| *t > from && *t < to) {
                let mut leak = config.clone();
                leak.window.fix_deployed = Some(crate::timespec::from_unix_seconds(stop));
                let items = instants_of(&leak, |p| p == PeriodName::Before)?;
                let answers = fetch::instants(self.requests, &items, self.bar).await;
                for (name, answers) in fetch::instant_data(&items, answers, &mut replies) {
                    data.entry(name).or_default().extend(answers);
                }
                split = Some((leak, items));
            }
        }
        if auto {
            let (deploys, _, _) = deploy_data().await?;
            let (resolved, fix_notes) = resolve_fix(self.config, self.pack, deploys, pick_fix)
                .map(|resolved| cut_window(&resolved, end))?;
            notes = fix_notes;
            let second = instants_of(&resolved, |p| p != PeriodName::Window)?;
            let answers = fetch::instants(self.requests, &second, self.bar).await;
            for (name, answers) in fetch::instant_data(&second, answers, &mut replies) {
                data.entry(name).or_default().extend(answers);
            }
            config = resolved;
        }
        Ok((config, replies, data, notes, split))
    }

    /// Detection: `ALERTS` and the rules API over the final window.
    async fn alerts<'c, F, Fut>(
        &self,
        window_end: F,
    ) -> anyhow::Result<(alerts::AlertData, Vec<QueryRecord>, Vec<String>)>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<&'c WindowEnd>>,
    {
        let (from, to, step) = self.span;
        let edges = *window_end().await?;
        let (from, to) = (edges.start.unwrap_or(from), edges.end.unwrap_or(to));
        Ok(alerts::acquire_alerts(self.requests, self.config, self.pack, (from, to), step).await)
    }
}

/// `config` with the fix `--fix-deployed auto` found; unchanged without `auto`.
fn resolve_fix(
    config: &QueryConfig,
    pack: &Pack,
    data: &deployments::DeployData,
    pick_fix: deployments::FixPicker,
) -> Result<QueryConfig, AcquireError> {
    let mut resolved = config.clone();
    if config.window.fix_spec != Some(crate::config::FixSpec::Auto) {
        return Ok(resolved);
    }
    let Some(fix) = pick_fix(config, data) else {
        return Err(AcquireError::NoDeployment {
            selector: deployments::looked_for_selector(config, pack),
            from: crate::timespec::display(config.window.from),
            to: crate::timespec::display(config.window.to),
            looked_for: deployments::LOOKED_FOR.to_string(),
        });
    };
    resolved.window.fix_deployed = Some(crate::timespec::from_unix_seconds(fix));
    Ok(resolved)
}

/// `config` with its window starting at the first memory sample and ending at the last
/// (`edges`), and what the report says about it; unchanged where the window's own edge
/// stands. A fix at or after the end leaves no after-fix period.
fn cut_window(config: &QueryConfig, edges: WindowEnd) -> (QueryConfig, Vec<String>) {
    let mut cut = config.clone();
    let mut notes = Vec::new();
    if let Some(first) = edges.start {
        cut.window.from = crate::timespec::from_unix_seconds(first);
        let from = unix_seconds(config.window.from);
        notes.push(format!(
            "the data starts at {}, {} after the window's start ({}): every period starts there, so levels at the start, rates per hour and per week, the duration and the Date cover the hours with data",
            crate::timespec::display(cut.window.from),
            format_duration(Duration::from_secs_f64((first - from).round())),
            crate::timespec::display(config.window.from),
        ));
    }
    let Some(last) = edges.end else {
        return (cut, notes);
    };
    cut.window.to = crate::timespec::from_unix_seconds(last);
    if let Some(fix) = cut.window.fix_deployed.filter(|fix| *fix >= cut.window.to) {
        notes.push(format!(
            "the data ends at {}, before the fix at {}: there is no after-fix period",
            crate::timespec::display(cut.window.to),
            crate::timespec::display(fix)
        ));
        cut.window.fix_deployed = None;
    }
    let to = unix_seconds(config.window.to);
    notes.push(format!(
        "the data ends at {}, {} before the window's end ({}): every period ends there, so levels at the end, rates per hour and the duration cover the hours with data",
        crate::timespec::display(cut.window.to),
        format_duration(Duration::from_secs_f64((to - last).round())),
        crate::timespec::display(config.window.to),
    ));
    (cut, notes)
}

impl Round<'_> {
    /// The second round: when process lifetimes are short for the window's step, the
    /// memory and restart series again at a finer step over `(from, to)` (both rounds
    /// are listed: the figures come from this one).
    async fn refine(&self, series: &mut Series, (from, to): (f64, f64), interval: Duration) {
        let data = &series.data;
        let refine = steps::roles_to_refine(data);
        let count = refine.iter().map(|r| data.series(*r).len()).sum();
        let Some(lifetime) = steps::median_lifetime(data, &series.boundaries, from, to) else {
            return;
        };
        let Some(fine) =
            steps::finer_growth_step(data, &series.boundaries, (from, to), interval, count)
        else {
            return;
        };
        let (fine, coarse) = (fine.as_secs_f64(), self.span.2);
        let lifetime_text = format_duration(Duration::from_secs_f64(lifetime.round()));
        let queries: Vec<plan::PlannedQuery> = self
            .ranges
            .iter()
            .filter(|i| refine.contains(&i.query.role))
            .map(|i| i.at_step(fine))
            .collect();
        let answers = fetch::ranges(self.requests, &queries, (from, to, fine), self.bar).await;
        let answers = match answers.into_iter().collect::<Result<Vec<_>, _>>() {
            Ok(answers) => answers,
            Err(error) => {
                series.finer_warnings.push(format!(
                    "process lifetimes are short for this window (median {lifetime_text}), but fetching the memory series at a finer step failed ({error}); growth may be missing",
                ));
                return;
            }
        };
        let mut finer = RangeData::new(fine);
        for (item, answer) in queries.iter().zip(answers) {
            let mut record = fetch::record_for(self.config, item, (from, to, fine));
            record.id = format!("{}{FINER_SUFFIX}", item.query.id);
            record.description = format!(
                "{} Fetched again at a finer step: process lifetimes are short for the window's step.",
                item.query.description
            );
            record.ok = true;
            record.requests = answer.requests;
            record.series = answer.data.len();
            for w in &answer.warnings {
                let warning = fetch::prometheus_warning(&record.id, w);
                series.finer_warnings.push(warning);
            }
            record.warnings = answer.warnings;
            series.finer_records.push(record);
            finer
                .by_role
                .entry(item.query.role)
                .or_default()
                .extend(answer.data);
        }
        normalise::normalise(&mut finer, to);
        for (role, fine_series) in finer.by_role {
            series.data.by_role.insert(role, fine_series);
            series.data.role_steps.insert(role, fine);
        }
        series.boundaries = lifetimes::heap_boundaries(&series.data);
        series.finer_warnings.push(format!(
            "process lifetimes are short for this window (median {lifetime_text}): the memory and restart series were fetched again at a {} step (the rest at {}), so each lifetime has points enough for a slope",
            format_duration(Duration::from_secs_f64(fine)),
            format_duration(Duration::from_secs_f64(coarse)),
        ));
    }
}
