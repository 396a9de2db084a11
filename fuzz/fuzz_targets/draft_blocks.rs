//! Any text: parsing never loses a byte, and applying evidence keeps every byte outside
//! the blocks and is idempotent.
#![no_main]

use leakcollect::draft::blocks::{self, Segment};
use leakcollect::draft::place;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(segments) = blocks::parse(text) else { return };
    assert_eq!(blocks::join(&segments), text);
    let wanted: Vec<(String, Option<String>)> = ["status", "example-metrics", "timeline", "monitoring-data"]
        .iter()
        .map(|id| (id.to_string(), Some(format!("{id} content\n"))))
        .collect();
    let Ok(first) = place::apply(text, &wanted, true) else { return };
    let again = place::apply(&first.text, &wanted, false).expect("our own output parses and is unedited");
    assert_eq!(again.text, first.text);
    let outside = |t: &str| -> Vec<String> {
        blocks::parse(t)
            .unwrap()
            .into_iter()
            .filter_map(|s| if let Segment::Text(x) = s { Some(x) } else { None })
            .collect()
    };
    // Once placed, a refresh never touches text outside blocks.
    let mut wanted2 = wanted.clone();
    for w in &mut wanted2 {
        w.1 = w.1.as_ref().map(|c| c.replace("content", "changed"));
    }
    let second = place::apply(&first.text, &wanted2, false).unwrap();
    assert_eq!(outside(&second.text), outside(&first.text));
});
