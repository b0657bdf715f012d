//! Offsets and lag as Kafka's tools print them, for every kind of group: the rows of
//! `kafka-consumer-groups.sh --describe` (classic and consumer groups, and old ZooKeeper
//! groups), `kafka-share-groups.sh --describe` and `kafka-streams-groups.sh --describe`.
//! One function computes every row's lag ([`offset_row`]); a group that cannot be read
//! becomes a row that says why, never a failure of the whole report.

use super::gather::{gather, Calls, Gathered};
use super::positions::{Committed, Positions};
use super::{list_on_every_broker, not_found, GroupFilter, GroupMember, GroupType};
use crate::error::{Error, Result};
use crate::kafka::client::KafkaClient;
use crate::kafka::offsets::{list_offsets_tolerant, OffsetSpec, TopicPartition};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One row of `kafka-consumer-groups.sh --describe` (for a share group: of
/// `kafka-share-groups.sh --describe`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OffsetRow {
    /// TOPIC.
    pub topic: String,
    /// PARTITION.
    pub partition: i32,
    /// CURRENT-OFFSET: the committed offset, none when the group never committed one (a
    /// share group: its START-OFFSET, the next record to deliver).
    pub current_offset: Option<i64>,
    /// LOG-END-OFFSET, none when it could not be read.
    pub log_end_offset: Option<i64>,
    /// LAG, none when unknown (never zero for an uncommitted partition of a consumer
    /// group); see [`LagRule`].
    pub lag: Option<i64>,
    /// CONSUMER-ID, none for partitions no member is assigned (and for share groups, whose
    /// partitions all members share).
    pub consumer_id: Option<String>,
    /// HOST.
    pub host: Option<String>,
    /// CLIENT-ID.
    pub client_id: Option<String>,
}

/// How a row's LAG follows from its offsets: the one place lag is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LagRule {
    /// LOG-END-OFFSET − CURRENT-OFFSET, unknown without a committed offset (where a consumer
    /// starts then depends on its `auto.offset.reset`): consumer groups of either protocol
    /// and old ZooKeeper groups.
    FromCommitted,
    /// The same, but an uncommitted partition lags by the whole log from this start offset:
    /// Kafka Streams starts at the earliest offset, and `kafka-streams-groups.sh` says so.
    FromCommittedElseLogStart(Option<i64>),
    /// The broker's count: a share group's records not yet acknowledged (KIP-1226), which
    /// may be fewer than LOG-END-OFFSET − START-OFFSET.
    Reported(Option<i64>),
}

/// The row of `topic`-`partition`: offsets, its lag by `rule`, and the member holding it.
pub fn offset_row(
    topic: &str,
    partition: i32,
    current: Option<i64>,
    end: Option<i64>,
    rule: LagRule,
    member: Option<&GroupMember>,
) -> OffsetRow {
    let lag = match rule {
        LagRule::FromCommitted => current.zip(end).map(|(c, e)| e - c),
        LagRule::FromCommittedElseLogStart(start) => match current {
            Some(c) => end.map(|e| e - c),
            None => end.zip(start).map(|(e, s)| e - s),
        },
        LagRule::Reported(lag) => lag,
    };
    OffsetRow {
        topic: topic.to_string(),
        partition,
        current_offset: current,
        log_end_offset: end,
        lag,
        consumer_id: member.map(|m| m.consumer_id.clone()),
        host: member.map(|m| m.host.clone()),
        client_id: member.map(|m| m.client_id.clone()),
    }
}

