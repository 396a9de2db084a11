//! `init` and `attach`: create a draft from the team template with recorded parameters,
//! and fill its metrics sections with fresh evidence, safely (locked, atomic, backed up).

use crate::cli::{AttachArgs, InitArgs};
use crate::config::{self, CollectConfig};
use crate::draft::blocks::{self, Segment};
use crate::draft::params::Params;
use crate::draft::place::{self, ApplyError};
use crate::draft::{DraftError, write};
use crate::evidence::Evidence;
use crate::render::markdown;
use std::path::Path;

pub const TEAM_TEMPLATE: &str = include_str!("../../templates/team-report-template.md");
const PARAMS_ID: &str = "params";

/// What an attach run did, for the summary and the exit code.
#[derive(Debug)]
pub struct AttachOutcome {
    pub changed: bool,
    pub applied: place::Applied,
    pub evidence: Evidence,
    /// The parameters used (recorded, overridden by those given).
    pub params: Params,
}

/// The parameters recorded in a draft's params block, if it has one.
pub fn recorded_params(text: &str) -> Option<Params> {
    blocks::parse(text).ok()?.iter().find_map(|s| match s {
        Segment::Block(b) if b.id == PARAMS_ID => Params::from_block_content(&b.content),
        _ => None,
    })
}

pub fn malformed(path: &Path, error: blocks::ParseError) -> DraftError {
    DraftError::Malformed {
        path: path.to_path_buf(),
        line: error.line,
        detail: error.detail,
    }
}

pub fn init(args: &InitArgs) -> anyhow::Result<()> {
    let params = Params::given(&args.params);
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
    let wanted = vec![(PARAMS_ID.to_string(), Some(params.to_block_content()))];
    let applied = place::apply(TEAM_TEMPLATE, &wanted, false).map_err(|e| match e {
        ApplyError::Parse(p) => malformed(&args.draft, p),
        ApplyError::Edited { .. } => unreachable!("the template has no blocks"),
    })?;
    write::write(&args.draft, false, &applied.text, false)?;
    Ok(())
}

/// Every block the evidence fills, rendered; `None` for those it has nothing for.
/// `validation` is `validate`'s verdict view, for the blocks that show it.
pub fn rendered_blocks(
    evidence: &Evidence,
    params: &Params,
    validation: Option<&serde_json::Value>,
) -> Vec<(String, Option<String>)> {
    let mut wanted = vec![(PARAMS_ID.to_string(), Some(params.to_block_content()))];
    for (id, _) in markdown::BLOCKS {
        wanted.push((
            id.to_string(),
            markdown::render_block_with(evidence, id, validation),
        ));
    }
    wanted
}

/// The Investigation Steps' blocks from the heap snapshots or profiles the parameters
/// name (`--heap`, given now or recorded), each in the section it fills; none without.
fn heap_blocks(params: &Params, quiet: bool) -> anyhow::Result<Vec<(String, Option<String>)>> {
    use crate::render::heap::{self as render, Section};
    let Some(files) = params.heap.as_ref().filter(|f| !f.is_empty()) else {
        return Ok(Vec::new());
    };
    let paths: Vec<std::path::PathBuf> = files.iter().map(Into::into).collect();
    let report = crate::heap::analyse(&paths, &crate::heap::Options { quiet }).map_err(|e| {
        anyhow::Error::new(e).context(
            "reading the heap files (--heap, recorded in the draft's parameters: give --heap again with their current paths if they moved)",
        )
    })?;
    let mut blocks = Vec::new();
    for (id, section) in [
        ("heap-tools", Section::ToolsUsed),
        ("heap-snapshots", Section::SnapshotsCollected),
        ("heap-method", Section::Method),
        ("heap-findings", Section::Findings),
        ("heap-leaked-object", Section::LeakedObject),
        ("heap-retainer-path", Section::RetainerPath),
        ("heap-warnings", Section::Warnings),
        ("heap-pattern", Section::Pattern),
        ("heap-fix-strategy", Section::FixStrategy),
        ("heap-files", Section::AppendixFiles),
    ] {
        let mut text = render::section(&report, section);
        if section == Section::ToolsUsed {
            // A draft that attach fills always has the Prometheus evidence too.
            text = text.replace("- [ ] Prometheus metrics", "- [x] Prometheus metrics");
        }
        let text = text.trim_end_matches('\n').to_string();
        blocks.push((
            id.to_string(),
            (!text.trim().is_empty()).then(|| text + "\n"),
        ));
    }
    Ok(blocks)
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
    let _lock = write::lock(path, wait)?;
    let (bom, text) = write::read(path)?;
    blocks::parse(&text).map_err(|e| malformed(path, e))?;
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
    let params = recorded_params(&text)
        .unwrap_or_default()
        .merged_with(&given);
    // Heap files are read first: a bad one stops the run before any query or chart.
    let heap = heap_blocks(&params, args.write.quiet)?;
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
        crate::render::chart::write_all(&mut collected, &assets, &prefix)?;
    } else {
        crate::render::chart::plan_all(&mut collected, &prefix);
    }
    let evidence = collected.evidence;
    let mut wanted = rendered_blocks(&evidence, &params, None);
    wanted.extend(heap);
    // A Status written by `validate` carries its verdict; a plain refresh keeps it.
    let validated_status = blocks::parse(&text).ok().is_some_and(|segments| {
        segments.iter().any(|s| {
            matches!(s, Segment::Block(b) if b.id == "status" && b.content.contains("(validate"))
        })
    });
    if validated_status {
        wanted.retain(|(id, _)| id != "status");
    }
    let applied = place::apply(&text, &wanted, args.write.force).map_err(|e| match e {
        ApplyError::Parse(p) => malformed(path, p),
        ApplyError::Edited { id, diff } => DraftError::EditedBlock {
            path: path.clone(),
            id,
            diff,
        },
    })?;
    let changed = applied.text != text;
    let diff = place::unified_diff(&text, &applied.text, &path.display().to_string());
    if commit && changed {
        write::write(path, bom, &applied.text, !args.write.no_backup)?;
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
