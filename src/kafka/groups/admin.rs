//! Changing groups: resetting committed offsets (OffsetCommit) or share-partition start
//! offsets (AlterShareGroupOffsets), deleting groups (DeleteGroups, every type) and deleting
//! a group's offsets of some topics (OffsetDelete; DeleteShareGroupOffsets for share
//! groups). Every change is refused while members that it would affect are active, as
//! Kafka refuses it, and is planned first so a dry run shows exactly what would change.

use super::gather::{coordinator_of, gather, while_coordinator_moves, Calls, Gathered};
use super::positions::Positions;
use super::{not_found, GroupDescription, GroupType};
use crate::error::{Error, Result};
use crate::kafka::client::{check_code, KafkaClient};
use crate::kafka::offsets::{list_offsets, OffsetSpec};
use kafka_protocol::error::{ParseResponseErrorCode, ResponseError};
use kafka_protocol::messages::{GroupId, TopicName};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;
use std::collections::BTreeMap;

/// The group as a change sees it now, or `None` when it does not exist.
async fn current(client: &KafkaClient, group: &str) -> Result<Option<Gathered>> {
    let calls = Calls::new(client);
    match gather(&calls, &[(group.to_string(), None)])
        .await
        .remove(group)
    {
        Some(Ok(g)) => {
            let dead_and_empty = g.description.state == "Dead"
                && matches!(&g.positions, Positions::Committed(c) if c.is_empty());
            Ok((!dead_and_empty).then_some(g))
        }
        Some(Err(Error::NotFound(_))) | None => Ok(None),
        Some(Err(e)) => Err(e),
    }
}

/// "consumer group", "share group", "streams group".
fn noun(t: GroupType) -> String {
    t.noun().to_lowercase()
}

/// The member list of a refusal: "id (client on host), ...".
fn member_names(d: &GroupDescription) -> String {
    d.members
        .iter()
        .map(|m| format!("{} ({} on {})", m.consumer_id, m.client_id, m.host))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An error of a change, with Kafka's refusals (a non-empty group, a topic the group is
/// subscribed to) classified as refusals.
fn change_error(code: i16, message: Option<&StrBytes>, what: &str) -> Result<()> {
    let refused = matches!(
        code.err(),
        Some(ResponseError::NonEmptyGroup | ResponseError::GroupSubscribedToTopic)
    );
    check_code(code, message, what).map_err(|e| match e {
        Error::Cluster(m) if refused => Error::Refused(m),
        other => other,
    })
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
    /// Committed offset (a share group: start offset) before, none when there was none.
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
    /// The group's type (Classic for a group that does not exist yet).
    #[serde(rename = "type")]
    pub group_type: GroupType,
    /// Whether the new offsets were committed.
    pub executed: bool,
    /// The plan, per partition.
    pub partitions: Vec<ResetRow>,
    /// What happened, for people.
    pub message: String,
}

/// Plans (and with `execute`, commits) new offsets for `group` on `partitions` (all
/// partitions of `topics` when `partitions` is empty). Refused while the group has members.
/// Consumer, classic and streams groups get committed offsets (OffsetCommit); share groups
/// get share-partition start offsets (AlterShareGroupOffsets, as `kafka-share-groups.sh
/// --reset-offsets` does). A group that does not exist yet gets its first offsets.
pub async fn reset_offsets(
    client: &KafkaClient,
    group: &str,
    topics: &[String],
    only_partitions: &[i32],
    target: &ResetTarget,
    execute: bool,
) -> Result<ResetPlan> {
    if topics.is_empty() {
        return Err(Error::InvalidInput("name the topic(s) to reset".into()));
    }
    let existing = current(client, group).await?;
    if let Some(g) = &existing {
        let d = &g.description;
        if !d.members.is_empty() {
            return Err(Error::Refused(format!(
                "{} {group:?} has {} active member(s): {}; stop them first (offsets can only be reset while the group is empty)",
                noun(d.group_type),
                d.members.len(),
                member_names(d)
            )));
        }
    }
    let group_type = existing
        .as_ref()
        .map(|g| g.description.group_type)
        .unwrap_or(GroupType::Classic);
    let old: BTreeMap<(String, i32), i64> = match existing.as_ref().map(|g| &g.positions) {
        Some(Positions::Committed(c)) => c
            .iter()
            .flat_map(|(t, ps)| ps.iter().map(move |(p, o)| ((t.clone(), *p), *o)))
            .collect(),
        Some(Positions::Share(s)) => s
            .iter()
            .flat_map(|(t, ps)| {
                ps.iter()
                    .filter_map(move |(p, st)| st.start.map(|o| ((t.clone(), *p), o)))
            })
            .collect(),
        None => BTreeMap::new(),
    };
    let partitions = partitions_of_topics(client, topics, only_partitions).await?;
    let rows = plan(client, &partitions, &old, target).await?;
    if execute {
        if group_type == GroupType::Share {
            alter_share_offsets(client, group, &rows).await?;
        } else {
            commit_offsets(client, group, &rows).await?;
        }
    }
    Ok(ResetPlan {
        group: group.to_string(),
        group_type,
        executed: execute,
        message: if execute {
            format!(
                "committed new offsets for {} partition(s) of {} {group:?}",
                rows.len(),
                noun(group_type)
            )
        } else {
            "plan only: nothing committed".to_string()
        },
        partitions: rows,
    })
}

/// The partitions of `topics` (only `only` when given), sorted; a missing topic or
/// partition is an error naming it.
async fn partitions_of_topics(
    client: &KafkaClient,
    topics: &[String],
    only: &[i32],
) -> Result<Vec<(String, i32)>> {
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
            if only.is_empty() || only.contains(&p.partition_index) {
                partitions.push((name.clone(), p.partition_index));
            }
        }
    }
    for p in only {
        if !partitions.iter().any(|(_, x)| x == p) {
            return Err(Error::NotFound(format!(
                "partition {p} does not exist in {}",
                topics.join(", ")
            )));
        }
    }
    partitions.sort();
    Ok(partitions)
}

