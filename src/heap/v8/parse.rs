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

/// Why the bytes are not a snapshot; turned into a [`crate::heap::HeapError`] by the caller.
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
    /// Aligned with `node_fields`: at the `type` field's position, the list of type
    /// names; elsewhere type hints (`string`, `number`).
    node_types: Vec<serde_json::Value>,
    edge_fields: Vec<String>,
    edge_types: Vec<serde_json::Value>,
}

/// One snapshot's graph, column by column and only the fields the analysis reads
/// (13 bytes per node, 9 per edge, where the file's arrays would keep 28 and 12).
/// Edges' `to` are node indices (not array offsets, as in the file).
pub struct Snapshot {
    pub node_type: Vec<u8>,
    pub node_name: Vec<u32>,
    pub node_id: Vec<u32>,
    pub node_self_size: Vec<u32>,
    /// `first_edge[i]..first_edge[i + 1]` are node i's outgoing edges (edge numbers).
    pub first_edge: Vec<u32>,
    pub edge_type: Vec<u8>,
    pub edge_name: Vec<u32>,
    pub edge_to: Vec<u32>,
    pub strings: Strings,
    pub node_types: Vec<String>,
    pub edge_types: Vec<String>,
    /// `locations`: (node index, 0-based line) of the closures whose position V8
    /// recorded, by node index.
    pub locations: Vec<(u32, u32)>,
}

/// Positions of the fields within a node or an edge record of the file.
#[derive(Debug, Clone, Copy)]
struct Fields {
    n_count: usize,
    n_type: usize,
    n_name: usize,
    n_id: usize,
    n_self_size: usize,
    n_edge_count: usize,
    e_count: usize,
    e_type: usize,
    e_name: usize,
    e_to: usize,
}

/// The string table: one buffer, one offset per string (lone UTF-16 surrogates, which
/// V8 does write, become U+FFFD).
#[derive(Default)]
pub struct Strings {
    bytes: Vec<u8>,
    /// End offsets (u32: a string table above 4 GB is refused).
    ends: Vec<u32>,
}

impl Strings {
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        // Only valid UTF-8 is ever pushed (see `read_string`).
        std::str::from_utf8(&self.bytes[start..self.ends[i] as usize]).unwrap_or("\u{fffd}")
    }
}

impl Snapshot {
    pub fn node_count(&self) -> usize {
        self.node_id.len()
    }
    #[inline]
    pub fn node_type(&self, node: usize) -> u32 {
        u32::from(self.node_type[node])
    }
    #[inline]
    pub fn node_name_index(&self, node: usize) -> u32 {
        self.node_name[node]
    }
    pub fn node_name(&self, node: usize) -> &str {
        self.strings.get(self.node_name[node] as usize)
    }
    #[inline]
    pub fn node_id(&self, node: usize) -> u32 {
        self.node_id[node]
    }
    #[inline]
    pub fn self_size(&self, node: usize) -> u32 {
        self.node_self_size[node]
    }
    #[inline]
    pub fn edges_of(&self, node: usize) -> std::ops::Range<usize> {
        self.first_edge[node] as usize..self.first_edge[node + 1] as usize
    }
    #[inline]
    pub fn edge_type(&self, edge: usize) -> u32 {
        u32::from(self.edge_type[edge])
    }
    #[inline]
    pub fn edge_name(&self, edge: usize) -> u32 {
        self.edge_name[edge]
    }
    #[inline]
    pub fn edge_to(&self, edge: usize) -> usize {
        self.edge_to[edge] as usize
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
        self.node_id
            .iter()
            .copied()
            .filter(|id| id % 2 == 1)
            .max()
            .unwrap_or(0)
    }
}

fn fields(meta: &Meta) -> Result<Fields> {
    let pos = |fields: &[String], name: &str| {
        fields
            .iter()
            .position(|f| f == name)
            .ok_or_else(|| ParseError::Invalid(format!("`meta` has no `{name}` field")))
    };
    Ok(Fields {
        n_count: meta.node_fields.len(),
        n_type: pos(&meta.node_fields, "type")?,
        n_name: pos(&meta.node_fields, "name")?,
        n_id: pos(&meta.node_fields, "id")?,
        n_self_size: pos(&meta.node_fields, "self_size")?,
        n_edge_count: pos(&meta.node_fields, "edge_count")?,
        e_count: meta.edge_fields.len(),
        e_type: pos(&meta.edge_fields, "type")?,
        e_name: pos(&meta.edge_fields, "name_or_index")?,
        e_to: pos(&meta.edge_fields, "to_node")?,
    })
}

fn small(v: u32, what: &str) -> Result<u8> {
    u8::try_from(v).map_err(|_| ParseError::Invalid(format!("a {what} type above 255")))
}

