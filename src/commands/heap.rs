//! `leakcollect heap FILE…`: read the snapshots or profiles, analyse, render, write.
//! Nothing is written when any file fails, so no partial output file exists.

use crate::cli::{Format, HeapArgs};
use crate::exit::OK as EXIT_OK;
use crate::output;
use crate::{heap, render::heap as render};

pub fn run(args: &HeapArgs) -> anyhow::Result<i32> {
    // Fail on a missing folder before minutes of parsing, not after; `-o -` is stdout.
    let to_file = args.output.as_deref().filter(|p| !output::is_stdout(p));
    if let Some(path) = to_file {
        output::check_folder(path)?;
    }
    let report = heap::analyse(
        &args.files,
        &heap::Options {
            quiet: args.quiet,
            source: args.source.clone(),
        },
    )?;
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
