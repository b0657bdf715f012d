//! What a plan does, measured: moves and bytes moved, the spreads before and after
//! (replicas, leaders, the worst topic, disk bytes), and lower bounds on the moves and
//! bytes any plan reaching the balance must make.

use super::model::Model;
use serde::Serialize;

/// One broker's load.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BrokerLoad {
    /// Broker id.
    pub id: i32,
    /// Replicas it holds.
    pub replicas: u64,
    /// Partitions it is the preferred leader of.
    pub leaders: u64,
    /// Bytes of its replicas.
    pub bytes: u64,
}

/// How even an assignment is over the target brokers (max − min unless said otherwise).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Spreads {
    /// Replicas per broker.
    pub replicas: u64,
    /// Preferred leaders per broker.
    pub leaders: u64,
    /// The worst topic's spread of replicas per broker.
    pub topic_replicas: u64,
    /// The worst topic's spread of preferred leaders per broker.
    pub topic_leaders: u64,
    /// Bytes per broker.
    pub disk_bytes: u64,
    /// The largest distance of a broker's bytes from the mean, in percent of the mean
    /// (what `tolerance` bounds).
    pub disk_percent: f64,
    /// Every target broker's load (and any other broker still holding replicas).
    pub brokers: Vec<BrokerLoad>,
}

/// Spreads of `replicas` over the model's targets.
pub(crate) fn spreads(model: &Model, replicas: &[Vec<u16>]) -> Spreads {
    let n = model.n_brokers();
    let nt = model.n_target;
    let counts = model.topic_counts(replicas);
    let leaders = model.topic_leaders(replicas);
    let disk = model.disk(replicas);
    let mut per_broker = vec![0u64; n];
    let mut per_leader = vec![0u64; n];
    let mut topic_replicas = 0;
    let mut topic_leaders = 0;
    for t in 0..model.n_topics() {
        let row = &counts[t * n..t * n + nt];
        let lrow = &leaders[t * n..t * n + nt];
        topic_replicas = topic_replicas.max(spread(row.iter().map(|c| *c as u64)));
        topic_leaders = topic_leaders.max(spread(lrow.iter().map(|c| *c as u64)));
        for b in 0..n {
            per_broker[b] += counts[t * n + b] as u64;
            per_leader[b] += leaders[t * n + b] as u64;
        }
    }
    let total: u64 = disk[..nt].iter().sum();
    let mean = total as f64 / nt.max(1) as f64;
    let disk_percent = if mean > 0.0 {
        disk[..nt]
            .iter()
            .map(|d| (*d as f64 - mean).abs() / mean * 100.0)
            .fold(0.0, f64::max)
    } else {
        0.0
    };
    Spreads {
        replicas: spread(per_broker[..nt].iter().copied()),
        leaders: spread(per_leader[..nt].iter().copied()),
        topic_replicas,
        topic_leaders,
        disk_bytes: spread(disk[..nt].iter().copied()),
        disk_percent: (disk_percent * 100.0).round() / 100.0,
        brokers: (0..n)
            .filter(|b| *b < nt || per_broker[*b] > 0)
            .map(|b| BrokerLoad {
                id: model.broker_ids[b],
                replicas: per_broker[b],
                leaders: per_leader[b],
                bytes: disk[b],
            })
            .collect(),
    }
}

fn spread(values: impl Iterator<Item = u64>) -> u64 {
    let (mut lo, mut hi) = (u64::MAX, 0);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    hi.saturating_sub(lo)
}

/// Replicas that must arrive somewhere: the targets' shares of `total` are ⌊total/B⌋ and,
/// for the `total mod B` brokers holding the most now, one more; a broker below its share
/// must receive the difference.
pub(crate) fn arrivals_bound(now: &[u64], total: u64) -> u64 {
    let n = now.len() as u64;
    if n == 0 {
        return 0;
    }
    let base = total / n;
    let extra = (total % n) as usize;
    let mut sorted: Vec<u64> = now.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted
        .iter()
        .enumerate()
        .map(|(i, c)| (base + u64::from(i < extra)).saturating_sub(*c))
        .sum()
}

/// Lower bounds on replica moves: (cluster-wide, sum over topics). `before` is the
/// assignment as it is, `totals` the replicas per topic after any replication-factor change.
pub(crate) fn move_bounds(model: &Model, before: &[Vec<u16>], totals: &[u64]) -> (u64, u64) {
    let n = model.n_brokers();
    let nt = model.n_target;
    let counts = model.topic_counts(before);
    let mut cluster_now = vec![0u64; nt];
    let mut per_topic = 0;
    for t in 0..model.n_topics() {
        let row: Vec<u64> = counts[t * n..t * n + nt]
            .iter()
            .map(|c| *c as u64)
            .collect();
        per_topic += arrivals_bound(&row, totals[t]);
        for b in 0..nt {
            cluster_now[b] += row[b];
        }
    }
    (arrivals_bound(&cluster_now, totals.iter().sum()), per_topic)
}

/// The disk band of each target broker: (low, high) bytes. Targets are the mean, or the
/// broker's capacity where that is lower (the rest spread over the others), ± `tolerance`
/// of the mean.
pub(crate) fn disk_band(total: u64, capacity: &[Option<u64>], tolerance: f64) -> Vec<(u64, u64)> {
    let n = capacity.len();
    if n == 0 {
        return Vec::new();
    }
    let hi: Vec<u64> = capacity.iter().map(|c| c.unwrap_or(u64::MAX / 4)).collect();
    let targets = super::quota::water_fill(total, &vec![1; n], &vec![0; n], &hi, &vec![0; n]);
    let slack = (total as f64 / n as f64 * tolerance).floor() as u64;
    targets
        .iter()
        .zip(&hi)
        .map(|(t, cap)| (t.saturating_sub(slack), (t + slack).min(*cap)))
        .collect()
}

