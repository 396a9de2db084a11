//! Which requests retain memory: the growth of each instance's memory floor (the
//! restart-aware, GC-robust floor [`growth::instance_growth`] fits) attributed to routes
//! by their request counts over the same steps. Each block of steps between floor points
//! of one process lifetime is one row ([`block_size`]): the floor's increment, regressed
//! on each route's requests in that block (non-negative bytes per request) and the
//! block's length (an unconstrained rate: growth no route explains). Rows of every instance are pooled.
//!
//! Pieces, each tested: [`Counter`] (a cumulative counter, resets removed, read between
//! two times), [`nnls`] (Lawson–Hanson non-negative least squares with free columns),
//! [`inverse_spd`] (the covariance of the fit), [`alike`] (routes whose traffic shapes
//! cannot be told apart: variance inflation of their rate shapes), and
//! [`leak_by_route`], the figure.

use super::PeriodView;
use super::growth::{MIN_LIFETIME_POINTS, floor_points, split_lifetimes};
use crate::acquire::lifetimes::instance_key;
use crate::evidence::routes::{RouteAmbiguity, RouteLeak, RouteLoadTest, RoutesMissing};
use crate::pack::Role;
use crate::prom::RangeSeries;
use std::collections::BTreeMap;

const HOUR: f64 = 3600.0;
/// The route the pack's query gives the routes past the busiest.
const OTHER: &str = "other";
/// A route whose per-step rate varies less than this (coefficient of variation) is
/// constant traffic: its column is the intercept's, scaled.
const CONSTANT_CV: f64 = 0.05;
/// Variance inflation above this: a route's rate shape is (nearly) a combination of the
/// others', so its retention cannot be told from theirs. 10 is the usual rule of thumb.
const MAX_VIF: f64 = 10.0;
/// Rows per fitted column the fit needs at least, and at least this many rows.
const ROWS_PER_COLUMN: usize = 4;
/// Floor steps summed into one row at most, and rows per lifetime wanted ([`block_size`]).
const MAX_BLOCK: usize = 8;
const MIN_BLOCKS: usize = 12;
/// Rows per chunk when routes' rate shapes are compared (constant, alike).
const SHAPE_CHUNK: usize = 3;
const MIN_ROWS: usize = 12;

/// A cumulative counter with its resets removed (a value below the previous one starts
/// again from zero, as `increase()` reads it), read by linear interpolation.
#[derive(Debug, Clone)]
pub struct Counter {
    points: Vec<(f64, f64)>,
}

impl Counter {
    pub fn new(raw: &[(f64, f64)]) -> Counter {
        let mut points = Vec::with_capacity(raw.len());
        let (mut offset, mut last) = (0.0, None::<f64>);
        for &(t, v) in raw.iter().filter(|p| p.1.is_finite()) {
            if let Some(previous) = last
                && v < previous
            {
                offset += previous;
            }
            last = Some(v);
            points.push((t, v + offset));
        }
        Counter { points }
    }

    /// The counter at `t`, interpolated; `None` outside its samples.
    fn at(&self, t: f64) -> Option<f64> {
        let i = self.points.partition_point(|p| p.0 < t);
        let after = self.points.get(i)?;
        if after.0 == t {
            return Some(after.1);
        }
        let before = self.points.get(i.checked_sub(1)?)?;
        let share = (t - before.0) / (after.0 - before.0);
        Some(before.1 + share * (after.1 - before.1))
    }

    /// Requests counted between `a` and `b`; `None` unless both are within its samples.
    pub fn between(&self, a: f64, b: f64) -> Option<f64> {
        Some((self.at(b)? - self.at(a)?).max(0.0))
    }
}

