//! Access control on a cluster with an authorizer (AclAuthorizer on ZooKeeper-mode Kafka
//! 3.9, StandardAuthorizer on KRaft Kafka 4): kafsh runs as the super user alice over
//! SASL_SSL (and mTLS), and its answers are compared with Kafka's own tools on the same
//! cluster — kafka-acls.sh, kafka-configs.sh, kafka-transactions.sh — and with what real
//! clients are allowed to do: the console producer and consumer as user bob, Kafka's
//! admin tools logging in as new SCRAM users, and the brokers' own authorized-operations
//! answers for a user whose bindings exercise every rule of `can()`.
//!
//! The tests of one cluster run in parallel: each works on its own principals, topics and
//! quota entities, and compares only what it owns.

use super::*;
use kafsh_sandbox::{Cluster, Flavor, NO_RIGHTS_PASSWORD, NO_RIGHTS_USER, SASL_PASSWORD};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

const CONSOLE_CONSUMER: &str = "org.apache.kafka.tools.consumer.ConsoleConsumer";
const TRANSACTIONS: &str = "org.apache.kafka.tools.TransactionsCommand";
const TOPIC_COMMAND: &str = "org.apache.kafka.tools.TopicCommand";

/// What the tests need of the cluster's settings.
pub fn cluster_spec(flavor: Flavor) -> kafsh_sandbox::ClusterSpec {
    let spec = match flavor {
        Flavor::ZooKeeper => kafsh_sandbox::ClusterSpec::zookeeper().zk_servers(1),
        Flavor::KRaft => kafsh_sandbox::ClusterSpec::kraft(),
    };
    // Without the leader's check with the coordinator (KIP-890), a transactional batch can
    // be written past AddPartitionsToTxn: how the fixture makes a hanging transaction.
    spec.brokers(2)
        .authorizer()
        .broker_config("transaction.partition.verification.enable", "false")
}

fn acl_command(c: &Cluster) -> &'static str {
    match c.flavor() {
        Flavor::ZooKeeper => "kafka.admin.AclCommand",
        Flavor::KRaft => "org.apache.kafka.tools.AclCommand",
    }
}

fn console_producer(c: &Cluster) -> &'static str {
    match c.flavor() {
        Flavor::ZooKeeper => "kafka.tools.ConsoleProducer",
        Flavor::KRaft => "org.apache.kafka.tools.ConsoleProducer",
    }
}

/// The console consumer's client-properties flag: Kafka 4.2 deprecates --consumer.config
/// with a line on stdout, among the records read.
fn consumer_config_flag(c: &Cluster) -> &'static str {
    match c.flavor() {
        Flavor::ZooKeeper => "--consumer.config",
        Flavor::KRaft => "--command-config",
    }
}

/// A state directory with context "acc": alice (a super user) over SASL_SSL, the password
/// in a 0600 file, the brokers' super users named.
pub fn context(c: &Cluster) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let state = tempfile::tempdir().expect("tmp");
    let password_file = state.path().join("kafka.password");
    std::fs::write(&password_file, format!("{SASL_PASSWORD}\n")).expect("password file");
    std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o600))
        .expect("chmod");
    let supers: Vec<String> = kafsh_sandbox::SUPER_USERS
        .iter()
        .map(|s| format!("{s:?}"))
        .collect();
    let text = format!(
        "current_context = \"acc\"\n[contexts.acc]\nbootstrap_servers = \"{}\"\npassword_file = \"{}\"\n\
         super_users = [{}]\n[contexts.acc.properties]\n\"security.protocol\" = \"SASL_SSL\"\n\
         \"sasl.mechanism\" = \"SCRAM-SHA-512\"\n\"sasl.username\" = \"{}\"\n\"ssl.ca.location\" = \"{}\"\n",
        c.secure_bootstrap_servers().expect("SASL_SSL listener"),
        password_file.display(),
        supers.join(", "),
        kafsh_sandbox::SASL_USER,
        c.tls_dir().join("ca.pem").display()
    );
    std::fs::write(state.path().join("config.toml"), text).expect("config");
    state
}

/// A state directory whose context reaches the mutual-TLS listener with the client
/// certificate (a super user).
fn mtls_context(c: &Cluster) -> tempfile::TempDir {
    let file = |name: &str| c.tls_dir().join(name).display().to_string();
    let state = tempfile::tempdir().expect("tmp");
    let text = format!(
        "current_context = \"mtls\"\n[contexts.mtls]\nbootstrap_servers = \"{}\"\n[contexts.mtls.properties]\n\
         \"security.protocol\" = \"SSL\"\n\"ssl.ca.location\" = \"{}\"\n\
         \"ssl.certificate.location\" = \"{}\"\n\"ssl.key.location\" = \"{}\"\n",
        c.mtls_bootstrap_servers().expect("mTLS listener"),
        file("ca.pem"),
        file("client.pem"),
        file("client.key"),
    );
    std::fs::write(state.path().join("config.toml"), text).expect("config");
    state
}

/// Runs `kafsh --json -e expr` in `state`'s context.
fn run(state: &tempfile::TempDir, args: &[&str], expr: &str) -> Output {
    kafsh(state)
        .arg("--json")
        .args(args)
        .args(["-e", expr])
        .output()
        .expect("run kafsh")
}

