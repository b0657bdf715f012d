//! What to run: the cluster [`Flavor`], the KRaft [`Quorum`] kind and the [`ClusterSpec`]
//! given to [`crate::Cluster::start`], with its defaults, setters and validation.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The id of the first controller-only node; brokers count from 1, so the two never meet.
pub const FIRST_CONTROLLER_ID: i32 = 101;

/// Which kind of cluster to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// A ZooKeeper 3.8 ensemble plus ZooKeeper-mode Kafka 3.9 brokers.
    ZooKeeper,
    /// Kafka 4.4 in KRaft mode: combined broker+controller nodes (broker-only nodes added),
    /// or separate controller-only and broker-only nodes.
    KRaft,
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flavor::ZooKeeper => "zookeeper",
            Flavor::KRaft => "kraft",
        })
    }
}

impl FromStr for Flavor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "zookeeper" | "zk" => Ok(Flavor::ZooKeeper),
            "kraft" => Ok(Flavor::KRaft),
            other => Err(format!(
                "unknown cluster kind {other:?} (want zookeeper or kraft)"
            )),
        }
    }
}

/// How a KRaft cluster's controller quorum is defined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quorum {
    /// `controller.quorum.voters` lists the voters; the set never changes.
    #[default]
    Static,
    /// KIP-853: `controller.quorum.bootstrap.servers`, the voters formatted into the log
    /// (`kafka-storage.sh format --standalone` for one, `--initial-controllers` for several);
    /// controllers can be added (formatted with `--no-initial-controllers`) and removed.
    Dynamic,
}

impl fmt::Display for Quorum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Quorum::Static => "static",
            Quorum::Dynamic => "dynamic",
        })
    }
}

impl FromStr for Quorum {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "static" => Ok(Quorum::Static),
            "dynamic" => Ok(Quorum::Dynamic),
            other => Err(format!(
                "unknown quorum kind {other:?} (want static or dynamic)"
            )),
        }
    }
}

/// What to start. Build one with [`ClusterSpec::zookeeper`], [`ClusterSpec::kraft`] or
/// [`ClusterSpec::zk_only`] and adjust it with the setters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    pub flavor: Flavor,
    /// Size of the ZooKeeper ensemble (ZooKeeper flavor only).
    pub zk_servers: usize,
    /// Number of Kafka brokers. In KRaft without separate controllers the first three are
    /// combined broker+controller nodes, the rest broker-only.
    pub brokers: usize,
    /// KRaft: number of controller-only nodes (ids from [`FIRST_CONTROLLER_ID`]); 0 (the
    /// default) for combined nodes.
    pub controllers: usize,
    /// KRaft: how the controller quorum is defined (default static).
    pub quorum: Quorum,
    /// ZooKeeper chroot of the brokers, e.g. `/kafka` (ZooKeeper flavor only).
    pub chroot: Option<String>,
    /// `broker.rack` of each broker, in id order (length must equal `brokers`).
    pub racks: Option<Vec<String>>,
    /// Cluster directory; `None` makes a fresh one under the temp dir.
    pub dir: Option<PathBuf>,
    /// Give every broker two more listeners: SASL_SSL (SCRAM-SHA-256/512 and PLAIN for user
    /// [`crate::SASL_USER`], a certificate from a CA made for the cluster) and SSL requiring
    /// a client certificate from that CA (mutual TLS; see `tls_dir` for the client's files).
    pub secure: bool,
    /// Authorize every request with ACLs (AclAuthorizer in ZooKeeper mode, StandardAuthorizer
    /// on KRaft): [`crate::SUPER_USERS`] may do anything (the PLAINTEXT listener's anonymous
    /// clients, the brokers themselves, [`crate::SASL_USER`] and the mutual-TLS client
    /// certificate), and a second SCRAM user [`crate::NO_RIGHTS_USER`] has no rights until
    /// ACLs grant them. Implies [`ClusterSpec::secure`].
    pub authorizer: bool,
    /// How long a broker that stops heartbeating (killed, paused) stays registered: the
    /// ZooKeeper session timeout (ZooKeeper mode) or `broker.session.timeout.ms` (KRaft).
    /// `None`: 6 s.
    pub session_timeout: Option<std::time::Duration>,
    /// More `server.properties` settings for every broker, written after the sandbox's own
    /// (so they win), e.g. a longer `broker.session.timeout.ms` for a test that pauses a
    /// broker and needs it to stay unfenced.
    pub broker_config: Vec<(String, String)>,
    /// ZooKeeper dynamic reconfiguration (3.5+): `reconfigEnabled=true`, the membership in a
    /// dynamic config file (`zoo.cfg.dynamic`, which ZooKeeper then rewrites itself after each
    /// `reconfig`), and a super user ([`crate::ZK_SUPER_USER`]) allowed to reconfigure.
    /// ZooKeeper flavor only; default off (a static ensemble).
    pub zk_reconfig: bool,
    /// The Kafka version to run, e.g. `2.8.2` (its jars fetched from Maven Central and
    /// cached, see [`crate::jars`]); `None`: the flavor's default (3.9.2 for ZooKeeper mode,
    /// 4.4.0 for KRaft). ZooKeeper mode runs 2.3 to 3.9, KRaft 3.3 and later.
    pub version: Option<String>,
    /// ZooKeeper: every server also listens with TLS on a secure client port
    /// (`secureClientPort`, Netty, a certificate from the cluster's CA for 127.0.0.1 and
    /// localhost; clients must show a certificate from that CA, as ZooKeeper's default
    /// `ssl.clientAuth=need` wants). The plain client port stays (brokers and four-letter
    /// words). See `Cluster::zk_secure_connect` and `tls_dir`.
    pub zk_tls: bool,
    /// ZooKeeper: SASL Kerberos logins (a JAAS `Server` section with `Krb5LoginModule`
    /// from this keytab and principal, the realm's `krb5.conf`, and the SASL auth
    /// provider, so `sasl:` ACLs name Kerberos principals).
    pub zk_kerberos: Option<ZkKerberos>,
    /// Log dirs of every broker (`log.dirs`: `data`, `data-2`, ... in the node's
    /// directory), for JBOD; default 1.
    pub log_dirs: usize,
}

