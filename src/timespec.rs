//! Parsing of the time and duration syntax users know from Prometheus:
//! RFC 3339, Unix seconds, `now`, `now-6h`, and durations such as `5m` or `1h30m`.

use chrono::{DateTime, TimeZone, Utc};
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum TimeError {
    #[error(
        "invalid time {input:?}: expected RFC 3339 (2026-11-20T08:00:00Z), Unix seconds, `now` or `now-6h`"
    )]
    BadTime { input: String },
    #[error(
        "invalid growth rate {input:?}: expected a positive size per hour such as 1MB/h or 500KiB/h"
    )]
    BadRate { input: String },
    #[error(
        "growth rate {input:?} has no unit, so it means {input} bytes per hour, below anything measurable; write {input}MB/h, or {input}B/h if bytes are meant"
    )]
    UnitlessRate { input: String },
    #[error("invalid time {input:?}: this looks like Unix milliseconds; give seconds")]
    Milliseconds { input: String },
    #[error(
        "time {input:?} has no time zone: add Z for UTC or an offset such as +01:00, e.g. {corrected}"
    )]
    NoZone { input: String, corrected: String },
    #[error(
        "invalid duration {input:?}: expected Prometheus syntax such as 30s, 5m, 1h30m, 2d ({detail})"
    )]
    BadDuration { input: String, detail: String },
}

impl TimeError {
    pub fn code(&self) -> i32 {
        crate::exit::USAGE
    }
}

/// Parses a Prometheus duration (`1h30m`, `5m`, `2d`, `1w`) or a plain number of seconds.
pub fn parse_duration(input: &str) -> Result<Duration, TimeError> {
    let trimmed = input.trim();
    let bad = |detail: &str| TimeError::BadDuration {
        input: input.to_string(),
        detail: detail.to_string(),
    };
    if trimmed.is_empty() {
        return Err(bad("empty"));
    }
    if let Ok(seconds) = trimmed.parse::<f64>() {
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(bad("must be a finite, non-negative number of seconds"));
        }
        // try_: a number too large for a Duration is an input error, not a panic (the
        // fuzzer found "66666666666666666666668.").
        return Duration::try_from_secs_f64(seconds).map_err(|_| bad("too large"));
    }
    promql_parser::util::parse_duration(trimmed).map_err(|e| bad(&e))
}

