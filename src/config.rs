//! Second stage of argument handling: CLI structs → a validated configuration. Every
//! check that needs no server happens here, and each error names the flag at fault.

use crate::cli::{CollectArgs, Format, PrometheusArgs};
use crate::pack::{self, Pack, PackError};
use crate::prom::ClientOptions;
use crate::timespec::{self, TimeError};
use chrono::{DateTime, Utc};
use promql_parser::label::Matcher;
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("--service is required (the value of the {label:?} label that names the service)")]
    MissingService { label: String },
    #[error("--from is required (e.g. --from now-24h or --from 2026-11-20T08:00:00Z)")]
    MissingFrom,
    #[error("--fix-deployed: {source}, or `{auto}` to find the rollout in the series")]
    FixTime {
        source: TimeError,
        auto: &'static str,
    },
    #[error("{flag}: {source}")]
    Time {
        flag: &'static str,
        source: TimeError,
    },
    #[error("--from ({from}) must be before --to ({to})")]
    EmptyWindow { from: String, to: String },
    #[error("--fix-deployed ({fix}) must fall inside the window {from} → {to}")]
    FixOutsideWindow {
        fix: String,
        from: String,
        to: String,
    },
    #[error("--selector {text:?}: {detail}")]
    Selector { text: String, detail: String },
    #[error("--service-label {label:?} is not a valid Prometheus label name")]
    BadLabel { label: String },
    #[error("--concurrency must be at least 1")]
    Concurrency,
    #[error("--step must be positive")]
    Step,
    #[error(
        "--step {step} leaves fewer than 10 points in the {window} window: too few for a slope"
    )]
    StepTooLarge { step: String, window: String },
    #[error(
        "rules: give --runtime, or --from (and a server) so the runtime can be detected and the thresholds measured"
    )]
    RulesRuntime,
    #[error("--min-hours must be a number of hours, 0 or more")]
    MinHours,
    #[error("{flag} {path}: {detail}")]
    File {
        flag: &'static str,
        path: String,
        detail: String,
    },
    #[error(
        "--basic-auth-user needs a password: --basic-auth-password-file or LEAKCOLLECT_BASIC_AUTH_PASSWORD"
    )]
    MissingPassword,
    #[error("--header {text:?}: expected 'Name: value'")]
    Header { text: String },
    #[error("--query-param {text:?}: expected NAME=VALUE, e.g. max_source_resolution=5m")]
    QueryParam { text: String },
    #[error(
        "--query-param {name}: leakcollect sets this parameter itself (use --from/--to/--step, --backend or --partial-response)"
    )]
    ReservedParam { name: String },
    #[error(
        "the window (or the fix) is too recent: after moving its end from {to} to {newest}, where the server's data is complete, nothing is left"
    )]
    TooRecent { to: String, newest: String },
    #[error("--timeout must be positive")]
    Timeout,
    #[error("--queries {path}: not a folder")]
    QueriesDir { path: String },
    #[error(transparent)]
    Pack(#[from] PackError),
}

impl ConfigError {
    pub fn code(&self) -> i32 {
        crate::exit::USAGE
    }
}

/// How `--fix-deployed` was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixSpec {
    /// A time (RFC 3339, Unix seconds, `now-…`).
    Time(DateTime<Utc>),
    /// `auto`: the rollout found in the window (`acquire::deployments`), resolved before
    /// the requests are planned, since the periods depend on it.
    Auto,
}

/// The value `--fix-deployed` takes to find the fix from the deployment series.
pub const FIX_AUTO: &str = "auto";

#[derive(Debug, Clone)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The fix time: the one given, or the one `--fix-deployed auto` found (set by
    /// `acquire`); `None` without a fix, or with `auto` before it is resolved.
    pub fix_deployed: Option<DateTime<Utc>>,
    /// `--fix-deployed` as given; `None` without it.
    pub fix_spec: Option<FixSpec>,
    /// Time after the fix left out of the "after" period (rollout, cache warm-up).
    pub warmup: std::time::Duration,
}

