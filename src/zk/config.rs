//! The ensemble's membership as ZooKeeper sees it: the `server.N=` lines and version of
//! `/zookeeper/config` (ZooKeeper 3.5+), or of the `conf` four-letter word (whose 3.5+
//! answer ends with the same membership, and whose 3.4 answer describes only the server
//! itself); every server's own view of it (a reconfiguration is done when all report its
//! version); and whether dynamic reconfiguration is enabled.
//!
//! ZooKeeper has no read for `reconfigEnabled`: [`reconfig_state`] asks the leader for a
//! reconfiguration from a config version that never exists (-2). The leader checks
//! `reconfigEnabled` first and the version second, so the answer is `ReconfigDisabled` or
//! `BadVersion` and nothing changes either way.

use super::four_letter::{four_letter, FourLetterError};
use super::znodes::ZkSession;
use crate::config::ZkConnect;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use zookeeper_client as zk;

/// Whether a server votes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A voting member (ZooKeeper's "participant": leader or follower).
    Participant,
    /// A non-voting member that serves clients and follows the leader's log.
    Observer,
}

impl Role {
    /// From "participant" / "voter" / "observer".
    pub fn parse(text: &str) -> Result<Role> {
        match text.trim().to_ascii_lowercase().as_str() {
            "participant" | "voter" => Ok(Role::Participant),
            "observer" => Ok(Role::Observer),
            other => Err(Error::InvalidInput(format!(
                "role must be \"participant\" or \"observer\", not {other:?}"
            ))),
        }
    }

    /// ZooKeeper's name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Participant => "participant",
            Role::Observer => "observer",
        }
    }
}

/// One server of the configuration: a `server.N=host:peer:election[:role][;client]` line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ZkMember {
    /// The server's id (myid).
    pub id: u32,
    /// Host of its quorum and election ports.
    pub host: String,
    /// Quorum (peer) port.
    pub peer_port: u16,
    /// Leader election port.
    pub election_port: u16,
    /// participant (votes) or observer.
    pub role: Role,
    /// Address clients connect to, when the line names one (`0.0.0.0`: every address).
    pub client_host: Option<String>,
    /// Client port, when the line names one.
    pub client_port: Option<u16>,
}

