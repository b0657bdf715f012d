//! Log offsets of partitions (ListOffsets): earliest, latest or by timestamp, batched into
//! one request per partition leader — never one request per partition. A leader that does
//! not answer costs only its own partitions: they get an error naming it, the rest their
//! offsets, and the client a note saying what is missing.

use super::client::KafkaClient;
use crate::error::Result;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, ListOffsetsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use std::collections::{BTreeMap, HashMap};

/// Which offset to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset.
    Earliest,
    /// The log end offset (high watermark).
    Latest,
    /// The first offset whose timestamp is at or after this many ms since the epoch.
    Timestamp(i64),
}

impl OffsetSpec {
    fn code(self) -> i64 {
        match self {
            OffsetSpec::Earliest => -2,
            OffsetSpec::Latest => -1,
            OffsetSpec::Timestamp(ts) => ts,
        }
    }
}

/// A topic partition.
pub type TopicPartition = (String, i32);

/// Offsets of `partitions`: `Ok(offset)` per partition, or the error for that partition
/// (a partition whose leader did not answer gets that leader's error, and the client a
/// note). For a timestamp beyond the last message Kafka answers -1; that is returned as is.
pub async fn list_offsets(
    client: &KafkaClient,
    partitions: &[TopicPartition],
    spec: OffsetSpec,
) -> Result<BTreeMap<TopicPartition, std::result::Result<i64, String>>> {
    offsets_by_leader(client, partitions, spec, None).await
}

/// Like [`list_offsets`], for reports over many partitions: a leader that fails or does not
/// answer within `limit` leaves an error on its own partitions instead of failing the call.
pub async fn list_offsets_tolerant(
    client: &KafkaClient,
    partitions: &[TopicPartition],
    spec: OffsetSpec,
    limit: std::time::Duration,
) -> Result<BTreeMap<TopicPartition, std::result::Result<i64, String>>> {
    offsets_by_leader(client, partitions, spec, Some(limit)).await
}

async fn offsets_by_leader(
    client: &KafkaClient,
    partitions: &[TopicPartition],
    spec: OffsetSpec,
    tolerant_within: Option<std::time::Duration>,
) -> Result<BTreeMap<TopicPartition, std::result::Result<i64, String>>> {
    let mut out = BTreeMap::new();
    if partitions.is_empty() {
        return Ok(out);
    }
    let mut topics: Vec<String> = partitions.iter().map(|(t, _)| t.clone()).collect();
    topics.sort();
    topics.dedup();
    let meta = client.metadata(Some(&topics)).await?;
    let mut leaders: HashMap<TopicPartition, i32> = HashMap::new();
    for t in &meta.topics {
        let Some(name) = t.name.as_ref().map(|n| n.0.as_str().to_string()) else {
            continue;
        };
        for p in &t.partitions {
            leaders.insert((name.clone(), p.partition_index), p.leader_id.0);
        }
    }
    let mut by_leader: BTreeMap<i32, BTreeMap<String, Vec<i32>>> = BTreeMap::new();
    for tp in partitions {
        match leaders.get(tp) {
            Some(leader) if *leader >= 0 => {
                by_leader
                    .entry(*leader)
                    .or_default()
                    .entry(tp.0.clone())
                    .or_default()
                    .push(tp.1);
            }
            Some(_) => {
                out.insert(tp.clone(), Err(format!("{}-{} has no leader", tp.0, tp.1)));
            }
            None => {
                out.insert(tp.clone(), Err(format!("{}-{} does not exist", tp.0, tp.1)));
            }
        }
    }
    let timeout_ms = client.timeout().as_millis().min(i32::MAX as u128) as i32;
    let requests: Vec<(i32, ListOffsetsRequest)> = by_leader
        .into_iter()
        .map(|(leader, topics)| {
            let request = ListOffsetsRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_isolation_level(0)
                .with_timeout_ms(timeout_ms)
                .with_topics(
                    topics
                        .into_iter()
                        .map(|(topic, parts)| {
                            ListOffsetsTopic::default()
                                .with_name(TopicName(StrBytes::from_string(topic)))
                                .with_partitions(
                                    parts
                                        .into_iter()
                                        .map(|p| {
                                            ListOffsetsPartition::default()
                                                .with_partition_index(p)
                                                .with_current_leader_epoch(-1)
                                                .with_timestamp(spec.code())
                                        })
                                        .collect(),
                                )
                        })
                        .collect(),
                );
            (leader, request)
        })
        .collect();
    let answers = KafkaClient::join_all(
        requests
            .iter()
            .map(|(leader, request)| async move {
                let answer = match tolerant_within {
                    Some(limit) => client.send_to_within(*leader, request, limit).await,
                    None => client.send_to(*leader, request).await,
                };
                (*leader, answer)
            })
            .collect(),
    )
    .await;
    // A leader that fails or does not answer leaves an error on its own partitions and a
    // note; the others' offsets are complete.
    for ((leader, answer), (_, request)) in answers.into_iter().zip(&requests) {
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                let mut missing = 0;
                for t in &request.topics {
                    for p in &t.partitions {
                        missing += 1;
                        out.insert(
                            (t.name.0.as_str().to_string(), p.partition_index),
                            Err(format!("leader {e}")),
                        );
                    }
                }
                client.note(format!(
                    "no offsets for {missing} partition(s) led by broker {leader}: {e}"
                ));
                continue;
            }
        };
        for t in response.topics {
            let name = t.name.0.as_str().to_string();
            for p in t.partitions {
                let value = if p.error_code == 0 {
                    Ok(p.offset)
                } else {
                    Err(format!(
                        "{name}-{}: {}",
                        p.partition_index,
                        kafka_protocol::error::ParseResponseErrorCode::err(p.error_code)
                            .map(super::client::error_name)
                            .unwrap_or_default()
                    ))
                };
                out.insert((name.clone(), p.partition_index), value);
            }
        }
    }
    Ok(out)
}