impl Window {
    /// Where the "after" period starts: the fix plus the warm-up; `None` without a fix,
    /// or when that is not before the window's end yet.
    pub fn after_start(&self) -> Option<DateTime<Utc>> {
        let fix = self.fix_deployed?;
        let start = fix + chrono::Duration::from_std(self.warmup).ok()?;
        (start < self.to).then_some(start)
    }
}

/// A collect run's configuration, in the three parts different layers read: what to
/// ask ([`QueryConfig`]: acquisition and analysis), how to reach the server
/// ([`ClientOptions`]) and where the result goes ([`OutputConfig`]).
#[derive(Debug, Clone)]
pub struct CollectConfig {
    pub query: QueryConfig,
    pub client: ClientOptions,
    pub output: OutputConfig,
}

/// Where and how the result is written: the renderer's and the terminal's part.
#[derive(Debug, Clone)]
pub struct OutputConfig {
    pub format: Format,
    /// `-o`: a file written atomically instead of stdout.
    pub path: Option<PathBuf>,
    pub template: Option<PathBuf>,
    /// No progress bar and no warnings on stderr.
    pub quiet: bool,
}

/// What acquisition and analysis need: the service, the window, the pack, the step,
/// where links point, and how far before the window to look.
#[derive(Debug, Clone)]
pub struct QueryConfig {
    pub service: String,
    pub service_label: String,
    pub selector: Vec<Matcher>,
    /// Value of the `container` label for kube-state-metrics and cAdvisor series.
    pub container: String,
    pub window: Window,
    /// The pack to use; `None` for `--runtime auto` (detected from the server).
    pub pack: Option<Pack>,
    pub queries_dir: Option<PathBuf>,
    pub step: Option<Duration>,
    pub links: LinkConfig,
    /// Cut the window back to where the data ends (collect, attach, rules); `validate`
    /// keeps it, since data stopping before the end is what it must notice.
    pub end_at_data: bool,
    /// How far before the window's start alerts, deployments and the leak's onset are
    /// looked for (`--lookback`).
    pub lookback: Duration,
    /// Things the report should say about how the arguments were taken (a window end
    /// moved back to where the server's data is complete).
    pub notes: Vec<String>,
}

/// Where report links point.
#[derive(Debug, Clone, Default)]
pub struct LinkConfig {
    /// Prometheus's web UI (graph page).
    pub prometheus_ui: String,
    pub grafana: Option<String>,
    pub grafana_datasource: Option<String>,
    /// The uid of a dashboard `leakcollect dashboard` wrote (`--grafana-dashboard-uid`).
    pub grafana_dashboard_uid: Option<String>,
}

/// `[prometheus]` in leakcollect.toml: the connection settings, so cron lines stay short.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    #[serde(default)]
    prometheus: FilePrometheus,
    #[serde(default)]
    grafana: FileGrafana,
}

/// `[grafana]` in leakcollect.toml: where the report's Grafana links point.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileGrafana {
    url: Option<String>,
    datasource: Option<String>,
    dashboard_uid: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePrometheus {
    url: Option<String>,
    bearer_token_file: Option<PathBuf>,
    basic_auth_user: Option<String>,
    basic_auth_password_file: Option<PathBuf>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    ca_file: Option<PathBuf>,
    client_cert: Option<PathBuf>,
    client_key: Option<PathBuf>,
    #[serde(default)]
    insecure_skip_verify: bool,
    timeout: Option<String>,
    concurrency: Option<usize>,
    retries: Option<u32>,
    deadline: Option<String>,
    backend: Option<crate::prom::Backend>,
    partial_response: Option<crate::prom::PartialResponse>,
    #[serde(default)]
    query_params: std::collections::BTreeMap<String, String>,
    latency_offset: Option<String>,
}

fn read_secret(flag: &'static str, path: &std::path::Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|source| ConfigError::File {
            flag,
            path: path.display().to_string(),
            detail: source.to_string(),
        })
}

