//! Synthetic exporter data with known ground truth, in OpenMetrics text that
//! `promtool tsdb create-blocks-from openmetrics` loads. Used by the demo, the
//! end-to-end tests and the benchmarks; names are the ones prom-client and
//! kube-state-metrics really export.

pub mod rollout;
pub mod routes;

use std::fmt::Write as _;
use std::io::{self, Write};

mod otel;
pub use otel::OTEL_RUNTIMES;

const MB: f64 = 1e6;
const HOUR: f64 = 3600.0;
const GC_BUCKETS: [f64; 6] = [0.001, 0.01, 0.1, 1.0, 2.0, 5.0];
const LATENCY_BUCKETS: [f64; 6] = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// A leaking (or not) service, described by the truths the analysis must recover.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub service: String,
    pub instances: usize,
    /// Unix seconds.
    pub from: f64,
    pub to: f64,
    pub interval: f64,
    /// Post-GC floor growth per process lifetime before the fix (or throughout).
    pub leak_bytes_per_hour: f64,
    /// Growth after the fix.
    pub leak_after_fix_bytes_per_hour: f64,
    /// Kill and restart each process this often (OOM), before the fix.
    pub oom_every: Option<f64>,
    /// Fix rollout: every pod is replaced by a new one at this time.
    pub fix_at: Option<f64>,
    pub base_bytes: f64,
    pub sawtooth_bytes: f64,
    pub sawtooth_period: f64,
    /// Emit kube-state-metrics series (restarts, OOMKilled reason, memory limit).
    pub kube: bool,
    /// Which exporter's names to use: nodejs, python, jvm, go, dotnet, container.
    pub runtime: String,
    /// Requests per second each instance serves (a cumulative counter is emitted).
    pub requests_per_second: f64,
    /// `None`: at the OOM peak (see [`Scenario::memory_limit`]).
    pub memory_limit_bytes: Option<f64>,
    /// Write only instances `start..end` of the scenario (same data as the whole run
    /// gives them), so a large fleet can be generated and loaded in pieces.
    pub only_instances: Option<(usize, usize)>,
    /// Write only samples with a time in `[start, end)` (Unix seconds), for the same
    /// reason: a week of a large fleet is loaded a day at a time.
    pub only_times: Option<(f64, f64)>,
}

pub const RUNTIMES: &[&str] = &["nodejs", "python", "jvm", "go", "dotnet", "container"];

impl Scenario {
    /// Named presets: `steady-leak`, `oom-sawtooth`, `fix-mid-window`, `no-leak`.
    pub fn preset(
        name: &str,
        service: &str,
        from: f64,
        to: f64,
        instances: usize,
        interval: f64,
    ) -> Option<Self> {
        let base = Scenario {
            service: service.to_string(),
            instances,
            from,
            to,
            interval,
            leak_bytes_per_hour: 0.0,
            leak_after_fix_bytes_per_hour: 0.0,
            oom_every: None,
            fix_at: None,
            base_bytes: 150.0 * MB,
            sawtooth_bytes: 30.0 * MB,
            sawtooth_period: 7.0 * 60.0,
            kube: true,
            runtime: "nodejs".to_string(),
            requests_per_second: 10.0,
            memory_limit_bytes: None,
            only_instances: None,
            only_times: None,
        };
        Some(match name {
            "steady-leak" => Scenario {
                leak_bytes_per_hour: 50.0 * MB,
                ..base
            },
            "oom-sawtooth" => Scenario {
                leak_bytes_per_hour: 120.0 * MB,
                oom_every: Some(3.0 * HOUR),
                ..base
            },
            "fix-mid-window" => Scenario {
                leak_bytes_per_hour: 80.0 * MB,
                oom_every: Some(4.0 * HOUR),
                fix_at: Some(from + ((to - from) / 2.0 / interval).round() * interval),
                ..base
            },
            "no-leak" => base,
            _ => return None,
        })
    }

    /// The container memory limit: the one set, else — for a scenario whose processes
    /// are OOM-killed — just above the memory they reach before each kill (the heap's
    /// peak plus what this runtime's RSS adds), so the kills happen at the limit, as they
    /// do for real; else 1 GB.
    pub fn memory_limit(&self) -> f64 {
        if let Some(limit) = self.memory_limit_bytes {
            return limit;
        }
        let Some(every) = self.oom_every else {
            return 1e9;
        };
        let peak = self.base_bytes + self.sawtooth_bytes + self.leak_bytes_per_hour * every / HOUR;
        ((peak + self.rss_extra()) / 0.97 / (10.0 * MB)).ceil() * 10.0 * MB
    }