impl ZkMember {
    /// Parses the value of a `server.N=` line (`id` is N). Takes the first address of a
    /// multi-address server (`a:1:2|b:1:2`).
    pub fn parse(id: u32, value: &str) -> Result<ZkMember> {
        let bad = |why: &str| {
            Error::InvalidInput(format!(
                "server.{id}={value}: {why} (want host:peer_port:election_port[:participant|observer][;[client_host:]client_port])"
            ))
        };
        let (server, client) = match value.split_once(';') {
            Some((s, c)) => (s.trim(), Some(c.trim())),
            None => (value.trim(), None),
        };
        let first = server.split('|').next().unwrap_or("").trim();
        let (host, rest) = split_host(first).ok_or_else(|| bad("no host"))?;
        let mut parts: Vec<&str> = rest.split(':').collect();
        let mut role = Role::Participant;
        if parts
            .last()
            .is_some_and(|p| p.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        {
            role = Role::parse(parts.pop().unwrap_or_default()).map_err(|_| bad("unknown role"))?;
        }
        let [peer, election] = parts.as_slice() else {
            return Err(bad("needs a peer and an election port"));
        };
        let port = |p: &str| p.trim().parse::<u16>().map_err(|_| bad("bad port"));
        let (client_host, client_port) = match client.filter(|c| !c.is_empty()) {
            None => (None, None),
            Some(c) => match c.rsplit_once(':') {
                Some((h, p)) => (
                    Some(h.trim_start_matches('[').trim_end_matches(']').to_string()),
                    Some(port(p)?),
                ),
                None => (None, Some(port(c)?)),
            },
        };
        Ok(ZkMember {
            id,
            host: host.to_string(),
            peer_port: port(peer)?,
            election_port: port(election)?,
            role,
            client_host,
            client_port,
        })
    }

    /// Whether it votes.
    pub fn is_voter(&self) -> bool {
        self.role == Role::Participant
    }

    /// `host:client_port` where clients reach it (the quorum host when the client address is
    /// every address or not named); none without a client port.
    pub fn client_address(&self) -> Option<String> {
        let port = self.client_port?;
        let host = match self.client_host.as_deref() {
            None | Some("0.0.0.0") | Some("::") | Some("0:0:0:0:0:0:0:0") => self.host.as_str(),
            Some(h) => h,
        };
        Some(format!("{}:{port}", bracket(host)))
    }

    /// The `server.N=...` line as ZooKeeper's reconfig takes it (role and client address
    /// always written, which a joining server needs).
    pub fn spec(&self) -> Result<String> {
        let port = self.client_port.ok_or_else(|| {
            Error::InvalidInput(format!(
                "server {}: a reconfiguration needs its client port",
                self.id
            ))
        })?;
        let client = match &self.client_host {
            Some(h) => format!("{}:{port}", bracket(h)),
            None => port.to_string(),
        };
        Ok(format!(
            "server.{}={}:{}:{}:{};{client}",
            self.id,
            bracket(&self.host),
            self.peer_port,
            self.election_port,
            self.role.as_str()
        ))
    }

    /// The `server.N=` line as ZooKeeper prints it (the client address when known).
    pub fn line(&self) -> String {
        let client = match (&self.client_host, self.client_port) {
            (Some(h), Some(p)) => format!(";{}:{p}", bracket(h)),
            (None, Some(p)) => format!(";{p}"),
            _ => String::new(),
        };
        format!(
            "server.{}={}:{}:{}:{}{client}",
            self.id,
            bracket(&self.host),
            self.peer_port,
            self.election_port,
            self.role.as_str()
        )
    }

    /// Whether `other` describes the same server the same way (client host `None` and
    /// every-address compare equal).
    pub fn same_as(&self, other: &ZkMember) -> bool {
        let any = |h: &Option<String>| match h.as_deref() {
            None | Some("0.0.0.0") | Some("::") => None,
            Some(h) => Some(h.to_string()),
        };
        self.id == other.id
            && self.host == other.host
            && self.peer_port == other.peer_port
            && self.election_port == other.election_port
            && self.role == other.role
            && self.client_port == other.client_port
            && any(&self.client_host) == any(&other.client_host)
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// `host` and the rest after its `:` (an IPv6 host in brackets).
fn split_host(addr: &str) -> Option<(&str, &str)> {
    if let Some(inner) = addr.strip_prefix('[') {
        let (host, rest) = inner.split_once(']')?;
        return Some((host, rest.strip_prefix(':')?));
    }
    let (host, rest) = addr.split_once(':')?;
    (!host.is_empty()).then_some((host, rest))
}

/// A configuration: its members and version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Membership {
    /// The servers, by id.
    pub members: Vec<ZkMember>,
    /// The config version (the zxid that made it), when ZooKeeper names one.
    pub version: Option<u64>,
}

impl Membership {
    /// Parses `server.N=...` and `version=<hex>` lines (the data of `/zookeeper/config`, a
    /// dynamic config file, the end of `conf`); other lines are ignored.
    pub fn parse(text: &str) -> Result<Membership> {
        let mut out = Membership::default();
        for line in text.lines().map(str::trim) {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim();
            if let Some(id) = key.strip_prefix("server.") {
                let id: u32 = id.parse().map_err(|_| {
                    Error::InvalidInput(format!("{line}: {id:?} is not a server id"))
                })?;
                out.members.push(ZkMember::parse(id, value)?);
            } else if key == "version" {
                out.version = u64::from_str_radix(value.trim(), 16).ok();
            }
        }
        out.members.sort_by_key(|m| m.id);
        Ok(out)
    }

    /// The member with this id.
    pub fn member(&self, id: u32) -> Option<&ZkMember> {
        self.members.iter().find(|m| m.id == id)
    }

    /// Ids of the voting members.
    pub fn voters(&self) -> Vec<u32> {
        self.members
            .iter()
            .filter(|m| m.is_voter())
            .map(|m| m.id)
            .collect()
    }

    /// Ids of the observers.
    pub fn observers(&self) -> Vec<u32> {
        self.members
            .iter()
            .filter(|m| !m.is_voter())
            .map(|m| m.id)
            .collect()
    }

    /// The id of the member clients reach at `server` (`host:port`): its client address,
    /// or else the only member with that client port.
    pub fn id_of(&self, server: &str) -> Option<u32> {
        if let Some(m) = self
            .members
            .iter()
            .find(|m| m.client_address().as_deref() == Some(server))
        {
            return Some(m.id);
        }
        let port: u16 = server.rsplit_once(':')?.1.parse().ok()?;
        let same_port: Vec<&ZkMember> = self
            .members
            .iter()
            .filter(|m| m.client_port == Some(port))
            .collect();
        match same_port.as_slice() {
            [one] => Some(one.id),
            _ => None,
        }
    }
}

/// ZooKeeper's way of printing a config version.
pub fn hex(version: u64) -> String {
    format!("{version:x}")
}

/// What `conf` says about the server that answered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfFacts {
    /// `serverId`.
    pub server_id: Option<u32>,
    /// `clientPort`.
    pub client_port: Option<u16>,
    /// `quorumPort`.
    pub quorum_port: Option<u16>,
    /// `electionPort`.
    pub election_port: Option<u16>,
    /// `peerType` (0 participant, 1 observer).
    pub role: Option<Role>,
    /// The `membership:` section (3.5+).
    pub membership: Option<Membership>,
}

/// Parses the answer to `conf`.
pub fn parse_conf(text: &str) -> Result<ConfFacts> {
    let mut facts = ConfFacts::default();
    let (head, membership) = match text.find("membership:") {
        Some(i) => (&text[..i], Some(&text[i + "membership:".len()..])),
        None => (text, None),
    };
    for line in head.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        // Ports of a multi-address server come as 2888|2889: the first is enough.
        let port = || v.split('|').next().and_then(|p| p.trim().parse().ok());
        match k.trim() {
            "serverId" => facts.server_id = v.parse().ok(),
            "clientPort" => facts.client_port = port(),
            "quorumPort" => facts.quorum_port = port(),
            "electionPort" => facts.election_port = port(),
            "peerType" => {
                facts.role = match v {
                    "0" => Some(Role::Participant),
                    "1" => Some(Role::Observer),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    if let Some(m) = membership {
        facts.membership = Some(Membership::parse(m)?);
    }
    Ok(facts)
}

/// One server's own view of the configuration.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServerView {
    /// `host:port` (client port).
    pub server: String,
    /// Its id, from `conf` or its place in the membership.
    pub id: Option<u32>,
    /// Its role, as it runs.
    pub role: Option<Role>,
    /// The config version it has applied (hex), 3.5+.
    pub version: Option<String>,
    /// The ids of the members in its configuration (3.5+; on a static ensemble, what it
    /// was last started with).
    pub members: Option<Vec<u32>>,
    /// Its membership as `server.N=host:peer:election:role[;client]` lines.
    pub lines: Option<Vec<String>>,
    /// Why it could not be read.
    pub error: Option<String>,
    /// It refused the connection (not running): it takes the configuration from the
    /// leader when it starts.
    #[serde(skip)]
    pub down: bool,
    /// The membership it reported, when it did.
    #[serde(skip)]
    pub membership: Option<Membership>,
    /// What `conf` said about the server itself (3.4 has no membership).
    #[serde(skip)]
    pub facts: Option<ConfFacts>,
}

impl ServerView {
    fn set_membership(&mut self, m: Membership) {
        self.version = m.version.map(hex);
        self.members = Some(m.members.iter().map(|x| x.id).collect());
        self.lines = Some(m.members.iter().map(ZkMember::line).collect());
        self.membership = Some(m);
    }
}

/// How a one-server session is made, for servers whose `conf` is not whitelisted.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// How the session authenticates and encrypts.
    pub auth: super::security::ZkAuth,
    /// Limit of the whole read.
    pub timeout: Duration,
    /// Connect limit per server.
    pub connect_timeout: Duration,
}

/// The view of `server`: from `conf` when it answers it, else (when `conf` is not
/// whitelisted, and `session` says how) from `/zookeeper/config` over a session with that
/// server alone. Never fails: a server that cannot be read has `error` set.
pub async fn server_view(
    server: &str,
    four_letter_timeout: Duration,
    tls: Option<&super::security::ZkTls>,
    session: Option<&SessionSettings>,
) -> ServerView {
    let mut view = ServerView {
        server: server.to_string(),
        id: None,
        role: None,
        version: None,
        members: None,
        lines: None,
        error: None,
        down: false,
        membership: None,
        facts: None,
    };
    match four_letter(server, "conf", four_letter_timeout, tls).await {
        Ok(text) => match parse_conf(&text) {
            Ok(facts) => {
                view.id = facts.server_id;
                view.role = facts.role;
                if let Some(m) = &facts.membership {
                    view.set_membership(m.clone());
                }
                view.facts = Some(facts);
            }
            Err(e) => view.error = Some(e.to_string()),
        },
        Err(FourLetterError::NotWhitelisted(word)) => {
            let Some(session) = session else {
                view.error = Some(super::four_letter::whitelist_hint(server, &word));
                return view;
            };
            match read_one(server, session).await {
                Ok(m) => {
                    view.id = m.id_of(server);
                    view.role = view.id.and_then(|id| m.member(id)).map(|m| m.role);
                    view.set_membership(m);
                }
                Err(e) => view.error = Some(e.to_string()),
            }
        }
        Err(e) => {
            view.down = matches!(e, FourLetterError::Down(_));
            view.error = Some(e.into_error(server).to_string());
        }
    }
    view
}

/// `/zookeeper/config` as `server` alone has it.
async fn read_one(server: &str, settings: &SessionSettings) -> Result<Membership> {
    let connect = ZkConnect {
        servers: vec![server.to_string()],
        chroot: String::new(),
    };
    let session = ZkSession::connect(
        &connect,
        &settings.auth,
        settings.timeout,
        settings.connect_timeout,
    )
    .await?;
    session.config().await
}

/// Every server's view, concurrently.
pub async fn server_views(
    servers: &[String],
    four_letter_timeout: Duration,
    tls: Option<&super::security::ZkTls>,
    session: Option<&SessionSettings>,
) -> Vec<ServerView> {
    futures::future::join_all(
        servers
            .iter()
            .map(|s| server_view(s, four_letter_timeout, tls, session)),
    )
    .await
}

/// Whether the ensemble can be reconfigured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconfigState {
    /// `reconfigEnabled=true`.
    Enabled,
    /// Enabled, and a reconfiguration is being committed now.
    InProgress,
    /// Not possible, and why.
    Disabled(String),
}

/// Asks the leader whether it would reconfigure (see the module comment): a reconfiguration
/// from config version -2, which the leader refuses before changing anything.
pub async fn reconfig_state(session: &ZkSession) -> Result<ReconfigState> {
    let none = std::iter::empty::<&str>();
    let update = zk::EnsembleUpdate::Incremental {
        joinings: none.clone(),
        leavings: none,
    };
    match session.client().update_ensemble(update, Some(-2)).await {
        Err(zk::Error::BadVersion) => Ok(ReconfigState::Enabled),
        Err(zk::Error::UnexpectedErrorCode(RECONFIG_IN_PROGRESS)) => Ok(ReconfigState::InProgress),
        Err(zk::Error::ReconfigDisabled) => Ok(ReconfigState::Disabled(
            "reconfigEnabled=false in the servers' zoo.cfg".into(),
        )),
        Err(zk::Error::Unimplemented) => Ok(ReconfigState::Disabled(
            "a standalone server cannot be reconfigured".into(),
        )),
        Err(e) => Err(super::znodes::zk_error(e, "/zookeeper/config")),
        // Version -2 never exists; a server that accepted it ignores versions altogether.
        Ok(_) => Err(Error::Cluster(
            "ZooKeeper accepted a reconfiguration from config version -2 (no change requested)"
                .into(),
        )),
    }
}

/// ZooKeeper's error code for "another reconfiguration is in progress".
pub const RECONFIG_IN_PROGRESS: i32 = -14;
/// ZooKeeper's error code for "the new configuration has no synced quorum".
pub const NEW_CONFIG_NO_QUORUM: i32 = -13;

/// The ensemble's configuration as ZooKeeper sees it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ZkConfig {
    /// Where the membership comes from: `/zookeeper/config` (3.5+), or `conf` (3.4: each
    /// server describes itself).
    pub source: String,
    /// The config version (hex, as ZooKeeper prints it); none before 3.5.
    pub version: Option<String>,
    /// Whether `zk_reconfig` can change the membership.
    pub reconfig_enabled: bool,
    /// Why not, when not.
    pub reconfig: String,
    /// Ids of the voting members.
    pub voters: Vec<u32>,
    /// Ids of the observers.
    pub observers: Vec<u32>,
    /// The members (the newest configuration any server reported).
    pub servers: Vec<ZkMember>,
    /// Every server asked: its id, role and the version it has applied.
    pub views: Vec<ServerView>,
    /// Whether every server that answered reports the same version.
    pub agreed: bool,
}

