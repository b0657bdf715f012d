//! KRaft storage formatting: the cluster id and metadata directory ids, how each node is
//! formatted (`kafka-storage.sh format` through `kafka.tools.StorageTool`), and reading back
//! the directory id a node was given.
//!
//! A static quorum formats every node without a quorum flag. A dynamic quorum (KIP-853)
//! formats its one initial controller with `--standalone`, several with
//! `--initial-controllers id@host:port:directory-id,...` (the directory ids are chosen here,
//! up front), controllers added later with `--no-initial-controllers`, and brokers without a
//! flag.

use std::fs;
use std::io::{self, Read};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::node::Node;
use crate::spec::Quorum;
use crate::state::State;

/// The formatter's main class in the 4.x jars.
pub(crate) const STORAGE_TOOL: &str = "kafka.tools.StorageTool";

/// How [`crate::Cluster::format`] formats a node's storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// As the node was made: brokers and static-quorum nodes without a quorum flag; the
    /// initial controllers of a dynamic quorum with `--standalone` (one) or
    /// `--initial-controllers` (several); controllers added later with
    /// `--no-initial-controllers`.
    #[default]
    AsMade,
    /// `--standalone`: a single-voter dynamic quorum of this controller.
    Standalone,
    /// `--initial-controllers` with the cluster's initial voters.
    InitialControllers,
    /// `--no-initial-controllers`: joins an existing dynamic quorum as an observer.
    NoInitialControllers,
}

/// The StorageTool arguments that say how `node` joins the quorum.
pub(crate) fn quorum_flags(state: &State, node: Node, how: Format) -> Result<Vec<String>> {
    let is_controller = match node {
        Node::Zk(_) => return Err(Error::Unsupported("a ZooKeeper server is not formatted")),
        Node::Controller(id) => {
            state.controller(id)?;
            true
        }
        Node::Broker(id) => state.broker(id)?.controller_port.is_some(),
    };
    let initial = || {
        state.initial_controllers().ok_or(Error::Unsupported(
            "the initial controllers of this cluster have no directory ids (a static quorum?)",
        ))
    };
    let how = match how {
        Format::AsMade => match (state.quorum, node) {
            (Quorum::Static, _) => return Ok(Vec::new()),
            (Quorum::Dynamic, _) if !is_controller => return Ok(Vec::new()),
            (Quorum::Dynamic, Node::Controller(id)) if !state.controller(id)?.initial => {
                Format::NoInitialControllers
            }
            (Quorum::Dynamic, _) if state.quorum_members(true).len() == 1 => Format::Standalone,
            (Quorum::Dynamic, _) => Format::InitialControllers,
        },
        other => other,
    };
    Ok(match how {
        Format::AsMade => Vec::new(),
        Format::Standalone => vec!["--standalone".into()],
        Format::InitialControllers => vec!["--initial-controllers".into(), initial()?],
        Format::NoInitialControllers => vec!["--no-initial-controllers".into()],
    })
}

/// The whole StorageTool command line: format the node whose config is `properties`,
/// skipping a directory that is formatted already. The id goes in `--cluster-id=<id>` form:
/// a ZooKeeper-mode cluster's id (base64 of a random UUID) may start with `-`, which
/// StorageTool's parser takes for an option when it is a separate argument.
pub(crate) fn format_args(cluster_id: &str, properties: &Path, flags: Vec<String>) -> Vec<String> {
    let mut args = vec![
        "format".to_string(),
        format!("--cluster-id={cluster_id}"),
        "--config".to_string(),
        properties.display().to_string(),
        "--ignore-formatted".to_string(),
    ];
    args.extend(flags);
    args
}

/// The `directory.id` of a formatted node's data directory (`<node dir>/data/meta.properties`).
pub(crate) fn read_directory_id(node_dir: &Path) -> Option<String> {
    let text = fs::read_to_string(node_dir.join("data").join("meta.properties")).ok()?;
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("directory.id="))
        .map(|v| v.trim().to_string())
        .next()
}

