//! A Node.js service whose memory grows with the traffic of some of its routes: each
//! route has its own daily shape (or constant traffic, a probe), bursts, and the bytes
//! each of its requests retains. Written with prom-client's names — the V8 heap, the
//! process start time and `http_requests_total{method,route,status_code}` — so the
//! per-route attribution can be checked against these known retentions.

use super::{Families, HOUR, MB, Sample, noise};
use std::io::{self, Write};

/// How a route's requests per second move over time.
#[derive(Debug, Clone)]
pub enum Shape {
    /// `mean × (1 + amplitude × cos(2π peaks (hour − peak_hour) / 24))`, plus bursts.
    Daily {
        mean: f64,
        amplitude: f64,
        peak_hour: f64,
        /// Peaks a day (1: one, 2: midday and evening…).
        peaks: f64,
        /// Bursts: (start hour of day, length in minutes, factor on the rate).
        bursts: Vec<(f64, f64, f64)>,
    },
    /// The same rate at every moment (a health or readiness probe).
    Constant(f64),
}

impl Shape {
    /// Requests per second at Unix time `t`.
    pub fn rate(&self, t: f64) -> f64 {
        match self {
            Shape::Constant(rate) => *rate,
            Shape::Daily {
                mean,
                amplitude,
                peak_hour,
                peaks,
                bursts,
            } => {
                let hour = (t / HOUR).rem_euclid(24.0);
                let day = (std::f64::consts::TAU * peaks * (hour - peak_hour) / 24.0).cos();
                let burst = bursts
                    .iter()
                    .filter(|(start, minutes, _)| {
                        let into = (hour - start).rem_euclid(24.0) * 60.0;
                        into < *minutes
                    })
                    .map(|b| b.2)
                    .product::<f64>();
                mean * (1.0 + amplitude * day) * burst
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Route {
    pub method: String,
    pub route: String,
    pub shape: Shape,
    /// Bytes each request leaves on the heap for good.
    pub retains_bytes: f64,
}

impl Route {
    pub fn new(method: &str, route: &str, shape: Shape, retains_bytes: f64) -> Route {
        Route {
            method: method.into(),
            route: route.into(),
            shape,
            retains_bytes,
        }
    }
}

/// The service: `instances` processes serving every route (each instance a share of
/// the traffic), scraped every `interval` seconds over `[from, to]`.
#[derive(Debug, Clone)]
pub struct RouteScenario {
    pub service: String,
    pub instances: usize,
    pub from: f64,
    pub to: f64,
    pub interval: f64,
    pub routes: Vec<Route>,
    pub base_bytes: f64,
    pub sawtooth_bytes: f64,
    pub sawtooth_period: f64,
}

impl RouteScenario {
    /// Three routes with different daily shapes and bursts — one retaining
    /// `retains_bytes` per request — and a constant probe.
    pub fn three_routes_one_leaking(service: &str, from: f64, to: f64, retains_bytes: f64) -> Self {
        RouteScenario {
            service: service.into(),
            instances: 2,
            from,
            to,
            interval: 60.0,
            routes: vec![
                Route::new(
                    "POST",
                    "/api/orders",
                    Shape::Daily {
                        mean: 6.0,
                        amplitude: 0.8,
                        peak_hour: 13.0,
                        peaks: 1.0,
                        bursts: vec![(3.0, 30.0, 3.0), (17.5, 20.0, 2.5)],
                    },
                    retains_bytes,
                ),
                Route::new(
                    "GET",
                    "/api/products",
                    Shape::Daily {
                        mean: 25.0,
                        amplitude: 0.6,
                        peak_hour: 20.0,
                        peaks: 2.0,
                        bursts: vec![(9.0, 40.0, 2.0)],
                    },
                    0.0,
                ),
                Route::new(
                    "GET",
                    "/api/search",
                    Shape::Daily {
                        mean: 10.0,
                        amplitude: 0.5,
                        peak_hour: 6.0,
                        peaks: 3.0,
                        bursts: vec![(22.0, 30.0, 3.0)],
                    },
                    0.0,
                ),
                Route::new("GET", "/healthz", Shape::Constant(1.0), 0.0),
            ],
            base_bytes: 150.0 * MB,
            sawtooth_bytes: 20.0 * MB,
            sawtooth_period: 7.0 * 60.0,
        }
    }

    /// Cumulative requests of route `r` on one instance at each sample time.
    fn cumulative(&self, r: usize) -> Vec<f64> {
        let share = 1.0 / self.instances as f64;
        let mut total = 0.0f64;
        let mut out = Vec::new();
        let mut t = self.from;
        while t <= self.to + 1e-9 {
            out.push(total.floor());
            // The rate at the middle of the next interval, over the interval.
            total += self.routes[r].shape.rate(t + self.interval / 2.0) * share * self.interval;
            t += self.interval;
        }
        out
    }

    pub fn write_openmetrics(&self, out: &mut impl Write) -> io::Result<()> {
        let mut families = Families::default();
        let counts: Vec<Vec<f64>> = (0..self.routes.len()).map(|r| self.cumulative(r)).collect();
        for index in 0..self.instances {
            let app = format!(
                "job=\"{}\",instance=\"10.0.0.{}:9091\",namespace=\"prod\",pod=\"{}-{index}\"",
                self.service,
                index + 1,
                self.service
            );
            let start = self.from - HOUR;
            let samples: Vec<Sample> = (0..counts[0].len())
                .map(|k| {
                    let t = self.from + k as f64 * self.interval;
                    let retained: f64 = self
                        .routes
                        .iter()
                        .zip(&counts)
                        .map(|(route, c)| route.retains_bytes * c[k])
                        .sum();
                    let phase =
                        ((t + index as f64 * 97.0) % self.sawtooth_period) / self.sawtooth_period;
                    let heap = self.base_bytes
                        + retained
                        + self.sawtooth_bytes * phase
                        + 2.0 * MB * noise(k * 31 + index);
                    Sample {
                        t,
                        start,
                        heap: heap.round(),
                    }
                })
                .collect();
            families.gauge("nodejs_heap_size_used_bytes", &app, &samples, |s| s.heap);
            families.gauge("process_start_time_seconds", &app, &samples, |s| s.start);
            families.gauge("process_resident_memory_bytes", &app, &samples, |s| {
                s.heap + 60.0 * MB
            });
            for (route, c) in self.routes.iter().zip(&counts) {
                // A few failures, so the status label has something to fold.
                for (status, share) in [("200", 0.98), ("500", 0.02)] {
                    let labels = format!(
                        "{app},method=\"{}\",route=\"{}\",status_code=\"{status}\"",
                        route.method, route.route
                    );
                    let by_time: Vec<f64> = c.iter().map(|v| (v * share).floor()).collect();
                    let indexed: Vec<Sample> = samples
                        .iter()
                        .enumerate()
                        .map(|(k, s)| Sample {
                            heap: by_time[k],
                            ..s.clone()
                        })
                        .collect();
                    families.counter("http_requests", &labels, &indexed, |s| s.heap);
                }
            }
        }
        families.write(out)
    }
}
