//! How every quantity reads in words: one formatter per quantity, one precision rule
//! each, used by every sentence leakcollect writes — the report's blocks, the reasons
//! `analysis` puts into the model, `validate`'s and `scan`'s text — so one figure reads
//! the same everywhere ("80.3 MB/hour" in the summary, the symptoms and the verdict).
//!
//! It sits below `analysis` (like `timespec` and `stats`) rather than in `render/`,
//! because the reasons the model carries (a symptom's `because`, a verdict's reason, the
//! alert thresholds' basis) are sentences too and must use the same formatters.
//!
//! Rules: MB are 10^6 bytes. Sizes 1 decimal; rates below 10 MB/hour 2 decimals, else 1;
//! percentages 1 decimal, 2 near 0 and 100 so nothing rounds to "0.0%" or "100.0%"; GC
//! pauses in ms below a second; durations in the unit that fits (s, min, h, days);
//! times in the report as `2026-12-05 22:04 UTC` (RFC 3339 in JSON). Never `-0.00`.

use chrono::{DateTime, Utc};

pub const MB: f64 = 1e6;
/// Shown for a figure that could not be computed (the warnings say why).
pub const NA: &str = "n/a";

/// `value` with `places` decimals, never `-0.00`: a slope of -0.0004 MB/h is no growth,
/// not a negative one.
pub fn fixed(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => text,
    }
}

/// Megabytes as a bare number with the size rule: 1 decimal (`123.5`), 3 below 1 MB
/// (`0.250`), where a class that grew by a quarter of a megabyte must not read 0.3 or 0.
pub fn mb_number(bytes: f64) -> String {
    let mb = bytes / MB;
    if mb != 0.0 && mb.abs() < 0.95 {
        fixed(mb, 3)
    } else {
        fixed(mb, 1)
    }
}

/// A size: `123.5 MB`.
pub fn mb(bytes: f64) -> String {
    format!("{} MB", mb_number(bytes))
}

/// A small size (memory retained per request): `3.1 KB` (KB = 10^3 bytes), three
/// decimals below 1 KB (`0.250 KB`), like [`mb_number`].
pub fn kb(bytes: f64) -> String {
    let kb = bytes / 1e3;
    if kb != 0.0 && kb.abs() < 0.95 {
        format!("{} KB", fixed(kb, 3))
    } else {
        format!("{} KB", fixed(kb, 1))
    }
}

/// A request rate: `6.2 requests/s`, two decimals below 10 (`0.50 requests/s`).
pub fn per_second(rate: f64) -> String {
    let places = if rate.abs() < 10.0 { 2 } else { 1 };
    format!("{} requests/s", fixed(rate, places))
}

/// A signed size change: `+12.0 MB`, `-3.5 MB`, `0.0 MB`.
pub fn mb_signed(bytes: f64) -> String {
    let text = mb(bytes);
    if text.starts_with('-') || text.trim_start_matches(['0', '.']).starts_with(' ') {
        text
    } else {
        format!("+{text}")
    }
}

/// A growth rate as a bare number: 2 decimals below 10 MB/hour (where 0.05 matters),
/// 1 above.
pub fn mb_per_hour_number(bytes_per_hour: f64) -> String {
    let mb = bytes_per_hour / MB;
    if fixed(mb, 2).trim_start_matches('-').len() < "10.00".len() {
        fixed(mb, 2)
    } else {
        fixed(mb, 1)
    }
}

/// A growth rate: `40.1 MB/hour`, `0.85 MB/hour`.
pub fn mb_per_hour(bytes_per_hour: f64) -> String {
    format!("{} MB/hour", mb_per_hour_number(bytes_per_hour))
}

/// A percentage: `12.3%`; two decimals where one would read as 0 or 100.
pub fn percent(p: f64) -> String {
    let short = fixed(p, 1);
    if (short == "100.0" || short == "0.0") && p != 100.0 && p != 0.0 {
        let two = fixed(p, 2);
        // Still zero or a hundred at two decimals: say which side of it the figure is.
        match two.as_str() {
            "0.00" if p > 0.0 => "<0.01%".to_string(),
            "0.00" => ">-0.01%".to_string(),
            "100.00" if p < 100.0 => ">99.99%".to_string(),
            "100.00" => ">100%".to_string(),
            _ => format!("{two}%"),
        }
    } else {
        format!("{short}%")
    }
}

/// A ratio (0.25) as a percentage (`25.0%`).
pub fn ratio(r: f64) -> String {
    percent(r * 100.0)
}

/// A GC pause or a latency: `12.3 ms` below a second, else `2.50 s`.
pub fn pause(seconds: f64) -> String {
    if seconds.abs() < 1.0 {
        format!("{} ms", fixed(seconds * 1e3, 1))
    } else {
        format!("{} s", fixed(seconds, 2))
    }
}

