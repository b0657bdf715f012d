//! The migration of a ZooKeeper-mode cluster to KRaft (Kafka 3.9's "ZooKeeper to KRaft
//! Migration"): which phase a cluster is in, read from what the cluster itself shows —
//! ZooKeeper's `/controller` (a KRaft controller writes its `kraftControllerEpoch` there once
//! it leads the migration), `/migration` (the KRaft metadata offset the migration reached;
//! -1 until the metadata is copied), the brokers registered in `/brokers/ids` (ZooKeeper
//! mode), the controller quorum (its leader, its observers: the KRaft brokers) and each
//! controller's ApiVersions (`ZkMigrationReady`: the controller runs with
//! `zookeeper.metadata.migration.enable=true`).
//!
//! The judgement is a pure function ([`phase_of`]) of those observations.

use serde::Serialize;

use super::conn::Node;
use super::quorum::{self, HealthLimits};
use super::KafkaClient;
use crate::error::Result;
use crate::zk::znodes::ZkSession;

/// What ZooKeeper says about the migration (when it answers).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ZkView {
    /// The cluster id of `/cluster/id`.
    pub cluster_id: Option<String>,
    /// The controller of `/controller`: a ZooKeeper-mode broker, or the KRaft controller
    /// leading the migration.
    pub controller: Option<i64>,
    /// `kraftControllerEpoch` of `/controller`: set (≥ 0) once a KRaft controller took over.
    pub kraft_controller_epoch: Option<i64>,
    /// The `/migration` znode (JSON), when it exists.
    pub migration: Option<serde_json::Value>,
    /// Whether `/migration` exists without data (KAFKA-19480: it stalls the migration).
    pub migration_znode_empty: bool,
    /// Brokers registered in `/brokers/ids` (ZooKeeper-mode brokers, migrating or not).
    pub brokers: Vec<i32>,
}

impl ZkView {
    /// The KRaft metadata offset `/migration` records (-1 until the metadata is migrated).
    pub fn migrated_offset(&self) -> Option<i64> {
        self.migration
            .as_ref()
            .and_then(|m| m.get("kraft_metadata_offset"))
            .and_then(serde_json::Value::as_i64)
    }
}

/// One controller of the inventory as it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControllerView {
    /// Node id.
    pub id: i32,
    /// `host:port` of its controller listener.
    pub address: String,
    /// Whether it answered ApiVersions.
    pub up: bool,
    /// Whether it runs with the migration enabled (ApiVersions' ZkMigrationReady).
    pub migration_enabled: bool,
    /// Why it did not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the controller quorum says (when it answers).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QuorumView {
    /// The active controller.
    pub leader: Option<i32>,
    /// The voters.
    pub voters: Vec<i32>,
    /// The observers that are not controllers: KRaft brokers fetching the metadata log, and
    /// ZooKeeper brokers in migration mode (which follow it too).
    pub kraft_brokers: Vec<i32>,
    /// The high watermark of the metadata log.
    pub high_watermark: i64,
    /// Whether the quorum is healthy (see `quorum_healthy`).
    pub healthy: bool,
    /// Why not.
    pub reasons: Vec<String>,
}

/// The phase of the migration, as `migration_status()` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigrationStatus {
    /// `zookeeper` (no KRaft quorum answers), `controllers` (a quorum answers, a ZooKeeper
    /// broker is still the controller: brokers not yet in migration mode), `migrating`
    /// (a KRaft controller took over, the metadata is being copied), `dual-write`
    /// (metadata migrated; some brokers still in ZooKeeper mode), `kraft-brokers` (every
    /// broker in KRaft mode, the controllers still write to ZooKeeper: the migration can be
    /// finalized or reverted), `finalizing` (some controllers already without the migration),
    /// `kraft` (no controller writes to ZooKeeper: finalized), or `unknown`.
    pub phase: String,
    /// The phase in words.
    pub summary: String,
    /// ZooKeeper's view (none when it did not answer or the context has none).
    pub zookeeper: Option<ZkView>,
    /// Why ZooKeeper could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zookeeper_error: Option<String>,
    /// The controller quorum's view (none when no controller answered).
    pub quorum: Option<QuorumView>,
    /// Why the quorum could not be described.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quorum_error: Option<String>,
    /// Each controller of the inventory.
    pub controllers: Vec<ControllerView>,
    /// Brokers in ZooKeeper mode (registered in `/brokers/ids`).
    pub zk_brokers: Vec<i32>,
    /// Brokers in KRaft mode (observers of the metadata log).
    pub kraft_brokers: Vec<i32>,
    /// Whether `/migration` records the metadata as migrated.
    pub metadata_migrated: bool,
}

