//! The same synthetic processes under OpenTelemetry's names, as the Prometheus translators
//! write them (unit and `_total` suffixes, dots as underscores, `otel_scope_*` labels):
//! the JVM (Java agent's runtime telemetry), Go (contrib instrumentation/runtime) and
//! .NET (the System.Runtime meter). None of them exports a process start time; each has
//! a counter whose reset marks a restart.

use super::{Families, MB, Sample};

/// OpenTelemetry runtimes this module writes (`Scenario::runtime`). `go-otel-deprecated`
/// is contrib's older `process.runtime.go.*` set exported with the suffixes turned off
/// (the Go exporter's `WithoutUnits`/`WithoutCounterSuffixes`); it is read by `go-otel`.
pub const OTEL_RUNTIMES: &[&str] = &["jvm-otel", "go-otel", "go-otel-deprecated", "dotnet-otel"];

/// The SDK's default explicit histogram buckets, which the deprecated Go pause histogram
/// used in nanoseconds: real pauses (~100 µs) all land in +Inf.
const DEFAULT_BUCKETS: [f64; 14] = [
    0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0,
];

/// The OpenTelemetry JVM GC duration histogram's advised buckets (seconds).
const JVM_GC_BUCKETS: [f64; 4] = [0.01, 0.1, 1.0, 10.0];

