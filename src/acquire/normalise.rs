//! HA pairs: two Prometheus replicas scraping the same targets give every process twice,
//! told apart only by an external label such as `prometheus_replica`. Counted as they
//! are, instance counts and fleet totals double. Thanos merges them (`dedup=true`); on
//! any other backend the range series are merged here, and the report says so.
//!
//! Parts: a memory metric split by a label such as `space` or `pool` gives one process
//! several series. Counted as they are, each part reads as an instance; they are summed
//! per process here, and the report says by which label.
//!
//! Stale tails: series that stopped before the window's end are trimmed of the repeats
//! Prometheus answers with for its lookback. [`normalise`] does all three, in that order,
//! for every command.

use super::RangeData;
use super::lifetimes::instance_key;
use crate::pack::Role;
use crate::prom::{Labels, RangeSeries};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Whether a label name is an HA replica label (`replica`, `prometheus_replica`,
/// `__replica__`, `receive_replica`...), not e.g. Kubernetes's `replicaset`.
fn is_replica_label(name: &str) -> bool {
    let name = name.trim_matches('_').to_ascii_lowercase();
    name == "replica" || name.ends_with("_replica")
}

/// Keeps, for every set of series identical but for replica labels, the copy with the
/// most samples. Returns the replica labels that told copies apart (empty: none found).
pub fn merge_replicas(data: &mut RangeData) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for series in data.by_role.values_mut() {
        let mut best: BTreeMap<Labels, usize> = BTreeMap::new();
        let mut keep = vec![true; series.len()];
        for (index, one) in series.iter().enumerate() {
            let replica_labels: Vec<&String> = one
                .labels
                .keys()
                .filter(|name| is_replica_label(name))
                .collect();
            if replica_labels.is_empty() {
                continue;
            }
            let mut key = one.labels.clone();
            key.retain(|name, _| !is_replica_label(name));
            match best.get(&key).copied() {
                None => {
                    best.insert(key, index);
                }
                Some(other) => {
                    for name in replica_labels {
                        if series[other].labels.get(name) != one.labels.get(name) {
                            found.insert(name.clone());
                        }
                    }
                    if one.points.len() > series[other].points.len() {
                        keep[other] = false;
                        best.insert(key, index);
                    } else {
                        keep[index] = false;
                    }
                }
            }
        }
        let mut flags = keep.into_iter();
        series.retain(|_| flags.next().unwrap_or(true));
    }
    found
}

/// Roles whose series are amounts of one process's memory, so parts of one add up.
const MEMORY_ROLES: &[Role] = &[Role::Heap, Role::HeapTotal, Role::Rss];

/// Whether series of one process are parts of its memory, to be summed: scraped by the
/// same job (two jobs scraping one target are copies, not parts) and side by side in time
/// (a label that changed mid-window, such as a version, gives series one after another).
fn are_parts(series: &[RangeSeries]) -> bool {
    let job = series[0].labels.get("job");
    if series.iter().any(|s| s.labels.get("job") != job) {
        return false;
    }
    let span = |s: &RangeSeries| match (s.points.first(), s.points.last()) {
        (Some(a), Some(b)) => Some((a.0, b.0)),
        _ => None,
    };
    let Some(spans) = series.iter().map(span).collect::<Option<Vec<_>>>() else {
        return false;
    };
    let shared_from = spans.iter().map(|s| s.0).fold(f64::NEG_INFINITY, f64::max);
    let shared_to = spans.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
    let shortest = spans
        .iter()
        .map(|s| s.1 - s.0)
        .fold(f64::INFINITY, f64::min);
    shared_to - shared_from >= 0.5 * shortest
}

/// Sums, per process ([`instance_key`]), memory series split by other labels, at the
/// timestamps every part has. Returns the labels that told the parts apart (empty: none).
pub fn sum_memory_parts(data: &mut RangeData) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for role in MEMORY_ROLES {
        let Some(series) = data.by_role.get_mut(role) else {
            continue;
        };
        let mut keys = BTreeSet::new();
        if series
            .iter()
            .all(|one| keys.insert(instance_key(&one.labels)))
        {
            continue; // one series per process: nothing to sum, order kept
        }
        let mut groups: BTreeMap<String, Vec<RangeSeries>> = BTreeMap::new();
        for one in series.drain(..) {
            groups
                .entry(instance_key(&one.labels))
                .or_default()
                .push(one);
        }
        for (_, mut parts) in groups {
            if parts.len() == 1 || !are_parts(&parts) {
                series.append(&mut parts);
                continue;
            }
            let mut labels = parts[0].labels.clone();
            for part in &parts[1..] {
                labels.retain(|name, value| {
                    let same = part.labels.get(name) == Some(value);
                    if !same {
                        found.insert(name.clone());
                    }
                    same
                });
                found.extend(
                    part.labels
                        .keys()
                        .filter(|name| !parts[0].labels.contains_key(*name))
                        .cloned(),
                );
            }
            let mut sums: BTreeMap<u64, (f64, usize)> = BTreeMap::new();
            for part in &parts {
                for (t, v) in &part.points {
                    let slot = sums.entry(t.to_bits()).or_insert((0.0, 0));
                    slot.0 += v;
                    slot.1 += 1;
                }
            }
            let mut points: Vec<(f64, f64)> = sums
                .into_iter()
                .filter(|(_, (_, n))| *n == parts.len())
                .map(|(t, (sum, _))| (f64::from_bits(t), sum))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            series.push(RangeSeries { labels, points });
        }
    }
    found.remove("__name__");
    found
}

