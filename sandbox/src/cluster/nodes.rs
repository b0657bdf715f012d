//! One node's lifecycle, the same for every kind of [`Node`]: start (waiting until it serves,
//! or not), stop, kill, restart, pause, resume; adding nodes; formatting KRaft storage;
//! writing a node's files and spawning its JVM.

use std::fs;
use std::thread;
use std::time::{Duration, Instant};

use super::{zk_connect_of, Cluster};
use crate::config;
use crate::error::{Error, Result};
use crate::kraft::{self, Format};
use crate::layout;
use crate::node::{NewNode, Node, ZkNode};
use crate::ports;
use crate::process::{self, ProcState};
use crate::spec::{Flavor, Quorum, FIRST_CONTROLLER_ID};
use crate::state::{BrokerState, ControllerState, ZkState};

/// How long a graceful stop may take before the node is killed.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// How long a killed process may take to disappear.
const DEATH_WAIT: Duration = Duration::from_secs(10);
/// How long a paused or resumed process may take to show it.
const SIGNAL_SETTLE: Duration = Duration::from_secs(5);
/// Time allowed for the storage tool.
const FORMAT_TIMEOUT: Duration = Duration::from_secs(120);

impl Cluster {
    /// Starts `node` (if not running) and waits until it serves: a ZooKeeper server reports
    /// a mode (which needs a quorum); a controller logged that it started and accepts
    /// connections; a broker logged that it started, lists itself and every running broker
    /// lists it. A paused node is an error ([`Error::Paused`]).
    ///
    /// (Not `start`: [`Cluster::start`] starts a whole cluster.)
    pub fn start_node(&mut self, node: Node) -> Result<()> {
        self.start_nodes(&[node])
    }

    /// Starts several nodes at once (e.g. ZooKeeper servers to restore a lost quorum) and
    /// waits until all serve, as [`Cluster::start_node`] does.
    pub fn start_nodes(&mut self, nodes: &[Node]) -> Result<()> {
        self.reload()?;
        let deadline = Instant::now() + self.timeout;
        let mut ordered = nodes.to_vec();
        // ZooKeeper before Kafka, controllers before brokers.
        ordered.sort_by_key(|n| match n {
            Node::Zk(_) => 0,
            Node::Controller(_) => 1,
            Node::Broker(_) => 2,
        });
        let mut pending = Vec::new();
        for node in ordered {
            let offset = match self.proc_state(node, self.state.pid(node)?) {
                ProcState::Paused => return Err(Error::Paused(node)),
                ProcState::Running => 0,
                ProcState::Gone => self.spawn(node, deadline)?,
            };
            pending.push((node, offset));
        }
        self.wait_serving(&pending, false, deadline)
    }

    /// Starts `node` (if not running) without waiting for it to serve, e.g. a ZooKeeper
    /// server that can only serve once other servers are restarted with a new configuration.
    pub fn start_node_no_wait(&mut self, node: Node) -> Result<()> {
        self.reload()?;
        if self.proc_state(node, self.state.pid(node)?) != ProcState::Gone {
            return Ok(());
        }
        let deadline = Instant::now() + self.timeout;
        self.spawn(node, deadline).map(|_| ())
    }

    /// Gracefully stops `node`: SIGTERM (a broker shuts down in a controlled way), SIGKILL
    /// after 30 s. A paused node is resumed to receive the SIGTERM.
    pub fn stop(&mut self, node: Node) -> Result<()> {
        self.reload()?;
        self.end_many(&[node], Some(STOP_GRACE))
    }

    /// Kills `node` with SIGKILL.
    pub fn kill(&mut self, node: Node) -> Result<()> {
        self.reload()?;
        self.end_many(&[node], None)
    }

    /// Stops (gracefully) and starts `node`, waiting until it serves again.
    pub fn restart(&mut self, node: Node) -> Result<()> {
        self.stop(node)?;
        self.start_node(node)
    }

    /// Stops `node` with SIGSTOP: it hangs, its connections open, nothing answers. Returns
    /// once the process shows as stopped.
    pub fn pause(&mut self, node: Node) -> Result<()> {
        self.signal_node(node, process::SIGSTOP, ProcState::Paused)
    }

    /// Continues a paused `node` with SIGCONT. Returns once the process runs again.
    pub fn resume(&mut self, node: Node) -> Result<()> {
        self.signal_node(node, process::SIGCONT, ProcState::Running)
    }

