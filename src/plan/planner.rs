//! The planner: constraints first (replication factor, distinct brokers, only target
//! brokers, racks), then per-topic and cluster-wide balance of replicas and preferred
//! leaders, or of disk bytes (`Balance::Bytes`), with the fewest moves (or bytes) it can.

use super::model::Model;
use super::quota::{distribute_counting, water_fill, Unit, INELIGIBLE};
use super::report::{self, Spreads};
use super::{bytes, leaders, place, PartitionAssignment};
use serde::Serialize;
use std::collections::HashMap;

/// What the planner balances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Balance {
    /// Replicas and preferred leaders per broker, per topic and cluster-wide, with the
    /// fewest replica moves.
    #[default]
    Count,
    /// Disk bytes per broker within the tolerance, each topic's replicas per broker
    /// within two, with the fewest bytes moved.
    Bytes,
}

impl Balance {
    /// "count" or "bytes".
    pub fn name(self) -> &'static str {
        match self {
            Balance::Count => "count",
            Balance::Bytes => "bytes",
        }
    }
}

/// Partition sizes in bytes: topic → partition → bytes (the largest replica).
pub type PartitionSizes = HashMap<String, HashMap<i32, u64>>;

/// What to plan.
#[derive(Debug, Clone)]
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
    /// Count (default) or bytes.
    pub balance: Balance,
    /// Allowed distance of a broker's bytes from the mean, as a fraction of the mean.
    pub tolerance: f64,
    /// Partition sizes (bytes mode needs them; reports use them).
    pub sizes: PartitionSizes,
    /// Bytes each broker can hold (by id); unknown brokers are unbounded.
    pub capacity: HashMap<i32, u64>,
    /// Move only the replicas on brokers that are not targets (a decommission): nothing
    /// else moves, the drained replicas land where they balance best.
    pub drain_only: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            brokers: Vec::new(),
            racks: HashMap::new(),
            rack_aware: false,
            replication_factor: None,
            balance: Balance::Count,
            tolerance: 0.05,
            sizes: HashMap::new(),
            capacity: HashMap::new(),
            drain_only: false,
        }
    }
}

/// What a plan does and how close it is to the bounds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanReport {
    /// "count" or "bytes".
    pub balance: String,
    /// Replicas placed on a broker that did not hold them.
    pub moves: u64,
    /// No plan that reaches the balance moves fewer replicas: the largest of the
    /// cluster-wide bound, the sum of the per-topic bounds, and what the two balances
    /// force together (a topic's extra replica kept on a broker that has it may unbalance
    /// the cluster; the least such cost is computed exactly, by a maximum flow).
    pub lower_bound: u64,
    /// Replica moves the cluster-wide balance alone needs.
    pub cluster_lower_bound: u64,
    /// Replica moves the per-topic balance alone needs (summed over topics).
    pub topic_lower_bound: u64,
    /// Bytes the moves copy (partition sizes; 0 when unknown).
    pub bytes_to_move: u64,
    /// Bytes any plan must move to bring every broker's disk within the tolerance.
    pub bytes_lower_bound: u64,
    /// The tolerance, as a fraction of the mean.
    pub tolerance: f64,
    /// Partitions whose preferred leader changes.
    pub leaders_changed: u64,
    /// Spreads of the current assignment over the target brokers.
    pub before: Spreads,
    /// Spreads of the plan.
    pub after: Spreads,
}

/// A plan and its report.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The new assignment, in the order of the input.
    pub partitions: Vec<PartitionAssignment>,
    /// What it does.
    pub report: PlanReport,
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

/// The lower bound on replica moves to balance `before` over `brokers` per topic and
/// cluster-wide (replication factors unchanged).
pub fn lower_bound_moves(before: &[PartitionAssignment], brokers: &[i32]) -> usize {
    let Ok(model) = Model::build(before, brokers, &HashMap::new(), false, &|_, _| None) else {
        return 0;
    };
    let totals = topic_totals(&model, &model.replicas);
    let (cluster, topics) = report::move_bounds(&model, &model.replicas, &totals);
    cluster.max(topics) as usize
}

