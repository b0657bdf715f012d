//! Where reading starts and stops, per partition, through the admin path: positions
//! ("earliest", "latest", an offset, a shift, a time) resolved against each partition's log
//! start and end offsets (ListOffsets, one request per leader), the offsets table of
//! `offsets()` (kafka-get-offsets.sh) and the record count of a topic.

use crate::error::{Error, Result};
use crate::kafka::offsets::{list_offsets, OffsetSpec, TopicPartition};
use crate::kafka::{topics, KafkaClient};
use serde::Serialize;
use std::collections::BTreeMap;

/// A position in a partition's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// The log start offset.
    Earliest,
    /// The log end offset (the next record written).
    Latest,
    /// An absolute offset.
    Offset(i64),
    /// Records from the end (negative) or from the start (positive).
    Shift(i64),
    /// The first record with a timestamp at or after this many ms since the epoch.
    Time(i64),
}

impl Position {
    /// The offset this position stands for in a log from `earliest` to `latest` (exclusive);
    /// `at_time` is the offset Kafka found for a time (none: no record that late).
    /// An absolute offset outside the log is an error naming the log's range.
    pub fn resolve(
        self,
        earliest: i64,
        latest: i64,
        at_time: Option<i64>,
        what: &str,
    ) -> Result<i64> {
        Ok(match self {
            Position::Earliest => earliest,
            Position::Latest => latest,
            Position::Offset(n) => {
                if n < earliest || n > latest {
                    return Err(Error::InvalidInput(format!(
                        "offset {n} is outside {what}'s log, which holds offsets {earliest} to {} ({})",
                        latest - 1,
                        if latest == earliest {
                            "empty".to_string()
                        } else {
                            format!("{} records", latest - earliest)
                        }
                    )));
                }
                n
            }
            Position::Shift(n) if n < 0 => latest.saturating_add(n).max(earliest),
            Position::Shift(n) => earliest.saturating_add(n).min(latest),
            Position::Time(_) => at_time.map_or(latest, |o| o.clamp(earliest, latest)),
        })
    }

    fn time(self) -> Option<i64> {
        match self {
            Position::Time(ms) => Some(ms),
            _ => None,
        }
    }
}

/// What to read of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PartitionRange {
    /// The partition.
    pub partition: i32,
    /// The log start offset when planned.
    pub earliest: i64,
    /// The log end offset when planned.
    pub latest: i64,
    /// The first offset to read.
    pub start: i64,
    /// The offset to stop before; none: follow new records.
    pub end: Option<i64>,
}

impl PartitionRange {
    /// Whether nothing is left to read.
    pub fn is_empty(&self) -> bool {
        self.end.is_some_and(|end| self.start >= end)
    }
}

/// Resolves `from` and `to` for `partitions` of `topic` (all when empty). Without `to`,
/// reading stops at the log end offset seen now, unless `follow` (then it does not stop).
pub async fn plan_read(
    client: &KafkaClient,
    topic: &str,
    partitions: &[i32],
    from: Position,
    to: Option<Position>,
    follow: bool,
) -> Result<Vec<PartitionRange>> {
    let chosen = chosen_partitions(client, topic, partitions).await?;
    let (earliest, latest) = log_bounds(client, topic, &chosen).await?;
    let mut at_time: BTreeMap<i64, BTreeMap<i32, i64>> = BTreeMap::new();
    for ms in [from.time(), to.and_then(Position::time)]
        .into_iter()
        .flatten()
    {
        if at_time.contains_key(&ms) {
            continue;
        }
        let tps: Vec<TopicPartition> = chosen.iter().map(|p| (topic.to_string(), *p)).collect();
        let found = list_offsets(client, &tps, OffsetSpec::Timestamp(ms)).await?;
        let mut offsets = BTreeMap::new();
        for ((_, p), answer) in found {
            let offset = answer.map_err(Error::Cluster)?;
            if offset >= 0 {
                offsets.insert(p, offset);
            }
        }
        at_time.insert(ms, offsets);
    }
    let offset_at = |pos: Position, p: i32| {
        pos.time()
            .and_then(|ms| at_time.get(&ms).and_then(|o| o.get(&p).copied()))
    };
    let mut out = Vec::with_capacity(chosen.len());
    for p in chosen {
        let (low, high) = (earliest[&p], latest[&p]);
        let what = format!("{topic}-{p}");
        let start = from.resolve(low, high, offset_at(from, p), &what)?;
        let end = match to {
            Some(Position::Offset(n)) if follow => Some(n.max(start)),
            Some(Position::Offset(n)) => Some(n.clamp(start, high.max(start))),
            Some(pos) => Some(pos.resolve(low, high, offset_at(pos, p), &what)?.max(start)),
            None if follow => None,
            None => Some(high.max(start)),
        };
        out.push(PartitionRange {
            partition: p,
            earliest: low,
            latest: high,
            start,
            end,
        });
    }
    Ok(out)
}