    /// What the runtime's RSS (or working set) adds to the heap in this generator.
    fn rss_extra(&self) -> f64 {
        match self.runtime.as_str() {
            "jvm" => 150.0 * MB,
            "nodejs" | "container" => 60.0 * MB,
            "dotnet" => 50.0 * MB,
            "go" => 40.0 * MB,
            _ => 0.0,
        }
    }

    fn pod(&self, index: usize, generation: usize) -> (String, String) {
        (
            format!("{}-{}-{}", self.service, generation, index),
            // Each runtime on its own port, so a sidecar in the same pod is its own target.
            format!(
                "10.{}.0.{}:{}",
                generation,
                index + 1,
                // An OpenTelemetry runtime is its base runtime's process (same target), so
                // both conventions of one process can be generated.
                9091 + RUNTIMES
                    .iter()
                    .position(|r| Some(*r) == self.runtime.split("-otel").next())
                    .unwrap_or(0)
            ),
        )
    }

    /// Restart (OOM kill) times of instance `index` in the window, before the fix.
    pub fn oom_times(&self, index: usize) -> Vec<f64> {
        let Some(every) = self.oom_every else {
            return Vec::new();
        };
        let end = self.fix_at.unwrap_or(self.to);
        // Staggered so instances do not die together, and snapped to the scrape grid.
        let offset = every * (index as f64 + 1.0) / (self.instances as f64 + 1.0);
        let mut out = Vec::new();
        let mut t = self.from + offset;
        while t < end - self.interval {
            let snapped = self.from + ((t - self.from) / self.interval).round() * self.interval;
            out.push(snapped);
            t += every;
        }
        out
    }

    /// OOM kills across instances whose restart lands in `(start, end]`.
    pub fn expected_oom_kills(&self, start: f64, end: f64) -> u64 {
        (0..self.instances)
            .flat_map(|i| self.oom_times(i))
            .filter(|t| *t > start && *t <= end)
            .count() as u64
    }

    /// Ground truth: memory retained per request while leaking.
    pub fn leak_bytes_per_request(&self) -> f64 {
        self.leak_bytes_per_hour / (self.requests_per_second * HOUR)
    }

    pub fn write_openmetrics(&self, out: &mut impl Write) -> io::Result<()> {
        let mut families = Families {
            text: Vec::new(),
            times: self.only_times,
        };
        let generations = if self.fix_at.is_some() { 2 } else { 1 };
        for generation in 0..generations {
            let (g_from, g_to) = match (generation, self.fix_at) {
                (0, Some(fix)) => (self.from, fix - self.interval),
                (1, Some(fix)) => (fix, self.to),
                _ => (self.from, self.to),
            };
            let (first, last) = self.only_instances.unwrap_or((0, self.instances));
            for index in first..last.min(self.instances) {
                let (pod, instance) = self.pod(index, generation);
                let ooms: Vec<f64> = if generation == 0 {
                    self.oom_times(index)
                } else {
                    Vec::new()
                };
                let rate = if generation == 0 {
                    self.leak_bytes_per_hour
                } else {
                    self.leak_after_fix_bytes_per_hour
                };
                let first_start = if generation == 0 {
                    self.from - HOUR * (index as f64 + 1.0)
                } else {
                    g_from
                };
                let samples = self.samples(g_from, g_to, index, &ooms, first_start, rate);
                let app = if self.runtime == "container" {
                    format!(
                        "job=\"kubelet\",instance=\"node-{index}\",namespace=\"prod\",pod=\"{pod}\",container=\"{}\",image=\"registry/{}:1\"",
                        self.service, self.service
                    )
                } else {
                    format!(
                        "job=\"{}\",instance=\"{instance}\",namespace=\"prod\",pod=\"{pod}\"",
                        self.service
                    )
                };
                self.runtime_series(&mut families, &app, &samples, index, rate > 0.0);
                if self.kube {
                    self.kube_series(&mut families, &pod, &samples, &ooms);
                }
            }
        }
        families.write(out)
    }

