//! Describing groups with the API their type needs, at their coordinator, many groups per
//! request: DescribeGroups (classic), ConsumerGroupDescribe (KIP-848), ShareGroupDescribe
//! (KIP-932), StreamsGroupDescribe (KIP-1071, `wire.rs`). Each answer becomes one
//! [`GroupDescription`], so everything after describing treats every type alike.

use super::gather::{Calls, Failure};
use super::wire::{StreamsAssignment, StreamsGroupDescribeRequest, StreamsTaskIds};
use super::{GroupDescription, GroupMember, GroupType, StreamsTasks, Subtopology};
use crate::error::Error;
use bytes::Buf;
use kafka_protocol::messages::consumer_protocol_assignment::ConsumerProtocolAssignment;
use kafka_protocol::messages::{
    ConsumerGroupDescribeRequest, DescribeGroupsRequest, GroupId, ShareGroupDescribeRequest,
};
use kafka_protocol::protocol::{Decodable, StrBytes};
use std::collections::BTreeMap;

type Described = Vec<(String, Result<GroupDescription, Failure>)>;

/// Describes `groups` of type `t` at their coordinator `id`; every group gets a result.
pub(super) async fn describe_at(
    calls: &Calls<'_>,
    id: i32,
    t: GroupType,
    groups: &[String],
) -> Described {
    let described = match t {
        GroupType::Classic => classic(calls, id, groups).await,
        GroupType::Consumer => consumer(calls, id, groups).await,
        GroupType::Share => share(calls, id, groups).await,
        GroupType::Streams => streams(calls, id, groups).await,
        GroupType::Unknown => Err(Error::Unsupported(
            "the broker reports a group type this kafsh does not know".into(),
        )),
    };
    let mut out = match described {
        Ok(d) => d,
        Err(e) => groups
            .iter()
            .map(|g| (g.clone(), Err(Failure::final_(e.clone()))))
            .collect(),
    };
    for g in groups {
        if !out.iter().any(|(name, _)| name == g) {
            out.push((
                g.clone(),
                Err(Failure::final_(Error::Cluster(format!(
                    "coordinator {id} did not describe group {g:?}"
                )))),
            ));
        }
    }
    out
}

fn group_ids(groups: &[String]) -> Vec<GroupId> {
    groups
        .iter()
        .map(|g| GroupId(StrBytes::from_string(g.clone())))
        .collect()
}

fn some_if_not_empty(s: &StrBytes) -> Option<String> {
    (!s.is_empty()).then(|| s.as_str().to_string())
}

fn sorted(mut m: BTreeMap<String, Vec<i32>>) -> BTreeMap<String, Vec<i32>> {
    for ps in m.values_mut() {
        ps.sort_unstable();
        ps.dedup();
    }
    m
}

/// DescribeGroups: classic groups. Kafka 4 answers GROUP_ID_NOT_FOUND for a missing group;
/// older brokers answer state "Dead" (the caller tells it apart by its offsets).
async fn classic(calls: &Calls<'_>, id: i32, groups: &[String]) -> crate::error::Result<Described> {
    let request = DescribeGroupsRequest::default().with_groups(group_ids(groups));
    let response = calls.send(id, &request).await?;
    Ok(response
        .groups
        .into_iter()
        .map(|g| {
            let name = g.group_id.0.as_str().to_string();
            if let Some(f) = Failure::from_code(g.error_code, g.error_message.as_ref(), &name) {
                return (name, Err(f));
            }
            let protocol_type = g.protocol_type.as_str().to_string();
            // Members of "consumer" (and offsets-only "") groups carry the consumer
            // protocol's assignment; other protocols (Connect) have their own.
            let consumer = protocol_type == "consumer" || protocol_type.is_empty();
            let members = g
                .members
                .iter()
                .map(|m| {
                    let mut member = GroupMember::new(&m.member_id, &m.client_host, &m.client_id);
                    member.group_instance_id =
                        m.group_instance_id.as_ref().map(|i| i.as_str().to_string());
                    if consumer {
                        member.assignment = decode_assignment(&m.member_assignment);
                    }
                    member
                })
                .collect();
            let description = GroupDescription {
                group: name.clone(),
                group_type: GroupType::Classic,
                state: g.group_state.as_str().to_string(),
                protocol_type,
                assignor: some_if_not_empty(&g.protocol_data),
                coordinator: id,
                group_epoch: None,
                target_assignment_epoch: None,
                topology_epoch: None,
                members,
                subtopologies: Vec::new(),
            };
            (name, Ok(description))
        })
        .collect())
}

