//! Charts: written next to the report and linked relatively; rendered by headless
//! Chromium (Debian's) to PNG, which must have the chart's size and not be blank, and laid
//! out by it to check every text sits inside the chart, none over another; read back as
//! SVG elements to check what a reader sees, against the report's own figures on real
//! Prometheus data from synth: the legend covers no data, time ticks are round, the
//! median says what it runs over; the container limit is a labelled line at the limit's
//! height; OOM kills are marked apart from other restarts, as many as the report counts;
//! overlapping instances get a panel each; every drawn instance has its fitted growth,
//! one segment per lifetime the report fits; GC bars carry their values per kind (or mean
//! and max for a summary runtime), short bars stay visible and the chart is as tall as
//! its rows. The SVG structure is snapshot; a large fleet draws at most the top
//! instances plus the median. With `LEAKCOLLECT_KEEP_CHARTS=DIR` the tests copy every
//! chart they draw into DIR, to look at.

use crate::common::*;
use leakcollect::render::chart::{
    AFTER_COLOR, BEFORE_COLOR, FIT_COLOR, LIMIT_COLOR, MIN_BAR_PX, PALETTE,
};
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
    for tag in [
        "<svg",
        "<polyline",
        "<polygon",
        "<rect",
        "<line",
        "<path",
        "<text",
    ] {
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

/// A report's text, its charts and its evidence (the same run's figures, as JSON).
struct Drawn {
    text: String,
    memory: String,
    gc: Option<String>,
    evidence: serde_json::Value,
}

/// Runs collect on `data` for service `api` with `-o DIR/NAME.md`, then with `--format
/// json`, and reads back what it wrote. Copies the charts to `$LEAKCOLLECT_KEEP_CHARTS`
/// when set.
fn draw(dir: &Path, name: &str, data: &[u8], (from, to): (f64, f64), fix: Option<f64>) -> Drawn {
    let server = PromServer::start(data);
    let report = dir.join(format!("{name}.md"));
    let mut run = lc().server(&server.url).service("api").window(from, to);
    if let Some(fix) = fix {
        run = run.arg("--fix-deployed").arg(format!("{fix}"));
    }
    let evidence = run.json();
    run.args(["-o", report.to_str().unwrap(), "-q"])
        .expect_code(0);
    let assets = dir.join(format!("{name}-assets"));
    let read = |chart: &str| std::fs::read_to_string(assets.join(format!("{chart}.svg"))).ok();
    if let Ok(keep) = std::env::var("LEAKCOLLECT_KEEP_CHARTS") {
        std::fs::create_dir_all(&keep).unwrap();
        for chart in ["memory", "gc"] {
            let _ = std::fs::copy(
                assets.join(format!("{chart}.svg")),
                Path::new(&keep).join(format!("{name}-{chart}.svg")),
            );
        }
    }
    Drawn {
        text: std::fs::read_to_string(&report).unwrap(),
        memory: read("memory").expect("the memory chart"),
        gc: read("gc"),
        evidence,
    }
}

fn draw_scenario(dir: &Path, name: &str, s: &Scenario) -> Drawn {
    draw(dir, name, &openmetrics(&[s]), (s.from, s.to), s.fix_at)
}

/// The report's collect run on fix-mid-window: the report's text and the two charts.
fn fix_mid_window_report(dir: &Path) -> (String, String, String) {
    runtime_report(dir, "nodejs")
}

fn runtime_report(dir: &Path, runtime: &str) -> (String, String, String) {
    let s = runtime_scenario("fix-mid-window", "api", runtime);
    let drawn = draw_scenario(dir, &format!("incident-{runtime}"), &s);
    // Every report's chart links are relative to it.
    let prefix = format!("](incident-{runtime}-assets/");
    assert!(
        drawn.text.contains(&format!("{prefix}memory.svg)")),
        "relative link"
    );
    assert!(drawn.text.contains(&format!("{prefix}gc.svg)")));
    (
        drawn.text,
        drawn.memory,
        drawn.gc.expect("a GC chart with a fix"),
    )
}

/// Where the overview plot ends: its time axis's description, "… → … (UTC)".
fn overview_bottom(els: &[Element]) -> f64 {
    texts(els)
        .iter()
        .find(|t| t.text.contains(" → ") && t.text.ends_with("(UTC)"))
        .expect("the overview's time axis")
        .num("y")
}

fn in_legend(els: &[Element], (x, y): (f64, f64)) -> bool {
    let (x0, y0, x1, y1) = legend_frame(els);
    x >= x0 && x <= x1 && y >= y0 && y <= y1
}

/// The drawn instances, by the legend: (name, colour), in legend order.
fn legend_instances(els: &[Element]) -> Vec<(String, String)> {
    let palette: Vec<String> = PALETTE.iter().map(|c| hex(*c)).collect();
    els.windows(2)
        .filter(|w| w[1].tag == "text" && in_legend(els, (w[1].num("x"), w[1].num("y"))))
        .filter(|w| w[0].tag == "polyline" && palette.contains(&w[0].attr("stroke").to_string()))
        .map(|w| (w[1].text.clone(), w[0].attr("stroke").to_string()))
        .collect()
}

/// A box (x0, y0, x1, y1) in SVG pixels.
type Region = (f64, f64, f64, f64);

fn inside(r: Region, (x, y): (f64, f64)) -> bool {
    x >= r.0 && x <= r.2 && y >= r.1 && y <= r.3
}

/// Each instance's panel: from its title (text in its colour starting with its name) to
/// the next title in the same column, or the legend.
fn panels(els: &[Element], instances: &[(String, String)]) -> Vec<Option<Region>> {
    let bottom = overview_bottom(els);
    let legend_top = legend_frame(els).1;
    let titles: Vec<(usize, f64, f64)> = instances
        .iter()
        .enumerate()
        .filter_map(|(k, (name, colour))| {
            let title = texts(els).into_iter().find(|t| {
                t.attr("fill") == colour
                    && t.num("y") > bottom
                    && !in_legend(els, (t.num("x"), t.num("y")))
                    && (t.text == *name || t.text.starts_with(&format!("{name}: ")))
            })?;
            Some((k, title.num("x"), title.num("y")))
        })
        .collect();
    let mut out = vec![None; instances.len()];
    for &(k, x, y) in &titles {
        let left = x < 480.0;
        let next = titles
            .iter()
            .filter(|t| (t.1 < 480.0) == left && t.2 > y)
            .map(|t| t.2)
            .fold(legend_top, f64::min);
        let (x0, x1) = if left { (0.0, 480.0) } else { (480.0, 960.0) };
        out[k] = Some((x0, y - 2.0, x1, next));
    }
    out
}

/// The value → y map of the y axis in `region`, from its number labels (right-aligned).
fn y_axis(els: &[Element], region: Region) -> impl Fn(f64) -> f64 {
    let labels: Vec<(f64, f64)> = texts(els)
        .into_iter()
        .filter(|t| t.attr("text-anchor") == "end" && inside(region, (t.num("x"), t.num("y"))))
        .filter_map(|t| Some((t.text.parse::<f64>().ok()?, t.num("y"))))
        .collect();
    let low = labels
        .iter()
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .copied()
        .unwrap();
    let high = labels
        .iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .copied()
        .unwrap();
    assert!(high.0 > low.0, "two y-axis labels: {labels:?}");
    move |v| low.1 + (v - low.0) * (high.1 - low.1) / (high.0 - low.0)
}

fn polylines_in(els: &[Element], region: Region) -> Vec<&Element> {
    els.iter()
        .filter(|e| e.tag == "polyline" && e.points().iter().all(|p| inside(region, *p)))
        .collect()
}

/// The OOM-kill triangles in `region`: (fill, count, tip).
fn oom_triangles(els: &[Element], region: Region) -> Vec<(String, u64, (f64, f64))> {
    let extra: Vec<(f64, f64, u64)> = texts(els)
        .into_iter()
        .filter_map(|t| {
            Some((
                t.num("x"),
                t.num("y"),
                t.text.strip_prefix('×')?.parse().ok()?,
            ))
        })
        .collect();
    els.iter()
        .filter(|e| e.tag == "polygon")
        .map(|e| (e, e.attr("points").replace(' ', ",")))
        .filter_map(|(e, text)| {
            let n: Vec<f64> = text.split(',').filter_map(|v| v.parse().ok()).collect();
            let tip = (n.get(4).copied()?, n.get(5).copied()?);
            (n.len() == 6 && inside(region, tip)).then(|| {
                let count = extra
                    .iter()
                    .find(|(x, y, _)| (x - tip.0 - 9.0).abs() < 2.0 && (y - tip.1).abs() < 14.0)
                    .map_or(1, |e| e.2);
                (e.attr("fill").to_string(), count, tip)
            })
        })
        .collect()
}

/// Short vertical ticks at the bottom (restarts) in `region`, by colour.
fn restart_ticks(els: &[Element], region: Region) -> Vec<&str> {
    let palette: Vec<String> = PALETTE.iter().map(|c| hex(*c)).collect();
    polylines_in(els, region)
        .into_iter()
        .filter(|l| {
            let p = l.points();
            p.len() == 2 && p[0].0 == p[1].0 && (p[0].1 - p[1].1).abs() < 40.0
        })
        .filter(|l| palette.contains(&l.attr("stroke").to_string()))
        .map(|l| l.attr("stroke"))
        .collect()
}

fn overview(els: &[Element]) -> Region {
    (0.0, 0.0, 960.0, overview_bottom(els))
}

#[test]
fn charts_next_to_the_report_render_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let (_, memory_svg, gc_svg) = fix_mid_window_report(dir.path());
    assert!(memory_svg.contains("api: V8 heap used per instance"));
    assert!(memory_svg.contains("fix deployed"));

    // Rendered by a real browser: the chart's size, and far from blank.
    let blank = dir.path().join("blank.svg");
    std::fs::write(&blank, r#"<svg xmlns="http://www.w3.org/2000/svg" width="960" height="540"><rect width="960" height="540" fill="white"/></svg>"#).unwrap();
    let blank_png = screenshot(&blank, 960, 540);
    for (name, svg, factor) in [("memory", &memory_svg, 10), ("gc", &gc_svg, 2)] {
        let root = &elements(svg)[0];
        let size = (root.num("width") as u32, root.num("height") as u32);
        assert_eq!(size.0, 960, "{name} as wide as the report's other chart");
        assert!(size.1 >= 200, "{name}: {size:?}");
        let png = screenshot(
            &dir.path()
                .join(format!("incident-nodejs-assets/{name}.svg")),
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
    let in_frame = |(x, y): (f64, f64)| x > lx0 && x < lx1 && y > ly0 && y < ly1;
    for line in &polylines {
        let points = line.points();
        if points.iter().all(|p| in_frame(*p)) {
            continue; // a legend mark
        }
        for pair in points.windows(2) {
            for k in 0..=20 {
                let f = k as f64 / 20.0;
                let p = (
                    pair[0].0 + f * (pair[1].0 - pair[0].0),
                    pair[0].1 + f * (pair[1].1 - pair[0].1),
                );
                assert!(!in_frame(p), "{p:?} of a drawn line under the legend");
            }
        }
    }

    // 2. The overview's time ticks on round UTC hours, 5 to 10 of them, evenly spaced.
    let bottom = overview_bottom(&els);
    let hours: Vec<u32> = texts(&els)
        .iter()
        .filter(|t| t.num("y") < bottom)
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

    // 3. The median's count agrees with the report's: it says which instances it runs over.
    let growth_line = text
        .lines()
        .find(|l| l.starts_with("- Memory growth: "))
        .unwrap();
    let leak_count = growth_line
        .split("median of the ")
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

    // 4. The fitted growth's legend quotes the report's rate.
    let rate = growth_line
        .strip_prefix("- Memory growth: ")
        .and_then(|l| l.split(" per instance").next())
        .expect("the report's growth");
    let fit = text_starting(&els, "the report's growth, their median");
    assert!(
        fit.text.contains(&format!("{rate} before the fix")),
        "{} vs the report's {rate}",
        fit.text
    );
}

/// The container limit the report's "% of the limit" uses is a labelled dashed line at
/// its height, inside the plot; without a limit there is none.
#[test]
fn memory_chart_draws_the_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario("oom-sawtooth", "api");
    let drawn = draw_scenario(dir.path(), "oom-sawtooth", &s);
    let limit = drawn.evidence["periods"]["window"]["memory_limit_bytes"]
        .as_f64()
        .expect("synth's kube-state-metrics limit");
    let mb = drawn
        .text
        .split(" MB limit")
        .next()
        .and_then(|t| t.rsplit(' ').next())
        .expect("the report's limit");
    assert_eq!(
        format!("{:.1}", limit / 1e6),
        mb,
        "the report writes the limit"
    );
    let els = elements(&drawn.memory);
    let plot = overview(&els);
    let y_of = y_axis(&els, (0.0, 0.0, 80.0, plot.3));
    let dashes: Vec<Vec<(f64, f64)>> = polylines_in(&els, plot)
        .into_iter()
        .filter(|l| l.attr("stroke") == hex(LIMIT_COLOR))
        .map(|l| l.points())
        .collect();
    assert!(dashes.len() >= 20, "a dashed line: {dashes:?}");
    let expected = y_of(limit / 1e6);
    for dash in &dashes {
        for (_, y) in dash {
            assert!(
                (y - expected).abs() <= 1.5,
                "dash at y {y}, the limit at {expected}"
            );
        }
    }
    let (left, right) = dashes
        .iter()
        .flatten()
        .fold((f64::MAX, f64::MIN), |(l, r), p| (l.min(p.0), r.max(p.0)));
    assert!(right - left > 800.0, "across the plot: {left}..{right}");
    // On the axis: above 0 and below the top of the plot (the axis reaches the limit).
    let title = text_starting(&els, "api: V8 heap used per instance").num("y");
    assert!(
        expected > title + 20.0 && expected < y_of(0.0),
        "{expected}"
    );
    let label = text_starting(&els, "container memory limit ");
    assert_eq!(label.text, format!("container memory limit {mb} MB"));
    assert!(
        (label.num("y") - expected).abs() < 20.0,
        "label next to its line"
    );
    text_starting(
        &els,
        &format!("container memory limit {mb} MB (the report's % of the limit compares RSS"),
    );

    // No kube-state-metrics, no cAdvisor: no limit, so no line and no legend entry.
    let s = Scenario {
        kube: false,
        ..scenario("oom-sawtooth", "api")
    };
    let drawn = draw_scenario(dir.path(), "no-limit", &s);
    assert!(drawn.evidence["periods"]["window"]["memory_limit_bytes"].is_null());
    let els = elements(&drawn.memory);
    assert!(!els.iter().any(|e| e.attr("stroke") == hex(LIMIT_COLOR)));
    assert!(!texts(&els).iter().any(|t| t.text.contains("memory limit")));
}

/// OOM kills are triangles (their own legend entry), as many as the report counts, on
/// the instance killed; restarts that were not kills stay ticks.
#[test]
fn oom_kills_are_marked_apart_from_other_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario("oom-sawtooth", "api");
    // One pod's terminations carry no OOMKilled reason: its restarts are plain restarts.
    let data = String::from_utf8(openmetrics(&[&s])).unwrap();
    let data: String = data
        .lines()
        .filter(|l| {
            !(l.starts_with("kube_pod_container_status_last_terminated_reason")
                && l.contains("pod=\"api-0-0\""))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let drawn = draw(
        dir.path(),
        "oom-restarts",
        data.as_bytes(),
        (s.from, s.to),
        None,
    );
    let window = &drawn.evidence["periods"]["window"];
    let (kills, restarts) = (
        window["oom_kills"].as_u64().unwrap(),
        window["restarts"].as_u64().unwrap(),
    );
    assert_eq!(window["oom_kills_source"], "kube-state-metrics");
    assert!(
        kills > 0 && restarts > kills,
        "{kills} kills of {restarts} restarts"
    );
    let els = elements(&drawn.memory);
    let plot = overview(&els);
    let triangles = oom_triangles(&els, plot);
    let marked: u64 = triangles.iter().map(|t| t.1).sum();
    assert_eq!(marked, kills, "one mark per kill the report counts");
    let ticks = restart_ticks(&els, plot);
    assert_eq!(
        ticks.len() as u64,
        restarts - kills,
        "the other restarts as ticks"
    );
    // The pod without OOM reasons: ticks only, in its colour; the others: kills only.
    let instances = legend_instances(&els);
    let pod0 = &drawn.evidence["periods"]["window"]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["labels"]["pod"] == "api-0-0")
        .expect("pod api-0-0")["instance"];
    let (_, colour) = instances.iter().find(|i| i.0 == *pod0).expect("drawn");
    assert!(ticks.iter().all(|t| t == colour), "{ticks:?} vs {colour}");
    assert!(triangles.iter().all(|t| t.0 != *colour));
    // Each kill sits on its instance's line: a sample of its colour at the tip.
    for (fill, _, tip) in &triangles {
        let near = polylines_in(&els, plot)
            .into_iter()
            .filter(|l| l.attr("stroke") == fill && l.points().len() > 2)
            .flat_map(|l| l.points())
            .any(|p| (p.0 - tip.0).abs() <= 3.0 && (p.1 - tip.1).abs() <= 3.0);
        assert!(near, "a kill at {tip:?} off its {fill} line");
    }
    let legend = text_starting(&els, "OOM kill");
    assert!(
        legend
            .text
            .contains(&format!("({kills} in the window, from kube-state-metrics)")),
        "{}",
        legend.text
    );
    text_starting(&els, "restart, not an OOM kill");
}

/// Eight pods with the same sawtooth: one panel each, on the same axes, named and in the
/// instance's colour, holding that instance's line only (and the grey median).
#[test]
fn overlapping_instances_get_a_panel_each() {
    let dir = tempfile::tempdir().unwrap();
    let s = Scenario {
        instances: 8,
        ..scenario("oom-sawtooth", "api")
    };
    let drawn = draw_scenario(dir.path(), "eight-pods", &s);
    let els = elements(&drawn.memory);
    let instances = legend_instances(&els);
    assert_eq!(
        instances.len(),
        8,
        "a legend entry naming each: {instances:?}"
    );
    let colours: Vec<&String> = instances.iter().map(|i| &i.1).collect();
    let mut distinct = colours.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 8, "a colour each");
    let overview_axis = y_axis(&els, (0.0, 0.0, 80.0, overview_bottom(&els)));
    for ((name, colour), region) in instances.iter().zip(panels(&els, &instances)) {
        let region = region.unwrap_or_else(|| panic!("no panel for {name}"));
        let lines = polylines_in(&els, region);
        let own = lines
            .iter()
            .filter(|l| l.attr("stroke") == colour && l.points().len() > 2)
            .count();
        assert_eq!(own, 1, "{name}'s line in its panel");
        let others = lines
            .iter()
            .filter(|l| l.points().len() > 2 && l.attr("stroke") != colour)
            .filter(|l| colours.iter().any(|c| *c == l.attr("stroke")))
            .count();
        assert_eq!(others, 0, "only {name} in its panel");
        // The same axes: the panel's labels span what the overview's do.
        let y_of = y_axis(&els, region);
        let span = |f: &dyn Fn(f64) -> f64| f(0.0) - f(500.0);
        assert!(span(&y_of) > 0.0 && span(&overview_axis) > 0.0);
        let top_label = texts(&els)
            .into_iter()
            .filter(|t| t.attr("text-anchor") == "end" && inside(region, (t.num("x"), t.num("y"))))
            .filter_map(|t| t.text.parse::<f64>().ok())
            .fold(0.0, f64::max);
        let overview_top = texts(&els)
            .into_iter()
            .filter(|t| {
                t.attr("text-anchor") == "end"
                    && t.num("x") < 80.0
                    && t.num("y") < overview_bottom(&els)
            })
            .filter_map(|t| t.text.parse::<f64>().ok())
            .fold(0.0, f64::max);
        assert!(
            top_label > 0.0 && top_label <= overview_top,
            "{top_label} vs {overview_top}"
        );
    }
}

/// Every drawn instance has its fitted growth: as many segments as the report fitted
/// lifetimes for it (before and after the fix), each along its floor, never above it.
#[test]
fn every_drawn_instance_has_its_fitted_growth() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario("fix-mid-window", "api");
    let drawn = draw_scenario(dir.path(), "fits", &s);
    let els = elements(&drawn.memory);
    let instances = legend_instances(&els);
    assert_eq!(instances.len(), 6, "three pods before the fix, three after");
    let fitted = |name: &str| -> u64 {
        ["before", "after"]
            .iter()
            .filter_map(|p| {
                drawn.evidence["periods"][*p]["instances"]
                    .as_array()?
                    .iter()
                    .find(|i| i["instance"] == name)
                    .and_then(|i| i["lifetimes_fitted"].as_u64())
            })
            .sum()
    };
    for ((name, colour), region) in instances.iter().zip(panels(&els, &instances)) {
        let region = region.unwrap_or_else(|| panic!("no panel for {name}"));
        let lines = polylines_in(&els, region);
        let samples: Vec<(f64, f64)> = lines
            .iter()
            .filter(|l| l.attr("stroke") == colour && l.points().len() > 2)
            .flat_map(|l| l.points())
            .collect();
        let segments: Vec<Vec<(f64, f64)>> = lines
            .iter()
            .filter(|l| l.attr("stroke") == hex(FIT_COLOR))
            .map(|l| l.points())
            .collect();
        let expected = fitted(name);
        assert!(expected >= 1, "{name}: the report fits it");
        assert_eq!(
            segments.len() as u64,
            expected,
            "{name}: one segment per fitted lifetime"
        );
        for segment in &segments {
            let ((x0, y0), (x1, y1)) = (segment[0], segment[1]);
            for k in 1..20 {
                let x = x0 + (x1 - x0) * k as f64 / 20.0;
                let y = y0 + (y1 - y0) * k as f64 / 20.0;
                // SVG y grows downwards: the lowest sample nearby has the largest y.
                let lowest = samples
                    .iter()
                    .filter(|s| (s.0 - x).abs() <= 1.5)
                    .map(|s| s.1)
                    .fold(f64::NEG_INFINITY, f64::max);
                assert!(lowest.is_finite(), "{name}: samples near {x}");
                assert!(
                    y >= lowest - 4.0,
                    "{name}: fit at ({x}, {y}) above the floor {lowest}"
                );
                assert!(
                    y <= lowest + 12.0,
                    "{name}: fit at ({x}, {y}) far under the floor {lowest}"
                );
            }
        }
    }
}