/// A span of time in the unit that fits: `40 s`, `2.5 min`, `3.4 h`, `2.1 days`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 9.95 && s != s.round() {
        // A log of a few seconds must not read "0 s".
        format!("{} s", fixed(s, 1))
    } else if s < 90.0 {
        format!("{} s", fixed(s, 0))
    } else if s < 90.0 * 60.0 {
        format!("{} min", fixed(s / 60.0, 1))
    } else if s < 48.0 * 3600.0 {
        format!("{} h", fixed(s / 3600.0, 1))
    } else {
        format!("{} days", fixed(s / 86_400.0, 1))
    }
}

/// A span given in hours, in the unit that fits (see [`duration`]).
pub fn hours(h: f64) -> String {
    duration(h * 3600.0)
}

/// A count: whole numbers without decimals, others with one.
pub fn count(n: f64) -> String {
    if n.fract() == 0.0 {
        fixed(n, 0)
    } else {
        fixed(n, 1)
    }
}

/// A rate of events per week: `3.5/week`.
pub fn per_week(n: f64) -> String {
    format!("{}/week", fixed(n, 1))
}

/// A time as the report writes it: `2026-12-05 22:04 UTC`.
pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A time to the second, where minutes are not enough (alerts): `2026-12-05 22:04:10 UTC`.
pub fn time_seconds(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A day: `2026-12-05`.
pub fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// A time in a timeline row, where the date is in the row's context: `12-05 22:04`.
pub fn month_day_time(t: DateTime<Utc>) -> String {
    t.format("%m-%d %H:%M").to_string()
}

/// A span of a period in words: `2026-12-05 08:00 UTC → 2026-12-05 20:00 UTC (12.0 h)`.
pub fn span(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!(
        "{} → {} ({})",
        time(from),
        time(to),
        duration((to - from).num_milliseconds() as f64 / 1000.0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_negative_zero_anywhere() {
        assert_eq!(fixed(-0.0004, 2), "0.00");
        assert_eq!(fixed(-0.006, 2), "-0.01");
        assert_eq!(mb_per_hour(-400.0), "0.00 MB/hour");
        assert_eq!(mb(-10.0), "0.000 MB");
        assert_eq!(mb_signed(-10.0), "0.000 MB");
        assert_eq!(mb(0.0), "0.0 MB");
        assert_eq!(mb_signed(250_000.0), "+0.250 MB");
        assert_eq!(mb_signed(-250_000.0), "-0.250 MB");
        assert_eq!(mb_signed(12e6), "+12.0 MB");
        assert_eq!(pause(-0.00001), "0.0 ms");
    }

    #[test]
    fn one_precision_rule_per_quantity() {
        assert_eq!(mb(123_456_789.0), "123.5 MB");
        assert_eq!(mb_per_hour(80.26e6), "80.3 MB/hour");
        assert_eq!(mb_per_hour(9.994e6), "9.99 MB/hour");
        assert_eq!(mb_per_hour(9.996e6), "10.0 MB/hour");
        assert_eq!(mb_per_hour(-12.34e6), "-12.3 MB/hour");
        assert_eq!(mb_per_hour(0.85e6), "0.85 MB/hour");
        assert_eq!(pause(0.0123), "12.3 ms");
        assert_eq!(pause(2.5), "2.50 s");
        assert_eq!(percent(99.96), "99.96%");
        assert_eq!(percent(0.04), "0.04%");
        assert_eq!(percent(42.0), "42.0%");
        assert_eq!(ratio(0.25), "25.0%");
        assert_eq!(count(3.0), "3");
        assert_eq!(per_week(126.04), "126.0/week");
    }

    #[test]
    fn durations_in_the_unit_that_fits() {
        assert_eq!(duration(150.0), "2.5 min");
        assert_eq!(duration(40.0), "40 s");
        assert_eq!(hours(0.0417), "2.5 min");
        assert_eq!(hours(3.44), "3.4 h");
        assert_eq!(hours(47.9), "47.9 h");
        assert_eq!(hours(50.4), "2.1 days");
        assert!(!hours(0.04).contains("0.0 h"));
    }

    #[test]
    fn times_in_one_style() {
        let t = DateTime::parse_from_rfc3339("2026-12-05T22:04:09Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(time(t), "2026-12-05 22:04 UTC");
        assert_eq!(time_seconds(t), "2026-12-05 22:04:09 UTC");
        assert_eq!(date(t), "2026-12-05");
        assert_eq!(
            span(t, t + chrono::Duration::hours(12)),
            "2026-12-05 22:04 UTC → 2026-12-06 10:04 UTC (12.0 h)"
        );
    }

    #[test]
    fn per_request_sizes_and_request_rates() {
        assert_eq!(kb(3_049.0), "3.0 KB");
        assert_eq!(kb(250.0), "0.250 KB");
        assert_eq!(kb(0.0), "0.0 KB");
        assert_eq!(kb(25_362.7), "25.4 KB");
        assert_eq!(per_second(6.087), "6.09 requests/s");
        assert_eq!(per_second(26.54), "26.5 requests/s");
    }
}
