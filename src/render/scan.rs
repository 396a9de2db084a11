//! `scan`'s table: plain columns for a terminal, or Markdown; JSON is the model as is.

use super::registry::inline_safe;
use crate::evidence::scan::{Flag, Scan};
use crate::units;

fn mbh(v: Option<f64>) -> String {
    v.map_or(units::NA.into(), units::mb_per_hour_number)
}

/// A leaking service's top route: `POST /api/orders: 3.0 KB, 93.0%`; empty otherwise.
fn top_route(row: &crate::evidence::scan::ServiceRow, markdown: bool) -> String {
    let Some(top) = &row.top_route else {
        return String::new();
    };
    let name = if top.method.is_empty() {
        top.route.clone()
    } else {
        format!("{} {}", top.method, top.route)
    };
    let name = if markdown { inline_safe(&name) } else { name };
    format!(
        "{name}: {}, {}",
        top.bytes_per_request.map_or(units::NA.into(), units::kb),
        top.share_of_growth.map_or(units::NA.into(), units::ratio)
    )
}

/// A plain table for terminals, or Markdown.
pub fn table(scan: &Scan, markdown: bool) -> String {
    let mut out = String::new();
    let header = [
        "flag",
        "service",
        "runtime",
        "instances",
        "MB/h per instance",
        "95% interval",
        "MB/h total",
        "restarts",
        "top route (retained per request, share of growth)",
    ];
    let rows: Vec<[String; 9]> = scan
        .services
        .iter()
        .map(|r| {
            [
                if r.flag == Flag::Partial {
                    format!("partial ({} of {})", r.instances_leaking, r.instances)
                } else {
                    r.flag.as_str().to_string()
                },
                if markdown {
                    inline_safe(&r.service)
                } else {
                    r.service.clone()
                },
                r.runtime.clone(),
                r.instances.to_string(),
                mbh(r.growth_bytes_per_hour),
                r.growth_interval_bytes_per_hour
                    .map_or(units::NA.into(), |[lo, hi]| {
                        format!(
                            "{} to {}",
                            units::mb_per_hour_number(lo),
                            units::mb_per_hour_number(hi)
                        )
                    }),
                mbh(r.growth_bytes_per_hour_total),
                r.restarts.to_string(),
                top_route(r, markdown),
            ]
        })
        .collect();
    if markdown {
        out.push_str(&format!(
            "| {} |\n|{}|\n",
            header.join(" | "),
            header.map(|_| "---").join("|")
        ));
        for row in &rows {
            out.push_str(&format!("| {} |\n", row.join(" | ")));
        }
    } else {
        let widths: Vec<usize> = (0..9)
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([header[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<String>| {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
                + "\n"
        };
        out.push_str(&line(header.iter().map(|h| h.to_string()).collect()));
        for row in &rows {
            out.push_str(&line(row.to_vec()));
        }
    }
    for w in &scan.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}
