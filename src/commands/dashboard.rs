//! `dashboard`: an importable Grafana dashboard for one service's window, built from
//! the same evidence (and the same queries) as the report: acquire → analyse →
//! `analysis::dashboard::plan` → `render::dashboard` → the one output writer.

use crate::cli::DashboardArgs;
use crate::config::CollectConfig;
use crate::{analysis, output, pack, render};

/// `leakcollect dashboard`: the dashboard JSON on stdout or in `-o FILE` (`-` stdout).
pub async fn run(args: &DashboardArgs) -> anyhow::Result<i32> {
    let params = crate::draft::params::Params::given(&args.params);
    let collect = params.collect_args(
        std::path::Path::new("the command line"),
        args.queries.clone(),
        args.step.clone(),
        &args.prometheus,
    )?;
    let config = CollectConfig::from_args(&collect, chrono::Utc::now())?;
    // A typo in -o costs no query.
    let to_file = args.output.as_deref().filter(|p| !output::is_stdout(p));
    to_file.map(output::check_folder).transpose()?;
    let collected = crate::commands::collect::collect_full(&config).await?;
    let evidence = &collected.evidence;
    let pack = pack::load(&evidence.runtime, args.queries.as_deref())?;
    let uid = config.query.links.grafana_dashboard_uid.as_deref();
    let plan = analysis::dashboard::plan(&config.query, &pack, evidence, &collected.charts, uid)?;
    if !args.quiet {
        for warning in &evidence.warnings {
            eprintln!("warning: {warning}");
        }
    }
    output::emit(to_file, &render::dashboard::render(&plan))?;
    Ok(crate::exit::OK)
}
