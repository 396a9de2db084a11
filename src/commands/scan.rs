//! `scan`: the fleet view. For every service (by the service label) under a selector,
//! the restart-aware growth per instance over a window, ranked, with the leaking ones
//! flagged — which report to write first. One series-API call finds each service's
//! runtime; then one range query per runtime pack covers all its services.

use crate::acquire::fleet::{self, Span};
use crate::acquire::normalise::Normalised;
use crate::acquire::plan::selector_text;
use crate::acquire::{PeriodName, detect, fetch, probe, steps};
use crate::analysis::{PeriodView, period};
use crate::config::{self, ConfigError};
use crate::evidence::QueryRecord;
use crate::evidence::scan::{Scan, ServiceRow};
use crate::pack::{self, Pack};
use crate::prom::Client;
use crate::timespec::format_duration;
use crate::timespec::{self, unix_seconds};
use promql_parser::label::Matcher;
use std::time::Duration;

pub async fn run(args: &crate::cli::ScanArgs) -> anyhow::Result<Scan> {
    let now = chrono::Utc::now();
    let mut window = config::parse_window(Some(&args.from), &args.to, None, now)?;
    let selector = match &args.selector {
        Some(text) => pack::parse_selector(text).map_err(|detail| ConfigError::Selector {
            text: text.clone(),
            detail,
        })?,
        None => Vec::new(),
    };
    let threshold = timespec::parse_rate(&args.min_growth).map_err(|source| ConfigError::Time {
        flag: "--min-growth",
        source,
    })?;
    let options = config::client_options(&args.prometheus)?;
    let held_back = config::hold_back(&mut window, now, options.latency_offset)?;
    let client = crate::acquire::requests::Requests::new(Client::new(options)?);
    let from = unix_seconds(window.from);
    let to = unix_seconds(window.to);
    let packs: Vec<Pack> = match args.runtime.as_str() {
        "auto" => pack::builtin_runtimes()
            .into_iter()
            .filter(|r| *r != "container")
            .map(|r| pack::load(r, args.queries.as_deref()))
            .collect::<Result<_, _>>()?,
        one => vec![pack::load(one, args.queries.as_deref())?],
    };
    let label = &args.service_label;
    let mut warnings: Vec<String> = held_back.into_iter().collect();
    let mut queries = Vec::new();
    let runtime_of =
        detect::detect_fleet(&client, &packs, &selector, label, (from, to), &mut queries).await?;
    note_warnings(&mut warnings, &queries);

    let given_step = config::parse_step(args.step.as_deref(), to - from)?;
    let step = given_step
        .unwrap_or_else(|| steps::window_step(to - from, None))
        .as_secs_f64();
    let mut rows = Vec::new();
    let mut normalised = Normalised::default();
    for p in &packs {
        let services: Vec<&String> = runtime_of
            .iter()
            .filter(|(_, r)| **r == p.runtime)
            .map(|(s, _)| s)
            .collect();
        if services.is_empty() {
            continue;
        }
        let fleet = Fleet {
            client: &client,
            pack: p,
            selector: &selector,
            span: Span {
                from,
                to,
                step,
                label,
            },
            threshold,
        };
        let mut analysed = fleet
            .fetch_and_analyse(&services, (step, false), &mut queries, &mut warnings)
            .await?;
        // Services whose lifetimes are too short for the step are asked again, finer.
        // Unless the step was given: then it is kept.
        if given_step.is_none() {
            fleet
                .refine(&mut analysed, &mut queries, &mut warnings)
                .await?;
        }
        fleet
            .top_routes(&mut analysed, &mut queries, &mut warnings)
            .await?;
        for a in analysed {
            rows.push(a.row);
            normalised.extend(a.normalised);
            warnings.extend(a.missing);
        }
    }
    warnings.extend(normalised.warnings());
    rows.sort_by(|a, b| {
        b.growth_bytes_per_hour
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.growth_bytes_per_hour.unwrap_or(f64::NEG_INFINITY))
    });
    Ok(Scan {
        schema: "leakcollect/scan/v1".into(),
        selector: selector_text(&selector),
        service_label: label.clone(),
        from: window.from,
        to: window.to,
        step_seconds: step,
        threshold_bytes_per_hour: threshold,
        services: rows,
        queries,
        warnings,
    })
}

/// One runtime's services under the selector.
struct Fleet<'a> {
    client: &'a crate::acquire::requests::Requests,
    pack: &'a Pack,
    selector: &'a [Matcher],
    span: Span<'a>,
    threshold: f64,
}

