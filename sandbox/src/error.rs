//! The sandbox's error type: what went wrong, with the node, directory or command it concerns,
//! so a caller can match on it and a human reads where to look (a node's logs are quoted).

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;

use crate::node::Node;

/// A sandbox operation's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The [`crate::ClusterSpec`] contradicts itself.
    #[error("invalid cluster spec: {0}")]
    InvalidSpec(String),

    /// The directory given for a new cluster already holds one.
    #[error(
        "{} already holds a sandbox cluster: attach with Cluster::open, or remove it \
         (kafsh-sandbox down --dir {})",
        .0.display(),
        .0.display()
    )]
    ClusterExists(PathBuf),

    /// The directory given for a new cluster holds something else.
    #[error("{} is not empty", .0.display())]
    DirNotEmpty(PathBuf),

    /// No cluster state where one was expected.
    #[error("no sandbox cluster at {}: {source}", .dir.display())]
    NoCluster {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },

    /// `sandbox.json` cannot be understood.
    #[error("bad sandbox state {}: {reason}", .path.display())]
    BadState { path: PathBuf, reason: String },

    /// The cluster has no such node.
    #[error("no {0} in this cluster")]
    NoSuchNode(Node),

    /// A node with that id exists already (or the id is not valid for the kind).
    #[error("{0} exists already or its id is not valid")]
    IdTaken(Node),

    /// The node is paused (SIGSTOP) and cannot be started.
    #[error("{0} is paused; resume it first")]
    Paused(Node),

    /// The node must be running for this (pause, resume).
    #[error("{0} is not running")]
    NotRunning(Node),

    /// The node must be stopped for this (format).
    #[error("{0} is running; stop it first")]
    Running(Node),

    /// The cluster's kind or quorum does not have or allow this.
    #[error("{0}")]
    Unsupported(&'static str),

    /// A node exited or did not serve in time; the last lines of its logs are included.
    #[error(
        "{node} {problem}; see {dir}/server.log and {dir}/stdout.log\n\
         last lines of server.log:\n{server_log}last lines of stdout.log:\n{stdout_log}",
        dir = .dir.display()
    )]
    Node {
        node: Node,
        problem: String,
        /// Whether it is a matter of time (the node may still come up).
        timed_out: bool,
        dir: PathBuf,
        server_log: String,
        stdout_log: String,
    },

    /// A process survived SIGKILL.
    #[error("process {pid} of {} did not die", .dir.display())]
    Undying { pid: u32, dir: PathBuf },

    /// A Kafka command-line tool the sandbox ran for itself failed.
    #[error("{what} failed ({status}):\n{output}")]
    Tool {
        what: String,
        status: ExitStatus,
        output: String,
    },

    /// No ZooKeeper server became leader in time.
    #[error("no ZooKeeper leader within {secs}s in {}", .dir.display())]
    NoZkLeader { secs: u64, dir: PathBuf },

    /// An I/O error: a file, a port, a process, a download.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl Error {
    /// Whether waiting longer might have helped.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Node { timed_out, .. } => *timed_out,
            Error::NoZkLeader { .. } => true,
            Error::Io(e) => e.kind() == io::ErrorKind::TimedOut,
            _ => false,
        }
    }
}
