//! Rendering of the files a node reads: ZooKeeper's `zoo.cfg` and `myid`, Kafka's
//! `server.properties`, and the logging configs (log4j 1 / reload4j properties for the 3.9 jars,
//! log4j2 properties for the 4.x jars).
//!
//! The settings aim at a small, fast, loopback-only test cluster: tiny thread pools, a small log
//! cleaner buffer (the default 128 MiB would not fit a 256 MiB heap), no rebalance delay,
//! replication factors of internal topics capped by the number of brokers, and bounded
//! controlled shutdown.

use std::path::Path;

use crate::spec::{Flavor, Quorum};
use crate::state::{BrokerState, ControllerState, State, ZkState};

/// ZooKeeper's tick; sessions may last 2..=120 ticks (see `zoo_cfg`).
pub(crate) const ZK_TICK_MS: u64 = 500;
/// Default session timeout of the brokers (ZooKeeper session, KRaft broker session); a killed
/// broker's registration lingers this long.
pub(crate) const KAFKA_ZK_SESSION_MS: u64 = 6_000;

/// Escapes a value for a Java properties file.
fn prop(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out
}

/// The file of a dynamic ensemble's membership, next to `zoo.cfg`.
pub(crate) const ZK_DYNAMIC_FILE: &str = "zoo.cfg.dynamic";

/// The configuration files of one ZooKeeper server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ZkFiles {
    /// `zoo.cfg`.
    pub zoo_cfg: String,
    /// `zoo.cfg.dynamic` of an ensemble with dynamic reconfiguration (the membership; the
    /// static file points at it and has no client port, which the server lines carry).
    pub dynamic: Option<String>,
}

/// The files of one ZooKeeper server listing `servers` (which should include itself). A
/// static ensemble gets one `zoo.cfg` with `server.N=` lines; with `reconfig` the servers go
/// to `zoo.cfg.dynamic` as ZooKeeper writes them (`...:participant;127.0.0.1:<client port>`).
pub(crate) fn zoo_cfg(
    me: &ZkState,
    node_dir: &Path,
    servers: &[ZkState],
    reconfig: bool,
) -> ZkFiles {
    let mut s = String::new();
    s.push_str("# Written by kafsh-sandbox.\n");
    s.push_str(&format!("tickTime={ZK_TICK_MS}\n"));
    s.push_str("initLimit=20\nsyncLimit=5\n");
    s.push_str(&format!(
        "dataDir={}\n",
        prop(&node_dir.join("data").display().to_string())
    ));
    if !reconfig {
        s.push_str(&format!("clientPort={}\n", me.client_port));
        s.push_str("clientPortAddress=127.0.0.1\n");
    }
    s.push_str("maxClientCnxns=0\n");
    s.push_str("minSessionTimeout=1000\nmaxSessionTimeout=60000\n");
    // The embedded Jetty admin server would take port 8080.
    s.push_str("admin.enableServer=false\n");
    s.push_str("4lw.commands.whitelist=*\n");
    s.push_str(&format!("reconfigEnabled={reconfig}\n"));
    s.push_str("standaloneEnabled=true\n");
    s.push_str("forceSync=no\n");
    s.push_str("preAllocSize=1024\n");
    let mut sorted: Vec<&ZkState> = servers.iter().collect();
    sorted.sort_by_key(|z| z.id);
    if !reconfig {
        if me.observer {
            s.push_str("peerType=observer\n");
        }
        for z in sorted {
            let role = if z.observer { ":observer" } else { "" };
            s.push_str(&format!(
                "server.{}=127.0.0.1:{}:{}{role}\n",
                z.id, z.peer_port, z.election_port
            ));
        }
        return ZkFiles {
            zoo_cfg: s,
            dynamic: None,
        };
    }
    s.push_str(&format!(
        "dynamicConfigFile={}\n",
        prop(&node_dir.join(ZK_DYNAMIC_FILE).display().to_string())
    ));
    let mut d = String::new();
    for z in sorted {
        let role = if z.observer {
            "observer"
        } else {
            "participant"
        };
        d.push_str(&format!(
            "server.{}=127.0.0.1:{}:{}:{role};127.0.0.1:{}\n",
            z.id, z.peer_port, z.election_port, z.client_port
        ));
    }
    ZkFiles {
        zoo_cfg: s,
        dynamic: Some(d),
    }
}

