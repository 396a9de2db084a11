//! Updating a draft on disk safely: a lock on its folder so scheduled runs cannot
//! interleave, a `.bak` of the previous version, and an atomic replace — all through
//! [`output::write_atomic`], so a draft that is a symbolic link stays one: the lock, the
//! backup and the replace concern the file at the end of its links.

use super::DraftError;
use crate::output::{self, OutputError, Target};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Held while a draft is read, updated and written; released on drop.
pub struct FolderLock {
    _file: File,
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The real file of a draft (the end of its links): a regular file or a new one. A
/// FIFO or device is refused — a draft is read, then replaced.
fn real_draft(draft: &Path) -> Result<PathBuf, DraftError> {
    match output::resolve(draft)? {
        Target::File { real } => Ok(real),
        Target::Stream { kind } => Err(DraftError::NotAFile {
            path: draft.to_path_buf(),
            kind,
        }),
    }
}

/// Locks the folder of the draft's real file (an advisory `flock`, so no lock file is
/// left behind), waiting up to `wait`. Concurrent runs reaching one file through
/// different links thus share one lock.
pub fn lock(draft: &Path, wait: Duration) -> Result<FolderLock, DraftError> {
    let dir = folder_of(&real_draft(draft)?);
    let file = File::open(&dir).map_err(|source| DraftError::Lock {
        dir: dir.clone(),
        source,
    })?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(FolderLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(DraftError::Locked {
                    dir,
                    seconds: wait.as_secs(),
                });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(DraftError::Lock { dir, source });
            }
        }
    }
}

/// [`lock`] for a draft that must exist already (`attach`, `validate --draft`): a
/// missing one says to run `init` (exit 2) instead of failing on its folder or read.
pub fn lock_existing(draft: &Path, wait: Duration) -> Result<FolderLock, DraftError> {
    if let Err(e) = std::fs::metadata(draft)
        && matches!(
            e.kind(),
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
        )
    {
        let real = output::real_path(draft);
        let link = if real == draft {
            String::new()
        } else {
            format!(
                " (it is a symbolic link to {}, which is missing)",
                real.display()
            )
        };
        return Err(DraftError::Missing {
            path: draft.to_path_buf(),
            link,
        });
    }
    lock(draft, wait)
}

/// Reads a draft as UTF-8, without its byte-order mark (returned separately).
pub fn read(path: &Path) -> Result<(bool, String), DraftError> {
    let bytes = std::fs::read(path).map_err(|source| DraftError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let (bom, body) = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => (true, rest.to_vec()),
        None => (false, bytes),
    };
    let text = String::from_utf8(body).map_err(|e| DraftError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to() + if bom { 3 } else { 0 },
    })?;
    Ok((bom, text))
}

/// Replaces the draft with `text` (BOM restored), keeping the old version as `.bak`
/// beside the real file (a symbolic link's target, not the link).
pub fn write(path: &Path, bom: bool, text: &str, backup: bool) -> Result<(), OutputError> {
    let real = output::real_path(path);
    if backup && real.exists() {
        let old = std::fs::read(&real).map_err(|source| OutputError {
            path: path.to_path_buf(),
            source,
        })?;
        let mut bak = real.into_os_string();
        bak.push(".bak");
        output::write_atomic(Path::new(&bak), &old)?;
    }
    let mut bytes = Vec::with_capacity(text.len() + 3);
    if bom {
        bytes.extend_from_slice(b"\xef\xbb\xbf");
    }
    bytes.extend_from_slice(text.as_bytes());
    output::write_atomic(path, &bytes)
}
