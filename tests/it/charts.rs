//! Charts: written next to the report and linked relatively; rendered by headless
//! Chromium (Debian's) to PNG, which must have the chart's size and not be blank; the SVG
//! structure is snapshot; a large fleet draws at most the top instances plus the median.

use crate::common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use synth::Scenario;

/// Renders `svg` in headless Chromium at `width`×`height`; returns the PNG bytes.
fn screenshot(svg: &Path, width: u32, height: u32) -> Vec<u8> {
    let profile = tempfile::tempdir().unwrap();
    let png = profile.path().join("shot.png");
    let status = Command::new(binary("chromium"))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", svg.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run chromium");
    assert!(status.success(), "chromium failed on {}", svg.display());
    std::fs::read(&png).expect("chromium wrote the screenshot")
}

fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    (w, h)
}

/// Element counts, the SVG's structure without times or values.
fn structure(svg: &str) -> String {
    let mut out = String::new();
    for tag in ["<svg", "<polyline", "<rect", "<line", "<path", "<text"] {
        out.push_str(&format!("{tag}: {}\n", svg.matches(tag).count()));
    }
    out
}

#[test]
fn charts_next_to_the_report_render_in_chromium() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("incident.md");
    let (from, to, fix) = (
        format!("{}", s.from),
        format!("{}", s.to),
        format!("{}", s.fix_at.unwrap()),
    );
    let out = leakcollect(&[
        "--prometheus-url",
        &server.url,
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        &to,
        "--fix-deployed",
        &fix,
        "-o",
        report.to_str().unwrap(),
        "-q",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.contains("](incident-assets/memory.svg)"),
        "relative link"
    );
    assert!(text.contains("](incident-assets/gc.svg)"));
    let memory = dir.path().join("incident-assets/memory.svg");
    let gc = dir.path().join("incident-assets/gc.svg");
    let memory_svg = std::fs::read_to_string(&memory).unwrap();
    assert!(memory_svg.contains("api: V8 heap used per instance"));
    assert!(memory_svg.contains("fix deployed"));
    assert!(memory_svg.contains("median of 6 instances"));

    // Rendered by a real browser: the chart's size, and far from blank.
    let blank = dir.path().join("blank.svg");
    std::fs::write(&blank, r#"<svg xmlns="http://www.w3.org/2000/svg" width="960" height="540"><rect width="960" height="540" fill="white"/></svg>"#).unwrap();
    let blank_png = screenshot(&blank, 960, 540);
    let memory_png = screenshot(&memory, 960, 540);
    assert_eq!(png_size(&memory_png), (960, 540));
    assert!(
        memory_png.len() > 10 * blank_png.len(),
        "{} vs blank {}",
        memory_png.len(),
        blank_png.len()
    );
    let gc_png = screenshot(&gc, 480, 330);
    assert_eq!(png_size(&gc_png), (480, 330));
    assert!(gc_png.len() > 2 * blank_png.len());
}

#[test]
fn a_large_fleet_draws_the_top_instances_and_the_median() {
    let s = Scenario {
        instances: 30,
        ..scenario("steady-leak", "fleet")
    };
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("fleet.md");
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
    let out = leakcollect(&[
        "--prometheus-url",
        &server.url,
        "--service",
        "fleet",
        "--from",
        &from,
        "--to",
        &to,
        "-o",
        report.to_str().unwrap(),
        "-q",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(dir.path().join("fleet-assets/memory.svg")).unwrap();
    assert!(svg.contains("median of 30 instances"));
    let legend_instances = svg.lines().filter(|l| l.trim().ends_with(":9091")).count();
    assert_eq!(
        legend_instances,
        leakcollect::render::chart::MAX_INSTANCE_LINES,
        "legend entries"
    );
    assert!(
        !dir.path().join("fleet-assets/gc.svg").exists(),
        "no GC chart without a fix"
    );
}

/// The chart's structure for fixed input (the frozen evidence fixture and series on its
/// window), so the snapshot does not move with the clock.
#[test]
fn chart_structure_snapshot() {
    use leakcollect::acquire::RangeData;
    use leakcollect::acquire::lifetimes::Boundaries;
    use leakcollect::pack::Role;
    use leakcollect::prom::RangeSeries;
    let path = repo_path("tests/fixtures/evidence-fix.json");
    let evidence: leakcollect::evidence::Evidence =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let from = evidence.window.from.timestamp() as f64;
    let mut data = RangeData {
        step: 90.0,
        ..Default::default()
    };
    let mut heap = Vec::new();
    for i in 0..3 {
        let labels = [
            ("job", "api".to_string()),
            ("instance", format!("10.0.0.{i}:9091")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let points = (0..960)
            .map(|k| {
                (
                    from + k as f64 * 90.0,
                    150e6 + 80e6 * ((k % 160) as f64 / 40.0),
                )
            })
            .collect();
        heap.push(RangeSeries { labels, points });
    }
    data.by_role.insert(Role::Heap, heap);
    let boundaries = vec![
        Some(Boundaries {
            times: vec![from + 14_400.0, from + 28_800.0],
            from_process: true,
            counts: Vec::new(),
        });
        3
    ];
    let memory = leakcollect::render::chart::memory(&evidence, &data, &boundaries);
    insta::assert_snapshot!("memory_chart_structure", structure(&memory));
    let gc = leakcollect::render::chart::gc(&evidence).unwrap();
    insta::assert_snapshot!("gc_chart_structure", structure(&gc));
}
