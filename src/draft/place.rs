//! Putting rendered evidence into a draft: update existing blocks, replace the team
//! template's placeholders with new blocks where they are still untouched, and put the
//! rest under a final "Evidence (leakcollect)" heading rather than guess.

use super::blocks::{self, EVIDENCE_HEADING, Segment};
use super::template::template_prefixes;
use crate::render::blocks::{Anchor, BlockId};

/// What `apply` did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Applied {
    pub text: String,
    /// Existing blocks whose content changed.
    pub updated: Vec<String>,
    /// New blocks put in place of the template's placeholders.
    pub placed: Vec<String>,
    /// New blocks put under the Evidence (leakcollect) heading.
    pub appended: Vec<String>,
    /// Blocks edited by hand and left as they were ([`Edits::Keep`]).
    pub kept: Vec<String>,
    /// New blocks not written: their line was already written by a person
    /// (`Block::only_in_place`).
    pub left: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ApplyError {
    Parse(blocks::ParseError),
    /// A block was edited by hand; the unified diff from its text to leakcollect's.
    Edited {
        id: String,
        diff: String,
    },
}

/// What to do with a block people edited since leakcollect wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edits {
    /// Stop with [`ApplyError::Edited`] (`attach`: the person decides).
    Refuse,
    /// Write leakcollect's content over it (`--force`).
    Overwrite,
    /// Leave it as the person wrote it and say so in [`Applied::kept`] (a scheduled
    /// `validate`, whose verdict must not be lost over a hand edit).
    Keep,
}

impl From<bool> for Edits {
    /// `--force` or not.
    fn from(force: bool) -> Self {
        if force {
            Edits::Overwrite
        } else {
            Edits::Refuse
        }
    }
}

/// Applies `wanted` (id, rendered content or `None` when the evidence has nothing for it)
/// to `text`. Nothing outside leakcollect's blocks changes, except that blocks with no
/// place are appended at the end under the Evidence heading.
pub fn apply(
    text: &str,
    wanted: &[(String, Option<String>)],
    edits: impl Into<Edits>,
) -> Result<Applied, ApplyError> {
    let edits = edits.into();
    let eol = blocks::line_ending(text);
    let mut segments = blocks::parse(text).map_err(ApplyError::Parse)?;
    let mut applied = Applied::default();
    let mut homeless = Vec::new();
    for (id, content) in wanted {
        let Some(content) = content else { continue };
        let existing = segments
            .iter()
            .position(|s| matches!(s, Segment::Block(b) if &b.id == id));
        if let Some(index) = existing {
            let Segment::Block(old) = &segments[index] else {
                unreachable!()
            };
            let new = blocks::render_block(id, &blocks::merge(id, &old.content, content), eol);
            if blocks::edited(old) && new != *old {
                match edits {
                    Edits::Refuse => {
                        return Err(ApplyError::Edited {
                            id: id.clone(),
                            diff: unified_diff(&old.content, &new.content, id),
                        });
                    }
                    Edits::Keep => {
                        applied.kept.push(id.clone());
                        continue;
                    }
                    Edits::Overwrite => {}
                }
            }
            if new != *old {
                applied.updated.push(id.clone());
                segments[index] = Segment::Block(new);
            }
            continue;
        }
        let only_in_place = BlockId::from_name(id).is_some_and(|b| b.spec().only_in_place);
        match place(&mut segments, id, content, eol) {
            true => applied.placed.push(id.clone()),
            false if only_in_place => applied.left.push(id.clone()),
            false => homeless.push(blocks::render_block(id, content, eol)),
        }
    }
    let mut out = blocks::join(&segments);
    if !homeless.is_empty() {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(eol);
        }
        let has_heading = out
            .lines()
            .any(|l| l.trim_end_matches('\r') == EVIDENCE_HEADING);
        if !has_heading {
            out.push_str(eol);
            out.push_str(EVIDENCE_HEADING);
            out.push_str(eol);
        }
        for block in homeless {
            out.push_str(eol);
            applied.appended.push(block.id.clone());
            out.push_str(&blocks::join(&[Segment::Block(block)]));
        }
    }
    applied.text = out;
    Ok(applied)
}

