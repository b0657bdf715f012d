//! The persisted description of a cluster: `<dir>/sandbox.json`.
//!
//! Every change (a node started, stopped, added) is written here at once, atomically (temp file
//! then rename), so any process can pick the cluster up with [`crate::Cluster::open`]. Beside it,
//! `<dir>/pids` lists the live process ids one a line, for the watchdog shell script that kills
//! an owned cluster when its owning process dies without running `Drop`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::jars::Version;
use crate::node::Node;
use crate::spec::{Flavor, Quorum};

/// File name of the state file inside the cluster directory.
pub(crate) const STATE_FILE: &str = "sandbox.json";
/// File name of the plain list of live pids inside the cluster directory.
pub(crate) const PIDS_FILE: &str = "pids";
/// The layout version written to `sandbox.json`.
const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct State {
    pub format: u32,
    pub flavor: Flavor,
    /// Directory of the jars (classpath is `<jars_dir>/*`).
    pub jars_dir: PathBuf,
    /// ZooKeeper chroot of the Kafka brokers (ZooKeeper flavor only), e.g. `/kafka`.
    pub chroot: Option<String>,
    /// KRaft cluster id (KRaft flavor only).
    pub cluster_id: Option<String>,
    pub zk: Vec<ZkState>,
    pub brokers: Vec<BrokerState>,
    /// Controller-only KRaft nodes.
    #[serde(default)]
    pub controllers: Vec<ControllerState>,
    /// How the KRaft controller quorum is defined.
    #[serde(default)]
    pub quorum: Quorum,
    /// How long a broker that stops heartbeating stays registered (ms); `None`: the default.
    #[serde(default)]
    pub session_timeout_ms: Option<u64>,
    /// Extra `server.properties` settings of every broker (`ClusterSpec::broker_config`).
    #[serde(default)]
    pub broker_config: Vec<(String, String)>,
    /// Whether ACLs authorize requests (`ClusterSpec::authorizer`).
    #[serde(default)]
    pub authorizer: bool,
    /// ZooKeeper dynamic reconfiguration: `reconfigEnabled=true`, a dynamic config file and a
    /// super user.
    #[serde(default)]
    pub zk_reconfig: bool,
    /// Kafka nodes upgraded to another jar set than the cluster's (by node directory name,
    /// e.g. `broker-1`): the flavor whose jars they run from their next start.
    #[serde(default)]
    pub upgraded: std::collections::BTreeMap<String, Flavor>,
    /// The Kafka version the cluster was made with (`ClusterSpec::version`); `None`: the
    /// flavor's default.
    #[serde(default)]
    pub version: Option<String>,
    /// ZooKeeper servers take SASL Kerberos logins (`ClusterSpec::zk_kerberos`).
    #[serde(default)]
    pub zk_kerberos: Option<crate::spec::ZkKerberos>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ZkState {
    pub id: u32,
    pub client_port: u16,
    pub peer_port: u16,
    pub election_port: u16,
    /// Made as an observer (a non-voting server): its first zoo.cfg lists it so.
    #[serde(default)]
    pub observer: bool,
    pub pid: Option<u32>,
    /// The TLS secure client port (`ClusterSpec::zk_tls`).
    #[serde(default)]
    pub secure_port: Option<u16>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BrokerState {
    pub id: i32,
    pub port: u16,
    /// Port of the CONTROLLER listener when the node is a KRaft controller too.
    pub controller_port: Option<u16>,
    /// Port of the SASL_SSL listener of a secure cluster.
    #[serde(default)]
    pub secure_port: Option<u16>,
    /// Port of the SSL listener that requires client certificates (mutual TLS) of a secure
    /// cluster.
    #[serde(default)]
    pub mtls_port: Option<u16>,
    pub rack: Option<String>,
    /// `directory.id` of a combined node's metadata directory (dynamic quorum).
    #[serde(default)]
    pub directory_id: Option<String>,
    /// How many log dirs it has (`data`, `data-2`, ...); 0 or 1: one.
    #[serde(default)]
    pub log_dirs: usize,
    pub pid: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ControllerState {
    pub id: i32,
    /// Port of the CONTROLLER listener.
    pub port: u16,
    /// `directory.id` of its metadata directory: chosen up front for the initial voters of a
    /// dynamic quorum, read from `meta.properties` after formatting otherwise.
    pub directory_id: Option<String>,
    /// One of the voters the cluster was formatted with (false: added later).
    pub initial: bool,
    pub pid: Option<u32>,
}

/// A controller of the quorum: a controller-only node or a combined node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Voter {
    pub id: i32,
    pub port: u16,
    pub directory_id: Option<String>,
}

impl State {
    pub fn new(flavor: Flavor, jars_dir: PathBuf) -> State {
        State {
            format: FORMAT,
            flavor,
            jars_dir,
            chroot: None,
            cluster_id: None,
            zk: Vec::new(),
            brokers: Vec::new(),
            controllers: Vec::new(),
            quorum: Quorum::Static,
            session_timeout_ms: None,
            broker_config: Vec::new(),
            authorizer: false,
            zk_reconfig: false,
            upgraded: Default::default(),
            version: None,
            zk_kerberos: None,
        }
    }

    /// The Kafka version of the cluster's own jars.
    pub fn kafka_version(&self) -> Version {
        self.version
            .as_deref()
            .and_then(Version::parse)
            .or_else(|| Version::parse(crate::jars::kafka_version(self.flavor)))
            .unwrap_or(Version::new(0, 0, 0))
    }

    /// The Kafka version `node` runs (an upgraded node: its flavor's default version).
    pub fn version_of(&self, node: Node) -> Version {
        match self.upgraded.get(&node.dir_name()) {
            Some(&flavor) => {
                Version::parse(crate::jars::kafka_version(flavor)).unwrap_or(Version::new(0, 0, 0))
            }
            None => self.kafka_version(),
        }
    }

    /// Whether `node` logs through log4j2 (Kafka 4's jars) rather than log4j 1 / reload4j
    /// (ZooKeeper, and Kafka 3.x and older).
    pub fn log4j2(&self, node: Node) -> bool {
        node.is_kafka() && self.version_of(node).at_least(4, 0)
    }

    pub fn load(dir: &Path) -> Result<State> {
        let path = dir.join(STATE_FILE);
        let text = fs::read_to_string(&path).map_err(|source| Error::NoCluster {
            dir: dir.to_path_buf(),
            source,
        })?;
        let bad = |reason: String| Error::BadState {
            path: path.clone(),
            reason,
        };
        let state: State = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if state.format != FORMAT {
            return Err(bad(format!(
                "layout version {}, this kafsh-sandbox understands {FORMAT}",
                state.format
            )));
        }
        Ok(state)
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        write_atomic(&dir.join(STATE_FILE), text.as_bytes())?;
        let mut pids = String::new();
        for pid in self.nodes().into_iter().filter_map(|n| self.pid(n).ok()?) {
            pids.push_str(&format!("{pid}\n"));
        }
        Ok(write_atomic(&dir.join(PIDS_FILE), pids.as_bytes())?)
    }

    /// Every node: ZooKeeper servers, controllers, brokers, each by id.
    pub fn nodes(&self) -> Vec<Node> {
        let mut zk: Vec<Node> = self.zk.iter().map(|z| Node::Zk(z.id)).collect();
        let mut controllers: Vec<Node> = self
            .controllers
            .iter()
            .map(|c| Node::Controller(c.id))
            .collect();
        let mut brokers: Vec<Node> = self.brokers.iter().map(|b| Node::Broker(b.id)).collect();
        zk.sort();
        controllers.sort();
        brokers.sort();
        zk.into_iter().chain(controllers).chain(brokers).collect()
    }

    pub fn has(&self, node: Node) -> bool {
        self.pid(node).is_ok()
    }

    /// The recorded pid of `node` (it may have died since).
    pub fn pid(&self, node: Node) -> Result<Option<u32>> {
        let pid = match node {
            Node::Zk(id) => self.zk.iter().find(|z| z.id == id).map(|z| z.pid),
            Node::Broker(id) => self.brokers.iter().find(|b| b.id == id).map(|b| b.pid),
            Node::Controller(id) => self.controllers.iter().find(|c| c.id == id).map(|c| c.pid),
        };
        pid.ok_or(Error::NoSuchNode(node))
    }

    pub fn set_pid(&mut self, node: Node, pid: Option<u32>) -> Result<()> {
        let slot = match node {
            Node::Zk(id) => self.zk.iter_mut().find(|z| z.id == id).map(|z| &mut z.pid),
            Node::Broker(id) => self
                .brokers
                .iter_mut()
                .find(|b| b.id == id)
                .map(|b| &mut b.pid),
            Node::Controller(id) => self
                .controllers
                .iter_mut()
                .find(|c| c.id == id)
                .map(|c| &mut c.pid),
        };
        *slot.ok_or(Error::NoSuchNode(node))? = pid;
        Ok(())
    }

    pub fn zk(&self, id: u32) -> Result<&ZkState> {
        self.zk
            .iter()
            .find(|z| z.id == id)
            .ok_or(Error::NoSuchNode(Node::Zk(id)))
    }

    pub fn broker(&self, id: i32) -> Result<&BrokerState> {
        self.brokers
            .iter()
            .find(|b| b.id == id)
            .ok_or(Error::NoSuchNode(Node::Broker(id)))
    }

    pub fn broker_mut(&mut self, id: i32) -> Result<&mut BrokerState> {
        self.brokers
            .iter_mut()
            .find(|b| b.id == id)
            .ok_or(Error::NoSuchNode(Node::Broker(id)))
    }

    pub fn controller(&self, id: i32) -> Result<&ControllerState> {
        self.controllers
            .iter()
            .find(|c| c.id == id)
            .ok_or(Error::NoSuchNode(Node::Controller(id)))
    }

    pub fn controller_mut(&mut self, id: i32) -> Result<&mut ControllerState> {
        self.controllers
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or(Error::NoSuchNode(Node::Controller(id)))
    }

    /// The controllers of the quorum: the controller-only nodes when there are any, else the
    /// combined nodes. `initial_only`: those the cluster was formatted with.
    pub fn quorum_members(&self, initial_only: bool) -> Vec<Voter> {
        let mut v: Vec<Voter> = if self.controllers.is_empty() {
            self.brokers
                .iter()
                .filter_map(|b| {
                    b.controller_port.map(|port| Voter {
                        id: b.id,
                        port,
                        directory_id: b.directory_id.clone(),
                    })
                })
                .collect()
        } else {
            self.controllers
                .iter()
                .filter(|c| c.initial || !initial_only)
                .map(|c| Voter {
                    id: c.id,
                    port: c.port,
                    directory_id: c.directory_id.clone(),
                })
                .collect()
        };
        v.sort_by_key(|c| c.id);
        v
    }

    /// `controller.quorum.voters` of a static quorum: `id@127.0.0.1:port,...`.
    pub fn voters(&self) -> String {
        self.quorum_members(true)
            .iter()
            .map(|c| format!("{}@127.0.0.1:{}", c.id, c.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `controller.quorum.bootstrap.servers` of a dynamic quorum for node `me`: every
    /// controller but `me` (a controller added later must not try to fetch from itself), or
    /// only `me` when it is the only one.
    pub fn quorum_bootstrap(&self, me: Option<i32>) -> String {
        let all = self.quorum_members(false);
        let others: Vec<&Voter> = all.iter().filter(|c| Some(c.id) != me).collect();
        let list: Vec<&Voter> = if others.is_empty() {
            all.iter().collect()
        } else {
            others
        };
        list.iter()
            .map(|c| format!("127.0.0.1:{}", c.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `--initial-controllers` of a dynamic quorum: `id@127.0.0.1:port:directory-id,...` of the
    /// initial voters, whose directory ids were chosen when the cluster was made.
    pub fn initial_controllers(&self) -> Option<String> {
        self.quorum_members(true)
            .iter()
            .map(|c| {
                let dir = c.directory_id.as_deref()?;
                Some(format!("{}@127.0.0.1:{}:{dir}", c.id, c.port))
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(","))
    }

    /// Number of nodes that act as brokers (controller-only nodes are not among them).
    pub fn broker_count(&self) -> usize {
        self.brokers.len()
    }
}

/// Writes `bytes` to `path` through a temp file in the same directory and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file")
        .to_string();
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".{name}.tmp-{}-{seq}", std::process::id()));
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}
