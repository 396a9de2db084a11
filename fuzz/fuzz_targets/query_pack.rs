//! Any text as a query pack: loaded and checked, or refused with an error naming the
//! file and line — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(pack) = leakcollect::pack::parse(text, "fuzz.toml") {
        for query in &pack.queries {
            let _ = leakcollect::pack::inject(
                &query.promql.replace(leakcollect::pack::RANGE_PLACEHOLDER, "1h"),
                &[leakcollect::pack::equal_matcher("job", "x\"}")],
            );
        }
    }
});
