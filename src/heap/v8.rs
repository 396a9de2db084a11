//! Streaming parser for V8 heap snapshots (the `.heapsnapshot` JSON that Node.js's
//! `v8.writeHeapSnapshot()`, `--heapsnapshot-signal` and Chrome DevTools write).
//!
//! Real snapshots are hundreds of MB, almost all of it three flat arrays (`nodes`,
//! `edges`, `strings`), so a generic JSON tree would cost ten times the file in memory.
//! A small hand tokenizer reads straight from the (decompressed) byte stream: numbers go
//! into `Vec<u32>`, strings into one byte buffer plus offsets; only `snapshot.meta` (a
//! few hundred bytes) goes through serde. Unknown top-level keys (`locations`,
//! `trace_*`, `samples`…) are skipped without being stored. Fields are found by the names
//! in `meta`, since their order and number differ between V8 versions.

use serde::Deserialize;
use std::io::Read;

/// Why the bytes are not a snapshot; turned into a [`super::HeapError`] by the caller.
#[derive(Debug)]
pub enum ParseError {
    Io(std::io::Error),
    Eof,
    Syntax { offset: u64, detail: String },
    Invalid(String),
}

impl From<std::io::Error> for ParseError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            ParseError::Eof
        } else {
            ParseError::Io(e)
        }
    }
}

type Result<T> = std::result::Result<T, ParseError>;

#[derive(Debug, Deserialize)]
struct SnapshotHeader {
    meta: Meta,
    #[serde(default)]
    node_count: Option<u64>,
    #[serde(default)]
    edge_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Meta {
    node_fields: Vec<String>,
    /// The first entry lists the type names of the `type` field; others are type hints.
    node_types: Vec<serde_json::Value>,
    edge_fields: Vec<String>,
    edge_types: Vec<serde_json::Value>,
}

/// One snapshot's graph. Edges' `to` are node indices (not array offsets, as in the file).
pub struct Snapshot {
    pub node_stride: usize,
    pub nodes: Vec<u32>,
    pub edge_stride: usize,
    pub edges: Vec<u32>,
    /// `first_edge[i]..first_edge[i + 1]` are node i's outgoing edges (edge numbers).
    pub first_edge: Vec<u32>,
    pub strings: Strings,
    pub node_types: Vec<String>,
    pub edge_types: Vec<String>,
    pub f: Fields,
}

/// Offsets of the fields within a node or an edge record.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub n_type: usize,
    pub n_name: usize,
    pub n_id: usize,
    pub n_self_size: usize,
    pub n_edge_count: usize,
    pub e_type: usize,
    pub e_name: usize,
    pub e_to: usize,
}

/// The string table: one buffer, one offset per string (lone UTF-16 surrogates, which
/// V8 does write, become U+FFFD).
#[derive(Default)]
pub struct Strings {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Strings {
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        // Only valid UTF-8 is ever pushed (see `read_string`).
        std::str::from_utf8(&self.bytes[start..self.ends[i]]).unwrap_or("\u{fffd}")
    }
}

impl Snapshot {
    pub fn node_count(&self) -> usize {
        self.first_edge.len() - 1
    }
    #[inline]
    pub fn node_field(&self, node: usize, field: usize) -> u32 {
        self.nodes[node * self.node_stride + field]
    }
    pub fn node_type(&self, node: usize) -> u32 {
        self.node_field(node, self.f.n_type)
    }
    pub fn node_name(&self, node: usize) -> &str {
        self.strings
            .get(self.node_field(node, self.f.n_name) as usize)
    }
    pub fn node_id(&self, node: usize) -> u32 {
        self.node_field(node, self.f.n_id)
    }
    pub fn self_size(&self, node: usize) -> u32 {
        self.node_field(node, self.f.n_self_size)
    }
    #[inline]
    pub fn edges_of(&self, node: usize) -> std::ops::Range<usize> {
        self.first_edge[node] as usize..self.first_edge[node + 1] as usize
    }
    #[inline]
    pub fn edge_type(&self, edge: usize) -> u32 {
        self.edges[edge * self.edge_stride + self.f.e_type]
    }
    #[inline]
    pub fn edge_name(&self, edge: usize) -> u32 {
        self.edges[edge * self.edge_stride + self.f.e_name]
    }
    #[inline]
    pub fn edge_to(&self, edge: usize) -> usize {
        self.edges[edge * self.edge_stride + self.f.e_to] as usize
    }
    pub fn type_index(&self, name: &str) -> Option<u32> {
        self.node_types
            .iter()
            .position(|t| t == name)
            .map(|i| i as u32)
    }
    pub fn edge_type_index(&self, name: &str) -> Option<u32> {
        self.edge_types
            .iter()
            .position(|t| t == name)
            .map(|i| i as u32)
    }
    /// The highest id of a V8 heap object. V8 numbers heap objects with odd ids that
    /// only grow and stay with the object; even ids are embedder (C++) nodes hashed from
    /// addresses, which change between snapshots and say nothing about order.
    pub fn max_id(&self) -> u32 {
        (0..self.node_count())
            .map(|i| self.node_id(i))
            .filter(|id| id % 2 == 1)
            .max()
            .unwrap_or(0)
    }
}

