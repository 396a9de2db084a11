//! The series that mark deployments: kube-state-metrics pods and images, build-info
//! versions, process restarts across instances — and the memory series — from
//! `--lookback` before the window to its end. Fetched in the same round as the window's
//! range queries; `--fix-deployed auto` takes the fix (and so the before/after periods)
//! from them. A series the pack also reads over the window (start times, restarts, OOM
//! kills, the memory) is asked for the lookback only: its window part is the pack
//! query's own request, shared through the run's request cache, so the server evaluates
//! no point twice. Nothing here decides what a deployment is: `analysis::deployments`
//! does, and hands `acquire` its choice through a [`FixPicker`].

use super::AcquireError;
use super::fetch::{self, prometheus_warning};
use super::plan::{self, PlannedQuery};
use super::requests::{Requests, SharedRange};
use crate::config::QueryConfig;
use crate::evidence::QueryRecord;
use crate::pack::{Pack, PackQuery, QueryKind, Role};
use crate::prom::{Answer, Labels, PromError, RangeSeries};
use crate::timespec::unix_seconds;
use std::collections::{BTreeMap, HashMap};

/// What `--fix-deployed auto` looks for, as its "nothing found" message names it.
pub const LOOKED_FOR: &str = "new pods with another image or ReplicaSet in kube-state-metrics (kube_pod_container_info, kube_pod_created, kube_pod_owner), a version change in a build_info, *_build_info, app_info, target_info or other *_info series of the service (a version-like label: version, app_version, service_version, build_version, revision, commit, git_commit, image), and a wave of restarts across most instances (process_start_time_seconds) without an OOM kill";

/// At most this many points per series over the lookback and the window: the step is
/// the window's, coarsened only for long lookbacks.
const MAX_POINTS: f64 = 8000.0;

/// The memory series' step, in deploy steps.
const HEAP_STEP_FACTOR: f64 = 2.0;

/// Which series a deploy request fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeploySeries {
    /// `timestamp(kube_pod_container_info)`: one series per pod and image; the values are
    /// the raw samples' times, so a pod's last value is when it was last seen.
    PodInfo,
    /// `kube_pod_created` of the service's pods: the exact creation time.
    PodCreated,
    /// `kube_pod_owner{owner_kind="ReplicaSet"}` of the service's pods.
    PodOwner,
    /// `timestamp()` of the service's info series (`build_info`, `*_build_info`,
    /// `app_info`, `target_info`, any `*_info`) with their labels; which of them carry
    /// the application's version is `analysis::deployments`' call.
    BuildInfo,
    /// The same series' first raw sample in each step (`min_over_time` of a subquery at
    /// the scrape interval): a new version's first sample to the scrape, at any step.
    BuildInfoFirst,
    /// The pack's process start time (restart waves, lifetimes before the window).
    ProcessStart,
    K8sRestarts,
    OomReason,
    OomEvents,
    /// The pack's memory series (growth before and after a candidate, the onset).
    Heap,
}

impl DeploySeries {
    fn id(self) -> &'static str {
        match self {
            DeploySeries::PodInfo => "deploy_pod_info",
            DeploySeries::PodCreated => "deploy_pod_created",
            DeploySeries::PodOwner => "deploy_pod_owner",
            DeploySeries::BuildInfo => "deploy_build_info",
            DeploySeries::BuildInfoFirst => "deploy_build_info_first",
            DeploySeries::ProcessStart => "deploy_process_start",
            DeploySeries::K8sRestarts => "deploy_k8s_restarts",
            DeploySeries::OomReason => "deploy_oom_reason",
            DeploySeries::OomEvents => "deploy_oom_events",
            DeploySeries::Heap => "onset_heap",
        }
    }
}

/// The deploy series over `[start, end]` at `step` (the memory series at twice it).
#[derive(Debug, Default, Clone)]
pub struct DeployData {
    pub start: f64,
    pub end: f64,
    pub step: f64,
    pub series: HashMap<DeploySeries, Vec<RangeSeries>>,
}

