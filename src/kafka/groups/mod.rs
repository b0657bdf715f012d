//! Groups of every type Kafka has: classic consumer groups, consumer groups on the KIP-848
//! rebalance protocol, share groups (KIP-932) and streams groups (KIP-1071). Listing
//! (ListGroups on every broker, with its type filter), describing each type through the API
//! it needs, offsets and lag as Kafka's tools compute them, and the mutations.
//!
//! - `gather.rs`: one call's view of the brokers (a stuck broker costs one bounded wait),
//!   coordinators, and describe + offsets per coordinator, per group, with per-group errors;
//! - `describe.rs`: DescribeGroups, ConsumerGroupDescribe, ShareGroupDescribe,
//!   StreamsGroupDescribe → one [`GroupDescription`];
//! - `positions.rs`: committed offsets (OffsetFetch) and share-partition start offsets
//!   (DescribeShareGroupOffsets);
//! - `lag.rs`: the rows of `--describe` and the one lag computation every kind shares;
//! - `admin.rs`: reset offsets, delete groups and group offsets;
//! - `wire.rs`: the messages the protocol crate lacks.

mod admin;
mod describe;
mod gather;
mod lag;
mod positions;
pub mod wire;

pub use admin::{
    delete_group, delete_group_offsets, reset_offsets, DeletedGroup, DeletedOffsets,
    OffsetDeletion, ResetPlan, ResetRow, ResetTarget,
};
pub use lag::{
    describe_group, group_lags, groups_reading, legacy_group_lag, GroupLag, OffsetRow, TopicReader,
};

use super::client::{check_code, KafkaClient};
use crate::error::{Error, Result};
use kafka_protocol::messages::ListGroupsRequest;
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;
use std::collections::BTreeMap;

/// The kind of a group, as ListGroups (v5+) and `kafka-groups.sh --list` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum GroupType {
    /// The classic rebalance protocol (JoinGroup/SyncGroup), and groups that only commit
    /// offsets. The only kind before Kafka 3.7.
    Classic,
    /// The KIP-848 consumer rebalance protocol (`group.protocol=consumer`).
    Consumer,
    /// A share group (KIP-932): queue-like consumption, records acknowledged one by one.
    Share,
    /// A Kafka Streams application on the KIP-1071 protocol (`group.protocol=streams`).
    Streams,
    /// A kind this kafsh does not know (a newer broker).
    Unknown,
}

impl GroupType {
    /// The four kinds, in Kafka's order.
    pub const ALL: [GroupType; 4] = [
        GroupType::Classic,
        GroupType::Consumer,
        GroupType::Share,
        GroupType::Streams,
    ];

    /// "Classic", "Consumer", "Share", "Streams" (Kafka's spelling).
    pub fn name(self) -> &'static str {
        match self {
            GroupType::Classic => "Classic",
            GroupType::Consumer => "Consumer",
            GroupType::Share => "Share",
            GroupType::Streams => "Streams",
            GroupType::Unknown => "Unknown",
        }
    }

    /// Parses a type name case-insensitively ("consumer", "Share", ...).
    pub fn parse(text: &str) -> Result<GroupType> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unknown group type {text:?}: want classic, consumer, share or streams"
                ))
            })
    }

    /// The type a broker reports; brokers before ListGroups v5 know only classic groups.
    fn from_broker(text: &str) -> GroupType {
        if text.is_empty() {
            GroupType::Classic
        } else {
            Self::parse(text).unwrap_or(GroupType::Unknown)
        }
    }

    /// "Consumer group", "Share group", ... for messages that mirror Kafka's tools.
    fn noun(self) -> &'static str {
        match self {
            GroupType::Share => "Share group",
            GroupType::Streams => "Streams group",
            _ => "Consumer group",
        }
    }
}

impl std::fmt::Display for GroupType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A group as ListGroups reports it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GroupListing {
    /// Group id.
    pub group: String,
    /// Classic, Consumer, Share or Streams (TYPE of `kafka-groups.sh --list`).
    #[serde(rename = "type")]
    pub group_type: GroupType,
    /// Stable, Empty, PreparingRebalance, Assigning, Reconciling, ... (when the broker says).
    pub state: String,
    /// "consumer", "share", "streams", or "" for groups that only commit offsets (PROTOCOL of
    /// `kafka-groups.sh --list`).
    pub protocol_type: String,
}

