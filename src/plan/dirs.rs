//! Disks inside one broker (JBOD): which replicas to move between a broker's log dirs so
//! every dir's bytes are within a tolerance of the mean (or under its capacity), moving as
//! few bytes as it can. Executed through AlterReplicaLogDirs.

use serde::Serialize;

/// One replica in one log dir of the broker.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DirReplica {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Its log dir now.
    pub dir: String,
    /// Bytes.
    pub size: u64,
    /// Counted in its dir's bytes but never moved (a topic left out of the plan).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fixed: bool,
}

/// One replica moving to another log dir.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DirMove {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Log dir now.
    pub from: String,
    /// Log dir afterwards.
    pub to: String,
    /// Bytes copied.
    pub size: u64,
}

/// Bytes in one log dir.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DirLoad {
    /// Log dir path.
    pub dir: String,
    /// Bytes of the replicas in it.
    pub bytes: u64,
}

/// A plan for one broker's log dirs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DirsPlan {
    /// The broker.
    pub broker: i32,
    /// The moves.
    pub moves: Vec<DirMove>,
    /// Bytes the moves copy.
    pub bytes_to_move: u64,
    /// Bytes that must move at least: what must leave dirs above their band.
    pub bytes_lower_bound: u64,
    /// Bytes per dir now.
    pub before: Vec<DirLoad>,
    /// Bytes per dir afterwards.
    pub after: Vec<DirLoad>,
}

/// Balances `replicas` over `dirs` (path, capacity in bytes if known) within `tolerance`
/// of the mean.
pub fn plan_log_dirs(
    broker: i32,
    replicas: &[DirReplica],
    dirs: &[(String, Option<u64>)],
    tolerance: f64,
) -> Result<DirsPlan, String> {
    if dirs.len() < 2 {
        return Err(format!(
            "broker {broker} has {} log dir(s); balancing needs two or more",
            dirs.len()
        ));
    }
    let index = |d: &str| dirs.iter().position(|(p, _)| p == d);
    let mut load = vec![0u64; dirs.len()];
    let mut at: Vec<usize> = Vec::with_capacity(replicas.len());
    for r in replicas {
        let i = index(&r.dir).ok_or_else(|| {
            format!(
                "{}-{} is in log dir {} that broker {broker} does not list",
                r.topic, r.partition, r.dir
            )
        })?;
        load[i] += r.size;
        at.push(i);
    }
    let total: u64 = load.iter().sum();
    let caps: Vec<u64> = dirs
        .iter()
        .map(|(_, c)| c.unwrap_or(u64::MAX / 4))
        .collect();
    if caps.iter().sum::<u64>() < total {
        return Err(format!(
            "broker {broker}'s log dirs cannot hold its {total} bytes"
        ));
    }
    let n = dirs.len();
    let targets = super::quota::water_fill(total, &vec![1; n], &vec![0; n], &caps, &vec![0; n]);
    let slack = (total as f64 / n as f64 * tolerance).floor() as u64;
    let band: Vec<(u64, u64)> = targets
        .iter()
        .zip(&caps)
        .map(|(t, c)| (t.saturating_sub(slack), (t + slack).min(*c)))
        .collect();
    let before = loads(dirs, &load);
    let bytes_lower_bound = (0..n)
        .map(|i| load[i].saturating_sub(band[i].1))
        .sum::<u64>()
        .max((0..n).map(|i| band[i].0.saturating_sub(load[i])).sum());
    let mut moves = Vec::new();
    let mut moved = vec![false; replicas.len()];
    loop {
        let over = (0..n).find(|i| load[*i] > band[*i].1);
        let under = (0..n).find(|i| load[*i] < band[*i].0);
        if over.is_none() && under.is_none() {
            break;
        }
        let from = over.unwrap_or_else(|| {
            (0..n)
                .max_by_key(|i| load[*i] as i128 - targets[*i] as i128)
                .unwrap_or(0)
        });
        let to = under.unwrap_or_else(|| {
            (0..n)
                .min_by_key(|i| load[*i] as i128 - targets[*i] as i128)
                .unwrap_or(0)
        });
        if from == to {
            break;
        }
        let need = load[from]
            .saturating_sub(band[from].1)
            .max(band[to].0.saturating_sub(load[to]))
            .max(1);
        let room = load[from]
            .saturating_sub(band[from].0)
            .min(band[to].1.saturating_sub(load[to]));
        let candidates = || {
            (0..replicas.len())
                .filter(|r| at[*r] == from && !moved[*r] && !replicas[*r].fixed)
                .filter(|r| replicas[*r].size > 0)
                .filter(|r| replicas[*r].size <= room)
        };
        let pick = candidates()
            .filter(|r| replicas[*r].size >= need)
            .min_by_key(|r| replicas[*r].size)
            .or_else(|| candidates().max_by_key(|r| replicas[*r].size));
        let Some(r) = pick else { break };
        let size = replicas[r].size;
        load[from] -= size;
        load[to] += size;
        at[r] = to;
        moved[r] = true;
        moves.push(DirMove {
            topic: replicas[r].topic.clone(),
            partition: replicas[r].partition,
            from: dirs[from].0.clone(),
            to: dirs[to].0.clone(),
            size,
        });
    }
    Ok(DirsPlan {
        broker,
        bytes_to_move: moves.iter().map(|m| m.size).sum(),
        moves,
        bytes_lower_bound,
        before,
        after: loads(dirs, &load),
    })
}

