//! `validate`: after a fix, decide resolved / leaking / inconclusive from fresh evidence,
//! say so with the exit code and JSON, and optionally update the draft, a textfile for
//! node_exporter and a Pushgateway.

use crate::analysis::{status, verdict};
use crate::cli::{ValidateArgs, ValidateFormat};
use crate::commands::attach;
use crate::config::{CollectConfig, ConfigError};
use crate::draft::place::Edits;
use crate::draft::session::Session;
use crate::draft::{DraftError, params::Params};
use crate::evidence::{StatusSource, Thresholds, Validation, Verdict};
use crate::output;
use crate::render::blocks::BlockId;
use crate::render::validation;
use crate::timespec::{self, display};
use base64::Engine;
use chrono::Utc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PushError {
    #[error("cannot push to the Pushgateway at {url}: {detail}")]
    Push { url: String, detail: String },
}

impl PushError {
    pub fn code(&self) -> i32 {
        crate::exit::OUTPUT
    }
}

pub const EXIT_RESOLVED: i32 = 0;
pub const EXIT_LEAKING: i32 = 1;
pub const EXIT_INCONCLUSIVE: i32 = 3;

pub fn exit_code(verdict: Verdict) -> i32 {
    match verdict {
        Verdict::Resolved => EXIT_RESOLVED,
        Verdict::Leaking => EXIT_LEAKING,
        Verdict::Inconclusive => EXIT_INCONCLUSIVE,
    }
}

fn time_error(flag: &'static str) -> impl Fn(timespec::TimeError) -> ConfigError {
    move |source| ConfigError::Time { flag, source }
}

