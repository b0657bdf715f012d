//! Where groups stand in their topics: committed offsets (OffsetFetch; classic, consumer
//! and streams groups), and share-partition start offsets with the broker's lag
//! (DescribeShareGroupOffsets; share groups). Many groups per request where the broker
//! allows it, one request per coordinator.

use super::gather::{Calls, Capped, Failure};
use super::wire::ShareGroupOffsetsRequest;
use crate::error::Error;
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
use kafka_protocol::messages::{GroupId, OffsetFetchRequest};
use kafka_protocol::protocol::StrBytes;
use std::collections::{BTreeMap, HashMap};

/// Committed offsets: topic → partition → offset.
pub type Committed = BTreeMap<String, BTreeMap<i32, i64>>;

/// A share-partition's start offset (the next record to deliver) and its lag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareStart {
    /// None when the partition has no start offset yet.
    pub start: Option<i64>,
    /// The broker's count of records not yet acknowledged (KIP-1226; brokers before 4.2
    /// do not say).
    pub lag: Option<i64>,
}

/// A group's positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Positions {
    /// Classic, consumer and streams groups.
    Committed(Committed),
    /// Share groups: topic → partition → start.
    Share(BTreeMap<String, BTreeMap<i32, ShareStart>>),
}

/// OffsetFetch v10 names topics by id; kafsh speaks names.
type OffsetFetch = Capped<OffsetFetchRequest, 9>;

/// Committed offsets of `groups` from their coordinator `id`: one request for all of them
/// (v8+), else one per group.
pub(super) async fn committed_at(
    calls: &Calls<'_>,
    id: i32,
    groups: &[String],
) -> HashMap<String, Result<Positions, Failure>> {
    let mut out = HashMap::new();
    let version = match calls.version::<OffsetFetch>(id, i16::MAX).await {
        Ok(v) => v,
        Err(e) => {
            for g in groups {
                out.insert(g.clone(), Err(Failure::final_(e.clone())));
            }
            return out;
        }
    };
    if version >= 8 {
        let request = OffsetFetchRequest::default().with_groups(
            groups
                .iter()
                .map(|n| {
                    OffsetFetchRequestGroup::default()
                        .with_group_id(GroupId(StrBytes::from_string(n.clone())))
                        .with_topics(None)
                })
                .collect(),
        );
        match calls.send(id, &Capped::<_, 9>(request)).await {
            Err(e) => {
                for g in groups {
                    out.insert(g.clone(), Err(Failure::final_(e.clone())));
                }
            }
            Ok(response) => {
                for g in response.groups {
                    let name = g.group_id.0.as_str().to_string();
                    let result = match Failure::from_code(g.error_code, None, &name) {
                        Some(f) => Err(f),
                        None => Ok(Positions::Committed(collect(g.topics.into_iter().map(
                            |t| {
                                (
                                    t.name.0.as_str().to_string(),
                                    t.partitions
                                        .into_iter()
                                        .map(|p| {
                                            (p.partition_index, p.error_code, p.committed_offset)
                                        })
                                        .collect(),
                                )
                            },
                        )))),
                    };
                    out.insert(name, result);
                }
            }
        }
    } else {
        for n in groups {
            let request = OffsetFetchRequest::default()
                .with_group_id(GroupId(StrBytes::from_string(n.clone())))
                .with_topics(None);
            let result = match calls.send(id, &Capped::<_, 9>(request)).await {
                Err(e) => Err(Failure::final_(e)),
                Ok(response) => match Failure::from_code(response.error_code, None, n) {
                    Some(f) => Err(f),
                    None => Ok(Positions::Committed(collect(
                        response.topics.into_iter().map(|t| {
                            (
                                t.name.0.as_str().to_string(),
                                t.partitions
                                    .into_iter()
                                    .map(|p| (p.partition_index, p.error_code, p.committed_offset))
                                    .collect(),
                            )
                        }),
                    ))),
                },
            };
            out.insert(n.clone(), result);
        }
    }
    out
}

/// Topic → partition → offset, leaving out partitions with an error or no offset (-1).
fn collect(topics: impl Iterator<Item = (String, Vec<(i32, i16, i64)>)>) -> Committed {
    let mut out: Committed = BTreeMap::new();
    for (topic, partitions) in topics {
        for (partition, error, offset) in partitions {
            if error == 0 && offset >= 0 {
                out.entry(topic.clone())
                    .or_default()
                    .insert(partition, offset);
            }
        }
    }
    out
}

/// Share-partition start offsets of share `groups` from their coordinator `id`, in one
/// request. Partitions with an error are left out, as Kafka's admin client does.
pub(super) async fn share_starts_at(
    calls: &Calls<'_>,
    id: i32,
    groups: &[String],
) -> HashMap<String, Result<Positions, Failure>> {
    let mut out = HashMap::new();
    let request = ShareGroupOffsetsRequest {
        groups: groups.iter().map(|g| (g.clone(), None)).collect(),
    };
    let response = match calls.send(id, &request).await {
        Ok(r) => r,
        Err(e) => {
            for g in groups {
                out.insert(g.clone(), Err(Failure::final_(e.clone())));
            }
            return out;
        }
    };
    for g in response.groups {
        let message = g.error_message.map(StrBytes::from_string);
        let result = match Failure::from_code(g.error_code, message.as_ref(), &g.group_id) {
            Some(f) => Err(f),
            None => {
                let mut starts: BTreeMap<String, BTreeMap<i32, ShareStart>> = BTreeMap::new();
                for t in g.topics {
                    for p in t.partitions.into_iter().filter(|p| p.error_code == 0) {
                        starts.entry(t.topic_name.clone()).or_default().insert(
                            p.partition_index,
                            ShareStart {
                                start: (p.start_offset >= 0).then_some(p.start_offset),
                                lag: (p.start_offset >= 0 && p.lag >= 0).then_some(p.lag),
                            },
                        );
                    }
                }
                Ok(Positions::Share(starts))
            }
        };
        out.insert(g.group_id, result);
    }
    for g in groups {
        out.entry(g.clone()).or_insert_with(|| {
            Err(Failure::final_(Error::Cluster(format!(
                "coordinator {id} did not answer for share group {g:?}"
            ))))
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_failed_offsets_are_left_out() {
        let c = collect(
            vec![
                ("t".to_string(), vec![(0, 0, 5), (1, 0, -1), (2, 3, 9)]),
                ("u".to_string(), vec![(0, 0, 0)]),
            ]
            .into_iter(),
        );
        assert_eq!(c["t"].len(), 1);
        assert_eq!(c["t"][&0], 5);
        assert_eq!(c["u"][&0], 0);
    }
}
