//! Planner tests: worked examples and property tests over random clusters (proptest,
//! bounded case counts so CI stays fast).

use super::*;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

/// A deterministic pseudo-random source, seeded by proptest.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n.max(1) as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        self.next(1 << 30) as f64 / (1u64 << 30) as f64
    }
}

/// A cluster to plan: the assignment, partition sizes, racks and the target brokers.
#[derive(Debug, Clone)]
struct Case {
    before: Vec<PartitionAssignment>,
    sizes: PartitionSizes,
    racks: HashMap<i32, String>,
    targets: Vec<i32>,
}

/// How the random cluster looks.
#[derive(Debug, Clone, Copy)]
struct Shape {
    seed: u64,
    partitions: usize,
    topics: usize,
    brokers: usize,
    rf: usize,
    /// Kafka-like placement (each topic round-robin from a random start) or random.
    kafka_like: bool,
    racks: usize,
    /// Brokers added (positive) or removed (negative).
    change: i32,
}

fn make_case(shape: Shape) -> Case {
    let mut rng = Lcg(shape.seed);
    let brokers = shape.brokers;
    let rf = shape.rf.min(brokers);
    // Skewed topic sizes: partitions per topic and bytes per partition both vary by
    // orders of magnitude.
    let weights: Vec<f64> = (0..shape.topics)
        .map(|_| (rng.unit() * 5.0).exp())
        .collect();
    let sum: f64 = weights.iter().sum();
    let mut parts_per_topic: Vec<usize> = weights
        .iter()
        .map(|w| ((w / sum) * shape.partitions as f64).round().max(1.0) as usize)
        .collect();
    // A few topics with very big partitions, a few with tiny ones.
    let bytes_per_partition: Vec<f64> = (0..shape.topics)
        .map(|_| 1e6 * (rng.unit() * 6.0).exp())
        .collect();
    parts_per_topic.iter_mut().for_each(|p| *p = (*p).max(1));
    let racks: HashMap<i32, String> = if shape.racks >= 2 {
        (1..=(brokers + shape.change.max(0) as usize) as i32)
            .map(|b| (b, format!("r{}", (b - 1) as usize % shape.racks)))
            .collect()
    } else {
        HashMap::new()
    };
    let mut before = Vec::new();
    let mut sizes: PartitionSizes = HashMap::new();
    for (t, parts) in parts_per_topic.iter().enumerate() {
        let topic = format!("t{t}");
        let start = rng.next(brokers);
        let shift = rng.next(brokers.max(2) - 1);
        for p in 0..*parts {
            let mut replicas: Vec<i32> = Vec::new();
            if shape.kafka_like && racks.is_empty() {
                let first = (start + p) % brokers;
                replicas.push(first as i32 + 1);
                for j in 1..rf {
                    let b = (first + 1 + (shift + p / brokers + j - 1) % (brokers - 1)) % brokers;
                    let mut b = b;
                    while replicas.contains(&(b as i32 + 1)) {
                        b = (b + 1) % brokers;
                    }
                    replicas.push(b as i32 + 1);
                }
            } else if shape.kafka_like {
                // Rack-aware: alternate racks as Kafka does.
                let first = (start + p) % brokers;
                replicas.push(first as i32 + 1);
                let mut b = first;
                while replicas.len() < rf {
                    b = (b + 1 + rng.next(2)) % brokers;
                    let rack = &racks[&(b as i32 + 1)];
                    let used: Vec<&String> = replicas.iter().map(|r| &racks[r]).collect();
                    let distinct = used.iter().collect::<HashSet<_>>().len();
                    if replicas.contains(&(b as i32 + 1))
                        || (used.contains(&rack) && distinct < shape.racks)
                    {
                        continue;
                    }
                    replicas.push(b as i32 + 1);
                }
            } else {
                while replicas.len() < rf {
                    let b = rng.next(brokers) as i32 + 1;
                    if !replicas.contains(&b) {
                        replicas.push(b);
                    }
                }
            }
            before.push(PartitionAssignment {
                topic: topic.clone(),
                partition: p as i32,
                replicas,
                log_dirs: None,
            });
            let size = (bytes_per_partition[t] * (0.5 + rng.unit())) as u64;
            sizes
                .entry(topic.clone())
                .or_default()
                .insert(p as i32, size);
        }
    }
    let targets: Vec<i32> = if shape.change >= 0 {
        (1..=(brokers as i32 + shape.change)).collect()
    } else {
        // Remove brokers from the middle.
        let removed: Vec<i32> = (0..(-shape.change) as usize)
            .map(|i| (1 + i * 2 % brokers) as i32)
            .collect();
        (1..=brokers as i32)
            .filter(|b| !removed.contains(b))
            .collect()
    };
    Case {
        before,
        sizes,
        racks,
        targets,
    }
}