    fn runtime_series(
        &self,
        f: &mut Families,
        app: &str,
        samples: &[Sample],
        index: usize,
        leaking: bool,
    ) {
        let up = |s: &Sample| (s.t - s.start).max(0.0);
        let process = |f: &mut Families, rss_name: &str, rss_extra: f64| {
            f.gauge("process_start_time_seconds", app, samples, |s| s.start);
            f.counter("process_cpu_seconds", app, samples, |s| up(s) * 0.05);
            f.gauge(rss_name, app, samples, |s| s.heap + rss_extra);
        };
        let requests =
            |f: &mut Families, family: &str, kind: &'static str, sample: &str, extra: &str| {
                let labels = format!("{app}{extra}");
                f.series(family, kind, sample, &labels, samples, |s| {
                    (up(s) * self.requests_per_second).floor()
                });
            };
        match self.runtime.as_str() {
            "nodejs" => {
                f.gauge("nodejs_heap_size_used_bytes", app, samples, |s| s.heap);
                f.gauge("nodejs_heap_size_total_bytes", app, samples, |s| {
                    (s.heap * 1.3).round()
                });
                process(f, "process_resident_memory_bytes", 60.0 * MB);
                f.gauge("nodejs_active_handles_total", app, samples, |_| {
                    20.0 + index as f64
                });
                for (kind, per_min, duration) in [
                    ("minor", 30.0, 0.005),
                    ("major", 3.0, if leaking { 0.3 } else { 0.03 }),
                ] {
                    let labels = format!("{app},kind=\"{kind}\"");
                    f.histogram(
                        "nodejs_gc_duration_seconds",
                        &labels,
                        samples,
                        &GC_BUCKETS,
                        duration,
                        |s| (up(s) / 60.0 * per_min).floor(),
                    );
                }
                // Requests slow down while the heap leaks (longer GC pauses).
                f.histogram(
                    "http_request_duration_seconds",
                    &format!("{app},method=\"GET\",route=\"/api\",status_code=\"200\""),
                    samples,
                    &LATENCY_BUCKETS,
                    if leaking { 0.2 } else { 0.04 },
                    |s| (up(s) * self.requests_per_second).floor(),
                );
            }
            "python" => {
                process(f, "process_resident_memory_bytes", 0.0);
                for generation in 0..3 {
                    let labels = format!("{app},generation=\"{generation}\"");
                    let per_min = [60.0, 6.0, 0.5][generation];
                    f.series(
                        "python_gc_collections",
                        "counter",
                        "python_gc_collections_total",
                        &labels,
                        samples,
                        |s| (up(s) / 60.0 * per_min).floor(),
                    );
                    f.series(
                        "python_gc_objects_collected",
                        "counter",
                        "python_gc_objects_collected_total",
                        &labels,
                        samples,
                        |s| (up(s) * per_min * 10.0).floor(),
                    );
                    f.series(
                        "python_gc_objects_uncollectable",
                        "counter",
                        "python_gc_objects_uncollectable_total",
                        &labels,
                        samples,
                        |_| 0.0,
                    );
                }
                let info = format!(
                    "{app},implementation=\"CPython\",major=\"3\",minor=\"11\",patchlevel=\"7\",version=\"3.11.7\""
                );
                f.series(
                    "python_info",
                    "gauge",
                    "python_info",
                    &info,
                    samples,
                    |_| 1.0,
                );
                requests(
                    f,
                    "http_requests",
                    "counter",
                    "http_requests_total",
                    ",method=\"GET\",handler=\"/api\",status=\"200\"",
                );
            }
            "jvm" => {
                // Micrometer: the heap split over G1 pools; the pools sum to the heap figure.
                let eden = |h: f64| (h * 0.3).round();
                let survivor = |h: f64| (h * 0.05).round();
                for (id, share) in [
                    ("G1 Eden Space", &eden as &dyn Fn(f64) -> f64),
                    ("G1 Survivor Space", &survivor),
                    ("G1 Old Gen", &|h: f64| h - eden(h) - survivor(h)),
                ] {
                    let labels = format!("{app},area=\"heap\",id=\"{id}\"");
                    f.series(
                        "jvm_memory_used_bytes",
                        "gauge",
                        "jvm_memory_used_bytes",
                        &labels,
                        samples,
                        |s| share(s.heap),
                    );
                }
                let meta = format!("{app},area=\"nonheap\",id=\"Metaspace\"");
                f.series(
                    "jvm_memory_used_bytes",
                    "gauge",
                    "jvm_memory_used_bytes",
                    &meta,
                    samples,
                    |_| 80.0 * MB,
                );
                f.gauge("process_start_time_seconds", app, samples, |s| s.start);
                f.gauge("process_resident_memory_bytes", app, samples, |s| {
                    s.heap + 150.0 * MB
                });
                let pause = if leaking { 0.25 } else { 0.02 };
                let gc = format!(
                    "{app},action=\"end of minor GC\",cause=\"G1 Evacuation Pause\",gc=\"G1 Young Generation\""
                );
                f.series(
                    "jvm_gc_pause_seconds",
                    "summary",
                    "jvm_gc_pause_seconds_count",
                    &gc,
                    samples,
                    |s| (up(s) / 60.0 * 4.0).floor(),
                );
                f.series(
                    "jvm_gc_pause_seconds",
                    "summary",
                    "jvm_gc_pause_seconds_sum",
                    &gc,
                    samples,
                    |s| (up(s) / 60.0 * 4.0).floor() * pause,
                );
                f.series(
                    "jvm_gc_pause_seconds_max",
                    "gauge",
                    "jvm_gc_pause_seconds_max",
                    &gc,
                    samples,
                    |_| pause * 2.0,
                );
                requests(
                    f,
                    "http_server_requests_seconds",
                    "summary",
                    "http_server_requests_seconds_count",
                    ",method=\"GET\",uri=\"/api\",status=\"200\",outcome=\"SUCCESS\",exception=\"None\"",
                );
            }
            "go" => {
                f.gauge("go_memstats_heap_inuse_bytes", app, samples, |s| s.heap);
                f.gauge("go_memstats_heap_alloc_bytes", app, samples, |s| {
                    (s.heap * 0.9).round()
                });
                f.gauge("go_goroutines", app, samples, |_| 50.0 + index as f64);
                process(f, "process_resident_memory_bytes", 40.0 * MB);
                let pause = if leaking { 0.004 } else { 0.001 };
                for (q, factor) in [
                    ("0", 0.2),
                    ("0.25", 0.5),
                    ("0.5", 1.0),
                    ("0.75", 1.5),
                    ("1", 4.0),
                ] {
                    let labels = format!("{app},quantile=\"{q}\"");
                    f.series(
                        "go_gc_duration_seconds",
                        "summary",
                        "go_gc_duration_seconds",
                        &labels,
                        samples,
                        |_| pause * factor,
                    );
                }
                f.series(
                    "go_gc_duration_seconds",
                    "summary",
                    "go_gc_duration_seconds_sum",
                    app,
                    samples,
                    |s| (up(s) / 60.0 * 6.0).floor() * pause,
                );
                f.series(
                    "go_gc_duration_seconds",
                    "summary",
                    "go_gc_duration_seconds_count",
                    app,
                    samples,
                    |s| (up(s) / 60.0 * 6.0).floor(),
                );
                requests(
                    f,
                    "http_requests",
                    "counter",
                    "http_requests_total",
                    ",method=\"get\",code=\"200\"",
                );
            }
            "dotnet" => {
                f.gauge("dotnet_total_memory_bytes", app, samples, |s| s.heap);
                process(f, "process_working_set_bytes", 50.0 * MB);
                for generation in 0..3 {
                    let labels = format!("{app},generation=\"{generation}\"");
                    let per_min = [30.0, 3.0, if leaking { 1.0 } else { 0.2 }][generation];
                    f.series(
                        "dotnet_collection_count",
                        "counter",
                        "dotnet_collection_count_total",
                        &labels,
                        samples,
                        |s| (up(s) / 60.0 * per_min).floor(),
                    );
                }
                requests(
                    f,
                    "http_requests_received",
                    "counter",
                    "http_requests_received_total",
                    ",method=\"GET\",code=\"200\",controller=\"\",action=\"\"",
                );
            }
            "container" => {
                f.gauge("container_memory_working_set_bytes", app, samples, |s| {
                    s.heap + 60.0 * MB
                });
                f.gauge("container_spec_memory_limit_bytes", app, samples, |_| {
                    self.memory_limit()
                });
                f.gauge("container_start_time_seconds", app, samples, |s| s.start);
            }
            other => {
                let written =
                    otel::runtime_series(f, other, app, samples, self.requests_per_second, leaking);
                assert!(written, "unknown synthetic runtime {other}");
            }
        }
    }

    fn kube_series(&self, f: &mut Families, pod: &str, samples: &[Sample], ooms: &[f64]) {
        let ksm = format!(
            "job=\"kube-state-metrics\",instance=\"ksm:8080\",namespace=\"prod\",pod=\"{pod}\",container=\"{}\"",
            self.service
        );
        f.series(
            "kube_pod_container_status_restarts",
            "counter",
            "kube_pod_container_status_restarts_total",
            &ksm,
            samples,
            |s| ooms.iter().filter(|t| **t <= s.t).count() as f64,
        );
        let after_first: Vec<Sample> = samples
            .iter()
            .filter(|s| ooms.iter().any(|t| *t <= s.t))
            .cloned()
            .collect();
        let reason = format!("{ksm},reason=\"OOMKilled\"");
        f.series(
            "kube_pod_container_status_last_terminated_reason",
            "gauge",
            "kube_pod_container_status_last_terminated_reason",
            &reason,
            &after_first,
            |_| 1.0,
        );
        let limit = format!("{ksm},resource=\"memory\",unit=\"byte\"");
        f.series(
            "kube_pod_container_resource_limits",
            "gauge",
            "kube_pod_container_resource_limits",
            &limit,
            samples,
            |_| self.memory_limit(),
        );
    }

    fn samples(
        &self,
        from: f64,
        to: f64,
        index: usize,
        ooms: &[f64],
        first_start: f64,
        rate: f64,
    ) -> Vec<Sample> {
        let mut out = Vec::new();
        let mut k = 0usize;
        loop {
            let t = from + k as f64 * self.interval;
            if t > to + 1e-9 {
                break;
            }
            let start = ooms
                .iter()
                .rev()
                .find(|r| **r <= t)
                .copied()
                .unwrap_or(first_start);
            let since_window = t - start.max(from);
            let phase = ((t + index as f64 * 97.0) % self.sawtooth_period) / self.sawtooth_period;
            let heap = self.base_bytes
                + 10.0 * MB * index as f64
                + rate * since_window / HOUR
                + self.sawtooth_bytes * phase
                + 2.0 * MB * noise(k * 31 + index);
            out.push(Sample {
                t,
                start,
                heap: heap.round(),
            });
            k += 1;
        }
        out
    }
}

