//! Command-line surface (clap derive). Help text lives in the doc comments. These
//! structs are only parsed here; `config` validates them into what commands use.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The warm-up after a fix every command leaves out of the "after" period.
pub const DEFAULT_WARMUP: &str = "30m";
/// How far before `--from` alerts, deployments and the leak's onset are looked for.
pub const DEFAULT_LOOKBACK: &str = "7d";
/// `validate --max-growth`'s default; the report's Status applies it too
/// (`analysis::status`).
pub const DEFAULT_MAX_GROWTH: &str = "1MB/h";
/// `validate --min-hours`'s default; the report's Status applies it too.
pub const DEFAULT_MIN_HOURS: f64 = 6.0;

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  a finding: validate: leaking; attach --check: the draft is out of date; queries check:
     a problem found
  2  usage error: bad flag, time, duration, selector, query pack or template; a draft that
     does not exist yet (attach, validate --draft: run init first)
  3  no data: the heap query matched no series for the selector in the window
     (validate: inconclusive; heap: a pprof profile without in-use samples)
  4  Prometheus unreachable, timed out, or a query failed
  5  the output file or draft could not be updated (not UTF-8, a block edited by hand,
     another run holding the lock, a write failure, a block device, socket or folder
     given as the file); the draft is left as it was
  70 internal error: a bug in leakcollect (please report it)
  130 interrupted (Ctrl-C, SIGINT: the shell's 128 + 2); a file or draft being replaced is
     left as it was or complete, never half written
A reader that closes standard output early (| head) ends the run quietly with 0.";

pub const COLLECT_HELP: &str = "\
Examples:
  leakcollect --service api --from 2026-11-20T08:00:00Z --to 2026-11-21T08:00:00Z -o report.md
  leakcollect --service api --from now-2d --fix-deployed now-20h --format json > evidence.json
  leakcollect collect --service checkout --service-label app --selector 'namespace=\"prod\"' --from now-24h

Exit codes: 0 success, 2 usage (a missing --service or --from), 3 no data, 4 Prometheus
unreachable or a query failed, 5 the output could not be written, 70 internal error,
130 interrupted (Ctrl-C). See docs/usage.md.";

pub const INIT_HELP: &str = "\
Examples:
  leakcollect init incidents/api-leak.md --service api --from 2026-11-20T08:00:00Z \\
    --to 2026-11-21T08:00:00Z --fix-deployed 2026-11-20T20:00:00Z

Exit codes: 0 created, 2 usage (a missing --service or --from, a bad time, the draft exists
without --force), 5 the draft or its folder could not be written, 130 interrupted (Ctrl-C).";

pub const ATTACH_HELP: &str = "\
Examples:
  leakcollect attach incidents/api-leak.md               # the recorded parameters
  leakcollect attach incidents/api-leak.md --check       # CI: exit 1 if out of date
  leakcollect attach incidents/api-leak.md --to 2026-11-21T08:00:00Z   # pin the end

Flags given here (--service … --lookback, --heap, --gc-log) override the draft's recorded parameters
and are recorded in their place (not with --check or --diff).

Exit codes: 0 done (or up to date), 1 --check: out of date, 2 usage (or no such draft:
run init first), 3 no data, 4 Prometheus unreachable or a query failed, 5 the draft could
not be updated (left as it was), 70 internal error, 130 interrupted (Ctrl-C; the draft is
left as it was or complete).";

pub const RULES_HELP: &str = "\
Examples:
  leakcollect rules --service api --from 2026-11-20T08:00:00Z --to 2026-11-21T08:00:00Z -o api.rules.yml
  leakcollect rules --service api --runtime jvm --growth-threshold 5MB/h --for 3h   # no server needed

No draft is read or written: every flag is read from the command line alone.

Exit codes: 0 written, 2 usage, 3 no data, 4 Prometheus unreachable or a query failed,
5 the file could not be written, 70 internal error, 130 interrupted (Ctrl-C).";

pub const DASHBOARD_HELP: &str = "\
Examples:
  leakcollect dashboard --service api --from 2026-11-20T08:00:00Z --to 2026-11-21T08:00:00Z \\
    --fix-deployed auto -o api-dashboard.json       # import it in Grafana (Dashboards > New > Import)
  leakcollect dashboard --service api --from now-2d --grafana-dashboard-uid api-leak -o -

The panels run the report's queries against the dashboard's ${datasource} (a Prometheus
data source chosen on import); its time range is the window. No draft is read or written.

Exit codes: 0 written, 2 usage, 3 no data, 4 Prometheus unreachable or a query failed,
5 the file could not be written, 70 internal error, 130 interrupted (Ctrl-C).";

pub const SCAN_HELP: &str = "\
Examples:
  leakcollect scan --selector 'namespace=\"prod\"' --from now-24h
  leakcollect scan --selector 'namespace=\"prod\"' --from now-7d --format json

Exit codes: 0 done, 2 usage, 3 no runtime metrics under the selector, 4 Prometheus
unreachable or a query failed, 70 internal error, 130 interrupted (Ctrl-C).";

pub const VALIDATE_EXIT_CODES_HELP: &str = "\
Examples:
  leakcollect validate --service api --fix-deployed 2026-11-21T06:00:00Z
  leakcollect validate --draft incidents/api-leak.md                    # writes the draft
  leakcollect validate --draft incidents/api-leak.md --dry-run --format json   # only looks

With --draft, the parameters given here (--service … --lookback) override the draft's
recorded ones and are recorded in their place (not with --dry-run); without it, the
defaults shown apply.

Exit codes:
  0  resolved: enough data after the fix, growth below --max-growth with 95% confidence on
     every instance, no OOM kill
  1  leaking: growth above --max-growth with 95% confidence, or an OOM kill after the fix
  2  usage error, or --draft names a draft that does not exist (run init first)
  3  inconclusive: too little data after the fix, too many gaps, an interval straddling the
     threshold, or Prometheus warnings (the reason says which, and when data will suffice)
  4  Prometheus unreachable, timed out, or a query failed
  5  the draft, textfile or Pushgateway could not be updated
  70 internal error: a bug in leakcollect (please report it)
  130 interrupted (Ctrl-C, SIGINT); each file is left as it was or complete";

/// Turns Prometheus metrics, heap snapshots and heap profiles into the evidence sections of a
/// memory-leak investigation report.
///
/// Without a subcommand, runs `collect`.
#[derive(Debug, Parser)]
#[command(
    name = "leakcollect",
    version,
    args_conflicts_with_subcommands = true,
    // --service and --from are checked by `config` (for its clearer message), not by
    // clap, since subcommands flatten the same args; the usage says they are required.
    override_usage = "leakcollect --service <NAME> --from <TIME> [OPTIONS]\n       leakcollect <COMMAND>",
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub collect: CollectArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Query Prometheus for an incident window and render the report (the default).
    #[command(
        override_usage = "leakcollect collect --service <NAME> --from <TIME> [OPTIONS]",
        after_help = COLLECT_HELP
    )]
    Collect(CollectArgs),
    /// Create a draft from the team's report template, recording the parameters so that
    /// `attach DRAFT` later needs nothing else.
    #[command(
        override_usage = "leakcollect init <DRAFT> --service <NAME> --from <TIME> [OPTIONS]",
        after_help = INIT_HELP
    )]
    Init(InitArgs),
    /// Fill the metrics sections of a draft in place, inside leakcollect-owned blocks,
    /// never touching a word outside them.
    #[command(after_help = ATTACH_HELP)]
    Attach(AttachArgs),
    /// After a fix: say, with the exit code, whether the leak is gone (for cron, systemd
    /// timers, Kubernetes CronJobs).
    #[command(
        override_usage = "leakcollect validate (--draft <FILE> | --service <NAME> --fix-deployed <TIME|auto>) [OPTIONS]",
        after_help = VALIDATE_EXIT_CODES_HELP
    )]
    Validate(ValidateArgs),
    /// Write Prometheus alerting rules for the Preventive Measures (thresholds from the
    /// measured leak when --from is given).
    #[command(
        override_usage = "leakcollect rules --service <NAME> (--from <TIME> | --runtime <RUNTIME>) [OPTIONS]",
        after_help = RULES_HELP
    )]
    Rules(RulesArgs),
    /// Write an importable Grafana dashboard (JSON) of the service's window: memory per
    /// instance with the fitted growth, growth rate, GC pauses, restarts and OOM kills, the fix.
    #[command(
        override_usage = "leakcollect dashboard --service <NAME> --from <TIME> [OPTIONS] -o <FILE>",
        after_help = DASHBOARD_HELP
    )]
    Dashboard(DashboardArgs),
    /// Rank every service under a selector by growth per instance, flagging the leaking.
    #[command(after_help = SCAN_HELP)]
    Scan(ScanArgs),
    /// List the query packs, or check them (PromQL, counter functions on gauges, data).
    #[command(subcommand, after_help = QUERIES_HELP)]
    Queries(QueriesCommand),
    /// Compare heap snapshots (V8 .heapsnapshot, plain or gzip'd), JVM heap dumps (.hprof)
    /// or pprof heap profiles, oldest first: what grows, the leak suspects and their
    /// retainer paths.
    #[command(after_help = HEAP_EXIT_CODES_HELP)]
    Heap(HeapArgs),
    /// Read GC logs (Node.js --trace-gc, JVM -Xlog:gc, Go GODEBUG=gctrace=1; plain or
    /// gzip'd), oldest first: collections by kind, the live-heap floor and its trend.
    #[command(after_help = GCLOG_HELP)]
    Gclog(GclogArgs),
}

