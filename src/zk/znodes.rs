//! Znodes through a ZooKeeper session: list, read (text or JSON, with the stat), tree, and
//! guarded writes that refuse Kafka's own paths unless forced; plus the brokers Kafka
//! registered under `<chroot>/brokers/ids`.

use crate::config::ZkConnect;
use crate::error::{Error, Result};
use serde::Serialize;
use std::time::Duration;
use zookeeper_client as zk;

/// Paths (under the chroot) that Kafka owns; writes there need `force`.
pub const KAFKA_PATHS: &[&str] = &[
    "/brokers",
    "/controller",
    "/controller_epoch",
    "/admin",
    "/config",
    "/cluster",
    "/feature",
    "/isr_change_notification",
    "/latest_producer_id_block",
    "/log_dir_event_notification",
    "/kafka-acl",
    "/kafka-acl-changes",
    "/kafka-acl-extended",
    "/kafka-acl-extended-changes",
    "/migration",
    "/zookeeper",
];

/// Who may touch a znode kafsh creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZkAcl {
    /// Anyone may do anything (ZooKeeper's `world:anyone:cdrwa`).
    #[default]
    Open,
    /// Only sessions with the creator's digest auth.
    Creator,
    /// The creator's auth may do anything; anyone may read.
    CreatorWorldRead,
}

static CREATOR_WORLD_READ: [zk::Acl; 2] = [
    zk::Acl::new_const(zk::Permission::ALL, "auth", ""),
    zk::Acl::new_const(zk::Permission::READ, "world", "anyone"),
];

impl ZkAcl {
    /// From the `acl` option's text: "open", "creator" or "read".
    pub fn parse(text: &str) -> Result<ZkAcl> {
        match text {
            "open" => Ok(ZkAcl::Open),
            "creator" => Ok(ZkAcl::Creator),
            "read" => Ok(ZkAcl::CreatorWorldRead),
            other => Err(Error::InvalidInput(format!(
                "acl must be \"open\", \"creator\" or \"read\", not {other:?}"
            ))),
        }
    }

    fn acls(self) -> zk::Acls<'static> {
        match self {
            ZkAcl::Open => zk::Acls::anyone_all(),
            ZkAcl::Creator => zk::Acls::creator_all(),
            ZkAcl::CreatorWorldRead => zk::Acls::new(&CREATOR_WORLD_READ),
        }
    }
}

/// A connected ZooKeeper session, rooted at the connect string's chroot.
pub struct ZkSession {
    client: zk::Client,
    chroot: String,
    hosts: String,
}

impl ZkSession {
    /// Connects (with optional digest auth `user:password`) within `timeout`. Each server
    /// gets `connect_timeout` to accept the connection and answer the session handshake, so
    /// a paused server in the connect string costs at most that, once per session (the
    /// client then moves to the next one, and stays with a server that answers).
    pub async fn connect(
        connect: &ZkConnect,
        digest: Option<&str>,
        sasl: Option<&str>,
        timeout: Duration,
        connect_timeout: Duration,
    ) -> Result<ZkSession> {
        let hosts = connect.servers.join(",");
        // The client waits connect_timeout per server only while that is at most 3/5 of
        // the session timeout (zookeeper-client's rule).
        let session_timeout = Duration::from_secs(10).max(connect_timeout * 2);
        let mut connector = zk::Client::connector()
            .with_session_timeout(session_timeout)
            .with_connection_timeout(connect_timeout);
        if let Some(auth) = digest {
            connector = connector.with_auth("digest", auth.as_bytes());
        }
        if let Some((user, password)) = sasl.and_then(|s| s.split_once(':')) {
            connector = connector.with_sasl(zk::SaslOptions::digest_md5(
                user.to_string(),
                password.to_string(),
            ));
        }
        let client = tokio::time::timeout(timeout, connector.connect(&hosts))
            .await
            .map_err(|_| {
                Error::Timeout(format!(
                    "no ZooKeeper server of {hosts} answered within {}",
                    crate::kafka::conn::human(timeout)
                ))
            })?
            .map_err(|e| match (e, sasl.and_then(|s| s.split_once(':'))) {
                (zk::Error::AuthFailed, Some((user, _))) => Error::Config(format!(
                    "ZooKeeper {hosts} refused the SASL DIGEST-MD5 login of zookeeper_sasl_user {user:?}"
                )),
                (e, _) => Error::Cluster(format!("cannot connect to ZooKeeper {hosts}: {e}")),
            })?;
        Ok(ZkSession {
            client,
            chroot: connect.chroot.clone(),
            hosts,
        })
    }

