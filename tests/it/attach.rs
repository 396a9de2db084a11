//! init → attach → a person edits → attach again, against a real Prometheus: only the
//! blocks change; refusals (edited block, non-UTF-8) leave the draft as it was; writes
//! survive a crash and a concurrent run.

use crate::common::*;
use std::path::Path;

fn run(args: &[&str]) -> std::process::Output {
    leakcollect(args)
}

fn attach(server: &PromServer, draft: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "attach",
        draft.to_str().unwrap(),
        "--prometheus-url",
        &server.url,
        "-q",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn outside_blocks(text: &str) -> Vec<String> {
    leakcollect::draft::blocks::parse(text)
        .unwrap()
        .into_iter()
        .filter_map(|s| match s {
            leakcollect::draft::blocks::Segment::Text(t) => Some(t),
            _ => None,
        })
        .collect()
}

fn setup() -> (
    synth::Scenario,
    PromServer,
    tempfile::TempDir,
    std::path::PathBuf,
) {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("api-leak.md");
    let (from, to, fix) = (
        format!("{}", s.from),
        format!("{}", s.to),
        format!("{}", s.fix_at.unwrap()),
    );
    let out = run(&[
        "init",
        draft.to_str().unwrap(),
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        &to,
        "--fix-deployed",
        &fix,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (s, server, dir, draft)
}

#[test]
fn init_attach_edit_attach_changes_only_blocks() {
    let (s, server, dir, draft) = setup();
    let created = std::fs::read_to_string(&draft).unwrap();
    assert!(created.contains(r#"<!-- leakcollect:params {"service":"api""#));

    let out = attach(&server, &draft, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = std::fs::read_to_string(&draft).unwrap();
    assert!(first.contains("- [x] Linear memory growth: "));
    assert!(
        !first.contains("## Evidence (leakcollect)"),
        "every section of a fresh template has its place"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("api-leak.md.bak")).unwrap(),
        created
    );

    // Same evidence: byte-identical.
    assert!(attach(&server, &draft, &[]).status.success());
    assert_eq!(std::fs::read_to_string(&draft).unwrap(), first);
    let check = attach(&server, &draft, &["--check"]);
    assert_eq!(check.status.code(), Some(0));

    // A person writes: fills the Investigator, adds notes between blocks, fills the
    // dashboard inside the shared Monitoring Data block, renames a heading, deletes a
    // section.
    let mut edited = first
        .replace(
            "**Investigator**: [Your Name]",
            "**Investigator**: Sam — on call  ",
        )
        .replace(
            "Dashboard: [Link to Grafana dashboard]",
            "Dashboard: https://grafana.example/d/api-memory",
        )
        .replace(
            "### Initial Symptoms",
            "### Initial symptoms\t(seen by on-call)",
        )
        .replace(
            "<!-- leakcollect:end id=symptoms -->\n",
            "<!-- leakcollect:end id=symptoms -->\nNote: pager fired at 08:10 — ünïcødé ✓\n",
        );
    let related = edited.find("## Related Documentation").unwrap();
    let appendix = edited.find("## Appendix").unwrap();
    edited.replace_range(related..appendix, "");
    std::fs::write(&draft, &edited).unwrap();

    // A narrower window gives other figures: --check says so and changes nothing…
    let to = format!("{}", s.to - 3600.0);
    let check = attach(&server, &draft, &["--check", "--to", &to]);
    assert_eq!(check.status.code(), Some(1));
    let diff = attach(&server, &draft, &["--diff", "--to", &to]);
    assert_eq!(diff.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&diff.stdout).contains("@@"));
    assert_eq!(std::fs::read_to_string(&draft).unwrap(), edited);
    // …and a real run updates only leakcollect's blocks and records the new --to.
    let out = attach(&server, &draft, &["--to", &to]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let second = std::fs::read_to_string(&draft).unwrap();
    assert_ne!(second, edited);
    let (before, after) = (outside_blocks(&edited), outside_blocks(&second));
    assert_eq!(before, after, "text outside blocks changed");
    assert!(second.contains("Dashboard: https://grafana.example/d/api-memory"));
    assert!(second.contains("**Investigator**: Sam — on call  "));
    assert!(second.contains(&format!(r#""to":"{to}""#)));

    // A deleted section that held a block: the block moves under the Evidence heading.
    let mut third = second.clone();
    let lessons = third.find("## Lessons Learned").unwrap();
    let appendix = third.find("## Appendix").unwrap();
    third.replace_range(lessons..appendix, "");
    std::fs::write(&draft, &third).unwrap();
    assert!(attach(&server, &draft, &[]).status.success());
    let fourth = std::fs::read_to_string(&draft).unwrap();
    let heading = fourth
        .find("\n## Evidence (leakcollect)\n")
        .expect("evidence heading");
    assert!(fourth[heading..].contains("<!-- leakcollect:begin id=preventive-alerts"));
    assert!(fourth.starts_with(&third[..third.find("<!-- leakcollect:begin id=params").unwrap()]));
}

#[test]
fn refusals_leave_the_draft_untouched() {
    let (_s, server, dir, draft) = setup();
    assert!(attach(&server, &draft, &[]).status.success());
    let good = std::fs::read_to_string(&draft).unwrap();

    // Edited inside a block: exit 5, the diff shown, nothing written.
    let edited = good.replace(
        "- [x] Linear memory growth: ",
        "- [x] Linear memory growth: my words; ",
    );
    std::fs::write(&draft, &edited).unwrap();
    let out = attach(&server, &draft, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("symptoms block was edited by hand")
            && stderr.contains("-- [x] Linear memory growth: my words; "),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&draft).unwrap(), edited);
    // --force overwrites it.
    assert!(attach(&server, &draft, &["--force"]).status.success());
    assert_eq!(std::fs::read_to_string(&draft).unwrap(), good);

    // Not UTF-8: exit 5, untouched.
    let latin1 = dir.path().join("latin1.md");
    let bytes = b"# Rapport\n\xe9t\xe9\n".to_vec();
    std::fs::write(&latin1, &bytes).unwrap();
    let out = run(&[
        "attach",
        latin1.to_str().unwrap(),
        "--prometheus-url",
        &server.url,
        "--service",
        "api",
        "--from",
        "now-1h",
    ]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not UTF-8"));
    assert_eq!(std::fs::read(&latin1).unwrap(), bytes);

    // Server down: exit 4, untouched.
    let out = run(&[
        "attach",
        draft.to_str().unwrap(),
        "--prometheus-url",
        "http://127.0.0.1:9",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(std::fs::read_to_string(&draft).unwrap(), good);

    // Killed between writing the new version and renaming it: the draft is intact.
    let before = std::fs::read(&draft).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leakcollect"))
        .args([
            "attach",
            draft.to_str().unwrap(),
            "--prometheus-url",
            &server.url,
            "-q",
            "--no-backup",
            "--force",
            "--to",
            "now-5h",
        ])
        .env("LEAKCOLLECT_FAULT_BEFORE_RENAME", "1")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the fault hook should have killed it"
    );
    assert_eq!(std::fs::read(&draft).unwrap(), before);
}

#[test]
fn bom_crlf_and_a_draft_without_init() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("windows.md");
    let template = std::fs::read_to_string(repo_path("templates/team-report-template.md")).unwrap();
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend(
        template
            .replace('\n', "\r\n")
            .replace(
                "**Severity**: [Critical/High/Medium/Low]",
                "**Severity**: High   ",
            )
            .into_bytes(),
    );
    std::fs::write(&draft, &bytes).unwrap();
    let (from, to) = (format!("{}", s.from), format!("{}", s.to));
    let out = run(&[
        "attach",
        draft.to_str().unwrap(),
        "--prometheus-url",
        &server.url,
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        &to,
        "-q",
        "--no-backup",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read(&draft).unwrap();
    assert!(written.starts_with(b"\xef\xbb\xbf"), "BOM kept");
    let text = String::from_utf8(written[3..].to_vec()).unwrap();
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "every line still CRLF"
    );
    assert!(text.contains("**Severity**: High   \r\n"));
    assert!(!dir.path().join("windows.md.bak").exists());
    // Recorded parameters make the next run need only the file.
    let out = run(&[
        "attach",
        draft.to_str().unwrap(),
        "--prometheus-url",
        &server.url,
        "--check",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn concurrent_attaches_serialize() {
    let (_s, server, _dir, draft) = setup();
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_leakcollect"))
            .args([
                "attach",
                draft.to_str().unwrap(),
                "--prometheus-url",
                &server.url,
                "-q",
            ])
            .spawn()
            .unwrap()
    };
    let children: Vec<_> = (0..4).map(|_| spawn()).collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let text = std::fs::read_to_string(&draft).unwrap();
    let segments = leakcollect::draft::blocks::parse(&text).expect("one consistent file");
    let blocks = segments
        .iter()
        .filter(|s| matches!(s, leakcollect::draft::blocks::Segment::Block(_)))
        .count();
    // Every block attach writes (all but validate's own, the Grafana link, which needs
    // --grafana-url, the dashboard item, which needs --grafana-dashboard-uid, the
    // Investigator, which needs --investigator, a second "went well" lesson (one here),
    // the Root cause, which needs heap evidence, Similar Incidents, which needs another
    // draft in the folder, and Reproduction Steps' step, which needs a route that
    // retains memory — this service's one route has constant traffic; the fix's pods are all
    // replaced at once, which is found as the deployment at the fix, so Environment and
    // Rollout Strategy are written), and params and Tools Used (Prometheus metrics
    // ticked, no heap files), exactly once.
    use leakcollect::render::blocks::{Writer, written_by};
    assert_eq!(blocks, written_by(Writer::Evidence).count() - 7 + 1 + 1);
    // And it is what a single run produces: a further run changes nothing.
    assert_eq!(attach(&server, &draft, &["--check"]).status.code(), Some(0));
}

#[test]
fn init_attach_validate_check_with_a_pinned_end_stays_in_step() {
    // The CI workflow: init (into a folder that does not exist yet) → attach →
    // validate --draft → attach --check, with the window's end pinned at init.
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("incidents").join("api-leak.md");
    let path = draft.to_str().unwrap();
    let (from, to, fix) = (
        format!("{}", s.from),
        format!("{}", s.to),
        format!("{}", s.fix_at.unwrap()),
    );
    lc().args([
        "init",
        path,
        "--service",
        "api",
        "--from",
        &from,
        "--to",
        &to,
    ])
    .args(["--fix-deployed", &fix])
    .expect_code(0);
    let text = std::fs::read_to_string(&draft).unwrap();
    assert!(
        text.contains("**Service**: [Service Name]"),
        "init leaves the header"
    );
    lc().args(["attach", path, "-q"])
        .server(&server.url)
        .expect_code(0);
    let attached = std::fs::read_to_string(&draft).unwrap();
    assert!(
        attached.contains("\n**Service**: api\n"),
        "attach fills Service"
    );
    let date = chrono::DateTime::from_timestamp(s.from as i64, 0).unwrap();
    let date_line = format!("\n**Date**: {}\n", date.format("%Y-%m-%d"));
    assert!(attached.contains(&date_line), "attach fills Date");
    // A look with --dry-run writes nothing; the scheduled run writes its row.
    lc().args([
        "validate",
        "--draft",
        path,
        "--format",
        "json",
        "--dry-run",
        "-q",
    ])
    .server(&server.url)
    .run();
    assert_eq!(std::fs::read_to_string(&draft).unwrap(), attached);
    lc().args(["validate", "--draft", path, "-q"])
        .server(&server.url)
        .run();
    let validated = std::fs::read_to_string(&draft).unwrap();
    assert_ne!(validated, attached, "validate --draft writes its run");
    // One after-fix period for both commands: attach has nothing to change.
    let check = lc()
        .args(["attach", path, "--check"])
        .server(&server.url)
        .run();
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn check_says_which_blocks_moved_and_that_the_end_is_not_pinned() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("api.md");
    let path = draft.to_str().unwrap();
    let from = format!("{}", s.from);
    let early = format!("{}", s.to - 6.0 * 3600.0);
    lc().args(["init", path, "--service", "api", "--from", &from])
        .expect_code(0);
    // Attached at an earlier end, checked at "now": the figures moved.
    lc().args(["attach", path, "--to", &early, "-q"])
        .server(&server.url)
        .expect_code(0);
    let check = lc()
        .args(["attach", path, "--check", "--to", "now"])
        .server(&server.url)
        .expect_code(1);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(stderr.contains("would change ("), "{stderr}");
    assert!(stderr.contains("example-metrics"), "{stderr}");
    assert!(stderr.contains("--to now"), "{stderr}");
    assert!(stderr.contains("pin the end"), "{stderr}");
}