fn read_bytes(flag: &'static str, path: &std::path::Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::File {
        flag,
        path: path.display().to_string(),
        detail: source.to_string(),
    })
}

/// `[prometheus]` of `--config`'s file; empty without one.
fn read_config_file(path: Option<&std::path::Path>) -> Result<FilePrometheus, ConfigError> {
    Ok(read_settings(path)?.prometheus)
}

/// The Grafana links' settings: the flags, else `[grafana]` of the config file.
fn link_settings(args: &PrometheusArgs, prometheus_ui: String) -> Result<LinkConfig, ConfigError> {
    let file = read_settings(args.config.as_deref())?.grafana;
    Ok(LinkConfig {
        prometheus_ui,
        grafana: args.grafana_url.clone().or(file.url),
        grafana_datasource: args.grafana_datasource.clone().or(file.datasource),
        grafana_dashboard_uid: args.grafana_dashboard_uid.clone().or(file.dashboard_uid),
    })
}

/// `--config`'s file; empty without one.
fn read_settings(path: Option<&std::path::Path>) -> Result<FileSettings, ConfigError> {
    let Some(path) = path else {
        return Ok(FileSettings::default());
    };
    let fail = |detail: String| ConfigError::File {
        flag: "--config",
        path: path.display().to_string(),
        detail,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    toml::from_str::<FileSettings>(&text).map_err(|e| fail(e.to_string()))
}

/// The client's options from the flags, else the config file's `[prometheus]`, else the
/// defaults (`ClientOptions::default()`, which `--help` states): a flag given always wins,
/// even when it equals the default.
pub fn client_options(args: &PrometheusArgs) -> Result<ClientOptions, ConfigError> {
    let file = read_config_file(args.config.as_deref())?;
    let defaults = ClientOptions::default();
    let concurrency = args
        .concurrency
        .or(file.concurrency)
        .unwrap_or(defaults.concurrency);
    if concurrency == 0 {
        return Err(ConfigError::Concurrency);
    }
    let duration = |flag: &'static str, given: Option<&String>, in_file: Option<&String>| {
        given
            .or(in_file)
            .map(|text| {
                timespec::parse_duration(text).map_err(|source| ConfigError::Time { flag, source })
            })
            .transpose()
    };
    let timeout = duration("--timeout", args.timeout.as_ref(), file.timeout.as_ref())?
        .unwrap_or(defaults.timeout);
    if timeout.is_zero() {
        return Err(ConfigError::Timeout);
    }
    let deadline = duration("--deadline", args.deadline.as_ref(), file.deadline.as_ref())?
        .unwrap_or(defaults.deadline);
    let bearer_token = match args
        .bearer_token_file
        .as_ref()
        .or(file.bearer_token_file.as_ref())
    {
        Some(path) => Some(read_secret("--bearer-token-file", path)?),
        None => None,
    };
    let basic = match args
        .basic_auth_user
        .clone()
        .or(file.basic_auth_user.clone())
    {
        Some(user) => {
            let password = match args
                .basic_auth_password_file
                .as_ref()
                .or(file.basic_auth_password_file.as_ref())
            {
                Some(path) => read_secret("--basic-auth-password-file", path)?,
                None => std::env::var("LEAKCOLLECT_BASIC_AUTH_PASSWORD")
                    .map_err(|_| ConfigError::MissingPassword)?,
            };
            Some((user, password))
        }
        None => None,
    };
    let mut headers: Vec<(String, String)> = file.headers.into_iter().collect();
    for header in &args.headers {
        let (name, value) = header.split_once(':').ok_or_else(|| ConfigError::Header {
            text: header.clone(),
        })?;
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name.trim()));
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let ca_pem = match args.ca_file.as_ref().or(file.ca_file.as_ref()) {
        Some(path) => Some(read_bytes("--ca-file", path)?),
        None => None,
    };
    let identity_pem = match (
        args.client_cert.as_ref().or(file.client_cert.as_ref()),
        args.client_key.as_ref().or(file.client_key.as_ref()),
    ) {
        (Some(cert), Some(key)) => {
            let mut pem = read_bytes("--client-cert", cert)?;
            pem.push(b'\n');
            pem.extend(read_bytes("--client-key", key)?);
            Some(pem)
        }
        _ => None,
    };
    let mut query_params: Vec<(String, String)> = file.query_params.into_iter().collect();
    for param in &args.query_params {
        let (name, value) = param
            .split_once('=')
            .filter(|(name, _)| !name.trim().is_empty())
            .ok_or_else(|| ConfigError::QueryParam {
                text: param.clone(),
            })?;
        let name = name.trim();
        if RESERVED_PARAMS.contains(&name) {
            return Err(ConfigError::ReservedParam {
                name: name.to_string(),
            });
        }
        query_params.retain(|(n, _)| n != name);
        query_params.push((name.to_string(), value.to_string()));
    }
    if let Some((name, _)) = query_params
        .iter()
        .find(|(n, _)| RESERVED_PARAMS.contains(&n.as_str()))
    {
        return Err(ConfigError::ReservedParam { name: name.clone() });
    }
    let backend = args.backend.or(file.backend).unwrap_or_default();
    let latency_offset = match args
        .latency_offset
        .as_ref()
        .or(file.latency_offset.as_ref())
    {
        Some(text) => timespec::parse_duration(text).map_err(|source| ConfigError::Time {
            flag: "--latency-offset",
            source,
        })?,
        None => backend.default_latency_offset(),
    };
    Ok(ClientOptions {
        base_url: args
            .prometheus_url
            .clone()
            .or(file.url)
            .unwrap_or_else(|| "http://localhost:9090".to_string()),
        timeout,
        deadline,
        retries: args.retries.or(file.retries).unwrap_or(defaults.retries),
        concurrency,
        auth: crate::prom::client::Auth {
            bearer_token,
            basic,
            headers,
            ca_pem,
            identity_pem,
            insecure_skip_verify: args.insecure_skip_verify || file.insecure_skip_verify,
        },
        backend,
        partial_response: args
            .partial_response
            .or(file.partial_response)
            .unwrap_or_default(),
        query_params,
        latency_offset,
        ..ClientOptions::default()
    })
}