/// The partitions of `topic`, sorted (one Metadata request; a missing topic is an error).
pub async fn partitions_of(client: &KafkaClient, topic: &str) -> Result<Vec<i32>> {
    topics::validate_topic_name(topic)?;
    let meta = client.metadata(Some(&[topic.to_string()])).await?;
    let t = meta
        .topics
        .iter()
        .find(|t| t.name.as_ref().is_some_and(|n| n.0.as_str() == topic))
        .ok_or_else(|| Error::NotFound(format!("topic {topic:?} does not exist")))?;
    if t.error_code == kafka_protocol::error::ResponseError::UnknownTopicOrPartition.code() {
        return Err(Error::NotFound(format!("topic {topic:?} does not exist")));
    }
    crate::kafka::client::check_code(t.error_code, None, &format!("topic {topic:?}"))?;
    let mut all: Vec<i32> = t.partitions.iter().map(|p| p.partition_index).collect();
    all.sort_unstable();
    Ok(all)
}

/// The partitions of `topic` named in `wanted` (all when empty), checked to exist.
async fn chosen_partitions(client: &KafkaClient, topic: &str, wanted: &[i32]) -> Result<Vec<i32>> {
    let all = partitions_of(client, topic).await?;
    if wanted.is_empty() {
        return Ok(all);
    }
    let mut chosen = Vec::new();
    for p in wanted {
        if !all.contains(p) {
            return Err(Error::NotFound(format!(
                "topic {topic:?} has no partition {p} (it has {} partitions)",
                all.len()
            )));
        }
        if !chosen.contains(p) {
            chosen.push(*p);
        }
    }
    chosen.sort_unstable();
    Ok(chosen)
}

type Bounds = BTreeMap<i32, i64>;

/// Log start and end offsets of `partitions` (every partition must answer).
async fn log_bounds(
    client: &KafkaClient,
    topic: &str,
    partitions: &[i32],
) -> Result<(Bounds, Bounds)> {
    let tps: Vec<TopicPartition> = partitions.iter().map(|p| (topic.to_string(), *p)).collect();
    let mut out = Vec::new();
    for spec in [OffsetSpec::Earliest, OffsetSpec::Latest] {
        let mut bounds = BTreeMap::new();
        for ((_, p), answer) in list_offsets(client, &tps, spec).await? {
            bounds.insert(p, answer.map_err(Error::Cluster)?);
        }
        out.push(bounds);
    }
    let latest = out.pop().unwrap_or_default();
    let earliest = out.pop().unwrap_or_default();
    Ok((earliest, latest))
}

/// One partition's offsets, as `kafka-get-offsets.sh` gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionOffsets {
    /// The partition.
    pub partition: i32,
    /// The log start offset.
    pub earliest: i64,
    /// The log end offset (high watermark).
    pub latest: i64,
    /// Records in the log (latest − earliest; fewer on a compacted topic).
    pub records: i64,
    /// With a time: the first offset whose timestamp is at or after it; none when no
    /// record is that late.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset_for_time: Option<Option<i64>>,
}