/// A group with its offsets and lag (`describe_group`, and each row of `lag()`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GroupLag {
    /// Group id ("" for a row about a broker whose groups could not be listed).
    pub group: String,
    /// Classic, Consumer, Share or Streams.
    #[serde(rename = "type")]
    pub group_type: GroupType,
    /// Group state ("Unknown" when it could not be read).
    pub state: String,
    /// Coordinator broker id (-1 when unknown).
    pub coordinator: i32,
    /// The assignor (ASSIGNMENT-STRATEGY): "range", "uniform", ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignor: Option<String>,
    /// GROUP-EPOCH (consumer, share and streams groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_epoch: Option<i32>,
    /// TARGET-ASSIGNMENT-EPOCH (consumer, share and streams groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_assignment_epoch: Option<i32>,
    /// TOPOLOGY-EPOCH (streams groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology_epoch: Option<i32>,
    /// Members with their assignments.
    pub members: Vec<GroupMember>,
    /// One row per partition, sorted by topic and partition.
    pub partitions: Vec<OffsetRow>,
    /// Sum of the known lags (0 when the group could not be read: see `error`).
    pub total_lag: i64,
    /// Lag per topic.
    pub lag_per_topic: BTreeMap<String, i64>,
    /// What Kafka's tools print about the group ("Consumer group 'g' has no active
    /// members.", "... is rebalancing.").
    pub note: Option<String>,
    /// Why the group could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl GroupLag {
    fn failed(group: &str, group_type: Option<GroupType>, error: &Error) -> GroupLag {
        GroupLag {
            group: group.to_string(),
            group_type: group_type.unwrap_or(GroupType::Unknown),
            state: "Unknown".to_string(),
            coordinator: -1,
            assignor: None,
            group_epoch: None,
            target_assignment_epoch: None,
            topology_epoch: None,
            members: Vec::new(),
            partitions: Vec::new(),
            total_lag: 0,
            lag_per_topic: BTreeMap::new(),
            note: None,
            error: Some(error.to_string()),
        }
    }
}

/// Describes one group with exact lag; its failure (missing group, unreachable
/// coordinator) is the error.
pub async fn describe_group(client: &KafkaClient, group: &str) -> Result<GroupLag> {
    let calls = Calls::new(client);
    let gathered = gather(&calls, &[(group.to_string(), None)]).await;
    let mut rows = lags(&calls, gathered, &[]).await?;
    match rows.pop() {
        Some(Ok(g)) => Ok(g),
        Some(Err((_, e))) => Err(e),
        None => Err(not_found(group)),
    }
}

/// Lag of `groups` (empty: every group of every type) on `topics` (empty: all), computed
/// as Kafka's tools do. Never fails because of one group or one broker: a group that
/// cannot be read is a row with its `error`, and a broker that could not list its groups
/// is a row (group "") that says so. Requests: ListGroups per broker (when no groups are
/// named), one FindCoordinator, per coordinator one describe per group type and one
/// OffsetFetch or DescribeShareGroupOffsets, one Metadata and one ListOffsets per leader.
pub async fn group_lags(
    client: &KafkaClient,
    groups: &[String],
    topics: &[String],
) -> Result<Vec<GroupLag>> {
    let calls = Calls::new(client);
    let mut broker_rows = Vec::new();
    let wanted: Vec<(String, Option<GroupType>)> = if groups.is_empty() {
        let (listed, failures) = list_on_every_broker(&calls, &GroupFilter::default()).await?;
        for (broker, e) in failures {
            let mut row = GroupLag::failed(
                "",
                None,
                &e.map_message(|m| {
                    format!(
                        "broker {broker} could not list the groups it coordinates, so they are missing here: {m}"
                    )
                }),
            );
            row.coordinator = broker;
            broker_rows.push(row);
        }
        listed
            .into_iter()
            .map(|g| (g.group, Some(g.group_type)))
            .collect()
    } else {
        let mut names = groups.to_vec();
        names.sort();
        names.dedup();
        names.into_iter().map(|g| (g, None)).collect()
    };
    let hints: BTreeMap<String, Option<GroupType>> = wanted.iter().cloned().collect();
    let gathered = gather(&calls, &wanted).await;
    let mut out: Vec<GroupLag> = lags(&calls, gathered, topics)
        .await?
        .into_iter()
        .map(|r| match r {
            Ok(g) => g,
            Err((group, e)) => GroupLag::failed(&group, hints.get(&group).copied().flatten(), &e),
        })
        .collect();
    out.extend(broker_rows);
    Ok(out)
}

type LagResult = std::result::Result<GroupLag, (String, Error)>;

