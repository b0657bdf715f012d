//! The broker scale-out and scale-in runbooks on real clusters: 3 brokers with 50
//! partitions (RF 2) of data, brokers 4 and 5 added, the runbook run while Kafka's
//! VerifiableProducer writes with acks=all; afterwards every acknowledged message is
//! consumed exactly once, replicas and leaders are balanced over 5 brokers (by count on
//! ZooKeeper mode, by disk bytes on KRaft), and no throttle config remains.

mod common;

use common::load::{acked_values, assert_consumed_exactly_once, start_producer};
use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, NewNode, Node};
use std::collections::{BTreeSet, HashMap};
use std::process::Stdio;

/// One cluster at a time: two starting at once on 2 cores only slow each other down.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn scale_out_from_three_to_five_brokers_loses_nothing_zookeeper_mode() {
    scale_out(ClusterSpec::zookeeper());
}

/// By disk bytes, on partitions of very different sizes (so-c: 0.3 to 3 MB): every
/// broker's bytes within the tolerance of the mean afterwards as Kafka's LogDirsCommand
/// measures them, each topic's replicas per broker within two, nothing lost.
#[test]
fn scale_out_by_bytes_from_three_to_five_brokers_loses_nothing_kraft() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = Cluster::start(ClusterSpec::kraft()).expect("cluster");
    create_topics(&c);
    kafsh_json(
        &c.bootstrap_servers(),
        None,
        r#"create_topic("so-c", #{partitions: 10, replication_factor: 2})"#,
    );
    common::topics_suite::produce_skewed(&c, "so-c", 10, 300);
    let producer = start_producer(&c, "so-a", 3000, 150);

    let four = add_broker(&mut c);
    let five = add_broker(&mut c);
    let state = tempfile::tempdir().expect("tmp");
    let out = scale_out_run(&c, &state, four, five, "5m")
        .args(["--arg", "balance=bytes", "--arg", "tolerance=0.1"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    assert!(
        report["after"]["disk_percent"].as_f64().unwrap_or(100.0) <= 10.0 + 0.01,
        "{report}"
    );
    assert!(
        report["bytes_to_move"].as_u64().unwrap_or(0) > 0,
        "{report}"
    );

    let acked = acked_values(producer);
    assert!(
        acked.len() > 300,
        "the producer kept writing: {}",
        acked.len()
    );
    assert_consumed_exactly_once(&c, "so-a", &acked);
    let topics: Vec<String> = ["so-a", "so-b", "so-c"].map(String::from).to_vec();
    // A little over the plan's tolerance: the producer kept writing to so-a, and segment
    // files are not exactly the sizes DescribeLogDirs gave the planner.
    common::topics_suite::assert_disks_within(&c, &topics, 0.12, &report.to_string());
    let bs = c.bootstrap_servers();
    for topic in &topics {
        let d = kafsh_json(&bs, None, &format!(r#"describe_topic("{topic}")"#));
        let mut per_broker: HashMap<i64, usize> = HashMap::new();
        for p in d["partitions"].as_array().expect("partitions") {
            for b in p["replicas"].as_array().expect("replicas") {
                *per_broker.entry(b.as_i64().unwrap_or(0)).or_insert(0) += 1;
            }
            assert_eq!(p["leader"], p["replicas"][0], "{p}");
        }
        let lo = (1..=5)
            .map(|b| per_broker.get(&b).copied().unwrap_or(0))
            .min();
        let hi = per_broker.values().max().copied();
        assert!(
            hi.unwrap_or(0) <= lo.unwrap_or(0) + 2,
            "{topic}: {per_broker:?}"
        );
        common::topics_suite::assert_no_throttle_left(&c, topic);
    }
}

fn scale_out(spec: ClusterSpec) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = Cluster::start(spec).expect("cluster");
    create_topics(&c);
    let producer = start_producer(&c, "so-a", 3000, 150);

    let four = add_broker(&mut c);
    let five = add_broker(&mut c);
    let state = tempfile::tempdir().expect("tmp");
    let out = scale_out_run(&c, &state, four, five, "5m")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["moves"], report["lower_bound"], "{report}");

    // Sends that time out while leaders move are not acknowledged (so not owed); how many
    // depends on the machine's load.
    let acked = acked_values(producer);
    assert!(
        acked.len() > 300,
        "the producer kept writing: {}",
        acked.len()
    );
    assert_consumed_exactly_once(&c, "so-a", &acked);
    assert_balanced_without_throttles(&c);
}

/// The fault case: a broker dies while the first batch moves, so the run fails (its batch
/// times out); the broker comes back and the same run, resumed, finishes the job.
#[test]
fn scale_out_resumed_after_a_broker_died_mid_reassignment_loses_nothing() {
    use std::io::BufRead;
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = Cluster::start(ClusterSpec::zookeeper()).expect("cluster");
    create_topics(&c);
    let producer = start_producer(&c, "so-a", 4000, 100);
    let four = add_broker(&mut c);
    let five = add_broker(&mut c);
    let state = tempfile::tempdir().expect("tmp");

    let mut run = scale_out_run(&c, &state, four, five, "30s")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let mut log = Vec::new();
    let mut lines = std::io::BufReader::new(run.stderr.take().expect("stderr")).lines();
    for line in lines.by_ref() {
        let line = line.unwrap_or_default();
        let moving = line.contains("batch 1: moving");
        log.push(line);
        if moving {
            break;
        }
    }
    assert!(
        log.last().is_some_and(|l| l.contains("batch 1: moving")),
        "{log:?}"
    );
    c.kill(Node::Broker(four)).expect("kill broker 4");
    log.extend(lines.map_while(Result::ok));
    let status = run.wait().expect("run ends");
    assert_eq!(status.code(), Some(4), "the batch times out: {log:?}");
    assert!(
        log.iter()
            .any(|l| l.contains("the reassignment goes on, throttles stay")),
        "{log:?}"
    );

    c.start_node(Node::Broker(four)).expect("restart broker 4");
    let out = scale_out_run(&c, &state, four, five, "30s")
        .arg("--resume")
        .output()
        .expect("resumed run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("step \"wait for the new brokers\": finished in an earlier run, skipped"),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["moves"], report["lower_bound"], "{report}");

    // Sends to partitions stuck behind the dead broker fail (not acknowledged, so not
    // owed); the rest must all be there.
    let acked = acked_values(producer);
    assert!(
        acked.len() > 200,
        "the producer kept writing: {}",
        acked.len()
    );
    assert_consumed_exactly_once(&c, "so-a", &acked);
    assert_balanced_without_throttles(&c);
}

