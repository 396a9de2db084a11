//! Restart-aware memory growth. A leaking process's post-GC floor rises steadily until
//! it restarts; a whole-window `deriv()` sees the restarts as drops and reports ~0.
//! So each series is cut into process lifetimes, a robust (Theil–Sen) slope is fitted
//! to each lifetime's floor, and the slopes are combined weighted by lifetime length.

use crate::stats::median;

/// Fewer samples than this in a lifetime give no slope worth reporting.
pub const MIN_LIFETIME_POINTS: usize = 6;
/// Upper bound on floor points per lifetime; keeps Theil–Sen's O(n²) pairs cheap.
const MAX_FLOOR_POINTS: usize = 240;

#[derive(Debug, Clone, PartialEq)]
pub struct GrowthEstimate {
    /// Duration-weighted mean of per-lifetime slopes.
    pub bytes_per_hour: f64,
    /// Duration-weighted 95 % interval of the slopes (Sen's rank-based interval).
    pub interval_bytes_per_hour: (f64, f64),
    /// Lifetimes long enough to fit.
    pub lifetimes_fitted: usize,
    /// Hours covered by the fitted lifetimes.
    pub hours_fitted: f64,
}

fn pairwise_slopes(points: &[(f64, f64)]) -> Vec<f64> {
    let mut slopes = Vec::with_capacity(points.len() * points.len().saturating_sub(1) / 2);
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            let dx = b.0 - a.0;
            if dx > 0.0 && a.1.is_finite() && b.1.is_finite() {
                slopes.push((b.1 - a.1) / dx);
            }
        }
    }
    slopes
}

/// Theil–Sen slope (median of pairwise slopes), per unit of x.
pub fn theil_sen(points: &[(f64, f64)]) -> Option<f64> {
    median(&pairwise_slopes(points))
}

/// Theil–Sen slope with Sen's 95 % interval: the ranks of the sorted pairwise slopes
/// that Kendall's tau variance puts 1.96 standard deviations either side of the median.
/// It assumes independent residuals, so a strong sawtooth makes it optimistic.
pub fn theil_sen_interval(points: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let mut slopes = pairwise_slopes(points);
    slopes.retain(|s| s.is_finite());
    if slopes.is_empty() {
        return None;
    }
    let len = slopes.len();
    let mid = len / 2;
    let n = points.len() as f64;
    let count = len as f64;
    let spread = 1.96 * (n * (n - 1.0) * (2.0 * n + 5.0) / 18.0).sqrt();
    let lower = (((count - spread) / 2.0).floor().max(0.0) as usize).min(len - 1);
    let upper = (((count + spread) / 2.0).ceil() as usize).min(len - 1);
    // Selecting four ranks is linear; sorting the ~n²/2 slopes is what made a scan slow.
    let ranks = [lower, mid.saturating_sub(1), mid, upper];
    let [low, below_mid, at_mid, high] = values_at_ranks(&mut slopes, ranks);
    let slope = if len % 2 == 1 {
        at_mid
    } else {
        (below_mid + at_mid) / 2.0
    };
    Some((slope, low, high))
}

/// The values a full sort would put at `ranks` (ascending, each < `values.len()`), by
/// successive selections, each on the part right of the previous rank.
fn values_at_ranks<const K: usize>(values: &mut [f64], ranks: [usize; K]) -> [f64; K] {
    let mut out = [f64::NAN; K];
    let mut settled = 0;
    for (slot, &rank) in out.iter_mut().zip(&ranks) {
        debug_assert!(
            rank < values.len() && rank + 1 >= settled,
            "ranks out of order"
        );
        if rank >= settled {
            values[settled..].select_nth_unstable_by(rank - settled, f64::total_cmp);
            settled = rank + 1;
        }
        *slot = values[rank];
    }
    out
}

/// The post-GC floor: the lowest sample in each of up to `MAX_FLOOR_POINTS` equal time
/// bins (about three samples each). A GC sawtooth shorter than a bin is removed; a
/// longer one is left as symmetric noise, which Theil–Sen ignores.
pub fn floor_points(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let finite: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.1.is_finite()).collect();
    if finite.len() < 2 * MIN_LIFETIME_POINTS {
        return finite;
    }
    let bins = (finite.len() / 3).clamp(MIN_LIFETIME_POINTS, MAX_FLOOR_POINTS);
    let start = finite[0].0;
    let span = finite[finite.len() - 1].0 - start;
    if span <= 0.0 {
        return finite;
    }
    let mut floor: Vec<Option<(f64, f64)>> = vec![None; bins];
    for &(t, v) in &finite {
        let index = (((t - start) / span) * bins as f64).floor() as usize;
        let slot = &mut floor[index.min(bins - 1)];
        if slot.is_none_or(|(_, best)| v < best) {
            *slot = Some((t, v));
        }
    }
    floor.into_iter().flatten().collect()
}

