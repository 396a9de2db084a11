//! Finding and replacing leakcollect-owned blocks in a draft, byte for byte outside them.
//!
//! A block is
//! `<!-- leakcollect:begin id=ID sha=HASH -->` … `<!-- leakcollect:end id=ID -->`, each
//! marker on its own line. HASH is a checksum of what leakcollect last wrote, so a hand
//! edit inside a block is noticed instead of overwritten. A draft is parsed into text and
//! block segments that concatenate back to the exact input (line endings, BOM, trailing
//! spaces and other comments included).

use crate::render::blocks::{BlockId, OwnedLine};
use sha2::{Digest, Sha256};

const BEGIN: &str = "<!-- leakcollect:begin ";
const END: &str = "<!-- leakcollect:end ";
/// The heading under which blocks go whose section the draft no longer has.
pub const EVIDENCE_HEADING: &str = "## Evidence (leakcollect)";

#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// Text outside any block, exactly as in the file.
    Text(String),
    Block(Block),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub id: String,
    pub sha: Option<String>,
    /// The begin marker line, with its line ending.
    pub begin: String,
    /// Everything between the markers, line endings included.
    pub content: String,
    /// The end marker line, with its line ending (may lack one at end of file).
    pub end: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub line: usize,
    pub detail: String,
}

/// The draft's line ending: CRLF when most of its lines end so. (A majority, not the
/// first line, so that what leakcollect appends never flips the choice on the next run.)
pub fn line_ending(text: &str) -> &'static str {
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count() - crlf;
    if crlf > lf { "\r\n" } else { "\n" }
}

fn marker_id(line: &str, prefix: &str) -> Option<(String, Option<String>)> {
    let rest = line
        .trim_end_matches(['\r', '\n'])
        .trim()
        .strip_prefix(prefix)?;
    let rest = rest.strip_suffix("-->")?.trim();
    let mut id = None;
    let mut sha = None;
    for field in rest.split_whitespace() {
        if let Some(v) = field.strip_prefix("id=") {
            id = Some(v.to_string());
        } else if let Some(v) = field.strip_prefix("sha=") {
            sha = Some(v.to_string());
        }
    }
    let id =
        id.filter(|i| !i.is_empty() && i.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))?;
    Some((id, sha))
}

pub fn parse(text: &str) -> Result<Vec<Segment>, ParseError> {
    let mut segments = Vec::new();
    let mut outside = String::new();
    let mut open: Option<(Block, usize)> = None;
    let mut seen = std::collections::HashSet::new();
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        let is_begin = line.trim_start().starts_with(BEGIN);
        let is_end = line.trim_start().starts_with(END);
        match (&mut open, is_begin, is_end) {
            (None, true, _) => {
                let (id, sha) = marker_id(line, BEGIN).ok_or_else(|| ParseError {
                    line: number,
                    detail: "malformed leakcollect begin marker".into(),
                })?;
                if !seen.insert(id.clone()) {
                    return Err(ParseError {
                        line: number,
                        detail: format!("a second {id} block"),
                    });
                }
                if !outside.is_empty() {
                    segments.push(Segment::Text(std::mem::take(&mut outside)));
                }
                open = Some((
                    Block {
                        id,
                        sha,
                        begin: line.to_string(),
                        content: String::new(),
                        end: String::new(),
                    },
                    number,
                ));
            }
            (None, false, true) => {
                return Err(ParseError {
                    line: number,
                    detail: "leakcollect end marker without a begin".into(),
                });
            }
            (None, false, false) => outside.push_str(line),
            (Some((block, start)), true, _) => {
                return Err(ParseError {
                    line: number,
                    detail: format!(
                        "a block begins inside the {} block opened on line {start}",
                        block.id
                    ),
                });
            }
            (Some((block, _)), false, true) => {
                let (id, _) = marker_id(line, END).ok_or_else(|| ParseError {
                    line: number,
                    detail: "malformed leakcollect end marker".into(),
                })?;
                if id != block.id {
                    return Err(ParseError {
                        line: number,
                        detail: format!("end marker for {id} closes the {} block", block.id),
                    });
                }
                let (mut block, _) = open.take().expect("open block");
                block.end = line.to_string();
                segments.push(Segment::Block(block));
            }
            (Some((block, _)), false, false) => block.content.push_str(line),
        }
    }
    if let Some((block, start)) = open {
        return Err(ParseError {
            line: start,
            detail: format!("the {} block is never closed", block.id),
        });
    }
    if !outside.is_empty() {
        segments.push(Segment::Text(outside));
    }
    Ok(segments)
}

pub fn join(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Text(t) => out.push_str(t),
            Segment::Block(b) => {
                out.push_str(&b.begin);
                out.push_str(&b.content);
                out.push_str(&b.end);
            }
        }
    }
    out
}

/// The lines leakcollect owns in a block people also write in (the block table's
/// `owned`): the query line of Monitoring Data and its alert-rule line once detection
/// found one; in the timeline, the Detection row of an alert that fired, the Fix deployed
/// row and the Validation complete row once `validate` wrote it. Empty: all of it.
fn owned_lines(id: &str) -> &'static [OwnedLine] {
    BlockId::from_name(id).map_or(&[], |b| b.spec().owned)
}

/// The key of the owned line `line` is, in a shared block.
pub fn owned_key(id: &str, line: &str) -> Option<&'static str> {
    owned_lines(id)
        .iter()
        .find(|o| o.matches(line))
        .map(|o| o.key)
}

/// Whether only some of the block's lines are leakcollect's.
pub fn is_shared(id: &str) -> bool {
    !owned_lines(id).is_empty()
}