/// Prometheus's default lookback delta: how long a series' last sample keeps answering.
const LOOKBACK_SECONDS: f64 = 300.0;

/// Drops the repeated values a range query returns after a series stopped: without a
/// staleness marker (backfilled data, a dead remote-write sender) Prometheus keeps
/// answering with the last sample for its 5-minute lookback, which would otherwise
/// read as a flat stretch of a process that no longer exists. Only level gauges are
/// trimmed: flags and counters stay flat for real, and their last value matters.
pub fn trim_stale_tails(data: &mut RangeData, window_end: f64) {
    let levels = [Role::Heap, Role::HeapTotal, Role::Rss, Role::ActiveHandles];
    let steps: HashMap<Role, f64> = levels.iter().map(|r| (*r, data.step_of(*r))).collect();
    for (role, all) in data
        .by_role
        .iter_mut()
        .filter(|(role, _)| levels.contains(role))
    {
        let step = steps[role];
        for series in all.iter_mut() {
            let Some(&(last_t, last_v)) = series.points.last() else {
                continue;
            };
            if last_t >= window_end - step / 2.0 {
                continue;
            }
            let run_start = series
                .points
                .iter()
                .rposition(|&(_, v)| v != last_v)
                .map_or(0, |i| i + 1);
            // Samples older than the lookback before the last point are real even when the
            // value is constant (a flat gauge); only the lookback's worth can be repeats.
            let mut index = 0;
            series.points.retain(|&(t, _)| {
                let keep = index <= run_start || t <= last_t - LOOKBACK_SECONDS;
                index += 1;
                keep
            });
        }
    }
}

/// What [`normalise`] merged or summed, for the warnings every command gives.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Normalised {
    /// Labels that told HA replica copies apart.
    pub replica_labels: BTreeSet<String>,
    /// Labels that split one process's memory into parts.
    pub part_labels: BTreeSet<String>,
}

impl Normalised {
    pub fn extend(&mut self, other: Normalised) {
        self.replica_labels.extend(other.replica_labels);
        self.part_labels.extend(other.part_labels);
    }

    /// The warnings for what was merged or summed, in one wording for every command.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.replica_labels.is_empty() {
            let names: Vec<&str> = self.replica_labels.iter().map(String::as_str).collect();
            out.push(format!(
                "series came in copies from HA replicas (label {}): the copies were merged for the per-instance figures, but GC collection counts summed on the server may be doubled; use --backend thanos (dedup) or --selector '{}=\"…\"'",
                names.join(", "),
                names[0]
            ));
        }
        if !self.part_labels.is_empty() {
            let names: Vec<&str> = self.part_labels.iter().map(String::as_str).collect();
            out.push(format!(
                "the memory series come in parts per process (split by {}): the parts were summed per process, so each instance counts once",
                names.join(", ")
            ));
        }
        out
    }
}