/// Parses a whole snapshot from `reader` (already decompressed). V8 writes the
/// `snapshot` header first; the node and edge arrays are read into columns by the
/// field positions it gives, so a file with the arrays before the header is refused.
pub fn parse(reader: impl Read) -> Result<Snapshot> {
    let mut lx = Lexer::new(reader);
    let mut header: Header = None;
    let mut snap = Snapshot {
        node_type: Vec::new(),
        node_name: Vec::new(),
        node_id: Vec::new(),
        node_self_size: Vec::new(),
        first_edge: vec![0],
        edge_type: Vec::new(),
        edge_name: Vec::new(),
        edge_to: Vec::new(),
        strings: Strings::default(),
        node_types: Vec::new(),
        edge_types: Vec::new(),
        locations: Vec::new(),
    };
    let mut seen = Seen::default();
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
        match Part::of(&key) {
            Some(part) => {
                seen.once(part)?;
                read_part(&mut lx, part, &mut snap, &mut header)?;
            }
            // Closures' positions: [object_index, script_id, line, column] per closure
            // (V8's `location_fields`), after the nodes whose indices they use.
            None if key == b"locations" && header.is_some() => {
                let n_count = header.as_ref().map_or(1, |(_, f)| f.n_count.max(1)) as u32;
                let mut row = [0u32; 4];
                let mut k = 0;
                lx.read_u32s(|v| {
                    row[k] = v;
                    k = (k + 1) % 4;
                    if k == 0 {
                        snap.locations.push((row[0] / n_count, row[2]));
                    }
                    Ok(())
                })?;
                snap.locations.sort_unstable();
                snap.locations.dedup_by_key(|l| l.0);
            }
            None => lx.skip_value()?,
        }
        match lx.next_nonws()? {
            b',' => continue,
            b'}' => break,
            b => return Err(lx.syntax(format!("expected , or }} but found {:?}", b as char))),
        }
    }
    let Some((header, f)) = header else {
        return Err(ParseError::Invalid("no `snapshot` header".into()));
    };
    for part in [Part::Nodes, Part::Edges, Part::Strings] {
        if !seen.0[part as usize] {
            return Err(ParseError::Invalid(format!("no `{}` array", part.key())));
        }
    }
    check(&mut snap, &header, &f)?;
    // The string table grew by doubling; give the slack back before the analysis.
    snap.strings.bytes.shrink_to_fit();
    snap.strings.ends.shrink_to_fit();
    Ok(snap)
}

/// The top-level values the parser reads (every other key is skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Snapshot,
    Nodes,
    Edges,
    Strings,
}

impl Part {
    const ALL: [Part; 4] = [Part::Snapshot, Part::Nodes, Part::Edges, Part::Strings];

    fn key(self) -> &'static str {
        match self {
            Part::Snapshot => "snapshot",
            Part::Nodes => "nodes",
            Part::Edges => "edges",
            Part::Strings => "strings",
        }
    }

    fn of(key: &[u8]) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.key().as_bytes() == key)
    }
}

/// Which parts were read. Each may come once: a second `nodes` array would restart the
/// edge offsets, so that a node's edges ran past the edge array (found by fuzzing).
#[derive(Default)]
struct Seen([bool; 4]);

impl Seen {
    fn once(&mut self, part: Part) -> Result<()> {
        if std::mem::replace(&mut self.0[part as usize], true) {
            return Err(ParseError::Invalid(format!(
                "`{}` appears twice",
                part.key()
            )));
        }
        Ok(())
    }
}

type Header = Option<(SnapshotHeader, Fields)>;

/// Reads one part into the snapshot (the header into `header`).
fn read_part<R: Read>(
    lx: &mut Lexer<R>,
    part: Part,
    snap: &mut Snapshot,
    header: &mut Header,
) -> Result<()> {
    match (part, &*header) {
        (Part::Snapshot, _) => {
            let raw = lx.capture_value()?;
            let parsed: SnapshotHeader = serde_json::from_slice(&raw).map_err(|e| {
                ParseError::Invalid(format!("`snapshot.meta` is not as expected ({e})"))
            })?;
            let f = fields(&parsed.meta)?;
            // The type-name list sits at the `type` field's position.
            snap.node_types = type_names(&parsed.meta.node_types, f.n_type, "node_types")?;
            snap.edge_types = type_names(&parsed.meta.edge_types, f.e_type, "edge_types")?;
            *header = Some((parsed, f));
            Ok(())
        }
        (Part::Strings, _) => lx.read_string_array(&mut snap.strings),
        (Part::Nodes | Part::Edges, None) => Err(ParseError::Invalid(
            "the `snapshot` header does not come before the node and edge arrays".into(),
        )),
        (Part::Nodes, Some((h, f))) => read_nodes(lx, snap, h.node_count, f),
        (Part::Edges, Some((h, f))) => read_edges(lx, snap, h.edge_count, f),
    }
}

