//! `kafsh-sandbox`: start, inspect and break a local ZooKeeper/Kafka sandbox cluster from the
//! command line. Every command works on the cluster directory's `sandbox.json`, so the cluster
//! outlives `up` and any later command (or a runbook) can act on it. Run `kafsh-sandbox help`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use kafsh_sandbox::{jars, Cluster, ClusterSpec, Flavor, Format, NewNode, Node, Quorum};

const DIR_HELP: &str = "\
Without --dir, D is $KAFSH_SANDBOX_DIR, else $XDG_STATE_HOME/kafsh/sandbox-KIND (default
~/.local/state/kafsh/sandbox-KIND), KIND from --kind or, when only one exists, the existing one.";

/// kafsh-sandbox: real ZooKeeper and Kafka processes on 127.0.0.1 for trying and testing kafsh
#[derive(Debug, Parser)]
#[command(name = "kafsh-sandbox", arg_required_else_help = true, after_help = DIR_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a cluster and leave it running
    ///
    /// Starts a new cluster in D, or the stopped nodes of the one there, and prints
    /// KAFSH_BOOTSTRAP=... and KAFSH_ZOOKEEPER=... lines.
    Up(UpArgs),
    /// Kill every node and remove the directory.
    Down {
        /// Stop the nodes gracefully and keep the directory, for a later `up`.
        #[arg(long)]
        keep_data: bool,
        #[command(flatten)]
        at: At,
    },
    /// Print the cluster's nodes: state, pid, ports, ZooKeeper mode.
    Status(At),
    /// Print KAFSH_BOOTSTRAP=... and KAFSH_ZOOKEEPER=... lines.
    Env(At),
    /// Print a kafsh context (config.toml section) for this cluster
    ///
    /// Prints [contexts.NAME] with the cluster's addresses and an inventory whose commands
    /// (start, stop, restart; ZooKeeper servers: write_config and write_myid; KRaft nodes:
    /// format) drive this sandbox the way ssh/systemctl drive real servers.
    Context {
        /// The context's name.
        #[arg(default_value = "sandbox")]
        name: String,
        #[command(flatten)]
        at: At,
    },
    /// Start a node and wait until it serves.
    Start {
        #[command(flatten)]
        node: NodeArg,
        /// Do not wait until it serves.
        #[arg(long)]
        no_wait: bool,
        #[command(flatten)]
        at: At,
    },
    /// Stop a node gracefully: SIGTERM, SIGKILL after 30 s.
    Stop(NodeAt),
    /// Kill a node: SIGKILL.
    Kill(NodeAt),
    /// Stop a node gracefully and start it, waiting until it serves again.
    Restart(NodeAt),
    /// Pause a node: SIGSTOP (it hangs: connections open, nothing answers).
    Pause(NodeAt),
    /// Resume a paused node: SIGCONT.
    Resume(NodeAt),
    /// Add a node.
    #[command(subcommand)]
    Add(AddCommand),
    /// Format the storage of a stopped KRaft node
    ///
    /// Runs kafka-storage.sh format on the node unless it is formatted already, and prints
    /// its directory id. Without a flag, as the node was made: no quorum flag for brokers and
    /// static quorums; --standalone or --initial-controllers for the initial controllers of a
    /// dynamic quorum, --no-initial-controllers for controllers added later.
    #[command(group(ArgGroup::new("how").args(["standalone", "initial_controllers", "no_initial_controllers"])))]
    Format {
        #[command(flatten)]
        node: NodeArg,
        /// A single-controller dynamic quorum of this node.
        #[arg(long)]
        standalone: bool,
        /// The dynamic quorum of the cluster's initial controllers.
        #[arg(long)]
        initial_controllers: bool,
        /// No voters: the node joins an existing dynamic quorum as an observer.
        #[arg(long)]
        no_initial_controllers: bool,
        /// The cluster id to format with (a ZooKeeper-mode cluster's migration controllers:
        /// the id in ZooKeeper's /cluster/id); default: the sandbox's own.
        #[arg(long, value_name = "ID", allow_hyphen_values = true)]
        cluster_id: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// Install another Kafka version on a node (effective at its next start)
    ///
    /// The node runs the jars of that version (and their logging config) from its next start,
    /// as after installing a package; restart it to upgrade.
    Upgrade {
        #[command(flatten)]
        node: NodeArg,
        /// The Kafka version: 4 (4.4, the KRaft jars) or 3.9.
        #[arg(long, value_name = "VERSION", default_value = "4")]
        to: KafkaVersion,
        #[command(flatten)]
        at: At,
    },
    /// Print a node's configuration file, or replace it with stdin (--write)
    ///
    /// A Kafka node's server.properties (a ZooKeeper server's zoo.cfg is printed only;
    /// zk-servers rewrites it). The new file takes effect when the node next starts.
    Config {
        #[command(flatten)]
        node: NodeArg,
        /// Replace the file with what stdin holds.
        #[arg(long)]
        write: bool,
        #[command(flatten)]
        at: At,
    },
    /// Rewrite the server list of a ZooKeeper server's zoo.cfg
    ///
    /// Rewrites the zoo.cfg of ZooKeeper server ID (with dynamic reconfiguration: its
    /// zoo.cfg.dynamic) to list the servers SERVER_IDS; it takes effect when ID next
    /// (re)starts.
    ZkServers {
        /// The ZooKeeper server whose zoo.cfg is rewritten.
        id: u32,
        /// The servers to list, e.g. 1,2,3,4 (each with the role it was made with), or - to
        /// take them from the server.N= lines of a zoo.cfg on stdin (`:observer` after the
        /// election port makes an observer).
        server_ids: String,
        #[command(flatten)]
        at: At,
    },
    /// Give a stopped ZooKeeper server a new host
    ///
    /// As a replacement machine for a dead server: new ports (a new address), an empty data
    /// directory without myid, no zoo.cfg. Prints its new ports.
    Rehost {
        /// The ZooKeeper server's id.
        id: u32,
        #[command(flatten)]
        at: At,
    },
    /// Run a Kafka/ZooKeeper command-line class with the cluster's jars
    ///
    /// E.g. `tool org.apache.kafka.tools.TopicCommand --bootstrap-server @bootstrap --list`.
    /// The arguments @bootstrap, @bootstrap-controller and @zk are replaced by the cluster's
    /// addresses.
    Tool {
        #[command(flatten)]
        at: At,
        /// The main class and its arguments (options of kafsh-sandbox go before the class).
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "CLASS [ARGS]"
        )]
        command: Vec<String>,
    },
    /// Fetch the jars (with mvn) into the cache and print their directory.
    Jars {
        #[arg(long, default_value = "zookeeper")]
        kind: Flavor,
        /// A Kafka version other than the kind's default, e.g. 2.3.1.
        #[arg(long, value_name = "X.Y.Z")]
        version: Option<String>,
    },
}

