//! The [`Cluster`] handle: starting a sandbox cluster from a [`ClusterSpec`], attaching to a
//! running one, starting/stopping/killing/pausing single nodes, adding nodes, and running the
//! Kafka command-line tools against it.
//!
//! Layout of a cluster directory:
//! - `sandbox.json`: the state (see `state`), `pids`: live pids, `owner`/`keep`: watchdog
//!   markers;
//! - `zk-<id>/`: `zoo.cfg`, `log4j.properties`, `data/myid`, `server.log`, `stdout.log`;
//! - `broker-<id>/`: `server.properties`, `log4j.properties` or `log4j2.properties`, `data/`,
//!   `server.log`, `stdout.log`;
//! - `tools/`: logging configs of the command-line tools.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config;
use crate::jars;
use crate::probe::{self, KafkaMetadata};
use crate::process::{self, ProcState};
pub use crate::spec::{ClusterSpec, Flavor};
use crate::state::{BrokerState, State, ZkState, STATE_FILE};

/// Default time allowed for a cluster, or a node, to come up.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a graceful stop may take before the node is killed.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// How long [`Cluster::stop_all`] waits before killing.
const STOP_ALL_GRACE: Duration = Duration::from_secs(10);
/// Default time allowed for a command-line tool.
const TOOL_TIMEOUT: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(200);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A ZooKeeper server of the cluster, as seen now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkNode {
    pub id: u32,
    pub client_port: u16,
    pub peer_port: u16,
    pub election_port: u16,
    pub dir: PathBuf,
    /// The process exists (possibly paused).
    pub running: bool,
    /// The process is stopped by SIGSTOP.
    pub paused: bool,
    /// Pid while running.
    pub pid: Option<u32>,
}

/// A Kafka broker (or KRaft node) of the cluster, as seen now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerNode {
    pub id: i32,
    /// Port of the PLAINTEXT listener.
    pub port: u16,
    /// Port of the CONTROLLER listener of a combined KRaft node.
    pub controller_port: Option<u16>,
    pub dir: PathBuf,
    pub running: bool,
    pub paused: bool,
    pub pid: Option<u32>,
    pub rack: Option<String>,
}

/// A running (or stopped) sandbox cluster. See the crate docs.
///
/// A cluster made by [`Cluster::start`] is owned: dropping it kills its processes and removes
/// its directory (kept, and its path printed, when the thread is panicking or after
/// [`Cluster::keep`]). One attached with [`Cluster::open`] is left alone on drop.
///
/// An owned cluster also has a watchdog (a small `sh` loop in its own process group): when the
/// owning process dies without dropping the handle (killed by a test timeout, or a cluster kept
/// in a `static` that is never dropped), it kills the nodes and removes the directory (unless
/// kept) within about a second. [`Cluster::detach`] and [`Cluster::teardown`] end it.
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

/// Reserves `n` distinct free loopback ports, avoiding `taken` and every port this process
/// handed out before.
fn free_ports(n: usize, taken: &BTreeSet<u16>) -> io::Result<Vec<u16>> {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut handed = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let mut listeners = Vec::new();
    let mut ports = Vec::new();
    let mut attempts = 0;
    while ports.len() < n {
        attempts += 1;
        if attempts > n * 50 + 50 {
            return Err(io::Error::other("cannot find free ports on 127.0.0.1"));
        }
        let l = TcpListener::bind("127.0.0.1:0")?;
        let p = l.local_addr()?.port();
        if !taken.contains(&p) && handed.insert(p) {
            ports.push(p);
        }
        listeners.push(l);
    }
    Ok(ports)
}

/// A fresh KRaft cluster id: 16 random bytes, URL-safe base64 without padding.
fn new_cluster_id() -> String {
    loop {
        let mut bytes = [0u8; 16];
        let ok = fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .is_ok();
        if !ok {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let seed = nanos ^ (u128::from(std::process::id()) << 64);
            bytes = seed.to_le_bytes();
        }
        let id = base64url(&bytes);
        if !id.starts_with('-') && !id.starts_with('_') {
            return id;
        }
    }
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Makes (or checks) the cluster directory and returns it absolute.
fn prepare_dir(dir: Option<&Path>) -> io::Result<PathBuf> {
    let dir = match dir {
        None => {
            static SEQ: AtomicU64 = AtomicU64::new(0);
            let base = std::env::temp_dir();
            loop {
                let nanos = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0);
                let seq = SEQ.fetch_add(1, Ordering::Relaxed);
                let d = base.join(format!(
                    "kafsh-sandbox-{}-{nanos:x}-{seq}",
                    std::process::id()
                ));
                match fs::create_dir(&d) {
                    Ok(()) => break d,
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(e) => {
                        return Err(io::Error::new(
                            e.kind(),
                            format!("cannot create {}: {e}", d.display()),
                        ))
                    }
                }
            }
        }
        Some(d) => {
            if d.join(STATE_FILE).exists() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} already holds a sandbox cluster: attach with Cluster::open, or remove it (kafsh-sandbox down --dir {})",
                        d.display(),
                        d.display()
                    ),
                ));
            }
            fs::create_dir_all(d).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot create {}: {e}", d.display()))
            })?;
            if fs::read_dir(d)?.next().is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} is not empty", d.display()),
                ));
            }
            d.to_path_buf()
        }
    };
    dir.canonicalize()
}

/// The watchdog of an owned cluster: when the owning process dies without tearing the cluster
/// down (killed, or a `static` cluster that is never dropped), it kills the nodes and removes
/// the directory (unless `keep` exists). It quits once `owner` no longer names the owner.
const WATCHDOG: &str = r#"
dir=$1; owner=$2
while [ "$(cat "$dir/owner" 2>/dev/null)" = "$owner" ]; do
  if ! kill -0 "$owner" 2>/dev/null; then
    for p in $(cat "$dir/pids" 2>/dev/null); do
      if tr '\0' '\n' < "/proc/$p/cmdline" 2>/dev/null | grep -qF -- "-Dkafsh.sandbox.node=$dir/"; then
        kill -9 "$p" 2>/dev/null
      fi
    done
    if [ ! -e "$dir/keep" ] && [ -f "$dir/sandbox.json" ]; then rm -rf -- "$dir"; fi
    exit 0
  fi
  sleep 1