    /// Whether the session is over (expired, closed, or refused its auth): a new one is
    /// needed, e.g. after the ensemble was unreachable for longer than the session timeout.
    pub fn is_over(&self) -> bool {
        self.client.state().is_terminated()
    }

    /// The client, for the calls of `config` and `reconfig`.
    pub(crate) fn client(&self) -> &zk::Client {
        &self.client
    }

    /// The membership in `/zookeeper/config` as the connected server has it (3.5+; outside
    /// any chroot).
    pub async fn config(&self) -> Result<super::config::Membership> {
        let (data, _) = self
            .read("/zookeeper/config", || self.client.get_config())
            .await?;
        super::config::Membership::parse(&String::from_utf8_lossy(&data))
    }

    /// The servers of the connect string, for messages.
    pub fn servers(&self) -> &str {
        &self.hosts
    }

    /// Runs a read, again after a lost connection (the client moves to another server;
    /// reads are safe to repeat), until it succeeds, fails otherwise, or the call's time
    /// limit ends it.
    async fn read<T, F, Fut>(&self, path: &str, op: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, zk::Error>>,
    {
        let mut delay = Duration::from_millis(50);
        loop {
            match op().await {
                // A lost connection, or one that stopped answering ("no response from
                // connection in ..."): the client connects to another server meanwhile.
                Err(zk::Error::ConnectionLoss | zk::Error::Custom(_)) => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
                other => return other.map_err(|e| zk_error(e, path)),
            }
        }
    }

    /// The absolute path of `path` under the chroot.
    pub fn full_path(&self, path: &str) -> Result<String> {
        if !path.starts_with('/') {
            return Err(Error::InvalidInput(format!(
                "znode path {path:?} must start with '/'"
            )));
        }
        if path.len() > 1 && path.ends_with('/') {
            return Err(Error::InvalidInput(format!(
                "znode path {path:?} must not end with '/'"
            )));
        }
        // What ZooKeeper's PathUtils refuses, said before anything is sent.
        if path.len() > 1 {
            for name in path[1..].split('/') {
                let why = match name {
                    "" => Some("an empty name (\"//\")".to_string()),
                    "." | ".." => Some(format!("the relative name {name:?}")),
                    n => n
                        .chars()
                        .find(|c| {
                            c.is_control()
                                || ('\u{e000}'..='\u{f8ff}').contains(c)
                                || ('\u{fff0}'..='\u{ffff}').contains(c)
                        })
                        .map(|c| format!("the character {c:?}")),
                };
                if let Some(why) = why {
                    return Err(Error::InvalidInput(format!(
                        "znode path {path:?} contains {why}"
                    )));
                }
            }
        }
        if path == "/" {
            return Ok(if self.chroot.is_empty() {
                "/".into()
            } else {
                self.chroot.clone()
            });
        }
        Ok(format!("{}{}", self.chroot, path))
    }

    /// Children of `path`, sorted (numerically when they are all numbers, like broker ids).
    pub async fn ls(&self, path: &str) -> Result<Vec<String>> {
        let full = self.full_path(path)?;
        let mut children = self.read(path, || self.client.list_children(&full)).await?;
        sort_children(&mut children);
        Ok(children)
    }

    /// Data and stat of `path`.
    pub async fn get(&self, path: &str) -> Result<Znode> {
        let full = self.full_path(path)?;
        let (data, stat) = self.read(path, || self.client.get_data(&full)).await?;
        Ok(Znode::new(path, &data, &stat))
    }

    /// Whether `path` exists.
    pub async fn exists(&self, path: &str) -> Result<bool> {
        let full = self.full_path(path)?;
        Ok(self
            .read(path, || self.client.check_stat(&full))
            .await?
            .is_some())
    }

    /// `path` and its descendants down to `depth` levels, depth-first.
    pub async fn tree(&self, path: &str, depth: usize) -> Result<Vec<TreeEntry>> {
        let mut out = Vec::new();
        let mut stack = vec![(path.to_string(), 0usize)];
        while let Some((p, level)) = stack.pop() {
            let full = self.full_path(&p)?;
            let (children, stat) = match self.read(&p, || self.client.get_children(&full)).await {
                Ok(r) => r,
                Err(Error::NotFound(_)) if level > 0 => continue,
                Err(e) => return Err(e),
            };
            let mut children = children;
            sort_children(&mut children);
            out.push(TreeEntry {
                path: p.clone(),
                depth: level,
                children: children.len(),
                data_length: stat.data_length,
            });
            if level < depth {
                for c in children.iter().rev() {
                    let child = if p == "/" {
                        format!("/{c}")
                    } else {
                        format!("{p}/{c}")
                    };
                    stack.push((child, level + 1));
                }
            }
        }
        Ok(out)
    }

    /// Sets the data of an existing znode (optionally only at `version`).
    pub async fn set(&self, path: &str, data: &[u8], version: Option<i32>) -> Result<Znode> {
        let full = self.full_path(path)?;
        self.client
            .set_data(&full, data, version)
            .await
            .map_err(|e| zk_error(e, path))?;
        self.get(path).await
    }

    /// Creates a znode (persistent, or ephemeral for this session), parents too when asked
    /// (parents are open to anyone; `acl` applies to the znode itself).
    pub async fn create(
        &self,
        path: &str,
        data: &[u8],
        ephemeral: bool,
        parents: bool,
        acl: ZkAcl,
    ) -> Result<Znode> {
        let full = self.full_path(path)?;
        let acls = zk::Acls::anyone_all();
        let mode = if ephemeral {
            zk::CreateMode::Ephemeral
        } else {
            zk::CreateMode::Persistent
        };
        if parents {
            if let Some((parent, _)) = full.rsplit_once('/') {
                if !parent.is_empty() {
                    let opts = zk::CreateMode::Persistent.with_acls(acls);
                    match self.client.mkdir(parent, &opts).await {
                        Ok(()) | Err(zk::Error::NodeExists) => {}
                        Err(e) => return Err(zk_error(e, path)),
                    }
                }
            }
        }
        let opts = mode.with_acls(acl.acls());
        self.client
            .create(&full, data, &opts)
            .await
            .map_err(|e| zk_error(e, path))?;
        self.get(path).await
    }

    /// Deletes a znode; with `recursive`, its descendants first.
    pub async fn delete(&self, path: &str, recursive: bool) -> Result<usize> {
        let mut order = Vec::new();
        if recursive {
            let all = self.tree(path, usize::MAX).await?;
            order.extend(all.into_iter().map(|e| e.path).rev());
        } else {
            order.push(path.to_string());
        }
        let count = order.len();
        for p in order {
            let full = self.full_path(&p)?;
            self.client
                .delete(&full, None)
                .await
                .map_err(|e| zk_error(e, &p))?;
        }
        Ok(count)
    }
}

/// Whether `path` is Kafka's (or ZooKeeper's) own.
pub fn is_protected(path: &str) -> bool {
    path == "/"
        || KAFKA_PATHS
            .iter()
            .any(|k| path == *k || path.starts_with(&format!("{k}/")))
}

fn sort_children(children: &mut [String]) {
    if children.iter().all(|c| c.parse::<i64>().is_ok()) {
        children.sort_by_key(|c| c.parse::<i64>().unwrap_or(0));
    } else {
        children.sort();
    }
}

/// A ZooKeeper error as a domain error naming the path.
pub fn zk_error(e: zk::Error, path: &str) -> Error {
    match e {
        zk::Error::NoNode => Error::NotFound(format!("znode {path:?} does not exist")),
        zk::Error::NodeExists => Error::InvalidInput(format!("znode {path:?} already exists")),
        zk::Error::NotEmpty => Error::Refused(format!(
            "znode {path:?} has children; delete them first, or delete it with its children (recursive)"
        )),
        zk::Error::BadVersion => Error::Refused(format!(
            "znode {path:?} changed meanwhile (version mismatch)"
        )),
        zk::Error::NoAuth => Error::Refused(format!(
            "znode {path:?} is protected by an ACL this session does not satisfy: give the context zookeeper_auth = \"user:password\" (or zookeeper_auth_file, or KAFSH_ZOOKEEPER_AUTH) for a digest ACL, zookeeper_sasl_user with zookeeper_sasl_password_file for a sasl ACL"
        )),
        zk::Error::InvalidAcl => Error::InvalidInput(format!(
            "znode {path:?}: a creator-only ACL needs digest auth in this session (zookeeper_auth)"
        )),
        zk::Error::Timeout => Error::Timeout(format!("ZooKeeper timed out on {path:?}")),
        other => Error::Cluster(format!("ZooKeeper error on {path:?}: {other}")),
    }
}

/// A znode's data and stat.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Znode {
    /// Path (relative to the chroot).
    pub path: String,
    /// Data as text (none when it is not UTF-8).
    pub data: Option<String>,
    /// Data parsed as JSON, when it is JSON.
    pub json: Option<serde_json::Value>,
    /// Data version.
    pub version: i32,
    /// Children count.
    pub num_children: i32,
    /// Data size in bytes.
    pub data_length: i32,
    /// Creation time, ms since the epoch.
    pub ctime: i64,
    /// Last modification time, ms since the epoch.
    pub mtime: i64,
    /// Session id of the owner when ephemeral, else 0.
    pub ephemeral_owner: i64,
    /// Creation zxid, hex.
    pub czxid: String,
    /// Last modification zxid, hex.
    pub mzxid: String,
}

