//! Opening heap files: existence, gzip detection by magic bytes (never by extension),
//! the format by the first decompressed bytes (asked of the registry, [`super::formats`]),
//! the free-memory check made before any parsing, and a progress bar on stderr for big
//! files on a terminal.

use super::model::{Format, SnapshotInfo, TimeSource};
use super::{HeapError, formats};
use flate2::read::MultiGzDecoder;
use indicatif::{ProgressBar, ProgressStyle};
use std::fs::File;
use std::io::{BufReader, IsTerminal, Read};
use std::path::Path;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Below this, a progress bar would only flicker.
const PROGRESS_MIN_BYTES: u64 = 64_000_000;

pub use super::Opened;

pub fn open(path: &Path) -> Result<Opened, HeapError> {
    let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => HeapError::Missing {
            path: path.to_path_buf(),
        },
        _ => HeapError::Unreadable {
            path: path.to_path_buf(),
            source,
        },
    })?;
    if meta.is_dir() {
        return Err(HeapError::Unreadable {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "it is a folder"),
        });
    }
    let size_bytes = meta.len();
    if size_bytes == 0 {
        return Err(HeapError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mut head = [0u8; 2];
    let got = read_prefix(path, &mut head)?;
    let gzip = got == 2 && head == GZIP_MAGIC;
    let mut opened = Opened {
        path: path.to_path_buf(),
        size_bytes,
        gzip,
        format: Format::V8,
        modified: meta.modified().ok(),
    };
    opened.format = sniff(&opened)?;
    check_memory(path, size_bytes, gzip, opened.format)?;
    Ok(opened)
}

fn read_prefix(path: &Path, buf: &mut [u8]) -> Result<usize, HeapError> {
    let unreadable = |source| HeapError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(unreadable)?;
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]).map_err(unreadable)? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// The uncompressed size: a gzip member's trailer holds it modulo 2^32, so a trailer
/// smaller than the file itself (a > 4 GB snapshot) or impossibly large (a truncated
/// file) falls back to a typical 8× ratio.
fn uncompressed_size(path: &Path, size: u64, gzip: bool) -> u64 {
    if !gzip || size < 18 {
        return size;
    }
    let trailer = (|| -> std::io::Result<u32> {
        use std::io::{Seek, SeekFrom};
        let mut file = File::open(path)?;
        file.seek(SeekFrom::End(-4))?;
        let mut b = [0u8; 4];
        file.read_exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    })();
    // Deflate cannot compress more than ~1032:1, so a bigger trailer is not one (a file
    // cut short ends in arbitrary bytes).
    match trailer {
        Ok(isize) if u64::from(isize) >= size && u64::from(isize) <= size.saturating_mul(1032) => {
            u64::from(isize)
        }
        _ => size.saturating_mul(8),
    }
}

/// MemAvailable from /proc/meminfo, in bytes (None where there is no such file).
pub fn mem_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Refuses, before parsing, a file whose analysis would not fit in the memory the
/// kernel says is available: better one clear message than an OOM kill half-way.
fn check_memory(path: &Path, size: u64, gzip: bool, format: Format) -> Result<(), HeapError> {
    let Some(available) = mem_available() else {
        return Ok(());
    };
    let raw = uncompressed_size(path, size, gzip) as f64;
    let factor = formats::entry(format).memory_per_byte;
    // Plus the program itself and the id sets kept from earlier snapshots.
    let needed = (raw * factor) as u64 + 50_000_000;
    if needed > available {
        return Err(HeapError::TooBig {
            path: path.to_path_buf(),
            needed_mb: needed / 1_000_000,
            available_mb: available / 1_000_000,
        });
    }
    Ok(())
}

/// The format of the file's first decompressed bytes, as the registry recognises it.
fn sniff(opened: &Opened) -> Result<Format, HeapError> {
    let mut reader = opened.reader(true)?;
    let mut head = [0u8; formats::SNIFF_BYTES];
    let mut got = 0;
    while got < head.len() {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(opened.read_error(e)),
        }
    }
    let head = &head[..got];
    if let Some(entry) = formats::sniff(head) {
        return Ok(entry.format);
    }
    if opened.gzip && head.iter().all(u8::is_ascii_whitespace) {
        return Err(HeapError::Empty {
            path: opened.path.clone(),
        });
    }
    Err(HeapError::NotHeapFile {
        path: opened.path.clone(),
        // The decompressed bytes, which are what the formats are told apart by.
        start: if opened.gzip {
            format!("{} once gunzipped", describe_start(head))
        } else {
            describe_start(head)
        },
        expected: formats::expected(),
        hints: formats::source_hints(),
    })
}

fn describe_start(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(16)];
    if shown.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("{:?}", String::from_utf8_lossy(shown))
    } else {
        let hex: Vec<String> = shown.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("bytes {}", hex.join(" "))
    }
}