/// Non-negative least squares with free columns: the `x` minimising |A x − b|² with
/// `x[j] ≥ 0` for every column where `free[j]` is false, by Lawson and Hanson's
/// active-set method on the normal equations (`gram` = AᵀA, `atb` = Aᵀb; the columns
/// are few, the rows many). `None` when a passive set's system is singular.
pub fn nnls(gram: &[Vec<f64>], atb: &[f64], free: &[bool]) -> Option<Vec<f64>> {
    let k = atb.len();
    let scale = gram
        .iter()
        .map(|row| row.iter().fold(0.0f64, |m, v| m.max(v.abs())));
    let tolerance = 1e-10 * scale.fold(1.0, f64::max);
    let mut passive: Vec<bool> = free.to_vec();
    // Feasible from the start: the constrained columns at zero.
    let mut x = solve_on(gram, atb, &passive)?;
    for _ in 0..(3 * k + 10) {
        let gradient: Vec<f64> = (0..k)
            .map(|j| atb[j] - (0..k).map(|i| gram[j][i] * x[i]).sum::<f64>())
            .collect();
        let entering = (0..k)
            .filter(|&j| !passive[j] && gradient[j] > tolerance)
            .max_by(|&a, &b| gradient[a].total_cmp(&gradient[b]));
        let Some(j) = entering else {
            return Some(x);
        };
        passive[j] = true;
        step_into(gram, atb, free, &mut passive, &mut x)?;
    }
    Some(x)
}

/// Lawson–Hanson's inner loop: solve on the passive columns; while a constrained one
/// comes out non-positive, move from the feasible `x` towards that solution as far as
/// stays feasible and drop the columns that reach zero. Leaves `x` feasible.
fn step_into(
    gram: &[Vec<f64>],
    atb: &[f64],
    free: &[bool],
    passive: &mut [bool],
    x: &mut [f64],
) -> Option<()> {
    let k = x.len();
    for _ in 0..=k {
        let z = solve_on(gram, atb, passive)?;
        let blocked: Vec<usize> = (0..k)
            .filter(|&j| !free[j] && passive[j] && z[j] <= 0.0)
            .collect();
        if blocked.is_empty() {
            x.copy_from_slice(&z);
            return Some(());
        }
        let alpha = blocked
            .iter()
            .map(|&j| x[j] / (x[j] - z[j]))
            .fold(1.0f64, f64::min);
        for j in 0..k {
            x[j] += alpha * (z[j] - x[j]);
            if !free[j] && passive[j] && x[j] <= 1e-12 * x[j].abs().max(1.0) {
                passive[j] = false;
                x[j] = 0.0;
            }
        }
    }
    Some(())
}

/// The least-squares solution using only the `on` columns (the rest zero).
fn solve_on(gram: &[Vec<f64>], atb: &[f64], on: &[bool]) -> Option<Vec<f64>> {
    let index: Vec<usize> = (0..atb.len()).filter(|&j| on[j]).collect();
    let sub: Vec<Vec<f64>> = index
        .iter()
        .map(|&i| index.iter().map(|&j| gram[i][j]).collect())
        .collect();
    let rhs: Vec<f64> = index.iter().map(|&i| atb[i]).collect();
    let inverse = inverse_spd(&sub)?;
    let mut x = vec![0.0; atb.len()];
    for (a, &i) in index.iter().enumerate() {
        x[i] = (0..index.len()).map(|b| inverse[a][b] * rhs[b]).sum();
    }
    Some(x)
}

/// The inverse of a symmetric positive-definite matrix (Cholesky); `None` when it is
/// singular or not positive definite (relative to its diagonal).
// Triangular solves read best with indices.
#[allow(clippy::needless_range_loop)]
pub fn inverse_spd(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = m[i][i] - sum;
                if d.is_nan() || d <= 1e-12 * m[i][i].abs() || d <= 0.0 {
                    return None;
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (m[i][j] - sum) / l[j][j];
            }
        }
    }
    // L⁻¹ by forward substitution, then M⁻¹ = L⁻ᵀ L⁻¹.
    let mut li = vec![vec![0.0; n]; n];
    for c in 0..n {
        for i in c..n {
            let sum: f64 = (c..i).map(|k| l[i][k] * li[k][c]).sum();
            let identity = if i == c { 1.0 } else { 0.0 };
            li[i][c] = (identity - sum) / l[i][i];
        }
    }
    let mut out = vec![vec![0.0; n]; n];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = (i.max(j)..n).map(|k| li[k][i] * li[k][j]).sum();
        }
    }
    Some(out)
}

