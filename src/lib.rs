//! leakcollect: turns Prometheus data into the evidence section of a memory-leak
//! investigation report. `run` is the whole program minus process setup, so tests can
//! call it in-process; `exit_code` maps any error to the documented exit code.

pub mod acquire;
pub mod analysis;
pub mod cli;
pub mod commands;
pub mod config;
pub mod draft;
pub mod evidence;
pub mod exit;
pub mod heap;
pub mod output;
pub mod pack;
pub mod prom;
pub mod render;
pub mod stats;
pub mod timespec;

use cli::{Cli, Command, Format};
use config::CollectConfig;

pub use exit::{FINDINGS as EXIT_FINDINGS, OK as EXIT_OK};

/// Runs a parsed command line; the caller prints errors and exits with [`exit_code`].
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
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
                cli::ScanFormat::Json => output::print(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&scan).expect("scan serializes")
                ))?,
                cli::ScanFormat::Table => {
                    output::print(&commands::scan::render_table(&scan, false))?
                }
                cli::ScanFormat::Markdown => {
                    output::print(&commands::scan::render_table(&scan, true))?
                }
            }
            Ok(EXIT_OK)
        }
        Some(Command::Rules(args)) => {
            let text = commands::rules::run(&args).await?;
            match &args.output {
                Some(path) => output::write_atomic(path, text.as_bytes())?,
                None => output::print(&text)?,
            }
            Ok(EXIT_OK)
        }
        Some(Command::Queries(cli::QueriesCommand::List { queries })) => {
            output::print(&commands::queries::list(queries.as_deref())?)?;
            Ok(EXIT_OK)
        }
        Some(Command::Queries(cli::QueriesCommand::Check(args))) => {
            let (report, ok) = commands::queries::check(&args).await?;
            output::print(&report)?;
            Ok(if ok { EXIT_OK } else { EXIT_FINDINGS })
        }
        None => collect(&cli.collect).await,
    }
}

async fn collect(args: &cli::CollectArgs) -> anyhow::Result<i32> {
    let config = CollectConfig::from_args(args, chrono::Utc::now())?;
    // Where the report goes is checked before any query: a typo in -o costs nothing.
    if let Some(path) = &config.output.path {
        output::check_folder(path)?;
    }
    let mut collected = commands::collect::collect_full(&config).await?;
    // Charts go next to a Markdown report written to a file: report.md → report-assets/.
    if let (Format::Markdown, Some(path)) = (config.output.format, &config.output.path) {
        let (dir, prefix) = render::chart::assets_for(path);
        render::chart::write_all(&mut collected, &dir, &prefix)?;
    }
    let evidence = collected.evidence;
    let text = match config.output.format {
        Format::Json => render::json::render(&evidence),
        Format::Markdown => render::markdown::render(&evidence, config.output.template.as_deref())?,
    };
    if !config.output.quiet {
        for warning in &evidence.warnings {
            eprintln!("warning: {warning}");
        }
    }
    match &config.output.path {
        Some(path) => output::write_atomic(path, text.as_bytes())?,
        None => output::print(&text)?,
    }
    Ok(EXIT_OK)
}

async fn attach(args: &cli::AttachArgs) -> anyhow::Result<i32> {
    let dry_run = args.check || args.diff;
    let (outcome, diff) = commands::attach::attach(args, !dry_run).await?;
    if args.diff {
        output::print(&diff)?;
    }
    if !args.write.quiet {
        for warning in &outcome.evidence.warnings {
            eprintln!("warning: {warning}");
        }
        let a = &outcome.applied;
        let verb = if dry_run { "would update" } else { "updated" };
        if outcome.changed && args.check {
            eprintln!("{}", out_of_date(&args.draft, &outcome));
        } else if outcome.changed {
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

/// Why `attach --check` found the draft out of date: which blocks would change, and,
/// when the window's end is not pinned, that it moves with every run.
fn out_of_date(draft: &std::path::Path, outcome: &commands::attach::AttachOutcome) -> String {
    let a = &outcome.applied;
    let ids: Vec<&str> = a
        .updated
        .iter()
        .chain(&a.placed)
        .chain(&a.appended)
        .map(String::as_str)
        .collect();
    let mut text = format!(
        "{} is out of date: {} block(s) would change ({}); run `leakcollect attach {}` to update it",
        draft.display(),
        ids.len(),
        ids.join(", "),
        draft.display()
    );
    let to = outcome.params.to.as_deref().unwrap_or("now");
    if to == "now" || to.starts_with("now-") {
        text.push_str(&format!(
            "\nthe window ends at --to {to}, which moves with every run, so new data changes the figures; for CI, pin the end once: `leakcollect attach {} --to {}`",
            draft.display(),
            timespec::display(outcome.evidence.window.requested_to.unwrap_or(outcome.evidence.window.to))
        ));
    }
    text
}

/// The documented exit code for an error (see `--help` and [`exit`]): the first error
/// in the chain whose type knows its code says it; an error no type claims is a bug in
/// leakcollect, `exit::INTERNAL` — never 1, which means "leaking" to a cron job.
pub fn exit_code(error: &anyhow::Error) -> i32 {
    if error.is::<output::StdoutClosed>() {
        return exit::OK;
    }
    for cause in error.chain() {
        let code = if let Some(e) = cause.downcast_ref::<config::ConfigError>() {
            e.code()
        } else if let Some(e) = cause.downcast_ref::<pack::PackError>() {
            e.code()
        } else if let Some(e) = cause.downcast_ref::<timespec::TimeError>() {
            e.code()
        } else if let Some(e) = cause.downcast_ref::<render::markdown::TemplateError>() {
            e.code()
        } else if let Some(e) = cause.downcast_ref::<prom::PromError>() {
            e.code()
        } else if let Some(e) = cause.downcast_ref::<acquire::AcquireError>() {
            e.code()
        } else if let Some(e) = cause.downcast_ref::<commands::validate::PushError>() {
            e.code()
        } else if let Some(e) = cause.downcast_ref::<output::OutputError>() {
            e.code()
        } else if let Some(e) = cause.downcast_ref::<draft::DraftError>() {
            e.code()
        } else if let Some(e) = cause.downcast_ref::<heap::HeapError>() {
            e.code()
        } else {
            continue;
        };
        return code;
    }
    exit::INTERNAL
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_says_its_own_code_and_nothing_falls_through_to_1() {
        let usage = anyhow::Error::from(config::ConfigError::Concurrency);
        assert_eq!(exit_code(&usage), exit::USAGE);
        let no_data = anyhow::Error::from(acquire::AcquireError::NoData {
            selector: "{}".into(),
            from: "a".into(),
            to: "b".into(),
            hint: String::new(),
        });
        assert_eq!(exit_code(&no_data), exit::NO_DATA);
        // Context added on top keeps the cause's code.
        assert_eq!(
            exit_code(&no_data.context("while collecting")),
            exit::NO_DATA
        );
        let output = anyhow::Error::from(output::OutputError {
            path: "x".into(),
            source: std::io::Error::other("disk full"),
        });
        assert_eq!(exit_code(&output), exit::OUTPUT);
        // An error no type claims is a bug, never "leaking".
        let unknown = anyhow::anyhow!("something unexpected");
        assert_eq!(exit_code(&unknown), exit::INTERNAL);
        assert_ne!(exit::INTERNAL, exit::FINDINGS);
        assert_eq!(exit_code(&output::StdoutClosed.into()), exit::OK);
    }
}
