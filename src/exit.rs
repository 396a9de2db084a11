//! The documented exit codes, in one place. Each error type maps itself onto one of
//! them (`code()`); nothing falls through to `FINDINGS`, which only the commands that
//! report findings (validate's "leaking", `attach --check`, `queries check`) return.

/// Success (validate: resolved).
pub const OK: i32 = 0;
/// A finding: validate's "leaking", `attach --check` out of date, `queries check` problems.
pub const FINDINGS: i32 = 1;
/// Usage: bad flags, times, selectors, packs, templates.
pub const USAGE: i32 = 2;
/// No data for the request (validate: inconclusive).
pub const NO_DATA: i32 = 3;
/// Prometheus unreachable, or a query failed.
pub const PROMETHEUS: i32 = 4;
/// An output (file, draft, textfile, Pushgateway) could not be written.
pub const OUTPUT: i32 = 5;
/// An internal error: a bug in leakcollect (please report it with the message).
pub const INTERNAL: i32 = 70;
/// Interrupted (Ctrl-C): leakcollect installs no SIGINT handler, so the signal ends the
/// process and the shell reports 128 + 2. Files are replaced atomically, so an output or
/// a draft is left as it was or complete. Never returned by leakcollect itself.
pub const INTERRUPTED: i32 = 130;
