//! Where output goes, and the one writer every file leakcollect writes goes through
//! (reports, charts, rule files, drafts and their `.bak`, textfiles).
//!
//! A path is first [`resolve`]d to what it really is, symbolic links followed:
//! - a regular file, or nothing yet: replaced atomically — a temporary file in the real
//!   file's folder, flushed to disk, then renamed over it — so a reader never sees half a
//!   report, and a symbolic link stays a link (its final target is what gets replaced);
//! - a FIFO or a character device (`/dev/null`, a terminal): opened and written in place,
//!   never replaced (a rename would put a regular file where the device or pipe was);
//! - a block device, a socket or a folder: refused (exit 5), nothing written.
//!
//! Standard output is written by [`print`] alone (`-o -` too, through [`emit`]); a reader
//! that closed it (`leakcollect … | head -1`) ends the run quietly with exit code 0, as
//! ripgrep does.

use std::io::{ErrorKind, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Component, Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
#[error("cannot write {path}: {source}")]
pub struct OutputError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

impl OutputError {
    pub fn code(&self) -> i32 {
        crate::exit::OUTPUT
    }

    fn new(path: &Path, kind: ErrorKind, message: String) -> Self {
        OutputError {
            path: path.to_path_buf(),
            source: std::io::Error::new(kind, message),
        }
    }
}

/// Standard output was closed by its reader: the run ends at once, quietly, with 0.
#[derive(Debug, Error)]
#[error("standard output was closed")]
pub struct StdoutClosed;

/// Writes `text` to standard output and flushes it. A closed pipe is [`StdoutClosed`];
/// any other failure an [`OutputError`] naming standard output.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(source) => Err(OutputError {
            path: PathBuf::from("standard output"),
            source,
        }
        .into()),
    }
}

/// `-o -`: the conventional name for standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Writes `text` where `-o` says: standard output for none or `-`, else the file.
pub fn emit(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match path.filter(|p| !is_stdout(p)) {
        Some(path) => Ok(write_atomic(path, text.as_bytes())?),
        None => print(text),
    }
}

/// What an output path is, once symbolic links are followed, and so how it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A regular file or nothing yet (a new path, or a dangling link's target): replaced
    /// atomically at `real`, the end of the chain of symbolic links.
    File { real: PathBuf },
    /// A FIFO or a character device: written in place; `kind` names it for messages.
    Stream { kind: &'static str },
}

