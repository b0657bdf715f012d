//! The consumer-group checks, run on both cluster kinds with real consumers (Kafka's own
//! console consumer) and compared with Kafka's ConsumerGroupCommand at the same moment, on
//! quiesced topics so the numbers cannot drift.

use super::*;
use kafsh_sandbox::Cluster;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const GROUP_COMMAND: &str = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
const CONSOLE_CONSUMER: &str = "org.apache.kafka.tools.consumer.ConsoleConsumer";

/// Produces `n` records of 10 bytes to `topic`, spread over all its partitions.
///
/// Unkeyed records stick to one partition per batch, so 100 small records may all land in
/// one; batches of a few records each make the partitioner move on many times, and every
/// partition gets some (a group that read them then has an offset everywhere).
pub fn produce(c: &Cluster, topic: &str, n: u32) {
    producer_performance(c, topic, n, 10, &["batch.size=100"]);
}

/// Writes `n` records of `size` bytes (uncompressed, acks=all) with Kafka's ProducerPerformance.
pub fn produce_sized(c: &Cluster, topic: &str, n: u32, size: u32) {
    producer_performance(c, topic, n, size, &[]);
}

fn producer_performance(c: &Cluster, topic: &str, n: u32, size: u32, extra_props: &[&str]) {
    let bootstrap = format!("bootstrap.servers={}", c.bootstrap_servers());
    let n = n.to_string();
    let size = size.to_string();
    let mut args = vec![
        "--topic",
        topic,
        "--num-records",
        &n,
        "--record-size",
        &size,
        "--throughput",
        "-1",
        "--producer-props",
        &bootstrap,
        "acks=all",
        "compression.type=none",
    ];
    args.extend_from_slice(extra_props);
    tool_stdout(
        c.kafka_tool("org.apache.kafka.tools.ProducerPerformance", &args),
        "ProducerPerformance",
    );
}

/// Consumes up to `max` messages in `group` and exits (committing); returns how many it read.
pub fn consume(c: &Cluster, topic: &str, group: &str, max: u32) -> usize {
    let bs = c.bootstrap_servers();
    let max = max.to_string();
    let out = c
        .kafka_tool(
            CONSOLE_CONSUMER,
            &[
                "--bootstrap-server",
                &bs,
                "--topic",
                topic,
                "--group",
                group,
                "--from-beginning",
                "--max-messages",
                &max,
                "--timeout-ms",
                "8000",
            ],
        )
        .expect("console consumer");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// A console consumer running in the background until killed.
pub fn start_consumer(c: &Cluster, topic: &str, group: &str, auto_commit: bool) -> Child {
    let args: Vec<String> = [
        "--bootstrap-server",
        &c.bootstrap_servers(),
        "--topic",
        topic,
        "--group",
        group,
        "--consumer-property",
        &format!("enable.auto.commit={auto_commit}"),
        "--consumer-property",
        "client.id=kafsh-test-client",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    c.kafka_tool_command(CONSOLE_CONSUMER, &args)
        .expect("command")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn consumer")
}

/// ConsumerGroupCommand --describe rows: (topic, partition) → columns.
pub fn tool_rows(c: &Cluster, group: &str) -> (String, Vec<Vec<String>>) {
    let bs = c.bootstrap_servers();
    let out = c
        .kafka_tool(
            GROUP_COMMAND,
            &["--bootstrap-server", &bs, "--describe", "--group", group],
        )
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout).into_owned()
        + String::from_utf8_lossy(&out.stderr).as_ref();
    let mut rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| l.starts_with(group) && l.split_whitespace().count() == 9)
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    rows.sort_by_key(|r| (r[1].clone(), r[2].parse::<i32>().unwrap_or(-1)));
    (text, rows)
}

fn dash(v: &serde_json::Value) -> String {
    if v.is_null() {
        "-".into()
    } else {
        v.as_str()
            .map(String::from)
            .unwrap_or_else(|| v.to_string())
    }
}