/// Parses a whole snapshot from `reader` (already decompressed).
pub fn parse(reader: impl Read) -> Result<Snapshot> {
    let mut lx = Lexer::new(reader);
    let mut header: Option<SnapshotHeader> = None;
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut strings = Strings::default();
    let mut seen = (false, false, false);
    lx.expect(b'{')?;
    if lx.peek_nonws()? == b'}' {
        return Err(ParseError::Invalid("the JSON object is empty".into()));
    }
    let mut key = Vec::new();
    loop {
        lx.expect(b'"')?;
        key.clear();
        lx.read_string(&mut key)?;
        lx.expect(b':')?;
        match key.as_slice() {
            b"snapshot" => {
                let raw = lx.capture_value()?;
                let parsed: SnapshotHeader = serde_json::from_slice(&raw).map_err(|e| {
                    ParseError::Invalid(format!("`snapshot.meta` is not as expected ({e})"))
                })?;
                header = Some(parsed);
            }
            b"nodes" => {
                if let Some(SnapshotHeader {
                    node_count: Some(n),
                    meta,
                    ..
                }) = &header
                {
                    nodes.reserve_exact((*n as usize).saturating_mul(meta.node_fields.len()));
                }
                lx.read_u32_array(&mut nodes)?;
                seen.0 = true;
            }
            b"edges" => {
                if let Some(SnapshotHeader {
                    edge_count: Some(n),
                    meta,
                    ..
                }) = &header
                {
                    edges.reserve_exact((*n as usize).saturating_mul(meta.edge_fields.len()));
                }
                lx.read_u32_array(&mut edges)?;
                seen.1 = true;
            }
            b"strings" => {
                lx.read_string_array(&mut strings)?;
                seen.2 = true;
            }
            _ => lx.skip_value()?,
        }
        match lx.next_nonws()? {
            b',' => continue,
            b'}' => break,
            b => return Err(lx.syntax(format!("expected , or }} but found {:?}", b as char))),
        }
    }
    let header = header.ok_or_else(|| ParseError::Invalid("no `snapshot` header".into()))?;
    for (present, name) in [(seen.0, "nodes"), (seen.1, "edges"), (seen.2, "strings")] {
        if !present {
            return Err(ParseError::Invalid(format!("no `{name}` array")));
        }
    }
    build(header, nodes, edges, strings)
}

fn type_names(types: &[serde_json::Value], what: &str) -> Result<Vec<String>> {
    types
        .first()
        .and_then(|t| t.as_array())
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or("").to_string())
                .collect()
        })
        .ok_or_else(|| ParseError::Invalid(format!("`meta.{what}` has no list of type names")))
}

