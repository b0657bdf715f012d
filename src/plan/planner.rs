//! The minimal-move planner.

use super::PartitionAssignment;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What to plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// The brokers that should hold the replicas afterwards.
    pub brokers: Vec<i32>,
    /// Rack of each broker; with `rack_aware`, no two replicas of a partition share a rack
    /// when there are enough racks.
    pub racks: HashMap<i32, String>,
    /// Keep replicas of a partition in distinct racks where possible.
    pub rack_aware: bool,
    /// Change every partition's replication factor to this.
    pub replication_factor: Option<usize>,
}

/// Replica moves of a plan: replicas in `after` on a broker that did not hold them before.
pub fn replica_moves(before: &[PartitionAssignment], after: &[PartitionAssignment]) -> usize {
    let old: HashMap<(&str, i32), &Vec<i32>> = before
        .iter()
        .map(|p| ((p.topic.as_str(), p.partition), &p.replicas))
        .collect();
    after
        .iter()
        .map(|p| {
            let prev = old.get(&(p.topic.as_str(), p.partition));
            p.replicas
                .iter()
                .filter(|b| prev.is_none_or(|r| !r.contains(b)))
                .count()
        })
        .sum()
}

/// Σ over brokers of replicas above their balanced share (brokers leaving count fully).
pub fn lower_bound_moves(before: &[PartitionAssignment], brokers: &[i32]) -> usize {
    let total: usize = before.iter().map(|p| p.replicas.len()).sum();
    let counts = count_replicas(before);
    let shares = shares(total, brokers, &counts);
    counts
        .iter()
        .map(|(b, n)| n.saturating_sub(shares.get(b).copied().unwrap_or(0)))
        .sum()
}

fn count_replicas(parts: &[PartitionAssignment]) -> BTreeMap<i32, usize> {
    let mut counts = BTreeMap::new();
    for p in parts {
        for b in &p.replicas {
            *counts.entry(*b).or_insert(0) += 1;
        }
    }
    counts
}

/// Each target broker's share of `total`: ⌊total/B⌋, plus one for the `total % B` brokers
/// that hold the most now (fewest moves).
fn shares(total: usize, brokers: &[i32], counts: &BTreeMap<i32, usize>) -> HashMap<i32, usize> {
    let n = brokers.len().max(1);
    let base = total / n;
    let extra = total % n;
    let mut order: Vec<i32> = brokers.to_vec();
    order.sort_by_key(|b| (std::cmp::Reverse(counts.get(b).copied().unwrap_or(0)), *b));
    order
        .iter()
        .enumerate()
        .map(|(i, b)| (*b, base + usize::from(i < extra)))
        .collect()
}