#[derive(Clone)]
struct Sample {
    t: f64,
    start: f64,
    heap: f64,
}

/// Metric families in first-seen order, each with its series written one after another
/// (every series in time order, as promtool requires).
#[derive(Default)]
struct Families {
    text: Vec<(String, &'static str, String)>,
    /// Only samples with a time in `[start, end)` are written.
    times: Option<(f64, f64)>,
}

impl Families {
    fn series(
        &mut self,
        family: &str,
        kind: &'static str,
        sample: &str,
        labels: &str,
        samples: &[Sample],
        value: impl Fn(&Sample) -> f64,
    ) {
        let index = match self.text.iter().position(|f| f.0 == family) {
            Some(i) => i,
            None => {
                self.text.push((family.to_string(), kind, String::new()));
                self.text.len() - 1
            }
        };
        let text = &mut self.text[index].2;
        let (start, end) = self.times.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
        for s in samples.iter().filter(|s| s.t >= start && s.t < end) {
            let _ = writeln!(text, "{sample}{{{labels}}} {} {}", fmt(value(s)), fmt(s.t));
        }
    }

    fn gauge(
        &mut self,
        name: &str,
        labels: &str,
        samples: &[Sample],
        value: impl Fn(&Sample) -> f64,
    ) {
        self.series(name, "gauge", name, labels, samples, value);
    }

