//! `init` and `attach`: create a draft from the team template with recorded parameters,
//! and fill its metrics sections with fresh evidence, safely (locked, atomic, backed up).

use crate::cli::{AttachArgs, InitArgs};
use crate::config::{self, CollectConfig};
use crate::draft::params::Params;
use crate::draft::place::{self, Edits};
use crate::draft::session::{self, Session};
use crate::draft::{DraftError, write};
use crate::evidence::Evidence;
use crate::render::blocks::{self, BlockId, TEAM_TEMPLATE, Writer};
use std::path::Path;

/// What an attach run did, for the summary and the exit code.
#[derive(Debug)]
pub struct AttachOutcome {
    pub changed: bool,
    pub applied: place::Applied,
    pub evidence: Evidence,
    /// The parameters used (recorded, overridden by those given).
    pub params: Params,
}

pub fn init(args: &InitArgs) -> anyhow::Result<()> {
    let mut params = Params::given(&args.params);
    params.started_at = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    params.investigator = args.investigator.clone().filter(|n| !n.trim().is_empty());
    let service = params.service.as_deref().ok_or(DraftError::MissingParam {
        path: args.draft.clone(),
        flag: "--service",
    })?;
    if service.is_empty() {
        return Err(DraftError::MissingParam {
            path: args.draft.clone(),
            flag: "--service",
        }
        .into());
    }
    // Check the times now, so a typo is caught at init rather than at the first attach.
    config::parse_window(
        params.from.as_deref(),
        params.to.as_deref().unwrap_or("now"),
        params.fix_deployed.as_deref(),
        chrono::Utc::now(),
    )?;
    // `init incidents/api.md` in a fresh checkout: the folder is part of the path given.
    if let Some(dir) = args
        .draft
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::create_dir_all(dir).map_err(|source| DraftError::CreateFolder {
            dir: dir.to_path_buf(),
            source,
        })?;
    }
    let _lock = write::lock(&args.draft, std::time::Duration::from_secs(60))?;
    if args.draft.exists() && !args.force {
        return Err(DraftError::Exists {
            path: args.draft.clone(),
        }
        .into());
    }
    let wanted = vec![(
        BlockId::Params.name().to_string(),
        Some(params.to_block_content()),
    )];
    let applied = place::apply(TEAM_TEMPLATE, &wanted, Edits::Refuse).map_err(|e| match e {
        place::ApplyError::Parse(p) => session::malformed(&args.draft, p),
        place::ApplyError::Edited { .. } => unreachable!("the template has no blocks"),
    })?;
    write::write(&args.draft, false, &applied.text, false)?;
    Ok(())
}

/// Every block the evidence fills, rendered; `None` for those it has nothing for.
/// `validation` is `validate`'s verdict view (`render::validation::view`), for the blocks
/// that show it.
pub fn rendered_blocks(
    evidence: &Evidence,
    params: &Params,
    validation: Option<&serde_json::Value>,
) -> Vec<(String, Option<String>)> {
    let mut wanted = vec![(
        BlockId::Params.name().to_string(),
        Some(params.to_block_content()),
    )];
    for b in blocks::written_by(Writer::Evidence).chain(blocks::written_by(Writer::Validate)) {
        wanted.push((
            b.name.to_string(),
            crate::render::evidence::block(evidence, b.id, validation),
        ));
    }
    wanted
}