/// Reads (and decompresses) on a second thread, 1 MB ahead of the parser, so that on
/// two cores reading and gunzipping overlap with parsing.
struct Prefetch {
    chunks: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Prefetch {
    fn new(mut inner: Box<dyn Read + Send>) -> Prefetch {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        std::thread::spawn(move || {
            loop {
                let mut chunk = vec![0u8; 1 << 20];
                let mut filled = 0;
                // Fill the chunk (readers may return short reads).
                let result = loop {
                    match inner.read(&mut chunk[filled..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == chunk.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                chunk.truncate(filled);
                // A send fails only when the parser stopped early (an error): then
                // nobody listens any more. An empty chunk marks the end.
                match result {
                    Ok(()) => {
                        if tx.send(Ok(chunk)).is_err() || filled == 0 {
                            return;
                        }
                    }
                    Err(e) => {
                        if filled > 0 && tx.send(Ok(chunk)).is_err() {
                            return;
                        }
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        Prefetch {
            chunks: rx,
            current: Vec::new(),
            pos: 0,
            done: false,
        }
    }
}

impl Read for Prefetch {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    if chunk.is_empty() {
                        self.done = true;
                    }
                    self.current = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Counts bytes read from the file (compressed bytes for gzip) into the progress bar.
struct Counting<R> {
    inner: R,
    bar: ProgressBar,
    pending: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending += n as u64;
        if self.pending >= 4_000_000 || n == 0 {
            self.bar.inc(self.pending);
            self.pending = 0;
        }
        Ok(n)
    }
}

impl Opened {
    /// What the model says of the file: its path, size, where it is and when it was
    /// taken (`taken_at`, as its contents or name say, else its modification time).
    pub fn info(
        &self,
        total_heap_bytes: u64,
        objects: u64,
        taken_at: Option<(String, TimeSource)>,
        max_object_id: Option<u64>,
    ) -> SnapshotInfo {
        let taken_at = taken_at.or_else(|| {
            let modified = chrono::DateTime::<chrono::Utc>::from(self.modified?);
            let text = modified.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            Some((text, TimeSource::FileModified))
        });
        SnapshotInfo {
            path: self.path.display().to_string(),
            size_bytes: self.size_bytes,
            gzip: self.gzip,
            total_heap_bytes,
            objects,
            taken_at_source: taken_at.as_ref().map(|t| t.1),
            taken_at: taken_at.map(|t| t.0),
            location: std::path::absolute(&self.path)
                .unwrap_or_else(|_| self.path.clone())
                .display()
                .to_string(),
            max_object_id,
        }
    }

    /// The decompressed contents; with a progress bar on stderr when it is a terminal,
    /// the file is big and not `quiet`.
    pub fn reader(&self, quiet: bool) -> Result<Box<dyn Read>, HeapError> {
        let file = File::open(&self.path).map_err(|source| HeapError::Unreadable {
            path: self.path.clone(),
            source,
        })?;
        let raw: Box<dyn Read + Send> =
            if quiet || self.size_bytes < PROGRESS_MIN_BYTES || !std::io::stderr().is_terminal() {
                Box::new(file)
            } else {
                let bar = ProgressBar::new(self.size_bytes);
                bar.set_style(
                    ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {eta}")
                        .expect("valid progress template"),
                );
                bar.set_message(format!("reading {}", super::file_name(&self.path)));
                Box::new(Counting {
                    inner: file,
                    bar,
                    pending: 0,
                })
            };
        let buffered = BufReader::with_capacity(1 << 20, raw);
        let contents: Box<dyn Read + Send> = if self.gzip {
            Box::new(MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        Ok(Box::new(Prefetch::new(contents)))
    }

    /// For a gzip file whose contents did not parse: decompresses it all again, so that
    /// a corrupt stream (which can decode to garbage before its checksum fails) is
    /// reported as corrupt gzip rather than as a bad snapshot.
    pub fn gzip_fault(&self) -> Option<HeapError> {
        if !self.gzip {
            return None;
        }
        let mut reader = self.reader(true).ok()?;
        match std::io::copy(&mut reader, &mut std::io::sink()) {
            Ok(_) => None,
            Err(e) => Some(self.read_error(e)),
        }
    }

    /// An I/O error while reading the contents, named for what it most likely means.
    pub fn read_error(&self, e: std::io::Error) -> HeapError {
        let path = self.path.clone();
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof => HeapError::Truncated {
                path,
                detail: if self.gzip {
                    "the gzip stream stops before its end".into()
                } else {
                    "end of file".into()
                },
            },
            std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData if self.gzip => {
                HeapError::Gzip {
                    path,
                    detail: e.to_string(),
                }
            }
            _ => HeapError::Unreadable { path, source: e },
        }
    }
}