/// Fetches the log bounds (and offsets for a timestamp) that [`plan_rows`] needs.
async fn plan(
    client: &KafkaClient,
    partitions: &[(String, i32)],
    old: &BTreeMap<(String, i32), i64>,
    target: &ResetTarget,
) -> Result<Vec<ResetRow>> {
    let earliest = list_offsets(client, partitions, OffsetSpec::Earliest).await?;
    let latest = list_offsets(client, partitions, OffsetSpec::Latest).await?;
    let by_time = match target {
        ResetTarget::Timestamp(ts) => {
            Some(list_offsets(client, partitions, OffsetSpec::Timestamp(*ts)).await?)
        }
        _ => None,
    };
    plan_rows(
        partitions,
        old,
        &LogOffsets {
            earliest: &earliest,
            latest: &latest,
            by_time: by_time.as_ref(),
        },
        target,
    )
}

type OffsetAnswers = BTreeMap<(String, i32), std::result::Result<i64, String>>;

/// What the brokers said about each partition's log: first and next offsets, and with a
/// timestamp target the first offset at or after it (-1: none).
struct LogOffsets<'a> {
    earliest: &'a OffsetAnswers,
    latest: &'a OffsetAnswers,
    by_time: Option<&'a OffsetAnswers>,
}

/// New offsets for `partitions` from `old` (committed) ones and the target, clamped into
/// each log's range. Pure: the offsets come in, the rows go out.
fn plan_rows(
    partitions: &[(String, i32)],
    old: &BTreeMap<(String, i32), i64>,
    logs: &LogOffsets<'_>,
    target: &ResetTarget,
) -> Result<Vec<ResetRow>> {
    let mut rows = Vec::new();
    for tp in partitions {
        let lo = offset_of(logs.earliest, tp)?;
        let hi = offset_of(logs.latest, tp)?;
        let was = old.get(tp).copied();
        let (wanted, mut note) = match target {
            ResetTarget::Earliest => (lo, None),
            ResetTarget::Latest => (hi, None),
            ResetTarget::Offset(o) => (*o, None),
            ResetTarget::Shift(n) => match was {
                Some(o) => (o.saturating_add(*n), None),
                None => {
                    return Err(Error::InvalidInput(format!(
                        "cannot shift {}-{}: the group has no committed offset there",
                        tp.0, tp.1
                    )))
                }
            },
            ResetTarget::Timestamp(_) => {
                let found = logs
                    .by_time
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
            old_offset: was,
            new_offset: new,
            note,
        });
    }
    Ok(rows)
}