/// Bytes any plan must move to bring every target's disk into its band with each topic
/// within two replicas per broker. Per broker b: replicas of a topic above the band's top
/// must leave (at least its smallest ones: `shed`), below its bottom must arrive (at least
/// the topic's smallest: `take`), and the disk must end within the band, so
///   departures(b) ≥ max(shed, disk − high + take)   (all of it for a broker leaving)
///   arrivals(b)   ≥ max(take, low − disk + shed).
/// Each topic's band may be any of width two around its mean, so shed and take are the
/// least over those. Every moved byte departs one broker and arrives at another: the
/// bound is the larger sum, or, topic by topic for its cheapest band, the larger of what
/// must leave brokers above it and reach brokers below it, if that is more. Replicas dropped by a smaller replication factor leave
/// without moving, so then only the arrivals without the band terms count.
pub(crate) fn bytes_bound(
    model: &Model,
    before: &[Vec<u16>],
    band: &[(u64, u64)],
    added: u64,
    shrinking: bool,
) -> u64 {
    let disk = model.disk(before);
    let nt = model.n_target;
    if shrinking {
        let arrive: u64 = (0..nt).map(|b| band[b].0.saturating_sub(disk[b])).sum();
        return arrive.max(added);
    }
    let mut shed = vec![0u64; nt];
    let mut take = vec![0u64; nt];
    // Topic by topic, for its cheapest band: what must leave brokers above it or reach
    // brokers below it (the larger), in the smallest replicas that could do it.
    let mut per_topic = 0u64;
    for parts in &model.topic_parts {
        let mut sizes_on: Vec<Vec<u64>> = vec![Vec::new(); nt];
        let mut all: Vec<u64> = Vec::with_capacity(parts.len());
        let mut replicas = 0u64;
        for p in parts {
            let p = *p as usize;
            all.push(model.size[p]);
            replicas += before[p].len() as u64;
            for b in &before[p] {
                if (*b as usize) < nt {
                    sizes_on[*b as usize].push(model.size[p]);
                }
            }
        }
        all.sort_unstable();
        sizes_on.iter_mut().for_each(|s| s.sort_unstable());
        let smallest = |sizes: &[u64], k: u32| sizes.iter().take(k as usize).sum::<u64>();
        let choices = super::bytes::band_choices(replicas, nt as u64);
        per_topic += choices
            .iter()
            .map(|(lo, hi)| {
                let (mut out, mut into) = (0u64, 0u64);
                for sizes in &sizes_on {
                    let count = sizes.len() as u32;
                    out += smallest(sizes, count.saturating_sub(*hi));
                    into += smallest(&all, lo.saturating_sub(count));
                }
                out.max(into)
            })
            .min()
            .unwrap_or(0);
        // Per broker, any band: at least what the widest window forces.
        let top = choices.iter().map(|c| c.1).max().unwrap_or(0);
        let bottom = choices.iter().map(|c| c.0).min().unwrap_or(0);
        for (b, sizes) in sizes_on.iter().enumerate() {
            let count = sizes.len() as u32;
            shed[b] += smallest(sizes, count.saturating_sub(top));
            take[b] += smallest(&all, bottom.saturating_sub(count));
        }
    }
    let mut departures = 0u64;
    let mut arrivals = 0u64;
    for b in 0..model.n_brokers() {
        if b < nt {
            departures += shed[b].max((disk[b] + take[b]).saturating_sub(band[b].1));
            arrivals += take[b].max((band[b].0 + shed[b]).saturating_sub(disk[b]));
        } else {
            departures += disk[b];
        }
    }
    departures.max(arrivals).max(added).max(per_topic)
}

/// Replica moves from `before` to `after`: replicas on a broker that did not hold them.
pub(crate) fn moves(before: &[Vec<u16>], after: &[Vec<u16>]) -> u64 {
    before
        .iter()
        .zip(after)
        .map(|(b, a)| a.iter().filter(|x| !b.contains(x)).count() as u64)
        .sum()
}

/// Bytes moved from `before` to `after`.
pub(crate) fn bytes_moved(model: &Model, before: &[Vec<u16>], after: &[Vec<u16>]) -> u64 {
    before
        .iter()
        .zip(after)
        .enumerate()
        .map(|(p, (b, a))| a.iter().filter(|x| !b.contains(x)).count() as u64 * model.size[p])
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_bound_gives_extras_to_the_fullest() {
        // 10 replicas on three brokers going to five: shares 2 each.
        assert_eq!(arrivals_bound(&[4, 3, 3, 0, 0], 10), 4);
        // 11: the fullest broker keeps a third.
        assert_eq!(arrivals_bound(&[4, 4, 3, 0, 0], 11), 4);
        assert_eq!(arrivals_bound(&[2, 2, 2], 6), 0);
    }

    #[test]
    fn disk_band_follows_capacity() {
        let band = disk_band(300, &[None, None, Some(50)], 0.1);
        assert_eq!(band[2].1, 50);
        assert_eq!(band[0], (115, 135));
    }
}