/// Decodes a classic consumer member's assignment (version prefix +
/// ConsumerProtocolAssignment).
pub fn decode_assignment(bytes: &bytes::Bytes) -> BTreeMap<String, Vec<i32>> {
    let mut buf = bytes.clone();
    if buf.remaining() < 2 {
        return BTreeMap::new();
    }
    let version = buf.get_i16();
    let mut out: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    if let Ok(assignment) = ConsumerProtocolAssignment::decode(&mut buf, version.clamp(0, 3)) {
        for tp in assignment.assigned_partitions {
            out.entry(tp.topic.0.as_str().to_string())
                .or_default()
                .extend(tp.partitions);
        }
    }
    sorted(out)
}

/// ConsumerGroupDescribe: consumer groups on the KIP-848 protocol, with each member's epoch,
/// current and target assignment, and (v1) whether it still speaks the classic protocol.
async fn consumer(
    calls: &Calls<'_>,
    id: i32,
    groups: &[String],
) -> crate::error::Result<Described> {
    let request = ConsumerGroupDescribeRequest::default().with_group_ids(group_ids(groups));
    let response = calls.send(id, &request).await?;
    let partitions =
        |a: &kafka_protocol::messages::consumer_group_describe_response::Assignment| {
            sorted(a.topic_partitions.iter().fold(BTreeMap::new(), |mut m, t| {
                m.entry(t.topic_name.0.as_str().to_string())
                    .or_insert_with(Vec::new)
                    .extend(t.partitions.iter().copied());
                m
            }))
        };
    Ok(response
        .groups
        .into_iter()
        .map(|g| {
            let name = g.group_id.0.as_str().to_string();
            if let Some(f) = Failure::from_code(g.error_code, g.error_message.as_ref(), &name) {
                return (name, Err(f));
            }
            let members = g
                .members
                .iter()
                .map(|m| {
                    let mut member = GroupMember::new(&m.member_id, &m.client_host, &m.client_id);
                    member.group_instance_id =
                        m.instance_id.as_ref().map(|i| i.as_str().to_string());
                    member.assignment = partitions(&m.assignment);
                    member.target_assignment = Some(partitions(&m.target_assignment));
                    member.member_epoch = Some(m.member_epoch);
                    member.member_protocol = match m.member_type {
                        0 => Some("classic".to_string()),
                        1 => Some("consumer".to_string()),
                        _ => None,
                    };
                    member
                })
                .collect();
            let description = GroupDescription {
                group: name.clone(),
                group_type: GroupType::Consumer,
                state: g.group_state.as_str().to_string(),
                protocol_type: "consumer".to_string(),
                assignor: some_if_not_empty(&g.assignor_name),
                coordinator: id,
                group_epoch: Some(g.group_epoch),
                target_assignment_epoch: Some(g.assignment_epoch),
                topology_epoch: None,
                members,
                subtopologies: Vec::new(),
            };
            (name, Ok(description))
        })
        .collect())
}

/// ShareGroupDescribe: share groups, members with their epochs and assignments.
async fn share(calls: &Calls<'_>, id: i32, groups: &[String]) -> crate::error::Result<Described> {
    let request = ShareGroupDescribeRequest::default().with_group_ids(group_ids(groups));
    let response = calls.send(id, &request).await?;
    Ok(response
        .groups
        .into_iter()
        .map(|g| {
            let name = g.group_id.0.as_str().to_string();
            if let Some(f) = Failure::from_code(g.error_code, g.error_message.as_ref(), &name) {
                return (name, Err(f));
            }
            let members = g
                .members
                .iter()
                .map(|m| {
                    let mut member = GroupMember::new(&m.member_id, &m.client_host, &m.client_id);
                    member.assignment = sorted(m.assignment.topic_partitions.iter().fold(
                        BTreeMap::new(),
                        |mut acc, t| {
                            acc.entry(t.topic_name.0.as_str().to_string())
                                .or_insert_with(Vec::new)
                                .extend(t.partitions.iter().copied());
                            acc
                        },
                    ));
                    member.member_epoch = Some(m.member_epoch);
                    member
                })
                .collect();
            let description = GroupDescription {
                group: name.clone(),
                group_type: GroupType::Share,
                state: g.group_state.as_str().to_string(),
                protocol_type: "share".to_string(),
                assignor: some_if_not_empty(&g.assignor_name),
                coordinator: id,
                group_epoch: Some(g.group_epoch),
                target_assignment_epoch: Some(g.assignment_epoch),
                topology_epoch: None,
                members,
                subtopologies: Vec::new(),
            };
            (name, Ok(description))
        })
        .collect())
}

