//! `collect` (the default command): acquire one service's window, analyse it into
//! [`Evidence`] and the charts' model, render the report (Markdown with charts, or
//! JSON) and write it.

use crate::acquire;
use crate::analysis::{self, Collected};
use crate::cli::{CollectArgs, Format};
use crate::config::CollectConfig;
use crate::evidence::Evidence;
use crate::{output, render};

/// The evidence for `config` (no charts: validate and rules draw none).
pub async fn collect(config: &CollectConfig) -> anyhow::Result<Evidence> {
    let acquired = acquire::acquire(config, analysis::deployments::pick_fix).await?;
    Ok(analysis::analyse(&config.query, &acquired))
}

/// Like [`collect`], keeping the series and with what the charts draw.
pub async fn collect_full(config: &CollectConfig) -> anyhow::Result<Collected> {
    let acquired = acquire::acquire(config, analysis::deployments::pick_fix).await?;
    let evidence = analysis::analyse(&config.query, &acquired);
    let charts = analysis::charts::chart_data(&acquired, &evidence);
    Ok(Collected {
        evidence,
        acquired,
        charts,
    })
}

/// `leakcollect --service … --from …`: the report on stdout or in `-o FILE` (`-o -`:
/// stdout), its charts beside the real file or in `--assets DIR`.
pub async fn run(args: &CollectArgs) -> anyhow::Result<i32> {
    let config = CollectConfig::from_args(args, chrono::Utc::now())?;
    // Where the report and its charts go is checked before any query: a typo in -o
    // costs nothing. `-o -` is standard output.
    let to_file = config
        .output
        .path
        .as_deref()
        .filter(|p| !output::is_stdout(p));
    let report = to_file.map(output::check_folder).transpose()?;
    let charts = (config.output.format == Format::Markdown)
        .then(|| {
            let given = config.output.path.as_deref();
            let beside = render::chart::assets_for;
            output::charts_place(given, report.as_ref(), args.assets.as_deref(), beside)
        })
        .transpose()?;
    let mut collected = collect_full(&config).await?;
    match charts {
        Some(output::ChartsPlace::Folder { dir, link_prefix }) => render::chart::write_all(
            &collected.charts,
            &mut collected.evidence,
            &dir,
            &link_prefix,
        )?,
        Some(output::ChartsPlace::Nowhere { note: Some(note) }) if !config.output.quiet => {
            eprintln!("note: {note}")
        }
        _ => {}
    }
    let evidence = collected.evidence;
    let text = match config.output.format {
        Format::Json => render::json::render(&evidence),
        Format::Markdown => render::evidence::report(&evidence, config.output.template.as_deref())?,
    };
    if !config.output.quiet {
        for warning in &evidence.warnings {
            eprintln!("warning: {warning}");
        }
    }
    output::emit(to_file, &text)?;
    Ok(crate::exit::OK)
}
