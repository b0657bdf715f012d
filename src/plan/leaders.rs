//! Preferred leaders: reorders replica lists (moves no data) so that every topic's
//! preferred leaders, and the cluster's, differ by at most one between eligible brokers
//! where the replica placement allows it.
//!
//! Per topic, every broker leads ⌊P/B⌋ or ⌈P/B⌉ partitions: a small matching (partition →
//! one of its replicas, broker → at most ⌈P/B⌉) where current leaders are kept if their
//! broker is below the cluster's level and the rest go to the replica leading the fewest
//! cluster-wide, then augmenting paths (x takes a partition from y, y from z, ...) and,
//! within the topic, chains from its most to its least loaded broker. Last, chains across
//! topics even out the cluster totals without widening any topic's spread.

use super::model::Model;
use super::quota::water_fill;

/// Reorders `replicas` so preferred leaders are balanced over `eligible` brokers (by
/// broker index). `original` are the leader counts (topics × brokers) before planning,
/// kept where they fit.
pub(crate) fn balance(
    model: &Model,
    replicas: &mut [Vec<u16>],
    eligible: &[bool],
    original: &[u32],
) {
    let n = model.n_brokers();
    let members: Vec<usize> = (0..n).filter(|b| eligible[*b]).collect();
    if members.is_empty() {
        return;
    }
    let m = members.len() as u64;
    let counts = model.topic_counts(replicas);
    let leadable: u64 = replicas
        .iter()
        .filter(|r| r.iter().any(|b| eligible[*b as usize]))
        .count() as u64;
    // Every eligible broker should end with ⌊L/m⌋ or ⌈L/m⌉ leaders.
    let level = leadable.div_ceil(m);
    let mut load = vec![0u64; n];
    let mut quota = vec![0u32; n];
    let mut done = 0u64;
    for t in 0..model.n_topics() {
        let row = t * n;
        let parts = &model.topic_parts[t];
        let p = parts
            .iter()
            .filter(|p| replicas[**p as usize].iter().any(|b| eligible[*b as usize]))
            .count() as u64;
        let base = p / m;
        let holds: Vec<u64> = members.iter().map(|b| counts[row + b] as u64).collect();
        let fits = holds.iter().all(|h| *h >= base)
            && holds.iter().map(|h| (*h).min(base + 1)).sum::<u64>() >= p;
        quota.iter_mut().for_each(|q| *q = 0);
        if fits {
            // ⌊P/m⌋ or ⌈P/m⌉ each: which brokers take the extra is left to the cluster's
            // balance, partition by partition.
            for b in &members {
                quota[*b] = base as u32 + 1;
            }
        } else {
            // Few replicas on some broker (a single replica, racks): as even as they allow.
            let weight = vec![1u64; members.len()];
            let lo = vec![0u64; members.len()];
            let prefer: Vec<u64> = members.iter().map(|b| original[row + b] as u64).collect();
            let shares = water_fill(p, &weight, &lo, &holds, &prefer);
            for (i, b) in members.iter().enumerate() {
                quota[*b] = shares[i] as u32;
            }
        }
        // What each broker may lead by the end of this topic, so the cluster stays even
        // as topics are done (a broker full early would leave later topics no choice).
        done += p;
        let allowance = (done * level).div_ceil(leadable.max(1));
        let leader = choose(
            replicas,
            parts,
            &quota,
            eligible,
            base as u32,
            &mut load,
            allowance,
        );
        for (i, p) in parts.iter().enumerate() {
            if let Some(b) = leader[i] {
                let r = &mut replicas[*p as usize];
                lead_with(r, b);
            }
        }
    }
    repair(model, replicas, eligible);
}