/// The rows of gathered groups, with log-end offsets read once for all of them.
async fn lags(
    calls: &Calls<'_>,
    gathered: BTreeMap<String, Result<Gathered>>,
    topics: &[String],
) -> Result<Vec<LagResult>> {
    let wanted = |t: &str| topics.is_empty() || topics.iter().any(|x| x == t);
    let mut latest: BTreeSet<TopicPartition> = BTreeSet::new();
    let mut earliest: BTreeSet<TopicPartition> = BTreeSet::new();
    for g in gathered.values().flatten() {
        for (tp, needs_start) in partitions_of(g) {
            if wanted(&tp.0) {
                if needs_start {
                    earliest.insert(tp.clone());
                }
                latest.insert(tp);
            }
        }
    }
    let latest: Vec<TopicPartition> = latest.into_iter().collect();
    let earliest: Vec<TopicPartition> = earliest.into_iter().collect();
    let ends =
        list_offsets_tolerant(calls.client, &latest, OffsetSpec::Latest, calls.limit).await?;
    let starts = if earliest.is_empty() {
        BTreeMap::new()
    } else {
        list_offsets_tolerant(calls.client, &earliest, OffsetSpec::Earliest, calls.limit).await?
    };
    let known =
        |m: &BTreeMap<TopicPartition, std::result::Result<i64, String>>, t: &str, p: i32| {
            m.get(&(t.to_string(), p))
                .and_then(|r| r.as_ref().ok())
                .copied()
        };
    let mut out = Vec::new();
    for (group, result) in gathered {
        let g = match result {
            Ok(g) => g,
            Err(e) => {
                out.push(Err((group, e)));
                continue;
            }
        };
        let d = g.description;
        let mut rows = Vec::new();
        match (&g.positions, d.group_type) {
            (Positions::Share(starts_of), _) => {
                for (t, ps) in starts_of.iter().filter(|(t, _)| wanted(t)) {
                    for (p, s) in ps {
                        rows.push(offset_row(
                            t,
                            *p,
                            s.start,
                            known(&ends, t, *p),
                            LagRule::Reported(s.lag),
                            None,
                        ));
                    }
                }
            }
            (Positions::Committed(committed), GroupType::Streams) => {
                for m in &d.members {
                    for (t, ps) in m.assignment.iter().filter(|(t, _)| wanted(t)) {
                        for p in ps {
                            let current = streams_current(&d, committed, t, *p);
                            rows.push(offset_row(
                                t,
                                *p,
                                current,
                                known(&ends, t, *p),
                                LagRule::FromCommittedElseLogStart(known(&starts, t, *p)),
                                Some(m),
                            ));
                        }
                    }
                }
            }
            (Positions::Committed(committed), _) => {
                if d.state == "Dead" && committed.is_empty() {
                    out.push(Err((group.clone(), not_found(&group))));
                    continue;
                }
                rows = consumer_rows(&d.members, committed, &wanted, |t, p| known(&ends, t, p));
            }
        }
        rows.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        let mut lag_per_topic: BTreeMap<String, i64> = BTreeMap::new();
        for r in &rows {
            *lag_per_topic.entry(r.topic.clone()).or_default() += r.lag.unwrap_or(0);
        }
        let noun = d.group_type.noun();
        let note = if d.state == "Empty" || (d.members.is_empty() && d.state != "Dead") {
            Some(format!("{noun} '{}' has no active members.", d.group))
        } else if [
            "PreparingRebalance",
            "CompletingRebalance",
            "Assigning",
            "Reconciling",
        ]
        .contains(&d.state.as_str())
        {
            Some(format!("{noun} '{}' is rebalancing.", d.group))
        } else if d.group_type == GroupType::Share && rows.is_empty() {
            Some(format!(
                "Share group '{}' has no offset information.",
                d.group
            ))
        } else {
            None
        };
        out.push(Ok(GroupLag {
            group: d.group,
            group_type: d.group_type,
            state: d.state,
            coordinator: d.coordinator,
            assignor: d.assignor,
            group_epoch: d.group_epoch,
            target_assignment_epoch: d.target_assignment_epoch,
            topology_epoch: d.topology_epoch,
            members: d.members,
            total_lag: lag_per_topic.values().sum(),
            lag_per_topic,
            partitions: rows,
            note,
            error: None,
        }));
    }
    Ok(out)
}

