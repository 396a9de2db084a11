//! The analysis of a pprof series (the registry's entry point): in-use objects and bytes
//! per allocation site in each profile, the sites growing first→last, suspects and the
//! top consumers of the last profile.

use super::decode::{self, InUse, string};
use super::format::{Location, Profile};
use crate::heap::input::Opened;
use crate::heap::model::{self, Consumer, Format, Growing, HeapReport, Pattern, PatternKind};
use crate::heap::model::{CodeLocation, Suspect, Technique, TimeSource};
use crate::heap::{HeapError, Options};
use std::collections::{BTreeMap, HashMap};

/// Frames kept per site, leaf first.
const STACK_FRAMES: usize = 5;
const MAX_SUSPECTS: usize = 3;

/// In-use objects and bytes of one allocation site, and the frames of its biggest
/// sample.
#[derive(Default)]
struct Site {
    objects: i64,
    bytes: i64,
    biggest: i64,
    frames: Vec<String>,
    /// The leaf frame's file and line in the biggest sample.
    location: Option<CodeLocation>,
}

/// One profile reduced to in-use objects and bytes per leaf function.
#[derive(Default)]
struct Sites {
    by_name: BTreeMap<String, Site>,
    sample_types: Vec<String>,
    objects: i64,
    bytes: i64,
    time_nanos: i64,
}

/// One profile reduced to its sites.
fn sites(p: &Profile, inuse: InUse) -> Sites {
    let InUse {
        objects,
        space,
        names,
    } = inuse;
    let functions: HashMap<u64, (&str, &str)> = p
        .function
        .iter()
        .map(|f| (f.id, (string(p, f.name), string(p, f.filename))))
        .collect();
    let locations: HashMap<u64, &Location> = p.location.iter().map(|l| (l.id, l)).collect();
    let mut out = Sites {
        sample_types: names,
        time_nanos: p.time_nanos,
        ..Sites::default()
    };
    for sample in &p.sample {
        let value = |i: usize| sample.value.get(i).copied().unwrap_or(0);
        let (n, b) = (value(objects), value(space));
        // Frames leaf first; a location's lines are innermost (inlined) first.
        let mut frames = Vec::new();
        let mut leaf_at: Option<CodeLocation> = None;
        for id in &sample.location_id {
            let Some(loc) = locations.get(id) else {
                continue;
            };
            if loc.line.is_empty() {
                frames.push(format!("{:#x}", loc.address));
            }
            for line in &loc.line {
                let (name, file) = functions
                    .get(&line.function_id)
                    .copied()
                    .unwrap_or(("?", ""));
                if frames.is_empty() && line.line > 0 && !file.is_empty() {
                    leaf_at = Some(CodeLocation {
                        file: file.to_string(),
                        line: u32::try_from(line.line).unwrap_or(u32::MAX),
                        function: name.to_string(),
                    });
                }
                frames.push(name.to_string());
            }
            if frames.len() >= STACK_FRAMES {
                break;
            }
        }
        frames.truncate(STACK_FRAMES);
        let leaf = frames
            .first()
            .cloned()
            .unwrap_or_else(|| "(unknown)".into());
        let entry = out.by_name.entry(leaf).or_default();
        entry.objects += n;
        entry.bytes += b;
        if b > entry.biggest || entry.frames.is_empty() {
            entry.biggest = b;
            entry.frames = frames;
            entry.location = leaf_at;
        }
        out.objects += n;
        out.bytes += b;
    }
    out
}

fn taken_at(nanos: i64) -> Option<String> {
    (nanos > 0).then(|| {
        chrono::DateTime::from_timestamp_nanos(nanos)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    })
}