impl Fleet<'_> {
    /// Fetches `services` at `step` (restart counts only for those seen restarting) and
    /// analyses each; a service without memory series becomes a warning. `narrow`: ask
    /// for these services by name rather than for everything under the selector.
    async fn fetch_and_analyse(
        &self,
        services: &[&String],
        (step, narrow): (f64, bool),
        queries: &mut Vec<QueryRecord>,
        warnings: &mut Vec<String>,
    ) -> anyhow::Result<Vec<ServiceAnalysis>> {
        let span = Span { step, ..self.span };
        let mut matchers = self.selector.to_vec();
        if narrow {
            let names: Vec<&str> = services.iter().map(|s| s.as_str()).collect();
            matchers.push(fleet::service_matcher(span.label, &names)?);
        }
        let (records, mut fetched) =
            fleet::fetch_series(self.client, self.pack, &matchers, span).await?;
        note_queries(queries, warnings, records);
        let restarting: Vec<&str> = services
            .iter()
            .filter(|s| fleet::seen_restarting(&fetched, s))
            .map(|s| s.as_str())
            .collect();
        if !restarting.is_empty() {
            let mut narrowed = self.selector.to_vec();
            narrowed.push(fleet::service_matcher(span.label, &restarting)?);
            let (records, counts) =
                fleet::fetch_counts(self.client, self.pack, &narrowed, span).await?;
            note_queries(queries, warnings, records);
            fetched.extend(counts);
        }
        let mut jobs = Vec::new();
        for service in services {
            match fleet::take_service(&mut fetched, service, step, span.to) {
                Some(data) => jobs.push(((*service).clone(), data)),
                None => warnings.push(format!(
                    "{service}: {} metrics exist, but no {} series",
                    self.pack.title, self.pack.memory_name
                )),
            }
        }
        // The fetch is over; what is left is CPU (Theil–Sen per lifetime), one service
        // independent of the next, so it uses every core.
        Ok(parallel_map(jobs, |(service, data)| {
            analyse_service(&service, self.pack, data, span, self.threshold)
        }))
    }

    /// The second round for services whose median lifetime has too few points at the
    /// scan's step, by the rule collect uses (`steps::finer_step_for`).
    async fn refine(
        &self,
        analysed: &mut [ServiceAnalysis],
        queries: &mut Vec<QueryRecord>,
        warnings: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        let step = self.span.step;
        let short: Vec<usize> = (0..analysed.len())
            .filter(|i| analysed[*i].short_lifetime.is_some())
            .collect();
        if short.is_empty() {
            return Ok(());
        }
        let names: Vec<&String> = short.iter().map(|i| &analysed[*i].row.service).collect();
        let shortest = short
            .iter()
            .filter_map(|i| analysed[*i].short_lifetime)
            .fold(f64::INFINITY, f64::min);
        let series: usize = short.iter().map(|i| analysed[*i].series).sum();
        let mut narrowed = self.selector.to_vec();
        let plain: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        narrowed.push(fleet::service_matcher(self.span.label, &plain)?);
        let (interval, record) = probe::scrape_interval(
            self.client,
            self.pack,
            &narrowed,
            (self.span.from, self.span.to),
        )
        .await?;
        queries.extend(record);
        let Some(fine) = interval.and_then(|interval| {
            steps::finer_step_for(
                step,
                shortest,
                interval,
                series,
                self.span.to - self.span.from,
            )
        }) else {
            return Ok(());
        };
        let fine = fine.as_secs_f64();
        let again = self
            .fetch_and_analyse(&names, (fine, true), queries, warnings)
            .await?;
        let count = again.len();
        for result in again {
            if let Some(slot) = analysed
                .iter_mut()
                .find(|a| a.row.service == result.row.service)
            {
                *slot = result;
            }
        }
        warnings.push(format!(
            "{count} {} service(s) have short process lifetimes (shortest median {}): their memory series were fetched again at a {} step (the scan's step is {})",
            self.pack.title,
            format_duration(Duration::from_secs_f64(shortest.round())),
            format_duration(Duration::from_secs_f64(fine)),
            format_duration(Duration::from_secs_f64(step)),
        ));
        Ok(())
    }
}