/// The `zoo.cfg` lines of a TLS secure client port: Netty (the only factory that speaks
/// TLS), the server's PEM key and certificate and the cluster's CA from `tls_dir`, and the
/// X.509 auth provider that checks client certificates (ZooKeeper's default
/// `ssl.clientAuth=need`). ZooKeeper turns these `zoo.cfg` keys into its `zookeeper.*`
/// system properties.
pub(crate) fn zk_tls_settings(port: u16, tls_dir: &Path) -> String {
    let file = |name: &str| prop(&tls_dir.join(name).display().to_string());
    format!(
        "secureClientPort={port}\nsecureClientPortAddress=127.0.0.1\n\
         serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n\
         authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n\
         ssl.keyStore.location={}\nssl.keyStore.type=PEM\n\
         ssl.trustStore.location={}\nssl.trustStore.type=PEM\n",
        file("broker-keystore.pem"),
        file("ca.pem")
    )
}

/// A ZooKeeper server's JAAS file for Kerberos logins: its `Server` section.
pub(crate) fn zk_kerberos_jaas(k: &crate::spec::ZkKerberos) -> String {
    format!(
        "Server {{\n  com.sun.security.auth.module.Krb5LoginModule required\n  useKeyTab=true\n  \
         storeKey=true\n  useTicketCache=false\n  keyTab=\"{}\"\n  principal=\"{}\";\n}};\n",
        k.keytab.display(),
        k.principal
    )
}

/// `,SASL_SSL://127.0.0.1:<port>,SSL://127.0.0.1:<port>` for a broker with secure
/// listeners, else nothing.
fn secure_listener(b: &BrokerState) -> String {
    let sasl = b
        .secure_port
        .map(|p| format!(",SASL_SSL://127.0.0.1:{p}"))
        .unwrap_or_default();
    let mtls = b
        .mtls_port
        .map(|p| format!(",SSL://127.0.0.1:{p}"))
        .unwrap_or_default();
    sasl + &mtls
}

/// The SASL_SSL listener: SCRAM-SHA-256/512 (users from ConfigCommand) and PLAIN (the
/// sandbox user), TLS from the PEM keystore in `<cluster dir>/tls`. The SSL listener:
/// the same keystore, and client certificates required, signed by the cluster's CA.
fn secure_settings(s: &mut String, node_dir: &Path) {
    let tls_dir = node_dir.parent().unwrap_or(node_dir).join("tls");
    let tls = tls_dir.join("broker-keystore.pem");
    let l = "listener.name.sasl_ssl";
    s.push_str(&format!(
        "{l}.sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN\n"
    ));
    for m in ["scram-sha-512", "scram-sha-256"] {
        s.push_str(&format!(
            "{l}.{m}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;\n"
        ));
    }
    s.push_str(&format!(
        "{l}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_{}=\"{}\";\n",
        crate::SASL_USER,
        crate::SASL_PASSWORD
    ));
    s.push_str(&format!("{l}.ssl.keystore.type=PEM\n"));
    s.push_str(&format!(
        "{l}.ssl.keystore.location={}\n",
        prop(&tls.display().to_string())
    ));
    s.push_str(&format!("{l}.ssl.client.auth=none\n"));

    let l = "listener.name.ssl";
    s.push_str(&format!("{l}.ssl.keystore.type=PEM\n"));
    s.push_str(&format!(
        "{l}.ssl.keystore.location={}\n",
        prop(&tls.display().to_string())
    ));
    s.push_str(&format!("{l}.ssl.truststore.type=PEM\n"));
    s.push_str(&format!(
        "{l}.ssl.truststore.location={}\n",
        prop(&tls_dir.join("ca.pem").display().to_string())
    ));
    s.push_str(&format!("{l}.ssl.client.auth=required\n"));
}

