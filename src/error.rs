//! The domain error type shared by `kafka`, `zk` and `config`, classified so the CLI can map
//! every failure to a stable exit code.

use crate::exit::ExitStatus;

/// A failure of a domain operation. The message names the object ("topic \"orders\" does not
/// exist"); the script layer prefixes the function name.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// The caller asked for something malformed or impossible (bad name, bad number, ...).
    #[error("{0}")]
    InvalidInput(String),
    /// The named object does not exist on the cluster.
    #[error("{0}")]
    NotFound(String),
    /// The cluster answered with an error, or could not be reached.
    #[error("{0}")]
    Cluster(String),
    /// A network call or command did not finish within its time limit.
    #[error("{0}")]
    Timeout(String),
    /// The operation was refused by a safety rule or aborted by the operator.
    #[error("{0}")]
    Refused(String),
    /// The broker or server is too old for the requested operation.
    #[error("{0}")]
    Unsupported(String),
    /// Configuration (config.toml, properties file) is malformed.
    #[error("{0}")]
    Config(String),
    /// A step of the script failed (a command exited non-zero).
    #[error("{0}")]
    Failed(String),
    /// A change larger than the guard rails allow (see `guard`); the caller may insist.
    #[error("{0}")]
    OutOfProportion(String),
}

impl Error {
    /// The exit status a run ends with when this error escapes the script.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::InvalidInput(_) | Error::NotFound(_) | Error::Failed(_) => {
                ExitStatus::ScriptError
            }
            Error::Cluster(_) | Error::Unsupported(_) => ExitStatus::ClusterError,
            Error::Timeout(_) => ExitStatus::Timeout,
            Error::Refused(_) | Error::OutOfProportion(_) => ExitStatus::Refused,
            Error::Config(_) => ExitStatus::Usage,
        }
    }

    /// The same error with its message rewritten (kind kept).
    pub fn map_message(self, f: impl FnOnce(String) -> String) -> Error {
        match self {
            Error::InvalidInput(m) => Error::InvalidInput(f(m)),
            Error::NotFound(m) => Error::NotFound(f(m)),
            Error::Cluster(m) => Error::Cluster(f(m)),
            Error::Timeout(m) => Error::Timeout(f(m)),
            Error::Refused(m) => Error::Refused(f(m)),
            Error::Unsupported(m) => Error::Unsupported(f(m)),
            Error::Config(m) => Error::Config(f(m)),
            Error::Failed(m) => Error::Failed(f(m)),
            Error::OutOfProportion(m) => Error::OutOfProportion(f(m)),
        }
    }
}

/// Result of a domain operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