/// `kafsh --json -e expr`, which must succeed, as JSON.
fn json(state: &tempfile::TempDir, expr: &str) -> Value {
    let out = run(state, &[], expr);
    assert!(
        out.status.success(),
        "kafsh -e {expr:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{expr}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The audit entries of `function` in `state`.
fn audited(state: &tempfile::TempDir, function: &str) -> Vec<Value> {
    std::fs::read_to_string(state.path().join("state").join("audit.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["function"] == function)
        .collect()
}

/// A Kafka tool through the PLAINTEXT listener (whose anonymous clients are super users).
fn tool(c: &Cluster, class: &str, args: &[&str]) -> String {
    let bs = c.bootstrap_servers();
    let mut all = vec!["--bootstrap-server", bs.as_str()];
    all.extend_from_slice(args);
    tool_stdout(c.kafka_tool(class, &all), class)
}

/// ConfigCommand's stdout (wherever this Kafka version keeps the class), failing the test
/// when it fails.
fn config_tool(c: &Cluster, args: &[&str]) -> String {
    let bs = c.bootstrap_servers();
    let mut all = vec!["--bootstrap-server", bs.as_str()];
    all.extend_from_slice(args);
    tool_stdout(c.kafka_tool(c.config_command(), &all), "ConfigCommand")
}

/// A client properties file for SCRAM user `user` over SASL_SSL.
fn client_properties(c: &Cluster, dir: &Path, user: &str, password: &str) -> String {
    let path = dir.join(format!("{user}.properties"));
    std::fs::write(
        &path,
        format!(
            "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n\
             sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{user}\" password=\"{password}\";\n\
             ssl.truststore.type=PEM\nssl.truststore.location={}\n\
             default.api.timeout.ms=15000\nrequest.timeout.ms=10000\n",
            c.tls_dir().join("ca.pem").display()
        ),
    )
    .expect("client properties");
    path.display().to_string()
}

/// One binding as (resource_type, name, pattern_type, principal, host, operation,
/// permission), lower case.
type Row = (String, String, String, String, String, String, String);

fn rows_of(listing: &Value) -> BTreeSet<Row> {
    listing
        .as_array()
        .expect("bindings")
        .iter()
        .map(|b| {
            let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
            (
                s("resource_type"),
                s("name"),
                s("pattern_type"),
                s("principal"),
                s("host"),
                s("operation"),
                s("permission"),
            )
        })
        .collect()
}

/// kafka-acls.sh --list output as rows.
fn parse_acl_listing(text: &str) -> BTreeSet<Row> {
    let field = |line: &str, key: &str| -> String {
        line.split(&format!("{key}="))
            .nth(1)
            .map(|rest| {
                rest.split([',', ')'])
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .unwrap_or_default()
    };
    let mut out = BTreeSet::new();
    let mut resource = (String::new(), String::new(), String::new());
    for line in text.lines() {
        if line.contains("ResourcePattern(") {
            resource = (
                field(line, "resourceType").to_lowercase(),
                field(line, "name"),
                field(line, "patternType").to_lowercase(),
            );
        } else if line.contains("(principal=") {
            // The principal may hold '=' (a certificate subject) but no ','.
            let principal = line
                .split("principal=")
                .nth(1)
                .and_then(|r| r.split(", host=").next())
                .unwrap_or("")
                .to_string();
            out.insert((
                resource.0.clone(),
                resource.1.clone(),
                resource.2.clone(),
                principal,
                field(line, "host"),
                field(line, "operation").to_lowercase(),
                field(line, "permissionType").to_lowercase(),
            ));
        }
    }
    out
}

fn acl_listing_of(c: &Cluster, principal: &str) -> BTreeSet<Row> {
    parse_acl_listing(&tool(
        c,
        acl_command(c),
        &["--list", "--principal", principal],
    ))
}

/// Waits until `check` holds (ACLs and credentials reach every broker a moment after the
/// call that made them), failing the test with `what` after 30 s.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not so after 30 s");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// ACLs made with kafsh are what kafka-acls.sh lists (over SASL_SSL and over mTLS); a
/// delete shows exactly what goes and refuses without a terminal above confirm_above; a
/// dry run changes nothing; the audit log keeps the deleted bindings; a deny for everyone
/// needs force.
pub fn acls_match_kafka_acls(c: &Cluster) {
    let state = context(c);
    let p = "User:acl-tester";
    let created = json(
        &state,
        &format!(
            r#"let a = allow_producer("{p}", "acl-orders", #{{transactional_id: "acl-tx", idempotent: true}});
               let b = allow_consumer("{p}", "acl-orders", "acl-g");
               let c = create_acls([
                   #{{topic: "acl-pay", pattern_type: "prefixed", principal: "{p}", operation: "read", permission: "deny"}},
                   #{{topic: "acl-orders", principal: "{p}", host: "10.1.2.3", operation: "alter"}},
                   #{{group: "*", principal: "{p}", operation: "describe"}},
                   #{{cluster: true, principal: "{p}", operation: "describe_configs"}},
                   #{{resource_type: "transactional_id", name: "acl-tx2", principal: "acl-tester", operation: "write"}},
               ]);
               #{{a: a, b: b, c: c}}"#
        ),
    );
    assert_eq!(
        created["a"]["created"].as_array().map(Vec::len),
        Some(6),
        "{created}"
    );
    // The consumer's Describe on the topic was there already (from --producer).
    assert_eq!(
        created["b"]["created"].as_array().map(Vec::len),
        Some(2),
        "{created}"
    );
    assert_eq!(
        created["b"]["existing"].as_array().map(Vec::len),
        Some(1),
        "{created}"
    );
    let ours = rows_of(&json(
        &state,
        &format!(r#"list_acls(#{{principal: "{p}"}})"#),
    ));
    assert_eq!(ours.len(), 13, "{ours:?}");
    assert_eq!(
        ours,
        acl_listing_of(c, p),
        "kafsh and kafka-acls.sh list the same bindings"
    );
    let over_mtls = rows_of(&json(
        &mtls_context(c),
        &format!(r#"list_acls(#{{principal: "{p}"}})"#),
    ));
    assert_eq!(over_mtls, ours, "the same over mutual TLS");
    // A filter narrows as kafka-acls.sh does: a named resource means its literal pattern;
    // "match" adds the wildcard and prefixes that apply.
    let literal = rows_of(&json(
        &state,
        &format!(r#"list_acls(#{{principal: "{p}", topic: "acl-orders"}})"#),
    ));
    assert_eq!(literal.len(), 5, "{literal:?}");
    let matching = rows_of(&json(
        &state,
        &format!(
            r#"list_acls(#{{principal: "{p}", topic: "acl-payments", pattern_type: "match"}})"#
        ),
    ));
    assert_eq!(matching.len(), 1, "{matching:?}");
    // Creating them again creates nothing and records nothing.
    let again = json(&state, &format!(r#"allow_producer("{p}", "acl-orders")"#));
    assert_eq!(again["created"], serde_json::json!([]), "{again}");
    assert_eq!(audited(&state, "allow_producer").len(), 1);

    // Deleting all 13 is more than confirm_above (10): no terminal, so refused, unchanged.
    let refused = run(
        &state,
        &[],
        &format!(r#"delete_acls(#{{principal: "{p}"}})"#),
    );
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(5), "{err}");
    assert!(
        err.contains("13 ACL bindings") && err.contains("--yes"),
        "{err}"
    );
    let dry = run(
        &state,
        &["--dry-run"],
        &format!(r#"delete_acls(#{{principal: "{p}"}})"#),
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let shown: Value = serde_json::from_slice(&dry.stdout).expect("json");
    assert_eq!(
        rows_of(&shown["deleted"]),
        ours,
        "a dry run shows exactly what would go"
    );
    assert_eq!(acl_listing_of(c, p), ours, "and leaves it");
    let deleted = json(
        &state,
        &format!(r#"delete_acls(#{{principal: "{p}", force: true}})"#),
    );
    assert_eq!(rows_of(&deleted["deleted"]), ours);
    eventually("the bindings are gone", || acl_listing_of(c, p).is_empty());
    let trail = audited(&state, "delete_acls");
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert_eq!(
        rows_of(&trail[0]["arguments"]["deleted"]),
        ours,
        "the audit log keeps them"
    );

    // A DENY for every user on every topic needs force; a host must be an IP address.
    let everyone = run(
        &state,
        &[],
        r#"create_acls([#{topic: "*", principal: "User:*", operation: "all", permission: "deny"}])"#,
    );
    let err = String::from_utf8_lossy(&everyone.stderr);
    assert_eq!(everyone.status.code(), Some(5), "{err}");
    assert!(err.contains("every user") && err.contains("force"), "{err}");
    let bad_host = run(
        &state,
        &[],
        &format!(
            r#"create_acls([#{{topic: "t", principal: "{p}", operation: "read", host: "client.example.com"}}])"#
        ),
    );
    assert_eq!(bad_host.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad_host.stderr).contains("IP address"));
    assert!(
        !acl_listing_of(c, "User:*").iter().any(|r| r.1 == "*"),
        "nothing was created"
    );
}

/// Console producer and consumer as `bob` over SASL_SSL: denied, allowed after
/// allow_producer / allow_consumer, denied again after delete_acls; `can()` predicts each.
pub fn real_clients_follow_can(c: &Cluster, prefix: &str) {
    let state = context(c);
    let topic = format!("{prefix}-bob-t");
    let group = format!("{prefix}-bob-g");
    json(
        &state,
        &format!(r#"create_topic("{topic}", #{{partitions: 1, replication_factor: 2}})"#),
    );
    let dir = tempfile::tempdir().expect("tmp");
    let props = client_properties(c, dir.path(), NO_RIGHTS_USER, NO_RIGHTS_PASSWORD);
    let secure = c.secure_bootstrap_servers().expect("SASL_SSL");
    let predicted = |op: &str, resource: &str| -> bool {
        let d = json(
            &state,
            &format!(r#"can("{NO_RIGHTS_USER}", "{op}", {resource})"#),
        );
        d["allowed"].as_bool().expect("allowed")
    };
    let produce = |value: &str| -> bool {
        let mut cmd = c
            .kafka_tool_command(
                console_producer(c),
                &[
                    "--bootstrap-server".into(),
                    secure.clone(),
                    "--topic".into(),
                    topic.clone(),
                    "--producer.config".into(),
                    props.clone(),
                    "--producer-property".into(),
                    "max.block.ms=10000".into(),
                    "--request-required-acks".into(),
                    "all".into(),
                ],
            )
            .expect("producer");
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("spawn producer");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            writeln!(stdin, "{value}").expect("write");
        }
        let out = child.wait_with_output().expect("producer ran");
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + String::from_utf8_lossy(&out.stdout).as_ref();
        !text.contains("AuthorizationException") && !text.contains("ERROR")
    };
    let consume = || -> (bool, String) {
        let out = c
            .kafka_tool(
                CONSOLE_CONSUMER,
                &[
                    "--bootstrap-server",
                    &secure,
                    "--topic",
                    &topic,
                    "--group",
                    &group,
                    consumer_config_flag(c),
                    &props,
                    "--from-beginning",
                    "--max-messages",
                    "1",
                    "--timeout-ms",
                    "15000",
                ],
            )
            .expect("consumer");
        let text = String::from_utf8_lossy(&out.stderr).to_string();
        let ok = out.status.success() && !text.contains("AuthorizationException");
        (ok, String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let t = format!(r#"#{{topic: "{topic}"}}"#);
    let g = format!(r#"#{{group: "{group}"}}"#);

    assert!(!predicted("write", &t));
    assert!(!produce("denied-1"), "bob may not write yet");
    let allowed = json(
        &state,
        &format!(r#"allow_producer("User:{NO_RIGHTS_USER}", "{topic}")"#),
    );
    assert_eq!(
        allowed["created"].as_array().map(Vec::len),
        Some(3),
        "{allowed}"
    );
    let d = json(&state, &format!(r#"can("{NO_RIGHTS_USER}", "write", {t})"#));
    assert_eq!(d["allowed"], true, "{d}");
    assert_eq!(
        d["deciding"][0]["operation"], "write",
        "the deciding binding is named: {d}"
    );
    eventually("bob may write after allow_producer", || {
        produce("hello-bob")
    });

    assert!(!predicted("read", &t) && !predicted("read", &g));
    assert!(!consume().0, "bob may not read yet");
    json(
        &state,
        &format!(r#"allow_consumer("{NO_RIGHTS_USER}", "{topic}", "{group}")"#),
    );
    assert!(predicted("read", &t) && predicted("read", &g));
    let mut read = String::new();
    eventually("bob may read after allow_consumer", || {
        let (ok, r) = consume();
        read = r;
        ok
    });
    assert_eq!(read, "hello-bob", "bob reads what he wrote");

    let gone = json(
        &state,
        &format!(r#"delete_acls(#{{principal: "{NO_RIGHTS_USER}", topic: "{topic}"}})"#),
    );
    assert_eq!(gone["deleted"].as_array().map(Vec::len), Some(4), "{gone}");
    assert!(!predicted("write", &t) && !predicted("read", &t));
    assert!(predicted("read", &g), "the group binding stays");
    eventually("bob may not write after delete_acls", || {
        !produce("denied-2")
    });
    eventually("nor read", || !consume().0);
    json(
        &state,
        &format!(r#"delete_acls(#{{principal: "{NO_RIGHTS_USER}", group: "{group}"}})"#),
    );
}

/// The brokers' own authorized-operations answers for a user, over its own SASL_SSL
/// connection, equal `can()` for every operation on topics whose bindings exercise each
/// rule: literal, wildcard and prefixed patterns, "User:*", a deny over an allow, implied
/// Describe and DescribeConfigs, a binding for another host; and on the cluster.
pub fn can_matches_the_brokers_decisions(c: &Cluster, prefix: &str) {
    use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
    use kafka_protocol::messages::{DescribeClusterRequest, MetadataRequest, TopicName};
    use kafka_protocol::protocol::StrBytes;
    let state = context(c);
    let user = format!("{prefix}-carol");
    let password = "Pw-carol-61d0e2";
    let p = format!("User:{user}");
    let set = kafsh(&state)
        .env("CAROL_PW", password)
        .args([
            "-e",
            &format!(r#"set_password("{user}", #{{password_env: "CAROL_PW"}})"#),
        ])
        .output()
        .expect("set_password");
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let t = |s: &str| format!("{prefix}-perm-{s}");
    let topics: Vec<String> = ["a", "b", "c1", "d", "e"].iter().map(|s| t(s)).collect();
    json(
        &state,
        &format!(
            r#"for t in {topics:?} {{ create_topic(t, #{{partitions: 1, replication_factor: 1}}); }}
               create_acls([
                   #{{topic: "{a}", principal: "{p}", operation: "read"}},
                   #{{topic: "{pre}", pattern_type: "prefixed", principal: "{p}", operation: "alter_configs"}},
                   #{{topic: "*", principal: "{p}", operation: "write"}},
                   #{{topic: "{b}", principal: "{p}", operation: "write", permission: "deny"}},
                   #{{topic: "{b}", principal: "{p}", operation: "all", permission: "deny", host: "10.9.9.9"}},
                   #{{topic: "{c}", pattern_type: "prefixed", principal: "User:*", operation: "delete"}},
                   #{{topic: "{d}", principal: "{p}", operation: "alter", host: "10.9.9.9"}},
                   #{{topic: "{d}", principal: "{p}", operation: "create", host: "127.0.0.1"}},
                   #{{cluster: true, principal: "{p}", operation: "alter_configs"}},
                   #{{cluster: true, principal: "{p}", operation: "idempotent_write"}},
                   #{{cluster: true, principal: "{p}", operation: "alter"}},
               ]);"#,
            a = t("a"),
            b = t("b"),
            c = t("c"),
            d = t("d"),
            pre = t(""),
        ),
    );
    let ops = [
        ("read", 3),
        ("write", 4),
        ("create", 5),
        ("delete", 6),
        ("alter", 7),
        ("describe", 8),
        ("describe_configs", 10),
        ("alter_configs", 11),
    ];
    let cluster_ops = [
        ("create", 5),
        ("alter", 7),
        ("describe", 8),
        ("cluster_action", 9),
        ("describe_configs", 10),
        ("alter_configs", 11),
        ("idempotent_write", 12),
    ];
    // kafsh's prediction, from one listing, for every topic and operation.
    let predicted = json(
        &state,
        &format!(
            r#"let acls = list_acls();
               let out = #{{}};
               for t in {topics:?} {{
                   let row = #{{}};
                   for op in {ops:?} {{ row[op] = can("{p}", op, #{{topic: t}}, #{{host: "127.0.0.1", acls: acls}}).allowed; }}
                   out[t] = row;
               }}
               let row = #{{}};
               for op in {cops:?} {{ row[op] = can("{p}", op, #{{cluster: true}}, #{{host: "127.0.0.1", acls: acls}}).allowed; }}
               out["cluster"] = row;
               out"#,
            ops = ops.iter().map(|(o, _)| *o).collect::<Vec<_>>(),
            cops = cluster_ops.iter().map(|(o, _)| *o).collect::<Vec<_>>(),
        ),
    );
    // The brokers' answer, asked as the user itself (they answer only for resources the
    // user may describe: Alter on the cluster implies that).
    let mut settings = kafsh::config::Settings::for_servers(
        &c.secure_bootstrap_servers().expect("SASL_SSL"),
        None,
    )
    .expect("settings");
    for (k, v) in [
        ("security.protocol", "SASL_SSL".to_string()),
        ("sasl.mechanism", "SCRAM-SHA-512".to_string()),
        ("sasl.username", user.clone()),
        ("sasl.password", password.to_string()),
        (
            "ssl.ca.location",
            c.tls_dir().join("ca.pem").display().to_string(),
        ),
    ] {
        settings.properties.insert(k.to_string(), v);
    }
    let client = kafsh::kafka::KafkaClient::new(&settings).expect("client");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut mismatches = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        mismatches.clear();
        let meta = runtime
            .block_on(
                client.send_any(
                    &MetadataRequest::default()
                        .with_topics(Some(
                            topics
                                .iter()
                                .map(|t| {
                                    MetadataRequestTopic::default().with_name(Some(TopicName(
                                        StrBytes::from_string(t.clone()),
                                    )))
                                })
                                .collect(),
                        ))
                        .with_allow_auto_topic_creation(false)
                        .with_include_topic_authorized_operations(true),
                ),
            )
            .expect("metadata as the user");
        for t in &meta.topics {
            let name = t
                .name
                .as_ref()
                .map(|n| n.0.as_str().to_string())
                .unwrap_or_default();
            assert_eq!(
                t.error_code, 0,
                "{name}: the user may describe every topic (write implies it)"
            );
            for (op, bit) in ops {
                let broker = t.topic_authorized_operations & (1 << bit) != 0;
                let ours = predicted[&name][op].as_bool().expect("prediction");
                if broker != ours {
                    mismatches.push(format!("{op} on {name}: broker {broker}, can() {ours}"));
                }
            }
        }
        let cluster = runtime
            .block_on(client.send_any(
                &DescribeClusterRequest::default().with_include_cluster_authorized_operations(true),
            ))
            .expect("DescribeCluster as the user");
        for (op, bit) in cluster_ops {
            let broker = cluster.cluster_authorized_operations & (1 << bit) != 0;
            let ours = predicted["cluster"][op].as_bool().expect("prediction");
            if broker != ours {
                mismatches.push(format!(
                    "{op} on the cluster: broker {broker} ({:#x}), can() {ours}",
                    cluster.cluster_authorized_operations
                ));
            }
        }
        // ACLs reach the broker answering a moment after they are made.
        if mismatches.is_empty() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        mismatches.is_empty(),
        "{}\n{predicted}",
        mismatches.join("\n")
    );
    // Spot checks that the cases above are the interesting ones.
    assert_eq!(
        predicted[t("b")]["write"],
        false,
        "deny wins over the wildcard allow"
    );
    assert_eq!(predicted[t("a")]["describe"], true, "read implies describe");
    assert_eq!(
        predicted[t("e")]["describe_configs"],
        true,
        "alter_configs by prefix implies it"
    );
    assert_eq!(predicted[t("c1")]["delete"], true, "User:* by prefix");
    assert_eq!(
        predicted[t("d")]["alter"],
        false,
        "a binding for another host"
    );
    assert_eq!(predicted[t("d")]["create"], true, "a binding for this host");
    json(
        &state,
        &format!(
            r#"delete_acls(#{{principal: "{p}", pattern_type: "any", force: true}}); delete_acls(#{{principal: "User:*", topic: "{c}", pattern_type: "prefixed"}})"#,
            c = t("c")
        ),
    );
}

/// SCRAM users: set_password (from an environment variable, never shown) makes a user
/// Kafka's own tools log in as, describe_user equals kafka-configs.sh, delete_user ends
/// the logins; the user kafsh connects as is guarded.
pub fn users_log_in_until_deleted(c: &Cluster, prefix: &str) {
    let state = context(c);
    let user = format!("{prefix}-dave");
    let password = "Pw-dave-0b7a3c9f";
    let dir = tempfile::tempdir().expect("tmp");
    let props = client_properties(c, dir.path(), &user, password);
    let secure = c.secure_bootstrap_servers().expect("SASL_SSL");
    let logs_in = || {
        let out = c
            .kafka_tool_timeout(
                TOPIC_COMMAND,
                &[
                    "--bootstrap-server",
                    &secure,
                    "--command-config",
                    &props,
                    "--list",
                ],
                Duration::from_secs(60),
            )
            .expect("TopicCommand");
        let text = String::from_utf8_lossy(&out.stderr).to_string();
        out.status.success() && !text.contains("Authentication failed")
    };
    let set = |args: &[&str], expr: &str| {
        kafsh(&state)
            .env("DAVE_PW", password)
            .args(args)
            .args(["-e", expr])
            .output()
            .expect("kafsh")
    };
    let mut outputs = Vec::new();
    let dry = set(
        &["--dry-run"],
        &format!(r#"set_password("{user}", #{{password_env: "DAVE_PW"}})"#),
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    outputs.push(dry);
    let missing = run(&state, &[], &format!(r#"describe_user("{user}")"#));
    assert_eq!(missing.status.code(), Some(1), "a dry run creates no user");
    let made = set(
        &["--json"],
        &format!(r#"set_password("{user}", #{{password_env: "DAVE_PW", iterations: 8192}})"#),
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let result: Value = serde_json::from_slice(&made.stdout).expect("json");
    assert_eq!(result["new_credential"], true, "{result}");
    outputs.push(made);
    eventually("the new user logs in", logs_in);

    // describe_user and list_users as kafka-configs.sh --describe --entity-type users.
    let ours = json(&state, &format!(r#"describe_user("{user}")"#));
    assert_eq!(
        ours["credentials"],
        serde_json::json!({"SCRAM-SHA-512": 8192}),
        "{ours}"
    );
    let described = config_tool(
        c,
        &[
            "--describe",
            "--entity-type",
            "users",
            "--entity-name",
            &user,
        ],
    );
    assert!(
        described.contains(&format!("SCRAM credential configs for user-principal '{user}' are SCRAM-SHA-512=iterations=8192")),
        "{described}"
    );
    let listed = json(&state, "list_users()");
    let all = config_tool(c, &["--describe", "--entity-type", "users"]);
    for u in listed.as_array().expect("users") {
        let name = u["user"].as_str().expect("user");
        if name != user && name != NO_RIGHTS_USER && name != kafsh_sandbox::SASL_USER {
            continue; // another test's user may come or go meanwhile
        }
        let creds: BTreeSet<String> = u["credentials"]
            .as_object()
            .expect("credentials")
            .iter()
            .map(|(m, i)| format!("{m}=iterations={i}"))
            .collect();
        // The brokers list a user's mechanisms in no fixed order.
        let prefix = format!("SCRAM credential configs for user-principal '{name}' are ");
        let theirs: Option<BTreeSet<String>> = all
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(|rest| rest.split(", ").map(str::to_string).collect());
        assert_eq!(theirs.as_ref(), Some(&creds), "{name}: {all}");
    }

    // The password is never inline, and never shown or stored.
    let inline = run(
        &state,
        &[],
        &format!(r#"set_password("{user}", #{{password: "{password}"}})"#),
    );
    assert_eq!(inline.status.code(), Some(1));
    let inline_err = String::from_utf8_lossy(&inline.stderr).to_string();
    assert!(inline_err.contains("never taken inline"), "{inline_err}");
    // Kafsh itself is guarded: its own user, and the super users, need force.
    for expr in [
        r#"delete_user("alice")"#,
        r#"set_password("alice", #{password_env: "DAVE_PW"})"#,
    ] {
        let out = set(&[], expr);
        assert_eq!(
            out.status.code(),
            Some(5),
            "{expr}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(out);
    }

    let deleted = json(&state, &format!(r#"delete_user("{user}")"#));
    assert_eq!(
        deleted["deleted"][0]["mechanism"], "SCRAM-SHA-512",
        "{deleted}"
    );
    eventually("the deleted user no longer logs in", || !logs_in());
    let trail = audited(&state, "set_password");
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert_eq!(audited(&state, "delete_user").len(), 1);
    for out in &outputs {
        for text in [&out.stdout, &out.stderr] {
            assert!(
                !String::from_utf8_lossy(text).contains(password),
                "the password was shown"
            );
        }
    }
    for entry in std::fs::read_dir(state.path().join("state"))
        .expect("state dir")
        .flatten()
    {
        let text = std::fs::read(entry.path()).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&text).contains(password),
            "the password is in {}",
            entry.path().display()
        );
    }
}

/// kafka-configs.sh --describe lines ("Quota configs for user-principal 'u', client-id 'c'
/// are k=v, ...") as entity → sorted "k=v" pairs.
fn parse_quota_lines(text: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("Quota configs for ") else {
            continue;
        };
        let Some((entity, values)) = rest.split_once(" are ") else {
            continue;
        };
        let mut parts = Vec::new();
        for part in entity.split(", ") {
            let part = part.trim();
            let (kind, name) = if let Some(k) = part.strip_prefix("the default ") {
                (k.to_string(), "<default>".to_string())
            } else {
                let (k, n) = part.split_once(" '").unwrap_or((part, ""));
                (k.to_string(), n.trim_end_matches('\'').to_string())
            };
            let kind = match kind.as_str() {
                "user-principal" => "user",
                "client-id" => "client_id",
                other => other,
            }
            .to_string();
            parts.push(format!("{kind}={name}"));
        }
        let mut values: Vec<String> = values.split(", ").map(str::to_string).collect();
        values.sort();
        out.insert((parts.join(","), values.join(",")));
    }
    out
}

fn quota_rows(entries: &Value) -> BTreeSet<(String, String)> {
    entries
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let parts: Vec<String> = ["user", "client_id", "ip"]
                .iter()
                .filter_map(|k| e[k].as_str().map(|v| format!("{k}={v}")))
                .collect();
            let values: Vec<String> = e["quotas"]
                .as_object()
                .expect("quotas")
                .iter()
                .map(|(k, v)| format!("{k}={:?}", v.as_f64().expect("number")))
                .collect();
            (parts.join(","), values.join(","))
        })
        .collect()
}

/// Quotas of users, clients, user+client pairs, IPs and defaults set with kafsh are what
/// kafka-configs.sh describes; changes record the old values; a typo-sized rate and
/// removing a default's quota need force; a dry run changes nothing.
pub fn quotas_match_kafka_configs(c: &Cluster, prefix: &str) {
    let state = context(c);
    let user = format!("{prefix}-q-user");
    let client = format!("{prefix}-q-client");
    json(
        &state,
        &format!(
            r#"set_quota(#{{user: "{user}"}}, #{{producer_byte_rate: 1048576, consumer_byte_rate: 2097152}});
               set_quota(#{{client_id: "{client}"}}, #{{producer_byte_rate: 3000000}});
               set_quota(#{{user: "{user}", client_id: "{client}"}}, #{{request_percentage: 50, controller_mutation_rate: 10}});
               set_quota(#{{ip: "10.7.7.7"}}, #{{connection_creation_rate: 10}});
               set_quota(#{{user: "<default>"}}, #{{producer_byte_rate: 9000000}});
               set_quota(#{{ip: "<default>"}}, #{{connection_creation_rate: 1000}});"#
        ),
    );
    let ours = quota_rows(&json(&state, "describe_quotas()"));
    let mut theirs = BTreeSet::new();
    for args in [
        vec!["--entity-type", "users"],
        vec!["--entity-type", "clients"],
        vec!["--entity-type", "ips"],
        vec!["--entity-type", "users", "--entity-type", "clients"],
    ] {
        let mut all = vec!["--describe"];
        all.extend(args);
        theirs.extend(parse_quota_lines(&config_tool(c, &all)));
    }
    let mine = |rows: &BTreeSet<(String, String)>| -> BTreeSet<(String, String)> {
        rows.iter()
            .filter(|(e, _)| {
                e.contains(&user)
                    || e.contains(&client)
                    || e.contains("10.7.7.7")
                    || e.contains("<default>")
            })
            .cloned()
            .collect()
    };
    assert_eq!(mine(&ours).len(), 6, "{ours:?}");
    assert_eq!(
        mine(&ours),
        mine(&theirs),
        "kafsh and kafka-configs.sh describe the same quotas"
    );
    let alice = json(&state, &format!(r#"describe_quotas(#{{user: "{user}"}})"#));
    assert_eq!(
        alice.as_array().map(Vec::len),
        Some(2),
        "the user and its pair: {alice}"
    );
    let defaults = json(&state, "describe_quotas(#{defaults: true})");
    assert_eq!(quota_rows(&defaults).len(), 2, "{defaults}");

    // A dry run validates and changes nothing; the change records the old value.
    let dry = run(
        &state,
        &["--dry-run"],
        &format!(r#"set_quota(#{{user: "{user}"}}, #{{producer_byte_rate: 4194304}})"#),
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert_eq!(
        quota_rows(&json(
            &state,
            &format!(r#"describe_quotas(#{{user: "{user}"}})"#)
        ))
        .iter()
        .find(|(e, _)| e == &format!("user={user}"))
        .map(|(_, v)| v.clone()),
        Some("consumer_byte_rate=2097152.0,producer_byte_rate=1048576.0".to_string())
    );
    let changed = json(
        &state,
        &format!(r#"set_quota(#{{user: "{user}"}}, #{{producer_byte_rate: 4194304}})"#),
    );
    assert_eq!(changed["changes"][0]["old"], 1048576.0, "{changed}");
    let removed = json(
        &state,
        &format!(
            r#"delete_quota(#{{user: "{user}", client_id: "{client}"}}, ["request_percentage"])"#
        ),
    );
    assert_eq!(removed["changes"][0]["old"], 50.0, "{removed}");
    let trail = audited(&state, "delete_quota");
    assert_eq!(
        trail[0]["arguments"]["changes"][0]["old"], 50.0,
        "{trail:?}"
    );
    let described = config_tool(
        c,
        &[
            "--describe",
            "--entity-type",
            "users",
            "--entity-name",
            &user,
            "--entity-type",
            "clients",
            "--entity-name",
            &client,
        ],
    );
    assert!(
        described.contains("controller_mutation_rate=10.0")
            && !described.contains("request_percentage"),
        "{described}"
    );

    // Guard rails: a byte rate a typo made tiny; removing the default's limit.
    let tiny = run(
        &state,
        &[],
        &format!(r#"set_quota(#{{user: "{user}"}}, #{{producer_byte_rate: 10}})"#),
    );
    assert_eq!(
        tiny.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&tiny.stderr)
    );
    let lift = run(
        &state,
        &[],
        r#"delete_quota(#{user: "<default>"}, "producer_byte_rate")"#,
    );
    assert_eq!(
        lift.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&lift.stderr)
    );
    let not_set = run(
        &state,
        &[],
        &format!(r#"delete_quota(#{{client_id: "{client}"}}, "consumer_byte_rate")"#),
    );
    assert_eq!(not_set.status.code(), Some(1));
    json(
        &state,
        r#"delete_quota(#{user: "<default>"}, "producer_byte_rate", #{force: true});
           delete_quota(#{ip: "<default>"}, "connection_creation_rate", #{force: true});"#,
    );
    let left = json(&state, "describe_quotas(#{defaults: true})");
    assert_eq!(left, serde_json::json!([]), "{left}");
}

/// TransactionsCommand rows (after the header) split on tabs, trimmed.
fn transaction_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split('\t')
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect()
        })
        .collect()
}

/// A hanging transaction made with Kafka's own producer classes: list and describe equal
/// kafka-transactions.sh; find_hanging finds what its find-hanging finds; a dry run of
/// the abort changes nothing; the abort lets read_committed consumers past it.
pub fn hanging_transaction_found_and_aborted(c: &Cluster, prefix: &str) {
    let state = context(c);
    let topic = format!("{prefix}-txn");
    let id = format!("{prefix}-hang-tx");
    json(
        &state,
        &format!(r#"create_topic("{topic}", #{{partitions: 2, replication_factor: 2}})"#),
    );
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/java/HangingTransaction.java"
    );
    let made = c
        .kafka_tool_timeout(
            fixture,
            &[&c.bootstrap_servers(), &topic, "0", &id],
            Duration::from_secs(120),
        )
        .expect("java");
    let made_out = String::from_utf8_lossy(&made.stdout).to_string();
    assert!(
        made.status.success(),
        "{made_out}{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let producer_id: i64 = made_out
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("fixture output {made_out:?}"));

    let listed = json(&state, "list_transactions()");
    let ours: Vec<Vec<String>> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter(|t| t["transactional_id"] == id.as_str())
        .map(|t| {
            vec![
                t["transactional_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                t["coordinator"].to_string(),
                t["producer_id"].to_string(),
                t["state"].as_str().unwrap_or_default().to_string(),
            ]
        })
        .collect();
    let theirs: Vec<Vec<String>> = transaction_rows(&tool(c, TRANSACTIONS, &["list"]))
        .into_iter()
        .filter(|r| r[0] == id)
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours, theirs, "list");
    let d = json(&state, &format!(r#"describe_transaction("{id}")"#));
    let described = transaction_rows(&tool(
        c,
        TRANSACTIONS,
        &["describe", "--transactional-id", &id],
    ));
    assert_eq!(
        (
            d["coordinator"].to_string(),
            d["producer_id"].to_string(),
            d["producer_epoch"].to_string(),
            d["state"].as_str().unwrap_or_default().to_string(),
            d["timeout_ms"].to_string(),
        ),
        (
            described[0][0].clone(),
            described[0][2].clone(),
            described[0][3].clone(),
            described[0][4].clone(),
            described[0][5].clone(),
        ),
        "describe: {d} vs {described:?}"
    );
    let producers = json(&state, &format!(r#"describe_producers("{topic}", 0)"#));
    let tool_producers = transaction_rows(&tool(
        c,
        TRANSACTIONS,
        &["describe-producers", "--topic", &topic, "--partition", "0"],
    ));
    let ours_p: Vec<Vec<String>> = producers
        .as_array()
        .expect("producers")
        .iter()
        .map(|p| {
            let or = |v: &Value, none: &str| {
                if v.is_null() {
                    none.to_string()
                } else {
                    v.to_string()
                }
            };
            vec![
                p["producer_id"].to_string(),
                p["producer_epoch"].to_string(),
                or(&p["coordinator_epoch"], "-1"),
                p["last_sequence"].to_string(),
                p["last_timestamp"].to_string(),
                or(&p["current_txn_start_offset"], "None"),
            ]
        })
        .collect();
    let mut tool_producers = tool_producers;
    tool_producers.sort();
    let mut ours_p = ours_p;
    ours_p.sort();
    assert_eq!(ours_p, tool_producers, "describe-producers");

    // Hanging: kafsh and kafka-transactions.sh find the same, by topic and by broker.
    let tool_hanging = transaction_rows(&tool(
        c,
        TRANSACTIONS,
        &[
            "find-hanging",
            "--topic",
            &topic,
            "--max-transaction-timeout",
            "1",
        ],
    ));
    let hanging = json(
        &state,
        &format!(r#"find_hanging(#{{topic: "{topic}", max_transaction_timeout: "1m"}})"#),
    );
    let ours_h: Vec<Vec<String>> = hanging
        .as_array()
        .expect("hanging")
        .iter()
        .map(|h| {
            vec![
                h["topic"].as_str().unwrap_or_default().to_string(),
                h["partition"].to_string(),
                h["producer_id"].to_string(),
                h["producer_epoch"].to_string(),
                if h["coordinator_epoch"].is_null() {
                    "-1".into()
                } else {
                    h["coordinator_epoch"].to_string()
                },
                h["start_offset"].to_string(),
                h["last_timestamp"].to_string(),
            ]
        })
        .collect();
    let tool_h: Vec<Vec<String>> = tool_hanging.iter().map(|r| r[..7].to_vec()).collect();
    assert_eq!(ours_h, tool_h, "find-hanging");
    assert_eq!(ours_h.len(), 1);
    assert_eq!(hanging[0]["producer_id"], producer_id);
    let leader = json(
        &state,
        &format!(r#"describe_topic("{topic}").partitions[0].leader"#),
    );
    let by_broker = json(
        &state,
        &format!(r#"find_hanging(#{{broker: {leader}, max_transaction_timeout: "1m"}})"#),
    );
    assert!(
        by_broker
            .as_array()
            .expect("rows")
            .iter()
            .any(|h| h["topic"] == topic.as_str()),
        "{by_broker}"
    );

    let read_committed = || -> String {
        let out = c
            .kafka_tool(
                CONSOLE_CONSUMER,
                &[
                    "--bootstrap-server",
                    &c.bootstrap_servers(),
                    "--topic",
                    &topic,
                    "--partition",
                    "0",
                    "--offset",
                    "earliest",
                    "--isolation-level",
                    "read_committed",
                    "--max-messages",
                    "1",
                    "--timeout-ms",
                    "6000",
                ],
            )
            .expect("consumer");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(
        read_committed(),
        "",
        "the hanging transaction holds back read_committed consumers"
    );
    let dry = run(
        &state,
        &["--dry-run"],
        &format!(r#"abort_transaction("{topic}", 0, {producer_id})"#),
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert_eq!(
        json(
            &state,
            &format!(r#"find_hanging(#{{topic: "{topic}", max_transaction_timeout: "1m"}}).len()"#)
        ),
        1
    );
    let aborted = json(
        &state,
        &format!(r#"abort_transaction("{topic}", 0, {producer_id})"#),
    );
    assert!(
        aborted["hanging"].as_str().is_some_and(|w| w.contains(&id)),
        "{aborted}"
    );
    let after = transaction_rows(&tool(
        c,
        TRANSACTIONS,
        &[
            "find-hanging",
            "--topic",
            &topic,
            "--max-transaction-timeout",
            "1",
        ],
    ));
    assert!(
        after.is_empty(),
        "kafka-transactions.sh finds nothing left: {after:?}"
    );
    assert_eq!(
        read_committed(),
        "after",
        "the record after it is readable now"
    );
    assert_eq!(audited(&state, "abort_transaction").len(), 1);
    let again = run(
        &state,
        &[],
        &format!(r#"abort_transaction("{topic}", 0, {producer_id})"#),
    );
    assert_eq!(
        again.status.code(),
        Some(1),
        "no open transaction is left to abort"
    );
}

/// scripts/access_review.rhai: who may read and write a topic, a SCRAM user without
/// bindings, bindings naming a topic and a group that do not exist; --json for cron, and
/// fail_on_dangling=true fails.
pub fn access_review_runbook(c: &Cluster, prefix: &str) {
    let state = context(c);
    let topic = format!("{prefix}-rev-t");
    let reader = format!("User:{prefix}-rev-reader");
    let writer = format!("User:{prefix}-rev-writer");
    let lonely = format!("{prefix}-rev-lonely");
    let setup = kafsh(&state)
        .env("LONELY_PW", "Pw-lonely-77e1")
        .args([
            "-e",
            &format!(
                r#"create_topic("{topic}", #{{partitions: 1, replication_factor: 1}});
                   allow_consumer("{reader}", "{topic}", "{prefix}-rev-g");
                   allow_producer("{writer}", "{topic}");
                   allow_producer("{writer}", "{prefix}-rev-", #{{pattern_type: "prefixed"}});
                   create_acls([#{{topic: "{prefix}-rev-ghost", principal: "{reader}", operation: "read"}}]);
                   set_password("{lonely}", #{{password_env: "LONELY_PW"}});"#
            ),
        ])
        .output()
        .expect("setup");
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let runbook = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/access_review.rhai");
    let out = kafsh(&state)
        .args([
            "--json",
            "run",
            runbook,
            "--arg",
            &format!("topics={topic}"),
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let review: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(review["topics"][0]["topic"], topic.as_str(), "{review}");
    // (Another test's user may write every topic for a while: only ours are checked.)
    let has = |op: &str, who: &str| {
        review["topics"][0][op]
            .as_array()
            .is_some_and(|a| a.iter().any(|p| p == who))
    };
    assert!(has("read", &reader) && !has("read", &writer), "{review}");
    assert!(has("write", &writer) && !has("write", &reader), "{review}");
    let unbound = review["users_without_bindings"].as_array().expect("users");
    assert!(unbound.iter().any(|u| u == lonely.as_str()), "{review}");
    assert!(
        !unbound.iter().any(|u| u == kafsh_sandbox::SASL_USER),
        "a super user needs no binding"
    );
    let dangling = review["dangling_bindings"].as_array().expect("dangling");
    let names: BTreeSet<&str> = dangling.iter().filter_map(|b| b["name"].as_str()).collect();
    assert!(
        names.contains(format!("{prefix}-rev-ghost").as_str()),
        "{review}"
    );
    assert!(
        names.contains(format!("{prefix}-rev-g").as_str()),
        "a group nobody created: {review}"
    );
    assert!(!names.contains(topic.as_str()), "{review}");
    assert!(
        !names.contains(format!("{prefix}-rev-").as_str()),
        "the prefix matches a topic: {review}"
    );
    let failing = kafsh(&state)
        .args([
            "run",
            runbook,
            "--arg",
            &format!("topics={topic}"),
            "--arg",
            "fail_on_dangling=true",
        ])
        .output()
        .expect("run");
    assert_eq!(failing.status.code(), Some(1));
    json(&state, &format!(r#"delete_user("{lonely}")"#));
}

/// A desired-state file with a topic, an ACL binding and a quota: `kafsh apply` makes them
/// (exit 7), kafka-acls.sh and kafka-configs.sh then show exactly them, a second apply has
/// nothing to do (exit 0), and `kafsh export --acls --quotas` writes them back.
pub fn desired_state_applies_acls_and_quotas(c: &Cluster, prefix: &str) {
    let state = context(c);
    let topic = format!("{prefix}-ds-orders");
    let principal = format!("User:{prefix}-ds-app");
    let user = format!("{prefix}-ds-app");
    let file = state.path().join("desired.toml");
    std::fs::write(
        &file,
        format!(
            "[[topics]]\nname = \"{topic}\"\npartitions = 2\nreplication_factor = 1\nconfigs = {{ \"retention.ms\" = \"7200000\" }}\n\n\
             [[acls]]\nresource_type = \"topic\"\nname = \"{topic}\"\nprincipal = \"{principal}\"\noperation = \"read\"\n\n\
             [[acls]]\nresource_type = \"group\"\nname = \"{prefix}-ds-\"\npattern_type = \"prefixed\"\nprincipal = \"{principal}\"\noperation = \"read\"\n\n\
             [[quotas]]\nuser = \"{user}\"\nquotas = {{ producer_byte_rate = 2048000.0 }}\n"
        ),
    )
    .expect("desired.toml");
    let apply = || {
        kafsh(&state)
            .args(["--json", "apply"])
            .arg(&file)
            .output()
            .expect("kafsh apply")
    };
    let out = apply();
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let applied: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        applied["applied"].as_array().map(Vec::len),
        Some(4),
        "{applied}"
    );

    let theirs = acl_listing_of(c, &principal);
    assert_eq!(theirs.len(), 2, "{theirs:?}");
    assert_eq!(
        rows_of(&json(
            &state,
            &format!(r#"list_acls(#{{principal: "{principal}"}})"#)
        )),
        theirs
    );
    let quota = config_tool(
        c,
        &[
            "--describe",
            "--entity-type",
            "users",
            "--entity-name",
            &user,
        ],
    );
    assert!(quota.contains("producer_byte_rate=2048000.0"), "{quota}");
    let described = tool(
        c,
        "org.apache.kafka.tools.TopicCommand",
        &["--describe", "--topic", &topic],
    );
    assert!(
        described.contains("PartitionCount: 2") && described.contains("retention.ms=7200000"),
        "{described}"
    );

    let again = apply();
    assert_eq!(
        again.status.code(),
        Some(0),
        "nothing left to do: {again:?}"
    );

    let out = kafsh(&state)
        .args([
            "export",
            "--acls",
            "--quotas",
            "--topics",
            &format!("{prefix}-ds-.*"),
        ])
        .output()
        .expect("kafsh export");
    let exported = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    for expected in [
        format!("name = \"{topic}\""),
        format!("principal = \"{principal}\""),
        "pattern_type = \"prefixed\"".to_string(),
        format!("user = \"{user}\""),
        "producer_byte_rate = 2048000.0".to_string(),
    ] {
        assert!(
            exported.contains(&expected),
            "{expected} missing from:\n{exported}"
        );
    }
}
