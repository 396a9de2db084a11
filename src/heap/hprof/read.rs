//! Bytes of an HPROF file, read forward once: a buffered reader of big-endian numbers
//! and identifiers that knows its offset (for messages) and tells a file that ends early
//! from any other fault. Identifiers are 8 bytes (64-bit JVMs) or 4 (32-bit JVMs), as the
//! header says; the size is a const generic `ID` of the readers so that an 8-byte dump
//! runs the same code as if no other size existed, and every id is widened to `u64`.

use std::io::Read;

/// Why a dump could not be read.
#[derive(Debug)]
pub enum ParseError {
    Io(std::io::Error),
    /// The file ends inside a record (or its header): `what` was being read.
    Eof {
        what: &'static str,
        offset: u64,
    },
    /// Not "JAVA PROFILE 1.0.x".
    NotHprof(String),
    /// An identifier size other than 4 or 8.
    IdSize(u32),
    UnknownTag {
        tag: u8,
        offset: u64,
    },
    UnknownSubTag {
        tag: u8,
        offset: u64,
    },
    Invalid(String),
}

const BUF: usize = 1 << 22;

pub struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// File offset of `buf[0]` (of the decompressed contents).
    base: u64,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Reader<R> {
        Reader {
            inner,
            buf: vec![0; BUF],
            pos: 0,
            end: 0,
            base: 0,
        }
    }

    /// Offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Refills so that `n` (≤ the buffer) bytes are available; false at the end of the
    /// file before that.
    fn fill(&mut self, n: usize) -> Result<bool, ParseError> {
        if self.end - self.pos >= n {
            return Ok(true);
        }
        self.buf.copy_within(self.pos..self.end, 0);
        self.base += self.pos as u64;
        self.end -= self.pos;
        self.pos = 0;
        while self.end < n {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(k) => self.end += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ParseError::Io(e)),
            }
        }
        Ok(true)
    }

    /// Whether any byte is left (false at a clean end of file).
    pub fn more(&mut self) -> Result<bool, ParseError> {
        self.fill(1)
    }

    /// `n` bytes (≤ 4 MB), borrowed from the buffer.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&[u8], ParseError> {
        if n > BUF {
            return Err(ParseError::Invalid(format!(
                "a {what} of {n} bytes at byte {}",
                self.offset()
            )));
        }
        if !self.fill(n)? {
            return Err(ParseError::Eof {
                what,
                offset: self.offset(),
            });
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.buf[start..start + n])
    }

    pub fn skip(&mut self, mut n: u64, what: &'static str) -> Result<(), ParseError> {
        while n > 0 {
            let step = n.min(BUF as u64) as usize;
            self.bytes(step, what)?;
            n -= step as u64;
        }
        Ok(())
    }

    #[inline]
    pub fn u8(&mut self, what: &'static str) -> Result<u8, ParseError> {
        Ok(self.bytes(1, what)?[0])
    }
    #[inline]
    pub fn u16(&mut self, what: &'static str) -> Result<u16, ParseError> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    #[inline]
    pub fn u32(&mut self, what: &'static str) -> Result<u32, ParseError> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_be_bytes(b.try_into().expect("4 bytes")))
    }
    /// An identifier of `ID` (4 or 8) bytes, widened to `u64`.
    #[inline]
    pub fn id<const ID: usize>(&mut self, what: &'static str) -> Result<u64, ParseError> {
        Ok(id_at::<ID>(self.bytes(ID, what)?, 0))
    }
}

/// The big-endian identifier of `ID` (4 or 8) bytes at `at` in `bytes`, widened to `u64`.
#[inline]
pub fn id_at<const ID: usize>(bytes: &[u8], at: usize) -> u64 {
    if ID == 8 {
        u64::from_be_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
    } else {
        u64::from(u32::from_be_bytes(
            bytes[at..at + 4].try_into().expect("4 bytes"),
        ))
    }
}

/// The size in a dump of a value of HPROF basic type `ty` (2 = object: an identifier of
/// `id_size` bytes), None for an unknown type.
pub fn type_size(ty: u8, id_size: u32) -> Option<u32> {
    match ty {
        2 => Some(id_size),
        4 | 8 => Some(1),
        5 | 9 => Some(2),
        6 | 10 => Some(4),
        7 | 11 => Some(8),
        _ => None,
    }
}

/// The Java name of a primitive array's element type.
pub fn primitive_name(ty: u8) -> Option<&'static str> {
    Some(match ty {
        4 => "boolean",
        5 => "char",
        6 => "float",
        7 => "double",
        8 => "byte",
        9 => "short",
        10 => "int",
        11 => "long",
        _ => return None,
    })
}
