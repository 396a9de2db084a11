//! V8 sampling heap profiles (`.heapprofile`): `node --heap-prof`, the inspector's
//! `HeapProfiler.startSampling`/`getSamplingProfile`, DevTools' "Allocation sampling".
//! A call tree of frames (`callFrame`: `functionName`, `url`, 0-based `lineNumber` and
//! `columnNumber`) with the sampled bytes still alive allocated in each (`selfSize`).
//!
//! A site is a frame (function and position), summed over the tree like DevTools'
//! "Bottom-up" view; one file lists the largest sites, several compare them first→last.
//! TurboFan charges an allocation in an inlined function to the function it was inlined
//! into, as DevTools shows it.

use super::input::Opened;
use super::model::{self, CodeLocation, Consumer, Format, Growing, HeapReport};
use super::model::{Pattern, PatternKind, Suspect, Technique};
use super::{HeapError, Options};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

/// The bytes and the parsed tree: measured 1.6× on a 6.4 MB `--heap-prof` profile.
pub const MEMORY_PER_BYTE: f64 = 4.0;
const MAX_SUSPECTS: usize = 3;
/// The tree is as deep as the deepest stack; parsed on a thread with room for that.
const PARSE_STACK_BYTES: usize = 256 << 20;

/// A sampling profile is a JSON object whose first key is `head` (the call tree's root).
pub fn sniff(head: &[u8]) -> bool {
    super::formats::json_first_key(head) == Some("head")
}

#[derive(Deserialize)]
struct Profile {
    head: Node,
    #[serde(default)]
    samples: Vec<SampleRow>,
}

#[derive(Deserialize)]
struct Node {
    #[serde(rename = "callFrame")]
    call_frame: CallFrame,
    #[serde(rename = "selfSize", default)]
    self_size: f64,
    #[serde(default)]
    id: u64,
    #[serde(default)]
    children: Vec<Node>,
}

#[derive(Deserialize, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct CallFrame {
    #[serde(rename = "functionName", default)]
    function_name: String,
    #[serde(default)]
    url: String,
    #[serde(rename = "lineNumber", default)]
    line_number: i64,
    #[serde(rename = "columnNumber", default)]
    column_number: i64,
}

#[derive(Deserialize)]
struct SampleRow {
    #[serde(rename = "nodeId")]
    node_id: u64,
}

/// Sampled live bytes and samples of one frame.
#[derive(Default, Clone, Copy)]
struct Site {
    bytes: i64,
    samples: i64,
}

/// One profile summed per frame.
struct Sites {
    by_frame: BTreeMap<CallFrame, Site>,
    bytes: i64,
    samples: i64,
}

fn read(file: &Opened, options: &Options) -> Result<Profile, HeapError> {
    let mut bytes = Vec::new();
    file.reader(options.quiet)?
        .read_to_end(&mut bytes)
        .map_err(|e| file.read_error(e))?;
    let parsed = std::thread::Builder::new()
        .stack_size(PARSE_STACK_BYTES)
        .spawn(move || {
            let mut de = serde_json::Deserializer::from_slice(&bytes);
            de.disable_recursion_limit();
            Profile::deserialize(&mut de).and_then(|p| de.end().map(|()| p))
        })
        .expect("a thread starts")
        .join()
        .expect("the parser does not panic");
    parsed.map_err(|e| {
        if let Some(fault) = file.gzip_fault() {
            return fault;
        }
        if e.is_eof() {
            HeapError::Truncated {
                path: file.path.clone(),
                detail: "the JSON stops in the middle".into(),
            }
        } else {
            HeapError::Invalid {
                path: file.path.clone(),
                what: "V8 sampling heap profile",
                detail: e.to_string(),
            }
        }
    })
}

