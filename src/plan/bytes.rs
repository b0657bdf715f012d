//! Replica placement by disk bytes: every target broker's bytes within its band (the mean
//! or its capacity, ± the tolerance), each topic's replicas per broker within two of each
//! other, with as few bytes moved as it can.
//!
//! Phases: replicas on brokers leaving (and rack violations) move first, largest first, to
//! the broker with the most room; then each topic's counts are brought into their band
//! [⌊R/B⌋ − 1, ⌊R/B⌋ + 1], moving small replicas unless the bytes are wanted; then, while a
//! broker is outside its disk band, the most loaded broker gives the most empty one the
//! replica whose size best covers what is missing without pushing either out of its band.
//! A drain (only the leaving brokers' replicas move) instead lets the replicas it placed
//! trade destinations until the disks are in their bands.

use super::model::Model;
use std::collections::BTreeSet;

/// The bands a topic's replicas per target broker may take: width two around the mean
/// R/B (up to three choices, lowest first).
pub(crate) fn band_choices(total: u64, targets: u64) -> Vec<(u32, u32)> {
    let floor = total / targets;
    let ceil = total.div_ceil(targets);
    (ceil.saturating_sub(2)..=floor)
        .map(|lo| (lo as u32, lo as u32 + 2))
        .collect()
}

/// Each topic's band of replicas per target broker: the choice that asks the fewest
/// replicas to move given where they are now.
pub(crate) fn topic_bands(model: &Model, replicas: &[Vec<u16>]) -> Vec<(u32, u32)> {
    let n = model.n_brokers();
    let nt = model.n_target;
    let counts = model.topic_counts(replicas);
    (0..model.n_topics())
        .map(|t| {
            let row = &counts[t * n..(t + 1) * n];
            let total: u64 = row.iter().map(|c| *c as u64).sum();
            let leaving: u64 = row[nt..].iter().map(|c| *c as u64).sum();
            band_choices(total, nt as u64)
                .into_iter()
                .min_by_key(|(lo, hi)| {
                    let short: u64 = row[..nt].iter().map(|c| lo.saturating_sub(*c) as u64).sum();
                    let over: u64 = row[..nt].iter().map(|c| c.saturating_sub(*hi) as u64).sum();
                    short.max(over + leaving)
                })
                .unwrap_or((0, 2))
        })
        .collect()
}

struct State<'a> {
    model: &'a Model,
    replicas: &'a mut [Vec<u16>],
    counts: Vec<u32>,
    disk: Vec<u64>,
    /// (size, partition) of the replicas of each topic on each broker (broker × topics
    /// + topic).
    on: Vec<BTreeSet<(u64, u32)>>,
    band: &'a [(u64, u64)],
    topic_band: Vec<(u32, u32)>,
}

