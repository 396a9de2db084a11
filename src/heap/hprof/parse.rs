//! The streaming HPROF parser: one pass over the records (HPROF 1.0.1 `HEAP DUMP` or
//! 1.0.2 `HEAP DUMP SEGMENT`s), keeping per object only its id, class, shallow size and
//! outgoing references, in flat arrays in the order of the dump ([`Raw`]). `dump` turns
//! them into the indexed graph.
//!
//! Shallow sizes are those of a 64-bit HotSpot with compressed oops (the default below
//! 32 GB of heap): a 12-byte object header, 16 for arrays, 4-byte references, 8-byte
//! alignment. A dump with 4-byte identifiers comes from a 32-bit JVM: an 8-byte object
//! header, 12 for arrays, 4-byte references, 8-byte alignment. HPROF does not record
//! them; Eclipse MAT estimates them the same way.
//! References are read through each class's field layout (its own fields, then its
//! superclass's, …), which HotSpot writes before any instance. The `referent` of a
//! `java.lang.ref.Reference` is weak and left out, except for a `FinalReference` (a
//! `Finalizer`), which keeps its object alive until it has been finalized.

use super::read::{ParseError, Reader, id_at, primitive_name, type_size};
use std::collections::HashMap;
use std::io::Read;

/// What a class entry stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassKind {
    Instance,
    ObjectArray,
    PrimitiveArray,
    /// `java.lang.Class`: the nodes of class objects (their static fields).
    Mirror,
    /// The synthetic root above the GC roots.
    Root,
}

/// How an instance of a class is laid out in the dump.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// Bytes of field values in an instance record.
    pub bytes: u32,
    /// Shallow size (see the module comment).
    pub shallow: u32,
    /// (offset in the record, field name id) of each strong reference field.
    pub refs: Vec<(u32, u64)>,
}

#[derive(Debug, Clone)]
pub struct Class {
    pub id: u64,
    /// The name as the dump writes it (`java/util/HashMap$Node`, `[B`), or a made-up one
    /// for the synthetic classes.
    pub raw_name: String,
    pub kind: ClassKind,
    pub super_id: u64,
    pub loader: u64,
    /// Declared instance fields: (name id, basic type).
    pub fields: Vec<(u64, u8)>,
    /// Names of the non-null object static fields, in the order of the class node's edges.
    pub static_refs: Vec<u64>,
    pub layout: Option<Layout>,
}

/// A dump as read: flat per-object arrays in dump order (node 0 is the synthetic root),
/// the classes and the strings.
pub struct Raw {
    pub timestamp_ms: u64,
    pub strings: HashMap<u64, Box<str>>,
    pub classes: Vec<Class>,
    pub class_by_id: HashMap<u64, u32>,
    pub ids: Vec<u64>,
    pub class_of: Vec<u32>,
    pub size: Vec<u32>,
    /// Outgoing references per node (in node order, `edge_count[n]` each).
    pub edge_count: Vec<u32>,
    pub targets: Vec<u64>,
    /// Per reference: the field's position in its class's reference fields (instances),
    /// the element index (arrays), or the position among the class's edges (class
    /// objects).
    pub labels: Vec<u32>,
    /// GC root object ids (every kind).
    pub roots: Vec<u64>,
    pub heap_records: u64,
    /// Bytes of an identifier: 8 (64-bit JVM) or 4 (32-bit JVM).
    pub id_size: u32,
}

/// Synthetic class entries, at fixed indices.
const ROOT_CLASS: u32 = 0;
const MIRROR_CLASS: u32 = 1;
/// Primitive array classes: 2 + (type - 4).
const PRIMITIVE_BASE: u32 = 2;

fn align8(n: u64) -> u32 {
    n.div_ceil(8).saturating_mul(8).min(u64::from(u32::MAX)) as u32
}

/// Header bytes of an object and of an array in the JVM that wrote a dump with
/// identifiers of `id_size` bytes (see the module comment).
fn headers(id_size: u32) -> (u64, u64) {
    if id_size == 4 { (8, 12) } else { (12, 16) }
}