/// The routes (indices) whose rate shapes over the rows cannot be told apart: the
/// variance inflation factor of each centred, standardised shape (the diagonal of the
/// inverse correlation matrix) above [`MAX_VIF`], or a singular correlation matrix (all).
/// Centring removes the constant part, which is the intercept's.
pub fn alike(shapes: &[Vec<f64>]) -> Vec<usize> {
    let k = shapes.len();
    if k < 2 {
        return Vec::new();
    }
    let standardised: Vec<Vec<f64>> = shapes
        .iter()
        .map(|s| {
            let n = s.len() as f64;
            let mean = s.iter().sum::<f64>() / n;
            let sd = (s.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            s.iter()
                .map(|v| (v - mean) / sd.max(f64::MIN_POSITIVE))
                .collect()
        })
        .collect();
    let n = standardised[0].len() as f64;
    let correlation: Vec<Vec<f64>> = (0..k)
        .map(|i| {
            (0..k)
                .map(|j| {
                    let dot: f64 = standardised[i]
                        .iter()
                        .zip(&standardised[j])
                        .map(|(a, b)| a * b)
                        .sum();
                    dot / n
                })
                .collect()
        })
        .collect();
    match inverse_spd(&correlation) {
        Some(inverse) => (0..k).filter(|&i| inverse[i][i] > MAX_VIF).collect(),
        None => (0..k).collect(),
    }
}

/// Two-sided 97.5 % quantile of Student's t with `df` degrees of freedom.
fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        31..=120 => 2.0,
        _ => 1.96,
    }
}

/// One step of one instance's floor: its length, the floor's rise, each route's requests.
#[derive(Debug, Clone)]
pub struct Row {
    pub hours: f64,
    pub rise: f64,
    pub requests: Vec<f64>,
}

/// A route's identity: (method, route).
pub type RouteKey = (String, String);

fn route_key(series: &RangeSeries) -> RouteKey {
    let get = |name: &str| series.labels.get(name).cloned().unwrap_or_default();
    (get("method"), get("route"))
}

/// Floor steps per row for a lifetime of `steps` floor steps: up to [`MAX_BLOCK`], and
/// at least [`MIN_BLOCKS`] rows per lifetime when it is short. A single floor step's rise
/// depends on where in its bin the lowest sample fell, which a steep rise (heavy traffic)
/// moves: its error follows the traffic and biases the fit; over a block the choices
/// inside cancel and only the two ends' remain.
fn block_size(steps: usize) -> usize {
    (steps / MIN_BLOCKS).clamp(1, MAX_BLOCK)
}

/// The rows of every instance of the period, and the routes (columns) in a fixed order.
/// A step is kept when every route's counter of its instance covers it (a route that
/// instance never served counts zero).
pub fn rows(view: &PeriodView) -> (Vec<RouteKey>, Vec<Row>) {
    let series = view.data.series(Role::RouteRequests);
    let mut keys: Vec<RouteKey> = series.iter().map(route_key).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for instance in &view.instances {
        let key = instance_key(&instance.heap.labels);
        let mut counters: BTreeMap<usize, Counter> = BTreeMap::new();
        for s in series.iter().filter(|s| instance_key(&s.labels) == key) {
            let column = keys.binary_search(&route_key(s)).expect("listed above");
            counters.insert(column, Counter::new(&s.points));
        }
        if counters.is_empty() {
            continue;
        }
        for lifetime in split_lifetimes(&instance.points, instance.cut) {
            if lifetime.len() < MIN_LIFETIME_POINTS {
                continue;
            }
            let floor = floor_points(&lifetime);
            let per_block = block_size(floor.len().saturating_sub(1));
            for block in floor.windows(per_block + 1).step_by(per_block) {
                let ((a, va), (b, vb)) = (block[0], block[per_block]);
                let requests: Option<Vec<f64>> = (0..keys.len())
                    .map(|c| counters.get(&c).map_or(Some(0.0), |k| k.between(a, b)))
                    .collect();
                if let Some(requests) = requests.filter(|_| b > a) {
                    out.push(Row {
                        hours: (b - a) / HOUR,
                        rise: vb - va,
                        requests,
                    });
                }
            }
        }
    }
    (keys, out)
}

