//! Enterprise authentication against real servers: Java keystores (JKS and PKCS12, made by
//! the JDK's `keytool` the way Kafka's security docs make them) read as they are, through a
//! `--command-config` written as Kafka's docs write it, on the sandbox's SASL_SSL and
//! mutual-TLS listeners — the admin path and records through librdkafka — with Kafka's own
//! tool reading the same file as the reference. A wrong store password is a clear exit-2
//! error naming the setting, without the password.
//!
//! Kerberos: a real MIT KDC (`krb5kdc`, a realm made here with `kdb5_util` and
//! `kadmin.local`, keytabs for the broker and for kafsh) and the same broker with a
//! SASL_PLAINTEXT listener taking GSSAPI (`Krb5LoginModule` with the broker's keytab);
//! kafsh logs in from a keytab and from a ticket cache made by `kinit`, on the admin path
//! and on the data path (records produced and read back through librdkafka's Cyrus SASL),
//! and a keytab without the principal's key fails fast and clearly on both.
//!
//! OAUTHBEARER: a small token endpoint started here (the client-credentials grant, RS256
//! JWTs with a short lifetime, the signing key published as JWKS) and the same broker with
//! a listener validating tokens with Kafka's `OAuthBearerValidatorCallbackHandler` and
//! ending sessions when their token expires; kafsh fetches, uses and fetches again across a
//! run longer than a token's lifetime, and the run's librdkafka producer, fed by kafsh's
//! token source, keeps producing across token lifetimes.
//!
//! ZooKeeper SASL: the same cluster's ZooKeeper takes DIGEST-MD5 logins (a JAAS `Server`
//! section); a znode whose ACL names only the SASL user is read with the context's
//! `zookeeper_sasl_user` and refused without it; a wrong password fails clearly.

mod common;

use common::kdc::{Kdc, REALM};
use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, SASL_PASSWORD, SASL_USER};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const TRUST_PASSWORD: &str = "Ts-kafsh-91c3e7a2";
const STORE_PASSWORD: &str = "St-kafsh-4d8b2f60";
/// The JKS key entry's own password (Kafka's `ssl.key.password`), unlike the store's.
const KEY_PASSWORD: &str = "Ky-kafsh-0a7e5c19";

/// The secure cluster, its broker also listening on `KRB` (SASL_PLAINTEXT, GSSAPI) with
/// the KDC's realm.
fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let mut c = shared_cluster(ClusterSpec::zookeeper().zk_servers(1).brokers(1).secure());
        let k = kdc();
        let idp = idp();
        let port = free_port();
        let oauth_port = free_port();
        let node = kafsh_sandbox::Node::Broker(1);
        let mut config = String::new();
        for line in c.node_config(node).expect("server.properties").lines() {
            let line = if line.starts_with("listeners=") || line.starts_with("advertised.listeners=") {
                format!("{line},KRB://127.0.0.1:{port},OAUTH://127.0.0.1:{oauth_port}")
            } else if line.starts_with("listener.security.protocol.map=") {
                format!("{line},KRB:SASL_PLAINTEXT,OAUTH:SASL_PLAINTEXT")
            } else {
                line.to_string()
            };
            config.push_str(&line);
            config.push('\n');
        }
        config.push_str(&format!(
            "sasl.kerberos.service.name=kafka\nlistener.name.krb.sasl.enabled.mechanisms=GSSAPI\n\
             listener.name.krb.gssapi.sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab=\"{}\" principal=\"kafka/127.0.0.1@{REALM}\";\n",
            k.keytab("kafka").display()
        ));
        let l = "listener.name.oauth";
        config.push_str(&format!(
            "{l}.sasl.enabled.mechanisms=OAUTHBEARER\n\
             {l}.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ;\n\
             {l}.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler\n\
             {l}.oauthbearer.connections.max.reauth.ms={}\n\
             sasl.oauthbearer.jwks.endpoint.url={}/jwks\nsasl.oauthbearer.clock.skew.seconds=0\n",
            TOKEN_LIFETIME_SECS * 1000,
            idp.url
        ));
        c.stop(node).expect("stop the broker");
        // ZooKeeper with SASL DIGEST-MD5 logins besides its anonymous ones.
        let zk_node = kafsh_sandbox::Node::Zk(1);
        let jaas = c.node_dir(zk_node).join("jaas.conf");
        std::fs::write(
            &jaas,
            format!(
                "Server {{\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_{ZK_SASL_USER}=\"{ZK_SASL_PASSWORD}\";\n}};\n"
            ),
        )
        .expect("jaas.conf");
        std::fs::write(
            c.node_dir(zk_node).join("jvm.options"),
            format!(
                "-Djava.security.auth.login.config={}\n-Dzookeeper.authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n",
                jaas.display()
            ),
        )
        .expect("jvm.options");
        c.stop(zk_node).expect("stop ZooKeeper");
        c.start_node(zk_node).expect("restart ZooKeeper");
        c.write_node_config(node, &config).expect("server.properties");
        std::fs::write(
            c.node_dir(node).join("jvm.options"),
            format!(
                "-Djava.security.krb5.conf={}\n-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls={}/jwks\n",
                k.krb5_conf().display(),
                idp.url
            ),
        )
        .expect("jvm.options");
        c.start_node(node).expect("restart the broker");
        KRB_PORT.set(port).expect("once");
        OAUTH_PORT.set(oauth_port).expect("once");
        wait_for_scram(&c);
        c
    })
}

