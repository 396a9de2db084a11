//! Reading a pprof file: the (already gunzipped) bytes decoded into a [`Profile`], with
//! decode errors named for what they mean, and the in-use sample types found.

use super::format::Profile;
use crate::heap::input::Opened;
use crate::heap::{HeapError, Options};
use prost::Message;
use std::io::Read;

/// The sample types compared: in-use objects and bytes (Go's `inuse_objects`,
/// `inuse_space`; `@datadog/pprof`'s `objects`, `space`), by their index in a sample's
/// values.
pub struct InUse {
    pub objects: usize,
    pub space: usize,
    pub names: Vec<String>,
}

/// The whole file (gunzipped by the reader) decoded; a cut-off message is `Truncated`.
pub fn read(opened: &Opened, options: &Options) -> Result<Profile, HeapError> {
    let mut bytes = Vec::new();
    opened
        .reader(options.quiet)?
        .read_to_end(&mut bytes)
        .map_err(|e| opened.read_error(e))?;
    Profile::decode(bytes.as_slice()).map_err(|e| {
        if let Some(fault) = opened.gzip_fault() {
            return fault;
        }
        let detail = e.to_string();
        if detail.contains("buffer underflow") {
            HeapError::Truncated {
                path: opened.path.clone(),
                detail: "the protobuf message stops in the middle".into(),
            }
        } else {
            HeapError::Invalid {
                path: opened.path.clone(),
                what: "pprof profile",
                detail,
            }
        }
    })
}

/// A string-table entry (empty for an index outside the table).
pub fn string(p: &Profile, i: i64) -> &str {
    p.string_table
        .get(usize::try_from(i).unwrap_or(usize::MAX))
        .map_or("", String::as_str)
}

/// What a profile without in-use sample types is, by its types' meaning: Go's CPU
/// profiles have `samples`/`cpu`, allocation profiles only `alloc_*`.
fn kind(types: &[&str]) -> &'static str {
    if types
        .iter()
        .any(|t| matches!(*t, "cpu" | "samples" | "wall"))
    {
        "a CPU profile"
    } else if !types.is_empty() && types.iter().all(|t| t.starts_with("alloc_")) {
        "an allocation-only profile"
    } else {
        "not a heap profile"
    }
}

/// The in-use sample types, or the error naming the types found (a CPU or an
/// allocation-only profile).
pub fn inuse(opened: &Opened, p: &Profile) -> Result<InUse, HeapError> {
    let types: Vec<&str> = p.sample_type.iter().map(|t| string(p, t.r#type)).collect();
    let find = |name: &str| types.iter().position(|t| *t == name);
    let (objects, space) = match (find("inuse_objects"), find("inuse_space")) {
        (Some(o), Some(s)) => (o, s),
        // @datadog/pprof's heap profile: live objects and bytes.
        _ => match (find("objects"), find("space")) {
            (Some(o), Some(s)) => (o, s),
            _ => {
                return Err(HeapError::NoInuse {
                    path: opened.path.clone(),
                    kind: kind(&types),
                    found: if types.is_empty() {
                        "none".into()
                    } else {
                        types.join(", ")
                    },
                });
            }
        },
    };
    Ok(InUse {
        objects,
        space,
        names: vec![types[objects].to_string(), types[space].to_string()],
    })
}