/// Merges HA replica copies, sums memory parts and trims stale tails, in that order.
pub fn normalise(data: &mut RangeData, window_end: f64) -> Normalised {
    let replica_labels = merge_replicas(data);
    let part_labels = sum_memory_parts(data);
    trim_stale_tails(data, window_end);
    Normalised {
        replica_labels,
        part_labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acquire::RangeData;
    use crate::pack::Role;
    use crate::prom::RangeSeries;
    use std::collections::HashMap;

    fn series(labels: &[(&str, &str)], points: usize) -> RangeSeries {
        RangeSeries {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            points: (0..points).map(|i| (i as f64, 1.0)).collect(),
        }
    }

    #[test]
    fn copies_from_replicas_are_merged_and_named() {
        let mut data = RangeData {
            step: 1.0,
            role_steps: Default::default(),
            by_role: HashMap::from([(
                Role::Heap,
                vec![
                    series(&[("instance", "a"), ("prometheus_replica", "r0")], 10),
                    series(&[("instance", "a"), ("prometheus_replica", "r1")], 12),
                    series(&[("instance", "b"), ("prometheus_replica", "r0")], 10),
                    series(&[("instance", "b"), ("prometheus_replica", "r1")], 9),
                    series(&[("instance", "c"), ("prometheus_replica", "r1")], 9),
                ],
            )]),
        };
        let found = merge_replicas(&mut data);
        assert_eq!(found, BTreeSet::from(["prometheus_replica".to_string()]));
        let kept: Vec<(String, String, usize)> = data.by_role[&Role::Heap]
            .iter()
            .map(|s| {
                (
                    s.labels["instance"].clone(),
                    s.labels["prometheus_replica"].clone(),
                    s.points.len(),
                )
            })
            .collect();
        assert_eq!(
            kept,
            vec![
                ("a".into(), "r1".into(), 12),
                ("b".into(), "r0".into(), 10),
                ("c".into(), "r1".into(), 9),
            ]
        );
    }

    #[test]
    fn distinct_processes_are_left_alone() {
        let mut data = RangeData {
            step: 1.0,
            role_steps: Default::default(),
            by_role: HashMap::from([(
                Role::Heap,
                vec![
                    series(&[("instance", "a"), ("replicaset", "x")], 10),
                    series(&[("instance", "b"), ("replicaset", "x")], 10),
                ],
            )]),
        };
        assert!(merge_replicas(&mut data).is_empty());
        assert_eq!(data.by_role[&Role::Heap].len(), 2);
    }

    #[test]
    fn parts_of_one_process_are_summed_where_all_have_a_sample() {
        let part = |instance: &str, space: &str, points: Vec<(f64, f64)>| RangeSeries {
            labels: [
                ("__name__", "heap_space_used"),
                ("instance", instance),
                ("space", space),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            points,
        };
        let mut data = RangeData::new(1.0);
        data.by_role.insert(
            Role::Heap,
            vec![
                part("a", "old", vec![(0.0, 10.0), (1.0, 11.0), (2.0, 12.0)]),
                part("a", "new", vec![(0.0, 1.0), (2.0, 3.0)]),
                part("b", "old", vec![(0.0, 5.0)]),
            ],
        );
        let found = sum_memory_parts(&mut data);
        assert_eq!(found, BTreeSet::from(["space".to_string()]));
        let heap = &data.by_role[&Role::Heap];
        assert_eq!(heap.len(), 2);
        assert_eq!(heap[0].labels.get("space"), None);
        assert_eq!(heap[0].labels["instance"], "a");
        assert_eq!(heap[0].points, vec![(0.0, 11.0), (2.0, 15.0)]);
        assert_eq!(
            heap[1].labels["space"], "old",
            "a single part keeps its labels"
        );

        let before = data.clone();
        assert!(sum_memory_parts(&mut data).is_empty());
        assert_eq!(data.by_role[&Role::Heap], before.by_role[&Role::Heap]);
    }

    #[test]
    fn copies_from_two_jobs_and_series_one_after_another_are_not_parts() {
        let one = |job: &str, version: &str, range: std::ops::Range<i32>| RangeSeries {
            labels: [("instance", "a"), ("job", job), ("version", version)]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            points: range.map(|t| (t as f64, 5.0)).collect(),
        };
        let mut data = RangeData::new(1.0);
        data.by_role.insert(
            Role::Heap,
            vec![one("api", "1", 0..100), one("api-annotations", "1", 0..100)],
        );
        assert!(sum_memory_parts(&mut data).is_empty());
        assert_eq!(data.by_role[&Role::Heap].len(), 2);
        data.by_role.insert(
            Role::Heap,
            vec![one("api", "1", 0..50), one("api", "2", 50..100)],
        );
        assert!(sum_memory_parts(&mut data).is_empty());
        assert_eq!(data.by_role[&Role::Heap][0].points.len(), 50);
    }

    #[test]
    fn stale_tails_are_trimmed_only_when_the_series_ended() {
        let mut data = RangeData {
            step: 60.0,
            ..Default::default()
        };
        let series = |name: &str, points: Vec<(f64, f64)>| RangeSeries {
            labels: [("__name__", "h"), ("job", "api"), ("instance", name)]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            points,
        };
        let ended = vec![(0.0, 1.0), (60.0, 2.0), (120.0, 2.0), (180.0, 2.0)];
        let running: Vec<(f64, f64)> = (0..=20)
            .map(|i| (i as f64 * 60.0, 2.0 + i as f64))
            .collect();
        let flat: Vec<(f64, f64)> = (0..10).map(|i| (i as f64 * 60.0, 5.0)).collect();
        data.by_role.insert(
            Role::Heap,
            vec![
                series("a", ended),
                series("b", running.clone()),
                series("c", flat.clone()),
            ],
        );
        trim_stale_tails(&mut data, 1200.0);
        // Ended with a repeated value: the repeats within the lookback go.
        assert_eq!(
            data.series(Role::Heap)[0].points,
            vec![(0.0, 1.0), (60.0, 2.0)]
        );
        // Still running at the window's end: untouched.
        assert_eq!(data.series(Role::Heap)[1].points, running);
        // Flat for its whole life: only the lookback's worth of samples can be repeats.
        assert_eq!(data.series(Role::Heap)[2].points, flat[..5].to_vec());
    }
}
