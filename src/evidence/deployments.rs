//! Deployments in and before the window (kube-state-metrics, build-info versions,
//! restart waves), where `--fix-deployed auto` took the fix from, and the leak's onset.
//! Filled by `analysis::deployments` and `analysis::onset`.

use serde::{Deserialize, Serialize};

/// Placeholder until deployments land (issue 17).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Deployment {}

/// Placeholder until deployments land (issue 17).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct FixSource {}

/// Placeholder until onset lands (issue 17).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Onset {}