impl State<'_> {
    fn n(&self) -> usize {
        self.model.n_brokers()
    }

    fn count(&self, p: usize, b: usize) -> u32 {
        self.counts[self.model.part_topic[p] as usize * self.n() + b]
    }

    fn topic_band_of(&self, p: usize) -> (u32, u32) {
        self.topic_band[self.model.part_topic[p] as usize]
    }

    /// Whether `p`'s replica in `slot` may move to `to` (constraints and topic band).
    fn legal(&self, p: usize, slot: usize, to: usize) -> bool {
        let r = &self.replicas[p];
        let from = r[slot] as usize;
        let (lo, hi) = self.topic_band_of(p);
        self.model.is_target(to as u16)
            && !r.contains(&(to as u16))
            && self.model.rack_allows(r, slot, to as u16)
            && self.count(p, to) < hi
            && (!self.model.is_target(from as u16) || self.count(p, from) > lo)
    }

    fn apply(&mut self, p: usize, slot: usize, to: usize) {
        let n = self.n();
        let from = self.replicas[p][slot] as usize;
        let size = self.model.size[p];
        let row = self.model.part_topic[p] as usize * n;
        self.replicas[p][slot] = to as u16;
        self.counts[row + from] -= 1;
        self.counts[row + to] += 1;
        self.disk[from] -= size;
        self.disk[to] += size;
        let t = self.model.part_topic[p] as usize;
        let topics = self.model.n_topics();
        self.on[from * topics + t].remove(&(size, p as u32));
        self.on[to * topics + t].insert((size, p as u32));
    }

    /// Room of target `b` below its upper bound (negative when above).
    fn room(&self, b: usize) -> i128 {
        self.band[b].1 as i128 - self.disk[b] as i128
    }

    /// Bytes `b` may give without going below its lower bound.
    fn spare(&self, b: usize) -> i128 {
        self.disk[b] as i128 - self.band[b].0 as i128
    }

    fn target(&self, b: usize) -> i128 {
        (self.band[b].0 as i128 + self.band[b].1 as i128) / 2
    }

    /// How far `bytes` on target `b` is outside its band.
    fn deviation(&self, b: usize, bytes: i128) -> i128 {
        let (lo, hi) = (self.band[b].0 as i128, self.band[b].1 as i128);
        (bytes - hi).max(0) + (lo - bytes).max(0)
    }

    /// What moving `size` bytes from `from` to `to` is worth: (the bytes outside the bands
    /// it removes minus the bytes it copies, the bytes outside it removes). Bytes that
    /// bring a broker into its band must move anyway, so they are free; a move that only
    /// serves a topic's count costs its size.
    fn worth(&self, from: usize, to: usize, size: i128) -> (i128, i128) {
        let (x, y) = (self.disk[from] as i128, self.disk[to] as i128);
        // A byte that takes a broker toward its band is needed once however many ends it
        // helps: the bound counts departures or arrivals, not both.
        let at_source = if self.model.is_target(from as u16) {
            self.deviation(from, x) - self.deviation(from, x - size)
        } else {
            size
        };
        let at_destination = self.deviation(to, y) - self.deviation(to, y + size);
        let helps = at_source.max(at_destination).clamp(0, size);
        // Count moves take the smallest replicas (the disk phase moves what the disks
        // still need afterwards); among those, one that helps a disk is worth a little.
        (
            helps / 2 - size + 2 * (at_source.min(0) + at_destination.min(0)),
            helps,
        )
    }
}

/// Balances `replicas` by bytes within `band` (per target: low, high). With `drain_only`,
/// only replicas on brokers that are not targets move.
pub(crate) fn balance(
    model: &Model,
    replicas: &mut [Vec<u16>],
    band: &[(u64, u64)],
    drain_only: bool,
) {
    let n = model.n_brokers();
    let counts = model.topic_counts(replicas);
    let disk = model.disk(replicas);
    let topics = model.n_topics();
    let mut on: Vec<BTreeSet<(u64, u32)>> = vec![BTreeSet::new(); n * topics];
    for (p, r) in replicas.iter().enumerate() {
        let t = model.part_topic[p] as usize;
        for b in r {
            on[*b as usize * topics + t].insert((model.size[p], p as u32));
        }
    }
    let topic_band = topic_bands(model, replicas);
    let mut s = State {
        model,
        replicas,
        counts,
        disk,
        on,
        band,
        topic_band,
    };
    let original: Vec<Vec<u16>> = s.replicas.to_vec();
    evacuate(&mut s);
    if drain_only {
        settle_drained(&mut s, &original);
        return;
    }
    fix_racks(&mut s);
    topic_counts(&mut s);
    disk_balance(&mut s);
    take_back(&mut s, &original);
}