fn sites(p: &Profile) -> Sites {
    let mut per_node: HashMap<u64, i64> = HashMap::new();
    for s in &p.samples {
        *per_node.entry(s.node_id).or_default() += 1;
    }
    let mut out = Sites {
        by_frame: BTreeMap::new(),
        bytes: 0,
        samples: 0,
    };
    let mut stack = vec![&p.head];
    while let Some(node) = stack.pop() {
        stack.extend(node.children.iter());
        let samples = per_node.get(&node.id).copied().unwrap_or(0);
        if node.self_size <= 0.0 && samples == 0 {
            continue;
        }
        let site = out.by_frame.entry(node.call_frame.clone()).or_default();
        site.bytes += node.self_size as i64;
        site.samples += samples;
        out.bytes += node.self_size as i64;
        out.samples += samples;
    }
    out
}

/// Where a frame is: its script (a `file://` URL made a path) and its function's line,
/// 1-based; None for V8's own frames, which have no script.
fn location(f: &CallFrame) -> Option<CodeLocation> {
    (f.line_number >= 0 && !f.url.is_empty()).then(|| CodeLocation {
        file: f.url.strip_prefix("file://").unwrap_or(&f.url).to_string(),
        line: u32::try_from(f.line_number + 1).unwrap_or(u32::MAX),
        function: function_name(f),
    })
}

fn function_name(f: &CallFrame) -> String {
    if f.function_name.is_empty() {
        "(anonymous)".into()
    } else {
        f.function_name.clone()
    }
}

/// A name per frame: the function's, with its place when frames share the name.
fn names(all: &[Sites]) -> HashMap<CallFrame, String> {
    let mut frames: Vec<&CallFrame> = all.iter().flat_map(|s| s.by_frame.keys()).collect();
    frames.sort();
    frames.dedup();
    let mut count: HashMap<String, usize> = HashMap::new();
    for f in &frames {
        *count.entry(function_name(f)).or_default() += 1;
    }
    frames
        .into_iter()
        .map(|f| {
            let name = function_name(f);
            let label = match location(f) {
                Some(l) if count[&name] > 1 => format!("{name} ({})", l.short()),
                _ => name,
            };
            (f.clone(), label)
        })
        .collect()
}

pub fn analyse(opened: Vec<Opened>, options: &Options) -> Result<HeapReport, HeapError> {
    let mut all = Vec::with_capacity(opened.len());
    let mut infos = Vec::new();
    for file in &opened {
        let s = sites(&read(file, options)?);
        infos.push(file.info(s.bytes.max(0) as u64, s.samples.max(0) as u64, None, None));
        all.push(s);
    }
    let names = names(&all);
    let mut warnings = Vec::new();
    if all.len() == 1 {
        warnings.push("one sampling profile only: it shows where the sampled live memory was allocated, not what grows; take two or three profiles minutes apart under load".into());
    }
    let growing = growing(&all, &names);
    // As for pprof: a suspect grows by at least 1 % of the last profile's sampled bytes,
    // at every profile, in the application's code.
    let floor = all.last().map_or(0, |s| s.bytes) / 100;
    let suspects = growing
        .iter()
        .filter(|g| g.bytes_delta > floor.max(0))
        .filter(|g| g.location.as_ref().is_some_and(super::rootcause::is_application))
        .filter(|g| grew_steadily(&all, &names, &g.name))
        .take(MAX_SUSPECTS)
        .map(|g| Suspect {
            name: g.name.clone(),
            count: g.count_delta.max(0) as u64,
            retained_bytes: g.bytes_last,
            retained_growth_bytes: g.bytes_delta,
            retainer_path: Vec::new(),
            path_count: 0,
            pattern: Pattern {
                kind: PatternKind::Unknown,
                based_on: "a sampling heap profile records where live memory was allocated, not what retains it".into(),
            },
            stack: None,
            location: g.location.clone(),
        })
        .collect();
    let last = all.last().expect("at least one file");
    let mut top: Vec<(&CallFrame, &Site)> = last.by_frame.iter().collect();
    top.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(names[a.0].cmp(&names[b.0])));
    let top_consumers = top
        .into_iter()
        .take(3)
        .map(|(f, v)| Consumer {
            name: names[f].clone(),
            count: v.samples.max(0) as u64,
            self_bytes: v.bytes.max(0) as u64,
            retained_bytes: v.bytes.max(0) as u64,
            retainer_path: Vec::new(),
            location: location(f),
        })
        .collect();
    Ok(HeapReport {
        schema: model::SCHEMA_ID,
        format: Format::V8Sampling,
        snapshots: infos,
        sample_types: None,
        ids_comparable: false,
        growing,
        top_consumers,
        suspects,
        warnings,
        technique: Technique::SamplingFlat,
        leaked_object: None,
        hints: Vec::new(),
        tool: Format::V8Sampling.tool(),
        root_cause: None,
        id_check: None,
    })
}

