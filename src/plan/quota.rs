//! Per-topic quotas that also balance the cluster.
//!
//! A topic with R replicas over B brokers gives every broker ⌊R/B⌋ and has R mod B
//! "extras" to hand out, one per broker. Which brokers get the extras decides both the
//! moves (an extra on a broker that already holds more than ⌊R/B⌋ of the topic costs
//! nothing; elsewhere it costs a move) and the cluster-wide balance (the extras of all
//! topics must land evenly). [`distribute`] places the extras of many such units as a
//! maximum flow (units → brokers → sink, brokers capped at the water level, a limited
//! number one above it): first over free edges only, then over all, so the free extras
//! are as many as the balance allows.

/// One set of extras to place: `count` distinct brokers among `cost`'s eligible ones.
pub(crate) struct Unit {
    /// Per target broker: 0 = free, 1 = costs a move, [`INELIGIBLE`] = may not be used.
    pub cost: Vec<u8>,
    /// How many extras.
    pub count: usize,
    /// Extras allowed per rack index, when racks limit the unit.
    pub rack_caps: Option<Vec<u32>>,
}

/// A broker a unit may not use.
pub(crate) const INELIGIBLE: u8 = u8::MAX;

/// How much room each broker has for extras so that final loads (preload + extras) come
/// out as even as the preloads allow: water-filled to a level, `plus` brokers one above.
struct Caps {
    low: Vec<u64>,
    plus_eligible: Vec<bool>,
    plus: usize,
}

impl Caps {
    fn new(preload: &[u64], extras: u64) -> Caps {
        let n = preload.len();
        if extras == 0 || n == 0 {
            return Caps {
                low: vec![0; n],
                plus_eligible: vec![false; n],
                plus: 0,
            };
        }
        let fill = |level: u64| -> u64 { preload.iter().map(|p| level.saturating_sub(*p)).sum() };
        // The smallest level whose fill holds every extra.
        let mut lo = preload.iter().copied().min().unwrap_or(0);
        let mut hi = preload.iter().copied().max().unwrap_or(0) + extras;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if fill(mid) >= extras {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        let level = lo;
        let low: Vec<u64> = preload
            .iter()
            .map(|p| (level - 1).saturating_sub(*p))
            .collect();
        let plus_eligible: Vec<bool> = preload.iter().map(|p| *p < level).collect();
        let plus = (extras - low.iter().sum::<u64>()) as usize;
        Caps {
            low,
            plus_eligible,
            plus,
        }
    }
}

/// A flow network in compressed adjacency form (Dinic's algorithm).
struct Network {
    start: Vec<u32>,
    to: Vec<u32>,
    cap: Vec<i32>,
    rev: Vec<u32>,
    /// Forward unit → broker edges that cost a move: left out of the first phase.
    costly: Vec<bool>,
    /// Reverse edges of free unit → broker edges: left out of the second phase, so it
    /// never trades a free extra for a costly one.
    keeps_free: Vec<bool>,
}

/// Which edges a phase may use.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    FreeOnly,
    KeepFree,
    All,
}

#[derive(Default)]
struct EdgeList {
    edges: Vec<(u32, u32, i32, bool, bool)>,
}

impl EdgeList {
    fn add(&mut self, from: usize, to: usize, cap: i64) -> usize {
        self.edges.push((
            from as u32,
            to as u32,
            cap.clamp(0, i32::MAX as i64) as i32,
            false,
            false,
        ));
        self.edges.len() - 1
    }

    /// A unit → broker edge of capacity one, free or costly.
    fn add_choice(&mut self, from: usize, to: usize, costly: bool) -> usize {
        self.edges.push((from as u32, to as u32, 1, costly, true));
        self.edges.len() - 1
    }

    /// The network, and the position of each added edge in it.
    fn build(self, nodes: usize) -> (Network, Vec<u32>) {
        let mut start = vec![0u32; nodes + 1];
        for (f, t, _, _, _) in &self.edges {
            start[*f as usize + 1] += 1;
            start[*t as usize + 1] += 1;
        }
        for i in 0..nodes {
            start[i + 1] += start[i];
        }
        let m = self.edges.len() * 2;
        let mut fill = start.clone();
        let mut net = Network {
            start,
            to: vec![0; m],
            cap: vec![0; m],
            rev: vec![0; m],
            costly: vec![false; m],
            keeps_free: vec![false; m],
        };
        let mut position = Vec::with_capacity(self.edges.len());
        for (f, t, c, costly, unit_edge) in self.edges {
            let a = fill[f as usize] as usize;
            fill[f as usize] += 1;
            let b = fill[t as usize] as usize;
            fill[t as usize] += 1;
            net.to[a] = t;
            net.cap[a] = c;
            net.rev[a] = b as u32;
            net.costly[a] = costly;
            net.to[b] = f;
            net.rev[b] = a as u32;
            net.keeps_free[b] = unit_edge && !costly;
            position.push(a as u32);
        }
        (net, position)
    }
}