/// The partitions whose offsets a group's rows need, and whether an uncommitted one needs
/// its log start (streams).
fn partitions_of(g: &Gathered) -> Vec<(TopicPartition, bool)> {
    let mut out = Vec::new();
    match &g.positions {
        Positions::Share(starts) => {
            for (t, ps) in starts {
                out.extend(ps.keys().map(|p| ((t.clone(), *p), false)));
            }
        }
        Positions::Committed(committed) => {
            let d = &g.description;
            let streams = d.group_type == GroupType::Streams;
            for m in &d.members {
                for (t, ps) in &m.assignment {
                    for p in ps {
                        let uncommitted = streams_current(d, committed, t, *p).is_none();
                        out.push(((t.clone(), *p), streams && uncommitted));
                    }
                }
            }
            if !streams {
                for (t, ps) in committed {
                    out.extend(ps.keys().map(|p| ((t.clone(), *p), false)));
                }
            }
        }
    }
    out
}

/// A streams group's CURRENT-OFFSET of `t`-`p`: the committed offset of a topic one of its
/// subtopologies reads, source or internal repartition topic alike (Streams commits both).
/// As Kafka 4.4's kafka-streams-groups.sh shows; 4.2's showed "-" for repartition topics
/// (KAFKA-20306).
fn streams_current(
    d: &super::GroupDescription,
    committed: &Committed,
    t: &str,
    p: i32,
) -> Option<i64> {
    let read = d.subtopologies.iter().any(|s| {
        s.source_topics
            .iter()
            .chain(&s.repartition_source_topics)
            .any(|x| x == t)
    });
    read.then(|| committed.get(t).and_then(|c| c.get(&p)).copied())
        .flatten()
}

/// ConsumerGroupCommand's rows: every partition assigned to a member, then committed
/// partitions no member holds.
fn consumer_rows(
    members: &[GroupMember],
    committed: &Committed,
    wanted: &dyn Fn(&str) -> bool,
    end: impl Fn(&str, i32) -> Option<i64>,
) -> Vec<OffsetRow> {
    let mut rows = Vec::new();
    let mut assigned = BTreeSet::new();
    for m in members {
        for (t, ps) in m.assignment.iter().filter(|(t, _)| wanted(t)) {
            for p in ps {
                assigned.insert((t.clone(), *p));
                let current = committed.get(t).and_then(|c| c.get(p)).copied();
                rows.push(offset_row(
                    t,
                    *p,
                    current,
                    end(t, *p),
                    LagRule::FromCommitted,
                    Some(m),
                ));
            }
        }
    }
    for (t, ps) in committed.iter().filter(|(t, _)| wanted(t)) {
        for (p, offset) in ps {
            if !assigned.contains(&(t.clone(), *p)) {
                rows.push(offset_row(
                    t,
                    *p,
                    Some(*offset),
                    end(t, *p),
                    LagRule::FromCommitted,
                    None,
                ));
            }
        }
    }
    rows
}

/// A group that reads a topic.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TopicReader {
    /// Group id.
    pub group: String,
    /// Group type.
    #[serde(rename = "type")]
    pub group_type: GroupType,
    /// Group state.
    pub state: String,
    /// Members in the group.
    pub members: usize,
    /// Members that are assigned partitions of the topic.
    pub members_on_topic: usize,
    /// Partitions of the topic with a committed offset (share groups: with a start offset).
    pub committed_partitions: usize,
    /// Why the group could not be read (it may or may not read the topic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Groups that read `topic`: assigned to it now, or holding offsets for it; groups that