pub fn analyse(opened: Vec<Opened>, options: &Options) -> Result<HeapReport, HeapError> {
    let mut all = Vec::with_capacity(opened.len());
    let mut infos = Vec::new();
    let mut warnings = Vec::new();
    for file in &opened {
        let profile = decode::read(file, options)?;
        let s = sites(&profile, decode::inuse(file, &profile)?);
        let taken = taken_at(s.time_nanos).map(|t| (t, TimeSource::Profile));
        infos.push(file.info(s.bytes.max(0) as u64, s.objects.max(0) as u64, taken, None));
        all.push(s);
    }
    for (k, pair) in all.windows(2).enumerate() {
        if pair[0].time_nanos > 0
            && pair[1].time_nanos > 0
            && pair[1].time_nanos < pair[0].time_nanos
        {
            warnings.push(format!(
                "{} was taken before {} (by its time_nanos); the deltas assume the files are given oldest first",
                crate::heap::file_name(&opened[k + 1].path),
                crate::heap::file_name(&opened[k].path)
            ));
        }
    }
    if all.len() == 1 {
        warnings.push("one profile only: it shows where the in-use memory was allocated, not what grows; take two or three profiles minutes apart under load".into());
    }
    let growing = growing(&all);
    // A suspect's growth must be at least 1 % of the last profile's in-use bytes: the
    // runtime charges stray small allocations (timers, a 96-byte buffer) to whatever
    // frame was running, and those are not leaks.
    let floor = all.last().map_or(0, |s| s.bytes) / 100;
    let suspects = growing
        .iter()
        .filter(|g| g.bytes_delta > floor.max(0) && grew_steadily(&all, &g.name))
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
                based_on: "a pprof profile records where memory was allocated, not what retains it; see the allocation stack".into(),
            },
            stack: g.stack.clone(),
            location: g.location.clone(),
        })
        .collect();
    let last = all.last().expect("at least one file");
    let mut top: Vec<(&String, &Site)> = last.by_name.iter().collect();
    top.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(b.0)));
    let top_consumers = top
        .into_iter()
        .take(3)
        .map(|(name, v)| Consumer {
            name: name.clone(),
            count: v.objects.max(0) as u64,
            self_bytes: v.bytes.max(0) as u64,
            retained_bytes: v.bytes.max(0) as u64,
            retainer_path: Vec::new(),
            location: v.location.clone(),
        })
        .collect();
    Ok(HeapReport {
        schema: model::SCHEMA_ID,
        format: Format::Pprof,
        snapshots: infos,
        sample_types: Some(all[0].sample_types.clone()),
        ids_comparable: false,
        growing,
        top_consumers,
        suspects,
        warnings,
        technique: Technique::PprofFlat,
        leaked_object: None,
        hints: Vec::new(),
        tool: Format::Pprof.tool(),
        root_cause: None,
        id_check: None,
    })
}

/// Sites whose in-use bytes or objects grew first→last, most bytes first.
fn growing(all: &[Sites]) -> Vec<Growing> {
    if all.len() < 2 {
        return Vec::new();
    }
    let (first, last) = (&all[0], &all[all.len() - 1]);
    let mut out: Vec<Growing> = last
        .by_name
        .iter()
        .filter_map(|(name, l)| {
            let f = first
                .by_name
                .get(name)
                .map_or((0, 0), |f| (f.objects, f.bytes));
            let (dc, db) = (l.objects - f.0, l.bytes - f.1);
            (db > 0 || dc > 0).then(|| Growing {
                name: name.clone(),
                count_delta: dc,
                bytes_delta: db,
                count_first: f.0.max(0) as u64,
                count_last: l.objects.max(0) as u64,
                bytes_first: f.1.max(0) as u64,
                bytes_last: l.bytes.max(0) as u64,
                allocated_between_first_two_alive_at_last: None,
                retained_bytes_last: None,
                retained_bytes_delta: None,
                stack: Some(l.frames.clone()),
                location: l.location.clone(),
                scalene: None,
            })
        })
        .collect();
    out.sort_by(|a, b| b.bytes_delta.cmp(&a.bytes_delta).then(a.name.cmp(&b.name)));
    out
}