impl Znode {
    fn new(path: &str, data: &[u8], stat: &zk::Stat) -> Znode {
        let text = String::from_utf8(data.to_vec()).ok();
        let json = text
            .as_deref()
            .filter(|t| t.trim_start().starts_with('{') || t.trim_start().starts_with('['))
            .and_then(|t| serde_json::from_str(t).ok());
        Znode {
            path: path.to_string(),
            data: text,
            json,
            version: stat.version,
            num_children: stat.num_children,
            data_length: stat.data_length,
            ctime: stat.ctime,
            mtime: stat.mtime,
            ephemeral_owner: stat.ephemeral_owner,
            czxid: format!("0x{:x}", stat.czxid),
            mzxid: format!("0x{:x}", stat.mzxid),
        }
    }
}

/// One node of `zk_tree`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TreeEntry {
    /// Path (relative to the chroot).
    pub path: String,
    /// Depth below the start.
    pub depth: usize,
    /// Children count.
    pub children: usize,
    /// Data size in bytes.
    pub data_length: i32,
}

/// A broker registration under `/brokers/ids`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ZkBroker {
    /// Broker id.
    pub id: i32,
    /// Host of the first endpoint.
    pub host: Option<String>,
    /// Port of the first endpoint.
    pub port: Option<i64>,
    /// Rack, when set.
    pub rack: Option<String>,
    /// Every listener endpoint.
    pub endpoints: Vec<String>,
    /// Registration time, ms since the epoch.
    pub timestamp: Option<String>,
    /// The whole registration.
    pub registration: serde_json::Value,
}