/// Checks the arrays against `meta` (so that nothing later can index out of bounds) and
/// turns edge targets into node indices.
fn build(
    header: SnapshotHeader,
    nodes: Vec<u32>,
    mut edges: Vec<u32>,
    strings: Strings,
) -> Result<Snapshot> {
    let meta = header.meta;
    let pos = |fields: &[String], name: &str| {
        fields
            .iter()
            .position(|f| f == name)
            .ok_or_else(|| ParseError::Invalid(format!("`meta` has no `{name}` field")))
    };
    let f = Fields {
        n_type: pos(&meta.node_fields, "type")?,
        n_name: pos(&meta.node_fields, "name")?,
        n_id: pos(&meta.node_fields, "id")?,
        n_self_size: pos(&meta.node_fields, "self_size")?,
        n_edge_count: pos(&meta.node_fields, "edge_count")?,
        e_type: pos(&meta.edge_fields, "type")?,
        e_name: pos(&meta.edge_fields, "name_or_index")?,
        e_to: pos(&meta.edge_fields, "to_node")?,
    };
    let node_types = type_names(&meta.node_types, "node_types")?;
    let edge_types = type_names(&meta.edge_types, "edge_types")?;
    let (ns, es) = (meta.node_fields.len(), meta.edge_fields.len());
    if !nodes.len().is_multiple_of(ns) || !edges.len().is_multiple_of(es) {
        return Err(ParseError::Invalid(
            "the node or edge array length is not a multiple of its field count".into(),
        ));
    }
    let node_count = nodes.len() / ns;
    if node_count == 0 {
        return Err(ParseError::Invalid("there are no nodes".into()));
    }
    if let Some(expected) = header.node_count
        && expected as usize != node_count
    {
        return Err(ParseError::Invalid(format!(
            "`snapshot.node_count` says {expected} nodes but the array holds {node_count}"
        )));
    }
    let mut first_edge = Vec::with_capacity(node_count + 1);
    let mut total: u64 = 0;
    for i in 0..node_count {
        first_edge.push(total as u32);
        let node = &nodes[i * ns..(i + 1) * ns];
        total += u64::from(node[f.n_edge_count]);
        if node[f.n_type] as usize >= node_types.len() {
            return Err(ParseError::Invalid(format!("node {i} has an unknown type")));
        }
        if node[f.n_name] as usize >= strings.len() {
            return Err(ParseError::Invalid(format!(
                "node {i}'s name is not in the string table"
            )));
        }
    }
    if total != (edges.len() / es) as u64 || total > u64::from(u32::MAX) {
        return Err(ParseError::Invalid(format!(
            "the nodes' edge counts add up to {total} but the edge array holds {}",
            edges.len() / es
        )));
    }
    first_edge.push(total as u32);
    let named: Vec<bool> = edge_types
        .iter()
        .map(|t| t != "element" && t != "hidden")
        .collect();
    for (k, edge) in edges.chunks_exact_mut(es).enumerate() {
        let to = edge[f.e_to] as usize;
        if !to.is_multiple_of(ns) || to / ns >= node_count {
            return Err(ParseError::Invalid(format!(
                "edge {k} points outside the node array"
            )));
        }
        edge[f.e_to] = (to / ns) as u32;
        let ty = edge[f.e_type] as usize;
        if ty >= edge_types.len() || (named[ty] && edge[f.e_name] as usize >= strings.len()) {
            return Err(ParseError::Invalid(format!(
                "edge {k} has an unknown type or name"
            )));
        }
    }
    Ok(Snapshot {
        node_stride: ns,
        nodes,
        edge_stride: es,
        edges,
        first_edge,
        strings,
        node_types,
        edge_types,
        f,
    })
}

/// A byte-level JSON tokenizer over a buffered stream, just enough for the snapshot.
struct Lexer<R> {
    reader: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    offset: u64,
    recording: Option<Vec<u8>>,
}

impl<R: Read> Lexer<R> {
    fn new(reader: R) -> Self {
        Lexer {
            reader,
            buf: vec![0; 1 << 16].into_boxed_slice(),
            pos: 0,
            len: 0,
            offset: 0,
            recording: None,
        }
    }

    fn syntax(&self, detail: String) -> ParseError {
        ParseError::Syntax {
            offset: self.offset + self.pos as u64,
            detail,
        }
    }