/// The fit over `rows`: per column (routes, then the intercept in bytes per hour) the
/// estimate and its standard error; `None` when the system is singular.
pub struct Fit {
    pub coefficients: Vec<f64>,
    pub standard_errors: Vec<f64>,
    pub degrees_of_freedom: usize,
}

/// Non-negative bytes per request for each route in `columns`, a free intercept per hour;
/// standard errors from the residual variance and (XᵀX)⁻¹ of every column (conservative
/// for the columns the constraint holds at zero).
pub fn fit(rows: &[Row], columns: &[usize]) -> Option<Fit> {
    let k = columns.len() + 1;
    let x = |row: &Row, j: usize| {
        if j < columns.len() {
            row.requests[columns[j]]
        } else {
            row.hours
        }
    };
    // Columns scaled to unit norm, so requests (thousands) and hours (fractions) weigh
    // alike in the solver's tolerances.
    let norms: Vec<f64> = (0..k)
        .map(|j| rows.iter().map(|r| x(r, j).powi(2)).sum::<f64>().sqrt())
        .collect();
    if norms.iter().any(|n| *n <= 0.0) {
        return None;
    }
    let mut gram = vec![vec![0.0; k]; k];
    let mut atb = vec![0.0; k];
    for r in rows {
        for i in 0..k {
            atb[i] += x(r, i) / norms[i] * r.rise;
            for j in 0..k {
                gram[i][j] += x(r, i) / norms[i] * x(r, j) / norms[j];
            }
        }
    }
    let free: Vec<bool> = (0..k).map(|j| j == k - 1).collect();
    let scaled = nnls(&gram, &atb, &free)?;
    let residuals: f64 = rows
        .iter()
        .map(|r| {
            let fitted: f64 = (0..k).map(|j| scaled[j] * x(r, j) / norms[j]).sum();
            (r.rise - fitted).powi(2)
        })
        .sum();
    let df = rows.len().saturating_sub(k);
    let variance = residuals / df.max(1) as f64;
    let inverse = inverse_spd(&gram)?;
    Some(Fit {
        coefficients: (0..k).map(|j| scaled[j] / norms[j]).collect(),
        standard_errors: (0..k)
            .map(|j| (variance * inverse[j][j]).sqrt() / norms[j])
            .collect(),
        degrees_of_freedom: df,
    })
}

/// What [`leak_by_route`] found for a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteFigures {
    pub routes: Vec<RouteLeak>,
    pub missing: Option<RoutesMissing>,
    pub unexplained_share: Option<f64>,
    pub alike: Vec<String>,
    pub top: Option<RouteLeak>,
    pub steps: usize,
    pub hours: Option<f64>,
}

/// A route as people write it: `POST /api/orders`, or the route alone without a method.
pub fn route_name((method, route): &RouteKey) -> String {
    if method.is_empty() {
        route.clone()
    } else {
        format!("{method} {route}")
    }
}