/// Adds a broker, starts it and returns its id once every broker lists it.
fn add_broker(c: &mut Cluster) -> i32 {
    let node = c.add(NewNode::Broker { rack: None }).expect("add a broker");
    c.start_node(node).expect("start the new broker");
    i32::try_from(node.id()).expect("a broker id")
}

/// so-a (30 partitions) and so-b (20, with data), RF 2, on the first three brokers.
fn create_topics(c: &Cluster) {
    let bs = c.bootstrap_servers();
    kafsh_json(
        &bs,
        None,
        r#"create_topic("so-a", #{partitions: 30, replication_factor: 2})"#,
    );
    kafsh_json(
        &bs,
        None,
        r#"create_topic("so-b", #{partitions: 20, replication_factor: 2})"#,
    );
    common::groups_suite::produce(c, "so-b", 20000);
}

/// The scale-out runbook onto brokers `four` and `five`, 20-partition batches.
fn scale_out_run(
    c: &Cluster,
    state: &tempfile::TempDir,
    four: i32,
    five: i32,
    timeout: &str,
) -> std::process::Command {
    let zk = c.zk_connect().unwrap_or_else(|| "127.0.0.1:1".into());
    let endpoints: Vec<String> = c
        .brokers()
        .iter()
        .filter(|b| b.id == four || b.id == five)
        .map(|b| format!("127.0.0.1:{}", b.port))
        .collect();
    let mut cmd = kafsh(state);
    cmd.args([
        "--bootstrap-server",
        &c.bootstrap_servers(),
        "--zookeeper",
        &zk,
        "--json",
        "run",
        concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/kafka_scale_out.rhai"),
    ])
    .args([
        "--arg",
        &format!("new_brokers={four},{five}"),
        "--arg",
        &format!("new_endpoints={}", endpoints.join(",")),
        "--arg",
        "throttle=20000000",
        "--arg",
        "batch=20",
        "--arg",
        &format!("timeout={timeout}"),
    ]);
    cmd
}