impl Fleet<'_> {
    /// The top route of each leaking service: its per-route request counters (one
    /// request per leaking service) against the memory series kept for it.
    async fn top_routes(
        &self,
        analysed: &mut [ServiceAnalysis],
        queries: &mut Vec<QueryRecord>,
        warnings: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        for a in analysed.iter_mut() {
            let Some(mut kept) = a.kept.take() else {
                continue;
            };
            let mut matchers = self.selector.to_vec();
            matchers.push(pack::equal_matcher(self.span.label, &a.row.service));
            match fleet::fetch_route_requests(self.client, self.pack, &matchers, self.span).await {
                None => return Ok(()),
                Some(Err(failed)) => warnings.push(format!("{}: {failed}", a.row.service)),
                Some(Ok((record, series))) => {
                    note_queries(queries, warnings, vec![record]);
                    kept.data
                        .by_role
                        .insert(crate::pack::Role::RouteRequests, series);
                    let view = PeriodView::new(
                        PeriodName::Window,
                        (self.span.from, self.span.to),
                        &kept.data,
                        &kept.boundaries,
                        self.pack,
                    );
                    a.row.top_route = crate::analysis::routes::leak_by_route(&view, None).top;
                }
            }
        }
        Ok(())
    }
}

/// One service's figures from its memory and restart series at `step`.
struct ServiceAnalysis {
    /// A leaking service's memory series and lifetimes, kept for its top route.
    kept: Option<fleet::ServiceData>,
    row: ServiceRow,
    normalised: Normalised,
    /// Why figures are missing, named after the service.
    missing: Vec<String>,
    /// The median lifetime, when it has too few points at this step for a slope.
    short_lifetime: Option<f64>,
    /// Series the analysis read, for sizing a finer fetch.
    series: usize,
}

fn analyse_service(
    service: &str,
    pack: &Pack,
    fetched: fleet::ServiceData,
    span: Span<'_>,
    threshold: f64,
) -> ServiceAnalysis {
    let (from, to, step) = (span.from, span.to, span.step);
    let view = PeriodView::new(
        PeriodName::Window,
        (from, to),
        &fetched.data,
        &fetched.boundaries,
        pack,
    );
    let (figures, missing) = period::analyse_period(&view, &[]);
    let short_lifetime = steps::median_lifetime(&fetched.data, &fetched.boundaries, from, to)
        .filter(|l| l / step < steps::POINTS_PER_LIFETIME);
    let row = crate::analysis::scan::service_row(service, &pack.runtime, &figures, threshold);
    drop(view);
    let leaking = row.flag == crate::evidence::scan::Flag::Leaking;
    let series = fetched.series;
    let mut fetched = fetched;
    let normalised = std::mem::take(&mut fetched.normalised);
    ServiceAnalysis {
        row,
        kept: leaking.then_some(fetched),
        normalised,
        // Scan reads only the memory and restarts: only the growth's reason applies.
        missing: missing
            .into_iter()
            .filter(|m| m.starts_with("growth "))
            .map(|m| format!("{service}: {m}"))
            .collect(),
        short_lifetime,
        series,
    }
}

/// The server's warnings on the records noted so far.
fn note_warnings(warnings: &mut Vec<String>, records: &[QueryRecord]) {
    for record in records {
        warnings.extend(
            record
                .warnings
                .iter()
                .map(|w| fetch::prometheus_warning(&record.id, w)),
        );
    }
}

/// Adds a fetch's records to the scan's, and the server's warnings on them to its own.
fn note_queries(
    queries: &mut Vec<QueryRecord>,
    warnings: &mut Vec<String>,
    records: Vec<QueryRecord>,
) {
    note_warnings(warnings, &records);
    queries.extend(records);
}

/// `items.map(f)` in order, spread over the machine's cores in contiguous chunks.
fn parallel_map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads < 2 || items.len() < 2 {
        return items.into_iter().map(f).collect();
    }
    let chunk_len = items.len().div_ceil(threads);
    let mut chunks: Vec<Vec<T>> = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        chunks.push(items.by_ref().take(chunk_len).collect());
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a scan analysis thread panicked"))
            .collect()
    })
}

/// `leakcollect scan`: the fleet table (or Markdown, or JSON) on stdout.
pub async fn run_and_print(args: &crate::cli::ScanArgs) -> anyhow::Result<i32> {
    use crate::cli::ScanFormat;
    let mut scan = run(args).await?;
    if args.quiet && args.format != ScanFormat::Json {
        scan.warnings.clear();
    }
    crate::output::print(&match args.format {
        ScanFormat::Json => crate::render::json::render(&scan),
        ScanFormat::Table => crate::render::scan::table(&scan, false),
        ScanFormat::Markdown => crate::render::scan::table(&scan, true),
    })?;
    Ok(crate::exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_the_order_and_every_item() {
        for len in [0usize, 1, 2, 3, 17, 1000] {
            let items: Vec<usize> = (0..len).collect();
            let mapped = parallel_map(items, |i| i * 3 + 1);
            assert_eq!(mapped, (0..len).map(|i| i * 3 + 1).collect::<Vec<_>>());
        }
    }
}