    #[cold]
    fn refill(&mut self) -> Result<bool> {
        self.offset += self.len as u64;
        self.pos = 0;
        self.len = 0;
        loop {
            match self.reader.read(&mut self.buf) {
                Ok(n) => {
                    self.len = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    #[inline]
    fn next(&mut self) -> Result<u8> {
        if self.pos == self.len && !self.refill()? {
            return Err(ParseError::Eof);
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        if let Some(rec) = &mut self.recording {
            rec.push(b);
        }
        Ok(b)
    }

    #[inline]
    fn peek(&mut self) -> Result<u8> {
        if self.pos == self.len && !self.refill()? {
            return Err(ParseError::Eof);
        }
        Ok(self.buf[self.pos])
    }

    fn peek_nonws(&mut self) -> Result<u8> {
        loop {
            let b = self.peek()?;
            if !b.is_ascii_whitespace() {
                return Ok(b);
            }
            self.next()?;
        }
    }

    fn next_nonws(&mut self) -> Result<u8> {
        loop {
            let b = self.next()?;
            if !b.is_ascii_whitespace() {
                return Ok(b);
            }
        }
    }

    fn expect(&mut self, want: u8) -> Result<()> {
        let b = self.next_nonws()?;
        if b == want {
            Ok(())
        } else {
            Err(self.syntax(format!(
                "expected {:?} but found {:?}",
                want as char, b as char
            )))
        }
    }

    /// The raw bytes of the next value (for the small `snapshot` header).
    fn capture_value(&mut self) -> Result<Vec<u8>> {
        self.peek_nonws()?;
        self.recording = Some(Vec::new());
        let result = self.skip_value();
        let raw = self.recording.take().unwrap_or_default();
        result.map(|()| raw)
    }

    /// Reads `[n, n, …]` of non-negative integers that fit in 32 bits.
    fn read_u32_array(&mut self, out: &mut Vec<u32>) -> Result<()> {
        self.expect(b'[')?;
        if self.peek_nonws()? == b']' {
            self.next()?;
            return Ok(());
        }
        loop {
            self.peek_nonws()?;
            let mut value: u64 = 0;
            let mut digits = 0;
            loop {
                let b = self.peek()?;
                if b.is_ascii_digit() {
                    value = value * 10 + u64::from(b - b'0');
                    digits += 1;
                    if value > u64::from(u32::MAX) {
                        return Err(self.syntax("a number above 2^32 in nodes or edges".into()));
                    }
                    self.pos += 1;
                } else {
                    break;
                }
            }
            if digits == 0 {
                let b = self.peek()?;
                return Err(self.syntax(format!(
                    "expected a non-negative integer but found {:?}",
                    b as char
                )));
            }
            out.push(value as u32);
            match self.next_nonws()? {
                b',' => {}
                b']' => return Ok(()),
                b => {
                    return Err(self.syntax(format!("expected , or ] but found {:?}", b as char)));
                }
            }
        }
    }

    fn read_string_array(&mut self, out: &mut Strings) -> Result<()> {
        self.expect(b'[')?;
        if self.peek_nonws()? == b']' {
            self.next()?;
            return Ok(());
        }
        loop {
            self.expect(b'"')?;
            self.read_string(&mut out.bytes)?;
            out.ends.push(out.bytes.len());
            match self.next_nonws()? {
                b',' => {}
                b']' => return Ok(()),
                b => {
                    return Err(self.syntax(format!("expected , or ] but found {:?}", b as char)));
                }
            }
        }
    }

    /// Reads a string body (after the opening quote) into `out` as UTF-8.
    fn read_string(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        loop {
            // Fast path: copy the run of plain bytes in the buffer at once.
            let run_end = self.buf[self.pos..self.len]
                .iter()
                .position(|&b| b == b'"' || b == b'\\')
                .map(|p| self.pos + p);
            match run_end {
                None => {
                    out.extend_from_slice(&self.buf[self.pos..self.len]);
                    if let Some(rec) = &mut self.recording {
                        rec.extend_from_slice(&self.buf[self.pos..self.len]);
                    }
                    self.pos = self.len;
                    if !self.refill()? {
                        return Err(ParseError::Eof);
                    }
                }
                Some(end) => {
                    out.extend_from_slice(&self.buf[self.pos..end]);
                    if let Some(rec) = &mut self.recording {
                        rec.extend_from_slice(&self.buf[self.pos..end]);
                    }
                    self.pos = end;
                    if self.next()? == b'"' {
                        break;
                    }
                    self.read_escape(out)?;
                }
            }
        }
        // Raw bytes of a JSON file should be UTF-8; repair rather than fail on odd ones.
        if std::str::from_utf8(&out[start..]).is_err() {
            let fixed = String::from_utf8_lossy(&out[start..]).into_owned();
            out.truncate(start);
            out.extend_from_slice(fixed.as_bytes());
        }
        Ok(())
    }

    fn read_escape(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let c = self.next()?;
        let simple = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let hi = self.read_hex4()?;
                let ch = if (0xd800..0xdc00).contains(&hi) && self.peek()? == b'\\' {
                    self.next()?;
                    if self.next()? != b'u' {
                        return Err(self.syntax("a bad \\u escape".into()));
                    }
                    let lo = self.read_hex4()?;
                    if (0xdc00..0xe000).contains(&lo) {
                        char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
                    } else {
                        // A lone high surrogate followed by another escape: keep the second.
                        out.extend_from_slice("\u{fffd}".as_bytes());
                        char::from_u32(lo)
                    }
                } else {
                    char::from_u32(hi)
                };
                let ch = ch.unwrap_or('\u{fffd}');
                let mut tmp = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                return Ok(());
            }
            other => {
                return Err(self.syntax(format!("a bad escape \\{}", other as char)));
            }
        };
        out.push(simple);
        Ok(())
    }

    fn read_hex4(&mut self) -> Result<u32> {
        let mut v = 0;
        for _ in 0..4 {
            let b = self.next()?;
            let d = (b as char)
                .to_digit(16)
                .ok_or_else(|| self.syntax("a bad \\u escape".into()))?;
            v = v * 16 + d;
        }
        Ok(v)
    }

    /// Skips any JSON value without storing it (iterative: no recursion on nesting).
    fn skip_value(&mut self) -> Result<()> {
        let mut depth = 0usize;
        let mut scratch = Vec::new();
        loop {
            let b = self.next_nonws()?;
            match b {
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        return Err(self.syntax(format!("unexpected {:?}", b as char)));
                    }
                    depth -= 1;
                }
                b'"' => {
                    scratch.clear();
                    self.read_string(&mut scratch)?;
                }
                b',' | b':' if depth > 0 => {}
                b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                    while matches!(self.peek()?, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-' | b'a'..=b'z')
                    {
                        self.next()?;
                    }
                }
                _ => return Err(self.syntax(format!("unexpected {:?}", b as char))),
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","detachedness"],
"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic"],"string","number","number","number","number"],
"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"]},
"node_count":3,"edge_count":2},
"nodes":[9,0,1,0,1,0, 3,1,3,40,1,0, 2,2,5,16,0,0],
"edges":[1,0,6, 2,3,12],
"locations":[1,2,3,4],"samples":[],
"strings":["","Caf\u00e9 \ud83d\ude00","hello","prop"]}"#;

    #[test]
    fn parses_fields_by_name_and_unescapes() {
        let s = parse(SMALL.as_bytes()).unwrap();
        assert_eq!(s.node_count(), 3);
        assert_eq!(s.node_name(1), "Café 😀");
        assert_eq!(s.edge_to(0), 1);
        assert_eq!(s.edge_to(1), 2);
        assert_eq!(s.strings.get(s.edge_name(1) as usize), "prop");
        assert_eq!(s.self_size(1), 40);
        assert_eq!(s.max_id(), 5);
    }

    #[test]
    fn truncation_is_eof() {
        for cut in [10, 200, SMALL.len() - 3] {
            assert!(matches!(
                parse(&SMALL.as_bytes()[..cut]),
                Err(ParseError::Eof)
            ));
        }
    }

    #[test]
    fn edge_outside_nodes_is_invalid() {
        let bad = SMALL.replace("[1,0,6, 2,3,12]", "[1,0,6, 2,3,18]");
        assert!(matches!(parse(bad.as_bytes()), Err(ParseError::Invalid(_))));
    }
}
