//! HA pairs: two Prometheus replicas scraping the same targets give every process twice,
//! told apart only by an external label such as `prometheus_replica`. Counted as they
//! are, instance counts and fleet totals double. Thanos merges them (`dedup=true`); on
//! any other backend the range series are merged here, and the report says so.
//!
//! Parts: a memory metric split by a label such as `space` or `pool` gives one process
//! several series. Counted as they are, each part reads as an instance; they are summed
//! per process here, and the report says by which label.

use super::period::RangeData;
use super::restarts::instance_key;
use crate::pack::Role;
use crate::prom::{Labels, RangeSeries};
use std::collections::{BTreeMap, BTreeSet};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::period::RangeData;
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
}