/// Constraints every plan keeps: replicas kept, no broker twice, only targets, racks.
fn check_constraints(case: &Case, options: &PlanOptions, planned: &Planned) {
    assert_eq!(case.before.len(), planned.partitions.len());
    let targets: HashSet<i32> = case.targets.iter().copied().collect();
    let rack_count = case
        .targets
        .iter()
        .filter_map(|b| case.racks.get(b))
        .collect::<HashSet<_>>()
        .len();
    for (b, a) in case.before.iter().zip(&planned.partitions) {
        assert_eq!((&b.topic, b.partition), (&a.topic, a.partition));
        let rf = options.replication_factor.unwrap_or(b.replicas.len());
        assert_eq!(a.replicas.len(), rf, "{a:?}");
        let set: HashSet<i32> = a.replicas.iter().copied().collect();
        assert_eq!(set.len(), a.replicas.len(), "duplicate broker in {a:?}");
        assert!(
            a.replicas.iter().all(|r| targets.contains(r)),
            "{a:?} leaves the targets"
        );
        if options.rack_aware && rack_count >= 2 {
            let racks: HashSet<&String> = a.replicas.iter().map(|r| &case.racks[r]).collect();
            assert_eq!(racks.len(), rf.min(rack_count), "racks of {a:?}");
        }
        if options.drain_only {
            for r in &b.replicas {
                if targets.contains(r) {
                    assert!(
                        a.replicas.contains(r),
                        "{b:?} -> {a:?} moved a replica not drained"
                    );
                }
            }
        }
    }
}

/// Whether every rack holds the same number of target brokers (then balance is possible).
fn even_racks(case: &Case) -> bool {
    let mut per_rack: HashMap<&String, usize> = HashMap::new();
    for b in &case.targets {
        if let Some(r) = case.racks.get(b) {
            *per_rack.entry(r).or_default() += 1;
        }
    }
    per_rack.values().collect::<HashSet<_>>().len() <= 1
}

fn count_options(case: &Case, rack_aware: bool) -> PlanOptions {
    PlanOptions {
        brokers: case.targets.clone(),
        racks: case.racks.clone(),
        rack_aware,
        sizes: case.sizes.clone(),
        ..Default::default()
    }
}

fn check_count_plan(case: &Case, rack_aware: bool) -> Planned {
    let options = count_options(case, rack_aware);
    let planned = plan(&case.before, &options).expect("plan");
    check_constraints(case, &options, &planned);
    let r = &planned.report;
    assert_eq!(
        r.moves as usize,
        replica_moves(&case.before, &planned.partitions)
    );
    if !rack_aware || even_racks(case) {
        assert!(r.after.replicas <= 1, "replicas per broker: {:?}", r.after);
        assert!(r.after.leaders <= 1, "leaders per broker: {:?}", r.after);
        assert!(
            r.after.topic_replicas <= 1,
            "a topic's replicas: {:?}",
            r.after
        );
        assert!(
            r.after.topic_leaders <= 1,
            "a topic's leaders: {:?}",
            r.after
        );
        assert!(
            r.moves as f64 <= r.lower_bound as f64 * 1.01,
            "{} moves, lower bound {} (cluster {}, topics {})",
            r.moves,
            r.lower_bound,
            r.cluster_lower_bound,
            r.topic_lower_bound
        );
    }
    planned
}