/// The Investigation Steps' blocks from the heap snapshots or profiles the parameters
/// name (`--heap`, given now or recorded), each in the section it fills; none without.
/// With them, the cause the heap evidence names is recorded in `params`.
fn heap_blocks(
    params: &mut Params,
    given: bool,
    quiet: bool,
) -> anyhow::Result<Vec<(String, Option<String>)>> {
    use crate::render::heap::{self as render, Section};
    let Some(files) = params.heap.as_ref().filter(|f| !f.is_empty()) else {
        // Without heap files the draft still used Prometheus metrics: say so.
        return Ok(vec![(
            BlockId::HeapTools.name().to_string(),
            Some(crate::render::evidence::tools_used_prometheus_only()),
        )]);
    };
    let paths: Vec<std::path::PathBuf> = files.iter().map(Into::into).collect();
    let options = crate::heap::Options {
        quiet,
        source: params.source.as_ref().map(Into::into),
    };
    let report = crate::heap::analyse(&paths, &options).map_err(|e| {
        anyhow::Error::new(e).context(
            "reading the heap files (--heap, recorded in the draft's parameters: give --heap again with their current paths if they moved)",
        )
    })?;
    crate::draft::facts::record_cause(
        params,
        crate::heap::cause(&report),
        given,
        chrono::Utc::now(),
    );
    let mut out = Vec::new();
    for (id, section) in [
        (BlockId::HeapTools, Section::ToolsUsed),
        (BlockId::HeapSnapshots, Section::SnapshotsCollected),
        (BlockId::HeapMethod, Section::Method),
        (BlockId::HeapFindings, Section::Findings),
        (BlockId::HeapLeakedObject, Section::LeakedObject),
        (BlockId::HeapRetainerPath, Section::RetainerPath),
        (BlockId::HeapWarnings, Section::Warnings),
        (BlockId::HeapPattern, Section::Pattern),
        (BlockId::HeapFixStrategy, Section::FixStrategy),
        (BlockId::HeapFiles, Section::AppendixFiles),
        (BlockId::HeapVulnerableCode, Section::VulnerableCode),
        (BlockId::HeapWhyLeaks, Section::WhyLeaks),
    ] {
        let mut text = render::section(&report, section);
        if section == Section::ToolsUsed {
            // A draft that attach fills always has the Prometheus evidence too.
            text = text.replace("- [ ] Prometheus metrics", "- [x] Prometheus metrics");
        }
        let text = text.trim_end_matches('\n').to_string();
        out.push((
            id.name().to_string(),
            (!text.trim().is_empty()).then(|| text + "\n"),
        ));
    }
    Ok(out)
}