fn grew_steadily(all: &[Sites], name: &str) -> bool {
    let bytes: Vec<i64> = all
        .iter()
        .map(|s| s.by_name.get(name).map_or(0, |v| v.bytes))
        .collect();
    bytes.windows(2).all(|w| w[1] >= w[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::pprof::format::{Function, Line, Sample, ValueType};
    use std::path::PathBuf;

    fn sites_of(p: &Profile) -> Result<Sites, HeapError> {
        Ok(sites(p, decode::inuse(&opened(), p)?))
    }

    /// A profile with the given sample types; one sample per (leaf, caller, values), the
    /// leaf's location holding an inlined frame first when `inlined` is set.
    fn profile(types: &[&str], samples: &[(&str, &str, Vec<i64>)], inlined: bool) -> Profile {
        let mut strings: Vec<String> = vec![String::new()];
        let mut intern = |s: &str| {
            if let Some(i) = strings.iter().position(|x| x == s) {
                return i as i64;
            }
            strings.push(s.to_string());
            strings.len() as i64 - 1
        };
        let sample_type = types
            .iter()
            .map(|t| ValueType {
                r#type: intern(t),
                unit: intern("count"),
            })
            .collect();
        let mut function = Vec::new();
        let mut location = Vec::new();
        let mut sample = Vec::new();
        for (i, (leaf, caller, values)) in samples.iter().enumerate() {
            let base = 10 * i as u64;
            for (k, name) in [*leaf, "inlined.helper", *caller].iter().enumerate() {
                function.push(Function {
                    id: base + k as u64 + 1,
                    name: intern(name),
                    filename: 0,
                });
            }
            // Lines innermost first: the inlined helper, then the function it is in.
            let mut lines = vec![Line {
                function_id: base + 1,
                line: 0,
            }];
            if inlined {
                lines.insert(
                    0,
                    Line {
                        function_id: base + 2,
                        line: 0,
                    },
                );
            }
            location.push(Location {
                id: base + 1,
                address: 0,
                line: lines,
            });
            location.push(Location {
                id: base + 3,
                address: 0,
                line: vec![Line {
                    function_id: base + 3,
                    line: 0,
                }],
            });
            sample.push(Sample {
                location_id: vec![base + 1, base + 3],
                value: values.clone(),
            });
        }
        Profile {
            sample_type,
            sample,
            location,
            function,
            string_table: strings,
            time_nanos: 0,
        }
    }

    fn opened() -> Opened {
        Opened {
            path: PathBuf::from("p.pb.gz"),
            size_bytes: 1,
            gzip: false,
            format: Format::Pprof,
            modified: None,
        }
    }

    #[test]
    fn datadog_sample_types_and_leaf_sites() {
        let p = profile(
            &["objects", "space"],
            &[
                ("app.cache", "app.main", vec![3, 300]),
                ("app.cache", "app.other", vec![1, 100]),
            ],
            false,
        );
        let s = sites_of(&p).unwrap();
        assert_eq!(s.sample_types, ["objects", "space"]);
        let site = &s.by_name["app.cache"];
        assert_eq!((site.objects, site.bytes), (4, 400));
        assert_eq!(site.frames, ["app.cache", "app.main"]);
    }

    #[test]
    fn the_innermost_inlined_frame_is_the_site() {
        let p = profile(
            &[
                "alloc_objects",
                "alloc_space",
                "inuse_objects",
                "inuse_space",
            ],
            &[("app.cache", "app.main", vec![9, 900, 2, 200])],
            true,
        );
        let s = sites_of(&p).unwrap();
        assert_eq!(s.by_name["inlined.helper"].bytes, 200, "inuse, not alloc");
        assert!(!s.by_name.contains_key("app.cache"));
    }

    #[test]
    fn no_inuse_types_is_an_error_naming_them() {
        let p = profile(&["alloc_objects", "alloc_space"], &[], false);
        match sites_of(&p) {
            Err(HeapError::NoInuse { found, kind, .. }) => {
                assert_eq!(found, "alloc_objects, alloc_space");
                assert_eq!(kind, "an allocation-only profile");
            }
            other => panic!("{:?}", other.map(|s| s.sample_types)),
        }
    }
}
