//! Deployments in the window and which of them was the fix (`--fix-deployed auto`).
//!
//! A deployment is a change of revision across the service's instances, found from the
//! best source present: kube-state-metrics pods (a revision is an image, or a ReplicaSet
//! when every pod runs the same image; the start is the first new pod's
//! `kube_pod_created`, exact to the second), else a `*_build_info`/`target_info`
//! version label (the start is the new version's first raw sample), else a wave of
//! process restarts across most instances in which no container restarted in place and
//! none was OOM-killed. A mass OOM restart keeps its pods and images, so it is never a
//! deployment. Several in the window: the fix is the one after which growth fell most.

use crate::acquire::Acquired;
use crate::acquire::deployments::{DeployData, DeploySeries};
use crate::acquire::lifetimes;
use crate::config::{FixSpec, QueryConfig};
use crate::evidence::{
    DeploySource, Deployment, FixOrigin, FixSource, GrowthStopped, RolloutStrategy,
};
use crate::prom::{Labels, RangeSeries};
use crate::timespec::{from_unix_seconds, unix_seconds};
use std::collections::{BTreeMap, BTreeSet};

const MINUTE: f64 = 60.0;
const HOUR: f64 = 3600.0;
/// Old instances last seen this long before the first new one still count as the ones
/// it replaced (a recreate's downtime).
const REPLACED_WITHIN: f64 = 30.0 * MINUTE;
/// A subset running the new version this long before the rest followed is a canary.
const CANARY_GAP: f64 = 30.0 * MINUTE;
/// New instances of a revision that came this long after its last old instance went
/// are replacements (evictions, scaling), not part of the rollout.
const ROLLOUT_TAIL: f64 = 30.0 * MINUTE;
/// Process starts closer than this belong to one wave.
const WAVE_GAP: f64 = 10.0 * MINUTE;
/// Growth counts as stopped at a rollout only when measured over this much either side.
const STOPPED_MIN_HOURS: f64 = 2.0;
/// Growth before and after a deployment is measured over at most this much either side.
const GROWTH_SPAN: f64 = 24.0 * HOUR;
/// Labels of an info series that name the application's version (docs/figures.md,
/// "Deployments"): the usual `version` and its prefixed forms (`app_version`,
/// `service_version` — OpenTelemetry's `service.version` on `target_info` —,
/// `build_version`), a source revision (`revision` as in Prometheus' own build info,
/// `commit`, `git_commit`) and the `image`. Other labels (`goversion`, `major`,
/// `runtime`…) describe the toolchain, not the release.
const VERSION_LABELS: &[&str] = &[
    "version",
    "app_version",
    "service_version",
    "build_version",
    "revision",
    "commit",
    "git_commit",
    "image",
];

/// One instance of one revision: when it appeared (exactly, when known) and was last seen.
#[derive(Debug, Clone)]
struct Member {
    /// A pod (`namespace/pod`) or an instance.
    id: String,
    revision: String,
    namespace: Option<String>,
    appeared: f64,
    last_seen: f64,
}

/// Every deployment in the deploy series, oldest first, without the fix flag.
pub fn find(config: &QueryConfig, data: &DeployData) -> Vec<Deployment> {
    let from = unix_seconds(config.window.from);
    // Namespaces apart: the same container in staging and production rolls out on its own.
    let mut by_namespace: BTreeMap<Option<String>, Vec<Member>> = BTreeMap::new();
    for m in pod_members(data) {
        by_namespace.entry(m.namespace.clone()).or_default().push(m);
    }
    let mut found: Vec<Deployment> = by_namespace
        .values()
        .flat_map(|members| from_members(members, data, DeploySource::KubeStateMetrics))
        .collect();
    if found.is_empty() && data.get(DeploySeries::PodInfo).is_empty() {
        let (versions, any_version_series) = build_info(data);
        found = versions;
        if found.is_empty() && !any_version_series {
            found = restart_waves(data);
        }
    }
    found.sort_by_key(|d| d.started);
    for d in &mut found {
        d.strategy = all_at_once(d, data.step);
    }
    // Growth either side, never reaching into the neighbouring deployments.
    let bounds: Vec<(f64, f64)> = found.iter().map(found_bounds).collect();
    for (i, d) in found.iter_mut().enumerate() {
        d.in_window = unix_seconds(d.started) > from;
        let (start, finish) = bounds[i];
        let previous = i.checked_sub(1).map_or(data.start, |p| bounds[p].1);
        let next = bounds.get(i + 1).map_or(data.end, |n| n.0);
        let (a, b) = (
            previous.max(start - GROWTH_SPAN),
            next.min(finish + GROWTH_SPAN),
        );
        d.growth_before_bytes_per_hour = service_growth_between(data, a, start);
        d.growth_after_bytes_per_hour = service_growth_between(data, finish, b);
        d.growth_before_hours = ((start - a) / HOUR).max(0.0);
        d.growth_after_hours = ((b - finish) / HOUR).max(0.0);
    }
    found
}