impl Raw {
    fn new(timestamp_ms: u64, id_size: u32) -> Raw {
        let mut classes = vec![
            synthetic("(GC roots)", ClassKind::Root),
            synthetic("java/lang/Class", ClassKind::Mirror),
        ];
        for ty in 4..=11u8 {
            let name = format!("{}[]", primitive_name(ty).expect("4..=11"));
            classes.push(synthetic(&name, ClassKind::PrimitiveArray));
        }
        let mut raw = Raw {
            timestamp_ms,
            strings: HashMap::new(),
            classes,
            class_by_id: HashMap::new(),
            ids: Vec::new(),
            class_of: Vec::new(),
            size: Vec::new(),
            edge_count: Vec::new(),
            targets: Vec::new(),
            labels: Vec::new(),
            roots: Vec::new(),
            heap_records: 0,
            id_size,
        };
        raw.push_node(0, ROOT_CLASS, 0);
        raw
    }

    fn push_node(&mut self, id: u64, class: u32, size: u32) {
        self.ids.push(id);
        self.class_of.push(class);
        self.size.push(size);
        self.edge_count.push(0);
    }

    #[inline]
    fn push_edge(&mut self, target: u64, label: u32) {
        if target != 0 {
            self.targets.push(target);
            self.labels.push(label);
            *self.edge_count.last_mut().expect("a node") += 1;
        }
    }

    /// The class entry of a class id, made up when the dump has no class dump for it.
    fn class_index(&mut self, id: u64) -> u32 {
        if let Some(&c) = self.class_by_id.get(&id) {
            return c;
        }
        let c = self.classes.len() as u32;
        let mut class = synthetic(&format!("(class 0x{id:x})"), ClassKind::Instance);
        class.id = id;
        self.classes.push(class);
        self.class_by_id.insert(id, c);
        c
    }

    /// A class's layout, computed once from its own and its superclasses' fields.
    fn layout(&mut self, c: u32) -> Result<&Layout, ParseError> {
        if self.classes[c as usize].layout.is_none() {
            let layout = self.compute_layout(c)?;
            self.classes[c as usize].layout = Some(layout);
        }
        Ok(self.classes[c as usize].layout.as_ref().expect("just set"))
    }

    fn compute_layout(&self, c: u32) -> Result<Layout, ParseError> {
        let mut chain = Vec::new();
        let mut at = Some(c);
        while let Some(k) = at {
            if chain.len() > 10_000 || chain.contains(&k) {
                return Err(ParseError::Invalid("a superclass chain loops".into()));
            }
            chain.push(k);
            let sup = self.classes[k as usize].super_id;
            at = (sup != 0)
                .then(|| self.class_by_id.get(&sup).copied())
                .flatten();
        }
        let name = |k: u32| self.classes[k as usize].raw_name.as_str();
        let final_ref = chain
            .iter()
            .any(|&k| name(k) == "java/lang/ref/FinalReference");
        let mut layout = Layout::default();
        let mut java_bytes = headers(self.id_size).0;
        for &k in &chain {
            let reference = name(k) == "java/lang/ref/Reference";
            for &(field, ty) in &self.classes[k as usize].fields {
                let size = type_size(ty, self.id_size).ok_or_else(|| {
                    ParseError::Invalid(format!("a field of unknown basic type {ty}"))
                })?;
                let weak = reference && !final_ref && self.string(field) == "referent";
                if ty == 2 && !weak {
                    layout.refs.push((layout.bytes, field));
                }
                layout.bytes += size;
                java_bytes += if ty == 2 { 4 } else { u64::from(size) };
            }
        }
        layout.shallow = align8(java_bytes);
        Ok(layout)
    }

    pub fn string(&self, id: u64) -> &str {
        self.strings.get(&id).map_or("", |s| s)
    }
}

fn synthetic(name: &str, kind: ClassKind) -> Class {
    Class {
        id: 0,
        raw_name: name.into(),
        kind,
        super_id: 0,
        loader: 0,
        fields: Vec::new(),
        static_refs: Vec::new(),
        layout: Some(Layout {
            bytes: 0,
            shallow: 16,
            refs: Vec::new(),
        }),
    }
}