fn topic_totals(model: &Model, replicas: &[Vec<u16>]) -> Vec<u64> {
    model
        .topic_parts
        .iter()
        .map(|parts| {
            parts
                .iter()
                .map(|p| replicas[*p as usize].len() as u64)
                .sum()
        })
        .collect()
}

fn size_lookup(sizes: &PartitionSizes) -> impl Fn(&str, i32) -> Option<u64> + '_ {
    move |topic, partition| sizes.get(topic).and_then(|m| m.get(&partition)).copied()
}

/// Plans a new assignment of `current` over `options.brokers`.
pub fn plan(current: &[PartitionAssignment], options: &PlanOptions) -> Result<Planned, String> {
    if options.brokers.is_empty() {
        return Err("no target brokers".into());
    }
    let mut distinct = options.brokers.clone();
    distinct.sort_unstable();
    if let Some(pair) = distinct.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(format!(
            "broker {} is named twice in brokers: each broker holds at most one replica of a partition",
            pair[0]
        ));
    }
    if !(0.0..1.0).contains(&options.tolerance) {
        return Err(format!(
            "tolerance {} must be a fraction of the mean between 0 and 1 (0.05 is 5%)",
            options.tolerance
        ));
    }
    let lookup = size_lookup(&options.sizes);
    let model = Model::build(
        current,
        &options.brokers,
        &options.racks,
        options.rack_aware,
        &lookup,
    )?;
    let nt = model.n_target;
    let before = model.replicas.clone();
    let mut replicas = before.clone();
    let mut shrinking = false;
    let mut added_bytes = 0u64;
    if let Some(rf) = options.replication_factor {
        if rf == 0 || rf > nt {
            return Err(format!(
                "replication factor {rf} needs between 1 and {nt} target brokers"
            ));
        }
        shrinking = replicas.iter().any(|r| r.len() > rf);
        added_bytes = replicas
            .iter()
            .enumerate()
            .map(|(p, r)| rf.saturating_sub(r.len()) as u64 * model.size[p])
            .sum();
        change_replication_factor(&model, &mut replicas, rf)?;
    }
    if let Some((p, r)) = replicas.iter().enumerate().find(|(_, r)| r.len() > nt) {
        let a = &current[p];
        return Err(format!(
            "{}-{} has {} replicas but there are only {nt} target brokers",
            a.topic,
            a.partition,
            r.len()
        ));
    }
    let capacity: Vec<Option<u64>> = model.broker_ids[..nt]
        .iter()
        .map(|b| options.capacity.get(b).copied())
        .collect();
    let total_bytes: u64 = model.disk(&replicas).iter().sum();
    let capacity_total: Option<u64> = capacity.iter().copied().sum();
    if let Some(cap) = capacity_total {
        if total_bytes > cap {
            return Err(format!(
                "the target brokers cannot hold the data: {} to place, {} of capacity",
                human_bytes(total_bytes),
                human_bytes(cap)
            ));
        }
    }
    let band = report::disk_band(total_bytes, &capacity, options.tolerance);
    let totals = topic_totals(&model, &replicas);
    let original_leaders = model.topic_leaders(&before);
    // The fewest moves the per-topic and cluster balance force together (count mode,
    // replication factors as they are).
    let mut joint_lb = 0;
    match options.balance {
        Balance::Count => {
            let mut counts = model.topic_counts(&replicas);
            if options.drain_only {
                drain(&model, &mut replicas, &mut counts, None);
                even_drained(&model, &before, &mut replicas, &mut counts);
            } else {
                let (quota, joint) = count_quotas(&model, &replicas, &counts);
                if options.replication_factor.is_none() {
                    joint_lb = joint;
                }
                place::place(&model, &mut replicas, &quota, &mut counts);
            }
        }
        Balance::Bytes => {
            bytes::balance(&model, &mut replicas, &band, options.drain_only);
        }
    }
    if let Some((p, _)) = replicas
        .iter()
        .enumerate()
        .find(|(_, r)| r.iter().any(|b| !model.is_target(*b)))
    {
        let a = &current[p];
        return Err(format!(
            "{}-{}: no target broker can take the replicas of brokers being removed (replication factor {} over {nt} brokers{})",
            a.topic,
            a.partition,
            a.replicas.len(),
            if model.n_racks >= 2 { ", racks" } else { "" }
        ));
    }
    let eligible: Vec<bool> = (0..model.n_brokers()).map(|b| b < nt).collect();
    leaders::balance(&model, &mut replicas, &eligible, &original_leaders);

    let (cluster_lb, topic_lb) = if options.drain_only {
        let drained: u64 = before
            .iter()
            .map(|r| r.iter().filter(|b| !model.is_target(**b)).count() as u64)
            .sum();
        (drained, drained)
    } else {
        report::move_bounds(&model, &before, &totals)
    };
    let bytes_lb = if options.drain_only {
        before
            .iter()
            .enumerate()
            .map(|(p, r)| r.iter().filter(|b| !model.is_target(**b)).count() as u64 * model.size[p])
            .sum()
    } else {
        report::bytes_bound(&model, &before, &band, added_bytes, shrinking)
    };
    let report = PlanReport {
        balance: options.balance.name().to_string(),
        moves: report::moves(&before, &replicas),
        lower_bound: cluster_lb.max(topic_lb).max(joint_lb),
        cluster_lower_bound: cluster_lb,
        topic_lower_bound: topic_lb,
        bytes_to_move: report::bytes_moved(&model, &before, &replicas),
        bytes_lower_bound: bytes_lb,
        tolerance: options.tolerance,
        leaders_changed: before
            .iter()
            .zip(&replicas)
            .filter(|(a, b)| a[0] != b[0])
            .count() as u64,
        before: report::spreads(&model, &before),
        after: report::spreads(&model, &replicas),
    };
    let partitions = model.to_assignments(current, &replicas);
    Ok(Planned { partitions, report })
}