/// The period's per-route attribution, or why it is missing. Routes with constant
/// traffic are left out of the fit (they are the intercept's column); the others must
/// have shapes the fit can tell apart.
pub fn leak_by_route(view: &PeriodView, baseline: Option<f64>) -> RouteFigures {
    let (keys, rows) = rows(view);
    let mut figures = RouteFigures {
        steps: rows.len(),
        ..RouteFigures::default()
    };
    let instances = view.instances.len().max(1) as f64;
    let total_hours: f64 = rows.iter().map(|r| r.hours).sum();
    if keys.is_empty() || keys.iter().all(|(_, route)| route.is_empty()) {
        figures.missing = Some(RoutesMissing::NoRouteCounters);
        return figures;
    }
    if rows.len() < MIN_ROWS {
        figures.missing = Some(RoutesMissing::TooFewSteps);
        return figures;
    }
    figures.hours = Some(total_hours / instances);
    // Rate shapes over chunks of rows: a single step's count is off by up to a step's
    // worth of requests (counters sampled at the scrape interval), which would hide a
    // constant probe and decorrelate two routes of one shape.
    let shape = |c: usize| -> Vec<f64> {
        rows.chunks(SHAPE_CHUNK)
            .map(|chunk| {
                let served: f64 = chunk.iter().map(|r| r.requests[c]).sum();
                served / chunk.iter().map(|r| r.hours).sum::<f64>()
            })
            .collect()
    };
    let constant: Vec<bool> = (0..keys.len())
        .map(|c| coefficient_of_variation(&shape(c)) < CONSTANT_CV)
        .collect();
    let columns: Vec<usize> = (0..keys.len()).filter(|&c| !constant[c]).collect();
    let rate = |c: usize| {
        let served: f64 = rows.iter().map(|r| r.requests[c]).sum();
        served / (total_hours * HOUR / instances)
    };
    let blank = |c: usize| RouteLeak {
        method: keys[c].0.clone(),
        route: keys[c].1.clone(),
        requests_per_second: rate(c),
        bytes_per_request: None,
        bytes_per_request_interval: None,
        share_of_growth: None,
        retains: false,
        cannot_tell: constant[c].then_some(RouteAmbiguity::ConstantTraffic),
        load_test: None,
    };
    figures.routes = (0..keys.len()).map(blank).collect();
    if columns.is_empty() {
        figures.missing = Some(RoutesMissing::ConstantTraffic);
        return figures;
    }
    if rows.len() < MIN_ROWS.max(ROWS_PER_COLUMN * (columns.len() + 1)) {
        figures.missing = Some(RoutesMissing::TooFewSteps);
        return figures;
    }
    let alike_columns = alike(&columns.iter().map(|&c| shape(c)).collect::<Vec<_>>());
    if !alike_columns.is_empty() {
        figures.alike = alike_columns
            .iter()
            .map(|&i| route_name(&keys[columns[i]]))
            .collect();
        figures.missing = Some(RoutesMissing::TrafficShapesAlike);
        return figures;
    }
    let Some(fit) = fit(&rows, &columns) else {
        figures.missing = Some(RoutesMissing::TrafficShapesAlike);
        return figures;
    };
    let intercept = fit.coefficients[columns.len()] * total_hours;
    let explained: Vec<f64> = (0..columns.len())
        .map(|j| fit.coefficients[j] * rows.iter().map(|r| r.requests[columns[j]]).sum::<f64>())
        .collect();
    // A negative intercept is noise around "no unexplained growth": counted as none, so
    // the shares stay within 0–1 and sum to one with the unexplained part.
    let fitted_growth = explained.iter().sum::<f64>() + intercept.max(0.0);
    if fitted_growth <= 0.0 {
        figures.missing = Some(RoutesMissing::NoGrowth);
        return figures;
    }
    let t = t_975(fit.degrees_of_freedom);
    for (j, &c) in columns.iter().enumerate() {
        let (b, se) = (fit.coefficients[j], fit.standard_errors[j]);
        let interval = [(b - t * se).max(0.0), b + t * se];
        let route = &mut figures.routes[c];
        route.bytes_per_request = Some(b);
        route.bytes_per_request_interval = Some(interval);
        route.share_of_growth = Some(explained[j] / fitted_growth);
        route.retains = interval[0] > 0.0;
        route.load_test = route
            .retains
            .then_some(())
            .and(baseline)
            .map(|base| RouteLoadTest {
                after_1k_requests_bytes: base + 1_000.0 * b,
                after_10k_requests_bytes: base + 10_000.0 * b,
            });
    }
    figures.unexplained_share = Some(intercept.max(0.0) / fitted_growth);
    figures.routes.sort_by(|a, b| {
        let share = |r: &RouteLeak| r.share_of_growth.unwrap_or(f64::NEG_INFINITY);
        share(b).total_cmp(&share(a))
    });
    // `other` is many routes: it is never the one to send (its share is in the table).
    figures.top = figures
        .routes
        .iter()
        .find(|r| r.retains && !(r.method.is_empty() && r.route == OTHER))
        .cloned();
    figures
}

