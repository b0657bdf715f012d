//! kafsh-sandbox: real Apache ZooKeeper and Apache Kafka processes on 127.0.0.1, for kafsh's
//! tests and for trying kafsh by hand.
//!
//! A [`Cluster`] is a set of plain `java` processes, one per node, each in its own directory
//! under the cluster directory, on free loopback ports. Two kinds are supported (see
//! [`Flavor`]): a ZooKeeper 3.8 ensemble with ZooKeeper-mode Kafka 3.9 brokers, and a KRaft
//! Kafka 4.2 cluster. The jars come from Maven Central through `mvn` and are cached (see
//! [`jars`]). The cluster's layout and process ids live in `<dir>/sandbox.json`, so another
//! process (the `kafsh-sandbox` binary, a runbook's restart command) can act on the same
//! cluster with [`Cluster::open`].
//!
//! Modules:
//! - [`cluster`]: the [`Cluster`] handle and the node views ([`ZkNode`], [`BrokerNode`]).
//! - [`spec`]: [`Flavor`] and [`ClusterSpec`], what to start.
//! - [`jars`]: fetching and caching the Kafka/ZooKeeper jars.
//! - [`probe`]: tiny clients for readiness checks (ZooKeeper four-letter words, a Kafka
//!   Metadata request).
//! - `config`: rendering `zoo.cfg`, `server.properties` and logging configs.
//! - `process`: spawning detached JVMs, signals, liveness.
//! - `state`: the persisted `sandbox.json`.
//! - `tls`: the CA and broker certificate of a secure cluster (made with `openssl`).

pub mod cluster;
mod config;
pub mod jars;
pub mod probe;
mod process;
pub mod spec;
mod state;
mod tls;

/// The SASL user of a secure cluster (SCRAM-SHA-256/512 and PLAIN).
pub const SASL_USER: &str = "alice";
/// Its password: distinctive, so tests can search every output for it.
pub const SASL_PASSWORD: &str = "Pw-kafsh-7f3a9c1e";
/// The password of a secure cluster's encrypted client keys (`tls/client-encrypted.key`).
pub const CLIENT_KEY_PASSWORD: &str = "Kp-kafsh-2b8d4e6f";

pub use cluster::{BrokerNode, Cluster, ClusterSpec, Flavor, ZkNode};
pub use probe::{KafkaBroker, KafkaMetadata};