/// Horizontal GC bars of one group after another: its name on its row, each bar with
/// its value beside it, lengths in proportion, and none too short to see.
fn gc_bars(svg: &str) -> Vec<(String, f64, f64, String)> {
    let els = elements(svg);
    let (before, after) = (hex(BEFORE_COLOR), hex(AFTER_COLOR));
    let legend_y = text_starting(&els, "before the fix (").num("y");
    let bars: Vec<&Element> = els
        .iter()
        .filter(|e| e.tag == "rect" && [before.as_str(), after.as_str()].contains(&e.attr("fill")))
        .filter(|r| (r.num("y") - legend_y).abs() > 20.0)
        .collect();
    bars.iter()
        .map(|bar| {
            let (x1, middle) = (
                bar.num("x") + bar.num("width"),
                bar.num("y") + bar.num("height") / 2.0,
            );
            let value = texts(&els)
                .into_iter()
                .find(|t| {
                    (t.num("x") - x1 - 6.0).abs() <= 2.0 && (t.num("y") - middle).abs() <= 2.0
                })
                .unwrap_or_else(|| panic!("no value beside the bar ending at {x1}"));
            let group = texts(&els)
                .into_iter()
                .filter(|t| t.attr("text-anchor") == "end" && t.num("x") < bar.num("x"))
                .min_by(|a, b| {
                    (a.num("y") - middle)
                        .abs()
                        .total_cmp(&(b.num("y") - middle).abs())
                })
                .expect("the group's name")
                .text
                .clone();
            (group, bar.num("width"), middle, value.text.clone())
        })
        .collect()
}

