//! ZooKeeper security against a real server: one ZooKeeper 3.8 server (the Kafka 3.9
//! jars') with a TLS secure client port (Netty, certificates from the sandbox's CA, client
//! certificates required) and SASL Kerberos logins from a real MIT KDC started here.
//! kafsh reaches the secure port with a JKS truststore and a PKCS12 keystore (made by
//! `keytool` and `openssl` as operators make them), four-letter words included; a wrong CA
//! fails fast and clearly. Znodes whose ACL names a Kerberos principal (`sasl:`, made with
//! ZooKeeper's own CLI) are read with that principal's keytab, with a ticket cache made by
//! `kinit` named in a JAAS `Client` section, and over TLS; another principal is refused by
//! the ACL, and a keytab without the principal's key fails fast with exit 2. Every ZooKeeper
//! runbook dry-runs over Kerberos sessions against a three-server ensemble.

mod common;

use common::kdc::{Kdc, REALM};
use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, NewNode, ZkKerberos};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn kdc() -> &'static Kdc {
    static KDC: OnceLock<Kdc> = OnceLock::new();
    KDC.get_or_init(|| Kdc::start(&["zookeeper/127.0.0.1", "kafsh", "stranger"]))
}

/// One ZooKeeper server with a TLS port and Kerberos logins.
fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let k = kdc();
        shared_cluster(ClusterSpec::zk_only(1).zk_tls().zk_kerberos(ZkKerberos {
            krb5_conf: k.krb5_conf(),
            keytab: k.keytab("zookeeper"),
            principal: format!("zookeeper/127.0.0.1@{REALM}"),
        }))
    })
}

const TRUST_PASSWORD: &str = "Zt-kafsh-83b1c9e4";
const STORE_PASSWORD: &str = "Zk-kafsh-1f6a2d70";

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().expect(program);
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A JKS truststore with the cluster's CA and a PKCS12 keystore with the sandbox's client
/// certificate, made once.
fn stores() -> &'static PathBuf {
    static STORES: OnceLock<PathBuf> = OnceLock::new();
    STORES.get_or_init(|| {
        let c = cluster();
        let dir = c.dir().join("zk-stores");
        std::fs::create_dir_all(&dir).expect("dir");
        let tls = c.tls_dir();
        let at = |p: &Path, name: &str| p.join(name).display().to_string();
        run(
            "keytool",
            &[
                "-importcert",
                "-noprompt",
                "-alias",
                "CARoot",
                "-file",
                &at(&tls, "ca.pem"),
                "-keystore",
                &at(&dir, "truststore.jks"),
                "-storetype",
                "JKS",
                "-storepass",
                TRUST_PASSWORD,
            ],
        );
        run(
            "openssl",
            &[
                "pkcs12",
                "-export",
                "-in",
                &at(&tls, "client.pem"),
                "-inkey",
                &at(&tls, "client.key"),
                "-name",
                "client",
                "-out",
                &at(&dir, "keystore.p12"),
                "-passout",
                &format!("pass:{STORE_PASSWORD}"),
            ],
        );
        std::fs::write(dir.join("keystore.password"), format!("{STORE_PASSWORD}\n"))
            .expect("password file");
        dir
    })
}

/// A state directory with a context on `zookeeper` and `extra` lines (TOML) in it.
fn context(zookeeper: &str, extra: &str) -> tempfile::TempDir {
    let state = tempfile::tempdir().expect("tmp");
    std::fs::write(
        state.path().join("config.toml"),
        format!(
            "current_context = \"z\"\n[contexts.z]\nbootstrap_servers = \"127.0.0.1:1\"\nzookeeper = \"{zookeeper}\"\n{extra}"
        ),
    )
    .expect("config");
    state
}

/// The TLS settings as ZooKeeper's client names them: the JKS truststore with its
/// password, the PKCS12 keystore with its password in a file (`passwordPath`).
fn tls_lines() -> String {
    let s = stores();
    format!(
        "zookeeper_properties = {{ \"zookeeper.client.secure\" = \"true\", \
         \"zookeeper.clientCnxnSocket\" = \"org.apache.zookeeper.ClientCnxnSocketNetty\", \
         \"zookeeper.ssl.trustStore.location\" = \"{}\", \"zookeeper.ssl.trustStore.password\" = \"{TRUST_PASSWORD}\", \
         \"zookeeper.ssl.trustStore.type\" = \"JKS\", \
         \"zookeeper.ssl.keyStore.location\" = \"{}\", \"zookeeper.ssl.keyStore.passwordPath\" = \"{}\", \
         \"zookeeper.ssl.keyStore.type\" = \"PKCS12\" }}\n",
        s.join("truststore.jks").display(),
        s.join("keystore.p12").display(),
        s.join("keystore.password").display()
    )
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

fn json_of(out: std::process::Output) -> serde_json::Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for secret in [TRUST_PASSWORD, STORE_PASSWORD] {
        assert!(!stderr.contains(secret), "{stderr}");
    }
    serde_json::from_slice(&out.stdout).expect("json")
}