fn read_nodes<R: Read>(
    lx: &mut Lexer<R>,
    snap: &mut Snapshot,
    count: Option<u64>,
    f: &Fields,
) -> Result<()> {
    let n = count.unwrap_or(0) as usize;
    snap.node_type.reserve_exact(n);
    snap.node_name.reserve_exact(n);
    snap.node_id.reserve_exact(n);
    snap.node_self_size.reserve_exact(n);
    snap.first_edge.reserve_exact(n);
    let mut k = 0;
    let mut total: u64 = 0;
    lx.read_u32s(|v| {
        match k {
            _ if k == f.n_type => snap.node_type.push(small(v, "node")?),
            _ if k == f.n_name => snap.node_name.push(v),
            _ if k == f.n_id => snap.node_id.push(v),
            _ if k == f.n_self_size => snap.node_self_size.push(v),
            _ if k == f.n_edge_count => {
                total += u64::from(v);
                let end = u32::try_from(total)
                    .map_err(|_| ParseError::Invalid("more than 2^32 edges".into()))?;
                snap.first_edge.push(end);
            }
            _ => {}
        }
        k += 1;
        if k == f.n_count {
            k = 0;
        }
        Ok(())
    })?;
    if k != 0 {
        return Err(ParseError::Invalid(
            "the node array length is not a multiple of its field count".into(),
        ));
    }
    Ok(())
}

fn read_edges<R: Read>(
    lx: &mut Lexer<R>,
    snap: &mut Snapshot,
    count: Option<u64>,
    f: &Fields,
) -> Result<()> {
    let n = count.unwrap_or(0) as usize;
    snap.edge_type.reserve_exact(n);
    snap.edge_name.reserve_exact(n);
    snap.edge_to.reserve_exact(n);
    let mut k = 0;
    lx.read_u32s(|v| {
        match k {
            _ if k == f.e_type => snap.edge_type.push(small(v, "edge")?),
            _ if k == f.e_name => snap.edge_name.push(v),
            _ if k == f.e_to => snap.edge_to.push(v),
            _ => {}
        }
        k += 1;
        if k == f.e_count {
            k = 0;
        }
        Ok(())
    })?;
    if k != 0 {
        return Err(ParseError::Invalid(
            "the edge array length is not a multiple of its field count".into(),
        ));
    }
    Ok(())
}

fn type_names(types: &[serde_json::Value], at: usize, what: &str) -> Result<Vec<String>> {
    types
        .get(at)
        .and_then(|t| t.as_array())
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or("").to_string())
                .collect()
        })
        .ok_or_else(|| ParseError::Invalid(format!("`meta.{what}` has no list of type names")))
}

