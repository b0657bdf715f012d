//! Contexts (named clusters) from `config.toml`, Kafka client properties files, and the
//! resolution of command-line overrides into the [`Settings`] one run uses.
//!
//! The file lives at `$KAFSH_CONFIG`, else `dirs::config_dir()/kafsh/config.toml`:
//!
//! ```toml
//! current_context = "sandbox"
//!
//! [contexts.sandbox]
//! bootstrap_servers = "127.0.0.1:9092,127.0.0.1:9093"
//! bootstrap_controllers = "ctrl1:9093,ctrl2:9093"    # optional: KRaft controllers (KIP-919)
//! zookeeper = "127.0.0.1:2181,127.0.0.1:2182/kafka"
//! command_config = "/etc/kafka/client.properties"   # optional
//! properties = { "client.id" = "kafsh" }             # optional, librdkafka-style names
//! timeout = "30s"              # optional: limit of one call
//! connect_timeout = "5s"       # optional: one connection to one broker or ZooKeeper server
//! api_versions_timeout = "5s"  # optional: a new connection's first answer (else "hung")
//! four_letter_timeout = "5s"   # optional: a ZooKeeper server's answer to srvr / mntr
//!
//! [[contexts.sandbox.zookeeper_servers]]
//! id = 1
//! host = "127.0.0.1"
//! client_port = 2181
//! peer_port = 2888
//! election_port = 3888
//! restart = "ssh zk1 sudo systemctl restart zookeeper"
//! # role = "observer"       # optional: a non-voting server (default "participant")
//!
//! [[contexts.sandbox.brokers]]
//! id = 1
//! restart = "ssh kafka1 sudo systemctl restart kafka"
//!
//! [[contexts.sandbox.controllers]]    # KRaft controller-only nodes
//! id = 101
//! host = "ctrl1"
//! port = 9093
//! restart = "ssh ctrl1 sudo systemctl restart kafka-controller"
//! format = "ssh ctrl1 kafka-storage.sh format -t ID -c ctrl.properties --no-initial-controllers"
//! ```

mod properties;

pub use properties::{edit_properties, parse_properties, EditedProperties, PropertyChange};

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default Kafka bootstrap server when nothing names one.
pub const DEFAULT_BOOTSTRAP: &str = "localhost:9092";
/// The default ZooKeeper connect string when nothing names one.
pub const DEFAULT_ZOOKEEPER: &str = "localhost:2181";
/// The default time limit of one network call.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The default limit of one connection attempt (TCP, TLS) to one broker or ZooKeeper server.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The default limit of a broker's answer to ApiVersions on a new connection: a broker that
/// accepts the connection but does not answer within it counts as hung.
pub const DEFAULT_API_VERSIONS_TIMEOUT: Duration = Duration::from_secs(5);
/// The default limit of a ZooKeeper server's answer to a four-letter word (`srvr`, `mntr`).
pub const DEFAULT_FOUR_LETTER_TIMEOUT: Duration = Duration::from_secs(5);

/// The whole `config.toml`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The context used when neither `--context` nor `KAFSH_CONTEXT` names one.
    #[serde(default)]
    pub current_context: Option<String>,
    /// Named clusters.
    #[serde(default)]
    pub contexts: BTreeMap<String, Context>,
    /// Where audit entries go besides the local trail, for every context that does not
    /// say otherwise.
    #[serde(default)]
    pub audit: Option<crate::audit::AuditConfig>,
}

