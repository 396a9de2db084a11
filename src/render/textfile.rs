//! `validate`'s result in the Prometheus text exposition format, for node_exporter's
//! textfile collector and the Pushgateway.

use crate::evidence::{Validation, Verdict};
use std::fmt::Write;

/// Escapes a label value as the exposition format requires.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub fn render(v: &Validation) -> String {
    let service = label(&v.evidence.service);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP leakcollect_validation_verdict Verdict of the last leakcollect validate run (1 on the current verdict)."
    );
    let _ = writeln!(out, "# TYPE leakcollect_validation_verdict gauge");
    for (name, verdict) in [
        ("resolved", Verdict::Resolved),
        ("leaking", Verdict::Leaking),
        ("inconclusive", Verdict::Inconclusive),
    ] {
        let _ = writeln!(
            out,
            "leakcollect_validation_verdict{{service=\"{service}\",verdict=\"{name}\"}} {}",
            u8::from(v.verdict == verdict)
        );
    }
    let _ = writeln!(
        out,
        "# HELP leakcollect_growth_bytes_per_hour Median per-instance memory growth, restart-aware."
    );
    let _ = writeln!(out, "# TYPE leakcollect_growth_bytes_per_hour gauge");
    let periods = [
        ("before", v.evidence.periods.before.as_ref()),
        ("after", v.evidence.periods.after.as_ref()),
    ];
    for (name, period) in periods {
        if let Some(g) = period.and_then(|p| p.growth_bytes_per_hour) {
            let _ = writeln!(
                out,
                "leakcollect_growth_bytes_per_hour{{service=\"{service}\",period=\"{name}\"}} {g}"
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP leakcollect_validation_oom_kills OOM kills in the period."
    );
    let _ = writeln!(out, "# TYPE leakcollect_validation_oom_kills gauge");
    for (name, period) in periods {
        if let Some(n) = period.and_then(|p| p.oom_kills) {
            let _ = writeln!(
                out,
                "leakcollect_validation_oom_kills{{service=\"{service}\",period=\"{name}\"}} {n}"
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP leakcollect_validation_data_after_fix_seconds Data after the fix and warm-up."
    );
    let _ = writeln!(
        out,
        "# TYPE leakcollect_validation_data_after_fix_seconds gauge"
    );
    let _ = writeln!(
        out,
        "leakcollect_validation_data_after_fix_seconds{{service=\"{service}\"}} {}",
        (v.hours_after_fix * 3600.0).round()
    );
    let _ = writeln!(
        out,
        "# HELP leakcollect_validation_last_run_timestamp_seconds When validate last ran."
    );
    let _ = writeln!(
        out,
        "# TYPE leakcollect_validation_last_run_timestamp_seconds gauge"
    );
    let _ = writeln!(
        out,
        "leakcollect_validation_last_run_timestamp_seconds{{service=\"{service}\"}} {}",
        v.checked_at.timestamp()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