impl Network {
    fn usable(&self, e: usize, phase: Phase) -> bool {
        self.cap[e] > 0
            && match phase {
                Phase::FreeOnly => !self.costly[e],
                Phase::KeepFree => !self.keeps_free[e],
                Phase::All => true,
            }
    }

    /// Max flow from `source` to `sink` on top of the flow already there, over the edges
    /// `phase` allows.
    fn max_flow(&mut self, source: usize, sink: usize, phase: Phase) {
        let nodes = self.start.len() - 1;
        let mut level = vec![u32::MAX; nodes];
        let mut next = vec![0usize; nodes];
        let mut queue = Vec::with_capacity(nodes);
        let mut path: Vec<usize> = Vec::new();
        loop {
            level.iter_mut().for_each(|l| *l = u32::MAX);
            level[source] = 0;
            queue.clear();
            queue.push(source);
            let mut head = 0;
            while head < queue.len() {
                let v = queue[head];
                head += 1;
                for e in self.start[v] as usize..self.start[v + 1] as usize {
                    let w = self.to[e] as usize;
                    if level[w] == u32::MAX && self.usable(e, phase) {
                        level[w] = level[v] + 1;
                        queue.push(w);
                    }
                }
            }
            if level[sink] == u32::MAX {
                return;
            }
            for (v, slot) in next.iter_mut().enumerate() {
                *slot = self.start[v] as usize;
            }
            // Blocking flow by iterative depth-first search along the levels.
            path.clear();
            loop {
                let v = path.last().map(|e| self.to[*e] as usize).unwrap_or(source);
                if v == sink {
                    let amount = path.iter().map(|e| self.cap[*e]).min().unwrap_or(0);
                    for &e in &path {
                        self.cap[e] -= amount;
                        let r = self.rev[e] as usize;
                        self.cap[r] += amount;
                    }
                    path.clear();
                    continue;
                }
                let end = self.start[v + 1] as usize;
                let mut advanced = false;
                while next[v] < end {
                    let e = next[v];
                    let w = self.to[e] as usize;
                    if self.usable(e, phase) && level[w] == level[v] + 1 {
                        path.push(e);
                        advanced = true;
                        break;
                    }
                    next[v] += 1;
                }
                if !advanced {
                    if v == source {
                        break;
                    }
                    // A dead end: never visit it again in this phase.
                    level[v] = u32::MAX;
                    path.pop();
                }
            }
        }
    }
}

impl Network {
    /// Cost of pushing flow through edge `e`: a costly extra costs one, undoing one
    /// saves one.
    fn cost(&self, e: usize) -> i32 {
        if self.costly[e] {
            1
        } else if self.costly[self.rev[e] as usize] {
            -1
        } else {
            0
        }
    }

    /// One unit along a cheapest augmenting path (Bellman-Ford with a queue), when the
    /// flow so far is the cheapest of its value. False when the sink is out of reach.
    fn cheapest_augment(&mut self, source: usize, sink: usize) -> bool {
        let nodes = self.start.len() - 1;
        let mut dist = vec![i32::MAX; nodes];
        let mut via = vec![u32::MAX; nodes];
        let mut queued = vec![false; nodes];
        let mut queue = std::collections::VecDeque::from([source]);
        dist[source] = 0;
        while let Some(v) = queue.pop_front() {
            queued[v] = false;
            for e in self.start[v] as usize..self.start[v + 1] as usize {
                if self.cap[e] <= 0 {
                    continue;
                }
                let w = self.to[e] as usize;
                let d = dist[v] + self.cost(e);
                if d < dist[w] {
                    dist[w] = d;
                    via[w] = e as u32;
                    if !queued[w] {
                        queued[w] = true;
                        queue.push_back(w);
                    }
                }
            }
        }
        if dist[sink] == i32::MAX {
            return false;
        }
        let mut v = sink;
        while v != source {
            let e = via[v] as usize;
            self.cap[e] -= 1;
            let r = self.rev[e] as usize;
            self.cap[r] += 1;
            v = self.to[r] as usize;
        }
        true
    }
}

