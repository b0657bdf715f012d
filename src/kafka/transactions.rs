//! Transactions, as `kafka-transactions.sh` sees them: the transactional ids each
//! coordinator knows (ListTransactions, every broker at once), one transaction's state at
//! its coordinator (DescribeTransactions), the producers writing a partition
//! (DescribeProducers at its leader), hanging transactions (open in a partition for longer
//! than any transaction may last, and unknown to or forgotten by their coordinator), and
//! aborting one (WriteTxnMarkers at the partition's leader).

use super::client::{check_code, KafkaClient};
use crate::error::{Error, Result};
use kafka_protocol::messages::describe_producers_request::TopicRequest;
use kafka_protocol::messages::write_txn_markers_request::{
    WritableTxnMarker, WritableTxnMarkerTopic,
};
use kafka_protocol::messages::{
    DescribeProducersRequest, DescribeTransactionsRequest, FindCoordinatorRequest,
    ListTransactionsRequest, MetadataResponse, ProducerId, TopicName, TransactionalId,
    WriteTxnMarkersRequest,
};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

/// The transaction states Kafka names.
pub const STATES: &[&str] = &[
    "Empty",
    "Ongoing",
    "PrepareCommit",
    "PrepareAbort",
    "CompleteCommit",
    "CompleteAbort",
    "Dead",
    "PrepareEpochFence",
];

/// One transactional id as its coordinator lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionListing {
    /// The transactional id.
    pub transactional_id: String,
    /// The broker coordinating it.
    pub coordinator: i32,
    /// Its current producer id.
    pub producer_id: i64,
    /// Its state ("Ongoing", "CompleteCommit", ...).
    pub state: String,
}

/// Which transactions `list_transactions` returns; empty lists match all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionFilter {
    /// States (any of them).
    pub states: Vec<String>,
    /// Producer ids (any of them).
    pub producer_ids: Vec<i64>,
}

/// Canonical spelling of a state ("ongoing" → "Ongoing").
pub fn parse_state(text: &str) -> Result<String> {
    STATES
        .iter()
        .find(|s| s.eq_ignore_ascii_case(text.trim()))
        .map(|s| s.to_string())
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "unknown transaction state {text:?} (known: {})",
                STATES.join(", ")
            ))
        })
}

fn broker_ids(meta: &MetadataResponse) -> Vec<i32> {
    let mut ids: Vec<i32> = meta.brokers.iter().map(|b| b.node_id.0).collect();
    ids.sort();
    ids
}

/// Every transaction the coordinators know, asked of every broker at once; a broker that
/// does not answer is noted and the others' answer returned.
pub async fn list_transactions(
    client: &KafkaClient,
    filter: &TransactionFilter,
) -> Result<Vec<TransactionListing>> {
    let meta = client.metadata(Some(&[])).await?;
    let request = ListTransactionsRequest::default()
        .with_state_filters(
            filter
                .states
                .iter()
                .map(|s| StrBytes::from_string(s.clone()))
                .collect(),
        )
        .with_producer_id_filters(filter.producer_ids.iter().map(|p| ProducerId(*p)).collect());
    let limit = client.timeout() / 3;
    let ids = broker_ids(&meta);
    let answers = KafkaClient::join_all(
        ids.iter()
            .map(|id| {
                let request = &request;
                async move { (*id, client.send_to_within(*id, request, limit).await) }
            })
            .collect(),
    )
    .await;
    let mut out = Vec::new();
    let mut failed = Vec::new();
    for (id, answer) in answers {
        let response = match answer.and_then(|r| {
            check_code(
                r.error_code,
                None,
                &format!("ListTransactions at broker {id}"),
            )?;
            Ok(r)
        }) {
            Ok(r) => r,
            Err(e @ Error::Config(_)) => return Err(e),
            Err(e) => {
                client.note(format!("broker {id} did not list its transactions: {e}"));
                failed.push(e);
                continue;
            }
        };
        for t in response.transaction_states {
            out.push(TransactionListing {
                transactional_id: t.transactional_id.0.as_str().to_string(),
                coordinator: id,
                producer_id: t.producer_id.0,
                state: t.transaction_state.as_str().to_string(),
            });
        }
    }
    if !ids.is_empty() && failed.len() == ids.len() {
        return Err(failed.swap_remove(0));
    }
    out.sort_by(|a, b| a.transactional_id.cmp(&b.transactional_id));
    Ok(out)
}

