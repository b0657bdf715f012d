//! Consumer groups: list (ListGroups on every broker), describe (FindCoordinator batched,
//! DescribeGroups per coordinator, member assignments decoded) and committed offsets
//! (OffsetFetch, many groups per request where the broker allows it).

use super::client::{check_code, KafkaClient};
use crate::error::{Error, Result};
use bytes::Buf;
use kafka_protocol::messages::consumer_protocol_assignment::ConsumerProtocolAssignment;
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
use kafka_protocol::messages::{
    DescribeGroupsRequest, FindCoordinatorRequest, GroupId, ListGroupsRequest, OffsetFetchRequest,
};
use kafka_protocol::protocol::{Decodable, StrBytes};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A group as ListGroups reports it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GroupListing {
    /// Group id.
    pub group: String,
    /// Stable, Empty, PreparingRebalance, CompletingRebalance, Dead (when the broker says).
    pub state: String,
    /// "consumer" for consumer groups, "" for groups that only commit offsets.
    pub protocol_type: String,
}

/// Every group on every broker, sorted by name.
pub async fn list_groups(client: &KafkaClient) -> Result<Vec<GroupListing>> {
    let meta = client.metadata(Some(&[])).await?;
    let ids: Vec<i32> = meta.brokers.iter().map(|b| b.node_id.0).collect();
    let request = ListGroupsRequest::default();
    let answers =
        KafkaClient::join_all(ids.iter().map(|id| client.send_to(*id, &request)).collect()).await;
    let answered = answers.iter().filter(|a| a.is_ok()).count();
    let mut out = Vec::new();
    for (id, answer) in ids.iter().zip(answers) {
        // One broker's silence must not hide the groups the others coordinate.
        let response = match answer {
            Err(e) if answered > 0 => {
                client.note(format!(
                    "the groups broker {id} coordinates are missing: {e}"
                ));
                continue;
            }
            other => other?,
        };
        check_code(response.error_code, None, "ListGroups")?;
        for g in response.groups {
            out.push(GroupListing {
                group: g.group_id.0.as_str().to_string(),
                state: g.group_state.as_str().to_string(),
                protocol_type: g.protocol_type.as_str().to_string(),
            });
        }
    }
    out.sort_by(|a, b| a.group.cmp(&b.group));
    out.dedup_by(|a, b| a.group == b.group);
    Ok(out)
}

/// The coordinator broker of each group (FindCoordinator, batched on Kafka ≥ 3.0).
pub async fn coordinators(client: &KafkaClient, groups: &[String]) -> Result<HashMap<String, i32>> {
    // A fresh cluster creates __consumer_offsets on the first FindCoordinator and answers
    // COORDINATOR_NOT_AVAILABLE / LOAD_IN_PROGRESS meanwhile: retry those, as Kafka's
    // clients do, until the call's time limit.
    let mut delay = std::time::Duration::from_millis(100);
    loop {
        match find_coordinators(client, groups).await {
            Err(Error::Cluster(m))
                if m.contains("COORDINATOR_NOT_AVAILABLE")
                    || m.contains("COORDINATOR_LOAD_IN_PROGRESS") =>
            {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(1));
            }
            other => return other,
        }
    }
}

async fn find_coordinators(
    client: &KafkaClient,
    groups: &[String],
) -> Result<HashMap<String, i32>> {
    let mut out = HashMap::new();
    if groups.is_empty() {
        return Ok(out);
    }
    let conn = client.any().await?;
    let batched = conn
        .lock()
        .await
        .version_of::<FindCoordinatorRequest>()
        .map(|v| v >= 4)?;
    if batched {
        let request = FindCoordinatorRequest::default()
            .with_key_type(0)
            .with_coordinator_keys(
                groups
                    .iter()
                    .map(|g| StrBytes::from_string(g.clone()))
                    .collect(),
            );
        let response = client.send_any(&request).await?;
        for c in response.coordinators {
            check_code(
                c.error_code,
                c.error_message.as_ref(),
                &format!("group {:?}", c.key.as_str()),
            )?;
            out.insert(c.key.as_str().to_string(), c.node_id.0);
        }
    } else {
        for g in groups {
            let request = FindCoordinatorRequest::default()
                .with_key_type(0)
                .with_key(StrBytes::from_string(g.clone()));
            let response = client.send_any(&request).await?;
            check_code(
                response.error_code,
                response.error_message.as_ref(),
                &format!("group {g:?}"),
            )?;
            out.insert(g.clone(), response.node_id.0);
        }
    }
    Ok(out)
}

