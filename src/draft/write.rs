//! Updating a draft on disk safely: a lock on its folder so scheduled runs cannot
//! interleave, a `.bak` of the previous version, and an atomic replace.

use super::DraftError;
use crate::output::{self, OutputError};
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

/// Locks the draft's folder (an advisory `flock`, so no lock file is left behind),
/// waiting up to `wait`.
pub fn lock(draft: &Path, wait: Duration) -> Result<FolderLock, DraftError> {
    let dir = folder_of(draft);
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

/// Replaces the draft with `text` (BOM restored), keeping the old version as `.bak`.
pub fn write(path: &Path, bom: bool, text: &str, backup: bool) -> Result<(), OutputError> {
    if backup && path.exists() {
        let old = std::fs::read(path).map_err(|source| OutputError {
            path: path.to_path_buf(),
            source,
        })?;
        let mut bak = path.as_os_str().to_owned();
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
