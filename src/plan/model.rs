//! The planner's working form of an assignment: topics, partitions and brokers as dense
//! indices (brokers as `u16`, targets first), replica counts per topic and broker, and the
//! per-partition sizes in bytes. Building it and turning it back into
//! [`PartitionAssignment`]s are the only places that touch topic names.

use super::PartitionAssignment;
use std::collections::HashMap;

/// A broker without a rack.
pub(crate) const NO_RACK: u16 = u16::MAX;

/// An assignment in dense form.
pub(crate) struct Model {
    /// Topic names, by topic index.
    pub topic_names: Vec<String>,
    /// The partitions of each topic (indices into the partition arrays).
    pub topic_parts: Vec<Vec<u32>>,
    /// Topic index of each partition.
    pub part_topic: Vec<u32>,
    /// Broker indices of each partition, preferred leader first.
    pub replicas: Vec<Vec<u16>>,
    /// Bytes of each partition (its largest replica), 0 when unknown.
    pub size: Vec<u64>,
    /// Broker id of each broker index: the targets (sorted) first, then the others.
    pub broker_ids: Vec<i32>,
    /// How many of `broker_ids` are targets.
    pub n_target: usize,
    /// Rack index of each broker index, [`NO_RACK`] when unknown or not rack-aware.
    pub rack: Vec<u16>,
    /// Distinct racks among the target brokers (0 when not rack-aware).
    pub n_racks: usize,
}

impl Model {
    /// The dense form of `current` with `targets` first. `racks` are used only when
    /// `rack_aware`. `sizes` maps (topic, partition) to bytes.
    pub fn build(
        current: &[PartitionAssignment],
        targets: &[i32],
        racks: &HashMap<i32, String>,
        rack_aware: bool,
        sizes: &dyn Fn(&str, i32) -> Option<u64>,
    ) -> Result<Model, String> {
        let mut broker_ids: Vec<i32> = targets.to_vec();
        broker_ids.sort_unstable();
        broker_ids.dedup();
        let n_target = broker_ids.len();
        let mut index: HashMap<i32, u16> = broker_ids
            .iter()
            .enumerate()
            .map(|(i, b)| (*b, i as u16))
            .collect();
        let mut others: Vec<i32> = Vec::new();
        for p in current {
            for b in &p.replicas {
                if !index.contains_key(b) && !others.contains(b) {
                    others.push(*b);
                }
            }
        }
        others.sort_unstable();
        for b in others {
            index.insert(b, broker_ids.len() as u16);
            broker_ids.push(b);
        }
        if broker_ids.len() >= u16::MAX as usize {
            return Err(format!(
                "{} brokers are more than the planner handles",
                broker_ids.len()
            ));
        }
        let mut topic_index: HashMap<&str, u32> = HashMap::new();
        let mut topic_names = Vec::new();
        let mut topic_parts: Vec<Vec<u32>> = Vec::new();
        let mut part_topic = Vec::with_capacity(current.len());
        let mut replicas = Vec::with_capacity(current.len());
        let mut size = Vec::with_capacity(current.len());
        for (i, p) in current.iter().enumerate() {
            let t = *topic_index.entry(p.topic.as_str()).or_insert_with(|| {
                topic_names.push(p.topic.clone());
                topic_parts.push(Vec::new());
                (topic_names.len() - 1) as u32
            });
            topic_parts[t as usize].push(i as u32);
            part_topic.push(t);
            if p.replicas.is_empty() {
                return Err(format!("{}-{} has no replicas", p.topic, p.partition));
            }
            let r: Vec<u16> = p.replicas.iter().map(|b| index[b]).collect();
            if (1..r.len()).any(|j| r[..j].contains(&r[j])) {
                return Err(format!("{}-{} names a broker twice", p.topic, p.partition));
            }
            replicas.push(r);
            size.push(sizes(&p.topic, p.partition).unwrap_or(0));
        }
        let mut rack = vec![NO_RACK; broker_ids.len()];
        let mut n_racks = 0;
        if rack_aware {
            let mut rack_index: HashMap<&str, u16> = HashMap::new();
            for (i, b) in broker_ids.iter().enumerate() {
                if let Some(r) = racks.get(b) {
                    let next = rack_index.len() as u16;
                    rack[i] = *rack_index.entry(r.as_str()).or_insert(next);
                }
            }
            let mut seen: Vec<u16> = rack[..n_target]
                .iter()
                .copied()
                .filter(|r| *r != NO_RACK)
                .collect();
            seen.sort_unstable();
            seen.dedup();
            n_racks = seen.len();
            if n_racks > 0 && rack[..n_target].contains(&NO_RACK) {
                let missing: Vec<i32> = (0..n_target)
                    .filter(|b| rack[*b] == NO_RACK)
                    .map(|b| broker_ids[b])
                    .collect();
                return Err(format!(
                    "rack-aware planning needs a rack for every target broker; brokers {missing:?} have none"
                ));
            }
        }
        Ok(Model {
            topic_names,
            topic_parts,
            part_topic,
            replicas,
            size,
            broker_ids,
            n_target,
            rack,
            n_racks,
        })
    }