/// A fresh KRaft cluster or directory id: 16 random bytes, URL-safe base64 without padding
/// (Kafka's `Uuid` form), never starting with `-` or `_`.
pub(crate) fn new_uuid() -> String {
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

/// The error of a failed format run.
pub(crate) fn format_failed(node: Node, out: &std::process::Output) -> Error {
    Error::Tool {
        what: format!("formatting the storage of {node}"),
        status: out.status,
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// `e` with the node it concerns.
pub(crate) fn format_io_error(node: Node, e: Error) -> Error {
    match e {
        Error::Io(e) => Error::Io(io::Error::new(
            e.kind(),
            format!("formatting the storage of {node}: {e}"),
        )),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Flavor;
    use crate::state::{BrokerState, ControllerState};
    use std::path::PathBuf;

    #[test]
    fn base64url_matches_known_values() {
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        let id = new_uuid();
        assert_eq!(id.len(), 22);
        assert!(!id.starts_with('-'));
    }

    fn controller(id: i32, initial: bool) -> ControllerState {
        ControllerState {
            id,
            port: 7000 + id as u16,
            directory_id: initial.then(|| format!("dir{id}")),
            initial,
            pid: None,
        }
    }

    #[test]
    fn quorum_flags_follow_the_quorum_and_the_role() {
        let mut st = State::new(Flavor::KRaft, PathBuf::from("/j"));
        st.brokers = vec![BrokerState {
            id: 1,
            port: 9001,
            controller_port: None,
            secure_port: None,
            mtls_port: None,
            rack: None,
            directory_id: None,
            log_dirs: 1,
            pid: None,
        }];
        st.controllers = vec![controller(101, true)];
        let flags = |st: &State, n, how| quorum_flags(st, n, how).unwrap().join(" ");
        assert_eq!(flags(&st, Node::Controller(101), Format::AsMade), "");
        st.quorum = Quorum::Dynamic;
        assert_eq!(
            flags(&st, Node::Controller(101), Format::AsMade),
            "--standalone"
        );
        assert_eq!(flags(&st, Node::Broker(1), Format::AsMade), "");
        st.controllers.push(controller(102, true));
        st.controllers.push(controller(103, false));
        assert_eq!(
            flags(&st, Node::Controller(101), Format::AsMade),
            "--initial-controllers 101@127.0.0.1:7101:dir101,102@127.0.0.1:7102:dir102"
        );
        assert_eq!(
            flags(&st, Node::Controller(103), Format::AsMade),
            "--no-initial-controllers"
        );
        assert_eq!(
            flags(&st, Node::Controller(101), Format::NoInitialControllers),
            "--no-initial-controllers"
        );
        assert!(matches!(
            quorum_flags(&st, Node::Zk(1), Format::AsMade),
            Err(Error::Unsupported(_))
        ));
        assert!(matches!(
            quorum_flags(&st, Node::Controller(9), Format::AsMade),
            Err(Error::NoSuchNode(Node::Controller(9)))
        ));
    }

    #[test]
    fn the_cluster_id_is_one_argument_even_with_a_leading_hyphen() {
        let args = format_args(
            "-nAEbEF-RDKoY4zWTmCXnA",
            Path::new("/x/s.properties"),
            vec![],
        );
        assert_eq!(args[..2], ["format", "--cluster-id=-nAEbEF-RDKoY4zWTmCXnA"]);
    }

    #[test]
    fn reads_the_directory_id() {
        let dir = crate::layout::prepare_dir(None).unwrap();
        assert_eq!(read_directory_id(&dir), None);
        fs::create_dir_all(dir.join("data")).unwrap();
        fs::write(
            dir.join("data/meta.properties"),
            "#\nnode.id=101\ndirectory.id=SKfoAXgiZhjGn9DlHY5WeA\nversion=1\n",
        )
        .unwrap();
        assert_eq!(
            read_directory_id(&dir).as_deref(),
            Some("SKfoAXgiZhjGn9DlHY5WeA")
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
