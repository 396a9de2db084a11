//! Rendering the heap model ([`crate::heap::model::HeapReport`]): JSON, and Markdown for
//! the report template's Investigation Steps and Appendix (`markdown`: the partials and
//! sections; `view`: the values they show). `heap` decides, this only formats; MB are
//! 10^6 bytes, formatted by [`mb`] alone.

pub mod markdown;
pub mod view;

pub use markdown::{Section, markdown, section};

use crate::heap::model::HeapReport;

/// The report as JSON (`schema/heap.schema.json`).
pub fn json(report: &HeapReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("the heap report serializes");
    text.push('\n');
    text
}

/// Megabytes (10^6 bytes), signed when asked: the units module's size rule
/// ([`crate::units::mb`]), the same as the rest of the report.
pub fn mb(bytes: i64, signed: bool) -> String {
    if signed {
        crate::units::mb_signed(bytes as f64)
    } else {
        crate::units::mb(bytes as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::mb;

    #[test]
    fn megabytes_are_decimal() {
        assert_eq!(mb(1_500_000, true), "+1.5 MB");
        assert_eq!(mb(-250_000, true), "-0.250 MB");
        assert_eq!(mb(123_456_789, false), "123.5 MB");
    }
}
