//! `validate`: after a fix, decide resolved / leaking / inconclusive from fresh evidence,
//! say so with the exit code and JSON, and optionally update the draft, a textfile for
//! node_exporter and a Pushgateway.

use crate::analysis::verdict;
use crate::cli::{ValidateArgs, ValidateFormat};
use crate::commands::attach;
use crate::config::{CollectConfig, ConfigError};
use crate::draft::blocks::{self, Segment};
use crate::draft::params::Params;
use crate::draft::place::{self, ApplyError};
use crate::draft::{DraftError, write};
use crate::evidence::{Thresholds, Validation, Verdict};
use crate::output::{self, OutputError};
use crate::render::markdown::{self, format_mb_per_hour};
use crate::timespec::{self, display};
use base64::Engine;
use chrono::Utc;
use serde_json::{Value, json};
use std::path::Path;
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

/// The view `validate` adds to the draft's blocks: status, timeline row, next review,
/// and the history of runs (`previous_rows` from the draft, plus this run).
fn validation_view(v: &Validation, previous_rows: Vec<String>) -> Value {
    let at = display(v.checked_at);
    let status_text = match v.verdict {
        Verdict::Resolved => format!("Resolved (validated {at}: {})", v.reason),
        Verdict::Leaking => format!("In Progress (validate {at}: still leaking — {})", v.reason),
        Verdict::Inconclusive => format!("Monitoring (validate {at}: inconclusive — {})", v.reason),
    };
    let next_review = match v.verdict {
        Verdict::Resolved => format!(
            "{} (a follow-up a week after the validation)",
            (v.checked_at + chrono::Duration::days(7)).format("%Y-%m-%d")
        ),
        Verdict::Inconclusive => match v.enough_data_at {
            Some(t) => format!("{} (enough data after the fix by then)", display(t)),
            None => format!(
                "{} (next scheduled validate)",
                display(v.checked_at + chrono::Duration::hours(1))
            ),
        },
        Verdict::Leaking => "after the next fix is deployed".to_string(),
    };
    let after = v.evidence.periods.after.as_ref();
    let growth = after
        .and_then(|p| p.growth_bytes_per_hour)
        .map(Value::from)
        .unwrap_or(Value::Null);
    let interval = after
        .and_then(|p| p.growth_interval_bytes_per_hour)
        .map(|[lo, hi]| {
            format!(
                " ({} to {})",
                format_mb_per_hour(&json!(lo)),
                format_mb_per_hour(&json!(hi))
            )
        })
        .unwrap_or_default();
    let oom = after
        .and_then(|p| p.oom_kills)
        .map_or("unknown".to_string(), |n| n.to_string());
    let verdict = serde_json::to_value(v.verdict)
        .ok()
        .and_then(|x| x.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut rows = previous_rows;
    rows.push(format!(
        "| {} | {:.1} | {}{} | {} | {} |",
        v.checked_at.format("%Y-%m-%d %H:%M"),
        v.hours_after_fix,
        format_mb_per_hour(&growth),
        interval,
        oom,
        verdict
    ));
    json!({
        "verdict": verdict,
        "resolved": v.verdict == Verdict::Resolved,
        "status_text": status_text,
        "reason": v.reason,
        "checked_at": v.checked_at,
        "next_review": next_review,
        "max_growth": v.thresholds.max_growth_bytes_per_hour,
        "min_hours": v.thresholds.min_hours,
        "rows": rows,
    })
}

/// The rows earlier runs wrote into the draft's Validation runs block.
fn previous_rows(text: &str) -> Vec<String> {
    let Ok(segments) = blocks::parse(text) else {
        return Vec::new();
    };
    segments
        .iter()
        .find_map(|s| match s {
            Segment::Block(b) if b.id == "validation-runs" => Some(
                b.content
                    .lines()
                    .map(|l| l.trim_end_matches('\r'))
                    .filter(|l| l.starts_with("| ") && !l.starts_with("| Checked"))
                    .map(str::to_string)
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_default()
}

fn text_report(v: &Validation) -> String {
    let e = &v.evidence;
    let mut out = format!(
        "{}: {}\nservice {} ({}), fix deployed {}, checked {}\n",
        serde_json::to_value(v.verdict)
            .ok()
            .and_then(|x| x.as_str().map(str::to_string))
            .unwrap_or_default(),
        v.reason,
        e.service,
        e.runtime,
        e.fix_deployed.map_or("n/a".into(), display),
        display(v.checked_at)
    );
    for (name, period) in [
        ("before the fix", e.periods.before.as_ref()),
        ("after the fix", e.periods.after.as_ref()),
    ] {
        if let Some(p) = period {
            out.push_str(&format!(
                "{name} ({} → {}, {:.1} h of data): growth {}{}, OOM kills {}, restarts {}\n",
                display(p.from),
                display(p.to),
                p.observed_hours,
                format_mb_per_hour(&json!(p.growth_bytes_per_hour)),
                p.growth_interval_bytes_per_hour
                    .map(|[lo, hi]| format!(
                        " (95% interval {} to {})",
                        format_mb_per_hour(&json!(lo)),
                        format_mb_per_hour(&json!(hi))
                    ))
                    .unwrap_or_default(),
                p.oom_kills.map_or("unknown".into(), |n| n.to_string()),
                p.restarts
            ));
        }
    }
    if let Some(t) = v.enough_data_at {
        out.push_str(&format!("enough data after the fix at {}\n", display(t)));
    }
    out
}

fn markdown_report(v: &Validation, view: &Value) -> String {
    let e = &v.evidence;
    let mut out = format!(
        "**Validation** ({}): **{}** — {}\n\n",
        display(v.checked_at),
        view["verdict"].as_str().unwrap_or_default(),
        markdown::inline_safe(&v.reason)
    );
    for id in ["after-fix", "improvement", "validation-runs"] {
        if let Some(block) = markdown::render_block_with(e, id, Some(view)) {
            out.push_str(&block);
            out.push('\n');
        }
    }
    out
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

    // With a draft, hold its folder's lock from reading the parameters to writing.
    let lock = match &args.draft {
        Some(path) => Some(write::lock(path, wait)?),
        None => None,
    };
    let draft_text = match &args.draft {
        Some(path) => {
            let (bom, text) = write::read(path)?;
            blocks::parse(&text).map_err(|e| attach::malformed(path, e))?;
            Some((bom, text))
        }
        None => None,
    };
    let recorded = draft_text
        .as_ref()
        .and_then(|(_, text)| attach::recorded_params(text))
        .unwrap_or_default();
    let params = recorded.merged_with(&crate::draft::params::Params::given(&args.params));
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
    let evidence = crate::commands::collect::collect(&config).await?;
    let validation = verdict::judge(evidence, thresholds, now);
    let view = validation_view(
        &validation,
        draft_text
            .as_ref()
            .map(|(_, t)| previous_rows(t))
            .unwrap_or_default(),
    );

    match args.format {
        ValidateFormat::Json => output::print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&validation).expect("validation serializes")
        ))?,
        ValidateFormat::Text => output::print(&text_report(&validation))?,
        ValidateFormat::Markdown => output::print(&markdown_report(&validation, &view))?,
    }
    if !args.write.quiet {
        for warning in &validation.evidence.warnings {
            eprintln!("warning: {warning}");
        }
    }
    if args.dry_run {
        drop(lock);
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
    if let (Some(path), Some((bom, text))) = (&args.draft, &draft_text) {
        update_draft(path, *bom, text, &params, &validation, &view, args)?;
    }
    drop(lock);
    Ok(exit_code(validation.verdict))
}

fn update_draft(
    path: &Path,
    bom: bool,
    text: &str,
    params: &Params,
    validation: &Validation,
    view: &Value,
    args: &ValidateArgs,
) -> Result<(), anyhow::Error> {
    let wanted = attach::rendered_blocks(&validation.evidence, params, Some(view));
    let applied = place::apply(text, &wanted, args.write.force).map_err(|e| match e {
        ApplyError::Parse(p) => attach::malformed(path, p),
        ApplyError::Edited { id, diff } => DraftError::EditedBlock {
            path: path.to_path_buf(),
            id,
            diff,
        },
    })?;
    if applied.text != text {
        write::write(path, bom, &applied.text, !args.write.no_backup)
            .map_err(|e: OutputError| anyhow::Error::from(e))?;
    }
    Ok(())
}
