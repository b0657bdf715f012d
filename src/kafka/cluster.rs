//! Cluster health: the controller, the brokers (and which of them are hung or down),
//! topic and partition counts, and the partitions that are under-replicated, offline (no
//! leader) or under their topic's min.insync.replicas.

use super::client::{check_code, KafkaClient};
use crate::error::Result;
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::{DescribeConfigsRequest, MetadataResponse};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;
use std::collections::HashMap;

/// One partition with a problem.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PartitionHealth {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
    /// Leader broker id, none when offline.
    pub leader: Option<i32>,
    /// Replicas, preferred leader first.
    pub replicas: Vec<i32>,
    /// In-sync replicas.
    pub isr: Vec<i32>,
    /// Replicas on offline brokers.
    pub offline_replicas: Vec<i32>,
    /// The topic's min.insync.replicas.
    pub min_isr: i32,
}

/// The cluster summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClusterSummary {
    /// Cluster id.
    pub cluster_id: Option<String>,
    /// "zookeeper" or "kraft".
    pub mode: String,
    /// The active controller (ZooKeeper mode: a broker; KRaft: the quorum leader), the same
    /// node `brokers()` marks as controller.
    pub controller: Option<i32>,
    /// KRaft: the voters of the controller quorum. ZooKeeper mode: empty.
    pub controllers: Vec<i32>,
    /// Registered broker ids (through controllers only: the brokers following the metadata
    /// log, its observers that are not controllers).
    pub brokers: Vec<i32>,
    /// Registered brokers that accept connections but do not answer ApiVersions in time.
    pub hung_brokers: Vec<i32>,
    /// Registered brokers that refuse connections (or cannot be reached).
    pub down_brokers: Vec<i32>,
    /// Topics, internal ones included (null through controllers only: brokers serve them).
    pub topics: Option<usize>,
    /// Partitions in all.
    pub partitions: Option<usize>,
    /// Partitions whose ISR is smaller than their replica list.
    pub under_replicated: Option<usize>,
    /// Partitions without a leader.
    pub offline: Option<usize>,
    /// Partitions whose ISR is smaller than min.insync.replicas (acks=all writes fail).
    pub under_min_isr: Option<usize>,
    /// What is not known and why (e.g. the active controller during a KRaft election).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Every partition of the cluster with its health facts.
pub async fn partitions(client: &KafkaClient) -> Result<(MetadataResponse, Vec<PartitionHealth>)> {
    let meta = client.metadata(None).await?;
    let topics: Vec<String> = meta
        .topics
        .iter()
        .filter(|t| t.error_code == 0)
        .filter_map(|t| t.name.as_ref().map(|n| n.0.as_str().to_string()))
        .collect();
    let min_isr = min_isr_of(client, &topics).await?;
    let mut out = Vec::new();
    for t in &meta.topics {
        let Some(name) = t.name.as_ref().map(|n| n.0.as_str().to_string()) else {
            continue;
        };
        let min = min_isr.get(&name).copied().unwrap_or(1);
        for p in &t.partitions {
            out.push(PartitionHealth {
                topic: name.clone(),
                partition: p.partition_index,
                leader: (p.leader_id.0 >= 0).then_some(p.leader_id.0),
                replicas: p.replica_nodes.iter().map(|b| b.0).collect(),
                isr: p.isr_nodes.iter().map(|b| b.0).collect(),
                offline_replicas: p.offline_replicas.iter().map(|b| b.0).collect(),
                min_isr: min,
            });
        }
    }
    out.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    Ok((meta, out))
}

/// [`partitions`] from a current source: on a ZooKeeper-mode cluster whose ZooKeeper is
/// given, each partition's leader and ISR come from its state znode, which the controller
/// and the leaders write first; the brokers' metadata follows later (Kafka before 2.7
/// batches ISR changes to it, seconds late), and a runbook's gate must not wait on, or
/// act on, that stale answer. A KRaft cluster's brokers follow the metadata log, which is
/// the source itself; its znodes (after a migration) are not read.
pub async fn partitions_current(
    client: &KafkaClient,
    zk: Option<&crate::zk::znodes::ZkSession>,
) -> Result<(MetadataResponse, Vec<PartitionHealth>)> {
    let (meta, mut parts) = partitions(client).await?;
    if let Some(zk) = zk {
        if !super::brokers::is_kraft(client).await? {
            let keys: Vec<(String, i32)> = parts
                .iter()
                .map(|p| (p.topic.clone(), p.partition))
                .collect();
            let states = crate::zk::partitions::states(zk, &keys).await?;
            with_states(&mut parts, &states);
        }
    }
    Ok((meta, parts))
}

/// Replaces the leader and ISR of every partition `states` has (pure).
pub fn with_states(
    parts: &mut [PartitionHealth],
    states: &HashMap<(String, i32), crate::zk::partitions::PartitionState>,
) {
    for p in parts.iter_mut() {
        if let Some(s) = states.get(&(p.topic.clone(), p.partition)) {
            p.leader = s.leader;
            p.isr = s.isr.clone();
        }
    }
}