/// Each partition's leader (by local index) so broker b leads at most `quota[b]` of the
/// topic, at least `base` where the placement allows, and the topic's spread stays within
/// one. Current leaders are kept where they fit and the broker is below `level` (its
/// cluster-wide allowance so far); otherwise the replica with the fewest leaders cluster-wide (`load`, kept
/// current) takes it.
fn choose(
    replicas: &[Vec<u16>],
    parts: &[u32],
    quota: &[u32],
    eligible: &[bool],
    base: u32,
    load: &mut [u64],
    level: u64,
) -> Vec<Option<u16>> {
    let n = load.len();
    let mut led = vec![0u32; n];
    let mut leader: Vec<Option<u16>> = vec![None; parts.len()];
    // by_leader[b]: local indices of the partitions b leads.
    let mut by_leader: Vec<Vec<usize>> = vec![Vec::new(); n];
    let take = |i: usize,
                b: u16,
                led: &mut [u32],
                leader: &mut [Option<u16>],
                by_leader: &mut [Vec<usize>],
                load: &mut [u64]| {
        led[b as usize] += 1;
        load[b as usize] += 1;
        leader[i] = Some(b);
        by_leader[b as usize].push(i);
    };
    for (i, p) in parts.iter().enumerate() {
        let now = replicas[*p as usize][0] as usize;
        if eligible[now] && led[now] < quota[now] && led[now] < base.max(1) && load[now] < level {
            take(i, now as u16, &mut led, &mut leader, &mut by_leader, load);
        }
    }
    let mut pending = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if leader[i].is_some() {
            continue;
        }
        let r = &replicas[*p as usize];
        let best = r
            .iter()
            .copied()
            .filter(|b| eligible[*b as usize] && led[*b as usize] < quota[*b as usize])
            .min_by_key(|b| {
                let b = *b as usize;
                // Below the topic's base first, then below the cluster's level, the
                // current leader, the fewest leaders overall.
                (
                    led[b] >= base,
                    load[b] >= level,
                    b != r[0] as usize,
                    load[b],
                    b,
                )
            });
        match best {
            Some(b) => take(i, b, &mut led, &mut leader, &mut by_leader, load),
            None => pending.push(i),
        }
    }
    let mut budget: i64 = 2_000_000;
    for i in pending {
        if budget > 0 {
            if let Some(y) = augment(
                replicas,
                parts,
                quota,
                eligible,
                &mut led,
                &mut leader,
                &mut by_leader,
                i,
                &mut budget,
            ) {
                load[y as usize] += 1;
                continue;
            }
        }
        // No way within the quotas: a replica still at or below the topic's base keeps
        // the topic within one.
        let r = &replicas[parts[i] as usize];
        let b = r
            .iter()
            .copied()
            .filter(|b| eligible[*b as usize])
            .min_by_key(|b| (led[*b as usize] > base, load[*b as usize], *b))
            .unwrap_or(r[0]);
        take(i, b, &mut led, &mut leader, &mut by_leader, load);
    }
    even_out(
        replicas,
        parts,
        eligible,
        &mut led,
        &mut leader,
        &mut by_leader,
        load,
    );
    leader
}

/// Evens out the cluster's leader counts where the per-topic matchings could not meet
/// their quotas: a broker with the fewest leaders takes a partition from one of its
/// replicas' leader, that one makes up for it, ... up to a broker with two more than the
/// fewest. No topic's leader count on a broker leaves the band [fewest, most] the topic
/// had before, so no topic's spread grows.
///
/// Single hand-overs first, then chains over brokers alone (fast), and only where those
/// leave the cluster uneven a search over two kinds of need: "broker b needs one more
/// leader" (of any topic whose band has room on b) and "broker b needs one more leader of
/// topic t" (it gave one of t away; taking another partition of t keeps its count of t).
/// The second is what a search over brokers alone misses: a broker at the bottom of a
/// topic's band can pass one of the topic's partitions on if it takes another of the same
/// topic.
fn repair(model: &Model, replicas: &mut [Vec<u16>], eligible: &[bool]) {
    let n = model.n_brokers();
    let mut topic = model.topic_leaders(replicas);
    let mut cluster = vec![0u64; n];
    for r in replicas.iter() {
        cluster[r[0] as usize] += 1;
    }
    let members: Vec<usize> = (0..n).filter(|b| eligible[*b]).collect();
    let even = |c: &[u64]| {
        let (lo, hi) = spread(&members, c);
        hi <= lo + 1
    };
    if even(&cluster) {
        return;
    }
    direct(
        model,
        replicas,
        eligible,
        &members,
        &mut topic,
        &mut cluster,
    );
    if even(&cluster) {
        return;
    }
    broker_chains(
        model,
        replicas,
        eligible,
        &members,
        &mut topic,
        &mut cluster,
    );
    if even(&cluster) {
        return;
    }
    topic_chains(
        model,
        replicas,
        eligible,
        &members,
        &mut topic,
        &mut cluster,
    );
}