/// Reorders replica lists so preferred leaders are balanced, per topic and cluster-wide,
/// over `brokers` (all brokers holding replicas when empty) except `avoid`; no replica
/// moves. A partition whose replicas are all avoided keeps its leader.
pub fn plan_leaders(
    current: &[PartitionAssignment],
    brokers: &[i32],
    avoid: &[i32],
) -> Result<Planned, String> {
    let mut eligible: Vec<i32> = if brokers.is_empty() {
        current
            .iter()
            .flat_map(|p| p.replicas.iter().copied())
            .collect()
    } else {
        brokers.to_vec()
    };
    eligible.sort_unstable();
    eligible.dedup();
    eligible.retain(|b| !avoid.contains(b));
    if eligible.is_empty() {
        return Err("no broker is left to lead: every one is avoided".into());
    }
    let model = Model::build(current, &eligible, &HashMap::new(), false, &|_, _| None)?;
    let before = model.replicas.clone();
    let mut replicas = before.clone();
    let original = model.topic_leaders(&before);
    let is_eligible: Vec<bool> = (0..model.n_brokers()).map(|b| b < model.n_target).collect();
    leaders::balance(&model, &mut replicas, &is_eligible, &original);
    let report = PlanReport {
        balance: "leaders".into(),
        moves: 0,
        lower_bound: 0,
        cluster_lower_bound: 0,
        topic_lower_bound: 0,
        bytes_to_move: 0,
        bytes_lower_bound: 0,
        tolerance: 0.0,
        leaders_changed: before
            .iter()
            .zip(&replicas)
            .filter(|(a, b)| a[0] != b[0])
            .count() as u64,
        before: report::spreads(&model, &before),
        after: report::spreads(&model, &replicas),
    };
    Ok(Planned {
        partitions: model.to_assignments(current, &replicas),
        report,
    })
}

