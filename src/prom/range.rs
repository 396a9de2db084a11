//! Choosing the step of a range query and slicing long ranges so that no request
//! asks a server for more points per series than it allows.

use std::time::Duration;

/// Prometheus refuses range queries whose result would exceed 11,000 points per series.
pub const PROMETHEUS_MAX_POINTS: u64 = 11_000;
/// Points per series we aim for: enough for a robust slope, cheap to transfer.
pub const TARGET_POINTS: u64 = 1_000;

/// Six hours: the report's "after 6 h" level. A step that divides it puts an
/// evaluation exactly at start + 6 h, so that figure does not move with the step.
const SIX_HOURS: u64 = 6 * 3600;

/// A step near `TARGET_POINTS` points over `range` and never below `floor` (the scrape
/// interval, when known): the smallest whole number of seconds at or above both that
/// divides six hours (or a multiple of six hours for very long ranges).
pub fn choose_step(range: Duration, floor: Duration) -> Duration {
    let ideal = range.as_secs_f64() / TARGET_POINTS as f64;
    let wanted = ideal.max(floor.as_secs_f64()).ceil().max(1.0) as u64;
    let step = if wanted > SIX_HOURS {
        wanted.div_ceil(SIX_HOURS) * SIX_HOURS
    } else {
        (wanted..=SIX_HOURS)
            .find(|s| SIX_HOURS.is_multiple_of(*s))
            .unwrap_or(SIX_HOURS)
    };
    Duration::from_secs(step)
}

/// The scrape interval implied by `count` samples of one series in `span` seconds
/// (`count_over_time` on the raw selector); `None` below two samples.
pub fn interval_from_samples(span: f64, count: f64) -> Option<Duration> {
    (count >= 2.0).then(|| Duration::from_secs_f64((span / (count - 1.0)).round().max(1.0)))
}

/// A step finer than `current` that still divides six hours: the largest such step at or
/// below `wanted` and at or above `floor` (the scrape interval), or, when `wanted` is below
/// `floor`, the smallest at or above `floor`. `None` when that is not finer than `current`.
pub fn finer_step(current: Duration, wanted: f64, floor: Duration) -> Option<Duration> {
    let floor = floor.as_secs_f64().ceil().max(1.0) as u64;
    let wanted = wanted.floor().max(0.0) as u64;
    let divisors = (1..=SIX_HOURS).filter(|s| SIX_HOURS.is_multiple_of(*s));
    let step = if wanted >= floor {
        divisors.filter(|s| *s >= floor && *s <= wanted).max()
    } else {
        divisors.filter(|s| *s >= floor).min()
    }?;
    (step < current.as_secs()).then(|| Duration::from_secs(step))
}

/// Splits `[start, end]` into consecutive slices of at most `max_points` evaluation
/// points each at `step`; slice boundaries fall on the step grid so that no point is
/// evaluated twice or skipped.
pub fn slices(start: f64, end: f64, step: f64, max_points: u64) -> Vec<(f64, f64)> {
    assert!(step > 0.0, "step must be positive");
    let total_points = ((end - start) / step).floor() as u64 + 1;
    if total_points <= max_points {
        return vec![(start, end)];
    }
    let mut out = Vec::new();
    let mut first_index = 0u64;
    while first_index < total_points {
        let last_index = (first_index + max_points - 1).min(total_points - 1);
        out.push((
            start + first_index as f64 * step,
            start + last_index as f64 * step,
        ));
        first_index = last_index + 1;
    }
    out
}

/// `[start, end]` cut in two on the step grid, or `None` for a single point.
pub fn halve(start: f64, end: f64, step: f64) -> Option<((f64, f64), (f64, f64))> {
    let points = ((end - start) / step).floor() as u64 + 1;
    if points < 2 {
        return None;
    }
    let first_last = start + ((points / 2) - 1) as f64 * step;
    Some(((start, first_last), (first_last + step, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finer_steps_divide_six_hours_and_respect_the_scrape_interval() {
        let secs = Duration::from_secs;
        // 3 h lifetimes / 30 points = 360 s, a divisor of 6 h.
        assert_eq!(finer_step(secs(2700), 360.0, secs(60)), Some(secs(360)));
        // 370 s is no divisor: the next one down.
        assert_eq!(finer_step(secs(2700), 370.0, secs(60)), Some(secs(360)));
        // Lifetimes too short for the scrape interval: the interval it is.
        assert_eq!(finer_step(secs(2700), 5.0, secs(60)), Some(secs(60)));
        assert_eq!(finer_step(secs(2700), 5.0, secs(61)), Some(secs(72)));
        // Nothing finer than what we have.
        assert_eq!(finer_step(secs(360), 400.0, secs(60)), None);
        assert_eq!(finer_step(secs(60), 5.0, secs(60)), None);
    }

    #[test]
    fn step_aims_near_target_points_and_respects_floor() {
        let day = Duration::from_secs(86_400);
        // 86.4 s ideal → 90 s, the next divisor of six hours.
        assert_eq!(choose_step(day, Duration::from_secs(15)).as_secs(), 90);
        assert_eq!(
            choose_step(Duration::from_secs(86_400 * 365), Duration::ZERO).as_secs(),
            43_200
        );
        assert_eq!(choose_step(day, Duration::from_secs(100)).as_secs(), 100);
        assert_eq!(choose_step(day, Duration::from_secs(101)).as_secs(), 108);
        assert_eq!(
            choose_step(Duration::from_secs(600), Duration::from_secs(15)).as_secs(),
            15
        );
        assert_eq!(
            choose_step(Duration::from_secs(60), Duration::ZERO).as_secs(),
            1
        );
    }

    #[test]
    fn slices_cover_every_point_once() {
        let s = slices(0.0, 100.0, 1.0, 30);
        assert_eq!(
            s,
            vec![(0.0, 29.0), (30.0, 59.0), (60.0, 89.0), (90.0, 100.0)]
        );
        let points: u64 = s.iter().map(|(a, b)| ((b - a) / 1.0) as u64 + 1).sum();
        assert_eq!(points, 101);
        assert_eq!(slices(0.0, 100.0, 1.0, 11_000), vec![(0.0, 100.0)]);
    }

    #[test]
    fn halves_keep_the_grid_and_every_point() {
        assert_eq!(halve(0.0, 100.0, 10.0), Some(((0.0, 40.0), (50.0, 100.0))));
        assert_eq!(halve(0.0, 10.0, 10.0), Some(((0.0, 0.0), (10.0, 10.0))));
        assert_eq!(halve(5.0, 5.0, 10.0), None);
        // An end off the grid stays with the second half.
        assert_eq!(halve(0.0, 35.0, 10.0), Some(((0.0, 10.0), (20.0, 35.0))));
    }
}