/// One member of a group.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GroupMember {
    /// Member id (CONSUMER-ID).
    pub consumer_id: String,
    /// Client host (HOST).
    pub host: String,
    /// Client id (CLIENT-ID).
    pub client_id: String,
    /// Static membership id, if any.
    pub group_instance_id: Option<String>,
    /// Assigned partitions: topic → partition indexes.
    pub assignment: BTreeMap<String, Vec<i32>>,
}

/// A group as DescribeGroups reports it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group id.
    pub group: String,
    /// Group state.
    pub state: String,
    /// Protocol type ("consumer").
    pub protocol_type: String,
    /// The assignor ("range", "cooperative-sticky", ...).
    pub protocol: String,
    /// Coordinator broker id.
    pub coordinator: i32,
    /// Members with their assignments.
    pub members: Vec<GroupMember>,
}

/// Retries `op` while a group coordinator is moving or still loading its groups (a fresh
/// cluster, a broker restart), as Kafka's own clients do; the call's time limit bounds it.
async fn while_coordinator_moves<T, F, Fut>(mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut delay = std::time::Duration::from_millis(100);
    let mut attempts = 0;
    loop {
        match op().await {
            Err(Error::Cluster(m))
                if attempts < 30
                    && [
                        "NOT_COORDINATOR",
                        "COORDINATOR_NOT_AVAILABLE",
                        "COORDINATOR_LOAD_IN_PROGRESS",
                    ]
                    .iter()
                    .any(|code| m.contains(code)) =>
            {
                attempts += 1;
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(1));
            }
            other => return other,
        }
    }
}

/// Describes groups, one DescribeGroups request per coordinator.
pub async fn describe_groups(
    client: &KafkaClient,
    groups: &[String],
) -> Result<Vec<GroupDescription>> {
    while_coordinator_moves(|| describe_groups_once(client, groups)).await
}

async fn describe_groups_once(
    client: &KafkaClient,
    groups: &[String],
) -> Result<Vec<GroupDescription>> {
    let coordinators = coordinators(client, groups).await?;
    let mut by_coordinator: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for g in groups {
        let c = coordinators
            .get(g)
            .copied()
            .ok_or_else(|| Error::Cluster(format!("no coordinator for group {g:?}")))?;
        by_coordinator.entry(c).or_default().push(g.clone());
    }
    let answers = KafkaClient::join_all(
        by_coordinator
            .iter()
            .map(|(id, names)| async move {
                let request = DescribeGroupsRequest::default().with_groups(
                    names
                        .iter()
                        .map(|n| GroupId(StrBytes::from_string(n.clone())))
                        .collect(),
                );
                (*id, client.send_to(*id, &request).await)
            })
            .collect(),
    )
    .await;
    let mut out = Vec::new();
    for (coordinator, answer) in answers {
        for g in answer?.groups {
            let name = g.group_id.0.as_str().to_string();
            if g.error_code == 69 {
                // GROUP_ID_NOT_FOUND: Kafka 4 says so; older brokers answer state "Dead".
                return Err(Error::NotFound(format!(
                    "consumer group {name:?} does not exist"
                )));
            }
            check_code(
                g.error_code,
                g.error_message.as_ref(),
                &format!("group {name:?}"),
            )?;
            let consumer = g.protocol_type.as_str() == "consumer";
            let members = g
                .members
                .iter()
                .map(|m| GroupMember {
                    consumer_id: m.member_id.as_str().to_string(),
                    host: m.client_host.as_str().to_string(),
                    client_id: m.client_id.as_str().to_string(),
                    group_instance_id: m.group_instance_id.as_ref().map(|i| i.as_str().to_string()),
                    assignment: if consumer {
                        decode_assignment(&m.member_assignment)
                    } else {
                        BTreeMap::new()
                    },
                })
                .collect();
            out.push(GroupDescription {
                group: name,
                state: g.group_state.as_str().to_string(),
                protocol_type: g.protocol_type.as_str().to_string(),
                protocol: g.protocol_data.as_str().to_string(),
                coordinator,
                members,
            });
        }
    }
    out.sort_by(|a, b| a.group.cmp(&b.group));
    Ok(out)
}