/// Which groups `list_groups` keeps; empty lists keep all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFilter {
    /// Keep these types only.
    pub types: Vec<GroupType>,
    /// Keep these states only (case-insensitive).
    pub states: Vec<String>,
}

impl GroupFilter {
    fn keeps(&self, g: &GroupListing) -> bool {
        (self.types.is_empty() || self.types.contains(&g.group_type))
            && (self.states.is_empty()
                || self.states.iter().any(|s| s.eq_ignore_ascii_case(&g.state)))
    }
}

/// Every group on every broker (each broker lists the groups it coordinates), sorted by
/// name. One broker that fails fails the listing, naming it: a partial list would hide
/// groups. (`lag()` instead reports such a broker in its rows and goes on.)
pub async fn list_groups(client: &KafkaClient, filter: &GroupFilter) -> Result<Vec<GroupListing>> {
    let calls = gather::Calls::new(client);
    let (listed, failures) = list_on_every_broker(&calls, filter).await?;
    let brokers = calls.client.metadata(Some(&[])).await?.brokers.len();
    // One broker's silence must not hide the groups the others coordinate: they are
    // listed, and a note names the missing broker. Only when none answered is it an error.
    if failures.len() >= brokers.max(1) {
        let (broker, e) = failures.into_iter().next().expect("at least one failure");
        return Err(e.map_message(|m| format!("broker {broker} could not list its groups: {m}")));
    }
    for (broker, e) in failures {
        calls.client.note(format!(
            "the groups broker {broker} coordinates are missing: {e}"
        ));
    }
    Ok(listed)
}

/// ListGroups on every broker in the metadata, within the call's per-broker limit: the
/// groups found, and the brokers that did not answer with why.
async fn list_on_every_broker(
    calls: &gather::Calls<'_>,
    filter: &GroupFilter,
) -> Result<(Vec<GroupListing>, Vec<(i32, Error)>)> {
    let meta = calls.client.metadata(Some(&[])).await?;
    let ids: Vec<i32> = meta.brokers.iter().map(|b| b.node_id.0).collect();
    let answers = KafkaClient::join_all(
        ids.iter()
            .map(|id| async move { (*id, list_at(calls, *id, filter).await) })
            .collect(),
    )
    .await;
    let mut out = Vec::new();
    let mut failures = Vec::new();
    for (id, answer) in answers {
        match answer {
            Ok(groups) => out.extend(groups),
            Err(e) => failures.push((id, e)),
        }
    }
    out.sort_by(|a, b| a.group.cmp(&b.group));
    // A coordinator that moves may be listed by two brokers for a moment.
    out.dedup_by(|a, b| a.group == b.group);
    Ok((out, failures))
}

/// The groups broker `id` coordinates (ListGroups with the type filter on v5+; older
/// brokers have only classic groups and are filtered here).
async fn list_at(
    calls: &gather::Calls<'_>,
    id: i32,
    filter: &GroupFilter,
) -> Result<Vec<GroupListing>> {
    let version = calls.version::<ListGroupsRequest>(id, i16::MAX).await?;
    let mut request = ListGroupsRequest::default();
    if version >= 5 && !filter.types.is_empty() {
        request = request.with_types_filter(
            filter
                .types
                .iter()
                .map(|t| StrBytes::from_static_str(t.name()))
                .collect(),
        );
    }
    let response = calls.send(id, &request).await?;
    check_code(
        response.error_code,
        None,
        &format!("ListGroups at broker {id}"),
    )?;
    Ok(response
        .groups
        .into_iter()
        .map(|g| GroupListing {
            group: g.group_id.0.as_str().to_string(),
            group_type: GroupType::from_broker(g.group_type.as_str()),
            state: g.group_state.as_str().to_string(),
            protocol_type: g.protocol_type.as_str().to_string(),
        })
        .filter(|g| filter.keeps(g))
        .collect())
}

/// One member of a group, of any type.
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
    /// Assigned partitions now: topic → partition indexes (a streams member: the source
    /// partitions of its active tasks).
    pub assignment: BTreeMap<String, Vec<i32>>,
    /// The member's epoch (new protocols: consumer, share, streams).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_epoch: Option<i32>,
    /// Where the coordinator is moving the member (consumer protocol): TARGET-ASSIGNMENT of
    /// `kafka-consumer-groups.sh --describe --members --verbose`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_assignment: Option<BTreeMap<String, Vec<i32>>>,
    /// "consumer" or "classic" in a consumer group (a classic member not yet upgraded),
    /// "streams" or "classic" in a streams group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_protocol: Option<String>,
    /// A streams member's process (PROCESS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process_id: Option<String>,
    /// A streams member's tasks now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<StreamsTasks>,
    /// A streams member's target tasks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_tasks: Option<StreamsTasks>,
}

