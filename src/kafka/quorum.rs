//! The KRaft controller quorum (KIP-595, KIP-853): its status and replication as
//! `kafka-metadata-quorum.sh describe --status / --replication` show them, a health
//! judgement like `zk_healthy()`'s, adding and removing voters (AddRaftVoter /
//! RemoveRaftVoter), unregistering a broker that is gone (UnregisterBroker), and the
//! settings a new broker of the cluster needs.
//!
//! Requests go to the active controller directly when the client has bootstrap controllers
//! (`--bootstrap-controller`, KIP-919), else to a broker, which forwards them. The pure parts
//! (the tool's numbers, the judgement, the refusals) are functions of one DescribeQuorum
//! answer ([`QuorumState`]) and are unit-tested without a cluster.

use super::client::{check_code, KafkaClient};
use super::conn::human;
use crate::error::{Error, Result};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
use kafka_protocol::messages::{
    add_raft_voter_request, AddRaftVoterRequest, BrokerId, DescribeClusterRequest,
    DescribeQuorumRequest, DescribeQuorumResponse, RemoveRaftVoterRequest, TopicName,
    UnregisterBrokerRequest,
};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The topic of the metadata log the quorum replicates.
pub const METADATA_TOPIC: &str = "__cluster_metadata";

/// A listener of a controller: `NAME://host:port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// Listener name, e.g. `CONTROLLER`.
    pub name: String,
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}://[{}]:{}", self.name, self.host, self.port)
        } else {
            write!(f, "{}://{}:{}", self.name, self.host, self.port)
        }
    }
}

impl Endpoint {
    /// Parses `NAME://host:port`, or `host:port` with `default_name` as the listener.
    pub fn parse(text: &str, default_name: Option<&str>) -> Result<Endpoint> {
        let bad = |why: &str| {
            Error::InvalidInput(format!(
                "endpoint {text:?}: {why}; give it as LISTENER://host:port, e.g. CONTROLLER://ctrl4:9093"
            ))
        };
        let (name, rest) = match text.split_once("://") {
            Some((n, r)) if !n.is_empty() => (n.to_string(), r),
            Some(_) => return Err(bad("no listener name")),
            None => match default_name {
                Some(n) => (n.to_string(), text),
                None => return Err(bad("no listener name")),
            },
        };
        let (host, port) = rest.rsplit_once(':').ok_or_else(|| bad("no port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
        Ok(Endpoint {
            name,
            host: host.to_string(),
            port,
        })
    }

    /// `host:port` (IPv6 hosts in brackets).
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A replica of the metadata log as the leader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    /// Node id.
    pub id: i32,
    /// Directory id of its metadata log directory (none in a static quorum).
    pub directory_id: Option<String>,
    /// Its log end offset as the leader last learned it (-1 when unknown).
    pub log_end_offset: i64,
    /// When it last fetched, on the leader's clock (ms); none for the leader or unknown.
    pub last_fetch_timestamp: Option<i64>,
    /// When it last was caught up, on the leader's clock (ms); the leader's own is its now.
    pub last_caught_up_timestamp: Option<i64>,
}

/// One DescribeQuorum answer of the leader, with the cluster id and `kraft.version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumState {
    /// Cluster id.
    pub cluster_id: String,
    /// The leader (-1 unknown; the leader itself answers, so normally known).
    pub leader_id: i32,
    /// The leader's epoch.
    pub leader_epoch: i32,
    /// The high watermark of the metadata log.
    pub high_watermark: i64,
    /// The voters, in the leader's order.
    pub voters: Vec<Replica>,
    /// The observers (brokers, and controllers that are not voters), in the leader's order.
    pub observers: Vec<Replica>,
    /// The voters' listeners (DescribeQuorum v2's `Nodes`).
    pub endpoints: BTreeMap<i32, Vec<Endpoint>>,
    /// The finalized `kraft.version` (0: static quorum, 1: dynamic), when known.
    pub kraft_version: Option<i16>,
}

impl QuorumState {
    /// The leader's replica state, if the leader is a voter.
    pub fn leader(&self) -> Option<&Replica> {
        self.voters.iter().find(|v| v.id == self.leader_id)
    }

    /// The leader's clock when it answered: its own LastCaughtUpTimestamp.
    pub fn leader_now(&self) -> Option<i64> {
        self.leader().and_then(|l| l.last_caught_up_timestamp)
    }

    /// Whether voters can be added and removed (KIP-853): `kraft.version` ≥ 1.
    pub fn is_dynamic(&self) -> bool {
        self.kraft_version.unwrap_or(0) >= 1
    }

    /// "dynamic" or "static".
    pub fn kind(&self) -> &'static str {
        if self.is_dynamic() {
            "dynamic"
        } else {
            "static"
        }
    }

    fn member(&self, r: &Replica) -> QuorumMember {
        QuorumMember {
            id: r.id,
            directory_id: r.directory_id.clone(),
            endpoints: self
                .endpoints
                .get(&r.id)
                .map(|e| e.iter().map(Endpoint::to_string).collect())
                .unwrap_or_default(),
        }
    }
}

/// A voter or observer as `describe --status` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuorumMember {
    /// Node id.
    pub id: i32,
    /// Directory id (null in a static quorum, as the tool prints it).
    pub directory_id: Option<String>,
    /// Its listeners, `NAME://host:port` (voters).
    pub endpoints: Vec<String>,
}