/// Plans a new assignment of `current` over `options.brokers`.
pub fn plan(
    current: &[PartitionAssignment],
    options: &PlanOptions,
) -> Result<Vec<PartitionAssignment>, String> {
    let brokers: Vec<i32> = {
        let mut b = options.brokers.clone();
        b.sort();
        b.dedup();
        b
    };
    if brokers.is_empty() {
        return Err("no target brokers".into());
    }
    let mut parts: Vec<PartitionAssignment> = current.to_vec();
    parts.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    let target: HashSet<i32> = brokers.iter().copied().collect();
    let rack = |b: i32| options.racks.get(&b).cloned();
    let rack_count = brokers
        .iter()
        .filter_map(|b| rack(*b))
        .collect::<HashSet<_>>()
        .len();

    // Replication factor changes first (they decide R).
    if let Some(rf) = options.replication_factor {
        if rf == 0 || rf > brokers.len() {
            return Err(format!(
                "replication factor {rf} needs between 1 and {} brokers",
                brokers.len()
            ));
        }
        let mut counts = count_replicas(&parts);
        for p in parts.iter_mut() {
            while p.replicas.len() > rf {
                // Drop the most loaded non-leader replica (a broker leaving goes first).
                let drop = p.replicas[1..]
                    .iter()
                    .copied()
                    .max_by_key(|b| (!target.contains(b), counts.get(b).copied().unwrap_or(0), *b))
                    .unwrap_or(p.replicas[0]);
                p.replicas.retain(|b| *b != drop);
                if let Some(c) = counts.get_mut(&drop) {
                    *c = c.saturating_sub(1);
                }
            }
            while p.replicas.len() < rf {
                let used_racks: HashSet<String> =
                    p.replicas.iter().filter_map(|b| rack(*b)).collect();
                let add = brokers
                    .iter()
                    .copied()
                    .filter(|b| !p.replicas.contains(b))
                    .min_by_key(|b| {
                        let rack_clash =
                            options.rack_aware && rack(*b).is_some_and(|r| used_racks.contains(&r));
                        (rack_clash, counts.get(b).copied().unwrap_or(0), *b)
                    })
                    .ok_or_else(|| {
                        format!(
                            "{}-{}: no broker left for another replica",
                            p.topic, p.partition
                        )
                    })?;
                p.replicas.push(add);
                *counts.entry(add).or_insert(0) += 1;
            }
        }
    }

    let total: usize = parts.iter().map(|p| p.replicas.len()).sum();
    let mut counts = count_replicas(&parts);
    let share = shares(total, &brokers, &counts);
    let over = |b: i32, counts: &BTreeMap<i32, usize>| {
        !target.contains(&b) || counts.get(&b).copied().unwrap_or(0) > share[&b]
    };

    // Moves: from a broker above its share (or leaving) to one below it. Two passes: the
    // first keeps racks distinct where possible; the second only requires distinct brokers.
    for strict_racks in [true, false] {
        for p in parts.iter_mut() {
            for i in 0..p.replicas.len() {
                let from = p.replicas[i];
                if !over(from, &counts) {
                    continue;
                }
                let others: Vec<i32> = p.replicas.iter().copied().filter(|b| *b != from).collect();
                let other_racks: HashSet<String> = others.iter().filter_map(|b| rack(*b)).collect();
                let dest = brokers
                    .iter()
                    .copied()
                    .filter(|b| {
                        !p.replicas.contains(b) && counts.get(b).copied().unwrap_or(0) < share[b]
                    })
                    .filter(|b| {
                        !(strict_racks && options.rack_aware && rack_count > others.len())
                            || rack(*b).is_none_or(|r| !other_racks.contains(&r))
                    })
                    .max_by_key(|b| {
                        (
                            share[b] - counts.get(b).copied().unwrap_or(0),
                            std::cmp::Reverse(*b),
                        )
                    });
                if let Some(to) = dest {
                    p.replicas[i] = to;
                    if let Some(c) = counts.get_mut(&from) {
                        *c -= 1;
                    }
                    *counts.entry(to).or_insert(0) += 1;
                }
            }
        }
    }
    // A broker that is leaving must be empty even if that unbalances the rest.
    for p in parts.iter_mut() {
        for i in 0..p.replicas.len() {
            let from = p.replicas[i];
            if target.contains(&from) {
                continue;
            }
            let to = brokers
                .iter()
                .copied()
                .filter(|b| !p.replicas.contains(b))
                .min_by_key(|b| (counts.get(b).copied().unwrap_or(0), *b))
                .ok_or_else(|| {
                    format!(
                        "{}-{}: too few brokers to move broker {from}'s replica to",
                        p.topic, p.partition
                    )
                })?;
            p.replicas[i] = to;
            if let Some(c) = counts.get_mut(&from) {
                *c -= 1;
            }
            *counts.entry(to).or_insert(0) += 1;
        }
    }
    balance_leaders(&mut parts, &brokers);
    Ok(parts)
}

/// Reorders replica lists so each broker is the preferred leader of ⌊P/B⌋ or ⌈P/B⌉
/// partitions where the replica placement allows: moves no data. Leadership moves along
/// augmenting paths (x takes a partition from y, y takes one from z, ...), so a broker
/// that shares no partition with the overloaded one still gets its share.
fn balance_leaders(parts: &mut [PartitionAssignment], brokers: &[i32]) {
    let n = brokers.len().max(1);
    let base = parts.len() / n;
    let mut leaders: HashMap<i32, usize> = brokers.iter().map(|b| (*b, 0)).collect();
    for p in parts.iter() {
        if let Some(l) = p.replicas.first() {
            *leaders.entry(*l).or_insert(0) += 1;
        }
    }
    // A cheap greedy pass first: a partition led by a broker above base goes to a follower
    // below base.
    for p in parts.iter_mut() {
        let l = p.replicas[0];
        if leaders[&l] <= base {
            continue;
        }
        if let Some(pos) = (1..p.replicas.len())
            .find(|i| leaders.get(&p.replicas[*i]).copied().unwrap_or(0) < base)
        {
            let nl = p.replicas[pos];
            p.replicas.swap(0, pos);
            *leaders.entry(l).or_insert(1) -= 1;
            *leaders.entry(nl).or_insert(0) += 1;
        }
    }
    // Followers of each partition, kept current lazily (entries are re-checked on use).
    let mut by_follower: HashMap<i32, Vec<usize>> = HashMap::new();
    for (i, p) in parts.iter().enumerate() {
        for b in &p.replicas[1..] {
            by_follower.entry(*b).or_default().push(i);
        }
    }
    // Phase 1: everyone below base pulls from someone above base.
    // Phase 2: anyone at base + 2 or more gives to someone at base.
    for phase in 0..2 {
        loop {
            let (low, is_source): (Option<i32>, Box<dyn Fn(usize) -> bool>) = if phase == 0 {
                (
                    brokers.iter().copied().find(|b| leaders[b] < base),
                    Box::new(move |c| c > base),
                )
            } else {
                let high_exists = brokers.iter().any(|b| leaders[b] > base + 1);
                (
                    if high_exists {
                        brokers.iter().copied().find(|b| leaders[b] == base)
                    } else {
                        None
                    },
                    Box::new(move |c| c > base + 1),
                )
            };
            let Some(low) = low else { break };
            if !augment(
                parts,
                &mut leaders,
                &mut by_follower,
                low,
                is_source.as_ref(),
            ) {
                break;
            }
        }
    }
}