/// One named cluster.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// Comma-separated `host:port` list of Kafka brokers.
    #[serde(default)]
    pub bootstrap_servers: Option<String>,
    /// Comma-separated `host:port` list of KRaft controllers (their controller listener), as
    /// Kafka's tools take `--bootstrap-controller` (KIP-919): the quorum functions,
    /// `cluster()` and `brokers()` talk to the controllers directly.
    #[serde(default)]
    pub bootstrap_controllers: Option<String>,
    /// ZooKeeper connect string with optional chroot: `h1:2181,h2:2181/kafka`.
    #[serde(default)]
    pub zookeeper: Option<String>,
    /// A Kafka client properties file, as `--command-config` takes it.
    #[serde(default)]
    pub command_config: Option<PathBuf>,
    /// Client properties (security.protocol, sasl.*, ssl.*, client.id).
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Default time limit of one network call, e.g. "30s".
    #[serde(default)]
    pub timeout: Option<String>,
    /// Limit of one connection attempt to one broker or ZooKeeper server, e.g. "5s" (also
    /// the property `socket.connection.setup.timeout.ms`).
    #[serde(default)]
    pub connect_timeout: Option<String>,
    /// Limit of a broker's answer to ApiVersions on a new connection, e.g. "5s": a broker
    /// that accepts connections but does not answer within it is hung (also the property
    /// `api.version.request.timeout.ms`).
    #[serde(default)]
    pub api_versions_timeout: Option<String>,
    /// Limit of a ZooKeeper server's answer to `srvr` / `mntr`, e.g. "5s".
    #[serde(default)]
    pub four_letter_timeout: Option<String>,
    /// ZooKeeper digest auth `user:password` (also `KAFSH_ZOOKEEPER_AUTH`).
    #[serde(default)]
    pub zookeeper_auth: Option<String>,
    /// A file holding the ZooKeeper digest auth `user:password`, so it need not be here.
    #[serde(default)]
    pub zookeeper_auth_file: Option<PathBuf>,
    /// The user of ZooKeeper SASL DIGEST-MD5 (a JAAS `Client` section's `username`).
    #[serde(default)]
    pub zookeeper_sasl_user: Option<String>,
    /// A file holding that user's password.
    #[serde(default)]
    pub zookeeper_sasl_password_file: Option<PathBuf>,
    /// An environment variable holding that user's password.
    #[serde(default)]
    pub zookeeper_sasl_password_env: Option<String>,
    /// ZooKeeper client settings with ZooKeeper's own names (TLS to the secure client port:
    /// `zookeeper.client.secure`, `zookeeper.ssl.trustStore.location`, ...; SASL:
    /// `java.security.auth.login.config` and its `Client` section,
    /// `zookeeper.sasl.client.username`, `zookeeper.server.principal`).
    #[serde(default)]
    pub zookeeper_properties: BTreeMap<String, String>,
    /// A file of those settings, as zkCli's `-client-configuration` or Kafka's
    /// `--zk-tls-config-file` takes it (read first; `zookeeper_properties` win).
    #[serde(default)]
    pub zookeeper_client_config: Option<PathBuf>,
    /// `GSSAPI` for a Kerberos login to ZooKeeper from the ticket cache (implied by
    /// `zookeeper_kerberos_keytab`), `DIGEST-MD5` (implied by `zookeeper_sasl_user`).
    #[serde(default)]
    pub zookeeper_sasl_mechanism: Option<String>,
    /// The keytab of a Kerberos login to ZooKeeper.
    #[serde(default)]
    pub zookeeper_kerberos_keytab: Option<String>,
    /// The principal of a Kerberos login to ZooKeeper (the keytab's or ticket cache's
    /// first when absent).
    #[serde(default)]
    pub zookeeper_kerberos_principal: Option<String>,
    /// A file holding the SASL password (`sasl.password`), so it need not be here.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// An environment variable holding the SASL password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// A file holding the OAUTHBEARER client secret (`sasl.oauthbearer.client.secret`).
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// An environment variable holding the OAUTHBEARER client secret.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// Script limits, so a runaway cron script is stopped with a clear error.
    #[serde(default)]
    pub limits: Limits,
    /// How much one call may change before it needs `force` (blast radius).
    #[serde(default)]
    pub guard_rails: crate::guard::GuardRails,
    /// Where this context's audit entries go besides the local trail.
    #[serde(default)]
    pub audit: Option<crate::audit::AuditConfig>,
    /// The brokers' `super.users` (principals like "User:admin"), which no Kafka API
    /// reveals: effective-permission answers (`can`, `who_can`) need them.
    #[serde(default)]
    pub super_users: Option<Vec<String>>,
    /// The brokers' `allow.everyone.if.no.acl.found` (default false).
    #[serde(default)]
    pub allow_everyone_if_no_acl_found: bool,
    /// The ZooKeeper servers of the ensemble (the inventory).
    #[serde(default)]
    pub zookeeper_servers: Vec<ZkServer>,
    /// The Kafka brokers (the inventory).
    #[serde(default)]
    pub brokers: Vec<BrokerEntry>,
    /// The KRaft controller-only nodes (the inventory).
    #[serde(default)]
    pub controllers: Vec<ControllerEntry>,
    /// A production cluster: the shell's prompt is red and names it, and a line that would
    /// change it asks first, showing its dry run.
    #[serde(default)]
    pub production: bool,
    /// Labels that name groups of contexts (`["prod", "eu"]`) for `on_each` and `--tag`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// A script the shell runs when it starts in this context (after `init.rhai` beside
    /// config.toml).
    #[serde(default)]
    pub init: Option<PathBuf>,
}

/// Limits of the script engine (each optional; kafsh's defaults apply otherwise).
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Operations one run may perform (unlimited by default).
    pub max_operations: Option<u64>,
    /// Depth of nested function calls (default 64).
    pub max_call_levels: Option<usize>,
    /// Length of one string in bytes (unlimited by default: any size limit makes Rhai
    /// re-measure nested arrays and maps after every operation).
    pub max_string_size: Option<usize>,
    /// Items of one array or map (unlimited by default, for the same reason).
    pub max_array_size: Option<usize>,
}

/// A ZooKeeper server of the inventory.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ZkServer {
    /// The server's id (its `myid`).
    pub id: u32,
    /// Host name or address.
    pub host: String,
    /// Client port (2181).
    #[serde(default = "default_client_port")]
    pub client_port: u16,
    /// Quorum peer port (2888).
    #[serde(default = "default_peer_port")]
    pub peer_port: u16,
    /// Leader election port (3888).
    #[serde(default = "default_election_port")]
    pub election_port: u16,
    /// Shell command that restarts this server.
    #[serde(default)]
    pub restart: Option<String>,
    /// Shell command that starts this server.
    #[serde(default)]
    pub start: Option<String>,
    /// Shell command that stops this server.
    #[serde(default)]
    pub stop: Option<String>,
    /// Shell command that installs a new zoo.cfg, given on its stdin
    /// (e.g. `ssh zk1 sudo tee /etc/zookeeper/zoo.cfg`).
    #[serde(default)]
    pub write_config: Option<String>,
    /// Shell command that writes this server's myid, given on its stdin
    /// (e.g. `ssh zk4 sudo tee /data/myid`).
    #[serde(default)]
    pub write_myid: Option<String>,
    /// Whether it votes (`participant`, the default) or is an `observer`.
    #[serde(default)]
    pub role: ZkRole,
}

/// A ZooKeeper server's role in the inventory.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ZkRole {
    /// A voting member.
    #[default]
    Participant,
    /// A non-voting member.
    Observer,
}

