//! `leakcollect heap FILE…`: read the snapshots or profiles, analyse, render, write.
//! Nothing is written when any file fails, so no partial output file exists.

use crate::cli::{Format, HeapArgs};
use crate::{EXIT_OK, output};
use crate::{heap, render::heap as render};

pub fn run(args: &HeapArgs) -> anyhow::Result<i32> {
    if let Some(path) = &args.output {
        // Fail on a missing folder before minutes of parsing, not after.
        output::check_folder(path)?;
    }
    let report = heap::analyse(&args.files, &heap::Options { quiet: args.quiet })?;
    let text = match args.format {
        Format::Json => render::json(&report),
        Format::Markdown => render::markdown(&report),
    };
    if !args.quiet {
        for warning in &report.warnings {
            eprintln!("warning: {warning}");
        }
    }
    match &args.output {
        Some(path) => output::write_atomic(path, text.as_bytes())?,
        None => output::print(&text)?,
    }
    Ok(EXIT_OK)
}
