//! Messages for the mistakes a new user makes, against a real Prometheus: each names the
//! part of the request that is wrong and what to do, in at most two lines, with the
//! documented exit code. (Server faults a real Prometheus cannot play are in faults.rs.)

use crate::common::{PromServer, lc, openmetrics, scenario};
use std::process::Output;

/// One Node.js service `api` (label `job`), over `common::window()`.
fn node_api() -> (PromServer, f64, f64) {
    let s = scenario("steady-leak", "api");
    (PromServer::start(&openmetrics(&[&s])), s.from, s.to)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// One message of at most two lines and a few hundred characters.
fn assert_short(text: &str) {
    // Shown with --nocapture, to read the messages as a user sees them.
    println!("{text}");
    assert!(text.trim_end().lines().count() <= 2, "{text}");
    assert!(text.len() < 500, "{} characters: {text}", text.len());
}

#[test]
fn a_label_no_series_has_is_named_with_the_label_that_holds_the_service() {
    let (server, from, to) = node_api();
    for runtime in ["auto", "nodejs"] {
        let out = lc()
            .server(&server.url)
            .service("api")
            .args(["--service-label", "app", "--runtime", runtime])
            .window(from, to)
            .expect_code(3);
        let text = stderr(&out);
        assert!(
            text.contains("no series of these metrics has the label `app` (labels they have: ")
                && text.contains("instance")
                && text.contains("did you mean --service-label job?"),
            "{runtime}: {text}"
        );
        assert!(!text.contains("exist in the window at all"), "{text}");
        assert_short(&text);
    }
}

#[test]
fn a_service_in_the_wrong_case_gets_its_spelling() {
    let (server, from, to) = node_api();
    let out = lc()
        .server(&server.url)
        .service("API")
        .window(from, to)
        .expect_code(3);
    let text = stderr(&out);
    assert!(text.contains(r#"did you mean job="api"?"#), "{text}");
    assert_short(&text);
}

#[test]
fn a_window_without_samples_says_where_the_newest_one_is() {
    let (server, from, to) = node_api();
    // After the data ends (4 h before now), before now.
    let (late_from, late_to) = (to + 3600.0, to + 3.0 * 3600.0);
    for runtime in ["auto", "nodejs"] {
        let out = lc()
            .server(&server.url)
            .service("api")
            .args(["--runtime", runtime])
            .window(late_from, late_to)
            .expect_code(3);
        let text = stderr(&out);
        let newest = chrono::DateTime::from_timestamp(to as i64, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        assert!(
            text.contains(&format!(
                "the newest sample of these metrics is at {newest}, before the window: move --from/--to"
            )),
            "{runtime}: {text}"
        );
        assert_short(&text);
    }
    assert!(from < late_from);
}

#[test]
fn a_runtime_the_service_does_not_export_names_the_one_it_does() {
    let (server, from, to) = node_api();
    let out = lc()
        .server(&server.url)
        .service("api")
        .args(["--runtime", "jvm"])
        .window(from, to)
        .expect_code(3);
    let text = stderr(&out);
    let display = |t: f64| {
        chrono::DateTime::from_timestamp(t as i64, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    assert!(
        text.contains(&format!(
            r#"jvm_memory_used_bytes{{area="heap",job="api"}} matched no series in {} → {}"#,
            display(from),
            display(to)
        )),
        "{text}"
    );
    assert!(
        text.contains("the service exports Node.js (prom-client) metrics")
            && text.contains("use --runtime nodejs (or auto)"),
        "{text}"
    );
    assert_short(&text);
    // A typo in the service as well: no JVM metrics on the server at all.
    let out = lc()
        .server(&server.url)
        .service("apu")
        .args(["--runtime", "jvm"])
        .window(from, to)
        .expect_code(3);
    let text = stderr(&out);
    assert!(
        text.contains(
            "this server has no JVM (Micrometer / client_java) metrics in the window or the 30 days before it: is --runtime jvm right? (--runtime auto detects it)"
        ),
        "{text}"
    );
    assert_short(&text);
}

#[test]
fn https_to_a_plain_http_port_says_to_use_http() {
    let (server, from, to) = node_api();
    let https = server.url.replace("http://", "https://");
    let out = lc()
        .server(&https)
        .service("api")
        .window(from, to)
        .expect_code(2);
    let text = stderr(&out);
    assert_eq!(
        text.trim_end(),
        format!(
            "error: {https} does not speak TLS on that port (its answer was not a TLS handshake): use {}",
            server.url
        )
    );
}

#[test]
fn a_time_without_a_zone_shows_the_corrected_value() {
    let out = lc()
        .server("http://127.0.0.1:9")
        .service("api")
        .args(["--from", "2026-11-30 10:00", "--to", "2026-11-30T12:00:00Z"])
        .expect_code(2);
    assert_eq!(
        stderr(&out).trim_end(),
        r#"error: --from: time "2026-11-30 10:00" has no time zone: add Z for UTC or an offset such as +01:00, e.g. 2026-11-30T10:00:00Z"#
    );
}

#[test]
fn a_lookback_without_a_unit_zero_or_too_large_is_refused_before_any_query() {
    // No server is needed: the flag is checked first (the URL is never reached).
    for (value, says) in [
        ("7", "give a unit"),
        ("0", "give a unit"),
        ("0s", "greater than 0"),
        ("99999999999d", "too large"),
        ("banana", "not a valid duration"),
    ] {
        let out = lc()
            .args(["--prometheus-url", "http://127.0.0.1:9", "--service", "api"])
            .args(["--from", "now-1d", &format!("--lookback={value}")])
            .expect_code(2);
        let text = stderr(&out);
        assert!(
            text.contains("--lookback") && text.contains(says),
            "{value}: {text}"
        );
        assert_short(&text);
    }
}