/// Checks the columns against each other and `meta` (so that nothing later can index out
/// of bounds) and turns edge targets from array offsets into node indices.
fn check(snap: &mut Snapshot, header: &SnapshotHeader, f: &Fields) -> Result<()> {
    let node_count = snap.node_id.len();
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
    let edges = snap.edge_to.len();
    if u64::from(snap.first_edge[node_count]) != edges as u64 {
        return Err(ParseError::Invalid(format!(
            "the nodes' edge counts add up to {} but the edge array holds {edges}",
            snap.first_edge[node_count]
        )));
    }
    if let Some(bad) = snap
        .node_type
        .iter()
        .position(|&t| usize::from(t) >= snap.node_types.len())
    {
        return Err(ParseError::Invalid(format!(
            "node {bad} has an unknown type"
        )));
    }
    let strings = snap.strings.len();
    if let Some(bad) = snap.node_name.iter().position(|&n| n as usize >= strings) {
        return Err(ParseError::Invalid(format!(
            "node {bad}'s name is not in the string table"
        )));
    }
    let named: Vec<bool> = snap
        .edge_types
        .iter()
        .map(|t| t != "element" && t != "hidden")
        .collect();
    let ns = f.n_count;
    for k in 0..edges {
        let to = snap.edge_to[k] as usize;
        if !to.is_multiple_of(ns) || to / ns >= node_count {
            return Err(ParseError::Invalid(format!(
                "edge {k} points outside the node array"
            )));
        }
        snap.edge_to[k] = (to / ns) as u32;
        let ty = usize::from(snap.edge_type[k]);
        if ty >= named.len() || (named[ty] && snap.edge_name[k] as usize >= strings) {
            return Err(ParseError::Invalid(format!(
                "edge {k} has an unknown type or name"
            )));
        }
    }
    Ok(())
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

    /// Reads `[n, n, …]` of non-negative integers that fit in 32 bits, handing each to
    /// `sink`. The hot loop of the parser: it scans the buffer directly rather than byte
    /// by byte through `next`, keeping a number's state across buffer refills.
    fn read_u32s(&mut self, mut sink: impl FnMut(u32) -> Result<()>) -> Result<()> {
        self.expect(b'[')?;
        let mut value: u64 = 0;
        let mut in_number = false;
        // After `[` or `,` a number must come; after a number, `,` or `]`.
        let mut want_number = true;
        let mut any = false;
        loop {
            if self.pos == self.len && !self.refill()? {
                return Err(ParseError::Eof);
            }
            let mut i = self.pos;
            let end = self.len;
            while i < end {
                let b = self.buf[i];
                if b.is_ascii_digit() {
                    if !in_number {
                        if !want_number {
                            self.pos = i;
                            return Err(self.syntax("expected , or ] between numbers".into()));
                        }
                        in_number = true;
                        want_number = false;
                    }
                    value = value * 10 + u64::from(b - b'0');
                    if value > u64::from(u32::MAX) {
                        self.pos = i;
                        return Err(self.syntax("a number above 2^32 in nodes or edges".into()));
                    }
                } else {
                    if in_number {
                        sink(value as u32)?;
                        any = true;
                        value = 0;
                        in_number = false;
                    }
                    match b {
                        b',' if !want_number => want_number = true,
                        b']' if !want_number || !any => {
                            self.pos = i + 1;
                            return Ok(());
                        }
                        b' ' | b'\n' | b'\r' | b'\t' => {}
                        _ => {
                            self.pos = i;
                            return Err(self.syntax(format!(
                                "expected a non-negative integer, , or ] but found {:?}",
                                b as char
                            )));
                        }
                    }
                }
                i += 1;
            }
            self.pos = end;
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
            let end = u32::try_from(out.bytes.len())
                .map_err(|_| ParseError::Invalid("the string table is above 4 GB".into()))?;
            out.ends.push(end);
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
        assert_eq!(s.edges_of(0), 0..1);
        assert_eq!(s.edges_of(1), 1..2);
    }

    #[test]
    fn numbers_split_across_refills_and_bad_separators() {
        // A reader that hands out one byte at a time splits every number.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() || buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        let s = parse(OneByte(SMALL.as_bytes())).unwrap();
        assert_eq!(s.self_size(1), 40);
        let bad = SMALL.replace("[1,0,6, 2,3,12]", "[1,0,6 2,3,12]");
        assert!(matches!(
            parse(bad.as_bytes()),
            Err(ParseError::Syntax { .. })
        ));
        let bad = SMALL.replace("[1,0,6, 2,3,12]", "[1,0,6,, 2,3,12]");
        assert!(matches!(
            parse(bad.as_bytes()),
            Err(ParseError::Syntax { .. })
        ));
    }

    #[test]
    fn field_order_comes_from_meta() {
        // The same graph with `id` first and an extra trailing field.
        let reordered = SMALL
            .replace(
                r#""node_fields":["type","name","id","self_size","edge_count","detachedness"]"#,
                r#""node_fields":["id","type","name","self_size","edge_count","detachedness","extra"]"#,
            )
            .replace(
                r#""node_types":[["hidden""#,
                r#""node_types":["number",["hidden""#,
            )
            .replace(
                "[9,0,1,0,1,0, 3,1,3,40,1,0, 2,2,5,16,0,0]",
                "[1,9,0,0,1,0,7, 3,3,1,40,1,0,7, 5,2,2,16,0,0,7]",
            )
            .replace("[1,0,6, 2,3,12]", "[1,0,7, 2,3,14]");
        let s = parse(reordered.as_bytes()).unwrap();
        assert_eq!(s.node_id(1), 3);
        assert_eq!(s.node_name(1), "Café 😀");
        assert_eq!(s.self_size(2), 16);
        assert_eq!(s.edge_to(1), 2);
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
    fn an_array_or_header_given_twice_is_invalid() {
        // Found by fuzzing: a second `nodes` array restarted the edge offsets, so a node's
        // edges ran past the edge array.
        let twice = SMALL.replace(r#""edges":"#, r#""nodes":[9,0,1,0,0,0],"edges":"#);
        match parse(twice.as_bytes()) {
            Err(ParseError::Invalid(detail)) => assert!(detail.contains("`nodes`"), "{detail}"),
            other => panic!("{:?}", other.map(|s| s.node_count())),
        }
        let header_twice = SMALL.replace(r#""strings":"#, r#""snapshot":{},"strings":"#);
        assert!(matches!(
            parse(header_twice.as_bytes()),
            Err(ParseError::Invalid(_))
        ));
    }

    #[test]
    fn edge_outside_nodes_is_invalid() {
        let bad = SMALL.replace("[1,0,6, 2,3,12]", "[1,0,6, 2,3,18]");
        assert!(matches!(parse(bad.as_bytes()), Err(ParseError::Invalid(_))));
    }
}