/// Places every unit's extras on distinct eligible brokers of `preload.len()` targets so
/// that preload + extras per broker is as even as possible (water-filled), with the most
/// free extras: a maximum flow over free edges first, then over all edges. `rack` gives
/// each target's rack index (for units with rack caps).
/// Places every unit's extras on distinct eligible brokers of `preload.len()` targets so
/// that preload + extras per broker is as even as possible (water-filled), with the most
/// free extras: a maximum flow over free edges first (shared fairly among units), then
/// over all edges. `rack` gives each target's rack index (for units with rack caps).
/// Also returns the fewest extras that must cost a move in any placement with even
/// loads: exact when the cheapest completion finished (successive cheapest paths from a
/// cheapest flow), else the extras beyond the most that can be free at all.
pub(crate) fn distribute_counting(
    units: &[Unit],
    preload: &[u64],
    rack: &[u16],
) -> (Vec<Vec<u16>>, u64) {
    let n = preload.len();
    let total: u64 = units.iter().map(|u| u.count as u64).sum();
    let caps = Caps::new(preload, total);
    let racks = rack.iter().map(|r| *r as usize + 1).max().unwrap_or(1);
    // Nodes: source, units, per-unit rack nodes (where capped), brokers, plus, sink.
    let source = 0;
    let first_unit = 1;
    let mut next_node = first_unit + units.len();
    let rack_node: Vec<Option<usize>> = units
        .iter()
        .map(|u| {
            u.rack_caps.as_ref().map(|_| {
                next_node += racks;
                next_node - racks
            })
        })
        .collect();
    let first_broker = next_node;
    let plus_node = first_broker + n;
    let sink = plus_node + 1;
    let mut list = EdgeList::default();
    // unit_edges[u]: (edge id, broker) of its edges into brokers.
    let mut unit_edges: Vec<Vec<(usize, u16)>> = Vec::with_capacity(units.len());
    let mut supply = Vec::with_capacity(units.len());
    for (i, u) in units.iter().enumerate() {
        let node = first_unit + i;
        supply.push(list.add(source, node, u.count as i64));
        if let (Some(base), Some(rack_caps)) = (rack_node[i], &u.rack_caps) {
            for r in 0..racks {
                let cap = rack_caps.get(r).copied().unwrap_or(0);
                if cap > 0 {
                    list.add(node, base + r, cap as i64);
                }
            }
        }
        let mine = u
            .cost
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != INELIGIBLE)
            .map(|(b, c)| {
                let from = rack_node[i].map_or(node, |base| base + rack[b] as usize);
                (list.add_choice(from, first_broker + b, *c != 0), b as u16)
            })
            .collect();
        unit_edges.push(mine);
    }
    for b in 0..n {
        list.add(first_broker + b, sink, caps.low[b] as i64);
        if caps.plus_eligible[b] {
            list.add(first_broker + b, plus_node, 1);
        }
    }
    list.add(plus_node, sink, caps.plus as i64);
    let (mut net, position) = list.build(sink + 1);
    // The most free extras there can be.
    let pristine = net.cap.clone();
    net.max_flow(source, sink, Phase::FreeOnly);
    let most_free: u64 = units
        .iter()
        .zip(&supply)
        .map(|(u, e)| u.count as u64 - net.cap[position[*e] as usize] as u64)
        .sum();
    // Again, fairly: every unit first gets its share of that, then the rest. A unit whose
    // free extras all went to others would need more costly brokers than have room.
    if most_free < total && total > 0 {
        net.cap = pristine;
        let share = most_free as f64 / total as f64;
        let mut caps = Vec::with_capacity(units.len());
        for (u, e) in units.iter().zip(&supply) {
            let at = position[*e] as usize;
            caps.push(net.cap[at]);
            net.cap[at] = (u.count as f64 * share).floor() as i32;
        }
        net.max_flow(source, sink, Phase::FreeOnly);
        for (i, e) in supply.iter().enumerate() {
            let at = position[*e] as usize;
            let used = (units[i].count as f64 * share).floor() as i32 - net.cap[at];
            net.cap[at] = caps[i] - used;
        }
        net.max_flow(source, sink, Phase::FreeOnly);
    }
    let free: u64 = units
        .iter()
        .zip(&supply)
        .map(|(u, e)| u.count as u64 - net.cap[position[*e] as usize] as u64)
        .sum();
    // Costly extras without giving up a free one: each costs exactly one, so the flow
    // stays the cheapest of its value.
    net.max_flow(source, sink, Phase::KeepFree);
    // What is left needs a free extra traded away: cheapest paths, a bounded number.
    let placed = |net: &Network| -> u64 {
        units
            .iter()
            .zip(&supply)
            .map(|(u, e)| u.count as u64 - net.cap[position[*e] as usize] as u64)
            .sum()
    };
    let mut left = total - placed(&net);
    // Each cheapest path walks the whole network: only where that stays cheap.
    let affordable = (left as usize).saturating_mul(net.to.len()) <= 50_000_000;
    while left > 0 && affordable && net.cheapest_augment(source, sink) {
        left -= 1;
    }
    let exact = left == 0;
    net.max_flow(source, sink, Phase::All);
    let mut chosen: Vec<Vec<u16>> = unit_edges
        .iter()
        .map(|edges| {
            edges
                .iter()
                .filter(|(e, _)| net.cap[position[*e] as usize] == 0)
                .map(|(_, b)| *b)
                .collect()
        })
        .collect();
    // Extras the balance cannot take (too few eligible brokers, racks): on the least
    // loaded eligible brokers, above the level.
    let mut load = vec![0u64; n];
    for c in &chosen {
        for b in c {
            load[*b as usize] += 1;
        }
    }
    for (i, u) in units.iter().enumerate() {
        while chosen[i].len() < u.count {
            let pick = (0..n)
                .filter(|b| u.cost[*b] != INELIGIBLE && !chosen[i].contains(&(*b as u16)))
                .min_by_key(|b| (preload[*b] + load[*b], u.cost[*b], *b));
            let Some(b) = pick else { break };
            chosen[i].push(b as u16);
            load[b] += 1;
        }
    }
    let costly_bound = if exact {
        chosen
            .iter()
            .zip(units)
            .map(|(c, u)| c.iter().filter(|b| u.cost[**b as usize] != 0).count() as u64)
            .sum()
    } else {
        total - free
    };
    (chosen, costly_bound)
}