#[derive(Debug, Args)]
struct UpArgs {
    /// zookeeper or kraft (default: zookeeper; kraft when --controllers or --quorum is given).
    #[arg(long)]
    kind: Option<Flavor>,
    /// The cluster directory (see below).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Number of Kafka brokers (default 3).
    #[arg(long)]
    brokers: Option<usize>,
    /// Number of ZooKeeper servers (zookeeper only; default 3).
    #[arg(long)]
    zk: Option<usize>,
    /// KRaft: controller-only nodes (ids from 101) instead of combined broker+controller
    /// nodes.
    #[arg(long)]
    controllers: Option<usize>,
    /// KRaft: static (controller.quorum.voters) or dynamic (KIP-853) controller quorum
    /// (default static).
    #[arg(long)]
    quorum: Option<Quorum>,
    /// The brokers' ZooKeeper chroot, or none (default /kafka).
    #[arg(long, value_name = "/path|none")]
    chroot: Option<String>,
    /// broker.rack of each broker, in id order.
    #[arg(long, value_delimiter = ',', value_name = "r1,r2,...")]
    racks: Option<Vec<String>>,
    /// ACLs authorize requests (AclAuthorizer / StandardAuthorizer); adds SASL_SSL and
    /// mutual-TLS listeners, super user alice and user bob without rights.
    #[arg(long)]
    authorizer: bool,
    /// ZooKeeper dynamic reconfiguration: reconfigEnabled=true, a dynamic config file, and
    /// a super user allowed to reconfig (the context's zookeeper_auth).
    #[arg(long)]
    zk_reconfig: bool,
    /// The Kafka version, e.g. 2.8.2 (jars fetched from Maven Central and cached; ZooKeeper
    /// mode 2.3 to 3.9, KRaft 3.3 and later; default 3.9.2 for zookeeper, 4.4.0 for kraft).
    #[arg(long, value_name = "X.Y.Z")]
    version: Option<String>,
    /// Log dirs of every broker (JBOD: `data`, `data-2`, ... in the node's directory;
    /// default 1), for trying plan_log_dirs and moves between disks.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=8))]
    log_dirs: Option<u8>,
}

/// Which existing cluster.
#[derive(Debug, Args)]
struct At {
    /// The cluster directory.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The kind of cluster to look for when --dir is not given.
    #[arg(long)]
    kind: Option<Flavor>,
}

/// A Kafka version the sandbox has jars for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KafkaVersion {
    #[value(name = "3.9")]
    V39,
    #[value(name = "4")]
    V4,
}