/// Creates `path` with `data` and `acl` through ZooKeeper's own CLI (plain port).
fn zk_create(path: &str, data: &str, acl: &str) {
    tool_stdout(
        cluster().zk_cli(&["create", path, data, acl]),
        "zkCli create",
    );
}

#[test]
fn tls_with_java_stores_reads_znodes_and_four_letter_words() {
    let c = cluster();
    zk_create("/kafsh-tls", "over tls", "world:anyone:cdrwa");
    let secure = c.zk_secure_connect().expect("secure port");
    let out = kafsh(&context(&secure, &tls_lines()))
        .args([
            "--json",
            "-e",
            r#"#{data: zk_get("/kafsh-tls").data, listed: zk_ls("/").contains("kafsh-tls"),
                modes: zk_status().map(|s| s.mode)}"#,
        ])
        .output()
        .expect("kafsh");
    let v = json_of(out);
    assert_eq!(v["data"], "over tls", "{v}");
    assert_eq!(v["listed"], true, "{v}");
    assert_eq!(v["modes"], serde_json::json!(["standalone"]), "{v}");

    // Kafka's --zk-tls-config-file names, in a file (PEM truststore this time).
    let state = tempfile::tempdir().expect("tmp");
    let file = state.path().join("zk-tls.properties");
    std::fs::write(
        &file,
        format!(
            "zookeeper.ssl.client.enable=true\nzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\n\
             zookeeper.ssl.truststore.location={}\nzookeeper.ssl.truststore.type=PEM\n\
             zookeeper.ssl.keystore.location={}\nzookeeper.ssl.keystore.password={STORE_PASSWORD}\nzookeeper.ssl.keystore.type=PKCS12\n",
            c.tls_dir().join("ca.pem").display(),
            stores().join("keystore.p12").display()
        ),
    )
    .expect("properties");
    let state = context(
        &secure,
        &format!("zookeeper_client_config = \"{}\"\n", file.display()),
    );
    let v = json_of(
        kafsh(&state)
            .args(["--json", "-e", r#"zk_get("/kafsh-tls").data"#])
            .output()
            .expect("kafsh"),
    );
    assert_eq!(v, "over tls");
}

#[test]
fn tls_with_a_wrong_ca_fails_fast_and_clearly() {
    let c = cluster();
    let secure = c.zk_secure_connect().expect("secure port");
    let lines = tls_lines().replace(
        &format!(
            "\"zookeeper.ssl.trustStore.location\" = \"{}\", \"zookeeper.ssl.trustStore.password\" = \"{TRUST_PASSWORD}\", \"zookeeper.ssl.trustStore.type\" = \"JKS\"",
            stores().join("truststore.jks").display()
        ),
        &format!(
            "\"zookeeper.ssl.trustStore.location\" = \"{}\"",
            c.tls_dir().join("other-ca.pem").display()
        ),
    );
    assert!(lines.contains("other-ca.pem"), "{lines}");
    let started = Instant::now();
    let out = kafsh(&context(&secure, &lines))
        .args(["--call-timeout", "60s", "-e", r#"zk_get("/")"#])
        .output()
        .expect("kafsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("TLS") && err.contains("other-ca.pem"), "{err}");
    assert!(!err.contains(STORE_PASSWORD), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "{err}");

    // A client certificate from another CA: the server refuses it, said as plainly.
    let files = tempfile::tempdir().expect("tmp");
    let keystore = files.path().join("untrusted.pem");
    std::fs::write(
        &keystore,
        format!(
            "{}{}",
            std::fs::read_to_string(c.tls_dir().join("untrusted-client.key")).expect("key"),
            std::fs::read_to_string(c.tls_dir().join("untrusted-client.pem")).expect("cert")
        ),
    )
    .expect("keystore");
    let lines = format!(
        "zookeeper_properties = {{ \"zookeeper.client.secure\" = \"true\", \
         \"zookeeper.ssl.trustStore.location\" = \"{}\", \"zookeeper.ssl.keyStore.location\" = \"{}\" }}\n",
        c.tls_dir().join("ca.pem").display(),
        keystore.display()
    );
    let started = Instant::now();
    let out = kafsh(&context(&secure, &lines))
        .args(["--call-timeout", "60s", "-e", r#"zk_get("/")"#])
        .output()
        .expect("kafsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("TLS"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "{err}");

    // A wrong store password names the setting, not the password.
    let lines = tls_lines().replace(TRUST_PASSWORD, "not-the-password");
    let out = kafsh(&context(&secure, &lines))
        .args(["-e", r#"zk_get("/")"#])
        .output()
        .expect("kafsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("zookeeper.ssl.trustStore.password") && !err.contains("not-the-password"),
        "{err}"
    );
}

fn keytab_lines(name: &str, principal: &str) -> String {
    format!(
        "zookeeper_kerberos_keytab = \"{}\"\nzookeeper_kerberos_principal = \"{principal}@{REALM}\"\n",
        kdc().keytab(name).display()
    )
}

#[test]
fn kerberos_reads_sasl_acled_znodes_and_refuses_others() {
    let c = cluster();
    zk_create(
        "/kafsh-krb",
        "for kafsh",
        &format!("sasl:kafsh@{REALM}:cdrwa"),
    );
    let plain = c.zk_connect().expect("zk");
    // From a keytab.
    let v = json_of(
        kafsh_krb(&context(&plain, &keytab_lines("kafsh", "kafsh")))
            .args([
                "--json",
                "-e",
                r#"#{data: zk_get("/kafsh-krb").data, children: zk_ls("/kafsh-krb").len(),
                    modes: zk_status().map(|s| s.mode)}"#,
            ])
            .output()
            .expect("kafsh"),
    );
    assert_eq!(v["data"], "for kafsh", "{v}");
    assert_eq!(v["modes"], serde_json::json!(["standalone"]), "{v}");

    // Over TLS as well.
    let secure = c.zk_secure_connect().expect("secure port");
    let v = json_of(
        kafsh_krb(&context(
            &secure,
            &format!("{}{}", keytab_lines("kafsh", "kafsh"), tls_lines()),
        ))
        .args(["--json", "-e", r#"zk_get("/kafsh-krb").data"#])
        .output()
        .expect("kafsh"),
    );
    assert_eq!(v, "for kafsh");

    // From a ticket cache made by kinit, named in a JAAS Client section as Kafka's docs
    // write one.
    let state = tempfile::tempdir().expect("tmp");
    let cache = state.path().join("krb5cc");
    let out = kdc()
        .command("kinit")
        .args([
            "-k",
            "-t",
            &kdc().keytab("kafsh").display().to_string(),
            "-c",
            &format!("FILE:{}", cache.display()),
            &format!("kafsh@{REALM}"),
        ])
        .output()
        .expect("kinit (krb5-user)");
    assert!(
        out.status.success(),
        "kinit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let jaas = state.path().join("jaas.conf");
    std::fs::write(
        &jaas,
        format!(
            "Client {{\n  com.sun.security.auth.module.Krb5LoginModule required\n  useTicketCache=true\n  ticketCache=\"{}\";\n}};\n",
            cache.display()
        ),
    )
    .expect("jaas");
    let v = json_of(
        kafsh_krb(&context(
            &plain,
            &format!(
                "zookeeper_properties = {{ \"java.security.auth.login.config\" = \"{}\" }}\n",
                jaas.display()
            ),
        ))
        .args(["--json", "-e", r#"zk_get("/kafsh-krb").data"#])
        .output()
        .expect("kafsh"),
    );
    assert_eq!(v, "for kafsh");

    // Another principal: logged in, refused by the ACL.
    let out = kafsh_krb(&context(&plain, &keytab_lines("stranger", "stranger")))
        .args(["-e", r#"zk_get("/kafsh-krb")"#])
        .output()
        .expect("kafsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("ACL") && err.contains("/kafsh-krb"), "{err}");

    // No tickets in the ticket cache: exit 2, saying so.
    let out = kafsh_krb(&context(&plain, "zookeeper_sasl_mechanism = \"GSSAPI\"\n"))
        .args(["-e", r#"zk_get("/kafsh-krb")"#])
        .output()
        .expect("kafsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Kerberos") && err.contains("ticket cache"),
        "{err}"
    );

    // A keytab without the principal's key: exit 2, fast, naming the principal.
    let started = Instant::now();
    let out = kafsh_krb(&context(&plain, &keytab_lines("stranger", "kafsh")))
        .args(["--call-timeout", "60s", "-e", r#"zk_get("/kafsh-krb")"#])
        .output()
        .expect("kafsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Kerberos") && err.contains(&format!("kafsh@{REALM}")),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(15), "{err}");
}

/// Every ZooKeeper runbook (rolling restart, scale-out, scale-in, replacing a server)
/// dry-run over Kerberos sessions against a three-server ensemble with Kerberos logins
/// (server 4 made, not started, for the scale-out): each lists its plan, the znodes and
/// every zoo.cfg stay as they were, and no inventory command runs.
#[test]
fn zookeeper_runbooks_dry_run_over_kerberos() {
    let k = kdc();
    let mut c = Cluster::start(ClusterSpec::zk_only(3).zk_kerberos(ZkKerberos {
        krb5_conf: k.krb5_conf(),
        keytab: k.keytab("zookeeper"),
        principal: format!("zookeeper/127.0.0.1@{REALM}"),
    }))
    .expect("ensemble");
    tool_stdout(
        c.zk_cli(&[
            "create",
            "/kafsh-runbooks",
            "for kafsh",
            &format!("sasl:kafsh@{REALM}:cdrwa"),
        ]),
        "zkCli create",
    );
    // The running three: the connect string is taken before server 4 exists.
    let zk = c.zk_connect().expect("zk");
    c.add(NewNode::Zk { id: Some(4) })
        .expect("a fourth server, not started");
    let state = tempfile::tempdir().expect("tmp");
    let ran = state.path().join("ran.log");
    let write_config = |path: &Path, ids: &[u32]| {
        let mut text = format!(
            "current_context = \"z\"\n[contexts.z]\nbootstrap_servers = \"127.0.0.1:1\"\nzookeeper = \"{zk}\"\ntimeout = \"20s\"\n{}",
            keytab_lines("kafsh", "kafsh")
        );
        for z in c.zk_servers().iter().filter(|z| ids.contains(&z.id)) {
            let log = |what: &str| format!("echo {what} {} >> {}", z.id, ran.display());
            text.push_str(&format!(
                "\n[[contexts.z.zookeeper_servers]]\nid = {}\nhost = \"127.0.0.1\"\nclient_port = {}\npeer_port = {}\nelection_port = {}\nrestart = \"{}\"\nstart = \"{}\"\nstop = \"{}\"\nwrite_config = \"{}\"\nwrite_myid = \"{}\"\n",
                z.id,
                z.client_port,
                z.peer_port,
                z.election_port,
                log("restart"),
                log("start"),
                log("stop"),
                log("write_config"),
                log("write_myid"),
            ));
        }
        std::fs::write(path, text).expect("config");
    };
    let config = state.path().join("config.toml");
    write_config(&config, &[1, 2, 3]);
    let config_with_4 = state.path().join("config4.toml");
    write_config(&config_with_4, &[1, 2, 3, 4]);
    // The Kerberos identity is the one the ACL names, and the tree and configs as they are.
    let snapshot = || {
        let v = json_of(
            kafsh_krb(&state)
                .env("KAFSH_CONFIG", &config)
                .args([
                    "--json",
                    "-e",
                    r#"#{data: zk_get("/kafsh-runbooks").data,
                        tree: zk_tree("/", #{depth: 3}).map(|e| e.path),
                        members: zk_status().len()}"#,
                ])
                .output()
                .expect("kafsh"),
        );
        let configs: Vec<String> = c
            .zk_servers()
            .iter()
            .map(|z| std::fs::read_to_string(z.dir.join("zoo.cfg")).unwrap_or_default())
            .collect();
        (v, configs)
    };
    let before = snapshot();
    assert_eq!(before.0["data"], "for kafsh", "{:?}", before.0);
    assert_eq!(before.0["members"], 3, "{:?}", before.0);
    for (runbook, args, with_4) in [
        ("zk_rolling_restart.rhai", &[][..], false),
        ("zk_scale_out.rhai", &["--arg", "new_servers=4"][..], true),
        ("zk_scale_in.rhai", &["--arg", "remove=4"][..], true),
        ("zk_replace_server.rhai", &["--arg", "server=2"][..], false),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scripts")
            .join(runbook);
        let out = kafsh_krb(&state)
            .env(
                "KAFSH_CONFIG",
                if with_4 { &config_with_4 } else { &config },
            )
            .args(["--dry-run", "run"])
            .arg(&path)
            .args(args)
            .output()
            .expect("kafsh");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{runbook} --dry-run: {err}");
        assert!(err.contains("dry run:"), "{runbook}: {err}");
        assert_eq!(
            before,
            snapshot(),
            "{runbook} --dry-run changed the ensemble"
        );
    }
    assert!(
        !ran.exists(),
        "no inventory command ran: {}",
        std::fs::read_to_string(&ran).unwrap_or_default()
    );
}