/// Brokers registered in ZooKeeper (the seed's `ls /peter-kafka/brokers/ids`).
pub async fn zk_brokers(session: &ZkSession) -> Result<Vec<ZkBroker>> {
    let ids = match session.ls("/brokers/ids").await {
        Ok(ids) => ids,
        Err(Error::NotFound(_)) => {
            return Err(Error::NotFound(format!(
                "no /brokers/ids under {:?}: is the chroot right, and is this a ZooKeeper-mode Kafka cluster?",
                if session.chroot.is_empty() { "/" } else { &session.chroot }
            )))
        }
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for id in ids {
        let node = match session.get(&format!("/brokers/ids/{id}")).await {
            Ok(n) => n,
            Err(Error::NotFound(_)) => continue, // went away meanwhile
            Err(e) => return Err(e),
        };
        let reg = node.json.clone().unwrap_or(serde_json::Value::Null);
        let endpoints: Vec<String> = reg["endpoints"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let (mut host, mut port) = (reg["host"].as_str().map(String::from), reg["port"].as_i64());
        if host.is_none() || port.is_none() || port == Some(-1) {
            if let Some(first) = endpoints.first() {
                if let Some((h, p)) = first
                    .rsplit_once("://")
                    .map(|(_, hp)| hp)
                    .and_then(|hp| hp.rsplit_once(':'))
                {
                    host = Some(h.to_string());
                    port = p.parse().ok();
                }
            }
        }
        out.push(ZkBroker {
            id: id.parse().unwrap_or(-1),
            host,
            port,
            rack: reg["rack"].as_str().map(String::from),
            endpoints,
            timestamp: reg["timestamp"].as_str().map(String::from),
            registration: reg,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_paths_are_protected() {
        assert!(is_protected("/brokers/ids/1"));
        assert!(is_protected("/admin/reassign_partitions"));
        assert!(is_protected("/"));
        assert!(!is_protected("/consumers/g/offsets/t/0"));
        assert!(!is_protected("/brokersx"));
    }

    #[test]
    fn children_sort_numerically() {
        let mut c = vec!["10".to_string(), "2".into(), "1".into()];
        sort_children(&mut c);
        assert_eq!(c, vec!["1", "2", "10"]);
    }
}
