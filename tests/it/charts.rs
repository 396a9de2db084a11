//! Charts: written next to the report and linked relatively; rendered by headless
//! Chromium (Debian's) to PNG, which must have the chart's size and not be blank, and laid
//! out by it to check every text sits inside the chart, none over another; read back as
//! SVG elements to check what a reader sees: the legend covers no data, time ticks are
//! round, restarts are in the legend, the fitted growth runs along the floor of its
//! lifetimes, the median says what it runs over, GC bars carry their values per kind (or
//! mean and max for a summary runtime). The SVG structure is snapshot; a large fleet draws
//! at most the top instances plus the median.

use crate::common::*;
use std::collections::HashMap;
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

/// Every text of `svg` as Chromium lays it out (its real fonts, rotations applied):
/// (content, left, top, right, bottom) in px. The SVG is inlined into a page whose script
/// writes the boxes into the DOM that `--dump-dom` prints.
fn browser_text_boxes(dir: &Path, svg: &str) -> Vec<(String, f64, f64, f64, f64)> {
    let page = dir.join("boxes.html");
    let script = "const out = [];\
        for (const t of document.querySelectorAll('text')) {\
          const r = t.getBoundingClientRect();\
          out.push([t.textContent.trim(), r.left, r.top, r.right, r.bottom]);\
        }\
        const pre = document.createElement('pre');\
        pre.id = 'boxes';\
        pre.textContent = JSON.stringify(out);\
        document.body.appendChild(pre);";
    std::fs::write(
        &page,
        format!("<!doctype html><html><body style=\"margin:0\">{svg}<script>{script}</script></body></html>"),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(binary("chromium"))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .stderr(Stdio::null())
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    let json = dom
        .split("<pre id=\"boxes\">")
        .nth(1)
        .and_then(|d| d.split("</pre>").next())
        .expect("the page's script ran")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).expect("boxes as JSON")
}

/// With Chromium's own font metrics: every text inside the chart, none over another.
fn assert_texts_fit(name: &str, boxes: &[(String, f64, f64, f64, f64)], width: f64, height: f64) {
    assert!(boxes.len() > 10, "{name}: {boxes:?}");
    for (text, x0, y0, x1, y1) in boxes {
        assert!(
            *x0 >= 0.0 && *y0 >= 0.0 && *x1 <= width && *y1 <= height,
            "{name}: {text:?} at ({x0}, {y0})–({x1}, {y1}) leaves the {width}×{height} chart"
        );
    }
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            let overlap_x = a.3.min(b.3) - a.1.max(b.1);
            let overlap_y = a.4.min(b.4) - a.2.max(b.2);
            assert!(
                overlap_x <= 1.0 || overlap_y <= 1.0,
                "{name}: {:?} and {:?} overlap",
                a.0,
                b.0
            );
        }
    }
}

/// One SVG element as plotters writes it (flat, attributes in double quotes).
#[derive(Debug)]
struct Element {
    tag: String,
    attrs: HashMap<String, String>,
    text: String,
}

impl Element {
    fn num(&self, name: &str) -> f64 {
        self.attrs[name].parse().unwrap()
    }
    fn attr(&self, name: &str) -> &str {
        self.attrs.get(name).map_or("", String::as_str)
    }
    fn points(&self) -> Vec<(f64, f64)> {
        self.attr("points")
            .split_whitespace()
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect()
    }
}

fn elements(svg: &str) -> Vec<Element> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let end = rest.find('>').expect("closed tag");
        let inside = rest[..end].trim_end_matches('/');
        rest = &rest[end + 1..];
        if inside.starts_with(['/', '?', '!']) {
            continue;
        }
        let (tag, mut attr_text) = inside
            .split_once(char::is_whitespace)
            .unwrap_or((inside, ""));
        let mut attrs = HashMap::new();
        while let Some(eq) = attr_text.find("=\"") {
            let len = attr_text[eq + 2..].find('"').expect("closed attribute");
            attrs.insert(
                attr_text[..eq].trim().to_string(),
                attr_text[eq + 2..eq + 2 + len].to_string(),
            );
            attr_text = &attr_text[eq + 3 + len..];
        }
        let text = if tag == "text" {
            let close = rest.find("</text>").expect("closed text");
            rest[..close]
                .trim()
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        } else {
            String::new()
        };
        out.push(Element {
            tag: tag.to_string(),
            attrs,
            text,
        });
    }
    out
}