impl KafkaVersion {
    fn flavor(self) -> Flavor {
        match self {
            KafkaVersion::V39 => Flavor::ZooKeeper,
            KafkaVersion::V4 => Flavor::KRaft,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum NodeKind {
    #[value(alias = "zookeeper")]
    Zk,
    Broker,
    Controller,
}

#[derive(Debug, Args)]
struct NodeArg {
    /// What kind of node.
    what: NodeKind,
    /// Its id (ZooKeeper's myid, Kafka's node.id).
    id: u32,
}

impl NodeArg {
    fn node(&self) -> Result<Node, CliError> {
        let kafka_id = || i32::try_from(self.id).map_err(|_| CliError::BadId(self.id));
        Ok(match self.what {
            NodeKind::Zk => Node::Zk(self.id),
            NodeKind::Broker => Node::Broker(kafka_id()?),
            NodeKind::Controller => Node::Controller(kafka_id()?),
        })
    }
}

#[derive(Debug, Args)]
struct NodeAt {
    #[command(flatten)]
    node: NodeArg,
    #[command(flatten)]
    at: At,
}

#[derive(Debug, Subcommand)]
enum AddCommand {
    /// Add a broker, start it and wait until every broker lists it
    ///
    /// On KRaft a broker-only node, formatted.
    Broker {
        /// Its broker.rack.
        #[arg(long)]
        rack: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// Add a ZooKeeper server (started only with --start)
    ///
    /// Its zoo.cfg lists the current servers plus itself; the other servers' configs are left
    /// alone (see zk-servers).
    #[command(alias = "zookeeper")]
    Zk {
        /// Its id (default: the highest + 1).
        #[arg(long)]
        id: Option<u32>,
        /// A non-voting observer.
        #[arg(long)]
        observer: bool,
        /// Start it (and wait until it serves).
        #[arg(long)]
        start: bool,
        #[command(flatten)]
        at: At,
    },
    /// Add a KRaft controller to a dynamic quorum, or a migration controller (started only
    /// with --start)
    ///
    /// KRaft: a controller-only node formatted with --no-initial-controllers: once started it
    /// is an observer of the quorum until it is added as a voter (AddRaftVoter). ZooKeeper
    /// mode: a Kafka 3.9 controller-only node for the migration to KRaft, one voter of a
    /// static quorum of every such controller, neither formatted nor configured for the
    /// migration (the migration runbook does both).
    Controller {
        /// Start it (and wait until it serves, as an observer).
        #[arg(long)]
        start: bool,
        #[command(flatten)]
        at: At,
    },
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Sandbox(#[from] kafsh_sandbox::Error),
    #[error("HOME is not set; pass --dir")]
    NoHome,
    #[error("no sandbox cluster found; start one with `kafsh-sandbox up` or pass --dir")]
    NoCluster,
    #[error("several sandbox clusters exist; pass --kind or --dir")]
    SeveralClusters,
    #[error("{0}")]
    Usage(&'static str),
    #[error("node id {0} is out of Kafka's range")]
    BadId(u32),
    #[error("zk-servers: {0:?} is not a server id")]
    BadServerId(String),
    #[error("zk-servers {0} -: no server.N= lines on stdin")]
    NoServerLines(u32),
    #[error("cannot read stdin: {0}")]
    Stdin(std::io::Error),
    #[error("cannot run java: {0}")]
    Java(std::io::Error),
    #[error("cannot find this program's path: {0}")]
    CurrentExe(std::io::Error),
}

impl CliError {
    fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) | CliError::BadId(_) | CliError::BadServerId(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}

type Result<T, E = CliError> = std::result::Result<T, E>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kafsh-sandbox: {e}");
            e.exit_code()
        }
    }
}

fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Up(args) => up(&args)?,
        Command::Down { keep_data, at } => {
            let mut c = open(&at)?;
            if keep_data {
                c.stop_all()?;
                eprintln!("kafsh-sandbox: stopped every node of {}", c.dir().display());
            } else {
                let dir = c.dir().to_path_buf();
                c.teardown();
                eprintln!("kafsh-sandbox: removed {}", dir.display());
            }
        }
        Command::Status(at) => status(&open(&at)?),
        Command::Env(at) => print!("{}", env_lines(&open(&at)?)),
        Command::Context { name, at } => {
            let me = std::env::current_exe().map_err(CliError::CurrentExe)?;
            print!("{}", context_toml(&open(&at)?, &name, &me));
        }
        Command::Start { node, no_wait, at } => {
            let node = node.node()?;
            node_command("start", node, &at, |c| {
                if no_wait {
                    c.start_node_no_wait(node)
                } else {
                    c.start_node(node)
                }
            })?
        }
        Command::Stop(n) => {
            let node = n.node.node()?;
            node_command("stop", node, &n.at, |c| c.stop(node))?
        }
        Command::Kill(n) => {
            let node = n.node.node()?;
            node_command("kill", node, &n.at, |c| c.kill(node))?
        }
        Command::Restart(n) => {
            let node = n.node.node()?;
            node_command("restart", node, &n.at, |c| c.restart(node))?
        }
        Command::Pause(n) => {
            let node = n.node.node()?;
            node_command("pause", node, &n.at, |c| c.pause(node))?
        }
        Command::Resume(n) => {
            let node = n.node.node()?;
            node_command("resume", node, &n.at, |c| c.resume(node))?
        }
        Command::Add(what) => add(what)?,
        Command::Format {
            node,
            standalone,
            initial_controllers,
            no_initial_controllers,
            cluster_id,
            at,
        } => {
            let how = if standalone {
                Format::Standalone
            } else if initial_controllers {
                Format::InitialControllers
            } else if no_initial_controllers {
                Format::NoInitialControllers
            } else {
                Format::AsMade
            };
            let node = node.node()?;
            node_command("format", node, &at, |c| {
                c.format_with_id(node, how, cluster_id.as_deref())
            })?;
            let directory = match node {
                Node::Controller(id) => open(&at)?.controller(id)?.directory_id,
                Node::Broker(id) => open(&at)?.broker(id)?.directory_id,
                Node::Zk(_) => None,
            };
            if let Some(d) = directory {
                println!("{node} directory {d}");
            }
        }
        Command::Upgrade { node, to, at } => {
            let node = node.node()?;
            node_command("upgrade", node, &at, |c| c.upgrade(node, to.flavor()))?;
        }
        Command::Config { node, write, at } => {
            let node = node.node()?;
            if write {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(CliError::Stdin)?;
                open(&at)?.write_node_config(node, &text)?;
                eprintln!("kafsh-sandbox: wrote the configuration of {node}");
            } else {
                print!("{}", open(&at)?.node_config(node)?);
            }
        }
        Command::ZkServers { id, server_ids, at } => zk_servers(id, &server_ids, &at)?,
        Command::Rehost { id, at } => {
            let mut c = open(&at)?;
            let z = c.rehost_zk(id)?;
            println!(
                "zk {} client 127.0.0.1:{} peer {} election {} (empty, no config)",
                z.id, z.client_port, z.peer_port, z.election_port
            );
        }
        Command::Tool { at, command } => return tool(&at, &command),
        Command::Jars { kind, version } => {
            let mut spec = ClusterSpec::of(kind);
            if let Some(v) = &version {
                spec = spec.version(v);
            }
            spec.validate()?;
            let dir =
                jars::ensure_version(spec.kafka_version()?).map_err(kafsh_sandbox::Error::from)?;
            println!("{}", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn state_home() -> Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("kafsh"));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .ok_or(CliError::NoHome)?;
    Ok(PathBuf::from(home).join(".local/state/kafsh"))
}

fn default_dir(kind: Flavor) -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("KAFSH_SANDBOX_DIR").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    Ok(state_home()?.join(format!("sandbox-{kind}")))
}

/// The directory of the existing cluster `at` names.
fn existing_dir(at: &At) -> Result<PathBuf> {
    if let Some(d) = &at.dir {
        return Ok(d.clone());
    }
    if let Some(k) = at.kind {
        return default_dir(k);
    }
    let found: Vec<PathBuf> = [Flavor::ZooKeeper, Flavor::KRaft]
        .into_iter()
        .filter_map(|k| default_dir(k).ok())
        .filter(|d| d.join("sandbox.json").exists())
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(CliError::NoCluster),
        _ => Err(CliError::SeveralClusters),
    }
}

fn open(at: &At) -> Result<Cluster> {
    Ok(Cluster::open(&existing_dir(at)?)?)
}

fn env_lines(c: &Cluster) -> String {
    let mut s = String::new();
    if !c.brokers().is_empty() {
        s.push_str(&format!("KAFSH_BOOTSTRAP={}\n", c.bootstrap_servers()));
    }
    if let Some(zk) = c.zk_connect() {
        s.push_str(&format!("KAFSH_ZOOKEEPER={zk}\n"));
    }
    s
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The `[contexts.NAME]` section for this cluster; see `kafsh-sandbox help context`.
fn context_toml(c: &Cluster, name: &str, sandbox_bin: &Path) -> String {
    let dir = c.dir().display().to_string();
    let bin = sandbox_bin.display();
    let command = |verb: &str, node: Node, extra: &str| {
        let what = match node {
            Node::Zk(_) => "zk",
            Node::Broker(_) => "broker",
            Node::Controller(_) => "controller",
        };
        toml_str(&format!(
            "{bin} {verb} {what} {}{extra} --dir {dir}",
            node.id()
        ))
    };
    // How the inventory's format command formats a node: in a dynamic quorum a controller
    // (re)joins as an observer, to be added as a voter; otherwise as it was made.
    let rejoin = if c.quorum() == Quorum::Dynamic {
        " --no-initial-controllers"
    } else {
        ""
    };
    let kraft = c.flavor() == Flavor::KRaft;
    // A Kafka node's server.properties, read and replaced the way configuration management
    // would on a real host.
    let config_commands = |node: Node| {
        let mut lines = format!(
            "read_config = {}\nwrite_config = {}\n",
            command("config", node, ""),
            command("config", node, " --write")
        );
        // A ZooKeeper-mode cluster's nodes run 3.9: after the migration they go to 4.
        if !kraft {
            lines.push_str(&format!(
                "upgrade = {}\n",
                command("upgrade", node, " --to 4")
            ));
        }
        lines
    };
    // The migration controllers of a ZooKeeper-mode cluster are formatted with the id
    // ZooKeeper keeps, which the runbook passes in $KAFKA_CLUSTER_ID. That id may start
    // with `-`, hence the `--cluster-id=` form.
    let cluster_id = if kraft {
        ""
    } else {
        " --cluster-id=\"$KAFKA_CLUSTER_ID\""
    };
    let mut s = format!("[contexts.{name}]\n");
    if !c.brokers().is_empty() {
        s.push_str(&format!(
            "bootstrap_servers = {}\n",
            toml_str(&c.bootstrap_servers())
        ));
    }
    if let Some(zk) = c.zk_connect() {
        s.push_str(&format!("zookeeper = {}\n", toml_str(&zk)));
    }
    if c.has_authorizer() {
        // can() and who_can() need them: no Kafka API reveals super.users.
        let supers: Vec<String> = kafsh_sandbox::SUPER_USERS
            .iter()
            .map(|u| toml_str(u))
            .collect();
        s.push_str(&format!("super_users = [{}]\n", supers.join(", ")));
    }
    if c.zk_reconfig() {
        // The super user may reconfigure the ensemble.
        s.push_str(&format!(
            "zookeeper_auth = {}\n",
            toml_str(&format!(
                "{}:{}",
                kafsh_sandbox::ZK_SUPER_USER,
                kafsh_sandbox::ZK_SUPER_PASSWORD
            ))
        ));
    }
    for z in c.zk_servers() {
        let node = z.node();
        s.push_str(&format!(
            "\n[[contexts.{name}.zookeeper_servers]]\nid = {}\nhost = \"127.0.0.1\"\n\
             client_port = {}\npeer_port = {}\nelection_port = {}\n\
             restart = {}\nstart = {}\nstop = {}\nwrite_config = {}\nwrite_myid = {}\n",
            z.id,
            z.client_port,
            z.peer_port,
            z.election_port,
            command("restart", node, ""),
            command("start", node, " --no-wait"),
            command("stop", node, ""),
            toml_str(&format!("{bin} zk-servers {} - --dir {dir}", z.id)),
            toml_str(&format!(
                "cat > {}",
                z.dir.join("data").join("myid").display()
            )),
        ));
        if z.observer {
            s.push_str("role = \"observer\"\n");
        }
    }
    for b in c.brokers() {
        let node = b.node();
        s.push_str(&format!(
            "\n[[contexts.{name}.brokers]]\nid = {}\nhost = \"127.0.0.1\"\n\
             restart = {}\nstart = {}\nstop = {}\n",
            b.id,
            command("restart", node, ""),
            command("start", node, ""),
            command("stop", node, ""),
        ));
        s.push_str(&config_commands(node));
        if kraft {
            let flags = if b.controller_port.is_some() {
                rejoin
            } else {
                ""
            };
            s.push_str(&format!("format = {}\n", command("format", node, flags)));
        }
    }
    for ctl in c.controllers() {
        let node = ctl.node();
        s.push_str(&format!(
            "\n[[contexts.{name}.controllers]]\nid = {}\nhost = \"127.0.0.1\"\nport = {}\n\
             restart = {}\nstart = {}\nstop = {}\nformat = {}\n",
            ctl.id,
            ctl.port,
            command("restart", node, ""),
            command("start", node, ""),
            command("stop", node, ""),
            command("format", node, &format!("{rejoin}{cluster_id}")),
        ));
        s.push_str(&config_commands(node));
    }
    s
}

fn up(args: &UpArgs) -> Result<()> {
    let kind = args
        .kind
        .unwrap_or(if args.controllers.is_some() || args.quorum.is_some() {
            Flavor::KRaft
        } else {
            Flavor::ZooKeeper
        });
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => default_dir(kind)?,
    };
    let t0 = Instant::now();
    let c = if dir.join("sandbox.json").exists() {
        let mut c = Cluster::open(&dir)?;
        eprintln!(
            "kafsh-sandbox: starting the stopped nodes of the {} cluster in {}",
            c.flavor(),
            dir.display()
        );
        c.start_all()?;
        c
    } else {
        let spec = new_spec(args, kind, &dir)?;
        eprintln!(
            "kafsh-sandbox: starting a {kind} cluster in {} (Kafka {})",
            dir.display(),
            spec.kafka_version()?
        );
        let mut c = Cluster::start(spec)?;
        c.detach();
        c
    };
    eprintln!(
        "kafsh-sandbox: up in {:.1}s; logs in {}/*/server.log; stop it with `kafsh-sandbox down --dir {}`",
        t0.elapsed().as_secs_f64(),
        c.dir().display(),
        c.dir().display()
    );
    print!("{}", env_lines(&c));
    Ok(())
}

/// The cluster `up` starts: `kind` in `dir`, as the flags say.
fn new_spec(args: &UpArgs, kind: Flavor, dir: &Path) -> Result<ClusterSpec> {
    let mut spec = ClusterSpec::of(kind).dir(dir);
    if let Some(n) = args.brokers {
        spec = spec.brokers(n);
    }
    if let Some(n) = args.zk {
        if kind == Flavor::KRaft {
            return Err(CliError::Usage("--zk is for --kind zookeeper"));
        }
        spec = spec.zk_servers(n);
    }
    if let Some(n) = args.controllers {
        spec = spec.controllers(n);
    }
    if let Some(q) = args.quorum {
        spec = spec.quorum(q);
    }
    if let Some(c) = &args.chroot {
        spec = spec.chroot(if c == "none" { None } else { Some(c) });
    }
    if let Some(r) = &args.racks {
        spec = spec.racks(r.clone());
    }
    if args.authorizer {
        spec = spec.authorizer();
    }
    if args.zk_reconfig {
        if kind == Flavor::KRaft {
            return Err(CliError::Usage("--zk-reconfig is for --kind zookeeper"));
        }
        spec = spec.zk_reconfig();
    }
    if let Some(v) = &args.version {
        spec = spec.version(v);
    }
    if let Some(n) = args.log_dirs {
        spec = spec.log_dirs(usize::from(n));
    }
    Ok(spec)
}

fn status(c: &Cluster) {
    let quorum = if c.flavor() == Flavor::KRaft {
        format!(", {} quorum", c.quorum())
    } else if c.zk_reconfig() {
        ", dynamic reconfiguration".to_string()
    } else {
        String::new()
    };
    println!(
        "cluster {} ({}{quorum}, Kafka {})",
        c.dir().display(),
        c.flavor(),
        c.kafka_version()
    );
    let state = |running: bool, paused: bool| {
        if paused {
            "paused"
        } else if running {
            "running"
        } else {
            "stopped"
        }
    };
    let pid = |p: Option<u32>| p.map_or("-".into(), |p| p.to_string());
    for z in c.zk_servers() {
        let mode = if z.running && !z.paused {
            c.zk_mode(z.id).unwrap_or_else(|| "not serving".into())
        } else {
            "-".into()
        };
        println!(
            "zk {:<3} {:<8} pid {:<8} client 127.0.0.1:{} peer {} election {} mode {mode}{}",
            z.id,
            state(z.running, z.paused),
            pid(z.pid),
            z.client_port,
            z.peer_port,
            z.election_port,
            if z.observer { " (observer)" } else { "" },
        );
    }
    for ctl in c.controllers() {
        println!(
            "controller {:<3} {:<8} pid {:<8} controller {} directory {}{}",
            ctl.id,
            state(ctl.running, ctl.paused),
            pid(ctl.pid),
            ctl.endpoint(),
            ctl.directory_id.as_deref().unwrap_or("-"),
            if ctl.initial_voter { "" } else { " (added)" },
        );
    }
    for b in c.brokers() {
        let controller = b
            .controller_port
            .map_or(String::new(), |p| format!(" controller 127.0.0.1:{p}"));
        println!(
            "broker {:<3} {:<8} pid {:<8} 127.0.0.1:{}{controller} rack {}",
            b.id,
            state(b.running, b.paused),
            pid(b.pid),
            b.port,
            b.rack.as_deref().unwrap_or("-"),
        );
    }
}

/// Runs `f` on the cluster `at` names and says how long `verb` took.
fn node_command(
    verb: &str,
    node: Node,
    at: &At,
    f: impl FnOnce(&mut Cluster) -> kafsh_sandbox::Result<()>,
) -> Result<()> {
    let mut c = open(at)?;
    let t0 = Instant::now();
    f(&mut c)?;
    eprintln!(
        "kafsh-sandbox: {verb} {node}: done in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

fn add(what: AddCommand) -> Result<()> {
    match what {
        AddCommand::Broker { rack, at } => {
            let mut c = open(&at)?;
            let node = c.add(NewNode::Broker { rack })?;
            c.start_node(node)?;
            let Node::Broker(id) = node else {
                unreachable!("add(Broker) makes a broker")
            };
            println!("broker {id} 127.0.0.1:{}", c.broker(id)?.port);
        }
        AddCommand::Zk {
            id,
            observer,
            start,
            at,
        } => {
            let mut c = open(&at)?;
            let node = c.add(if observer {
                NewNode::ZkObserver { id }
            } else {
                NewNode::Zk { id }
            })?;
            if start {
                c.start_node(node)?;
            }
            let Node::Zk(id) = node else {
                unreachable!("add(Zk) makes a ZooKeeper server")
            };
            let z = c.zk_server(id)?;
            println!(
                "zk {} client 127.0.0.1:{} peer {} election {}{} config {}",
                z.id,
                z.client_port,
                z.peer_port,
                z.election_port,
                if z.observer { " observer" } else { "" },
                z.dir.join("zoo.cfg").display()
            );
        }
        AddCommand::Controller { start, at } => {
            let mut c = open(&at)?;
            let node = c.add(NewNode::Controller)?;
            if start {
                c.start_node(node)?;
            }
            let Node::Controller(id) = node else {
                unreachable!("add(Controller) makes a controller")
            };
            let ctl = c.controller(id)?;
            println!(
                "controller {id} {} directory {}",
                ctl.endpoint(),
                ctl.directory_id.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(())
}

/// The servers of `list` with their roles (true: observer): `1,2,3` (roles as made: `None`),
/// or `-` for the `server.N=` lines of a zoo.cfg on stdin (what a runbook renders), where
/// `:observer` after the ports makes an observer.
fn server_ids(id: u32, list: &str) -> Result<Vec<(u32, Option<bool>)>> {
    if list == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(CliError::Stdin)?;
        return server_lines(id, &text);
    }
    list.split(',')
        .map(|s| {
            s.trim()
                .parse()
                .map(|id| (id, None))
                .map_err(|_| CliError::BadServerId(s.to_string()))
        })
        .collect()
}

/// The ids and roles of the `server.N=host:peer:election[:role][;client]` lines of `text`.
fn server_lines(id: u32, text: &str) -> Result<Vec<(u32, Option<bool>)>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line
            .trim()
            .strip_prefix("server.")
            .and_then(|l| l.split_once('='))
        else {
            continue;
        };
        let sid = key
            .trim()
            .parse()
            .map_err(|_| CliError::BadServerId(key.trim().to_string()))?;
        let spec = value.split(';').next().unwrap_or("");
        let observer = spec.trim().ends_with(":observer");
        out.push((sid, Some(observer)));
    }
    if out.is_empty() {
        return Err(CliError::NoServerLines(id));
    }
    Ok(out)
}

fn zk_servers(id: u32, list: &str, at: &At) -> Result<()> {
    let listed = server_ids(id, list)?;
    let mut c = open(at)?;
    let servers = listed
        .iter()
        .map(|&(sid, observer)| {
            let mut z = c.zk_server(sid)?;
            if let Some(observer) = observer {
                z.observer = observer;
            }
            Ok(z)
        })
        .collect::<kafsh_sandbox::Result<Vec<_>>>()?;
    c.write_zk_config(id, &servers)?;
    let ids: Vec<String> = servers
        .iter()
        .map(|z| format!("{}{}", z.id, if z.observer { " (observer)" } else { "" }))
        .collect();
    eprintln!(
        "kafsh-sandbox: {} now lists servers {}",
        c.node_dir(Node::Zk(id)).join("zoo.cfg").display(),
        ids.join(", ")
    );
    Ok(())
}

fn tool(at: &At, command: &[String]) -> Result<ExitCode> {
    let Some((class, rest)) = command.split_first() else {
        return Err(CliError::Usage(
            "usage: kafsh-sandbox tool [--dir D] CLASS [ARGS...]",
        ));
    };
    let c = open(at)?;
    let bootstrap = c.bootstrap_servers();
    let controllers = c.bootstrap_controllers().unwrap_or_default();
    let zk = c.zk_connect().unwrap_or_default();
    let args: Vec<String> = rest
        .iter()
        .map(|a| match a.as_str() {
            "@bootstrap" => bootstrap.clone(),
            "@bootstrap-controller" => controllers.clone(),
            "@zk" => zk.clone(),
            _ => a.clone(),
        })
        .collect();
    let mut cmd = c.kafka_tool_command(class, &args)?;
    let status = cmd.status().map_err(CliError::Java)?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(n) => ExitCode::from(u8::try_from(n).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("kafsh-sandbox").chain(args.iter().copied()))
            .map(|c| c.command)
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_up_options() {
        let Command::Up(up) = parse(&[
            "up",
            "--kind",
            "kraft",
            "--dir=/x",
            "--brokers",
            "4",
            "--racks",
            "a,b",
            "--controllers",
            "3",
            "--quorum",
            "dynamic",
            "--version",
            "3.9.2",
            "--log-dirs",
            "2",
        ])
        .unwrap() else {
            panic!("not up")
        };
        let spec = new_spec(&up, Flavor::KRaft, Path::new("/x")).unwrap();
        assert_eq!((spec.log_dirs, spec.brokers), (2, 4));
        assert_eq!(spec.racks, Some(vec!["a".to_string(), "b".to_string()]));
        assert!(parse(&["up", "--log-dirs", "0"]).is_err());
        assert!(parse(&["up", "--log-dirs", "9"]).is_err());
        let Command::Up(zk) = parse(&["up", "--zk", "3"]).unwrap() else {
            panic!("not up")
        };
        assert!(new_spec(&zk, Flavor::KRaft, Path::new("/x")).is_err());
        assert_eq!(up.kind, Some(Flavor::KRaft));
        assert_eq!(up.dir, Some(PathBuf::from("/x")));
        assert_eq!(up.brokers, Some(4));
        assert_eq!(up.controllers, Some(3));
        assert_eq!(up.quorum, Some(Quorum::Dynamic));
        assert_eq!(up.version.as_deref(), Some("3.9.2"));
        assert_eq!(up.racks, Some(vec!["a".to_string(), "b".to_string()]));
        assert!(parse(&["up", "--brokers", "x"]).is_err());
        assert!(parse(&["up", "--bogus"]).is_err());
        assert!(parse(&["up", "--dir"]).is_err());
        assert!(parse(&["up", "--quorum", "sometimes"]).is_err());
    }

    #[test]
    fn options_belong_to_their_command() {
        assert!(parse(&["down", "--brokers", "3"]).is_err());
        assert!(parse(&["status", "--keep-data"]).is_err());
        assert!(parse(&["stop", "broker", "1", "--no-wait"]).is_err());
        assert!(parse(&["add", "broker", "--start"]).is_err());
        assert!(parse(&[
            "format",
            "controller",
            "101",
            "--standalone",
            "--no-initial-controllers"
        ])
        .is_err());
    }

    #[test]
    fn tool_passes_arguments_through() {
        let Command::Tool { at, command } = parse(&[
            "tool",
            "--dir",
            "/x",
            "Cls",
            "--bootstrap-server",
            "@bootstrap",
            "--list",
            "--dir",
            "y",
        ])
        .unwrap() else {
            panic!("not tool")
        };
        assert_eq!(at.dir, Some(PathBuf::from("/x")));
        assert_eq!(
            command,
            [
                "Cls",
                "--bootstrap-server",
                "@bootstrap",
                "--list",
                "--dir",
                "y"
            ]
        );
    }

    #[test]
    fn node_commands_name_a_node() {
        let Command::Kill(n) = parse(&["kill", "broker", "2", "--dir", "/x"]).unwrap() else {
            panic!("not kill")
        };
        assert_eq!(n.node.node().unwrap(), Node::Broker(2));
        assert_eq!(n.at.dir, Some(PathBuf::from("/x")));
        let Command::Start { node, no_wait, .. } =
            parse(&["start", "zookeeper", "3", "--no-wait", "--dir", "/x"]).unwrap()
        else {
            panic!("not start")
        };
        assert_eq!((node.node().unwrap(), no_wait), (Node::Zk(3), true));
        let Command::Pause(n) = parse(&["pause", "controller", "101"]).unwrap() else {
            panic!("not pause")
        };
        assert_eq!(n.node.node().unwrap(), Node::Controller(101));
        let Command::Restart(n) = parse(&["restart", "broker", "4000000000"]).unwrap() else {
            panic!("not restart")
        };
        assert!(matches!(n.node.node(), Err(CliError::BadId(_))));
        assert!(parse(&["kill", "kafka", "1"]).is_err());
        assert!(parse(&["kill", "broker"]).is_err());
    }

    #[test]
    fn config_upgrade_and_format_with_a_cluster_id() {
        let Command::Config { node, write, .. } =
            parse(&["config", "broker", "2", "--write", "--dir", "/x"]).unwrap()
        else {
            panic!("not config")
        };
        assert_eq!((node.node().unwrap(), write), (Node::Broker(2), true));
        let Command::Upgrade { node, to, .. } = parse(&["upgrade", "controller", "101"]).unwrap()
        else {
            panic!("not upgrade")
        };
        assert_eq!(node.node().unwrap(), Node::Controller(101));
        assert_eq!(to.flavor(), Flavor::KRaft);
        assert!(matches!(
            parse(&["upgrade", "broker", "1", "--to", "3.9"]).unwrap(),
            Command::Upgrade {
                to: KafkaVersion::V39,
                ..
            }
        ));
        assert!(parse(&["upgrade", "broker", "1", "--to", "5"]).is_err());
        let Command::Format { cluster_id, .. } =
            parse(&["format", "controller", "101", "--cluster-id", "abc"]).unwrap()
        else {
            panic!("not format")
        };
        assert_eq!(cluster_id.as_deref(), Some("abc"));
        // A ZooKeeper-mode cluster's id may start with a hyphen, in either form.
        for args in [
            &[
                "format",
                "controller",
                "101",
                "--cluster-id=-nAEbEF-RDKoY4zWTmCXnA",
            ][..],
            &[
                "format",
                "controller",
                "101",
                "--cluster-id",
                "-nAEbEF-RDKoY4zWTmCXnA",
            ],
        ] {
            let Command::Format { cluster_id, .. } = parse(args).unwrap() else {
                panic!("not format")
            };
            assert_eq!(cluster_id.as_deref(), Some("-nAEbEF-RDKoY4zWTmCXnA"));
        }
    }

    #[test]
    fn add_and_format_and_zk_servers() {
        let Command::Add(AddCommand::Zk {
            id,
            observer,
            start,
            at,
        }) = parse(&["add", "zk", "--id", "4", "--start", "--dir", "/x"]).unwrap()
        else {
            panic!("not add zk")
        };
        assert_eq!(
            (id, observer, start, at.dir),
            (Some(4), false, true, Some(PathBuf::from("/x")))
        );
        assert!(matches!(
            parse(&["add", "zk", "--observer"]).unwrap(),
            Command::Add(AddCommand::Zk { observer: true, .. })
        ));
        assert!(matches!(
            parse(&["rehost", "2", "--dir", "/x"]).unwrap(),
            Command::Rehost { id: 2, .. }
        ));
        let Command::Up(up) = parse(&["up", "--zk-reconfig"]).unwrap() else {
            panic!("not up")
        };
        assert!(up.zk_reconfig);
        assert!(matches!(
            parse(&["add", "controller", "--start"]).unwrap(),
            Command::Add(AddCommand::Controller { start: true, .. })
        ));
        assert!(matches!(
            parse(&["format", "controller", "104", "--no-initial-controllers"]).unwrap(),
            Command::Format {
                no_initial_controllers: true,
                ..
            }
        ));
        let Command::ZkServers { id, server_ids, .. } =
            parse(&["zk-servers", "2", "-", "--dir", "/x"]).unwrap()
        else {
            panic!("not zk-servers")
        };
        assert_eq!((id, server_ids.as_str()), (2, "-"));
        assert_eq!(
            super::server_ids(2, "1, 2,3").unwrap(),
            vec![(1, None), (2, None), (3, None)]
        );
        assert_eq!(
            super::server_lines(
                2,
                "tickTime=2000\nserver.1=zk1:2888:3888;2181\nserver.2=zk2:2888:3888:participant\n\
                 server.7=zk7:2888:3888:observer;zk7:2181\n"
            )
            .unwrap(),
            vec![(1, Some(false)), (2, Some(false)), (7, Some(true))]
        );
        assert!(matches!(
            super::server_lines(2, "tickTime=2000\n"),
            Err(CliError::NoServerLines(2))
        ));
        assert!(matches!(
            super::server_ids(2, "1,x"),
            Err(CliError::BadServerId(_))
        ));
    }
}
