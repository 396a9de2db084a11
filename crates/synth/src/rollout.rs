//! Rollouts with known ground truth: pods of a Node.js service (prom-client names) with
//! the kube-state-metrics series Kubernetes gives them — `kube_pod_container_info`,
//! `kube_pod_created`, `kube_pod_start_time`, `kube_pod_owner`, restart counters and
//! termination reasons — and optionally an application `*_build_info` and cAdvisor OOM
//! events. Each pod is described by when it was created (exactly, off the scrape grid,
//! as the API server stamps it), when it went away, what it ran and how fast it leaked,
//! so a test knows the true start of every rollout. [`Extras`] adds what some exporters
//! also publish: a version in a bare `build_info`, `app_info` or another `*_info` series,
//! the runtime's own version info (not the application's), and request latency.

use std::collections::BTreeMap;
use std::fmt::Write as _;

const MB: f64 = 1e6;
const HOUR: f64 = 3600.0;
const LATENCY_BUCKETS: [f64; 6] = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// One container restart in place (same pod): at `at`, OOM-killed or not.
#[derive(Debug, Clone, Copy)]
pub struct InPlaceRestart {
    pub at: f64,
    pub oom: bool,
}

/// One pod of the service.
#[derive(Debug, Clone)]
pub struct Pod {
    pub name: String,
    pub replicaset: String,
    pub image: String,
    /// The application version (build info).
    pub version: String,
    /// Unix seconds, exact (`kube_pod_created`).
    pub created: f64,
    /// When its container started (`kube_pod_start_time`, the process start).
    pub started: f64,
    /// When it went away; `f64::INFINITY` for still running.
    pub deleted: f64,
    pub leak_bytes_per_hour: f64,
    pub restarts: Vec<InPlaceRestart>,
}

/// A service's pods over `[from, to]`, sampled every `interval` on a grid from `from`.
#[derive(Debug, Clone)]
pub struct Rollout {
    pub service: String,
    pub namespace: String,
    pub from: f64,
    pub to: f64,
    pub interval: f64,
    pub pods: Vec<Pod>,
    /// kube-state-metrics series.
    pub kube: bool,
    /// `<service>_build_info{version=…}` from the application.
    pub build_info: bool,
    /// cAdvisor's `container_oom_events_total`.
    pub cadvisor_oom: bool,
}

/// The first revision's pods (`v1`), running from before `from` until replaced.
pub fn initial_pods(service: &str, count: usize, since: f64, leak: f64) -> Vec<Pod> {
    (0..count)
        .map(|i| Pod {
            name: format!("{service}-5d8f7c9b4-a{i}x"),
            replicaset: format!("{service}-5d8f7c9b4"),
            image: format!("registry.example/{service}:1.4.2"),
            version: "1.4.2".into(),
            created: since + 11.0 + i as f64 * 7.0,
            started: since + 15.0 + i as f64 * 7.0,
            deleted: f64::INFINITY,
            leak_bytes_per_hour: leak,
            restarts: Vec::new(),
        })
        .collect()
}

/// A new revision's pod: created at `created`, its container up 4 s later.
pub fn new_pod(
    service: &str,
    hash: &str,
    index: usize,
    version: &str,
    created: f64,
    leak: f64,
) -> Pod {
    Pod {
        name: format!("{service}-{hash}-n{index}z"),
        replicaset: format!("{service}-{hash}"),
        image: format!("registry.example/{service}:{version}"),
        version: version.into(),
        created,
        started: created + 4.0,
        deleted: f64::INFINITY,
        leak_bytes_per_hour: leak,
        restarts: Vec::new(),
    }
}

/// Replaces the running pods that are not of `version` with new ones of it, rolling:
/// pod `i` is created at `at + i·spacing` and the old pod `i` deleted 90 s after it
/// (once the new one is ready). Returns the true start (`at`).
pub fn roll(
    pods: &mut Vec<Pod>,
    service: &str,
    hash: &str,
    version: &str,
    at: f64,
    spacing: f64,
    leak: f64,
) -> f64 {
    let old: Vec<usize> = running_at(pods, at, version);
    for (i, index) in old.into_iter().enumerate() {
        let created = at + i as f64 * spacing;
        pods[index].deleted = created + 90.0;
        pods.push(new_pod(service, hash, i, version, created, leak));
    }
    at
}

