//! Brokers of the cluster and the controller, from one source for `brokers()` and
//! `cluster()`: DescribeCluster (Metadata on brokers older than 2.8) for the registered
//! brokers, and on KRaft DescribeQuorum for the active controller and the controller
//! quorum's members — DescribeCluster names a random broker as "controller" on KRaft. With
//! bootstrap controllers (`--bootstrap-controller`) the controllers describe themselves
//! (DescribeCluster with endpoint type "controllers") and join the list.
//! [`checked`] adds each broker's health: up, hung (connects, does not answer ApiVersions
//! within the limit) or down (refuses connections).

use super::client::{check_code, KafkaClient};
use super::conn::{human, Health, Node};
use crate::error::{Error, Result};
use kafka_protocol::messages::{DescribeClusterRequest, DescribeQuorumRequest};
use serde::Serialize;

/// One registered broker.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Broker {
    /// `broker.id` / `node.id`.
    pub id: i32,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: i32,
    /// `broker.rack`, if set.
    pub rack: Option<String>,
    /// Whether this node is the active controller (ZooKeeper mode: the controller broker;
    /// KRaft: the quorum leader, when it is also a broker).
    pub controller: bool,
    /// What the node is, as `process.roles` says it: "broker", "broker,controller" for a
    /// KRaft node that is also a voter of the controller quorum, or "controller" for a
    /// controller-only node (listed when bootstrap controllers are named).
    pub roles: String,
    /// up, hung (connected but no answer to ApiVersions within the limit) or down (refused,
    /// or no connection); none when not checked.
    pub status: Option<String>,
    /// How long ApiVersions took on a new connection, when up.
    pub api_versions_ms: Option<u64>,
    /// Why the broker is hung or down.
    pub error: Option<String>,
}

/// The nodes of the cluster and who controls it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClusterNodes {
    /// Cluster id.
    pub cluster_id: Option<String>,
    /// Whether the cluster runs in KRaft mode.
    pub kraft: bool,
    /// Registered brokers, by id.
    pub brokers: Vec<Broker>,
    /// The active controller: ZooKeeper mode's controller broker, KRaft's quorum leader.
    pub controller: Option<i32>,
    /// KRaft: the voters of the controller quorum (brokers or not). ZooKeeper mode: empty.
    pub controllers: Vec<i32>,
    /// Why the active controller is not known, when it is not.
    pub controller_note: Option<String>,
}

/// The registered brokers (sorted by id) with their roles, and the controller.
pub async fn nodes(client: &KafkaClient) -> Result<ClusterNodes> {
    nodes_checking(client, false).await
}

/// The nodes, every broker checked on a new connection (at the same time as the quorum is
/// asked for its leader): up, hung or down.
pub async fn checked(client: &KafkaClient) -> Result<ClusterNodes> {
    nodes_checking(client, true).await
}

async fn nodes_checking(client: &KafkaClient, check: bool) -> Result<ClusterNodes> {
    let kraft = is_kraft(client).await?;
    let (mut cluster_id, mut brokers, reported_controller) = if client.has_brokers() {
        registered(client).await?
    } else {
        (None, Vec::new(), -1)
    };
    // The controllers as they describe themselves (--bootstrap-controller): controller-only
    // nodes join the list, with their own addresses.
    let mut targets: Vec<Node> = brokers
        .iter()
        .map(|b| Node::new(&format!("{}:{}", b.host, b.port), Some(b.id)))
        .collect();
    if client.via_controllers() {
        let described = client.describe_controllers().await?;
        cluster_id.get_or_insert_with(|| described.cluster_id.to_string());
        for c in &described.brokers {
            if brokers.iter().any(|b| b.id == c.broker_id.0) {
                continue;
            }
            let mut node = broker(c.broker_id.0, c.host.as_str(), c.port, c.rack.as_deref());
            node.roles = "controller".into();
            targets.push(Node::controller(
                &format!("{}:{}", node.host, node.port),
                Some(node.id),
            ));
            brokers.push(node);
        }
    }
    brokers.sort_by_key(|b| b.id);
    targets.sort_by_key(|n| n.id);
    if !check {
        targets.clear();
    }
    let asked = async {
        if kraft {
            Some(quorum(client).await)
        } else {
            None
        }
    };
    let (asked, health) = tokio::join!(asked, client.probe_nodes(&targets));
    for (b, h) in brokers.iter_mut().zip(health) {
        match h {
            Health::Up(took) => {
                b.status = Some("up".into());
                b.api_versions_ms = Some(took.as_millis() as u64);
            }
            Health::Hung(why) => {
                b.status = Some("hung".into());
                b.error = Some(why);
            }
            Health::Down(why) => {
                b.status = Some("down".into());
                b.error = Some(why);
            }
        }
    }
    let (controller, controllers, controller_note) = if let Some(asked) = asked {
        match asked {
            Ok(q) => {
                let note = q.leader.is_none().then(|| {
                    "the controller quorum has no leader (an election is under way)".into()
                });
                (q.leader, q.voters, note)
            }
            Err(e) => (
                None,
                Vec::new(),
                Some(format!("the active controller is unknown: {e}")),
            ),
        }
    } else if reported_controller >= 0 {
        (Some(reported_controller), Vec::new(), None)
    } else {
        (
            None,
            Vec::new(),
            Some("the cluster has no active controller".into()),
        )
    };
    for b in &mut brokers {
        b.controller = controller == Some(b.id);
        if b.roles == "broker" && controllers.contains(&b.id) {
            b.roles = "broker,controller".into();
        }
    }
    Ok(ClusterNodes {
        cluster_id,
        kraft,
        brokers,
        controller,
        controllers,
        controller_note,
    })
}