/// The phase and its summary from the observations (pure).
pub fn phase_of(
    zk: Option<&ZkView>,
    quorum: Option<&QuorumView>,
    controllers: &[ControllerView],
) -> (&'static str, String) {
    let migrated = zk.and_then(ZkView::migrated_offset).is_some_and(|o| o >= 0);
    let kraft_leads = zk.is_some_and(|z| z.kraft_controller_epoch.is_some());
    let zk_brokers = zk.map(|z| z.brokers.len()).unwrap_or(0);
    let up: Vec<&ControllerView> = controllers.iter().filter(|c| c.up).collect();
    let migrating = up.iter().filter(|c| c.migration_enabled).count();
    let zk_ids = zk.map(|z| z.brokers.clone()).unwrap_or_default();
    // ZooKeeper brokers in migration mode follow the metadata log too.
    let kraft_brokers: Vec<i32> = quorum
        .map(|q| {
            q.kraft_brokers
                .iter()
                .copied()
                .filter(|b| !zk_ids.contains(b))
                .collect()
        })
        .unwrap_or_default();
    let Some(q) = quorum.filter(|q| q.leader.is_some()) else {
        return if kraft_leads {
            (
                "unknown",
                "a KRaft controller led the migration but no controller quorum answers now".into(),
            )
        } else {
            (
                "zookeeper",
                "ZooKeeper mode: no KRaft controller quorum answers".into(),
            )
        };
    };
    if !up.is_empty() && migrating == 0 && zk_brokers == 0 {
        return (
            "kraft",
            format!(
                "KRaft: no controller runs the migration; brokers {kraft_brokers:?} are KRaft brokers"
            ),
        );
    }
    if !kraft_leads {
        return (
            "controllers",
            format!(
                "the KRaft quorum (leader {}) waits for every ZooKeeper broker to register in migration mode; ZooKeeper brokers {zk_ids:?}",
                q.leader.unwrap_or(-1)
            ),
        );
    }
    if !migrated {
        return (
            "migrating",
            format!(
                "KRaft controller {} leads; the metadata is being copied from ZooKeeper",
                q.leader.unwrap_or(-1)
            ),
        );
    }
    if zk_brokers > 0 {
        return (
            "dual-write",
            format!(
                "metadata migrated; controller {} writes to KRaft and ZooKeeper; ZooKeeper-mode brokers {zk_ids:?}, KRaft brokers {kraft_brokers:?}",
                q.leader.unwrap_or(-1)
            ),
        );
    }
    if migrating < up.len() {
        return (
            "finalizing",
            "every broker is a KRaft broker; some controllers already run without the migration"
                .into(),
        );
    }
    (
        "kraft-brokers",
        format!(
            "every broker ({kraft_brokers:?}) is a KRaft broker; the controllers still write to ZooKeeper: finalize, or revert"
        ),
    )
}