/// Assembles the configuration from the session's `/zookeeper/config` (if read), every
/// server's view and the reconfiguration state.
pub fn assemble(
    session_view: Option<Membership>,
    views: Vec<ServerView>,
    reconfig: Option<ReconfigState>,
) -> ZkConfig {
    let mut newest = session_view;
    for m in views.iter().filter_map(|v| v.membership.as_ref()) {
        if newest
            .as_ref()
            .is_none_or(|n| m.version.unwrap_or(0) > n.version.unwrap_or(0))
        {
            newest = Some(m.clone());
        }
    }
    let (mut membership, source) = match newest {
        Some(m) => (m, "/zookeeper/config"),
        None => (self_described(&views), "conf"),
    };
    // A static configuration names the client address only for the server that reads it:
    // take each server's own, from its view — when that server is where the membership
    // says it is (a server moved to a new host while the others do not know yet is not).
    for member in &mut membership.members {
        if member.client_port.is_some() {
            continue;
        }
        let Some(view) = views.iter().find(|v| v.id == Some(member.id)) else {
            continue;
        };
        let own = view
            .membership
            .as_ref()
            .and_then(|m| m.member(member.id))
            .cloned();
        let same_place = match (&own, &view.facts) {
            (Some(own), _) => {
                own.host == member.host
                    && own.peer_port == member.peer_port
                    && own.election_port == member.election_port
            }
            (None, Some(f)) => {
                f.quorum_port == Some(member.peer_port)
                    && f.election_port == Some(member.election_port)
            }
            (None, None) => false,
        };
        if !same_place {
            continue;
        }
        match own.filter(|own| own.client_port.is_some()) {
            Some(own) => {
                member.client_port = own.client_port;
                member.client_host = own.client_host;
            }
            None => {
                member.client_port = view
                    .server
                    .rsplit_once(':')
                    .and_then(|(_, p)| p.parse().ok());
            }
        }
    }
    let answered: Vec<&Option<String>> = views
        .iter()
        .filter(|v| v.error.is_none())
        .map(|v| &v.version)
        .collect();
    let agreed = answered.windows(2).all(|w| w[0] == w[1]);
    let (reconfig_enabled, reconfig) = match reconfig {
        Some(ReconfigState::Enabled) => (true, "enabled".to_string()),
        Some(ReconfigState::InProgress) => (
            true,
            "enabled (a reconfiguration is in progress)".to_string(),
        ),
        Some(ReconfigState::Disabled(why)) => (false, format!("disabled: {why}")),
        None if membership.version.is_none() => (
            false,
            "unsupported: ZooKeeper before 3.5 has no dynamic reconfiguration".to_string(),
        ),
        None => (false, "unknown: the leader could not be asked".to_string()),
    };
    ZkConfig {
        source: source.to_string(),
        version: membership.version.map(hex),
        reconfig_enabled,
        reconfig,
        voters: membership.voters(),
        observers: membership.observers(),
        servers: membership.members,
        views,
        agreed,
    }
}

