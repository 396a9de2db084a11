//! HA pairs: two Prometheus replicas scraping the same targets give every process twice,
//! told apart only by an external label such as `prometheus_replica`. Counted as they
//! are, instance counts and fleet totals double. Thanos merges them (`dedup=true`); on
//! any other backend the range series are merged here, and the report says so.

use super::period::RangeData;
use crate::prom::Labels;
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
}
