//! Why acquisition found nothing to analyse, each with the exit code it means. A no-data
//! message says which part of the request is wrong when the server can tell (the hint,
//! from [`super::diagnose`]); only without one does it fall back to the general advice.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum AcquireError {
    #[error(
        "no data: {selector} matched no series in {from} → {to}; {}",
        or_advice(hint, "check --service, --service-label, --selector and the window")
    )]
    NoData {
        selector: String,
        from: String,
        to: String,
        hint: String,
    },
    #[error(
        "no runtime metrics found for {selector} in {from} → {to}; {}",
        or_advice(hint, &format!("looked for {checked}: check --service, --service-label and --selector, or name a pack with --runtime"))
    )]
    NoRuntime {
        selector: String,
        from: String,
        to: String,
        checked: String,
        hint: String,
    },
    #[error(
        "no runtime metrics found under --selector {selector} in the window{hint} (looked for {checked}); check --selector, --service-label and the window, or name a pack with --runtime"
    )]
    NoFleet {
        selector: String,
        checked: String,
        hint: String,
    },
    #[error(
        "--fix-deployed auto: no deployment found for {selector} in {from} → {to}; looked for {looked_for}. Give the fix's time instead: --fix-deployed TIME"
    )]
    NoDeployment {
        selector: String,
        from: String,
        to: String,
        looked_for: String,
    },
    #[error("query {query_id} could not be prepared: {detail}")]
    Plan { query_id: String, detail: String },
}

/// The hint when there is one, else the general advice.
fn or_advice(hint: &str, advice: &str) -> String {
    if hint.is_empty() {
        advice.to_string()
    } else {
        hint.to_string()
    }
}

impl AcquireError {
    /// 3 when the server has nothing for the request, 2 when a pack query cannot be
    /// prepared with the given matchers.
    pub fn code(&self) -> i32 {
        match self {
            AcquireError::NoData { .. }
            | AcquireError::NoRuntime { .. }
            | AcquireError::NoFleet { .. }
            | AcquireError::NoDeployment { .. } => crate::exit::NO_DATA,
            AcquireError::Plan { .. } => crate::exit::USAGE,
        }
    }
}