/// A Kafka broker of the inventory.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BrokerEntry {
    /// The broker's `broker.id` / `node.id`.
    pub id: i32,
    /// Host name, for humans and for commands.
    #[serde(default)]
    pub host: Option<String>,
    /// Shell command that restarts this broker.
    #[serde(default)]
    pub restart: Option<String>,
    /// Shell command that starts this broker.
    #[serde(default)]
    pub start: Option<String>,
    /// Shell command that stops this broker.
    #[serde(default)]
    pub stop: Option<String>,
    /// Shell command that formats this KRaft node's storage (`kafka-storage.sh format`).
    #[serde(default)]
    pub format: Option<String>,
    /// Shell command that prints this broker's `server.properties` (e.g. `ssh kafka1 cat
    /// /etc/kafka/server.properties`).
    #[serde(default)]
    pub read_config: Option<String>,
    /// Shell command that installs a new `server.properties`, given on its stdin (e.g.
    /// `ssh kafka1 sudo tee /etc/kafka/server.properties`); it takes effect at the next
    /// restart.
    #[serde(default)]
    pub write_config: Option<String>,
    /// Shell command that installs the new Kafka version on this node (e.g. `ssh kafka1 sudo
    /// apt-get install -y kafka=4.2.0`); it takes effect at the next restart.
    #[serde(default)]
    pub upgrade: Option<String>,
}

/// A KRaft controller-only node of the inventory.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ControllerEntry {
    /// The controller's `node.id`.
    pub id: i32,
    /// Host name, for humans and for commands.
    #[serde(default)]
    pub host: Option<String>,
    /// Port of its controller listener.
    #[serde(default)]
    pub port: Option<u16>,
    /// Shell command that restarts this controller.
    #[serde(default)]
    pub restart: Option<String>,
    /// Shell command that starts this controller.
    #[serde(default)]
    pub start: Option<String>,
    /// Shell command that stops this controller.
    #[serde(default)]
    pub stop: Option<String>,
    /// Shell command that formats its storage (`kafka-storage.sh format`; for a controller
    /// joining a dynamic quorum, `--no-initial-controllers`).
    #[serde(default)]
    pub format: Option<String>,
    /// Shell command that prints this controller's `server.properties`.
    #[serde(default)]
    pub read_config: Option<String>,
    /// Shell command that installs a new `server.properties`, given on its stdin.
    #[serde(default)]
    pub write_config: Option<String>,
    /// Shell command that installs the new Kafka version on this node (e.g. `ssh kafka1 sudo
    /// apt-get install -y kafka=4.2.0`); it takes effect at the next restart.
    #[serde(default)]
    pub upgrade: Option<String>,
}

fn default_client_port() -> u16 {
    2181
}
fn default_peer_port() -> u16 {
    2888
}
fn default_election_port() -> u16 {
    3888
}

/// Overrides given on the command line (or by the embedding test).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--context`, else `KAFSH_CONTEXT`.
    pub context: Option<String>,
    /// `--bootstrap-server`.
    pub bootstrap_servers: Option<String>,
    /// `--bootstrap-controller`.
    pub bootstrap_controllers: Option<String>,
    /// `--zookeeper`.
    pub zookeeper: Option<String>,
    /// `--command-config`.
    pub command_config: Option<PathBuf>,
    /// `--timeout` for one call (the run's own limit is handled by the CLI).
    pub call_timeout: Option<Duration>,
    /// `--max-operations`: the operation limit of every script of this run.
    pub max_operations: Option<u64>,
    /// `--connect-timeout`.
    pub connect_timeout: Option<Duration>,
    /// `--api-versions-timeout`.
    pub api_versions_timeout: Option<Duration>,
}

/// Everything one run needs to reach its cluster.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The context's name, if one was used.
    pub context_name: Option<String>,
    /// Kafka bootstrap servers, `host:port` each (empty when only controllers are named).
    pub bootstrap_servers: Vec<String>,
    /// KRaft controllers to talk to directly (`--bootstrap-controller`), `host:port` each;
    /// empty when none are named.
    pub bootstrap_controllers: Vec<String>,
    /// ZooKeeper connect string (hosts and chroot); none when the context names no
    /// ZooKeeper (a KRaft cluster, or only `--bootstrap-server` given).
    pub zookeeper: Option<ZkConnect>,
    /// Client properties, merged: command-config file, then context properties.
    pub properties: BTreeMap<String, String>,
    /// Time limit of one network call.
    pub call_timeout: Duration,
    /// Limits of connection attempts and of the first answers that tell a live node from a
    /// hung one.
    pub node_timeouts: NodeTimeouts,
    /// ZooKeeper servers and brokers with their commands.
    pub inventory: Inventory,
    /// ZooKeeper digest auth `user:password`, if any.
    pub zookeeper_auth: Option<String>,
    /// ZooKeeper SASL DIGEST-MD5 `user:password`, if any.
    pub zookeeper_sasl: Option<String>,
    /// TLS to ZooKeeper's secure client port, if asked for.
    pub zookeeper_tls: Option<crate::zk::security::ZkTls>,
    /// A Kerberos login to ZooKeeper, if asked for.
    pub zookeeper_kerberos: Option<crate::zk::security::ZkKerberos>,
    /// Script engine limits.
    pub limits: Limits,
    /// Blast-radius limits of mutating calls.
    pub guard_rails: crate::guard::GuardRails,
    /// Where audit entries go besides the local trail.
    pub audit: crate::audit::AuditConfig,
    /// What the context says of the brokers' authorizer (super users).
    pub authorizer: crate::kafka::authorizer::AuthorizerRules,
    /// A production cluster (the context's `production = true`).
    pub production: bool,
    /// The context's shell startup script.
    pub init: Option<PathBuf>,
}

impl Settings {
    /// Settings for a cluster given by address only (tests, one-off runs).
    pub fn for_servers(bootstrap: &str, zookeeper: Option<&str>) -> Result<Settings> {
        Ok(Settings {
            context_name: None,
            bootstrap_servers: split_servers(bootstrap),
            bootstrap_controllers: Vec::new(),
            zookeeper: zookeeper.map(ZkConnect::parse).transpose()?,
            properties: BTreeMap::new(),
            call_timeout: DEFAULT_CALL_TIMEOUT,
            node_timeouts: NodeTimeouts::default().capped(DEFAULT_CALL_TIMEOUT),
            inventory: Inventory::default(),
            zookeeper_auth: None,
            zookeeper_sasl: None,
            zookeeper_tls: None,
            zookeeper_kerberos: None,
            limits: Limits::default(),
            guard_rails: crate::guard::GuardRails::default(),
            audit: crate::audit::AuditConfig::default(),
            authorizer: crate::kafka::authorizer::AuthorizerRules::default(),
            production: false,
            init: None,
        })
    }
}