/// Reads the header: the format's name, the identifier size (4 or 8) and the time the
/// dump was written (ms since the epoch).
fn header<R: Read>(r: &mut Reader<R>) -> Result<(u32, u64), ParseError> {
    let mut name = Vec::new();
    loop {
        let b = r.u8("header")?;
        if b == 0 {
            break;
        }
        name.push(b);
        if name.len() > 32 {
            break;
        }
    }
    let name = String::from_utf8_lossy(&name).into_owned();
    if name != "JAVA PROFILE 1.0.2" && name != "JAVA PROFILE 1.0.1" {
        return Err(ParseError::NotHprof(name));
    }
    let id_size = r.u32("header")?;
    if id_size != 4 && id_size != 8 {
        return Err(ParseError::IdSize(id_size));
    }
    let high = r.u32("header")?;
    let low = r.u32("header")?;
    Ok((id_size, (u64::from(high) << 32) | u64::from(low)))
}

/// Reads a whole dump.
pub fn parse<R: Read>(input: R) -> Result<Raw, ParseError> {
    let mut r = Reader::new(input);
    let (id_size, timestamp) = header(&mut r)?;
    let mut raw = Raw::new(timestamp, id_size);
    // One copy of the readers per identifier size: the size is known at compile time.
    if id_size == 4 {
        records::<4, R>(&mut r, &mut raw)?;
    } else {
        records::<8, R>(&mut r, &mut raw)?;
    }
    Ok(raw)
}

/// The records after the header, identifiers of `ID` bytes.
fn records<const ID: usize, R: Read>(r: &mut Reader<R>, raw: &mut Raw) -> Result<(), ParseError> {
    let mut class_names: HashMap<u64, u64> = HashMap::new();
    while r.more()? {
        let at = r.offset();
        let tag = r.u8("record")?;
        r.u32("record header")?;
        let len = r.u32("record header")?;
        match tag {
            0x01 => {
                let id = r.id::<ID>("string record")?;
                let n = (len as usize).checked_sub(ID).ok_or_else(|| {
                    ParseError::Invalid(format!("a string record of {len} bytes at byte {at}"))
                })?;
                let text = String::from_utf8_lossy(r.bytes(n, "string record")?).into();
                raw.strings.insert(id, text);
            }
            0x02 => {
                r.u32("class record")?;
                let id = r.id::<ID>("class record")?;
                r.u32("class record")?;
                let name = r.id::<ID>("class record")?;
                class_names.insert(id, name);
            }
            0x0C | 0x1C => {
                raw.heap_records += 1;
                heap_dump::<ID, R>(r, raw, &class_names, u64::from(len))?;
            }
            // Unload class, frames, traces, alloc sites, heap summary, threads, heap dump
            // end, CPU samples, control settings: nothing the analysis uses.
            0x03..=0x07 | 0x0A | 0x0B | 0x0D | 0x0E | 0x2C => {
                r.skip(u64::from(len), "record")?;
            }
            _ => return Err(ParseError::UnknownTag { tag, offset: at }),
        }
    }
    Ok(())
}

/// One `HEAP DUMP` or `HEAP DUMP SEGMENT` record: its sub-records until `len` bytes.
fn heap_dump<const ID: usize, R: Read>(
    r: &mut Reader<R>,
    raw: &mut Raw,
    class_names: &HashMap<u64, u64>,
    len: u64,
) -> Result<(), ParseError> {
    let end = r.offset() + len;
    while r.offset() < end {
        let at = r.offset();
        let tag = r.u8("heap dump")?;
        match tag {
            0xFF | 0x05 | 0x07 => raw.roots.push(r.id::<ID>("GC root")?),
            0x01 => {
                raw.roots.push(r.id::<ID>("GC root")?);
                r.id::<ID>("GC root")?;
            }
            // Thread serial and frame (or stack trace) number: two u32s.
            0x02 | 0x03 | 0x08 => {
                raw.roots.push(r.id::<ID>("GC root")?);
                r.skip(8, "GC root")?;
            }
            0x04 | 0x06 => {
                raw.roots.push(r.id::<ID>("GC root")?);
                r.skip(4, "GC root")?;
            }
            0x20 => class_dump::<ID, R>(r, raw, class_names)?,
            0x21 => instance_dump::<ID, R>(r, raw)?,
            0x22 => object_array::<ID, R>(r, raw)?,
            0x23 => primitive_array::<ID, R>(r, raw, at)?,
            _ => return Err(ParseError::UnknownSubTag { tag, offset: at }),
        }
    }
    if r.offset() != end {
        return Err(ParseError::Invalid(format!(
            "a heap dump record overruns its length (ends at byte {end})"
        )));
    }
    Ok(())
}