/// Decodes a consumer member's assignment (version prefix + ConsumerProtocolAssignment).
pub fn decode_assignment(bytes: &bytes::Bytes) -> BTreeMap<String, Vec<i32>> {
    let mut buf = bytes.clone();
    if buf.remaining() < 2 {
        return BTreeMap::new();
    }
    let version = buf.get_i16();
    let mut out = BTreeMap::new();
    if let Ok(assignment) = ConsumerProtocolAssignment::decode(&mut buf, version.clamp(0, 3)) {
        for tp in assignment.assigned_partitions {
            out.entry(tp.topic.0.as_str().to_string())
                .or_insert_with(Vec::new)
                .extend(tp.partitions);
        }
    }
    for parts in out.values_mut() {
        parts.sort();
    }
    out
}

/// Committed offsets of groups: group → topic → partition → offset. Partitions without a
/// committed offset are absent.
pub async fn committed_offsets(
    client: &KafkaClient,
    groups: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, BTreeMap<i32, i64>>>> {
    while_coordinator_moves(|| committed_offsets_once(client, groups)).await
}

async fn committed_offsets_once(
    client: &KafkaClient,
    groups: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, BTreeMap<i32, i64>>>> {
    let coordinators = coordinators(client, groups).await?;
    let mut by_coordinator: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for g in groups {
        if let Some(c) = coordinators.get(g) {
            by_coordinator.entry(*c).or_default().push(g.clone());
        }
    }
    let mut out = BTreeMap::new();
    for (coordinator, names) in by_coordinator {
        let conn = client.broker(coordinator).await?;
        // v10 names topics by id; kafsh speaks names, so stay at 9.
        let version = conn
            .lock()
            .await
            .version_of_capped::<OffsetFetchRequest>(9)?;
        if version >= 8 {
            let request = OffsetFetchRequest::default().with_groups(
                names
                    .iter()
                    .map(|n| {
                        OffsetFetchRequestGroup::default()
                            .with_group_id(GroupId(StrBytes::from_string(n.clone())))
                            .with_topics(None)
                    })
                    .collect(),
            );
            let response = conn.lock().await.send_version(&request, version).await?;
            for g in response.groups {
                let name = g.group_id.0.as_str().to_string();
                check_code(g.error_code, None, &format!("group {name:?}"))?;
                let topics: &mut BTreeMap<String, BTreeMap<i32, i64>> =
                    out.entry(name).or_default();
                for t in g.topics {
                    for p in t.partitions {
                        if p.error_code == 0 && p.committed_offset >= 0 {
                            topics
                                .entry(t.name.0.as_str().to_string())
                                .or_default()
                                .insert(p.partition_index, p.committed_offset);
                        }
                    }
                }
            }
        } else {
            for n in names {
                let request = OffsetFetchRequest::default()
                    .with_group_id(GroupId(StrBytes::from_string(n.clone())))
                    .with_topics(None);
                let response = conn.lock().await.send_version(&request, version).await?;
                check_code(response.error_code, None, &format!("group {n:?}"))?;
                let topics: &mut BTreeMap<String, BTreeMap<i32, i64>> = out.entry(n).or_default();
                for t in response.topics {
                    for p in t.partitions {
                        if p.error_code == 0 && p.committed_offset >= 0 {
                            topics
                                .entry(t.name.0.as_str().to_string())
                                .or_default()
                                .insert(p.partition_index, p.committed_offset);
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A group that reads a topic.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TopicReader {
    /// Group id.
    pub group: String,
    /// Group state.
    pub state: String,
    /// Members in the group.
    pub members: usize,
    /// Members that are assigned partitions of the topic.
    pub members_on_topic: usize,
    /// Partitions of the topic with a committed offset.
    pub committed_partitions: usize,
}

/// Groups that read `topic`: assigned to it now, or holding committed offsets for it.
pub async fn groups_reading(client: &KafkaClient, topic: &str) -> Result<Vec<TopicReader>> {
    let groups: Vec<String> = list_groups(client)
        .await?
        .into_iter()
        .map(|g| g.group)
        .collect();
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let described = describe_groups(client, &groups).await?;
    let offsets = committed_offsets(client, &groups).await?;
    let mut out = Vec::new();
    for d in described {
        let on_topic = d
            .members
            .iter()
            .filter(|m| m.assignment.contains_key(topic))
            .count();
        let committed = offsets
            .get(&d.group)
            .and_then(|t| t.get(topic))
            .map(BTreeMap::len)
            .unwrap_or(0);
        if on_topic > 0 || committed > 0 {
            out.push(TopicReader {
                group: d.group.clone(),
                state: d.state.clone(),
                members: d.members.len(),
                members_on_topic: on_topic,
                committed_partitions: committed,
            });
        }
    }
    Ok(out)
}

/// One row of `kafka-consumer-groups.sh --describe`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OffsetRow {
    /// TOPIC.
    pub topic: String,
    /// PARTITION.
    pub partition: i32,
    /// CURRENT-OFFSET: the committed offset, none when the group never committed one.
    pub current_offset: Option<i64>,
    /// LOG-END-OFFSET, none when it could not be read.
    pub log_end_offset: Option<i64>,
    /// LAG = LOG-END-OFFSET − CURRENT-OFFSET, none when either is unknown (never zero
    /// for an uncommitted partition).
    pub lag: Option<i64>,
    /// CONSUMER-ID, none for partitions no member is assigned.
    pub consumer_id: Option<String>,
    /// HOST.
    pub host: Option<String>,
    /// CLIENT-ID.
    pub client_id: Option<String>,
}

/// A group with its offsets and lag.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GroupLag {
    /// Group id.
    pub group: String,
    /// Group state.
    pub state: String,
    /// Coordinator broker id.
    pub coordinator: i32,
    /// Members with their assignments.
    pub members: Vec<GroupMember>,
    /// One row per assigned or committed partition, sorted by topic and partition.
    pub partitions: Vec<OffsetRow>,
    /// Sum of the known lags.
    pub total_lag: i64,
    /// Lag per topic.
    pub lag_per_topic: BTreeMap<String, i64>,
    /// "Consumer group 'g' has no active members." when it has none.
    pub note: Option<String>,
}

/// Describes groups with exact lag, computed as ConsumerGroupCommand does: rows for every
/// partition assigned to a member, plus committed partitions no member holds; LAG is
/// log-end offset minus committed offset, unknown without a commit. Requests: one
/// FindCoordinator, one DescribeGroups and one OffsetFetch per coordinator, one Metadata,
/// one ListOffsets per partition leader.
pub async fn group_lags(
    client: &KafkaClient,
    groups: &[String],
    topics: &[String],
) -> Result<Vec<GroupLag>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let described = describe_groups(client, groups).await?;
    let offsets = committed_offsets(client, groups).await?;
    let wanted = |t: &str| topics.is_empty() || topics.iter().any(|x| x == t);
    let mut partitions: Vec<(String, i32)> = Vec::new();
    for d in &described {
        for m in &d.members {
            for (t, ps) in &m.assignment {
                if wanted(t) {
                    partitions.extend(ps.iter().map(|p| (t.clone(), *p)));
                }
            }
        }
        if let Some(committed) = offsets.get(&d.group) {
            for (t, ps) in committed {
                if wanted(t) {
                    partitions.extend(ps.keys().map(|p| (t.clone(), *p)));
                }
            }
        }
    }
    partitions.sort();
    partitions.dedup();
    let ends =
        super::offsets::list_offsets(client, &partitions, super::offsets::OffsetSpec::Latest)
            .await?;
    let mut out = Vec::new();
    for d in described {
        let committed = offsets.get(&d.group).cloned().unwrap_or_default();
        if d.state == "Dead" && committed.is_empty() {
            return Err(Error::NotFound(format!(
                "consumer group {:?} does not exist",
                d.group
            )));
        }
        let mut rows = Vec::new();
        let mut assigned = std::collections::BTreeSet::new();
        for m in &d.members {
            for (t, ps) in &m.assignment {
                if !wanted(t) {
                    continue;
                }
                for p in ps {
                    assigned.insert((t.clone(), *p));
                    rows.push(row(t, *p, &committed, &ends, Some(m)));
                }
            }
        }
        for (t, ps) in &committed {
            if !wanted(t) {
                continue;
            }
            for p in ps.keys() {
                if !assigned.contains(&(t.clone(), *p)) {
                    rows.push(row(t, *p, &committed, &ends, None));
                }
            }
        }
        rows.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        let mut lag_per_topic: BTreeMap<String, i64> = BTreeMap::new();
        for r in &rows {
            *lag_per_topic.entry(r.topic.clone()).or_default() += r.lag.unwrap_or(0);
        }
        let note = if d.members.is_empty() {
            Some(format!(
                "Consumer group '{}' has no active members.",
                d.group
            ))
        } else if d.state.contains("Rebalance") {
            Some(format!("Consumer group '{}' is rebalancing.", d.group))
        } else {
            None
        };
        out.push(GroupLag {
            group: d.group,
            state: d.state,
            coordinator: d.coordinator,
            members: d.members,
            total_lag: lag_per_topic.values().sum(),
            lag_per_topic,
            partitions: rows,
            note,
        });
    }
    Ok(out)
}

fn row(
    topic: &str,
    partition: i32,
    committed: &BTreeMap<String, BTreeMap<i32, i64>>,
    ends: &BTreeMap<(String, i32), std::result::Result<i64, String>>,
    member: Option<&GroupMember>,
) -> OffsetRow {
    let current = committed
        .get(topic)
        .and_then(|ps| ps.get(&partition))
        .copied();
    let end = ends
        .get(&(topic.to_string(), partition))
        .and_then(|r| r.as_ref().ok())
        .copied();
    OffsetRow {
        topic: topic.to_string(),
        partition,
        current_offset: current,
        log_end_offset: end,
        lag: match (current, end) {
            (Some(c), Some(e)) => Some(e - c),
            _ => None,
        },
        consumer_id: member.map(|m| m.consumer_id.clone()),
        host: member.map(|m| m.host.clone()),
        client_id: member.map(|m| m.client_id.clone()),
    }
}

/// Where `reset_offsets` moves a group.
#[derive(Debug, Clone, PartialEq)]
pub enum ResetTarget {
    /// The log start.
    Earliest,
    /// The log end.
    Latest,
    /// An absolute offset (clamped to the log's range, as Kafka does).
    Offset(i64),
    /// The first offset at or after a time (ms since the epoch).
    Timestamp(i64),
    /// The committed offset moved by n (clamped).
    Shift(i64),
}

/// One partition of a reset plan.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ResetRow {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Committed offset before, none when there was none.
    pub old_offset: Option<i64>,
    /// The offset the group will read next.
    pub new_offset: i64,
    /// Why the requested offset was changed (clamped into the log's range), if it was.
    pub note: Option<String>,
}

/// A reset plan, and whether it was committed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ResetPlan {
    /// Group id.
    pub group: String,
    /// Whether the new offsets were committed.
    pub executed: bool,
    /// The plan, per partition.
    pub partitions: Vec<ResetRow>,
    /// What happened, for people.
    pub message: String,
}

/// Plans (and with `execute`, commits) new offsets for `group` on `partitions` (all
/// partitions of `topics` when `partitions` is empty). Refused while the group has members.
pub async fn reset_offsets(
    client: &KafkaClient,
    group: &str,
    topics: &[String],
    only_partitions: &[i32],
    target: &ResetTarget,
    execute: bool,
) -> Result<ResetPlan> {
    use super::offsets::{list_offsets, OffsetSpec};
    if topics.is_empty() {
        return Err(Error::InvalidInput(
            "name the topic(s) to reset: #{topic: \"name\"}".into(),
        ));
    }
    // A group that does not exist yet gets its first offsets (Kafka 4 says
    // GROUP_ID_NOT_FOUND, older brokers "Dead").
    let (members, coordinator) = match describe_groups(client, &[group.to_string()]).await {
        Ok(described) => {
            let d = described.into_iter().next().ok_or_else(|| {
                Error::NotFound(format!("consumer group {group:?} does not exist"))
            })?;
            (d.members, d.coordinator)
        }
        Err(Error::NotFound(_)) => {
            let c = coordinators(client, &[group.to_string()]).await?;
            (Vec::new(), c.get(group).copied().unwrap_or(-1))
        }
        Err(e) => return Err(e),
    };
    if !members.is_empty() {
        let names: Vec<String> = members
            .iter()
            .map(|m| format!("{} ({} on {})", m.consumer_id, m.client_id, m.host))
            .collect();
        return Err(Error::Refused(format!(
            "consumer group {group:?} has {} active member(s): {}; stop them first (offsets can only be reset while the group is empty)",
            members.len(),
            names.join(", ")
        )));
    }
    let meta = client.metadata(Some(topics)).await?;
    let mut partitions: Vec<(String, i32)> = Vec::new();
    for t in &meta.topics {
        let name = t
            .name
            .as_ref()
            .map(|n| n.0.as_str().to_string())
            .unwrap_or_default();
        if t.error_code != 0 {
            return Err(Error::NotFound(format!("topic {name:?} does not exist")));
        }
        for p in &t.partitions {
            if only_partitions.is_empty() || only_partitions.contains(&p.partition_index) {
                partitions.push((name.clone(), p.partition_index));
            }
        }
    }
    for p in only_partitions {
        if !partitions.iter().any(|(_, x)| x == p) {
            return Err(Error::NotFound(format!(
                "partition {p} does not exist in {}",
                topics.join(", ")
            )));
        }
    }
    partitions.sort();
    let committed = committed_offsets(client, &[group.to_string()]).await?;
    let committed = committed.get(group).cloned().unwrap_or_default();
    let earliest = list_offsets(client, &partitions, OffsetSpec::Earliest).await?;
    let latest = list_offsets(client, &partitions, OffsetSpec::Latest).await?;
    let by_time = match target {
        ResetTarget::Timestamp(ts) => {
            Some(list_offsets(client, &partitions, OffsetSpec::Timestamp(*ts)).await?)
        }
        _ => None,
    };
    let mut rows = Vec::new();
    for tp in &partitions {
        let lo = offset_of(&earliest, tp)?;
        let hi = offset_of(&latest, tp)?;
        let old = committed.get(&tp.0).and_then(|m| m.get(&tp.1)).copied();
        let (wanted, mut note) = match target {
            ResetTarget::Earliest => (lo, None),
            ResetTarget::Latest => (hi, None),
            ResetTarget::Offset(o) => (*o, None),
            ResetTarget::Shift(n) => match old {
                Some(o) => (o.saturating_add(*n), None),
                None => {
                    return Err(Error::InvalidInput(format!(
                        "cannot shift {}-{}: the group has no committed offset there",
                        tp.0, tp.1
                    )))
                }
            },
            ResetTarget::Timestamp(_) => {
                let found = by_time
                    .as_ref()
                    .map(|m| offset_of(m, tp))
                    .transpose()?
                    .unwrap_or(-1);
                if found < 0 {
                    (
                        hi,
                        Some("no message at or after that time: the log end".to_string()),
                    )
                } else {
                    (found, None)
                }
            }
        };
        let new = wanted.clamp(lo, hi);
        if new != wanted {
            note = Some(format!(
                "{wanted} is outside the log's range {lo}..{hi}; clamped to {new}"
            ));
        }
        rows.push(ResetRow {
            topic: tp.0.clone(),
            partition: tp.1,
            old_offset: old,
            new_offset: new,
            note,
        });
    }
    if execute {
        while_coordinator_moves(|| async {
            // The coordinator may have moved since the group was described.
            let now = coordinators(client, &[group.to_string()]).await?;
            let at = now.get(group).copied().unwrap_or(coordinator);
            commit_offsets(client, group, at, &rows).await
        })
        .await?;
    }
    Ok(ResetPlan {
        group: group.to_string(),
        executed: execute,
        message: if execute {
            format!(
                "committed new offsets for {} partition(s) of group {group:?}",
                rows.len()
            )
        } else {
            "plan only: nothing committed (run with --yes or #{execute: true} to commit)"
                .to_string()
        },
        partitions: rows,
    })
}

fn offset_of(
    m: &BTreeMap<(String, i32), std::result::Result<i64, String>>,
    tp: &(String, i32),
) -> Result<i64> {
    match m.get(tp) {
        Some(Ok(o)) => Ok(*o),
        Some(Err(e)) => Err(Error::Cluster(e.clone())),
        None => Err(Error::Cluster(format!("no offset for {}-{}", tp.0, tp.1))),
    }
}

async fn commit_offsets(
    client: &KafkaClient,
    group: &str,
    coordinator: i32,
    rows: &[ResetRow],
) -> Result<()> {
    use kafka_protocol::messages::offset_commit_request::{
        OffsetCommitRequestPartition, OffsetCommitRequestTopic,
    };
    use kafka_protocol::messages::{OffsetCommitRequest, TopicName};
    let mut by_topic: BTreeMap<&str, Vec<&ResetRow>> = BTreeMap::new();
    for r in rows {
        by_topic.entry(r.topic.as_str()).or_default().push(r);
    }
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
        .with_generation_id_or_member_epoch(-1)
        .with_member_id(StrBytes::from_static_str(""))
        .with_retention_time_ms(-1)
        .with_topics(
            by_topic
                .into_iter()
                .map(|(t, rows)| {
                    OffsetCommitRequestTopic::default()
                        .with_name(TopicName(StrBytes::from_string(t.to_string())))
                        .with_partitions(
                            rows.iter()
                                .map(|r| {
                                    OffsetCommitRequestPartition::default()
                                        .with_partition_index(r.partition)
                                        .with_committed_offset(r.new_offset)
                                        .with_committed_leader_epoch(-1)
                                        .with_committed_metadata(Some(StrBytes::from_static_str(
                                            "",
                                        )))
                                })
                                .collect(),
                        )
                })
                .collect(),
        );
    let conn = client.broker(coordinator).await?;
    // v10 names topics by id; kafsh speaks names.
    let version = conn
        .lock()
        .await
        .version_of_capped::<OffsetCommitRequest>(9)?;
    let response = conn.lock().await.send_version(&request, version).await?;
    for t in response.topics {
        for p in t.partitions {
            check_code(
                p.error_code,
                None,
                &format!(
                    "group {group:?} offset of {}-{}",
                    t.name.0.as_str(),
                    p.partition_index
                ),
            )?;
        }
    }
    Ok(())
}

/// What `delete_group` did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeletedGroup {
    /// Group id.
    pub group: String,
    /// Whether it was deleted now.
    pub deleted: bool,
    /// True when nothing was changed.
    pub dry_run: bool,
}

/// Deletes a group and its committed offsets; refused while it has members.
pub async fn delete_group(
    client: &KafkaClient,
    group: &str,
    dry_run: bool,
) -> Result<DeletedGroup> {
    use kafka_protocol::messages::DeleteGroupsRequest;
    let described = describe_groups(client, &[group.to_string()]).await?;
    let d = described
        .first()
        .ok_or_else(|| Error::NotFound(format!("consumer group {group:?} does not exist")))?;
    if d.state == "Dead" {
        return Err(Error::NotFound(format!(
            "consumer group {group:?} does not exist"
        )));
    }
    if !d.members.is_empty() {
        let names: Vec<&str> = d.members.iter().map(|m| m.consumer_id.as_str()).collect();
        return Err(Error::Refused(format!(
            "consumer group {group:?} has {} active member(s): {}",
            d.members.len(),
            names.join(", ")
        )));
    }
    if !dry_run {
        let request = DeleteGroupsRequest::default()
            .with_groups_names(vec![GroupId(StrBytes::from_string(group.to_string()))]);
        let response = client.send_to(d.coordinator, &request).await?;
        for r in response.results {
            check_code(r.error_code, None, &format!("group {group:?}"))?;
        }
    }
    Ok(DeletedGroup {
        group: group.to_string(),
        deleted: !dry_run,
        dry_run,
    })
}

/// An old ZooKeeper-based group with lag against the brokers' log-end offsets, in the same
/// shape as a modern group's (`state` is "Stable" with members, else "Empty").
pub async fn legacy_group_lag(
    client: &KafkaClient,
    zk: &crate::zk::znodes::ZkSession,
    group: &str,
) -> Result<GroupLag> {
    let legacy = crate::zk::legacy::read(zk, group).await?;
    let mut partitions: Vec<(String, i32)> = Vec::new();
    for (t, ps) in &legacy.offsets {
        partitions.extend(ps.keys().map(|p| (t.clone(), *p)));
    }
    for (t, ps) in &legacy.owners {
        partitions.extend(ps.keys().map(|p| (t.clone(), *p)));
    }
    partitions.sort();
    partitions.dedup();
    let ends =
        super::offsets::list_offsets(client, &partitions, super::offsets::OffsetSpec::Latest)
            .await?;
    let members: Vec<GroupMember> = legacy
        .members
        .iter()
        .map(|id| GroupMember {
            consumer_id: id.clone(),
            host: String::new(),
            client_id: String::new(),
            group_instance_id: None,
            assignment: legacy
                .owners
                .iter()
                .filter_map(|(t, ps)| {
                    let mine: Vec<i32> = ps
                        .iter()
                        .filter(|(_, o)| o.starts_with(id.as_str()))
                        .map(|(p, _)| *p)
                        .collect();
                    (!mine.is_empty()).then(|| (t.clone(), mine))
                })
                .collect(),
        })
        .collect();
    let mut rows = Vec::new();
    for (t, p) in &partitions {
        let owner = legacy.owners.get(t).and_then(|o| o.get(p)).cloned();
        let current = legacy.offsets.get(t).and_then(|o| o.get(p)).copied();
        let end = ends
            .get(&(t.clone(), *p))
            .and_then(|r| r.as_ref().ok())
            .copied();
        rows.push(OffsetRow {
            topic: t.clone(),
            partition: *p,
            current_offset: current,
            log_end_offset: end,
            lag: match (current, end) {
                (Some(c), Some(e)) => Some(e - c),
                _ => None,
            },
            consumer_id: owner,
            host: None,
            client_id: None,
        });
    }
    let mut lag_per_topic: BTreeMap<String, i64> = BTreeMap::new();
    for r in &rows {
        *lag_per_topic.entry(r.topic.clone()).or_default() += r.lag.unwrap_or(0);
    }
    Ok(GroupLag {
        group: group.to_string(),
        state: if members.is_empty() {
            "Empty"
        } else {
            "Stable"
        }
        .to_string(),
        coordinator: -1,
        note: members
            .is_empty()
            .then(|| format!("Consumer group '{group}' has no active members.")),
        members,
        total_lag: lag_per_topic.values().sum(),
        lag_per_topic,
        partitions: rows,
    })
}