static KRB_PORT: OnceLock<u16> = OnceLock::new();
static OAUTH_PORT: OnceLock<u16> = OnceLock::new();

fn free_port() -> u16 {
    kafsh_sandbox::free_port().expect("a free port")
}

fn kdc() -> &'static Kdc {
    static KDC: OnceLock<Kdc> = OnceLock::new();
    KDC.get_or_init(|| Kdc::start(&["kafka/127.0.0.1", "kafsh", "stranger"]))
}

/// SCRAM credentials reach the brokers shortly after ConfigCommand returns.
fn wait_for_scram(c: &Cluster) {
    let state = bare_context(&c.secure_bootstrap_servers().expect("SASL_SSL listener"));
    let config = properties_file(
        state.path(),
        "scram.properties",
        &[
            "security.protocol=SASL_SSL".into(),
            "sasl.mechanism=SCRAM-SHA-512".into(),
            format!("sasl.username={SASL_USER}"),
            format!("sasl.password={SASL_PASSWORD}"),
            format!("ssl.ca.location={}", c.tls_dir().join("ca.pem").display()),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = kafsh(&state)
            .arg("--command-config")
            .arg(&config)
            .args(["-e", "list_topics()"])
            .output()
            .expect("kafsh");
        if out.status.success() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "SASL_SSL never worked: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The stores, made once: a truststore with the cluster's CA and a keystore whose key was
/// generated by keytool and whose certificate the cluster's CA signed (from keytool's
/// request), in JKS and in PKCS12.
struct Stores {
    /// In the cluster's directory, so they go with it.
    dir: PathBuf,
}

impl Stores {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn keytool(args: &[&str]) {
    let out = Command::new("keytool")
        .args(args)
        .output()
        .expect("keytool (a JDK)");
    assert!(
        out.status.success(),
        "keytool {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn stores() -> &'static Stores {
    static STORES: OnceLock<Stores> = OnceLock::new();
    STORES.get_or_init(|| {
        let c = cluster();
        let dir = c.dir().join("keystores");
        std::fs::create_dir_all(&dir).expect("keystores dir");
        let ca = c.tls_dir().join("ca.pem").display().to_string();
        let ca_key = c.tls_dir().join("ca.key").display().to_string();
        let at = |name: &str| dir.join(name).display().to_string();
        for (kind, ext) in [("JKS", "jks"), ("PKCS12", "p12")] {
            let truststore = at(&format!("truststore.{ext}"));
            keytool(&[
                "-importcert",
                "-noprompt",
                "-alias",
                "CARoot",
                "-file",
                &ca,
                "-keystore",
                &truststore,
                "-storetype",
                kind,
                "-storepass",
                TRUST_PASSWORD,
            ]);
            let keystore = at(&format!("keystore.{ext}"));
            // PKCS12 has one password for the store and its keys (as keytool insists).
            let key_password = if kind == "JKS" {
                KEY_PASSWORD
            } else {
                STORE_PASSWORD
            };
            keytool(&[
                "-genkeypair",
                "-alias",
                "localhost",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "7",
                "-dname",
                "CN=kafsh-client",
                "-keystore",
                &keystore,
                "-storetype",
                kind,
                "-storepass",
                STORE_PASSWORD,
                "-keypass",
                key_password,
            ]);
            let request = at(&format!("cert-file.{ext}"));
            keytool(&[
                "-certreq",
                "-alias",
                "localhost",
                "-file",
                &request,
                "-keystore",
                &keystore,
                "-storepass",
                STORE_PASSWORD,
                "-keypass",
                key_password,
            ]);
            let signed = at(&format!("cert-signed.{ext}.pem"));
            let ext_file = at("client.ext");
            std::fs::write(&ext_file, "extendedKeyUsage=clientAuth\n").expect("ext");
            let out = Command::new("openssl")
                .args([
                    "x509",
                    "-req",
                    "-CA",
                    &ca,
                    "-CAkey",
                    &ca_key,
                    "-in",
                    &request,
                    "-out",
                    &signed,
                    "-days",
                    "7",
                    "-CAcreateserial",
                    "-extfile",
                    &ext_file,
                ])
                .output()
                .expect("openssl");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            keytool(&[
                "-importcert",
                "-noprompt",
                "-alias",
                "CARoot",
                "-file",
                &ca,
                "-keystore",
                &keystore,
                "-storepass",
                STORE_PASSWORD,
            ]);
            keytool(&[
                "-importcert",
                "-noprompt",
                "-alias",
                "localhost",
                "-file",
                &signed,
                "-keystore",
                &keystore,
                "-storepass",
                STORE_PASSWORD,
                "-keypass",
                key_password,
            ]);
        }
        Stores { dir }
    })
}

/// A state directory whose context names only the brokers: everything else comes from the
/// `--command-config` file.
fn bare_context(bootstrap: &str) -> tempfile::TempDir {
    let state = tempfile::tempdir().expect("tmp");
    std::fs::write(
        state.path().join("config.toml"),
        format!("current_context = \"c\"\n[contexts.c]\nbootstrap_servers = \"{bootstrap}\"\n"),
    )
    .expect("config");
    state
}

/// A client.properties as Kafka's security docs write one.
fn properties_file(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").expect("properties");
    path
}

fn mtls_lines(s: &Stores, ext: &str, keystore_password: &str) -> Vec<String> {
    let key_password = if ext == "jks" {
        KEY_PASSWORD
    } else {
        STORE_PASSWORD
    };
    vec![
        "# Kafka's docs: Configuring Kafka Clients (SSL)".into(),
        "security.protocol=SSL".into(),
        format!(
            "ssl.truststore.location={}",
            s.path(&format!("truststore.{ext}")).display()
        ),
        format!("ssl.truststore.password={TRUST_PASSWORD}"),
        format!(
            "ssl.keystore.location={}",
            s.path(&format!("keystore.{ext}")).display()
        ),
        format!("ssl.keystore.password={keystore_password}"),
        format!("ssl.key.password={key_password}"),
        format!(
            "ssl.truststore.type={}",
            if ext == "jks" { "JKS" } else { "PKCS12" }
        ),
        format!(
            "ssl.keystore.type={}",
            if ext == "jks" { "JKS" } else { "PKCS12" }
        ),
    ]
}

fn run_json(state: &tempfile::TempDir, config: &Path, script: &str) -> serde_json::Value {
    let out = kafsh(state)
        .arg("--command-config")
        .arg(config)
        .args(["--json", "-e", script])
        .output()
        .expect("kafsh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {stderr}", config.display());
    for secret in [TRUST_PASSWORD, STORE_PASSWORD, KEY_PASSWORD, SASL_PASSWORD] {
        assert!(!stderr.contains(secret), "{stderr}");
    }
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn jks_and_pkcs12_stores_from_keytool_reach_the_mtls_and_sasl_ssl_listeners() {
    let c = cluster();
    let s = stores();
    let files = tempfile::tempdir().expect("tmp");
    for ext in ["jks", "p12"] {
        // Mutual TLS: the broker requires the keystore's certificate.
        let config = properties_file(
            files.path(),
            &format!("mtls-{ext}.properties"),
            &mtls_lines(s, ext, STORE_PASSWORD),
        );
        let state = bare_context(&c.mtls_bootstrap_servers().expect("mTLS listener"));
        let topic = format!("ks-{ext}");
        let v = run_json(
            &state,
            &config,
            &format!(
                r#"create_topic("{topic}", #{{partitions: 2, replication_factor: 1}});
                   produce("{topic}", [#{{key: "a", value: "one", partition: 0}}, #{{key: "b", value: "two", partition: 1}}]);
                   let read = consume("{topic}").map(|r| r.value);
                   read.sort();
                   #{{partitions: describe_topic("{topic}").partition_count, read: read}}"#
            ),
        );
        assert_eq!(v["partitions"], 2, "{ext}: {v}");
        assert_eq!(v["read"], serde_json::json!(["one", "two"]), "{ext}: {v}");

        // SASL_SSL with SCRAM: only a truststore, the JAAS line as Kafka's docs write it.
        let config = properties_file(
            files.path(),
            &format!("sasl-{ext}.properties"),
            &[
                "security.protocol=SASL_SSL".into(),
                "sasl.mechanism=SCRAM-SHA-512".into(),
                format!(
                    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n    username=\"{SASL_USER}\" \\\n    password=\"{SASL_PASSWORD}\";"
                ),
                format!("ssl.truststore.location={}", s.path(&format!("truststore.{ext}")).display()),
                format!("ssl.truststore.password={TRUST_PASSWORD}"),
            ],
        );
        let state = bare_context(&c.secure_bootstrap_servers().expect("SASL_SSL listener"));
        let v = run_json(
            &state,
            &config,
            &format!(
                r#"produce("{topic}", #{{key: "c", value: "three", partition: 0}});
                   #{{topics: list_topics(), count: count("{topic}").records}}"#
            ),
        );
        assert_eq!(v["count"], 3, "{ext}: {v}");
        assert!(
            v["topics"]
                .as_array()
                .expect("topics")
                .iter()
                .any(|t| t == topic.as_str()),
            "{ext}: {v}"
        );
    }

    // The reference: Kafka's own tool reads the same JKS file and sees the same topics.
    let config = properties_file(
        files.path(),
        "tool.properties",
        &mtls_lines(s, "jks", STORE_PASSWORD),
    );
    let tool = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.TopicCommand",
            &[
                "--bootstrap-server",
                &c.mtls_bootstrap_servers().expect("mTLS"),
                "--command-config",
                &config.display().to_string(),
                "--list",
            ],
        ),
        "kafka-topics --list over mTLS with the JKS stores",
    );
    for topic in ["ks-jks", "ks-p12"] {
        assert!(tool.lines().any(|l| l.trim() == topic), "{tool}");
    }
}

#[test]
fn a_wrong_store_password_is_a_clear_exit_2_naming_the_setting() {
    let c = cluster();
    let s = stores();
    let files = tempfile::tempdir().expect("tmp");
    let state = bare_context(&c.mtls_bootstrap_servers().expect("mTLS listener"));
    let wrong = "Wrong-pw-3e9f1b";
    for ext in ["jks", "p12"] {
        let mut lines = mtls_lines(s, ext, wrong);
        let keystore_case = properties_file(files.path(), &format!("wrong-ks-{ext}"), &lines);
        lines = mtls_lines(s, ext, STORE_PASSWORD);
        for line in &mut lines {
            if line.starts_with("ssl.truststore.password=") {
                *line = format!("ssl.truststore.password={wrong}");
            }
        }
        let truststore_case = properties_file(files.path(), &format!("wrong-ts-{ext}"), &lines);
        for (config, setting) in [
            (keystore_case, "ssl.keystore.password"),
            (truststore_case, "ssl.truststore.password"),
        ] {
            // Both paths: the admin path's list_topics and the data path's produce.
            for script in ["list_topics()", r#"produce("ks-any", "x")"#] {
                let started = Instant::now();
                let out = kafsh(&state)
                    .arg("--command-config")
                    .arg(&config)
                    .args(["-e", script])
                    .output()
                    .expect("kafsh");
                let err = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(2), "{ext} {setting}: {err}");
                assert!(err.contains(setting), "{ext} {setting}: {err}");
                assert!(started.elapsed() < Duration::from_secs(15), "{err}");
                for secret in [wrong, TRUST_PASSWORD, STORE_PASSWORD, KEY_PASSWORD] {
                    assert!(!err.contains(secret), "{err}");
                }
            }
        }
    }
    // A JKS key entry's own password, wrong: named as ssl.key.password.
    let mut lines = mtls_lines(s, "jks", STORE_PASSWORD);
    for line in &mut lines {
        if line.starts_with("ssl.key.password=") {
            *line = format!("ssl.key.password={wrong}");
        }
    }
    let config = properties_file(files.path(), "wrong-key-jks", &lines);
    let out = kafsh(&state)
        .arg("--command-config")
        .arg(&config)
        .args(["-e", "list_topics()"])
        .output()
        .expect("kafsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("ssl.key.password"), "{err}");
    assert!(!err.contains(wrong) && !err.contains(KEY_PASSWORD), "{err}");
}

/// A state directory with a context on the Kerberos listener: GSSAPI with `properties`.
fn kerberos_context(properties: &[(&str, String)]) -> tempfile::TempDir {
    let port = *KRB_PORT.get().expect("the Kerberos listener");
    let state = tempfile::tempdir().expect("tmp");
    let mut text = format!(
        "current_context = \"krb\"\n[contexts.krb]\nbootstrap_servers = \"127.0.0.1:{port}\"\n[contexts.krb.properties]\n\"security.protocol\" = \"SASL_PLAINTEXT\"\n"
    );
    for (k, v) in properties {
        text.push_str(&format!("\"{k}\" = \"{}\"\n", v.replace('"', "\\\"")));
    }
    std::fs::write(state.path().join("config.toml"), text).expect("config");
    state
}

fn kafsh_krb(state: &tempfile::TempDir) -> Command {
    let mut cmd = kafsh(state);
    cmd.env("KRB5_CONFIG", kdc().krb5_conf())
        // Never the tester's own tickets.
        .env(
            "KRB5CCNAME",
            format!("FILE:{}/no-cache", state.path().display()),
        );
    cmd
}

#[test]
fn kerberos_from_a_keytab_and_from_a_ticket_cache() {
    let _ = cluster();
    let k = kdc();
    let keytab = k.keytab("kafsh").display().to_string();
    // From a keytab, librdkafka's names.
    let state = kerberos_context(&[
        ("sasl.mechanism", "GSSAPI".into()),
        ("sasl.kerberos.service.name", "kafka".into()),
        ("sasl.kerberos.principal", format!("kafsh@{REALM}")),
        ("sasl.kerberos.keytab", keytab.clone()),
    ]);
    let out = kafsh_krb(&state)
        .args([
            "--json",
            "-e",
            r#"create_topic("krb-t", #{partitions: 2, replication_factor: 1});
               #{partitions: describe_topic("krb-t").partition_count, brokers: brokers().len()}"#,
        ])
        .output()
        .expect("kafsh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["partitions"], 2, "{v}");
    assert_eq!(v["brokers"], 1, "{v}");

    // The data path (librdkafka through Cyrus SASL, kinit from the keytab): a round trip,
    // the principal the keytab's own.
    let state = kerberos_context(&[
        ("sasl.mechanism", "GSSAPI".into()),
        ("sasl.kerberos.keytab", keytab.clone()),
    ]);
    let out = kafsh_krb(&state)
        .args(["--json", "-e", &round_trip("krb-t", "from the keytab")])
        .output()
        .expect("kafsh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v, serde_json::json!(["from the keytab"]), "{stderr}");

    // From a ticket cache made by kinit, the Java JAAS line as Kafka's docs write it.
    let cache = format!("FILE:{}/krb5cc", state.path().display());
    let out = k
        .command("kinit")
        .args(["-k", "-t", &keytab, "-c", &cache, &format!("kafsh@{REALM}")])
        .output()
        .expect("kinit (krb5-user)");
    assert!(
        out.status.success(),
        "kinit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = tempfile::tempdir().expect("tmp");
    let config = properties_file(
        files.path(),
        "krb.properties",
        &[
            "security.protocol=SASL_PLAINTEXT".into(),
            "sasl.mechanism=GSSAPI".into(),
            "sasl.kerberos.service.name=kafka".into(),
            "sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \\\n    useTicketCache=true;".into(),
        ],
    );
    let state = bare_context(&format!("127.0.0.1:{}", KRB_PORT.get().expect("port")));
    let out = kafsh(&state)
        .env("KRB5_CONFIG", k.krb5_conf())
        .env("KRB5CCNAME", &cache)
        .arg("--command-config")
        .arg(&config)
        .args([
            "--json",
            "-e",
            &format!(
                r#"#{{listed: list_topics().contains("krb-t"), read: {}}}"#,
                round_trip("krb-t", "from the ticket cache")
            ),
        ])
        .output()
        .expect("kafsh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["listed"], true, "{v}");
    assert_eq!(
        v["read"],
        serde_json::json!(["from the keytab", "from the ticket cache"]),
        "{v}"
    );
}

/// A script that produces `value` to partition 0 of `topic` (acks=all) and reads back
/// every value there, in order.
fn round_trip(topic: &str, value: &str) -> String {
    format!(
        r#"{{ produce("{topic}", #{{value: "{value}", partition: 0}}, #{{acks: "all"}});
            consume("{topic}", #{{partition: 0}}).map(|r| r.value) }}"#
    )
}

#[test]
fn a_keytab_without_the_principal_or_no_tickets_fail_fast_and_clearly() {
    let _ = cluster();
    let k = kdc();
    for (properties, expected) in [
        (
            vec![
                ("sasl.mechanism", "GSSAPI".to_string()),
                ("sasl.kerberos.principal", format!("kafsh@{REALM}")),
                (
                    "sasl.kerberos.keytab",
                    k.keytab("stranger").display().to_string(),
                ),
            ],
            format!("kafsh@{REALM}"),
        ),
        (
            vec![("sasl.mechanism", "GSSAPI".to_string())],
            "ticket cache".to_string(),
        ),
    ] {
        let state = kerberos_context(&properties);
        // Both paths: the admin path's list_topics and the data path's produce and consume.
        for script in [
            "list_topics()",
            r#"produce("krb-t", "never")"#,
            r#"consume("krb-t")"#,
        ] {
            let started = Instant::now();
            let out = kafsh_krb(&state)
                .args(["--call-timeout", "60s", "-e", script])
                .output()
                .expect("kafsh");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{script}: {err}");
            assert!(
                err.contains("Kerberos") && err.contains(&expected),
                "{script}: {err}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "{script}: {err}"
            );
        }
    }
    // A login only librdkafka fails (its kinit command does nothing, so its ticket cache
    // stays empty while kafsh's own check logs in): the delivery's timeout says why.
    let state = kerberos_context(&[
        ("sasl.mechanism", "GSSAPI".to_string()),
        ("sasl.kerberos.principal", format!("kafsh@{REALM}")),
        (
            "sasl.kerberos.keytab",
            k.dir.path().join("kafsh.keytab").display().to_string(),
        ),
        ("sasl.kerberos.kinit.cmd", "true".to_string()),
    ]);
    let out = kafsh_krb(&state)
        .args([
            "--call-timeout",
            "5s",
            "-e",
            r#"create_topic("krb-l", #{partitions: 1, replication_factor: 1}); produce("krb-l", "never")"#,
        ])
        .output()
        .expect("kafsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("refused the login") && err.contains("GSSAPI"),
        "{err}"
    );
}

const TOKEN_LIFETIME_SECS: u64 = 6;
const CLIENT_ID: &str = "kafsh-ops";
const CLIENT_SECRET: &str = "Cs-kafsh-6b1f0d93";

/// An OIDC provider of the smallest kind: `POST /token` (client credentials in HTTP Basic)
/// answers an RS256 JWT for the client, `GET /jwks` the public key.
struct Idp {
    url: String,
    issued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn idp() -> &'static Idp {
    static IDP: OnceLock<Idp> = OnceLock::new();
    IDP.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tmp");
        let key = dir.path().join("key.der");
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl").args(args).output().expect("openssl");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let key_path = key.display().to_string();
        openssl(&[
            "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-outform",
            "DER", "-out", &key_path,
        ]);
        let modulus = openssl(&["rsa", "-inform", "DER", "-in", &key_path, "-noout", "-modulus"]);
        let hex = modulus.trim().trim_start_matches("Modulus=");
        let n: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        let pkcs8 = dir.path().join("key.p8").display().to_string();
        openssl(&[
            "pkcs8", "-topk8", "-nocrypt", "-inform", "DER", "-in", &key_path, "-outform", "DER",
            "-out", &pkcs8,
        ]);
        let pair = ring::signature::RsaKeyPair::from_pkcs8(&std::fs::read(&pkcs8).expect("key"))
            .expect("RSA key");
        let jwks = serde_json::json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256",
            "kid": "kafsh-test", "n": b64url(&n), "e": "AQAB"}]})
        .to_string();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
        let issued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = issued.clone();
        std::thread::spawn(move || {
            use std::io::{BufRead, Read, Write};
            for stream in listener.incoming().flatten() {
                let mut reader = std::io::BufReader::new(stream);
                let mut head = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push(line.trim_end().to_string());
                }
                let length = head
                    .iter()
                    .find_map(|h| h.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                    .unwrap_or(0);
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let first = head.first().cloned().unwrap_or_default();
                let expected = {
                    use base64::Engine;
                    format!(
                        "authorization: basic {}",
                        base64::engine::general_purpose::STANDARD
                            .encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
                            .to_ascii_lowercase()
                    )
                };
                let (status, answer) = if first.starts_with("GET /jwks") {
                    ("200 OK", jwks.clone())
                } else if first.starts_with("POST /token")
                    && head.iter().any(|h| h.to_ascii_lowercase() == expected)
                    && String::from_utf8_lossy(&body).contains("grant_type=client_credentials")
                {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .expect("clock")
                        .as_secs();
                    let header = b64url(br#"{"alg":"RS256","typ":"JWT","kid":"kafsh-test"}"#);
                    let claims = b64url(
                        serde_json::json!({"sub": CLIENT_ID, "iat": now, "exp": now + TOKEN_LIFETIME_SECS, "scope": "kafka"})
                            .to_string()
                            .as_bytes(),
                    );
                    let signed = format!("{header}.{claims}");
                    let mut signature = vec![0; pair.public().modulus_len()];
                    pair.sign(
                        &ring::signature::RSA_PKCS1_SHA256,
                        &ring::rand::SystemRandom::new(),
                        signed.as_bytes(),
                        &mut signature,
                    )
                    .expect("sign");
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    (
                        "200 OK",
                        serde_json::json!({"access_token": format!("{signed}.{}", b64url(&signature)),
                            "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECS})
                        .to_string(),
                    )
                } else {
                    ("401 Unauthorized", r#"{"error":"invalid_client"}"#.to_string())
                };
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        // The key file is read; the directory can go.
        drop(dir);
        Idp { url, issued }
    })
}

/// A state directory with a context on the OAUTHBEARER listener, the client secret in a
/// 0600 file.
fn oauth_context(secret: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let port = *OAUTH_PORT.get().expect("the OAUTHBEARER listener");
    let state = tempfile::tempdir().expect("tmp");
    let secret_file = state.path().join("client.secret");
    std::fs::write(&secret_file, format!("{secret}\n")).expect("secret");
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::fs::write(
        state.path().join("config.toml"),
        format!(
            "current_context = \"oauth\"\n[contexts.oauth]\nbootstrap_servers = \"127.0.0.1:{port}\"\n\
             client_secret_file = \"{}\"\n[contexts.oauth.properties]\n\
             \"security.protocol\" = \"SASL_PLAINTEXT\"\n\"sasl.mechanism\" = \"OAUTHBEARER\"\n\
             \"sasl.oauthbearer.method\" = \"oidc\"\n\"sasl.oauthbearer.token.endpoint.url\" = \"{}/token\"\n\
             \"sasl.oauthbearer.client.id\" = \"{CLIENT_ID}\"\n\"sasl.oauthbearer.scope\" = \"kafka\"\n",
            secret_file.display(),
            idp().url
        ),
    )
    .expect("config");
    state
}

#[test]
fn oauthbearer_tokens_are_fetched_used_and_fetched_again_after_they_expire() {
    let _ = cluster();
    let idp = idp();
    let state = oauth_context(CLIENT_SECRET);
    let before = idp.issued.load(std::sync::atomic::Ordering::SeqCst);
    let started = Instant::now();
    // The broker ends a session when its token expires; every read after the pause is on a
    // new connection, with a new token. The data path's producer, kept for the session,
    // lives through two lifetimes: librdkafka asks kafsh for a new token before the one it
    // has expires, or its later records are refused.
    let out = kafsh(&state)
        .args([
            "--json",
            "-e",
            &format!(
                r#"create_topic("oauth-t", #{{partitions: 1, replication_factor: 1}});
                   let seen = [];
                   for i in 0..3 {{
                       produce("oauth-t", #{{value: `record ${{i}}`, partition: 0}}, #{{acks: "all"}});
                       sleep({});
                       seen.push(describe_topic("oauth-t").partition_count);
                   }}
                   #{{seen: seen, read: consume("oauth-t").map(|r| r.value)}}"#,
                TOKEN_LIFETIME_SECS + 1
            ),
        ])
        .output()
        .expect("kafsh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains(CLIENT_SECRET), "{stderr}");
    assert!(started.elapsed() > Duration::from_secs(3 * TOKEN_LIFETIME_SECS));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["seen"], serde_json::json!([1, 1, 1]), "{v}");
    assert_eq!(
        v["read"],
        serde_json::json!(["record 0", "record 1", "record 2"]),
        "{v}"
    );
    let fetched = idp.issued.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert!(
        fetched >= 3,
        "{fetched} tokens over a run of three lifetimes"
    );

    // A wrong client secret, on both paths: exit 2, naming the client, not the secret.
    let state = oauth_context("not-the-secret");
    for script in ["list_topics()", r#"produce("oauth-t", "never")"#] {
        let started = Instant::now();
        let out = kafsh(&state)
            .args(["--call-timeout", "60s", "-e", script])
            .output()
            .expect("kafsh");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{script}: {err}");
        assert!(
            err.contains(CLIENT_ID) && err.contains("401"),
            "{script}: {err}"
        );
        assert!(
            !err.contains("not-the-secret") && !err.contains(CLIENT_SECRET),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{script}: {err}"
        );
    }

    // The Java line as Kafka's docs write it, in a --command-config.
    let files = tempfile::tempdir().expect("tmp");
    let config = properties_file(
        files.path(),
        "oauth.properties",
        &[
            "security.protocol=SASL_PLAINTEXT".into(),
            "sasl.mechanism=OAUTHBEARER".into(),
            format!("sasl.oauthbearer.token.endpoint.url={}/token", idp.url),
            "sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler".into(),
            format!(
                "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \\\n    clientId=\"{CLIENT_ID}\" clientSecret=\"{CLIENT_SECRET}\" scope=\"kafka\";"
            ),
        ],
    );
    let state = bare_context(&format!("127.0.0.1:{}", OAUTH_PORT.get().expect("port")));
    let v = run_json(&state, &config, r#"list_topics().contains("oauth-t")"#);
    assert_eq!(v, serde_json::json!(true));
}

const ZK_SASL_USER: &str = "kafsh";
const ZK_SASL_PASSWORD: &str = "Zs-kafsh-3c8e1a57";

/// A state directory whose context reaches the cluster's ZooKeeper, with a SASL login
/// when `password` is given.
fn zk_sasl_context(password: Option<&str>) -> tempfile::TempDir {
    let c = cluster();
    let state = tempfile::tempdir().expect("tmp");
    let mut text = format!(
        "current_context = \"z\"\n[contexts.z]\nbootstrap_servers = \"{}\"\nzookeeper = \"{}\"\n",
        c.bootstrap_servers(),
        c.zk_connect().expect("zk")
    );
    if let Some(password) = password {
        let file = state.path().join("zk.password");
        std::fs::write(&file, format!("{password}\n")).expect("password");
        text.push_str(&format!(
            "zookeeper_sasl_user = \"{ZK_SASL_USER}\"\nzookeeper_sasl_password_file = \"{}\"\n",
            file.display()
        ));
    }
    std::fs::write(state.path().join("config.toml"), text).expect("config");
    state
}

#[test]
fn zookeeper_sasl_digest_md5_reads_a_sasl_acled_znode() {
    let c = cluster();
    // The znode's ACL names only the SASL user (made with ZooKeeper's own CLI).
    let chroot = c.chroot().unwrap_or_default();
    let path = format!("{chroot}/kafsh-sasl");
    tool_stdout(
        c.zk_cli(&[
            "create",
            &path,
            "for the sasl user",
            &format!("sasl:{ZK_SASL_USER}:cdrwa"),
        ]),
        "zkCli create with a sasl ACL",
    );
    let out = kafsh(&zk_sasl_context(Some(ZK_SASL_PASSWORD)))
        .args([
            "--json",
            "-e",
            r#"#{data: zk_get("/kafsh-sasl").data, listed: zk_ls("/").contains("kafsh-sasl"),
                modes: zk_status().map(|s| s.mode)}"#,
        ])
        .output()
        .expect("kafsh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains(ZK_SASL_PASSWORD), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["data"], "for the sasl user", "{v}");
    assert_eq!(v["listed"], true, "{v}");
    assert_eq!(v["modes"], serde_json::json!(["standalone"]), "{v}");

    // Without the login: refused by the ACL.
    let out = kafsh(&zk_sasl_context(None))
        .args(["-e", r#"zk_get("/kafsh-sasl")"#])
        .output()
        .expect("kafsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("ACL") && err.contains("zookeeper_sasl_user"),
        "{err}"
    );

    // A wrong password: a clear error naming the user, fast, without the password.
    let started = Instant::now();
    let out = kafsh(&zk_sasl_context(Some("not-the-zk-password")))
        .args(["--call-timeout", "60s", "-e", r#"zk_get("/kafsh-sasl")"#])
        .output()
        .expect("kafsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("zookeeper_sasl_user") && err.contains(ZK_SASL_USER),
        "{err}"
    );
    assert!(!err.contains("not-the-zk-password"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(15), "{err}");
}