done
"#;

impl Cluster {
    // ----- creation -------------------------------------------------------------------------

    /// Starts a new cluster and returns once every node serves: each ZooKeeper server answers
    /// `srvr` with a mode and there is a leader; each broker logged that it started, answers a
    /// Metadata request and every broker lists every broker. Fails after
    /// `$KAFSH_SANDBOX_TIMEOUT_SECS` (default 120 s) with an error naming the node and its logs;
    /// the directory is then kept for those logs.
    pub fn start(spec: ClusterSpec) -> io::Result<Cluster> {
        spec.validate()?;
        let jars_dir = jars::ensure(spec.flavor)?;
        let dir = prepare_dir(spec.dir.as_deref())?;
        let mut state = State::new(spec.flavor, jars_dir);
        let n_zk = if spec.flavor == Flavor::ZooKeeper {
            spec.zk_servers
        } else {
            0
        };
        let controllers = if spec.flavor == Flavor::KRaft {
            spec.brokers.min(3)
        } else {
            0
        };
        let secure_ports = if spec.secure { 2 * spec.brokers } else { 0 };
        let mut ports = free_ports(
            n_zk * 3 + spec.brokers + controllers + secure_ports,
            &BTreeSet::new(),
        )?
        .into_iter();
        let mut next_port = || ports.next().ok_or_else(|| io::Error::other("out of ports"));
        for i in 0..n_zk {
            state.zk.push(ZkState {
                id: i as u32 + 1,
                client_port: next_port()?,
                peer_port: next_port()?,
                election_port: next_port()?,
                pid: None,
            });
        }
        for i in 0..spec.brokers {
            state.brokers.push(BrokerState {
                id: i as i32 + 1,
                port: next_port()?,
                controller_port: if i < controllers {
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
                pid: None,
            });
        }
        state.broker_config = spec.broker_config.clone();
        if spec.flavor == Flavor::ZooKeeper {
            state.chroot = spec.chroot.clone();
        } else {
            state.cluster_id = Some(new_cluster_id());
        }
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
        cluster.spawn_watchdog()?;
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

    fn bring_up(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + self.timeout;
        fs::create_dir_all(self.dir.join("tools"))?;
        self.write_tool_configs()?;
        let zk_ids: Vec<u32> = self.state.zk.iter().map(|z| z.id).collect();
        for &id in &zk_ids {
            let servers = self.state.zk.clone();
            self.write_zk_files(id, &servers)?;
        }
        for &id in &zk_ids {
            self.spawn_zk(id)?;
        }
        self.wait_zk(&zk_ids, true, deadline)?;
        let broker_ids: Vec<i32> = self.state.brokers.iter().map(|b| b.id).collect();
        let secure = self.state.brokers.iter().any(|b| b.secure_port.is_some());
        if secure {
            crate::tls::make_certificates(&self.dir.join("tls"))?;
        }
        for &id in &broker_ids {
            self.write_broker_files(id)?;
        }
        if self.state.flavor == Flavor::KRaft {
            self.format_kraft(&broker_ids)?;
        }
        let mut pending = Vec::new();
        for &id in &broker_ids {
            pending.push((id, self.spawn_broker(id, deadline)?));
        }
        self.wait_brokers(&pending, true, deadline)?;
        if secure {
            self.add_scram_user()?;
        }
        Ok(())
    }

    /// Creates the SCRAM credentials of [`crate::SASL_USER`] with Kafka's own ConfigCommand
    /// (through the PLAINTEXT listener).
    fn add_scram_user(&self) -> io::Result<()> {
        let config = format!(
            "SCRAM-SHA-512=[password={p}],SCRAM-SHA-256=[password={p}]",
            p = crate::SASL_PASSWORD
        );
        let out = self.kafka_tool(
            "kafka.admin.ConfigCommand",
            &[
                "--bootstrap-server",
                &self.bootstrap_servers(),
                "--alter",
                "--add-config",
                &config,
                "--entity-type",
                "users",
                "--entity-name",
                crate::SASL_USER,
            ],
        )?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "cannot create the SCRAM user: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
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
        self.dir.join("tls")
    }

    /// Attaches to the cluster described by `<dir>/sandbox.json`. The handle does not own the
    /// cluster: dropping it leaves every process running and the directory in place; an
    /// explicit [`Cluster::teardown`] kills the nodes and removes the directory (unless
    /// [`Cluster::keep`] was called).
    pub fn open(dir: &Path) -> io::Result<Cluster> {
        let dir = dir.canonicalize().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("no sandbox cluster at {}: {e}", dir.display()),
            )
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

    // ----- plain accessors ------------------------------------------------------------------

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn flavor(&self) -> Flavor {
        self.state.flavor
    }

    /// The directory of the jars the cluster runs (classpath `<dir>/*`).
    pub fn jars_dir(&self) -> &Path {
        &self.state.jars_dir
    }

    /// The KRaft cluster id (KRaft flavor only).
    pub fn cluster_id(&self) -> Option<String> {
        self.current().cluster_id
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

    /// `127.0.0.1:a,127.0.0.1:b,...` plus the chroot; `None` for a KRaft cluster.
    pub fn zk_connect(&self) -> Option<String> {
        let st = self.current();
        if st.flavor != Flavor::ZooKeeper {
            return None;
        }
        Some(zk_connect_of(&st))
    }

    /// The ZooKeeper servers, by id.
    pub fn zk_servers(&self) -> Vec<ZkNode> {
        let st = self.current();
        let mut v: Vec<ZkNode> = st.zk.iter().map(|z| self.zk_view(z)).collect();
        v.sort_by_key(|z| z.id);
        v
    }

    /// The Kafka brokers (KRaft: all nodes), by id.
    pub fn brokers(&self) -> Vec<BrokerNode> {
        let st = self.current();
        let mut v: Vec<BrokerNode> = st.brokers.iter().map(|b| self.broker_view(b)).collect();
        v.sort_by_key(|b| b.id);
        v
    }

    pub fn zk_server(&self, id: u32) -> io::Result<ZkNode> {
        Ok(self.zk_view(self.current().zk(id)?))
    }

    pub fn broker(&self, id: i32) -> io::Result<BrokerNode> {
        Ok(self.broker_view(self.current().broker(id)?))
    }

    /// Directory of ZooKeeper server `id`.
    pub fn zk_dir(&self, id: u32) -> PathBuf {
        self.dir.join(format!("zk-{id}"))
    }

    /// Directory of broker `id`.
    pub fn broker_dir(&self, id: i32) -> PathBuf {
        self.dir.join(format!("broker-{id}"))
    }

    fn zk_view(&self, z: &ZkState) -> ZkNode {
        let dir = self.zk_dir(z.id);
        let ps = z
            .pid
            .map_or(ProcState::Gone, |p| process::proc_state(p, &dir));
        ZkNode {
            id: z.id,
            client_port: z.client_port,
            peer_port: z.peer_port,
            election_port: z.election_port,
            running: ps != ProcState::Gone,
            paused: ps == ProcState::Paused,
            pid: z.pid.filter(|_| ps != ProcState::Gone),
            dir,
        }
    }

    fn broker_view(&self, b: &BrokerState) -> BrokerNode {
        let dir = self.broker_dir(b.id);
        let ps = b
            .pid
            .map_or(ProcState::Gone, |p| process::proc_state(p, &dir));
        BrokerNode {
            id: b.id,
            port: b.port,
            controller_port: b.controller_port,
            running: ps != ProcState::Gone,
            paused: ps == ProcState::Paused,
            pid: b.pid.filter(|_| ps != ProcState::Gone),
            rack: b.rack.clone(),
            dir,
        }
    }

    // ----- probes ---------------------------------------------------------------------------

    /// Sends a four-letter word (`srvr`, `stat`, `mntr`, `dump`, `ruok`, ...) to ZooKeeper
    /// server `id`.
    pub fn zk_four_letter(&self, id: u32, cmd: &str) -> io::Result<String> {
        let port = self.current().zk(id)?.client_port;
        probe::zk_four_letter(port, cmd, PROBE_TIMEOUT)
    }

    /// The `Mode:` ZooKeeper server `id` reports (`leader`, `follower`, `standalone`), if it
    /// serves.
    pub fn zk_mode(&self, id: u32) -> Option<String> {
        self.zk_four_letter(id, "srvr")
            .ok()
            .and_then(|s| probe::zk_mode_of(&s))
    }

    /// The id of the server that reports itself `leader` (or `standalone`), if any.
    pub fn zk_leader(&self) -> Option<u32> {
        self.zk_servers()
            .into_iter()
            .filter(|z| z.running && !z.paused)
            .find(|z| {
                matches!(
                    self.zk_mode(z.id).as_deref(),
                    Some("leader") | Some("standalone")
                )
            })
            .map(|z| z.id)
    }

    /// Polls until some server reports itself leader.
    pub fn wait_zk_leader(&self, timeout: Duration) -> io::Result<u32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(id) = self.zk_leader() {
                return Ok(id);
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "no ZooKeeper leader within {}s in {}",
                        timeout.as_secs(),
                        self.dir.display()
                    ),
                ));
            }
            thread::sleep(POLL);
        }
    }

    /// Metadata as broker `id` sees it.
    pub fn broker_metadata(&self, id: i32) -> io::Result<KafkaMetadata> {
        let port = self.current().broker(id)?.port;
        probe::kafka_metadata(port, PROBE_TIMEOUT)
    }

    /// Metadata from the first running, unpaused broker that answers.
    pub fn metadata(&self) -> io::Result<KafkaMetadata> {
        let mut last = io::Error::new(io::ErrorKind::NotConnected, "no broker is running");
        for b in self
            .brokers()
            .into_iter()
            .filter(|b| b.running && !b.paused)
        {
            match probe::kafka_metadata(b.port, PROBE_TIMEOUT) {
                Ok(m) => return Ok(m),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    // ----- tools ----------------------------------------------------------------------------

    /// Runs `java -cp <jars>/* <main_class> <args>` (small heap, warnings-only logging to
    /// stderr), e.g. `org.apache.kafka.tools.TopicCommand --bootstrap-server .. --list`.
    /// Killed after 120 s.
    pub fn kafka_tool(&self, main_class: &str, args: &[&str]) -> io::Result<Output> {
        self.kafka_tool_timeout(main_class, args, TOOL_TIMEOUT)
    }

    /// [`Cluster::kafka_tool`] with its own time limit.
    pub fn kafka_tool_timeout(
        &self,
        main_class: &str,
        args: &[&str],
        timeout: Duration,
    ) -> io::Result<Output> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let cmd = self.tool_command(main_class, &args)?;
        process::output_with_timeout(cmd, timeout)
    }

    /// Runs ZooKeeper's CLI (`org.apache.zookeeper.ZooKeeperMain`) against the ensemble without
    /// the chroot, e.g. `zk_cli(&["ls", "/kafka/brokers/ids"])` (ZooKeeper flavor only).
    pub fn zk_cli(&self, args: &[&str]) -> io::Result<Output> {
        let st = self.current();
        if st.flavor != Flavor::ZooKeeper {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a KRaft cluster has no ZooKeeper",
            ));
        }
        let hosts = zk_hosts_of(&st);
        let mut full = vec!["-server", hosts.as_str()];
        full.extend_from_slice(args);
        self.kafka_tool("org.apache.zookeeper.ZooKeeperMain", &full)
    }

    /// The command [`Cluster::kafka_tool`] runs, for callers that want to run it themselves
    /// (e.g. with inherited stdio).
    pub fn kafka_tool_command(&self, main_class: &str, args: &[String]) -> io::Result<Command> {
        self.tool_command(main_class, args)
    }

    fn tool_command(&self, main_class: &str, args: &[String]) -> io::Result<Command> {
        let tools = self.dir.join("tools");
        if !tools.join("log4j.properties").exists() || !tools.join("log4j2.properties").exists() {
            fs::create_dir_all(&tools)?;
            self.write_tool_configs()?;
        }
        let mut opts = process::base_jvm_opts("256m");
        opts.push(format!(
            "-Dlog4j.configuration=file:{}",
            tools.join("log4j.properties").display()
        ));
        opts.push(format!(
            "-Dlog4j2.configurationFile={}",
            tools.join("log4j2.properties").display()
        ));
        Ok(process::java_command(
            &opts,
            &self.state.jars_dir,
            main_class,
            args,
        ))
    }

    fn write_tool_configs(&self) -> io::Result<()> {
        let tools = self.dir.join("tools");
        fs::write(tools.join("log4j.properties"), config::LOG4J1_TOOLS)?;
        fs::write(tools.join("log4j2.properties"), config::LOG4J2_TOOLS)
    }

    // ----- ZooKeeper nodes ------------------------------------------------------------------

    /// Gracefully stops ZooKeeper server `id` (SIGTERM, then SIGKILL after 30 s).
    pub fn stop_zk(&mut self, id: u32) -> io::Result<()> {
        self.reload()?;
        let pid = self.state.zk(id)?.pid;
        self.end_process(pid, &self.zk_dir(id), true)?;
        self.state.zk_mut(id)?.pid = None;
        self.save()
    }

    /// Kills ZooKeeper server `id` with SIGKILL.
    pub fn kill_zk(&mut self, id: u32) -> io::Result<()> {
        self.reload()?;
        let pid = self.state.zk(id)?.pid;
        self.end_process(pid, &self.zk_dir(id), false)?;
        self.state.zk_mut(id)?.pid = None;
        self.save()
    }

    /// Starts ZooKeeper server `id` (if not running) and waits until it serves (reports a
    /// mode, which needs a quorum).
    pub fn start_zk(&mut self, id: u32) -> io::Result<()> {
        self.start_zks(&[id])
    }

    /// Starts several ZooKeeper servers at once (e.g. to restore a lost quorum) and waits until
    /// all serve.
    pub fn start_zks(&mut self, ids: &[u32]) -> io::Result<()> {
        self.reload()?;
        let deadline = Instant::now() + self.timeout;
        for &id in ids {
            let z = self.zk_view(self.state.zk(id)?);
            if z.paused {
                return Err(paused_error("ZooKeeper server", &id.to_string()));
            }
            if !z.running {
                self.spawn_zk(id)?;
            }
        }
        self.wait_zk(ids, false, deadline)
    }

    /// Starts ZooKeeper server `id` (if not running) without waiting for it to serve, e.g. when
    /// it can only serve once other servers are restarted with a new configuration.
    pub fn start_zk_nowait(&mut self, id: u32) -> io::Result<()> {
        self.reload()?;
        let z = self.zk_view(self.state.zk(id)?);
        if z.running {
            return Ok(());
        }
        self.spawn_zk(id)
    }

    /// Stops (gracefully) and starts ZooKeeper server `id`.
    pub fn restart_zk(&mut self, id: u32) -> io::Result<()> {
        self.stop_zk(id)?;
        self.start_zk(id)
    }

    /// Stops ZooKeeper server `id` with SIGSTOP.
    pub fn pause_zk(&mut self, id: u32) -> io::Result<()> {
        self.reload()?;
        let z = self.zk_view(self.state.zk(id)?);
        signal_node(z.pid, process::SIGSTOP, "ZooKeeper server", id)
    }

    /// Continues a paused ZooKeeper server with SIGCONT.
    pub fn resume_zk(&mut self, id: u32) -> io::Result<()> {
        self.reload()?;
        let z = self.zk_view(self.state.zk(id)?);
        signal_node(z.pid, process::SIGCONT, "ZooKeeper server", id)
    }

    /// Adds a ZooKeeper server (id `id`, or the highest id + 1): directory, ports, `myid`, and a
    /// `zoo.cfg` listing the current servers plus itself. It is not started (see
    /// [`Cluster::start_zk`]), and the other servers' configs are not changed (see
    /// [`Cluster::write_zk_config`]).
    pub fn add_zk(&mut self, id: Option<u32>) -> io::Result<ZkNode> {
        self.reload()?;
        if self.state.flavor != Flavor::ZooKeeper {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a KRaft cluster has no ZooKeeper",
            ));
        }
        let id = match id {
            Some(id) => {
                if id == 0 || self.state.zk.iter().any(|z| z.id == id) {
                    return Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("ZooKeeper server id {id} is taken or invalid"),
                    ));
                }
                id
            }
            None => self.state.zk.iter().map(|z| z.id).max().unwrap_or(0) + 1,
        };
        let ports = free_ports(3, &self.used_ports())?;
        self.state.zk.push(ZkState {
            id,
            client_port: ports[0],
            peer_port: ports[1],
            election_port: ports[2],
            pid: None,
        });
        let servers = self.state.zk.clone();
        self.write_zk_files(id, &servers)?;
        self.save()?;
        self.zk_server(id)
    }

    /// Rewrites the `zoo.cfg` of ZooKeeper server `id` to list exactly `servers` (static
    /// configuration; takes effect when the server next starts).
    pub fn write_zk_config(&mut self, id: u32, servers: &[ZkNode]) -> io::Result<()> {
        self.reload()?;
        let me = self.state.zk(id)?.clone();
        let servers: Vec<ZkState> = servers
            .iter()
            .map(|z| ZkState {
                id: z.id,
                client_port: z.client_port,
                peer_port: z.peer_port,
                election_port: z.election_port,
                pid: None,
            })
            .collect();
        let cfg = config::zoo_cfg(&me, &self.zk_dir(id), &servers);
        fs::write(self.zk_dir(id).join("zoo.cfg"), cfg)
    }

    fn write_zk_files(&self, id: u32, servers: &[ZkState]) -> io::Result<()> {
        let nd = self.zk_dir(id);
        fs::create_dir_all(nd.join("data"))?;
        let me = self.state.zk(id)?;
        fs::write(nd.join("data").join("myid"), format!("{id}\n"))?;
        fs::write(nd.join("zoo.cfg"), config::zoo_cfg(me, &nd, servers))?;
        fs::write(nd.join("log4j.properties"), config::log4j1_server(&nd))
    }

    fn spawn_zk(&mut self, id: u32) -> io::Result<()> {
        let nd = self.zk_dir(id);
        if !nd.join("log4j.properties").exists() {
            fs::write(nd.join("log4j.properties"), config::log4j1_server(&nd))?;
        }
        let mut opts = process::base_jvm_opts("128m");
        opts.push(process::marker(&nd));
        opts.push(format!(
            "-Dlog4j.configuration=file:{}",
            nd.join("log4j.properties").display()
        ));
        opts.push("-Dzookeeper.admin.enableServer=false".into());
        opts.push("-Dzookeeper.jmx.log4j.disable=true".into());
        let args = vec![nd.join("zoo.cfg").display().to_string()];
        let cmd = process::java_command(
            &opts,
            &self.state.jars_dir,
            "org.apache.zookeeper.server.quorum.QuorumPeerMain",
            &args,
        );
        let child = process::spawn_detached(cmd, &nd)?;
        let pid = child.id();
        self.children.insert(pid, child);
        self.state.zk_mut(id)?.pid = Some(pid);
        self.save()
    }

    /// Waits until every server in `ids` reports a mode and, with `need_leader`, one of the
    /// running servers is leader.
    fn wait_zk(&self, ids: &[u32], need_leader: bool, deadline: Instant) -> io::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        loop {
            let mut pending = None;
            for &id in ids {
                let z = self.zk_view(self.state.zk(id)?);
                if !z.running {
                    return Err(self.node_error(
                        &format!("ZooKeeper server {id}"),
                        &z.dir,
                        "exited while starting",
                        io::ErrorKind::Other,
                    ));
                }
                if probe::zk_four_letter(z.client_port, "srvr", PROBE_TIMEOUT)
                    .ok()
                    .and_then(|s| probe::zk_mode_of(&s))
                    .is_none()
                {
                    pending.get_or_insert(id);
                }
            }
            if pending.is_none() && (!need_leader || self.zk_leader().is_some()) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let id = pending.unwrap_or(ids[0]); // ids is not empty
                let what = if pending.is_some() {
                    "is not serving"
                } else {
                    "is serving but the ensemble has no leader"
                };
                return Err(self.node_error(
                    &format!("ZooKeeper server {id}"),
                    &self.zk_dir(id),
                    &format!("{what} after {}s", self.timeout.as_secs()),
                    io::ErrorKind::TimedOut,
                ));
            }
            thread::sleep(POLL);
        }
    }

    // ----- brokers --------------------------------------------------------------------------

    /// Gracefully stops broker `id` (SIGTERM, controlled shutdown, SIGKILL after 30 s).
    pub fn stop_broker(&mut self, id: i32) -> io::Result<()> {
        self.reload()?;
        let pid = self.state.broker(id)?.pid;
        self.end_process(pid, &self.broker_dir(id), true)?;
        self.state.broker_mut(id)?.pid = None;
        self.save()
    }

    /// Kills broker `id` with SIGKILL.
    pub fn kill_broker(&mut self, id: i32) -> io::Result<()> {
        self.reload()?;
        let pid = self.state.broker(id)?.pid;
        self.end_process(pid, &self.broker_dir(id), false)?;
        self.state.broker_mut(id)?.pid = None;
        self.save()
    }

    /// Starts broker `id` (if not running) and waits until it serves and lists itself.
    pub fn start_broker(&mut self, id: i32) -> io::Result<()> {
        self.start_brokers(&[id])
    }

    /// Starts several brokers at once and waits until all serve.
    pub fn start_brokers(&mut self, ids: &[i32]) -> io::Result<()> {
        self.reload()?;
        let deadline = Instant::now() + self.timeout;
        let mut pending = Vec::new();
        for &id in ids {
            let b = self.broker_view(self.state.broker(id)?);
            if b.paused {
                return Err(paused_error("broker", &id.to_string()));
            }
            if b.running {
                pending.push((id, 0));
            } else {
                pending.push((id, self.spawn_broker(id, deadline)?));
            }
        }
        self.wait_brokers(&pending, false, deadline)
    }

    /// Starts broker `id` (if not running) without waiting for it to serve.
    pub fn start_broker_nowait(&mut self, id: i32) -> io::Result<()> {
        self.reload()?;
        let b = self.broker_view(self.state.broker(id)?);
        if b.running {
            return Ok(());
        }
        let deadline = Instant::now() + self.timeout;
        self.spawn_broker(id, deadline).map(|_| ())
    }

    /// Stops (gracefully) and starts broker `id`.
    pub fn restart_broker(&mut self, id: i32) -> io::Result<()> {
        self.stop_broker(id)?;
        self.start_broker(id)
    }

    /// Stops broker `id` with SIGSTOP (it hangs: connections open, nothing answers).
    pub fn pause_broker(&mut self, id: i32) -> io::Result<()> {
        self.reload()?;
        let b = self.broker_view(self.state.broker(id)?);
        signal_node(b.pid, process::SIGSTOP, "broker", id)
    }

    /// Continues a paused broker with SIGCONT.
    pub fn resume_broker(&mut self, id: i32) -> io::Result<()> {
        self.reload()?;
        let b = self.broker_view(self.state.broker(id)?);
        signal_node(b.pid, process::SIGCONT, "broker", id)
    }

    /// Adds a broker (KRaft: a broker-only node) with id = highest id + 1, starts it and waits
    /// until every running broker lists it. Returns its id.
    pub fn add_broker(&mut self, rack: Option<&str>) -> io::Result<i32> {
        self.reload()?;
        if self.state.flavor == Flavor::ZooKeeper && self.state.zk.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this cluster has no ZooKeeper for a broker",
            ));
        }
        let id = self.state.brokers.iter().map(|b| b.id).max().unwrap_or(0) + 1;
        let secure = self.state.brokers.iter().any(|b| b.secure_port.is_some());
        let ports = free_ports(if secure { 3 } else { 1 }, &self.used_ports())?;
        self.state.brokers.push(BrokerState {
            id,
            port: ports[0],
            controller_port: None,
            secure_port: ports.get(1).copied(),
            mtls_port: ports.get(2).copied(),
            rack: rack.map(str::to_string),
            pid: None,
        });
        self.save()?;
        self.write_broker_files(id)?;
        if self.state.flavor == Flavor::KRaft {
            self.format_kraft(&[id])?;
        }
        let deadline = Instant::now() + self.timeout;
        let offset = self.spawn_broker(id, deadline)?;
        self.wait_brokers(&[(id, offset)], true, deadline)?;
        Ok(id)
    }

    fn write_broker_files(&self, id: i32) -> io::Result<()> {
        let nd = self.broker_dir(id);
        fs::create_dir_all(nd.join("data"))?;
        let b = self.state.broker(id)?;
        let mut props = match self.state.flavor {
            Flavor::ZooKeeper => config::kafka_zk_properties(
                b,
                &nd,
                &zk_connect_of(&self.state),
                self.state.broker_count(),
            ),
            Flavor::KRaft => config::kafka_kraft_properties(b, &nd, &self.state),
        };
        for (key, value) in &self.state.broker_config {
            props.push_str(&format!("{key}={value}\n"));
        }
        fs::write(nd.join("server.properties"), props)?;
        self.write_broker_log_config(id)
    }

    fn write_broker_log_config(&self, id: i32) -> io::Result<()> {
        let nd = self.broker_dir(id);
        match self.state.flavor {
            Flavor::ZooKeeper => fs::write(nd.join("log4j.properties"), config::log4j1_server(&nd)),
            Flavor::KRaft => fs::write(nd.join("log4j2.properties"), config::log4j2_server(&nd)),
        }
    }

    /// Formats the storage of KRaft nodes `ids` (in parallel).
    fn format_kraft(&self, ids: &[i32]) -> io::Result<()> {
        let cluster_id = self
            .state
            .cluster_id
            .clone()
            .ok_or_else(|| io::Error::other("KRaft cluster without a cluster id"))?;
        let mut cmds = Vec::new();
        for &id in ids {
            let props = self.broker_dir(id).join("server.properties");
            let args = vec![
                "format".to_string(),
                "-t".to_string(),
                cluster_id.clone(),
                "-c".to_string(),
                props.display().to_string(),
            ];
            cmds.push((id, self.tool_command("kafka.tools.StorageTool", &args)?));
        }
        let results: Vec<(i32, io::Result<Output>)> = thread::scope(|s| {
            let handles: Vec<_> = cmds
                .into_iter()
                .map(|(id, cmd)| {
                    s.spawn(move || (id, process::output_with_timeout(cmd, TOOL_TIMEOUT)))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| (0, Err(io::Error::other("format thread panicked"))))
                })
                .collect()
        });
        for (id, r) in results {
            let out = r.map_err(|e| {
                io::Error::new(e.kind(), format!("formatting KRaft node {id}: {e}"))
            })?;
            if !out.status.success() {
                return Err(io::Error::other(format!(
                    "formatting KRaft node {id} failed ({}):\n{}{}",
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
        }
        Ok(())
    }

    /// Starts the JVM of broker `id`; returns the length of its `server.log` before the start.
    fn spawn_broker(&mut self, id: i32, deadline: Instant) -> io::Result<u64> {
        if self.state.flavor == Flavor::ZooKeeper {
            self.wait_unregistered(id, deadline);
        }
        let nd = self.broker_dir(id);
        let mut opts = process::base_jvm_opts("256m");
        opts.push(process::marker(&nd));
        opts.push(format!("-Dkafka.logs.dir={}", nd.display()));
        match self.state.flavor {
            Flavor::ZooKeeper => {
                if !nd.join("log4j.properties").exists() {
                    self.write_broker_log_config(id)?;
                }
                opts.push(format!(
                    "-Dlog4j.configuration=file:{}",
                    nd.join("log4j.properties").display()
                ));
                opts.push("-Dzookeeper.jmx.log4j.disable=true".into());
            }
            Flavor::KRaft => {
                if !nd.join("log4j2.properties").exists() {
                    self.write_broker_log_config(id)?;
                }
                opts.push(format!(
                    "-Dlog4j2.configurationFile={}",
                    nd.join("log4j2.properties").display()
                ));
            }
        }
        let offset = process::file_len(&nd.join("server.log"));
        let args = vec![nd.join("server.properties").display().to_string()];
        let cmd = process::java_command(&opts, &self.state.jars_dir, "kafka.Kafka", &args);
        let child = process::spawn_detached(cmd, &nd)?;
        let pid = child.id();
        self.children.insert(pid, child);
        self.state.broker_mut(id)?.pid = Some(pid);
        self.save()?;
        Ok(offset)
    }

    /// ZooKeeper mode: a broker that was killed keeps its `/brokers/ids/<id>` registration until
    /// its session expires, and a new broker with that id fails to start meanwhile. Waits (at
    /// most a session timeout) until no server's `dump` lists it.
    fn wait_unregistered(&self, id: i32, deadline: Instant) {
        let path = format!(
            "{}/brokers/ids/{id}",
            self.state.chroot.as_deref().unwrap_or("")
        );
        let until = deadline
            .min(Instant::now() + Duration::from_millis(config::KAFKA_ZK_SESSION_MS + 5_000));
        loop {
            let registered = self.state.zk.iter().any(|z| {
                probe::zk_four_letter(z.client_port, "dump", PROBE_TIMEOUT)
                    .map(|d| d.lines().any(|l| l.trim() == path))
                    .unwrap_or(false)
            });
            if !registered || Instant::now() >= until {
                return;
            }
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits until each `(id, log offset)` broker has logged that it started (after the
    /// offset), answers Metadata and lists itself; with `all_visible`, also until every running
    /// unpaused broker lists every such broker.
    fn wait_brokers(
        &self,
        pending: &[(i32, u64)],
        all_visible: bool,
        deadline: Instant,
    ) -> io::Result<()> {
        let mut waiting: Vec<(i32, u64)> = pending.to_vec();
        loop {
            let mut still = Vec::new();
            for &(id, offset) in &waiting {
                let b = self.broker_view(self.state.broker(id)?);
                if !b.running {
                    return Err(self.node_error(
                        &format!("broker {id}"),
                        &b.dir,
                        "exited while starting",
                        io::ErrorKind::Other,
                    ));
                }
                let log = process::read_from(&b.dir.join("server.log"), offset);
                let started = log.contains("Kafka Server started")
                    || log.contains("started (kafka.server.KafkaServer)");
                let lists_itself = started
                    && !b.paused
                    && probe::kafka_metadata(b.port, PROBE_TIMEOUT)
                        .map(|m| m.brokers.iter().any(|x| x.id == id))
                        .unwrap_or(false);
                if !lists_itself {
                    still.push((id, offset));
                }
            }
            waiting = still;
            let mut missing = None;
            if waiting.is_empty() && all_visible {
                let live: Vec<BrokerNode> = self
                    .brokers()
                    .into_iter()
                    .filter(|b| b.running && !b.paused)
                    .collect();
                let ids: BTreeSet<i32> = live.iter().map(|b| b.id).collect();
                for b in &live {
                    let seen: BTreeSet<i32> = probe::kafka_metadata(b.port, PROBE_TIMEOUT)
                        .map(|m| m.brokers.iter().map(|x| x.id).collect())
                        .unwrap_or_default();
                    if let Some(not_seen) = ids.iter().find(|i| !seen.contains(i)) {
                        missing = Some((b.id, *not_seen));
                        break;
                    }
                }
            }
            if waiting.is_empty() && missing.is_none() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let secs = self.timeout.as_secs();
                return Err(match (waiting.first(), missing) {
                    (Some(&(id, _)), _) => self.node_error(
                        &format!("broker {id}"),
                        &self.broker_dir(id),
                        &format!("is not serving after {secs}s"),
                        io::ErrorKind::TimedOut,
                    ),
                    (None, Some((at, id))) => self.node_error(
                        &format!("broker {at}"),
                        &self.broker_dir(at),
                        &format!("still does not list broker {id} after {secs}s"),
                        io::ErrorKind::TimedOut,
                    ),
                    (None, None) => io::Error::other("unreachable"),
                });
            }
            thread::sleep(POLL);
        }
    }

    // ----- whole cluster --------------------------------------------------------------------

    /// Starts every node that is not running (ZooKeeper servers first) and waits until all
    /// serve.
    pub fn start_all(&mut self) -> io::Result<()> {
        self.reload()?;
        let deadline = Instant::now() + self.timeout;
        let zk_ids: Vec<u32> = self.state.zk.iter().map(|z| z.id).collect();
        for &id in &zk_ids {
            if !self.zk_view(self.state.zk(id)?).running {
                self.spawn_zk(id)?;
            }
        }
        self.wait_zk(&zk_ids, true, deadline)?;
        let broker_ids: Vec<i32> = self.state.brokers.iter().map(|b| b.id).collect();
        let mut pending = Vec::new();
        for &id in &broker_ids {
            if self.broker_view(self.state.broker(id)?).running {
                pending.push((id, 0));
            } else {
                pending.push((id, self.spawn_broker(id, deadline)?));
            }
        }
        self.wait_brokers(&pending, true, deadline)
    }

    /// Gracefully stops every node (brokers first, all at once, SIGKILL after 10 s: a KRaft
    /// node can hang in controlled shutdown once the controller quorum is gone); the directory
    /// stays.
    pub fn stop_all(&mut self) -> io::Result<()> {
        self.reload()?;
        let brokers: Vec<(Option<u32>, PathBuf)> = self
            .state
            .brokers
            .iter()
            .map(|b| (b.pid, self.broker_dir(b.id)))
            .collect();
        self.end_many(&brokers, STOP_ALL_GRACE)?;
        for b in &mut self.state.brokers {
            b.pid = None;
        }
        self.save()?;
        let zks: Vec<(Option<u32>, PathBuf)> = self
            .state
            .zk
            .iter()
            .map(|z| (z.pid, self.zk_dir(z.id)))
            .collect();
        self.end_many(&zks, STOP_ALL_GRACE)?;
        for z in &mut self.state.zk {
            z.pid = None;
        }
        self.save()
    }

    /// SIGTERM to every process, then SIGKILL to those still there after `grace`.
    fn end_many(&mut self, victims: &[(Option<u32>, PathBuf)], grace: Duration) -> io::Result<()> {
        let live: Vec<(u32, &Path)> = victims
            .iter()
            .filter_map(|(pid, dir)| pid.map(|p| (p, dir.as_path())))
            .filter(|(pid, dir)| process::proc_state(*pid, dir) != ProcState::Gone)
            .collect();
        for &(pid, dir) in &live {
            let paused = process::proc_state(pid, dir) == ProcState::Paused;
            let _ = process::signal(pid, process::SIGTERM);
            if paused {
                let _ = process::signal(pid, process::SIGCONT);
            }
        }
        let deadline = Instant::now() + grace;
        for &(pid, dir) in &live {
            let left = deadline.saturating_duration_since(Instant::now());
            if !process::wait_gone(pid, dir, left) {
                let _ = process::signal(pid, process::SIGKILL);
                if !process::wait_gone(pid, dir, Duration::from_secs(10)) {
                    return Err(io::Error::other(format!(
                        "process {pid} of {} did not die",
                        dir.display()
                    )));
                }
            }
            if let Some(mut child) = self.children.remove(&pid) {
                let _ = child.wait();
            }
        }
        Ok(())
    }

    /// Keeps the directory when the cluster is dropped or torn down.
    pub fn keep(&mut self) {
        self.keep = true;
        let _ = fs::write(self.dir.join("keep"), b"");
    }

    /// Gives up ownership: the processes keep running after this handle is dropped (and after
    /// this process exits), and the directory stays. Used by `kafsh-sandbox up`.
    pub fn detach(&mut self) {
        self.owned = false;
        self.keep = true;
        self.stop_watchdog();
    }

    /// Kills every node of the cluster (SIGKILL) and removes the directory unless kept. Works on
    /// an attached cluster too (`kafsh-sandbox down`).
    pub fn teardown(&mut self) {
        let _ = self.reload();
        let mut victims = Vec::new();
        for z in self.state.zk.clone() {
            victims.push((z.pid, self.zk_dir(z.id)));
        }
        for b in self.state.brokers.clone() {
            victims.push((b.pid, self.broker_dir(b.id)));
        }
        for (pid, dir) in &victims {
            if let Some(pid) = *pid {
                if process::proc_state(pid, dir) != ProcState::Gone {
                    let _ = process::signal(pid, process::SIGKILL);
                }
            }
        }
        for (pid, dir) in &victims {
            if let Some(pid) = *pid {
                process::wait_gone(pid, dir, Duration::from_secs(10));
            }
        }
        for (_, mut child) in self.children.drain() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for z in &mut self.state.zk {
            z.pid = None;
        }
        for b in &mut self.state.brokers {
            b.pid = None;
        }
        self.stop_watchdog();
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
    fn reload(&mut self) -> io::Result<()> {
        self.state = State::load(&self.dir)?;
        Ok(())
    }

    /// The freshest state: the file when readable, else what this handle knows.
    fn current(&self) -> State {
        State::load(&self.dir).unwrap_or_else(|_| self.state.clone())
    }

    fn save(&self) -> io::Result<()> {
        self.state.save(&self.dir)
    }

    fn used_ports(&self) -> BTreeSet<u16> {
        let mut s = BTreeSet::new();
        for z in &self.state.zk {
            s.extend([z.client_port, z.peer_port, z.election_port]);
        }
        for b in &self.state.brokers {
            s.insert(b.port);
            s.extend(b.controller_port);
            s.extend(b.secure_port);
            s.extend(b.mtls_port);
        }
        s
    }

    /// Ends the process `pid` of the node in `dir`: SIGTERM and a bounded wait (then SIGKILL)
    /// when `graceful`, else SIGKILL.
    fn end_process(&mut self, pid: Option<u32>, dir: &Path, graceful: bool) -> io::Result<()> {
        let Some(pid) = pid else { return Ok(()) };
        let ps = process::proc_state(pid, dir);
        if ps != ProcState::Gone {
            let mut gone = false;
            if graceful {
                process::signal(pid, process::SIGTERM)?;
                if ps == ProcState::Paused {
                    let _ = process::signal(pid, process::SIGCONT);
                }
                gone = process::wait_gone(pid, dir, STOP_GRACE);
            }
            if !gone {
                let _ = process::signal(pid, process::SIGKILL);
                if !process::wait_gone(pid, dir, Duration::from_secs(10)) {
                    return Err(io::Error::other(format!(
                        "process {pid} of {} did not die",
                        dir.display()
                    )));
                }
            }
        }
        if let Some(mut child) = self.children.remove(&pid) {
            let _ = child.wait();
        }
        Ok(())
    }

    fn spawn_watchdog(&mut self) -> io::Result<()> {
        let me = std::process::id().to_string();
        fs::write(self.dir.join("owner"), &me)?;
        let child = Command::new("/bin/sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("kafsh-sandbox-watchdog")
            .arg(&self.dir)
            .arg(&me)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        self.watchdog = Some(child);
        Ok(())
    }

    fn stop_watchdog(&mut self) {
        let _ = fs::remove_file(self.dir.join("owner"));
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }

    fn node_error(&self, what: &str, dir: &Path, msg: &str, kind: io::ErrorKind) -> io::Error {
        io::Error::new(
            kind,
            format!(
                "{what} {msg}; see {}/server.log and {}/stdout.log\nlast lines of server.log:\n{}last lines of stdout.log:\n{}",
                dir.display(),
                dir.display(),
                process::tail(&dir.join("server.log"), 15),
                process::tail(&dir.join("stdout.log"), 10),
            ),
        )
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

fn paused_error(what: &str, id: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::WouldBlock,
        format!("{what} {id} is paused; resume it first"),
    )
}

fn signal_node(pid: Option<u32>, sig: i32, what: &str, id: impl fmt::Display) -> io::Result<()> {
    match pid {
        Some(pid) => process::signal(pid, sig),
        None => Err(io::Error::new(
            io::ErrorKind::NotConnected,
            format!("{what} {id} is not running"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_known_values() {
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        let id = new_cluster_id();
        assert_eq!(id.len(), 22);
        assert!(!id.starts_with('-'));
    }

    #[test]
    fn free_ports_are_distinct() {
        let taken: BTreeSet<u16> = BTreeSet::new();
        let p = free_ports(10, &taken).unwrap();
        let set: BTreeSet<u16> = p.iter().copied().collect();
        assert_eq!(set.len(), 10);
        let q = free_ports(5, &set).unwrap();
        assert!(q.iter().all(|x| !set.contains(x)));
    }
}