/// What `kafka-metadata-quorum.sh describe --status` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuorumStatus {
    /// Cluster id.
    pub cluster_id: String,
    /// The active controller (quorum leader).
    pub leader_id: i32,
    /// Its epoch.
    pub leader_epoch: i32,
    /// High watermark of the metadata log.
    pub high_watermark: i64,
    /// The leader's log end offset minus the lowest of the voters'.
    pub max_follower_lag: i64,
    /// How long that voter has not been caught up, in ms (Kafka's formula: the leader's
    /// last caught-up time minus that voter's; -1 when unknown).
    pub max_follower_lag_ms: i64,
    /// The voters.
    pub voters: Vec<QuorumMember>,
    /// The observers.
    pub observers: Vec<QuorumMember>,
    /// "dynamic" (kraft.version ≥ 1: add_controller / remove_controller work) or "static"
    /// (controller.quorum.voters).
    pub quorum: String,
    /// The finalized `kraft.version`.
    pub kraft_version: Option<i16>,
    /// The leader's clock when it answered (ms since the epoch), for comparing the
    /// timestamps of `quorum_replication()`.
    pub leader_time_ms: Option<i64>,
}

/// The numbers of `describe --status`, computed as Kafka's MetadataQuorumCommand does.
pub fn status_of(state: &QuorumState) -> QuorumStatus {
    let leader = state.leader();
    // The first voter with the lowest log end offset (Java's Stream.min keeps the first).
    let mut lowest: Option<&Replica> = None;
    for v in &state.voters {
        if lowest.is_none_or(|l| v.log_end_offset < l.log_end_offset) {
            lowest = Some(v);
        }
    }
    let (max_follower_lag, max_follower_lag_ms) = match (leader, lowest) {
        (Some(l), Some(f)) => {
            let lag = l.log_end_offset - f.log_end_offset;
            let ms = if l.id == f.id {
                0
            } else {
                match (l.last_caught_up_timestamp, f.last_caught_up_timestamp) {
                    (Some(a), Some(b)) => a - b,
                    _ => -1,
                }
            };
            (lag, ms)
        }
        _ => (0, -1),
    };
    QuorumStatus {
        cluster_id: state.cluster_id.clone(),
        leader_id: state.leader_id,
        leader_epoch: state.leader_epoch,
        high_watermark: state.high_watermark,
        max_follower_lag,
        max_follower_lag_ms,
        voters: state.voters.iter().map(|r| state.member(r)).collect(),
        observers: state.observers.iter().map(|r| state.member(r)).collect(),
        quorum: state.kind().into(),
        kraft_version: state.kraft_version,
        leader_time_ms: state.leader_now(),
    }
}

/// One row of `describe --replication`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicationRow {
    /// Node id.
    pub node_id: i32,
    /// Directory id (none in a static quorum; the tool prints the zero id
    /// `AAAAAAAAAAAAAAAAAAAAAA`).
    pub directory_id: Option<String>,
    /// Its log end offset.
    pub log_end_offset: i64,
    /// The leader's log end offset minus its own.
    pub lag: i64,
    /// When it last fetched, ms since the epoch on the leader's clock (-1: never, or the
    /// leader itself).
    pub last_fetch_timestamp: i64,
    /// When it was last caught up (-1: unknown).
    pub last_caught_up_timestamp: i64,
    /// Leader, Follower or Observer.
    pub status: String,
}

/// The rows of `describe --replication`: the leader, the other voters, the observers.
pub fn replication_of(state: &QuorumState) -> Vec<ReplicationRow> {
    let leader_end = state.leader().map(|l| l.log_end_offset).unwrap_or(-1);
    let row = |r: &Replica, status: &str| ReplicationRow {
        node_id: r.id,
        directory_id: r.directory_id.clone(),
        log_end_offset: r.log_end_offset,
        lag: leader_end - r.log_end_offset,
        last_fetch_timestamp: r.last_fetch_timestamp.unwrap_or(-1),
        last_caught_up_timestamp: r.last_caught_up_timestamp.unwrap_or(-1),
        status: status.into(),
    };
    let mut rows = Vec::new();
    rows.extend(state.leader().map(|l| row(l, "Leader")));
    rows.extend(
        state
            .voters
            .iter()
            .filter(|v| v.id != state.leader_id)
            .map(|v| row(v, "Follower")),
    );
    rows.extend(state.observers.iter().map(|o| row(o, "Observer")));
    rows
}

/// The limits of [`judge`]: how far behind the leader a voter may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HealthLimits {
    /// Offsets of the metadata log.
    pub max_lag: i64,
    /// Milliseconds since it last was caught up, and since it last fetched.
    pub max_lag_ms: i64,
}

impl Default for HealthLimits {
    fn default() -> Self {
        HealthLimits {
            max_lag: 1000,
            max_lag_ms: 5000,
        }
    }
}

/// Whether the quorum is healthy, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuorumHealth {
    /// True when every check passed.
    pub healthy: bool,
    /// What is wrong (empty when healthy).
    pub reasons: Vec<String>,
    /// The active controller.
    pub leader: Option<i32>,
    /// Its epoch.
    pub leader_epoch: i32,
    /// The high watermark of the metadata log.
    pub high_watermark: i64,
    /// The voters.
    pub voters: Vec<i32>,
    /// The voters within the limits (the leader included).
    pub caught_up: Vec<i32>,
    /// How many voters a majority is.
    pub majority: usize,
    /// The limits judged by.
    pub limits: HealthLimits,
}

/// Why `r` is not a caught-up voter (or observer) by `limits`, on the leader's clock `now`;
/// none when it is.
fn lagging(
    what: &str,
    r: &Replica,
    leader_end: i64,
    now: Option<i64>,
    limits: HealthLimits,
) -> Option<String> {
    let ms = |v: i64| human(Duration::from_millis(v.max(0) as u64));
    let limit_ms = ms(limits.max_lag_ms);
    let Some(now) = now else {
        return Some(format!(
            "{what} cannot be judged: the leader reported no time"
        ));
    };
    match r.last_fetch_timestamp {
        None => return Some(format!("{what} has not fetched from the leader")),
        Some(t) if now - t > limits.max_lag_ms => {
            return Some(format!(
                "{what} last fetched {} ago (limit {limit_ms})",
                ms(now - t)
            ))
        }
        Some(_) => {}
    }
    let lag = leader_end - r.log_end_offset;
    if r.log_end_offset < 0 || lag > limits.max_lag {
        return Some(format!(
            "{what} is {lag} offsets behind the leader (limit {})",
            limits.max_lag
        ));
    }
    match r.last_caught_up_timestamp {
        None => Some(format!("{what} has not caught up with the leader")),
        Some(t) if now - t > limits.max_lag_ms => Some(format!(
            "{what} last caught up {} ago (limit {limit_ms})",
            ms(now - t)
        )),
        Some(_) => None,
    }
}