/// A ZooKeeper server's Kerberos identity (see [`ClusterSpec::zk_kerberos`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ZkKerberos {
    /// The realm's `krb5.conf`.
    pub krb5_conf: PathBuf,
    /// The keytab holding the server principal's key.
    pub keytab: PathBuf,
    /// The server principal, e.g. `zookeeper/127.0.0.1@REALM`.
    pub principal: String,
}

impl ClusterSpec {
    /// Three ZooKeeper servers and three ZooKeeper-mode Kafka 3.9 brokers under `/kafka`.
    pub fn zookeeper() -> Self {
        ClusterSpec {
            flavor: Flavor::ZooKeeper,
            zk_servers: 3,
            brokers: 3,
            controllers: 0,
            quorum: Quorum::Static,
            chroot: Some("/kafka".into()),
            racks: None,
            dir: None,
            secure: false,
            authorizer: false,
            session_timeout: None,
            broker_config: Vec::new(),
            zk_reconfig: false,
            version: None,
            zk_tls: false,
            zk_kerberos: None,
            log_dirs: 1,
        }
    }

    /// Three combined broker+controller Kafka 4.4 KRaft nodes.
    pub fn kraft() -> Self {
        ClusterSpec {
            flavor: Flavor::KRaft,
            zk_servers: 0,
            brokers: 3,
            controllers: 0,
            quorum: Quorum::Static,
            chroot: None,
            racks: None,
            dir: None,
            secure: false,
            authorizer: false,
            session_timeout: None,
            broker_config: Vec::new(),
            zk_reconfig: false,
            version: None,
            zk_tls: false,
            zk_kerberos: None,
            log_dirs: 1,
        }
    }

    /// A ZooKeeper ensemble of `n` servers and no brokers.
    pub fn zk_only(n: usize) -> Self {
        ClusterSpec {
            flavor: Flavor::ZooKeeper,
            zk_servers: n,
            brokers: 0,
            controllers: 0,
            quorum: Quorum::Static,
            chroot: None,
            racks: None,
            dir: None,
            secure: false,
            authorizer: false,
            session_timeout: None,
            broker_config: Vec::new(),
            zk_reconfig: false,
            version: None,
            zk_tls: false,
            zk_kerberos: None,
            log_dirs: 1,
        }
    }

    /// The spec of `flavor` with its defaults.
    pub fn of(flavor: Flavor) -> Self {
        match flavor {
            Flavor::ZooKeeper => Self::zookeeper(),
            Flavor::KRaft => Self::kraft(),
        }
    }

    pub fn brokers(mut self, n: usize) -> Self {
        self.brokers = n;
        self
    }