/// Parses a growth rate such as `1MB/h`, `500KiB/h`, `2 MB/hour` or `1e6` (bytes per hour).
pub fn parse_rate(input: &str) -> Result<f64, TimeError> {
    let bad = || TimeError::BadRate {
        input: input.to_string(),
    };
    let text = input.trim();
    let amount = text
        .strip_suffix("/hour")
        .or_else(|| text.strip_suffix("/h"))
        .unwrap_or(text)
        .trim();
    // A bare number (including 1e6) is bytes per hour; otherwise the unit starts at the
    // first letter.
    let split = if amount.parse::<f64>().is_ok() {
        amount.len()
    } else {
        amount
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(amount.len())
    };
    let (number, unit) = amount.split_at(split);
    let number: f64 = number.trim().parse().map_err(|_| bad())?;
    // A bare `5` is far more likely "5 MB/h" with the unit forgotten than 5 bytes an
    // hour; bare numbers stay bytes (1e6 is 1 MB/h) only where that is plausible.
    if unit.trim().is_empty() && number.abs() < 1000.0 {
        return Err(TimeError::UnitlessRate {
            input: text.to_string(),
        });
    }
    let factor = match unit.trim() {
        "" | "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    let bytes = number * factor;
    if bytes.is_finite() && bytes > 0.0 {
        Ok(bytes)
    } else {
        Err(bad())
    }
}

/// Formats a duration the way Prometheus prints it (`1h30m`, `90s`, `1d`).
pub fn format_duration(duration: Duration) -> String {
    if duration.is_zero() {
        return "0s".to_string();
    }
    promql_parser::util::display_duration(&duration)
}

/// Parses a point in time relative to `now`.
pub fn parse_time(input: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, TimeError> {
    let trimmed = input.trim();
    let bad = || TimeError::BadTime {
        input: input.to_string(),
    };
    if trimmed.is_empty() {
        return Err(bad());
    }
    if let Some(rest) = trimmed.strip_prefix("now") {
        let rest = rest.trim();
        if rest.is_empty() {
            return Ok(now);
        }
        let (sign, amount) = match rest.as_bytes()[0] {
            b'-' => (-1, &rest[1..]),
            b'+' => (1, &rest[1..]),
            _ => return Err(bad()),
        };
        let offset = parse_duration(amount.trim()).map_err(|_| bad())?;
        let offset = chrono::Duration::from_std(offset).map_err(|_| bad())?;
        return if sign < 0 {
            now.checked_sub_signed(offset).ok_or_else(bad)
        } else {
            now.checked_add_signed(offset).ok_or_else(bad)
        };
    }
    if let Ok(parsed) = DateTime::parse_from_rfc3339(trimmed) {
        return Ok(parsed.with_timezone(&Utc));
    }
    if let Some(corrected) = with_utc_zone(trimmed) {
        return Err(TimeError::NoZone {
            input: input.to_string(),
            corrected,
        });
    }
    if let Ok(seconds) = trimmed.parse::<f64>()
        && seconds.is_finite()
    {
        // Year 5138 in seconds is 1e11; anything larger is almost surely milliseconds.
        if seconds.abs() >= 1e11 {
            return Err(TimeError::Milliseconds {
                input: input.to_string(),
            });
        }
        let whole = seconds.floor();
        let nanos = ((seconds - whole) * 1e9).round() as u32;
        if let Some(t) = Utc
            .timestamp_opt(whole as i64, nanos.min(999_999_999))
            .single()
        {
            return Ok(t);
        }
    }
    Err(bad())
}

/// A date and time without a zone (`2026-11-30 10:00`, `2026-11-30T10:00:05.5`,
/// `2026-11-30`), written as the RFC 3339 UTC time it would be with `Z` added; `None`
/// for anything else. Guessing a zone would silently shift the window by hours.
fn with_utc_zone(text: &str) -> Option<String> {
    use chrono::{NaiveDate, NaiveDateTime};
    let date_time = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })?;
    let utc = Utc.from_utc_datetime(&date_time);
    Some(utc.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// A time as people read it in messages: RFC 3339 in UTC, to the second.
pub fn display(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Seconds since the Unix epoch, as Prometheus's API takes and returns them.
pub fn unix_seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) / 1e9
}

/// The inverse of [`unix_seconds`], rounded to the millisecond Prometheus stores.
pub fn from_unix_seconds(seconds: f64) -> DateTime<Utc> {
    let millis = (seconds * 1000.0).round() as i64;
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    #[test]
    fn parses_every_time_form() {
        let n = now();
        assert_eq!(parse_time("now", n).unwrap(), n);
        assert_eq!(
            parse_time("now-6h", n).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 26, 6, 0, 0).unwrap()
        );
        assert_eq!(
            parse_time("now-2d", n).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
        );
        assert_eq!(
            parse_time("now - 1h30m", n).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 26, 10, 30, 0).unwrap()
        );
        assert_eq!(
            parse_time("2026-11-20T08:00:00Z", n).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()
        );
        assert_eq!(
            parse_time("2026-11-20T09:00:00+01:00", n).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()
        );
        assert_eq!(
            parse_time("1763625600", n).unwrap(),
            Utc.timestamp_opt(1_763_625_600, 0).unwrap()
        );
        assert_eq!(
            parse_time("1763625600.5", n)
                .unwrap()
                .timestamp_subsec_millis(),
            500
        );
    }

    #[test]
    fn rejects_malformed_times() {
        for bad in [
            "",
            "yesterday",
            "now-",
            "now-6x",
            "now*2",
            "2026-13-01T00:00:00Z",
            "2026-11-20 25:00",
            "NaN",
        ] {
            let err = parse_time(bad, now()).unwrap_err();
            assert!(
                matches!(err, TimeError::BadTime { .. }),
                "{bad:?} gave {err:?}"
            );
        }
        assert!(matches!(
            parse_time("1763625600000", now()),
            Err(TimeError::Milliseconds { .. })
        ));
    }

    #[test]
    fn a_time_without_a_zone_gets_the_corrected_value() {
        for (input, corrected) in [
            ("2026-11-30 10:00", "2026-11-30T10:00:00Z"),
            ("2026-11-30T10:00", "2026-11-30T10:00:00Z"),
            ("2026-11-30 10:00:05", "2026-11-30T10:00:05Z"),
            ("2026-11-30T10:00:05.250", "2026-11-30T10:00:05.250Z"),
            ("2026-11-20", "2026-11-20T00:00:00Z"),
        ] {
            let err = parse_time(input, now()).unwrap_err();
            assert_eq!(
                err,
                TimeError::NoZone {
                    input: input.into(),
                    corrected: corrected.into()
                }
            );
            assert!(parse_time(corrected, now()).is_ok(), "{corrected}");
        }
        assert_eq!(
            parse_time("2026-11-30 10:00", now())
                .unwrap_err()
                .to_string(),
            r#"time "2026-11-30 10:00" has no time zone: add Z for UTC or an offset such as +01:00, e.g. 2026-11-30T10:00:00Z"#
        );
    }

    #[test]
    fn parses_growth_rates() {
        assert_eq!(parse_rate("1MB/h").unwrap(), 1e6);
        assert_eq!(parse_rate("500KiB/h").unwrap(), 512_000.0);
        assert_eq!(parse_rate("2 MB/hour").unwrap(), 2e6);
        assert_eq!(parse_rate("1e6").unwrap(), 1e6);
        assert_eq!(parse_rate("5B/h").unwrap(), 5.0);
        assert!(matches!(
            parse_rate("5"),
            Err(TimeError::UnitlessRate { .. })
        ));
        for bad in ["", "MB/h", "1XB/h", "-1MB/h", "0"] {
            assert!(parse_rate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parses_prometheus_durations() {
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        for bad in [
            "",
            "5 minutes",
            "-5m",
            "1h-30m",
            "m",
            "inf",
            "66666666666666666666668.",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} accepted");
        }
    }
}