/// could not be read are listed with their error.
pub async fn groups_reading(client: &KafkaClient, topic: &str) -> Result<Vec<TopicReader>> {
    let calls = Calls::new(client);
    let (listed, _) = list_on_every_broker(&calls, &GroupFilter::default()).await?;
    if listed.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<(String, Option<GroupType>)> = listed
        .iter()
        .map(|g| (g.group.clone(), Some(g.group_type)))
        .collect();
    let mut out = Vec::new();
    for (group, result) in gather(&calls, &wanted).await {
        let g = match result {
            Ok(g) => g,
            Err(e) => {
                let t = listed
                    .iter()
                    .find(|l| l.group == group)
                    .map(|l| l.group_type);
                out.push(TopicReader {
                    group,
                    group_type: t.unwrap_or(GroupType::Unknown),
                    state: "Unknown".into(),
                    members: 0,
                    members_on_topic: 0,
                    committed_partitions: 0,
                    error: Some(e.to_string()),
                });
                continue;
            }
        };
        let d = &g.description;
        let on_topic = d
            .members
            .iter()
            .filter(|m| m.assignment.contains_key(topic))
            .count();
        let committed = match &g.positions {
            Positions::Committed(c) => c.get(topic).map(BTreeMap::len).unwrap_or(0),
            Positions::Share(s) => s.get(topic).map(BTreeMap::len).unwrap_or(0),
        };
        if on_topic > 0 || committed > 0 {
            out.push(TopicReader {
                group: d.group.clone(),
                group_type: d.group_type,
                state: d.state.clone(),
                members: d.members.len(),
                members_on_topic: on_topic,
                committed_partitions: committed,
                error: None,
            });
        }
    }
    Ok(out)
}