fn found_bounds(d: &Deployment) -> (f64, f64) {
    let start = unix_seconds(d.started);
    (start, d.finished.map_or(start, unix_seconds))
}

/// Where acquisition splits the window ([`crate::acquire::deployments::FixPicker`]):
/// with `--fix-deployed auto`, the start of the deployment in the window after which
/// growth fell most (the latest when growth is unknown for all); without
/// `--fix-deployed`, the start of the rollout after which growth stopped
/// ([`growth_stopped`]).
pub fn pick_fix(config: &QueryConfig, data: &DeployData) -> Option<f64> {
    let (from, to) = (
        unix_seconds(config.window.from),
        unix_seconds(config.window.to),
    );
    let found = find(config, data);
    if config.window.fix_spec.is_none() {
        return stopped_index(&found, from, to).map(|i| unix_seconds(found[i].started));
    }
    pick(&found, from, to).map(|i| unix_seconds(found[i].started))
}

/// The deployment in `(from, to)` after which growth stopped: before it, growth that
/// counts as a leak ([`LINEAR_GROWTH_BYTES_PER_HOUR`](super::symptoms::LINEAR_GROWTH_BYTES_PER_HOUR));
/// after it, growth `validate` would call resolved
/// ([`DEFAULT_MAX_GROWTH_BYTES_PER_HOUR`](super::status::DEFAULT_MAX_GROWTH_BYTES_PER_HOUR))
/// and at most a quarter of the growth before; each side measured over at least
/// [`STOPPED_MIN_HOURS`]. Several: the largest fall.
fn stopped_index(found: &[Deployment], from: f64, to: f64) -> Option<usize> {
    let stopped = |d: &Deployment| match (
        d.growth_before_bytes_per_hour,
        d.growth_after_bytes_per_hour,
    ) {
        (Some(b), Some(a)) => {
            b >= super::symptoms::LINEAR_GROWTH_BYTES_PER_HOUR
                && a <= super::status::DEFAULT_MAX_GROWTH_BYTES_PER_HOUR
                && a <= b / 4.0
                && d.growth_before_hours >= STOPPED_MIN_HOURS
                && d.growth_after_hours >= STOPPED_MIN_HOURS
        }
        _ => false,
    };
    let candidates: Vec<Deployment> = found.iter().filter(|d| stopped(d)).cloned().collect();
    let i = pick(&candidates, from, to)?;
    found
        .iter()
        .position(|d| d.started == candidates[i].started)
}

/// Without `--fix-deployed`, the rollout in the window after which growth stopped
/// (`deployments` as [`deployments`] returns them); `None` with a fix or without one.
/// Its OOM kills per week are the leaking part's, filled once that part is analysed.
pub fn growth_stopped(
    window: &crate::config::Window,
    deployments: &[Deployment],
) -> Option<GrowthStopped> {
    if window.fix_spec.is_some() || window.fix_deployed.is_some() {
        return None;
    }
    let (from, to) = (unix_seconds(window.from), unix_seconds(window.to));
    let d = &deployments[stopped_index(deployments, from, to)?];
    Some(GrowthStopped {
        at: d.started,
        source: d.source,
        version_series: d.version_series.clone(),
        versions_before: d.versions_before.clone(),
        versions_after: d.versions_after.clone(),
        before_bytes_per_hour: d.growth_before_bytes_per_hour?,
        after_bytes_per_hour: d.growth_after_bytes_per_hour?,
        before_hours: d.growth_before_hours,
        after_hours: d.growth_after_hours,
        leak_hours: (unix_seconds(d.started) - from) / HOUR,
        oom_kills_per_week: None,
    })
}

/// The warning that says, up front, that growth stopped at a rollout in the window and
/// what to run for before/after figures.
pub fn growth_stopped_warning(s: &GrowthStopped) -> String {
    let versions = if s.versions_before.is_empty() && s.versions_after.is_empty() {
        String::new()
    } else {
        format!(
            " ({} → {})",
            s.versions_before.join(", "),
            s.versions_after.join(", ")
        )
    };
    format!(
        "growth stopped at the rollout at {}{versions}: {} in the {} before it, {} in the {} after; the onset and the symptoms are taken over the {} before it — rerun with --fix-deployed auto for before/after figures",
        crate::units::time(s.at),
        crate::units::mb_per_hour(s.before_bytes_per_hour),
        crate::units::hours(s.before_hours),
        crate::units::mb_per_hour(s.after_bytes_per_hour),
        crate::units::hours(s.after_hours),
        crate::units::hours(s.leak_hours),
    )
}

