//! `--source DIR`: the lines of code around an allocation site. A profile names files as
//! the process saw them (`/srv/app/orders.js`, `file:///…`, a Go module path); the file
//! under DIR is the one sharing the longest tail of path components with it. The excerpt
//! is the enclosing function (found by its name above the line and its indentation
//! below), at most [`MAX_LINES`] lines.

use super::HeapError;
use super::model::{CodeLocation, SourceExcerpt};
use std::path::{Path, PathBuf};

/// At most this many lines of code are shown.
pub const MAX_LINES: usize = 25;
/// Files looked at under DIR, at most (a checkout, not a disk).
const MAX_FILES: usize = 200_000;

/// Refuses a DIR that does not exist or is not a folder (checked before any parsing).
pub fn check_dir(dir: &Path) -> Result<(), HeapError> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(HeapError::SourceMissing {
            dir: dir.to_path_buf(),
        })
    }
}

/// Every file under `dir` (relative paths), skipping hidden folders and dependency
/// and build folders, which hold other people's code.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                let skip = name.starts_with('.')
                    || matches!(name.as_ref(), "node_modules" | "target" | "__pycache__");
                if !skip {
                    stack.push(rel.join(name.as_ref()));
                }
            } else if out.len() < MAX_FILES {
                out.push(rel.join(name.as_ref()));
            }
        }
    }
    out.sort();
    out
}

/// A profile's file name as path components (`file://` URLs made paths).
fn components(file: &str) -> Vec<&str> {
    let path = file.strip_prefix("file://").unwrap_or(file);
    path.split(['/', '\\']).filter(|c| !c.is_empty()).collect()
}

/// The file under DIR sharing the longest tail of path components with `file` (at
/// least its name); on a tie, the shortest path.
pub fn resolve(files: &[PathBuf], file: &str) -> Option<PathBuf> {
    let wanted = components(file);
    let mut best: Option<(usize, &PathBuf)> = None;
    for candidate in files {
        let have: Vec<String> = candidate
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let shared = have
            .iter()
            .rev()
            .zip(wanted.iter().rev())
            .take_while(|(a, b)| a.as_str() == **b)
            .count();
        let better = match best {
            None => shared > 0,
            Some((n, b)) => {
                shared > n
                    || (shared == n && candidate.components().count() < b.components().count())
            }
        };
        if better {
            best = Some((shared, candidate));
        }
    }
    best.map(|(_, p)| p.clone())
}

/// The Markdown fence language of a file, by its extension.
pub fn language(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "js" | "mjs" | "cjs" => "javascript",
        "ts" | "mts" | "cts" => "typescript",
        "go" => "go",
        "py" => "python",
        "java" => "java",
        "kt" => "kotlin",
        "rs" => "rust",
        "c" | "h" => "c",
        "cc" | "cpp" | "hpp" => "cpp",
        _ => "",
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The lines (0-based, end exclusive) of the function around `at` (0-based): from its
/// header (the nearest line above, at most 20, naming the function) to where the
/// indentation returns to the header's, at most [`MAX_LINES`].
pub fn function_span(lines: &[String], at: usize, function: &str) -> (usize, usize) {
    let short = function.rsplit(['.', ':']).next().unwrap_or(function);
    let header = |line: &str| {
        !short.is_empty()
            && (line.contains(&format!("{short}("))
                || line.contains(&format!("class {short}"))
                || line.contains(&format!("{short} =")))
    };
    let Some(start) = (at.saturating_sub(20)..=at)
        .rev()
        .find(|&i| header(&lines[i]))
    else {
        // No header in sight: the lines around the allocation.
        let from = at.saturating_sub(MAX_LINES / 2);
        return (from, (from + MAX_LINES).min(lines.len()));
    };
    let base = indent(&lines[start]);
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate().skip(at + 1) {
        if line.trim().is_empty() || indent(line) > base {
            continue;
        }
        // A closing brace ends the function and belongs to it; anything else at the
        // header's indentation is the next statement (Python).
        let closes = line.trim_start().starts_with(['}', ')']);
        end = if closes { i + 1 } else { i };
        break;
    }
    let mut end = end.min(lines.len());
    while end > at + 1 && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    if end - start > MAX_LINES {
        // Too long: keep the allocation in view, the header if it fits.
        let from = start.max((at + MAX_LINES / 2 + 1).saturating_sub(MAX_LINES));
        return (from, (from + MAX_LINES).min(lines.len()));
    }
    (start, end)
}

/// The excerpt of the code at `location`, from the file under `dir` it resolves to.
pub fn excerpt(dir: &Path, location: &CodeLocation) -> Result<SourceExcerpt, HeapError> {
    let no_match = || HeapError::SourceNoMatch {
        dir: dir.to_path_buf(),
        wanted: format!("{}:{}", location.file, location.line),
    };
    let rel = resolve(&files_under(dir), &location.file).ok_or_else(no_match)?;
    let bytes = std::fs::read(dir.join(&rel)).map_err(|_| no_match())?;
    let lines: Vec<String> = String::from_utf8_lossy(&bytes)
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect();
    let at = (location.line as usize)
        .checked_sub(1)
        .ok_or_else(no_match)?;
    if at >= lines.len() {
        return Err(no_match());
    }
    let (start, end) = function_span(&lines, at, &location.function);
    Ok(SourceExcerpt {
        path: rel.to_string_lossy().replace('\\', "/"),
        line: location.line,
        first_line: start as u32 + 1,
        lines: lines[start..end].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_shared_tail_wins() {
        let files: Vec<PathBuf> = ["a/orders.js", "src/svc/orders.js", "svc/other.js"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let got = resolve(&files, "file:///srv/app/src/svc/orders.js").unwrap();
        assert_eq!(got, PathBuf::from("src/svc/orders.js"));
        assert_eq!(
            resolve(&files, "/x/orders.js").unwrap(),
            PathBuf::from("a/orders.js")
        );
        assert!(resolve(&files, "/x/nothing.js").is_none());
    }

    #[test]
    fn a_function_is_cut_at_its_closing_brace_or_next_statement() {
        let text = "const a = 1;\n\nfunction enqueue(id) {\n  const ctx = new C(id);\n  pending.set(id, ctx);\n}\n\nfunction other() {}\n";
        let lines: Vec<String> = text.lines().map(String::from).collect();
        assert_eq!(function_span(&lines, 3, "enqueue"), (2, 6));
        let py =
            "def enqueue(i):\n    ctx = C(i)\n    pending[i] = ctx\n\n\ndef other():\n    pass\n";
        let lines: Vec<String> = py.lines().map(String::from).collect();
        assert_eq!(function_span(&lines, 1, "enqueue"), (0, 3));
    }

    #[test]
    fn long_functions_are_cut_to_the_lines_around_the_allocation() {
        let mut lines = vec!["func f() {".to_string()];
        lines.extend((0..60).map(|i| format!("\tx{i} := {i}")));
        lines.push("}".into());
        let (a, b) = function_span(&lines, 40, "main.f");
        assert_eq!(b - a, MAX_LINES);
        assert!(a <= 40 && 40 < b);
    }
}