impl DirsPlan {
    /// The plan as reassignment partitions (kafka-reassign-partitions.sh's shape): each
    /// moving partition with its replica list from `assignment` unchanged and `log_dirs`
    /// "any" but for this broker's replica, which gets its new dir.
    pub fn partitions(
        &self,
        assignment: &[super::PartitionAssignment],
    ) -> Result<Vec<super::PartitionAssignment>, String> {
        self.moves
            .iter()
            .map(|m| {
                let now = assignment
                    .iter()
                    .find(|p| p.topic == m.topic && p.partition == m.partition)
                    .filter(|p| p.replicas.contains(&self.broker))
                    .ok_or_else(|| {
                        format!(
                            "{}-{} is not assigned to broker {} any more",
                            m.topic, m.partition, self.broker
                        )
                    })?;
                let log_dirs = now
                    .replicas
                    .iter()
                    .map(|b| {
                        if *b == self.broker {
                            m.to.clone()
                        } else {
                            "any".to_string()
                        }
                    })
                    .collect();
                Ok(super::PartitionAssignment {
                    topic: m.topic.clone(),
                    partition: m.partition,
                    replicas: now.replicas.clone(),
                    log_dirs: Some(log_dirs),
                })
            })
            .collect()
    }
}

/// Bytes per dir and their spread (largest minus smallest, also in percent of the mean).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DirSpread {
    /// Bytes per dir.
    pub dirs: Vec<DirLoad>,
    /// Largest minus smallest.
    pub spread_bytes: u64,
    /// The spread in percent of the mean.
    pub spread_percent: f64,
}

impl DirSpread {
    /// The spread of `loads`.
    pub fn of(loads: &[DirLoad]) -> DirSpread {
        let max = loads.iter().map(|l| l.bytes).max().unwrap_or(0);
        let min = loads.iter().map(|l| l.bytes).min().unwrap_or(0);
        let mean = loads.iter().map(|l| l.bytes as f64).sum::<f64>() / loads.len().max(1) as f64;
        DirSpread {
            dirs: loads.to_vec(),
            spread_bytes: max - min,
            spread_percent: if mean > 0.0 {
                ((max - min) as f64 / mean * 1000.0).round() / 10.0
            } else {
                0.0
            },
        }
    }
}