fn check_bytes_plan(case: &Case, rack_aware: bool, bound_factor: f64) -> Planned {
    let options = PlanOptions {
        balance: Balance::Bytes,
        ..count_options(case, rack_aware)
    };
    let planned = plan(&case.before, &options).expect("plan");
    check_constraints(case, &options, &planned);
    let r = &planned.report;
    assert!(
        r.after.disk_percent <= options.tolerance * 100.0 + 0.01,
        "disk {}% from the mean, before {}%",
        r.after.disk_percent,
        r.before.disk_percent
    );
    assert!(
        r.after.topic_replicas <= 2,
        "a topic's replicas: {:?}",
        r.after.topic_replicas
    );
    // The bound counts bytes, not replicas: where a broker's share is only a few dozen
    // partitions (one partition over 2% of it), the bands force exchanges it does not see,
    // so there only the constraints and the tolerance are checked.
    let largest = case
        .sizes
        .values()
        .flat_map(|m| m.values())
        .max()
        .copied()
        .unwrap_or(0);
    let share: u64 =
        r.after.brokers.iter().map(|b| b.bytes).sum::<u64>() / case.targets.len() as u64;
    if largest as f64 <= share as f64 * 0.02 {
        assert!(
            r.bytes_to_move as f64 <= r.bytes_lower_bound as f64 * bound_factor,
            "{} bytes moved, lower bound {}",
            r.bytes_to_move,
            r.bytes_lower_bound
        );
    }
    planned
}

