//! Process exit codes: documented in README.md and stable across releases.

/// How a kafsh invocation ended. The numeric values are part of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything succeeded.
    Ok = 0,
    /// The script failed: a syntax error, a runtime error, bad arguments to a function, a
    /// missing topic or group, or an explicit `fail()`.
    ScriptError = 1,
    /// Bad command-line usage or a malformed configuration file.
    Usage = 2,
    /// The cluster could not be reached or answered with an error.
    ClusterError = 3,
    /// A network call, command or the whole run exceeded its time limit.
    Timeout = 4,
    /// Refused by a safety rule, declined at a confirmation, or interrupted (Ctrl-C).
    Refused = 5,
    /// Another run holds the lock (`--lock`), so this one did nothing.
    Locked = 6,
    /// `kafsh apply` changed the cluster (with `--dry-run`: would change it); 0 means it
    /// had nothing to do.
    Changed = 7,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> i32 {
        self as i32
    }
}