/// The registered brokers as the brokers answer (DescribeCluster; Metadata before 2.8):
/// cluster id, brokers, and the controller they report.
async fn registered(client: &KafkaClient) -> Result<(Option<String>, Vec<Broker>, i32)> {
    let conn = client.any().await?;
    let describe_cluster = conn.lock().await.supports::<DescribeClusterRequest>();
    if describe_cluster {
        let response = client.send_any(&DescribeClusterRequest::default()).await?;
        check_code(
            response.error_code,
            response.error_message.as_ref(),
            "DescribeCluster",
        )?;
        let brokers: Vec<Broker> = response
            .brokers
            .iter()
            .map(|b| broker(b.broker_id.0, b.host.as_str(), b.port, b.rack.as_deref()))
            .collect();
        Ok((
            Some(response.cluster_id.as_str().to_string()),
            brokers,
            response.controller_id.0,
        ))
    } else {
        let meta = client.metadata(Some(&[])).await?;
        let brokers: Vec<Broker> = meta
            .brokers
            .iter()
            .map(|b| broker(b.node_id.0, b.host.as_str(), b.port, b.rack.as_deref()))
            .collect();
        Ok((
            meta.cluster_id.as_ref().map(|c| c.as_str().to_string()),
            brokers,
            meta.controller_id.0,
        ))
    }
}

fn broker(id: i32, host: &str, port: i32, rack: Option<&str>) -> Broker {
    Broker {
        id,
        host: host.to_string(),
        port,
        rack: rack.map(str::to_string),
        controller: false,
        roles: "broker".into(),
        status: None,
        api_versions_ms: None,
        error: None,
    }
}

/// The registered brokers, sorted by id, with their roles (not checked).
pub async fn brokers(client: &KafkaClient) -> Result<Vec<Broker>> {
    Ok(nodes(client).await?.brokers)
}

/// Whether the cluster runs in KRaft mode: its brokers expose DescribeQuorum (forwarded to
/// the controller quorum), which ZooKeeper-mode brokers do not (asked of the bootstrap
/// controllers when they are named).
pub async fn is_kraft(client: &KafkaClient) -> Result<bool> {
    let conn = if client.via_controllers() {
        client.any_controller().await?
    } else {
        client.any().await?
    };
    let guard = conn.lock().await;
    Ok(guard.supports::<DescribeQuorumRequest>())
}

/// The KRaft controller quorum as DescribeQuorum reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    /// The active controller.
    pub leader: Option<i32>,
    /// The voters, sorted.
    pub voters: Vec<i32>,
}

/// The KRaft quorum (DescribeQuorum, forwarded by brokers to the active controller), within
/// twice the ApiVersions limit: during an election nobody answers for a while.
pub async fn quorum(client: &KafkaClient) -> Result<Quorum> {
    use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
    use kafka_protocol::messages::TopicName;
    use kafka_protocol::protocol::StrBytes;
    let request = DescribeQuorumRequest::default().with_topics(vec![TopicData::default()
        .with_topic_name(TopicName(StrBytes::from_static_str("__cluster_metadata")))
        .with_partitions(vec![PartitionData::default().with_partition_index(0)])]);
    let limit = client.limits().api_versions * 2;
    let response = tokio::time::timeout(limit, client.send_to_quorum(&request))
        .await
        .map_err(|_| {
            Error::Timeout(format!(
                "the controller quorum did not answer DescribeQuorum within {} (an election may be under way)",
                human(limit)
            ))
        })??;
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        "the controller quorum",
    )?;
    let partition = response.topics.first().and_then(|t| t.partitions.first());
    if let Some(p) = partition {
        check_code(
            p.error_code,
            p.error_message.as_ref(),
            "the controller quorum",
        )?;
    }
    let mut voters: Vec<i32> = partition
        .map(|p| p.current_voters.iter().map(|v| v.replica_id.0).collect())
        .unwrap_or_default();
    voters.sort();
    voters.dedup();
    Ok(Quorum {
        leader: partition.map(|p| p.leader_id.0).filter(|id| *id >= 0),
        voters,
    })
}