/// Moves the phases made that the end state does not need: a replica goes back to the
/// broker it started on when both brokers stay inside their disk bands and the topic's
/// band (a count move the disk phase later compensated, for example). Largest first, as
/// those save the most bytes; repeated while anything goes back.
fn take_back(s: &mut State, original: &[Vec<u16>]) {
    let mut order: Vec<usize> = (0..s.replicas.len())
        .filter(|p| s.replicas[*p] != original[*p])
        .collect();
    order.sort_by_key(|p| std::cmp::Reverse(s.model.size[*p]));
    loop {
        let mut undone = false;
        for &p in &order {
            let size = s.model.size[p] as i128;
            for slot in 0..s.replicas[p].len() {
                let now = s.replicas[p][slot] as usize;
                if original[p].contains(&(now as u16)) {
                    continue;
                }
                let Some(home) = original[p]
                    .iter()
                    .map(|b| *b as usize)
                    .find(|b| !s.replicas[p].contains(&(*b as u16)))
                else {
                    continue;
                };
                if !s.legal(p, slot, home) {
                    continue;
                }
                let (x, y) = (s.disk[now] as i128, s.disk[home] as i128);
                let worse = s.deviation(now, x - size) > s.deviation(now, x)
                    || s.deviation(home, y + size) > s.deviation(home, y);
                if !worse {
                    s.apply(p, slot, home);
                    undone = true;
                }
            }
        }
        if !undone {
            return;
        }
    }
}

/// Replicas on brokers leaving: largest first, each to the legal target with the most room
/// (preferring one where the topic is below its band's top).
fn evacuate(s: &mut State) {
    let mut order: Vec<usize> = (0..s.replicas.len())
        .filter(|p| s.replicas[*p].iter().any(|b| !s.model.is_target(*b)))
        .collect();
    order.sort_by_key(|p| std::cmp::Reverse(s.model.size[*p]));
    for p in order {
        for slot in 0..s.replicas[p].len() {
            if s.model.is_target(s.replicas[p][slot]) {
                continue;
            }
            if let Some(to) = best_home(s, p, slot) {
                s.apply(p, slot, to);
            }
        }
    }
}

/// After a drain: the replicas it placed (they move anyway, so the moves stay those of the
/// drain) change destination while a target's disk is outside its band. The fullest
/// targets hand one of them to the emptiest, or the two trade one each, whichever brings
/// the pair closest to their targets; each change lowers the sum of squared distances to
/// the targets, so it ends. Topic bands, racks and replica lists stay valid.
fn settle_drained(s: &mut State, original: &[Vec<u16>]) {
    let nt = s.model.n_target;
    let placed: Vec<(usize, usize)> = (0..s.replicas.len())
        .flat_map(|p| (0..s.replicas[p].len()).map(move |slot| (p, slot)))
        .filter(|&(p, slot)| !original[p].contains(&s.replicas[p][slot]))
        .collect();
    if placed.is_empty() {
        return;
    }
    for _ in 0..4 * placed.len() + 16 {
        if (0..nt).all(|b| s.deviation(b, s.disk[b] as i128) == 0) {
            return;
        }
        let mut order: Vec<usize> = (0..nt).collect();
        order.sort_by_key(|b| s.disk[*b] as i128 - s.target(*b));
        let trade = order
            .iter()
            .rev()
            .take(3)
            .flat_map(|a| order.iter().take(3).map(move |z| (*a, *z)))
            .filter(|(a, z)| a != z)
            .find_map(|(a, z)| best_trade(s, &placed, a, z));
        match trade {
            Some(Trade::Give(p, slot, to)) => s.apply(p, slot, to),
            Some(Trade::Swap((p, ps), (q, qs))) => {
                let (a, z) = (s.replicas[p][ps] as usize, s.replicas[q][qs] as usize);
                s.apply(p, ps, z);
                s.apply(q, qs, a);
            }
            None => return,
        }
    }
}

/// A change of destination of drained replicas.
enum Trade {
    /// The replica (partition, slot) goes to the broker.
    Give(usize, usize, usize),
    /// The two replicas (partition, slot) trade brokers.
    Swap((usize, usize), (usize, usize)),
}