/// The judgement `zk_healthy()` gives for ZooKeeper, for the controller quorum: one leader
/// among the voters, every voter fetching and within `limits` of the leader, and so a
/// majority caught up.
pub fn judge(state: &QuorumState, limits: HealthLimits) -> QuorumHealth {
    let mut reasons = Vec::new();
    let leader = state.leader();
    let voters: Vec<i32> = state.voters.iter().map(|v| v.id).collect();
    let majority = voters.len() / 2 + 1;
    let mut caught_up = Vec::new();
    match leader {
        None if state.leader_id < 0 => reasons.push("the quorum has no leader".into()),
        None => reasons.push(format!(
            "the leader {} is not one of the voters {voters:?}",
            state.leader_id
        )),
        Some(l) => {
            caught_up.push(l.id);
            let now = state.leader_now();
            for v in state.voters.iter().filter(|v| v.id != l.id) {
                match lagging(&format!("voter {}", v.id), v, l.log_end_offset, now, limits) {
                    Some(why) => reasons.push(why),
                    None => caught_up.push(v.id),
                }
            }
        }
    }
    if !voters.is_empty() && caught_up.len() < majority {
        reasons.push(format!(
            "only {} of {} voters are caught up; a majority needs {majority}",
            caught_up.len(),
            voters.len()
        ));
    }
    QuorumHealth {
        healthy: reasons.is_empty(),
        reasons,
        leader: leader.map(|l| l.id),
        leader_epoch: state.leader_epoch,
        high_watermark: state.high_watermark,
        voters,
        caught_up,
        majority,
        limits,
    }
}

/// Fails with the reason this cluster cannot do quorum work: it runs on ZooKeeper.
pub async fn ensure_kraft(client: &KafkaClient) -> Result<()> {
    if super::brokers::is_kraft(client).await? {
        Ok(())
    } else {
        Err(Error::Unsupported(
            "this cluster uses ZooKeeper; see zk_status()".into(),
        ))
    }
}

/// One DescribeQuorum of the leader (directly, or forwarded by a broker), with the cluster id
/// and the finalized `kraft.version`. An answer from a controller that is not (or no longer)
/// the leader is asked again, a few times, while an election settles.
pub async fn describe(client: &KafkaClient) -> Result<QuorumState> {
    ensure_kraft(client).await?;
    let request = DescribeQuorumRequest::default().with_topics(vec![TopicData::default()
        .with_topic_name(TopicName(StrBytes::from_static_str(METADATA_TOPIC)))
        .with_partitions(vec![PartitionData::default().with_partition_index(0)])]);
    let (response, cluster_id, kraft_version) = tokio::join!(
        describe_settled(client, &request),
        cluster_id(client),
        super::features::finalized_level(client, "kraft.version"),
    );
    let mut state = parse_quorum(&response?)?;
    state.cluster_id = cluster_id?;
    state.kraft_version = Some(kraft_version?.unwrap_or(0));
    Ok(state)
}

async fn describe_settled(
    client: &KafkaClient,
    request: &DescribeQuorumRequest,
) -> Result<DescribeQuorumResponse> {
    let mut attempt = 0;
    loop {
        let response = client.send_to_quorum(request).await?;
        let code = response
            .topics
            .first()
            .and_then(|t| t.partitions.first())
            .map(|p| p.error_code);
        let moving = [response.error_code, code.unwrap_or(0)].iter().any(|c| {
            matches!(
                kafka_protocol::error::ParseResponseErrorCode::err(*c),
                Some(ResponseError::NotLeaderOrFollower | ResponseError::NotController)
            )
        });
        attempt += 1;
        if !moving || attempt >= 5 {
            return Ok(response);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The cluster id: from the controllers (DescribeCluster of the controllers) or the brokers.
pub async fn cluster_id(client: &KafkaClient) -> Result<String> {
    if client.via_controllers() {
        return Ok(client.describe_controllers().await?.cluster_id.to_string());
    }
    let response = client.send_any(&DescribeClusterRequest::default()).await?;
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        "DescribeCluster",
    )?;
    Ok(response.cluster_id.to_string())
}

/// A DescribeQuorum answer as a [`QuorumState`] (cluster id and kraft.version left empty).
pub fn parse_quorum(response: &DescribeQuorumResponse) -> Result<QuorumState> {
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        "the controller quorum",
    )?;
    let p = response
        .topics
        .first()
        .and_then(|t| t.partitions.first())
        .ok_or_else(|| {
            Error::Cluster("the controller quorum answered without a partition".into())
        })?;
    check_code(
        p.error_code,
        p.error_message.as_ref(),
        "the controller quorum",
    )?;
    let replica = |r: &kafka_protocol::messages::describe_quorum_response::ReplicaState| Replica {
        id: r.replica_id.0,
        directory_id: directory_id_string(r.replica_directory_id.as_bytes()),
        log_end_offset: r.log_end_offset,
        last_fetch_timestamp: (r.last_fetch_timestamp >= 0).then_some(r.last_fetch_timestamp),
        last_caught_up_timestamp: (r.last_caught_up_timestamp >= 0)
            .then_some(r.last_caught_up_timestamp),
    };
    let endpoints = response
        .nodes
        .iter()
        .map(|n| {
            (
                n.node_id.0,
                n.listeners
                    .iter()
                    .map(|l| Endpoint {
                        name: l.name.to_string(),
                        host: l.host.to_string(),
                        port: l.port,
                    })
                    .collect(),
            )
        })
        .collect();
    Ok(QuorumState {
        cluster_id: String::new(),
        leader_id: p.leader_id.0,
        leader_epoch: p.leader_epoch,
        high_watermark: p.high_watermark,
        voters: p.current_voters.iter().map(replica).collect(),
        observers: p.observers.iter().map(replica).collect(),
        endpoints,
        kraft_version: None,
    })
}

/// Kafka's text of a directory id (URL-safe base64, no padding); none for the zero id.
pub fn directory_id_string(bytes: &[u8; 16]) -> Option<String> {
    (bytes != &[0u8; 16]).then(|| super::topic_id_string(bytes))
}

/// Parses a directory id as Kafka prints it (22 characters of URL-safe base64).
pub fn parse_directory_id(text: &str) -> Result<uuid::Uuid> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "directory id {text:?} is not a Kafka id (22 characters of URL-safe base64, as quorum_status() prints them)"
            ))
        })?;
    if bytes == [0u8; 16] {
        return Err(Error::InvalidInput(
            "the zero directory id names no directory".into(),
        ));
    }
    Ok(uuid::Uuid::from_bytes(bytes))
}