    /// Number of broker indices (targets and others).
    pub fn n_brokers(&self) -> usize {
        self.broker_ids.len()
    }

    /// Number of topics.
    pub fn n_topics(&self) -> usize {
        self.topic_names.len()
    }

    /// Whether broker index `b` is a target.
    pub fn is_target(&self, b: u16) -> bool {
        (b as usize) < self.n_target
    }

    /// Replica counts per topic and broker (row-major, `n_brokers` per topic).
    pub fn topic_counts(&self, replicas: &[Vec<u16>]) -> Vec<u32> {
        let n = self.n_brokers();
        let mut counts = vec![0u32; self.n_topics() * n];
        for (p, r) in replicas.iter().enumerate() {
            let row = self.part_topic[p] as usize * n;
            for b in r {
                counts[row + *b as usize] += 1;
            }
        }
        counts
    }

    /// Preferred-leader counts per topic and broker (row-major).
    pub fn topic_leaders(&self, replicas: &[Vec<u16>]) -> Vec<u32> {
        let n = self.n_brokers();
        let mut counts = vec![0u32; self.n_topics() * n];
        for (p, r) in replicas.iter().enumerate() {
            counts[self.part_topic[p] as usize * n + r[0] as usize] += 1;
        }
        counts
    }

    /// Bytes per broker index.
    pub fn disk(&self, replicas: &[Vec<u16>]) -> Vec<u64> {
        let mut disk = vec![0u64; self.n_brokers()];
        for (p, r) in replicas.iter().enumerate() {
            for b in r {
                disk[*b as usize] += self.size[p];
            }
        }
        disk
    }

    /// Whether the racks of `replicas` are as distinct as the target racks allow:
    /// min(replicas, racks) distinct racks.
    pub fn racks_ok(&self, replicas: &[u16]) -> bool {
        if self.n_racks < 2 {
            return true;
        }
        distinct_racks(&self.rack, replicas) >= replicas.len().min(self.n_racks)
    }

    /// Whether broker `to` may take the place of `replicas[slot]` as far as racks go: the
    /// partition's distinct racks do not drop below what the racks allow.
    pub fn rack_allows(&self, replicas: &[u16], slot: usize, to: u16) -> bool {
        if self.n_racks < 2 {
            return true;
        }
        let from = replicas[slot];
        if self.rack[from as usize] == self.rack[to as usize] {
            return true;
        }
        let want = replicas.len().min(self.n_racks);
        let mut racks: [u16; 16] = [NO_RACK; 16];
        let mut n = 0;
        for (i, b) in replicas.iter().enumerate() {
            let r = if i == slot {
                self.rack[to as usize]
            } else {
                self.rack[*b as usize]
            };
            if n < racks.len() && !racks[..n].contains(&r) {
                racks[n] = r;
                n += 1;
            }
        }
        n >= want || n >= distinct_racks(&self.rack, replicas)
    }

    /// The assignment of `replicas` with names, in the order of `original`.
    pub fn to_assignments(
        &self,
        original: &[PartitionAssignment],
        replicas: &[Vec<u16>],
    ) -> Vec<PartitionAssignment> {
        original
            .iter()
            .zip(replicas)
            .map(|(p, r)| {
                let ids: Vec<i32> = r.iter().map(|b| self.broker_ids[*b as usize]).collect();
                let log_dirs = p.log_dirs.as_ref().filter(|_| ids == p.replicas).cloned();
                PartitionAssignment {
                    topic: p.topic.clone(),
                    partition: p.partition,
                    replicas: ids,
                    log_dirs,
                }
            })
            .collect()
    }
}

/// Distinct racks among `replicas` (a broker without a rack counts as its own rack).
pub(crate) fn distinct_racks(rack: &[u16], replicas: &[u16]) -> usize {
    let mut seen: [u16; 16] = [NO_RACK; 16];
    let mut n = 0;
    for b in replicas {
        let r = rack[*b as usize];
        if n < seen.len() && !seen[..n].contains(&r) {
            seen[n] = r;
            n += 1;
        }
    }
    n
}