fn hex(c: plotters::style::RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

fn texts(els: &[Element]) -> Vec<&Element> {
    els.iter().filter(|e| e.tag == "text").collect()
}

fn text_starting<'a>(els: &'a [Element], prefix: &str) -> &'a Element {
    texts(els)
        .into_iter()
        .find(|t| t.text.starts_with(prefix))
        .unwrap_or_else(|| panic!("no text starting {prefix:?}"))
}

/// The frame around the legend: the smallest rectangle holding the median's entry.
fn legend_frame(els: &[Element]) -> (f64, f64, f64, f64) {
    let median = text_starting(els, "median of");
    let (x, y) = (median.num("x"), median.num("y"));
    els.iter()
        .filter(|e| e.tag == "rect")
        .map(|r| {
            let (x0, y0) = (r.num("x"), r.num("y"));
            (x0, y0, x0 + r.num("width"), y0 + r.num("height"))
        })
        .filter(|(x0, y0, x1, y1)| (*x0..=*x1).contains(&x) && (*y0..=*y1).contains(&y))
        .min_by(|a, b| ((a.2 - a.0) * (a.3 - a.1)).total_cmp(&((b.2 - b.0) * (b.3 - b.1))))
        .expect("a frame around the legend")
}

/// The report's collect run on fix-mid-window: the report's text and the two charts.
fn fix_mid_window_report(dir: &Path) -> (String, String, String) {
    runtime_report(dir, "nodejs")
}

fn runtime_report(dir: &Path, runtime: &str) -> (String, String, String) {
    let s = runtime_scenario("fix-mid-window", "api", runtime);
    let server = PromServer::start(&openmetrics(&[&s]));
    let report = dir.join("incident.md");
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
    let memory = std::fs::read_to_string(dir.join("incident-assets/memory.svg")).unwrap();
    let gc = std::fs::read_to_string(dir.join("incident-assets/gc.svg")).unwrap();
    (text, memory, gc)
}

#[test]
fn charts_next_to_the_report_render_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let (text, memory_svg, gc_svg) = fix_mid_window_report(dir.path());
    assert!(
        text.contains("](incident-assets/memory.svg)"),
        "relative link"
    );
    assert!(text.contains("](incident-assets/gc.svg)"));
    assert!(memory_svg.contains("api: V8 heap used per instance"));
    assert!(memory_svg.contains("fix deployed"));

    // Rendered by a real browser: the chart's size, and far from blank.
    let blank = dir.path().join("blank.svg");
    std::fs::write(&blank, r#"<svg xmlns="http://www.w3.org/2000/svg" width="960" height="540"><rect width="960" height="540" fill="white"/></svg>"#).unwrap();
    let blank_png = screenshot(&blank, 960, 540);
    for (name, svg, factor) in [("memory", &memory_svg, 10), ("gc", &gc_svg, 3)] {
        let root = &elements(svg)[0];
        let size = (root.num("width") as u32, root.num("height") as u32);
        assert_eq!(size.0, 960, "{name} as wide as the report's other chart");
        assert!(size.1 >= 540, "{name}: {size:?}");
        let png = screenshot(
            &dir.path().join(format!("incident-assets/{name}.svg")),
            size.0,
            size.1,
        );
        assert_eq!(png_size(&png), size, "{name}");
        let boxes = browser_text_boxes(dir.path(), svg);
        assert_texts_fit(name, &boxes, size.0 as f64, size.1 as f64);
        if name == "memory" {
            // Every legend entry, at its real width, inside the legend's frame.
            let (lx0, ly0, lx1, ly1) = legend_frame(&elements(svg));
            let entries: Vec<_> = boxes
                .iter()
                .filter(|b| b.2 >= ly0 && b.4 <= ly1 + 20.0)
                .collect();
            assert!(entries.len() >= 8, "{entries:?}");
            for (text, x0, y0, x1, y1) in entries {
                assert!(
                    *x0 >= lx0 && *x1 <= lx1 && *y0 >= ly0 && *y1 <= ly1,
                    "legend entry {text:?} outside its frame"
                );
            }
        }
        assert!(
            png.len() > factor * blank_png.len(),
            "{name}: {} vs blank {}",
            png.len(),
            blank_png.len()
        );
    }
}

