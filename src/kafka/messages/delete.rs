//! Deleting records below an offset (DeleteRecords, what `kafka-delete-records.sh` does)
//! through the admin path: planned first from the partitions' current log start and end
//! offsets, so the caller knows how many records go before anything is sent; then one
//! request per partition leader.

use crate::error::{Error, Result};
use crate::kafka::client::check_code;
use crate::kafka::offsets::{list_offsets, OffsetSpec, TopicPartition};
use crate::kafka::{topics, KafkaClient};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::{DeleteRecordsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;
use std::collections::BTreeMap;

/// Where to cut one partition's log: records below `before` are deleted; `None` means
/// the log end offset (everything).
pub type Cut = (i32, Option<i64>);

/// One partition of a planned or done deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeletedPartition {
    /// The partition.
    pub partition: i32,
    /// Log start offset before the call.
    pub earliest_before: i64,
    /// Log end offset before the call.
    pub latest: i64,
    /// Records below this offset are deleted.
    pub before: i64,
    /// Records deleted (0 when the log already starts at or after `before`).
    pub records: i64,
    /// The new log start offset as the leader reported it (none in a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_watermark: Option<i64>,
}

/// The outcome of `delete_records`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeleteRecordsResult {
    /// The topic.
    pub topic: String,
    /// Records deleted in all (the blast radius).
    pub records: i64,
    /// Per partition.
    pub partitions: Vec<DeletedPartition>,
    /// Whether this was only a plan (nothing deleted).
    pub dry_run: bool,
}

/// What deleting below `cuts` would remove from `topic`, checked against the logs: an
/// offset above a partition's log end offset is refused (Kafka would refuse it too).
pub async fn plan(client: &KafkaClient, topic: &str, cuts: &[Cut]) -> Result<DeleteRecordsResult> {
    if cuts.is_empty() {
        return Err(Error::InvalidInput(format!(
            "name the partitions of {topic:?} and the offset to delete below"
        )));
    }
    let description = topics::describe_topic(client, topic).await?;
    let tps: Vec<TopicPartition> = cuts.iter().map(|(p, _)| (topic.to_string(), *p)).collect();
    for (p, _) in cuts {
        if !description.partitions.iter().any(|d| d.partition == *p) {
            return Err(Error::NotFound(format!(
                "topic {topic:?} has no partition {p} (it has {} partitions)",
                description.partitions.len()
            )));
        }
    }
    let earliest = list_offsets(client, &tps, OffsetSpec::Earliest).await?;
    let latest = list_offsets(client, &tps, OffsetSpec::Latest).await?;
    let mut partitions = Vec::new();
    for (p, before) in cuts {
        let key = (topic.to_string(), *p);
        let low = earliest[&key].clone().map_err(Error::Cluster)?;
        let high = latest[&key].clone().map_err(Error::Cluster)?;
        let before = before.unwrap_or(high);
        if before < 0 || before > high {
            return Err(Error::InvalidInput(format!(
                "cannot delete {topic}-{p} below offset {before}: its log ends at {high} (log start {low})"
            )));
        }
        partitions.push(DeletedPartition {
            partition: *p,
            earliest_before: low,
            latest: high,
            before,
            records: (before - low).max(0),
            low_watermark: None,
        });
    }
    partitions.sort_by_key(|p| p.partition);
    Ok(DeleteRecordsResult {
        topic: topic.to_string(),
        records: partitions.iter().map(|p| p.records).sum(),
        partitions,
        dry_run: true,
    })
}

/// Deletes what `planned` says, one request per partition leader, and fills in each
/// partition's new log start offset. A partition the leader refuses fails the call with
/// Kafka's error; partitions of other leaders may be deleted by then (the error says so).
pub async fn execute(
    client: &KafkaClient,
    mut planned: DeleteRecordsResult,
) -> Result<DeleteRecordsResult> {
    let topic = planned.topic.clone();
    let description = topics::describe_topic(client, &topic).await?;
    let mut by_leader: BTreeMap<i32, Vec<(i32, i64)>> = BTreeMap::new();
    for p in &planned.partitions {
        let leader = description
            .partitions
            .iter()
            .find(|d| d.partition == p.partition)
            .and_then(|d| d.leader)
            .ok_or_else(|| Error::Cluster(format!("{topic}-{} has no leader", p.partition)))?;
        by_leader
            .entry(leader)
            .or_default()
            .push((p.partition, p.before));
    }
    let timeout_ms = client.timeout().as_millis().min(i32::MAX as u128) as i32;
    let requests: Vec<(i32, DeleteRecordsRequest)> = by_leader
        .into_iter()
        .map(|(leader, parts)| {
            let request = DeleteRecordsRequest::default()
                .with_timeout_ms(timeout_ms)
                .with_topics(vec![DeleteRecordsTopic::default()
                    .with_name(TopicName(StrBytes::from_string(topic.clone())))
                    .with_partitions(
                        parts
                            .into_iter()
                            .map(|(p, before)| {
                                DeleteRecordsPartition::default()
                                    .with_partition_index(p)
                                    .with_offset(before)
                            })
                            .collect(),
                    )]);
            (leader, request)
        })
        .collect();
    let answers =
        KafkaClient::join_all(
            requests
                .iter()
                .map(|(leader, request)| async move {
                    (*leader, client.send_to(*leader, request).await)
                })
                .collect(),
        )
        .await;
    let mut failures = Vec::new();
    let mut done = 0;
    for (leader, answer) in answers {
        match answer {
            Ok(response) => {
                for t in response.topics {
                    for r in t.partitions {
                        let what = format!("deleting records of {topic}-{}", r.partition_index);
                        match check_code(r.error_code, None, &what) {
                            Ok(()) => {
                                done += 1;
                                if let Some(p) = planned
                                    .partitions
                                    .iter_mut()
                                    .find(|p| p.partition == r.partition_index)
                                {
                                    p.low_watermark = Some(r.low_watermark);
                                }
                            }
                            Err(e) => failures.push(e.to_string()),
                        }
                    }
                }
            }
            Err(e) => failures.push(format!("leader {leader}: {e}")),
        }
    }
    if !failures.is_empty() {
        return Err(Error::Cluster(format!(
            "{} ({done} other partition(s) were cut as planned)",
            failures.join("; ")
        )));
    }
    planned.dry_run = false;
    Ok(planned)
}