impl DeployData {
    pub fn get(&self, which: DeploySeries) -> &[RangeSeries] {
        self.series.get(&which).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Where the window splits, from the deploy series (Unix seconds): with
/// `--fix-deployed auto`, the fix (`None` when there is no deployment in the window);
/// without `--fix-deployed`, the rollout after which growth stopped (`None` when there is
/// none), whose leaking part gets the "before" instant queries. Given by the caller (the
/// analysis decides what a deployment is; acquisition must not name it).
pub type FixPicker = fn(&QueryConfig, &DeployData) -> Option<f64>;

/// The step for `[start, end]`: the window's, a whole multiple of it when the span would
/// have more than [`MAX_POINTS`].
pub fn deploy_step(start: f64, end: f64, window_step: f64) -> f64 {
    let factor = ((end - start) / MAX_POINTS / window_step).ceil().max(1.0);
    factor * window_step
}

fn query(series: DeploySeries, role: Role, promql: &str, description: &str) -> PackQuery {
    PackQuery {
        id: series.id().to_string(),
        role,
        kind: QueryKind::Range,
        promql: promql.to_string(),
        unit: String::new(),
        description: description.to_string(),
        optional: true,
        service_label: None,
    }
}

/// A kube-state-metrics pod-level series (no `container` label) kept to the service's
/// pods by joining on the pod with `kube_pod_container_info{container=…}`.
fn pod_join(config: &QueryConfig, pack: &Pack, selector: &str) -> Result<String, AcquireError> {
    let info = plan::matchers_on(config, pack, Some("container"));
    let left = plan::inject(selector, &config.selector, "deploy_pods")?;
    let right = plan::inject("kube_pod_container_info", &info, "deploy_pods")?;
    Ok(format!("{left} and on (namespace, pod) {right}"))
}

/// One deploy request: the series it fetches, and whether it is a pack query (whose
/// window part is the pack query's own request).
struct DeployQuery {
    series: DeploySeries,
    item: PlannedQuery,
    from_pack: bool,
}

/// Every deploy request; `(step, resolution)` are the deploy step and the scrape
/// interval (or the step when it is unknown), in seconds.
fn planned(
    config: &QueryConfig,
    pack: &Pack,
    (step, resolution): (f64, f64),
) -> Result<Vec<DeployQuery>, AcquireError> {
    let container = plan::matchers_on(config, pack, Some("container"));
    let service = plan::matchers_on(config, pack, None);
    let mut out = Vec::new();
    let mut push = |series: DeploySeries, role: Role, promql: String, description: &str| {
        out.push(DeployQuery {
            series,
            item: PlannedQuery::range(query(series, role, &promql, description), promql),
            from_pack: false,
        });
    };
    push(
        DeploySeries::PodInfo,
        Role::Info,
        plan::inject(
            "timestamp(kube_pod_container_info)",
            &container,
            "deploy_pod_info",
        )?,
        "Each pod's container image (kube-state-metrics), as the time of each raw sample: a pod's first and last values are when it was first and last seen.",
    );
    push(
        DeploySeries::PodCreated,
        Role::Info,
        pod_join(config, pack, "kube_pod_created")?,
        "Creation time of each of the service's pods (kube-state-metrics): a rollout starts when its first new pod is created.",
    );
    push(
        DeploySeries::PodOwner,
        Role::Info,
        pod_join(config, pack, "kube_pod_owner{owner_kind=\"ReplicaSet\"}")?,
        "The ReplicaSet owning each of the service's pods (kube-state-metrics): a new ReplicaSet is a new revision even with the same image.",
    );
    push(
        DeploySeries::BuildInfo,
        Role::Info,
        plan::inject(
            "timestamp(label_replace({__name__=~\"build_info|.+_info\"}, \"info_metric\", \"$1\", \"__name__\", \"(.+)\"))",
            &service,
            "deploy_build_info",
        )?,
        "The service's info series (build_info, *_build_info, app_info, OpenTelemetry target_info, any *_info: their version, revision and image labels), as the time of each raw sample: a version's last sample is when it was last seen.",
    );
    let (step_ms, resolution_ms) = (
        (step * 1000.0).round() as u64,
        (resolution.min(step) * 1000.0).round().max(1.0) as u64,
    );
    push(
        DeploySeries::BuildInfoFirst,
        Role::Info,
        plan::inject(
            &format!(
                "min_over_time(timestamp(label_replace({{__name__=~\"build_info|.+_info\"}}, \"info_metric\", \"$1\", \"__name__\", \"(.+)\"))[{step_ms}ms:{resolution_ms}ms])"
            ),
            &service,
            "deploy_build_info_first",
        )?,
        "The same series' first raw sample in each step (a subquery at the scrape interval): a new version's first sample is when it started, to the scrape whatever the step.",
    );
    let mut sourced = Vec::new();
    for (series, role) in [
        (DeploySeries::ProcessStart, Role::ProcessStart),
        (DeploySeries::K8sRestarts, Role::K8sRestarts),
        (DeploySeries::OomReason, Role::K8sOomReason),
        (DeploySeries::OomEvents, Role::OomEvents),
        (DeploySeries::Heap, Role::Heap),
    ] {
        let Some(source) = pack.by_role(role).next() else {
            continue;
        };
        let matchers = plan::matchers_for(config, pack, source);
        let promql = plan::inject(&source.promql, &matchers, series.id())?;
        let description = match series {
            DeploySeries::Heap => format!(
                "{} From --lookback before the window to its start (the window itself is {}'s request), for when the growth began.",
                source.description, source.id
            ),
            _ => format!(
                "{} From --lookback before the window to its start (the window itself is {}'s request), to tell a rollout from a wave of restarts or OOM kills.",
                source.description, source.id
            ),
        };
        sourced.push(DeployQuery {
            series,
            item: PlannedQuery::range(query(series, role, &promql, &description), promql),
            from_pack: true,
        });
    }
    out.extend(sourced);
    Ok(out)
}

/// The deploy series from `config.lookback` before the window to its end, at a step
/// derived from the window's; every request recorded, every failure a warning (none of
/// them is required), except a server that cannot be reached. A pack query's series is
/// its lookback part (its own request, recorded) joined to the window's request at the
/// window's step (the pack query's, shared: not sent again, not recorded again).
pub async fn fetch(
    requests: &Requests,
    config: &QueryConfig,
    pack: &Pack,
    (window_step, scrape_interval): (f64, Option<std::time::Duration>),
    windows: Vec<(DeploySeries, SharedRange)>,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<(DeployData, Vec<QueryRecord>, Vec<String>)> {
    let (from, end) = (
        unix_seconds(config.window.from),
        unix_seconds(config.window.to),
    );
    let start = from - config.lookback.as_secs_f64();
    let step = deploy_step(start, end, window_step);
    let resolution = scrape_interval.map_or(step, |i| i.as_secs_f64());
    let items = planned(config, pack, (step, resolution))?;
    // The memory series only feed slopes over lifetimes of half an hour or more: a
    // coarser step halves what the longest request asks for.
    let spans: Vec<(f64, f64, f64)> = items
        .iter()
        .map(|q| {
            let step = match q.series {
                DeploySeries::Heap => HEAP_STEP_FACTOR * step,
                _ => step,
            };
            (start, if q.from_pack { from - step } else { end }, step)
        })
        .collect();
    let sent: Vec<(&DeployQuery, (f64, f64, f64))> = items
        .iter()
        .zip(spans)
        .filter(|(_, (start, end, _))| end >= start)
        .collect();
    let answers = lookback_answers(requests, &sent, bar).await;
    let mut data = DeployData {
        start,
        end,
        step,
        series: HashMap::new(),
    };
    let (mut records, mut warnings) = (Vec::new(), Vec::new());
    for ((query, span), answer) in sent.into_iter().zip(answers) {
        let mut record = fetch::record_for(config, &query.item, span);
        record.role = match query.series {
            DeploySeries::Heap => "onset".into(),
            _ => "deployments".into(),
        };
        match answer {
            Err(error @ PromError::Unreachable { .. }) => return Err(error.into()),
            Err(error) => {
                warnings.push(format!(
                    "optional query {} failed: {error}",
                    query.item.query.id
                ));
                record.error = Some(error.to_string());
            }
            Ok(answer) => {
                record.ok = true;
                record.requests = answer.requests;
                record.series = answer.data.len();
                for w in &answer.warnings {
                    warnings.push(prometheus_warning(&query.item.query.id, w));
                }
                record.warnings = answer.warnings;
                data.series.insert(query.series, answer.data);
            }
        }
        records.push(record);
    }
    for (series, window) in windows {
        // A failed window request is the pack query's failure, said by its record.
        match window.await {
            Err(error @ PromError::Unreachable { .. }) => return Err(error.into()),
            Err(_) => {}
            Ok(window) => join_parts(data.series.entry(series).or_default(), &window.data),
        }
    }
    Ok((data, records, warnings))
}

/// The window parts of the series the pack also reads, registered as the run starts —
/// before the window's own range requests are spawned — so they share those requests
/// (not sent again) however the tasks are scheduled: registered later, a part could
/// find its request already taken by the window's data and send it again.
pub fn window_parts(
    requests: &Requests,
    config: &QueryConfig,
    pack: &Pack,
    (window_step, scrape_interval): (f64, Option<std::time::Duration>),
) -> anyhow::Result<Vec<(DeploySeries, SharedRange)>> {
    let (from, end) = (
        unix_seconds(config.window.from),
        unix_seconds(config.window.to),
    );
    let start = from - config.lookback.as_secs_f64();
    let step = deploy_step(start, end, window_step);
    let resolution = scrape_interval.map_or(step, |i| i.as_secs_f64());
    Ok(planned(config, pack, (step, resolution))?
        .into_iter()
        .filter(|q| q.from_pack)
        .map(|q| {
            let part: SharedRange = Box::pin(requests.query_range(
                &q.item.query.id,
                &q.item.promql,
                from,
                end,
                window_step,
            ));
            (q.series, part)
        })
        .collect())
}

/// The deploy requests over their spans, all at once, in order (their answers are
/// deploy's own: taken, not copied).
async fn lookback_answers(
    requests: &Requests,
    sent: &[(&DeployQuery, (f64, f64, f64))],
    bar: &indicatif::ProgressBar,
) -> Vec<Result<Answer<Vec<RangeSeries>>, PromError>> {
    bar.inc_length(sent.len() as u64);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, (query, (start, end, step))) in sent.iter().enumerate() {
        let request = requests.take_range(
            &query.item.query.id,
            &query.item.promql,
            *start,
            *end,
            *step,
        );
        tasks.spawn(async move { (index, request.await) });
    }
    let mut answers: Vec<Option<_>> = sent.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, answer) = joined.expect("query tasks do not panic");
        bar.inc(1);
        answers[index] = Some(answer);
    }
    answers
        .into_iter()
        .map(|a| a.expect("every task reported"))
        .collect()
}