/// Splits `total` over slots with per-slot weights and bounds, as evenly per weight as the
/// bounds allow: slot i gets about λ·weight[i], clamped to [lo[i], hi[i]]; remainders go
/// to the slots with the largest fractional part, ties to the larger `prefer`.
pub(crate) fn water_fill(
    total: u64,
    weight: &[u64],
    lo: &[u64],
    hi: &[u64],
    prefer: &[u64],
) -> Vec<u64> {
    let n = weight.len();
    let at = |lambda: f64| -> Vec<f64> {
        (0..n)
            .map(|i| (lambda * weight[i] as f64).clamp(lo[i] as f64, hi[i].max(lo[i]) as f64))
            .collect()
    };
    let sum = |v: &[f64]| v.iter().sum::<f64>();
    let (mut a, mut b) = (0.0f64, 1.0f64);
    while sum(&at(b)) < total as f64 && b < 1e18 {
        b *= 2.0;
    }
    for _ in 0..100 {
        let mid = (a + b) / 2.0;
        if sum(&at(mid)) < total as f64 {
            a = mid;
        } else {
            b = mid;
        }
    }
    let real = at(b);
    let mut out: Vec<u64> = real.iter().map(|x| x.floor() as u64).collect();
    let mut left = total.saturating_sub(out.iter().sum());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|x, y| {
        let fx = real[*x] - real[*x].floor();
        let fy = real[*y] - real[*y].floor();
        fy.partial_cmp(&fx)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(prefer[*y].cmp(&prefer[*x]))
            .then(x.cmp(y))
    });
    while left > 0 {
        let mut gave = false;
        for &i in &order {
            if left == 0 {
                break;
            }
            if out[i] < hi[i].max(lo[i]) {
                out[i] += 1;
                left -= 1;
                gave = true;
            }
        }
        if !gave {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_water_fill_the_preloads() {
        let caps = Caps::new(&[3, 3, 3, 3], 6);
        assert_eq!(caps.low, vec![1, 1, 1, 1]);
        assert_eq!(caps.plus, 2);
        let caps = Caps::new(&[5, 0, 0], 4);
        assert_eq!(caps.low, vec![0, 1, 1]);
        assert_eq!(caps.plus, 2);
    }

    #[test]
    fn extras_balance_the_cluster_and_prefer_free_brokers() {
        // Three units of two extras over four brokers: every broker gets one or two.
        let units: Vec<Unit> = (0..3)
            .map(|u| Unit {
                cost: (0..4).map(|b| u8::from(b % 3 != u)).collect(),
                count: 2,
                rack_caps: None,
            })
            .collect();
        let (chosen, costly) = distribute_counting(&units, &[0; 4], &[0; 4]);
        let mut load = [0; 4];
        for c in &chosen {
            assert_eq!(c.len(), 2);
            for b in c {
                load[*b as usize] += 1;
            }
        }
        assert!(load.iter().all(|l| (1..=2).contains(l)), "{load:?}");
        let cost: usize = chosen
            .iter()
            .enumerate()
            .map(|(u, c)| {
                c.iter()
                    .filter(|b| units[u].cost[**b as usize] == 1)
                    .count()
            })
            .sum();
        assert!(cost <= 2, "{chosen:?}");
        assert_eq!(cost as u64, costly);
    }

    #[test]
    fn water_fill_respects_bounds() {
        let out = water_fill(24, &[3, 3, 2], &[8, 8, 8], &[8, 8, 8], &[0, 0, 0]);
        assert_eq!(out, vec![8, 8, 8]);
        let out = water_fill(10, &[1, 1, 1], &[0, 0, 0], &[10, 10, 2], &[5, 0, 0]);
        assert_eq!(out.iter().sum::<u64>(), 10);
        assert_eq!(out[2], 2);
        assert_eq!(out, vec![4, 4, 2]);
    }
}
