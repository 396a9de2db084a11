//! Rendering the GC log model ([`crate::gclog::model::GcLogReport`]): JSON, the
//! Markdown of `leakcollect gclog`, the team template's GC Logs appendix (one partial,
//! `templates/gclog/appendix.md.hbs`, shared by both) and the Tools Used box the logs
//! tick. `analysis::gclog` decides; this only formats, through `render::registry`.

use crate::gclog::Runtime;
use crate::gclog::model::{FloorBasis, GcLogReport, QuoteRole, ToolBox, Verdict};
use crate::units;
use serde_json::{Value, json};

const PARTIALS: [(&str, &str); 2] = [
    (
        "gclog/appendix",
        include_str!("../../templates/gclog/appendix.md.hbs"),
    ),
    (
        "gclog/report",
        include_str!("../../templates/gclog/report.md.hbs"),
    ),
];

/// The report as JSON (`schema/gclog.schema.json`).
pub fn json(report: &GcLogReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("the GC log report serializes");
    text.push('\n');
    text
}

fn render(name: &str, report: &GcLogReport) -> String {
    let mut hb = crate::render::registry::registry(&PARTIALS);
    for (name, text) in PARTIALS {
        hb.register_template_string(name, text)
            .expect("built-in GC log templates parse");
    }
    hb.render(name, &view(report))
        .expect("built-in GC log templates render")
}

/// `leakcollect gclog`'s Markdown: the Appendix's GC Logs section.
pub fn markdown(report: &GcLogReport) -> String {
    render("gclog/report", report)
}

/// The GC Logs appendix block's content (in place of the template's excerpt fence).
pub fn appendix(report: &GcLogReport) -> String {
    render("gclog/appendix", report)
}

/// The runtime's log, in words.
fn runtime_log(runtime: Runtime) -> &'static str {
    match runtime {
        Runtime::Node => "Node.js `--trace-gc` log",
        Runtime::Jvm => "JVM unified GC log (`-Xlog:gc`)",
        Runtime::Go => "Go `GODEBUG=gctrace=1` log",
    }
}

/// Everything the partial shows: the model, plus its enums in words.
fn view(report: &GcLogReport) -> Value {
    let mut view = serde_json::to_value(report).expect("the GC log report serializes");
    let names: Vec<&str> = report.files.iter().map(|f| f.name.as_str()).collect();
    let interval = report.trend.interval_bytes_per_hour;
    let extra = json!({
        "runtime_log": runtime_log(report.runtime),
        "files_count": report.files.len(),
        "file_names": crate::render::registry::inline_safe(&names.join(", ")),
        "span": units::duration(report.span_seconds),
        "fitted_span": units::duration(report.trend.fitted_seconds),
        "fitted": report.trend.bytes_per_hour.is_some(),
        "interval_low": interval.map(|i| i[0]),
        "interval_high": interval.map(|i| i[1]),
        "floor_points": report.floor.len(),
        "fitted_points": report.trend.fitted_points,
        "floor_basis": match report.floor_basis {
            FloorBasis::NodeMarkCompact => "each Mark-Compact, which collects the old space too",
            FloorBasis::JvmFullAndCycleEnd => "each Pause Full and at the end of each whole-heap concurrent cycle: G1's last mixed pause of a mixed phase, a ZGC cycle (the live bytes its mark found, where -Xlog:gc* prints them), Shenandoah's last cleanup of a cycle",
            FloorBasis::GoLiveHeap => "each collection: the live heap it marked, C in A->B->C MB",
        },
        "rising": report.verdict == Verdict::Rising,
        "flat": report.verdict == Verdict::Flat,
        "too_few": report.verdict == Verdict::TooFewCollections,
        "quotes_three": report.evidence.iter().any(|q| q.role == QuoteRole::Middle),
        "fence": crate::render::registry::fence_for(&report.evidence),
    });
    if let (Value::Object(v), Value::Object(e)) = (&mut view, extra) {
        v.extend(e);
    }
    view
}

/// The Tools Used list with the box the logs tick: "Node.js `--trace-gc` logs", or the
/// "Other:" line (added after what another tool wrote there).
pub fn tick_tools(tools: &str, report: &GcLogReport) -> String {
    tick(tools, report.tool, report.files.len())
}

fn tick(tools: &str, tool: ToolBox, files: usize) -> String {
    let read = format!("read by `leakcollect gclog`: {files} file(s)");
    let other = match tool {
        ToolBox::NodeTraceGc => {
            let line = "- [ ] Node.js `--trace-gc` logs";
            return tools.replacen(
                line,
                &format!("- [x] Node.js `--trace-gc` logs ({read})"),
                1,
            );
        }
        ToolBox::OtherJvmGcLog => "JVM GC log",
        ToolBox::OtherGoGctrace => "Go gctrace",
    };
    let mut out = String::with_capacity(tools.len() + 80);
    for line in tools.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        if body == "- [ ] Other: ___" {
            out.push_str(&format!("- [x] Other: {other} ({read}){ending}"));
        } else if body.starts_with("- [x] Other: ") && !body.contains(other) {
            out.push_str(&format!("{body}; {other} ({read}){ending}"));
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOOLS: &str = "**Tools Used**:\n- [ ] Chrome DevTools heap snapshots\n- [ ] Node.js `--trace-gc` logs\n- [x] Prometheus metrics\n- [ ] Other: ___\n";

    #[test]
    fn each_runtime_ticks_its_box() {
        let node = tick(TOOLS, ToolBox::NodeTraceGc, 2);
        assert!(node.contains(
            "- [x] Node.js `--trace-gc` logs (read by `leakcollect gclog`: 2 file(s))\n"
        ));
        assert!(node.contains("- [ ] Other: ___\n"));
        let jvm = tick(TOOLS, ToolBox::OtherJvmGcLog, 1);
        assert!(jvm.contains("- [ ] Node.js `--trace-gc` logs\n"));
        assert!(jvm.contains("- [x] Other: JVM GC log (read by `leakcollect gclog`: 1 file(s))\n"));
        // After what another tool wrote on the Other line, once.
        let pprof = TOOLS.replace("- [ ] Other: ___", "- [x] Other: pprof heap profiles");
        let go = tick(&pprof, ToolBox::OtherGoGctrace, 1);
        assert!(go.contains("- [x] Other: pprof heap profiles; Go gctrace (read by `leakcollect gclog`: 1 file(s))\n"), "{go}");
        assert_eq!(tick(&go, ToolBox::OtherGoGctrace, 1), go);
    }
}
