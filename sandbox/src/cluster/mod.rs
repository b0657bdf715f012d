//! The [`Cluster`] handle: starting a sandbox cluster from a [`ClusterSpec`], attaching to a
//! running one, what it is made of, and the whole-cluster operations (start or stop every
//! node, tear down).
//!
//! The rest of the handle is split by concern: `nodes` (one node's lifecycle: start, stop,
//! kill, restart, pause, resume, add, format, spawning the JVMs), `ready` (waiting until
//! nodes serve), `tools` (Kafka's command-line tools with the cluster's jars) and `probes`
//! (ZooKeeper four-letter words and Kafka Metadata). The directory layout is in
//! `crate::layout`, ports in `crate::ports`, KRaft formatting in `crate::kraft`, the
//! watchdog in `crate::watchdog`.

mod nodes;
mod probes;
mod ready;
mod tools;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::jars;
use crate::kraft;
use crate::layout;
use crate::node::{BrokerNode, ControllerNode, Node, ZkNode};
use crate::ports;
use crate::process::{self, ProcState};
pub use crate::spec::{ClusterSpec, Flavor, Quorum, FIRST_CONTROLLER_ID};
use crate::state::{BrokerState, ControllerState, State, ZkState, STATE_FILE};
use crate::watchdog;

/// Default time allowed for a cluster, or a node, to come up.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long [`Cluster::stop_all`] waits before killing.
const STOP_ALL_GRACE: Duration = Duration::from_secs(10);

/// A running (or stopped) sandbox cluster. See the crate docs.
///
/// A cluster made by [`Cluster::start`] is owned: dropping it kills its processes and removes
/// its directory (kept, and its path printed, when the thread is panicking or after
/// [`Cluster::keep`]). One attached with [`Cluster::open`] is left alone on drop.
///
/// An owned cluster also has a watchdog (see `crate::watchdog`) that cleans up when the
/// owning process dies without dropping the handle. [`Cluster::detach`] and
/// [`Cluster::teardown`] end it.
///
/// Single nodes are named by [`Node`] and driven by [`Cluster::start_node`], [`Cluster::stop`],
/// [`Cluster::kill`], [`Cluster::restart`], [`Cluster::pause`], [`Cluster::resume`]; new ones
/// are made by [`Cluster::add`].
pub struct Cluster {
    dir: PathBuf,
    state: State,
    owned: bool,
    keep: bool,
    timeout: Duration,
    /// Processes this handle spawned, to reap them.
    children: HashMap<u32, Child>,
    watchdog: Option<Child>,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("dir", &self.dir)
            .field("flavor", &self.state.flavor)
            .field("owned", &self.owned)
            .field("keep", &self.keep)
            .finish()
    }
}