/// The search over (topic, broker) needs that `repair` describes, for what the chains over
/// brokers leave uneven.
fn topic_chains(
    model: &Model,
    replicas: &mut [Vec<u16>],
    eligible: &[bool],
    members: &[usize],
    topic: &mut [u32],
    cluster: &mut [u64],
) {
    let n = model.n_brokers();
    let n_topics = model.n_topics();
    // Each topic's band over the eligible brokers, kept for the whole repair.
    let band: Vec<(u32, u32)> = (0..n_topics)
        .map(|t| {
            let row = &topic[t * n..(t + 1) * n];
            let lo = members.iter().map(|b| row[*b]).min().unwrap_or(0);
            let hi = members.iter().map(|b| row[*b]).max().unwrap_or(0);
            (lo, hi)
        })
        .collect();
    // The partitions of topic t that broker b follows, at t * n + b (kept lazily:
    // re-checked on use).
    let mut following: Vec<Vec<u32>> = vec![Vec::new(); n_topics * n];
    for (p, r) in replicas.iter().enumerate() {
        let row = model.part_topic[p] as usize * n;
        for b in &r[1..] {
            following[row + *b as usize].push(p as u32);
        }
    }
    // Each partition's leader in one flat array: the search below reads it for every
    // partition it passes, and a million `replicas[p][0]` reads miss the cache.
    let mut lead: Vec<u16> = replicas.iter().map(|r| r[0]).collect();
    // States: b < n is "b needs a leader", n + t * n + b is "b needs a leader of t".
    let states = n + n_topics * n;
    const ROOT: u32 = u32::MAX;
    let mut parent: Vec<(u32, u32)> = vec![(ROOT, ROOT); states];
    let mut seen = vec![false; states];
    let mut touched: Vec<usize> = Vec::new();
    let mut budget: i64 = 400_000_000;
    loop {
        let (lo, hi) = spread(members, cluster);
        if hi <= lo + 1 || budget <= 0 {
            return;
        }
        let mut progressed = false;
        for &low in members.iter().filter(|b| cluster[**b] == lo) {
            for s in touched.drain(..) {
                seen[s] = false;
                parent[s] = (ROOT, ROOT);
            }
            seen[low] = true;
            touched.push(low);
            let mut queue = std::collections::VecDeque::from([low as u32]);
            // (state, partition) that ends the chain: the last leader gives p away.
            let mut found: Option<(u32, u32)> = None;
            'bfs: while let Some(s) = queue.pop_front() {
                let s = s as usize;
                if s < n {
                    for t in 0..n_topics {
                        let next = n + t * n + s;
                        if !seen[next] && topic[t * n + s] < band[t].1 {
                            seen[next] = true;
                            touched.push(next);
                            parent[next] = (s as u32, ROOT);
                            queue.push_back(next as u32);
                        }
                    }
                    continue;
                }
                let (t, x) = ((s - n) / n, (s - n) % n);
                let row = t * n;
                for &p in &following[row + x] {
                    budget -= 1;
                    let y = lead[p as usize] as usize;
                    if y == x || !eligible[y] || !replicas[p as usize][1..].contains(&(x as u16)) {
                        continue;
                    }
                    // y keeps its count of t by taking another of t's partitions.
                    let keep = n + row + y;
                    if !seen[keep] {
                        seen[keep] = true;
                        touched.push(keep);
                        parent[keep] = (s as u32, p);
                        queue.push_back(keep as u32);
                    }
                    // Or y leads one fewer of t, if t's band allows.
                    if topic[row + y] > band[t].0 && !seen[y] {
                        if cluster[y] >= lo + 2 {
                            found = Some((s as u32, p));
                            break 'bfs;
                        }
                        seen[y] = true;
                        touched.push(y);
                        parent[y] = (s as u32, p);
                        queue.push_back(y as u32);
                    }
                }
                if budget <= 0 {
                    break;
                }
            }
            let Some(end) = found else { continue };
            // The chain's hand-overs: (taker, partition). A partition used twice in one
            // chain (rare) would be handed over twice: skip that chain.
            let mut chain = Vec::new();
            let (mut s, mut p) = end;
            loop {
                if p != ROOT {
                    chain.push((s as usize, p as usize));
                }
                if s as usize == low {
                    break;
                }
                (s, p) = parent[s as usize];
            }
            let mut parts: Vec<usize> = chain.iter().map(|(_, p)| *p).collect();
            parts.sort_unstable();
            parts.dedup();
            if parts.len() != chain.len() {
                continue;
            }
            for (s, p) in chain {
                let x = if s < n { s } else { (s - n) % n };
                let y = lead[p] as usize;
                let row = model.part_topic[p] as usize * n;
                topic[row + y] -= 1;
                topic[row + x] += 1;
                cluster[y] -= 1;
                cluster[x] += 1;
                lead_with(&mut replicas[p], x as u16);
                lead[p] = x as u16;
                following[row + y].push(p as u32);
            }
            progressed = true;
            break;
        }
        if !progressed {
            return;
        }
    }
}