/// One transactional id's state at its coordinator, as `kafka-transactions.sh describe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionDescription {
    /// The coordinator.
    pub coordinator: i32,
    /// The transactional id.
    pub transactional_id: String,
    /// Its producer id.
    pub producer_id: i64,
    /// Its producer epoch.
    pub producer_epoch: i16,
    /// Its state.
    pub state: String,
    /// Its transaction timeout.
    pub timeout_ms: i32,
    /// When the current transaction started (none without one).
    pub start_time_ms: Option<i64>,
    /// How long it has been running.
    pub duration_ms: Option<i64>,
    /// The partitions it writes to ("topic-partition").
    pub partitions: Vec<String>,
}

/// The coordinators of `ids` (FindCoordinator for transactions, batched from v4), retried
/// while they move or load.
async fn coordinators(client: &KafkaClient, ids: &[String]) -> Result<HashMap<String, i32>> {
    let batched = client
        .any()
        .await?
        .lock()
        .await
        .version_of::<FindCoordinatorRequest>()?
        >= 4;
    let mut out = HashMap::new();
    let mut delay = Duration::from_millis(100);
    for attempt in 0.. {
        let pending: Vec<String> = ids
            .iter()
            .filter(|i| !out.contains_key(*i))
            .cloned()
            .collect();
        if pending.is_empty() {
            break;
        }
        let mut answers = Vec::new();
        if batched {
            let request = FindCoordinatorRequest::default()
                .with_key_type(1)
                .with_coordinator_keys(
                    pending
                        .iter()
                        .map(|i| StrBytes::from_string(i.clone()))
                        .collect(),
                );
            let response = client.send_any(&request).await?;
            for c in response.coordinators {
                answers.push((
                    c.key.as_str().to_string(),
                    c.error_code,
                    c.error_message,
                    c.node_id.0,
                ));
            }
        } else {
            for id in &pending {
                let request = FindCoordinatorRequest::default()
                    .with_key_type(1)
                    .with_key(StrBytes::from_string(id.clone()));
                let r = client.send_any(&request).await?;
                answers.push((id.clone(), r.error_code, r.error_message, r.node_id.0));
            }
        }
        let mut retry = false;
        for (id, code, message, node) in answers {
            match check_code(code, message.as_ref(), &format!("transactional id {id:?}")) {
                Ok(()) => {
                    out.insert(id, node);
                }
                Err(Error::Cluster(m))
                    if attempt < 30
                        && [
                            "NOT_COORDINATOR",
                            "COORDINATOR_NOT_AVAILABLE",
                            "COORDINATOR_LOAD_IN_PROGRESS",
                        ]
                        .iter()
                        .any(|c| m.contains(c)) =>
                {
                    retry = true;
                }
                Err(e) => return Err(e),
            }
        }
        if !retry {
            break;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
    Ok(out)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The state of the transactions of `ids` at their coordinators; an id the coordinator
/// does not know maps to none.
async fn describe_many(
    client: &KafkaClient,
    ids: &[String],
) -> Result<BTreeMap<String, Option<TransactionDescription>>> {
    let coordinator = coordinators(client, ids).await?;
    let mut by_broker: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for id in ids {
        if let Some(b) = coordinator.get(id) {
            by_broker.entry(*b).or_default().push(id.clone());
        }
    }
    let mut out = BTreeMap::new();
    for (broker, ids) in by_broker {
        let request = DescribeTransactionsRequest::default().with_transactional_ids(
            ids.iter()
                .map(|i| TransactionalId(StrBytes::from_string(i.clone())))
                .collect(),
        );
        let response = client.send_to(broker, &request).await?;
        for t in response.transaction_states {
            let id = t.transactional_id.0.as_str().to_string();
            if t.error_code == kafka_protocol::error::ResponseError::TransactionalIdNotFound.code()
            {
                out.insert(id, None);
                continue;
            }
            check_code(t.error_code, None, &format!("transactional id {id:?}"))?;
            let start = (t.transaction_start_time_ms >= 0).then_some(t.transaction_start_time_ms);
            let mut partitions: Vec<String> = t
                .topics
                .iter()
                .flat_map(|tp| {
                    tp.partitions
                        .iter()
                        .map(move |p| format!("{}-{p}", tp.topic.0.as_str()))
                })
                .collect();
            partitions.sort();
            out.insert(
                id.clone(),
                Some(TransactionDescription {
                    coordinator: broker,
                    transactional_id: id,
                    producer_id: t.producer_id.0,
                    producer_epoch: t.producer_epoch,
                    state: t.transaction_state.as_str().to_string(),
                    timeout_ms: t.transaction_timeout_ms,
                    start_time_ms: start,
                    duration_ms: start.map(|s| now_ms() - s),
                    partitions,
                }),
            );
        }
    }
    Ok(out)
}

/// One transactional id's state at its coordinator; not found when it does not know it.
pub async fn describe_transaction(
    client: &KafkaClient,
    transactional_id: &str,
) -> Result<TransactionDescription> {
    if transactional_id.is_empty() {
        return Err(Error::InvalidInput("an empty transactional id".into()));
    }
    describe_many(client, &[transactional_id.to_string()])
        .await?
        .remove(transactional_id)
        .flatten()
        .ok_or_else(|| {
            Error::NotFound(format!(
                "transactional id {transactional_id:?} is not known to its coordinator"
            ))
        })
}

/// One producer writing a partition, as `kafka-transactions.sh describe-producers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProducerState {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The producer id.
    pub producer_id: i64,
    /// Its epoch.
    pub producer_epoch: i32,
    /// The epoch of the coordinator that last wrote a marker for it (none before any).
    pub coordinator_epoch: Option<i32>,
    /// The last sequence number it wrote.
    pub last_sequence: i32,
    /// The timestamp of its last write (ms).
    pub last_timestamp: i64,
    /// Where its open transaction starts (none without one).
    pub current_txn_start_offset: Option<i64>,
}

/// Where `describe_producers` sends each partition: the leader, or one broker.
fn route(
    meta: &MetadataResponse,
    partitions: &[(String, i32)],
    broker: Option<i32>,
) -> Result<BTreeMap<i32, Vec<(String, i32)>>> {
    let mut out: BTreeMap<i32, Vec<(String, i32)>> = BTreeMap::new();
    for (topic, partition) in partitions {
        let target = match broker {
            Some(b) => b,
            None => leader_of(meta, topic, *partition)?,
        };
        out.entry(target)
            .or_default()
            .push((topic.clone(), *partition));
    }
    Ok(out)
}

fn leader_of(meta: &MetadataResponse, topic: &str, partition: i32) -> Result<i32> {
    let t = meta
        .topics
        .iter()
        .find(|t| t.name.as_ref().is_some_and(|n| n.0.as_str() == topic))
        .ok_or_else(|| Error::NotFound(format!("topic {topic:?} does not exist")))?;
    let p = t
        .partitions
        .iter()
        .find(|p| p.partition_index == partition)
        .ok_or_else(|| Error::NotFound(format!("topic {topic:?} has no partition {partition}")))?;
    if p.leader_id.0 < 0 {
        return Err(Error::Cluster(format!(
            "partition {topic}-{partition} has no leader"
        )));
    }
    Ok(p.leader_id.0)
}

/// The producers of `partitions`, one DescribeProducers request per broker (the leaders,
/// or `broker` for all).
async fn producers(
    client: &KafkaClient,
    meta: &MetadataResponse,
    partitions: &[(String, i32)],
    broker: Option<i32>,
) -> Result<Vec<ProducerState>> {
    let mut out = Vec::new();
    for (target, parts) in route(meta, partitions, broker)? {
        let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for (t, p) in &parts {
            by_topic.entry(t).or_default().push(*p);
        }
        let request = DescribeProducersRequest::default().with_topics(
            by_topic
                .iter()
                .map(|(t, ps)| {
                    TopicRequest::default()
                        .with_name(TopicName(StrBytes::from_string(t.to_string())))
                        .with_partition_indexes(ps.clone())
                })
                .collect(),
        );
        let response = client.send_to(target, &request).await?;
        for t in response.topics {
            let topic = t.name.0.as_str().to_string();
            for p in t.partitions {
                check_code(
                    p.error_code,
                    p.error_message.as_ref(),
                    &format!("partition {topic}-{} at broker {target}", p.partition_index),
                )?;
                for s in p.active_producers {
                    out.push(ProducerState {
                        topic: topic.clone(),
                        partition: p.partition_index,
                        producer_id: s.producer_id.0,
                        producer_epoch: s.producer_epoch,
                        coordinator_epoch: (s.coordinator_epoch >= 0)
                            .then_some(s.coordinator_epoch),
                        last_sequence: s.last_sequence,
                        last_timestamp: s.last_timestamp,
                        current_txn_start_offset: (s.current_txn_start_offset >= 0)
                            .then_some(s.current_txn_start_offset),
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (&a.topic, a.partition, a.producer_id).cmp(&(&b.topic, b.partition, b.producer_id))
    });
    Ok(out)
}

/// The producers writing `topic`-`partition`, at its leader or at `broker` (a replica).
pub async fn describe_producers(
    client: &KafkaClient,
    topic: &str,
    partition: i32,
    broker: Option<i32>,
) -> Result<Vec<ProducerState>> {
    super::topics::validate_topic_name(topic)?;
    let meta = client.metadata(Some(&[topic.to_string()])).await?;
    producers(client, &meta, &[(topic.to_string(), partition)], broker).await
}

/// Where `find_hanging` looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HangingQuery {
    /// Every partition this broker holds a replica of (asked of that broker).
    pub broker: Option<i32>,
    /// One topic's partitions.
    pub topic: Option<String>,
    /// One partition of `topic`.
    pub partition: Option<i32>,
    /// The longest a transaction may last (the brokers' `transaction.max.timeout.ms`);
    /// open transactions whose last write is older than this are candidates.
    pub max_transaction_timeout: Duration,
}

/// One hanging transaction, as `kafka-transactions.sh find-hanging` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HangingTransaction {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The producer id.
    pub producer_id: i64,
    /// Its epoch.
    pub producer_epoch: i32,
    /// The coordinator epoch of its last marker (none before any).
    pub coordinator_epoch: Option<i32>,
    /// Where the open transaction starts.
    pub start_offset: i64,
    /// The producer's last write (ms).
    pub last_timestamp: i64,
    /// Minutes since then.
    pub duration_minutes: i64,
    /// The transactional id the coordinator has for this producer, if any.
    pub transactional_id: Option<String>,
    /// Why it hangs.
    pub why: String,
}

/// Whether an open transaction of `state` in `partition` hangs, given what the coordinator
/// says about its producer: nothing (no transactional id, or an id it no longer knows),
/// or a transaction that does not include the partition. Pure.
pub fn hanging_reason(
    partition: &str,
    transactional_id: Option<&str>,
    description: Option<&TransactionDescription>,
) -> Option<String> {
    match (transactional_id, description) {
        (None, _) => Some("no coordinator knows its producer id".to_string()),
        (Some(id), None) => Some(format!(
            "the coordinator no longer knows transactional id {id:?}"
        )),
        (Some(id), Some(d)) if !d.partitions.iter().any(|p| p == partition) => Some(format!(
            "transactional id {id:?} is {} at its coordinator, without this partition",
            d.state
        )),
        _ => None,
    }
}

/// Open transactions that hang, found as `kafka-transactions.sh find-hanging` finds them:
/// producers with an open transaction whose last write is older than the longest
/// transaction timeout, whose coordinator does not know them or does not count the
/// partition in their transaction.
pub async fn find_hanging(
    client: &KafkaClient,
    query: &HangingQuery,
) -> Result<Vec<HangingTransaction>> {
    if query.topic.is_none() && query.broker.is_none() {
        return Err(Error::InvalidInput(
            "name a topic or a broker to search".into(),
        ));
    }
    if query.partition.is_some() && query.topic.is_none() {
        return Err(Error::InvalidInput("a partition needs its topic".into()));
    }
    let meta = match &query.topic {
        Some(t) => {
            super::topics::validate_topic_name(t)?;
            client.metadata(Some(std::slice::from_ref(t))).await?
        }
        None => client.metadata(None).await?,
    };
    let mut partitions = Vec::new();
    for t in &meta.topics {
        let Some(name) = t.name.as_ref().map(|n| n.0.as_str().to_string()) else {
            continue;
        };
        if t.error_code == kafka_protocol::error::ResponseError::UnknownTopicOrPartition.code() {
            return Err(Error::NotFound(format!("topic {name:?} does not exist")));
        }
        for p in &t.partitions {
            let on_broker = query
                .broker
                .is_none_or(|b| p.replica_nodes.iter().any(|r| r.0 == b));
            let wanted = query.partition.is_none_or(|q| q == p.partition_index);
            if on_broker && wanted {
                partitions.push((name.clone(), p.partition_index));
            }
        }
    }
    if let (Some(t), Some(p)) = (&query.topic, query.partition) {
        if partitions.is_empty() {
            return Err(Error::NotFound(format!("topic {t:?} has no partition {p}")));
        }
    }
    let now = now_ms();
    let max = query.max_transaction_timeout.as_millis() as i64;
    let candidates: Vec<ProducerState> = producers(client, &meta, &partitions, query.broker)
        .await?
        .into_iter()
        .filter(|s| s.current_txn_start_offset.is_some() && now - s.last_timestamp > max)
        .collect();
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let ids: BTreeSet<i64> = candidates.iter().map(|c| c.producer_id).collect();
    let listing = list_transactions(
        client,
        &TransactionFilter {
            states: Vec::new(),
            producer_ids: ids.iter().copied().collect(),
        },
    )
    .await?;
    let txn_ids: HashMap<i64, String> = listing
        .into_iter()
        .filter(|l| ids.contains(&l.producer_id))
        .map(|l| (l.producer_id, l.transactional_id))
        .collect();
    let wanted: Vec<String> = txn_ids
        .values()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let descriptions = if wanted.is_empty() {
        BTreeMap::new()
    } else {
        describe_many(client, &wanted).await?
    };
    let mut out = Vec::new();
    for c in candidates {
        let id = txn_ids.get(&c.producer_id).map(String::as_str);
        let description = id.and_then(|i| descriptions.get(i).and_then(Option::as_ref));
        let partition = format!("{}-{}", c.topic, c.partition);
        if let Some(why) = hanging_reason(&partition, id, description) {
            out.push(HangingTransaction {
                topic: c.topic,
                partition: c.partition,
                producer_id: c.producer_id,
                producer_epoch: c.producer_epoch,
                coordinator_epoch: c.coordinator_epoch,
                start_offset: c.current_txn_start_offset.unwrap_or(-1),
                last_timestamp: c.last_timestamp,
                duration_minutes: (now - c.last_timestamp) / 60_000,
                transactional_id: id.map(str::to_string),
                why,
            });
        }
    }
    Ok(out)
}

/// What `abort_transaction` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AbortedTransaction {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The producer whose open transaction was aborted.
    pub producer_id: i64,
    /// Its epoch.
    pub producer_epoch: i32,
    /// The coordinator epoch the abort marker carries.
    pub coordinator_epoch: i32,
    /// Where the aborted transaction started.
    pub start_offset: i64,
    /// Why the transaction counted as hanging; none when aborted by force.
    pub hanging: Option<String>,
    /// True when nothing was changed.
    pub dry_run: bool,
}

/// Aborts `producer_id`'s open transaction in `topic`-`partition` by writing an abort
/// marker at the partition's leader, as `kafka-transactions.sh abort` does. Refused
/// unless the transaction hangs (its coordinator no longer counts this partition in it) or
/// `force`: aborting a live producer's transaction behind its back breaks its
/// exactly-once writes.
pub async fn abort_transaction(
    client: &KafkaClient,
    topic: &str,
    partition: i32,
    producer_id: i64,
    force: bool,
    dry_run: bool,
) -> Result<AbortedTransaction> {
    let states = describe_producers(client, topic, partition, None).await?;
    let state = states
        .iter()
        .find(|s| s.producer_id == producer_id)
        .ok_or_else(|| {
            Error::NotFound(format!(
                "producer {producer_id} has not written to {topic}-{partition} (its producers: {})",
                if states.is_empty() {
                    "none".to_string()
                } else {
                    states
                        .iter()
                        .map(|s| s.producer_id.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ))
        })?;
    let start = state.current_txn_start_offset.ok_or_else(|| {
        Error::NotFound(format!(
            "producer {producer_id} has no open transaction in {topic}-{partition}"
        ))
    })?;
    let listing = list_transactions(
        client,
        &TransactionFilter {
            states: Vec::new(),
            producer_ids: vec![producer_id],
        },
    )
    .await?;
    let id = listing
        .iter()
        .find(|l| l.producer_id == producer_id)
        .map(|l| l.transactional_id.clone());
    let description = match &id {
        Some(i) => describe_many(client, std::slice::from_ref(i))
            .await?
            .remove(i)
            .flatten(),
        None => None,
    };
    let hanging = hanging_reason(
        &format!("{topic}-{partition}"),
        id.as_deref(),
        description.as_ref(),
    );
    if hanging.is_none() && !force {
        let d = description.as_ref();
        return Err(Error::OutOfProportion(format!(
            "producer {producer_id}'s transaction in {topic}-{partition} is not hanging: its coordinator (broker {}) still counts the partition in transactional id {:?}, {}; it will finish or time out by itself, and aborting it behind the producer's back breaks its exactly-once writes",
            d.map_or(-1, |d| d.coordinator),
            id.unwrap_or_default(),
            d.map_or("", |d| d.state.as_str())
        )));
    }
    // As kafka-transactions.sh: a producer that never had a marker written shows
    // coordinator epoch -1; 0 is at most any real coordinator epoch.
    let coordinator_epoch = state.coordinator_epoch.unwrap_or(0).max(0);
    if !dry_run {
        let meta = client.metadata(Some(&[topic.to_string()])).await?;
        let leader = leader_of(&meta, topic, partition)?;
        let epoch = i16::try_from(state.producer_epoch).map_err(|_| {
            Error::Cluster(format!(
                "producer {producer_id} has epoch {}, beyond what a marker carries",
                state.producer_epoch
            ))
        })?;
        let request =
            WriteTxnMarkersRequest::default().with_markers(vec![WritableTxnMarker::default()
                .with_producer_id(ProducerId(producer_id))
                .with_producer_epoch(epoch)
                .with_transaction_result(false)
                .with_coordinator_epoch(coordinator_epoch)
                .with_topics(vec![WritableTxnMarkerTopic::default()
                    .with_name(TopicName(StrBytes::from_string(topic.to_string())))
                    .with_partition_indexes(vec![partition])])]);
        let response = client.send_to(leader, &request).await?;
        for m in &response.markers {
            for t in &m.topics {
                for p in &t.partitions {
                    check_code(
                        p.error_code,
                        None,
                        &format!("abort marker for {topic}-{partition}"),
                    )?;
                }
            }
        }
    }
    Ok(AbortedTransaction {
        topic: topic.to_string(),
        partition,
        producer_id,
        producer_epoch: state.producer_epoch,
        coordinator_epoch,
        start_offset: start,
        hanging,
        dry_run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(state: &str, partitions: &[&str]) -> TransactionDescription {
        TransactionDescription {
            coordinator: 1,
            transactional_id: "tx".into(),
            producer_id: 7,
            producer_epoch: 0,
            state: state.into(),
            timeout_ms: 60_000,
            start_time_ms: None,
            duration_ms: None,
            partitions: partitions.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn hanging_is_what_the_coordinator_does_not_count() {
        assert!(hanging_reason("t-0", None, None)
            .unwrap()
            .contains("no coordinator"));
        assert!(hanging_reason("t-0", Some("tx"), None)
            .unwrap()
            .contains("no longer knows"));
        let empty = described("Empty", &[]);
        let why = hanging_reason("t-0", Some("tx"), Some(&empty)).unwrap();
        assert!(why.contains("Empty"), "{why}");
        let ongoing = described("Ongoing", &["t-0", "u-1"]);
        assert_eq!(hanging_reason("t-0", Some("tx"), Some(&ongoing)), None);
        assert!(hanging_reason("t-1", Some("tx"), Some(&ongoing)).is_some());
        let aborting = described("PrepareAbort", &["t-0"]);
        assert_eq!(hanging_reason("t-0", Some("tx"), Some(&aborting)), None);
    }

    #[test]
    fn states_parse_in_any_case() {
        assert_eq!(parse_state("ongoing").unwrap(), "Ongoing");
        assert_eq!(parse_state("PREPAREABORT").unwrap(), "PrepareAbort");
        assert!(parse_state("running").is_err());
    }
}