/// The GC chart: per-kind groups, every bar with its value, the minor bars visible, the
/// chart as tall as its rows (a one-group chart is shorter than a three-group one).
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
    // The report's GC lines, before and after the fix.
    let gc_line: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("GC pauses: p95"))
        .collect();
    assert_eq!(gc_line.len(), 2, "before and after");
    let gc_line = gc_line.join(" / ");
    let bars = gc_bars(&svg);
    assert_eq!(bars.len(), 6, "before and after for each of three groups");
    for kind in ["all kinds", "major", "minor"] {
        let group: Vec<_> = bars.iter().filter(|b| b.0 == kind).collect();
        assert_eq!(group.len(), 2, "{kind}: {bars:?} ({gc_line})");
        for (_, width, _, value) in &group {
            assert!(value.ends_with(" ms"), "{value}");
            // The report's value, on the chart.
            let quoted = if kind == "all kinds" {
                format!("p95 {value}")
            } else {
                format!("{kind} {value}")
            };
            assert!(gc_line.contains(&quoted), "{quoted} not in {gc_line}");
            assert!(
                *width >= MIN_BAR_PX,
                "{kind}: a {width} px bar is invisible"
            );
        }
    }
    // Lengths in proportion where above the minimum: major before vs all kinds before.
    let ms = |v: &str| v.trim_end_matches(" ms").parse::<f64>().unwrap();
    let (all, major) = (&bars[0], &bars[2]);
    assert!(
        within(major.1 / all.1, ms(&major.3) / ms(&all.3), 0.03),
        "{bars:?}"
    );
    // Two groups (Go's summary: the mean, and the max its quantile 1 gives): a shorter
    // chart than Node's three, no empty rows.
    let (_, _, go) = runtime_report(dir.path(), "go");
    let go_bars = gc_bars(&go);
    let groups: Vec<&str> = go_bars.iter().map(|b| b.0.as_str()).collect();
    assert_eq!(groups, ["mean", "mean", "max", "max"], "{go_bars:?}");
    let height = |svg: &str| elements(svg)[0].num("height");
    assert!(
        height(&go) < height(&svg),
        "{} vs {}",
        height(&go),
        height(&svg)
    );
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
    let bars = gc_bars(&svg);
    let groups: Vec<&str> = bars.iter().map(|b| b.0.as_str()).collect();
    assert_eq!(
        groups,
        ["mean", "mean", "max", "max"],
        "a value on each of the four bars"
    );
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
    let legend_instances = legend_instances(&elements(&svg)).len();
    assert_eq!(
        legend_instances,
        leakcollect::analysis::charts::MAX_INSTANCE_LINES,
        "legend entries"
    );
    assert!(
        !dir.path().join("fleet-assets/gc.svg").exists(),
        "no GC chart without a fix"
    );
}

