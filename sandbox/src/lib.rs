//! kafsh-sandbox: real Apache ZooKeeper and Apache Kafka processes on 127.0.0.1, for kafsh's
//! tests and for trying kafsh by hand.
//!
//! A [`Cluster`] is a set of plain `java` processes, one per node, each in its own directory
//! under the cluster directory, on free loopback ports. Two kinds are supported (see
//! [`Flavor`]): a ZooKeeper 3.8 ensemble with ZooKeeper-mode Kafka 3.9 brokers, and a KRaft
//! Kafka 4.4 cluster — combined broker+controller nodes (the default), or separate
//! controller-only and broker-only nodes, with a static or dynamic (KIP-853) controller
//! quorum (see [`Quorum`]). The jars come from Maven Central through `mvn` and are cached
//! (see [`jars`]). The cluster's layout and process ids live in `<dir>/sandbox.json`, so
//! another process (the `kafsh-sandbox` binary, a runbook's restart command) can act on the
//! same cluster with [`Cluster::open`].
//!
//! ```no_run
//! use kafsh_sandbox::{Cluster, ClusterSpec, NewNode, Node};
//! let mut c = Cluster::start(ClusterSpec::kraft().controllers(3).brokers(2).dynamic_quorum())?;
//! c.pause(Node::Controller(101))?;
//! c.resume(Node::Controller(101))?;
//! let new = c.add(NewNode::Controller)?; // formatted with --no-initial-controllers
//! c.start_node(new)?;                    // an observer until AddRaftVoter
//! # Ok::<(), kafsh_sandbox::Error>(())
//! ```
//!
//! Modules:
//! - [`cluster`]: the [`Cluster`] handle — whole-cluster operations, one node's lifecycle
//!   (`cluster/nodes.rs`), readiness waits (`ready.rs`), tools (`tools.rs`), probes
//!   (`probes.rs`).
//! - [`node`]: the node model ([`Node`], [`NewNode`]) and node views ([`ZkNode`],
//!   [`BrokerNode`], [`ControllerNode`]).
//! - [`spec`]: [`Flavor`], [`Quorum`] and [`ClusterSpec`], what to start.
//! - [`error`]: the typed [`Error`].
//! - [`jars`]: fetching and caching the Kafka/ZooKeeper jars.
//! - [`probe`]: tiny clients for readiness checks (ZooKeeper four-letter words, a Kafka
//!   Metadata request).
//! - [`kraft`]: KRaft storage formatting ([`Format`]), cluster and directory ids.
//! - `config`: rendering `zoo.cfg`, `server.properties` and logging configs.
//! - `layout`: the cluster directory and where each node keeps its files.
//! - `ports`: free loopback ports.
//! - `process`: spawning detached JVMs, signals, liveness.
//! - `state`: the persisted `sandbox.json`.
//! - `watchdog`: cleans up an owned cluster whose owner died.
//! - `tls`: the CA and broker certificate of a secure cluster (made with `openssl`).

pub mod cluster;
mod config;
pub mod error;
pub mod jars;
pub mod kraft;
mod layout;
pub mod node;
mod ports;
pub mod probe;
mod process;
pub mod spec;
mod state;
mod tls;
mod watchdog;

/// The SASL user of a secure cluster (SCRAM-SHA-256/512 and PLAIN).
pub const SASL_USER: &str = "alice";
/// Its password: distinctive, so tests can search every output for it.
pub const SASL_PASSWORD: &str = "Pw-kafsh-7f3a9c1e";
/// The SCRAM user of a cluster with an authorizer that has no rights until ACLs grant them.
pub const NO_RIGHTS_USER: &str = "bob";
/// Its password.
pub const NO_RIGHTS_PASSWORD: &str = "Pw-bob-5c2e81d4";
/// The super users of a cluster with an authorizer: anonymous clients of the PLAINTEXT
/// listener (the brokers and controllers among themselves, the tests' reference tools),
/// [`SASL_USER`] and the mutual-TLS client certificate (`tls/client.pem`).
pub const SUPER_USERS: &[&str] = &["User:ANONYMOUS", "User:alice", "User:CN=kafsh-client"];
/// The password of a secure cluster's encrypted client keys (`tls/client-encrypted.key`).
pub const CLIENT_KEY_PASSWORD: &str = "Kp-kafsh-2b8d4e6f";

/// ZooKeeper's super user in every sandbox ensemble (`digest` auth `super:<password>`): the
/// one allowed to `reconfig` an ensemble with dynamic reconfiguration.
pub const ZK_SUPER_USER: &str = "super";
/// Its password.
pub const ZK_SUPER_PASSWORD: &str = "Zk-kafsh-5e1d7c3b";
/// `base64(sha1("super:<password>"))`, as ZooKeeper's `superDigest` takes it.
const ZK_SUPER_DIGEST: &str = "bvQuAZqliruhCpcWk6dpO0+UeE8=";

pub use cluster::Cluster;
pub use error::{Error, Result};
pub use kraft::Format;
pub use node::{BrokerNode, ControllerNode, NewNode, Node, ZkNode};
pub use ports::{free_port, PORT_RANGE_VAR};
pub use probe::{KafkaBroker, KafkaMetadata};
pub use spec::{ClusterSpec, Flavor, Quorum, ZkKerberos, FIRST_CONTROLLER_ID};

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// The super user's digest is what ZooKeeper's DigestAuthenticationProvider computes
    /// (`base64(sha1(user:password))`), checked with `openssl` as the TLS setup uses it.
    #[test]
    fn the_super_digest_matches_the_password() {
        let sha1 = Command::new("sh")
            .args(["-c", "openssl dgst -binary -sha1 | openssl base64"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn();
        let Ok(mut child) = sha1 else {
            eprintln!("no sh/openssl: skipped");
            return;
        };
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{}:{}", super::ZK_SUPER_USER, super::ZK_SUPER_PASSWORD).as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("openssl");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            super::ZK_SUPER_DIGEST
        );
    }
}
