//! pprof heap profiles (gzip'd `profile.proto`): Go's `/debug/pprof/heap` and
//! `runtime/pprof.WriteHeapProfile`, Node.js `@datadog/pprof`. In-use objects and bytes
//! per allocation site first→last.
//!
//! A site is the leaf function (the first line of the first location: the innermost
//! inlined function), which is what `go tool pprof -top` calls "flat", so the deltas
//! agree with `go tool pprof -top -diff_base=first last`. The top few frames of the
//! site's biggest stack are kept to show where it is called from.
//!
//! Files: `format` (the protobuf messages), `decode` (reading and decoding a file, the
//! in-use sample types), `analysis` (sites, deltas, suspects: the registry's entry).

pub mod analysis;
pub mod decode;
pub mod format;

pub use analysis::analyse;

/// Decoded messages are a few times bigger than their wire form.
pub const MEMORY_PER_BYTE: f64 = 6.0;

/// Whether the first bytes are the start of a `profile.proto` message, in any field
/// order: every field tag seen is one of profile.proto's fields with its declared wire
/// type (Go writes period_type, 11, first; `go tool pprof -proto` writes sample_type, 1,
/// whose tag byte is a newline), varints and lengths well-formed up to where the bytes
/// stop. Text is never taken for one: a message has bytes that are not printable.
pub fn sniff(head: &[u8]) -> bool {
    head.len() > 2
        && !head
            .iter()
            .all(|c| c.is_ascii_graphic() || c.is_ascii_whitespace())
        && walk_fields(head)
}

/// The wire types profile.proto declares for a field: LEN for messages, strings and
/// packed repeated, VARINT for the int64s (`comment`, 13, may be either).
fn wire_type_ok(field: u64, wire: u64) -> bool {
    match field {
        1..=6 | 11 => wire == 2,
        7..=10 | 12 | 14 | 15 => wire == 0,
        13 => wire == 0 || wire == 2,
        _ => false,
    }
}

/// A varint at `pos`: its value and the position after it; None when the bytes stop
/// inside it (`Err` when it is longer than ten bytes: not a varint).
fn varint(head: &[u8], pos: usize) -> Result<Option<(u64, usize)>, ()> {
    let mut value = 0u64;
    for k in 0..10 {
        let Some(&b) = head.get(pos + k) else {
            return Ok(None);
        };
        value |= u64::from(b & 0x7f) << (7 * k);
        if b & 0x80 == 0 {
            return Ok(Some((value, pos + k + 1)));
        }
    }
    Err(())
}

/// Walks the top-level fields the bytes hold: at least one tag, every tag valid.
fn walk_fields(head: &[u8]) -> bool {
    let mut pos = 0;
    let mut fields = 0;
    while pos < head.len() {
        let Ok(Some((tag, next))) = varint(head, pos) else {
            return false;
        };
        let (field, wire) = (tag >> 3, tag & 7);
        if !wire_type_ok(field, wire) {
            return false;
        }
        fields += 1;
        match varint(head, next) {
            Err(()) => return false,
            Ok(None) => break,
            Ok(Some((value, after))) => {
                pos = if wire == 2 {
                    after.saturating_add(usize::try_from(value).unwrap_or(usize::MAX))
                } else {
                    after
                };
            }
        }
    }
    fields > 0
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn any_field_order_and_never_text() {
        // Go's runtime: period_type (11) first.
        assert!(sniff(&[0x5a, 0x04, 0x08, 0x01, 0x10, 0x02, 0x60, 0x01]));
        // `go tool pprof -proto`: sample_type (1) first, its tag byte a newline.
        assert!(sniff(&[0x0a, 0x04, 0x08, 0x01, 0x10, 0x02, 0x0a, 0x04]));
        // time_nanos (9) first, then a string table entry.
        assert!(sniff(&[0x48, 0x81, 0x01, 0x32, 0x00]));
        assert!(!sniff(b"\n\nphp hello world, this is text\n"));
        assert!(!sniff(b"{\"head\":{\"callFrame\":{}}}"));
        // A field number profile.proto does not have, and a wrong wire type.
        assert!(!sniff(&[0x80, 0x01, 0x02, 0x03]));
        assert!(!sniff(&[0x0b, 0x04, 0x08, 0x01]));
        assert!(!sniff(&[0x08, 0x01, 0x02]));
    }
}