/// A voter to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVoter {
    /// Its `node.id`.
    pub id: i32,
    /// The directory id of its metadata log directory (`meta.properties`).
    pub directory_id: String,
    /// Its controller listeners; empty: taken from the quorum's listener name and `address`.
    pub endpoints: Vec<Endpoint>,
}

impl NewVoter {
    /// The voter a controller's server.properties describes, as
    /// `kafka-metadata-quorum.sh add-controller --command-config` reads it: `node.id`, a
    /// `process.roles` with `controller`, the directory id in the `meta.properties` of its
    /// metadata log directory (`metadata.log.dir`, else the first of `log.dirs`), and its
    /// controller listeners (`advertised.listeners` over `listeners`, named by
    /// `controller.listener.names`).
    pub fn from_properties(path: &std::path::Path) -> Result<NewVoter> {
        let file = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::InvalidInput(format!("cannot read {file}: {e}")))?;
        let props = crate::config::parse_properties(&text);
        let missing = |key: &str| {
            Error::InvalidInput(format!(
                "{file} has no {key}: is it a controller's configuration?"
            ))
        };
        let id: i32 = props
            .get("node.id")
            .ok_or_else(|| missing("node.id"))?
            .trim()
            .parse()
            .ok()
            .filter(|id| *id >= 0)
            .ok_or_else(|| Error::InvalidInput(format!("{file}: node.id is not a node id")))?;
        if !props
            .get("process.roles")
            .is_some_and(|r| r.split(',').any(|r| r.trim() == "controller"))
        {
            return Err(Error::InvalidInput(format!(
                "{file}: process.roles does not contain controller"
            )));
        }
        let dir = props
            .get("metadata.log.dir")
            .cloned()
            .or_else(|| {
                props
                    .get("log.dirs")
                    .and_then(|d| d.split(',').next().map(|d| d.trim().to_string()))
            })
            .ok_or_else(|| missing("metadata.log.dir or log.dirs"))?;
        let meta = std::path::Path::new(&dir).join("meta.properties");
        let meta_text = std::fs::read_to_string(&meta).map_err(|e| {
            Error::InvalidInput(format!(
                "cannot read {} ({e}): format the controller first",
                meta.display()
            ))
        })?;
        let directory_id = crate::config::parse_properties(&meta_text)
            .get("directory.id")
            .cloned()
            .ok_or_else(|| {
                Error::InvalidInput(format!("{} has no directory.id", meta.display()))
            })?;
        let mut listeners: BTreeMap<String, Endpoint> = BTreeMap::new();
        for key in ["listeners", "advertised.listeners"] {
            for l in props.get(key).map(|v| v.split(',')).into_iter().flatten() {
                let l = l.trim();
                if l.is_empty() {
                    continue;
                }
                let mut e = Endpoint::parse(&l.replacen("://:", "://localhost:", 1), None)?;
                e.name = e.name.to_ascii_uppercase();
                listeners.insert(e.name.clone(), e);
            }
        }
        let names = props
            .get("controller.listener.names")
            .ok_or_else(|| missing("controller.listener.names"))?;
        let endpoints = names
            .split(',')
            .map(|n| n.trim().to_ascii_uppercase())
            .filter(|n| !n.is_empty())
            .map(|n| {
                listeners.get(&n).cloned().ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "{file}: no listener for controller listener name {n}"
                    ))
                })
            })
            .collect::<Result<Vec<Endpoint>>>()?;
        Ok(NewVoter {
            id,
            directory_id,
            endpoints,
        })
    }
}

/// What add_controller / remove_controller did, or would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoterChange {
    /// "add" or "remove".
    pub action: String,
    /// The controller.
    pub node_id: i32,
    /// Its directory id.
    pub directory_id: String,
    /// Its listeners (added voters).
    pub endpoints: Vec<String>,
    /// Voters before.
    pub voters_before: Vec<i32>,
    /// Voters after.
    pub voters_after: Vec<i32>,
    /// Nothing was sent (--dry-run).
    pub dry_run: bool,
}

fn static_refusal(state: &QuorumState, what: &str) -> Option<Error> {
    (!state.is_dynamic()).then(|| {
        Error::Refused(format!(
            "the controller quorum is static (kraft.version {}, voters from controller.quorum.voters): {what}; Kafka 4.1 and later can make it dynamic with update_feature(\"kraft.version\", 1)",
            state.kraft_version.unwrap_or(0)
        ))
    })
}