/// Index of the deployment to take as the fix among those starting in `(from, to)`.
fn pick(found: &[Deployment], from: f64, to: f64) -> Option<usize> {
    let change = |d: &Deployment| match (
        d.growth_before_bytes_per_hour,
        d.growth_after_bytes_per_hour,
    ) {
        (Some(b), Some(a)) => b - a,
        _ => f64::NEG_INFINITY,
    };
    found
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            let t = unix_seconds(d.started);
            t > from && t < to
        })
        .max_by(|(ia, a), (ib, b)| change(a).total_cmp(&change(b)).then(ia.cmp(ib)))
        .map(|(i, _)| i)
}

/// The deployments for the evidence (the fix flagged), where the fix came from, and
/// the warnings: several candidates, none for a given time.
pub fn deployments(
    config: &QueryConfig,
    acquired: &Acquired,
) -> (Vec<Deployment>, Option<FixSource>, Vec<String>) {
    let data = &acquired.deploys;
    let window = &acquired.window;
    let (from, to) = (unix_seconds(window.from), unix_seconds(window.to));
    let mut found = find(config, data);
    let in_window = found.iter().filter(|d| d.in_window).count();
    let mut warnings = Vec::new();
    let source = match (window.fix_spec, window.fix_deployed) {
        (Some(FixSpec::Auto), Some(_)) => {
            let picked = pick(&found, from, to);
            if let Some(i) = picked {
                found[i].fix = true;
            }
            picked.map(|i| {
                if in_window > 1 {
                    warnings.push(several_warning(&found, i));
                }
                if found[i].strategy == RolloutStrategy::Canary {
                    warnings.push(canary_warning(&found[i]));
                }
                detected_source(&found[i], in_window)
            })
        }
        (_, Some(fix)) => {
            let fix = unix_seconds(fix);
            let slack = data.step.max(MINUTE);
            if let Some(d) = found.iter_mut().find(|d| {
                let (start, end) = found_bounds(d);
                fix >= start - slack && fix <= end + slack
            }) {
                d.fix = true;
            }
            Some(FixSource {
                origin: FixOrigin::Given,
                source: None,
                candidates: in_window,
                reason: "given with --fix-deployed".into(),
            })
        }
        _ => None,
    };
    (found, source, warnings)
}

fn several_warning(found: &[Deployment], picked: usize) -> String {
    let others: Vec<String> = found
        .iter()
        .enumerate()
        .filter(|(i, d)| *i != picked && d.in_window)
        .map(|(_, d)| crate::units::time(d.started))
        .collect();
    format!(
        "--fix-deployed auto: {} deployments in the window; the fix is taken to be the one at {} ({}); the others ({}) are listed in the timeline and deployments[] — give --fix-deployed TIME if another was the fix",
        others.len() + 1,
        crate::units::time(found[picked].started),
        growth_change(&found[picked]),
        others.join(", ")
    )
}

fn canary_warning(d: &Deployment) -> String {
    let until = d
        .finished
        .map_or("the end of the data".to_string(), crate::units::time);
    format!(
        "--fix-deployed auto: the fix is a canary rollout, taken from its first new instance at {}; old instances kept running until {until}, so the after-fix period includes them until then (give --fix-deployed {} to split at the full rollout's end instead)",
        crate::units::time(d.started),
        d.finished.map_or("TIME".to_string(), |f| f
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string())
    )
}

/// "growth fell most after it: X MB/hour in the N h before → Y MB/hour in the M h after".
fn growth_change(d: &Deployment) -> String {
    format!(
        "growth fell most after it: {} in the {} before → {} in the {} after",
        mbh(d.growth_before_bytes_per_hour),
        crate::units::hours(d.growth_before_hours),
        mbh(d.growth_after_bytes_per_hour),
        crate::units::hours(d.growth_after_hours)
    )
}

fn mbh(v: Option<f64>) -> String {
    v.map_or(crate::units::NA.into(), crate::units::mb_per_hour)
}