/// StreamsGroupDescribe: streams groups with their topology and each member's tasks. A
/// member's `assignment` is the source partitions of its active tasks (what it reads).
async fn streams(calls: &Calls<'_>, id: i32, groups: &[String]) -> crate::error::Result<Described> {
    let request = StreamsGroupDescribeRequest {
        group_ids: groups.to_vec(),
        include_authorized_operations: false,
    };
    let response = calls.send(id, &request).await?;
    Ok(response
        .groups
        .into_iter()
        .map(|g| {
            let name = g.group_id.clone();
            let message = g.error_message.clone().map(StrBytes::from_string);
            if let Some(f) = Failure::from_code(g.error_code, message.as_ref(), &name) {
                return (name, Err(f));
            }
            let subtopologies: Vec<Subtopology> = g
                .topology
                .as_ref()
                .and_then(|t| t.subtopologies.as_ref())
                .map(|subs| {
                    subs.iter()
                        .map(|s| Subtopology {
                            id: s.subtopology_id.clone(),
                            source_topics: s.source_topics.clone(),
                            repartition_source_topics: s
                                .repartition_source_topics
                                .iter()
                                .map(|t| t.name.clone())
                                .collect(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let members = g
                .members
                .iter()
                .map(|m| {
                    let mut member = GroupMember::new(&m.member_id, &m.client_host, &m.client_id);
                    member.group_instance_id = m.instance_id.clone();
                    member.member_epoch = Some(m.member_epoch);
                    member.member_protocol =
                        Some(if m.is_classic { "classic" } else { "streams" }.to_string());
                    member.process_id = Some(m.process_id.clone());
                    member.assignment = task_partitions(&m.assignment.active_tasks, &subtopologies);
                    member.tasks = Some(tasks(&m.assignment));
                    member.target_tasks = Some(tasks(&m.target_assignment));
                    member
                })
                .collect();
            let description = GroupDescription {
                group: name.clone(),
                group_type: GroupType::Streams,
                state: g.group_state.clone(),
                protocol_type: "streams".to_string(),
                assignor: None,
                coordinator: id,
                group_epoch: Some(g.group_epoch),
                target_assignment_epoch: Some(g.assignment_epoch),
                topology_epoch: g.topology.as_ref().map(|t| t.epoch),
                members,
                subtopologies,
            };
            (name, Ok(description))
        })
        .collect())
}

fn tasks(a: &StreamsAssignment) -> StreamsTasks {
    let by_subtopology = |ids: &[StreamsTaskIds]| {
        sorted(ids.iter().fold(BTreeMap::new(), |mut m, t| {
            m.entry(t.subtopology_id.clone())
                .or_insert_with(Vec::new)
                .extend(t.partitions.iter().copied());
            m
        }))
    };
    StreamsTasks {
        active: by_subtopology(&a.active_tasks),
        standby: by_subtopology(&a.standby_tasks),
        warmup: by_subtopology(&a.warmup_tasks),
    }
}

/// The topic partitions tasks read: task (subtopology, p) reads partition p of each of
/// the subtopology's source and repartition-source topics (as kafka-streams-groups.sh
/// counts them).
pub(super) fn task_partitions(
    tasks: &[StreamsTaskIds],
    subtopologies: &[Subtopology],
) -> BTreeMap<String, Vec<i32>> {
    let mut out: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for t in tasks {
        let Some(s) = subtopologies.iter().find(|s| s.id == t.subtopology_id) else {
            continue;
        };
        for topic in s.source_topics.iter().chain(&s.repartition_source_topics) {
            out.entry(topic.clone())
                .or_default()
                .extend(t.partitions.iter().copied());
        }
    }
    sorted(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_read_every_source_topic_of_their_subtopology() {
        let subs = vec![
            Subtopology {
                id: "0".into(),
                source_topics: vec!["in".into()],
                repartition_source_topics: vec![],
            },
            Subtopology {
                id: "1".into(),
                source_topics: vec![],
                repartition_source_topics: vec!["app-repartition".into()],
            },
        ];
        let tasks = vec![
            StreamsTaskIds {
                subtopology_id: "0".into(),
                partitions: vec![2, 0],
            },
            StreamsTaskIds {
                subtopology_id: "1".into(),
                partitions: vec![1],
            },
            StreamsTaskIds {
                subtopology_id: "unknown".into(),
                partitions: vec![9],
            },
        ];
        let tp = task_partitions(&tasks, &subs);
        assert_eq!(tp["in"], vec![0, 2]);
        assert_eq!(tp["app-repartition"], vec![1]);
        assert_eq!(tp.len(), 2);
    }

    #[test]
    fn classic_assignments_decode_and_sort() {
        use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition;
        use kafka_protocol::messages::TopicName;
        use kafka_protocol::protocol::Encodable;
        let assignment = ConsumerProtocolAssignment::default().with_assigned_partitions(vec![
            TopicPartition::default()
                .with_topic(TopicName(StrBytes::from_static_str("t")))
                .with_partitions(vec![2, 0]),
        ]);
        let mut buf = bytes::BytesMut::new();
        bytes::BufMut::put_i16(&mut buf, 1);
        assignment.encode(&mut buf, 1).expect("encode");
        let decoded = decode_assignment(&buf.freeze());
        assert_eq!(decoded["t"], vec![0, 2]);
        assert!(decode_assignment(&bytes::Bytes::new()).is_empty());
    }
}
