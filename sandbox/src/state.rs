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

use crate::cluster::Flavor;

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
    /// Extra `server.properties` settings of every broker (`ClusterSpec::broker_config`).
    #[serde(default)]
    pub broker_config: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ZkState {
    pub id: u32,
    pub client_port: u16,
    pub peer_port: u16,
    pub election_port: u16,
    pub pid: Option<u32>,
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
    pub pid: Option<u32>,
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
            broker_config: Vec::new(),
        }
    }

    pub fn load(dir: &Path) -> io::Result<State> {
        let path = dir.join(STATE_FILE);
        let text = fs::read_to_string(&path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot read sandbox state {}: {e}", path.display()),
            )
        })?;
        let state: State = serde_json::from_str(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad sandbox state {}: {e}", path.display()),
            )
        })?;
        if state.format != FORMAT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} has layout version {}, this kafsh-sandbox understands {FORMAT}",
                    path.display(),
                    state.format
                ),
            ));
        }
        Ok(state)
    }

    pub fn save(&self, dir: &Path) -> io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        write_atomic(&dir.join(STATE_FILE), text.as_bytes())?;
        let mut pids = String::new();
        for pid in self
            .zk
            .iter()
            .filter_map(|z| z.pid)
            .chain(self.brokers.iter().filter_map(|b| b.pid))
        {
            pids.push_str(&format!("{pid}\n"));
        }
        write_atomic(&dir.join(PIDS_FILE), pids.as_bytes())
    }

    pub fn zk(&self, id: u32) -> io::Result<&ZkState> {
        self.zk
            .iter()
            .find(|z| z.id == id)
            .ok_or_else(|| not_found(format!("no ZooKeeper server {id} in this cluster")))
    }

    pub fn zk_mut(&mut self, id: u32) -> io::Result<&mut ZkState> {
        self.zk
            .iter_mut()
            .find(|z| z.id == id)
            .ok_or_else(|| not_found(format!("no ZooKeeper server {id} in this cluster")))
    }

    pub fn broker(&self, id: i32) -> io::Result<&BrokerState> {
        self.brokers
            .iter()
            .find(|b| b.id == id)
            .ok_or_else(|| not_found(format!("no broker {id} in this cluster")))
    }

    pub fn broker_mut(&mut self, id: i32) -> io::Result<&mut BrokerState> {
        self.brokers
            .iter_mut()
            .find(|b| b.id == id)
            .ok_or_else(|| not_found(format!("no broker {id} in this cluster")))
    }

    /// `controller.quorum.voters` of a KRaft cluster: every node with a controller port.
    pub fn voters(&self) -> String {
        self.brokers
            .iter()
            .filter_map(|b| b.controller_port.map(|p| format!("{}@127.0.0.1:{p}", b.id)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Number of nodes that act as brokers (all of them: controllers are combined nodes).
    pub fn broker_count(&self) -> usize {
        self.brokers.len()
    }
}

fn not_found(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, msg)
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