/// The template's placeholder a new owned line may take the place of.
fn placeholder_for(id: &str, key: &str, line: &str) -> bool {
    owned_lines(id)
        .iter()
        .find(|o| o.key == key)
        .and_then(|o| o.placeholder)
        .and_then(super::template::placeholder)
        .is_some_and(|p| line.trim_start().starts_with(p.as_str()))
}

/// The lines of `text`, split on `\n` only (a lone `\r` is content, not a line end).
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive('\n')
        .map(|l| l.strip_suffix('\n').unwrap_or(l))
}

/// A line without the `\r` of a CRLF ending.
fn bare(line: &str) -> &str {
    line.strip_suffix('\r').unwrap_or(line)
}

/// The part of a block's content its checksum covers: all of it, or for a shared block
/// only leakcollect's own lines.
pub fn owned_part(id: &str, content: &str) -> String {
    let shared = is_shared(id);
    split_lines(content)
        .map(bare)
        .filter(|l| !shared || owned_key(id, l).is_some())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The content a shared block gets: `current` with each owned line replaced by the
/// rendered line of the same key (taking the template's placeholder row for a new one,
/// else appended, unless the line is written only in place); other blocks are just
/// `rendered`.
pub fn merge(id: &str, current: &str, rendered: &str) -> String {
    if !is_shared(id) {
        return rendered.to_string();
    }
    let fresh: Vec<(&str, &str)> = split_lines(rendered)
        .filter_map(|l| owned_key(id, bare(l)).map(|k| (k, l)))
        .collect();
    let mut used: Vec<&str> = Vec::new();
    let mut out = String::new();
    for line in split_lines(current) {
        let key = owned_key(id, bare(line)).or_else(|| {
            fresh
                .iter()
                .find(|(k, _)| !used.contains(k) && placeholder_for(id, k, line))
                .map(|(k, _)| *k)
        });
        let replacement = key.and_then(|k| fresh.iter().find(|(fk, _)| *fk == k));
        match replacement {
            Some((k, new)) if !used.contains(k) => {
                out.push_str(new);
                used.push(k);
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    for (k, new) in &fresh {
        let only_in_place = owned_lines(id)
            .iter()
            .any(|o| o.key == *k && o.only_in_place);
        if !used.contains(k) && !only_in_place {
            out.push_str(new);
            out.push('\n');
        }
    }
    out
}

pub fn checksum(id: &str, content: &str) -> String {
    let digest = Sha256::digest(owned_part(id, content).as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A complete block (markers and content) in the draft's line ending.
pub fn render_block(id: &str, content: &str, eol: &str) -> Block {
    let content = with_line_ending(content, eol);
    Block {
        id: id.to_string(),
        sha: Some(checksum(id, &content)),
        begin: format!(
            "<!-- leakcollect:begin id={id} sha={} -->{eol}",
            checksum(id, &content)
        ),
        content,
        end: format!("<!-- leakcollect:end id={id} -->{eol}"),
    }
}

/// `text` with every line ending as `eol`, ending in one. Idempotent: for CRLF the one
/// `\r` before each `\n` is the line ending; for LF every `\r` is content and stays.
pub fn with_line_ending(text: &str, eol: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 20);
    for line in split_lines(text) {
        out.push_str(if eol == "\r\n" { bare(line) } else { line });
        out.push_str(eol);
    }
    out
}

/// Whether a block's content differs from what leakcollect last wrote.
pub fn edited(block: &Block) -> bool {
    block.sha.as_deref() != Some(checksum(&block.id, &block.content).as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_join_round_trip() {
        let text = "\u{feff}# T\r\n<!-- other comment -->\r\nkeep  \t\r\n<!-- leakcollect:begin id=a sha=00 -->\r\nx\r\n<!-- leakcollect:end id=a -->\r\ntail";
        let segments = parse(text).unwrap();
        assert_eq!(segments.len(), 3);
        assert_eq!(join(&segments), text);
        match &segments[1] {
            Segment::Block(b) => {
                assert_eq!(b.id, "a");
                assert_eq!(b.content, "x\r\n");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_blocks_name_the_line() {
        for (text, line) in [
            ("<!-- leakcollect:begin id=a -->\nx\n", 1),
            ("x\n<!-- leakcollect:end id=a -->\n", 2),
            (
                "<!-- leakcollect:begin id=a -->\n<!-- leakcollect:begin id=b -->\n",
                2,
            ),
            (
                "<!-- leakcollect:begin id=a -->\n<!-- leakcollect:end id=b -->\n",
                2,
            ),
            (
                "<!-- leakcollect:begin id=a -->\n<!-- leakcollect:end id=a -->\n<!-- leakcollect:begin id=a -->\n<!-- leakcollect:end id=a -->\n",
                3,
            ),
            ("<!-- leakcollect:begin id=a b -->\n", 1),
        ] {
            assert_eq!(parse(text).unwrap_err().line, line, "{text:?}");
        }
    }

    #[test]
    fn checksums_notice_edits_and_ignore_line_endings() {
        let block = render_block("x", "a\nb\n", "\r\n");
        assert!(!edited(&block));
        let mut changed = block.clone();
        changed.content = "a\r\nB\r\n".into();
        assert!(edited(&changed));
        let monitoring = render_block(
            BlockId::MonitoringData.name(),
            "```\nPrometheus query: q\nAlert rule: [x]\n```\n",
            "\n",
        );
        let mut filled = monitoring.clone();
        filled.content = filled.content.replace("[x]", "HighHeap > 1GB");
        assert!(!edited(&filled), "people may fill the alert rule");
    }
}