/// Parameters leakcollect sends itself; a `--query-param` must not fight them.
const RESERVED_PARAMS: [&str; 8] = [
    "query",
    "time",
    "start",
    "end",
    "step",
    "match[]",
    "dedup",
    "partial_response",
];

/// Ends a window no later than the newest complete data: `now` minus the backend's
/// latency offset. A window ending in the future or inside that offset would show a
/// flat tail (VictoriaMetrics repeats older samples there; every server repeats the
/// last sample for five minutes). Returns a note for the report when the end moved.
pub fn hold_back(
    window: &mut Window,
    now: DateTime<Utc>,
    latency_offset: std::time::Duration,
) -> Result<Option<String>, ConfigError> {
    let newest = now - chrono::Duration::from_std(latency_offset).unwrap_or_default();
    if window.to <= newest {
        return Ok(None);
    }
    let asked = window.to;
    window.to = newest;
    if window.from >= window.to || window.fix_deployed.is_some_and(|fix| fix >= window.to) {
        return Err(ConfigError::TooRecent {
            to: timespec::display(asked),
            newest: timespec::display(newest),
        });
    }
    Ok(Some(if latency_offset.is_zero() {
        format!(
            "the window's end {} is in the future; it ends now ({})",
            timespec::display(asked),
            timespec::display(newest)
        )
    } else {
        format!(
            "the window ends at {} instead of {}: the server's newest {} are incomplete (--latency-offset)",
            timespec::display(newest),
            timespec::display(asked),
            timespec::format_duration(latency_offset)
        )
    }))
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub fn parse_window(
    from: Option<&str>,
    to: &str,
    fix: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Window, ConfigError> {
    let time = |flag: &'static str, text: &str| {
        timespec::parse_time(text, now).map_err(|source| ConfigError::Time { flag, source })
    };
    let from = time("--from", from.ok_or(ConfigError::MissingFrom)?)?;
    let to = time("--to", to)?;
    if from >= to {
        return Err(ConfigError::EmptyWindow {
            from: timespec::display(from),
            to: timespec::display(to),
        });
    }
    let fix_spec = match fix.map(str::trim) {
        None => None,
        Some(text) if text.eq_ignore_ascii_case(FIX_AUTO) => Some(FixSpec::Auto),
        Some(text) => Some(FixSpec::Time(timespec::parse_time(text, now).map_err(
            |source| ConfigError::FixTime {
                source,
                auto: FIX_AUTO,
            },
        )?)),
    };
    let fix_deployed = match fix_spec {
        Some(FixSpec::Time(t)) => Some(t),
        _ => None,
    };
    if let Some(fix) = fix_deployed
        && (fix <= from || fix >= to)
    {
        return Err(ConfigError::FixOutsideWindow {
            fix: timespec::display(fix),
            from: timespec::display(from),
            to: timespec::display(to),
        });
    }
    Ok(Window {
        from,
        to,
        fix_deployed,
        fix_spec,
        warmup: std::time::Duration::ZERO,
    })
}

impl CollectConfig {
    pub fn from_args(args: &CollectArgs, now: DateTime<Utc>) -> Result<Self, ConfigError> {
        if !is_label_name(&args.service_label) {
            return Err(ConfigError::BadLabel {
                label: args.service_label.clone(),
            });
        }
        let service = args
            .service
            .clone()
            .ok_or_else(|| ConfigError::MissingService {
                label: args.service_label.clone(),
            })?;
        let mut window = parse_window(
            args.from.as_deref(),
            &args.to,
            args.fix_deployed.as_deref(),
            now,
        )?;
        window.warmup =
            timespec::parse_duration(&args.warmup).map_err(|source| ConfigError::Time {
                flag: "--warmup",
                source,
            })?;
        let lookback = parse_lookback(&args.lookback)?;
        let client = client_options(&args.prometheus)?;
        let notes: Vec<String> = hold_back(&mut window, now, client.latency_offset)?
            .into_iter()
            .collect();
        let selector = match &args.selector {
            Some(text) => pack::parse_selector(text).map_err(|detail| ConfigError::Selector {
                text: text.clone(),
                detail,
            })?,
            None => Vec::new(),
        };
        let window_seconds = (window.to - window.from).num_milliseconds() as f64 / 1000.0;
        let step = parse_step(args.step.as_deref(), window_seconds)?;
        if let Some(dir) = &args.queries
            && !dir.is_dir()
        {
            return Err(ConfigError::QueriesDir {
                path: dir.display().to_string(),
            });
        }
        let pack = if args.runtime == "auto" {
            None
        } else {
            Some(pack::load(&args.runtime, args.queries.as_deref())?)
        };
        let container = args.container.clone().unwrap_or_else(|| service.clone());
        let query = QueryConfig {
            service,
            service_label: args.service_label.clone(),
            container,
            selector,
            window,
            pack,
            queries_dir: args.queries.clone(),
            step,
            links: link_settings(
                &args.prometheus,
                args.prometheus
                    .external_url
                    .clone()
                    .unwrap_or_else(|| client.base_url.clone()),
            )?,
            end_at_data: true,
            lookback,
            notes,
        };
        let output = OutputConfig {
            format: args.format,
            path: args.output.clone(),
            template: args.template.clone(),
            quiet: args.quiet,
        };
        Ok(Self {
            query,
            client,
            output,
        })
    }
}

/// `--lookback`: a duration with its unit (a bare `7` would silently be 7 seconds) and
/// above zero (`0` would look for nothing before the window).
fn parse_lookback(text: &str) -> Result<Duration, ConfigError> {
    let bad = |detail: &str| ConfigError::Time {
        flag: "--lookback",
        source: TimeError::BadDuration {
            input: text.to_string(),
            detail: detail.to_string(),
        },
    };
    if text.trim().parse::<f64>().is_ok() {
        return Err(bad("give a unit, e.g. 7d, 36h or 90m"));
    }
    // promql_parser reports an overflowing number as "must be greater than 0".
    if text.trim().chars().take_while(char::is_ascii_digit).count() > 6 {
        return Err(bad("too large; look back days or weeks, e.g. 30d"));
    }
    let lookback = timespec::parse_duration(text).map_err(|source| ConfigError::Time {
        flag: "--lookback",
        source,
    })?;
    if lookback.is_zero() {
        return Err(bad(
            "must be longer than 0; leave it out for the default, 7d",
        ));
    }
    Ok(lookback)
}

/// `--step`: positive, and leaving at least 10 points in the window.
pub fn parse_step(
    text: Option<&str>,
    window_seconds: f64,
) -> Result<Option<std::time::Duration>, ConfigError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let step = timespec::parse_duration(text).map_err(|source| ConfigError::Time {
        flag: "--step",
        source,
    })?;
    if step.is_zero() {
        return Err(ConfigError::Step);
    }
    if window_seconds / step.as_secs_f64() < 10.0 {
        return Err(ConfigError::StepTooLarge {
            step: timespec::format_duration(step),
            window: timespec::format_duration(std::time::Duration::from_secs_f64(window_seconds)),
        });
    }
    Ok(Some(step))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn window_checks() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap();
        assert!(parse_window(Some("now-1d"), "now", Some("now-6h"), now).is_ok());
        assert!(matches!(
            parse_window(Some("now"), "now-1h", None, now),
            Err(ConfigError::EmptyWindow { .. })
        ));
        assert!(matches!(
            parse_window(Some("now-1d"), "now", Some("now-2d"), now),
            Err(ConfigError::FixOutsideWindow { .. })
        ));
        let auto = parse_window(Some("now-1d"), "now", Some("auto"), now).unwrap();
        assert_eq!(auto.fix_spec, Some(FixSpec::Auto));
        assert_eq!(auto.fix_deployed, None);
        let err = parse_window(Some("tomorrow"), "now", None, now).unwrap_err();
        assert!(err.to_string().starts_with("--from: invalid time"), "{err}");
        assert!(matches!(
            parse_window(None, "now", None, now),
            Err(ConfigError::MissingFrom)
        ));
    }

    #[test]
    fn window_ends_are_held_back_to_complete_data() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let thirty = std::time::Duration::from_secs(30);
        let mut w = parse_window(Some("now-6h"), "now-1h", None, now).unwrap();
        assert_eq!(hold_back(&mut w, now, thirty).unwrap(), None);
        let mut w = parse_window(Some("now-6h"), "now", None, now).unwrap();
        let note = hold_back(&mut w, now, thirty).unwrap().unwrap();
        assert_eq!(w.to, now - chrono::Duration::seconds(30));
        assert!(note.contains("--latency-offset"), "{note}");
        let mut w = parse_window(Some("now-6h"), "now+1h", None, now).unwrap();
        let note = hold_back(&mut w, now, std::time::Duration::ZERO)
            .unwrap()
            .unwrap();
        assert_eq!(w.to, now);
        assert!(note.contains("in the future"), "{note}");
        let mut w = parse_window(Some("now-10s"), "now", None, now).unwrap();
        assert!(matches!(
            hold_back(&mut w, now, thirty),
            Err(ConfigError::TooRecent { .. })
        ));
    }

    /// `client_options` for a command line `args` and a config file `toml`.
    fn options_with_file(args: &[&str], toml: &str) -> Result<ClientOptions, ConfigError> {
        use clap::Parser;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("leakcollect.toml");
        std::fs::write(&file, toml).unwrap();
        let mut line = vec!["leakcollect", "--config", file.to_str().unwrap()];
        line.extend(args);
        let cli = crate::cli::Cli::try_parse_from(line).unwrap();
        client_options(&cli.collect.prometheus)
    }

    #[test]
    fn grafana_links_come_from_the_flags_else_the_config_file() {
        use clap::Parser;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("leakcollect.toml");
        std::fs::write(
            &file,
            "[grafana]\nurl = \"https://g.example\"\ndatasource = \"prom\"\ndashboard_uid = \"api-leak\"\n",
        )
        .unwrap();
        let links = |extra: &[&str]| {
            let mut line = vec!["leakcollect", "--config", file.to_str().unwrap()];
            line.extend(extra);
            let cli = crate::cli::Cli::try_parse_from(line).unwrap();
            link_settings(&cli.collect.prometheus, "ui".into()).unwrap()
        };
        let from_file = links(&[]);
        assert_eq!(from_file.grafana.as_deref(), Some("https://g.example"));
        assert_eq!(from_file.grafana_datasource.as_deref(), Some("prom"));
        assert_eq!(from_file.grafana_dashboard_uid.as_deref(), Some("api-leak"));
        let given = links(&[
            "--grafana-url",
            "https://other",
            "--grafana-dashboard-uid",
            "x",
        ]);
        assert_eq!(given.grafana.as_deref(), Some("https://other"));
        assert_eq!(given.grafana_dashboard_uid.as_deref(), Some("x"));
        assert_eq!(given.grafana_datasource.as_deref(), Some("prom"));
    }

    #[test]
    fn a_timeout_given_at_its_default_wins_over_the_config_file() {
        let file = "[prometheus]\ntimeout = \"5s\"\n";
        let options = options_with_file(&["--timeout", "60s"], file).unwrap();
        assert_eq!(options.timeout, Duration::from_secs(60));
        let options = options_with_file(&[], file).unwrap();
        assert_eq!(options.timeout, Duration::from_secs(5));
    }

    #[test]
    fn a_flag_given_wins_over_the_config_file_even_at_its_default() {
        let file =
            "[prometheus]\ntimeout = \"5s\"\nconcurrency = 2\nretries = 0\ndeadline = \"1m\"\n";
        let given = [
            "--timeout",
            "60s",
            "--concurrency",
            "8",
            "--retries",
            "2",
            "--deadline",
            "5m",
        ];
        let options = options_with_file(&given, file).unwrap();
        assert_eq!(options.timeout, Duration::from_secs(60));
        assert_eq!(options.concurrency, 8);
        assert_eq!(options.retries, 2);
        assert_eq!(options.deadline, Duration::from_secs(300));
        // Not given: the file's values.
        let options = options_with_file(&[], file).unwrap();
        assert_eq!(options.timeout, Duration::from_secs(5));
        assert_eq!(options.concurrency, 2);
        assert_eq!(options.retries, 0);
        assert_eq!(options.deadline, Duration::from_secs(60));
        // Neither: the defaults `--help` states.
        let options = options_with_file(&[], "").unwrap();
        assert_eq!(options.timeout, Duration::from_secs(60));
        assert_eq!(options.concurrency, 8);
        assert_eq!(options.retries, 2);
        assert_eq!(options.deadline, Duration::from_secs(300));
        assert!(matches!(
            options_with_file(&[], "[prometheus]\nconcurrency = 0\n"),
            Err(ConfigError::Concurrency)
        ));
    }

    #[test]
    fn help_states_the_defaults() {
        use clap::CommandFactory;
        let help = crate::cli::Cli::command().render_long_help().to_string();
        for default in [
            "[default: 60s",
            "[default: 8",
            "[default: 2",
            "[default: 5m",
        ] {
            assert!(help.contains(default), "{default} missing from --help");
        }
    }

    #[test]
    fn label_names() {
        assert!(is_label_name("job"));
        assert!(is_label_name("_x1"));
        assert!(!is_label_name("1x"));
        assert!(!is_label_name("a-b"));
        assert!(!is_label_name(""));
    }
}