/// Writes `runtime`'s series for one process; false when `runtime` is not one of
/// [`OTEL_RUNTIMES`].
pub(crate) fn runtime_series(
    f: &mut Families,
    runtime: &str,
    app: &str,
    samples: &[Sample],
    requests_per_second: f64,
    leaking: bool,
) -> bool {
    let up = |s: &Sample| (s.t - s.start).max(0.0);
    let scope_of =
        |name: &str| format!("{app},otel_scope_name=\"{name}\",otel_scope_version=\"2.10.0\"");
    let counter = |f: &mut Families, family: &str, labels: &str, per_second: f64| {
        f.series(
            family,
            "counter",
            &format!("{family}_total"),
            labels,
            samples,
            |s| (up(s) * per_second).floor(),
        );
    };
    match runtime {
        "jvm-otel" => {
            let scope = scope_of("io.opentelemetry.runtime-telemetry-java8");
            let eden = |h: f64| (h * 0.3).round();
            let survivor = |h: f64| (h * 0.05).round();
            for (pool, share) in [
                ("G1 Eden Space", &eden as &dyn Fn(f64) -> f64),
                ("G1 Survivor Space", &survivor),
                ("G1 Old Gen", &|h: f64| h - eden(h) - survivor(h)),
            ] {
                let labels =
                    format!("{scope},jvm_memory_pool_name=\"{pool}\",jvm_memory_type=\"heap\"");
                f.gauge("jvm_memory_used_bytes", &labels, samples, |s| share(s.heap));
            }
            let meta =
                format!("{scope},jvm_memory_pool_name=\"Metaspace\",jvm_memory_type=\"non_heap\"");
            f.gauge("jvm_memory_used_bytes", &meta, samples, |_| 80.0 * MB);
            let limit =
                format!("{scope},jvm_memory_pool_name=\"G1 Old Gen\",jvm_memory_type=\"heap\"");
            f.gauge("jvm_memory_limit_bytes", &limit, samples, |_| 2048.0 * MB);
            let threads =
                format!("{scope},jvm_thread_daemon=\"true\",jvm_thread_state=\"runnable\"");
            f.gauge("jvm_thread_count", &threads, samples, |_| 24.0);
            counter(f, "jvm_cpu_time_seconds", &scope, 0.05);
            let pause = if leaking { 0.25 } else { 0.02 };
            let gc = format!(
                "{scope},jvm_gc_action=\"end of minor GC\",jvm_gc_name=\"G1 Young Generation\""
            );
            f.histogram(
                "jvm_gc_duration_seconds",
                &gc,
                samples,
                &JVM_GC_BUCKETS,
                pause,
                |s| (up(s) / 60.0 * 4.0).floor(),
            );
            http_requests(
                f,
                &scope_of("io.opentelemetry.tomcat-10.0"),
                samples,
                requests_per_second,
            );
        }
        "go-otel" => {
            let scope = scope_of("go.opentelemetry.io/contrib/instrumentation/runtime");
            let stack = format!("{scope},go_memory_type=\"stack\"");
            f.gauge("go_memory_used_bytes", &stack, samples, |_| 2.0 * MB);
            let other = format!("{scope},go_memory_type=\"other\"");
            f.gauge("go_memory_used_bytes", &other, samples, |s| s.heap);
            f.gauge("go_memory_gc_goal_bytes", &scope, samples, |s| {
                (s.heap * 1.5).round()
            });
            f.gauge("go_goroutine_count", &scope, samples, |_| 50.0);
            counter(f, "go_memory_allocated_bytes", &scope, 4.0 * MB);
            http_requests(
                f,
                &scope_of("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"),
                samples,
                requests_per_second,
            );
        }
        "go-otel-deprecated" => {
            let scope = scope_of("go.opentelemetry.io/contrib/instrumentation/runtime");
            f.gauge("process_runtime_go_mem_heap_alloc", &scope, samples, |s| {
                s.heap
            });
            f.gauge("process_runtime_go_mem_heap_sys", &scope, samples, |s| {
                (s.heap * 1.4).round()
            });
            f.gauge("process_runtime_go_goroutines", &scope, samples, |_| 50.0);
            // Counters without `_total`: the suffixes are off.
            f.series(
                "runtime_uptime",
                "counter",
                "runtime_uptime",
                &scope,
                samples,
                |s| (up(s) * 1000.0).floor(),
            );
            f.series(
                "process_runtime_go_gc_count",
                "counter",
                "process_runtime_go_gc_count",
                &scope,
                samples,
                |s| (up(s) / 60.0 * 6.0).floor(),
            );
            // Every pause takes 150 µs, in nanoseconds.
            f.histogram(
                "process_runtime_go_gc_pause_ns",
                &scope,
                samples,
                &DEFAULT_BUCKETS,
                150_000.0,
                |s| (up(s) / 60.0 * 6.0).floor(),
            );
        }
        "dotnet-otel" => {
            let scope = scope_of("System.Runtime");
            for (generation, share) in [("gen0", 0.05), ("gen1", 0.05), ("gen2", 0.8), ("loh", 0.1)]
            {
                let labels = format!("{scope},dotnet_gc_heap_generation=\"{generation}\"");
                f.gauge(
                    "dotnet_gc_last_collection_heap_size_bytes",
                    &labels,
                    samples,
                    |s| (s.heap * share).round(),
                );
            }
            f.gauge(
                "dotnet_process_memory_working_set_bytes",
                &scope,
                samples,
                |s| s.heap + 50.0 * MB,
            );
            let per_min = [30.0, 3.0, if leaking { 1.0 } else { 0.2 }];
            for (generation, per_min) in ["gen0", "gen1", "gen2"].iter().zip(per_min) {
                let labels = format!("{scope},dotnet_gc_heap_generation=\"{generation}\"");
                counter(f, "dotnet_gc_collections", &labels, per_min / 60.0);
            }
            // Every collection pauses 4 ms: the mean the pack must recover.
            let collections_per_second = per_min.iter().sum::<f64>() / 60.0;
            f.series(
                "dotnet_gc_pause_time_seconds",
                "counter",
                "dotnet_gc_pause_time_seconds_total",
                &scope,
                samples,
                |s| (up(s) * collections_per_second).floor() * 0.004,
            );
            for mode in ["user", "system"] {
                counter(
                    f,
                    "dotnet_process_cpu_time_seconds",
                    &format!("{scope},cpu_mode=\"{mode}\""),
                    0.02,
                );
            }
            http_requests(
                f,
                &scope_of("Microsoft.AspNetCore.Hosting"),
                samples,
                requests_per_second,
            );
        }
        _ => return false,
    }
    true
}

/// `http.server.request.duration`'s count: the requests served in the process lifetime.
fn http_requests(f: &mut Families, scope: &str, samples: &[Sample], per_second: f64) {
    let labels = format!(
        "{scope},http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/api\",url_scheme=\"http\""
    );
    f.series(
        "http_server_request_duration_seconds",
        "histogram",
        "http_server_request_duration_seconds_count",
        &labels,
        samples,
        |s| ((s.t - s.start).max(0.0) * per_second).floor(),
    );
}
