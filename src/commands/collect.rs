//! `collect` (the default command): acquire one service's window, analyse it into
//! [`Evidence`], render the report (Markdown with charts, or JSON) and write it.

use crate::acquire;
use crate::analysis::{self, Analysed};
use crate::cli::{CollectArgs, Format};
use crate::config::CollectConfig;
use crate::evidence::Evidence;
use crate::{output, render};

/// The evidence for `config`.
pub async fn collect(config: &CollectConfig) -> anyhow::Result<Evidence> {
    Ok(collect_full(config).await?.evidence)
}

/// Like [`collect`], keeping the series (for charts).
pub async fn collect_full(config: &CollectConfig) -> anyhow::Result<Analysed> {
    let acquired = acquire::acquire(config, analysis::deployments::pick_fix).await?;
    let evidence = analysis::analyse(config, &acquired);
    Ok(Analysed { evidence, acquired })
}

/// `leakcollect --service … --from …`: the report on stdout or in `-o FILE`.
pub async fn run(args: &CollectArgs) -> anyhow::Result<i32> {
    let config = CollectConfig::from_args(args, chrono::Utc::now())?;
    // Where the report goes is checked before any query: a typo in -o costs nothing.
    if let Some(path) = &config.output {
        output::check_folder(path)?;
    }
    let mut collected = collect_full(&config).await?;
    // Charts go next to a Markdown report written to a file: report.md → report-assets/.
    if let (Format::Markdown, Some(path)) = (config.format, &config.output) {
        let (dir, prefix) = render::chart::assets_for(path);
        render::chart::write_all(&mut collected, &dir, &prefix)?;
    }
    let evidence = collected.evidence;
    let text = match config.format {
        Format::Json => render::json::render(&evidence),
        Format::Markdown => render::evidence::report(&evidence, config.template.as_deref())?,
    };
    if !config.quiet {
        for warning in &evidence.warnings {
            eprintln!("warning: {warning}");
        }
    }
    match &config.output {
        Some(path) => output::write_atomic(path, text.as_bytes())?,
        None => output::print(&text)?,
    }
    Ok(crate::exit::OK)
}