/// Finds a chain from `low` to a broker whose leader count satisfies `is_source` and shifts
/// one leadership along it. False when no chain exists.
fn augment(
    parts: &mut [PartitionAssignment],
    leaders: &mut HashMap<i32, usize>,
    by_follower: &mut HashMap<i32, Vec<usize>>,
    low: i32,
    is_source: &dyn Fn(usize) -> bool,
) -> bool {
    // Edge x -> y via partition p: x is a follower of p, y leads p (x can take p from y).
    let mut parent: HashMap<i32, (i32, usize)> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([low]);
    let mut seen: HashSet<i32> = HashSet::from([low]);
    let mut found = None;
    'search: while let Some(x) = queue.pop_front() {
        for &pi in by_follower.get(&x).map(Vec::as_slice).unwrap_or(&[]) {
            let y = parts[pi].replicas[0];
            if y == x {
                continue; // stale entry: x leads it now
            }
            if seen.insert(y) {
                parent.insert(y, (x, pi));
                if is_source(leaders.get(&y).copied().unwrap_or(0)) {
                    found = Some(y);
                    break 'search;
                }
                queue.push_back(y);
            }
        }
    }
    let Some(mut y) = found else { return false };
    *leaders.entry(y).or_insert(1) -= 1;
    *leaders.entry(low).or_insert(0) += 1;
    while let Some(&(x, pi)) = parent.get(&y) {
        let p = &mut parts[pi];
        let old_leader = p.replicas[0];
        let pos = p.replicas.iter().position(|b| *b == x).unwrap_or(0);
        p.replicas.swap(0, pos);
        by_follower.entry(old_leader).or_default().push(pi);
        if x == low {
            break;
        }
        y = x;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random source (no dependency needed).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % n as u64) as usize
        }
    }

    fn random_cluster(
        rng: &mut Lcg,
        partitions: usize,
        brokers: usize,
        rf: usize,
    ) -> Vec<PartitionAssignment> {
        (0..partitions)
            .map(|i| {
                let mut replicas = Vec::new();
                while replicas.len() < rf {
                    let b = rng.next(brokers) as i32 + 1;
                    if !replicas.contains(&b) {
                        replicas.push(b);
                    }
                }
                PartitionAssignment {
                    topic: format!("t{}", i % 37),
                    partition: (i / 37) as i32,
                    replicas,
                    log_dirs: None,
                }
            })
            .collect()
    }

    fn check(
        before: &[PartitionAssignment],
        after: &[PartitionAssignment],
        brokers: &[i32],
        racks: &HashMap<i32, String>,
    ) -> (usize, usize) {
        assert_eq!(before.len(), after.len());
        let mut counts: HashMap<i32, usize> = brokers.iter().map(|b| (*b, 0)).collect();
        let mut leaders: HashMap<i32, usize> = brokers.iter().map(|b| (*b, 0)).collect();
        for p in after {
            let set: HashSet<i32> = p.replicas.iter().copied().collect();
            assert_eq!(set.len(), p.replicas.len(), "duplicate broker in {p:?}");
            for b in &p.replicas {
                *counts
                    .get_mut(b)
                    .unwrap_or_else(|| panic!("{b} is not a target broker")) += 1;
            }
            *leaders.get_mut(&p.replicas[0]).expect("leader") += 1;
            if !racks.is_empty() {
                let distinct: HashSet<&String> =
                    p.replicas.iter().filter_map(|b| racks.get(b)).collect();
                let rack_total: HashSet<&String> = racks.values().collect();
                assert_eq!(
                    distinct.len(),
                    p.replicas.len().min(rack_total.len()),
                    "racks in {p:?}"
                );
            }
        }
        let spread = |m: &HashMap<i32, usize>| {
            m.values().max().copied().unwrap_or(0) - m.values().min().copied().unwrap_or(0)
        };
        assert!(spread(&counts) <= 1, "replicas per broker: {counts:?}");
        assert!(spread(&leaders) <= 1, "leaders per broker: {leaders:?}");
        (
            replica_moves(before, after),
            lower_bound_moves(before, brokers),
        )
    }

    #[test]
    fn scale_out_3_to_5_moves_the_minimum() {
        let before: Vec<PartitionAssignment> = (0..5)
            .map(|i| PartitionAssignment {
                topic: "peter5".into(),
                partition: i,
                replicas: vec![[2, 3], [3, 1], [1, 2], [2, 1], [3, 2]][i as usize].to_vec(),
                log_dirs: None,
            })
            .collect();
        let brokers = vec![1, 2, 3, 4, 5];
        let after = plan(
            &before,
            &PlanOptions {
                brokers: brokers.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        let (moves, bound) = check(&before, &after, &brokers, &HashMap::new());
        assert_eq!(moves, bound);
        assert_eq!(bound, 4);
    }

    #[test]
    fn random_clusters_are_balanced_with_moves_within_one_percent_of_the_bound() {
        let mut rng = Lcg(42);
        for case in 0..30 {
            let brokers_now = 3 + rng.next(20);
            let rf = 1 + rng.next(3.min(brokers_now));
            let partitions = 50 + rng.next(3000);
            let before = random_cluster(&mut rng, partitions, brokers_now, rf);
            let grow = rng.next(6);
            let shrink = if grow == 0 && brokers_now > rf + 1 {
                1
            } else {
                0
            };
            let brokers: Vec<i32> = (1 + shrink..=(brokers_now + grow) as i32).collect();
            let racks: HashMap<i32, String> = if case % 3 == 0 {
                brokers
                    .iter()
                    .map(|b| (*b, format!("r{}", b % 3)))
                    .collect()
            } else {
                HashMap::new()
            };
            let options = PlanOptions {
                brokers: brokers.clone(),
                racks: racks.clone(),
                rack_aware: !racks.is_empty(),
                ..Default::default()
            };
            let after = plan(&before, &options).unwrap();
            let (moves, bound) = check(&before, &after, &brokers, &HashMap::new());
            if racks.is_empty() {
                assert!(
                    moves as f64 <= bound as f64 * 1.01 + 1.0,
                    "case {case}: {moves} moves, bound {bound}"
                );
            }
        }
    }

    #[test]
    fn replication_factor_change_keeps_the_leader() {
        let before = vec![
            PartitionAssignment {
                topic: "peter-topic".into(),
                partition: 0,
                replicas: vec![1],
                log_dirs: None,
            },
            PartitionAssignment {
                topic: "peter-topic".into(),
                partition: 1,
                replicas: vec![2],
                log_dirs: None,
            },
        ];
        let options = PlanOptions {
            brokers: vec![1, 2, 3],
            replication_factor: Some(2),
            ..Default::default()
        };
        let after = plan(&before, &options).unwrap();
        assert_eq!(after[0].replicas.len(), 2);
        assert!(after
            .iter()
            .zip(&before)
            .all(|(a, b)| a.replicas.contains(&b.replicas[0])));
    }

    #[test]
    fn hundred_thousand_partitions_over_fifty_to_sixty_brokers() {
        let mut rng = Lcg(7);
        let before = random_cluster(&mut rng, 100_000, 50, 3);
        let brokers: Vec<i32> = (1..=60).collect();
        let started = std::time::Instant::now();
        let after = plan(
            &before,
            &PlanOptions {
                brokers: brokers.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        let elapsed = started.elapsed();
        let (moves, bound) = check(&before, &after, &brokers, &HashMap::new());
        assert!(moves as f64 <= bound as f64 * 1.01, "{moves} vs {bound}");
        eprintln!("100k partitions 50 -> 60 brokers: {moves} moves (bound {bound}) in {elapsed:?}");
    }
}