fn loads(dirs: &[(String, Option<u64>)], load: &[u64]) -> Vec<DirLoad> {
    dirs.iter()
        .zip(load)
        .map(|((d, _), b)| DirLoad {
            dir: d.clone(),
            bytes: *b,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_gives_to_an_empty_one() {
        let replicas: Vec<DirReplica> = (0..10)
            .map(|i| DirReplica {
                topic: "t".into(),
                partition: i,
                dir: "/a".into(),
                size: 100 + i as u64,
                fixed: false,
            })
            .collect();
        let dirs = vec![("/a".to_string(), None), ("/b".to_string(), None)];
        let plan = plan_log_dirs(1, &replicas, &dirs, 0.05).unwrap();
        let (a, b) = (plan.after[0].bytes as f64, plan.after[1].bytes as f64);
        let mean = (a + b) / 2.0;
        assert!((a - mean).abs() <= mean * 0.05 + 1.0, "{plan:?}");
        assert!(
            plan.bytes_to_move as f64 <= plan.bytes_lower_bound as f64 * 1.25,
            "{plan:?}"
        );
        assert!(plan_log_dirs(1, &replicas, &dirs[..1], 0.05).is_err());
    }

    #[test]
    fn a_dirs_plan_keeps_replica_lists_and_names_only_its_broker_s_dir() {
        let replicas: Vec<DirReplica> = (0..4)
            .map(|i| DirReplica {
                topic: "t".into(),
                partition: i,
                dir: "/a".into(),
                size: 100,
                fixed: i == 0,
            })
            .collect();
        let dirs = vec![("/a".to_string(), None), ("/b".to_string(), None)];
        let plan = plan_log_dirs(2, &replicas, &dirs, 0.0).unwrap();
        assert_eq!(plan.moves.len(), 2, "{plan:?}");
        assert!(
            plan.moves.iter().all(|m| m.partition != 0),
            "fixed: {plan:?}"
        );
        let assignment: Vec<super::super::PartitionAssignment> = (0..4)
            .map(|i| super::super::PartitionAssignment {
                topic: "t".into(),
                partition: i,
                replicas: vec![1, 2, 3],
                log_dirs: None,
            })
            .collect();
        let parts = plan.partitions(&assignment).unwrap();
        assert_eq!(parts.len(), 2);
        for p in &parts {
            assert_eq!(p.replicas, vec![1, 2, 3]);
            assert_eq!(
                p.log_dirs,
                Some(vec!["any".to_string(), "/b".to_string(), "any".to_string()])
            );
        }
        assert!(plan.partitions(&assignment[..1]).is_err());
        let spread = DirSpread::of(&plan.after);
        assert_eq!((spread.spread_bytes, spread.spread_percent), (0, 0.0));
        assert_eq!(DirSpread::of(&plan.before).spread_percent, 200.0);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// Any broker: bytes are conserved, each replica moves at most once from the dir
        /// it is in to another listed dir, fixed replicas stay, the report adds up, and a
        /// plan that lands within the band moves no fewer bytes than the lower bound.
        #[test]
        fn moves_are_consistent_and_bounded(
            n_dirs in 2usize..5,
            sizes in proptest::collection::vec((0u64..5_000_000, 0usize..4, proptest::bool::weighted(0.2)), 0..60),
            tolerance in 0.0f64..0.3,
        ) {
            let dirs: Vec<(String, Option<u64>)> =
                (0..n_dirs).map(|i| (format!("/d{i}"), None)).collect();
            let replicas: Vec<DirReplica> = sizes
                .iter()
                .enumerate()
                .map(|(i, (size, dir, fixed))| DirReplica {
                    topic: format!("t{}", i % 3),
                    partition: i as i32,
                    dir: dirs[dir % n_dirs].0.clone(),
                    size: *size,
                    fixed: *fixed,
                })
                .collect();
            let plan = plan_log_dirs(7, &replicas, &dirs, tolerance).unwrap();
            let total: u64 = replicas.iter().map(|r| r.size).sum();
            proptest::prop_assert_eq!(plan.before.iter().map(|l| l.bytes).sum::<u64>(), total);
            proptest::prop_assert_eq!(plan.after.iter().map(|l| l.bytes).sum::<u64>(), total);
            proptest::prop_assert_eq!(plan.bytes_to_move, plan.moves.iter().map(|m| m.size).sum::<u64>());
            let mut load: std::collections::HashMap<&str, i128> =
                plan.before.iter().map(|l| (l.dir.as_str(), l.bytes as i128)).collect();
            let mut seen = std::collections::HashSet::new();
            for m in &plan.moves {
                proptest::prop_assert!(seen.insert(m.partition), "moved twice: {:?}", m);
                let r = &replicas[m.partition as usize];
                proptest::prop_assert!(!r.fixed);
                proptest::prop_assert_eq!(&r.dir, &m.from);
                proptest::prop_assert_eq!(r.size, m.size);
                proptest::prop_assert!(m.from != m.to && load.contains_key(m.to.as_str()));
                *load.get_mut(m.from.as_str()).unwrap() -= m.size as i128;
                *load.get_mut(m.to.as_str()).unwrap() += m.size as i128;
            }
            for l in &plan.after {
                proptest::prop_assert_eq!(load[l.dir.as_str()], l.bytes as i128);
            }
            let mean = total as f64 / n_dirs as f64;
            let slack = (mean * tolerance).floor();
            let within = plan
                .after
                .iter()
                .all(|l| (l.bytes as f64 - mean).abs() <= slack + 1.0);
            if within {
                proptest::prop_assert!(plan.bytes_to_move >= plan.bytes_lower_bound, "{:?}", plan);
            }
        }
    }
}