#[test]
fn scale_out_3_to_5_moves_the_minimum() {
    let before: Vec<PartitionAssignment> = (0..5)
        .map(|i| PartitionAssignment {
            topic: "peter5".into(),
            partition: i,
            replicas: [[2, 3], [3, 1], [1, 2], [2, 1], [3, 2]][i as usize].to_vec(),
            log_dirs: None,
        })
        .collect();
    let planned = plan(
        &before,
        &PlanOptions {
            brokers: vec![1, 2, 3, 4, 5],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(planned.report.moves, planned.report.lower_bound);
    assert_eq!(planned.report.lower_bound, 4);
    assert!(planned.report.after.leaders <= 1);
}

/// The example: 20 topics × 300 partitions at RF 3 from brokers 1–6 onto 1–9.
/// Every topic ends spread over all nine brokers, at the lower bound of moves.
#[test]
fn every_topic_spreads_over_the_new_brokers() {
    let mut before = Vec::new();
    for t in 0..20 {
        for p in 0..300 {
            let first = (t + p) % 6;
            before.push(PartitionAssignment {
                topic: format!("t{t}"),
                partition: p,
                replicas: vec![first + 1, (first + 1) % 6 + 1, (first + 2) % 6 + 1],
                log_dirs: None,
            });
        }
    }
    let planned = plan(
        &before,
        &PlanOptions {
            brokers: (1..=9).collect(),
            ..Default::default()
        },
    )
    .unwrap();
    let r = &planned.report;
    assert_eq!(r.moves, 6000);
    assert_eq!(r.lower_bound, 6000);
    assert_eq!(r.after.topic_replicas, 0, "{:?}", r.after);
    assert!(r.after.topic_leaders <= 1);
    let t0_on_7 = planned
        .partitions
        .iter()
        .filter(|p| p.topic == "t0" && p.replicas.contains(&7))
        .count();
    assert_eq!(t0_on_7, 100);
}

#[test]
fn replication_factor_change_keeps_the_leader() {
    let before: Vec<PartitionAssignment> = (0..2)
        .map(|i| PartitionAssignment {
            topic: "peter-topic".into(),
            partition: i,
            replicas: vec![i + 1],
            log_dirs: None,
        })
        .collect();
    let after = change_replication_factor_of(&before, &[1, 2, 3], &HashMap::new(), 2).unwrap();
    assert!(after.iter().all(|p| p.replicas.len() == 2));
    assert!(after
        .iter()
        .zip(&before)
        .all(|(a, b)| a.replicas[0] == b.replicas[0]));
    let planned = plan(
        &before,
        &PlanOptions {
            brokers: vec![1, 2, 3],
            replication_factor: Some(2),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(planned.partitions.iter().all(|p| p.replicas.len() == 2));
    assert!(planned.report.moves >= 2);
}

#[test]
fn a_broker_too_few_is_refused() {
    let before = vec![PartitionAssignment {
        topic: "t".into(),
        partition: 0,
        replicas: vec![1, 2, 3],
        log_dirs: None,
    }];
    let err = plan(
        &before,
        &PlanOptions {
            brokers: vec![1, 2],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        err.contains("3 replicas but there are only 2 target brokers"),
        "{err}"
    );
}

#[test]
fn capacity_too_small_is_refused() {
    let before = vec![PartitionAssignment {
        topic: "t".into(),
        partition: 0,
        replicas: vec![1, 2],
        log_dirs: None,
    }];
    let mut sizes: PartitionSizes = HashMap::new();
    sizes.entry("t".into()).or_default().insert(0, 1000);
    let err = plan(
        &before,
        &PlanOptions {
            brokers: vec![1, 2],
            sizes,
            capacity: [(1, 600), (2, 600)].into_iter().collect(),
            balance: Balance::Bytes,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.contains("cannot hold the data"), "{err}");
}

#[test]
fn drain_moves_only_the_drained_replicas_and_lands_them_evenly() {
    let case = make_case(Shape {
        seed: 3,
        partitions: 3000,
        topics: 20,
        brokers: 8,
        rf: 3,
        kafka_like: true,
        racks: 0,
        change: -1,
    });
    let options = PlanOptions {
        drain_only: true,
        ..count_options(&case, false)
    };
    let planned = plan(&case.before, &options).unwrap();
    check_constraints(&case, &options, &planned);
    assert_eq!(planned.report.moves, planned.report.lower_bound);
    assert!(planned.report.after.replicas <= planned.report.before.replicas + 2);
}

/// Kafka's placement of 12 partitions at RF 2 over brokers 1-4, broker 4 drained: its six
/// replicas land two on each of 1-3 (a greedy order alone can leave 9/8/7).
#[test]
fn a_drained_broker_lands_evenly_per_topic() {
    let before: Vec<PartitionAssignment> = (0..12)
        .map(|p| PartitionAssignment {
            topic: "si-a".into(),
            partition: p,
            replicas: vec![p % 4 + 1, (p + 1 + p / 4) % 4 + 1],
            log_dirs: None,
        })
        .filter(|a| a.replicas[0] != a.replicas[1])
        .collect();
    let planned = plan(
        &before,
        &PlanOptions {
            brokers: vec![1, 2, 3],
            drain_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let r = &planned.report;
    assert_eq!(r.moves, r.lower_bound, "{r:?}");
    assert!(r.after.topic_replicas <= 1, "{:?}", r.after);
    assert_only_drained_moved(&before, &planned.partitions, 4);
}

/// Every replica not on the `drained` broker stays where it was.
fn assert_only_drained_moved(
    before: &[PartitionAssignment],
    after: &[PartitionAssignment],
    drained: i32,
) {
    for (a, b) in before.iter().zip(after) {
        let kept: Vec<&i32> = a.replicas.iter().filter(|x| **x != drained).collect();
        assert!(
            kept.iter().all(|x| b.replicas.contains(x)),
            "{a:?} -> {b:?}"
        );
    }
}

/// A drain by bytes: broker 4's replicas (sizes 1, 2, 3, 10, 11 and 12 units, as the scale-in
/// test places them) land with every disk within the tolerance. Largest-first alone left
/// 23% (broker 1 could take only two of them, and took the smallest); the drained replicas
/// then trade destinations. Only they move.
#[test]
fn a_drain_by_bytes_lands_within_the_tolerance() {
    let lists = [
        [4, 2],
        [4, 1],
        [4, 1],
        [1, 3],
        [2, 3],
        [2, 3],
        [3, 2],
        [3, 2],
        [3, 1],
        [1, 4],
        [1, 4],
        [2, 4],
    ];
    let before: Vec<PartitionAssignment> = (0..12)
        .map(|p| PartitionAssignment {
            topic: "si-b".into(),
            partition: p as i32,
            replicas: lists[p].to_vec(),
            log_dirs: None,
        })
        .collect();
    // The sizes DescribeLogDirs reported in that test (with round sizes the greedy order
    // happened to fit).
    let measured = [
        100_997, 201_997, 302_997, 403_997, 504_997, 605_997, 706_997, 807_997, 908_997, 1_010_048,
        1_110_994, 1_211_994,
    ];
    let mut sizes: PartitionSizes = HashMap::new();
    sizes
        .entry("si-b".into())
        .or_default()
        .extend((0..12).map(|p| (p as i32, measured[p])));
    let planned = plan(
        &before,
        &PlanOptions {
            brokers: vec![1, 2, 3],
            drain_only: true,
            balance: Balance::Bytes,
            tolerance: 0.05,
            sizes,
            ..Default::default()
        },
    )
    .unwrap();
    let r = &planned.report;
    assert_eq!(r.moves, 6, "{r:?}");
    assert!(r.after.disk_percent <= 5.0, "{:?}", r.after);
    assert!(r.after.topic_replicas <= 2, "{:?}", r.after);
    assert_only_drained_moved(&before, &planned.partitions, 4);
}

#[test]
fn hundred_thousand_partitions_over_fifty_to_sixty_brokers() {
    let case = make_case(Shape {
        seed: 7,
        partitions: 100_000,
        topics: 100,
        brokers: 50,
        rf: 3,
        kafka_like: false,
        racks: 0,
        change: 10,
    });
    check_count_plan(&case, false);
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        any::<u64>(),
        50usize..4000,
        1usize..100,
        3usize..16,
        1usize..=3,
        any::<bool>(),
        prop_oneof![Just(0usize), 2usize..=3],
        -2i32..=6,
    )
        .prop_map(
            |(seed, partitions, topics, brokers, rf, kafka_like, racks, change)| Shape {
                seed,
                partitions,
                topics,
                brokers,
                rf,
                kafka_like,
                racks,
                change: if brokers as i32 + change < rf as i32 + 1 {
                    1
                } else {
                    change
                },
            },
        )
}

proptest! {
    // A fixed seed: CI explores the same 48 clusters every run (reproducible); a failure
    // found by another seed goes to proptest-regressions or an ignored test below.
    #![proptest_config(ProptestConfig {
        cases: 48,
        max_shrink_iters: 64,
        rng_seed: proptest::test_runner::RngSeed::Fixed(16),
        ..ProptestConfig::default()
    })]

    #[test]
    fn count_plans_are_valid_balanced_and_near_the_bound(shape in shape()) {
        let case = make_case(shape);
        // The bound holds only when the placement was rack-aware to begin with.
        let rack_aware = shape.racks >= 2;
        if rack_aware && !shape.kafka_like {
            let options = count_options(&case, true);
            let planned = plan(&case.before, &options).expect("plan");
            check_constraints(&case, &options, &planned);
        } else {
            check_count_plan(&case, rack_aware);
        }
    }

    /// Bytes need partitions small next to a broker's share: at least ~150 per broker.
    #[test]
    fn bytes_plans_are_valid_within_tolerance_and_near_the_bytes_bound(shape in shape()) {
        let shape = Shape { partitions: shape.partitions.max(150 * shape.brokers), ..shape };
        let case = make_case(shape);
        // Known gap: a start placed rack-aware over racks of unequal sizes (13 brokers in
        // 3 racks) leaves topics skewed so that the count phase's smallest-first moves and
        // the disk phase overlap; there the planner lands at about 1.25-1.27 x the bound.
        let uneven_racks = shape.kafka_like && shape.racks >= 2 && !shape.brokers.is_multiple_of(shape.racks);
        check_bytes_plan(&case, false, if uneven_racks { 1.3 } else { 1.25 });
    }
}

fn large_case(seed: u64) -> Case {
    make_case(Shape {
        seed,
        partitions: 100_000,
        topics: 100,
        brokers: 30,
        rf: 3,
        kafka_like: seed.is_multiple_of(2),
        racks: 0,
        change: if seed.is_multiple_of(3) { -3 } else { 6 },
    })
}

/// 100,000 partitions over 30 brokers, scale-out to 36 and scale-in to 27, Kafka-like and
/// random placements, by count and by bytes (fixed seeds: each case takes seconds in a
/// debug build).
#[test]
fn large_clusters_plan_well() {
    for (seed, bytes) in [(1, true), (2, false), (3, true), (4, true), (5, false)] {
        let case = large_case(seed);
        if bytes {
            check_bytes_plan(&case, false, 1.25);
        } else {
            check_count_plan(&case, false);
        }
    }
}

/// From a random placement on 3 brokers (RF 3) onto 9: cluster-wide preferred leaders end
/// within one only through chains that pass a topic's partition on at a broker that takes
/// another of the same topic (a search over brokers alone ended 213 vs 210).
#[test]
fn random_placement_three_to_nine_brokers_balances_leaders() {
    check_count_plan(
        &make_case(Shape {
            seed: 2_392_476_404_564_819_142,
            partitions: 1899,
            topics: 26,
            brokers: 3,
            rf: 3,
            kafka_like: false,
            racks: 0,
            change: 6,
        }),
        false,
    );
}

/// From a random placement onto 6 new brokers, which reach the top of every topic's band
/// with small replicas: exchanges within topics bring them to the tolerance, found only
/// when the big topics whose biggest replicas already sit on the new brokers are not
/// searched (they stopped at 93.6% of the mean disk).
#[test]
fn random_placement_scale_out_by_bytes_reaches_tolerance() {
    check_bytes_plan(&large_case(4_107_817_323_157_677_611), false, 1.25);
}

/// Kafka-like placements (each topic round-robin) from 50 onto 60 brokers: every topic
/// and the cluster balanced at exactly the lower bound.
#[test]
fn kafka_like_scale_out_reaches_the_bound() {
    let b = 50usize;
    let mut before = Vec::new();
    let mut rng = Lcg(1);
    for t in 0..300 {
        let start = rng.next(b);
        let shift = 1 + rng.next(b - 2);
        for p in 0..100usize {
            let a = (start + p) % b;
            let x = (a + 1 + (shift + p / b) % (b - 2)) % b;
            let mut c = (x + 1) % b;
            if c == a {
                c = (c + 1) % b;
            }
            before.push(PartitionAssignment {
                topic: format!("t{t}"),
                partition: p as i32,
                replicas: vec![a as i32 + 1, x as i32 + 1, c as i32 + 1],
                log_dirs: None,
            });
        }
    }
    let planned = plan(
        &before,
        &PlanOptions {
            brokers: (1..=60).collect(),
            ..Default::default()
        },
    )
    .unwrap();
    let r = &planned.report;
    assert_eq!(r.moves, r.lower_bound, "{r:?}");
    assert!(r.lower_bound >= r.topic_lower_bound.max(r.cluster_lower_bound));
    assert_eq!((r.after.replicas, r.after.leaders), (0, 0));
    assert!(r.after.topic_replicas <= 1 && r.after.topic_leaders <= 1);
}

/// Empty partitions (size 0, common on real clusters) beside big ones, by bytes: every
/// constraint holds (the exchange search once asked a BTreeSet for a range whose start was
/// past its end and panicked, seen on a real scale-out).
#[test]
fn empty_partitions_plan_by_bytes() {
    for seed in 1..=24u64 {
        let mut case = make_case(Shape {
            seed,
            partitions: 300,
            topics: 6,
            brokers: 3,
            rf: 2,
            kafka_like: seed.is_multiple_of(2),
            racks: 0,
            change: 2,
        });
        for (i, size) in case
            .sizes
            .values_mut()
            .flat_map(|m| m.values_mut())
            .enumerate()
        {
            if i % 3 != 0 {
                *size = 0;
            }
        }
        let options = PlanOptions {
            balance: Balance::Bytes,
            ..count_options(&case, false)
        };
        let planned = plan(&case.before, &options).expect("plan");
        check_constraints(&case, &options, &planned);
    }
}