/// The change between `a` (above its target) and `z` that moves the bytes closest to half
/// their combined distance from the targets, when any moves them strictly between 0 and
/// that distance.
fn best_trade(s: &State, placed: &[(usize, usize)], a: usize, z: usize) -> Option<Trade> {
    let gap = (s.disk[a] as i128 - s.target(a)) - (s.disk[z] as i128 - s.target(z));
    if gap <= 0 {
        return None;
    }
    let on = |b: usize| -> Vec<(usize, usize)> {
        placed
            .iter()
            .copied()
            .filter(|&(p, slot)| s.replicas[p][slot] as usize == b)
            .collect()
    };
    let (from_a, from_z) = (on(a), on(z));
    let size = |p: usize| s.model.size[p] as i128;
    let mut best: Option<(i128, Trade)> = None;
    let mut consider = |moved: i128, trade: Trade| {
        if moved <= 0 || moved >= gap {
            return;
        }
        let miss = (gap - 2 * moved).abs();
        if best.as_ref().is_none_or(|(m, _)| miss < *m) {
            best = Some((miss, trade));
        }
    };
    for &(p, slot) in &from_a {
        if s.legal(p, slot, z) {
            consider(size(p), Trade::Give(p, slot, z));
        }
    }
    // Trades keep each broker's count; a topic's band is kept when both replicas are of
    // the same topic, or when each topic has room at its new end.
    let fits = |p: usize, from: usize, to: usize| {
        let (lo, hi) = s.topic_band_of(p);
        s.count(p, to) < hi && s.count(p, from) > lo
    };
    for &(p, ps) in &from_a {
        for &(q, qs) in &from_z {
            if p == q
                || s.replicas[p].contains(&(z as u16))
                || s.replicas[q].contains(&(a as u16))
                || !s.model.rack_allows(&s.replicas[p], ps, z as u16)
                || !s.model.rack_allows(&s.replicas[q], qs, a as u16)
            {
                continue;
            }
            let same_topic = s.model.part_topic[p] == s.model.part_topic[q];
            let bands_kept = same_topic || (fits(p, a, z) && fits(q, z, a));
            if !bands_kept {
                continue;
            }
            consider(size(p) - size(q), Trade::Swap((p, ps), (q, qs)));
        }
    }
    best.map(|(_, trade)| trade)
}

/// The target a replica that must move goes to: topic band respected if possible, then the
/// most room.
fn best_home(s: &State, p: usize, slot: usize) -> Option<usize> {
    let r = &s.replicas[p];
    let (lo, hi) = s.topic_band_of(p);
    (0..s.model.n_target)
        .filter(|to| !r.contains(&(*to as u16)) && s.model.rack_allows(r, slot, *to as u16))
        .max_by_key(|to| {
            let c = s.count(p, *to);
            (
                c < hi,
                c < lo,
                s.room(*to) >= s.model.size[p] as i128,
                s.room(*to),
                usize::MAX - *to,
            )
        })
}

fn fix_racks(s: &mut State) {
    if s.model.n_racks < 2 {
        return;
    }
    for p in 0..s.replicas.len() {
        let mut guard = 0;
        while !s.model.racks_ok(&s.replicas[p]) && guard < 8 {
            guard += 1;
            let r = s.replicas[p].clone();
            let dup = (0..r.len()).rev().find(|i| {
                let rack = s.model.rack[r[*i] as usize];
                r.iter()
                    .enumerate()
                    .any(|(j, b)| j != *i && s.model.rack[*b as usize] == rack)
            });
            let Some(slot) = dup else { break };
            let to = (0..s.model.n_target)
                .filter(|to| {
                    !r.contains(&(*to as u16))
                        && !r
                            .iter()
                            .any(|b| s.model.rack[*b as usize] == s.model.rack[*to])
                })
                .max_by_key(|to| (s.count(p, *to) < s.topic_band_of(p).1, s.room(*to)));
            match to {
                Some(to) => s.apply(p, slot, to),
                None => break,
            }
        }
    }
}