/// How long one node (a broker, a ZooKeeper server) may take before kafsh tries another
/// or calls it hung. Each is at most a quarter of the call timeout, so a hung node is found
/// and named (and the other nodes' answers returned) well within the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeTimeouts {
    /// One connection attempt: TCP, then TLS.
    pub connect: Duration,
    /// A broker's answer to ApiVersions on a new connection.
    pub api_versions: Duration,
    /// A ZooKeeper server's answer to a four-letter word.
    pub four_letter: Duration,
}

impl Default for NodeTimeouts {
    fn default() -> Self {
        NodeTimeouts {
            connect: DEFAULT_CONNECT_TIMEOUT,
            api_versions: DEFAULT_API_VERSIONS_TIMEOUT,
            four_letter: DEFAULT_FOUR_LETTER_TIMEOUT,
        }
    }
}

impl NodeTimeouts {
    /// The limits, none above a quarter of `call_timeout` (nor below 10 ms).
    pub fn capped(self, call_timeout: Duration) -> NodeTimeouts {
        let cap = (call_timeout / 4).max(Duration::from_millis(10));
        NodeTimeouts {
            connect: self.connect.min(cap),
            api_versions: self.api_versions.min(cap),
            four_letter: self.four_letter.min(cap),
        }
    }
}

/// The inventory of a context.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inventory {
    /// ZooKeeper servers.
    pub zookeeper_servers: Vec<ZkServer>,
    /// Kafka brokers.
    pub brokers: Vec<BrokerEntry>,
    /// KRaft controller-only nodes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub controllers: Vec<ControllerEntry>,
    /// Why the ZooKeeper servers may not be the ensemble this run talks to (`--zookeeper`
    /// named other servers); inventory-driven functions refuse while it is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zookeeper_mismatch: Option<String>,
    /// Why the brokers may not be the cluster this run talks to (`--bootstrap-server`
    /// named other servers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brokers_mismatch: Option<String>,
}

impl Inventory {
    /// The context's inventory checked against the servers this run really talks to.
    fn checked(
        context: &Context,
        overrides: &Overrides,
        zookeeper: Option<&ZkConnect>,
    ) -> Inventory {
        let zookeeper_mismatch = match (&overrides.zookeeper, zookeeper) {
            (Some(_), Some(connect)) if !context.zookeeper_servers.is_empty() => {
                let listed: Vec<String> = context
                    .zookeeper_servers
                    .iter()
                    .map(|z| format!("{}:{}", z.host, z.client_port))
                    .collect();
                (!connect.servers.iter().all(|s| listed.contains(s))).then(|| {
                    format!(
                        "--zookeeper names {} but the context's inventory lists {}",
                        connect.servers.join(","),
                        listed.join(",")
                    )
                })
            }
            _ => None,
        };
        let brokers_mismatch = match &overrides.bootstrap_servers {
            Some(given) if !context.brokers.is_empty() => {
                let known = split_servers(context.bootstrap_servers.as_deref().unwrap_or(""));
                let hosts: Vec<&str> = context
                    .brokers
                    .iter()
                    .filter_map(|b| b.host.as_deref())
                    .collect();
                let given = split_servers(given);
                let matches = given.iter().any(|g| {
                    known.contains(g)
                        || hosts.contains(&g.rsplit_once(':').map(|(h, _)| h).unwrap_or(g))
                });
                (!matches).then(|| {
                    format!(
                        "--bootstrap-server names {} but the context's inventory belongs to {}",
                        given.join(","),
                        if known.is_empty() {
                            "another cluster".to_string()
                        } else {
                            known.join(",")
                        }
                    )
                })
            }
            _ => None,
        };
        Inventory {
            zookeeper_servers: context.zookeeper_servers.clone(),
            brokers: context.brokers.clone(),
            controllers: context.controllers.clone(),
            zookeeper_mismatch,
            brokers_mismatch,
        }
    }
}

/// A parsed ZooKeeper connect string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZkConnect {
    /// `host:port` of every server named.
    pub servers: Vec<String>,
    /// The chroot ("" for none, else "/path").
    pub chroot: String,
}

impl ZkConnect {
    /// Parses `h1:2181,h2:2181/chroot`. A server without a port gets 2181.
    pub fn parse(connect: &str) -> Result<ZkConnect> {
        let connect = connect.trim();
        let (hosts, chroot) = match connect.find('/') {
            Some(i) => (&connect[..i], &connect[i..]),
            None => (connect, ""),
        };
        let chroot = chroot.trim_end_matches('/').to_string();
        let servers: Vec<String> = hosts
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.rsplit_once(':')
                    .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
                {
                    s.to_string()
                } else {
                    format!("{s}:2181")
                }
            })
            .collect();
        if servers.is_empty() {
            return Err(Error::InvalidInput(format!(
                "ZooKeeper connect string {connect:?} names no server"
            )));
        }
        Ok(ZkConnect { servers, chroot })
    }

    /// The path of `path` under the chroot.
    pub fn under_chroot(&self, path: &str) -> String {
        if path == "/" && !self.chroot.is_empty() {
            return self.chroot.clone();
        }
        format!("{}{}", self.chroot, path)
    }
}

impl std::fmt::Display for ZkConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.servers.join(","), self.chroot)
    }
}