fn class_dump<const ID: usize, R: Read>(
    r: &mut Reader<R>,
    raw: &mut Raw,
    class_names: &HashMap<u64, u64>,
) -> Result<(), ParseError> {
    const WHAT: &str = "class dump";
    let id = r.id::<ID>(WHAT)?;
    r.u32(WHAT)?;
    let super_id = r.id::<ID>(WHAT)?;
    let loader = r.id::<ID>(WHAT)?;
    r.skip(ID as u64 * 4 + 4, WHAT)?; // signers, protection domain, 2 reserved, instance size
    let constants = r.u16(WHAT)?;
    for _ in 0..constants {
        r.u16(WHAT)?;
        let ty = r.u8(WHAT)?;
        r.skip(u64::from(field_size(ty, ID)?), WHAT)?;
    }
    let statics = r.u16(WHAT)?;
    let mut static_refs = Vec::new();
    let mut targets = Vec::new();
    let mut static_bytes = 0u64;
    for _ in 0..statics {
        let name = r.id::<ID>(WHAT)?;
        let ty = r.u8(WHAT)?;
        if ty == 2 {
            let target = r.id::<ID>(WHAT)?;
            if target != 0 {
                static_refs.push(name);
                targets.push(target);
            }
            static_bytes += 4;
        } else {
            let size = field_size(ty, ID)?;
            r.skip(u64::from(size), WHAT)?;
            static_bytes += u64::from(size);
        }
    }
    let count = r.u16(WHAT)?;
    let mut fields = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let name = r.id::<ID>(WHAT)?;
        let ty = r.u8(WHAT)?;
        field_size(ty, ID)?;
        fields.push((name, ty));
    }
    let raw_name = class_names
        .get(&id)
        .map(|&n| raw.string(n).to_string())
        .unwrap_or_else(|| format!("(class 0x{id:x})"));
    let kind = if raw_name.starts_with('[') {
        ClassKind::ObjectArray
    } else {
        ClassKind::Instance
    };
    let c = raw.class_index(id);
    let class = &mut raw.classes[c as usize];
    *class = Class {
        id,
        raw_name,
        kind,
        super_id,
        loader,
        fields,
        static_refs,
        layout: None,
    };
    raw.push_node(id, MIRROR_CLASS, align8(16 + static_bytes));
    for (k, target) in targets.into_iter().enumerate() {
        raw.push_edge(target, k as u32);
    }
    // A class keeps its loader alive (what makes a class loader leak).
    let k = raw.classes[c as usize].static_refs.len() as u32;
    raw.push_edge(loader, k);
    Ok(())
}

fn field_size(ty: u8, id_size: usize) -> Result<u32, ParseError> {
    type_size(ty, id_size as u32)
        .ok_or_else(|| ParseError::Invalid(format!("a value of unknown basic type {ty}")))
}

fn instance_dump<const ID: usize, R: Read>(
    r: &mut Reader<R>,
    raw: &mut Raw,
) -> Result<(), ParseError> {
    const WHAT: &str = "instance dump";
    let id = r.id::<ID>(WHAT)?;
    r.u32(WHAT)?;
    let class_id = r.id::<ID>(WHAT)?;
    let n = r.u32(WHAT)?;
    let c = raw.class_index(class_id);
    let (bytes, shallow) = {
        let layout = raw.layout(c)?;
        (layout.bytes, layout.shallow)
    };
    if bytes != n {
        return Err(ParseError::Invalid(format!(
            "an instance of {} holds {n} bytes of fields, its class says {bytes} (at byte {})",
            raw.classes[c as usize].raw_name,
            r.offset()
        )));
    }
    let refs = std::mem::take(&mut raw.classes[c as usize].layout.as_mut().expect("set").refs);
    raw.push_node(id, c, shallow);
    let bytes = r.bytes(n as usize, WHAT)?;
    for (slot, &(offset, _)) in refs.iter().enumerate() {
        let target = id_at::<ID>(bytes, offset as usize);
        raw.push_edge(target, slot as u32);
    }
    raw.classes[c as usize].layout.as_mut().expect("set").refs = refs;
    Ok(())
}