/// The rows earlier runs wrote into the draft's Validation runs block.
fn previous_rows(draft: &Session) -> Vec<String> {
    draft
        .block(BlockId::ValidationRuns)
        .map(|content| {
            content
                .lines()
                .map(|l| l.trim_end_matches('\r'))
                .filter(|l| l.starts_with("| ") && !l.starts_with("| Checked"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

async fn push(url: &str, service: &str, body: String) -> Result<(), PushError> {
    let fail = |detail: String| PushError::Push {
        url: url.to_string(),
        detail,
    };
    // Grouping key job=leakcollect, service=<service>; base64 so any value is a path segment.
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(service);
    let target = format!(
        "{}/metrics/job/leakcollect/service@base64/{}",
        url.trim_end_matches('/'),
        if encoded.is_empty() {
            "=".to_string()
        } else {
            encoded
        }
    );
    let response = reqwest::Client::new()
        .put(&target)
        .header("Content-Type", "text/plain; version=0.0.4")
        .body(body)
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        return Err(fail(format!("HTTP {status}: {}", text.trim())));
    }
    Ok(())
}

pub async fn run(args: &ValidateArgs) -> anyhow::Result<i32> {
    let now = Utc::now();
    let max_growth = timespec::parse_rate(&args.max_growth).map_err(time_error("--max-growth"))?;
    if !(args.min_hours >= 0.0 && args.min_hours.is_finite()) {
        return Err(ConfigError::MinHours.into());
    }
    let before = timespec::parse_duration(&args.before).map_err(time_error("--before"))?;
    let wait =
        timespec::parse_duration(&args.write.lock_timeout).map_err(time_error("--lock-timeout"))?;

    // A textfile that cannot be written (a socket, a missing folder) fails before any query.
    if let Some(path) = &args.textfile {
        output::check_folder(path)?;
    }
    // With a draft, hold its folder's lock from reading the parameters to writing.
    let draft = match &args.draft {
        Some(path) => Some(Session::open(path, wait)?),
        None => None,
    };
    let recorded = draft.as_ref().map(Session::recorded).unwrap_or_default();
    let mut params = recorded.merged_with(&Params::given(&args.params));
    let label = args
        .draft
        .clone()
        .unwrap_or_else(|| "the command line".into());
    let fix_text = params
        .fix_deployed
        .clone()
        .ok_or(DraftError::MissingParam {
            path: label.clone(),
            flag: "--fix-deployed",
        })?;
    // With `auto` the fix is not known before the deploy series are read: without a
    // recorded --from, the window is the last --before, and the fix is looked for in it.
    let anchor = if fix_text
        .trim()
        .eq_ignore_ascii_case(crate::config::FIX_AUTO)
    {
        now
    } else {
        timespec::parse_time(&fix_text, now).map_err(time_error("--fix-deployed"))?
    };
    let mut effective: Params = params.clone();
    if effective.from.is_none() {
        effective.from = Some(display(
            anchor - chrono::Duration::from_std(before).unwrap_or_default(),
        ));
    }
    let collect = effective.collect_args(
        &label,
        args.write.queries.clone(),
        args.write.step.clone(),
        &args.prometheus,
    )?;
    let mut config = CollectConfig::from_args(&collect, now)?;
    // Data that stops before the period's end is what validate must notice: the window
    // is never cut back to the data.
    config.query.end_at_data = false;
    // The warm-up comes from the same place as attach's (recorded or given, else the
    // default), so both commands write the same After Fix block.
    let thresholds = Thresholds {
        max_growth_bytes_per_hour: max_growth,
        min_hours: args.min_hours,
        warmup_seconds: config.query.window.warmup.as_secs_f64(),
    };
    let mut evidence = crate::commands::collect::collect(&config).await?;
    // The Status says what this verdict says: one rule, one word.
    evidence.status = status::status(&evidence, &thresholds, StatusSource::Validate).map(|s| {
        crate::evidence::Status {
            checked_at: Some(now),
            ..s
        }
    });
    // The TL;DR states the Status: chosen again with this verdict's, and with the draft's
    // own facts and recorded cause.
    // The dashboard `attach --dashboard` writes is the draft's too: its link stays.
    if let Some(file) = params.dashboard.clone().filter(|_| args.draft.is_some()) {
        let uid = config
            .query
            .links
            .grafana_dashboard_uid
            .clone()
            .unwrap_or_else(|| crate::analysis::dashboard::default_uid(&evidence.service));
        let window = (evidence.window.from, evidence.window.to);
        evidence.grafana_dashboard = Some(crate::analysis::dashboard::link(
            &config.query,
            &uid,
            window,
            Some(file),
        ));
    }
    match &args.draft {
        Some(path) => {
            if let Some(s) = &evidence.status {
                crate::draft::facts::record_validation(&mut params, s.state, now);
            }
            let (facts, cause) = crate::draft::facts::facts(path, &params, evidence.fix_deployed);
            crate::analysis::summary::with_draft(&mut evidence, facts, cause);
        }
        None => {
            evidence.tldr = crate::analysis::summary::tldr(&evidence);
            evidence.lessons = crate::analysis::lessons::lessons(&evidence);
        }
    }
    let validation = verdict::judge(evidence, thresholds, now);
    let view = validation::view(
        &validation,
        draft.as_ref().map(previous_rows).unwrap_or_default(),
    );

    output::print(&match args.format {
        ValidateFormat::Json => crate::render::json::render(&validation),
        ValidateFormat::Text => validation::text(&validation),
        ValidateFormat::Markdown => validation::markdown(&validation, &view),
    })?;
    if !args.write.quiet {
        for warning in &validation.evidence.warnings {
            eprintln!("warning: {warning}");
        }
    }
    if args.dry_run {
        return Ok(exit_code(validation.verdict));
    }
    if let Some(path) = &args.textfile {
        output::write_atomic(
            path,
            crate::render::textfile::render(&validation).as_bytes(),
        )?;
    }
    if let Some(url) = &args.pushgateway {
        push(
            url,
            &validation.evidence.service,
            crate::render::textfile::render(&validation),
        )
        .await?;
    }
    if let Some(draft) = &draft {
        update_draft(draft, &params, &validation, &view, args)?;
    }
    Ok(exit_code(validation.verdict))
}

/// Writes the verdict into the draft. A block someone edited by hand is left as they
/// wrote it, with a warning: a scheduled validation keeps its verdict and exit code
/// (`--force` overwrites the edit).
fn update_draft(
    draft: &Session,
    params: &Params,
    validation: &Validation,
    view: &serde_json::Value,
    args: &ValidateArgs,
) -> Result<(), anyhow::Error> {
    let wanted = attach::rendered_blocks(&validation.evidence, params, Some(view));
    let edits = if args.write.force {
        Edits::Overwrite
    } else {
        Edits::Keep
    };
    let applied = draft.apply(&wanted, edits)?;
    for id in &applied.kept {
        eprintln!(
            "warning: {}: the {id} block was edited by hand since leakcollect wrote it; left as it is (move your text outside the block, or use --force to overwrite it)",
            draft.path.display()
        );
    }
    draft.write(&applied, !args.write.no_backup)?;
    Ok(())
}
