//! leakcollect: turns Prometheus data into the evidence section of a memory-leak
//! investigation report. `run` is the whole program minus process setup, so tests can
//! call it in-process; `exit_code` maps any error to the documented exit code.

pub mod analysis;
pub mod cli;
pub mod commands;
pub mod config;
pub mod draft;
pub mod evidence;
pub mod heap;
pub mod output;
pub mod pack;
pub mod prom;
pub mod render;
pub mod synth;
pub mod timespec;

use anyhow::Context;
use cli::{Cli, Command, Format};
use config::CollectConfig;
use std::io::Write;

pub const EXIT_OK: i32 = 0;
/// `queries check` found a problem.
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_NO_DATA: i32 = 3;
pub const EXIT_PROMETHEUS: i32 = 4;
pub const EXIT_OUTPUT: i32 = 5;

/// Runs a parsed command line; the caller prints errors and exits with [`exit_code`].
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Some(Command::Synth(args)) => {
            commands::synth::run(&args)?;
            Ok(EXIT_OK)
        }
        Some(Command::Collect(args)) => collect(&args).await,
        Some(Command::Heap(args)) => commands::heap::run(&args),
        Some(Command::Init(args)) => {
            commands::attach::init(&args)?;
            eprintln!(
                "created {}; fill it with `leakcollect attach {}`",
                args.draft.display(),
                args.draft.display()
            );
            Ok(EXIT_OK)
        }
        Some(Command::Attach(args)) => attach(&args).await,
        Some(Command::Validate(args)) => commands::validate::run(&args).await,
        Some(Command::Scan(args)) => {
            let mut scan = commands::scan::run(&args).await?;
            if args.quiet && args.format != cli::ScanFormat::Json {
                scan.warnings.clear();
            }
            match args.format {
                cli::ScanFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&scan).expect("scan serializes")
                ),
                cli::ScanFormat::Table => print!("{}", commands::scan::render_table(&scan, false)),
                cli::ScanFormat::Markdown => {
                    print!("{}", commands::scan::render_table(&scan, true))
                }
            }
            Ok(EXIT_OK)
        }
        Some(Command::Rules(args)) => {
            let text = commands::rules::run(&args).await?;
            match &args.output {
                Some(path) => output::write_atomic(path, text.as_bytes())?,
                None => print!("{text}"),
            }
            Ok(EXIT_OK)
        }
        Some(Command::Queries(cli::QueriesCommand::List { queries })) => {
            print!("{}", commands::queries::list(queries.as_deref())?);
            Ok(EXIT_OK)
        }
        Some(Command::Queries(cli::QueriesCommand::Check(args))) => {
            let (report, ok) = commands::queries::check(&args).await?;
            print!("{report}");
            Ok(if ok { EXIT_OK } else { EXIT_FINDINGS })
        }
        None => collect(&cli.collect).await,
    }
}

async fn collect(args: &cli::CollectArgs) -> anyhow::Result<i32> {
    let config = CollectConfig::from_args(args, chrono::Utc::now())?;
    let mut collected = commands::collect::collect_full(&config).await?;
    // Charts go next to a Markdown report written to a file: report.md → report-assets/.
    if let (Format::Markdown, Some(path)) = (config.format, &config.output) {
        output::check_folder(path)?;
        let (dir, prefix) = render::chart::assets_for(path);
        render::chart::write_all(&mut collected, &dir, &prefix)?;
    }
    let evidence = collected.evidence;
    let text = match config.format {
        Format::Json => render::json::render(&evidence),
        Format::Markdown => render::markdown::render(&evidence, config.template.as_deref())?,
    };
    if !config.quiet {
        for warning in &evidence.warnings {
            eprintln!("warning: {warning}");
        }
    }
    match &config.output {
        Some(path) => output::write_atomic(path, text.as_bytes())?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .context("writing the report to stdout")?;
        }
    }
    Ok(EXIT_OK)
}

async fn attach(args: &cli::AttachArgs) -> anyhow::Result<i32> {
    let dry_run = args.check || args.diff;
    let (outcome, diff) = commands::attach::attach(args, !dry_run).await?;
    if args.diff {
        print!("{diff}");
    }
    if !args.write.quiet {
        for warning in &outcome.evidence.warnings {
            eprintln!("warning: {warning}");
        }
        let a = &outcome.applied;
        let verb = if dry_run { "would update" } else { "updated" };
        if outcome.changed {
            eprintln!(
                "{verb} {}: {} block(s) refreshed, {} placed in their sections, {} under \"{}\"",
                args.draft.display(),
                a.updated.len(),
                a.placed.len(),
                a.appended.len(),
                draft::blocks::EVIDENCE_HEADING.trim_start_matches("## ")
            );
        } else {
            eprintln!("{} is up to date", args.draft.display());
        }
    }
    Ok(if args.check && outcome.changed {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// The documented exit code for an error (see `--help`).
pub fn exit_code(error: &anyhow::Error) -> i32 {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<heap::HeapError>() {
            return e.code();
        }
        if cause.is::<config::ConfigError>()
            || cause.is::<pack::PackError>()
            || cause.is::<timespec::TimeError>()
            || cause.is::<render::markdown::TemplateError>()
        {
            return EXIT_USAGE;
        }
        if let Some(e) = cause.downcast_ref::<prom::PromError>() {
            return if matches!(e, prom::PromError::BadUrl { .. }) {
                EXIT_USAGE
            } else {
                EXIT_PROMETHEUS
            };
        }
        if let Some(e) = cause.downcast_ref::<commands::collect::CollectError>() {
            return match e {
                commands::collect::CollectError::NoData { .. }
                | commands::collect::CollectError::NoRuntime { .. }
                | commands::collect::CollectError::NoFleet { .. } => EXIT_NO_DATA,
                commands::collect::CollectError::Plan { .. } => EXIT_USAGE,
            };
        }
        if cause.is::<commands::validate::PushError>() {
            return EXIT_OUTPUT;
        }
        if cause.is::<output::OutputError>() {
            return EXIT_OUTPUT;
        }
        if let Some(e) = cause.downcast_ref::<draft::DraftError>() {
            return match e {
                draft::DraftError::MissingParam { .. } | draft::DraftError::Exists { .. } => {
                    EXIT_USAGE
                }
                _ => EXIT_OUTPUT,
            };
        }
    }
    1
}

/// The error and its causes on one line each, as printed to stderr.
pub fn describe(error: &anyhow::Error) -> String {
    let mut text = format!("error: {error}");
    let mut previous = error.to_string();
    for cause in error.chain().skip(1) {
        let current = cause.to_string();
        // thiserror messages often embed their source already; say each thing once.
        if !previous.contains(&current) {
            text.push_str(&format!("\n  caused by: {current}"));
        }
        previous = current;
    }
    text
}
