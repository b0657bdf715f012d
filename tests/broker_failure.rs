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
