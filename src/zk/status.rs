//! Ensemble status: every server's mode, version, zxid, latency, connections, znode count,
//! and on the leader its followers and synced followers, from `srvr` and `mntr`.

use super::config::Role;
use super::four_letter::{four_letter, parse_mntr, parse_srvr, whitelist_hint, FourLetterError};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The status of one ZooKeeper server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ZkServerStatus {
    /// `host:port` (client port).
    pub server: String,
    /// The server's id (myid): from the inventory, else from the server's `conf`.
    pub id: Option<u32>,
    /// participant (votes) or observer: from the inventory, else from the configuration,
    /// else from the mode it runs in.
    #[serde(default)]
    pub role: Option<Role>,
    /// leader, follower, observer, standalone, down (refuses connections, or hung: accepts
    /// them but does not answer within the limit, as `error` says), not_serving, or refused
    /// (four-letter words not whitelisted).
    pub mode: String,
    /// ZooKeeper version.
    pub version: Option<String>,
    /// Last zxid, hex as ZooKeeper prints it.
    pub zxid: Option<String>,
    /// Epoch of the zxid (its high 32 bits).
    pub epoch: Option<u64>,
    /// Latency in ms.
    pub latency_min: Option<f64>,
    /// Latency in ms.
    pub latency_avg: Option<f64>,
    /// Latency in ms.
    pub latency_max: Option<f64>,
    /// Open client connections.
    pub connections: Option<u64>,
    /// Requests queued.
    pub outstanding: Option<u64>,
    /// Number of znodes.
    pub znode_count: Option<u64>,
    /// Followers connected (leader only).
    pub followers: Option<u64>,
    /// Followers in sync (leader only; with dynamic reconfiguration this includes servers
    /// that joined but are not voters yet).
    pub synced_followers: Option<u64>,
    /// Observers in sync (leader only).
    #[serde(default)]
    pub synced_observers: Option<u64>,
    /// Why the server could not be read, when it could not.
    pub error: Option<String>,
}

impl ZkServerStatus {
    fn empty(server: &str, id: Option<u32>, mode: &str, error: Option<String>) -> Self {
        ZkServerStatus {
            server: server.to_string(),
            id,
            role: None,
            mode: mode.to_string(),
            version: None,
            zxid: None,
            epoch: None,
            latency_min: None,
            latency_avg: None,
            latency_max: None,
            connections: None,
            outstanding: None,
            znode_count: None,
            followers: None,
            synced_followers: None,
            synced_observers: None,
            error,
        }
    }

    /// Whether the server votes (counts for the quorum): not an observer by role or mode.
    pub fn is_voter(&self) -> bool {
        self.role != Some(Role::Observer) && self.mode != "observer"
    }

    /// Whether the server serves clients.
    pub fn is_serving(&self) -> bool {
        matches!(
            self.mode.as_str(),
            "leader" | "follower" | "observer" | "standalone"
        )
    }
}

/// Status of one server; never fails: a server that does not answer within `timeout` is
/// reported as down, its `error` saying whether it refused or hung.
pub async fn server_status(
    server: &str,
    id: Option<u32>,
    timeout: Duration,
    tls: Option<&super::security::ZkTls>,
) -> ZkServerStatus {
    let (srvr, mntr) = tokio::join!(
        four_letter(server, "srvr", timeout, tls),
        four_letter(server, "mntr", timeout, tls)
    );
    let srvr = match srvr {
        Ok(text) => parse_srvr(&text),
        Err(FourLetterError::Down(why)) | Err(FourLetterError::Hung(why)) => {
            return ZkServerStatus::empty(server, id, "down", Some(why))
        }
        Err(FourLetterError::NotServing) => {
            return ZkServerStatus::empty(
                server,
                id,
                "not_serving",
                Some("running but not serving requests (no quorum)".into()),
            )
        }
        Err(FourLetterError::NotWhitelisted(word)) => {
            return ZkServerStatus::empty(
                server,
                id,
                "refused",
                Some(whitelist_hint(server, &word)),
            )
        }
    };
    // ZooKeeper always answers srvr (zkServer.sh needs it); mntr may be refused.
    let mut mntr_error = None;
    let mntr = match mntr {
        Ok(text) => parse_mntr(&text),
        Err(FourLetterError::NotWhitelisted(word)) => {
            mntr_error = Some(whitelist_hint(server, &word));
            Vec::new()
        }
        Err(_) => Vec::new(),
    };
    let get = |k: &str| {
        srvr.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let get_m = |k: &str| {
        mntr.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let mut status = ZkServerStatus::empty(server, id, "unknown", mntr_error);
    status.mode = get("Mode").unwrap_or_else(|| "unknown".into());
    if status.mode == "observer" {
        status.role = Some(Role::Observer);
    }
    status.version = get("Zookeeper version").map(|v| short_version(&v));
    status.zxid = get("Zxid");
    status.epoch = status
        .zxid
        .as_deref()
        .and_then(|z| u64::from_str_radix(z.trim_start_matches("0x"), 16).ok())
        .map(|z| z >> 32);
    if let Some(lat) = get("Latency min/avg/max") {
        let parts: Vec<f64> = lat
            .split('/')
            .filter_map(|p| p.trim().parse().ok())
            .collect();
        if parts.len() == 3 {
            status.latency_min = Some(parts[0]);
            status.latency_avg = Some(parts[1]);
            status.latency_max = Some(parts[2]);
        }
    }
    status.connections = get("Connections").and_then(|v| v.parse().ok());
    status.outstanding = get("Outstanding").and_then(|v| v.parse().ok());
    status.znode_count = get("Node count").and_then(|v| v.parse().ok());
    if status.mode == "leader" {
        status.followers = get_m("zk_followers")
            .or_else(|| get_m("zk_learners"))
            .and_then(|v| v.parse().ok());
        status.synced_followers = get_m("zk_synced_followers").and_then(|v| v.parse().ok());
        status.synced_observers = get_m("zk_synced_observers").and_then(|v| v.parse().ok());
    }
    status
}

/// Status of every server, concurrently; `servers` pairs `host:port` with its id if known.
pub async fn ensemble_status(
    servers: &[(String, Option<u32>)],
    timeout: Duration,
    tls: Option<&super::security::ZkTls>,
) -> Vec<ZkServerStatus> {
    let futures = servers
        .iter()
        .map(|(s, id)| server_status(s, *id, timeout, tls));
    futures::future::join_all(futures).await
}

/// "3.8.4-9316c2a7..., built on ..." → "3.8.4".
fn short_version(full: &str) -> String {
    let release = full.split(',').next().unwrap_or("").trim();
    release.split('-').next().unwrap_or(release).to_string()
}
