//! Secure clusters: a ZooKeeper-mode cluster whose brokers also listen on SASL_SSL (SCRAM
//! users made with Kafka's ConfigCommand, a certificate from a CA made by the harness), and a
//! digest-ACL'd znode. kafsh works over SASL_SSL, fails fast and clearly on a wrong password
//! or an untrusted CA, and never lets the password reach output, logs, the audit log, the
//! dry-run listing, error messages or the REPL history. The same brokers' SSL listener
//! requires client certificates (mutual TLS), with plain and encrypted client keys.

mod common;

use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, CLIENT_KEY_PASSWORD, SASL_PASSWORD, SASL_USER};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let c = shared_cluster(ClusterSpec::zookeeper().zk_servers(1).brokers(2).secure());
        wait_for_scram(&c);
        c
    })
}

/// A state directory with a "secure" context: SASL_SSL with `properties`, the password in
/// a 0600 file.
fn secure_context(c: &Cluster, password: &str, properties: &[(&str, String)]) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let state = tempfile::tempdir().expect("tmp");
    let password_file = state.path().join("kafka.password");
    std::fs::write(&password_file, format!("{password}\n")).expect("password file");
    std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o600))
        .expect("chmod");
    let mut text = format!(
        "current_context = \"secure\"\n[contexts.secure]\nbootstrap_servers = \"{}\"\nzookeeper = \"{}\"\npassword_file = \"{}\"\n[contexts.secure.properties]\n",
        c.secure_bootstrap_servers().expect("secure listener"),
        c.zk_connect().expect("zk"),
        password_file.display()
    );
    for (k, v) in properties {
        text.push_str(&format!("\"{k}\" = \"{v}\"\n"));
    }
    std::fs::write(state.path().join("config.toml"), text).expect("config");
    state
}

fn scram_properties(c: &Cluster, ca: &str) -> Vec<(&'static str, String)> {
    vec![
        ("security.protocol", "SASL_SSL".into()),
        ("sasl.mechanism", "SCRAM-SHA-512".into()),
        ("sasl.username", SASL_USER.into()),
        (
            "ssl.ca.location",
            c.tls_dir().join(ca).display().to_string(),
        ),
    ]
}

/// SCRAM credentials reach the brokers shortly after ConfigCommand returns.
fn wait_for_scram(c: &Cluster) {
    let state = secure_context(c, SASL_PASSWORD, &scram_properties(c, "ca.pem"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = kafsh(&state)
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

/// Every file under `dir`, searched for `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return hits;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            hits.extend(files_containing(&path, needle));
        } else if path.file_name().is_some_and(|n| n != "kafka.password")
            && std::fs::read(&path)
                .map(|b| String::from_utf8_lossy(&b).contains(needle))
                .unwrap_or(false)
        {
            hits.push(path.display().to_string());
        }
    }
    hits
}