async fn min_isr_of(client: &KafkaClient, topics: &[String]) -> Result<HashMap<String, i32>> {
    if topics.is_empty() {
        return Ok(HashMap::new());
    }
    let request = DescribeConfigsRequest::default().with_resources(
        topics
            .iter()
            .map(|t| {
                DescribeConfigsResource::default()
                    .with_resource_type(2)
                    .with_resource_name(StrBytes::from_string(t.clone()))
                    .with_configuration_keys(Some(vec![StrBytes::from_static_str(
                        "min.insync.replicas",
                    )]))
            })
            .collect(),
    );
    let response = client.send_any(&request).await?;
    let mut out = HashMap::new();
    for r in response.results {
        if r.error_code == ResponseError::UnknownTopicOrPartition.code() {
            continue; // deleted meanwhile
        }
        check_code(
            r.error_code,
            r.error_message.as_ref(),
            &format!("topic {:?}", r.resource_name.as_str()),
        )?;
        for c in r.configs {
            if let Some(v) = c.value.as_ref().and_then(|v| v.as_str().parse().ok()) {
                out.insert(r.resource_name.as_str().to_string(), v);
            }
        }
    }
    Ok(out)
}

/// Under-replicated partitions: ISR smaller than the replica list.
pub fn under_replicated(all: &[PartitionHealth]) -> Vec<PartitionHealth> {
    all.iter()
        .filter(|p| p.isr.len() < p.replicas.len())
        .cloned()
        .collect()
}

/// Offline partitions: no leader.
pub fn offline(all: &[PartitionHealth]) -> Vec<PartitionHealth> {
    all.iter().filter(|p| p.leader.is_none()).cloned().collect()
}

/// Partitions whose ISR is below min.insync.replicas.
pub fn under_min_isr(all: &[PartitionHealth]) -> Vec<PartitionHealth> {
    all.iter()
        .filter(|p| (p.isr.len() as i32) < p.min_isr)
        .cloned()
        .collect()
}

/// The cluster summary: controller and brokers from the same answer `brokers()` gives,
/// each broker checked (hung, down), and the partition counts. Through controllers only
/// (`--bootstrap-controller` without brokers) the brokers are the metadata log's observers
/// and the partition counts are null: only brokers serve them.
/// On a ZooKeeper-mode cluster with `zk` given, the partition counts are read as
/// [`partitions_current`] reads them.
pub async fn cluster(
    client: &KafkaClient,
    zk: Option<&crate::zk::znodes::ZkSession>,
) -> Result<ClusterSummary> {
    let nodes = super::brokers::checked(client).await?;
    let with_status = |status: &str| -> Vec<i32> {
        nodes
            .brokers
            .iter()
            .filter(|b| b.roles != "controller" && b.status.as_deref() == Some(status))
            .map(|b| b.id)
            .collect()
    };
    let mut note = nodes.controller_note.clone();
    let (parts, brokers, cluster_id) = if client.has_brokers() {
        let (meta, parts) = partitions_current(client, zk).await?;
        let topics = meta.topics.iter().filter(|t| t.error_code == 0).count();
        let brokers: Vec<i32> = nodes
            .brokers
            .iter()
            .filter(|b| b.roles != "controller")
            .map(|b| b.id)
            .collect();
        let id = nodes
            .cluster_id
            .clone()
            .or_else(|| meta.cluster_id.as_ref().map(|c| c.as_str().to_string()));
        (Some((topics, parts)), brokers, id)
    } else {
        let state = super::quorum::describe(client).await?;
        let controllers: Vec<i32> = nodes.brokers.iter().map(|b| b.id).collect();
        let mut brokers: Vec<i32> = state
            .observers
            .iter()
            .map(|o| o.id)
            .filter(|id| !controllers.contains(id) && !state.voters.iter().any(|v| v.id == *id))
            .collect();
        brokers.sort();
        brokers.dedup();
        note.get_or_insert_with(|| {
            "through the controllers only: brokers are the metadata log's observers; topics and partitions need --bootstrap-server".into()
        });
        (None, brokers, nodes.cluster_id.clone())
    };
    let count =
        |f: fn(&[PartitionHealth]) -> Vec<PartitionHealth>| parts.as_ref().map(|(_, p)| f(p).len());
    Ok(ClusterSummary {
        cluster_id,
        mode: if nodes.kraft { "kraft" } else { "zookeeper" }.into(),
        controller: nodes.controller,
        controllers: nodes.controllers.clone(),
        brokers,
        hung_brokers: with_status("hung"),
        down_brokers: with_status("down"),
        topics: parts.as_ref().map(|(t, _)| *t),
        partitions: parts.as_ref().map(|(_, p)| p.len()),
        under_replicated: count(under_replicated),
        offline: count(offline),
        under_min_isr: count(under_min_isr),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zk::partitions::PartitionState;

    fn health(topic: &str, partition: i32, leader: i32, isr: &[i32]) -> PartitionHealth {
        PartitionHealth {
            topic: topic.into(),
            partition,
            leader: Some(leader),
            replicas: vec![1, 2],
            isr: isr.to_vec(),
            offline_replicas: vec![],
            min_isr: 1,
        }
    }

    /// The brokers' stale ISR (Kafka 2.3 right after a reassignment) gives way to the state
    /// znode's; a partition without a znode keeps what the brokers said.
    #[test]
    fn state_znodes_replace_stale_isr() {
        let mut parts = vec![health("t", 0, 1, &[1]), health("t", 1, 2, &[2])];
        let states = HashMap::from([(
            ("t".to_string(), 0),
            PartitionState {
                leader: Some(1),
                isr: vec![1, 2],
                leader_epoch: 3,
            },
        )]);
        assert_eq!(under_replicated(&parts).len(), 2);
        with_states(&mut parts, &states);
        assert_eq!(parts[0].isr, vec![1, 2]);
        let urp = under_replicated(&parts);
        assert_eq!(urp.len(), 1);
        assert_eq!(urp[0].partition, 1);
    }
}
