//! Small order statistics shared by the analysis.

/// Median of finite values; `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    // Selection, not a sort: medians of pairwise slopes run over tens of thousands of
    // values per lifetime.
    let mid = finite.len() / 2;
    let (_, upper, _) = finite.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    Some(if finite.len() % 2 == 1 {
        upper
    } else {
        let lower = &finite[..mid];
        let below = lower
            .iter()
            .copied()
            .max_by(f64::total_cmp)
            .unwrap_or(upper);
        (below + upper) / 2.0
    })
}

/// Weighted median, interpolated: each value sits at the middle of its share of the
/// total weight, and the median is read off at half the weight. With equal weights it
/// is the ordinary median; a value with a tiny weight barely moves it.
pub fn weighted_median(pairs: &[(f64, f64)]) -> Option<f64> {
    let mut items: Vec<(f64, f64)> = pairs
        .iter()
        .copied()
        .filter(|(v, w)| v.is_finite() && *w > 0.0)
        .collect();
    if items.is_empty() {
        return None;
    }
    items.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut acc = 0.0;
    let positioned: Vec<(f64, f64)> = items
        .iter()
        .map(|(v, w)| {
            let at = (acc + w / 2.0) / total;
            acc += w;
            (at, *v)
        })
        .collect();
    let (first, last) = (positioned[0], positioned[positioned.len() - 1]);
    if 0.5 <= first.0 {
        return Some(first.1);
    }
    if 0.5 >= last.0 {
        return Some(last.1);
    }
    positioned.windows(2).find_map(|pair| {
        let ((p0, v0), (p1, v1)) = (pair[0], pair[1]);
        (p0 <= 0.5 && 0.5 <= p1).then(|| v0 + (v1 - v0) * (0.5 - p0) / (p1 - p0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN]), None);
        assert_eq!(weighted_median(&[(1.0, 1.0), (10.0, 9.0)]), Some(9.1));
        assert_eq!(weighted_median(&[(1.0, 9.0), (10.0, 1.0)]), Some(1.9));
        assert_eq!(weighted_median(&[(1.0, 1.0), (3.0, 1.0)]), Some(2.0));
        assert_eq!(
            weighted_median(&[(1.0, 1.0), (2.0, 1.0), (9.0, 1.0)]),
            Some(2.0)
        );
        // A ten-minute pod next to three day-long ones hardly counts.
        let m = weighted_median(&[(100.0, 0.1), (5.0, 24.0), (6.0, 24.0), (7.0, 24.0)]).unwrap();
        assert!((m - 6.0).abs() < 0.05, "{m}");
    }
}