/// Splits a comma-separated server list.
pub fn split_servers(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Where the config file is read from.
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KAFSH_CONFIG") {
        return Some(PathBuf::from(p));
    }
    dirs::config_dir().map(|d| d.join("kafsh").join("config.toml"))
}

/// The shell's startup script: `init.rhai` beside config.toml.
pub fn init_script_path() -> Option<PathBuf> {
    config_path().and_then(|p| p.parent().map(|d| d.join("init.rhai")))
}

/// One context of config.toml, as `contexts()` and `kafsh contexts` list it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ContextSummary {
    /// Its name.
    pub name: String,
    /// Its bootstrap servers, as written.
    pub bootstrap_servers: Option<String>,
    /// Its ZooKeeper connect string, as written.
    pub zookeeper: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Marked `production = true`.
    pub production: bool,
    /// config.toml's `current_context`.
    pub default: bool,
}

/// The contexts of config.toml, by name (none without a file).
pub fn contexts() -> Result<Vec<ContextSummary>> {
    let Some(path) = config_path() else {
        return Ok(Vec::new());
    };
    let Some(file) = load_file(&path)? else {
        return Ok(Vec::new());
    };
    Ok(file
        .contexts
        .iter()
        .map(|(name, c)| ContextSummary {
            name: name.clone(),
            bootstrap_servers: c.bootstrap_servers.clone(),
            zookeeper: c.zookeeper.clone(),
            tags: c.tags.clone(),
            production: c.production,
            default: file.current_context.as_deref() == Some(name.as_str()),
        })
        .collect())
}

/// The contexts a name stands for: the context of that name, else every context carrying
/// it as a tag; comma-separated names and tags are each expanded, in order, once each.
pub fn expand_contexts(names_or_tags: &str) -> Result<Vec<String>> {
    let all = contexts()?;
    let mut out: Vec<String> = Vec::new();
    for wanted in names_or_tags
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        let found: Vec<String> = if all.iter().any(|c| c.name == wanted) {
            vec![wanted.to_string()]
        } else {
            all.iter()
                .filter(|c| c.tags.iter().any(|t| t == wanted))
                .map(|c| c.name.clone())
                .collect()
        };
        if found.is_empty() {
            let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
            let mut tags: Vec<&str> = all
                .iter()
                .flat_map(|c| c.tags.iter().map(String::as_str))
                .collect();
            tags.sort_unstable();
            tags.dedup();
            return Err(Error::NotFound(format!(
                "no context or tag {wanted:?} in config.toml (contexts: {}; tags: {})",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                },
                if tags.is_empty() {
                    "none".into()
                } else {
                    tags.join(", ")
                }
            )));
        }
        for name in found {
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    Ok(out)
}

/// The directory for history, journals and audit logs.
pub fn state_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KAFSH_STATE_DIR") {
        return Some(PathBuf::from(p));
    }
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("kafsh"))
}

/// Reads and parses a config file; `Ok(None)` when it does not exist.
pub fn load_file(path: &Path) -> Result<Option<ConfigFile>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Config(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    parse_file(path, &text).map(Some)
}

/// Parses config text; errors name the file, the line and the key.
pub fn parse_file(path: &Path, text: &str) -> Result<ConfigFile> {
    toml::from_str::<ConfigFile>(text).map_err(|e| {
        // The line itself too: a type error's span is the value, and the key names the fix.
        let (location, quoted) = e
            .span()
            .map(|span| {
                let start = span.start.min(text.len());
                let line = text[..start].matches('\n').count() + 1;
                let content = text.lines().nth(line - 1).unwrap_or("").trim();
                let quoted = if content.is_empty() || content.len() > 120 {
                    String::new()
                } else {
                    format!(" (`{content}`)")
                };
                (format!(":{line}"), quoted)
            })
            .unwrap_or_default();
        let message = e.message().trim().to_string();
        Error::Config(format!("{}{location}: {message}{quoted}", path.display()))
    })
}

/// What resolution found, with notes for the user (printed by the caller).
#[derive(Debug)]
pub struct Resolved {
    /// The settings of this run.
    pub settings: Settings,
    /// One-time notes, e.g. that defaults are in use.
    pub notes: Vec<String>,
}

/// Resolves the settings of a run from the config file and the overrides.
pub fn resolve(overrides: &Overrides) -> Result<Resolved> {
    let path = config_path();
    let file = match &path {
        Some(p) => load_file(p)?,
        None => None,
    };
    resolve_with(file, path.as_deref(), overrides)
}

