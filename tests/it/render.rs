//! Snapshot tests of the rendered Markdown for fixed evidence (captured from a real run
//! and frozen in tests/fixtures), plus hostile values from Prometheus.

use leakcollect::evidence::Evidence;
use leakcollect::render::evidence as markdown;

fn fixture(name: &str) -> Evidence {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn report_with_fix() {
    let text = markdown::report(&fixture("evidence-fix.json"), None).unwrap();
    insta::assert_snapshot!(text);
}

#[test]
fn report_without_fix() {
    let mut e = fixture("evidence-fix.json");
    e.fix_deployed = None;
    e.periods.before = None;
    e.periods.after = None;
    e.improvement = None;
    // What analyse() would decide from the window alone.
    e.symptoms = leakcollect::analysis::symptoms::symptoms(&e.periods.window, None, false);
    e.status = None;
    e.alert_thresholds = leakcollect::analysis::thresholds::suggested(&e);
    e.severity = leakcollect::analysis::impact::severity(&e);
    e.tldr = leakcollect::analysis::summary::tldr(&e);
    e.lessons = leakcollect::analysis::lessons::lessons(&e);
    e.queries
        .retain(|q| q.period.as_deref().is_none_or(|p| p == "window"));
    let text = markdown::report(&e, None).unwrap();
    assert!(text.contains("no --fix-deployed given"));
    assert!(
        text.contains("- Memory reduction: [X% or Y MB]"),
        "placeholders stay without a fix"
    );
    assert!(
        text.contains("- Status: [Resolved/Monitoring/In Progress]"),
        "no status without a fix"
    );
    insta::assert_snapshot!(text);
}

/// The fixture's data collected without `--fix-deployed`: its fix is then a rollout after
/// which growth stopped, said first in the Impact and the Warnings, the Duration ending
/// there and the symptoms over the part before it (what analyse() decides).
#[test]
fn report_growth_stopped_without_fix() {
    use leakcollect::analysis::{deployments, symptoms, thresholds};
    let mut e = fixture("evidence-fix.json");
    let leaked = e.periods.before.take().unwrap();
    e.fix_deployed = None;
    e.fix_deployed_source = None;
    e.periods.after = None;
    e.improvement = None;
    e.status = None;
    e.deployments[0].fix = false;
    let window = leakcollect::config::Window {
        from: e.window.from,
        to: e.window.to,
        fix_deployed: None,
        fix_spec: None,
        warmup: std::time::Duration::from_secs(1800),
    };
    let mut stopped = deployments::growth_stopped(&window, &e.deployments).expect("growth stopped");
    stopped.oom_kills_per_week = leaked.oom_kills_per_week;
    e.warnings
        .insert(0, deployments::growth_stopped_warning(&stopped));
    e.symptoms =
        symptoms::symptoms_over(&leaked, None, symptoms::LeakSpan::BeforeRollout(stopped.at));
    e.periods.window.hours_to_limit = None;
    e.growth_stopped = Some(stopped);
    e.alert_thresholds = thresholds::suggested_over(&e, Some(&leaked));
    e.queries
        .retain(|q| q.period.as_deref().is_none_or(|p| p == "window"));
    let text = markdown::report(&e, None).unwrap();
    // The parts the stop changes: the summary, the timeline, the symptoms, the warnings.
    let symptoms = text
        .lines()
        .skip_while(|l| !l.starts_with("### Initial Symptoms"))
        .take_while(|l| !l.starts_with("### Detection Method"));
    let parts: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("- Memory growth:")
                || l.starts_with("- OOM incidents:")
                || l.starts_with("- Duration:")
                || l.contains("| Deployment |")
                || l.starts_with("- growth stopped")
        })
        .chain(symptoms.filter(|l| l.starts_with("- [")))
        .collect();
    insta::assert_snapshot!(parts.join("\n"));
}

#[test]
fn hostile_values_cannot_break_the_document() {
    let text = markdown::report(&fixture("evidence-hostile.json"), None).unwrap();
    assert!(!text.contains("<script>"));
    assert!(!text.contains("<img"));
    assert!(!text.contains("[click](http"));
    // Table rows keep their six cells: the pipe in the instance name is escaped.
    let row = text.lines().find(|l| l.contains("evil")).unwrap();
    assert_eq!(row.matches(" | ").count(), 5, "{row}");
    // The query holding ``` is still inside one code block: the fence grew.
    assert!(text.contains("````promql"), "fence not lengthened");
    let fences = text.lines().filter(|l| l.starts_with("````")).count();
    assert_eq!(fences % 2, 0);
}

#[test]
fn custom_template_and_template_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("t.hbs");
    std::fs::write(
        &good,
        "{{e.service}} grew {{mbh leak.growth_bytes_per_hour}}\n",
    )
    .unwrap();
    let e = fixture("evidence-fix.json");
    let text = markdown::report(&e, Some(&good)).unwrap();
    assert!(text.starts_with("api grew 79."), "{text}");
    let bad = dir.path().join("bad.hbs");
    std::fs::write(&bad, "line one\n{{#if e.service}}\nunclosed\n").unwrap();
    let err = markdown::report(&e, Some(&bad)).unwrap_err().to_string();
    assert!(err.contains("bad.hbs"), "{err}");
}

#[test]
fn oom_kills_far_below_the_limit_are_called_out_not_listed_side_by_side() {
    let at_limit = markdown::report(&fixture("evidence-fix.json"), None).unwrap();
    assert!(at_limit.contains("of the 580.0 MB limit"), "{at_limit}");
    assert!(!at_limit.contains("did not come from this container"));
    let mut e = fixture("evidence-fix.json");
    let before = e.periods.before.as_mut().unwrap();
    before.memory_limit_bytes = Some(1e9);
    before.memory_peak_percent_of_limit = Some(56.8);
    // The decision is the analysis's; the report only words it.
    before.oom_kills_far_below_limit = leakcollect::analysis::oom::kills_far_below_limit(before);
    let text = markdown::report(&e, None).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("- OOM incidents:"))
        .unwrap();
    assert!(
        line.contains("only 56.8% of the 1000.0 MB limit")
            && line.contains("did not come from this container reaching its limit"),
        "{line}"
    );
    assert!(!line.contains("to the limit at this rate"), "{line}");
}