/// The membership of a 3.4 ensemble, from each server's description of itself.
fn self_described(views: &[ServerView]) -> Membership {
    let mut members: Vec<ZkMember> = views
        .iter()
        .filter_map(|v| {
            let f = v.facts.as_ref()?;
            let (host, port) = v.server.rsplit_once(':')?;
            Some(ZkMember {
                id: f.server_id?,
                host: host.to_string(),
                peer_port: f.quorum_port?,
                election_port: f.election_port?,
                role: f.role.unwrap_or(Role::Participant),
                client_host: None,
                client_port: f.client_port.or_else(|| port.parse().ok()),
            })
        })
        .collect();
    members.sort_by_key(|m| m.id);
    members.dedup_by_key(|m| m.id);
    Membership {
        members,
        version: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF_38: &str =
        "clientPort=32857\nsecureClientPort=-1\ndataDir=/tmp/zk-1/data/version-2\n\
        tickTime=500\nserverId=1\ninitLimit=20\nsyncLimit=5\nelectionAlg=3\nelectionPort=35057\n\
        quorumPort=42051\npeerType=0\nmembership: \n\
        server.1=127.0.0.1:42051:35057:participant;127.0.0.1:32857\n\
        server.2=127.0.0.1:42773:38955:participant;127.0.0.1:42111\n\
        server.3=127.0.0.1:37431:34763:observer;0.0.0.0:43269\n\
        version=100000000";

    const CONF_34: &str = "clientPort=2181\ndataDir=/var/zk/version-2\ntickTime=2000\n\
        maxClientCnxns=60\nminSessionTimeout=4000\nmaxSessionTimeout=40000\nserverId=2\n\
        initLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3888\nquorumPort=2888\npeerType=1\n";

    #[test]
    fn parses_server_lines() {
        let m = ZkMember::parse(4, "zk4:2888:3888").unwrap();
        assert_eq!(
            (
                m.host.as_str(),
                m.peer_port,
                m.election_port,
                m.role,
                m.client_port
            ),
            ("zk4", 2888, 3888, Role::Participant, None)
        );
        let m = ZkMember::parse(5, "zk5:2888:3888:observer;2181").unwrap();
        assert_eq!(
            (m.role, m.client_host.clone(), m.client_port),
            (Role::Observer, None, Some(2181))
        );
        assert_eq!(m.spec().unwrap(), "server.5=zk5:2888:3888:observer;2181");
        assert_eq!(m.client_address().as_deref(), Some("zk5:2181"));
        let m = ZkMember::parse(6, "[::1]:2888:3888:participant;[::1]:2181").unwrap();
        assert_eq!(
            (m.host.as_str(), m.client_host.as_deref()),
            ("::1", Some("::1"))
        );
        assert_eq!(
            m.spec().unwrap(),
            "server.6=[::1]:2888:3888:participant;[::1]:2181"
        );
        let m = ZkMember::parse(7, "a:1:2|b:3:4;0.0.0.0:2181").unwrap();
        assert_eq!(
            (m.host.as_str(), m.client_address().as_deref()),
            ("a", Some("a:2181"))
        );
        for bad in ["zk:2888", "zk:x:3888", ":1:2", "zk:1:2:voterish"] {
            assert!(ZkMember::parse(1, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_conf_of_both_generations() {
        let f = parse_conf(CONF_38).unwrap();
        assert_eq!(
            (f.server_id, f.role, f.quorum_port),
            (Some(1), Some(Role::Participant), Some(42051))
        );
        let m = f.membership.unwrap();
        assert_eq!(m.version, Some(0x1_0000_0000));
        assert_eq!(m.voters(), vec![1, 2]);
        assert_eq!(m.observers(), vec![3]);
        assert_eq!(m.id_of("127.0.0.1:42111"), Some(2));
        assert_eq!(
            m.id_of("127.0.0.1:43269"),
            Some(3),
            "0.0.0.0 means the quorum host"
        );
        let f = parse_conf(CONF_34).unwrap();
        assert_eq!(
            (f.server_id, f.role, f.membership),
            (Some(2), Some(Role::Observer), None)
        );
    }

    fn view(server: &str, conf: &str) -> ServerView {
        let facts = parse_conf(conf).unwrap();
        ServerView {
            server: server.into(),
            id: facts.server_id,
            role: facts.role,
            version: facts.membership.as_ref().and_then(|m| m.version).map(hex),
            members: None,
            lines: None,
            error: None,
            down: false,
            membership: facts.membership.clone(),
            facts: Some(facts),
        }
    }

    #[test]
    fn assembles_the_newest_view_and_fills_static_client_ports() {
        let newer = CONF_38.replace("version=100000000", "version=100000005");
        let c = assemble(
            None,
            vec![
                view("127.0.0.1:32857", CONF_38),
                view("127.0.0.1:42111", &newer),
            ],
            Some(ReconfigState::Enabled),
        );
        assert_eq!(c.version.as_deref(), Some("100000005"));
        assert!(!c.agreed);
        assert!(c.reconfig_enabled);

        // A static configuration: each server knows only its own client port.
        let own = |id: u32, port: u16| {
            let mut lines = String::from("serverId=");
            lines.push_str(&format!("{id}\npeerType=0\nmembership: \n"));
            for s in 1..=3 {
                if s == id {
                    lines.push_str(&format!("server.{s}=h{s}:1:2:participant;0.0.0.0:{port}\n"));
                } else {
                    lines.push_str(&format!("server.{s}=h{s}:1:2:participant\n"));
                }
            }
            lines.push_str("version=0");
            view(&format!("h{id}:{port}"), &lines)
        };
        let c = assemble(
            None,
            vec![own(1, 2181), own(2, 2182), own(3, 2183)],
            Some(ReconfigState::Disabled("off".into())),
        );
        let ports: Vec<Option<u16>> = c.servers.iter().map(|m| m.client_port).collect();
        assert_eq!(ports, vec![Some(2181), Some(2182), Some(2183)]);
        assert!(c.agreed && !c.reconfig_enabled && c.reconfig.contains("off"));

        // Server 3 moved (new ports): the others' entry for it keeps no client port.
        let mut moved = own(3, 2193);
        moved.membership = Some(
            Membership::parse("server.1=h1:1:2:participant\nserver.2=h2:1:2:participant\nserver.3=h3:5:6:participant;0.0.0.0:2193\nversion=0")
                .unwrap(),
        );
        let c = assemble(
            Some(
                Membership::parse("server.1=h1:1:2\nserver.2=h2:1:2\nserver.3=h3:1:2\nversion=0")
                    .unwrap(),
            ),
            vec![own(1, 2181), own(2, 2182), moved],
            None,
        );
        assert_eq!(c.servers[2].client_port, None, "{:?}", c.servers[2]);

        // 3.4: every server describes itself.
        let c = assemble(None, vec![view("zk2:2181", CONF_34)], None);
        assert_eq!(c.source, "conf");
        assert_eq!(c.observers, vec![2]);
        assert!(c.reconfig.contains("before 3.5"));
    }
}