/// The checks of adding `new` to the quorum `state` (pure): a dynamic quorum, not yet a
/// voter, observing with the same directory id and caught up within `limits`; with the
/// rest of the quorum unhealthy, only with `force`. Returns the endpoints to send.
pub fn check_add(
    state: &QuorumState,
    new: &NewVoter,
    limits: HealthLimits,
    force: bool,
) -> Result<Vec<Endpoint>> {
    let id = new.id;
    if let Some(e) = static_refusal(state, "voters cannot be added") {
        return Err(e);
    }
    if let Some(v) = state.voters.iter().find(|v| v.id == id) {
        return Err(Error::InvalidInput(format!(
            "controller {id} is already a voter (directory id {})",
            v.directory_id.as_deref().unwrap_or("none")
        )));
    }
    let observing: Vec<&Replica> = state.observers.iter().filter(|o| o.id == id).collect();
    let Some(observer) = observing
        .iter()
        .find(|o| o.directory_id.as_deref() == Some(new.directory_id.as_str()))
    else {
        return Err(Error::Refused(match observing.first() {
            Some(o) => format!(
                "controller {id} observes the quorum with directory id {}, not {}: add the directory it runs with",
                o.directory_id.as_deref().unwrap_or("none"),
                new.directory_id
            ),
            None => format!(
                "controller {id} is not observing the quorum: format it with --no-initial-controllers, start it and wait until it has caught up (quorum_replication() lists the observers)"
            ),
        }));
    };
    let leader_end = state.leader().map(|l| l.log_end_offset).unwrap_or(-1);
    if let Some(why) = lagging(
        &format!("controller {id}"),
        observer,
        leader_end,
        state.leader_now(),
        limits,
    ) {
        return Err(Error::Refused(format!(
            "{why}: it must catch up as an observer before it can vote"
        )));
    }
    let health = judge(state, limits);
    if !health.healthy && !force {
        return Err(Error::OutOfProportion(format!(
            "the quorum is not healthy ({}): a new voter must be caught up by a majority that may not be there",
            health.reasons.join("; ")
        )));
    }
    if !new.endpoints.is_empty() {
        return Ok(new.endpoints.clone());
    }
    Err(Error::InvalidInput(format!(
        "controller {id}: give its endpoints (e.g. [\"CONTROLLER://host:9093\"])"
    )))
}

/// The checks of removing voter `id` with `directory_id` (pure): a dynamic quorum, a voter
/// with that directory, a majority of the remaining voters caught up; removing the leader
/// or leaving fewer than three voters only with `force`.
pub fn check_remove(
    state: &QuorumState,
    id: i32,
    directory_id: &str,
    limits: HealthLimits,
    force: bool,
) -> Result<()> {
    if let Some(e) = static_refusal(state, "voters cannot be removed") {
        return Err(e);
    }
    let voters: Vec<i32> = state.voters.iter().map(|v| v.id).collect();
    let Some(voter) = state.voters.iter().find(|v| v.id == id) else {
        return Err(Error::NotFound(format!(
            "controller {id} is not a voter (voters: {voters:?})"
        )));
    };
    if voter.directory_id.as_deref() != Some(directory_id) {
        return Err(Error::InvalidInput(format!(
            "voter {id} has directory id {}, not {directory_id}",
            voter.directory_id.as_deref().unwrap_or("none")
        )));
    }
    let remaining: Vec<i32> = voters.iter().copied().filter(|v| *v != id).collect();
    if remaining.is_empty() {
        return Err(Error::Refused(format!(
            "controller {id} is the only voter: removing it would leave no quorum"
        )));
    }
    let health = judge(state, limits);
    let caught_up: Vec<i32> = health
        .caught_up
        .iter()
        .copied()
        .filter(|v| *v != id)
        .collect();
    let majority = remaining.len() / 2 + 1;
    if caught_up.len() < majority {
        return Err(Error::Refused(format!(
            "removing controller {id} would leave {} voters {remaining:?} of which {} {caught_up:?} are caught up; a majority needs {majority} ({})",
            remaining.len(),
            caught_up.len(),
            health.reasons.join("; ")
        )));
    }
    if force {
        return Ok(());
    }
    if state.leader_id == id {
        return Err(Error::OutOfProportion(format!(
            "controller {id} is the active controller: removing it makes it resign and the quorum elect another (stop it first, then remove it)"
        )));
    }
    if remaining.len() < 3 {
        return Err(Error::OutOfProportion(format!(
            "the quorum would have {} voter(s) {remaining:?}, which survive no failure",
            remaining.len()
        )));
    }
    Ok(())
}

/// The request's limit for a change the leader must commit: most of the call timeout.
fn change_timeout(client: &KafkaClient) -> i32 {
    i32::try_from((client.timeout() * 3 / 4).as_millis()).unwrap_or(i32::MAX)
}

/// Adds `new` as a voter (AddRaftVoter) after [`check_add`]; with `dry_run` only checks.
pub async fn add_voter(
    client: &KafkaClient,
    new: &NewVoter,
    limits: HealthLimits,
    dry_run: bool,
    force: bool,
) -> Result<VoterChange> {
    let state = describe(client).await?;
    let endpoints = check_add(&state, new, limits, force)?;
    let before: Vec<i32> = state.voters.iter().map(|v| v.id).collect();
    let mut after = before.clone();
    after.push(new.id);
    let change = VoterChange {
        action: "add".into(),
        node_id: new.id,
        directory_id: new.directory_id.clone(),
        endpoints: endpoints.iter().map(Endpoint::to_string).collect(),
        voters_before: before,
        voters_after: after,
        dry_run,
    };
    if dry_run {
        return Ok(change);
    }
    let request = AddRaftVoterRequest::default()
        .with_cluster_id(Some(StrBytes::from_string(state.cluster_id.clone())))
        .with_timeout_ms(change_timeout(client))
        .with_voter_id(new.id)
        .with_voter_directory_id(parse_directory_id(&new.directory_id)?)
        .with_listeners(
            endpoints
                .iter()
                .map(|e| {
                    add_raft_voter_request::Listener::default()
                        .with_name(StrBytes::from_string(e.name.clone()))
                        .with_host(StrBytes::from_string(e.host.clone()))
                        .with_port(e.port)
                })
                .collect(),
        );
    let response = client.send_to_quorum(&request).await?;
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        &format!("adding controller {} as a voter", new.id),
    )?;
    Ok(change)
}

