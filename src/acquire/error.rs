//! Why acquisition found nothing to analyse, each with the exit code it means.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum AcquireError {
    #[error(
        "no data: {selector} matched no series between {from} and {to}{hint} (check --service, --service-label, --selector and the window)"
    )]
    NoData {
        selector: String,
        from: String,
        to: String,
        hint: String,
    },
    #[error(
        "no runtime metrics found for {selector} in the window{hint} (looked for {checked}); check --service, --service-label and --selector, or name a pack with --runtime"
    )]
    NoRuntime {
        selector: String,
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
    #[error("query {query_id} could not be prepared: {detail}")]
    Plan { query_id: String, detail: String },
}

impl AcquireError {
    /// 3 when the server has nothing for the request, 2 when a pack query cannot be
    /// prepared with the given matchers.
    pub fn code(&self) -> i32 {
        match self {
            AcquireError::NoData { .. }
            | AcquireError::NoRuntime { .. }
            | AcquireError::NoFleet { .. } => crate::exit::NO_DATA,
            AcquireError::Plan { .. } => crate::exit::USAGE,
        }
    }
}
