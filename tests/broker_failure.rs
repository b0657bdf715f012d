//! describe_topic after a broker is killed — the leader moves, the ISR shrinks, offline
//! replicas appear — compared with Kafka's TopicCommand on the same cluster, on both kinds;
//! then preferred leader election, refused while the broker is dead and done once it is back.
//! Each test starts its own cluster, since it breaks it.

mod common;

use common::topics_suite::tool_describe;
use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, Node};
use std::time::{Duration, Instant};

/// One cluster at a time: two starting at once on 2 cores only slow each other down.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn describe_after_kill(spec: ClusterSpec) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = Cluster::start(spec).expect("start cluster");
    let bs = c.bootstrap_servers();
    kafsh_json(
        &bs,
        None,
        r#"create_topic("victim", #{partitions: 6, replication_factor: 3})"#,
    );
    let before = kafsh_json(&bs, None, r#"describe_topic("victim")"#);
    assert_describe_matches(&before, &tool_describe(&c, "victim"));
    let doomed = before["partitions"][0]["leader"].as_i64().expect("leader") as i32;
    c.kill(Node::Broker(doomed)).expect("kill broker");
    let live: Vec<String> = c
        .brokers()
        .iter()
        .filter(|b| b.id != doomed)
        .map(|b| format!("127.0.0.1:{}", b.port))
        .collect();
    let bs = live.join(",");

    // Wait until the cluster has noticed: no partition led by or in sync on the dead broker.
    let deadline = Instant::now() + Duration::from_secs(90);
    let after = loop {
        let d = kafsh_json(&bs, None, r#"describe_topic("victim")"#);
        let settled = d["partitions"]
            .as_array()
            .expect("partitions")
            .iter()
            .all(|p| {
                p["leader"].as_i64() != Some(i64::from(doomed))
                    && !p["isr"]
                        .as_array()
                        .expect("isr")
                        .iter()
                        .any(|b| b.as_i64() == Some(i64::from(doomed)))
            });
        if settled {
            break d;
        }
        assert!(
            Instant::now() < deadline,
            "the cluster never noticed broker {doomed} died: {d}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    for p in after["partitions"].as_array().expect("partitions") {
        assert_eq!(
            p["isr"].as_array().map(Vec::len),
            Some(2),
            "ISR shrank: {p}"
        );
        assert_eq!(
            joined(&p["offline_replicas"]),
            doomed.to_string(),
            "offline replica: {p}"
        );
    }
    // Kafka's tool, asked through a live broker, sees the same.
    let tool = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.TopicCommand",
            &["--bootstrap-server", &bs, "--describe", "--topic", "victim"],
        ),
        "TopicCommand --describe",
    );
    assert_describe_matches(&after, &tool);
    let urp = kafsh_json(&bs, None, "under_replicated()");
    assert!(
        urp.as_array()
            .expect("array")
            .iter()
            .filter(|p| p["topic"] == "victim")
            .count()
            == 6,
        "{urp}"
    );
    let summary = kafsh_json(&bs, None, "cluster()");
    assert!(
        summary["under_replicated"].as_u64().unwrap_or(0) >= 6,
        "{summary}"
    );

    // Preferred leader election cannot bring leadership back to a dead broker: it retries
    // until its timeout, then names what it could not elect.
    let out = kafsh_eval(
        &bs,
        None,
        r#"elect_leaders(#{topics: ["victim"], timeout: "3s"})"#,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("not led by their preferred replica") && err.contains("victim-"),
        "{err}"
    );
    // Once the broker is back, the same call waits for it to be in sync and elects.
    c.start_node(Node::Broker(doomed)).expect("restart broker");
    let elected = kafsh_json(
        &bs,
        None,
        r#"elect_leaders(#{topics: ["victim"], timeout: "2m"})"#,
    );
    assert!(!elected.as_array().expect("array").is_empty(), "{elected}");
    let after = kafsh_json(&bs, None, r#"describe_topic("victim")"#);
    for p in after["partitions"].as_array().expect("partitions") {
        assert_eq!(p["leader"], p["replicas"][0], "preferred leader: {p}");
    }
}

#[test]
fn describe_after_a_broker_dies_zookeeper_mode() {
    describe_after_kill(ClusterSpec::zookeeper());
}

#[test]
fn describe_after_a_broker_dies_kraft() {
    describe_after_kill(ClusterSpec::kraft());
}

/// produce() (idempotent, acks=all) keeps writing while the partition's leader is killed:
/// every acknowledged record is in the log exactly once, and no record is there twice.
#[test]
fn produce_survives_a_leader_kill_without_loss_or_duplicates() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = Cluster::start(ClusterSpec::kraft()).expect("start cluster");
    let bs = c.bootstrap_servers();
    kafsh_json(
        &bs,
        None,
        r#"create_topic("idem", #{partitions: 1, replication_factor: 3, config: #{"min.insync.replicas": 2}})"#,
    );
    let leader = kafsh_json(&bs, None, r#"describe_topic("idem").partitions[0].leader"#)
        .as_i64()
        .expect("leader") as i32;
    // 400 batches of 500 records, numbered; each batch's number is printed once
    // acknowledged. The leader is killed once a few batches are in.
    let state = tempfile::tempdir().expect("tmp");
    let mut producer = kafsh(&state)
        .args([
            "--bootstrap-server",
            &bs,
            "-e",
            r#"for b in 0..400 {
                   let batch = [];
                   for i in 0..500 { batch.push(`${b * 500 + i}`); }
                   produce("idem", batch);
                   print(b);
               }"#,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kafsh");
    let stdout = producer.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<i64>();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Ok(b) = line.trim().parse() {
                let _ = tx.send(b);
            }
        }
    });
    let mut acked = Vec::new();
    while acked.len() < 5 {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(b) => acked.push(b),
            Err(e) => panic!("the producer did not start: {e}"),
        }
    }
    c.kill(Node::Broker(leader)).expect("kill the leader");
    let deadline = Instant::now() + Duration::from_secs(240);
    while producer.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = producer.kill();
            panic!("the producer did not finish");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    reader.join().expect("reader");
    acked.extend(rx.try_iter());
    let out = producer.wait_with_output().expect("output");
    // Every call succeeded: librdkafka waited for the new leader within the call timeout.
    assert!(
        out.status.success() && acked == (0..400).collect::<Vec<i64>>(),
        "batches acknowledged: {acked:?}; {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live: Vec<String> = c
        .brokers()
        .iter()
        .filter(|b| b.id != leader)
        .map(|b| format!("127.0.0.1:{}", b.port))
        .collect();
    let live = live.join(",");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let now = kafsh_json(
            &live,
            None,
            r#"describe_topic("idem").partitions[0].leader"#,
        );
        if now.as_i64().is_some_and(|l| l != i64::from(leader)) {
            break;
        }
        assert!(Instant::now() < deadline, "no new leader: {now}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let values = kafsh_json(
        &live,
        None,
        r#"consume("idem", #{limit: 0, timeout: 60}).map(|r| parse_int(r.value))"#,
    );
    let values: Vec<i64> = values
        .as_array()
        .expect("values")
        .iter()
        .map(|v| v.as_i64().expect("int"))
        .collect();
    let mut unique = values.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), values.len(), "duplicates in the log");
    for b in &acked {
        for i in 0..500 {
            assert!(
                unique.binary_search(&(b * 500 + i)).is_ok(),
                "acknowledged record {} lost",
                b * 500 + i
            );
        }
    }
    // Records of one partition keep the order they were produced in.
    assert!(values.windows(2).all(|w| w[0] < w[1]), "reordered");
    c.teardown();
}
