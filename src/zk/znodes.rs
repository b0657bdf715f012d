//! Znodes through a ZooKeeper session: list, read (text or JSON, with the stat), tree, and
//! guarded writes that refuse Kafka's own paths unless forced; plus the brokers Kafka
//! registered under `<chroot>/brokers/ids`.

use super::security::{ZkAuth, ZkKerberos, ZkTls};
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
    /// Ends the thread a Kerberos session runs on when the session goes (after `client`).
    _kerberos_thread: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The host of `host:port`.
fn host_of(server: &str) -> &str {
    let server = server
        .strip_prefix("tcp+tls://")
        .or_else(|| server.strip_prefix("tcp://"))
        .unwrap_or(server);
    match server.rsplit_once(':') {
        Some((host, _)) => host.trim_start_matches('[').trim_end_matches(']'),
        None => server,
    }
}

type Connected = (
    std::result::Result<zk::Client, zk::Error>,
    Option<tokio::sync::oneshot::Sender<()>>,
);

/// A Kerberos session: logs in first (a clear error when the keytab or ticket cache cannot
/// give a ticket for the server), then connects on a thread of its own whose default ticket
/// cache is the login's. zookeeper-client's SASL (rsasl) takes the default credentials of
/// the thread it runs on, and MIT krb5 keeps the default cache per thread, so the session
/// (and its logins again after a lost connection) runs there, on a runtime of its own.
async fn connect_with_kerberos(
    connector: zk::Connector,
    hosts: String,
    secure: bool,
    k: &ZkKerberos,
    host: &str,
) -> Result<Connected> {
    let settings = crate::kafka::gssapi::KerberosSettings {
        service_name: k.service.clone(),
        principal: k.principal.clone(),
        keytab: k.keytab.clone(),
    };
    let ccache_of_login = {
        let host = host.to_string();
        let settings = settings.clone();
        let cache = k.ticket_cache.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(cache) = &cache {
                crate::kafka::gssapi::use_ccache_on_this_thread(cache)?;
            }
            crate::kafka::gssapi::login(&settings, &host)
        })
        .await
        .map_err(|e| Error::Cluster(format!("Kerberos login: {e}")))?
        .map_err(|e| match e {
            Error::Config(m) => Error::Config(format!(
                "ZooKeeper Kerberos login ({}): {}",
                k.source,
                m.replace("sasl.kerberos.keytab", "keytab")
            )),
            other => other,
        })?
    };
    let ccache = ccache_of_login.or_else(|| k.ticket_cache.clone());
    let (answer_tx, answer_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("kafsh-zk-kerberos".into())
        .spawn(move || {
            if let Some(cache) = &ccache {
                if let Err(e) = crate::kafka::gssapi::use_ccache_on_this_thread(cache) {
                    let _ = answer_tx.send(Err(e));
                    return;
                }
            }
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = answer_tx.send(Err(Error::Cluster(format!(
                        "cannot start the ZooKeeper session's runtime: {e}"
                    ))));
                    return;
                }
            };
            runtime.block_on(async move {
                let client = if secure {
                    connector.secure_connect(&hosts).await
                } else {
                    connector.connect(&hosts).await
                };
                if answer_tx.send(Ok(client)).is_err() {
                    return;
                }
                let _ = stop_rx.await;
                // Time for the session's close request to go out.
                tokio::time::sleep(Duration::from_millis(200)).await;
            });
        })
        .map_err(|e| Error::Cluster(format!("cannot start the ZooKeeper session's thread: {e}")))?;
    let client = answer_rx
        .await
        .map_err(|_| Error::Cluster("the ZooKeeper session's thread ended".into()))??;
    Ok((client, Some(stop_tx)))
}

/// Why the first reachable server's TLS handshake fails, if it does (an untrusted
/// certificate, a refused client certificate).
async fn tls_refusal(servers: &[String], tls: &ZkTls, limit: Duration) -> Option<String> {
    let connector = match tls.connector() {
        Ok(c) => c,
        Err(e) => return Some(e.to_string()),
    };
    for server in servers {
        let Ok(Ok(stream)) =
            tokio::time::timeout(limit, tokio::net::TcpStream::connect(server.as_str())).await
        else {
            continue;
        };
        let Ok(name) = rustls::pki_types::ServerName::try_from(host_of(server).to_string()) else {
            continue;
        };
        let handshake = async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = connector.connect(name, stream).await?;
            // TLS 1.3 servers refuse a client certificate after the handshake: the first
            // read shows it.
            stream.write_all(&[0, 0, 0, 0]).await?;
            let mut byte = [0u8; 1];
            let _ = tokio::time::timeout(limit / 4, stream.read(&mut byte)).await;
            Ok::<_, std::io::Error>(())
        };
        return match tokio::time::timeout(limit, handshake).await {
            Ok(Err(e)) => Some(format!("{server}: {e}")),
            _ => None,
        };
    }
    None
}

