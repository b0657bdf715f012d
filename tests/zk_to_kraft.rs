//! The migration of a real ZooKeeper-mode Kafka 3.9 cluster (3 ZooKeeper servers, 3 brokers)
//! to KRaft with `scripts/zk_to_kraft_migration.rhai`, driven through the context
//! `kafsh-sandbox context` prints (its inventory commands stand in for ssh/systemctl and
//! configuration management), under an acks=all producer and a consumer group reading:
//! refused first by a preflight that cannot pass (every reason at once), killed -9 at sampled
//! mutation boundaries (one in each of the phases 2, 3 and 4) and resumed, a broker killed -9
//! in phase 3 and a controller in phase 4 (the run stops saying why; --resume finishes once
//! the node is back), and in the end the brokers and controllers in KRaft mode with ZooKeeper
//! stopped, the topics (ids, assignments, configs), the group's offsets, the SCRAM user, the
//! quota and the ACLs (AclAuthorizer before, StandardAuthorizer after) as before, and every
//! acknowledged message there exactly once; then the rolling upgrade of the migrated cluster
//! to the sandbox's KRaft release (Kafka 4.4) under the same producer, metadata.version
//! raised. The tests break their own clusters, taking turns.

mod common;

use common::load::{acked_values_and_stall, assert_consumed_exactly_once, start_producer};
use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, Flavor, NewNode, Node};
use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::process::Output;
use std::time::{Duration, Instant};

