//! Synthetic exporter data with known ground truth, in OpenMetrics text that
//! `promtool tsdb create-blocks-from openmetrics` loads. Used by the demo, the
//! end-to-end tests and the benchmarks; names are the ones prom-client and
//! kube-state-metrics really export.

use std::fmt::Write as _;
use std::io::{self, Write};

const MB: f64 = 1e6;
const HOUR: f64 = 3600.0;
const GC_BUCKETS: [f64; 6] = [0.001, 0.01, 0.1, 1.0, 2.0, 5.0];

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
    /// Emit kube-state-metrics series (restarts, OOMKilled reason).
    pub kube: bool,
}

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

    fn pod(&self, index: usize, generation: usize) -> (String, String) {
        (
            format!("{}-{}-{}", self.service, generation, index),
            format!("10.{}.0.{}:9091", generation, index + 1),
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

    pub fn write_openmetrics(&self, out: &mut impl Write) -> io::Result<()> {
        let mut families: Vec<(String, &'static str, String)> = Vec::new();
        let mut add = |name: &str, kind: &'static str, text: String| {
            if let Some(f) = families.iter_mut().find(|f| f.0 == name) {
                f.2.push_str(&text);
            } else {
                families.push((name.to_string(), kind, text));
            }
        };
        let generations = if self.fix_at.is_some() { 2 } else { 1 };
        for generation in 0..generations {
            let (g_from, g_to) = match (generation, self.fix_at) {
                (0, Some(fix)) => (self.from, fix - self.interval),
                (1, Some(fix)) => (fix, self.to),
                _ => (self.from, self.to),
            };
            for index in 0..self.instances {
                let (pod, instance) = self.pod(index, generation);
                let labels = format!(
                    "job=\"{}\",instance=\"{}\",namespace=\"prod\",pod=\"{}\"",
                    self.service, instance, pod
                );
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
                let series = self.samples(g_from, g_to, index, &ooms, first_start, rate);
                let mut emit = |name: &str,
                                family: &str,
                                kind: &'static str,
                                extra: &str,
                                pick: &dyn Fn(&Sample) -> f64| {
                    let mut text = String::new();
                    for s in &series {
                        let _ = writeln!(
                            text,
                            "{name}{{{labels}{extra}}} {} {}",
                            fmt(pick(s)),
                            fmt(s.t)
                        );
                    }
                    add(family, kind, text);
                };
                emit(
                    "nodejs_heap_size_used_bytes",
                    "nodejs_heap_size_used_bytes",
                    "gauge",
                    "",
                    &|s| s.heap,
                );
                emit(
                    "nodejs_heap_size_total_bytes",
                    "nodejs_heap_size_total_bytes",
                    "gauge",
                    "",
                    &|s| (s.heap * 1.3).round(),
                );
                emit(
                    "process_resident_memory_bytes",
                    "process_resident_memory_bytes",
                    "gauge",
                    "",
                    &|s| s.heap + 60.0 * MB,
                );
                emit(
                    "process_start_time_seconds",
                    "process_start_time_seconds",
                    "gauge",
                    "",
                    &|s| s.start,
                );
                emit(
                    "process_cpu_seconds_total",
                    "process_cpu_seconds",
                    "counter",
                    "",
                    &|s| (s.t - s.start).max(0.0) * 0.05,
                );
                emit(
                    "nodejs_active_handles_total",
                    "nodejs_active_handles_total",
                    "gauge",
                    "",
                    &|_| 20.0 + index as f64,
                );
                for (kind, per_min, duration) in [
                    ("minor", 30.0, 0.005),
                    ("major", 3.0, if rate > 0.0 { 0.3 } else { 0.03 }),
                ] {
                    let count = |s: &Sample| ((s.t - s.start).max(0.0) / 60.0 * per_min).floor();
                    for le in GC_BUCKETS
                        .iter()
                        .map(|b| fmt(*b))
                        .chain(["+Inf".to_string()])
                    {
                        let bound: f64 = if le == "+Inf" {
                            f64::INFINITY
                        } else {
                            le.parse().unwrap()
                        };
                        let extra = format!(",kind=\"{kind}\",le=\"{le}\"");
                        emit(
                            "nodejs_gc_duration_seconds_bucket",
                            "nodejs_gc_duration_seconds",
                            "histogram",
                            &extra,
                            &|s| if duration <= bound { count(s) } else { 0.0 },
                        );
                    }
                    let extra = format!(",kind=\"{kind}\"");
                    emit(
                        "nodejs_gc_duration_seconds_sum",
                        "nodejs_gc_duration_seconds",
                        "histogram",
                        &extra,
                        &|s| count(s) * duration,
                    );
                    emit(
                        "nodejs_gc_duration_seconds_count",
                        "nodejs_gc_duration_seconds",
                        "histogram",
                        &extra,
                        &count,
                    );
                }
                if self.kube {
                    let ksm = format!(
                        "job=\"kube-state-metrics\",instance=\"ksm:8080\",namespace=\"prod\",pod=\"{pod}\",container=\"{}\"",
                        self.service
                    );
                    let mut text = String::new();
                    let mut reason = String::new();
                    for s in &series {
                        let restarts = ooms.iter().filter(|t| **t <= s.t).count();
                        let _ = writeln!(
                            text,
                            "kube_pod_container_status_restarts_total{{{ksm}}} {restarts} {}",
                            fmt(s.t)
                        );
                        if restarts > 0 {
                            let _ = writeln!(
                                reason,
                                "kube_pod_container_status_last_terminated_reason{{{ksm},reason=\"OOMKilled\"}} 1 {}",
                                fmt(s.t)
                            );
                        }
                    }
                    add("kube_pod_container_status_restarts", "counter", text);
                    add(
                        "kube_pod_container_status_last_terminated_reason",
                        "gauge",
                        reason,
                    );
                }
            }
        }
        for (name, kind, text) in families {
            writeln!(out, "# TYPE {name} {kind}")?;
            out.write_all(text.as_bytes())?;
        }
        writeln!(out, "# EOF")
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

struct Sample {
    t: f64,
    start: f64,
    heap: f64,
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