/// Removes voter `id` (RemoveRaftVoter) after [`check_remove`]; with `dry_run` only checks.
pub async fn remove_voter(
    client: &KafkaClient,
    id: i32,
    directory_id: &str,
    limits: HealthLimits,
    dry_run: bool,
    force: bool,
) -> Result<VoterChange> {
    let uuid = parse_directory_id(directory_id)?;
    let state = describe(client).await?;
    check_remove(&state, id, directory_id, limits, force)?;
    let before: Vec<i32> = state.voters.iter().map(|v| v.id).collect();
    let change = VoterChange {
        action: "remove".into(),
        node_id: id,
        directory_id: directory_id.to_string(),
        endpoints: state
            .endpoints
            .get(&id)
            .map(|e| e.iter().map(Endpoint::to_string).collect())
            .unwrap_or_default(),
        voters_after: before.iter().copied().filter(|v| *v != id).collect(),
        voters_before: before,
        dry_run,
    };
    if dry_run {
        return Ok(change);
    }
    let request = RemoveRaftVoterRequest::default()
        .with_cluster_id(Some(StrBytes::from_string(state.cluster_id.clone())))
        .with_voter_id(id)
        .with_voter_directory_id(uuid);
    let response = client.send_to_quorum(&request).await?;
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        &format!("removing controller {id} from the voters"),
    )?;
    Ok(change)
}

/// What unregister_broker did, or would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unregistration {
    /// The broker.
    pub broker_id: i32,
    /// Its last registered address.
    pub address: String,
    /// Nothing was sent (--dry-run).
    pub dry_run: bool,
}

/// Removes the registration of broker `id` (UnregisterBroker), which a KRaft cluster keeps,
/// fenced, for a broker that is gone. Refused while the broker is registered unfenced or
/// answers, and while it still holds replicas. Its registration and replicas are read
/// from the brokers, so they must be reachable.
pub async fn unregister_broker(
    client: &KafkaClient,
    id: i32,
    dry_run: bool,
) -> Result<Unregistration> {
    ensure_kraft(client).await?;
    if !client.has_brokers() {
        return Err(Error::Config(
            "unregister_broker reads the broker's registration and replicas from the brokers: give --bootstrap-server (or the context's bootstrap_servers) too".into(),
        ));
    }
    let request = DescribeClusterRequest::default().with_include_fenced_brokers(true);
    let response = client.send_any(&request).await?;
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        "DescribeCluster",
    )?;
    let Some(broker) = response.brokers.iter().find(|b| b.broker_id.0 == id) else {
        let known: Vec<i32> = response.brokers.iter().map(|b| b.broker_id.0).collect();
        return Err(Error::NotFound(format!(
            "broker {id} is not registered (registered: {known:?})"
        )));
    };
    let address = format!("{}:{}", broker.host.as_str(), broker.port);
    if !broker.is_fenced {
        return Err(Error::Refused(format!(
            "broker {id} at {address} is alive (registered and not fenced): stop it first; unregister_broker removes what is left of a broker that is gone"
        )));
    }
    if let Some(super::conn::Health::Up(_)) = client.probe(&[(id, address.clone())]).await.first() {
        return Err(Error::Refused(format!(
            "broker {id} still answers at {address} (fenced, but running): stop it first"
        )));
    }
    let meta = client.metadata(None).await?;
    let mut held = 0usize;
    let mut topics: Vec<String> = Vec::new();
    for t in &meta.topics {
        let n = t
            .partitions
            .iter()
            .filter(|p| p.replica_nodes.iter().any(|r| r.0 == id))
            .count();
        if n > 0 {
            held += n;
            topics.push(t.name.as_ref().map(|n| n.0.to_string()).unwrap_or_default());
        }
    }
    if held > 0 {
        topics.sort();
        let shown: Vec<String> = topics.iter().take(5).cloned().collect();
        return Err(Error::Refused(format!(
            "broker {id} still holds replicas of {held} partition(s) (topics {}{}): move them to live brokers first (plan_reassignment, reassign)",
            shown.join(", "),
            if topics.len() > shown.len() { ", ..." } else { "" }
        )));
    }
    let done = Unregistration {
        broker_id: id,
        address,
        dry_run,
    };
    if dry_run {
        return Ok(done);
    }
    let request = UnregisterBrokerRequest::default().with_broker_id(BrokerId(id));
    let response = client.send_to_quorum(&request).await?;
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        &format!("unregistering broker {id}"),
    )?;
    Ok(done)
}

/// What a new broker of this cluster needs to know of its quorum: the cluster id, the quorum
/// kind, the controllers' listener name and addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuorumSettings {
    /// Cluster id (for `kafka-storage.sh format`).
    pub cluster_id: String,
    /// Dynamic (`controller.quorum.bootstrap.servers`) or static (`controller.quorum.voters`).
    pub dynamic: bool,
    /// The controllers' listener name (`controller.listener.names`).
    pub listener_name: String,
    /// Every voter's id and `host:port` on that listener.
    pub voters: Vec<(i32, String)>,
}

