//! Opening GC logs: existence, gzip recognised by its magic bytes (never by the file's
//! name), and the lines, streamed (a long-running service's log is read once, only its
//! collections kept). A gzip stream that ends early is told apart from a corrupt one.

use super::GcLogError;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A GC log's lines, decompressed when the file is gzip'd.
pub struct Lines {
    path: PathBuf,
    reader: Box<dyn BufRead>,
    pub size_bytes: u64,
    pub gzip: bool,
    buffer: Vec<u8>,
}

pub fn open(path: &Path) -> Result<Lines, GcLogError> {
    let unreadable = |source| GcLogError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => GcLogError::Missing {
            path: path.to_path_buf(),
        },
        _ => unreadable(source),
    })?;
    if meta.is_dir() {
        return Err(unreadable(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a folder",
        )));
    }
    if meta.len() == 0 {
        return Err(GcLogError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mut file = File::open(path).map_err(unreadable)?;
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]).map_err(unreadable)? {
            0 => break,
            n => got += n,
        }
    }
    let gzip = got == 2 && head == GZIP_MAGIC;
    let file = File::open(path).map_err(unreadable)?;
    let reader: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::new(MultiGzDecoder::new(BufReader::new(file))))
    } else {
        Box::new(BufReader::new(file))
    };
    Ok(Lines {
        path: path.to_path_buf(),
        reader,
        size_bytes: meta.len(),
        gzip,
        buffer: Vec::new(),
    })
}

impl Lines {
    /// The next line without its line ending (bytes that are not UTF-8 replaced), or
    /// `None` at the end.
    pub fn next_line(&mut self) -> Result<Option<String>, GcLogError> {
        self.buffer.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.buffer)
            .map_err(|e| self.error(e))?;
        if read == 0 {
            return Ok(None);
        }
        while matches!(self.buffer.last(), Some(b'\n' | b'\r')) {
            self.buffer.pop();
        }
        Ok(Some(String::from_utf8_lossy(&self.buffer).into_owned()))
    }

    fn error(&self, e: std::io::Error) -> GcLogError {
        let path = self.path.clone();
        match (self.gzip, e.kind()) {
            (true, std::io::ErrorKind::UnexpectedEof) => GcLogError::Truncated {
                path,
                detail: e.to_string(),
            },
            (true, _) => GcLogError::Gzip {
                path,
                detail: e.to_string(),
            },
            (false, _) => GcLogError::Unreadable { path, source: e },
        }
    }
}
