//! What `-o`, drafts and `--textfile` do to what is already at their path, run as root as
//! the tests are: a symbolic link stays a link (its target is written, charts and `.bak`
//! go beside the target), a FIFO or `/dev/null` is written in place and stays what it
//! was, `-` is standard output, and what cannot be written is refused before any query.
//! Everything happens in temporary folders, except `/dev/null`, the one real device.

use crate::common::*;
use std::os::unix::fs::{FileTypeExt, symlink};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// `collect` for `api` over the scenario's window, run in `cwd`, with `extra` flags.
fn collect_in(cwd: &Path, server: &PromServer, s: &synth::Scenario, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakcollect"))
        .current_dir(cwd)
        .env_remove("PROMETHEUS_URL")
        .args(["--prometheus-url", &server.url, "--service", "api"])
        .args([
            "--from",
            &format!("{}", s.from),
            "--to",
            &format!("{}", s.to),
        ])
        .args(extra)
        .output()
        .expect("run leakcollect")
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

fn is_symlink(path: &Path) -> bool {
    path.symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
}

/// No server is needed for what is refused before any query.
fn no_server(args: &[&str]) -> Output {
    lc().args(["--prometheus-url", "http://127.0.0.1:9", "--retries", "0"])
        .args(["--service", "api", "--from", "now-1h"])
        .args(args)
        .run()
}

#[test]
fn a_symlinked_report_stays_a_link_and_its_charts_go_beside_its_target() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("shared")).unwrap();
    std::fs::write(dir.path().join("shared/report.md"), "stale").unwrap();
    // report.md → link.md → shared/report.md: a chain of two, relative.
    symlink("shared/report.md", dir.path().join("link.md")).unwrap();
    symlink("link.md", dir.path().join("report.md")).unwrap();
    let out = collect_in(dir.path(), &server, &s, &["-o", "report.md", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(is_symlink(&dir.path().join("report.md")));
    assert!(is_symlink(&dir.path().join("link.md")));
    let text = std::fs::read_to_string(dir.path().join("shared/report.md")).unwrap();
    assert!(text.contains("](report-assets/memory.svg)"), "{text}");
    assert!(dir.path().join("shared/report-assets/memory.svg").is_file());
    assert_eq!(names_in(dir.path()), ["link.md", "report.md", "shared"]);
    assert_eq!(
        names_in(&dir.path().join("shared")),
        ["report-assets", "report.md"]
    );
}

#[test]
fn dev_null_and_a_fifo_are_written_in_place_and_charts_are_left_out() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let assets_before = Path::new("/dev/null-assets").exists();
    let out = collect_in(dir.path(), &server, &s, &["-o", "/dev/null"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let null = Path::new("/dev/null").symlink_metadata().unwrap();
    assert!(null.file_type().is_char_device(), "/dev/null was replaced");
    assert!(assets_before || !Path::new("/dev/null-assets").exists());
    assert!(
        stderr(&out).contains("note: no charts: /dev/null is a character device")
            && stderr(&out).contains("--assets DIR"),
        "{}",
        stderr(&out)
    );

    let fifo = dir.path().join("report.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(&fifo).unwrap())
    };
    let out = collect_in(dir.path(), &server, &s, &["-o", "report.fifo", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = reader.join().unwrap();
    assert!(text.contains("api"), "{text}");
    assert!(
        !text.contains("memory.svg"),
        "links a chart never written: {text}"
    );
    assert!(fifo.symlink_metadata().unwrap().file_type().is_fifo());
    assert_eq!(names_in(dir.path()), ["report.fifo"]);
}

#[test]
fn dash_is_standard_output_and_assets_puts_the_charts_where_asked() {
    let s = scenario("steady-leak", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    let out = collect_in(dir.path(), &server, &s, &["-o", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("api"), "{text}");
    assert!(!text.contains("memory.svg"), "{text}");
    assert!(
        names_in(dir.path()).is_empty(),
        "{:?}",
        names_in(dir.path())
    );
    let note = stderr(&out);
    assert_eq!(note.matches("note: no charts").count(), 1, "{note}");
    assert!(
        note.contains("standard output; give --assets DIR"),
        "{note}"
    );

    let out = collect_in(
        dir.path(),
        &server,
        &s,
        &["-o", "-", "--assets", "charts", "-q"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("](charts/memory.svg)"));
    assert!(dir.path().join("charts/memory.svg").is_file());

    // With a file -o, the link is relative to the report's folder.
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let out = collect_in(
        dir.path(),
        &server,
        &s,
        &["-o", "sub/r.md", "--assets", "charts", "-q"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("sub/r.md")).unwrap();
    assert!(text.contains("](../charts/memory.svg)"), "{text}");
    assert_eq!(names_in(&dir.path().join("sub")), ["r.md"]);
    assert_eq!(names_in(dir.path()), ["charts", "sub"]);

    // A closed pipe behind `-o -` stays a quiet 0.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_leakcollect"))
        .current_dir(dir.path())
        .env_remove("PROMETHEUS_URL")
        .args(["--prometheus-url", &server.url, "--service", "api"])
        .args([
            "--from",
            &format!("{}", s.from),
            "--to",
            &format!("{}", s.to),
        ])
        .args(["-o", "-", "-q"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

#[test]
fn what_cannot_be_written_is_refused_before_any_query() {
    let dir = tempfile::tempdir().unwrap();
    let afile = dir.path().join("afile");
    std::fs::write(&afile, "keep").unwrap();
    let out = no_server(&["-o", afile.join("r.md").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains(&format!("{} is a file, not a folder", afile.display())),
        "{text}"
    );
    assert!(!text.contains("does not exist"), "{text}");

    let socket = dir.path().join("report.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let out = no_server(&["-o", socket.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("is a socket, which cannot be opened for writing"));
    // A --textfile too, before validate queries anything.
    let out = lc()
        .args(["validate", "--service", "api", "--fix-deployed", "now-1h"])
        .args(["--prometheus-url", "http://127.0.0.1:9", "--retries", "0"])
        .args(["--textfile", socket.to_str().unwrap()])
        .run();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("is a socket"), "{}", stderr(&out));
    assert!(socket.symlink_metadata().unwrap().file_type().is_socket());

    let disk = dir.path().join("disk");
    let made = Command::new("mknod")
        .arg(&disk)
        .args(["b", "7", "250"])
        .status();
    assert!(
        made.unwrap().success(),
        "mknod needs root, as the tests run"
    );
    let out = no_server(&["-o", disk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("block device"), "{}", stderr(&out));
    assert!(
        disk.symlink_metadata()
            .unwrap()
            .file_type()
            .is_block_device()
    );

    let out = no_server(&["-o", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("it is a folder; give a file name"));

    let out = no_server(&["--assets", afile.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("it is a file, not a folder"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&afile).unwrap(), "keep");
}

#[test]
fn attach_or_validate_on_a_missing_draft_says_to_run_init() {
    let dir = tempfile::tempdir().unwrap();
    for draft in [dir.path().join("api.md"), dir.path().join("gone/api.md")] {
        let draft = draft.to_str().unwrap();
        for args in [vec!["attach", draft], vec!["validate", "--draft", draft]] {
            let out = lc()
                .args(&args)
                .args(["--prometheus-url", "http://127.0.0.1:9"])
                .expect_code(2);
            let text = stderr(&out);
            assert!(
                text.contains(&format!(
                    "{draft} does not exist: create the draft first with `leakcollect init {draft} --service NAME --from TIME`"
                )),
                "{text}"
            );
            assert_eq!(text.trim_end().lines().count(), 1, "{text}");
        }
    }
    assert!(names_in(dir.path()).is_empty());
}

#[test]
fn a_symlinked_draft_stays_a_link_with_its_backup_and_charts_beside_its_target() {
    let s = scenario("fix-mid-window", "api");
    let server = PromServer::start(&openmetrics(&[&s]));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("shared")).unwrap();
    // A dangling link: init creates its target.
    let link = dir.path().join("api.md");
    symlink(dir.path().join("shared/api-leak.md"), &link).unwrap();
    let (from, to, fix) = (
        format!("{}", s.from),
        format!("{}", s.to),
        format!("{}", s.fix_at.unwrap()),
    );
    let link_arg = link.to_str().unwrap();
    lc().args(["init", link_arg, "--service", "api", "--from", &from])
        .args(["--to", &to, "--fix-deployed", &fix])
        .expect_code(0);
    assert!(is_symlink(&link));
    let target = dir.path().join("shared/api-leak.md");
    let created = std::fs::read_to_string(&target).unwrap();
    lc().args(["attach", link_arg, "--prometheus-url", &server.url, "-q"])
        .expect_code(0);
    assert!(is_symlink(&link));
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.contains("](api-leak-assets/memory.svg)"), "{text}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("shared/api-leak.md.bak")).unwrap(),
        created
    );
    assert_eq!(names_in(dir.path()), ["api.md", "shared"]);
    assert_eq!(
        names_in(&dir.path().join("shared")),
        ["api-leak-assets", "api-leak.md", "api-leak.md.bak"]
    );

    // validate --draft through the link, with a textfile that is a link too.
    std::fs::write(dir.path().join("shared/api.prom"), "").unwrap();
    let prom = dir.path().join("api.prom");
    symlink("shared/api.prom", &prom).unwrap();
    lc().args([
        "validate",
        "--draft",
        link_arg,
        "--prometheus-url",
        &server.url,
        "-q",
    ])
    .args(["--textfile", prom.to_str().unwrap()])
    .expect_code(0);
    assert!(is_symlink(&link) && is_symlink(&prom));
    let metrics = std::fs::read_to_string(dir.path().join("shared/api.prom")).unwrap();
    assert!(
        metrics.contains("leakcollect_validation_verdict{"),
        "{metrics}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("shared/api-leak.md.bak")).unwrap(),
        text
    );
    assert_eq!(names_in(dir.path()), ["api.md", "api.prom", "shared"]);

    // A textfile on /dev/null is written in place; it stays the device.
    lc().args([
        "validate",
        "--draft",
        link_arg,
        "--prometheus-url",
        &server.url,
        "-q",
    ])
    .args(["--textfile", "/dev/null", "--no-backup"])
    .expect_code(0);
    let null = Path::new("/dev/null").symlink_metadata().unwrap();
    assert!(null.file_type().is_char_device());
}

#[test]
fn a_draft_must_be_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("api.md");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for draft in [fifo.to_str().unwrap(), "/dev/null"] {
        for args in [
            vec![
                "init",
                draft,
                "--service",
                "api",
                "--from",
                "now-1h",
                "--force",
            ],
            vec!["attach", draft, "--prometheus-url", "http://127.0.0.1:9"],
        ] {
            let out = lc().args(&args).expect_code(5);
            let text = stderr(&out);
            assert!(
                text.contains(&format!("{draft} is a"))
                    && text.contains("a draft must be a regular file"),
                "{text}"
            );
        }
    }
    assert!(fifo.symlink_metadata().unwrap().file_type().is_fifo());
    let null = Path::new("/dev/null").symlink_metadata().unwrap();
    assert!(null.file_type().is_char_device());
}

#[test]
fn rules_dash_is_standard_output_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_leakcollect"))
        .current_dir(dir.path())
        .env_remove("PROMETHEUS_URL")
        .args(["rules", "--service", "api", "--runtime", "jvm", "-o", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("groups:"));
    assert!(
        names_in(dir.path()).is_empty(),
        "{:?}",
        names_in(dir.path())
    );
}