/// Tries to put a new block at its anchor; false when the draft has no such place.
fn place(segments: &mut Vec<Segment>, id: &str, content: &str, eol: &str) -> bool {
    let Some(anchor) = BlockId::from_name(id).map(|b| b.spec().anchor) else {
        return false;
    };
    match anchor {
        Anchor::After(other) => {
            let Some(index) = segments
                .iter()
                .position(|s| matches!(s, Segment::Block(b) if b.id == other.name()))
            else {
                return false;
            };
            let block = blocks::render_block(id, content, eol);
            segments.insert(index + 1, Segment::Text(eol.to_string()));
            segments.insert(index + 2, Segment::Block(block));
            true
        }
        Anchor::Following { block, .. } => {
            // The text right after `block` must start with the template's lines.
            let prefixes = template_prefixes(anchor);
            let Some(index) = segments
                .iter()
                .position(|s| matches!(s, Segment::Block(b) if b.id == block.name()))
            else {
                return false;
            };
            let Some(Segment::Text(text)) = segments.get(index + 1).cloned() else {
                return false;
            };
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            if prefixes.is_empty()
                || find_lines(&lines[..prefixes.len().min(lines.len())], &prefixes) != Some(0)
            {
                return false;
            }
            let content = blocks::merge(id, &lines[..prefixes.len()].concat(), content);
            let mut replacement = vec![Segment::Block(blocks::render_block(id, &content, eol))];
            let after: String = lines[prefixes.len()..].concat();
            if !after.is_empty() {
                replacement.push(Segment::Text(after));
            }
            segments.splice(index + 1..index + 2, replacement);
            true
        }
        Anchor::Top => {
            let Some(Segment::Text(first)) = segments.first().cloned() else {
                return false;
            };
            let Some(end) = first.find('\n') else {
                return false;
            };
            let (head, tail) = first.split_at(end + 1);
            let block = blocks::render_block(id, content, eol);
            segments.splice(
                0..1,
                [
                    Segment::Text(head.to_string()),
                    Segment::Block(block),
                    Segment::Text(tail.to_string()),
                ],
            );
            true
        }
        anchor => {
            let prefixes = template_prefixes(anchor);
            if prefixes.is_empty() {
                return false;
            }
            for index in 0..segments.len() {
                let Segment::Text(text) = &segments[index] else {
                    continue;
                };
                let lines: Vec<&str> = text.split_inclusive('\n').collect();
                let found = match anchor {
                    Anchor::Lines { .. } | Anchor::Ending { .. } => {
                        find_lines(&lines, &prefixes).map(|start| (start, start + prefixes.len()))
                    }
                    Anchor::Fence(_) => find_fence(&lines, &prefixes),
                    Anchor::Table(_) => find_table(&lines, &prefixes[0]),
                    _ => None,
                };
                let Some((start, end)) = found else { continue };
                // A shared block starts from the section as it is, keeping people's lines.
                let content = blocks::merge(id, &lines[start..end].concat(), content);
                let before: String = lines[..start].concat();
                let after: String = lines[end..].concat();
                let block = blocks::render_block(id, &content, eol);
                let mut replacement = Vec::new();
                if !before.is_empty() {
                    replacement.push(Segment::Text(before));
                }
                replacement.push(Segment::Block(block));
                if !after.is_empty() {
                    replacement.push(Segment::Text(after));
                }
                segments.splice(index..index + 1, replacement);
                return true;
            }
            false
        }
    }
}

fn find_lines(lines: &[&str], prefixes: &[String]) -> Option<usize> {
    (0..lines.len()).find(|&start| {
        prefixes.iter().enumerate().all(|(offset, prefix)| {
            lines
                .get(start + offset)
                .is_some_and(|l| l.trim_start().starts_with(prefix.as_str()))
        })
    })
}

/// The table (start line, end line exclusive) that has a row starting with `row`.
fn find_table(lines: &[&str], row: &str) -> Option<(usize, usize)> {
    let hit = lines.iter().position(|l| l.trim_start().starts_with(row))?;
    let is_row = |l: &str| l.trim_start().starts_with('|');
    let start = (0..=hit).rev().take_while(|&i| is_row(lines[i])).last()?;
    let end = (hit..lines.len())
        .take_while(|&i| is_row(lines[i]))
        .last()?
        + 1;
    Some((start, end))
}

/// A fence (start line, end line exclusive) whose content holds every signature line.
fn find_fence(lines: &[&str], signatures: &[String]) -> Option<(usize, usize)> {
    let mut index = 0;
    while index < lines.len() {
        if lines[index].trim_start().starts_with("```") {
            let close =
                (index + 1..lines.len()).find(|&j| lines[j].trim_start().starts_with("```"))?;
            let inner: String = lines[index + 1..close].concat();
            if signatures.iter().all(|sig| {
                inner
                    .lines()
                    .any(|l| l.trim_start().starts_with(sig.as_str()))
            }) {
                return Some((index, close + 1));
            }
            index = close + 1;
        } else {
            index += 1;
        }
    }
    None
}

