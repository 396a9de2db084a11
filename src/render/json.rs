//! JSON rendering: the evidence model as is (schema `schema/evidence.schema.json`).

use crate::evidence::Evidence;

pub fn render(evidence: &Evidence) -> String {
    let mut text = serde_json::to_string_pretty(evidence).expect("evidence always serializes");
    text.push('\n');
    text
}