/// Paths recorded absolute, so a later attach from another folder (CI) finds them.
fn absolute(paths: &[std::path::PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        .map(|p| p.display().to_string())
        .collect()
}

/// The GC Logs appendix from the logs the parameters name (`--gc-log`, given now or
/// recorded), and their box ticked in the Tools Used list among `heap`'s blocks; none
/// without.
fn gc_log_blocks(
    params: &Params,
    heap: &mut [(String, Option<String>)],
) -> anyhow::Result<Vec<(String, Option<String>)>> {
    let Some(files) = params.gc_log.as_ref().filter(|f| !f.is_empty()) else {
        return Ok(Vec::new());
    };
    let paths: Vec<std::path::PathBuf> = files.iter().map(Into::into).collect();
    let log = crate::gclog::read(&paths).map_err(|e| {
        anyhow::Error::new(e).context(
            "reading the GC logs (--gc-log, recorded in the draft's parameters: give --gc-log again with their current paths if they moved)",
        )
    })?;
    let report = crate::analysis::gclog::gc_log_report(&log);
    for (id, text) in heap.iter_mut() {
        if id == BlockId::HeapTools.name()
            && let Some(tools) = text
        {
            *tools = crate::render::gclog::tick_tools(tools, &report);
        }
    }
    Ok(vec![(
        BlockId::GcLogs.name().to_string(),
        Some(crate::render::gclog::appendix(&report)),
    )])
}

/// Applies fresh evidence to the draft at `path`; the draft is written only when
/// `commit` and something changed.
pub async fn attach(args: &AttachArgs, commit: bool) -> anyhow::Result<(AttachOutcome, String)> {
    let path = &args.draft;
    let wait = crate::timespec::parse_duration(&args.write.lock_timeout).map_err(|source| {
        config::ConfigError::Time {
            flag: "--lock-timeout",
            source,
        }
    })?;
    let draft = Session::open(path, wait)?;
    let mut given = Params::given(&args.params);
    if !args.heap.is_empty() {
        // Recorded absolute, so a later attach from another folder (CI) finds them.
        given.heap = Some(
            args.heap
                .iter()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
                .map(|p| p.display().to_string())
                .collect(),
        );
    }
    if let Some(dir) = &args.source {
        // A folder that is not there is refused before anything is read or written.
        crate::heap::source::check_dir(dir)?;
        given.source = Some(
            std::path::absolute(dir)
                .unwrap_or_else(|_| dir.clone())
                .display()
                .to_string(),
        );
    }
    if let Some(file) = &args.dashboard {
        // Recorded absolute, like the heap files.
        let file = std::path::absolute(file).unwrap_or_else(|_| file.clone());
        given.dashboard = Some(file.display().to_string());
    }
    if !args.gc_log.is_empty() {
        given.gc_log = Some(absolute(&args.gc_log));
    }
    let mut params = draft.recorded().merged_with(&given);
    // A dashboard path that cannot be written stops the run before any query.
    if let Some(file) = &params.dashboard {
        crate::output::check_folder(Path::new(file))?;
    }
    // Heap files and GC logs are read first: a bad one stops the run before any query
    // or chart.
    let mut heap = heap_blocks(&mut params, !args.heap.is_empty(), args.write.quiet)?;
    let gc_logs = gc_log_blocks(&params, &mut heap)?;
    heap.extend(gc_logs);
    let collect = params.collect_args(
        path,
        args.write.queries.clone(),
        args.write.step.clone(),
        &args.prometheus,
    )?;
    let config = CollectConfig::from_args(&collect, chrono::Utc::now())?;
    let mut collected = crate::commands::collect::collect_full(&config).await?;
    // Charts go next to the draft (DRAFT-assets/), written only when the draft is.
    let (assets, prefix) = crate::render::chart::assets_for(path);
    if commit {
        crate::render::chart::write_all(
            &collected.charts,
            &mut collected.evidence,
            &assets,
            &prefix,
        )?;
    } else {
        crate::render::chart::plan_all(&collected.charts, &mut collected.evidence, &prefix);
    }
    if let Some(file) = &params.dashboard {
        let text = dashboard(&config, &mut collected, file, args.write.queries.as_deref())?;
        if commit {
            crate::output::emit(Some(Path::new(file)), &text)?;
        }
    }
    let mut evidence = collected.evidence;
    let (facts, cause) = crate::draft::facts::facts(path, &params, evidence.fix_deployed);
    crate::analysis::summary::with_draft(&mut evidence, facts, cause);
    let mut wanted = rendered_blocks(&evidence, &params, None);
    wanted.extend(heap);
    // A Status written by `validate` carries its verdict; a plain refresh keeps it.
    if draft
        .block(BlockId::Status)
        .is_some_and(|c| c.contains("(validate"))
    {
        wanted.retain(|(id, _)| id != BlockId::Status.name());
    }
    let applied = draft.apply(&wanted, Edits::from(args.write.force))?;
    let changed = draft.changes(&applied);
    let diff = draft.diff(&applied);
    if commit {
        draft.write(&applied, !args.write.no_backup)?;
    }
    Ok((
        AttachOutcome {
            changed,
            applied,
            evidence,
            params,
        },
        diff,
    ))
}

/// The dashboard `attach --dashboard FILE` writes, and the evidence's record of it (the
/// report's Dashboard lines and action item read it).
fn dashboard(
    config: &CollectConfig,
    collected: &mut crate::analysis::Collected,
    file: &str,
    queries: Option<&Path>,
) -> anyhow::Result<String> {
    use crate::analysis::dashboard;
    let evidence = &collected.evidence;
    let pack = crate::pack::load(&evidence.runtime, queries)?;
    let uid = config.query.links.grafana_dashboard_uid.as_deref();
    let plan = dashboard::plan(&config.query, &pack, evidence, &collected.charts, uid)?;
    let window = (evidence.window.from, evidence.window.to);
    collected.evidence.grafana_dashboard = Some(dashboard::link(
        &config.query,
        &plan.uid,
        window,
        Some(file.to_string()),
    ));
    Ok(crate::render::dashboard::render(&plan))
}

/// `leakcollect init DRAFT …`.
pub fn run_init(args: &InitArgs) -> anyhow::Result<i32> {
    init(args)?;
    eprintln!(
        "created {}; fill it with `leakcollect attach {}`",
        args.draft.display(),
        args.draft.display()
    );
    Ok(crate::exit::OK)
}

/// `leakcollect attach DRAFT …` (`--check`, `--diff`: without writing).
pub async fn run(args: &AttachArgs) -> anyhow::Result<i32> {
    let dry_run = args.check || args.diff;
    let (outcome, diff) = attach(args, !dry_run).await?;
    if args.diff {
        crate::output::print(&diff)?;
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
                crate::draft::blocks::EVIDENCE_HEADING.trim_start_matches("## ")
            );
        } else {
            eprintln!("{} is up to date", args.draft.display());
        }
        if !a.left.is_empty() {
            eprintln!(
                "not written, because a person already wrote those lines: {} (put the template's placeholder line back to have leakcollect fill it)",
                a.left.join(", ")
            );
        }
    }
    Ok(if args.check && outcome.changed {
        crate::exit::FINDINGS
    } else {
        crate::exit::OK
    })
}

/// Why `attach --check` found the draft out of date: which blocks would change, and,
/// when the window's end is not pinned, that it moves with every run.
fn out_of_date(draft: &Path, outcome: &AttachOutcome) -> String {
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
            crate::timespec::display(
                outcome
                    .evidence
                    .window
                    .requested_to
                    .unwrap_or(outcome.evidence.window.to)
            )
        ));
    }
    text
}