#[test]
fn describe_alter_reassign_and_groups_over_sasl_ssl_without_leaking_the_password() {
    let c = cluster();
    let state = secure_context(c, SASL_PASSWORD, &scram_properties(c, "ca.pem"));
    let log = state.path().join("run.log");
    let script = r#"
        create_topic("sec-t", #{assignment: [[1], [2], [1], [2]]});
        let described = describe_topic("sec-t");
        let altered = alter_config("topic", "sec-t", #{set: #{"retention.ms": 3600000}});
        let p = parse_plan(`{"version":1,"partitions":[{"topic":"sec-t","partition":0,"replicas":[2]},{"topic":"sec-t","partition":1,"replicas":[1]}]}`);
        reassign(p, #{throttle: 10000000});
        let waited = wait_reassignment(p, #{timeout: "2m", interval: "1s"});
        reset_offsets("sec-g", #{topic: "sec-t", to: "earliest", execute: true});
        #{described: described, altered: altered, waited: waited,
          after: describe_topic("sec-t").partitions.map(|p| p.replicas),
          group: describe_group("sec-g"), configs: describe_config("topic", "sec-t")}
    "#;
    let out = kafsh(&state)
        .args(["--json", "--log-file"])
        .arg(&log)
        .args(["-e", script])
        .output()
        .expect("kafsh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let r: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(r["described"]["partition_count"], 4, "{r}");
    assert_eq!(r["after"][0], serde_json::json!([2]), "{r}");
    assert_eq!(r["after"][1], serde_json::json!([1]), "{r}");
    assert_eq!(r["waited"]["complete"], true, "{r}");
    assert_eq!(r["group"]["group"], "sec-g", "{r}");
    assert!(
        r["configs"]
            .as_array()
            .expect("configs")
            .iter()
            .any(|e| e["name"] == "retention.ms" && e["value"] == "3600000"),
        "{r}"
    );
    // The same cluster through the PLAINTEXT listener agrees: one cluster, two doors.
    let plain = kafsh_json(
        &c.bootstrap_servers(),
        None,
        r#"describe_topic("sec-t").partitions.map(|p| p.replicas)"#,
    );
    assert_eq!(plain, r["after"]);

    // A dry run and a failing call over the same context.
    let dry = kafsh(&state)
        .args([
            "--dry-run",
            "-e",
            r#"alter_config("topic", "sec-t", #{set: #{"retention.ms": 1000}})"#,
        ])
        .output()
        .expect("dry run");
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let failing = kafsh(&state)
        .args(["-e", r#"describe_topic("no-such-topic")"#])
        .output()
        .expect("failing call");
    assert_ne!(failing.status.code(), Some(0));

    for (what, text) in [
        ("stdout", stdout.to_string()),
        ("stderr", stderr.to_string()),
        (
            "dry-run stdout",
            String::from_utf8_lossy(&dry.stdout).to_string(),
        ),
        (
            "dry-run stderr",
            String::from_utf8_lossy(&dry.stderr).to_string(),
        ),
        (
            "error",
            String::from_utf8_lossy(&failing.stderr).to_string(),
        ),
    ] {
        assert!(
            !text.contains(SASL_PASSWORD),
            "the password is in {what}: {text}"
        );
    }
    // The log file, the audit log, history, journal: every file kafsh wrote.
    assert!(log.exists() && state.path().join("state").join("audit.log").exists());
    // Every change is recorded with the principal Kafka knows kafsh as, and the cluster.
    let trail =
        std::fs::read_to_string(state.path().join("state").join("audit.log")).expect("audit log");
    let entries: Vec<serde_json::Value> = trail
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(entries.len() >= 4, "{trail}");
    let cluster_id = kafsh_json(&c.bootstrap_servers(), None, "cluster().cluster_id");
    for e in &entries {
        assert_eq!(e["principal"], "User:alice", "{e}");
        assert_eq!(e["cluster_id"], cluster_id, "{e}");
    }
    assert_eq!(
        files_containing(state.path(), SASL_PASSWORD),
        Vec::<String>::new()
    );
}

#[test]
fn java_style_properties_and_plain_work_against_the_real_listener() {
    let c = cluster();
    let ca = c.tls_dir().join("ca.pem").display().to_string();
    let state = tempfile::tempdir().expect("tmp");
    let props = state.path().join("client.properties");
    // What one hands kafka-topics.sh --command-config: JAAS line, PEM truststore.
    std::fs::write(
        &props,
        format!(
            "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{SASL_USER}\" password=\"{SASL_PASSWORD}\";\nssl.truststore.type=PEM\nssl.truststore.location={ca}\n"
        ),
    )
    .expect("properties");
    let out = kafsh(&state)
        .args([
            "--bootstrap-server",
            &c.secure_bootstrap_servers().expect("secure"),
        ])
        .arg("--command-config")
        .arg(&props)
        .args(["--json", "-e", "brokers().len()"])
        .output()
        .expect("kafsh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");

    let mut plain = scram_properties(c, "ca.pem");
    plain[1].1 = "PLAIN".into();
    let state = secure_context(c, SASL_PASSWORD, &plain);
    let out = kafsh(&state)
        .args(["-e", "list_topics()"])
        .output()
        .expect("kafsh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A truststore that is not there: refused, naming the setting and the file.
    std::fs::write(
        &props,
        "security.protocol=SSL\nssl.truststore.location=/etc/kafka/truststore.jks\n",
    )
    .expect("properties");
    let out = kafsh(&state)
        .arg("--command-config")
        .arg(&props)
        .args(["-e", "list_topics()"])
        .output()
        .expect("kafsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("ssl.truststore.location /etc/kafka/truststore.jks"),
        "{err}"
    );
}

#[test]
fn a_wrong_password_or_an_untrusted_ca_fails_fast_and_clearly() {
    let c = cluster();
    let wrong = "Wrong-pw-0b5e2d";
    for (state, expected) in [
        (
            secure_context(c, wrong, &scram_properties(c, "ca.pem")),
            "refused SASL SCRAM-SHA-512 authentication of user \"alice\"",
        ),
        (
            secure_context(c, SASL_PASSWORD, &scram_properties(c, "other-ca.pem")),
            "not signed by a CA kafsh trusts",
        ),
    ] {
        assert_fails_fast(kafsh(&state), 2, expected, &[wrong, SASL_PASSWORD]);
    }
}

#[test]
fn digest_acl_znodes_are_readable_with_the_auth_and_refused_without() {
    let c = cluster();
    let bs = c.bootstrap_servers();
    let zk = c.zk_connect().expect("zk");
    let auth = "kafsh-ops:zk-Secr3t-91c2";
    let with_auth = |expr: &str| {
        let state = tempfile::tempdir().expect("tmp");
        let auth_file = state.path().join("zk.auth");
        std::fs::write(&auth_file, auth).expect("auth file");
        std::fs::write(
            state.path().join("config.toml"),
            format!(
                "current_context = \"z\"\n[contexts.z]\nbootstrap_servers = \"{bs}\"\nzookeeper = \"{zk}\"\nzookeeper_auth_file = \"{}\"\n",
                auth_file.display()
            ),
        )
        .expect("config");
        kafsh(&state)
            .args(["--json", "-e", expr])
            .output()
            .expect("kafsh")
    };
    let out = with_auth(
        r#"zk_create("/kafsh-secure", "for ops only", #{acl: "creator"}); zk_get("/kafsh-secure").data"#,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("for ops only"), "{stdout}");

    let out = kafsh_eval(&bs, Some(&zk), r#"zk_get("/kafsh-secure")"#);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("protected by an ACL") && err.contains("zookeeper_auth"),
        "{err}"
    );
    assert!(!err.contains("zk-Secr3t"), "{err}");
    // ZooKeeper's own CLI, without auth, is refused too.
    let chroot = c.chroot().unwrap_or_default();
    let cli = c
        .zk_cli(&["get", &format!("{chroot}/kafsh-secure")])
        .expect("zkCli");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&cli.stdout),
        String::from_utf8_lossy(&cli.stderr)
    );
    assert!(
        text.contains("NoAuth") || text.contains("Insufficient permission"),
        "{text}"
    );

    let out = with_auth(r#"zk_delete("/kafsh-secure")"#);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `list_topics()` with `cmd`, which must fail with exit `code` and a message holding
/// `expected`, well before its 60 s call timeout, and without showing any of `secrets`.
fn assert_fails_fast(mut cmd: std::process::Command, code: i32, expected: &str, secrets: &[&str]) {
    let started = Instant::now();
    let out = cmd
        .args(["--call-timeout", "60s", "-e", "list_topics()"])
        .output()
        .expect("kafsh");
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{expected}: {err}");
    assert!(err.contains(expected), "{expected}: {err}");
    assert!(took < Duration::from_secs(15), "not a timeout: {took:?}");
    assert!(!secrets.iter().any(|s| err.contains(s)), "{err}");
}

/// Rewrites the state directory's config.toml line by line (`None` drops the line).
fn edit_config(state: &tempfile::TempDir, edit: impl Fn(&str) -> Option<String>) {
    let config = state.path().join("config.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    let text: String = text.lines().filter_map(edit).map(|l| l + "\n").collect();
    std::fs::write(&config, text).expect("config");
}

/// A state directory whose context reaches the mutual-TLS listener (`security.protocol=SSL`)
/// with the client certificate that goes with `key` (the untrusted one for
/// `untrusted-client.key`).
fn mtls_context(c: &Cluster, key: &str) -> tempfile::TempDir {
    let file = |name: &str| c.tls_dir().join(name).display().to_string();
    let state = tempfile::tempdir().expect("tmp");
    let text = format!(
        "current_context = \"mtls\"\n[contexts.mtls]\nbootstrap_servers = \"{}\"\n[contexts.mtls.properties]\n\
         \"security.protocol\" = \"SSL\"\n\"ssl.ca.location\" = \"{}\"\n\
         \"ssl.certificate.location\" = \"{}\"\n\"ssl.key.location\" = \"{}\"\n",
        c.mtls_bootstrap_servers().expect("mTLS listener"),
        file("ca.pem"),
        file(if key.starts_with("untrusted") { "untrusted-client.pem" } else { "client.pem" }),
        file(key),
    );
    std::fs::write(state.path().join("config.toml"), text).expect("config");
    state
}

/// A client.properties holding `ssl.key.password`, in its own directory.
fn key_password_file(password: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("client.properties");
    std::fs::write(&path, format!("ssl.key.password={password}\n")).expect("properties");
    (dir, path)
}

#[test]
fn mutual_tls_with_a_plain_or_an_encrypted_client_key() {
    let c = cluster();
    // The plain PKCS#8 key: topics, incremental configs and log dirs (kafka-protocol calls).
    let state = mtls_context(c, "client.key");
    let out = kafsh(&state)
        .args([
            "--json",
            "-e",
            r#"create_topic("mtls-t", #{partitions: 2, replication_factor: 1});
               #{altered: alter_config("topic", "mtls-t", #{set: #{"retention.ms": 3600000}}),
                 dirs: log_dirs(#{topics: ["mtls-t"]}).topics, topics: list_topics()}"#,
        ])
        .output()
        .expect("kafsh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["dirs"][0]["topic"], "mtls-t", "{r}");
    assert_eq!(r["altered"]["in_effect"], true, "{r}");
    assert!(r["topics"]
        .as_array()
        .expect("topics")
        .iter()
        .any(|t| t == "mtls-t"));
    // The audit trail names the certificate's subject as the principal.
    let trail =
        std::fs::read_to_string(state.path().join("state").join("audit.log")).expect("audit log");
    let first: serde_json::Value =
        serde_json::from_str(trail.lines().next().expect("an entry")).expect("json");
    assert!(
        first["principal"]
            .as_str()
            .unwrap_or("")
            .starts_with("User:CN="),
        "{first}"
    );

    // The same key encrypted (PKCS#8, PBES2/AES-256-CBC), with ssl.key.password from a
    // --command-config file: works, and the password reaches no output and no state file.
    let state = mtls_context(c, "client-encrypted.key");
    let (_dir, props) = key_password_file(CLIENT_KEY_PASSWORD);
    let log = state.path().join("run.log");
    let run = |extra: &[&str], script: &str| {
        kafsh(&state)
            .arg("--command-config")
            .arg(&props)
            .arg("--log-file")
            .arg(&log)
            .args(extra)
            .args(["-e", script])
            .output()
            .expect("kafsh")
    };
    let described = run(&["--json"], r#"describe_topic("mtls-t").partition_count"#);
    assert!(
        described.status.success(),
        "{}",
        String::from_utf8_lossy(&described.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&described.stdout).trim(), "2");
    let dry = run(
        &["--dry-run"],
        r#"alter_config("topic", "mtls-t", #{set: #{"retention.ms": 1000}})"#,
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let failing = run(&[], r#"describe_topic("no-such-topic")"#);
    assert_ne!(failing.status.code(), Some(0));
    for out in [&described, &dry, &failing] {
        for text in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(text);
            assert!(!text.contains(CLIENT_KEY_PASSWORD), "{text}");
        }
    }
    assert!(log.exists());
    assert_eq!(
        files_containing(state.path(), CLIENT_KEY_PASSWORD),
        Vec::<String>::new()
    );
}

#[test]
fn mutual_tls_failures_are_fast_clear_and_name_the_fix() {
    let c = cluster();
    let wrong = "Wrong-key-pw-51c0";
    let (_a, wrong_password) = key_password_file(wrong);
    let (_b, right_password) = key_password_file(CLIENT_KEY_PASSWORD);
    let no_client_certificate = mtls_context(c, "client.key");
    edit_config(&no_client_certificate, |l| {
        (!l.contains("ssl.certificate.location") && !l.contains("ssl.key.location"))
            .then(|| l.to_string())
    });
    for (state, props, code, expected) in [
        (
            mtls_context(c, "client-encrypted.key"),
            Some(&wrong_password),
            2,
            "cannot decrypt the key with ssl.key.password",
        ),
        (
            mtls_context(c, "client-encrypted.key"),
            None,
            2,
            "is an encrypted key: set ssl.key.password",
        ),
        (
            mtls_context(c, "client-legacy-encrypted.key"),
            Some(&right_password),
            2,
            "openssl pkcs8 -topk8",
        ),
        (
            no_client_certificate,
            None,
            2,
            "requires a client certificate",
        ),
        (
            mtls_context(c, "untrusted-client.key"),
            None,
            2,
            "requires a client certificate signed by a CA it trusts",
        ),
    ] {
        let mut cmd = kafsh(&state);
        if let Some(props) = props {
            cmd.arg("--command-config").arg(props);
        }
        assert_fails_fast(cmd, code, expected, &[wrong, CLIENT_KEY_PASSWORD]);
    }
}

#[test]
fn the_sasl_password_from_an_environment_variable() {
    let c = cluster();
    let state = secure_context(c, SASL_PASSWORD, &scram_properties(c, "ca.pem"));
    edit_config(&state, |l| {
        Some(if l.starts_with("password_file") {
            "password_env = \"KAFSH_TEST_SASL_PASSWORD\"".to_string()
        } else {
            l.to_string()
        })
    });
    std::fs::remove_file(state.path().join("kafka.password")).expect("no password file");

    let out = kafsh(&state)
        .env("KAFSH_TEST_SASL_PASSWORD", SASL_PASSWORD)
        .args(["--json", "-e", "brokers().len()"])
        .output()
        .expect("kafsh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");

    let out = kafsh(&state)
        .env_remove("KAFSH_TEST_SASL_PASSWORD")
        .args(["-e", "brokers()"])
        .output()
        .expect("kafsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("KAFSH_TEST_SASL_PASSWORD"), "{err}");
    assert_eq!(
        files_containing(state.path(), SASL_PASSWORD),
        Vec::<String>::new()
    );
}

/// The REPL on the secure context: its history (and every other state file) never holds
/// the password, and a line typed with a leading space is not remembered at all.
#[test]
fn the_repl_history_holds_no_secret() {
    let c = cluster();
    let state = secure_context(c, SASL_PASSWORD, &scram_properties(c, "ca.pem"));
    let mut p =
        rexpect::session::spawn_command(kafsh(&state), Some(30_000)).expect("spawn kafsh in a pty");
    p.exp_string("kafsh:secure> ").expect("prompt");
    type_line(&mut p, "brokers().len()");
    p.exp_string("2").expect("brokers over SASL_SSL");
    p.exp_string("kafsh:secure> ").expect("prompt");
    type_line(&mut p, r#"describe_topic("no-such-topic")"#);
    p.exp_string("does not exist").expect("an error");
    p.exp_string("kafsh:secure> ").expect("prompt");
    type_line(&mut p, r#" let private = "typed-with-a-leading-space";"#);
    p.exp_string("kafsh:secure> ").expect("prompt");
    p.send_control('d').expect("ctrl-d");
    p.exp_eof().expect("exit");

    let history = std::fs::read_to_string(state.path().join("state").join("history"))
        .expect("history written");
    assert!(history.contains("brokers().len()"), "{history}");
    assert!(!history.contains("typed-with-a-leading-space"), "{history}");
    assert_eq!(
        files_containing(state.path(), SASL_PASSWORD),
        Vec::<String>::new()
    );
}

#[test]
fn records_flow_over_sasl_ssl_and_mutual_tls_through_librdkafka() {
    let c = cluster();
    // SASL_SSL with SCRAM: the data path takes the context's properties, password included.
    let state = secure_context(c, SASL_PASSWORD, &scram_properties(c, "ca.pem"));
    let out = kafsh(&state)
        .args([
            "--json",
            "-e",
            r#"create_topic("secure-records", #{partitions: 2, replication_factor: 2});
               let sent = produce("secure-records", [#{key: "a", value: "one"}, #{key: "b", value: "two"}], #{compression: "zstd"});
               #{sent: sent.len(), read: consume("secure-records").map(|r| r.value), count: count("secure-records").records}"#,
        ])
        .output()
        .expect("kafsh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains(SASL_PASSWORD), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["sent"], 2, "{v}");
    assert_eq!(v["count"], 2, "{v}");
    let mut read: Vec<String> = v["read"]
        .as_array()
        .expect("read")
        .iter()
        .map(|r| r.as_str().unwrap_or("").to_string())
        .collect();
    read.sort();
    assert_eq!(read, vec!["one", "two"]);
    // A wrong password: a clear error, in bounded time, without the password.
    let wrong = secure_context(c, "not-the-password", &scram_properties(c, "ca.pem"));
    let started = Instant::now();
    let out = kafsh(&wrong)
        .args(["-e", r#"produce("secure-records", "x")"#])
        .output()
        .expect("kafsh");
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not-the-password"));

    // Mutual TLS with an encrypted client key (its password from a command config).
    let state = mtls_context(c, "client-encrypted.key");
    let (_dir, props) = key_password_file(CLIENT_KEY_PASSWORD);
    let out = kafsh(&state)
        .arg("--command-config")
        .arg(&props)
        .args([
            "--json",
            "-e",
            r#"produce("secure-records", #{key: "c", value: "three", partition: 1}); consume("secure-records", #{partition: 1, from: #{shift: -1}})[0].value"#,
        ])
        .output()
        .expect("kafsh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "\"three\"");
}
