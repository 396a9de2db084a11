//! The help the real binary prints (`-h`, `--help`): what collect requires, which
//! environment variable is read (never its value), each subcommand's own words for the
//! flags it shares, examples, and the exit code of an interrupted run.

use crate::common::{lc, repo_path};
use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn help(args: &[&str]) -> String {
    let out = lc().args(args).expect_code(0);
    String::from_utf8(out.stdout).expect("UTF-8 help")
}

fn usage(text: &str) -> &str {
    text.lines()
        .find(|l| l.starts_with("Usage:"))
        .expect("a usage line")
}

/// The help of one option in `text`: its line and the lines under it, up to the next
/// option or section. `flag` is how the option's line starts, e.g. `--from <TIME>`.
fn flag_help(text: &str, flag: &str) -> String {
    let mut lines = text.lines();
    let first = lines
        .by_ref()
        .find(|l| {
            let t = l.trim_start();
            t == flag || t.starts_with(&format!("{flag} ")) || t.contains(&format!(", {flag}"))
        })
        .unwrap_or_else(|| panic!("{flag} is not in:\n{text}"));
    let at = first.find(flag).expect("the flag") + flag.len();
    let mut help = first[at..].trim().to_string();
    for line in lines {
        let t = line.trim_start();
        if t.starts_with('-') || (!line.is_empty() && !line.starts_with(' ')) {
            break;
        }
        help.push(' ');
        help.push_str(t);
    }
    help.trim().to_string()
}

const COLLECT_HELPS: [&[&str]; 4] = [
    &["-h"],
    &["--help"],
    &["collect", "-h"],
    &["collect", "--help"],
];

