//! Reproduction Time: how long a reproduction must run before the growth shows above the
//! GC sawtooth (docs/figures.md, "Reproduction Time").
//!
//! Within one process lifetime memory saws between collections above a floor that, in a
//! leak, rises. The leak is plain to see once the floor has risen by more than the
//! sawtooth's height: then a trough is above the earlier peaks. The height is measured
//! per instance as the p95 of memory above its floor line in each lifetime (the line with
//! the growth the instance's figure fitted, through the lifetime's lowest point), the
//! median over instances; the time is that
//! height over the growth per instance; the requests, that time at one instance's
//! production rate, or the height over the memory retained per request.

use super::PeriodView;
use super::growth::{MIN_LIFETIME_POINTS, split_lifetimes};
use crate::evidence::{Period, Reproduction};
use crate::stats::median;

const HOUR: f64 = 3600.0;

/// The p95 of memory above its floor line within each lifetime of one instance: the line
/// with the instance's fitted growth (`slope`, bytes per second) through the lifetime's
/// lowest point. The growth figure already fitted that slope, so no second fit is made.
fn sawtooth_height(points: &[(f64, f64)], boundaries: &[f64], slope: f64) -> Option<f64> {
    let mut above = Vec::new();
    for lifetime in split_lifetimes(points, boundaries) {
        if lifetime.len() < MIN_LIFETIME_POINTS {
            continue;
        }
        let residuals: Vec<f64> = lifetime
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|(t, v)| v - slope * t)
            .collect();
        let floor = residuals.iter().copied().fold(f64::INFINITY, f64::min);
        above.extend(residuals.iter().map(|r| r - floor));
    }
    if above.is_empty() {
        return None;
    }
    let rank = ((above.len() as f64 - 1.0) * 0.95).round() as usize;
    let (_, p95, _) = above.select_nth_unstable_by(rank, f64::total_cmp);
    Some(*p95)
}

/// The period's reproduction time; `None` without a positive growth or a measurable
/// sawtooth.
pub fn reproduction(
    view: &PeriodView,
    period: &Period,
    rate_per_instance: Option<f64>,
) -> Option<Reproduction> {
    let growth = period.growth_bytes_per_hour.filter(|g| *g > 0.0)?;
    let heights: Vec<f64> = view
        .instances
        .iter()
        .filter_map(|i| {
            let slope = i.growth.as_ref()?.bytes_per_hour / HOUR;
            sawtooth_height(&i.points, i.cut, slope)
        })
        .collect();
    let noise = median(&heights).filter(|h| *h > 0.0)?;
    let hours = noise / growth;
    Some(Reproduction {
        growth_bytes_per_hour: growth,
        noise_bytes: noise,
        hours,
        // Whole requests, rounded up: a reproduction sends requests, not tenths of one.
        requests_at_production_rate: rate_per_instance.map(|r| (r * hours * HOUR).ceil()),
        requests_from_retention: period
            .bytes_per_1k_requests
            .filter(|b| *b > 0.0)
            .map(|b| (noise / (b / 1000.0)).ceil()),
        requests_per_second_per_instance: rate_per_instance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_height_of_a_sawtooth_above_a_rising_floor() {
        // Floor rising 10 per step; every 4th sample 100 above it (a sawtooth of height 100).
        let points: Vec<(f64, f64)> = (0..40)
            .map(|i| {
                let t = i as f64 * 60.0;
                let floor = 1000.0 + 10.0 * i as f64;
                (
                    t,
                    floor
                        + if i % 4 == 3 {
                            100.0
                        } else {
                            (i % 4) as f64 * 30.0
                        },
                )
            })
            .collect();
        let h = sawtooth_height(&points, &[], 10.0 / 60.0).unwrap();
        assert!((h - 100.0).abs() < 1e-6, "{h}");
    }

    #[test]
    fn a_flat_series_has_no_height() {
        let points: Vec<(f64, f64)> = (0..20).map(|i| (i as f64 * 60.0, 5.0)).collect();
        assert_eq!(sawtooth_height(&points, &[], 0.0), Some(0.0));
    }
}
