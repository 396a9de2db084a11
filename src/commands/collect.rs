//! `collect`: acquire one service's window, analyse it into [`Evidence`] and the charts'
//! model (the renderer and the charts are called by `lib.rs`, which writes the output).

use crate::acquire;
use crate::analysis::{self, Analysed};
use crate::config::CollectConfig;
use crate::evidence::Evidence;

/// The evidence for `config` (no charts: validate and rules draw none).
pub async fn collect(config: &CollectConfig) -> anyhow::Result<Evidence> {
    let acquired = acquire::acquire(config, analysis::deployments::pick_fix).await?;
    Ok(analysis::analyse(config, &acquired))
}

/// Like [`collect`], keeping the series and with what the charts draw.
pub async fn collect_full(config: &CollectConfig) -> anyhow::Result<Analysed> {
    let acquired = acquire::acquire(config, analysis::deployments::pick_fix).await?;
    let evidence = analysis::analyse(config, &acquired);
    let charts = analysis::charts::chart_data(&acquired, &evidence);
    Ok(Analysed {
        evidence,
        acquired,
        charts,
    })
}