    /// Sends `sig` and waits (a little) until the process is in state `then`: a stop
    /// reaches every thread of a JVM only after a moment.
    fn signal_node(&mut self, node: Node, sig: i32, then: ProcState) -> Result<()> {
        self.reload()?;
        let pid = self.state.pid(node)?;
        let Some(pid) = pid.filter(|_| self.proc_state(node, pid) != ProcState::Gone) else {
            return Err(Error::NotRunning(node));
        };
        process::signal(pid, sig)?;
        // Only Linux's /proc shows a stopped process (see process::proc_state).
        let settle = if cfg!(target_os = "linux") {
            SIGNAL_SETTLE
        } else {
            Duration::ZERO
        };
        let deadline = Instant::now() + settle;
        while self.proc_state(node, Some(pid)) != then && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Adds a node as `new` describes (see [`NewNode`]): directory, ports, configuration,
    /// and on KRaft formatted storage. It is not started ([`Cluster::start_node`] does
    /// that). Returns the new node.
    pub fn add(&mut self, new: NewNode) -> Result<Node> {
        self.reload()?;
        let st = &self.state;
        let taken = ports::used_ports(st);
        let node = match new {
            NewNode::Zk { id } | NewNode::ZkObserver { id } => {
                let observer = matches!(new, NewNode::ZkObserver { .. });
                if st.flavor != Flavor::ZooKeeper {
                    return Err(Error::Unsupported("a KRaft cluster has no ZooKeeper"));
                }
                let id = id.unwrap_or_else(|| st.zk.iter().map(|z| z.id).max().unwrap_or(0) + 1);
                if id == 0 || st.has(Node::Zk(id)) {
                    return Err(Error::IdTaken(Node::Zk(id)));
                }
                let p = ports::free_ports(3, &taken)?;
                self.state.zk.push(ZkState {
                    id,
                    client_port: p[0],
                    peer_port: p[1],
                    election_port: p[2],
                    observer,
                    pid: None,
                    secure_port: None,
                });
                Node::Zk(id)
            }
            NewNode::Broker { rack } => {
                if st.flavor == Flavor::ZooKeeper && st.zk.is_empty() {
                    return Err(Error::Unsupported(
                        "this cluster has no ZooKeeper for a broker",
                    ));
                }
                let id = st.brokers.iter().map(|b| b.id).max().unwrap_or(0) + 1;
                if st.has(Node::Controller(id)) {
                    return Err(Error::IdTaken(Node::Broker(id)));
                }
                let secure = st.brokers.iter().any(|b| b.secure_port.is_some());
                let p = ports::free_ports(if secure { 3 } else { 1 }, &taken)?;
                self.state.brokers.push(BrokerState {
                    id,
                    port: p[0],
                    controller_port: None,
                    secure_port: p.get(1).copied(),
                    mtls_port: p.get(2).copied(),
                    rack,
                    directory_id: None,
                    // A broker added to a JBOD cluster gets as many log dirs as the others.
                    log_dirs: st.brokers.first().map_or(1, |b| b.log_dirs),
                    pid: None,
                });
                Node::Broker(id)
            }
            NewNode::Controller => {
                // A ZooKeeper-flavor cluster gets the controllers of a migration to KRaft: a
                // static quorum of every such controller, left unformatted.
                let migration = st.flavor == Flavor::ZooKeeper;
                if !migration && st.quorum != Quorum::Dynamic {
                    return Err(Error::Unsupported(
                        "a static quorum (controller.quorum.voters) cannot grow; start the \
                         cluster with a dynamic quorum",
                    ));
                }
                let id = st
                    .controllers
                    .iter()
                    .map(|c| c.id)
                    .max()
                    .unwrap_or(FIRST_CONTROLLER_ID - 1)
                    + 1;
                let p = ports::free_ports(1, &taken)?;
                self.state.controllers.push(ControllerState {
                    id,
                    port: p[0],
                    directory_id: None,
                    initial: migration,
                    pid: None,
                });
                Node::Controller(id)
            }
        };
        self.save()?;
        let servers = self.state.zk.clone();
        self.write_node_files(node, &servers)?;
        if self.state.flavor == Flavor::KRaft {
            self.format_nodes(&[(node, Format::AsMade, None)])?;
        } else if let Node::Controller(id) = node {
            // Every migration controller not yet formatted lists the new voter too.
            let others: Vec<i32> = self
                .state
                .controllers
                .iter()
                .map(|c| c.id)
                .filter(|&c| c != id)
                .collect();
            for other in others {
                let n = Node::Controller(other);
                if !self.node_dir(n).join("data/meta.properties").exists() {
                    self.write_node_files(n, &[])?;
                }
            }
        }
        Ok(node)
    }

    /// Formats the storage of KRaft `node` (`kafka-storage.sh format`) as `how` says, unless
    /// it is formatted already; records the directory id it has. The node must be stopped.
    pub fn format(&mut self, node: Node, how: Format) -> Result<()> {
        self.format_with_id(node, how, None)
    }

    /// [`Cluster::format`] with the cluster id given (`kafka-storage.sh format --cluster-id`)
    /// instead of the one the sandbox made. On a ZooKeeper-flavor cluster only the migration
    /// controllers are formatted, with the id ZooKeeper keeps in `/cluster/id`, which the
    /// sandbox then remembers as the cluster's id.
    pub fn format_with_id(
        &mut self,
        node: Node,
        how: Format,
        cluster_id: Option<&str>,
    ) -> Result<()> {
        self.reload()?;
        if self.state.flavor != Flavor::KRaft && !matches!(node, Node::Controller(_)) {
            return Err(Error::Unsupported(
                "only KRaft nodes are formatted (ZooKeeper-mode brokers have no storage format)",
            ));
        }
        if self.proc_state(node, self.state.pid(node)?) != ProcState::Gone {
            return Err(Error::Running(node));
        }
        self.format_nodes(&[(node, how, cluster_id.map(str::to_string))])
    }

    /// Formats several KRaft nodes in parallel and records their directory ids; each with
    /// the cluster id given, else the cluster's.
    pub(super) fn format_nodes(&mut self, jobs: &[(Node, Format, Option<String>)]) -> Result<()> {
        let mut cmds = Vec::new();
        for (node, how, given) in jobs {
            let node = *node;
            let cluster_id = given
                .clone()
                .filter(|id| !id.trim().is_empty())
                .or_else(|| self.state.cluster_id.clone())
                .ok_or(Error::Unsupported(
                    "no cluster id: give the one ZooKeeper keeps in /cluster/id (--cluster-id)",
                ))?;
            if self.state.cluster_id.is_none() {
                self.state.cluster_id = Some(cluster_id.clone());
            }
            let flags = kraft::quorum_flags(&self.state, node, *how)?;
            let props = self.node_dir(node).join("server.properties");
            let args = kraft::format_args(&cluster_id, &props, flags);
            cmds.push((node, self.tool_command(kraft::STORAGE_TOOL, &args)?));
        }
        let results: Vec<(Node, Result<std::process::Output>)> = thread::scope(|s| {
            let handles: Vec<_> = cmds
                .into_iter()
                .map(|(node, cmd)| {
                    s.spawn(move || {
                        let out =
                            process::output_with_timeout(cmd, FORMAT_TIMEOUT).map_err(Error::from);
                        (node, out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .zip(jobs)
                .map(|(h, &(node, _, _))| {
                    h.join().unwrap_or_else(|_| {
                        (
                            node,
                            Err(Error::Io(std::io::Error::other("format thread panicked"))),
                        )
                    })
                })
                .collect()
        });
        for (node, r) in results {
            let out = r.map_err(|e| kraft::format_io_error(node, e))?;
            if !out.status.success() {
                return Err(kraft::format_failed(node, &out));
            }
            let directory_id = kraft::read_directory_id(&self.node_dir(node));
            match node {
                Node::Controller(id) => self.state.controller_mut(id)?.directory_id = directory_id,
                Node::Broker(id) => {
                    let b = self.state.broker_mut(id)?;
                    if b.controller_port.is_some() {
                        b.directory_id = directory_id;
                    }
                }
                Node::Zk(_) => {}
            }
        }
        self.save()
    }

    /// Rewrites the configuration of ZooKeeper server `id` to list exactly `servers` (each
    /// a participant, or an observer when its `observer` is set): its `zoo.cfg`, and with
    /// dynamic reconfiguration its `zoo.cfg.dynamic` (the version-0 membership a joining or
    /// replacement server starts from). Takes effect when the server next starts.
    pub fn write_zk_config(&mut self, id: u32, servers: &[ZkNode]) -> Result<()> {
        self.reload()?;
        let servers: Vec<ZkState> = servers
            .iter()
            .map(|z| ZkState {
                id: z.id,
                client_port: z.client_port,
                peer_port: z.peer_port,
                election_port: z.election_port,
                observer: z.observer,
                pid: None,
                secure_port: None,
            })
            .collect();
        let mut me = self.state.zk(id)?.clone();
        if let Some(listed) = servers.iter().find(|z| z.id == id) {
            me.observer = listed.observer;
        }
        self.write_zk_files(&me, &servers)
    }

    /// The configuration file `node` reads: a Kafka node's `server.properties`, a ZooKeeper
    /// server's `zoo.cfg`.
    pub fn node_config(&self, node: Node) -> Result<String> {
        self.current().pid(node)?;
        let file = match node {
            Node::Zk(_) => "zoo.cfg",
            Node::Broker(_) | Node::Controller(_) => "server.properties",
        };
        Ok(fs::read_to_string(self.node_dir(node).join(file))?)
    }

    /// Replaces the `server.properties` of Kafka node `node` with `text` (a temporary file,
    /// then a rename), as an operator's configuration management would; it takes effect when
    /// the node next starts. ZooKeeper servers are rewritten by [`Cluster::write_zk_config`].
    pub fn write_node_config(&mut self, node: Node, text: &str) -> Result<()> {
        self.reload()?;
        self.state.pid(node)?;
        if !node.is_kafka() {
            return Err(Error::Unsupported(
                "a ZooKeeper server's zoo.cfg is written by write_zk_config (zk-servers)",
            ));
        }
        let nd = self.node_dir(node);
        let tmp = nd.join(".server.properties.new");
        fs::write(&tmp, text)?;
        fs::rename(&tmp, nd.join("server.properties"))?;
        Ok(())
    }

    /// Upgrades Kafka node `node` to the jars of `to` (Kafka 4.4 for [`Flavor::KRaft`], 3.9
    /// for [`Flavor::ZooKeeper`]), as installing a new package would: it runs them from its
    /// next start (with their logging config). The rest of the cluster is left alone.
    pub fn upgrade(&mut self, node: Node, to: Flavor) -> Result<()> {
        self.reload()?;
        self.state.pid(node)?;
        if !node.is_kafka() {
            return Err(Error::Unsupported(
                "only Kafka nodes are upgraded (ZooKeeper keeps its version)",
            ));
        }
        crate::jars::ensure(to)?;
        if to == self.state.flavor && self.state.version.is_none() {
            self.state.upgraded.remove(&node.dir_name());
        } else {
            self.state.upgraded.insert(node.dir_name(), to);
        }
        self.save()?;
        self.write_log_config(node)
    }

    /// Writes `zoo.cfg` (and `zoo.cfg.dynamic`) of ZooKeeper server `me`, dropping the
    /// membership files ZooKeeper wrote itself after a reconfiguration, so the new ones are
    /// what it reads.
    fn write_zk_files(&self, me: &ZkState, servers: &[ZkState]) -> Result<()> {
        let nd = self.node_dir(Node::Zk(me.id));
        let mut files = config::zoo_cfg(me, &nd, servers, self.state.zk_reconfig);
        if let Some(port) = me.secure_port {
            files
                .zoo_cfg
                .push_str(&config::zk_tls_settings(port, &layout::tls_dir(&self.dir)));
        }
        if let Some(k) = &self.state.zk_kerberos {
            fs::write(nd.join("zk-jaas.conf"), config::zk_kerberos_jaas(k))?;
        }
        if let Ok(entries) = fs::read_dir(&nd) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("zoo.cfg.dynamic.") || name == "zoo.cfg.bak" {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        if let Some(dynamic) = &files.dynamic {
            fs::write(nd.join(config::ZK_DYNAMIC_FILE), dynamic)?;
        }
        Ok(fs::write(nd.join("zoo.cfg"), files.zoo_cfg)?)
    }

    /// Gives stopped ZooKeeper server `id` a new host, as a replacement machine for a dead
    /// one: new ports (a new address), an empty data directory without `myid`, and no
    /// configuration — what `write_zk_config` and a `myid` writer then provide. Returns the
    /// server as it is now.
    pub fn rehost_zk(&mut self, id: u32) -> Result<ZkNode> {
        self.reload()?;
        let node = Node::Zk(id);
        if self.proc_state(node, self.state.pid(node)?) != ProcState::Gone {
            return Err(Error::Running(node));
        }
        let taken = ports::used_ports(&self.state);
        let p = ports::free_ports(3, &taken)?;
        let z = self
            .state
            .zk
            .iter_mut()
            .find(|z| z.id == id)
            .ok_or(Error::NoSuchNode(node))?;
        z.client_port = p[0];
        z.peer_port = p[1];
        z.election_port = p[2];
        self.save()?;
        let nd = self.node_dir(node);
        let data = nd.join("data");
        if data.exists() {
            fs::remove_dir_all(&data).map_err(|e| layout::with_path(e, "remove", &data))?;
        }
        fs::create_dir_all(&data).map_err(|e| layout::with_path(e, "create", &data))?;
        if let Ok(entries) = fs::read_dir(&nd) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with("zoo.cfg") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        self.zk_server(id)
    }

    /// Writes the files `node` reads: ZooKeeper's `myid`, `zoo.cfg` (listing `zk_servers`) and
    /// logging config; Kafka's `server.properties` and logging config.
    pub(super) fn write_node_files(&self, node: Node, zk_servers: &[ZkState]) -> Result<()> {
        let nd = self.node_dir(node);
        fs::create_dir_all(nd.join("data")).map_err(|e| layout::with_path(e, "create", &nd))?;
        let props = match node {
            Node::Zk(id) => {
                let me = self.state.zk(id)?.clone();
                fs::write(nd.join("data").join("myid"), format!("{id}\n"))?;
                self.write_zk_files(&me, zk_servers)?;
                return self.write_log_config(node);
            }
            Node::Broker(id) => {
                let b = self.state.broker(id)?;
                let mut props = match self.state.flavor {
                    Flavor::ZooKeeper => config::kafka_zk_properties(
                        b,
                        &nd,
                        &zk_connect_of(&self.state),
                        self.state.broker_count(),
                        self.session_ms(),
                    ),
                    Flavor::KRaft => config::kafka_kraft_properties(b, &nd, &self.state),
                };
                if self.state.authorizer {
                    props.push_str(&config::authorizer_settings(
                        self.state.flavor,
                        self.state.kafka_version(),
                    ));
                }
                // The spec's own settings last, so they win.
                for (key, value) in &self.state.broker_config {
                    props.push_str(&format!("{key}={value}\n"));
                }
                props
            }
            Node::Controller(id) => {
                let mut props = config::kafka_controller_properties(
                    self.state.controller(id)?,
                    &nd,
                    &self.state,
                );
                if self.state.authorizer {
                    props.push_str(&config::authorizer_settings(
                        self.state.flavor,
                        self.state.kafka_version(),
                    ));
                }
                props
            }
        };
        fs::write(nd.join("server.properties"), props)?;
        self.write_log_config(node)
    }

    /// How long a broker that stops heartbeating stays registered, in ms.
    pub(super) fn session_ms(&self) -> u64 {
        self.state
            .session_timeout_ms
            .unwrap_or(config::KAFKA_ZK_SESSION_MS)
    }

    /// The node's logging config: log4j 1 for ZooKeeper and the 3.x-or-older jars, log4j2
    /// for 4.x.
    fn write_log_config(&self, node: Node) -> Result<()> {
        let nd = self.node_dir(node);
        if self.state.log4j2(node) {
            fs::write(nd.join("log4j2.properties"), config::log4j2_server(&nd))?;
        } else {
            fs::write(nd.join("log4j.properties"), config::log4j1_server(&nd))?;
        }
        Ok(())
    }

    /// Starts the JVM of `node`; returns the length of its `server.log` before the start.
    pub(super) fn spawn(&mut self, node: Node, deadline: Instant) -> Result<u64> {
        if let (Node::Broker(id), Flavor::ZooKeeper) = (node, self.state.flavor) {
            self.wait_unregistered(id, deadline);
        }
        let nd = self.node_dir(node);
        let log4j2 = self.state.log4j2(node);
        let jars_dir = match self.state.upgraded.get(&node.dir_name()) {
            Some(&to) if node.is_kafka() => crate::jars::ensure(to)?,
            _ => self.state.jars_dir.clone(),
        };
        let log_config = nd.join(if log4j2 {
            "log4j2.properties"
        } else {
            "log4j.properties"
        });
        if !log_config.exists() {
            self.write_log_config(node)?;
        }
        let mut opts = process::base_jvm_opts(if node.is_kafka() { "256m" } else { "128m" });
        opts.push(process::marker(&nd));
        if log4j2 {
            opts.push(format!(
                "-Dlog4j2.configurationFile={}",
                log_config.display()
            ));
        } else {
            opts.push(format!(
                "-Dlog4j.configuration=file:{}",
                log_config.display()
            ));
            opts.push("-Dzookeeper.jmx.log4j.disable=true".into());
        }
        let (main_class, config_file) = match node {
            Node::Zk(_) => {
                opts.push("-Dzookeeper.admin.enableServer=false".into());
                if let Some(k) = &self.state.zk_kerberos {
                    opts.push(format!(
                        "-Djava.security.auth.login.config={}",
                        nd.join("zk-jaas.conf").display()
                    ));
                    opts.push(format!(
                        "-Djava.security.krb5.conf={}",
                        k.krb5_conf.display()
                    ));
                    opts.push(
                        "-Dzookeeper.authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
                            .into(),
                    );
                }
                // The super user may reconfigure a dynamic ensemble (and do anything else).
                opts.push(format!(
                    "-Dzookeeper.DigestAuthenticationProvider.superDigest={}:{}",
                    crate::ZK_SUPER_USER,
                    crate::ZK_SUPER_DIGEST
                ));
                (
                    "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                    "zoo.cfg",
                )
            }
            Node::Broker(_) | Node::Controller(_) => {
                opts.push(format!("-Dkafka.logs.dir={}", nd.display()));
                ("kafka.Kafka", "server.properties")
            }
        };
        // Extra system properties a test gives one node (a Kerberos realm's krb5.conf, an
        // OAuth endpoint Kafka may reach), one per line.
        if let Ok(extra) = fs::read_to_string(nd.join("jvm.options")) {
            opts.extend(
                extra
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(String::from),
            );
        }
        let offset = process::file_len(&nd.join("server.log"));
        let args = vec![nd.join(config_file).display().to_string()];
        let cmd = process::java_command(&opts, &jars_dir, main_class, &args);
        let child = process::spawn_detached(cmd, &nd)?;
        let pid = child.id();
        self.children.insert(pid, child);
        self.state.set_pid(node, Some(pid))?;
        self.save()?;
        Ok(offset)
    }

    /// Ends the processes of `nodes`: SIGTERM to all and, after `grace`, SIGKILL to those
    /// still there; SIGKILL at once without a grace. Records them stopped. Every node is
    /// signalled even when one fails; the first failure is returned.
    pub(super) fn end_many(&mut self, nodes: &[Node], grace: Option<Duration>) -> Result<()> {
        let mut live = Vec::new();
        for &node in nodes {
            let pid = self.state.pid(node)?;
            let ps = self.proc_state(node, pid);
            if let (Some(pid), true) = (pid, ps != ProcState::Gone) {
                let sig = if grace.is_some() {
                    process::SIGTERM
                } else {
                    process::SIGKILL
                };
                let _ = process::signal(pid, sig);
                if grace.is_some() && ps == ProcState::Paused {
                    let _ = process::signal(pid, process::SIGCONT);
                }
                live.push((node, pid));
            }
        }
        let deadline = Instant::now() + grace.unwrap_or_default();
        let mut first_error = None;
        let mut undying = Vec::new();
        for &(node, pid) in &live {
            let dir = self.node_dir(node);
            let left = deadline.saturating_duration_since(Instant::now());
            if !process::wait_gone(pid, &dir, left) {
                let _ = process::signal(pid, process::SIGKILL);
                if !process::wait_gone(pid, &dir, DEATH_WAIT) {
                    first_error.get_or_insert(Error::Undying { pid, dir });
                    undying.push(node);
                    continue;
                }
            }
            if let Some(mut child) = self.children.remove(&pid) {
                let _ = child.wait();
            }
        }
        for &node in nodes.iter().filter(|n| !undying.contains(n)) {
            self.state.set_pid(node, None)?;
        }
        self.save()?;
        first_error.map_or(Ok(()), Err)
    }
}