/// Follows `path` to what it is and says how it can be written, or why it cannot.
/// Nothing is created or opened.
pub fn resolve(path: &Path) -> Result<Target, OutputError> {
    match std::fs::metadata(path) {
        Ok(meta) => classify(path, meta.file_type()),
        // Nothing there (or a dangling link): a new file at the end of the links.
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            let real = end_of_links(path)?;
            match folder_problem(&folder_of(&real)) {
                Some((kind, why)) => Err(OutputError::new(path, kind, linked(path, &real, why))),
                None => Ok(Target::File { real }),
            }
        }
        Err(source) => Err(OutputError {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn classify(path: &Path, kind: std::fs::FileType) -> Result<Target, OutputError> {
    let refuse = |error: ErrorKind, why: &str| Err(OutputError::new(path, error, why.into()));
    if kind.is_file() {
        Ok(Target::File {
            real: end_of_links(path)?,
        })
    } else if kind.is_fifo() {
        Ok(Target::Stream {
            kind: "a FIFO (named pipe)",
        })
    } else if kind.is_char_device() {
        Ok(Target::Stream {
            kind: "a character device",
        })
    } else if kind.is_dir() {
        refuse(ErrorKind::IsADirectory, "it is a folder; give a file name")
    } else if kind.is_block_device() {
        // Writing a report over the start of a disk is never what was meant.
        refuse(
            ErrorKind::InvalidInput,
            "it is a block device (a disk), which leakcollect never writes to; give a file name",
        )
    } else if kind.is_socket() {
        refuse(
            ErrorKind::InvalidInput,
            "it is a socket, which cannot be opened for writing; give a file name",
        )
    } else {
        refuse(
            ErrorKind::InvalidInput,
            "it is not a file; give a file name",
        )
    }
}

/// How many links a chain may have, as Linux's own limit (ELOOP beyond 40).
const MAX_LINKS: usize = 40;

/// The path at the end of `path`'s chain of symbolic links (`path` itself when it is no
/// link). A relative link target is relative to the link's own folder.
pub fn end_of_links(path: &Path) -> Result<PathBuf, OutputError> {
    let mut current = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&current).map_err(|source| OutputError {
                    path: path.to_path_buf(),
                    source,
                })?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(OutputError::new(
        path,
        ErrorKind::InvalidInput,
        format!("more than {MAX_LINKS} symbolic links in a row (a loop?)"),
    ))
}

/// The real file `path` stands for, for placing things next to it (charts, `.bak`):
/// the end of its links, or `path` itself when they cannot be read.
pub fn real_path(path: &Path) -> PathBuf {
    end_of_links(path).unwrap_or_else(|_| path.to_path_buf())
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Says when `real` (reached from `given` through links) is not the path the user gave.
fn linked(given: &Path, real: &Path, message: String) -> String {
    if given == real {
        message
    } else {
        format!(
            "{message} ({} is a symbolic link to {})",
            given.display(),
            real.display()
        )
    }
}

/// Why no file can be created in `dir`: a part of it is a file, or it does not exist.
/// The nearest part that exists says which.
fn folder_problem(dir: &Path) -> Option<(ErrorKind, String)> {
    let mut part = dir;
    loop {
        match std::fs::metadata(part) {
            Ok(meta) if meta.is_dir() => break,
            Ok(_) => {
                return Some((
                    ErrorKind::NotADirectory,
                    format!(
                        "{} is a file, not a folder; give a path in a folder",
                        part.display()
                    ),
                ));
            }
            Err(_) => match part.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => part = parent,
                _ => break,
            },
        }
    }
    (!dir.is_dir()).then(|| {
        (
            ErrorKind::NotFound,
            format!(
                "the folder {} does not exist; create it or give another path",
                dir.display()
            ),
        )
    })
}

/// Fails like [`write_atomic`] would, before any query runs or any other file (charts)
/// is written next to it, and says what `path` is. A file's folder gets a probe file,
/// so permissions, a read-only mount and a full inode table show here.
pub fn check_folder(path: &Path) -> Result<Target, OutputError> {
    let target = resolve(path)?;
    if let Target::File { real } = &target {
        let dir = folder_of(real);
        tempfile::Builder::new()
            .prefix(".leakcollect-check-")
            .tempfile_in(&dir)
            .map(drop)
            .map_err(|e| cannot_create(path, &dir, e.kind()))?;
    }
    Ok(target)
}

fn cannot_create(path: &Path, dir: &Path, kind: ErrorKind) -> OutputError {
    // The temporary file's own name means nothing to the user: report the folder.
    OutputError::new(
        path,
        kind,
        format!("cannot create a file in {}: {kind}", dir.display()),
    )
}

/// Writes `contents` to `path` as [`resolve`] says: a file atomically (never partly
/// written, permissions kept, a new one 0644), a FIFO or character device in place.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    match resolve(path)? {
        Target::File { real } => replace(path, &real, contents),
        Target::Stream { .. } => write_in_place(path, contents),
    }
}