/// Raises or lowers every partition's replica count to `rf` (nothing else moves):
/// dropped replicas are those on brokers leaving, then on the brokers holding the most of
/// the topic (never the preferred leader); added ones go to the target holding the least
/// of the topic, then the least overall, in a rack the partition lacks when rack-aware.
pub fn change_replication_factor_of(
    current: &[PartitionAssignment],
    brokers: &[i32],
    racks: &HashMap<i32, String>,
    rf: usize,
) -> Result<Vec<PartitionAssignment>, String> {
    let model = Model::build(current, brokers, racks, !racks.is_empty(), &|_, _| None)?;
    if rf == 0 || rf > model.n_target {
        return Err(format!(
            "replication factor {rf} needs between 1 and {} brokers",
            model.n_target
        ));
    }
    let mut replicas = model.replicas.clone();
    change_replication_factor(&model, &mut replicas, rf)?;
    Ok(model.to_assignments(current, &replicas))
}

fn change_replication_factor(
    model: &Model,
    replicas: &mut [Vec<u16>],
    rf: usize,
) -> Result<(), String> {
    let n = model.n_brokers();
    let mut counts = model.topic_counts(replicas);
    let mut cluster = vec![0u64; n];
    for r in replicas.iter() {
        for b in r {
            cluster[*b as usize] += 1;
        }
    }
    for (p, r) in replicas.iter_mut().enumerate() {
        let row = model.part_topic[p] as usize * n;
        while r.len() > rf {
            let slot = (1..r.len())
                .max_by_key(|i| {
                    let b = r[*i];
                    (
                        !model.is_target(b),
                        counts[row + b as usize],
                        cluster[b as usize],
                        b,
                    )
                })
                .unwrap_or(0);
            let b = r.remove(slot) as usize;
            counts[row + b] -= 1;
            cluster[b] -= 1;
        }
        while r.len() < rf {
            let used: Vec<u16> = r.iter().map(|b| model.rack[*b as usize]).collect();
            let add = (0..model.n_target as u16)
                .filter(|b| !r.contains(b))
                .min_by_key(|b| {
                    let clash = model.n_racks >= 2 && used.contains(&model.rack[*b as usize]);
                    (clash, counts[row + *b as usize], cluster[*b as usize], *b)
                })
                .ok_or_else(|| format!("no broker left for another replica of partition {p}"))?;
            r.push(add);
            counts[row + add as usize] += 1;
            cluster[add as usize] += 1;
        }
    }
    Ok(())
}