pub fn unified_diff(old: &str, new: &str, name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(
            &format!("{name} (in the draft)"),
            &format!("{name} (leakcollect)"),
        )
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = include_str!("../../templates/team-report-template.md");

    fn wanted(ids: &[&str]) -> Vec<(String, Option<String>)> {
        ids.iter()
            .map(|id| {
                let content = match *id {
                    id if id == BlockId::MonitoringData.name() => {
                        "```\nPrometheus query: q\n```\n".to_string()
                    }
                    id if id == BlockId::Timeline.name() => {
                        "| 1 | Fix deployed | x |\n".to_string()
                    }
                    _ => format!("content of {id}\n"),
                };
                (id.to_string(), Some(content))
            })
            .collect()
    }

    #[test]
    fn fresh_template_gets_blocks_in_place_and_is_idempotent() {
        // Every block the report has, and params.
        let ids: Vec<&str> = crate::render::blocks::BLOCKS
            .iter()
            .filter(|b| b.writer != crate::render::blocks::Writer::Heap)
            .map(|b| b.name)
            .collect();
        let first = apply(TEMPLATE, &wanted(&ids), false).unwrap();
        assert!(first.appended.is_empty(), "{:?}", first.appended);
        assert_eq!(first.placed.len(), ids.len());
        assert!(!first.text.contains("[Query used to detect the leak]"));
        assert!(
            first.text.contains("**Pull Request**: [Link to PR]"),
            "person parts stay"
        );
        let second = apply(&first.text, &wanted(&ids), false).unwrap();
        assert_eq!(second.text, first.text);
        assert!(second.updated.is_empty());
    }

    #[test]
    fn missing_sections_go_under_the_evidence_heading() {
        let draft = "# Report\r\nmy own words\r\n";
        let out = apply(
            draft,
            &wanted(&[BlockId::ExampleMetrics.name(), BlockId::Status.name()]),
            false,
        )
        .unwrap();
        assert_eq!(
            out.appended,
            vec![BlockId::ExampleMetrics.name(), BlockId::Status.name()]
        );
        assert!(out.text.starts_with(draft));
        assert!(out.text.contains("\r\n## Evidence (leakcollect)\r\n"));
        assert!(!out.text.replace("\r\n", "").contains('\n'), "CRLF kept");
        let again = apply(
            &out.text,
            &wanted(&[BlockId::ExampleMetrics.name(), BlockId::Status.name()]),
            false,
        )
        .unwrap();
        assert_eq!(again.text, out.text);
    }

    #[test]
    fn shared_sections_keep_peoples_lines() {
        let wanted = vec![
            (
                BlockId::MonitoringData.name().to_string(),
                Some("```\nPrometheus query: q1\nAlert rule: [x]\n```\n".to_string()),
            ),
            (
                BlockId::Timeline.name().to_string(),
                Some("| 11-25 23:12 | Fix deployed | deployed |\n".to_string()),
            ),
        ];
        let first = apply(TEMPLATE, &wanted, false).unwrap();
        assert_eq!(first.placed.len(), 2);
        // People fill in the alert rule and a timeline row inside the shared blocks…
        let edited = first
            .text
            .replace("Alert rule: [Alert name/threshold]", "Alert rule: HeapGrowth > 10MB/h")
            .replace("| [HH:MM] | Detection | [How was leak detected? Alert, manual observation, etc.] |", "| 08:10 | Detection | pager |");
        let mut refreshed = wanted.clone();
        refreshed[0].1 = Some("```\nPrometheus query: q2\n```\n".to_string());
        // …and a refresh keeps their words while updating leakcollect's lines.
        let second = apply(&edited, &refreshed, false).unwrap();
        assert!(second.text.contains("Alert rule: HeapGrowth > 10MB/h"));
        assert!(second.text.contains("| 08:10 | Detection | pager |"));
        assert!(second.text.contains("Prometheus query: q2"));
        assert!(!second.text.contains("Prometheus query: q1"));
        // The table stays one table: its rows are contiguous inside the block.
        let table_start = second.text.find("| Time | Event | Details |").unwrap();
        let after_table = &second.text[table_start..];
        let rows: Vec<&str> = after_table
            .lines()
            .take_while(|l| l.starts_with('|'))
            .collect();
        assert_eq!(rows.len(), 8, "{rows:?}");
    }

    #[test]
    fn hand_edits_inside_a_block_are_refused_unless_forced() {
        let out = apply("# R\n", &wanted(&[BlockId::Status.name()]), false).unwrap();
        let edited = out.text.replace("content of status", "my status");
        match apply(&edited, &wanted(&[BlockId::Status.name()]), false) {
            Err(ApplyError::Edited { id, diff }) => {
                assert_eq!(id, BlockId::Status.name());
                assert!(
                    diff.contains("-my status") && diff.contains("+content of status"),
                    "{diff}"
                );
            }
            other => panic!("{other:?}"),
        }
        let forced = apply(&edited, &wanted(&[BlockId::Status.name()]), true).unwrap();
        assert!(forced.text.contains("content of status"));
    }
}