fn offset_of(m: &OffsetAnswers, tp: &(String, i32)) -> Result<i64> {
    match m.get(tp) {
        Some(Ok(o)) => Ok(*o),
        Some(Err(e)) => Err(Error::Cluster(e.clone())),
        None => Err(Error::Cluster(format!("no offset for {}-{}", tp.0, tp.1))),
    }
}

fn by_topic<T>(items: &[T], topic: impl Fn(&T) -> &str) -> BTreeMap<String, Vec<&T>> {
    let mut out: BTreeMap<String, Vec<&T>> = BTreeMap::new();
    for i in items {
        out.entry(topic(i).to_string()).or_default().push(i);
    }
    out
}

/// Commits `rows` as the group's offsets (OffsetCommit as the admin client sends it: no
/// member, generation -1), at the group's coordinator now.
async fn commit_offsets(client: &KafkaClient, group: &str, rows: &[ResetRow]) -> Result<()> {
    use kafka_protocol::messages::offset_commit_request::{
        OffsetCommitRequestPartition, OffsetCommitRequestTopic,
    };
    use kafka_protocol::messages::OffsetCommitRequest;
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
        .with_generation_id_or_member_epoch(-1)
        .with_member_id(StrBytes::from_static_str(""))
        .with_retention_time_ms(-1)
        .with_topics(
            by_topic(rows, |r| &r.topic)
                .into_iter()
                .map(|(t, rows)| {
                    OffsetCommitRequestTopic::default()
                        .with_name(TopicName(StrBytes::from_string(t)))
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
    while_coordinator_moves(|| async {
        let coordinator = coordinator_of(client, group).await?;
        let conn = client.broker(coordinator).await?;
        // v10 names topics by id; kafsh speaks names.
        let version = conn
            .lock()
            .await
            .version_of_capped::<OffsetCommitRequest>(9)?;
        let response = conn.lock().await.send_version(&request, version).await?;
        for t in response.topics {
            for p in t.partitions {
                change_error(
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
    })
    .await
}

/// Sets a share group's start offsets (AlterShareGroupOffsets) to `rows`.
async fn alter_share_offsets(client: &KafkaClient, group: &str, rows: &[ResetRow]) -> Result<()> {
    use kafka_protocol::messages::alter_share_group_offsets_request::{
        AlterShareGroupOffsetsRequestPartition, AlterShareGroupOffsetsRequestTopic,
    };
    use kafka_protocol::messages::AlterShareGroupOffsetsRequest;
    let request = AlterShareGroupOffsetsRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
        .with_topics(
            by_topic(rows, |r| &r.topic)
                .into_iter()
                .map(|(t, rows)| {
                    AlterShareGroupOffsetsRequestTopic::default()
                        .with_topic_name(TopicName(StrBytes::from_string(t)))
                        .with_partitions(
                            rows.iter()
                                .map(|r| {
                                    AlterShareGroupOffsetsRequestPartition::default()
                                        .with_partition_index(r.partition)
                                        .with_start_offset(r.new_offset)
                                })
                                .collect(),
                        )
                })
                .collect(),
        );
    while_coordinator_moves(|| async {
        let coordinator = coordinator_of(client, group).await?;
        let response = client.send_to(coordinator, &request).await?;
        change_error(
            response.error_code,
            response.error_message.as_ref(),
            &format!("share group {group:?}"),
        )?;
        for t in response.responses {
            for p in t.partitions {
                change_error(
                    p.error_code,
                    p.error_message.as_ref(),
                    &format!(
                        "share group {group:?} start offset of {}-{}",
                        t.topic_name.0.as_str(),
                        p.partition_index
                    ),
                )?;
            }
        }
        Ok(())
    })
    .await
}

/// What `delete_group` did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeletedGroup {
    /// Group id.
    pub group: String,
    /// The group's type.
    #[serde(rename = "type")]
    pub group_type: GroupType,
    /// Whether it was deleted now.
    pub deleted: bool,
    /// True when nothing was changed.
    pub dry_run: bool,
}

/// Deletes a group of any type with its offsets (DeleteGroups); refused while it has
/// members.
pub async fn delete_group(
    client: &KafkaClient,
    group: &str,
    dry_run: bool,
) -> Result<DeletedGroup> {
    use kafka_protocol::messages::DeleteGroupsRequest;
    let g = current(client, group)
        .await?
        .ok_or_else(|| not_found(group))?;
    let d = &g.description;
    if !d.members.is_empty() {
        return Err(Error::Refused(format!(
            "{} {group:?} has {} active member(s): {}",
            noun(d.group_type),
            d.members.len(),
            member_names(d)
        )));
    }
    if !dry_run {
        let request = DeleteGroupsRequest::default()
            .with_groups_names(vec![GroupId(StrBytes::from_string(group.to_string()))]);
        while_coordinator_moves(|| async {
            let coordinator = coordinator_of(client, group).await?;
            let response = client.send_to(coordinator, &request).await?;
            for r in response.results {
                change_error(r.error_code, None, &format!("group {group:?}"))?;
            }
            Ok(())
        })
        .await?;
    }
    Ok(DeletedGroup {
        group: group.to_string(),
        group_type: d.group_type,
        deleted: !dry_run,
        dry_run,
    })
}

/// One partition whose offset `delete_group_offsets` removes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OffsetDeletion {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The committed offset (a share group: start offset) that goes.
    pub offset: Option<i64>,
}

/// What `delete_group_offsets` did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeletedOffsets {
    /// Group id.
    pub group: String,
    /// The group's type.
    #[serde(rename = "type")]
    pub group_type: GroupType,
    /// The offsets deleted (or, in a dry run, that would be).
    pub partitions: Vec<OffsetDeletion>,
    /// Whether they were deleted now.
    pub deleted: bool,
    /// True when nothing was changed.
    pub dry_run: bool,
}

/// Deletes `group`'s offsets of `topics` (only `only_partitions` when given): OffsetDelete
/// for classic, consumer and streams groups, DeleteShareGroupOffsets (whole topics) for
/// share groups. Refused while an active member reads one of the topics (as Kafka refuses
/// it); the group keeps its other offsets.
pub async fn delete_group_offsets(
    client: &KafkaClient,
    group: &str,
    topics: &[String],
    only_partitions: &[i32],
    dry_run: bool,
) -> Result<DeletedOffsets> {
    if topics.is_empty() {
        return Err(Error::InvalidInput(
            "name the topic(s) whose offsets to delete".into(),
        ));
    }
    let g = current(client, group)
        .await?
        .ok_or_else(|| not_found(group))?;
    let d = &g.description;
    let readers: Vec<&str> = d
        .members
        .iter()
        .filter(|m| topics.iter().any(|t| m.assignment.contains_key(t)))
        .map(|m| m.consumer_id.as_str())
        .collect();
    if !readers.is_empty() {
        return Err(Error::Refused(format!(
            "{} {group:?} has {} active member(s) reading {}: {}; stop them first",
            noun(d.group_type),
            readers.len(),
            topics.join(", "),
            readers.join(", ")
        )));
    }
    if d.group_type == GroupType::Share && !only_partitions.is_empty() {
        return Err(Error::InvalidInput(
            "a share group's offsets are deleted per topic (DeleteShareGroupOffsets): leave out `partitions`".into(),
        ));
    }
    let mut planned = Vec::new();
    for t in topics {
        let offsets: Vec<(i32, Option<i64>)> = match &g.positions {
            Positions::Committed(c) => c
                .get(t)
                .map(|ps| ps.iter().map(|(p, o)| (*p, Some(*o))).collect())
                .unwrap_or_default(),
            Positions::Share(s) => s
                .get(t)
                .map(|ps| ps.iter().map(|(p, st)| (*p, st.start)).collect())
                .unwrap_or_default(),
        };
        let offsets: Vec<(i32, Option<i64>)> = offsets
            .into_iter()
            .filter(|(p, _)| only_partitions.is_empty() || only_partitions.contains(p))
            .collect();
        if offsets.is_empty() {
            return Err(Error::NotFound(format!(
                "{} {group:?} has no offsets on topic {t:?}{}",
                noun(d.group_type),
                if only_partitions.is_empty() {
                    String::new()
                } else {
                    format!(" partitions {only_partitions:?}")
                }
            )));
        }
        planned.extend(offsets.into_iter().map(|(p, o)| OffsetDeletion {
            topic: t.clone(),
            partition: p,
            offset: o,
        }));
    }
    if !dry_run {
        if d.group_type == GroupType::Share {
            delete_share_offsets(client, group, topics).await?;
        } else {
            offset_delete(client, group, &planned).await?;
        }
    }
    Ok(DeletedOffsets {
        group: group.to_string(),
        group_type: d.group_type,
        partitions: planned,
        deleted: !dry_run,
        dry_run,
    })
}

async fn offset_delete(client: &KafkaClient, group: &str, rows: &[OffsetDeletion]) -> Result<()> {
    use kafka_protocol::messages::offset_delete_request::{
        OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
    };
    use kafka_protocol::messages::OffsetDeleteRequest;
    let request = OffsetDeleteRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
        .with_topics(
            by_topic(rows, |r| &r.topic)
                .into_iter()
                .map(|(t, rows)| {
                    OffsetDeleteRequestTopic::default()
                        .with_name(TopicName(StrBytes::from_string(t)))
                        .with_partitions(
                            rows.iter()
                                .map(|r| {
                                    OffsetDeleteRequestPartition::default()
                                        .with_partition_index(r.partition)
                                })
                                .collect(),
                        )
                })
                .collect(),
        );
    while_coordinator_moves(|| async {
        let coordinator = coordinator_of(client, group).await?;
        let response = client.send_to(coordinator, &request).await?;
        change_error(response.error_code, None, &format!("group {group:?}"))?;
        for t in response.topics {
            for p in t.partitions {
                change_error(
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
    })
    .await
}

async fn delete_share_offsets(client: &KafkaClient, group: &str, topics: &[String]) -> Result<()> {
    use kafka_protocol::messages::delete_share_group_offsets_request::DeleteShareGroupOffsetsRequestTopic;
    use kafka_protocol::messages::DeleteShareGroupOffsetsRequest;
    let request = DeleteShareGroupOffsetsRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
        .with_topics(
            topics
                .iter()
                .map(|t| {
                    DeleteShareGroupOffsetsRequestTopic::default()
                        .with_topic_name(TopicName(StrBytes::from_string(t.clone())))
                })
                .collect(),
        );
    while_coordinator_moves(|| async {
        let coordinator = coordinator_of(client, group).await?;
        let response = client.send_to(coordinator, &request).await?;
        change_error(
            response.error_code,
            response.error_message.as_ref(),
            &format!("share group {group:?}"),
        )?;
        for t in response.responses {
            change_error(
                t.error_code,
                t.error_message.as_ref(),
                &format!(
                    "share group {group:?} offsets of {}",
                    t.topic_name.0.as_str()
                ),
            )?;
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(rows: &[(&str, i32, i64)]) -> OffsetAnswers {
        rows.iter()
            .map(|(t, p, o)| ((t.to_string(), *p), Ok(*o)))
            .collect()
    }

    /// Two partitions of "t": p0's log holds 10..100, p1's 0..5; the group committed 50 on p0.
    fn reset(target: ResetTarget, by_time: Option<&OffsetAnswers>) -> Result<Vec<ResetRow>> {
        let partitions = vec![("t".to_string(), 0), ("t".to_string(), 1)];
        let old: BTreeMap<(String, i32), i64> = [(("t".to_string(), 0), 50)].into();
        let earliest = answers(&[("t", 0, 10), ("t", 1, 0)]);
        let latest = answers(&[("t", 0, 100), ("t", 1, 5)]);
        plan_rows(
            &partitions,
            &old,
            &LogOffsets {
                earliest: &earliest,
                latest: &latest,
                by_time,
            },
            &target,
        )
    }

    fn new_offsets(rows: &[ResetRow]) -> Vec<i64> {
        rows.iter().map(|r| r.new_offset).collect()
    }

    #[test]
    fn targets_land_inside_each_log() {
        assert_eq!(
            new_offsets(&reset(ResetTarget::Earliest, None).unwrap()),
            [10, 0]
        );
        assert_eq!(
            new_offsets(&reset(ResetTarget::Latest, None).unwrap()),
            [100, 5]
        );
        let rows = reset(ResetTarget::Offset(3), None).unwrap();
        assert_eq!(new_offsets(&rows), [10, 3]);
        assert!(rows[0].note.as_deref().unwrap().contains("clamped to 10"));
        assert_eq!(rows[1].note, None);
        assert_eq!(rows[0].old_offset, Some(50));
        assert_eq!(rows[1].old_offset, None);
    }

    #[test]
    fn a_shift_needs_a_committed_offset_and_is_clamped() {
        let err = reset(ResetTarget::Shift(-5), None).unwrap_err().to_string();
        assert!(err.contains("cannot shift t-1"), "{err}");
        let partitions = vec![("t".to_string(), 0)];
        let old: BTreeMap<(String, i32), i64> = [(("t".to_string(), 0), 50)].into();
        let earliest = answers(&[("t", 0, 10)]);
        let latest = answers(&[("t", 0, 100)]);
        let logs = LogOffsets {
            earliest: &earliest,
            latest: &latest,
            by_time: None,
        };
        let shifted = |n| plan_rows(&partitions, &old, &logs, &ResetTarget::Shift(n)).unwrap();
        assert_eq!(new_offsets(&shifted(-5)), [45]);
        assert_eq!(new_offsets(&shifted(i64::MAX)), [100]);
        assert_eq!(new_offsets(&shifted(i64::MIN)), [10]);
    }

    #[test]
    fn a_time_after_the_last_message_means_the_log_end() {
        let by_time = answers(&[("t", 0, 42), ("t", 1, -1)]);
        let rows = reset(ResetTarget::Timestamp(1), Some(&by_time)).unwrap();
        assert_eq!(new_offsets(&rows), [42, 5]);
        assert!(rows[1].note.as_deref().unwrap().contains("log end"));
    }

    #[test]
    fn a_partition_the_brokers_could_not_answer_for_is_an_error() {
        let partitions = vec![("t".to_string(), 0)];
        let mut earliest = answers(&[]);
        earliest.insert(("t".to_string(), 0), Err("NOT_LEADER_OR_FOLLOWER".into()));
        let latest = answers(&[("t", 0, 1)]);
        let logs = LogOffsets {
            earliest: &earliest,
            latest: &latest,
            by_time: None,
        };
        let err = plan_rows(&partitions, &BTreeMap::new(), &logs, &ResetTarget::Earliest)
            .unwrap_err()
            .to_string();
        assert!(err.contains("NOT_LEADER_OR_FOLLOWER"), "{err}");
    }

    #[test]
    fn kafkas_refusals_are_refusals() {
        let code = |e: ResponseError| e.code();
        assert!(matches!(
            change_error(code(ResponseError::NonEmptyGroup), None, "group \"g\""),
            Err(Error::Refused(_))
        ));
        assert!(matches!(
            change_error(code(ResponseError::GroupSubscribedToTopic), None, "x"),
            Err(Error::Refused(_))
        ));
        assert!(matches!(
            change_error(code(ResponseError::GroupIdNotFound), None, "x"),
            Err(Error::NotFound(_))
        ));
        assert!(change_error(0, None, "x").is_ok());
    }
}
