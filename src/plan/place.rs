//! Replica placement by count: per-topic quotas in, replica moves out. A replica moves only
//! from a broker above its quota for the topic (or one leaving) to a broker below it, so
//! the moves equal Σ (quota − now)⁺ unless a partition's other replicas (or racks) leave no
//! legal destination; then a two-step move through a third broker, and as a last resort
//! any legal broker.

use super::model::Model;

/// Brings every topic's replica counts to `quota` (row-major, topics × brokers), fixing
/// rack violations on the way. `counts` is kept current.
pub(crate) fn place(model: &Model, replicas: &mut [Vec<u16>], quota: &[u32], counts: &mut [u32]) {
    let n = model.n_brokers();
    for t in 0..model.n_topics() {
        let row = t * n;
        let parts = &model.topic_parts[t];
        let surplus = |counts: &[u32], b: usize| counts[row + b] > quota[row + b];
        let deficit = |counts: &[u32], b: usize| counts[row + b] < quota[row + b];
        let balanced = |counts: &[u32]| (0..n).all(|b| counts[row + b] == quota[row + b]);
        // Rack violations first: they must move whatever the counts say.
        if model.n_racks >= 2 {
            for &p in parts {
                let p = p as usize;
                while !model.racks_ok(&replicas[p]) {
                    if !fix_racks(
                        model,
                        &mut replicas[p],
                        &mut counts[row..row + n],
                        &quota[row..row + n],
                    ) {
                        break;
                    }
                }
            }
        }
        if balanced(counts) {
            continue;
        }
        // Direct moves: source above quota, destination below.
        let mut sinks: Vec<usize> = (0..model.n_target)
            .filter(|b| deficit(counts, *b))
            .collect();
        // (partition, slot, broker it came from) of every move made here.
        let mut moved: Vec<(usize, usize, usize)> = Vec::new();
        for &p in parts {
            if sinks.is_empty() {
                break;
            }
            let p = p as usize;
            for slot in 0..replicas[p].len() {
                let from = replicas[p][slot] as usize;
                if !surplus(counts, from) {
                    continue;
                }
                let r = &replicas[p];
                let mut best: Option<(bool, u32, usize)> = None;
                for &to in &sinks {
                    if !deficit(counts, to)
                        || r.contains(&(to as u16))
                        || !model.rack_allows(r, slot, to as u16)
                    {
                        continue;
                    }
                    let key = (
                        model.rack[to] == model.rack[from],
                        quota[row + to] - counts[row + to],
                        usize::MAX - to,
                    );
                    if best.is_none_or(|b| key > b) {
                        best = Some(key);
                    }
                }
                if let Some((_, _, inv)) = best {
                    let to = usize::MAX - inv;
                    replicas[p][slot] = to as u16;
                    counts[row + from] -= 1;
                    counts[row + to] += 1;
                    moved.push((p, slot, from));
                    if !deficit(counts, to) {
                        sinks.retain(|b| *b != to);
                    }
                }
            }
        }
        if balanced(counts) {
            continue;
        }
        reroute(
            model,
            replicas,
            parts,
            &mut counts[row..row + n],
            &quota[row..row + n],
            &mut moved,
        );
        if balanced(counts) {
            continue;
        }
        two_step(
            model,
            replicas,
            parts,
            &mut counts[row..row + n],
            &quota[row..row + n],
        );
        // Last resort for replicas that must leave (a broker being removed): any legal
        // target, the least loaded for the topic.
        for &p in parts {
            let p = p as usize;
            for slot in 0..replicas[p].len() {
                let from = replicas[p][slot];
                if model.is_target(from) {
                    continue;
                }
                let r = &replicas[p];
                let to = (0..model.n_target as u16)
                    .filter(|to| !r.contains(to) && model.rack_allows(r, slot, *to))
                    .min_by_key(|to| (counts[row + *to as usize], *to));
                if let Some(to) = to {
                    replicas[p][slot] = to;
                    counts[row + from as usize] -= 1;
                    counts[row + to as usize] += 1;
                }
            }
        }
    }
}

/// Moves one replica of a partition whose racks repeat to a broker in a rack it lacks
/// (below quota if one is, else the least loaded). False when no broker can take it.
fn fix_racks(model: &Model, r: &mut [u16], counts: &mut [u32], quota: &[u32]) -> bool {
    // The replica to move: one that shares its rack with another, preferably the one
    // whose broker is furthest above its quota (or not a target).
    let slot = (0..r.len())
        .filter(|i| {
            let rack = model.rack[r[*i] as usize];
            r.iter()
                .enumerate()
                .any(|(j, b)| j != *i && model.rack[*b as usize] == rack)
        })
        .max_by_key(|i| {
            let b = r[*i] as usize;
            (
                !model.is_target(r[*i]),
                counts[b] as i64 - quota[b] as i64,
                *i,
            )
        });
    let Some(slot) = slot else { return false };
    let from = r[slot] as usize;
    let to = (0..model.n_target)
        .filter(|to| {
            !r.contains(&(*to as u16))
                && !r
                    .iter()
                    .enumerate()
                    .any(|(j, b)| j != slot && model.rack[*b as usize] == model.rack[*to])
        })
        .min_by_key(|to| {
            (
                counts[*to] >= quota[*to],
                counts[*to] as i64 - quota[*to] as i64,
                *to,
            )
        });
    let Some(to) = to else { return false };
    r[slot] = to as u16;
    counts[from] -= 1;
    counts[to] += 1;
    true
}

