//! Where output goes. Files are written atomically: a temporary file in the same folder,
//! flushed to disk, then renamed over the target, so a reader never sees half a report.
//! Standard output is written by [`print`] alone; a reader that closed it
//! (`leakcollect … | head -1`) ends the run quietly with exit code 0, as ripgrep does.

use std::io::Write;
use std::path::{Path, PathBuf};
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
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(source) => Err(OutputError {
            path: PathBuf::from("standard output"),
            source,
        }
        .into()),
    }
}

/// Fails like [`write_atomic`] would when `path`'s folder is missing or cannot take a
/// new file, before any query runs or any other file (charts) is written next to it.
pub fn check_folder(path: &Path) -> Result<(), OutputError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let fail = |kind: std::io::ErrorKind, message: String| OutputError {
        path: path.to_path_buf(),
        source: std::io::Error::new(kind, message),
    };
    if !dir.is_dir() {
        return Err(fail(
            std::io::ErrorKind::NotFound,
            format!("the folder {} does not exist", dir.display()),
        ));
    }
    if path.is_dir() {
        return Err(fail(
            std::io::ErrorKind::IsADirectory,
            "it is a folder; give a file name".into(),
        ));
    }
    // A probe file, removed at once: permissions, a read-only mount and a full inode
    // table all show here rather than after every query ran.
    tempfile::Builder::new()
        .prefix(".leakcollect-check-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| {
            fail(
                e.kind(),
                format!("cannot create a file in {}: {}", dir.display(), e.kind()),
            )
        })
}

pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    let fail = |source| OutputError {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(fail(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("the folder {} does not exist", dir.display()),
        )));
    }
    if path.is_dir() {
        return Err(fail(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a folder; give a file name",
        )));
    }
    // The temporary file's own name means nothing to the user: report the folder.
    let mut temp = tempfile::Builder::new()
        .prefix(".leakcollect-")
        .tempfile_in(dir)
        .map_err(|e| {
            fail(std::io::Error::new(
                e.kind(),
                format!("cannot create a file in {}: {}", dir.display(), e.kind()),
            ))
        })?;
    temp.write_all(contents).map_err(fail)?;
    // Keep the permissions of the file replaced; a new file gets the usual 0644
    // rather than the temporary file's private 0600.
    let permissions = match std::fs::metadata(path) {
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
    temp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
