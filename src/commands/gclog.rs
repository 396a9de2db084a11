//! `leakcollect gclog FILE…`: read the GC logs, build the model, render, write. Nothing
//! is written when any file fails, so no partial output file exists.

use crate::cli::{Format, GclogArgs};
use crate::exit::OK as EXIT_OK;
use crate::output;
use crate::{analysis, gclog, render::gclog as render};

pub fn run(args: &GclogArgs) -> anyhow::Result<i32> {
    let to_file = args.output.as_deref().filter(|p| !output::is_stdout(p));
    if let Some(path) = to_file {
        output::check_folder(path)?;
    }
    let report = analysis::gclog::gc_log_report(&gclog::read(&args.files)?);
    let text = match args.format {
        Format::Json => render::json(&report),
        Format::Markdown => render::markdown(&report),
    };
    if !args.quiet {
        for warning in &report.warnings {
            eprintln!("warning: {warning}");
        }
    }
    output::emit(to_file, &text)?;
    Ok(EXIT_OK)
}