impl QuorumSettings {
    /// The settings of the quorum `state` describes.
    pub fn of(state: &QuorumState) -> Result<QuorumSettings> {
        let mut voters = Vec::new();
        let mut name: Option<String> = None;
        for v in &state.voters {
            let e = state
                .endpoints
                .get(&v.id)
                .and_then(|e| e.first())
                .ok_or_else(|| {
                    Error::Cluster(format!(
                        "the quorum did not say where voter {} listens (DescribeQuorum v2 needs Kafka 3.9 or later)",
                        v.id
                    ))
                })?;
            name.get_or_insert_with(|| e.name.clone());
            voters.push((v.id, e.address()));
        }
        voters.sort();
        Ok(QuorumSettings {
            cluster_id: state.cluster_id.clone(),
            dynamic: state.is_dynamic(),
            listener_name: name.unwrap_or_else(|| "CONTROLLER".into()),
            voters,
        })
    }

    /// The quorum line of a broker's server.properties: `controller.quorum.bootstrap.servers`
    /// for a dynamic quorum, `controller.quorum.voters` for a static one.
    pub fn quorum_line(&self) -> String {
        if self.dynamic {
            let servers: Vec<&str> = self.voters.iter().map(|(_, a)| a.as_str()).collect();
            format!("controller.quorum.bootstrap.servers={}", servers.join(","))
        } else {
            let voters: Vec<String> = self
                .voters
                .iter()
                .map(|(id, a)| format!("{id}@{a}"))
                .collect();
            format!("controller.quorum.voters={}", voters.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(id: i32, end: i64, fetch: Option<i64>, caught: Option<i64>) -> Replica {
        Replica {
            id,
            directory_id: Some(format!("dir{id}")),
            log_end_offset: end,
            last_fetch_timestamp: fetch,
            last_caught_up_timestamp: caught,
        }
    }

    fn state(voters: Vec<Replica>, observers: Vec<Replica>) -> QuorumState {
        QuorumState {
            cluster_id: "c".into(),
            leader_id: 101,
            leader_epoch: 4,
            high_watermark: 500,
            voters,
            observers,
            endpoints: [(
                101,
                vec![Endpoint {
                    name: "CONTROLLER".into(),
                    host: "h1".into(),
                    port: 9093,
                }],
            )]
            .into_iter()
            .collect(),
            kraft_version: Some(1),
        }
    }

    fn healthy_three() -> QuorumState {
        state(
            vec![
                replica(101, 500, None, Some(10_000)),
                replica(102, 500, Some(9_900), Some(9_900)),
                replica(103, 498, Some(9_800), Some(9_500)),
            ],
            vec![replica(1, 500, Some(9_950), Some(9_950))],
        )
    }

    #[test]
    fn status_numbers_follow_kafkas_formula() {
        let s = status_of(&healthy_three());
        assert_eq!((s.max_follower_lag, s.max_follower_lag_ms), (2, 500));
        assert_eq!(s.voters[0].endpoints, vec!["CONTROLLER://h1:9093"]);
        assert!(s.voters[1].endpoints.is_empty());
        assert_eq!(s.leader_time_ms, Some(10_000));
        // All at the leader's offset: the leader is the first lowest, so 0 ms.
        let mut st = healthy_three();
        st.voters[2].log_end_offset = 500;
        assert_eq!(status_of(&st).max_follower_lag_ms, 0);
        // A follower listed before the leader with the same offset is the one Java picks.
        st.voters.swap(0, 1);
        assert_eq!(status_of(&st).max_follower_lag_ms, 100);
    }

    #[test]
    fn replication_rows_are_leader_followers_observers() {
        let rows = replication_of(&healthy_three());
        let shape: Vec<(i32, &str, i64, i64)> = rows
            .iter()
            .map(|r| (r.node_id, r.status.as_str(), r.lag, r.last_fetch_timestamp))
            .collect();
        assert_eq!(
            shape,
            vec![
                (101, "Leader", 0, -1),
                (102, "Follower", 0, 9_900),
                (103, "Follower", 2, 9_800),
                (1, "Observer", 0, 9_950)
            ]
        );
    }

    #[test]
    fn judgement_names_the_lagging_and_silent_voters() {
        let limits = HealthLimits {
            max_lag: 10,
            max_lag_ms: 1000,
        };
        let h = judge(&healthy_three(), limits);
        assert!(h.healthy, "{:?}", h.reasons);
        assert_eq!(h.caught_up, vec![101, 102, 103]);
        let mut st = healthy_three();
        st.voters[2].last_fetch_timestamp = Some(4_000);
        st.voters[1].log_end_offset = 400;
        let h = judge(&st, limits);
        assert!(!h.healthy);
        assert_eq!(h.caught_up, vec![101]);
        assert!(
            h.reasons
                .iter()
                .any(|r| r == "voter 103 last fetched 6s ago (limit 1s)"),
            "{:?}",
            h.reasons
        );
        assert!(
            h.reasons
                .iter()
                .any(|r| r.contains("voter 102 is 100 offsets behind")),
            "{:?}",
            h.reasons
        );
        assert!(
            h.reasons
                .iter()
                .any(|r| r.contains("only 1 of 3 voters are caught up; a majority needs 2")),
            "{:?}",
            h.reasons
        );
        st.leader_id = -1;
        assert_eq!(judge(&st, limits).reasons[0], "the quorum has no leader");
    }

    #[test]
    fn adding_needs_a_caught_up_observer_in_a_dynamic_quorum() {
        let limits = HealthLimits::default();
        let mut st = healthy_three();
        st.observers
            .push(replica(104, 499, Some(9_990), Some(9_990)));
        let new = NewVoter {
            id: 104,
            directory_id: "dir104".into(),
            endpoints: vec![Endpoint::parse("CONTROLLER://h4:9093", None).unwrap()],
        };
        assert_eq!(check_add(&st, &new, limits, false).unwrap().len(), 1);
        let wrong_dir = NewVoter {
            directory_id: "other".into(),
            ..new.clone()
        };
        let e = check_add(&st, &wrong_dir, limits, false).unwrap_err();
        assert!(
            e.to_string()
                .contains("observes the quorum with directory id dir104"),
            "{e}"
        );
        let absent = NewVoter {
            id: 105,
            ..new.clone()
        };
        assert!(check_add(&st, &absent, limits, false)
            .unwrap_err()
            .to_string()
            .contains("not observing"));
        let voter = NewVoter {
            id: 102,
            ..new.clone()
        };
        assert!(matches!(
            check_add(&st, &voter, limits, false),
            Err(Error::InvalidInput(_))
        ));
        st.observers[1].last_fetch_timestamp = Some(1_000);
        let e = check_add(&st, &new, limits, false).unwrap_err();
        assert!(
            e.to_string().contains("controller 104 last fetched 9s ago"),
            "{e}"
        );
        st.kraft_version = Some(0);
        let e = check_add(&st, &new, limits, false).unwrap_err();
        assert!(
            matches!(e, Error::Refused(_)) && e.to_string().contains("static"),
            "{e}"
        );
    }

    #[test]
    fn removing_keeps_a_majority_and_asks_force_for_the_leader_or_a_small_quorum() {
        let limits = HealthLimits::default();
        let mut five = healthy_three();
        five.voters
            .push(replica(104, 500, Some(9_990), Some(9_990)));
        five.voters
            .push(replica(105, 500, Some(9_990), Some(9_990)));
        assert!(check_remove(&five, 105, "dir105", limits, false).is_ok());
        assert!(matches!(
            check_remove(&five, 101, "dir101", limits, false),
            Err(Error::OutOfProportion(_))
        ));
        assert!(check_remove(&five, 101, "dir101", limits, true).is_ok());
        assert!(matches!(
            check_remove(&five, 105, "dirX", limits, false),
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(
            check_remove(&five, 7, "dir7", limits, false),
            Err(Error::NotFound(_))
        ));
        // Two of the four that would remain are silent: no majority of them is caught up.
        five.voters[1].last_fetch_timestamp = None;
        five.voters[2].last_fetch_timestamp = None;
        let e = check_remove(&five, 105, "dir105", limits, true).unwrap_err();
        assert!(
            matches!(e, Error::Refused(_)) && e.to_string().contains("a majority needs 3"),
            "{e}"
        );
        let three = healthy_three();
        assert!(matches!(
            check_remove(&three, 103, "dir103", limits, false),
            Err(Error::OutOfProportion(_))
        ));
    }

    #[test]
    fn a_controllers_properties_name_the_voter() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(
            data.join("meta.properties"),
            "version=1\ndirectory.id=-_v7-_v7-_v7-_v7-_v7-w\n",
        )
        .unwrap();
        let props = dir.path().join("server.properties");
        std::fs::write(
            &props,
            format!(
                "node.id=104\nprocess.roles=controller\nlisteners=CONTROLLER://:7104\ncontroller.listener.names=CONTROLLER\nlog.dirs={}\n",
                data.display()
            ),
        )
        .unwrap();
        let v = NewVoter::from_properties(&props).unwrap();
        assert_eq!(
            (v.id, v.directory_id.as_str()),
            (104, "-_v7-_v7-_v7-_v7-_v7-w")
        );
        assert_eq!(v.endpoints[0].to_string(), "CONTROLLER://localhost:7104");
        std::fs::write(&props, "node.id=1\nprocess.roles=broker\n").unwrap();
        assert!(NewVoter::from_properties(&props)
            .unwrap_err()
            .to_string()
            .contains("controller"));
    }

    #[test]
    fn endpoints_and_directory_ids_parse_as_kafka_prints_them() {
        let e = Endpoint::parse("CONTROLLER://[::1]:9093", None).unwrap();
        assert_eq!(
            (e.host.as_str(), e.to_string()),
            ("::1", "CONTROLLER://[::1]:9093".to_string())
        );
        assert_eq!(
            Endpoint::parse("h:1", Some("C")).unwrap().to_string(),
            "C://h:1"
        );
        assert!(Endpoint::parse("h:1", None).is_err());
        assert!(Endpoint::parse("C://h:0", None).is_err());
        let id = parse_directory_id("-_v7-_v7-_v7-_v7-_v7-w").unwrap();
        assert_eq!(
            directory_id_string(id.as_bytes()).as_deref(),
            Some("-_v7-_v7-_v7-_v7-_v7-w")
        );
        assert!(parse_directory_id("AAAAAAAAAAAAAAAAAAAAAA").is_err());
        assert!(parse_directory_id("short").is_err());
    }

    #[test]
    fn quorum_settings_of_either_kind() {
        let mut st = healthy_three();
        st.endpoints = st
            .voters
            .iter()
            .map(|v| {
                (
                    v.id,
                    vec![Endpoint {
                        name: "CTL".into(),
                        host: format!("c{}", v.id),
                        port: 9093,
                    }],
                )
            })
            .collect();
        let s = QuorumSettings::of(&st).unwrap();
        assert_eq!(
            s.quorum_line(),
            "controller.quorum.bootstrap.servers=c101:9093,c102:9093,c103:9093"
        );
        assert_eq!(s.listener_name, "CTL");
        st.kraft_version = Some(0);
        assert_eq!(
            QuorumSettings::of(&st).unwrap().quorum_line(),
            "controller.quorum.voters=101@c101:9093,102@c102:9093,103@c103:9093"
        );
        st.endpoints.clear();
        assert!(QuorumSettings::of(&st).is_err());
    }
}
