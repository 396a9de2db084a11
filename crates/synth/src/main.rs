//! `synth`: writes a scenario's OpenMetrics file for the demo and the benchmarks. A
//! development tool of its own, so the product binary carries no test-data generator.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use synth::Scenario;

#[derive(Debug, Parser)]
#[command(about = "Synthetic exporter data (OpenMetrics) of known ground truth")]
struct Args {
    /// Scenario: steady-leak, oom-sawtooth, fix-mid-window, no-leak.
    #[arg(long)]
    scenario: String,
    /// Service (job label) the series belong to.
    #[arg(long, default_value = "api")]
    service: String,
    /// Window start: Unix seconds or RFC 3339.
    #[arg(long)]
    from: String,
    /// Window end: Unix seconds or RFC 3339.
    #[arg(long)]
    to: String,
    /// Instances of the service.
    #[arg(long, default_value_t = 3)]
    instances: usize,
    /// Scrape interval of the generated samples: seconds with an `s`, `m` or `h` suffix.
    #[arg(long, default_value = "60s")]
    interval: String,
    /// Write only instances START..END (0-based, END excluded), for loading a large
    /// fleet in pieces.
    #[arg(long, value_name = "START:END")]
    only_instances: Option<String>,
    /// Write only samples from START (included) to END (excluded), same syntax as --from.
    #[arg(long, value_names = ["START", "END"], num_args = 2)]
    only_times: Option<Vec<String>>,
    /// Output file (OpenMetrics text with # EOF).
    #[arg(short, long)]
    output: PathBuf,
}

fn time(text: &str) -> Result<f64, String> {
    if let Ok(seconds) = text.parse::<f64>() {
        return Ok(seconds);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp() as f64)
        .map_err(|e| format!("{text:?} is neither Unix seconds nor RFC 3339: {e}"))
}

fn duration(text: &str) -> Result<f64, String> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let scale = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("{text:?}: give seconds with s, m or h, e.g. 15s")),
    };
    number
        .parse::<f64>()
        .map(|n| n * scale)
        .map_err(|_| format!("{text:?}: give seconds with s, m or h, e.g. 15s"))
}

fn run(args: Args) -> Result<(), String> {
    let (from, to) = (time(&args.from)?, time(&args.to)?);
    let interval = duration(&args.interval)?;
    let mut scenario = Scenario::preset(
        &args.scenario,
        &args.service,
        from,
        to,
        args.instances,
        interval,
    )
    .ok_or_else(|| {
        format!(
            "unknown scenario {:?}: use steady-leak, oom-sawtooth, fix-mid-window or no-leak",
            args.scenario
        )
    })?;
    if let Some(range) = &args.only_instances {
        let parsed = range
            .split_once(':')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .filter(|(a, b)| a < b);
        let Some(bounds) = parsed else {
            return Err(format!(
                "--only-instances {range:?}: expected START:END with START < END, e.g. 0:30"
            ));
        };
        scenario.only_instances = Some(bounds);
    }
    if let Some(times) = &args.only_times {
        scenario.only_times = Some((time(&times[0])?, time(&times[1])?));
    }
    let mut text = Vec::new();
    scenario
        .write_openmetrics(&mut text)
        .map_err(|e| e.to_string())?;
    // Written whole, then renamed: a reader never sees half a file.
    let temp = args.output.with_extension("om.partial");
    std::fs::write(&temp, &text)
        .and_then(|()| std::fs::rename(&temp, &args.output))
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