/// Cuts `points` at each boundary: a point at or after a boundary belongs to the next
/// lifetime. Boundaries must be sorted.
pub fn split_lifetimes(points: &[(f64, f64)], boundaries: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut lifetimes = vec![Vec::new()];
    let mut next = 0;
    for &point in points {
        while next < boundaries.len() && point.0 >= boundaries[next] {
            next += 1;
            if !lifetimes.last().is_some_and(Vec::is_empty) {
                lifetimes.push(Vec::new());
            }
        }
        lifetimes.last_mut().expect("never empty").push(point);
    }
    lifetimes.retain(|l| !l.is_empty());
    lifetimes
}

/// One straight segment per process lifetime, for drawing the fitted growth: the
/// Theil–Sen slope of the lifetime's post-GC floor (as `instance_growth` fits it), placed
/// at the lowest sample's offset so it runs along the bottom of the sawtooth and never
/// above a sample. A median offset would put half the floor under the line, which reads
/// as growth above the data. Lifetimes too short to fit give no segment.
pub fn lifetime_floor_segments(points: &[(f64, f64)], boundaries: &[f64]) -> Vec<[(f64, f64); 2]> {
    split_lifetimes(points, boundaries)
        .into_iter()
        .filter(|lifetime| lifetime.len() >= MIN_LIFETIME_POINTS)
        .filter_map(|lifetime| {
            let floor = floor_points(&lifetime);
            let slope = theil_sen(&floor)?;
            let offset = lifetime
                .iter()
                .filter(|p| p.1.is_finite())
                .map(|(t, v)| v - slope * t)
                .fold(f64::INFINITY, f64::min);
            let (a, b) = (lifetime[0].0, lifetime[lifetime.len() - 1].0);
            (offset.is_finite() && b > a)
                .then_some([(a, offset + slope * a), (b, offset + slope * b)])
        })
        .collect()
}

/// Growth of one instance (one series) over its samples, restarts at `boundaries`.
pub fn instance_growth(points: &[(f64, f64)], boundaries: &[f64]) -> Option<GrowthEstimate> {
    let mut weighted = 0.0;
    let mut weighted_low = 0.0;
    let mut weighted_high = 0.0;
    let mut total_seconds = 0.0;
    let mut fitted = 0;
    for lifetime in split_lifetimes(points, boundaries) {
        if lifetime.len() < MIN_LIFETIME_POINTS {
            continue;
        }
        let seconds = lifetime[lifetime.len() - 1].0 - lifetime[0].0;
        if seconds <= 0.0 {
            continue;
        }
        let Some((slope, low, high)) = theil_sen_interval(&floor_points(&lifetime)) else {
            continue;
        };
        weighted += slope * seconds;
        weighted_low += low * seconds;
        weighted_high += high * seconds;
        total_seconds += seconds;
        fitted += 1;
    }
    (fitted > 0).then(|| GrowthEstimate {
        bytes_per_hour: weighted / total_seconds * 3600.0,
        interval_bytes_per_hour: (
            weighted_low / total_seconds * 3600.0,
            weighted_high / total_seconds * 3600.0,
        ),
        lifetimes_fitted: fitted,
        hours_fitted: total_seconds / 3600.0,
    })
}

/// Share of a lifetime's floor rise that happens in its largest 10 % of steps: near
/// 0.1–0.3 for a gradual leak, high when memory rises in a few jumps (a staircase).
pub fn jump_share(points: &[(f64, f64)]) -> Option<f64> {
    let floor = floor_points(points);
    let mut rises: Vec<f64> = floor
        .windows(2)
        .map(|w| w[1].1 - w[0].1)
        .filter(|d| *d > 0.0)
        .collect();
    let total: f64 = rises.iter().sum();
    let net = floor.last()?.1 - floor.first()?.1;
    if rises.len() < 10 || net <= 0.0 {
        return None;
    }
    rises.sort_by(|a, b| b.total_cmp(a));
    let top = rises.len().div_ceil(10);
    Some(rises[..top].iter().sum::<f64>() / total)
}