/// Brings each topic's replicas per target broker into its band with the smallest
/// replicas that can do it: a broker above the band gives its smallest replicas of the
/// topic, each to a broker below the band if one can take it (one move fixes both), else
/// to the one whose disk it suits best; a broker still below the band takes the smallest
/// replicas it can, from brokers above it first, then from the fullest disks. The disk
/// phase afterwards moves what the disks still need.
fn topic_counts(s: &mut State) {
    let n = s.n();
    let nt = s.model.n_target;
    for t in 0..s.model.n_topics() {
        let (lo, hi) = s.topic_band[t];
        let row = t * n;
        let mut parts: Vec<usize> = s.model.topic_parts[t].iter().map(|p| *p as usize).collect();
        parts.sort_by_key(|p| s.model.size[*p]);
        for from in 0..nt {
            // The topic's partitions are visited smallest first, once per broker.
            let mut cursor = 0;
            while s.counts[row + from] > hi && cursor < parts.len() {
                let mut chosen = None;
                while cursor < parts.len() {
                    let p = parts[cursor];
                    cursor += 1;
                    let Some(slot) = s.replicas[p].iter().position(|b| *b as usize == from) else {
                        continue;
                    };
                    let size = s.model.size[p] as i128;
                    let to = (0..nt).filter(|to| s.legal(p, slot, *to)).max_by_key(|to| {
                        (
                            s.counts[row + to] < lo,
                            s.worth(from, *to, size).0,
                            -(s.disk[*to] as i128 - s.target(*to)),
                        )
                    });
                    if let Some(to) = to {
                        chosen = Some((p, slot, to));
                        break;
                    }
                }
                if let Some((p, slot, to)) = chosen {
                    s.apply(p, slot, to);
                }
            }
        }
        for to in 0..nt {
            let mut cursor = 0;
            while s.counts[row + to] < lo && cursor < parts.len() {
                let mut chosen = None;
                while cursor < parts.len() {
                    let p = parts[cursor];
                    cursor += 1;
                    if s.replicas[p].contains(&(to as u16)) {
                        continue;
                    }
                    let size = s.model.size[p] as i128;
                    let slot = (0..s.replicas[p].len())
                        .filter(|slot| s.legal(p, *slot, to))
                        .max_by_key(|slot| {
                            let from = s.replicas[p][*slot] as usize;
                            (
                                s.counts[row + from] > hi,
                                s.worth(from, to, size).0,
                                s.disk[from] as i128 - s.target(from),
                            )
                        });
                    if let Some(slot) = slot {
                        chosen = Some((p, slot));
                        break;
                    }
                }
                if let Some((p, slot)) = chosen {
                    s.apply(p, slot, to);
                }
            }
        }
    }
}