/// The charts' structure for a fixed model (three instances on a fixed window, one OOM
/// kill, one other restart, a limit and a fix; GC groups), so the snapshot does not move
/// with the clock.
#[test]
fn chart_structure_snapshot() {
    use leakcollect::evidence::OomSource;
    use leakcollect::evidence::charts::*;
    let from = 1_800_000_000.0;
    let time = |t: f64| chrono::DateTime::from_timestamp(t as i64, 0).unwrap();
    let instances = (0..3)
        .map(|i| {
            let points: Vec<(f64, f64)> = (0..960)
                .map(|k| {
                    (
                        from + k as f64 * 90.0,
                        150e6 + 80e6 * ((k % 160) as f64 / 40.0),
                    )
                })
                .collect();
            InstanceLine {
                name: format!("10.0.0.{i}:9091"),
                restarts: vec![RestartMark {
                    at: from + 14_400.0,
                    count: 1,
                }],
                oom_kills: vec![OomKillMark {
                    at: from + 28_800.0,
                    count: 1,
                    bytes: Some(points[319].1),
                }],
                fits: vec![FitSegment {
                    period: GrowthPeriod::BeforeFix,
                    start: points[0],
                    end: points[150],
                }],
                growth: vec![(GrowthPeriod::BeforeFix, Some(72e6))],
                points,
            }
        })
        .collect();
    let memory = MemoryChart {
        service: "api".into(),
        memory_name: "V8 heap used".into(),
        from: time(from),
        to: time(from + 86_400.0),
        instances,
        series_total: 3,
        median: MedianLine {
            points: (0..960).map(|k| (from + k as f64 * 90.0, 200e6)).collect(),
        },
        growth: vec![PeriodGrowth {
            period: GrowthPeriod::BeforeFix,
            bytes_per_hour: Some(72e6),
            instance_count: 3,
        }],
        limit: Some(LimitLine {
            bytes: 600e6,
            compared: LimitBasis::Rss,
        }),
        fix: Some(time(from + 43_200.0)),
        oom_source: OomSource::KubeStateMetrics,
        other_oom_kills: Vec::new(),
        layout: MemoryLayout::Overlaid,
    };
    insta::assert_snapshot!(
        "memory_chart_structure",
        structure(&leakcollect::render::chart::memory(&memory))
    );
    let gc = GcChart {
        service: "api".into(),
        statistic: GcStatistic::P95,
        groups: vec![
            GcGroup {
                name: "all kinds".into(),
                before: Some(0.5),
                after: Some(0.05),
            },
            GcGroup {
                name: "major".into(),
                before: Some(0.95),
                after: Some(0.09),
            },
            GcGroup {
                name: "minor".into(),
                before: Some(0.0096),
                after: None,
            },
        ],
        before: (time(from), time(from + 43_200.0)),
        after: (time(from + 45_000.0), time(from + 86_400.0)),
    };
    insta::assert_snapshot!(
        "gc_chart_structure",
        structure(&leakcollect::render::chart::gc(&gc))
    );
}