fn detected_source(d: &Deployment, candidates: usize) -> FixSource {
    let versions = |v: &[String]| {
        if v.is_empty() {
            "?".to_string()
        } else {
            v.join(", ")
        }
    };
    let from = match (&d.version_series, d.source) {
        (Some(series), DeploySource::BuildInfo) => {
            let labels: BTreeSet<&str> = d
                .versions_before
                .iter()
                .chain(&d.versions_after)
                .flat_map(|v| v.split(','))
                .filter_map(|v| v.split_once('=').map(|(label, _)| label))
                .collect();
            format!(
                "a version change in {series} ({})",
                labels.into_iter().collect::<Vec<_>>().join(", ")
            )
        }
        _ => d.source.describe().to_string(),
    };
    let mut reason = format!("detected from {from}: {} rollout", d.strategy.name());
    if !d.versions_before.is_empty() || !d.versions_after.is_empty() {
        reason.push_str(&format!(
            " {} → {}",
            versions(&d.versions_before),
            versions(&d.versions_after)
        ));
    }
    if !d.namespaces.is_empty() {
        reason.push_str(&format!(" in {}", d.namespaces.join(", ")));
    }
    if candidates > 1 {
        reason.push_str(&format!(
            "; picked among {candidates} deployments in the window: {}",
            growth_change(d)
        ));
    }
    FixSource {
        origin: FixOrigin::Detected,
        source: Some(d.source),
        candidates,
        reason,
    }
}

fn range(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let values = points.iter().map(|p| p.1).filter(|v| v.is_finite());
    let min = values.clone().reduce(f64::min)?;
    Some((min, values.reduce(f64::max)?))
}

/// The service's pods from kube-state-metrics, each with its revision: the image when
/// the pods ran more than one, else the owning ReplicaSet.
fn pod_members(data: &DeployData) -> Vec<Member> {
    let key = |l: &Labels| {
        format!(
            "{}/{}",
            l.get("namespace").map_or("", String::as_str),
            l.get("pod").map_or("", String::as_str)
        )
    };
    let value_of = |series: &[RangeSeries]| -> BTreeMap<String, (f64, Labels)> {
        series
            .iter()
            .filter_map(|s| Some((key(&s.labels), (s.points.last()?.1, s.labels.clone()))))
            .collect()
    };
    let created = value_of(data.get(DeploySeries::PodCreated));
    let owners = value_of(data.get(DeploySeries::PodOwner));
    let mut pods: BTreeMap<String, (Labels, f64, f64)> = BTreeMap::new();
    for s in data.get(DeploySeries::PodInfo) {
        let Some((first, last)) = range(&s.points) else {
            continue;
        };
        let entry = pods
            .entry(key(&s.labels))
            .or_insert((s.labels.clone(), first, last));
        entry.1 = entry.1.min(first);
        if last >= entry.2 {
            entry.0 = s.labels.clone();
            entry.2 = last;
        }
    }
    let images: BTreeSet<&str> = pods
        .values()
        .filter_map(|(l, _, _)| l.get("image").map(String::as_str))
        .collect();
    pods.iter()
        .map(|(id, (labels, first, last))| {
            let image = labels.get("image").cloned().unwrap_or_default();
            let owner = owners
                .get(id)
                .and_then(|(_, l)| l.get("owner_name").cloned());
            let revision = match owner {
                Some(owner) if images.len() <= 1 => format!("{image} (ReplicaSet {owner})"),
                _ => image,
            };
            Member {
                id: id.clone(),
                revision,
                namespace: labels.get("namespace").cloned(),
                // The creation time is exact; the first sample is a scrape later.
                appeared: created.get(id).map_or(*first, |(t, _)| t.min(*first)),
                last_seen: *last,
            }
        })
        .collect()
}