/// While a broker is outside its band: the most loaded gives the emptiest the replica that
/// best covers what is missing.
fn disk_balance(s: &mut State) {
    let nt = s.model.n_target;
    let mut stuck: BTreeSet<(usize, usize)> = BTreeSet::new();
    loop {
        let over: Vec<usize> = (0..nt).filter(|b| s.room(*b) < 0).collect();
        let under: Vec<usize> = (0..nt).filter(|b| s.spare(*b) < 0).collect();
        if over.is_empty() && under.is_empty() {
            return;
        }
        // Sources most loaded first, destinations emptiest first.
        let mut sources: Vec<usize> = if over.is_empty() {
            (0..nt).filter(|b| s.spare(*b) > 0).collect()
        } else {
            over.clone()
        };
        sources.sort_by_key(|b| std::cmp::Reverse(s.disk[*b] as i128 - s.target(*b)));
        let mut sinks: Vec<usize> = if over.is_empty() {
            under.clone()
        } else {
            (0..nt).filter(|b| s.room(*b) > 0).collect()
        };
        sinks.sort_by_key(|b| s.disk[*b] as i128 - s.target(*b));
        let mut moved = false;
        // The most loaded source that can give anything; among its sinks, the replica
        // that comes closest to covering what is needed.
        for &from in &sources {
            let mut best: Option<((bool, i128), usize, usize, usize)> = None;
            // The few emptiest sinks that can still take something from it.
            let mut tried = 0;
            for &to in &sinks {
                if tried == 4 && best.is_some() {
                    break;
                }
                if from == to || stuck.contains(&(from, to)) {
                    continue;
                }
                tried += 1;
                let need = (-s.room(from)).max(-s.spare(to)).max(1);
                let room = s.spare(from).min(s.room(to));
                if room <= 0 {
                    continue;
                }
                match pick(s, from, to, need as u64, room as u64) {
                    Some((p, slot)) => {
                        let size = s.model.size[p] as i128;
                        // Covering moves first, the least overshoot; else the most progress.
                        let key = if size >= need {
                            (true, -(size - need))
                        } else {
                            (false, size)
                        };
                        if best.is_none_or(|b| key > b.0) {
                            best = Some((key, p, slot, to));
                        }
                    }
                    None => {
                        stuck.insert((from, to));
                    }
                }
            }
            if let Some((_, p, slot, to)) = best {
                s.apply(p, slot, to);
                // Only pairs with one of these two brokers can have changed.
                stuck.retain(|(a, b)| ![from, to].contains(a) && ![from, to].contains(b));
                moved = true;
                break;
            }
        }
        if !moved {
            // No single replica can go: exchange a bigger replica of a topic for a smaller
            // one of the same topic (counts stay, bytes shift).
            let mut swapped = false;
            'swap: for &from in &sources {
                for &to in &sinks {
                    if from == to {
                        continue;
                    }
                    let need = (-s.room(from)).max(-s.spare(to)).max(1);
                    let room = s.spare(from).min(s.room(to));
                    if room <= 0 {
                        continue;
                    }
                    if let Some((a, i, b, j)) = pick_swap(s, from, to, need as u64, room as u64) {
                        s.apply(a, i, to);
                        s.apply(b, j, from);
                        swapped = true;
                        break 'swap;
                    }
                }
            }
            if !swapped {
                return;
            }
        }
        if !moved {
            // An exchange changes what fits: pairs found stuck may work now.
            stuck.clear();
        }
    }
}

/// The replica on `from` to give `to`: the smallest of at least `need` bytes (one move
/// covers it), else the largest below `need`; never more than `room`.
fn pick(s: &State, from: usize, to: usize, need: u64, room: u64) -> Option<(usize, usize)> {
    let topics = s.model.n_topics();
    let n = s.n();
    let legal = |p: usize| -> Option<usize> {
        let slot = s.replicas[p].iter().position(|b| *b as usize == from)?;
        s.legal(p, slot, to).then_some(slot)
    };
    let limit = 64;
    let mut covering: Option<(u64, usize, usize)> = None;
    let mut below: Option<(u64, usize, usize)> = None;
    for t in 0..topics {
        // Only topics the bands let go from `from` to `to`.
        let (lo, hi) = s.topic_band[t];
        if s.counts[t * n + from] <= lo || s.counts[t * n + to] >= hi {
            continue;
        }
        let set = &s.on[from * topics + t];
        if need <= room {
            if let Some(c) = set
                .range((need, 0)..=(room, u32::MAX))
                .take(limit)
                .find_map(|(size, p)| legal(*p as usize).map(|slot| (*size, *p as usize, slot)))
            {
                if covering.is_none_or(|b| c.0 < b.0) {
                    covering = Some(c);
                }
            }
        }
        if let Some(c) = set
            .range((1, 0)..(need.min(room + 1), 0))
            .rev()
            .take(limit)
            .find_map(|(size, p)| legal(*p as usize).map(|slot| (*size, *p as usize, slot)))
        {
            if below.is_none_or(|b| c.0 > b.0) {
                below = Some(c);
            }
        }
    }
    // One replica that covers the need, unless it overshoots by more than a twentieth and
    // smaller ones can get closer.
    let choice = match (covering, below) {
        (Some(c), Some(_)) if c.0 as f64 <= need as f64 * 1.25 => Some(c),
        (Some(_), Some(b)) => Some(b),
        (c, b) => c.or(b),
    };
    choice.map(|(_, p, slot)| (p, slot))
}

