//! Property tests of draft editing: over generated drafts (the team template cut,
//! reordered and written around, CRLF or LF, Unicode), attach keeps every byte outside
//! its blocks, is idempotent, and updates its blocks.

use leakcollect::draft::blocks::{self, Segment};
use leakcollect::draft::place;
use proptest::prelude::*;

const TEMPLATE: &str = include_str!("../../templates/team-report-template.md");
/// Every block the report has, and params.
fn ids() -> Vec<&'static str> {
    leakcollect::render::blocks::BLOCKS
        .iter()
        .filter(|b| b.writer != leakcollect::render::blocks::Writer::Heap)
        .map(|b| b.name)
        .collect()
}

fn wanted(version: u32) -> Vec<(String, Option<String>)> {
    ids()
        .into_iter()
        .map(|id| {
            let content = match id {
                "monitoring-data" => {
                    format!("```\nPrometheus query: q{version}\nAlert rule: [a]\n```\n")
                }
                "timeline" => format!("| 11-25 23:12 | Fix deployed | v{version} |\n"),
                _ => format!("{id} evidence v{version}\nsecond line ünïcødé\n"),
            };
            (id.to_string(), Some(content))
        })
        .collect()
}

fn outside_text(text: &str) -> Vec<String> {
    blocks::parse(text)
        .unwrap()
        .into_iter()
        .filter_map(|s| match s {
            Segment::Text(t) => Some(t),
            Segment::Block(_) => None,
        })
        .collect()
}

/// Human text that never looks like a leakcollect marker.
fn human_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .,:;()*_#|\\[\\]-]{0,40}",
        "\\PC{0,30}",
        Just("<!-- a comment of the author's -->".to_string()),
        Just("   trailing spaces   ".to_string()),
        Just("\tindented with a tab".to_string()),
    ]
    .prop_filter("not a leakcollect marker", |l| !l.contains("leakcollect:"))
}

/// A draft made from the template: sections (split at `## `) shuffled or dropped, and
/// human lines inserted anywhere.
fn draft() -> impl Strategy<Value = String> {
    let sections: Vec<String> = {
        let mut out = vec![String::new()];
        for line in TEMPLATE.split_inclusive('\n') {
            if line.starts_with("## ") {
                out.push(String::new());
            }
            out.last_mut().unwrap().push_str(line);
        }
        out
    };
    let n = sections.len();
    (
        Just(sections),
        proptest::sample::subsequence((1..n).collect::<Vec<_>>(), 0..n),
        any::<bool>(),
        proptest::collection::vec((0..400usize, human_line()), 0..12),
        any::<u64>(),
    )
        .prop_map(|(sections, keep, crlf, inserts, seed)| {
            // Head section first, then the kept ones in a seed-dependent order.
            let mut order = keep;
            let len = order.len();
            if len > 1 {
                order.rotate_left((seed as usize) % len);
            }
            let mut text = sections[0].clone();
            for i in order {
                text.push_str(&sections[i]);
            }
            let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
            for (at, line) in inserts {
                let at = at % (lines.len() + 1);
                lines.insert(at, format!("{line}\n"));
            }
            let text: String = lines.concat();
            if crlf {
                text.replace('\n', "\r\n")
            } else {
                text
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn attach_keeps_human_text_and_is_idempotent(
        base in draft(),
        edits in proptest::collection::vec((0..1000usize, human_line()), 0..8),
    ) {
        let first = place::apply(&base, &wanted(1), false).unwrap();
        // The input survives as the prefix of every text segment run: nothing a person
        // wrote is lost (placeholders replaced are the template's, not the person's).
        let again = place::apply(&first.text, &wanted(1), false).unwrap();
        prop_assert_eq!(&again.text, &first.text, "not idempotent");
        prop_assert!(again.updated.is_empty());

        // A person writes around and between the blocks…
        let mut segments = blocks::parse(&first.text).unwrap();
        let eol = blocks::line_ending(&first.text);
        for (at, line) in &edits {
            let at = at % (segments.len() + 1);
            segments.insert(at, Segment::Text(format!("{line}{eol}")));
        }
        let edited = blocks::join(&segments);
        // …and a refresh with new evidence changes only the blocks.
        let second = place::apply(&edited, &wanted(2), false).unwrap();
        prop_assert_eq!(outside_text(&second.text), outside_text(&edited));
        prop_assert!(second.placed.is_empty() && second.appended.is_empty());
        for segment in blocks::parse(&second.text).unwrap() {
            if let Segment::Block(b) = segment {
                prop_assert!(b.content.contains("v2") || b.content.contains("q2"), "{} not updated", b.id);
                prop_assert!(!blocks::edited(&b));
            }
        }
        if base.contains("\r\n") {
            prop_assert!(!second.text.replace("\r\n", "").contains('\n'), "CRLF draft got LF lines");
        }
        // Every block exists exactly once, wherever it went — except those written only
        // in their placeholder's place, whose placeholder the cut draft lacks.
        let found: Vec<String> = blocks::parse(&second.text).unwrap().into_iter().filter_map(|s| match s {
            Segment::Block(b) => Some(b.id),
            _ => None,
        }).collect();
        prop_assert_eq!(found.len() + first.left.len(), ids().len());
        for id in &first.left {
            let only_in_place = leakcollect::render::blocks::BlockId::from_name(id)
                .is_some_and(|b| b.spec().only_in_place);
            prop_assert!(only_in_place && !found.contains(id), "{} left out", id);
        }
        prop_assert!(again.left == first.left && second.left == first.left);
    }

    #[test]
    fn parse_never_loses_bytes(text in "(\\PC|\r|\n|<!-- leakcollect:(begin|end) id=[a-z]{1,3} -->\n){0,60}") {
        if let Ok(segments) = blocks::parse(&text) {
            prop_assert_eq!(blocks::join(&segments), text);
        }
    }
}

/// Inputs the fuzzer (fuzz/fuzz_targets/draft_blocks.rs) once broke: lone `\r`s and
/// files without a final newline made a second attach differ from the first.
#[test]
fn fuzz_regressions_stay_fixed() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz-regressions");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        count += 1;
        let wanted: Vec<(String, Option<String>)> =
            ["status", "example-metrics", "timeline", "monitoring-data"]
                .iter()
                .map(|id| (id.to_string(), Some(format!("{id} content\n"))))
                .collect();
        let first = place::apply(text, &wanted, true).unwrap();
        let again = place::apply(&first.text, &wanted, false).unwrap();
        assert_eq!(again.text, first.text);
    }
    assert!(count >= 2);
}