fn coefficient_of_variation(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if mean.abs() <= f64::MIN_POSITIVE {
        return 0.0;
    }
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    variance.sqrt() / mean.abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-noise in [-1, 1].
    fn noise(i: usize) -> f64 {
        let x = ((i as f64 * 12.9898).sin() * 43_758.545_3).fract();
        2.0 * x.abs() - 1.0
    }

    fn normal(rows: &[Vec<f64>], b: &[f64]) -> (Vec<Vec<f64>>, Vec<f64>) {
        let k = rows[0].len();
        let mut gram = vec![vec![0.0; k]; k];
        let mut atb = vec![0.0; k];
        for (r, y) in rows.iter().zip(b) {
            for i in 0..k {
                atb[i] += r[i] * y;
                for j in 0..k {
                    gram[i][j] += r[i] * r[j];
                }
            }
        }
        (gram, atb)
    }

    #[test]
    fn nnls_matches_least_squares_when_the_constraint_is_slack() {
        let a: Vec<Vec<f64>> = (0..20)
            .map(|i| vec![1.0 + noise(i), 2.0 + noise(i + 50), 1.0])
            .collect();
        let b: Vec<f64> = a.iter().map(|r| 3.0 * r[0] + 0.5 * r[1] - 2.0).collect();
        let (gram, atb) = normal(&a, &b);
        let x = nnls(&gram, &atb, &[false, false, true]).unwrap();
        for (got, want) in x.iter().zip([3.0, 0.5, -2.0]) {
            assert!((got - want).abs() < 1e-8, "{x:?}");
        }
    }

    #[test]
    fn nnls_holds_a_negative_coefficient_at_zero_and_refits_the_rest() {
        // The unconstrained answer has x1 = -1; with x1 ≥ 0 it is 0 and x0 is the
        // least-squares fit of b on the first column alone (the free intercept too).
        let a: Vec<Vec<f64>> = (0..30)
            .map(|i| {
                vec![
                    (i as f64 / 3.0).sin() + 2.0,
                    (i as f64 / 5.0).cos() + 2.0,
                    1.0,
                ]
            })
            .collect();
        let b: Vec<f64> = a.iter().map(|r| 2.0 * r[0] - r[1] + 1.0).collect();
        let (gram, atb) = normal(&a, &b);
        let x = nnls(&gram, &atb, &[false, false, true]).unwrap();
        assert_eq!(x[1], 0.0, "{x:?}");
        let reduced: Vec<Vec<f64>> = a.iter().map(|r| vec![r[0], r[2]]).collect();
        let (g2, h2) = normal(&reduced, &b);
        let ls = solve_on(&g2, &h2, &[true, true]).unwrap();
        assert!(
            (x[0] - ls[0]).abs() < 1e-8 && (x[2] - ls[1]).abs() < 1e-8,
            "{x:?} {ls:?}"
        );
        // Kuhn–Tucker: the gradient at the held column points into the constraint.
        let gradient: f64 = atb[1] - (0..3).map(|i| gram[1][i] * x[i]).sum::<f64>();
        assert!(gradient <= 1e-8, "{gradient}");
    }

    #[test]
    fn nnls_all_held_at_zero_leaves_the_free_column() {
        let a: Vec<Vec<f64>> = (0..10).map(|i| vec![1.0 + i as f64, 1.0]).collect();
        let b: Vec<f64> = a.iter().map(|r| -r[0] + 5.0).collect();
        let (gram, atb) = normal(&a, &b);
        let x = nnls(&gram, &atb, &[false, true]).unwrap();
        assert_eq!(x[0], 0.0);
        assert!((x[1] - b.iter().sum::<f64>() / 10.0).abs() < 1e-9, "{x:?}");
    }

    #[test]
    fn inverse_of_a_known_matrix_and_singular_ones() {
        let m = vec![vec![4.0, 2.0], vec![2.0, 3.0]];
        let inv = inverse_spd(&m).unwrap();
        let want = [[3.0 / 8.0, -2.0 / 8.0], [-2.0 / 8.0, 4.0 / 8.0]];
        for i in 0..2 {
            for j in 0..2 {
                assert!((inv[i][j] - want[i][j]).abs() < 1e-12);
            }
        }
        assert!(inverse_spd(&[vec![1.0, 1.0], vec![1.0, 1.0]]).is_none());
    }

    #[test]
    fn counters_read_across_resets_and_between_samples() {
        let c = Counter::new(&[(0.0, 10.0), (10.0, 20.0), (20.0, 5.0), (30.0, 15.0)]);
        assert_eq!(c.between(0.0, 10.0), Some(10.0));
        // The reset at 20 s: 5 counted since, as increase() reads it.
        assert_eq!(c.between(10.0, 30.0), Some(15.0));
        assert_eq!(c.between(5.0, 15.0), Some(7.5));
        assert_eq!(c.between(-1.0, 10.0), None);
    }

    #[test]
    fn alike_shapes_are_named_and_distinct_ones_are_not() {
        let n = 100;
        let day = |i: usize| (i as f64 / n as f64 * std::f64::consts::TAU).sin();
        let evening = |i: usize| (i as f64 / n as f64 * std::f64::consts::TAU).cos();
        let a: Vec<f64> = (0..n)
            .map(|i| 10.0 + 5.0 * day(i) + 0.1 * noise(i))
            .collect();
        let b: Vec<f64> = (0..n)
            .map(|i| 4.0 + 2.0 * day(i) + 0.1 * noise(i + 7))
            .collect();
        let c: Vec<f64> = (0..n).map(|i| 8.0 + 3.0 * evening(i)).collect();
        assert_eq!(alike(&[a.clone(), b.clone(), c.clone()]), vec![0, 1]);
        assert!(alike(&[a, c]).is_empty());
    }

    /// Rows of a service with three routes: `leak` bytes per request on the first, a
    /// day-shaped second route, an evening third; floor noise of `noise_bytes`.
    fn synthetic_rows(leak: f64, noise_bytes: f64) -> Vec<Row> {
        synthetic_rows_seeded(leak, noise_bytes, 0)
    }

    fn synthetic_rows_seeded(leak: f64, noise_bytes: f64, seed: usize) -> Vec<Row> {
        (0..240)
            .map(|i| {
                let phase = i as f64 / 240.0 * std::f64::consts::TAU;
                let requests = vec![
                    360.0 * (5.0 + 4.0 * phase.sin()),
                    360.0 * (8.0 + 6.0 * phase.cos()),
                    360.0 * (3.0 + 2.0 * (2.0 * phase).sin()),
                ];
                let at = i + 1_000 * seed;
                let rise = leak * requests[0] + noise_bytes * (noise(at) - noise(at + 1));
                Row {
                    hours: 0.1,
                    rise,
                    requests,
                }
            })
            .collect()
    }

    #[test]
    fn the_fit_finds_the_leaking_column_and_its_interval_covers_it() {
        let rows = synthetic_rows(2_000.0, 5e6);
        let fit = fit(&rows, &[0, 1, 2]).unwrap();
        let (b, se) = (fit.coefficients[0], fit.standard_errors[0]);
        assert!((b / 2_000.0 - 1.0).abs() < 0.1, "{b}");
        assert!(
            b - 1.96 * se < 2_000.0 && 2_000.0 < b + 1.96 * se,
            "{b} ± {se}"
        );
        for j in [1, 2] {
            assert!(fit.coefficients[j] < 200.0, "{:?}", fit.coefficients);
        }
        // Less noise, a narrower interval.
        let quiet = super::fit(&synthetic_rows(2_000.0, 5e5), &[0, 1, 2]).unwrap();
        assert!(quiet.standard_errors[0] < se);
    }

    #[test]
    fn the_interval_covers_the_truth_in_most_noise_draws() {
        // 40 draws of the floor's noise: a 95 % interval that covered the truth in fewer
        // than 34 would be too narrow (the residuals' dependence makes it conservative).
        let covered = (1..=40)
            .filter(|&seed| {
                let rows = synthetic_rows_seeded(2_000.0, 2e7, seed);
                let fit = fit(&rows, &[0, 1, 2]).unwrap();
                let (b, se) = (fit.coefficients[0], fit.standard_errors[0]);
                let t = t_975(fit.degrees_of_freedom);
                (b - t * se..=b + t * se).contains(&2_000.0)
            })
            .count();
        assert!(covered >= 34, "{covered} of 40");
    }
}
