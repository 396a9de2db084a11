//! Any input to the time and duration parsers: an answer or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let now = chrono::DateTime::<chrono::Utc>::from_timestamp(1_795_600_000, 0).unwrap();
    let _ = leakcollect::timespec::parse_time(text, now);
    let _ = leakcollect::timespec::parse_duration(text);
});