/// What the trial reader flagged in the memory chart, each checked on the drawn SVG.
#[test]
fn memory_chart_reads_true() {
    let dir = tempfile::tempdir().unwrap();
    let (text, svg, _) = fix_mid_window_report(dir.path());
    let els = elements(&svg);
    let polylines: Vec<&Element> = els.iter().filter(|e| e.tag == "polyline").collect();

    // 1. The legend sits in its own frame that no data line enters.
    let (lx0, ly0, lx1, ly1) = legend_frame(&els);
    let inside = |(x, y): (f64, f64)| x > lx0 && x < lx1 && y > ly0 && y < ly1;
    for line in &polylines {
        let points = line.points();
        if points.iter().all(|p| inside(*p)) {
            continue; // a legend mark
        }
        for pair in points.windows(2) {
            for k in 0..=20 {
                let f = k as f64 / 20.0;
                let p = (
                    pair[0].0 + f * (pair[1].0 - pair[0].0),
                    pair[0].1 + f * (pair[1].1 - pair[0].1),
                );
                assert!(!inside(p), "{p:?} of a drawn line under the legend");
            }
        }
    }

    // 2. Time ticks on round UTC hours, 5 to 10 of them, evenly spaced.
    let hours: Vec<u32> = texts(&els)
        .iter()
        .filter_map(|t| {
            let time = t.text.rsplit(' ').next().unwrap();
            let valid = time.len() == 5 && time.as_bytes()[2] == b':' && t.text.len() <= 11;
            valid.then(|| {
                assert!(time.ends_with(":00"), "tick {:?} not on the hour", t.text);
                time[..2].parse().unwrap()
            })
        })
        .collect();
    assert!((5..=10).contains(&hours.len()), "{hours:?}");
    let step = (hours[1] + 24 - hours[0]) % 24;
    assert!([1, 2, 3, 6, 12].contains(&step), "{hours:?}");
    for pair in hours.windows(2) {
        assert_eq!((pair[1] + 24 - pair[0]) % 24, step, "{hours:?}");
        assert_eq!(pair[0] % step, 0, "{hours:?}");
    }

    // 3. Restarts are in the legend, once, and drawn as short vertical ticks.
    let restart_entries = texts(&els)
        .iter()
        .filter(|t| t.text.starts_with("restart"))
        .count();
    assert_eq!(restart_entries, 1);
    let ticks = polylines
        .iter()
        .filter(|l| {
            let p = l.points();
            p.len() == 2 && p[0].0 == p[1].0 && (p[0].1 - p[1].1).abs() < 40.0 && !inside(p[0])
        })
        .count();
    assert!(ticks >= 3, "{ticks} restart ticks");

    // 4. The fitted growth: per lifetime, on the drawn instance's floor, with the
    // evidence's rate.
    let label = text_starting(&els, "growth fitted per process lifetime");
    let instance = label
        .text
        .split("(drawn for ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let rate = text
        .lines()
        .find_map(|l| l.strip_prefix("- Memory growth: "))
        .and_then(|l| l.split(" per instance").next())
        .expect("the report's growth line");
    assert!(
        label
            .text
            .ends_with(&format!("median rate before the fix: {rate}")),
        "{} vs the report's {rate}",
        label.text
    );
    let entry = els
        .iter()
        .position(|e| e.tag == "text" && e.text == instance)
        .expect("the fitted instance has a legend entry");
    let colour = els[entry - 1].attr("stroke");
    let samples: Vec<(f64, f64)> = polylines
        .iter()
        .filter(|l| l.attr("stroke") == colour && l.points().len() > 2)
        .flat_map(|l| l.points())
        .collect();
    let fit = hex(leakcollect::render::chart::FIT_COLOR);
    let segments: Vec<Vec<(f64, f64)>> = polylines
        .iter()
        .filter(|l| l.attr("stroke") == fit && !inside(l.points()[0]))
        .map(|l| l.points())
        .collect();
    assert!(
        segments.len() >= 2,
        "one segment per lifetime: {segments:?}"
    );
    let fix_x = polylines
        .iter()
        .find(|l| {
            l.attr("stroke-width") == "3" && l.attr("stroke") != fit && !inside(l.points()[0])
        })
        .map(|l| l.points()[0].0)
        .expect("the fix line");
    for segment in &segments {
        let ((x0, y0), (x1, y1)) = (segment[0], segment[1]);
        assert!(x1 <= fix_x + 1.0, "the leak period's fit ends at the fix");
        for k in 1..20 {
            let x = x0 + (x1 - x0) * k as f64 / 20.0;
            let y = y0 + (y1 - y0) * k as f64 / 20.0;
            // SVG y grows downwards: the line must not be above the lowest nearby sample.
            let lowest = samples
                .iter()
                .filter(|s| (s.0 - x).abs() <= 1.5)
                .map(|s| s.1)
                .fold(f64::NEG_INFINITY, f64::max);
            assert!(lowest.is_finite(), "samples near {x}");
            assert!(
                y >= lowest - 6.0,
                "fit at ({x}, {y}) above the samples (lowest {lowest})"
            );
        }
    }

    // 5. The median's count agrees with the report's: it says which instances it runs over.
    let growth_line = text
        .lines()
        .find(|l| l.starts_with("- Memory growth: "))
        .unwrap();
    let leak_count = growth_line
        .split("median of ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .expect("the report's median count");
    let median = text_starting(&els, "median of");
    assert!(
        median
            .text
            .contains(&format!(": {leak_count} before the fix")),
        "{} vs the report's {leak_count}",
        median.text
    );
    assert!(
        median.text.contains("6 series over the window"),
        "{}",
        median.text
    );
}

/// The GC chart: the size of the memory chart, per-kind groups, every bar with its value.
#[test]
fn gc_chart_has_values_per_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (text, _, svg) = fix_mid_window_report(dir.path());
    let els = elements(&svg);
    assert_eq!(els[0].num("width"), 960.0);
    text_starting(&els, "api: GC pause p95 over each period,");
    let periods = text_starting(&els, "before (");
    assert!(
        periods.text.contains(") and after (") && periods.text.ends_with(") the fix (UTC)"),
        "{}",
        periods.text
    );
    // Node's kinds, as the report lists them.
    let gc_line = text
        .lines()
        .find(|l| l.contains("p95") && l.contains("major"))
        .expect("GC line");
    for kind in ["all kinds", "major", "minor"] {
        assert!(
            texts(&els).iter().any(|t| t.text == kind),
            "no {kind} group ({gc_line})"
        );
    }
    let (before, after) = (
        hex(plotters::style::RGBColor(214, 39, 40)),
        hex(plotters::style::RGBColor(44, 160, 44)),
    );
    let (lx0, ly0, lx1, ly1) = {
        let entry = text_starting(&els, "before the fix (");
        let (x, y) = (entry.num("x"), entry.num("y"));
        (x - 40.0, y - 20.0, 960.0, y + 20.0)
    };
    let bars: Vec<&Element> = els
        .iter()
        .filter(|e| e.tag == "rect" && [before.as_str(), after.as_str()].contains(&e.attr("fill")))
        .filter(|r| !(r.num("x") > lx0 && r.num("x") < lx1 && r.num("y") > ly0 && r.num("y") < ly1))
        .collect();
    assert_eq!(bars.len(), 6, "before and after for each of three groups");
    let values: Vec<&Element> = texts(&els)
        .into_iter()
        .filter(|t| t.text.ends_with(" ms"))
        .collect();
    assert_eq!(values.len(), bars.len());
    for bar in &bars {
        let (x0, x1, top) = (bar.num("x"), bar.num("x") + bar.num("width"), bar.num("y"));
        assert!(
            values.iter().any(|v| (x0..=x1).contains(&v.num("x"))
                && v.num("y") <= top + 1.0
                && v.num("y") > top - 30.0),
            "no value label on the bar at {x0}..{x1}"
        );
    }
}

/// A runtime publishing GC summaries (the JVM's Micrometer): the mean and the max,
/// never a made-up p95.
#[test]
fn gc_chart_for_a_summary_runtime_shows_mean_and_max() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, svg) = runtime_report(dir.path(), "jvm");
    let els = elements(&svg);
    text_starting(&els, "api: GC pause mean and max over each period,");
    assert!(!svg.contains("pause p95"), "no p95 from a summary");
    for group in ["mean", "max"] {
        assert!(
            texts(&els).iter().any(|t| t.text == group),
            "no {group} group"
        );
    }
    let values = texts(&els)
        .iter()
        .filter(|t| t.text.ends_with(" ms") || t.text.ends_with(" s"))
        .count();
    assert_eq!(values, 4, "a value on each of the four bars");
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
    assert!(svg.contains("median of all 30 instances at each time"));
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