    /// KRaft: `n` controller-only nodes instead of combined ones (0: combined).
    pub fn controllers(mut self, n: usize) -> Self {
        self.controllers = n;
        self
    }

    /// KRaft: a dynamic controller quorum (KIP-853) instead of a static one.
    pub fn dynamic_quorum(mut self) -> Self {
        self.quorum = Quorum::Dynamic;
        self
    }

    /// KRaft: the controller quorum kind.
    pub fn quorum(mut self, quorum: Quorum) -> Self {
        self.quorum = quorum;
        self
    }

    /// ZooKeeper: an ensemble with dynamic reconfiguration enabled (see
    /// [`ClusterSpec::zk_reconfig`]'s field).
    pub fn zk_reconfig(mut self) -> Self {
        self.zk_reconfig = true;
        self
    }

    /// ZooKeeper: a TLS secure client port on every server (see [`ClusterSpec::zk_tls`]'s
    /// field).
    pub fn zk_tls(mut self) -> Self {
        self.zk_tls = true;
        self
    }

    /// ZooKeeper: SASL Kerberos logins with this server identity (see
    /// [`ClusterSpec::zk_kerberos`]'s field).
    pub fn zk_kerberos(mut self, kerberos: ZkKerberos) -> Self {
        self.zk_kerberos = Some(kerberos);
        self
    }

    pub fn zk_servers(mut self, n: usize) -> Self {
        self.zk_servers = n;
        self
    }

    /// Sets the brokers' ZooKeeper chroot; `None` (or `"/"`) for none.
    pub fn chroot(mut self, chroot: Option<&str>) -> Self {
        self.chroot = chroot.filter(|c| *c != "/").map(str::to_string);
        self
    }

    pub fn racks<I, S>(mut self, racks: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.racks = Some(racks.into_iter().map(Into::into).collect());
        self
    }

    pub fn secure(mut self) -> Self {
        self.secure = true;
        self
    }

    /// ACLs decide who may do what (see [`ClusterSpec::authorizer`]); adds the secure
    /// listeners too.
    pub fn authorizer(mut self) -> Self {
        self.secure = true;
        self.authorizer = true;
        self
    }