/// Resolution with an already loaded file (for tests).
pub fn resolve_with(
    file: Option<ConfigFile>,
    path: Option<&Path>,
    overrides: &Overrides,
) -> Result<Resolved> {
    let mut notes = Vec::new();
    let wanted = overrides.context.clone().or_else(|| {
        std::env::var("KAFSH_CONTEXT")
            .ok()
            .filter(|s| !s.is_empty())
    });
    let (context_name, context) = match (&file, wanted) {
        (Some(f), Some(name)) => match f.contexts.get(&name) {
            Some(c) => (Some(name), c.clone()),
            None => {
                let known: Vec<&str> = f.contexts.keys().map(String::as_str).collect();
                return Err(Error::Config(format!(
                    "context {name:?} is not in {} (known: {})",
                    path.map(|p| p.display().to_string()).unwrap_or_default(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        },
        (None, Some(name)) => {
            return Err(Error::Config(format!(
                "context {name:?} requested but there is no config file{}",
                path.map(|p| format!(" at {}", p.display()))
                    .unwrap_or_default()
            )))
        }
        (Some(f), None) => match &f.current_context {
            Some(name) => match f.contexts.get(name) {
                Some(c) => (Some(name.clone()), c.clone()),
                None => {
                    return Err(Error::Config(format!(
                        "{}: current_context {name:?} names no context",
                        path.map(|p| p.display().to_string()).unwrap_or_default()
                    )))
                }
            },
            None => (None, Context::default()),
        },
        (None, None) => {
            if overrides.bootstrap_servers.is_none()
                && overrides.zookeeper.is_none()
                && overrides.bootstrap_controllers.is_none()
            {
                notes.push(format!(
                    "no config file{}: using {DEFAULT_BOOTSTRAP} and {DEFAULT_ZOOKEEPER}",
                    path.map(|p| format!(" at {}", p.display()))
                        .unwrap_or_default()
                ));
            }
            (None, Context::default())
        }
    };

    let controllers = overrides
        .bootstrap_controllers
        .clone()
        .or_else(|| context.bootstrap_controllers.clone())
        .map(|c| split_servers(&c))
        .unwrap_or_default();
    // Only controllers named (`--bootstrap-controller`, as Kafka's tools take it): no
    // broker is assumed at localhost.
    let bootstrap = overrides
        .bootstrap_servers
        .clone()
        .or_else(|| context.bootstrap_servers.clone())
        .or_else(|| {
            controllers
                .is_empty()
                .then(|| DEFAULT_BOOTSTRAP.to_string())
        })
        .unwrap_or_default();
    // Kafka's tools assume no ZooKeeper unless one is named; kafsh's localhost default
    // applies only when nothing at all is configured.
    let nothing_configured = context_name.is_none()
        && overrides.bootstrap_servers.is_none()
        && context.bootstrap_servers.is_none()
        && controllers.is_empty();
    let zookeeper = overrides
        .zookeeper
        .clone()
        .or_else(|| context.zookeeper.clone())
        .or_else(|| nothing_configured.then(|| DEFAULT_ZOOKEEPER.to_string()));

    // The context's own settings first; a `--command-config` given for this run wins over
    // every one of them (the context's `command_config` file does not: the context's
    // `properties` refine it).
    let read_command_config = |file: &Path| -> Result<BTreeMap<String, String>> {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Error::Config(format!(
                "cannot read command config {}: {e}",
                file.display()
            ))
        })?;
        Ok(parse_properties(&text))
    };
    let mut properties = BTreeMap::new();
    if let (None, Some(file)) = (&overrides.command_config, &context.command_config) {
        properties.extend(read_command_config(file)?);
    }
    properties.extend(context.properties.clone());
    if let Some(password) = secret_from(
        context.password_file.as_deref(),
        context.password_env.as_deref(),
        "password",
    )? {
        properties.insert("sasl.password".into(), password);
    }
    if let Some(secret) = secret_from(
        context.client_secret_file.as_deref(),
        context.client_secret_env.as_deref(),
        "client_secret",
    )? {
        properties.insert("sasl.oauthbearer.client.secret".into(), secret);
    }
    if let Some(file) = &overrides.command_config {
        properties.extend(read_command_config(file)?);
    }
    let zookeeper_auth = match std::env::var("KAFSH_ZOOKEEPER_AUTH")
        .ok()
        .filter(|a| !a.is_empty())
    {
        Some(auth) => Some(auth),
        None => secret_from(
            context.zookeeper_auth_file.as_deref(),
            None,
            "zookeeper_auth",
        )?
        .or_else(|| context.zookeeper_auth.clone()),
    };

    let zookeeper_sasl = match &context.zookeeper_sasl_user {
        None => None,
        Some(user) => {
            let password = secret_from(
                context.zookeeper_sasl_password_file.as_deref(),
                context.zookeeper_sasl_password_env.as_deref(),
                "zookeeper_sasl_password",
            )?
            .ok_or_else(|| {
                Error::Config(
                    "zookeeper_sasl_user needs zookeeper_sasl_password_file or zookeeper_sasl_password_env".into(),
                )
            })?;
            Some(format!("{user}:{password}"))
        }
    };

    let mut zk_properties = BTreeMap::new();
    if let Some(file) = &context.zookeeper_client_config {
        let text = std::fs::read_to_string(file).map_err(|e| {
            Error::Config(format!(
                "cannot read zookeeper_client_config {}: {e}",
                file.display()
            ))
        })?;
        zk_properties.extend(parse_properties(&text));
    }
    zk_properties.extend(context.zookeeper_properties.clone());
    let zk_security = crate::zk::security::resolve(&zk_properties)?;
    let zookeeper_sasl = zookeeper_sasl.or(zk_security.digest_md5);
    let mechanism = context
        .zookeeper_sasl_mechanism
        .as_deref()
        .map(str::to_ascii_uppercase);
    let zookeeper_kerberos = match mechanism.as_deref() {
        Some("GSSAPI") | None
            if context.zookeeper_kerberos_keytab.is_some()
                || context.zookeeper_kerberos_principal.is_some()
                || mechanism.is_some() =>
        {
            let mut k = crate::zk::security::ZkKerberos {
                keytab: context.zookeeper_kerberos_keytab.clone(),
                principal: context.zookeeper_kerberos_principal.clone(),
                ticket_cache: None,
                service: "zookeeper".into(),
                host: None,
                source: if context.zookeeper_kerberos_keytab.is_some() {
                    "zookeeper_kerberos_keytab".into()
                } else {
                    "zookeeper_sasl_mechanism = \"GSSAPI\" (the ticket cache)".into()
                },
            };
            let get = |key: &str| {
                zk_properties
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v.as_str())
            };
            crate::zk::security::apply_server_principal(
                &mut k,
                get("zookeeper.sasl.client.username"),
                get("zookeeper.server.principal"),
            );
            Some(k)
        }
        Some("GSSAPI") | Some("DIGEST-MD5") | None => zk_security.kerberos,
        Some(other) => {
            return Err(Error::Config(format!(
            "zookeeper_sasl_mechanism {other:?}: kafsh speaks GSSAPI and DIGEST-MD5 to ZooKeeper"
        )))
        }
    };

    let call_timeout = match (&overrides.call_timeout, &context.timeout) {
        (Some(t), _) => *t,
        (None, Some(text)) => parse_duration(text).map_err(|e| {
            Error::Config(format!(
                "context {:?}: timeout {text:?}: {e}",
                context_name.clone().unwrap_or_default()
            ))
        })?,
        (None, None) => DEFAULT_CALL_TIMEOUT,
    };

    let zookeeper = zookeeper.as_deref().map(ZkConnect::parse).transpose()?;
    let inventory = Inventory::checked(&context, overrides, zookeeper.as_ref());
    let node_timeouts = node_timeouts(overrides, &context, context_name.as_deref(), &properties)?
        .capped(call_timeout);

    Ok(Resolved {
        settings: Settings {
            context_name,
            bootstrap_servers: split_servers(&bootstrap),
            bootstrap_controllers: controllers,
            zookeeper,
            properties,
            call_timeout,
            node_timeouts,
            inventory,
            zookeeper_auth,
            zookeeper_sasl,
            zookeeper_tls: zk_security.tls,
            zookeeper_kerberos,
            limits: Limits {
                max_operations: overrides.max_operations.or(context.limits.max_operations),
                ..context.limits
            },
            guard_rails: context.guard_rails,
            audit: context
                .audit
                .clone()
                .or_else(|| file.as_ref().and_then(|f| f.audit.clone()))
                .unwrap_or_default(),
            authorizer: crate::kafka::authorizer::AuthorizerRules {
                super_users: context.super_users.as_ref().map(|users| {
                    users
                        .iter()
                        .map(|u| crate::kafka::acls::normalize_principal(u))
                        .collect()
                }),
                allow_everyone_if_no_acl_found: context.allow_everyone_if_no_acl_found,
            },
            production: context.production,
            init: context.init.clone(),
        },
        notes,
    })
}

/// The node limits: the command line, else the context's key, else the client property
/// Kafka's clients know it by, else the default.
fn node_timeouts(
    overrides: &Overrides,
    context: &Context,
    context_name: Option<&str>,
    properties: &BTreeMap<String, String>,
) -> Result<NodeTimeouts> {
    let key = |name: &str, text: &Option<String>| -> Result<Option<Duration>> {
        text.as_deref()
            .map(|t| {
                parse_duration(t).map_err(|e| {
                    Error::Config(format!(
                        "context {:?}: {name} {t:?}: {e}",
                        context_name.unwrap_or_default()
                    ))
                })
            })
            .transpose()
    };
    let property = |name: &str| -> Result<Option<Duration>> {
        properties
            .get(name)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map(Duration::from_millis)
                    .map_err(|_| {
                        Error::Config(format!(
                            "property {name}={v:?}: expected milliseconds, e.g. 5000"
                        ))
                    })
            })
            .transpose()
    };
    let defaults = NodeTimeouts::default();
    Ok(NodeTimeouts {
        connect: match overrides.connect_timeout {
            Some(t) => t,
            None => key("connect_timeout", &context.connect_timeout)?
                .or(property("socket.connection.setup.timeout.ms")?)
                .unwrap_or(defaults.connect),
        },
        api_versions: match overrides.api_versions_timeout {
            Some(t) => t,
            None => key("api_versions_timeout", &context.api_versions_timeout)?
                .or(property("api.version.request.timeout.ms")?)
                .unwrap_or(defaults.api_versions),
        },
        four_letter: key("four_letter_timeout", &context.four_letter_timeout)?
            .unwrap_or(defaults.four_letter),
    })
}