/// Per-topic replica quotas for the targets (topics × brokers, row-major; 0 for brokers
/// leaving): each topic ⌊R/B⌋ or ⌈R/B⌉ per broker, the extras placed so the cluster is
/// even too and as few replicas as possible move. Racks cap what a rack can take; where
/// they force an uneven split (a rack with fewer brokers), the topic's racks are shared
/// as evenly as they allow and brokers within a rack evenly.
///
/// Also returns the fewest replica moves any plan reaching these balances needs: the
/// arrivals up to every broker's base, plus the extras that cannot be free.
fn count_quotas(model: &Model, replicas: &[Vec<u16>], counts: &[u32]) -> (Vec<u32>, u64) {
    let n = model.n_brokers();
    let nt = model.n_target;
    let k = model.n_racks;
    let racks_of_targets: Vec<u16> = if k >= 2 {
        model.rack[..nt].to_vec()
    } else {
        vec![0; nt]
    };
    let rack_size: Vec<u64> = (0..k.max(1))
        .map(|r| {
            racks_of_targets
                .iter()
                .filter(|x| **x as usize == r)
                .count() as u64
        })
        .collect();
    let mut quota = vec![0u32; model.n_topics() * n];
    let mut preload = vec![0u64; nt];
    let mut units: Vec<Unit> = Vec::new();
    let mut unit_topic: Vec<usize> = Vec::new();
    let mut exact = true;
    for t in 0..model.n_topics() {
        let row = t * n;
        let now = &counts[row..row + nt];
        let total: u64 = counts[row..row + n].iter().map(|c| *c as u64).sum();
        let base = total / nt as u64;
        let extras = (total % nt as u64) as usize;
        let mut rack_caps = None;
        if k >= 2 {
            let (lo, hi) = rack_limits(model, replicas, t);
            let uniform = rack_size
                .iter()
                .all(|n_r| base * n_r <= hi && (base + 1) * n_r >= lo)
                && rack_size
                    .iter()
                    .map(|n_r| hi.min((base + 1) * n_r))
                    .sum::<u64>()
                    >= total
                && rack_size.iter().map(|n_r| lo.max(base * n_r)).sum::<u64>() <= total;
            if uniform {
                rack_caps = Some(
                    rack_size
                        .iter()
                        .map(|n_r| (hi - base * n_r) as u32)
                        .collect(),
                );
            } else {
                // Racks of different sizes: shares per rack first, then per broker. The
                // joint bound assumes the shares chosen here, so it is left out.
                exact = false;
                let mut rack_now = vec![0u64; k];
                for b in 0..nt {
                    rack_now[racks_of_targets[b] as usize] += now[b] as u64;
                }
                let shares = water_fill(total, &rack_size, &vec![lo; k], &vec![hi; k], &rack_now);
                for (r, share) in shares.iter().enumerate() {
                    let members: Vec<usize> = (0..nt)
                        .filter(|b| racks_of_targets[*b] as usize == r)
                        .collect();
                    let n_r = members.len() as u64;
                    let rbase = share / n_r;
                    let rextra = (share % n_r) as usize;
                    for &b in &members {
                        quota[row + b] = rbase as u32;
                        preload[b] += rbase;
                    }
                    if rextra > 0 {
                        let mut cost = vec![INELIGIBLE; nt];
                        for &b in &members {
                            cost[b] = u8::from(now[b] as u64 <= rbase);
                        }
                        units.push(Unit {
                            cost,
                            count: rextra,
                            rack_caps: None,
                        });
                        unit_topic.push(t);
                    }
                }
                continue;
            }
        }
        for b in 0..nt {
            quota[row + b] = base as u32;
            preload[b] += base;
        }
        if extras > 0 {
            units.push(Unit {
                cost: now.iter().map(|c| u8::from(*c as u64 <= base)).collect(),
                count: extras,
                rack_caps,
            });
            unit_topic.push(t);
        }
    }
    let mut joint: u64 = (0..model.n_topics())
        .map(|t| {
            (0..nt)
                .map(|b| (quota[t * n + b] as u64).saturating_sub(counts[t * n + b] as u64))
                .sum::<u64>()
        })
        .sum();
    let (chosen, costly) = distribute_counting(&units, &preload, &racks_of_targets);
    joint += costly;
    for (u, brokers) in chosen.iter().enumerate() {
        let row = unit_topic[u] * n;
        for b in brokers {
            quota[row + *b as usize] += 1;
        }
    }
    (quota, if exact { joint } else { 0 })
}

/// How many replicas of topic `t` one rack may hold (lo, hi): with a replication factor
/// up to the number of racks, at most one per partition (exactly one when equal); above
/// it, at least one per partition.
fn rack_limits(model: &Model, replicas: &[Vec<u16>], t: usize) -> (u64, u64) {
    let k = model.n_racks;
    let (mut lo, mut hi) = (0u64, 0u64);
    for p in &model.topic_parts[t] {
        let rf = replicas[*p as usize].len();
        if rf <= k {
            hi += 1;
            if rf == k {
                lo += 1;
            }
        } else {
            hi += (rf - k + 1) as u64;
            lo += 1;
        }
    }
    (lo, hi)
}