/// Recreate: every running pod is deleted at `at - 40 s`, the new ones created from `at`.
pub fn recreate(
    pods: &mut Vec<Pod>,
    service: &str,
    hash: &str,
    version: &str,
    at: f64,
    leak: f64,
) -> f64 {
    let old: Vec<usize> = running_at(pods, at, version);
    for (i, index) in old.into_iter().enumerate() {
        pods[index].deleted = at - 40.0 + i as f64;
        pods.push(new_pod(
            service,
            hash,
            i,
            version,
            at + i as f64 * 3.0,
            leak,
        ));
    }
    at
}

/// Pods running at `at` that do not run `version` yet.
fn running_at(pods: &[Pod], at: f64, version: &str) -> Vec<usize> {
    pods.iter()
        .enumerate()
        .filter(|(_, p)| p.created < at && p.deleted > at && p.version != version)
        .map(|(i, _)| i)
        .collect()
}

/// Series beyond kube-state-metrics' and `app_build_info`, for
/// [`Rollout::openmetrics_with`].
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Application info series carrying the pod's version: `(metric, label)`, e.g.
    /// `("build_info", "version")` or `("app_info", "app_version")`.
    pub version_info: Vec<(String, String)>,
    /// prom-client's `nodejs_version_info{version}`: the Node.js runtime's version, which
    /// changes with the image (v18.19.0 for the first revision, v20.11.1 after) but is not
    /// the application's.
    pub runtime_info: bool,
    /// `http_request_duration_seconds` (10 requests/s per pod): 40 ms per request, and
    /// longer as a leaking pod's heap grows ([`Rollout::latency_series`]).
    pub latency: bool,
}

impl Rollout {
    /// The true start of the rollout bringing `version`: its first pod's creation.
    pub fn start_of(&self, version: &str) -> Option<f64> {
        self.pods
            .iter()
            .filter(|p| p.version == version)
            .map(|p| p.created)
            .reduce(f64::min)
    }

    /// The OpenMetrics text (with `# EOF`) for promtool.
    pub fn openmetrics(&self) -> String {
        self.openmetrics_with(&Extras::default())
    }