/// Deployments from revision changes among `members`, oldest first.
fn from_members(members: &[Member], data: &DeployData, source: DeploySource) -> Vec<Deployment> {
    let mut first_of: BTreeMap<&str, f64> = BTreeMap::new();
    for m in members {
        let t = first_of.entry(&m.revision).or_insert(m.appeared);
        *t = t.min(m.appeared);
    }
    let mut revisions: Vec<(&str, f64)> = first_of.into_iter().collect();
    revisions.sort_by(|a, b| a.1.total_cmp(&b.1));
    let still_running = data.end - 2.0 * data.step;
    let mut out = Vec::new();
    for (revision, start) in revisions {
        let old: Vec<&Member> = members
            .iter()
            .filter(|m| {
                m.revision != revision
                    && m.appeared < start
                    && m.last_seen >= start - REPLACED_WITHIN
            })
            .collect();
        if old.is_empty() {
            continue;
        }
        let old_gone = old.iter().map(|m| m.last_seen).fold(f64::MIN, f64::max);
        let mut new: Vec<&Member> = members
            .iter()
            .filter(|m| m.revision == revision && m.appeared <= old_gone.max(start) + ROLLOUT_TAIL)
            .collect();
        new.sort_by(|a, b| a.appeared.total_cmp(&b.appeared));
        let strategy = strategy(&old, &new, start);
        // Done when the last old instance went and the last new one came, whichever is
        // later (a recreate's old instances are all gone before it starts).
        let last_new = new.iter().map(|m| m.appeared).fold(start, f64::max);
        let finished =
            (old_gone < still_running).then(|| from_unix_seconds(old_gone.max(last_new)));
        let set = |ms: &[&Member], f: &dyn Fn(&Member) -> Option<String>| -> Vec<String> {
            ms.iter()
                .filter_map(|m| f(m))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        out.push(Deployment {
            finished,
            strategy,
            versions_before: set(&old, &|m| Some(m.revision.clone())),
            versions_after: vec![revision.to_string()],
            namespaces: set(&new, &|m| m.namespace.clone()),
            instances_before: set(&old, &|m| Some(m.id.clone())).len(),
            instances_after: set(&new, &|m| Some(m.id.clone())).len(),
            ..Deployment::found(from_unix_seconds(start), source)
        });
    }
    out
}

/// A rollout the series cannot tell apart otherwise, whose instances were all replaced
/// within a minute (or one step of the series): all at once — a recreate, or a rollout
/// in one step.
fn all_at_once(d: &Deployment, step: f64) -> RolloutStrategy {
    let within = d
        .finished
        .is_some_and(|f| (f - d.started).num_seconds() as f64 <= step.max(MINUTE));
    if d.strategy == RolloutStrategy::Unknown && within {
        RolloutStrategy::Simultaneous
    } else {
        d.strategy
    }
}

/// Rolling, recreate or canary, from when the new members came and the old ones went.
fn strategy(old: &[&Member], new: &[&Member], start: f64) -> RolloutStrategy {
    let old_gone = old.iter().map(|m| m.last_seen).fold(f64::MIN, f64::max);
    if old_gone < start {
        return RolloutStrategy::Recreate;
    }
    // A canary: fewer than half the new members came first, and the rest came only
    // after a long pause during which old members kept running.
    for (i, pair) in new.windows(2).enumerate() {
        let (a, b) = (pair[0].appeared, pair[1].appeared);
        if b - a >= CANARY_GAP && 2 * (i + 1) < new.len().max(2) && old_gone > a + CANARY_GAP {
            return RolloutStrategy::Canary;
        }
    }
    RolloutStrategy::Rolling
}

/// Info series that carry another program's version, never the application's: the
/// runtime's (`nodejs_version_info`, `go_info`, `python_info`, `jvm_info`,
/// `jvm_runtime_info`, OpenTelemetry's `process_runtime_*` and `otel_scope_info`) and
/// those of other exporters that may share the service's labels (kube-state-metrics'
/// `kube_*`, node_exporter's `node_*`, cAdvisor's `cadvisor_version_info`/`machine_*`/
/// `container_*`, Prometheus' own `prometheus_*`).
fn is_other_programs_info(metric: &str) -> bool {
    const NAMES: &[&str] = &[
        "nodejs_version_info",
        "go_info",
        "python_info",
        "jvm_info",
        "jvm_runtime_info",
        "otel_scope_info",
        "cadvisor_version_info",
    ];
    const PREFIXES: &[&str] = &[
        "kube_",
        "node_",
        "process_runtime_",
        "machine_",
        "container_",
        "prometheus_",
    ];
    NAMES.contains(&metric) || PREFIXES.iter().any(|p| metric.starts_with(p))
}

/// Which info series names the application's version first, when several change in one
/// rollout: a build info (`build_info`, `*_build_info`; Go's own `go_build_info` last,
/// its version is often `(devel)`), then `app_info`, then OpenTelemetry's `target_info`
/// (`service_version`), then any other `*_info`.
fn version_series_rank(metric: &str) -> u8 {
    match metric {
        "go_build_info" => 4,
        "build_info" => 0,
        m if m.ends_with("_build_info") => 0,
        "app_info" => 1,
        "target_info" => 2,
        _ => 3,
    }
}

/// A label value that looks like a version: it has a digit (`1.5.0`, `v2`, a commit
/// hash, a date) — not `unknown`, `(devel)`, `dev` or empty.
fn looks_like_version(value: &str) -> bool {
    value.bytes().any(|b| b.is_ascii_digit())
}

/// The version labels of one info series, `label=value`, in [`VERSION_LABELS`]' order.
fn version_of(labels: &Labels) -> Vec<String> {
    VERSION_LABELS
        .iter()
        .filter_map(|name| {
            let v = labels.get(*name).filter(|v| looks_like_version(v))?;
            Some(format!("{name}={v}"))
        })
        .collect()
}

/// Deployments from the version labels of the service's info series: each instance's
/// series per version is a member; one metric (`info_metric`) at a time, since a
/// runtime's own build info (`go_build_info`) may never change. Also says whether any
/// series carried an application version (then a restart wave without a version change
/// is not a deployment).
fn build_info(data: &DeployData) -> (Vec<Deployment>, bool) {
    // Each series' first raw sample, exact to the scrape (the step-sampled timestamps
    // below only say the latest sample before each step).
    let first_sample: BTreeMap<&Labels, f64> = data
        .get(DeploySeries::BuildInfoFirst)
        .iter()
        .filter_map(|s| Some((&s.labels, range(&s.points)?.0)))
        .collect();
    let mut by_metric: BTreeMap<(u8, String), Vec<Member>> = BTreeMap::new();
    for s in data.get(DeploySeries::BuildInfo) {
        let metric = s.labels.get("info_metric").cloned().unwrap_or_default();
        let version = version_of(&s.labels);
        if version.is_empty() || is_other_programs_info(&metric) {
            continue;
        }
        let Some((first, last)) = range(&s.points) else {
            continue;
        };
        let first = first_sample.get(&s.labels).map_or(first, |f| f.min(first));
        let mut identity = s.labels.clone();
        for name in VERSION_LABELS {
            identity.remove(*name);
        }
        identity.remove("info_metric");
        by_metric
            .entry((version_series_rank(&metric), metric))
            .or_default()
            .push(Member {
                id: lifetimes::instance_key(&identity),
                revision: version.join(","),
                namespace: s.labels.get("namespace").cloned(),
                appeared: first,
                last_seen: last,
            });
    }
    let mut out: Vec<Deployment> = Vec::new();
    for ((_, metric), members) in &by_metric {
        for mut d in from_members(members, data, DeploySource::BuildInfo) {
            // Two info series changing together are one deployment, named by the
            // better-ranked series.
            let t = unix_seconds(d.started);
            if !out
                .iter()
                .any(|o| (unix_seconds(o.started) - t).abs() <= WAVE_GAP)
            {
                d.version_series = Some(metric.clone());
                out.push(d);
            }
        }
    }
    out.sort_by_key(|d| d.started);
    (out, !by_metric.is_empty())
}

/// Waves of process starts across most instances, none restarted in place by Kubernetes
/// nor OOM-killed: what a rollout looks like without kube-state-metrics or versions.
pub fn restart_waves(data: &DeployData) -> Vec<Deployment> {
    let starts = data.get(DeploySeries::ProcessStart);
    let mut events: Vec<(f64, usize)> = Vec::new();
    for (index, s) in starts.iter().enumerate() {
        let boundaries = lifetimes::boundaries_from_start_times(&s.points);
        events.extend(boundaries.into_iter().map(|t| (t, index)));
        // A series that begins inside the range is a new process (a new pod).
        if let Some(&(t0, v0)) = s.points.first()
            && t0 > data.start + data.step
            && v0.is_finite()
        {
            events.push((v0.max(t0 - data.step), index));
        }
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let mut j = i + 1;
        while j < events.len() && events[j].0 - events[j - 1].0 <= WAVE_GAP {
            j += 1;
        }
        let wave = &events[i..j];
        i = j;
        let (t0, t1) = (wave[0].0, wave[wave.len() - 1].0);
        let processes: BTreeSet<usize> = wave.iter().map(|e| e.1).collect();
        let fleet = starts
            .iter()
            .filter(|s| {
                s.points
                    .iter()
                    .any(|p| p.0 < t0 && p.0 >= t0 - REPLACED_WITHIN)
            })
            .count();
        // Most of the instances that ran just before it.
        if processes.len() < 2 || fleet == 0 || 2 * processes.len() <= fleet {
            continue;
        }
        if killed_or_restarted_in_place(data, t0 - data.step, t1 + 2.0 * data.step) {
            continue;
        }
        out.push(Deployment {
            finished: Some(from_unix_seconds(t1)),
            namespaces: processes
                .iter()
                .filter_map(|i| starts[*i].labels.get("namespace").cloned())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            instances_before: fleet,
            instances_after: processes.len(),
            ..Deployment::found(from_unix_seconds(t0), DeploySource::RestartWave)
        });
    }
    out
}

/// Whether any container restarted in place (kube-state-metrics' restart counter rose),
/// was OOM-killed (its last termination reason), or cAdvisor counted an OOM event in
/// `[start, end]`: restarts a rollout never makes.
fn killed_or_restarted_in_place(data: &DeployData, start: f64, end: f64) -> bool {
    let rose = |series: &[RangeSeries]| {
        series.iter().any(|s| {
            s.points
                .windows(2)
                .any(|w| w[1].1 > w[0].1 && w[1].0 >= start && w[1].0 <= end)
        })
    };
    // The OOMKilled reason is a gauge that stays 1 after a kill until the container
    // ends for another reason: only a flag raised in the range (or a series that starts
    // raised there) is an OOM kill now; pods killed hours before and replaced now are not.
    let raised = data.get(DeploySeries::OomReason).iter().any(|s| {
        s.points
            .first()
            .is_some_and(|p| p.1 > 0.0 && p.0 >= start && p.0 <= end)
    });
    rose(data.get(DeploySeries::K8sRestarts))
        || rose(data.get(DeploySeries::OomEvents))
        || rose(data.get(DeploySeries::OomReason))
        || raised
}

/// The service's growth over `[a, b]` from the lookback heap series.
pub fn service_growth_between(data: &DeployData, a: f64, b: f64) -> Option<f64> {
    if b <= a {
        return None;
    }
    let starts = data.get(DeploySeries::ProcessStart);
    let pairs: Vec<(f64, f64)> = data
        .get(DeploySeries::Heap)
        .iter()
        .filter_map(|heap| {
            let points: Vec<(f64, f64)> = heap
                .points
                .iter()
                .copied()
                .filter(|p| p.0 >= a && p.0 <= b)
                .collect();
            let cut = lifetimes::matching(&heap.labels, starts)
                .map(|s| lifetimes::boundaries_from_start_times(&s.points))
                .unwrap_or_default();
            let g = super::growth::instance_growth(&points, &cut)?;
            Some((g.bytes_per_hour, g.hours_fitted))
        })
        .collect();
    crate::stats::weighted_median(&pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, revision: &str, appeared: f64, last_seen: f64) -> Member {
        Member {
            id: id.into(),
            revision: revision.into(),
            namespace: Some("prod".into()),
            appeared,
            last_seen,
        }
    }

    fn data() -> DeployData {
        DeployData {
            start: 0.0,
            end: 100.0 * HOUR,
            step: 60.0,
            series: Default::default(),
        }
    }

    #[test]
    fn strategies() {
        let h = HOUR;
        let rolling = [
            member("a", "v1", 0.0, 10.0 * h + 120.0),
            member("b", "v1", 0.0, 10.0 * h + 240.0),
            member("c", "v2", 10.0 * h, 50.0 * h),
            member("d", "v2", 10.0 * h + 120.0, 50.0 * h),
        ];
        let found = from_members(&rolling, &data(), DeploySource::KubeStateMetrics);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].strategy, RolloutStrategy::Rolling);
        assert_eq!(unix_seconds(found[0].started), 10.0 * h);
        assert_eq!(found[0].versions_before, vec!["v1"]);
        let recreate = [
            member("a", "v1", 0.0, 10.0 * h - 60.0),
            member("b", "v1", 0.0, 10.0 * h - 30.0),
            member("c", "v2", 10.0 * h, 50.0 * h),
            member("d", "v2", 10.0 * h + 5.0, 50.0 * h),
        ];
        let found = from_members(&recreate, &data(), DeploySource::KubeStateMetrics);
        assert_eq!(found[0].strategy, RolloutStrategy::Recreate);
        let canary = [
            member("a", "v1", 0.0, 14.0 * h),
            member("b", "v1", 0.0, 14.0 * h),
            member("c", "v1", 0.0, 14.0 * h),
            member("k", "v2", 10.0 * h, 50.0 * h),
            member("d", "v2", 14.0 * h, 50.0 * h),
            member("e", "v2", 14.0 * h + 60.0, 50.0 * h),
            member("f", "v2", 14.0 * h + 120.0, 50.0 * h),
        ];
        let found = from_members(&canary, &data(), DeploySource::KubeStateMetrics);
        assert_eq!(found[0].strategy, RolloutStrategy::Canary);
        assert_eq!(unix_seconds(found[0].started), 10.0 * h);
        assert_eq!(found[0].instances_after, 4);
    }

    #[test]
    fn the_pick_is_the_largest_fall_in_growth() {
        let mut d = data();
        d.end = 0.0;
        let make = |start: f64, before: f64, after: f64| Deployment {
            started: from_unix_seconds(start),
            finished: None,
            strategy: RolloutStrategy::Rolling,
            source: DeploySource::KubeStateMetrics,
            versions_before: vec![],
            versions_after: vec![],
            version_series: None,
            namespaces: vec![],
            instances_before: 1,
            instances_after: 1,
            in_window: true,
            fix: false,
            growth_before_bytes_per_hour: Some(before),
            growth_after_bytes_per_hour: Some(after),
            growth_before_hours: 1.0,
            growth_after_hours: 1.0,
        };
        let found = [
            make(1000.0, 50e6, 50e6),
            make(2000.0, 50e6, 0.0),
            make(3000.0, 0.0, 0.0),
        ];
        assert_eq!(pick(&found, 0.0, 10_000.0), Some(1));
        assert_eq!(pick(&found, 2500.0, 10_000.0), Some(2));
        assert_eq!(pick(&found, 5000.0, 10_000.0), None);
    }

    #[test]
    fn which_info_series_and_labels_name_the_applications_version() {
        let labels = |pairs: &[(&str, &str)]| -> Labels {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            version_of(&labels(&[("version", "1.5.0"), ("goversion", "go1.22")])),
            vec!["version=1.5.0"]
        );
        assert_eq!(
            version_of(&labels(&[
                ("app_version", "2026.11.3"),
                ("revision", "7f6c5d4")
            ])),
            vec!["app_version=2026.11.3", "revision=7f6c5d4"]
        );
        // Not versions: Go's "(devel)", "unknown", empty.
        for value in ["(devel)", "unknown", ""] {
            assert!(
                version_of(&labels(&[("version", value)])).is_empty(),
                "{value}"
            );
        }
        for other in [
            "nodejs_version_info",
            "go_info",
            "python_info",
            "jvm_runtime_info",
            "process_runtime_jvm_info",
            "kube_pod_info",
            "node_uname_info",
            "otel_scope_info",
        ] {
            assert!(is_other_programs_info(other), "{other}");
        }
        for app in [
            "build_info",
            "api_build_info",
            "app_info",
            "target_info",
            "api_info",
        ] {
            assert!(!is_other_programs_info(app), "{app}");
        }
        let mut names = [
            "api_info",
            "target_info",
            "go_build_info",
            "app_info",
            "build_info",
        ];
        names.sort_by_key(|n| version_series_rank(n));
        assert_eq!(
            names,
            [
                "build_info",
                "app_info",
                "target_info",
                "api_info",
                "go_build_info"
            ]
        );
    }

    #[test]
    fn growth_stopped_needs_a_leak_before_a_flat_after_and_hours_of_both() {
        let make = |start: f64, before: f64, after: f64, hours_after: f64| Deployment {
            growth_before_bytes_per_hour: Some(before),
            growth_after_bytes_per_hour: Some(after),
            growth_before_hours: 10.0,
            growth_after_hours: hours_after,
            in_window: true,
            ..Deployment::found(from_unix_seconds(start), DeploySource::RestartWave)
        };
        let mb = 1e6;
        let to = 100.0 * HOUR;
        // 60 → 0.2 MB/hour over 5 h: stopped.
        assert_eq!(
            stopped_index(&[make(HOUR, 60.0 * mb, 0.2 * mb, 5.0)], 0.0, to),
            Some(0)
        );
        // Still growing after, or no leak before, or 1 h after only: not stopped.
        assert_eq!(
            stopped_index(&[make(HOUR, 60.0 * mb, 30.0 * mb, 5.0)], 0.0, to),
            None
        );
        assert_eq!(
            stopped_index(&[make(HOUR, 0.5 * mb, 0.0, 5.0)], 0.0, to),
            None
        );
        assert_eq!(
            stopped_index(&[make(HOUR, 60.0 * mb, 0.0, 1.0)], 0.0, to),
            None
        );
        // 1.2 → 0.9 MB/hour: both near the bound, not a fall.
        assert_eq!(
            stopped_index(&[make(HOUR, 1.2 * mb, 0.9 * mb, 5.0)], 0.0, to),
            None
        );
        // Two: the one with the largest fall, whatever their order.
        let found = [
            make(HOUR, 60.0 * mb, 0.0, 5.0),
            make(2.0 * HOUR, 20.0 * mb, 0.0, 5.0),
        ];
        assert_eq!(stopped_index(&found, 0.0, to), Some(0));
        // Before the window: not in it.
        assert_eq!(stopped_index(&found[..1], 2.0 * HOUR, to), None);
    }
}