/// Frames whose sampled bytes or samples grew first→last, most bytes first.
fn growing(all: &[Sites], names: &HashMap<CallFrame, String>) -> Vec<Growing> {
    if all.len() < 2 {
        return Vec::new();
    }
    let (first, last) = (&all[0], &all[all.len() - 1]);
    let mut out: Vec<Growing> = last
        .by_frame
        .iter()
        .filter_map(|(f, l)| {
            let b = first.by_frame.get(f).copied().unwrap_or_default();
            let (dc, db) = (l.samples - b.samples, l.bytes - b.bytes);
            (db > 0 || dc > 0).then(|| Growing {
                name: names[f].clone(),
                count_delta: dc,
                bytes_delta: db,
                count_first: b.samples.max(0) as u64,
                count_last: l.samples.max(0) as u64,
                bytes_first: b.bytes.max(0) as u64,
                bytes_last: l.bytes.max(0) as u64,
                allocated_between_first_two_alive_at_last: None,
                retained_bytes_last: None,
                retained_bytes_delta: None,
                stack: None,
                location: location(f),
                scalene: None,
            })
        })
        .collect();
    out.sort_by(|a, b| b.bytes_delta.cmp(&a.bytes_delta).then(a.name.cmp(&b.name)));
    out
}

fn grew_steadily(all: &[Sites], names: &HashMap<CallFrame, String>, name: &str) -> bool {
    let bytes: Vec<i64> = all
        .iter()
        .map(|s| {
            s.by_frame
                .iter()
                .filter(|(f, _)| names.get(*f).is_some_and(|n| n == name))
                .map(|(_, v)| v.bytes)
                .sum()
        })
        .collect();
    bytes.windows(2).all(|w| w[1] >= w[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(name: &str, url: &str, line: i64) -> CallFrame {
        CallFrame {
            function_name: name.into(),
            url: url.into(),
            line_number: line,
            column_number: 0,
        }
    }

    #[test]
    fn positions_are_made_one_based_and_urls_paths() {
        let l = location(&frame("enqueue", "file:///srv/orders.js", 28)).unwrap();
        assert_eq!((l.file.as_str(), l.line), ("/srv/orders.js", 29));
        assert!(location(&frame("(V8 API)", "", -1)).is_none());
    }

    #[test]
    fn frames_are_summed_over_the_tree_and_samples_counted() {
        let json = r#"{"head":{"callFrame":{"functionName":"(root)","url":"","lineNumber":-1,"columnNumber":-1},"selfSize":0,"id":1,"children":[
          {"callFrame":{"functionName":"a","url":"/x.js","lineNumber":1,"columnNumber":0},"selfSize":100,"id":2,"children":[
            {"callFrame":{"functionName":"b","url":"/x.js","lineNumber":5,"columnNumber":0},"selfSize":50,"id":3,"children":[]}]},
          {"callFrame":{"functionName":"a","url":"/x.js","lineNumber":1,"columnNumber":0},"selfSize":20,"id":4,"children":[]}]},
          "samples":[{"size":100,"nodeId":2,"ordinal":1},{"size":20,"nodeId":4,"ordinal":2},{"size":50,"nodeId":3,"ordinal":3}]}"#;
        let p: Profile = serde_json::from_str(json).unwrap();
        let s = sites(&p);
        let a = s.by_frame[&frame("a", "/x.js", 1)];
        assert_eq!((a.bytes, a.samples), (120, 2));
        assert_eq!((s.bytes, s.samples), (170, 3));
    }
}