/// Reads what ZooKeeper says about the migration.
pub async fn zk_view(zk: &ZkSession) -> Result<ZkView> {
    let mut view = ZkView::default();
    if let Ok(n) = zk.get("/cluster/id").await {
        view.cluster_id = n
            .json
            .as_ref()
            .and_then(|j| j.get("id"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
    }
    match zk.get("/controller").await {
        Ok(n) => {
            let j = n.json.unwrap_or_default();
            view.controller = j.get("brokerid").and_then(serde_json::Value::as_i64);
            // A ZooKeeper-mode controller writes -1.
            view.kraft_controller_epoch = j
                .get("kraftControllerEpoch")
                .and_then(serde_json::Value::as_i64)
                .filter(|e| *e >= 0);
        }
        Err(crate::error::Error::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    match zk.get("/migration").await {
        Ok(n) => {
            view.migration_znode_empty = n.data.as_deref().is_none_or(|d| d.trim().is_empty());
            view.migration = n.json;
        }
        Err(crate::error::Error::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    view.brokers = match zk.ls("/brokers/ids").await {
        Ok(ids) => ids.iter().filter_map(|i| i.parse().ok()).collect(),
        Err(crate::error::Error::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    view.brokers.sort_unstable();
    Ok(view)
}

/// Asks each controller (`(id, host:port)`) for its ApiVersions: up, and whether it runs
/// the migration.
pub async fn controller_views(
    client: &KafkaClient,
    nodes: &[(i32, String)],
) -> Vec<ControllerView> {
    let request = super::features::api_versions_request();
    KafkaClient::join_all(
        nodes
            .iter()
            .map(|(id, address)| {
                let request = &request;
                async move {
                    let node = Node::controller(address, Some(*id));
                    match client.send_to_node(&node, request).await {
                        Ok(r) => ControllerView {
                            id: *id,
                            address: address.clone(),
                            up: true,
                            migration_enabled: r.zk_migration_ready,
                            error: None,
                        },
                        Err(e) => ControllerView {
                            id: *id,
                            address: address.clone(),
                            up: false,
                            migration_enabled: false,
                            error: Some(e.to_string()),
                        },
                    }
                }
            })
            .collect(),
    )
    .await
}

/// Describes the quorum through the controllers `client` names.
pub async fn quorum_view(client: &KafkaClient) -> Result<QuorumView> {
    let state = quorum::describe(client).await?;
    let health = quorum::judge(&state, HealthLimits::default());
    let voters: Vec<i32> = state.voters.iter().map(|v| v.id).collect();
    let mut kraft_brokers: Vec<i32> = state
        .observers
        .iter()
        .map(|o| o.id)
        .filter(|id| !voters.contains(id))
        .collect();
    kraft_brokers.sort_unstable();
    Ok(QuorumView {
        leader: (state.leader_id >= 0).then_some(state.leader_id),
        voters,
        kraft_brokers,
        high_watermark: state.high_watermark,
        healthy: health.healthy,
        reasons: health.reasons,
    })
}

/// Puts the observations together.
pub fn status(
    zk: std::result::Result<Option<ZkView>, String>,
    quorum: std::result::Result<Option<QuorumView>, String>,
    controllers: Vec<ControllerView>,
) -> MigrationStatus {
    let (zookeeper, zookeeper_error) = match zk {
        Ok(v) => (v, None),
        Err(e) => (None, Some(e)),
    };
    let (quorum, quorum_error) = match quorum {
        Ok(v) => (v, None),
        Err(e) => (None, Some(e)),
    };
    let (phase, summary) = phase_of(zookeeper.as_ref(), quorum.as_ref(), &controllers);
    let zk_brokers = zookeeper
        .as_ref()
        .map(|z| z.brokers.clone())
        .unwrap_or_default();
    let kraft_brokers: Vec<i32> = quorum
        .as_ref()
        .map(|q| {
            q.kraft_brokers
                .iter()
                .copied()
                .filter(|b| !zk_brokers.contains(b))
                .collect()
        })
        .unwrap_or_default();
    let metadata_migrated = zookeeper
        .as_ref()
        .and_then(ZkView::migrated_offset)
        .is_some_and(|o| o >= 0);
    MigrationStatus {
        phase: phase.to_string(),
        summary,
        zookeeper,
        zookeeper_error,
        quorum,
        quorum_error,
        controllers,
        zk_brokers,
        kraft_brokers,
        metadata_migrated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zk(controller_epoch: Option<i64>, offset: Option<i64>, brokers: &[i32]) -> ZkView {
        ZkView {
            cluster_id: Some("abc".into()),
            controller: Some(if controller_epoch.is_some() { 101 } else { 1 }),
            kraft_controller_epoch: controller_epoch,
            migration: offset.map(|o| serde_json::json!({"kraft_metadata_offset": o})),
            migration_znode_empty: false,
            brokers: brokers.to_vec(),
        }
    }

    fn quorum(kraft_brokers: &[i32]) -> QuorumView {
        QuorumView {
            leader: Some(101),
            voters: vec![101, 102, 103],
            kraft_brokers: kraft_brokers.to_vec(),
            high_watermark: 10,
            healthy: true,
            reasons: Vec::new(),
        }
    }

    fn controllers(migrating: &[bool]) -> Vec<ControllerView> {
        migrating
            .iter()
            .enumerate()
            .map(|(i, &m)| ControllerView {
                id: 101 + i as i32,
                address: format!("h:{i}"),
                up: true,
                migration_enabled: m,
                error: None,
            })
            .collect()
    }

    #[test]
    fn phases_follow_the_cluster() {
        let all = controllers(&[true, true, true]);
        let phase =
            |z: Option<&ZkView>, q: Option<&QuorumView>, c: &[ControllerView]| phase_of(z, q, c).0;
        assert_eq!(
            phase(Some(&zk(None, None, &[1, 2, 3])), None, &[]),
            "zookeeper"
        );
        assert_eq!(
            phase(
                Some(&zk(None, Some(-1), &[1, 2, 3])),
                Some(&quorum(&[])),
                &all
            ),
            "controllers"
        );
        assert_eq!(
            phase(
                Some(&zk(Some(1), Some(-1), &[1, 2, 3])),
                Some(&quorum(&[])),
                &all
            ),
            "migrating"
        );
        assert_eq!(
            phase(
                Some(&zk(Some(1), Some(40), &[2, 3])),
                Some(&quorum(&[1])),
                &all
            ),
            "dual-write"
        );
        assert_eq!(
            phase(
                Some(&zk(Some(1), Some(40), &[])),
                Some(&quorum(&[1, 2, 3])),
                &all
            ),
            "kraft-brokers"
        );
        assert_eq!(
            phase(
                Some(&zk(Some(1), Some(40), &[])),
                Some(&quorum(&[1, 2, 3])),
                &controllers(&[false, true, true])
            ),
            "finalizing"
        );
        assert_eq!(
            phase(
                Some(&zk(Some(1), Some(40), &[])),
                Some(&quorum(&[1, 2, 3])),
                &controllers(&[false, false, false])
            ),
            "kraft"
        );
        // ZooKeeper gone after the migration: the quorum alone says KRaft.
        assert_eq!(
            phase(
                None,
                Some(&quorum(&[1, 2, 3])),
                &controllers(&[false, false, false])
            ),
            "kraft"
        );
        assert_eq!(
            phase(Some(&zk(Some(1), Some(40), &[])), None, &all),
            "unknown"
        );
    }

    #[test]
    fn the_status_keeps_zookeeper_brokers_out_of_the_kraft_ones() {
        let s = status(
            Ok(Some(zk(Some(1), Some(40), &[2, 3]))),
            Ok(Some(quorum(&[1, 2]))),
            controllers(&[true, true, true]),
        );
        assert_eq!(s.phase, "dual-write");
        assert_eq!(s.kraft_brokers, vec![1]);
        assert_eq!(s.zk_brokers, vec![2, 3]);
        assert!(s.metadata_migrated);
        let s = status(Err("down".into()), Err("no quorum".into()), Vec::new());
        assert_eq!(s.phase, "zookeeper");
        assert_eq!(s.zookeeper_error.as_deref(), Some("down"));
    }
}