    /// Keeps a broker that stops heartbeating (e.g. paused) registered this long (at most
    /// 60 s, ZooKeeper's session limit here).
    pub fn session_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.session_timeout = Some(timeout.min(std::time::Duration::from_secs(60)));
        self
    }

    /// Adds a `server.properties` setting for every broker (see [`ClusterSpec::broker_config`]).
    pub fn broker_config(mut self, key: &str, value: &str) -> Self {
        self.broker_config
            .push((key.to_string(), value.to_string()));
        self
    }

    /// Runs Kafka `version` (e.g. `"2.8.2"`) instead of the flavor's default; checked by
    /// [`ClusterSpec::validate`].
    pub fn version(mut self, version: &str) -> Self {
        self.version = Some(version.trim().to_string());
        self
    }

    /// The Kafka version the cluster runs.
    pub fn kafka_version(&self) -> Result<crate::jars::Version> {
        let v = self
            .version
            .as_deref()
            .unwrap_or(crate::jars::kafka_version(self.flavor));
        crate::jars::Version::parse(v).ok_or_else(|| {
            Error::InvalidSpec(format!("bad Kafka version {v:?}: want one like 3.9.2"))
        })
    }

    /// Gives every broker `n` log dirs (JBOD; see [`ClusterSpec::log_dirs`]'s field).
    pub fn log_dirs(mut self, n: usize) -> Self {
        self.log_dirs = n.max(1);
        self
    }

    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Checks the spec for contradictions (sizes, chroot form, rack count, KRaft-only
    /// settings).
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidSpec(m));
        let version = self.kafka_version()?;
        if let Err(why) = crate::jars::check_version(version, self.flavor) {
            return bad(why);
        }
        if self.secure && !version.at_least(2, 7) {
            // The sandbox creates SCRAM users with ConfigCommand --bootstrap-server (KIP-554).
            return bad(format!(
                "secure listeners need Kafka 2.7 or later (SCRAM users through the brokers), not {version}"
            ));
        }
        if self.zk_reconfig && !version.at_least(2, 4) {
            return bad(format!(
                "Kafka {version} ships no ZooKeeper with dynamic reconfiguration"
            ));
        }
        if (self.zk_tls || self.zk_kerberos.is_some()) && !version.at_least(3, 0) {
            // Older Kafka ships ZooKeeper 3.5, which reads no PEM stores.
            return bad(format!(
                "ZooKeeper TLS and Kerberos in the sandbox need Kafka 3.0 or later, not {version}"
            ));
        }
        match self.flavor {
            Flavor::ZooKeeper => {
                if self.zk_servers == 0 {
                    return bad(
                        "a ZooKeeper-flavor cluster needs at least one ZooKeeper server".into(),
                    );
                }
                if self.controllers != 0 || self.quorum != Quorum::Static {
                    return bad(
                        "controllers and quorum kinds are for KRaft clusters (the ZooKeeper \
                         ensemble is their controller quorum)"
                            .into(),
                    );
                }
            }
            Flavor::KRaft => {
                if self.brokers == 0 {
                    return bad("a KRaft cluster needs at least one broker".into());
                }
                if self.brokers >= FIRST_CONTROLLER_ID as usize {
                    return bad(format!(
                        "at most {} brokers (controller ids start at {FIRST_CONTROLLER_ID})",
                        FIRST_CONTROLLER_ID - 1
                    ));
                }
                if self.zk_servers != 0
                    || self.zk_reconfig
                    || self.zk_tls
                    || self.zk_kerberos.is_some()
                {
                    return bad("a KRaft cluster has no ZooKeeper servers".into());
                }
            }
        }
        if let Some(c) = &self.chroot {
            if self.flavor == Flavor::KRaft {
                return bad("a KRaft cluster has no ZooKeeper chroot".into());
            }
            if !c.starts_with('/') || c.ends_with('/') || c.contains("//") || c.contains(',') {
                return bad(format!(
                    "bad chroot {c:?}: want an absolute ZooKeeper path like /kafka"
                ));
            }
        }
        for (k, v) in &self.broker_config {
            if k.is_empty() || k.contains(['=', '\n']) || v.contains('\n') {
                return bad(format!("bad broker setting {k:?}={v:?}"));
            }
        }
        if let Some(r) = &self.racks {
            if r.len() != self.brokers {
                return bad(format!(
                    "{} racks given for {} brokers",
                    r.len(),
                    self.brokers
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_validation() {
        assert!(ClusterSpec::zookeeper().validate().is_ok());
        assert!(ClusterSpec::kraft().validate().is_ok());
        assert!(ClusterSpec::zk_only(1).validate().is_ok());
        assert!(ClusterSpec::zookeeper()
            .chroot(Some("kafka"))
            .validate()
            .is_err());
        assert_eq!(ClusterSpec::zookeeper().chroot(Some("/")).chroot, None);
        assert!(ClusterSpec::zookeeper()
            .racks(["a", "b"])
            .validate()
            .is_err());
        assert!(ClusterSpec::zookeeper()
            .racks(["a", "b", "c"])
            .validate()
            .is_ok());
        assert!(ClusterSpec::kraft().zk_servers(3).validate().is_err());
        assert!(ClusterSpec::kraft().zk_reconfig().validate().is_err());
        assert!(ClusterSpec::zk_only(3).zk_reconfig().validate().is_ok());
        assert!(ClusterSpec::kraft()
            .controllers(3)
            .brokers(2)
            .dynamic_quorum()
            .validate()
            .is_ok());
        assert!(ClusterSpec::zookeeper().controllers(3).validate().is_err());
        assert!(ClusterSpec::zookeeper()
            .dynamic_quorum()
            .validate()
            .is_err());
        assert!(ClusterSpec::kraft()
            .controllers(3)
            .brokers(0)
            .validate()
            .is_err());
        assert!(ClusterSpec::zookeeper().version("2.3.1").validate().is_ok());
        assert!(ClusterSpec::zookeeper()
            .version("4.0.0")
            .validate()
            .is_err());
        assert!(ClusterSpec::zookeeper()
            .version("2.2.2")
            .validate()
            .is_err());
        assert!(ClusterSpec::kraft().version("3.2.3").validate().is_err());
        assert!(ClusterSpec::kraft().version("3.9.2").validate().is_ok());
        assert!(ClusterSpec::kraft().version("4.x").validate().is_err());
        assert!(ClusterSpec::zookeeper()
            .version("2.6.3")
            .secure()
            .validate()
            .is_err());
        assert_eq!("Dynamic".parse::<Quorum>(), Ok(Quorum::Dynamic));
        assert_eq!("kraft".parse::<Flavor>(), Ok(Flavor::KRaft));
        assert_eq!("ZooKeeper".parse::<Flavor>(), Ok(Flavor::ZooKeeper));
    }
}