/// Appends `window`'s points to the lookback's series with the same labels (a series
/// only in the window is added): one series per process over the whole span.
fn join_parts(lookback: &mut Vec<RangeSeries>, window: &[RangeSeries]) {
    let mut by_labels: BTreeMap<Labels, RangeSeries> =
        lookback.drain(..).map(|s| (s.labels.clone(), s)).collect();
    for part in window {
        by_labels
            .entry(part.labels.clone())
            .or_insert_with(|| RangeSeries {
                labels: part.labels.clone(),
                points: Vec::new(),
            })
            .points
            .extend_from_slice(&part.points);
    }
    lookback.extend(by_labels.into_values());
}

/// The matcher text a message shows for the deploy series of `config`'s service.
pub fn looked_for_selector(config: &QueryConfig, pack: &Pack) -> String {
    let container = plan::matchers_on(config, pack, Some("container"));
    let service = plan::matchers_on(config, pack, None);
    format!(
        "{} (kube-state-metrics) and {}",
        plan::selector_text(&container),
        plan::selector_text(&service)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_is_the_windows_unless_the_lookback_is_long() {
        assert_eq!(deploy_step(0.0, 86_400.0, 60.0), 60.0);
        // 8 days at 60 s is 11,520 points: twice the step.
        assert_eq!(deploy_step(0.0, 8.0 * 86_400.0, 60.0), 120.0);
    }

    #[test]
    fn a_window_part_joins_the_lookback_series_of_its_process() {
        let series = |pod: &str, points: &[(f64, f64)]| RangeSeries {
            labels: [("pod".to_string(), pod.to_string())].into(),
            points: points.to_vec(),
        };
        let mut lookback = vec![series("a", &[(0.0, 1.0)]), series("b", &[(0.0, 2.0)])];
        join_parts(
            &mut lookback,
            &[series("a", &[(60.0, 1.0)]), series("c", &[(60.0, 3.0)])],
        );
        assert_eq!(
            lookback,
            vec![
                series("a", &[(0.0, 1.0), (60.0, 1.0)]),
                series("b", &[(0.0, 2.0)]),
                series("c", &[(60.0, 3.0)])
            ]
        );
    }

    #[test]
    fn pod_level_series_are_joined_on_the_pod() {
        let text =
            "kube_pod_created and on (namespace, pod) kube_pod_container_info{container=\"api\"}";
        assert!(crate::pack::inject(text, &[]).is_ok());
    }
}
