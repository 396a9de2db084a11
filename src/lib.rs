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
pub mod gclog;
pub mod heap;
pub mod output;
pub mod pack;
pub mod prom;
pub mod render;
pub mod stats;
pub mod timespec;
pub mod units;

use cli::{Cli, Command};

pub use exit::{FINDINGS as EXIT_FINDINGS, OK as EXIT_OK};

/// Runs a parsed command line; the caller prints errors and exits with [`exit_code`].
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Some(Command::Collect(args)) => commands::collect::run(&args).await,
        Some(Command::Heap(args)) => commands::heap::run(&args),
        Some(Command::Gclog(args)) => commands::gclog::run(&args),
        Some(Command::Init(args)) => commands::attach::run_init(&args),
        Some(Command::Attach(args)) => commands::attach::run(&args).await,
        Some(Command::Validate(args)) => commands::validate::run(&args).await,
        Some(Command::Scan(args)) => commands::scan::run_and_print(&args).await,
        Some(Command::Rules(args)) => commands::rules::run_and_write(&args).await,
        Some(Command::Dashboard(args)) => commands::dashboard::run(&args).await,
        Some(Command::Queries(cli::QueriesCommand::List { queries })) => {
            commands::queries::run_list(queries.as_deref())
        }
        Some(Command::Queries(cli::QueriesCommand::Check(args))) => {
            commands::queries::run_check(&args).await
        }
        None => commands::collect::run(&cli.collect).await,
    }
}

/// Lists every error type that knows its exit code, once: [`code_of`] asks them in
/// turn, and a unit test fails when a type with a `code()` is missing from the list.
macro_rules! coded_errors {
    ($($t:ty),* $(,)?) => {
        /// The exit code of `cause`, when its type knows one.
        fn code_of(cause: &(dyn std::error::Error + 'static)) -> Option<i32> {
            $(if let Some(e) = cause.downcast_ref::<$t>() {
                return Some(e.code());
            })*
            None
        }
        #[cfg(test)]
        const CODED: &[&str] = &[$(stringify!($t)),*];
    };
}

coded_errors!(
    config::ConfigError,
    pack::PackError,
    timespec::TimeError,
    render::evidence::TemplateError,
    prom::PromError,
    acquire::AcquireError,
    commands::validate::PushError,
    output::OutputError,
    draft::DraftError,
    heap::HeapError,
    gclog::GcLogError,
);

/// The documented exit code for an error (see `--help` and [`exit`]): the first error
/// in the chain whose type knows its code says it; an error no type claims is a bug in
/// leakcollect, `exit::INTERNAL` — never 1, which means "leaking" to a cron job.
pub fn exit_code(error: &anyhow::Error) -> i32 {
    if error.is::<output::StdoutClosed>() {
        return exit::OK;
    }
    error.chain().find_map(code_of).unwrap_or(exit::INTERNAL)
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

    /// Every `impl X { pub fn code(&self) -> i32` in src/ is listed in `coded_errors!`,
    /// so a new error type cannot fall through to "internal error".
    #[test]
    fn every_error_type_with_a_code_is_asked() {
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        let mut found = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                for (i, line) in lines.iter().enumerate() {
                    let Some(name) = line
                        .strip_prefix("impl ")
                        .and_then(|r| r.strip_suffix(" {"))
                    else {
                        continue;
                    };
                    let body = lines[i + 1..].iter().take_while(|l| !l.starts_with('}'));
                    if body
                        .into_iter()
                        .any(|l| l.trim() == "pub fn code(&self) -> i32 {")
                    {
                        found.push(name.to_string());
                    }
                }
            }
        }
        assert!(found.len() >= 10, "the scan found only {found:?}");
        for name in found {
            assert!(
                CODED
                    .iter()
                    .any(|c| c.ends_with(&format!("::{name}")) || *c == name),
                "{name} has a code() but is not in coded_errors! in lib.rs"
            );
        }
    }

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