fn timeout_from_env() -> Duration {
    std::env::var("KAFSH_SANDBOX_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// The state of a new cluster: every node with its ports (and, for the initial voters of a
/// dynamic quorum, its directory id), none running.
fn initial_state(spec: &ClusterSpec, jars_dir: PathBuf) -> Result<State> {
    let mut state = State::new(spec.flavor, jars_dir);
    let kraft = spec.flavor == Flavor::KRaft;
    let n_zk = if kraft { 0 } else { spec.zk_servers };
    let combined = if kraft && spec.controllers == 0 {
        spec.brokers.min(3)
    } else {
        0
    };
    let controllers = if kraft { spec.controllers } else { 0 };
    let per_broker = if spec.secure { 3 } else { 1 };
    let mut ports = ports::free_ports(
        n_zk * 3 + spec.brokers * per_broker + combined + controllers,
        &BTreeSet::new(),
    )?
    .into_iter();
    let mut next_port = || {
        ports
            .next()
            .ok_or_else(|| Error::Io(std::io::Error::other("out of ports")))
    };
    let dynamic = kraft && spec.quorum == Quorum::Dynamic;
    let directory_id = |controller: bool| (dynamic && controller).then(kraft::new_uuid);
    for i in 0..n_zk {
        state.zk.push(ZkState {
            id: i as u32 + 1,
            client_port: next_port()?,
            peer_port: next_port()?,
            election_port: next_port()?,
            observer: false,
            pid: None,
        });
    }
    for i in 0..controllers {
        state.controllers.push(ControllerState {
            id: FIRST_CONTROLLER_ID + i as i32,
            port: next_port()?,
            directory_id: directory_id(true),
            initial: true,
            pid: None,
        });
    }
    for i in 0..spec.brokers {
        let is_combined = i < combined;
        state.brokers.push(BrokerState {
            id: i as i32 + 1,
            port: next_port()?,
            controller_port: if is_combined {
                Some(next_port()?)
            } else {
                None
            },
            secure_port: if spec.secure {
                Some(next_port()?)
            } else {
                None
            },
            mtls_port: if spec.secure {
                Some(next_port()?)
            } else {
                None
            },
            rack: spec.racks.as_ref().map(|r| r[i].clone()),
            directory_id: directory_id(is_combined),
            pid: None,
        });
    }
    state.session_timeout_ms = spec.session_timeout.map(|t| t.as_millis() as u64);
    state.broker_config = spec.broker_config.clone();
    state.authorizer = spec.authorizer;
    state.version = spec.version.clone();
    if kraft {
        state.cluster_id = Some(kraft::new_uuid());
        state.quorum = spec.quorum;
    } else {
        state.chroot = spec.chroot.clone();
        state.zk_reconfig = spec.zk_reconfig;
    }
    Ok(state)
}

impl Cluster {
    // ----- creation -------------------------------------------------------------------------

    /// Starts a new cluster and returns once every node serves: each ZooKeeper server answers
    /// `srvr` with a mode and there is a leader; each controller logged that it started and
    /// accepts connections; each broker logged that it started, answers a Metadata request
    /// and every broker lists every broker. Fails after `$KAFSH_SANDBOX_TIMEOUT_SECS`
    /// (default 120 s) with an error naming the node and its logs; the directory is then kept
    /// for those logs.
    pub fn start(spec: ClusterSpec) -> Result<Cluster> {
        spec.validate()?;
        let jars_dir = jars::ensure_version(spec.kafka_version()?)?;
        let dir = layout::prepare_dir(spec.dir.as_deref())?;
        let state = initial_state(&spec, jars_dir)?;
        let mut cluster = Cluster {
            dir,
            state,
            owned: true,
            keep: false,
            timeout: timeout_from_env(),
            children: HashMap::new(),
            watchdog: None,
        };
        cluster.save()?;
        cluster.watchdog = Some(watchdog::spawn(&cluster.dir)?);
        if let Err(e) = cluster.bring_up() {
            cluster.keep = true;
            cluster.teardown();
            eprintln!(
                "kafsh-sandbox: cluster failed to start; kept {} for its logs",
                cluster.dir.display()
            );
            return Err(e);
        }
        Ok(cluster)
    }

    fn bring_up(&mut self) -> Result<()> {
        let deadline = Instant::now() + self.timeout;
        fs::create_dir_all(layout::tools_dir(&self.dir))?;
        self.write_tool_configs()?;
        let zk: Vec<Node> = self.state.zk.iter().map(|z| Node::Zk(z.id)).collect();
        let servers = self.state.zk.clone();
        for &node in &zk {
            self.write_node_files(node, &servers)?;
        }
        let mut pending = Vec::new();
        for &node in &zk {
            pending.push((node, self.spawn(node, deadline)?));
        }
        self.wait_serving(&pending, true, deadline)?;

        let kafka: Vec<Node> = self
            .state
            .nodes()
            .into_iter()
            .filter(|n| n.is_kafka())
            .collect();
        let secure = self.state.brokers.iter().any(|b| b.secure_port.is_some());
        if secure {
            crate::tls::make_certificates(&layout::tls_dir(&self.dir))?;
        }
        for &node in &kafka {
            self.write_node_files(node, &[])?;
        }
        if self.state.flavor == Flavor::KRaft {
            let jobs: Vec<(Node, kraft::Format, Option<String>)> = kafka
                .iter()
                .map(|&n| (n, kraft::Format::AsMade, None))
                .collect();
            self.format_nodes(&jobs)?;
        }
        // Separate controllers first, brokers once they serve: a broker that starts during
        // the controllers' first elections can lose its registration channel to a leader that
        // is already gone and give up after initial.broker.registration.timeout.ms (seen on
        // a loaded machine with Kafka 4.2).
        let (controllers, others): (Vec<Node>, Vec<Node>) =
            kafka.iter().partition(|n| matches!(n, Node::Controller(_)));
        for group in [controllers, others] {
            let mut pending = Vec::new();
            for node in group {
                pending.push((node, self.spawn(node, deadline)?));
            }
            self.wait_serving(&pending, false, deadline)?;
        }
        if secure {
            self.add_scram_user(crate::SASL_USER, crate::SASL_PASSWORD)?;
        }
        if self.state.authorizer {
            self.add_scram_user(crate::NO_RIGHTS_USER, crate::NO_RIGHTS_PASSWORD)?;
        }
        Ok(())
    }

    /// Attaches to the cluster described by `<dir>/sandbox.json`. The handle does not own the
    /// cluster: dropping it leaves every process running and the directory in place; an
    /// explicit [`Cluster::teardown`] kills the nodes and removes the directory (unless
    /// [`Cluster::keep`] was called).
    pub fn open(dir: &Path) -> Result<Cluster> {
        let dir = dir.canonicalize().map_err(|source| Error::NoCluster {
            dir: dir.to_path_buf(),
            source,
        })?;
        let state = State::load(&dir)?;
        Ok(Cluster {
            dir,
            state,
            owned: false,
            keep: false,
            timeout: timeout_from_env(),
            children: HashMap::new(),
            watchdog: None,
        })
    }

    // ----- what the cluster is --------------------------------------------------------------

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn flavor(&self) -> Flavor {
        self.state.flavor
    }

    /// The Kafka version of the cluster's jars (what its nodes run unless upgraded).
    pub fn kafka_version(&self) -> jars::Version {
        self.state.kafka_version()
    }

    /// Whether ACLs authorize requests (see [`ClusterSpec::authorizer`]).
    pub fn has_authorizer(&self) -> bool {
        self.current().authorizer
    }

    /// How the KRaft controller quorum is defined (static for a ZooKeeper-flavor cluster).
    pub fn quorum(&self) -> Quorum {
        self.current().quorum
    }

    /// The directory of the jars the cluster runs (classpath `<dir>/*`).
    pub fn jars_dir(&self) -> &Path {
        &self.state.jars_dir
    }

    /// The KRaft cluster id (KRaft flavor only).
    pub fn cluster_id(&self) -> Option<String> {
        self.current().cluster_id
    }

    /// Whether the ZooKeeper ensemble has dynamic reconfiguration enabled.
    pub fn zk_reconfig(&self) -> bool {
        self.current().zk_reconfig
    }

    /// The brokers' ZooKeeper chroot (ZooKeeper flavor only).
    pub fn chroot(&self) -> Option<String> {
        self.current().chroot
    }

    /// Whether dropping this handle tears the cluster down.
    pub fn is_owned(&self) -> bool {
        self.owned
    }

    /// Time allowed for a cluster or node to come up (default 120 s or
    /// `$KAFSH_SANDBOX_TIMEOUT_SECS`).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// `127.0.0.1:p1,127.0.0.1:p2,...` of every broker, running or not, by id.
    pub fn bootstrap_servers(&self) -> String {
        let st = self.current();
        let mut brokers: Vec<&BrokerState> = st.brokers.iter().collect();
        brokers.sort_by_key(|b| b.id);
        brokers
            .iter()
            .map(|b| format!("127.0.0.1:{}", b.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `127.0.0.1:p1,...` of every controller's CONTROLLER listener (controller-only nodes,
    /// else the combined ones), as `--bootstrap-controller` takes it; `None` without KRaft.
    pub fn bootstrap_controllers(&self) -> Option<String> {
        let members = self.current().quorum_members(false);
        (!members.is_empty()).then(|| {
            members
                .iter()
                .map(|c| format!("127.0.0.1:{}", c.port))
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    /// `127.0.0.1:p1,...` of every broker's SASL_SSL listener (secure clusters only).
    pub fn secure_bootstrap_servers(&self) -> Option<String> {
        let ports: Vec<String> = self
            .current()
            .brokers
            .iter()
            .filter_map(|b| b.secure_port.map(|p| format!("127.0.0.1:{p}")))
            .collect();
        (!ports.is_empty()).then(|| ports.join(","))
    }

    /// `127.0.0.1:p1,...` of every broker's SSL listener that requires client certificates
    /// (secure clusters only).
    pub fn mtls_bootstrap_servers(&self) -> Option<String> {
        let ports: Vec<String> = self
            .current()
            .brokers
            .iter()
            .filter_map(|b| b.mtls_port.map(|p| format!("127.0.0.1:{p}")))
            .collect();
        (!ports.is_empty()).then(|| ports.join(","))
    }

    /// The directory of a secure cluster's certificates and keys: the CA (`ca.pem`), a CA
    /// that signed nothing of the cluster's (`other-ca.pem`), the brokers' keystore, and the
    /// client certificates for mutual TLS (`client.pem` with `client.key`, or encrypted
    /// `client-encrypted.key`; `untrusted-client.pem` from the other CA).
    pub fn tls_dir(&self) -> PathBuf {
        layout::tls_dir(&self.dir)
    }

    /// `127.0.0.1:a,127.0.0.1:b,...` plus the chroot; `None` for a KRaft cluster.
    pub fn zk_connect(&self) -> Option<String> {
        let st = self.current();
        if st.flavor != Flavor::ZooKeeper {
            return None;
        }
        Some(zk_connect_of(&st))
    }

    /// Every node: ZooKeeper servers, controllers, brokers, each by id.
    pub fn nodes(&self) -> Vec<Node> {
        self.current().nodes()
    }

    /// The directory of `node` (which need not exist).
    pub fn node_dir(&self, node: Node) -> PathBuf {
        layout::node_dir(&self.dir, node)
    }

    /// The ZooKeeper servers, by id.
    pub fn zk_servers(&self) -> Vec<ZkNode> {
        let st = self.current();
        let mut v: Vec<ZkNode> = st.zk.iter().map(|z| self.zk_view(z)).collect();
        v.sort_by_key(|z| z.id);
        v
    }

    /// The Kafka brokers (KRaft: combined and broker-only nodes), by id.
    pub fn brokers(&self) -> Vec<BrokerNode> {
        let st = self.current();
        let mut v: Vec<BrokerNode> = st.brokers.iter().map(|b| self.broker_view(b)).collect();
        v.sort_by_key(|b| b.id);
        v
    }

    /// The KRaft controller-only nodes, by id (none when the nodes are combined).
    pub fn controllers(&self) -> Vec<ControllerNode> {
        let st = self.current();
        let mut v: Vec<ControllerNode> = st
            .controllers
            .iter()
            .map(|c| self.controller_view(c))
            .collect();
        v.sort_by_key(|c| c.id);
        v
    }

    pub fn zk_server(&self, id: u32) -> Result<ZkNode> {
        Ok(self.zk_view(self.current().zk(id)?))
    }

    pub fn broker(&self, id: i32) -> Result<BrokerNode> {
        Ok(self.broker_view(self.current().broker(id)?))
    }

    pub fn controller(&self, id: i32) -> Result<ControllerNode> {
        Ok(self.controller_view(self.current().controller(id)?))
    }

    /// What the process of `node` (recorded pid `pid`) is now.
    fn proc_state(&self, node: Node, pid: Option<u32>) -> ProcState {
        pid.map_or(ProcState::Gone, |p| {
            process::proc_state(p, &self.node_dir(node))
        })
    }

    fn zk_view(&self, z: &ZkState) -> ZkNode {
        let node = Node::Zk(z.id);
        let ps = self.proc_state(node, z.pid);
        ZkNode {
            id: z.id,
            client_port: z.client_port,
            peer_port: z.peer_port,
            election_port: z.election_port,
            observer: z.observer,
            running: ps != ProcState::Gone,
            paused: ps == ProcState::Paused,
            pid: z.pid.filter(|_| ps != ProcState::Gone),
            dir: self.node_dir(node),
        }
    }

    fn broker_view(&self, b: &BrokerState) -> BrokerNode {
        let node = Node::Broker(b.id);
        let ps = self.proc_state(node, b.pid);
        BrokerNode {
            id: b.id,
            port: b.port,
            controller_port: b.controller_port,
            directory_id: b.directory_id.clone(),
            running: ps != ProcState::Gone,
            paused: ps == ProcState::Paused,
            pid: b.pid.filter(|_| ps != ProcState::Gone),
            rack: b.rack.clone(),
            dir: self.node_dir(node),
        }
    }

    fn controller_view(&self, c: &ControllerState) -> ControllerNode {
        let node = Node::Controller(c.id);
        let ps = self.proc_state(node, c.pid);
        ControllerNode {
            id: c.id,
            port: c.port,
            directory_id: c.directory_id.clone(),
            initial_voter: c.initial,
            running: ps != ProcState::Gone,
            paused: ps == ProcState::Paused,
            pid: c.pid.filter(|_| ps != ProcState::Gone),
            dir: self.node_dir(node),
        }
    }

    // ----- whole cluster --------------------------------------------------------------------

    /// Starts every node that is not running (ZooKeeper servers first) and waits until all
    /// serve.
    pub fn start_all(&mut self) -> Result<()> {
        self.reload()?;
        let deadline = Instant::now() + self.timeout;
        // A migration controller not formatted yet waits for the migration runbook.
        let nodes: Vec<Node> = self
            .state
            .nodes()
            .into_iter()
            .filter(|&n| {
                !matches!(n, Node::Controller(_))
                    || self.state.flavor == Flavor::KRaft
                    || self.node_dir(n).join("data/meta.properties").exists()
            })
            .collect();
        let (zk, kafka): (Vec<Node>, Vec<Node>) = nodes.into_iter().partition(|n| !n.is_kafka());
        for group in [zk, kafka] {
            let mut pending = Vec::new();
            for node in group {
                let running = self.proc_state(node, self.state.pid(node)?) != ProcState::Gone;
                let offset = if running {
                    0
                } else {
                    self.spawn(node, deadline)?
                };
                pending.push((node, offset));
            }
            self.wait_serving(&pending, true, deadline)?;
        }
        Ok(())
    }

    /// Gracefully stops every node (brokers first, then controllers, then ZooKeeper, each
    /// group all at once, SIGKILL after 10 s: a KRaft node can hang in controlled shutdown
    /// once the controller quorum is gone); the directory stays.
    pub fn stop_all(&mut self) -> Result<()> {
        self.reload()?;
        let nodes = self.state.nodes();
        let groups: [Vec<Node>; 3] = [
            nodes
                .iter()
                .copied()
                .filter(|n| matches!(n, Node::Broker(_)))
                .collect(),
            nodes
                .iter()
                .copied()
                .filter(|n| matches!(n, Node::Controller(_)))
                .collect(),
            nodes
                .iter()
                .copied()
                .filter(|n| matches!(n, Node::Zk(_)))
                .collect(),
        ];
        for group in groups {
            self.end_many(&group, Some(STOP_ALL_GRACE))?;
        }
        Ok(())
    }

    /// Keeps the directory when the cluster is dropped or torn down.
    pub fn keep(&mut self) {
        self.keep = true;
        watchdog::keep(&self.dir);
    }

    /// Gives up ownership: the processes keep running after this handle is dropped (and after
    /// this process exits), and the directory stays. Used by `kafsh-sandbox up`.
    pub fn detach(&mut self) {
        self.owned = false;
        self.keep = true;
        watchdog::stop(&self.dir, self.watchdog.take());
    }

    /// Kills every node of the cluster (SIGKILL) and removes the directory unless kept. Works on
    /// an attached cluster too (`kafsh-sandbox down`).
    pub fn teardown(&mut self) {
        let _ = self.reload();
        let nodes = self.state.nodes();
        let _ = self.end_many(&nodes, None);
        for (_, mut child) in self.children.drain() {
            let _ = child.kill();
            let _ = child.wait();
        }
        watchdog::stop(&self.dir, self.watchdog.take());
        self.owned = false;
        if self.keep {
            let _ = self.save();
        } else if self.dir.join(STATE_FILE).exists() {
            if let Err(e) = fs::remove_dir_all(&self.dir) {
                eprintln!("kafsh-sandbox: cannot remove {}: {e}", self.dir.display());
            }
        }
    }

    // ----- internals ------------------------------------------------------------------------

    /// Re-reads `sandbox.json`: another process may have changed the cluster.
    fn reload(&mut self) -> Result<()> {
        self.state = State::load(&self.dir)?;
        Ok(())
    }

    /// The freshest state: the file when readable, else what this handle knows.
    fn current(&self) -> State {
        State::load(&self.dir).unwrap_or_else(|_| self.state.clone())
    }

    fn save(&self) -> Result<()> {
        self.state.save(&self.dir)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        if thread::panicking() {
            self.keep = true;
            eprintln!(
                "kafsh-sandbox: keeping cluster directory {} for its logs",
                self.dir.display()
            );
        }
        self.teardown();
    }
}

fn zk_hosts_of(st: &State) -> String {
    let mut zk: Vec<&ZkState> = st.zk.iter().collect();
    zk.sort_by_key(|z| z.id);
    zk.iter()
        .map(|z| format!("127.0.0.1:{}", z.client_port))
        .collect::<Vec<_>>()
        .join(",")
}

fn zk_connect_of(st: &State) -> String {
    format!("{}{}", zk_hosts_of(st), st.chroot.as_deref().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_state_of_separate_controllers_and_a_dynamic_quorum() {
        let spec = ClusterSpec::kraft()
            .controllers(3)
            .brokers(2)
            .dynamic_quorum();
        let st = initial_state(&spec, PathBuf::from("/j")).unwrap();
        assert_eq!(
            st.nodes(),
            vec![
                Node::Controller(101),
                Node::Controller(102),
                Node::Controller(103),
                Node::Broker(1),
                Node::Broker(2)
            ]
        );
        assert!(st.brokers.iter().all(|b| b.controller_port.is_none()));
        assert!(st
            .controllers
            .iter()
            .all(|c| c.initial && c.directory_id.as_ref().is_some_and(|d| d.len() == 22)));
        assert_eq!(st.quorum, Quorum::Dynamic);
        assert_eq!(ports::used_ports(&st).len(), 5);

        let st = initial_state(&ClusterSpec::kraft().brokers(4), PathBuf::from("/j")).unwrap();
        let combined: Vec<i32> = st
            .brokers
            .iter()
            .filter(|b| b.controller_port.is_some())
            .map(|b| b.id)
            .collect();
        assert_eq!(combined, vec![1, 2, 3]);
        assert!(st.controllers.is_empty() && st.brokers.iter().all(|b| b.directory_id.is_none()));
        assert_eq!(st.quorum, Quorum::Static);
    }
}