/// so-a and so-b each spread evenly over the five brokers (every topic, not only the
/// cluster totals: so-a's 60 replicas 12 per broker, so-b's 40 8 per broker, and their
/// leaders likewise), preferred leaders leading, and no throttle config left on any broker
/// or topic.
fn assert_balanced_without_throttles(c: &Cluster) {
    let bs_all = c.bootstrap_servers();
    let mut replicas: HashMap<i64, usize> = HashMap::new();
    let mut leaders: HashMap<i64, usize> = HashMap::new();
    for (topic, per_broker, leading) in [("so-a", 12, 6), ("so-b", 8, 4)] {
        let d = kafsh_json(&bs_all, None, &format!(r#"describe_topic("{topic}")"#));
        let mut topic_replicas: HashMap<i64, usize> = HashMap::new();
        let mut topic_leaders: HashMap<i64, usize> = HashMap::new();
        for p in d["partitions"].as_array().expect("partitions") {
            for b in p["replicas"].as_array().expect("replicas") {
                *replicas.entry(b.as_i64().unwrap_or(0)).or_insert(0) += 1;
                *topic_replicas.entry(b.as_i64().unwrap_or(0)).or_insert(0) += 1;
            }
            *leaders
                .entry(p["leader"].as_i64().unwrap_or(0))
                .or_insert(0) += 1;
            *topic_leaders
                .entry(p["leader"].as_i64().unwrap_or(0))
                .or_insert(0) += 1;
            assert_eq!(p["leader"], p["replicas"][0], "{p}");
        }
        assert_eq!(topic_replicas.len(), 5, "{topic}: {topic_replicas:?}");
        assert!(
            topic_replicas.values().all(|n| *n == per_broker),
            "{topic}: {topic_replicas:?}"
        );
        assert!(
            topic_leaders.values().all(|n| *n == leading),
            "{topic}: {topic_leaders:?}"
        );
        common::topics_suite::assert_no_throttle_left(c, topic);
    }
    assert_eq!(replicas.len(), 5, "{replicas:?}");
    assert!(replicas.values().all(|n| *n == 20), "{replicas:?}");
    assert!(leaders.values().all(|n| *n == 10), "{leaders:?}");
}

#[test]
fn rolling_restart_of_brokers_restarts_the_controller_last_and_loses_nothing() {
    use common::crash::{sweep, Pick, Scenario};
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let c = Cluster::start(ClusterSpec::zookeeper()).expect("cluster");
    let bs = c.bootstrap_servers();
    kafsh_json(
        &bs,
        None,
        r#"create_topic("rr", #{partitions: 6, replication_factor: 3, config: #{"min.insync.replicas": 2}})"#,
    );
    let sb = sandbox_bin();
    let dir = c.dir().display().to_string();
    let mut config = format!(
        "current_context = \"t\"\n[contexts.t]\nbootstrap_servers = \"{bs}\"\nzookeeper = \"{}\"\n",
        c.zk_connect().expect("zk")
    );
    for b in c.brokers() {
        config.push_str(&format!(
            "\n[[contexts.t.brokers]]\nid = {id}\nrestart = \"echo {id} >> {dir}/order.log && {sb} restart broker {id} --dir {dir}\"\n",
            id = b.id,
            sb = sb.display()
        ));
    }
    let controller = kafsh_json(&bs, None, "cluster().controller")
        .as_i64()
        .expect("controller");
    let order_log = c.dir().join("order.log");
    let order = || -> Vec<i64> {
        std::fs::read_to_string(&order_log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    };
    let producer = start_producer(&c, "rr", 1_000_000, 50);
    let command = |state: &tempfile::TempDir| {
        std::fs::write(state.path().join("config.toml"), &config).expect("config");
        let mut cmd = kafsh(state);
        cmd.env("KAFSH_CONFIG", state.path().join("config.toml"))
            .args([
                "run",
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/scripts/kafka_rolling_restart.rhai"
                ),
                "--arg",
                "timeout=3m",
            ]);
        cmd
    };
    let reset = || {
        let _ = std::fs::remove_file(&order_log);
    };
    // Each broker restarted exactly once, every replica back in sync, preferred leaders.
    let state = || {
        let mut restarts: std::collections::BTreeMap<i64, usize> = Default::default();
        for id in order() {
            *restarts.entry(id).or_default() += 1;
        }
        serde_json::json!({
            "restarts": restarts,
            "under_replicated": kafsh_json(&bs, None, "under_replicated().len()"),
            "preferred_leaders": kafsh_json(&bs, None,
                r#"describe_topic("rr").partitions.all(|p| p.leader == p.replicas[0])"#),
        })
    };
    let after_reference = || {
        let order = order();
        assert_eq!(order.len(), 3, "{order:?}");
        assert_eq!(
            *order.last().expect("last"),
            controller,
            "the controller goes last: {order:?}"
        );
    };
    let report = sweep(&Scenario {
        name: "kafka_rolling_restart",
        command: &command,
        reset: &reset,
        state: &state,
        sample: &[Pick::Middle],
        after_reference: &after_reference,
    });
    assert_eq!(report.expected["under_replicated"], 0);
    common::load::stop_producer(&producer);
    let acked = acked_values(producer);
    assert!(acked.len() > 100, "{}", acked.len());
    assert_consumed_exactly_once(&c, "rr", &acked);
}

/// The scale-out runbook (shrinking retention while it moves) killed at its mutation
/// boundaries under an acks=all producer: each run after a kill ends with the assignment,
/// leaders, configs (retention restored, no throttle) of an uninterrupted run.
#[test]
fn scale_out_killed_anywhere_ends_where_an_uninterrupted_run_ends() {
    use common::crash::{kafka_state, sweep, Pick, Scenario};
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = Cluster::start(ClusterSpec::zookeeper()).expect("cluster");
    let bs = c.bootstrap_servers();
    kafsh_json(
        &bs,
        None,
        r#"create_topic("so-k", #{assignment: [[1, 2], [2, 3], [3, 1], [1, 3], [2, 1], [3, 2], [1, 2], [2, 3], [3, 1], [1, 3], [2, 1], [3, 2]]})"#,
    );
    common::groups_suite::produce_sized(&c, "so-k", 2000, 1000);
    let original = kafsh_json(&bs, None, r#"plan_json(assignment(["so-k"]))"#)
        .as_str()
        .expect("plan")
        .to_string();
    let four = add_broker(&mut c);
    let five = add_broker(&mut c);
    let producer = start_producer(&c, "so-k", 1_000_000, 50);
    let zk = c.zk_connect().expect("zk");
    let command = |state: &tempfile::TempDir| {
        let mut cmd = kafsh(state);
        cmd.args([
            "--bootstrap-server",
            &bs,
            "--zookeeper",
            &zk,
            "--json",
            "run",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/kafka_scale_out.rhai"),
            "--arg",
            &format!("new_brokers={four},{five}"),
            "--arg",
            "topics=so-k",
            "--arg",
            "throttle=10000000",
            "--arg",
            "batch=4",
            "--arg",
            "timeout=3m",
            "--arg",
            "shrink_retention=600000",
            "--arg",
            "biggest=1",
        ]);
        cmd
    };
    let reset = || {
        kafsh_json(
            &bs,
            None,
            &format!(
                r#"let p = parse_plan({original:?}); reassign(p); wait_reassignment(p, #{{timeout: "3m"}}); true"#
            ),
        );
    };
    let state = || kafka_state(&bs, &["so-k"]);
    let report = sweep(&Scenario {
        name: "kafka_scale_out",
        command: &command,
        reset: &reset,
        state: &state,
        sample: &[Pick::First, Pick::Middle, Pick::Last],
        after_reference: &|| {},
    });
    assert!(
        report
            .mutations
            .iter()
            .any(|m| m.starts_with("alter_config")),
        "retention was shrunk and restored: {:?}",
        report.mutations
    );
    let used: BTreeSet<i64> = report.expected["partitions"][0]
        .as_array()
        .expect("partitions")
        .iter()
        .flat_map(|p| p["replicas"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b.as_i64())
        .collect();
    assert_eq!(
        used.len(),
        5,
        "spread over five brokers: {}",
        report.expected
    );
    assert_eq!(report.expected["topic_configs"], serde_json::json!([[]]));
    common::load::stop_producer(&producer);
    let acked = acked_values(producer);
    assert!(
        acked.len() > 50,
        "the producer kept writing: {}",
        acked.len()
    );
    assert_consumed_exactly_once(&c, "so-k", &acked);
}

/// Decommission on KRaft under an acks=all producer: four brokers, broker 4 drained by
/// the scale-in runbook (only its replicas move, internal topics included), verified
/// empty through DescribeLogDirs, stopped through the inventory and unregistered; every
/// acknowledged message is consumed exactly once, each topic stays spread over brokers
/// 1-3 and no replica list (Kafka's TopicCommand) names broker 4.
#[test]
fn scale_in_drains_stops_and_unregisters_a_broker_losing_nothing_kraft() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = Cluster::start(ClusterSpec::kraft()).expect("cluster");
    let four = add_broker(&mut c);
    let bs = c.bootstrap_servers();
    wait_for_brokers(&bs, 4);
    kafsh_json(
        &bs,
        None,
        r#"create_topic("si-a", #{partitions: 12, replication_factor: 2})"#,
    );
    // Partitions of 0.1 to 1.2 MB (partition p holds p + 1 units), placed so that brokers
    // 1-3 hold 39 units each and broker 4's six replicas (1, 2, 3, 10, 11 and 12 units) can
    // go two to each of them, 13 units apiece, to a broker without the partition: the
    // drained replicas land by disk bytes, and a random placement does not decide whether
    // the tolerance can be met.
    kafsh_json(
        &bs,
        None,
        &format!(
            r#"create_topic("si-b", #{{assignment: [[{four}, 2], [{four}, 1], [{four}, 1], [1, 3], [2, 3], [2, 3], [3, 2], [3, 2], [3, 1], [1, {four}], [1, {four}], [2, {four}]]}})"#
        ),
    );
    common::topics_suite::produce_skewed(&c, "si-b", 12, 100);
    let before = kafsh_json(&bs, None, r#"assignment(["si-a", "si-b"])"#);
    let held_before: usize = before["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .filter(|p| {
            p["replicas"]
                .as_array()
                .is_some_and(|r| r.contains(&four.into()))
        })
        .count();
    assert!(held_before > 0, "broker {four} holds replicas to drain");
    let producer = start_producer(&c, "si-a", 3000, 150);
    let sb = sandbox_bin();
    let dir = c.dir().display().to_string();
    let config = format!(
        "current_context = \"t\"\n[contexts.t]\nbootstrap_servers = \"{bs}\"\n\n[[contexts.t.brokers]]\nid = {four}\nstop = \"{} stop broker {four} --dir {dir}\"\n",
        sb.display()
    );
    let state = tempfile::tempdir().expect("tmp");
    std::fs::write(state.path().join("config.toml"), &config).expect("config");
    let out = kafsh(&state)
        .env("KAFSH_CONFIG", state.path().join("config.toml"))
        .args([
            "--json",
            "run",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/kafka_scale_in.rhai"),
            "--arg",
            &format!("remove={four}"),
            "--arg",
            "throttle=20000000",
            "--arg",
            "batch=10",
            "--arg",
            "timeout=5m",
            "--arg",
            "balance=bytes",
            "--arg",
            "tolerance=0.1",
        ])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    assert!(report["moves"].as_u64().unwrap_or(0) > 0, "{report}");

    let acked = acked_values(producer);
    assert!(
        acked.len() > 300,
        "the producer kept writing: {}",
        acked.len()
    );
    assert_consumed_exactly_once(&c, "si-a", &acked);
    let ids = kafsh_json(&bs, None, "brokers().map(|b| b.id)");
    assert_eq!(ids, serde_json::json!([1, 2, 3]), "broker {four} is gone");
    for (topic, per_broker) in [("si-a", 8), ("si-b", 8)] {
        let described = common::topics_suite::tool_describe(&c, topic);
        let mut counts: HashMap<String, usize> = HashMap::new();
        for line in described.lines().filter(|l| l.contains("Partition:")) {
            let fields = parse_describe_line(line);
            for b in field(&fields, "Replicas").unwrap_or("").split(',') {
                *counts.entry(b.trim().to_string()).or_default() += 1;
            }
        }
        assert!(!counts.contains_key(&four.to_string()), "{described}");
        // By bytes, a topic's replicas per broker stay within two of each other.
        assert!(
            counts.len() == 3 && counts.values().all(|n| n.abs_diff(per_broker) <= 1),
            "{topic}: {counts:?}"
        );
        common::topics_suite::assert_no_throttle_left(&c, topic);
    }
    assert!(
        report["after"]["disk_percent"].as_f64().unwrap_or(100.0) <= 10.0 + 0.01,
        "{report}"
    );
    let topics: Vec<String> = ["si-a", "si-b"].map(String::from).to_vec();
    common::topics_suite::assert_disks_within(&c, &topics, 0.12, &report.to_string());
}

/// Waits until `n` brokers are registered.
fn wait_for_brokers(bs: &str, n: usize) {
    kafsh_json(
        bs,
        None,
        &format!(
            r#"wait_until(|| brokers().len() == {n}, #{{timeout: "2m", interval: "1s", message: "{n} brokers"}}); true"#
        ),
    );
}
