//! Hidden `synth` command: writes a scenario's OpenMetrics file for demos and benchmarks.

use crate::cli::SynthArgs;
use crate::synth::Scenario;
use crate::timespec::{parse_duration, parse_time, unix_seconds};
use anyhow::{Context, bail};

pub fn run(args: &SynthArgs) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let from = unix_seconds(parse_time(&args.from, now)?);
    let to = unix_seconds(parse_time(&args.to, now)?);
    let interval = parse_duration(&args.interval)?.as_secs_f64();
    let Some(scenario) = Scenario::preset(
        &args.scenario,
        &args.service,
        from,
        to,
        args.instances,
        interval,
    ) else {
        bail!(
            "unknown scenario {:?}: use steady-leak, oom-sawtooth, fix-mid-window or no-leak",
            args.scenario
        );
    };
    let mut scenario = scenario;
    if let Some(range) = &args.only_instances {
        let parsed = range
            .split_once(':')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .filter(|(a, b)| a < b);
        let Some(bounds) = parsed else {
            bail!("--only-instances {range:?}: expected START:END with START < END, e.g. 0:30");
        };
        scenario.only_instances = Some(bounds);
    }
    if let Some(times) = &args.only_times {
        let start = unix_seconds(parse_time(&times[0], now)?);
        let end = unix_seconds(parse_time(&times[1], now)?);
        scenario.only_times = Some((start, end));
    }
    let mut text = Vec::new();
    scenario.write_openmetrics(&mut text)?;
    crate::output::write_atomic(&args.output, &text).context("writing synthetic data")?;
    Ok(())
}