/// kafsh's describe_group rows in the tool's column order.
pub fn kafsh_rows(bs: &str, group: &str) -> (serde_json::Value, Vec<Vec<String>>) {
    let g = kafsh_json(bs, None, &format!(r#"describe_group("{group}")"#));
    let rows = g["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .map(|r| {
            vec![
                group.to_string(),
                dash(&r["topic"]),
                dash(&r["partition"]),
                dash(&r["current_offset"]),
                dash(&r["log_end_offset"]),
                dash(&r["lag"]),
                dash(&r["consumer_id"]),
                dash(&r["host"]),
                dash(&r["client_id"]),
            ]
        })
        .collect();
    (g, rows)
}

fn wait_for_state(bs: &str, group: &str, state: &str, members: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = kafsh_eval(bs, None, &format!(r#"describe_group("{group}")"#));
        if out.status.success() {
            let g: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            let assigned = g["members"].as_array().map(|m| {
                m.iter()
                    .filter(|x| x["assignment"].as_object().is_some_and(|a| !a.is_empty()))
                    .count()
            });
            if g["state"] == state && assigned == Some(members) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "group {group} never reached {state} with {members} members"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Empty, active and uncommitted groups, and a topic that grew after the commit: kafsh's
/// rows equal ConsumerGroupCommand's, field by field.
pub fn describe_matches_consumer_group_command(c: &Cluster, prefix: &str) {
    let bs = c.bootstrap_servers();
    let topic = format!("{prefix}-orders");
    kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{topic}", #{{partitions: 3, replication_factor: 2}})"#),
    );
    produce(c, &topic, 300);

    // An empty group with committed offsets.
    let empty = format!("{prefix}-empty");
    assert_eq!(consume(c, &topic, &empty, 120), 120);
    let (g, ours) = kafsh_rows(&bs, &empty);
    let (text, theirs) = tool_rows(c, &empty);
    assert_eq!(ours, theirs, "{text}");
    assert!(
        text.contains(&format!("Consumer group '{empty}' has no active members.")),
        "{text}"
    );
    assert_eq!(
        g["note"],
        format!("Consumer group '{empty}' has no active members.")
    );
    let lag: i64 = ours.iter().map(|r| r[5].parse::<i64>().unwrap_or(0)).sum();
    assert_eq!(g["total_lag"].as_i64(), Some(lag));
    // A consumer on the classic protocol, on either kind of cluster (brokers before
    // ListGroups v5 have only classic groups).
    assert_eq!(g["type"], "Classic");
    let listed = kafsh_json(&bs, None, "list_groups()");
    let row = listed
        .as_array()
        .expect("array")
        .iter()
        .find(|l| l["group"] == empty.as_str())
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(
        (&row["type"], &row["state"], &row["protocol_type"]),
        (&"Classic".into(), &"Empty".into(), &"consumer".into())
    );
    // The console consumer commits its position after its last poll, which may hold more
    // than the 120 records it printed: the lag is what is left after the commit.
    let committed: i64 = ours.iter().map(|r| r[3].parse::<i64>().unwrap_or(0)).sum();
    assert!(committed >= 120, "{ours:?}");
    assert_eq!(lag, 300 - committed);

    // The topic grows after the commit: both tools still show the committed partitions only.
    kafsh_json(&bs, None, &format!(r#"add_partitions("{topic}", 4)"#));
    let (_, ours) = kafsh_rows(&bs, &empty);
    let (text, theirs) = tool_rows(c, &empty);
    assert_eq!(ours, theirs, "{text}");

    // An active group that never commits: every partition is assigned, none has an offset,
    // so CURRENT-OFFSET and LAG are unknown, not zero.
    let active = format!("{prefix}-active");
    let mut consumer = start_consumer(c, &topic, &active, false);
    wait_for_state(&bs, &active, "Stable", 1);
    let (g, ours) = kafsh_rows(&bs, &active);
    let (text, theirs) = tool_rows(c, &active);
    let _ = consumer.kill();
    let _ = consumer.wait();
    assert_eq!(ours, theirs, "{text}");
    assert_eq!(ours.len(), 4, "all four partitions are assigned: {g}");
    assert!(ours.iter().all(|r| r[3] == "-" && r[5] == "-"), "{ours:?}");
    assert!(ours.iter().all(|r| r[8] == "kafsh-test-client"), "{ours:?}");
    assert_eq!(g["state"], "Stable");

    // lag() over many groups agrees with describe_group.
    let all = kafsh_json(&bs, None, &format!(r#"lag(#{{groups: ["{empty}"]}})"#));
    assert_eq!(all[0]["total_lag"].as_i64(), Some(lag));
}

/// Resets: the plan, the refusal while members are active, execution, and consuming again
/// sees exactly the expected messages; bad input changes nothing.
pub fn reset_and_delete(c: &Cluster, prefix: &str) {
    let bs = c.bootstrap_servers();
    let topic = format!("{prefix}-reset");
    kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{topic}", #{{partitions: 2, replication_factor: 1}})"#),
    );
    produce(c, &topic, 100);
    let group = format!("{prefix}-resetter");
    assert_eq!(consume(c, &topic, &group, 100), 100);
    let committed =
        |g: &str| -> Vec<String> { kafsh_rows(&bs, g).1.iter().map(|r| r[3].clone()).collect() };
    let before = committed(&group);
    assert!(
        before.len() == 2 && before.iter().all(|o| o != "-"),
        "the group read both partitions: {before:?}"
    );

    // Bad input: clear errors, nothing committed.
    for (expr, message) in [
        (
            format!(
                r#"reset_offsets("{group}", #{{topic: "no-such-topic", to: "earliest", execute: true}})"#
            ),
            "topic \"no-such-topic\" does not exist",
        ),
        (
            format!(
                r#"reset_offsets("{group}", #{{topic: "{topic}", to: "last tuesday", execute: true}})"#
            ),
            "RFC 3339",
        ),
        (
            format!(r#"reset_offsets("{group}", #{{topic: "{topic}", execute: true}})"#),
            "say where to",
        ),
        (
            r#"describe_group("no-such-group")"#.to_string(),
            "consumer group \"no-such-group\" does not exist",
        ),
    ] {
        let out = kafsh_eval(&bs, None, &expr);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{expr}: {err}");
        assert!(err.contains(message), "{expr}: {err}");
    }
    assert_eq!(committed(&group), before);

    // The plan alone commits nothing; an out-of-range offset is clamped and said so.
    let plan = kafsh_json(
        &bs,
        None,
        &format!(r#"reset_offsets("{group}", #{{topic: "{topic}", to: 1000000}})"#),
    );
    assert_eq!(plan["executed"], false);
    assert!(
        plan["partitions"][0]["note"]
            .as_str()
            .unwrap_or("")
            .contains("clamped"),
        "{plan}"
    );
    assert_eq!(committed(&group), before);

    // Refused while a member is active, naming it.
    let mut consumer = start_consumer(c, &topic, &group, false);
    wait_for_state(&bs, &group, "Stable", 1);
    let out = kafsh_eval(
        &bs,
        None,
        &format!(
            r#"reset_offsets("{group}", #{{topic: "{topic}", to: "earliest", execute: true}})"#
        ),
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let _ = consumer.kill();
    let _ = consumer.wait();
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("active member") && err.contains("kafsh-test-client"),
        "{err}"
    );
    let out = kafsh_eval(&bs, None, &format!(r#"delete_group("{group}")"#));
    assert_ne!(
        out.status.code(),
        Some(0),
        "delete refused while members are active"
    );
    wait_for_state(&bs, &group, "Empty", 0);

    // Shift back by 10 on every partition, execute, and consume exactly those 20 again.
    let done = kafsh_json(
        &bs,
        None,
        &format!(
            r#"reset_offsets("{group}", #{{topic: "{topic}", to: #{{shift: -10}}, execute: true}})"#
        ),
    );
    assert_eq!(done["executed"], true, "{done}");
    let (text, theirs) = tool_rows(c, &group);
    for (row, planned) in theirs
        .iter()
        .zip(done["partitions"].as_array().expect("rows"))
    {
        assert_eq!(row[3], planned["new_offset"].to_string(), "{text}");
    }
    // Shifts below the log start are clamped, so count what the plan rewound.
    let rewound: i64 = done["partitions"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["old_offset"].as_i64().unwrap_or(0) - r["new_offset"].as_i64().unwrap_or(0))
        .sum();
    assert!(rewound >= 10, "{done}");
    assert_eq!(
        consume(c, &topic, &group, 1000) as i64,
        rewound,
        "exactly the rewound messages"
    );

    // To earliest with --yes on the command line.
    let state = tempfile::tempdir().expect("tmp");
    let out = kafsh(&state)
        .args([
            "--yes",
            "--json",
            "--bootstrap-server",
            &bs,
            "-e",
            &format!(r#"reset_offsets("{group}", #{{topic: "{topic}", to: "earliest"}})"#),
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(consume(c, &topic, &group, 1000), 100, "all 100 again");

    // By time: before every message is the log start; after the last is the log end.
    let plan = kafsh_json(
        &bs,
        None,
        &format!(r#"reset_offsets("{group}", #{{topic: "{topic}", to: "2000-01-01T00:00:00Z"}})"#),
    );
    assert!(
        plan["partitions"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r["new_offset"] == 0),
        "{plan}"
    );
    let plan = kafsh_json(
        &bs,
        None,
        &format!(
            r#"reset_offsets("{group}", #{{topic: "{topic}", to: "2100-01-01T00:00:00+09:00"}})"#
        ),
    );
    for r in plan["partitions"].as_array().expect("rows") {
        assert_eq!(
            r["new_offset"], r["old_offset"],
            "already at the end: {plan}"
        );
        assert!(
            r["note"]
                .as_str()
                .unwrap_or("")
                .contains("no message at or after that time"),
            "{plan}"
        );
    }

    // Delete the (empty) group.
    let deleted = kafsh_json(&bs, None, &format!(r#"delete_group("{group}")"#));
    assert_eq!(deleted["deleted"], true);
    let out = kafsh_eval(&bs, None, &format!(r#"describe_group("{group}")"#));
    assert_eq!(out.status.code(), Some(1));
}

/// Old consumers' groups whose offsets live in ZooKeeper (written here with ZooKeeper's
/// own CLI): listed and described with lag against the log-end offsets GetOffsetShell reports.
pub fn legacy_zookeeper_groups(c: &Cluster, prefix: &str) {
    let bs = c.bootstrap_servers();
    let zk = c.zk_connect().expect("ZooKeeper-mode cluster");
    let topic = format!("{prefix}-old");
    kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{topic}", #{{partitions: 2, replication_factor: 1}})"#),
    );
    produce(c, &topic, 50);
    let chroot = c.chroot().unwrap_or_default();
    let group = format!("{prefix}-old-group");
    let base = format!("{chroot}/consumers/{group}/offsets/{topic}");
    for (path, data) in [
        (format!("{chroot}/consumers"), ""),
        (format!("{chroot}/consumers/{group}"), ""),
        (format!("{chroot}/consumers/{group}/offsets"), ""),
        (base.clone(), ""),
        (format!("{base}/0"), "3"),
    ] {
        let _ = c.zk_cli(&["create", &path, data]);
    }
    let listed = kafsh_json(&bs, Some(&zk), "list_groups(#{zookeeper: true})");
    assert!(
        listed
            .as_array()
            .expect("array")
            .iter()
            .any(|g| g["group"] == group.as_str()),
        "{listed}"
    );
    let g = kafsh_json(
        &bs,
        Some(&zk),
        &format!(r#"describe_group("{group}", #{{zookeeper: true}})"#),
    );
    let rows = g["partitions"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "only the committed partition: {g}");
    let tool = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.GetOffsetShell",
            &["--bootstrap-server", &bs, "--topic", &topic],
        ),
        "GetOffsetShell",
    );
    let end: i64 = tool
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{topic}:0:")))
        .and_then(|v| v.trim().parse().ok())
        .expect("log end of partition 0");
    assert_eq!(rows[0]["log_end_offset"].as_i64(), Some(end));
    assert_eq!(rows[0]["current_offset"], 3);
    assert_eq!(rows[0]["lag"].as_i64(), Some(end - 3));
    assert_eq!(g["total_lag"].as_i64(), Some(end - 3));
    let out = kafsh_eval(
        &bs,
        Some(&zk),
        r#"describe_group("no-such-old-group", #{zookeeper: true})"#,
    );
    assert_eq!(out.status.code(), Some(1));
}

/// The cron lag check: a non-zero exit naming the groups over their threshold, and a
/// Prometheus text file.
pub fn lag_check_runbook(c: &Cluster, prefix: &str) {
    let bs = c.bootstrap_servers();
    let topic = format!("{prefix}-lagging");
    kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{topic}", #{{partitions: 1, replication_factor: 1}})"#),
    );
    produce(c, &topic, 100);
    let group = format!("{prefix}-slow");
    assert_eq!(consume(c, &topic, &group, 40), 40);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/lag_check.rhai");
    let state = tempfile::tempdir().expect("tmp");
    let prom = state.path().join("lag.prom");
    let prom_arg = format!("prometheus={}", prom.display());
    let groups_arg = format!("groups={group}");
    let out = kafsh(&state)
        .args([
            "--bootstrap-server",
            &bs,
            "run",
            script,
            "--arg",
            "max_lag=10",
            "--arg",
            &groups_arg,
            "--arg",
            &prom_arg,
        ])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("over threshold: {group} (lag 60 > 10)")),
        "{err}"
    );
    let text = std::fs::read_to_string(&prom).expect("prometheus file");
    assert!(
        text.contains(&format!("kafka_consumergroup_lag{{group=\"{group}\"}} 60")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "kafka_consumergroup_lag_over_threshold{{group=\"{group}\"}} 1"
        )),
        "{text}"
    );
    let thresholds = format!("thresholds={group}:100");
    let out = kafsh(&state)
        .args([
            "--json",
            "--bootstrap-server",
            &bs,
            "run",
            script,
            "--arg",
            "max_lag=10",
            "--arg",
            &groups_arg,
            "--arg",
            &thresholds,
        ])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json[0]["total_lag"], 60);
    assert_eq!(json[0]["status"], "ok");
}

/// A group caught mid-rebalance (one member frozen with SIGSTOP while another joins): both
/// tools see the same rows, and kafsh says it is rebalancing.
pub fn rebalancing_group_matches(c: &Cluster, prefix: &str) {
    let bs = c.bootstrap_servers();
    let topic = format!("{prefix}-rebal");
    kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{topic}", #{{partitions: 2, replication_factor: 1}})"#),
    );
    produce(c, &topic, 50);
    let group = format!("{prefix}-rebalancing");
    let mut first = start_consumer(c, &topic, &group, true);
    wait_for_state(&bs, &group, "Stable", 1);
    std::thread::sleep(Duration::from_secs(6)); // an auto-commit
    let pid = first.id().to_string();
    std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .expect("SIGSTOP");
    let mut second = start_consumer(c, &topic, &group, true);
    let deadline = Instant::now() + Duration::from_secs(30);
    let result = loop {
        let (g, ours) = kafsh_rows(&bs, &group);
        if g["state"].as_str().unwrap_or("").contains("Rebalance") {
            let (text, theirs) = tool_rows(c, &group);
            let (g2, ours2) = kafsh_rows(&bs, &group);
            if g2["state"] == g["state"] && ours2 == ours {
                break Some((g2, ours2, text, theirs));
            }
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    std::process::Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .expect("SIGCONT");
    let _ = first.kill();
    let _ = second.kill();
    let _ = first.wait();
    let _ = second.wait();
    let (g, ours, text, theirs) = result.expect("the group never showed as rebalancing");
    assert_eq!(ours, theirs, "{text}");
    assert!(text.contains("is rebalancing"), "{text}");
    assert_eq!(
        g["note"],
        format!("Consumer group '{group}' is rebalancing.")
    );
}
