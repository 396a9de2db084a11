//! JSON for every model, as it is (schemas in `schema/`): pretty, one trailing newline.

use serde::Serialize;

pub fn render(model: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(model).expect("the models always serialize");
    text.push('\n');
    text
}