impl GroupMember {
    fn new(consumer_id: &str, host: &str, client_id: &str) -> GroupMember {
        GroupMember {
            consumer_id: consumer_id.to_string(),
            host: host.to_string(),
            client_id: client_id.to_string(),
            group_instance_id: None,
            assignment: BTreeMap::new(),
            member_epoch: None,
            target_assignment: None,
            member_protocol: None,
            process_id: None,
            tasks: None,
            target_tasks: None,
        }
    }
}

/// A streams member's tasks: subtopology id → partitions (task ids).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct StreamsTasks {
    /// Tasks it processes.
    pub active: BTreeMap<String, Vec<i32>>,
    /// Tasks it keeps a standby replica of.
    pub standby: BTreeMap<String, Vec<i32>>,
    /// Tasks it is warming up to take over.
    pub warmup: BTreeMap<String, Vec<i32>>,
}

/// A streams group's subtopology: the topics its tasks read.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Subtopology {
    /// Subtopology id.
    pub id: String,
    /// Source topics.
    pub source_topics: Vec<String>,
    /// Internal repartition topics it reads.
    pub repartition_source_topics: Vec<String>,
}

/// A group as its type's describe API reports it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group id.
    pub group: String,
    /// The group's type.
    #[serde(rename = "type")]
    pub group_type: GroupType,
    /// Group state.
    pub state: String,
    /// Protocol type ("consumer", "share", "streams", "" for offsets-only groups).
    pub protocol_type: String,
    /// The assignor ("range", "cooperative-sticky", "uniform", "simple"), if any.
    pub assignor: Option<String>,
    /// Coordinator broker id.
    pub coordinator: i32,
    /// Group epoch (new protocols).
    pub group_epoch: Option<i32>,
    /// Target assignment epoch (new protocols).
    pub target_assignment_epoch: Option<i32>,
    /// Topology epoch (streams).
    pub topology_epoch: Option<i32>,
    /// Members with their assignments.
    pub members: Vec<GroupMember>,
    /// Subtopologies (streams).
    pub subtopologies: Vec<Subtopology>,
}

/// The message of a group that does not exist (Kafka 4 says GROUP_ID_NOT_FOUND; older
/// brokers answer state "Dead").
fn not_found(group: &str) -> Error {
    Error::NotFound(format!("consumer group {group:?} does not exist"))
}

/// Refuses what cannot be a group id before anything is sent: an empty one, or one longer
/// than the protocol carries (a broker drops the connection of such a request).
pub fn validate_group_id(group: &str) -> Result<()> {
    if group.is_empty() {
        return Err(Error::InvalidInput("the group id is empty".into()));
    }
    if group.len() > i16::MAX as usize {
        return Err(Error::InvalidInput(format!(
            "a group id of {} bytes is longer than Kafka carries ({})",
            group.len(),
            i16::MAX
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_types_parse_like_kafka_tools() {
        assert_eq!(GroupType::parse("consumer").ok(), Some(GroupType::Consumer));
        assert_eq!(GroupType::parse("Share").ok(), Some(GroupType::Share));
        assert_eq!(GroupType::parse(" STREAMS ").ok(), Some(GroupType::Streams));
        assert!(GroupType::parse("queue").is_err());
        assert_eq!(GroupType::from_broker(""), GroupType::Classic);
        assert_eq!(GroupType::from_broker("classic"), GroupType::Classic);
        assert_eq!(GroupType::from_broker("future"), GroupType::Unknown);
        assert_eq!(
            serde_json::to_value(GroupType::Consumer).ok(),
            Some(serde_json::json!("Consumer"))
        );
    }

    #[test]
    fn filters_keep_by_type_and_state() {
        let g = GroupListing {
            group: "g".into(),
            group_type: GroupType::Consumer,
            state: "Stable".into(),
            protocol_type: "consumer".into(),
        };
        assert!(GroupFilter::default().keeps(&g));
        let by_type = GroupFilter {
            types: vec![GroupType::Share],
            states: vec![],
        };
        assert!(!by_type.keeps(&g));
        let by_state = GroupFilter {
            types: vec![GroupType::Consumer],
            states: vec!["stable".into()],
        };
        assert!(by_state.keeps(&g));
    }
}