/// ACLs authorize every request: AclAuthorizer (ACLs in ZooKeeper) or StandardAuthorizer
/// (ACLs in the KRaft metadata log, on brokers and controllers alike), with the sandbox's
/// super users.
pub(crate) fn authorizer_settings(flavor: Flavor, version: crate::jars::Version) -> String {
    let class = match flavor {
        // AclAuthorizer (KIP-504) replaced SimpleAclAuthorizer in 2.4.
        Flavor::ZooKeeper if !version.at_least(2, 4) => "kafka.security.auth.SimpleAclAuthorizer",
        Flavor::ZooKeeper => "kafka.security.authorizer.AclAuthorizer",
        Flavor::KRaft => "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    };
    format!(
        "authorizer.class.name={class}\nsuper.users={}\nallow.everyone.if.no.acl.found=false\n",
        crate::SUPER_USERS.join(";")
    )
}

/// Settings common to both Kafka flavors and every KRaft role.
fn kafka_common(
    s: &mut String,
    rack: Option<&str>,
    node_dir: &Path,
    brokers: usize,
    log_dirs: usize,
) {
    let rf = brokers.clamp(1, 3);
    let min_isr = brokers.clamp(1, 2);
    s.push_str(&format!(
        "log.dirs={}\n",
        prop(&broker_log_dirs(node_dir, log_dirs).join(","))
    ));
    if let Some(rack) = rack {
        s.push_str(&format!("broker.rack={}\n", prop(rack)));
    }
    s.push_str("num.partitions=1\n");
    s.push_str("auto.create.topics.enable=false\n");
    s.push_str("delete.topic.enable=true\n");
    s.push_str(&format!("offsets.topic.replication.factor={rf}\n"));
    s.push_str("offsets.topic.num.partitions=10\n");
    s.push_str(&format!("transaction.state.log.replication.factor={rf}\n"));
    s.push_str(&format!("transaction.state.log.min.isr={min_isr}\n"));
    s.push_str("transaction.state.log.num.partitions=10\n");
    s.push_str("group.initial.rebalance.delay.ms=0\n");
    s.push_str("num.network.threads=2\nnum.io.threads=2\nbackground.threads=2\n");
    s.push_str("num.recovery.threads.per.data.dir=1\nnum.replica.fetchers=1\n");
    s.push_str("log.cleaner.threads=1\nlog.cleaner.dedupe.buffer.size=4194304\n");
    s.push_str("socket.request.max.bytes=104857600\n");
}

/// A node's log dirs: `data` (which holds `meta.properties` on KRaft), then `data-2`, ...
pub(crate) fn broker_log_dirs(node_dir: &Path, n: usize) -> Vec<String> {
    (1..=n.max(1))
        .map(|i| match i {
            1 => node_dir.join("data"),
            i => node_dir.join(format!("data-{i}")),
        })
        .map(|d| d.display().to_string())
        .collect()
}

/// `server.properties` of a ZooKeeper-mode (Kafka 3.9) broker.
pub(crate) fn kafka_zk_properties(
    b: &BrokerState,
    node_dir: &Path,
    zk_connect: &str,
    brokers: usize,
    session_ms: u64,
) -> String {
    let mut s = String::from("# Written by kafsh-sandbox: ZooKeeper-mode Kafka broker.\n");
    s.push_str(&format!("broker.id={}\n", b.id));
    s.push_str(&format!(
        "listeners=PLAINTEXT://127.0.0.1:{}{}\n",
        b.port,
        secure_listener(b)
    ));
    s.push_str(&format!(
        "advertised.listeners=PLAINTEXT://127.0.0.1:{}{}\n",
        b.port,
        secure_listener(b)
    ));
    if b.secure_port.is_some() {
        s.push_str(
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL\n",
        );
        s.push_str("inter.broker.listener.name=PLAINTEXT\n");
        secure_settings(&mut s, node_dir);
    }
    s.push_str(&format!("zookeeper.connect={}\n", prop(zk_connect)));
    s.push_str(&format!("zookeeper.session.timeout.ms={session_ms}\n"));
    s.push_str("zookeeper.connection.timeout.ms=30000\n");
    s.push_str("controlled.shutdown.enable=true\n");
    s.push_str("controlled.shutdown.max.retries=1\n");
    s.push_str("controlled.shutdown.retry.backoff.ms=500\n");
    s.push_str("controller.socket.timeout.ms=10000\n");
    kafka_common(&mut s, b.rack.as_deref(), node_dir, brokers, b.log_dirs);
    s
}

/// `server.properties` of a KRaft (Kafka 4.x) node: combined broker+controller when it has a
/// controller port, broker-only otherwise.
pub(crate) fn kafka_kraft_properties(b: &BrokerState, node_dir: &Path, state: &State) -> String {
    let mut s = String::from("# Written by kafsh-sandbox: KRaft Kafka node.\n");
    s.push_str(&format!("node.id={}\n", b.id));
    match b.controller_port {
        Some(cp) => {
            s.push_str("process.roles=broker,controller\n");
            s.push_str(&format!(
                "listeners=PLAINTEXT://127.0.0.1:{}{},CONTROLLER://127.0.0.1:{cp}\n",
                b.port,
                secure_listener(b)
            ));
        }
        None => {
            s.push_str("process.roles=broker\n");
            s.push_str(&format!(
                "listeners=PLAINTEXT://127.0.0.1:{}{}\n",
                b.port,
                secure_listener(b)
            ));
        }
    }
    s.push_str(&format!(
        "advertised.listeners=PLAINTEXT://127.0.0.1:{}{}\n",
        b.port,
        secure_listener(b)
    ));
    s.push_str("controller.listener.names=CONTROLLER\n");
    s.push_str(
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL\n",
    );
    if b.secure_port.is_some() {
        secure_settings(&mut s, node_dir);
    }
    s.push_str("inter.broker.listener.name=PLAINTEXT\n");
    s.push_str(&quorum_settings(state, b.controller_port.map(|_| b.id)));
    // A killed node can register again only once its old session timed out (the default is
    // 9 s with 2 s heartbeats).
    s.push_str(&format!(
        "broker.heartbeat.interval.ms=1000\nbroker.session.timeout.ms={}\n",
        state.session_timeout_ms.unwrap_or(KAFKA_ZK_SESSION_MS)
    ));
    let n = state.broker_count();
    s.push_str(&format!(
        "share.coordinator.state.topic.replication.factor={}\n",
        n.clamp(1, 3)
    ));
    s.push_str(&format!(
        "share.coordinator.state.topic.min.isr={}\n",
        n.clamp(1, 2)
    ));
    kafka_common(&mut s, b.rack.as_deref(), node_dir, n, b.log_dirs);
    s
}

/// How a KRaft node finds the controller quorum: `controller.quorum.voters` (static) or
/// `controller.quorum.bootstrap.servers` (dynamic). `controller`: the node's id when it is a
/// controller.
fn quorum_settings(state: &State, controller: Option<i32>) -> String {
    match state.quorum {
        Quorum::Static => format!("controller.quorum.voters={}\n", state.voters()),
        Quorum::Dynamic => {
            let mut s = format!(
                "controller.quorum.bootstrap.servers={}\n",
                state.quorum_bootstrap(controller)
            );
            if controller.is_some() {
                // A new controller stays an observer until it is added (AddRaftVoter).
                s.push_str("controller.quorum.auto.join.enable=false\n");
            }
            s
        }
    }
}

/// `server.properties` of a KRaft controller-only node.
pub(crate) fn kafka_controller_properties(
    c: &ControllerState,
    node_dir: &Path,
    state: &State,
) -> String {
    let mut s = String::from("# Written by kafsh-sandbox: KRaft controller-only node.\n");
    s.push_str(&format!("node.id={}\n", c.id));
    s.push_str("process.roles=controller\n");
    s.push_str(&format!("listeners=CONTROLLER://127.0.0.1:{}\n", c.port));
    s.push_str("controller.listener.names=CONTROLLER\n");
    s.push_str("listener.security.protocol.map=CONTROLLER:PLAINTEXT\n");
    s.push_str(&quorum_settings(state, Some(c.id)));
    // The controllers fence brokers that stop heartbeating.
    s.push_str(&format!(
        "broker.heartbeat.interval.ms=1000\nbroker.session.timeout.ms={}\n",
        state.session_timeout_ms.unwrap_or(KAFKA_ZK_SESSION_MS)
    ));
    // Topic defaults (partitions, replication) come from the controllers in KRaft.
    kafka_common(&mut s, None, node_dir, state.broker_count(), 1);
    s
}

/// reload4j (log4j 1) config of a server: INFO to `<node_dir>/server.log`.
pub(crate) fn log4j1_server(node_dir: &Path) -> String {
    let file = prop(&node_dir.join("server.log").display().to_string());
    format!(
        "# Written by kafsh-sandbox.\n\
         log4j.rootLogger=INFO, file\n\
         log4j.appender.file=org.apache.log4j.FileAppender\n\
         log4j.appender.file.File={file}\n\
         log4j.appender.file.Append=true\n\
         log4j.appender.file.layout=org.apache.log4j.PatternLayout\n\
         log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n\n\
         log4j.logger.kafka.request.logger=WARN\n\
         log4j.logger.kafka.network.RequestChannel$=WARN\n\
         log4j.logger.org.apache.zookeeper=INFO\n\
         log4j.logger.org.apache.zookeeper.server.NIOServerCnxn=WARN\n"
    )
}

/// log4j2 config of a server: INFO to `<node_dir>/server.log`.
pub(crate) fn log4j2_server(node_dir: &Path) -> String {
    let file = prop(&node_dir.join("server.log").display().to_string());
    format!(
        "# Written by kafsh-sandbox.\n\
         status = warn\n\
         appender.file.type = File\n\
         appender.file.name = FILE\n\
         appender.file.fileName = {file}\n\
         appender.file.append = true\n\
         appender.file.layout.type = PatternLayout\n\
         appender.file.layout.pattern = [%d] %p %m (%c)%n\n\
         rootLogger.level = info\n\
         rootLogger.appenderRef.file.ref = FILE\n\
         logger.request.name = kafka.request.logger\n\
         logger.request.level = warn\n"
    )
}

/// reload4j config of command-line tools: warnings to stderr.
pub(crate) const LOG4J1_TOOLS: &str = "# Written by kafsh-sandbox.\n\
log4j.rootLogger=WARN, stderr\n\
log4j.appender.stderr=org.apache.log4j.ConsoleAppender\n\
log4j.appender.stderr.Target=System.err\n\
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout\n\
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n\n";

/// log4j2 config of command-line tools: warnings to stderr.
pub(crate) const LOG4J2_TOOLS: &str = "# Written by kafsh-sandbox.\n\
status = warn\n\
appender.err.type = Console\n\
appender.err.name = STDERR\n\
appender.err.target = SYSTEM_ERR\n\
appender.err.layout.type = PatternLayout\n\
appender.err.layout.pattern = [%d] %p %m (%c)%n\n\
rootLogger.level = warn\n\
rootLogger.appenderRef.err.ref = STDERR\n";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Flavor;
    use std::path::PathBuf;

    fn broker(id: i32, cp: Option<u16>) -> BrokerState {
        BrokerState {
            id,
            port: 9000 + id as u16,
            controller_port: cp,
            secure_port: None,
            mtls_port: None,
            rack: None,
            directory_id: None,
            log_dirs: 1,
            pid: None,
        }
    }

    fn zk_servers(n: u32) -> Vec<ZkState> {
        (1..=n)
            .map(|id| ZkState {
                id,
                client_port: 2000 + id as u16,
                peer_port: 3000 + id as u16,
                election_port: 4000 + id as u16,
                observer: id == 4,
                pid: None,
                secure_port: None,
            })
            .collect()
    }

    #[test]
    fn zoo_cfg_lists_servers_and_disables_admin() {
        let zs = zk_servers(4);
        let files = zoo_cfg(&zs[1], Path::new("/x/zk-2"), &zs, false);
        let cfg = files.zoo_cfg;
        assert_eq!(files.dynamic, None);
        assert!(cfg.contains("clientPort=2002\n"));
        assert!(cfg.contains("server.3=127.0.0.1:3003:4003\n"));
        assert!(cfg.contains("server.4=127.0.0.1:3004:4004:observer\n"));
        assert!(cfg.contains("admin.enableServer=false\n"));
        assert!(cfg.contains("4lw.commands.whitelist=*\n"));
        assert!(cfg.contains("reconfigEnabled=false\n"));
        assert!(cfg.contains("dataDir=/x/zk-2/data\n"));
        assert!(!cfg.contains("peerType"));
        let observer = zoo_cfg(&zs[3], Path::new("/x/zk-4"), &zs, false).zoo_cfg;
        assert!(observer.contains("peerType=observer\n"));
    }

    #[test]
    fn dynamic_zoo_cfg_moves_the_servers_and_client_ports_to_the_dynamic_file() {
        let zs = zk_servers(4);
        let files = zoo_cfg(&zs[0], Path::new("/x/zk-1"), &zs, true);
        assert!(files.zoo_cfg.contains("reconfigEnabled=true\n"));
        assert!(files
            .zoo_cfg
            .contains("dynamicConfigFile=/x/zk-1/zoo.cfg.dynamic\n"));
        assert!(!files.zoo_cfg.contains("clientPort"));
        assert!(!files.zoo_cfg.contains("server."));
        assert_eq!(
            files.dynamic.as_deref(),
            Some(
                "server.1=127.0.0.1:3001:4001:participant;127.0.0.1:2001\n\
                 server.2=127.0.0.1:3002:4002:participant;127.0.0.1:2002\n\
                 server.3=127.0.0.1:3003:4003:participant;127.0.0.1:2003\n\
                 server.4=127.0.0.1:3004:4004:observer;127.0.0.1:2004\n"
            )
        );
    }

    #[test]
    fn kraft_properties_roles_and_voters() {
        let mut st = State::new(Flavor::KRaft, PathBuf::from("/j"));
        st.brokers = vec![
            broker(1, Some(7001)),
            broker(2, Some(7002)),
            broker(4, None),
        ];
        let combined = kafka_kraft_properties(&st.brokers[0], Path::new("/n1"), &st);
        assert!(combined.contains("process.roles=broker,controller\n"));
        assert!(combined.contains("controller.quorum.voters=1@127.0.0.1:7001,2@127.0.0.1:7002\n"));
        assert!(combined.contains("CONTROLLER://127.0.0.1:7001"));
        assert!(combined.contains("offsets.topic.replication.factor=3\n"));
        let broker_only = kafka_kraft_properties(&st.brokers[2], Path::new("/n4"), &st);
        assert!(broker_only.contains("process.roles=broker\n"));
        assert!(!broker_only.contains("CONTROLLER://"));
    }

    #[test]
    fn controller_only_nodes_and_dynamic_quorum() {
        let mut st = State::new(Flavor::KRaft, PathBuf::from("/j"));
        st.quorum = Quorum::Dynamic;
        st.brokers = vec![broker(1, None), broker(2, None)];
        st.controllers = (0..4)
            .map(|i| ControllerState {
                id: 101 + i,
                port: 7101 + i as u16,
                directory_id: None,
                initial: i < 3,
                pid: None,
            })
            .collect();
        let added = kafka_controller_properties(&st.controllers[3], Path::new("/c104"), &st);
        assert!(added.contains("process.roles=controller\n"));
        assert!(added.contains("listeners=CONTROLLER://127.0.0.1:7104\n"));
        assert!(added.contains(
            "controller.quorum.bootstrap.servers=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103\n"
        ));
        assert!(added.contains("controller.quorum.auto.join.enable=false\n"));
        assert!(!added.contains("controller.quorum.voters"));
        assert!(added.contains("offsets.topic.replication.factor=2\n"));
        let b = kafka_kraft_properties(&st.brokers[0], Path::new("/b1"), &st);
        assert!(b.contains("process.roles=broker\n"));
        assert!(b.contains("controller.quorum.bootstrap.servers=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103,127.0.0.1:7104\n"));

        st.quorum = Quorum::Static;
        let b = kafka_kraft_properties(&st.brokers[0], Path::new("/b1"), &st);
        assert!(b.contains(
            "controller.quorum.voters=101@127.0.0.1:7101,102@127.0.0.1:7102,103@127.0.0.1:7103\n"
        ));
    }

    #[test]
    fn zk_properties_caps_replication() {
        let mut b = broker(1, None);
        b.rack = Some("r1".into());
        let p = kafka_zk_properties(&b, Path::new("/n1"), "127.0.0.1:2181/kafka", 1, 6000);
        assert!(p.contains("zookeeper.connect=127.0.0.1:2181/kafka\n"));
        assert!(p.contains("offsets.topic.replication.factor=1\n"));
        assert!(p.contains("transaction.state.log.min.isr=1\n"));
        assert!(p.contains("broker.rack=r1\n"));
    }
}
