//! `collect`: acquire one service's window, analyse it into [`Evidence`] (the renderer
//! and the charts are called by `lib.rs`, which writes the output).

use crate::acquire;
use crate::analysis::{self, Analysed};
use crate::config::CollectConfig;
use crate::evidence::Evidence;

/// The evidence for `config`.
pub async fn collect(config: &CollectConfig) -> anyhow::Result<Evidence> {
    Ok(collect_full(config).await?.evidence)
}

/// Like [`collect`], keeping the series (for charts).
pub async fn collect_full(config: &CollectConfig) -> anyhow::Result<Analysed> {
    let acquired = acquire::acquire(config, analysis::deployments::pick_fix).await?;
    let evidence = analysis::analyse(&config.query, &acquired);
    Ok(Analysed { evidence, acquired })
}