pub const GCLOG_HELP: &str = "\
Examples:
  leakcollect gclog gc.log                        # the runtime is told by the lines
  leakcollect gclog gc.log.0 gc.log.1.gz --format json -o gclog.json   # oldest first

Exit codes:
  0  success
  2  usage error, or a log missing, unreadable, empty, truncated or corrupt (gzip), of
     an unknown format, without times, or of two runtimes
  3  no data: the logs hold no full collection (no live-heap floor)
  5  the output file could not be written
  70 internal error: a bug in leakcollect (please report it)
  130 interrupted (Ctrl-C, SIGINT)";

#[derive(Debug, Args, Clone)]
pub struct GclogArgs {
    /// GC logs of one runtime, oldest first (rotated files of one process, or processes
    /// one after the other).
    #[arg(required = true, num_args = 1.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
    /// Write the report here (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// No warnings on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

pub const HEAP_EXIT_CODES_HELP: &str = "\
Examples:
  leakcollect heap s1.heapsnapshot s2.heapsnapshot s3.heapsnapshot -o heap.md   # oldest first
  leakcollect heap heap.1.pb.gz heap.2.pb.gz heap.3.pb.gz --format json
  leakcollect heap p1.heapprofile p2.heapprofile --source .      # V8 sampling + the code
  leakcollect heap scalene-profile.json --source ~/src/api        # Python (Scalene)
  leakcollect heap d1.hprof d2.hprof d3.hprof -o heap.md                      # JVM (jcmd PID GC.heap_dump)

Exit codes:
  0  success
  2  usage error, or an input file missing, unreadable, empty, truncated, corrupt, not a
     heap snapshot/dump/profile, out of order, from another process or JVM, or too big
     for the available memory; a --source folder that does not exist or holds no file
     matching the profile's paths
  3  no data: a pprof profile without in-use sample types (a CPU or allocation-only
     profile), or a Scalene profile without memory data (--cpu-only)
  5  the output file could not be written
  70 internal error: a bug in leakcollect (please report it)
  130 interrupted (Ctrl-C, SIGINT)";

#[derive(Debug, Args, Clone)]
pub struct HeapArgs {
    /// Heap snapshots, JVM heap dumps, pprof heap profiles, V8 sampling heap profiles
    /// (.heapprofile) or one Scalene JSON profile, oldest first (two or three for a leak;
    /// one only lists the top consumers).
    #[arg(required = true, num_args = 1.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
    /// Write the report here (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// No progress bar and no warnings on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// The code the profiles were taken of: fills Vulnerable Code with the lines around
    /// the allocation site (profile paths matched to files under DIR by longest suffix).
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct PrometheusArgs {
    /// Base URL of the Prometheus-compatible API (a path prefix such as /prometheus is kept).
    /// (Default http://localhost:9090, or `url` in the config file.) Without the flag, the
    /// PROMETHEUS_URL environment variable is read; help never shows its value (a URL can
    /// hold a password).
    #[arg(
        long,
        env = "PROMETHEUS_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub prometheus_url: Option<String>,
    // The options below that the config file can also set have no clap default: "not
    // given" must be told from "given the default value" (flag > config file > default).
    // Their help says the default; `config::client_options` applies it.
    /// Per-request timeout, Prometheus duration syntax [default: 60s, or `timeout` in
    /// the config file].
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Queries in flight at once [default: 8, or `concurrency` in the config file].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Extra attempts for a query after a transient failure (connection, timeout,
    /// 502/503/504/429) [default: 2, or `retries` in the config file].
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// One deadline for all requests of the run, retries included [default: 5m, or
    /// `deadline` in the config file].
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,
    /// A file with a bearer token sent as `Authorization: Bearer …`.
    #[arg(long, value_name = "FILE")]
    pub bearer_token_file: Option<PathBuf>,
    /// Basic-auth user; the password comes from --basic-auth-password-file or the
    /// LEAKCOLLECT_BASIC_AUTH_PASSWORD environment variable.
    #[arg(long, value_name = "USER")]
    pub basic_auth_user: Option<String>,
    /// A file holding the basic-auth password (else LEAKCOLLECT_BASIC_AUTH_PASSWORD).
    #[arg(long, value_name = "FILE")]
    pub basic_auth_password_file: Option<PathBuf>,
    /// An extra request header, e.g. 'X-Scope-OrgID: tenant-1' (repeatable).
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    pub headers: Vec<String>,
    /// PEM file with the CA that signs the server's certificate.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate and key for mutual TLS.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of --client-cert.
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// Do not verify the server's certificate (explicit; never the default).
    #[arg(long)]
    pub insecure_skip_verify: bool,
    /// The server behind the URL, for the few places they differ (query parameters,
    /// freshness): prometheus (default), thanos, mimir or victoriametrics.
    #[arg(long, value_enum, value_name = "KIND")]
    pub backend: Option<crate::prom::Backend>,
    /// Thanos: `allow` answers with what the reachable stores have, plus a warning
    /// (validate is then inconclusive); `deny` fails the query instead.
    #[arg(long, value_enum, value_name = "MODE")]
    pub partial_response: Option<crate::prom::PartialResponse>,
    /// An extra parameter sent with every query, e.g. max_source_resolution=5m (repeatable).
    #[arg(long = "query-param", value_name = "NAME=VALUE")]
    pub query_params: Vec<String>,
    /// A window ending closer to now than this ends this much before now instead (the
    /// newest data is incomplete); default 30s for victoriametrics, else 0s.
    #[arg(long, value_name = "DURATION")]
    pub latency_offset: Option<String>,
    /// A leakcollect.toml with these settings under [prometheus] (flags win). Without the
    /// flag, the LEAKCOLLECT_CONFIG environment variable is read.
    #[arg(
        long,
        env = "LEAKCOLLECT_CONFIG",
        hide_env_values = true,
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
    /// Prometheus's web UI address for graph links (default: --prometheus-url).
    #[arg(long, value_name = "URL")]
    pub external_url: Option<String>,
    /// Grafana's address: adds an Explore link for each query.
    #[arg(long, value_name = "URL")]
    pub grafana_url: Option<String>,
    /// Grafana data source UID for the Explore links (default: Grafana's default source).
    #[arg(long, value_name = "UID")]
    pub grafana_datasource: Option<String>,
    /// The uid of the dashboard `leakcollect dashboard` wrote (and that was imported):
    /// the report's Dashboard links point to it [default: `uid` under [grafana] in the
    /// config file]. With `dashboard`, the uid to write (default leakcollect-SERVICE).
    #[arg(long, value_name = "UID")]
    pub grafana_dashboard_uid: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct CollectArgs {
    /// Service to report on (required): the value of --service-label.
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Label that names the service.
    #[arg(long, default_value = "job", value_name = "LABEL")]
    pub service_label: String,
    /// Extra label matchers for every query, e.g. 'namespace="prod",cluster=~"eu-.*"'.
    #[arg(long, value_name = "MATCHERS")]
    pub selector: Option<String>,
    /// Container name in kube-state-metrics and cAdvisor series (default: the service).
    #[arg(long, value_name = "NAME")]
    pub container: Option<String>,
    /// Start of the incident window (required): RFC 3339, Unix seconds, `now` or `now-6h`.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the window (same syntax).
    #[arg(long, default_value = "now", value_name = "TIME")]
    pub to: String,
    /// When the fix went out; splits the window into before/after periods. `auto`: the
    /// deployment found in the window (kube-state-metrics, build info, restart waves).
    #[arg(long, value_name = "TIME|auto")]
    pub fix_deployed: Option<String>,
    /// Time after the fix left out of the "after" period (rollout, caches filling); the
    /// same definition for collect, attach and validate.
    #[arg(long, default_value = DEFAULT_WARMUP, value_name = "DURATION")]
    pub warmup: String,
    /// How far before --from to look for the alert that detected the leak, the
    /// deployments and the leak's onset.
    #[arg(long, default_value = DEFAULT_LOOKBACK, value_name = "DURATION")]
    pub lookback: String,
    /// Query pack: auto (detect from the metrics), nodejs, python, jvm, go, dotnet, container.
    #[arg(long, default_value = "auto", value_name = "RUNTIME")]
    pub runtime: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
    /// Write the report here instead of stdout (`-` is stdout). A file is replaced
    /// atomically (through a symbolic link, its target); a FIFO or /dev/null is written
    /// in place. Markdown charts go next to the real file (REPORT-assets/).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the Markdown report's charts into this folder (created if missing) and link
    /// them from the report; needed for charts when the report goes to stdout, a FIFO
    /// or a device.
    #[arg(long, value_name = "DIR")]
    pub assets: Option<PathBuf>,
    /// Handlebars template to render Markdown with instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Directory with query packs (<runtime>.toml) overriding the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,
    /// Range-query step (default: about 1,000 points, never below the scrape interval).
    #[arg(long, value_name = "DURATION")]
    pub step: Option<String>,
    /// No progress indicator and no warnings on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub prometheus: PrometheusArgs,
}

/// Parameters a draft records; each given here overrides (and updates) the recorded one.
// The help below is `init`'s and `attach`'s; `validate` and `rules` flatten these too and
// replace the help of the flags they use differently (`mut_arg` on their args).
#[derive(Debug, Args, Clone, Default)]
pub struct DraftParamArgs {
    /// Service: the value of --service-label (required by init).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Label that names the service (default job).
    #[arg(long, value_name = "LABEL")]
    pub service_label: Option<String>,
    /// Extra label matchers for every query.
    #[arg(long, value_name = "MATCHERS")]
    pub selector: Option<String>,
    /// Container name in kube-state-metrics/cAdvisor series (default: the service).
    #[arg(long, value_name = "NAME")]
    pub container: Option<String>,
    /// Window start (required by init): RFC 3339, Unix seconds, `now`, `now-6h`; recorded as
    /// written, so a `now-2d` moves with every attach.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Window end (default now: a moving end; pin it for `attach --check` in CI).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// When the fix went out, or `auto` (the deployment found in the window; recorded
    /// as `auto`, so each run finds it again).
    #[arg(long, value_name = "TIME|auto")]
    pub fix_deployed: Option<String>,
    /// Query pack (default auto).
    #[arg(long, value_name = "RUNTIME")]
    pub runtime: Option<String>,
    /// Time after the fix left out of the "after" period (default 30m); one definition
    /// for attach and validate, recorded in the draft.
    #[arg(long, value_name = "DURATION")]
    pub warmup: Option<String>,
    /// How far before --from to look for alerts, deployments and the leak's onset
    /// (default 7d), recorded in the draft.
    #[arg(long, value_name = "DURATION")]
    pub lookback: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct InitArgs {
    /// The draft to create.
    pub draft: PathBuf,
    #[command(flatten)]
    pub params: DraftParamArgs,
    /// Who investigates, for the header's Investigator line (recorded in the draft).
    #[arg(long, value_name = "NAME")]
    pub investigator: Option<String>,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// How `attach` and `validate` update a draft.
#[derive(Debug, Args, Clone)]
pub struct DraftWriteArgs {
    /// Overwrite blocks edited by hand since leakcollect wrote them.
    #[arg(long)]
    pub force: bool,
    /// Do not keep the previous version as DRAFT.bak.
    #[arg(long)]
    pub no_backup: bool,
    /// How long to wait for another leakcollect updating the same folder.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub lock_timeout: String,
    /// Range-query step (default: about 1,000 points).
    #[arg(long, value_name = "DURATION")]
    pub step: Option<String>,
    /// Directory with query packs overriding the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,
    /// No summary or warnings on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
pub struct AttachArgs {
    /// The draft to fill (made by `init`, or any copy of the team template).
    pub draft: PathBuf,
    #[command(flatten)]
    pub params: DraftParamArgs,
    /// Heap snapshots, JVM heap dumps or pprof heap profiles, oldest first, for the Investigation Steps
    /// (recorded in the draft like the other flags; see `leakcollect heap`).
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub heap: Vec<PathBuf>,
    /// Also write the Grafana dashboard of `leakcollect dashboard` here (recorded in the
    /// draft, rewritten by every attach), and tick the report's Dashboard action item.
    #[arg(long, value_name = "FILE")]
    pub dashboard: Option<PathBuf>,
    /// GC logs (Node.js --trace-gc, JVM -Xlog:gc, Go gctrace), oldest first, for the GC
    /// Logs appendix (recorded in the draft like --heap; see `leakcollect gclog`).
    #[arg(long = "gc-log", num_args = 1.., value_name = "FILE")]
    pub gc_log: Vec<PathBuf>,
    /// The code the heap profiles were taken of, for Vulnerable Code (recorded in the
    /// draft; see `leakcollect heap --source`).
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
    /// Change nothing; exit 1 if the draft is out of date with the evidence.
    #[arg(long, conflicts_with = "diff")]
    pub check: bool,
    /// Change nothing; print a unified diff of what would change.
    #[arg(long)]
    pub diff: bool,
    #[command(flatten)]
    pub write: DraftWriteArgs,
    #[command(flatten)]
    pub prometheus: PrometheusArgs,
}

#[derive(Debug, Args, Clone)]
#[command(
    mut_arg("service", |a| a.help("Service: the value of --service-label (required without --draft)")),
    mut_arg("from", |a| a.help(
        "Start of the period before the fix to compare with: RFC 3339, Unix seconds, `now`, \
         `now-6h` (default: the draft's recorded --from, else --before before the fix)"
    )),
    mut_arg("to", |a| a.help(
        "End of the period judged (default: the draft's recorded --to, else now; give --to now \
         to a scheduled validate --draft that must see new data)"
    )),
    mut_arg("fix_deployed", |a| a.help(
        "When the fix went out, or `auto` (the deployment found in the window); required \
         unless the draft records it"
    )),
    mut_arg("warmup", |a| a.help(
        "Time after the fix left out of the period judged (default: the draft's recorded one, \
         else 30m); the same after-fix period as attach's"
    )),
    mut_arg("lookback", |a| a.help(
        "How far before --from to look for alerts, deployments and the leak's onset (default: \
         the draft's recorded one, else 7d)"
    )),
    mut_arg("force", |a| a.help(
        "With --draft: overwrite blocks edited by hand since leakcollect wrote them (without \
         it they are kept, with a warning, and the verdict stands)"
    )),
    mut_arg("no_backup", |a| a.help("With --draft: do not keep the previous version as DRAFT.bak")),
    mut_arg("lock_timeout", |a| a.help(
        "With --draft: how long to wait for another leakcollect updating the same folder"
    )),
    mut_arg("quiet", |a| a.help("No warnings on stderr (the verdict still goes to stdout)"))
)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub params: DraftParamArgs,
    /// A draft made by init/attach: its recorded parameters are used, and its Status,
    /// After Fix, Improvement, timeline, Next Review and Validation runs are updated.
    #[arg(long, value_name = "FILE")]
    pub draft: Option<PathBuf>,
    /// Hours of data needed after the fix and warm-up.
    #[arg(long, default_value_t = DEFAULT_MIN_HOURS, value_name = "HOURS")]
    pub min_hours: f64,
    /// Growth per instance below which the leak counts as gone (e.g. 1MB/h, 500KiB/h).
    #[arg(long, default_value = DEFAULT_MAX_GROWTH, value_name = "RATE")]
    pub max_growth: String,
    /// How much history before the fix to compare with, when --from is not recorded.
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub before: String,
    /// Output on stdout.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    pub format: ValidateFormat,
    /// Look without writing: print the verdict, but leave the draft, the textfile and
    /// the Pushgateway untouched (exit code as usual).
    #[arg(long)]
    pub dry_run: bool,
    /// Also write the result for node_exporter's textfile collector (atomically).
    #[arg(long, value_name = "PATH")]
    pub textfile: Option<PathBuf>,
    /// Also push the result to this Pushgateway.
    #[arg(long, value_name = "URL")]
    pub pushgateway: Option<String>,
    #[command(flatten)]
    pub write: DraftWriteArgs,
    #[command(flatten)]
    pub prometheus: PrometheusArgs,
}

#[derive(Debug, Args, Clone)]
#[command(
    mut_arg("service", |a| a.help(
        "Service the rules are for (required): the value of --service-label; every rule selects it"
    )),
    mut_arg("from", |a| a.help(
        "Start of a window to measure the leak in, for the thresholds: RFC 3339, Unix seconds, \
         `now`, `now-6h` (without it no server is asked and the default thresholds apply; give \
         --runtime)"
    )),
    mut_arg("to", |a| a.help("End of that window (default now)")),
    mut_arg("fix_deployed", |a| a.help(
        "When the fix went out, or `auto` (the deployment found in the window): the thresholds \
         are measured before it (default: over the whole window)"
    )),
    mut_arg("runtime", |a| a.help(
        "Query pack whose metrics the rules use (default auto: detected from the window's \
         metrics, so it needs --from)"
    )),
    mut_arg("warmup", |a| a.help(
        "No effect on rules: the thresholds are measured before the fix, where there is no warm-up"
    )),
    mut_arg("lookback", |a| a.help(
        "No effect on rules: the thresholds come from the window itself, not from before it"
    ))
)]
pub struct RulesArgs {
    #[command(flatten)]
    pub params: DraftParamArgs,
    /// Alert when the memory floor grows faster than this (default: half the measured leak,
    /// or 10MB/h without a window).
    #[arg(long, value_name = "RATE")]
    pub growth_threshold: Option<String>,
    /// How long growth must last before the alert fires.
    #[arg(long = "for", default_value = "2h", value_name = "DURATION")]
    pub for_: String,
    /// Alert above this % of the container memory limit (default: from the measured
    /// peak, growth and limit, see docs/dashboard.md; 90 without them).
    #[arg(long, value_name = "PERCENT")]
    pub limit_percent: Option<f64>,
    /// Alert when a connection pool is more than this % in use (default: from the
    /// measured pool peak; without pool figures no pool rule is written unless given).
    #[arg(long, value_name = "PERCENT")]
    pub pool_percent: Option<f64>,
    /// Alert on GC pause p95 above this (default: half the measured p95, or 500ms).
    #[arg(long, value_name = "DURATION")]
    pub gc_p95: Option<String>,
    /// Write the rule file here (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Directory with query packs (<runtime>.toml) overriding the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,
    #[command(flatten)]
    pub prometheus: PrometheusArgs,
}

#[derive(Debug, Args, Clone)]
#[command(
    mut_arg("service", |a| a.help("Service the dashboard is for (required): the value of --service-label")),
    mut_arg("from", |a| a.help(
        "Start of the window, the dashboard's time range (required): RFC 3339, Unix seconds, `now`, `now-6h`"
    )),
    mut_arg("to", |a| a.help("End of the window (default now)")),
    mut_arg("fix_deployed", |a| a.help(
        "When the fix went out, or `auto` (the deployment found in the window): an annotation on every panel"
    )),
    mut_arg("warmup", |a| a.help(
        "Time after the fix left out of the after-fix growth the memory panel's description quotes (default 30m)"
    )),
    mut_arg("lookback", |a| a.help(
        "How far before --from to look for the deployments `--fix-deployed auto` picks from (default 7d)"
    ))
)]
pub struct DashboardArgs {
    #[command(flatten)]
    pub params: DraftParamArgs,
    /// Write the dashboard JSON here (atomically) instead of stdout (`-` is stdout).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Directory with query packs (<runtime>.toml) overriding the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,
    /// Range-query step for the figures (default: about 1,000 points).
    #[arg(long, value_name = "DURATION")]
    pub step: Option<String>,
    /// No warnings on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub prometheus: PrometheusArgs,
}

#[derive(Debug, Args, Clone)]
pub struct ScanArgs {
    /// Label matchers for the fleet, e.g. 'namespace="prod"'.
    #[arg(long, value_name = "MATCHERS")]
    pub selector: Option<String>,
    /// Label that names services.
    #[arg(long, default_value = "job", value_name = "LABEL")]
    pub service_label: String,
    /// Start of the window: RFC 3339, Unix seconds, `now` or `now-6h`.
    #[arg(long, value_name = "TIME")]
    pub from: String,
    /// End of the window (same syntax).
    #[arg(long, default_value = "now", value_name = "TIME")]
    pub to: String,
    /// Runtime pack, or auto (per service).
    #[arg(long, default_value = "auto", value_name = "RUNTIME")]
    pub runtime: String,
    /// Growth per instance from which a service is flagged.
    #[arg(long, default_value = "1MB/h", value_name = "RATE")]
    pub min_growth: String,
    /// Output: a table for terminals, JSON, or Markdown for a ticket.
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
    /// Range-query step (default: about 1,000 points, never below 15 s); a given step
    /// is kept, so short-lived services are not fetched again at a finer one.
    #[arg(long, value_name = "DURATION")]
    pub step: Option<String>,
    /// No warning lines under the table (JSON keeps them in `warnings`).
    #[arg(short, long)]
    pub quiet: bool,
    /// Directory with query packs (<runtime>.toml) overriding the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,
    #[command(flatten)]
    pub prometheus: PrometheusArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    Text,
    Json,
    Markdown,
}

pub const QUERIES_HELP: &str = "\
Examples:
  leakcollect queries list                        # the built-in packs and their queries
  leakcollect queries list --queries ./packs      # with your packs overriding them
  leakcollect queries check                       # parse every pack; rate() on gauges by name
  leakcollect queries check --prometheus-url http://prometheus:9090 --service api --from now-6h

Exit codes: 0 done (check: no problem found), 1 check: a problem found, 2 usage (a pack
that does not parse), 4 Prometheus unreachable or a query failed, 70 internal error,
130 interrupted (Ctrl-C).";

pub const QUERIES_LIST_HELP: &str = "\
Examples:
  leakcollect queries list                        # the built-in packs
  leakcollect queries list --queries ./packs      # <runtime>.toml files there replace them

Exit codes: 0 listed, 2 usage (a pack that does not parse), 70 internal error.";

pub const QUERIES_CHECK_HELP: &str = "\
Examples:
  leakcollect queries check                       # PromQL and counter functions, by metric name
  leakcollect queries check --prometheus-url http://prometheus:9090   # by the server's metadata
  leakcollect queries check --prometheus-url http://prometheus:9090 --service api --from now-6h
                                                  # and which queries return data for api
  leakcollect queries check --queries ./packs     # your own packs before they are used

Exit codes: 0 no problem found, 1 a problem found (rate(), irate() or increase() on a
gauge), 2 usage (a pack that does not parse, a bad time or selector), 4 Prometheus
unreachable or a query failed, 70 internal error, 130 interrupted (Ctrl-C).";

#[derive(Debug, Subcommand)]
pub enum QueriesCommand {
    /// The packs: runtime, exporter, the metrics that identify it, its queries.
    #[command(after_help = QUERIES_LIST_HELP)]
    List {
        /// Directory with packs overriding the built-in ones.
        #[arg(long, value_name = "DIR")]
        queries: Option<PathBuf>,
    },
    /// Parse every pack, flag rate()/irate()/increase() on gauges (metric metadata when a
    /// server is given, else the name), and with --service, say which queries return data.
    #[command(after_help = QUERIES_CHECK_HELP)]
    Check(CheckArgs),
}

#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    /// Directory with packs overriding the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,
    /// Ask this server for metric types (and data, with --service). Without the flag, the
    /// PROMETHEUS_URL environment variable is read; help never shows its value (a URL can
    /// hold a password).
    #[arg(
        long,
        env = "PROMETHEUS_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub prometheus_url: Option<String>,
    /// Check which queries return data for this service.
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Label that names the service.
    #[arg(long, default_value = "job", value_name = "LABEL")]
    pub service_label: String,
    /// Extra label matchers for every query, e.g. 'namespace="prod"'.
    #[arg(long, value_name = "MATCHERS")]
    pub selector: Option<String>,
    /// Start of the window the data check looks at (same syntax as collect's --from).
    #[arg(long, default_value = "now-1h", value_name = "TIME")]
    pub from: String,
    /// End of that window.
    #[arg(long, default_value = "now", value_name = "TIME")]
    pub to: String,
    /// Per-request timeout.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub timeout: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Markdown,
    Json,
}
