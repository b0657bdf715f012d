//! The cluster directory: making a fresh one (or checking a given one), and where each node
//! and the tools keep their files.
//!
//! - `sandbox.json`: the state (see `state`), `pids`: live pids, `owner`/`keep`: watchdog
//!   markers (see `watchdog`);
//! - `zk-<id>/`: `zoo.cfg`, `log4j.properties`, `data/myid`, `server.log`, `stdout.log`;
//! - `broker-<id>/`, `controller-<id>/`: `server.properties`, `log4j.properties` (3.9) or
//!   `log4j2.properties` (4.x), `data/` (KRaft: with `meta.properties` once formatted),
//!   `server.log`, `stdout.log`; any node: `jvm.options`, extra JVM options a test adds
//!   (one per line), read at each start;
//! - `tools/`: logging configs of the command-line tools; `tls/`: a secure cluster's
//!   certificates.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::node::Node;
use crate::state::STATE_FILE;

/// The directory of `node` in the cluster directory `dir`.
pub(crate) fn node_dir(dir: &Path, node: Node) -> PathBuf {
    dir.join(node.dir_name())
}

/// The directory of the command-line tools' logging configs.
pub(crate) fn tools_dir(dir: &Path) -> PathBuf {
    dir.join("tools")
}

/// The directory of a secure cluster's certificates.
pub(crate) fn tls_dir(dir: &Path) -> PathBuf {
    dir.join("tls")
}

/// Makes (or checks) the cluster directory and returns it absolute: `None` makes a fresh one
/// under the temp dir; a given one must be empty or missing.
pub(crate) fn prepare_dir(dir: Option<&Path>) -> Result<PathBuf> {
    let dir = match dir {
        None => fresh_temp_dir()?,
        Some(d) => {
            if d.join(STATE_FILE).exists() {
                return Err(Error::ClusterExists(d.to_path_buf()));
            }
            fs::create_dir_all(d).map_err(|e| with_path(e, "create", d))?;
            if fs::read_dir(d)?.next().is_some() {
                return Err(Error::DirNotEmpty(d.to_path_buf()));
            }
            d.to_path_buf()
        }
    };
    Ok(dir.canonicalize()?)
}

fn fresh_temp_dir() -> Result<PathBuf> {
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
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(with_path(e, "create", &d).into()),
        }
    }
}

/// `e` with the action and path in its message.
pub(crate) fn with_path(e: io::Error, action: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("cannot {action} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_directory_must_be_empty() {
        let base = prepare_dir(None).unwrap();
        assert!(base.is_absolute() && base.is_dir());
        let sub = base.join("c");
        assert_eq!(prepare_dir(Some(&sub)).unwrap(), sub);
        fs::write(sub.join("x"), "").unwrap();
        assert!(matches!(
            prepare_dir(Some(&sub)),
            Err(Error::DirNotEmpty(_))
        ));
        fs::write(sub.join(STATE_FILE), "{}").unwrap();
        assert!(matches!(
            prepare_dir(Some(&sub)),
            Err(Error::ClusterExists(_))
        ));
        assert_eq!(
            node_dir(&base, Node::Controller(101)),
            base.join("controller-101")
        );
        fs::remove_dir_all(base).unwrap();
    }
}
