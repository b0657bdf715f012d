//! Brokers of the cluster, from a Metadata request.

use super::client::KafkaClient;
use crate::error::Result;
use serde::Serialize;

/// One live broker as the cluster metadata reports it.
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
    /// Whether this broker is the controller (ZooKeeper mode; KRaft controllers are not
    /// brokers and this is false everywhere).
    pub controller: bool,
}

/// The live brokers, sorted by id.
pub async fn brokers(client: &KafkaClient) -> Result<Vec<Broker>> {
    let meta = client.metadata(Some(&[])).await?;
    let kraft = is_kraft(client).await?;
    let mut brokers: Vec<Broker> = meta
        .brokers
        .iter()
        .map(|b| Broker {
            id: b.node_id.0,
            host: b.host.as_str().to_string(),
            port: b.port,
            rack: b.rack.as_ref().map(|r| r.as_str().to_string()),
            controller: !kraft && b.node_id.0 == meta.controller_id.0,
        })
        .collect();
    brokers.sort_by_key(|b| b.id);
    Ok(brokers)
}

/// Whether the cluster runs in KRaft mode: its brokers expose DescribeQuorum (forwarded to
/// the controller quorum), which ZooKeeper-mode brokers do not.
pub async fn is_kraft(client: &KafkaClient) -> Result<bool> {
    let conn = client.any().await?;
    let guard = conn.lock().await;
    Ok(guard.supports::<kafka_protocol::messages::DescribeQuorumRequest>())
}