/// Bytes retained per request: Theil–Sen of memory against the cumulative request
/// counter, per lifetime, weighted by requests served. `requests` must share the
/// memory series' timestamps (the same range query step).
pub fn bytes_per_request(
    memory: &[(f64, f64)],
    requests: &[(f64, f64)],
    boundaries: &[f64],
) -> Option<f64> {
    let by_time: std::collections::HashMap<i64, f64> = requests
        .iter()
        .map(|(t, v)| ((t * 1000.0).round() as i64, *v))
        .collect();
    let mut weighted = 0.0;
    let mut total = 0.0;
    for lifetime in split_lifetimes(memory, boundaries) {
        let pairs: Vec<(f64, f64)> = lifetime
            .iter()
            .filter_map(|(t, m)| {
                by_time
                    .get(&((t * 1000.0).round() as i64))
                    .map(|r| (*r, *m))
            })
            .collect();
        if pairs.len() < MIN_LIFETIME_POINTS {
            continue;
        }
        let served = pairs[pairs.len() - 1].0 - pairs[0].0;
        if served <= 0.0 {
            continue;
        }
        let thinned: Vec<(f64, f64)> = if pairs.len() > MAX_FLOOR_POINTS {
            let stride = pairs.len().div_ceil(MAX_FLOOR_POINTS);
            pairs.iter().step_by(stride).copied().collect()
        } else {
            pairs
        };
        if let Some(slope) = theil_sen(&thinned) {
            weighted += slope * served;
            total += served;
        }
    }
    (total > 0.0).then(|| weighted / total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: f64 = 1e6;

    /// Deterministic pseudo-noise in [-1, 1] (no RNG dependency in unit tests).
    fn noise(i: usize) -> f64 {
        let x = ((i as f64 * 12.9898).sin() * 43_758.545_3).fract();
        2.0 * x.abs() - 1.0
    }

    fn series(hours: f64, step: f64, f: impl Fn(f64, usize) -> f64) -> Vec<(f64, f64)> {
        let n = (hours * 3600.0 / step) as usize;
        (0..=n)
            .map(|i| (i as f64 * step, f(i as f64 * step, i)))
            .collect()
    }

    #[test]
    fn steady_leak_with_noise() {
        let points = series(24.0, 60.0, |t, i| {
            200.0 * MB + 50.0 * MB * t / 3600.0 + 5.0 * MB * noise(i)
        });
        let g = instance_growth(&points, &[]).unwrap();
        assert!((g.bytes_per_hour / (50.0 * MB) - 1.0).abs() < 0.01, "{g:?}");
        assert_eq!(g.lifetimes_fitted, 1);
    }

    #[test]
    fn flat_sawtooth_is_zero() {
        // A 30 MB GC sawtooth with a 7-minute period and no leak.
        let points = series(24.0, 60.0, |t, _| {
            300.0 * MB + 30.0 * MB * ((t % 420.0) / 420.0)
        });
        let g = instance_growth(&points, &[]).unwrap();
        assert!(g.bytes_per_hour.abs() < 0.2 * MB, "{g:?}");
    }

    #[test]
    fn oom_sawtooth_reports_the_leak_not_zero() {
        // 120 MB/h, killed every 3 h and restarted at 150 MB.
        let period = 3.0 * 3600.0;
        let points = series(24.0, 60.0, |t, i| {
            150.0 * MB + 120.0 * MB * (t % period) / 3600.0 + 3.0 * MB * noise(i)
        });
        let boundaries: Vec<f64> = (1..8).map(|k| k as f64 * period).collect();
        let g = instance_growth(&points, &boundaries).unwrap();
        assert!(
            (g.bytes_per_hour / (120.0 * MB) - 1.0).abs() < 0.02,
            "{g:?}"
        );
        assert_eq!(g.lifetimes_fitted, 8);
        // The naive whole-window slope is far off: that is why lifetimes matter.
        let naive = theil_sen(&points).unwrap() * 3600.0;
        assert!(naive < 60.0 * MB, "naive {naive}");
    }

    #[test]
    fn interval_brackets_the_slope_and_shrinks_with_less_noise() {
        let noisy = series(24.0, 60.0, |t, i| {
            50.0 * MB * t / 3600.0 + 20.0 * MB * noise(i)
        });
        let quiet = series(24.0, 60.0, |t, i| {
            50.0 * MB * t / 3600.0 + 1.0 * MB * noise(i)
        });
        let a = instance_growth(&noisy, &[]).unwrap();
        let b = instance_growth(&quiet, &[]).unwrap();
        for g in [&a, &b] {
            assert!(g.interval_bytes_per_hour.0 <= g.bytes_per_hour);
            assert!(g.bytes_per_hour <= g.interval_bytes_per_hour.1);
            assert!(
                g.interval_bytes_per_hour.0 < 50.0 * MB && 50.0 * MB < g.interval_bytes_per_hour.1,
                "{g:?}"
            );
        }
        let width = |g: &GrowthEstimate| g.interval_bytes_per_hour.1 - g.interval_bytes_per_hour.0;
        assert!(width(&b) < width(&a));
    }

    #[test]
    fn staircase_and_gradual_leaks_differ() {
        let gradual = series(24.0, 60.0, |t, i| 50.0 * MB * t / 3600.0 + MB * noise(i));
        let stairs = series(24.0, 60.0, |t, i| {
            200.0 * MB * (t / (6.0 * 3600.0)).floor() + MB * noise(i)
        });
        let g = jump_share(&gradual).unwrap();
        let s = jump_share(&stairs).unwrap();
        assert!(g < 0.5 && s > 0.6, "gradual {g}, stairs {s}");
    }

    #[test]
    fn leak_per_request() {
        // 2 KB retained per request at 10 requests/s, plus GC noise.
        let requests = series(6.0, 60.0, |t, _| 10.0 * t);
        let memory = series(6.0, 60.0, |t, i| {
            100.0 * MB + 2_000.0 * 10.0 * t + MB * noise(i)
        });
        let bpr = bytes_per_request(&memory, &requests, &[]).unwrap();
        assert!((bpr / 2_000.0 - 1.0).abs() < 0.02, "{bpr}");
    }

    #[test]
    fn gaps_and_short_lifetimes() {
        let mut points = series(12.0, 60.0, |t, _| 100.0 * MB + 10.0 * MB * t / 3600.0);
        // A four-hour scrape gap in the middle does not bend the slope.
        points.retain(|(t, _)| !(4.0 * 3600.0..8.0 * 3600.0).contains(t));
        let g = instance_growth(&points, &[]).unwrap();
        assert!((g.bytes_per_hour / (10.0 * MB) - 1.0).abs() < 0.01, "{g:?}");
        // Three samples are too few to fit.
        assert!(instance_growth(&points[..3], &[]).is_none());
    }

    #[test]
    fn floor_segments_follow_each_lifetime_floor() {
        // 120 MB/h, restarted every 3 h at 150 MB, with a 40 MB GC sawtooth on top.
        let period = 3.0 * 3600.0;
        let points = series(12.0, 60.0, |t, i| {
            150.0 * MB
                + 120.0 * MB * (t % period) / 3600.0
                + 40.0 * MB * ((t % 600.0) / 600.0)
                + MB * noise(i)
        });
        let boundaries: Vec<f64> = (1..4).map(|k| k as f64 * period).collect();
        let segments = lifetime_floor_segments(&points, &boundaries);
        assert_eq!(segments.len(), 4);
        for [(a, ya), (b, yb)] in &segments {
            let slope = (yb - ya) / (b - a) * 3600.0;
            assert!((slope / (120.0 * MB) - 1.0).abs() < 0.05, "{slope}");
            // Never above a sample of its lifetime (rounding aside).
            for (t, v) in points.iter().filter(|(t, _)| (*a..=*b).contains(t)) {
                let line = ya + (yb - ya) * (t - a) / (b - a);
                assert!(line <= v + 1.0, "line {line} above sample {v} at {t}");
            }
            // And on the floor, not far under it: within the noise of the lowest samples.
            let lowest = points
                .iter()
                .filter(|(t, _)| (*a..=*b).contains(t))
                .map(|(t, v)| v - (ya + (yb - ya) * (t - a) / (b - a)))
                .fold(f64::INFINITY, f64::min);
            assert!(lowest < 2.0 * MB, "{lowest}");
        }
        // A lifetime of three samples is too short to draw.
        assert!(lifetime_floor_segments(&points[..3], &[]).is_empty());
    }

    #[test]
    fn lifetimes_split_at_boundaries() {
        let points: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, i as f64)).collect();
        let parts = split_lifetimes(&points, &[3.0, 3.5, 7.0]);
        let lens: Vec<usize> = parts.iter().map(Vec::len).collect();
        assert_eq!(lens, vec![3, 1, 3, 3]);
    }

    #[test]
    fn ranks_by_selection_match_a_full_sort() {
        for len in [1usize, 2, 3, 7, 100, 1001] {
            // Many ties (the modulus) and both signs, as pairwise slopes of a floor have.
            let values: Vec<f64> = (0..len).map(|i| (noise(i) * 50.0).round()).collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let ranks = [0, len / 3, len / 3, len / 2, len - 1];
            let picked = values_at_ranks(&mut values.clone(), ranks);
            assert_eq!(picked, ranks.map(|r| sorted[r]), "len {len}");
        }
    }
}
