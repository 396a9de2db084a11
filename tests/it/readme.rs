//! The README's claims, run: its draft workflow against the demo's data, and what it says
//! each level figure is, against the JSON the real binary writes.

use crate::common::{HOUR, PromServer, lc, openmetrics, repo_path, scenario, window};
use std::process::Command;
use synth::Scenario;

fn readme() -> String {
    std::fs::read_to_string(repo_path("README.md")).unwrap()
}

/// The first ```sh block after `heading`.
fn sh_block(text: &str, heading: &str) -> String {
    let section = &text[text.find(heading).unwrap_or_else(|| panic!("no {heading}"))..];
    let start = section.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let end = start + section[start..].find("```").expect("its end");
    section[start..end].to_string()
}

/// `./scripts/demo.sh --keep` and then the README's draft workflow, copied as it is, give a
/// filled draft. The test loads what the demo loads (the `fix-mid-window` scenario, 3
/// instances at 60 s, 24 h ending 4 h ago on a whole minute, the fix half way) and gives
/// the commands the environment `.demo/env` gives them.
#[test]
fn the_readme_draft_workflow_fills_a_draft_from_the_demo() {
    let block = sh_block(&readme(), "## The draft workflow");
    let demo = std::fs::read_to_string(repo_path("scripts/demo.sh")).unwrap();
    // The block starts from the demo, and uses only what the demo's env file sets.
    assert!(block.contains("./scripts/demo.sh --keep"), "{block}");
    assert!(block.contains(". .demo/env"), "{block}");
    for var in ["DEMO_FROM", "DEMO_TO", "DEMO_FIX"] {
        assert!(
            block.contains(&format!("\"${var}\"")),
            "{var} not used:\n{block}"
        );
        assert!(
            demo.contains(&format!("export {var}=")),
            "demo.sh does not set {var}"
        );
    }
    assert!(demo.contains("export PROMETHEUS_URL=") && demo.contains(".demo/env"));
    // The demo's window, as demo.sh computes it.
    assert!(demo.contains("to=$(( ($(date +%s) - 4*3600) / 60 * 60 ))"));
    assert!(demo.contains("fix=$(( from + 12*3600 ))"));
    let (from, to) = window();
    let fix = from + 12.0 * HOUR;
    let demo_data = Scenario::preset("fix-mid-window", "api", from, to, 3, 60.0).unwrap();
    let server = PromServer::start(&openmetrics(&[&demo_data]));

    let script: String = block
        .lines()
        .filter(|l| !l.starts_with("./scripts/demo.sh") && !l.starts_with(". .demo/env"))
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_leakcollect"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .args(["-exc", &script])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("PROMETHEUS_URL", &server.url)
        .env("DEMO_FROM", format!("{from}"))
        .env("DEMO_TO", format!("{to}"))
        .env("DEMO_FIX", format!("{fix}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the README's draft workflow failed ({:?}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let draft = std::fs::read_to_string(dir.path().join("incidents/api-leak.md")).unwrap();
    for filled in [
        "leakcollect:begin id=example-metrics",
        "leakcollect:begin id=after-fix",
        "MB/hour",
    ] {
        assert!(
            draft.contains(filled),
            "no {filled:?} in the draft:\n{draft}"
        );
    }
}

/// README's "How the figures are computed" says what each level is; the JSON agrees.
#[test]
fn the_readme_says_the_peak_is_the_highest_sample_not_a_median() {
    let text = readme();
    let row = text
        .lines()
        .find(|l| l.contains("`analysis::levels::level_figures`"))
        .expect("the levels row");
    assert!(
        row.contains("peak") && row.contains("the highest sample of any instance"),
        "{row}"
    );
    assert!(row.contains("sum of the instances' last samples"), "{row}");
    assert!(!row.contains("medians across instances of the samples at those times |"));
    let figures = std::fs::read_to_string(repo_path("docs/figures.md")).unwrap();
    assert!(figures.contains("peak is the highest sample of any instance"));

    let (from, to) = window();
    let server = PromServer::start(&openmetrics(&[&scenario("oom-sawtooth", "api")]));
    let json = lc()
        .server(&server.url)
        .service("api")
        .window(from, to)
        .json();
    let window = &json["periods"]["window"];
    let peaks: Vec<f64> = window["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| i["heap_peak_bytes"].as_f64().expect("an instance peak"))
        .collect();
    let highest = peaks.iter().copied().fold(f64::MIN, f64::max);
    assert_eq!(
        window["heap_peak_bytes"].as_f64(),
        Some(highest),
        "{peaks:?}"
    );
}
