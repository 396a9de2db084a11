//! How the leak was detected: the first alert that fired for the service (from the
//! `ALERTS` series) and the rule behind it (from the rules API), or, when none fired,
//! when a `leakcollect rules` alert would have. Filled by `analysis::detection`.

use serde::{Deserialize, Serialize};

/// Placeholder until detection lands (issue 17).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Detection {}