    /// The same with `extras`' series.
    pub fn openmetrics_with(&self, extras: &Extras) -> String {
        let mut families: BTreeMap<String, (&'static str, String)> = BTreeMap::new();
        let mut emit = |family: &str,
                        kind: &'static str,
                        sample: &str,
                        labels: &str,
                        points: &[(f64, f64)]| {
            let text = &mut families
                .entry(family.to_string())
                .or_insert((kind, String::new()))
                .1;
            for (t, v) in points {
                let _ = writeln!(text, "{sample}{{{labels}}} {} {}", num(*v), num(*t));
            }
        };
        for (index, pod) in self.pods.iter().enumerate() {
            let grid = self.grid(pod);
            if grid.is_empty() {
                continue;
            }
            let life_start = |t: f64| {
                pod.restarts
                    .iter()
                    .filter(|r| r.at <= t)
                    .map(|r| r.at)
                    .fold(pod.started, f64::max)
            };
            let app = format!(
                "job=\"{}\",instance=\"10.4.{}.{}:9091\",namespace=\"{}\",pod=\"{}\"",
                self.service,
                index / 200,
                index % 200 + 1,
                self.namespace,
                pod.name
            );
            let heap: Vec<(f64, f64)> = grid
                .iter()
                .enumerate()
                .map(|(k, &t)| {
                    let phase = ((t + index as f64 * 97.0) % 420.0) / 420.0;
                    let v = 150.0 * MB
                        + 5.0 * MB * (index % 4) as f64
                        + pod.leak_bytes_per_hour * (t - life_start(t)).max(0.0) / HOUR
                        + 30.0 * MB * phase
                        + 2.0 * MB * noise(k * 31 + index);
                    (t, v.round())
                })
                .collect();
            emit(
                "nodejs_heap_size_used_bytes",
                "gauge",
                "nodejs_heap_size_used_bytes",
                &app,
                &heap,
            );
            let starts: Vec<(f64, f64)> = grid.iter().map(|&t| (t, life_start(t))).collect();
            emit(
                "process_start_time_seconds",
                "gauge",
                "process_start_time_seconds",
                &app,
                &starts,
            );
            if self.build_info {
                let labels = format!("{app},version=\"{}\"", pod.version);
                let ones: Vec<(f64, f64)> = grid.iter().map(|&t| (t, 1.0)).collect();
                emit("app_build_info", "gauge", "app_build_info", &labels, &ones);
            }
            self.extra_series(&mut emit, extras, pod, &app, &grid, &life_start);
            let restarts_at = |t: f64| pod.restarts.iter().filter(|r| r.at <= t).count() as f64;
            if self.cadvisor_oom {
                let labels = format!(
                    "job=\"kubelet\",instance=\"node-{}\",namespace=\"{}\",pod=\"{}\",container=\"{}\"",
                    index % 3,
                    self.namespace,
                    pod.name,
                    self.service
                );
                let ooms: Vec<(f64, f64)> = grid
                    .iter()
                    .map(|&t| {
                        (
                            t,
                            pod.restarts.iter().filter(|r| r.oom && r.at <= t).count() as f64,
                        )
                    })
                    .collect();
                emit(
                    "container_oom_events",
                    "counter",
                    "container_oom_events_total",
                    &labels,
                    &ooms,
                );
            }
            if self.kube {
                self.kube_series(&mut emit, pod, &grid, &restarts_at);
            }
        }
        let mut out = String::new();
        for (family, (kind, text)) in families {
            let _ = writeln!(out, "# TYPE {family} {kind}");
            out.push_str(&text);
        }
        out.push_str("# EOF\n");
        out
    }

    fn extra_series(
        &self,
        emit: &mut impl FnMut(&str, &'static str, &str, &str, &[(f64, f64)]),
        extras: &Extras,
        pod: &Pod,
        app: &str,
        grid: &[f64],
        life_start: &dyn Fn(f64) -> f64,
    ) {
        let ones: Vec<(f64, f64)> = grid.iter().map(|&t| (t, 1.0)).collect();
        for (metric, label) in &extras.version_info {
            let labels = format!("{app},{label}=\"{}\"", pod.version);
            emit(metric, "gauge", metric, &labels, &ones);
        }
        if extras.runtime_info {
            let first_revision = self.pods.first().map(|p| p.version.as_str());
            let node = if Some(pod.version.as_str()) == first_revision {
                ("v18.19.0", "18")
            } else {
                ("v20.11.1", "20")
            };
            let labels = format!("{app},version=\"{}\",major=\"{}\"", node.0, node.1);
            emit(
                "nodejs_version_info",
                "gauge",
                "nodejs_version_info",
                &labels,
                &ones,
            );
        }
        if extras.latency {
            self.latency_series(emit, pod, app, grid, life_start);
        }
    }

    /// `http_request_duration_seconds` of one pod, 10 requests/s: 40 ms per request, plus
    /// 0.5 s per GB the pod has leaked (slower as its heap grows, as GC pauses lengthen);
    /// the counters restart with the process.
    fn latency_series(
        &self,
        emit: &mut impl FnMut(&str, &'static str, &str, &str, &[(f64, f64)]),
        pod: &Pod,
        app: &str,
        grid: &[f64],
        life_start: &dyn Fn(f64) -> f64,
    ) {
        let labels = format!("{app},method=\"GET\",route=\"/api\",status_code=\"200\"");
        let duration = |t: f64| {
            0.04 + 0.5 * pod.leak_bytes_per_hour * (t - life_start(t)).max(0.0) / HOUR / 1e9
        };
        let bounds: Vec<f64> = LATENCY_BUCKETS
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .collect();
        let mut buckets: Vec<Vec<(f64, f64)>> = vec![Vec::new(); bounds.len()];
        let (mut sums, mut counts) = (Vec::new(), Vec::new());
        let (mut cumulative, mut sum, mut count) = (vec![0.0; bounds.len()], 0.0, 0.0);
        let mut previous: Option<(f64, f64)> = None;
        for &t in grid {
            let start = life_start(t);
            match previous {
                Some((p, s)) if s == start => {
                    let n = ((t - p) * 10.0).round();
                    let d = duration(t);
                    for (c, le) in cumulative.iter_mut().zip(&bounds) {
                        if d <= *le {
                            *c += n;
                        }
                    }
                    sum += n * d;
                    count += n;
                }
                // A new process: its counters start again.
                _ => (cumulative, sum, count) = (vec![0.0; bounds.len()], 0.0, 0.0),
            }
            previous = Some((t, start));
            for (series, c) in buckets.iter_mut().zip(&cumulative) {
                series.push((t, *c));
            }
            sums.push((t, sum));
            counts.push((t, count));
        }
        let family = "http_request_duration_seconds";
        for (le, points) in bounds.iter().zip(&buckets) {
            let le_text = if le.is_infinite() {
                "+Inf".to_string()
            } else {
                num(*le)
            };
            let bucket = format!("{labels},le=\"{le_text}\"");
            emit(
                family,
                "histogram",
                &format!("{family}_bucket"),
                &bucket,
                points,
            );
        }
        emit(
            family,
            "histogram",
            &format!("{family}_sum"),
            &labels,
            &sums,
        );
        emit(
            family,
            "histogram",
            &format!("{family}_count"),
            &labels,
            &counts,
        );
    }

    fn kube_series(
        &self,
        emit: &mut impl FnMut(&str, &'static str, &str, &str, &[(f64, f64)]),
        pod: &Pod,
        grid: &[f64],
        restarts_at: &dyn Fn(f64) -> f64,
    ) {
        let ksm = "job=\"kube-state-metrics\",instance=\"ksm:8080\"";
        let pod_labels = format!(
            "{ksm},namespace=\"{}\",pod=\"{}\",uid=\"uid-{}\"",
            self.namespace, pod.name, pod.name
        );
        let container = format!(
            "{ksm},namespace=\"{}\",pod=\"{}\",uid=\"uid-{}\",container=\"{}\"",
            self.namespace, pod.name, pod.name, self.service
        );
        let constant = |v: f64| grid.iter().map(|&t| (t, v)).collect::<Vec<_>>();
        let info = format!(
            "{container},image=\"{}\",image_id=\"{}@sha256:{:x}\",image_spec=\"{}\",container_id=\"containerd://{}\"",
            pod.image,
            pod.image,
            hash(&pod.image),
            pod.image,
            pod.name
        );
        emit(
            "kube_pod_container_info",
            "gauge",
            "kube_pod_container_info",
            &info,
            &constant(1.0),
        );
        emit(
            "kube_pod_created",
            "gauge",
            "kube_pod_created",
            &pod_labels,
            &constant(pod.created),
        );
        emit(
            "kube_pod_start_time",
            "gauge",
            "kube_pod_start_time",
            &pod_labels,
            &constant(pod.started),
        );
        let owner = format!(
            "{pod_labels},owner_kind=\"ReplicaSet\",owner_name=\"{}\",owner_is_controller=\"true\"",
            pod.replicaset
        );
        emit(
            "kube_pod_owner",
            "gauge",
            "kube_pod_owner",
            &owner,
            &constant(1.0),
        );
        let restarts: Vec<(f64, f64)> = grid.iter().map(|&t| (t, restarts_at(t))).collect();
        emit(
            "kube_pod_container_status_restarts",
            "counter",
            "kube_pod_container_status_restarts_total",
            &container,
            &restarts,
        );
        let first_oom = pod
            .restarts
            .iter()
            .filter(|r| r.oom)
            .map(|r| r.at)
            .reduce(f64::min);
        if let Some(first) = first_oom {
            let reason = format!("{container},reason=\"OOMKilled\"");
            let flagged: Vec<(f64, f64)> = grid
                .iter()
                .filter(|t| **t >= first)
                .map(|&t| (t, 1.0))
                .collect();
            emit(
                "kube_pod_container_status_last_terminated_reason",
                "gauge",
                "kube_pod_container_status_last_terminated_reason",
                &reason,
                &flagged,
            );
        }
        let limit = format!("{container},resource=\"memory\",unit=\"byte\"");
        emit(
            "kube_pod_container_resource_limits",
            "gauge",
            "kube_pod_container_resource_limits",
            &limit,
            &constant(2e9),
        );
    }

    /// Scrape times of `pod`: the grid points from its first scrape after it started to
    /// its last before it went away, within `[from, to]`.
    fn grid(&self, pod: &Pod) -> Vec<f64> {
        let first = ((pod.started.max(self.from) - self.from) / self.interval).ceil() as i64;
        let mut out = Vec::new();
        let mut k = first.max(0);
        loop {
            let t = self.from + k as f64 * self.interval;
            if t > self.to || t >= pod.deleted {
                break;
            }
            out.push(t);
            k += 1;
        }
        out
    }
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Deterministic noise in [-1, 1].
fn noise(i: usize) -> f64 {
    let x = ((i as f64 * 12.9898).sin() * 43_758.545_3).fract();
    2.0 * x.abs() - 1.0
}