fn object_array<const ID: usize, R: Read>(
    r: &mut Reader<R>,
    raw: &mut Raw,
) -> Result<(), ParseError> {
    const WHAT: &str = "object array";
    let id = r.id::<ID>(WHAT)?;
    r.u32(WHAT)?;
    let n = r.u32(WHAT)?;
    let class_id = r.id::<ID>(WHAT)?;
    let c = raw.class_index(class_id);
    if raw.classes[c as usize].kind == ClassKind::Instance && raw.classes[c as usize].id == 0 {
        raw.classes[c as usize].kind = ClassKind::ObjectArray;
    }
    let array_header = headers(raw.id_size).1;
    raw.push_node(id, c, align8(array_header + 4 * u64::from(n)));
    let mut index = 0u32;
    let mut left = n;
    while left > 0 {
        let chunk = left.min(1 << 18) as usize;
        let bytes = r.bytes(chunk * ID, WHAT)?;
        for k in 0..chunk {
            let target = id_at::<ID>(bytes, k * ID);
            if target != 0 {
                raw.targets.push(target);
                raw.labels.push(index + k as u32);
                *raw.edge_count.last_mut().expect("a node") += 1;
            }
        }
        index += chunk as u32;
        left -= chunk as u32;
    }
    Ok(())
}

fn primitive_array<const ID: usize, R: Read>(
    r: &mut Reader<R>,
    raw: &mut Raw,
    at: u64,
) -> Result<(), ParseError> {
    const WHAT: &str = "primitive array";
    let id = r.id::<ID>(WHAT)?;
    r.u32(WHAT)?;
    let n = r.u32(WHAT)?;
    let ty = r.u8(WHAT)?;
    let size = match type_size(ty, raw.id_size) {
        Some(s) if ty != 2 => s,
        _ => {
            return Err(ParseError::Invalid(format!(
                "a primitive array of unknown type {ty} at byte {at}"
            )));
        }
    };
    let bytes = u64::from(n) * u64::from(size);
    r.skip(bytes, WHAT)?;
    let array_header = headers(raw.id_size).1;
    raw.push_node(
        id,
        PRIMITIVE_BASE + u32::from(ty - 4),
        align8(array_header + bytes),
    );
    Ok(())
}

/// A class name as Java writes it: `java.util.HashMap$Node`, `byte[]`,
/// `java.lang.Object[][]`.
pub fn java_name(raw: &str) -> String {
    let dims = raw.bytes().take_while(|&b| b == b'[').count();
    if dims == 0 {
        return raw.replace('/', ".");
    }
    let element = &raw[dims..];
    let base = match element.as_bytes().first() {
        Some(b'L') => element[1..].trim_end_matches(';').replace('/', "."),
        Some(b'Z') => "boolean".into(),
        Some(b'C') => "char".into(),
        Some(b'F') => "float".into(),
        Some(b'D') => "double".into(),
        Some(b'B') => "byte".into(),
        Some(b'S') => "short".into(),
        Some(b'I') => "int".into(),
        Some(b'J') => "long".into(),
        _ => element.replace('/', "."),
    };
    format!("{base}{}", "[]".repeat(dims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_java_writes_them() {
        assert_eq!(
            java_name("java/util/HashMap$Node"),
            "java.util.HashMap$Node"
        );
        assert_eq!(java_name("[B"), "byte[]");
        assert_eq!(java_name("[[Ljava/lang/Object;"), "java.lang.Object[][]");
        assert_eq!(java_name("java.lang.String"), "java.lang.String");
    }
}