/// Earliest and latest offset of every partition of `topic`, and with `time` (ms since the
/// epoch) the offset for that time.
pub async fn partition_offsets(
    client: &KafkaClient,
    topic: &str,
    time: Option<i64>,
) -> Result<Vec<PartitionOffsets>> {
    let partitions = chosen_partitions(client, topic, &[]).await?;
    let (earliest, latest) = log_bounds(client, topic, &partitions).await?;
    let mut for_time = BTreeMap::new();
    if let Some(ms) = time {
        let tps: Vec<TopicPartition> = partitions.iter().map(|p| (topic.to_string(), *p)).collect();
        for ((_, p), answer) in list_offsets(client, &tps, OffsetSpec::Timestamp(ms)).await? {
            let offset = answer.map_err(Error::Cluster)?;
            for_time.insert(p, (offset >= 0).then_some(offset));
        }
    }
    Ok(partitions
        .into_iter()
        .map(|p| PartitionOffsets {
            partition: p,
            earliest: earliest[&p],
            latest: latest[&p],
            records: latest[&p] - earliest[&p],
            offset_for_time: time.map(|_| for_time.get(&p).copied().flatten()),
        })
        .collect())
}

/// How many records a topic holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicCount {
    /// The topic.
    pub topic: String,
    /// The sum over partitions of log end − log start offset.
    pub records: i64,
    /// Per partition.
    pub partitions: Vec<PartitionOffsets>,
    /// Why the number may be too high (compaction, transactions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Counts the records of `topic` from its offsets (no record is read).
pub async fn count(client: &KafkaClient, topic: &str) -> Result<TopicCount> {
    let description = topics::describe_topic(client, topic).await?;
    let partitions = partition_offsets(client, topic, None).await?;
    let compacted = description
        .configs
        .get("cleanup.policy")
        .is_some_and(|p| p.contains("compact"));
    Ok(TopicCount {
        topic: topic.to_string(),
        records: partitions.iter().map(|p| p.records).sum(),
        partitions,
        note: compacted.then(|| {
            "cleanup.policy includes compact: offsets of removed records still count, so the topic holds fewer records than this".to_string()
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn positions_resolve_within_the_log() {
        let r = |p: Position| p.resolve(10, 50, None, "t-0");
        assert_eq!(r(Position::Earliest).unwrap(), 10);
        assert_eq!(r(Position::Latest).unwrap(), 50);
        assert_eq!(r(Position::Offset(41)).unwrap(), 41);
        assert_eq!(r(Position::Shift(-10)).unwrap(), 40);
        assert_eq!(r(Position::Shift(-100)).unwrap(), 10);
        assert_eq!(r(Position::Shift(5)).unwrap(), 15);
        assert_eq!(
            Position::Time(1).resolve(10, 50, Some(33), "t-0").unwrap(),
            33
        );
        assert_eq!(Position::Time(1).resolve(10, 50, None, "t-0").unwrap(), 50);
        let err = r(Position::Offset(9)).unwrap_err().to_string();
        assert!(err.contains("offset 9 is outside t-0's log"), "{err}");
        assert!(err.contains("10 to 49"), "{err}");
    }

    proptest! {
        #[test]
        fn a_resolved_position_is_always_in_the_log(
            low in 0i64..1_000_000, len in 0i64..1_000_000, n in -2_000_000i64..2_000_000,
            kind in 0u8..5,
        ) {
            let high = low + len;
            let pos = match kind {
                0 => Position::Earliest,
                1 => Position::Latest,
                2 => Position::Offset(n),
                3 => Position::Shift(n),
                _ => Position::Time(n),
            };
            let at_time = (n >= 0).then_some(n);
            if let Ok(o) = pos.resolve(low, high, at_time, "t-0") {
                prop_assert!(o >= low && o <= high);
            } else {
                prop_assert!(matches!(pos, Position::Offset(_)));
            }
        }
    }
}