/// A secret from a file (first line, trimmed; the file should be mode 0600) or an
/// environment variable. Errors name the file or variable, never the content.
fn secret_from(file: Option<&Path>, env: Option<&str>, what: &str) -> Result<Option<String>> {
    if let Some(var) = env {
        return match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(Some(value)),
            _ => Err(Error::Config(format!(
                "{what}_env names the environment variable {var}, which is not set"
            ))),
        };
    }
    let Some(path) = file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("cannot read {what}_file {}: {e}", path.display())))?;
    let secret = text.lines().next().unwrap_or("").trim().to_string();
    if secret.is_empty() {
        return Err(Error::Config(format!(
            "{what}_file {} is empty",
            path.display()
        )));
    }
    Ok(Some(secret))
}

/// Parses a duration: "30s", "5m", "1h30m", "250ms", or plain seconds ("30").
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        if secs >= 0.0 && secs.is_finite() {
            return Ok(Duration::from_secs_f64(secs));
        }
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("expected a number in {text:?}"));
        }
        let value: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("bad number in {text:?}"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let secs = match unit {
            "ms" => value / 1000.0,
            "s" | "sec" => value,
            "m" | "min" => value * 60.0,
            "h" => value * 3600.0,
            "d" => value * 86400.0,
            _ => {
                return Err(format!(
                    "unknown unit {unit:?} in {text:?} (use ms, s, m, h, d)"
                ))
            }
        };
        total += Duration::from_secs_f64(secs);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_connect_string_with_chroot() {
        let zk = ZkConnect::parse("h1:2181,h2:2182,h3/peter-kafka").unwrap();
        assert_eq!(zk.servers, vec!["h1:2181", "h2:2182", "h3:2181"]);
        assert_eq!(zk.chroot, "/peter-kafka");
        assert_eq!(zk.under_chroot("/brokers/ids"), "/peter-kafka/brokers/ids");
        assert_eq!(zk.to_string(), "h1:2181,h2:2182,h3:2181/peter-kafka");
    }

    #[test]
    fn malformed_file_names_file_line_and_key() {
        let text = "current_context = \"a\"\n[contexts.a]\nbootstrap = \"x:9092\"\n";
        let err = parse_file(Path::new("/etc/kafsh.toml"), text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("/etc/kafsh.toml:3:"), "{msg}");
        assert!(msg.contains("bootstrap"), "{msg}");
    }

    #[test]
    fn missing_file_uses_defaults_and_says_so() {
        let r = resolve_with(None, Some(Path::new("/nonexistent")), &Overrides::default()).unwrap();
        assert_eq!(r.settings.bootstrap_servers, vec![DEFAULT_BOOTSTRAP]);
        assert_eq!(
            r.settings.zookeeper.map(|z| z.servers),
            Some(vec![DEFAULT_ZOOKEEPER.to_string()])
        );
        assert_eq!(r.notes.len(), 1);
    }

    #[test]
    fn context_and_overrides() {
        let text = r#"
current_context = "prod"
[contexts.prod]
bootstrap_servers = "k1:9092,k2:9092"
zookeeper = "z1:2181/kafka"
timeout = "5s"
[[contexts.prod.zookeeper_servers]]
id = 1
host = "z1"
restart = "true"
[[contexts.prod.zookeeper_servers]]
id = 4
host = "z4"
role = "observer"
"#;
        let file = parse_file(Path::new("c.toml"), text).unwrap();
        let r = resolve_with(Some(file.clone()), None, &Overrides::default()).unwrap();
        let roles: Vec<ZkRole> = r
            .settings
            .inventory
            .zookeeper_servers
            .iter()
            .map(|z| z.role)
            .collect();
        assert_eq!(roles, vec![ZkRole::Participant, ZkRole::Observer]);
        assert!(parse_file(
            Path::new("c.toml"),
            &text.replace("\"observer\"", "\"voter\"")
        )
        .is_err());
        assert_eq!(r.settings.bootstrap_servers, vec!["k1:9092", "k2:9092"]);
        assert_eq!(r.settings.call_timeout, Duration::from_secs(5));
        assert_eq!(r.settings.inventory.zookeeper_servers[0].peer_port, 2888);
        assert!(r.settings.inventory.controllers.is_empty());
        let over = Overrides {
            bootstrap_servers: Some("other:9092".into()),
            ..Default::default()
        };
        let r = resolve_with(Some(file.clone()), None, &over).unwrap();
        assert_eq!(r.settings.bootstrap_servers, vec!["other:9092"]);
        let bad = Overrides {
            context: Some("nope".into()),
            ..Default::default()
        };
        assert!(resolve_with(Some(file), None, &bad)
            .unwrap_err()
            .to_string()
            .contains("known: prod"));
    }

    #[test]
    fn kraft_inventory_with_controllers_and_format_commands() {
        let text = r#"
current_context = "k"
[contexts.k]
bootstrap_servers = "b1:9092"
[[contexts.k.brokers]]
id = 1
host = "b1"
format = "kafka-storage.sh format -t X -c b.properties"
[[contexts.k.controllers]]
id = 101
host = "c1"
port = 9093
restart = "r"
start = "s"
stop = "t"
format = "f --no-initial-controllers"
"#;
        let file = parse_file(Path::new("c.toml"), text).unwrap();
        let r = resolve_with(Some(file), None, &Overrides::default()).unwrap();
        let inv = &r.settings.inventory;
        assert_eq!(
            inv.brokers[0].format.as_deref(),
            Some("kafka-storage.sh format -t X -c b.properties")
        );
        assert_eq!(inv.controllers.len(), 1);
        assert_eq!(inv.controllers[0].id, 101);
        assert_eq!(inv.controllers[0].port, Some(9093));
        assert_eq!(
            inv.controllers[0].format.as_deref(),
            Some("f --no-initial-controllers")
        );
        let bad = "[contexts.k]\n[[contexts.k.controllers]]\nid = 1\nvoter = true\n";
        assert!(parse_file(Path::new("c.toml"), bad).is_err());
    }

    #[test]
    fn node_timeouts_from_flags_keys_properties_and_capped_by_the_call() {
        let text = r#"
current_context = "prod"
[contexts.prod]
bootstrap_servers = "k1:9092"
timeout = "20s"
connect_timeout = "2s"
[contexts.prod.properties]
"api.version.request.timeout.ms" = "3000"
"socket.connection.setup.timeout.ms" = "9000"
"#;
        let file = parse_file(Path::new("c.toml"), text).unwrap();
        let r = resolve_with(Some(file.clone()), None, &Overrides::default()).unwrap();
        let t = r.settings.node_timeouts;
        assert_eq!(
            t.connect,
            Duration::from_secs(2),
            "the key wins over the property"
        );
        assert_eq!(t.api_versions, Duration::from_secs(3));
        assert_eq!(t.four_letter, Duration::from_secs(5));
        let over = Overrides {
            call_timeout: Some(Duration::from_secs(4)),
            api_versions_timeout: Some(Duration::from_millis(300)),
            ..Default::default()
        };
        let t = resolve_with(Some(file), None, &over)
            .unwrap()
            .settings
            .node_timeouts;
        assert_eq!(t.api_versions, Duration::from_millis(300));
        assert_eq!(t.connect, Duration::from_secs(1), "a quarter of the call");
        assert_eq!(t.four_letter, Duration::from_secs(1));
        let bad = "[contexts.x]\nconnect_timeout = \"soon\"\n";
        let file = parse_file(Path::new("c.toml"), bad).unwrap();
        let over = Overrides {
            context: Some("x".into()),
            ..Default::default()
        };
        let err = resolve_with(Some(file), None, &over)
            .unwrap_err()
            .to_string();
        assert!(err.contains("connect_timeout"), "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("12").unwrap(), Duration::from_secs(12));
        assert!(parse_duration("5 parsecs").is_err());
    }
}