/// Moves every replica off the brokers that are not targets, and nothing else: each to
/// the legal target holding the least of its topic, then the least overall (or, with
/// `disk`, the least bytes), largest partitions first.
pub(crate) fn drain(
    model: &Model,
    replicas: &mut [Vec<u16>],
    counts: &mut [u32],
    disk: Option<&mut Vec<u64>>,
) {
    let n = model.n_brokers();
    let mut cluster = vec![0u64; n];
    for r in replicas.iter() {
        for b in r {
            cluster[*b as usize] += 1;
        }
    }
    let mut order: Vec<usize> = (0..replicas.len())
        .filter(|p| replicas[*p].iter().any(|b| !model.is_target(*b)))
        .collect();
    order.sort_by_key(|p| std::cmp::Reverse(model.size[*p]));
    let mut disk = disk;
    for p in order {
        let row = model.part_topic[p] as usize * n;
        for slot in 0..replicas[p].len() {
            let from = replicas[p][slot];
            if model.is_target(from) {
                continue;
            }
            let r = &replicas[p];
            let to = (0..model.n_target as u16)
                .filter(|to| !r.contains(to) && model.rack_allows(r, slot, *to))
                .min_by_key(|to| {
                    let b = *to as usize;
                    let load = match &disk {
                        Some(d) => d[b],
                        None => cluster[b],
                    };
                    (counts[row + b], load, *to)
                });
            if let Some(to) = to {
                let (f, t) = (from as usize, to as usize);
                replicas[p][slot] = to;
                counts[row + f] -= 1;
                counts[row + t] += 1;
                cluster[f] -= 1;
                cluster[t] += 1;
                if let Some(d) = disk.as_deref_mut() {
                    d[f] -= model.size[p];
                    d[t] += model.size[p];
                }
            }
        }
    }
}

/// After a drain: evens out each topic's replicas over the targets (within one where the
/// placement allows) by moving only replicas that were drained (they move anyway, so the
/// moves stay those of the drain): along a chain of brokers, the topic's fullest broker
/// hands a drained replica to the next, ... down to one holding two fewer.
fn even_drained(
    model: &Model,
    original: &[Vec<u16>],
    replicas: &mut [Vec<u16>],
    counts: &mut [u32],
) {
    let n = model.n_brokers();
    let nt = model.n_target;
    for t in 0..model.n_topics() {
        let row = t * n;
        // (partition, slot) of the topic's drained replicas.
        let drained: Vec<(usize, usize)> = model.topic_parts[t]
            .iter()
            .map(|p| *p as usize)
            .flat_map(|p| {
                (0..original[p].len().min(replicas[p].len()))
                    .filter(move |s| !model.is_target(original[p][*s]))
                    .map(move |s| (p, s))
            })
            .collect();
        if drained.is_empty() {
            continue;
        }
        for _round in 0..drained.len() * 2 {
            let hi = (0..nt)
                .max_by_key(|b| (counts[row + b], usize::MAX - b))
                .unwrap_or(0);
            let lo_count = (0..nt).map(|b| counts[row + b]).min().unwrap_or(0);
            if counts[row + hi] <= lo_count + 1 {
                break;
            }
            // BFS over brokers: parent[v] = (u, partition, slot): v takes that replica from u.
            let mut parent: Vec<Option<(usize, usize, usize)>> = vec![None; nt];
            let mut seen = vec![false; nt];
            seen[hi] = true;
            let mut queue = std::collections::VecDeque::from([hi]);
            let mut found = None;
            'bfs: while let Some(u) = queue.pop_front() {
                for &(p, s) in &drained {
                    if replicas[p][s] as usize != u {
                        continue;
                    }
                    for v in 0..nt {
                        if seen[v]
                            || replicas[p].contains(&(v as u16))
                            || !model.rack_allows(&replicas[p], s, v as u16)
                        {
                            continue;
                        }
                        seen[v] = true;
                        parent[v] = Some((u, p, s));
                        if counts[row + v] + 2 <= counts[row + hi] {
                            found = Some(v);
                            break 'bfs;
                        }
                        queue.push_back(v);
                    }
                }
            }
            let Some(mut v) = found else { break };
            while let Some((u, p, s)) = parent[v] {
                replicas[p][s] = v as u16;
                counts[row + u] -= 1;
                counts[row + v] += 1;
                v = u;
            }
        }
    }
}

/// Bytes for people: 1.5 GiB.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
