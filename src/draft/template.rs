//! The team template's own text, where a draft is compared with it: the placeholder
//! lines a block may take the place of are read from `templates/team-report-template.md`
//! by the short keys the block table (`render::blocks`) gives, never copied into Rust.

use crate::render::blocks::{Anchor, TEAM_TEMPLATE};

fn template_line(key: &str) -> Option<&'static str> {
    TEAM_TEMPLATE
        .lines()
        .find(|l| l.trim_start().starts_with(key))
}

/// The team template's lines an anchor stands for, as the prefixes a draft's lines must
/// still start with: each template line up to the end of its first placeholder (`[…]`,
/// not a checkbox), or whole when it has none.
pub fn template_prefixes(anchor: Anchor) -> Vec<String> {
    let lines: Vec<&str> = TEAM_TEMPLATE.lines().collect();
    let starting = |key: &str| lines.iter().position(|l| l.trim_start().starts_with(key));
    match anchor {
        Anchor::Lines { first, count } | Anchor::Following { first, count, .. } => starting(first)
            .map(|i| {
                lines[i..(i + count).min(lines.len())]
                    .iter()
                    .map(|l| prefix(l))
                    .collect()
            })
            .unwrap_or_default(),
        Anchor::Ending { last, count } => starting(last)
            .filter(|i| i + 1 >= count)
            .map(|i| lines[i + 1 - count..=i].iter().map(|l| prefix(l)).collect())
            .unwrap_or_default(),
        Anchor::Fence(key) | Anchor::Table(key) => template_line(key)
            .map(|l| vec![placeholder_prefix(key, l)])
            .unwrap_or_default(),
        Anchor::After(_) | Anchor::Top => Vec::new(),
    }
}

/// The placeholder line of the template that starts with `key`, as a prefix: the
/// longer of the key and the line up to its first placeholder, so a table row's key
/// (`| [HH:MM] | Detection |`) is not cut to its first cell.
pub fn placeholder(key: &str) -> Option<String> {
    template_line(key).map(|l| placeholder_prefix(key, l))
}

fn placeholder_prefix(key: &str, line: &str) -> String {
    let p = prefix(line);
    if p.len() >= key.len() {
        p
    } else {
        key.to_string()
    }
}

/// A template line up to the end of its first placeholder, skipping a checkbox.
fn prefix(line: &str) -> String {
    let line = line.trim();
    let body_at = ["- [ ] ", "- [x] "]
        .iter()
        .find(|c| line.starts_with(*c))
        .map_or(0, |c| c.len());
    match line[body_at..].find('[') {
        Some(open) => match line[body_at + open..].find(']') {
            Some(close) => line[..body_at + open + close + 1].to_string(),
            None => line.to_string(),
        },
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::blocks::BLOCKS;

    #[test]
    fn prefixes_end_at_the_first_placeholder() {
        assert_eq!(
            prefix("**Service**: [Service Name]"),
            "**Service**: [Service Name]"
        );
        assert_eq!(
            prefix("Snapshot 1: [timestamp] - [size] MB"),
            "Snapshot 1: [timestamp]"
        );
        assert_eq!(prefix("- [ ] Other: ___"), "- [ ] Other: ___");
        assert_eq!(prefix("Growth rate: Z MB/hour"), "Growth rate: Z MB/hour");
        assert_eq!(
            placeholder("| [HH:MM] | Detection |").unwrap(),
            "| [HH:MM] | Detection |"
        );
        assert_eq!(
            placeholder("Alert rule:").unwrap(),
            "Alert rule: [Alert name/threshold]"
        );
    }

    #[test]
    fn every_anchor_resolves_in_the_template() {
        for b in BLOCKS {
            let prefixes = template_prefixes(b.anchor);
            match b.anchor {
                Anchor::Lines { count, .. }
                | Anchor::Ending { count, .. }
                | Anchor::Following { count, .. } => {
                    assert_eq!(prefixes.len(), count, "{}", b.name)
                }
                Anchor::Fence(_) | Anchor::Table(_) => assert_eq!(prefixes.len(), 1, "{}", b.name),
                _ => assert!(prefixes.is_empty()),
            }
        }
    }

    #[test]
    fn each_fence_key_names_one_fence() {
        for b in BLOCKS {
            let Anchor::Fence(key) = b.anchor else {
                continue;
            };
            let fences: Vec<&str> = TEAM_TEMPLATE.split("```").skip(1).step_by(2).collect();
            let hits = fences
                .iter()
                .filter(|f| f.lines().any(|l| l.trim_start().starts_with(key)))
                .count();
            assert_eq!(hits, 1, "{key} is in {hits} fences");
        }
    }
}