fn runbook() -> String {
    format!(
        "{}/scripts/zk_to_kraft_migration.rhai",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The context `kafsh-sandbox context` prints for this cluster, as context "t".
fn write_context(c: &Cluster, state: &tempfile::TempDir) {
    let out = std::process::Command::new(sandbox_bin())
        .args(["context", "t", "--dir"])
        .arg(c.dir())
        .output()
        .expect("kafsh-sandbox context");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = format!(
        "current_context = \"t\"\n{}",
        String::from_utf8_lossy(&out.stdout).replacen(
            "[contexts.t]\n",
            "[contexts.t]\ntimeout = \"20s\"\n",
            1
        )
    );
    std::fs::write(state.path().join("config.toml"), text).expect("config");
}

/// `kafsh --json -e EXPR` in the context.
fn eval(state: &tempfile::TempDir, expr: &str) -> Value {
    let out = kafsh(state)
        .args(["--json", "-e", expr])
        .output()
        .expect("kafsh");
    assert!(
        out.status.success(),
        "{expr}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// One run of the migration (same arguments every time, so --resume finds the journal).
fn migrate(state: &tempfile::TempDir, resume: bool, crash_after: Option<usize>) -> Output {
    let mut cmd = kafsh(state);
    cmd.args([
        "run",
        &runbook(),
        "--arg",
        "finalize=true",
        "--arg",
        "timeout=60s",
        "--arg",
        "settle=20s",
    ]);
    if resume {
        cmd.arg("--resume");
    }
    match crash_after {
        Some(k) => cmd.env("KAFSH_CRASH_AFTER_MUTATIONS", k.to_string()),
        None => cmd.env_remove("KAFSH_CRASH_AFTER_MUTATIONS"),
    };
    cmd.env("KAFSH_AUDIT_LOG", state.path().join("audit.log"));
    let out = cmd.output().expect("kafsh run");
    eprintln!(
        "--- migration run (resume {resume}, crash after {crash_after:?}): {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.contains("read_node_config: running"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    out
}

fn killed(out: &Output) -> bool {
    out.status.signal() == Some(9)
}

/// What must be the same before and after: topics (id, partitions' replicas, configs),
/// the group's committed offsets (kafsh), and the SCRAM user and the client quota as
/// Kafka's ConfigCommand describes them.
fn snapshot(c: &Cluster) -> Value {
    let bs = c.bootstrap_servers();
    let kafka = kafsh_json(
        &bs,
        None,
        r#"let topics = [];
        for t in describe_topics(["orders", "load"]) {
            topics.push(#{topic: t.topic, id: t.topic_id, configs: t.configs,
                replicas: t.partitions.map(|p| `${p.partition}:${p.replicas}`)});
        }
        let offsets = describe_group("billing").partitions.map(|p| `${p.topic}-${p.partition}@${p.current_offset}`);
        #{topics: topics, offsets: offsets}"#,
    );
    let describe = |entity: &str| {
        tool_stdout(
            c.kafka_tool(
                c.config_command(),
                &[
                    "--bootstrap-server",
                    &bs,
                    "--describe",
                    "--entity-type",
                    entity,
                ],
            ),
            "ConfigCommand --describe",
        )
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect::<Vec<_>>()
    };
    let mut acls: Vec<String> = tool_stdout(
        c.kafka_tool(
            "kafka.admin.AclCommand",
            &["--bootstrap-server", &bs, "--list"],
        ),
        "AclCommand --list",
    )
    .lines()
    .map(str::trim)
    .filter(|l| !l.is_empty())
    .map(String::from)
    .collect();
    acls.sort();
    serde_json::json!({"kafka": kafka, "users": describe("users"), "clients": describe("clients"), "acls": acls})
}

/// The whole migration under load, killed three times at mutation boundaries and once
/// stopped by a broker killed -9, then resumed to the end.
/// The tests take turns: each runs its own cluster.
fn turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// A ZooKeeper-mode cluster (AclAuthorizer) with three migration controllers made, its
/// context in `state`, and what it holds: topics with non-default configs, a group's
/// offsets, a SCRAM user, a client quota and ACLs.
fn setup() -> (Cluster, tempfile::TempDir) {
    let mut c = Cluster::start(
        ClusterSpec::zookeeper()
            .broker_config(
                "authorizer.class.name",
                "kafka.security.authorizer.AclAuthorizer",
            )
            .broker_config("allow.everyone.if.no.acl.found", "true"),
    )
    .expect("start the sandbox cluster");
    eprintln!("sandbox cluster in {}", c.dir().display());
    for _ in 0..3 {
        c.add(NewNode::Controller)
            .expect("add a migration controller");
    }
    let state = tempfile::tempdir().expect("state");
    write_context(&c, &state);
    let bs = c.bootstrap_servers();

    // What the cluster holds: topics with non-default configs, a group's offsets, a SCRAM
    // user and a client quota.
    kafsh_json(
        &bs,
        None,
        r#"create_topic("orders", #{partitions: 6, replication_factor: 3, config: #{"retention.ms": 86400000, "min.insync.replicas": 2}});
           create_topic("load", #{partitions: 3, replication_factor: 3, config: #{"min.insync.replicas": 2}})"#,
    );
    let seed = start_producer(&c, "orders", 60, 1000);
    assert_eq!(acked_values_and_stall(seed).0.len(), 60);
    tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            &[
                "--bootstrap-server",
                &bs,
                "--topic",
                "orders",
                "--group",
                "billing",
                "--from-beginning",
                "--max-messages",
                "60",
                "--timeout-ms",
                "30000",
            ],
        ),
        "ConsoleConsumer --group billing",
    );
    for (entity, name, config) in [
        (
            "users",
            "alice",
            "SCRAM-SHA-512=[iterations=8192,password=alice-secret]",
        ),
        ("clients", "billing-app", "producer_byte_rate=1048576"),
    ] {
        tool_stdout(
            c.kafka_tool(
                c.config_command(),
                &[
                    "--bootstrap-server",
                    &bs,
                    "--alter",
                    "--entity-type",
                    entity,
                    "--entity-name",
                    name,
                    "--add-config",
                    config,
                ],
            ),
            "ConfigCommand --alter",
        );
    }
    for resource in [["--topic", "audited"], ["--group", "audit-readers"]] {
        tool_stdout(
            c.kafka_tool(
                "kafka.admin.AclCommand",
                &[
                    "--bootstrap-server",
                    &bs,
                    "--add",
                    "--allow-principal",
                    "User:alice",
                    "--operation",
                    "Read",
                    resource[0],
                    resource[1],
                ],
            ),
            "AclCommand --add",
        );
    }
    (c, state)
}

#[test]
fn the_migration_to_kraft_under_load_loses_nothing_and_survives_kills() {
    let _turn = turn();
    let (mut c, state) = setup();
    let bs = c.bootstrap_servers();
    let before = snapshot(&c);
    assert!(
        before["acls"].to_string().contains("User:alice"),
        "{before}"
    );
    assert!(
        before["users"].to_string().contains("SCRAM-SHA-512"),
        "{before}"
    );
    assert_eq!(eval(&state, "migration_status().phase"), "zookeeper");

    // The dry run changes nothing and names every change.
    let files = |c: &Cluster| -> Vec<String> {
        c.nodes()
            .into_iter()
            .filter(|n| n.is_kafka())
            .map(|n| c.node_config(n).expect("config"))
            .collect()
    };
    let files_before = files(&c);
    let dry = kafsh(&state)
        .args(["run", &runbook(), "--dry-run"])
        .output()
        .expect("dry run");
    let dry_err = String::from_utf8_lossy(&dry.stderr);
    assert!(dry.status.success(), "{dry_err}");
    for line in [
        "controller 101: + zookeeper.metadata.migration.enable=true",
        "broker 2: + zookeeper.metadata.migration.enable=true",
        "broker 3: - zookeeper.connect=",
        "broker 1: + process.roles=broker",
        "controller 103: - zookeeper.metadata.migration.enable=true",
        "would run",
    ] {
        assert!(
            dry_err.contains(line),
            "the dry run does not say {line:?}: {dry_err}"
        );
    }
    assert_eq!(eval(&state, "migration_status().phase"), "zookeeper");
    assert_eq!(
        files(&c),
        files_before,
        "the dry run changed a node's configuration"
    );
    assert!(c.controllers().iter().all(|n| !n.running));
    assert_eq!(snapshot(&c), before);

    // A preflight that cannot pass refuses with every reason at once and changes nothing.
    let broken = tempfile::tempdir().expect("state");
    let text = std::fs::read_to_string(state.path().join("config.toml")).expect("config");
    let cut = text
        .find("[[contexts.t.controllers]]")
        .expect("controllers");
    let without: String = text[..cut]
        .lines()
        .filter(|l| !l.starts_with("read_config") || !l.contains("broker 2"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(broken.path().join("config.toml"), without).expect("config");
    let refused = kafsh(&broken)
        .args(["run", &runbook()])
        .output()
        .expect("run");
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{why}");
    for reason in [
        "refusing to migrate:",
        "the context's inventory has no controllers",
        "broker 2 has no read_config in the inventory",
    ] {
        assert!(why.contains(reason), "no {reason:?} in: {why}");
    }
    assert_eq!(
        files(&c),
        files_before,
        "the refused run changed a configuration"
    );

    let producer = start_producer(&c, "load", 2_000_000, 200);
    // A consumer group reads all along.
    let mut reader = c
        .kafka_tool_command(
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            &[
                "--bootstrap-server".to_string(),
                bs.clone(),
                "--topic".into(),
                "load".into(),
                "--group".into(),
                "readers".into(),
                "--from-beginning".into(),
            ],
        )
        .expect("consumer")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("consumer");
    let t0 = Instant::now();

    // Killed in phase 2 (after formatting the first controller), then in phase 3 (while
    // configuring broker 2), then in phase 4.
    assert!(
        killed(&migrate(&state, false, Some(5))),
        "not killed in phase 2"
    );
    assert!(
        killed(&migrate(&state, true, Some(8))),
        "not killed in phase 3"
    );
    assert_eq!(eval(&state, "migration_status().phase"), "controllers");

    // A broker killed -9 in phase 3: the run stops at the next gate, saying why.
    c.kill(Node::Broker(3)).expect("kill broker 3");
    let stopped = migrate(&state, true, None);
    let why = String::from_utf8_lossy(&stopped.stderr);
    assert!(
        !stopped.status.success(),
        "the run went on without broker 3"
    );
    assert!(why.contains("broker(s) [3] not answering"), "{why}");
    c.start_node(Node::Broker(3)).expect("start broker 3 again");

    assert!(
        killed(&migrate(&state, true, Some(7))),
        "not killed in phase 4"
    );
    assert_eq!(eval(&state, "migration_status().phase"), "dual-write");

    // A controller killed -9 in phase 4: the run stops before the next broker, saying why.
    c.kill(Node::Controller(102)).expect("kill controller 102");
    let stopped = migrate(&state, true, None);
    let why = String::from_utf8_lossy(&stopped.stderr);
    assert!(
        !stopped.status.success(),
        "the run went on without controller 102"
    );
    assert!(
        why.contains("the controller quorum is not ready") && why.contains("102 up=false"),
        "{why}"
    );
    c.start_node(Node::Controller(102))
        .expect("start controller 102 again");

    let last = migrate(&state, true, None);
    assert!(
        last.status.success(),
        "the resumed migration failed: {}",
        String::from_utf8_lossy(&last.stderr)
    );
    let took = t0.elapsed();

    let status = eval(&state, "migration_status()");
    assert_eq!(status["phase"], "kraft", "{status}");
    assert_eq!(status["kraft_brokers"], serde_json::json!([1, 2, 3]));
    assert!(status["controllers"]
        .as_array()
        .expect("controllers")
        .iter()
        .all(|c| c["up"] == true && c["migration_enabled"] == false));

    // ZooKeeper off: the cluster goes on without it, its brokers serving the KRaft quorum.
    for z in c.zk_servers() {
        c.stop(Node::Zk(z.id)).expect("stop ZooKeeper");
    }
    std::thread::sleep(Duration::from_secs(5));
    let leader = kafsh_json(&bs, None, "quorum_status().leader_id");
    assert!(
        leader.as_i64().is_some_and(|l| (101..=103).contains(&l)),
        "{leader}"
    );
    for b in c.brokers() {
        let props = c.node_config(Node::Broker(b.id)).expect("config");
        assert!(props.contains("process.roles=broker\n"), "{props}");
        assert!(!props.contains("zookeeper."), "{props}");
        assert!(
            props.contains(
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n"
            ),
            "{props}"
        );
    }

    // The rolling upgrade to the sandbox's KRaft release (Kafka 4.4) under the same
    // producer, metadata.version raised.
    let to = kafsh_sandbox::jars::kafka_version(Flavor::KRaft);
    let mv_before = kafsh_json(
        &bs,
        None,
        r#"features().filter(|f| f.feature == "metadata.version")[0].finalized_level"#,
    );
    let t1 = Instant::now();
    let upgrade_log = state.path().join("upgrade.log");
    let upgrade = kafsh(&state)
        .arg("--log-file")
        .arg(&upgrade_log)
        .args([
            "--bootstrap-controller",
            &c.bootstrap_controllers().expect("controllers"),
            "run",
            &format!(
                "{}/scripts/kafka_rolling_upgrade.rhai",
                env!("CARGO_MANIFEST_DIR")
            ),
            "--arg",
            "timeout=90s",
        ])
        .output()
        .expect("upgrade");
    let upgrade_err = String::from_utf8_lossy(&upgrade.stderr);
    // The log file has each line's time: where a slow upgrade spent it.
    eprintln!(
        "--- upgrade:\n{}",
        std::fs::read_to_string(&upgrade_log).unwrap_or_else(|_| upgrade_err.to_string())
    );
    assert!(
        upgrade.status.success(),
        "the upgrade failed: {upgrade_err}"
    );
    let upgrade_took = t1.elapsed();
    let levels = kafsh_json(
        &bs,
        None,
        r#"let f = features().filter(|f| f.feature == "metadata.version")[0];
            #{finalized: f.finalized_level, version: f.version}"#,
    );
    eprintln!("metadata.version level before {mv_before}, after {levels}");
    assert!(
        levels["finalized"].as_i64() > mv_before.as_i64(),
        "metadata.version not raised: {levels}"
    );
    assert!(
        levels["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("4.")),
        "{levels}"
    );
    for n in c.nodes().into_iter().filter(|n| n.is_kafka()) {
        let log = std::fs::read_to_string(c.node_dir(n).join("server.log")).unwrap_or_default();
        assert!(
            log.contains(&format!("Kafka version: {to}")),
            "{n} does not run {to}"
        );
    }

    let _ = reader.kill();
    let _ = reader.wait();
    let read = kafsh_json(
        &bs,
        None,
        r#"let n = 0; for p in describe_group("readers").partitions { if p.current_offset != () { n += p.current_offset; } } n"#,
    );
    assert!(
        read.as_i64().is_some_and(|n| n > 1000),
        "the readers group committed only {read} offsets"
    );

    common::load::stop_producer(&producer);
    let (acked, stall) = acked_values_and_stall(producer);
    assert!(
        acked.len() > 1000,
        "the producer acknowledged only {}",
        acked.len()
    );
    assert_consumed_exactly_once(&c, "load", &acked);
    let after = snapshot(&c);
    let diff = common::crash::differences(&before, &after);
    assert!(
        diff.is_empty(),
        "the cluster changed:\n  {}",
        diff.join("\n  ")
    );
    eprintln!(
        "migrated in {:.0}s (with the kills and the stop) under load, upgraded to {to} in {:.0}s: {} messages acknowledged, longest produce stall {} ms",
        took.as_secs_f64(),
        upgrade_took.as_secs_f64(),
        acked.len(),
        stall.as_millis()
    );
}

/// Revert from phase 3: the migration stopped (killed) with every broker in migration mode
/// and the metadata migrated (dual-write); `--arg revert=true` stops the controllers,
/// deletes /controller and /migration and restarts the brokers without the migration
/// settings: a working ZooKeeper-mode cluster with the same topics, offsets, users, quotas
/// and ACLs, and every acknowledged message there.
#[test]
fn a_revert_from_phase_3_leaves_a_working_zookeeper_cluster() {
    let _turn = turn();
    let (c, state) = setup();
    let before = snapshot(&c);
    let producer = start_producer(&c, "load", 2_000_000, 200);
    // Phase 2 is 9 mutations, phase 3 six: killed right after the 16th, the first of
    // phase 4 (before it runs), once the metadata is migrated.
    assert!(killed(&migrate(&state, false, Some(16))), "not killed");
    let status = eval(&state, "migration_status()");
    assert_eq!(status["phase"], "dual-write", "{status}");
    assert_eq!(status["zk_brokers"], serde_json::json!([1, 2, 3]));

    let mut cmd = kafsh(&state);
    cmd.args([
        "run",
        &runbook(),
        "--arg",
        "revert=true",
        "--arg",
        "timeout=60s",
        "--arg",
        "settle=20s",
    ]);
    let out = cmd.output().expect("revert");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the revert failed: {err}");
    assert!(err.contains("reverting from phase dual-write"), "{err}");

    let status = eval(&state, "migration_status()");
    assert_eq!(status["phase"], "zookeeper", "{status}");
    assert_eq!(status["zookeeper"]["migration"], Value::Null, "{status}");
    assert_eq!(status["zookeeper"]["kraft_controller_epoch"], Value::Null);
    assert!(c.controllers().iter().all(|n| !n.running));
    for b in c.brokers() {
        let props = c.node_config(Node::Broker(b.id)).expect("config");
        assert!(
            !props.contains("zookeeper.metadata.migration.enable"),
            "{props}"
        );
        assert!(!props.contains("controller.quorum.voters"), "{props}");
        assert!(props.contains(&format!("broker.id={}\n", b.id)), "{props}");
    }
    // A ZooKeeper-mode cluster that works: a new topic, every acknowledged message there.
    kafsh_json(
        &c.bootstrap_servers(),
        None,
        r#"create_topic("after-revert", #{partitions: 3, replication_factor: 3})"#,
    );
    common::load::stop_producer(&producer);
    let (acked, stall) = acked_values_and_stall(producer);
    assert_consumed_exactly_once(&c, "load", &acked);
    let after = snapshot(&c);
    let diff = common::crash::differences(&before, &after);
    assert!(
        diff.is_empty(),
        "the cluster changed:\n  {}",
        diff.join("\n  ")
    );
    eprintln!(
        "reverted under load: {} messages acknowledged, longest produce stall {} ms",
        acked.len(),
        stall.as_millis()
    );
}