/// A failed connect as the domain's error: a refused login names the setting (exit 2).
fn connect_error(e: zk::Error, hosts: &str, auth: &ZkAuth) -> Error {
    let sasl_user = auth.sasl.as_deref().and_then(|s| s.split_once(':'));
    match (e, sasl_user, &auth.kerberos) {
        (zk::Error::AuthFailed, _, Some(k)) => Error::Config(format!(
            "ZooKeeper {hosts} refused the Kerberos login ({}{})",
            k.source,
            k.principal
                .as_deref()
                .map(|p| format!(", principal {p}"))
                .unwrap_or_default()
        )),
        (zk::Error::AuthFailed, Some((user, _)), None) => Error::Config(format!(
            "ZooKeeper {hosts} refused the SASL DIGEST-MD5 login of zookeeper_sasl_user {user:?}"
        )),
        (e, _, _) => {
            let text = e.to_string();
            let tls_words = [
                "certificate",
                "Certificate",
                "tls",
                "TLS",
                "handshake",
                "UnknownIssuer",
            ];
            match &auth.tls {
                Some(tls) if tls_words.iter().any(|w| text.contains(w)) => Error::Config(format!(
                    "cannot connect to ZooKeeper {hosts} over TLS (trusting {}): {text}",
                    tls.source
                )),
                _ => Error::Cluster(format!("cannot connect to ZooKeeper {hosts}: {text}")),
            }
        }
    }
}

impl ZkSession {
    /// Connects within `timeout`, authenticated and encrypted as `auth` says (digest auth,
    /// SASL DIGEST-MD5 or Kerberos, TLS). Each server gets `connect_timeout` to accept the
    /// connection and answer the session handshake, so a paused server in the connect
    /// string costs at most that, once per session (the client then moves to the next one,
    /// and stays with a server that answers).
    pub async fn connect(
        connect: &ZkConnect,
        auth: &ZkAuth,
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
        if let Some(digest) = &auth.digest {
            connector = connector.with_auth("digest", digest.as_bytes());
        }
        let sasl_user = auth.sasl.as_deref().and_then(|s| s.split_once(':'));
        if let Some((user, password)) = sasl_user {
            connector = connector.with_sasl(zk::SaslOptions::digest_md5(
                user.to_string(),
                password.to_string(),
            ));
        }
        if let Some(tls) = &auth.tls {
            connector = connector.with_tls(tls.options()?);
        }
        let first_host = connect
            .servers
            .first()
            .map(|s| host_of(s).to_string())
            .unwrap_or_default();
        let mut kerberos_thread = None;
        if let Some(k) = &auth.kerberos {
            let mut gss = zk::SaslOptions::gssapi().with_username(k.service.clone());
            if let Some(host) = &k.host {
                gss = gss.with_hostname(host.clone());
            }
            connector = connector.with_sasl(gss);
            kerberos_thread = Some((k.clone(), k.host.clone().unwrap_or(first_host)));
        }
        let secure = auth.tls.is_some();
        let connecting = async {
            match kerberos_thread {
                None => {
                    let client = if secure {
                        connector.secure_connect(&hosts).await
                    } else {
                        connector.connect(&hosts).await
                    };
                    Ok((client, None))
                }
                Some((k, host)) => {
                    connect_with_kerberos(connector, hosts.clone(), secure, &k, &host).await
                }
            }
        };
        let connected = match tokio::time::timeout(timeout, connecting).await {
            Err(_) => Err(Error::Timeout(format!(
                "no ZooKeeper server of {hosts} answered within {}",
                crate::kafka::conn::human(timeout)
            ))),
            Ok(Err(e)) => Err(e),
            Ok(Ok((client, keeper))) => client
                .map(|c| (c, keeper))
                .map_err(|e| connect_error(e, &hosts, auth)),
        };
        let (client, keeper) = match (connected, &auth.tls) {
            (Ok(c), _) => c,
            (Err(e), Some(tls)) if !matches!(e, Error::Config(_)) => {
                // zookeeper-client retries a failed handshake until its time runs out
                // and then says only "timeout": ask the first server ourselves.
                return Err(
                    match tls_refusal(&connect.servers, tls, connect_timeout).await {
                        Some(why) => Error::Config(format!(
                            "cannot connect to ZooKeeper {hosts} over TLS (trusting {}): {why}",
                            tls.source
                        )),
                        None => e,
                    },
                );
            }
            (Err(e), _) => return Err(e),
        };
        Ok(ZkSession {
            client,
            chroot: connect.chroot.clone(),
            hosts,
            _kerberos_thread: keeper,
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
            "znode {path:?} is protected by an ACL this session does not satisfy: give the context zookeeper_auth = \"user:password\" (or zookeeper_auth_file, or KAFSH_ZOOKEEPER_AUTH) for a digest ACL; for a sasl ACL zookeeper_sasl_user with zookeeper_sasl_password_file (DIGEST-MD5) or zookeeper_kerberos_keytab with zookeeper_kerberos_principal (Kerberos) of a principal the ACL names"
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
