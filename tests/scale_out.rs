//! The broker scale-out runbook on a real ZooKeeper-mode cluster: 3 brokers with 50
//! partitions (RF 2) of data, brokers 4 and 5 added, the runbook run while Kafka's
//! VerifiableProducer writes with acks=all; afterwards every acknowledged message is
//! consumed exactly once, replicas and leaders are balanced over 5 brokers, and no
//! throttle config remains.

mod common;

use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec};
use std::collections::{BTreeSet, HashMap};
use std::process::Stdio;

/// One cluster at a time: two starting at once on 2 cores only slow each other down.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn scale_out_from_three_to_five_brokers_loses_nothing_zookeeper_mode() {
    scale_out(ClusterSpec::zookeeper());
}

#[test]
fn scale_out_from_three_to_five_brokers_loses_nothing_kraft() {
    scale_out(ClusterSpec::kraft());
}

fn scale_out(spec: ClusterSpec) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = Cluster::start(spec).expect("cluster");
    create_topics(&c);
    let producer = start_producer(&c, "so-a", 3000, 150);

    let four = c.add_broker(None).expect("broker 4");
    let five = c.add_broker(None).expect("broker 5");
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
    let four = c.add_broker(None).expect("broker 4");
    let five = c.add_broker(None).expect("broker 5");
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
    c.kill_broker(four).expect("kill broker 4");
    log.extend(lines.map_while(Result::ok));
    let status = run.wait().expect("run ends");
    assert_eq!(status.code(), Some(4), "the batch times out: {log:?}");
    assert!(
        log.iter()
            .any(|l| l.contains("the reassignment goes on, throttles stay")),
        "{log:?}"
    );

    c.start_broker(four).expect("restart broker 4");
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

/// Kafka's VerifiableProducer writing `count` values at `rate`/s with acks=all.
fn start_producer(c: &Cluster, topic: &str, count: u32, rate: u32) -> std::process::Child {
    let args: Vec<String> = [
        "--bootstrap-server",
        &c.bootstrap_servers(),
        "--topic",
        topic,
        "--max-messages",
        &count.to_string(),
        "--throughput",
        &rate.to_string(),
        "--acks",
        "-1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    c.kafka_tool_command("org.apache.kafka.tools.VerifiableProducer", &args)
        .expect("command")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("producer")
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

/// The values the producer had acknowledged when it finished.
fn acked_values(producer: std::process::Child) -> BTreeSet<String> {
    let produced = producer.wait_with_output().expect("producer output");
    String::from_utf8_lossy(&produced.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["name"] == "producer_send_success")
        .filter_map(|v| v["value"].as_str().map(String::from))
        .collect()
}

/// Every acknowledged value of `topic` is there, and none twice.
fn assert_consumed_exactly_once(c: &Cluster, topic: &str, acked: &BTreeSet<String>) {
    let consumed = c
        .kafka_tool(
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            &[
                "--bootstrap-server",
                &c.bootstrap_servers(),
                "--topic",
                topic,
                "--from-beginning",
                "--timeout-ms",
                "15000",
            ],
        )
        .expect("consumer");
    let values: Vec<String> = String::from_utf8_lossy(&consumed.stdout)
        .lines()
        .map(String::from)
        .collect();
    let unique: BTreeSet<String> = values.iter().cloned().collect();
    assert_eq!(unique.len(), values.len(), "a message was consumed twice");
    let lost: Vec<&String> = acked.difference(&unique).take(5).collect();
    assert!(
        lost.is_empty(),
        "acknowledged messages lost: {lost:?} of {}",
        acked.len()
    );
}

/// so-a and so-b spread evenly over five brokers, preferred leaders leading, and no
/// throttle config left on any broker or topic.
fn assert_balanced_without_throttles(c: &Cluster) {
    let bs_all = c.bootstrap_servers();
    let mut replicas: HashMap<i64, usize> = HashMap::new();
    let mut leaders: HashMap<i64, usize> = HashMap::new();
    for topic in ["so-a", "so-b"] {
        let d = kafsh_json(&bs_all, None, &format!(r#"describe_topic("{topic}")"#));
        for p in d["partitions"].as_array().expect("partitions") {
            for b in p["replicas"].as_array().expect("replicas") {
                *replicas.entry(b.as_i64().unwrap_or(0)).or_insert(0) += 1;
            }
            *leaders
                .entry(p["leader"].as_i64().unwrap_or(0))
                .or_insert(0) += 1;
            assert_eq!(p["leader"], p["replicas"][0], "{p}");
        }
        common::topics_suite::assert_no_throttle_left(c, topic);
    }
    assert_eq!(replicas.len(), 5, "{replicas:?}");
    assert!(replicas.values().all(|n| *n == 20), "{replicas:?}");
    assert!(leaders.values().all(|n| *n == 10), "{leaders:?}");
}

#[test]
fn rolling_restart_of_brokers_restarts_the_controller_last_and_loses_nothing() {
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
    let state = tempfile::tempdir().expect("tmp");
    let mut text = format!(
        "current_context = \"t\"\n[contexts.t]\nbootstrap_servers = \"{bs}\"\nzookeeper = \"{}\"\n",
        c.zk_connect().expect("zk")
    );
    for b in c.brokers() {
        text.push_str(&format!(
            "\n[[contexts.t.brokers]]\nid = {id}\nrestart = \"echo {id} >> {dir}/order.log && {sb} restart broker {id} --dir {dir}\"\n",
            id = b.id,
            sb = sb.display()
        ));
    }
    std::fs::write(state.path().join("config.toml"), text).expect("config");
    let controller = kafsh_json(&bs, None, "cluster().controller")
        .as_i64()
        .expect("controller");

    let args: Vec<String> = [
        "--bootstrap-server",
        &bs,
        "--topic",
        "rr",
        "--max-messages",
        "2500",
        "--throughput",
        "100",
        "--acks",
        "-1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let producer = c
        .kafka_tool_command("org.apache.kafka.tools.VerifiableProducer", &args)
        .expect("command")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("producer");
    let out = kafsh(&state)
        .env("KAFSH_CONFIG", state.path().join("config.toml"))
        .args([
            "run",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scripts/kafka_rolling_restart.rhai"
            ),
            "--arg",
            "timeout=3m",
        ])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let order: Vec<i64> = std::fs::read_to_string(c.dir().join("order.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert_eq!(order.len(), 3, "{order:?}");
    assert_eq!(
        *order.last().expect("last"),
        controller,
        "the controller goes last: {order:?}"
    );
    assert_eq!(
        kafsh_json(&bs, None, "under_replicated()"),
        serde_json::json!([])
    );

    let produced = producer.wait_with_output().expect("producer output");
    let acked: BTreeSet<String> = String::from_utf8_lossy(&produced.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["name"] == "producer_send_success")
        .filter_map(|v| v["value"].as_str().map(String::from))
        .collect();
    let consumed = c
        .kafka_tool(
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            &[
                "--bootstrap-server",
                &bs,
                "--topic",
                "rr",
                "--from-beginning",
                "--timeout-ms",
                "15000",
            ],
        )
        .expect("consumer");
    let values: BTreeSet<String> = String::from_utf8_lossy(&consumed.stdout)
        .lines()
        .map(String::from)
        .collect();
    let lost: Vec<&String> = acked.difference(&values).take(5).collect();
    assert!(acked.len() > 100, "{}", acked.len());
    assert!(lost.is_empty(), "acknowledged messages lost: {lost:?}");
}