/// An old ZooKeeper-based group with lag against the brokers' log-end offsets, in the same
/// shape as a modern group's (`state` is "Stable" with members, else "Empty").
pub async fn legacy_group_lag(
    client: &KafkaClient,
    zk: &crate::zk::znodes::ZkSession,
    group: &str,
) -> Result<GroupLag> {
    let legacy = crate::zk::legacy::read(zk, group).await?;
    let mut partitions: Vec<TopicPartition> = Vec::new();
    for (t, ps) in &legacy.offsets {
        partitions.extend(ps.keys().map(|p| (t.clone(), *p)));
    }
    for (t, ps) in &legacy.owners {
        partitions.extend(ps.keys().map(|p| (t.clone(), *p)));
    }
    partitions.sort();
    partitions.dedup();
    let ends = crate::kafka::offsets::list_offsets(client, &partitions, OffsetSpec::Latest).await?;
    let members: Vec<GroupMember> = legacy
        .members
        .iter()
        .map(|id| {
            let mut m = GroupMember::new(id, "", "");
            m.assignment = legacy
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
                .collect();
            m
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
        let mut row = offset_row(t, *p, current, end, LagRule::FromCommitted, None);
        // The owner znode names the consumer thread; old consumers have no host/client id.
        row.consumer_id = owner;
        rows.push(row);
    }
    let mut lag_per_topic: BTreeMap<String, i64> = BTreeMap::new();
    for r in &rows {
        *lag_per_topic.entry(r.topic.clone()).or_default() += r.lag.unwrap_or(0);
    }
    Ok(GroupLag {
        group: group.to_string(),
        group_type: GroupType::Classic,
        state: if members.is_empty() {
            "Empty"
        } else {
            "Stable"
        }
        .to_string(),
        coordinator: -1,
        assignor: None,
        group_epoch: None,
        target_assignment_epoch: None,
        topology_epoch: None,
        note: members
            .is_empty()
            .then(|| format!("Consumer group '{group}' has no active members.")),
        members,
        total_lag: lag_per_topic.values().sum(),
        lag_per_topic,
        partitions: rows,
        error: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_rows_show_committed_offsets_of_every_topic_a_subtopology_reads() {
        use super::super::{GroupDescription, Subtopology};
        let d = GroupDescription {
            group: "wc".into(),
            group_type: GroupType::Streams,
            state: "Stable".into(),
            protocol_type: "streams".into(),
            assignor: None,
            coordinator: 1,
            group_epoch: Some(3),
            target_assignment_epoch: Some(3),
            topology_epoch: Some(0),
            members: vec![],
            subtopologies: vec![
                Subtopology {
                    id: "0".into(),
                    source_topics: vec!["in".into()],
                    repartition_source_topics: vec![],
                },
                Subtopology {
                    id: "1".into(),
                    source_topics: vec![],
                    repartition_source_topics: vec!["wc-counts-repartition".into()],
                },
            ],
        };
        let committed: Committed = [
            ("in".to_string(), [(0, 25)].into()),
            ("wc-counts-repartition".to_string(), [(0, 40)].into()),
            ("out".to_string(), [(0, 7)].into()),
        ]
        .into();
        assert_eq!(streams_current(&d, &committed, "in", 0), Some(25));
        assert_eq!(
            streams_current(&d, &committed, "wc-counts-repartition", 0),
            Some(40)
        );
        assert_eq!(streams_current(&d, &committed, "in", 1), None);
        // A topic no subtopology reads is not the group's position.
        assert_eq!(streams_current(&d, &committed, "out", 0), None);
    }

    #[test]
    fn lag_rules() {
        let row = |c, e, rule| offset_row("t", 0, c, e, rule, None).lag;
        assert_eq!(row(Some(10), Some(15), LagRule::FromCommitted), Some(5));
        assert_eq!(row(None, Some(15), LagRule::FromCommitted), None);
        assert_eq!(row(Some(10), None, LagRule::FromCommitted), None);
        let streams = LagRule::FromCommittedElseLogStart(Some(3));
        assert_eq!(row(Some(10), Some(15), streams), Some(5));
        assert_eq!(row(None, Some(15), streams), Some(12));
        assert_eq!(
            row(None, Some(15), LagRule::FromCommittedElseLogStart(None)),
            None
        );
        assert_eq!(row(Some(10), Some(15), LagRule::Reported(Some(2))), Some(2));
        assert_eq!(row(Some(10), Some(15), LagRule::Reported(None)), None);
    }

    #[test]
    fn consumer_rows_are_assigned_then_committed_only() {
        let mut m = GroupMember::new("m1", "/h", "c");
        m.assignment.insert("t".into(), vec![0, 1]);
        let mut committed: Committed = BTreeMap::new();
        committed.entry("t".into()).or_default().insert(1, 7);
        committed.entry("t".into()).or_default().insert(2, 4);
        committed.entry("other".into()).or_default().insert(0, 1);
        let rows = consumer_rows(&[m], &committed, &|t| t == "t", |_, _| Some(10));
        let got: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{} {:?} {:?} {:?}",
                    r.partition, r.current_offset, r.lag, r.consumer_id
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                "0 None None Some(\"m1\")",
                "1 Some(7) Some(3) Some(\"m1\")",
                "2 Some(4) Some(6) None",
            ]
        );
    }

    #[test]
    fn failed_groups_serialize_their_error_and_no_epochs() {
        let row = GroupLag::failed(
            "g",
            Some(GroupType::Consumer),
            &Error::Timeout("late".into()),
        );
        let v = serde_json::to_value(&row).expect("json");
        assert_eq!(v["error"], "late");
        assert_eq!(v["type"], "Consumer");
        assert!(v.get("group_epoch").is_none());
        assert_eq!(v["total_lag"], 0);
    }

    mod properties {
        use super::*;
        use proptest::option;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn lag_is_what_is_left_after_the_committed_offset(
                current in option::of(0i64..1 << 40),
                ahead in 0i64..1 << 20,
                start in option::of(0i64..1 << 40),
            ) {
                let end = current.map(|c| c + ahead).or(Some(ahead));
                let consumer = offset_row("t", 0, current, end, LagRule::FromCommitted, None);
                prop_assert_eq!(consumer.lag, current.map(|_| ahead));
                let streams = offset_row(
                    "t", 0, current, end, LagRule::FromCommittedElseLogStart(start), None,
                );
                match current {
                    Some(_) => prop_assert_eq!(streams.lag, Some(ahead)),
                    None => prop_assert_eq!(streams.lag, end.zip(start).map(|(e, s)| e - s)),
                }
                let share = offset_row("t", 0, current, end, LagRule::Reported(Some(3)), None);
                prop_assert_eq!(share.lag, Some(3));
            }
        }
    }
}