/// Two replicas of one topic to exchange between `from` and `to`: a on `from`, b on `to`,
/// a bigger than b by at least `need` if possible, never by more than `room`.
fn pick_swap(
    s: &State,
    from: usize,
    to: usize,
    need: u64,
    room: u64,
) -> Option<(usize, usize, usize, usize)> {
    let topics = s.model.n_topics();
    let mut best: Option<(u64, usize, usize, usize, usize)> = None;
    // The biggest replicas on `from`, a few per topic, of the topics where `to` holds a
    // smaller replica: in a topic whose biggest replicas already sit on `to` no exchange
    // shifts bytes the right way, and those topics' replicas would crowd out the rest.
    let mut biggest: Vec<(u64, u32)> = (0..topics)
        .filter(|t| {
            let mine = s.on[from * topics + t].last();
            let theirs = s.on[to * topics + t].first();
            matches!((mine, theirs), (Some(a), Some(b)) if a.0 > b.0)
        })
        .flat_map(|t| s.on[from * topics + t].iter().rev().take(64).copied())
        .collect();
    biggest.sort_unstable_by(|x, y| y.cmp(x));
    for &(size_a, a) in biggest.iter().take(300) {
        let a = a as usize;
        let candidates = &s.on[to * topics + s.model.part_topic[a] as usize];
        let Some(i) = s.replicas[a].iter().position(|x| *x as usize == from) else {
            continue;
        };
        if s.replicas[a].contains(&(to as u16))
            || !s.model.rack_allows(&s.replicas[a], i, to as u16)
        {
            continue;
        }
        let fits = |b: usize| -> bool {
            b != a
                && !s.replicas[b].contains(&(from as u16))
                && s.replicas[b]
                    .iter()
                    .position(|x| *x as usize == to)
                    .is_some_and(|j| s.model.rack_allows(&s.replicas[b], j, from as u16))
        };
        // b as big as leaves a delta of at least `need` (the least such delta), else the
        // delta closest below it; never more than `room`.
        // (Empty ranges are skipped: BTreeSet::range panics when start > end.)
        let (cover_lo, cover_hi) = (size_a.saturating_sub(room), size_a.saturating_sub(need));
        let covering = (need <= room)
            .then(|| {
                candidates
                    .range((cover_lo, 0)..=(cover_hi, u32::MAX))
                    .rev()
                    .take(16)
                    .find(|(_, b)| fits(*b as usize))
            })
            .flatten();
        let near = size_a.saturating_sub(need) + 1;
        let closest = (near < size_a)
            .then(|| {
                candidates
                    .range((near, 0)..(size_a, 0))
                    .take(16)
                    .find(|(_, b)| fits(*b as usize))
            })
            .flatten();
        for &(size_b, b) in covering.into_iter().chain(closest) {
            if size_b >= size_a {
                continue;
            }
            let delta = size_a - size_b;
            // Prefer covering the need with the least delta, then the least bytes moved.
            let key = if delta >= need {
                delta - need
            } else {
                u64::MAX / 2 + (need - delta)
            };
            if best.is_none_or(|x| (key, size_a + size_b) < (x.0, x.1 as u64)) {
                best = Some((key, (size_a + size_b) as usize, a, i, b as usize));
            }
        }
    }
    let (_, _, a, i, b) = best?;
    let j = s.replicas[b].iter().position(|x| *x as usize == to)?;
    Some((a, i, b, j))
}
