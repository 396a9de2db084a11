//! The alerts Prometheus evaluated for the service: the `ALERTS` series from
//! `--lookback` before the window to its end, and the rules API's groups.

/// Placeholder until detection lands (issue 17).
#[derive(Debug, Default, Clone)]
pub struct AlertData {}