/// For a source s above quota and a sink d below it that no single move connects (every
/// partition on s already has d): an earlier move x → y of partition p1 goes to d instead,
/// and a partition p2 on s gives y its replica. Same number of moves as if s → d had been
/// possible.
fn reroute(
    model: &Model,
    replicas: &mut [Vec<u16>],
    parts: &[u32],
    counts: &mut [u32],
    quota: &[u32],
    moved: &mut [(usize, usize, usize)],
) {
    let mut budget: i64 = 2_000_000;
    'again: loop {
        let sources: Vec<usize> = (0..counts.len())
            .filter(|b| counts[*b] > quota[*b])
            .collect();
        let sinks: Vec<usize> = (0..model.n_target)
            .filter(|b| counts[*b] < quota[*b])
            .collect();
        for &s in &sources {
            for &d in &sinks {
                for &(p1, i, _) in moved.iter() {
                    budget -= 1;
                    if budget < 0 {
                        return;
                    }
                    let y = replicas[p1][i];
                    if replicas[p1].contains(&(d as u16))
                        || !model.rack_allows(&replicas[p1], i, d as u16)
                    {
                        continue;
                    }
                    for &p2 in parts {
                        let p2 = p2 as usize;
                        budget -= 1;
                        if p2 == p1 || replicas[p2].contains(&y) {
                            continue;
                        }
                        let Some(j) = replicas[p2].iter().position(|b| *b as usize == s) else {
                            continue;
                        };
                        if !model.rack_allows(&replicas[p2], j, y) {
                            continue;
                        }
                        replicas[p1][i] = d as u16;
                        replicas[p2][j] = y;
                        counts[s] -= 1;
                        counts[d] += 1;
                        continue 'again;
                    }
                }
            }
        }
        return;
    }
}

/// For a source above quota and a sink below it that no single move connects (every
/// partition on the source already has the sink, or racks forbid it): move a replica from
/// the source to a third broker m and another of m's replicas to the sink. Two moves for
/// one, so only where the direct pass failed. Bounded work per topic.
fn two_step(
    model: &Model,
    replicas: &mut [Vec<u16>],
    parts: &[u32],
    counts: &mut [u32],
    quota: &[u32],
) {
    let mut budget: i64 = 4_000_000;
    'pairs: loop {
        let sources: Vec<usize> = (0..counts.len())
            .filter(|b| counts[*b] > quota[*b])
            .collect();
        let sinks: Vec<usize> = (0..model.n_target)
            .filter(|b| counts[*b] < quota[*b])
            .collect();
        for &from in &sources {
            for &to in &sinks {
                if budget < 0 {
                    return;
                }
                if two_step_one(model, replicas, parts, counts, from, to, &mut budget) {
                    continue 'pairs;
                }
            }
        }
        return;
    }
}

/// One two-step move from `from` to `to`; false when there is none.
fn two_step_one(
    model: &Model,
    replicas: &mut [Vec<u16>],
    parts: &[u32],
    counts: &mut [u32],
    from: usize,
    to: usize,
    budget: &mut i64,
) -> bool {
    for &p1 in parts {
        let p1 = p1 as usize;
        let Some(s1) = replicas[p1].iter().position(|b| *b as usize == from) else {
            continue;
        };
        for m in 0..model.n_target {
            *budget -= 1;
            if *budget < 0 {
                return false;
            }
            if m == from
                || m == to
                || replicas[p1].contains(&(m as u16))
                || !model.rack_allows(&replicas[p1], s1, m as u16)
            {
                continue;
            }
            for &p2 in parts {
                let p2 = p2 as usize;
                *budget -= 1;
                if p2 == p1 || replicas[p2].contains(&(to as u16)) {
                    continue;
                }
                let Some(s2) = replicas[p2].iter().position(|b| *b as usize == m) else {
                    continue;
                };
                if !model.rack_allows(&replicas[p2], s2, to as u16) {
                    continue;
                }
                replicas[p1][s1] = m as u16;
                replicas[p2][s2] = to as u16;
                counts[from] -= 1;
                counts[to] += 1;
                return true;
            }
        }
    }
    false
}