/// Chains over brokers alone (fast, and enough almost always): a broker with the fewest
/// leaders takes a partition from one of its replicas' leader, that one from another, ...
/// up to a broker with two more than the fewest, each step moving a topic's leadership from
/// a broker leading more of that topic to one leading fewer. Stops once every broker is
/// reached without finding a chain.
fn broker_chains(
    model: &Model,
    replicas: &mut [Vec<u16>],
    eligible: &[bool],
    members: &[usize],
    topic: &mut [u32],
    cluster: &mut [u64],
) {
    let n = model.n_brokers();
    // Partitions each broker follows (kept lazily: re-checked on use).
    let mut following: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (p, r) in replicas.iter().enumerate() {
        for b in &r[1..] {
            following[*b as usize].push(p as u32);
        }
    }
    // Each partition's leader in one flat array: the search below reads it for every
    // partition it passes, and a million `replicas[p][0]` reads miss the cache.
    let mut lead: Vec<u16> = replicas.iter().map(|r| r[0]).collect();
    let mut budget: i64 = 400_000_000;
    loop {
        let (lo, hi) = spread(members, cluster);
        if hi <= lo + 1 || budget <= 0 {
            return;
        }
        let mut progressed = false;
        for &low in members.iter().filter(|b| cluster[**b] == lo) {
            // parent[y] = (x, p): x takes partition p from y.
            let mut parent: Vec<Option<(u16, u32)>> = vec![None; n];
            let mut seen = vec![false; n];
            seen[low] = true;
            // Once every eligible broker is reached nothing more can be found.
            let mut unseen = members.len() - 1;
            let mut queue = std::collections::VecDeque::from([low]);
            let mut found = None;
            'bfs: while let Some(x) = queue.pop_front() {
                for &p in &following[x] {
                    budget -= 1;
                    let y = lead[p as usize] as usize;
                    if y == x || seen[y] || !eligible[y] {
                        continue;
                    }
                    if !replicas[p as usize][1..].contains(&(x as u16)) {
                        continue;
                    }
                    let row = model.part_topic[p as usize] as usize * n;
                    if topic[row + y] <= topic[row + x] {
                        continue;
                    }
                    seen[y] = true;
                    unseen -= 1;
                    parent[y] = Some((x as u16, p));
                    if cluster[y] >= lo + 2 {
                        found = Some(y);
                        break 'bfs;
                    }
                    queue.push_back(y);
                    if unseen == 0 {
                        break 'bfs;
                    }
                }
            }
            let Some(mut y) = found else { continue };
            cluster[y] -= 1;
            cluster[low] += 1;
            while let Some((x, p)) = parent[y] {
                let p = p as usize;
                let row = model.part_topic[p] as usize * n;
                topic[row + y] -= 1;
                topic[row + x as usize] += 1;
                lead_with(&mut replicas[p], x);
                lead[p] = x;
                following[y].push(p as u32);
                y = x as usize;
            }
            progressed = true;
            break;
        }
        if !progressed {
            return;
        }
    }
}

