//! The node model: [`Node`] names one process of a cluster (a ZooKeeper server, a Kafka
//! broker, a KRaft controller); every per-node operation of [`crate::Cluster`] takes one.
//! [`NewNode`] says what [`crate::Cluster::add`] makes, and [`ZkNode`], [`BrokerNode`] and
//! [`ControllerNode`] are views of a node as it is now.

use std::fmt;
use std::path::PathBuf;

/// One node of a cluster. Ids are per kind: ZooKeeper's `myid`, Kafka's `node.id`.
///
/// A combined KRaft node (`process.roles=broker,controller`, the default KRaft cluster's
/// nodes) is a [`Node::Broker`] whose view has a `controller_port`; [`Node::Controller`] is
/// a controller-only node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    Zk(u32),
    Broker(i32),
    Controller(i32),
}

impl Node {
    /// The node's id (lossless for every kind).
    pub fn id(self) -> i64 {
        match self {
            Node::Zk(id) => i64::from(id),
            Node::Broker(id) | Node::Controller(id) => i64::from(id),
        }
    }

    /// Whether it is a Kafka process (broker or controller), as opposed to ZooKeeper.
    pub fn is_kafka(self) -> bool {
        !matches!(self, Node::Zk(_))
    }

    /// The name of its directory inside the cluster directory.
    pub(crate) fn dir_name(self) -> String {
        match self {
            Node::Zk(id) => format!("zk-{id}"),
            Node::Broker(id) => format!("broker-{id}"),
            Node::Controller(id) => format!("controller-{id}"),
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Zk(id) => write!(f, "ZooKeeper server {id}"),
            Node::Broker(id) => write!(f, "broker {id}"),
            Node::Controller(id) => write!(f, "controller {id}"),
        }
    }
}

/// What [`crate::Cluster::add`] makes: a node with its directory, ports and configuration
/// (KRaft nodes formatted), not started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewNode {
    /// A ZooKeeper server with this id (default: the highest + 1) whose `zoo.cfg` lists the
    /// current servers plus itself; the other servers' configs are left alone
    /// ([`crate::Cluster::write_zk_config`] changes them).
    Zk { id: Option<u32> },
    /// A ZooKeeper observer (a non-voting server) with this id (default: the highest + 1),
    /// otherwise as [`NewNode::Zk`]: its `zoo.cfg` lists the current servers plus itself as
    /// an observer.
    ZkObserver { id: Option<u32> },
    /// A Kafka broker (KRaft: a broker-only node) with the next broker id.
    Broker { rack: Option<String> },
    /// A KRaft controller-only node with the next controller id, formatted with
    /// `--no-initial-controllers`: once started it is an observer of the quorum until it is
    /// added as a voter (AddRaftVoter). Dynamic quorums only. On a ZooKeeper-flavor cluster:
    /// a Kafka 3.9 controller-only node for the migration to KRaft, a voter of the static
    /// quorum of all such controllers (`controller.quorum.voters`, rewritten in those not yet
    /// formatted), not formatted: the migration formats it with the id of `/cluster/id`.
    Controller,
}

/// A ZooKeeper server of the cluster, as seen now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkNode {
    pub id: u32,
    pub client_port: u16,
    pub peer_port: u16,
    pub election_port: u16,
    /// Listed as an observer (non-voting) in the configs the sandbox writes for it.
    pub observer: bool,
    pub dir: PathBuf,
    /// The process exists (possibly paused).
    pub running: bool,
    /// The process is stopped by SIGSTOP.
    pub paused: bool,
    /// Pid while running.
    pub pid: Option<u32>,
}

/// A Kafka broker (or combined KRaft node) of the cluster, as seen now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerNode {
    pub id: i32,
    /// Port of the PLAINTEXT listener.
    pub port: u16,
    /// Port of the CONTROLLER listener of a combined KRaft node.
    pub controller_port: Option<u16>,
    /// The metadata log directory's id of a combined node (once formatted; chosen up front
    /// for the initial voters of a dynamic quorum).
    pub directory_id: Option<String>,
    pub dir: PathBuf,
    pub running: bool,
    pub paused: bool,
    pub pid: Option<u32>,
    pub rack: Option<String>,
}

/// A KRaft controller-only node of the cluster, as seen now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerNode {
    pub id: i32,
    /// Port of its CONTROLLER listener.
    pub port: u16,
    /// Its metadata log directory's id (`directory.id` of `meta.properties`), once formatted.
    pub directory_id: Option<String>,
    /// Whether it was one of the voters the cluster was formatted with (false: added later).
    pub initial_voter: bool,
    pub dir: PathBuf,
    pub running: bool,
    pub paused: bool,
    pub pid: Option<u32>,
}

impl ZkNode {
    pub fn node(&self) -> Node {
        Node::Zk(self.id)
    }

    /// `127.0.0.1:<client port>`.
    pub fn client_endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }
}

impl BrokerNode {
    pub fn node(&self) -> Node {
        Node::Broker(self.id)
    }
}

impl ControllerNode {
    pub fn node(&self) -> Node {
        Node::Controller(self.id)
    }

    /// `127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids() {
        assert_eq!(Node::Zk(2).to_string(), "ZooKeeper server 2");
        assert_eq!(Node::Broker(4).to_string(), "broker 4");
        assert_eq!(Node::Controller(101).to_string(), "controller 101");
        assert_eq!(Node::Controller(101).dir_name(), "controller-101");
        assert_eq!(Node::Zk(u32::MAX).id(), i64::from(u32::MAX));
        assert!(!Node::Zk(1).is_kafka() && Node::Broker(1).is_kafka());
    }
}
