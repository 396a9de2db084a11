//! How much of the team template a full workflow fills, on a real Prometheus: `init
//! --fix-deployed auto --investigator`, `attach` with heap snapshots, a `--trace-gc` log,
//! the source folder and a dashboard (`--grafana-url`), `validate --draft`, with an
//! earlier report of the service in the same folder. A placeholder line is a line of the
//! template with one of its own placeholder tokens — a bracketed prompt (`[Service Name]`,
//! not a checkbox's `[ ]` nor a PromQL range such as `[5m]`), a blank `___`, a one-letter
//! figure (`X MB`, `Y hours`, `N/week`) or an unticked box `- [ ]`; it counts as filled
//! when the draft no longer has it word for word (the template's own lines are counted
//! as a multiset: "2. [Step 2]" is there twice).

use crate::common::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether a template line carries one of the template's placeholder tokens.
pub fn is_placeholder(line: &str) -> bool {
    let bytes = line.as_bytes();
    let mut bracketed = false;
    let mut i = 0;
    while let Some(open) = line[i..].find('[') {
        let start = i + open;
        let Some(close) = line[start..].find(']') else {
            break;
        };
        let inner = &line[start + 1..start + close];
        let range = !inner.is_empty()
            && inner
                .trim_end_matches(['s', 'm', 'h', 'd'])
                .chars()
                .all(|c| c.is_ascii_digit());
        let checkbox = inner == " " || inner == "x";
        // A Markdown link's text is not a prompt.
        let link = bytes.get(start + close + 1) == Some(&b'(');
        if !inner.is_empty() && !range && !checkbox && !link {
            bracketed = true;
        }
        i = start + close + 1;
    }
    let letter_figure = line
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| matches!(w, "X" | "Y" | "Z" | "N"));
    bracketed || line.contains("___") || letter_figure || line.trim_start().starts_with("- [ ]")
}

/// (placeholder lines in the template, those left word for word in the draft).
pub fn placeholder_lines(template: &str, draft: &str) -> (usize, Vec<String>) {
    let mut in_draft: HashMap<&str, usize> = HashMap::new();
    for l in draft.lines() {
        *in_draft.entry(l.trim_end_matches('\r')).or_default() += 1;
    }
    let mut total = 0;
    let mut left = Vec::new();
    for l in template.lines().filter(|l| is_placeholder(l)) {
        total += 1;
        if let Some(n) = in_draft.get_mut(l).filter(|n| **n > 0) {
            *n -= 1;
            left.push(l.to_string());
        }
    }
    (total, left)
}

#[test]
fn placeholder_tokens_are_the_templates_own() {
    for (line, expected) in [
        ("**Service**: [Service Name]", true),
        ("- Heap usage baseline: X MB", true),
        ("- [ ] Other: ___", true),
        ("OOM incidents: N/week", true),
        ("- [x] Prometheus metrics", false),
        ("rate(nodejs_heap_used_bytes[1h])", false),
        (
            "- Growth: 79.9 MB/hour (see [the chart](memory.svg))",
            false,
        ),
        ("Memory after 6h: 176.5 MB", false),
    ] {
        assert_eq!(is_placeholder(line), expected, "{line}");
    }
    let template = repo_path("templates/team-report-template.md");
    let template = std::fs::read_to_string(template).unwrap();
    // The team's template as shipped is the shared one, when the shared folder is there.
    if let Ok(shared) = std::fs::read_to_string(repo_path("../shared/report-template.md")) {
        assert_eq!(
            shared, template,
            "templates/team-report-template.md is ../shared's"
        );
    }
    let (total, left) = placeholder_lines(&template, &template);
    assert_eq!(left.len(), total);
    assert_eq!(total, 122, "the team template's placeholder lines");
}

/// Heap snapshots of tests/heap/node/leaky.js, and its `--trace-gc` log.
fn node_snapshots(dir: &Path) -> (Vec<PathBuf>, PathBuf) {
    let node = std::env::var("NODE_BIN").unwrap_or_else(|_| "/usr/bin/node".into());
    let out = Command::new(&node)
        .arg("--trace-gc")
        .arg(repo_path("tests/heap/node/leaky.js"))
        .arg("2000,3000,3000")
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("Node.js at {node} (set NODE_BIN; Debian's nodejs): {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let log = dir.join("trace-gc.log");
    std::fs::write(&log, &printed).unwrap();
    let names: Vec<String> = serde_json::from_str(printed.lines().last().unwrap()).unwrap();
    (names.iter().map(|n| dir.join(n)).collect(), log)
}

fn run_ok(args: &[&str]) {
    let out = leakcollect(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The full workflow fills at least `MIN_FILLED` of the template's placeholder lines.
#[test]
fn a_full_workflow_fills_the_template() {
    const MIN_FILLED: usize = 95;
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let heap_dir = tempfile::tempdir().unwrap();
    let (snapshots, gc_log) = node_snapshots(heap_dir.path());
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
    let earlier = dir.path().join("2026-10-api-leak.md");
    let draft = dir.path().join("2026-12-api-leak.md");
    let d = draft.to_str().unwrap();
    for (path, who) in [(&earlier, "Sam"), (&draft, "Dana Reyes")] {
        run_ok(&[
            "init",
            path.to_str().unwrap(),
            "--service",
            "api",
            "--from",
            &from,
            "--to",
            &to,
            "--fix-deployed",
            "auto",
            "--investigator",
            who,
        ]);
    }
    let dashboard = dir.path().join("api-dashboard.json");
    let source = repo_path("tests/heap/node");
    let grafana = "http://grafana.example:3000";
    let mut args = vec![
        "attach",
        d,
        "--prometheus-url",
        &server.url,
        "-q",
        "--grafana-url",
        grafana,
        "--dashboard",
        dashboard.to_str().unwrap(),
        "--source",
        source.to_str().unwrap(),
        "--gc-log",
        gc_log.to_str().unwrap(),
        "--heap",
    ];
    let names: Vec<&str> = snapshots.iter().map(|p| p.to_str().unwrap()).collect();
    args.extend(&names);
    run_ok(&args);
    let out = leakcollect(&[
        "validate",
        "--draft",
        d,
        "--prometheus-url",
        &server.url,
        "-q",
        "--grafana-url",
        grafana,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let template = std::fs::read_to_string(repo_path("templates/team-report-template.md")).unwrap();
    let text = std::fs::read_to_string(&draft).unwrap();
    let (total, left) = placeholder_lines(&template, &text);
    let filled = total - left.len();
    eprintln!("{filled} of {total} placeholder lines filled");
    assert!(
        filled >= MIN_FILLED,
        "{filled} of {total} placeholder lines filled; left:\n{}",
        left.join("\n")
    );
    // Nothing outside the blocks changed: the lines left are the template's, in order.
    let outside: Vec<String> = leakcollect::draft::blocks::parse(&text)
        .unwrap()
        .into_iter()
        .filter_map(|seg| match seg {
            leakcollect::draft::blocks::Segment::Text(t) => Some(t),
            _ => None,
        })
        .collect();
    let outside = outside.concat();
    let mut template_lines = template.lines();
    for l in outside.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            template_lines.any(|t| t == l),
            "{l:?} is not a line of the template, or out of order"
        );
    }
}