/// Temporary file beside `real`, fsync, rename over `real`; errors name `given`.
fn replace(given: &Path, real: &Path, contents: &[u8]) -> Result<(), OutputError> {
    let fail = |source| OutputError {
        path: given.to_path_buf(),
        source,
    };
    let dir = folder_of(real);
    let mut temp = tempfile::Builder::new()
        .prefix(".leakcollect-")
        .tempfile_in(&dir)
        .map_err(|e| cannot_create(given, &dir, e.kind()))?;
    temp.write_all(contents).map_err(fail)?;
    // Keep the permissions of the file replaced; a new file gets the usual 0644
    // rather than the temporary file's private 0600.
    let permissions = match std::fs::metadata(real) {
        Ok(meta) => meta.permissions(),
        Err(_) => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::Permissions::from_mode(0o644)
        }
    };
    temp.as_file().set_permissions(permissions).map_err(fail)?;
    temp.as_file().sync_all().map_err(fail)?;
    // Fault injection for the crash test: die after the data is on disk but before the
    // rename, as a killed process would. Never set outside tests.
    if std::env::var_os("LEAKCOLLECT_FAULT_BEFORE_RENAME").is_some() {
        std::process::abort();
    }
    temp.persist(real).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Opens an existing FIFO or device for writing (never creating a file, never
/// truncating) and writes everything. A FIFO waits for its reader, as a shell's `>`.
fn write_in_place(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    let fail = |source| OutputError {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(fail)?;
    file.write_all(contents)
        .and_then(|()| file.flush())
        .map_err(fail)
}

/// Where a Markdown report's charts go, decided before any query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartsPlace {
    /// Written into `dir`, linked from the report as `link_prefix/memory.svg`.
    Folder { dir: PathBuf, link_prefix: String },
    /// Not written; `note` says why and how to get them (shown on stderr), except for a
    /// plain run to standard output, which never had charts.
    Nowhere { note: Option<String> },
}

/// The charts' folder and link prefix for a report file (`render::chart::assets_for`,
/// passed in: output sits below render and does not name it).
pub type BesideReport = fn(&Path) -> (PathBuf, String);

/// `--assets DIR` when given, else `beside` the real report file (`report.md` →
/// `report-assets/`). Standard output, a FIFO or a device has no "next to": no charts
/// then, with a note when `-o` named it. `output` is `-o` as given, `report` what it
/// resolved to (`None`: standard output).
pub fn charts_place(
    output: Option<&Path>,
    report: Option<&Target>,
    assets: Option<&Path>,
    beside: BesideReport,
) -> Result<ChartsPlace, OutputError> {
    if let Some(dir) = assets {
        check_assets(dir)?;
        let link_prefix = match report {
            Some(Target::File { real }) => relative_link(&folder_of(real), dir),
            // Standard output or a stream: links as given, relative to where it is saved.
            _ => dir.to_string_lossy().trim_end_matches('/').to_string(),
        };
        return Ok(ChartsPlace::Folder {
            dir: dir.to_path_buf(),
            link_prefix,
        });
    }
    let how = "give --assets DIR to write them there (the report links them)";
    Ok(match (output, report) {
        (_, Some(Target::File { real })) => {
            let (dir, link_prefix) = beside(real);
            ChartsPlace::Folder { dir, link_prefix }
        }
        (Some(path), Some(Target::Stream { kind })) => ChartsPlace::Nowhere {
            note: Some(format!(
                "no charts: {} is {kind}, with no folder beside it; {how}",
                path.display()
            )),
        },
        (Some(_), None) => ChartsPlace::Nowhere {
            note: Some(format!(
                "no charts: the report goes to standard output; {how}"
            )),
        },
        (None, _) => ChartsPlace::Nowhere { note: None },
    })
}

/// An `--assets` folder must be a folder, or a new one in an existing folder.
fn check_assets(dir: &Path) -> Result<(), OutputError> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(OutputError::new(
            dir,
            ErrorKind::NotADirectory,
            "it is a file, not a folder; the charts need a folder".into(),
        )),
        Err(_) => match folder_problem(&folder_of(dir)) {
            Some((kind, message)) => Err(OutputError::new(dir, kind, message)),
            None => Ok(()),
        },
    }
}

/// Creates the charts folder `dir` (its parent must exist: a missing parent is the
/// user's error, not something to guess a tree for).
pub fn create_folder(dir: &Path) -> Result<(), OutputError> {
    check_assets(dir)?;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir(dir).map_err(|source| OutputError {
        path: dir.to_path_buf(),
        source,
    })
}

/// `dir` as a link from a file in `base` (`shared/` and `charts` → `../charts`). Both are
/// made absolute through the folders that exist, so links in them are followed alike.
fn relative_link(base: &Path, dir: &Path) -> String {
    let (base, dir) = (absolute_existing(base), absolute_existing(dir));
    let (base, dir): (Vec<Component>, Vec<Component>) =
        (base.components().collect(), dir.components().collect());
    let common = base.iter().zip(&dir).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".into(); base.len() - common];
    parts.extend(
        dir[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().to_string()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// `path` absolute, with its longest existing part canonicalized and the rest appended.
fn absolute_existing(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut rest = Vec::new();
    let mut part = absolute.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(part) {
            return rest.iter().rev().fold(real, |acc, name| acc.join(name));
        }
        match (part.parent(), part.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                part = parent;
            }
            _ => return absolute,
        }
    }
}

#[cfg(test)]
mod tests;