/// Single hand-overs first, linear passes over the partitions (chains are costly when
/// thousands of hand-overs are needed, a million partitions): a broker leading more than
/// ⌈L/m⌉ hands a partition to the follower leading the fewest, if that one leads fewer
/// than ⌈L/m⌉ cluster-wide and fewer of the topic; then a broker leading fewer than ⌊L/m⌋
/// takes one from a leader above ⌊L/m⌋ likewise. No topic's spread grows.
fn direct(
    model: &Model,
    replicas: &mut [Vec<u16>],
    eligible: &[bool],
    members: &[usize],
    topic: &mut [u32],
    cluster: &mut [u64],
) {
    let n = model.n_brokers();
    let total: u64 = members.iter().map(|b| cluster[*b]).sum();
    let m = members.len().max(1) as u64;
    let (floor, ceil) = (total / m, total.div_ceil(m));
    for _pass in 0..64 {
        let mut changed = false;
        for (p, r) in replicas.iter_mut().enumerate() {
            let y = r[0] as usize;
            let row = model.part_topic[p] as usize * n;
            let giving = !eligible[y] || cluster[y] > ceil;
            let best = (1..r.len())
                .map(|i| (i, r[i] as usize))
                .filter(|(_, x)| eligible[*x] && topic[row + *x] < topic[row + y])
                .filter(|(_, x)| {
                    if giving {
                        cluster[*x] < ceil
                    } else {
                        cluster[*x] < floor && cluster[y] > floor
                    }
                })
                .min_by_key(|(_, x)| cluster[*x]);
            // Within the topic y leads more than x: after the hand-over x leads at most
            // what y led, so the topic's spread does not grow.
            if let Some((i, x)) = best {
                let l = r.remove(i);
                r.insert(0, l);
                cluster[y] -= 1;
                cluster[x] += 1;
                topic[row + y] -= 1;
                topic[row + x] += 1;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

/// Within one topic, while two eligible brokers' leader counts differ by two or more: a
/// broker leading the fewest takes a partition from one of its replicas' leader, that one
/// from another, ... up to a broker leading two more than the fewest.
fn even_out(
    replicas: &[Vec<u16>],
    parts: &[u32],
    eligible: &[bool],
    led: &mut [u32],
    leader: &mut [Option<u16>],
    by_leader: &mut [Vec<usize>],
    load: &mut [u64],
) {
    let n = led.len();
    let members: Vec<usize> = (0..n).filter(|b| eligible[*b]).collect();
    // local partitions each broker holds as a replica
    let mut holds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, p) in parts.iter().enumerate() {
        for b in &replicas[*p as usize] {
            holds[*b as usize].push(i);
        }
    }
    for _round in 0..parts.len() {
        let lo = members.iter().map(|b| led[*b]).min().unwrap_or(0);
        let hi = members.iter().map(|b| led[*b]).max().unwrap_or(0);
        if hi <= lo + 1 {
            return;
        }
        let mut shifted = false;
        for &low in members.iter().filter(|b| led[**b] == lo) {
            let mut parent: Vec<Option<(usize, usize)>> = vec![None; n];
            let mut seen = vec![false; n];
            seen[low] = true;
            let mut queue = std::collections::VecDeque::from([low]);
            let mut found = None;
            'bfs: while let Some(x) = queue.pop_front() {
                for &i in &holds[x] {
                    let Some(y) = leader[i].map(|y| y as usize) else {
                        continue;
                    };
                    if y == x || seen[y] || !eligible[y] {
                        continue;
                    }
                    seen[y] = true;
                    parent[y] = Some((x, i));
                    if led[y] >= lo + 2 {
                        found = Some(y);
                        break 'bfs;
                    }
                    queue.push_back(y);
                }
            }
            let Some(mut y) = found else { continue };
            led[y] -= 1;
            led[low] += 1;
            load[y] -= 1;
            load[low] += 1;
            while let Some((x, i)) = parent[y] {
                by_leader[y].retain(|j| *j != i);
                by_leader[x].push(i);
                leader[i] = Some(x as u16);
                y = x;
            }
            shifted = true;
            break;
        }
        if !shifted {
            return;
        }
    }
}

/// Finds a chain that frees room for partition `start`: one of its replicas x leads a
/// partition that another of that partition's replicas y can take, ... until a broker
/// below its quota. Shifts leadership along the chain and gives `start` to x.
#[allow(clippy::too_many_arguments)]
fn augment(
    replicas: &[Vec<u16>],
    parts: &[u32],
    quota: &[u32],
    eligible: &[bool],
    led: &mut [u32],
    leader: &mut [Option<u16>],
    by_leader: &mut [Vec<usize>],
    start: usize,
    budget: &mut i64,
) -> Option<u16> {
    let n = led.len();
    // parent[y] = (x, i): y takes local partition i from x. Roots have x = u16::MAX.
    let mut parent: Vec<Option<(u16, usize)>> = vec![None; n];
    let mut queue = std::collections::VecDeque::new();
    for &b in &replicas[parts[start] as usize] {
        if eligible[b as usize] && parent[b as usize].is_none() {
            parent[b as usize] = Some((u16::MAX, start));
            queue.push_back(b);
        }
    }
    let mut found = None;
    'bfs: while let Some(x) = queue.pop_front() {
        if led[x as usize] < quota[x as usize] {
            found = Some(x);
            break;
        }
        for &i in &by_leader[x as usize] {
            for &y in &replicas[parts[i] as usize] {
                *budget -= 1;
                if y == x || !eligible[y as usize] || parent[y as usize].is_some() {
                    continue;
                }
                parent[y as usize] = Some((x, i));
                if led[y as usize] < quota[y as usize] {
                    found = Some(y);
                    break 'bfs;
                }
                queue.push_back(y);
            }
        }
        if *budget < 0 {
            return None;
        }
    }
    let mut y = found?;
    let gained = y;
    led[y as usize] += 1;
    loop {
        let (x, i) = parent[y as usize].unwrap_or((u16::MAX, start));
        if x == u16::MAX {
            leader[start] = Some(y);
            by_leader[y as usize].push(start);
            return Some(gained);
        }
        // y takes partition i from x.
        by_leader[x as usize].retain(|j| *j != i);
        by_leader[y as usize].push(i);
        leader[i] = Some(y);
        y = x;
    }
}

/// The fewest and the most of `counts` over `members`.
fn spread(members: &[usize], counts: &[u64]) -> (u64, u64) {
    let lo = members.iter().map(|b| counts[*b]).min().unwrap_or(0);
    let hi = members.iter().map(|b| counts[*b]).max().unwrap_or(0);
    (lo, hi)
}

/// Puts broker `b` first in the replica list `r` (its preferred leader), keeping the
/// others' order.
fn lead_with(r: &mut Vec<u16>, b: u16) {
    if let Some(pos) = r.iter().position(|x| *x == b).filter(|pos| *pos > 0) {
        let l = r.remove(pos);
        r.insert(0, l);
    }
}