    fn counter(
        &mut self,
        family: &str,
        labels: &str,
        samples: &[Sample],
        value: impl Fn(&Sample) -> f64,
    ) {
        self.series(
            family,
            "counter",
            &format!("{family}_total"),
            labels,
            samples,
            value,
        );
    }

    /// A histogram whose every observation takes `duration` seconds.
    fn histogram(
        &mut self,
        family: &str,
        labels: &str,
        samples: &[Sample],
        buckets: &[f64],
        duration: f64,
        count: impl Fn(&Sample) -> f64,
    ) {
        for le in buckets.iter().copied().chain([f64::INFINITY]) {
            let le_text = if le.is_infinite() {
                "+Inf".to_string()
            } else {
                fmt(le)
            };
            let bucket_labels = format!("{labels},le=\"{le_text}\"");
            self.series(
                family,
                "histogram",
                &format!("{family}_bucket"),
                &bucket_labels,
                samples,
                |s| {
                    if duration <= le { count(s) } else { 0.0 }
                },
            );
        }
        self.series(
            family,
            "histogram",
            &format!("{family}_sum"),
            labels,
            samples,
            |s| count(s) * duration,
        );
        self.series(
            family,
            "histogram",
            &format!("{family}_count"),
            labels,
            samples,
            &count,
        );
    }

    fn write(self, out: &mut impl Write) -> io::Result<()> {
        for (name, kind, text) in self.text {
            writeln!(out, "# TYPE {name} {kind}")?;
            out.write_all(text.as_bytes())?;
        }
        writeln!(out, "# EOF")
    }
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// Deterministic noise in [-1, 1].
fn noise(i: usize) -> f64 {
    let x = ((i as f64 * 12.9898).sin() * 43_758.545_3).fract();
    2.0 * x.abs() - 1.0
}