#[test]
fn collect_usage_and_options_say_service_and_from_are_required() {
    for args in COLLECT_HELPS {
        let text = help(args);
        let usage = usage(&text);
        assert!(
            usage.contains("--service <NAME> --from <TIME> [OPTIONS]"),
            "{args:?}: {usage}"
        );
        for flag in ["--service <NAME>", "--from <TIME>"] {
            let words = flag_help(&text, flag);
            assert!(words.contains("(required)"), "{args:?} {flag}: {words}");
        }
    }
    // init needs them too; validate and rules say what they need instead.
    let init = help(&["init", "-h"]);
    assert!(
        usage(&init).contains("init <DRAFT> --service <NAME> --from <TIME>"),
        "{}",
        usage(&init)
    );
    let validate = help(&["validate", "--help"]);
    assert!(
        usage(&validate).contains("--draft <FILE> | --service <NAME> --fix-deployed"),
        "{}",
        usage(&validate)
    );
    let rules = help(&["rules", "-h"]);
    assert!(
        usage(&rules).contains("rules --service <NAME> (--from <TIME> | --runtime <RUNTIME>)"),
        "{}",
        usage(&rules)
    );

    // Still checked by leakcollect, with its own message rather than clap's.
    let out = lc().args(["--from", "now-1h"]).expect_code(2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--service is required (the value of the \"job\" label"),
        "{stderr}"
    );
    let out = lc().args(["collect", "--service", "api"]).expect_code(2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--from is required (e.g. --from now-24h"),
        "{stderr}"
    );
    // …and the subcommands that do not take them still parse without them.
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("d.md");
    lc().args([
        "init",
        draft.to_str().unwrap(),
        "--service",
        "api",
        "--from",
        "now-1h",
    ])
    .expect_code(0);
    lc().args(["queries", "list"]).expect_code(0);
}

#[test]
fn prometheus_url_names_its_variable_and_never_shows_its_value() {
    let secret = "http://admin:hunter2-secret@prometheus.internal:9090";
    let pages: [&[&str]; 8] = [
        &["--help"],
        &["collect", "-h"],
        &["attach", "--help"],
        &["validate", "-h"],
        &["rules", "--help"],
        &["scan", "-h"],
        &["queries", "check", "--help"],
        &["queries", "check", "-h"],
    ];
    for args in pages {
        let unset = help(args);
        assert!(
            unset.contains("[env: PROMETHEUS_URL]"),
            "{args:?}:\n{unset}"
        );
        assert!(!unset.contains("PROMETHEUS_URL="), "{args:?}:\n{unset}");
        let words = flag_help(&unset, "--prometheus-url <URL>");
        assert!(
            words.contains("the PROMETHEUS_URL environment variable is read"),
            "{args:?}: {words}"
        );
        let out = lc().args(args).env("PROMETHEUS_URL", secret).expect_code(0);
        let set = String::from_utf8_lossy(&out.stdout);
        assert!(!set.contains("hunter2"), "{args:?} printed the URL:\n{set}");
        assert!(set.contains("[env: PROMETHEUS_URL]"), "{args:?}");
    }
    let out = lc()
        .args(["--help"])
        .env("LEAKCOLLECT_CONFIG", "/etc/secret-place/leakcollect.toml")
        .expect_code(0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[env: LEAKCOLLECT_CONFIG]"), "{text}");
    assert!(!text.contains("secret-place") && !text.contains("LEAKCOLLECT_CONFIG="));
}

/// The flags `init`, `attach`, `validate` and `rules` share (`DraftParamArgs`).
const WINDOW_FLAGS: [&str; 10] = [
    "--service <NAME>",
    "--service-label <LABEL>",
    "--selector <MATCHERS>",
    "--container <NAME>",
    "--from <TIME>",
    "--to <TIME>",
    "--fix-deployed <TIME|auto>",
    "--runtime <RUNTIME>",
    "--warmup <DURATION>",
    "--lookback <DURATION>",
];

#[test]
fn rules_and_validate_describe_their_own_use_of_the_shared_flags() {
    for long in ["-h", "--help"] {
        // rules reads and writes no draft: no flag may talk of one.
        let rules = help(&["rules", long]);
        for flag in WINDOW_FLAGS {
            let words = flag_help(&rules, flag).to_lowercase();
            for draft_word in ["draft", "attach", "record"] {
                assert!(
                    !words.contains(draft_word),
                    "rules {long} {flag} talks of {draft_word:?}: {words}"
                );
            }
        }
        let from = flag_help(&rules, "--from <TIME>");
        assert!(from.contains("for the thresholds"), "{from}");
        assert!(from.contains("without it no server is asked"), "{from}");
        let fix = flag_help(&rules, "--fix-deployed <TIME|auto>");
        assert!(
            fix.contains("the thresholds are measured before it"),
            "{fix}"
        );
        for flag in ["--warmup <DURATION>", "--lookback <DURATION>"] {
            let words = flag_help(&rules, flag);
            assert!(words.starts_with("No effect on rules"), "{flag}: {words}");
        }

        // validate: a draft only with --draft; its window is the period judged.
        let validate = help(&["validate", long]);
        for flag in WINDOW_FLAGS {
            let words = flag_help(&validate, flag);
            assert!(
                !words.contains("a draft records it as written")
                    && !words.contains("attach --check")
                    && !words.contains("recorded in the draft"),
                "validate {long} {flag} has attach's words: {words}"
            );
        }
        let from = flag_help(&validate, "--from <TIME>");
        assert!(from.contains("before the fix"), "{from}");
        assert!(from.contains("else --before before the fix"), "{from}");
        let fix = flag_help(&validate, "--fix-deployed <TIME|auto>");
        assert!(
            fix.contains("required unless the draft records it"),
            "{fix}"
        );
        assert!(flag_help(&validate, "--service <NAME>").contains("required without --draft"));
        for flag in ["--force", "--no-backup", "--lock-timeout <DURATION>"] {
            let words = flag_help(&validate, flag);
            assert!(words.starts_with("With --draft:"), "{flag}: {words}");
        }
        let quiet = flag_help(&validate, "--quiet");
        assert!(
            quiet.contains("the verdict still goes to stdout"),
            "{quiet}"
        );

        // init and attach keep the draft's words, which are right there.
        for command in ["init", "attach"] {
            let text = help(&[command, long]);
            let from = flag_help(&text, "--from <TIME>");
            assert!(from.contains("recorded as written"), "{command}: {from}");
        }
    }
}

#[test]
fn queries_and_its_subcommands_have_examples_that_run() {
    let pages: [(&[&str], &str); 5] = [
        (&["queries", "--help"], "leakcollect queries list"),
        (&["queries", "-h"], "leakcollect queries check"),
        (&["queries", "list", "--help"], "leakcollect queries list"),
        (&["queries", "check", "--help"], "leakcollect queries check"),
        (
            &["queries", "check", "-h"],
            "leakcollect queries check --prometheus-url",
        ),
    ];
    for (args, example) in pages {
        let text = help(args);
        assert!(text.contains("\nExamples:\n"), "{args:?}:\n{text}");
        assert!(text.contains(example), "{args:?}:\n{text}");
        assert!(text.contains("\nExit codes: "), "{args:?}:\n{text}");
    }
    // The examples that need no server and no folder of one's own run as shown.
    let text = help(&["queries", "--help"]);
    let runnable: Vec<Vec<&str>> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("leakcollect "))
        .map(|l| l.split('#').next().unwrap().split_whitespace().collect())
        .filter(|a: &Vec<&str>| !a.contains(&"--prometheus-url") && !a.contains(&"./packs"))
        .collect();
    assert_eq!(runnable.len(), 2, "{runnable:?}");
    for args in runnable {
        lc().args(&args).expect_code(0);
    }
}

#[test]
fn exit_code_130_is_documented_and_is_what_ctrl_c_gives() {
    let top = help(&["--help"]);
    assert!(top.contains("  130 interrupted (Ctrl-C, SIGINT"), "{top}");
    for args in [
        &["collect", "--help"][..],
        &["init", "--help"],
        &["attach", "--help"],
        &["validate", "--help"],
        &["rules", "--help"],
        &["scan", "--help"],
        &["queries", "--help"],
        &["queries", "check", "--help"],
        &["heap", "--help"],
    ] {
        let text = help(args);
        let codes = &text[text.find("Exit codes").expect("exit codes")..];
        assert!(codes.contains("130 interrupted"), "{args:?}: {codes}");
    }
    for doc in ["README.md", "docs/usage.md"] {
        let text = std::fs::read_to_string(repo_path(doc)).unwrap();
        assert!(text.contains("`130` interrupted"), "{doc} has no 130");
    }

    // What the help says is what happens: Ctrl-C in the middle of a run (here, waiting
    // for a server that never answers) ends it by SIGINT, which a shell shows as 130.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakcollect"))
        .args([
            "--prometheus-url",
            &url,
            "--service",
            "api",
            "--from",
            "now-1h",
        ])
        .env_remove("PROMETHEUS_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let _connection = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                assert!(
                    child.try_wait().unwrap().is_none(),
                    "leakcollect ended before asking the server"
                );
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "no request came"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(2), "{status:?}");
    assert_eq!(128 + 2, leakcollect::exit::INTERRUPTED);
}
