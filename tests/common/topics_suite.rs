//! The topics-and-configs checks, run on both cluster kinds against Kafka's own
//! TopicCommand and ConfigCommand on the same cluster.

use super::*;
use kafsh_sandbox::Cluster;

/// Replication throttle rates are broker configs, shared by every reassignment on the
/// cluster: a 1 B/s rate set by one test holds back another test's moves, and "no throttle
/// left" cannot hold while another test throttles. Tests of one binary (one shared cluster)
/// that reassign take turns.
pub fn reassignment_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs kafsh with `--dry-run` when asked.
pub fn kafsh_dry(bootstrap: &str, expr: &str) -> std::process::Output {
    let state = tempfile::tempdir().expect("temp dir");
    let mut cmd = kafsh(&state);
    cmd.args([
        "--json",
        "--dry-run",
        "--bootstrap-server",
        bootstrap,
        "-e",
        expr,
    ]);
    cmd.output().expect("run kafsh")
}

/// TopicCommand --describe of one topic.
pub fn tool_describe(c: &Cluster, topic: &str) -> String {
    let bs = c.bootstrap_servers();
    tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.TopicCommand",
            &["--bootstrap-server", &bs, "--describe", "--topic", topic],
        ),
        "TopicCommand --describe",
    )
}

/// ConfigCommand --describe of a topic's dynamic configs, as `key=value` pairs.
pub fn tool_topic_configs(c: &Cluster, topic: &str) -> Vec<String> {
    tool_configs(c, "topics", topic)
}

/// ConfigCommand --describe (without --all) of an entity, as sorted `key=value` pairs.
pub fn tool_configs(c: &Cluster, entity_type: &str, name: &str) -> Vec<String> {
    let bs = c.bootstrap_servers();
    let args = [
        "--bootstrap-server",
        bs.as_str(),
        "--entity-type",
        entity_type,
        "--entity-name",
        name,
        "--describe",
    ];
    let out = c.kafka_tool(c.config_command(), &args);
    let text = tool_stdout(out, "ConfigCommand --describe");
    let mut pairs: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect();
    pairs.sort();
    pairs
}

/// The configs kafsh's describe_config reports by default (what is set on the topic), as
/// sorted `key=value` pairs: what ConfigCommand --describe lists.
pub fn kafsh_topic_configs(bs: &str, topic: &str) -> Vec<String> {
    kafsh_configs(bs, "topic", topic)
}

/// describe_config(entity, name) as sorted `key=value` pairs.
pub fn kafsh_configs(bs: &str, entity: &str, name: &str) -> Vec<String> {
    let all = kafsh_json(
        bs,
        None,
        &format!("describe_config(\"{entity}\", \"{name}\")"),
    );
    let mut pairs: Vec<String> = all
        .as_array()
        .expect("array")
        .iter()
        .map(|c| {
            format!(
                "{}={}",
                c["name"].as_str().unwrap_or(""),
                c["value"].as_str().unwrap_or("")
            )
        })
        .collect();
    pairs.sort();
    pairs
}

/// Create, describe, add partitions and change configs with kafsh; after each step the
/// answer matches TopicCommand / ConfigCommand field by field.
pub fn lifecycle_matches_kafka_tools(c: &Cluster, topic: &str) {
    let bs = c.bootstrap_servers();
    let created = kafsh_json(
        &bs,
        None,
        &format!(
            r#"create_topic("{topic}", #{{partitions: 2, replication_factor: 2, config: #{{"retention.ms": 3600000}}}})"#
        ),
    );
    assert_eq!(created["created"], true, "{created}");
    let ours = kafsh_json(&bs, None, &format!(r#"describe_topic("{topic}")"#));
    assert_describe_matches(&ours, &tool_describe(c, topic));
    assert_eq!(ours["configs"]["retention.ms"], "3600000");

    // A group that has read the topic is named next to the new partition count.
    let props = format!("bootstrap.servers={bs}");
    tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.ProducerPerformance",
            &[
                "--topic",
                topic,
                "--num-records",
                "100",
                "--record-size",
                "10",
                "--throughput",
                "-1",
                "--producer-props",
                &props,
            ],
        ),
        "ProducerPerformance",
    );
    let group = format!("{topic}-readers");
    tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            &[
                "--bootstrap-server",
                &bs,
                "--topic",
                topic,
                "--group",
                &group,
                "--from-beginning",
                "--max-messages",
                "100",
                "--timeout-ms",
                "30000",
            ],
        ),
        "ConsoleConsumer",
    );
    let added = kafsh_json(&bs, None, &format!(r#"add_partitions("{topic}", 4)"#));
    let readers = added["consumer_groups"]
        .as_array()
        .expect("consumer_groups");
    let reader = readers
        .iter()
        .find(|g| g["group"] == group.as_str())
        .unwrap_or_else(|| panic!("{group} missing: {added}"));
    assert!(
        reader["committed_partitions"].as_u64().unwrap_or(0) >= 1,
        "{reader}"
    );
    assert_eq!(reader["members"], 0, "{reader}");
    assert_eq!(added["old_partitions"], 2);
    assert_eq!(added["new_partitions"], 4);
    assert!(
        added["warning"].as_str().unwrap_or("").contains("order"),
        "{added}"
    );
    let ours = kafsh_json(&bs, None, &format!(r#"describe_topic("{topic}")"#));
    assert_eq!(ours["partition_count"], 4);
    assert_describe_matches(&ours, &tool_describe(c, topic));

    // Incremental: set two configs, change one, the other keeps its value.
    kafsh_json(
        &bs,
        None,
        &format!(
            r#"alter_config("topic", "{topic}", #{{set: #{{"cleanup.policy": "compact", "segment.bytes": 10485760}}}})"#
        ),
    );
    let change = kafsh_json(
        &bs,
        None,
        &format!(r#"set_config("{topic}", "segment.bytes", 20971520)"#),
    );
    assert_eq!(change["changes"][0]["old"], "10485760", "{change}");
    let configs = kafsh_topic_configs(&bs, topic);
    assert_eq!(
        configs,
        vec![
            "cleanup.policy=compact",
            "retention.ms=3600000",
            "segment.bytes=20971520"
        ],
        "the configs not named keep their values"
    );
    assert_eq!(
        configs,
        tool_topic_configs(c, topic),
        "ConfigCommand agrees"
    );
    let ours = kafsh_json(&bs, None, &format!(r#"describe_topic("{topic}")"#));
    assert_describe_matches(&ours, &tool_describe(c, topic));

    // The seed's --delete-config.
    kafsh_json(
        &bs,
        None,
        &format!(r#"delete_config("{topic}", "retention.ms")"#),
    );
    let configs = kafsh_topic_configs(&bs, topic);
    assert_eq!(
        configs,
        vec!["cleanup.policy=compact", "segment.bytes=20971520"]
    );
    assert_eq!(configs, tool_topic_configs(c, topic));

    // Placement as given.
    let placed = format!("{topic}-placed");
    let brokers: Vec<i32> = c.brokers().iter().map(|b| b.id).collect();
    let (a, b) = (brokers[0], brokers[1]);
    kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{placed}", #{{assignment: [[{a}, {b}], [{b}, {a}]]}})"#),
    );
    let ours = kafsh_json(&bs, None, &format!(r#"describe_topic("{placed}")"#));
    assert_eq!(
        joined(&ours["partitions"][0]["replicas"]),
        format!("{a},{b}")
    );
    assert_eq!(
        joined(&ours["partitions"][1]["replicas"]),
        format!("{b},{a}")
    );
    assert_describe_matches(&ours, &tool_describe(c, &placed));
    let again = kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{placed}", #{{partitions: 9, if_not_exists: true}})"#),
    );
    assert_eq!(again["created"], false);

    // Several at once, by list and by pattern, in one answer each.
    let by_list = kafsh_json(
        &bs,
        None,
        &format!(r#"describe_topics(["{topic}", "{placed}"])"#),
    );
    let names: Vec<&str> = by_list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|t| t["topic"].as_str())
        .collect();
    assert_eq!(names, vec![topic, placed.as_str()]);
    assert_describe_matches(&by_list[1], &tool_describe(c, &placed));
    let by_pattern = kafsh_json(&bs, None, &format!(r#"describe_topics("{topic}.*")"#));
    let mut names: Vec<&str> = by_pattern
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|t| t["topic"].as_str())
        .collect();
    names.sort();
    assert_eq!(names, vec![topic, placed.as_str()]);

    // Delete.
    kafsh_json(&bs, None, &format!(r#"delete_topic("{placed}")"#));
    let listed = kafsh_json(&bs, None, "list_topics()");
    assert!(!listed
        .as_array()
        .expect("array")
        .iter()
        .any(|t| t == placed.as_str()));
}

/// Names bad input might wrongly create.
const WATCHED: &[&str] = &[
    "bad/name",
    "zero-parts",
    "neg-parts",
    "too-many-rf",
    "dup-broker",
    "bad-config",
];

/// A snapshot of what bad input must leave alone (other tests create topics meanwhile, so
/// only this test's topics and the watched names are compared).
fn snapshot(bs: &str, topic: &str) -> (Vec<String>, serde_json::Value, Vec<String>) {
    let listed = kafsh_json(bs, None, "list_topics()");
    let mine: Vec<String> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|t| t.as_str())
        .filter(|t| t.starts_with(topic) || WATCHED.contains(t))
        .map(String::from)
        .collect();
    (
        mine,
        kafsh_json(bs, None, &format!(r#"describe_topic("{topic}")"#)),
        kafsh_topic_configs(bs, topic),
    )
}

/// Every bad input gets a clear error naming the function and the object, exit 1, and
/// leaves the cluster unchanged.
pub fn bad_input_changes_nothing(c: &Cluster, topic: &str) {
    let bs = c.bootstrap_servers();
    kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{topic}", #{{partitions: 3, replication_factor: 1}})"#),
    );
    let before = snapshot(&bs, topic);
    let b = c.brokers()[0].id;
    let long = "x".repeat(250);
    let exists = format!("create_topic: topic \"{topic}\" already exists");
    let cases: Vec<(String, &str)> = vec![
        (
            r#"create_topic("bad/name", #{partitions: 1})"#.into(),
            "create_topic: topic name \"bad/name\" contains '/'",
        ),
        (
            format!(r#"create_topic("{long}", #{{partitions: 1}})"#),
            "create_topic: topic name is 250 characters long",
        ),
        (
            r#"create_topic("zero-parts", #{partitions: 0})"#.into(),
            "create_topic: partitions must be at least 1",
        ),
        (
            r#"create_topic("neg-parts", #{partitions: -2})"#.into(),
            "create_topic: partitions must be at least 1",
        ),
        (
            r#"create_topic("too-many-rf", #{partitions: 1, replication_factor: 9})"#.into(),
            "create_topic: replication factor 9 is larger than the",
        ),
        (
            format!(r#"create_topic("dup-broker", #{{assignment: [[{b}, {b}]]}})"#),
            "create_topic: assignment of partition 0 names broker",
        ),
        (
            r#"create_topic("bad-config", #{partitions: 1, config: #{"no.such.config": 1}})"#
                .into(),
            "create_topic: topic \"bad-config\"",
        ),
        (
            format!(r#"create_topic("{topic}", #{{partitions: 1}})"#),
            &exists,
        ),
        (
            r#"delete_topic("no-such-topic")"#.into(),
            "delete_topic: topic \"no-such-topic\" does not exist",
        ),
        (
            r#"describe_topic("no-such-topic")"#.into(),
            "describe_topic: topic \"no-such-topic\" does not exist",
        ),
        (
            format!(r#"add_partitions("{topic}", 2)"#),
            "add_partitions: topic",
        ),
        (
            format!(r#"add_partitions("{topic}", 3)"#),
            "can only add partitions",
        ),
        (
            format!(r#"set_config("{topic}", "retention.ms", "abc")"#),
            "set_config: topic",
        ),
        (
            format!(r#"set_config("{topic}", "no.such.config", 1)"#),
            "no.such.config",
        ),
        (
            format!(
                r#"alter_config("topic", "{topic}", #{{set: #{{"retention.ms": 1}}, delete: ["retention.ms"]}})"#
            ),
            "both set and deleted",
        ),
        (
            format!(r#"alter_config("topics!", "{topic}", #{{set: #{{"retention.ms": 1}}}})"#),
            "unknown entity",
        ),
    ];
    for (expr, message) in &cases {
        let out = kafsh_eval(&bs, None, expr);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{expr}: {err}");
        assert!(
            err.contains(message),
            "{expr}: expected {message:?} in {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{expr}: {err}");
        assert_eq!(before, snapshot(&bs, topic), "{expr} changed the cluster");
    }
    assert_eq!(
        before,
        snapshot(&bs, topic),
        "bad input changed the cluster"
    );
}

/// With --dry-run every mutating function reports what it would do and changes nothing.
pub fn dry_run_changes_nothing(c: &Cluster, topic: &str) {
    let bs = c.bootstrap_servers();
    kafsh_json(
        &bs,
        None,
        &format!(
            r#"create_topic("{topic}", #{{partitions: 2, replication_factor: 1, config: #{{"retention.ms": 86400000}}}})"#
        ),
    );
    let before = snapshot(&bs, topic);
    let b = c.brokers()[0].id;
    for expr in [
        format!(r#"create_topic("{topic}-new", #{{partitions: 3, replication_factor: 1}})"#),
        format!(r#"delete_topic("{topic}")"#),
        format!(r#"add_partitions("{topic}", 5)"#),
        format!(r#"set_config("{topic}", "retention.ms", 1000)"#),
        format!(r#"alter_config("topic", "{topic}", #{{set: #{{"cleanup.policy": "compact"}}}})"#),
        format!(r#"delete_config("{topic}", "retention.ms")"#),
        format!(r#"alter_config("broker", {b}, #{{set: #{{"log.cleaner.threads": 2}}}})"#),
    ] {
        let out = kafsh_dry(&bs, &expr);
        assert!(
            out.status.success(),
            "{expr}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(json["dry_run"], true, "{expr}: {json}");
    }
    // A dry run still validates: a bad value is refused.
    let out = kafsh_dry(
        &bs,
        &format!(r#"set_config("{topic}", "retention.ms", "abc")"#),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        before,
        snapshot(&bs, topic),
        "a dry run changed the cluster"
    );
    let broker = kafsh_json(
        &bs,
        None,
        &format!(r#"describe_config("broker", {b}, #{{all: true}})"#),
    );
    let threads = broker
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["name"] == "log.cleaner.threads")
        .cloned()
        .expect("entry");
    assert_ne!(threads["source"], "dynamic_broker", "{threads}");
}

/// Broker configs: describe with sources, alter incrementally, delete back to static.
pub fn broker_configs(c: &Cluster) {
    let bs = c.bootstrap_servers();
    // The last broker: the dry-run test watches the first one.
    let b = c.brokers().last().expect("a broker").id;
    kafsh_json(
        &bs,
        None,
        &format!(
            r#"alter_config("broker", {b}, #{{set: #{{"log.cleaner.backoff.ms": 20000, "log.cleaner.io.buffer.load.factor": 0.8}}}})"#
        ),
    );
    kafsh_json(
        &bs,
        None,
        &format!(r#"alter_config("broker", {b}, #{{set: #{{"log.cleaner.backoff.ms": 25000}}}})"#),
    );
    let all = kafsh_json(
        &bs,
        None,
        &format!(r#"describe_config("broker", {b}, #{{all: true}})"#),
    );
    let get = |name: &str| {
        all.as_array()
            .expect("array")
            .iter()
            .find(|e| e["name"] == name)
            .cloned()
            .expect("entry")
    };
    assert_eq!(get("log.cleaner.backoff.ms")["value"], "25000");
    // Without #{all: true}: what is set on the broker itself, as ConfigCommand shows it.
    assert_eq!(
        kafsh_configs(&bs, "broker", &b.to_string()),
        tool_configs(c, "brokers", &b.to_string())
    );
    assert_eq!(
        kafsh_configs(&bs, "broker", &b.to_string()),
        vec![
            "log.cleaner.backoff.ms=25000".to_string(),
            "log.cleaner.io.buffer.load.factor=0.8".to_string()
        ]
    );
    assert_eq!(get("log.cleaner.backoff.ms")["source"], "dynamic_broker");
    assert_eq!(
        get("log.cleaner.io.buffer.load.factor")["value"],
        "0.8",
        "kept"
    );
    kafsh_json(
        &bs,
        None,
        &format!(
            r#"alter_config("broker", {b}, #{{delete: ["log.cleaner.backoff.ms", "log.cleaner.io.buffer.load.factor"]}})"#
        ),
    );
    let all = kafsh_json(
        &bs,
        None,
        &format!(r#"describe_config("broker", {b}, #{{all: true}})"#),
    );
    let backoff = all
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["name"] == "log.cleaner.backoff.ms")
        .cloned()
        .expect("entry");
    assert_ne!(backoff["source"], "dynamic_broker");
    // Sensitive values never show.
    assert!(all
        .as_array()
        .expect("array")
        .iter()
        .filter(|e| e["sensitive"] == true)
        .all(|e| e["value"].is_null() || e["value"] == "[hidden]"));
    let defaults = kafsh_json(&bs, None, r#"describe_config("broker_default", "")"#);
    assert!(defaults.as_array().is_some());
}

/// cluster(), the health lists and log_dirs on a healthy cluster with data.
pub fn health_and_log_dirs(c: &Cluster, topic: &str) {
    let bs = c.bootstrap_servers();
    kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{topic}", #{{partitions: 2, replication_factor: 2}})"#),
    );
    super::groups_suite::produce_sized(c, topic, 2000, 100);
    let summary = kafsh_json(&bs, None, "cluster()");
    assert_eq!(
        summary["brokers"].as_array().map(Vec::len),
        Some(c.brokers().len())
    );
    assert_eq!(summary["offline"], 0);
    assert!(summary["controller"].is_number(), "{summary}");
    assert!(summary["partitions"].as_u64().unwrap_or(0) >= 2);
    assert_eq!(kafsh_json(&bs, None, "offline()"), serde_json::json!([]));
    let dirs = kafsh_json(&bs, None, &format!(r#"log_dirs(#{{topics: ["{topic}"]}})"#));
    let replicas = dirs["replicas"].as_array().expect("replicas");
    assert_eq!(replicas.len(), 4, "2 partitions x RF 2: {dirs}");
    let total: i64 = replicas
        .iter()
        .map(|r| r["size"].as_i64().unwrap_or(0))
        .sum();
    assert!(
        total > 2 * 2000 * 100,
        "every replica holds the data: {total}"
    );
    assert_eq!(dirs["topics"][0]["topic"], topic);
    assert_eq!(dirs["topics"][0]["size"].as_i64(), Some(total));
    // Kafka's LogDirsCommand agrees on every replica's size.
    let tool = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.LogDirsCommand",
            &[
                "--bootstrap-server",
                &bs,
                "--describe",
                "--topic-list",
                topic,
            ],
        ),
        "LogDirsCommand",
    );
    let json_line = tool
        .lines()
        .find(|l| l.trim_start().starts_with('{'))
        .expect("json line");
    let theirs: serde_json::Value = serde_json::from_str(json_line).expect("LogDirsCommand json");
    let mut their_total = 0;
    for broker in theirs["brokers"].as_array().expect("brokers") {
        for dir in broker["logDirs"].as_array().expect("dirs") {
            for p in dir["partitions"].as_array().expect("partitions") {
                their_total += p["size"].as_i64().unwrap_or(0);
            }
        }
    }
    assert_eq!(their_total, total);
}

/// Reassign with a throttle, wait, elect leaders: bad plans are refused first, the replicas
/// end where the plan put them, every throttle config is gone, every message is still there.
pub fn reassign_with_throttle(c: &Cluster, topic: &str) {
    let _turn = reassignment_turn();
    let bs = c.bootstrap_servers();
    let t = |s: &str| s.replace("TOPIC", topic);
    kafsh_json(
        &bs,
        None,
        &t(r#"create_topic("TOPIC", #{assignment: [[1, 2], [2, 1], [1, 2], [2, 1]]})"#),
    );
    super::groups_suite::produce(c, topic, 2000);
    for (expr, message) in [
        (
            r#"reassign(parse_plan(`{"version":1,"partitions":[{"topic":"TOPIC","partition":0,"replicas":[1,9]}]}`))"#,
            "broker 9, which is not alive",
        ),
        (
            r#"reassign(parse_plan(`{"version":1,"partitions":[{"topic":"TOPIC","partition":7,"replicas":[1,2]}]}`))"#,
            "TOPIC-7 does not exist",
        ),
        (
            r#"reassign(parse_plan(`{"version":1,"partitions":[{"topic":"TOPIC","partition":0,"replicas":[1,2]},{"topic":"TOPIC","partition":1,"replicas":[1,2,3]}]}`))"#,
            "same count",
        ),
    ] {
        let out = kafsh_eval(&bs, None, &t(expr));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{expr}: {err}");
        assert!(err.contains(&t(message)), "{expr}: {err}");
    }
    let before = kafsh_json(&bs, None, &t(r#"describe_topic("TOPIC")"#));
    let script = t(r#"
        let p = plan_reassignment(#{topics: ["TOPIC"], brokers: [1, 2, 3]});
        let started = reassign(p, #{throttle: 10000000});
        let done = wait_reassignment(p, #{timeout: "2m", interval: "1s"});
        #{plan: p, started: started, done: done, after: describe_topic("TOPIC")}
    "#);
    let r = kafsh_json(&bs, None, &script);
    assert_ne!(before, r["after"]);
    assert!(
        r["started"]["moving_replicas"].as_i64().unwrap_or(0) >= 2,
        "{r}"
    );
    for (planned, now) in r["plan"]["partitions"]
        .as_array()
        .expect("plan")
        .iter()
        .zip(r["after"]["partitions"].as_array().expect("after"))
    {
        assert_eq!(planned["replicas"], now["replicas"], "{r}");
        assert_eq!(
            now["leader"], now["replicas"][0],
            "preferred leader elected: {now}"
        );
    }
    let removed = r["done"]["throttles_removed"].as_array().expect("removed");
    assert!(
        removed.iter().any(|x| x
            .as_str()
            .unwrap_or("")
            .contains("leader.replication.throttled.rate")),
        "{r}"
    );
    assert_no_throttle_left(c, topic);
    assert_eq!(
        super::groups_suite::consume(c, topic, &format!("{topic}-check"), 5000),
        2000
    );
}

/// No throttle config left on `topic` or any registered broker.
pub fn assert_no_throttle_left(c: &Cluster, topic: &str) {
    let bs = c.bootstrap_servers();
    let registered = kafsh_json(&bs, None, "brokers().map(|b| b.id)");
    for id in registered.as_array().expect("broker ids") {
        let cfg = kafsh_json(&bs, None, &format!(r#"describe_config("broker", {id})"#));
        let left: Vec<&serde_json::Value> = cfg
            .as_array()
            .expect("array")
            .iter()
            .filter(|e| {
                let name = e["name"].as_str().unwrap_or("");
                (name.contains("throttled") || name.contains("alter.log.dirs"))
                    && e["source"] == "dynamic_broker"
            })
            .collect();
        assert!(left.is_empty(), "broker {id} keeps {left:?}");
    }
    let cfg = kafsh_json(
        &bs,
        None,
        &format!(r#"describe_config("topic", "{topic}")"#),
    );
    let left: Vec<&serde_json::Value> = cfg
        .as_array()
        .expect("array")
        .iter()
        .filter(|e| {
            e["name"].as_str().unwrap_or("").contains("throttled") && e["source"] == "dynamic_topic"
        })
        .collect();
    assert!(left.is_empty(), "topic {topic} keeps {left:?}");
}

/// A topic on broker 1 only (4 partitions, RF 1) holding about 3 MB per partition: more
/// than one replica fetch, so a 1 B/s throttle keeps its reassignment in flight.
pub fn create_heavy_topic(c: &Cluster, topic: &str) {
    let bs = c.bootstrap_servers();
    kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{topic}", #{{assignment: [[1], [1], [1], [1]]}})"#),
    );
    super::groups_suite::produce_sized(c, topic, 12000, 1000);
}

/// A reassignment held in flight by a 1 B/s throttle is listed, then cancelled: the
/// replicas return where they were and no throttle is left.
pub fn cancel_reassignment_restores(c: &Cluster, topic: &str) {
    let _turn = reassignment_turn();
    let bs = c.bootstrap_servers();
    create_heavy_topic(c, topic);
    let script = r#"
        let p = plan_reassignment(#{topics: ["TOPIC"], brokers: [2, 3]});
        let started = reassign(p, #{throttle: 1, force: true});
        let busy = list_reassignments().filter(|r| r.topic == "TOPIC");
        let status = reassignment_status(p);
        let refused = "";
        try { remove_throttles(["TOPIC-other"]); refused = "removed"; } catch (e) { refused = `${e}`; }
        let cancelled = cancel_reassignment(p);
        wait_until(|| list_reassignments().filter(|r| r.topic == "TOPIC").is_empty(),
            #{timeout: "1m", interval: "1s"});
        wait_until(|| describe_topic("TOPIC").partitions.all(|x| x.replicas == [1]),
            #{timeout: "1m", interval: "1s"});
        #{started: started, busy: busy, status: status, cancelled: cancelled, refused: refused}
    "#
    .replace("TOPIC", topic);
    let r = kafsh_json(&bs, None, &script);
    assert_eq!(r["started"]["moving_replicas"], 4, "{r}");
    // The brokers' rates are shared: removing them for another topic while this one moves
    // is asked, and refused without a terminal.
    let refused = r["refused"].as_str().unwrap_or_default();
    assert!(
        refused.contains("other topics are still moving") && refused.contains("--yes"),
        "{r}"
    );
    let busy = r["busy"].as_array().expect("busy");
    assert_eq!(busy.len(), 4, "{r}");
    assert!(
        busy.iter()
            .all(|b| b["adding"].as_array().is_some_and(|a| !a.is_empty())),
        "{r}"
    );
    assert_eq!(r["status"]["done"], 0, "{r}");
    assert_eq!(
        r["cancelled"]["cancelled"].as_array().map(Vec::len),
        Some(4),
        "{r}"
    );
    assert!(
        !r["cancelled"]["throttles_removed"]
            .as_array()
            .expect("removed")
            .is_empty(),
        "{r}"
    );
    assert_no_throttle_left(c, topic);
}

/// The replication-factor runbook killed at its mutation boundaries under an acks=all
/// producer: every resumed (or new) run ends where an uninterrupted one does — replication
/// factor 2 with the same replicas, preferred leaders, nothing in flight, no throttle left —
/// and every acknowledged message is there once.
pub fn increase_replication_factor_survives_kills(c: &Cluster, topic: &str) {
    use super::crash::{kafka_state, sweep, Pick, Scenario};
    let bs = c.bootstrap_servers();
    let ids: Vec<i32> = c.brokers().iter().map(|b| b.id).collect();
    kafsh_json(
        &bs,
        None,
        &format!(
            r#"create_topic("{topic}", #{{assignment: [[{}], [{}], [{}]]}})"#,
            ids[0], ids[1], ids[2]
        ),
    );
    super::groups_suite::produce_sized(c, topic, 3000, 1000);
    let original = kafsh_json(&bs, None, &format!(r#"plan_json(assignment(["{topic}"]))"#));
    let original = original.as_str().expect("plan").to_string();
    let producer = super::load::start_producer(c, topic, 1_000_000, 50);
    let command = |state: &tempfile::TempDir| {
        let mut cmd = kafsh(state);
        cmd.args([
            "--bootstrap-server",
            &bs,
            "--json",
            "run",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scripts/increase_replication_factor.rhai"
            ),
            "--arg",
            &format!("topic={topic}"),
            "--arg",
            "rf=2",
            "--arg",
            "throttle=2000000",
            "--arg",
            "timeout=3m",
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
    // Which broker gets the new replica depends on the load other tests put on the shared
    // cluster meanwhile; what must not differ is the replica count, the leader kept first,
    // and everything else kafka_state holds.
    let state = || {
        let mut s = kafka_state(&bs, &[topic]);
        for p in s["partitions"][0].as_array_mut().expect("partitions") {
            let replicas = p["replicas"].as_array().cloned().unwrap_or_default();
            p["replicas"] = serde_json::json!({"count": replicas.len(), "first": replicas.first()});
        }
        s
    };
    let report = sweep(&Scenario {
        name: "increase_replication_factor",
        command: &command,
        reset: &reset,
        state: &state,
        sample: &[Pick::First, Pick::Last],
        after_reference: &|| {},
    });
    let rf: Vec<usize> = report.expected["partitions"][0]
        .as_array()
        .expect("partitions")
        .iter()
        .map(|p| p["replicas"]["count"].as_u64().unwrap_or(0) as usize)
        .collect();
    assert_eq!(rf, vec![2, 2, 2], "{}", report.expected);
    assert_eq!(report.expected["in_flight"], 0);
    super::load::stop_producer(&producer);
    let acked = super::load::acked_values(producer);
    assert!(
        acked.len() > 50,
        "the producer kept writing: {}",
        acked.len()
    );
    super::load::assert_consumed_exactly_once(c, topic, &acked);
}

/// Config changes recorded in the audit trail are undone by `kafsh audit rollback SEQ`: the
/// dry run prints the inverse call and changes nothing, the real one restores the old
/// values (and deletes what was not set before), audited again.
pub fn audit_rollback_restores_configs(c: &Cluster, topic: &str) {
    let bs = c.bootstrap_servers();
    kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{topic}", #{{partitions: 1, replication_factor: 1}})"#),
    );
    let state = tempfile::tempdir().expect("tmp");
    let run = |args: &[&str]| {
        let out = kafsh(&state)
            .args(["--bootstrap-server", &bs])
            .args(args)
            .output()
            .expect("kafsh");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    run(&[
        "-e",
        &format!(r#"set_config("{topic}", "retention.ms", 3600000)"#),
    ]);
    run(&[
        "-e",
        &format!(
            r#"alter_config("topic", "{topic}", #{{set: #{{"retention.ms": 60000, "cleanup.policy": "compact"}}}})"#
        ),
    ]);
    let listed: serde_json::Value = serde_json::from_slice(
        &run(&[
            "--json",
            "audit",
            "--target",
            topic,
            "--function",
            "alter_config",
        ])
        .stdout,
    )
    .expect("json");
    let seqs: Vec<u64> = listed
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    assert_eq!(seqs.len(), 2, "{listed}");
    let retention = listed[1]["arguments"]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["name"] == "retention.ms")
        .cloned()
        .expect("retention.ms");
    assert_eq!(
        retention["old"], "3600000",
        "the old value is recorded: {listed}"
    );

    let dry = run(&["--dry-run", "audit", "rollback", &seqs[1].to_string()]);
    let said = String::from_utf8_lossy(&dry.stderr);
    assert!(
        said.contains(&format!(
            r#"alter_config("topic", "{topic}", #{{set: #{{"retention.ms": "3600000"}}, delete: ["cleanup.policy"]}})"#
        )),
        "{said}"
    );
    assert_eq!(
        kafsh_topic_configs(&bs, topic),
        vec!["cleanup.policy=compact", "retention.ms=60000"]
    );
    run(&["audit", "rollback", &seqs[1].to_string()]);
    assert_eq!(
        kafsh_topic_configs(&bs, topic),
        vec!["retention.ms=3600000"]
    );
    run(&["audit", "rollback", &seqs[0].to_string()]);
    assert!(kafsh_topic_configs(&bs, topic).is_empty());
    assert_eq!(tool_topic_configs(c, topic), Vec::<String>::new());
    let verify: serde_json::Value =
        serde_json::from_slice(&run(&["--json", "audit", "verify"]).stdout).expect("json");
    assert_eq!(verify["intact"], true, "{verify}");
    assert_eq!(
        verify["entries"], 4,
        "the rollbacks are audited too: {verify}"
    );
}

/// The read-only cluster report runbook, by name: healthy, with the control plane of the
/// cluster's kind (ZooKeeper servers, or the KRaft quorum).
pub fn cluster_report_is_healthy(c: &Cluster, control_plane: &str) {
    let state = tempfile::tempdir().expect("tmp");
    let report = || {
        let mut cmd = kafsh(&state);
        cmd.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts"))
            .args(["--bootstrap-server", &c.bootstrap_servers()]);
        if let Some(zk) = c.zk_connect() {
            cmd.args(["--zookeeper", &zk]);
        }
        cmd.args(["run", "cluster_report"]).output().expect("run")
    };
    // The report flags a broker slow to answer as hung; on a loaded test machine one look
    // may catch a broker busy with another test, so a second look decides.
    let mut out = report();
    if !out.status.success() {
        std::thread::sleep(std::time::Duration::from_secs(2));
        out = report();
    }
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(control_plane), "{text}");
    assert!(text.trim_end().ends_with("healthy"), "{text}");
}

/// The replica lists of `topic` as Kafka's TopicCommand prints them, by partition, and
/// each partition's leader.
fn tool_replicas(c: &Cluster, topic: &str) -> Vec<(i32, Vec<i32>, i32)> {
    let mut out: Vec<(i32, Vec<i32>, i32)> = tool_describe(c, topic)
        .lines()
        .filter(|l| l.contains("Partition:"))
        .map(|l| {
            let f = super::parse_describe_line(l);
            let num = |k: &str| {
                super::field(&f, k)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(-1)
            };
            let replicas = super::field(&f, "Replicas")
                .unwrap_or("")
                .split(',')
                .filter_map(|b| b.trim().parse().ok())
                .collect();
            (num("Partition"), replicas, num("Leader"))
        })
        .collect();
    out.sort();
    out
}

/// A reassignment's audit entry holds the previous assignment, and `kafsh audit rollback`
/// puts it back (checked with Kafka's TopicCommand).
pub fn reassign_audit_rollback(c: &Cluster, topic: &str) {
    let _turn = reassignment_turn();
    let bs = c.bootstrap_servers();
    let t = |s: &str| s.replace("TOPIC", topic);
    kafsh_json(
        &bs,
        None,
        &t(r#"create_topic("TOPIC", #{assignment: [[1, 2], [2, 1]]})"#),
    );
    super::groups_suite::produce(c, topic, 500);
    let before = tool_replicas(c, topic);
    let state = tempfile::tempdir().expect("tmp");
    let run = |args: &[&str]| {
        let out = kafsh(&state)
            .args(["--bootstrap-server", &bs])
            .args(args)
            .output()
            .expect("kafsh");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let wait = r#"wait_reassignment(p, #{timeout: "2m", interval: "1s"})"#;
    run(&[
        "-e",
        &t(&format!(
            r#"let p = parse_plan(`{{"version":1,"partitions":[{{"topic":"TOPIC","partition":0,"replicas":[2,3]}},{{"topic":"TOPIC","partition":1,"replicas":[3,1]}}]}}`); reassign(p, #{{throttle: 50000000}}); {wait}"#
        )),
    ]);
    let moved = tool_replicas(c, topic);
    assert_eq!(
        moved.iter().map(|p| p.1.clone()).collect::<Vec<_>>(),
        vec![vec![2, 3], vec![3, 1]]
    );
    let listed: serde_json::Value = serde_json::from_slice(
        &run(&[
            "--json",
            "audit",
            "--target",
            "partition",
            "--function",
            "reassign",
        ])
        .stdout,
    )
    .expect("json");
    let entry = listed
        .as_array()
        .and_then(|a| a.last())
        .cloned()
        .expect("a reassign entry");
    let previous = &entry["arguments"]["previous"];
    assert_eq!(previous.as_array().map(Vec::len), Some(2), "{entry}");
    let seq = entry["seq"].as_u64().expect("seq").to_string();
    run(&["audit", "rollback", &seq]);
    run(&[
        "-e",
        &t(&format!(
            r#"let p = parse_plan(`{{"version":1,"partitions":[{{"topic":"TOPIC","partition":0,"replicas":[1,2]}},{{"topic":"TOPIC","partition":1,"replicas":[2,1]}}]}}`); {wait}"#
        )),
    ]);
    let after = tool_replicas(c, topic);
    assert_eq!(
        after.iter().map(|p| p.1.clone()).collect::<Vec<_>>(),
        before.iter().map(|p| p.1.clone()).collect::<Vec<_>>(),
        "rolled back"
    );
    assert_no_throttle_left(c, topic);
}

/// Leaders only: `plan_leaders(#{avoid: [3]})` reorders replica lists (no replica set
/// changes), and after the reassignment and `elect_leaders` broker 3 leads none of the
/// topic's partitions (Kafka's TopicCommand says so), while every topic's leaders stay
/// balanced over brokers 1 and 2.
pub fn leaders_only_keeps_leadership_off_a_broker(c: &Cluster, topic: &str) {
    let _turn = reassignment_turn();
    let bs = c.bootstrap_servers();
    let t = |s: &str| s.replace("TOPIC", topic);
    kafsh_json(
        &bs,
        None,
        &t(r#"create_topic("TOPIC", #{assignment: [[3, 1, 2], [3, 2, 1], [1, 3, 2], [2, 3, 1]]})"#),
    );
    let before = tool_replicas(c, topic);
    let r = kafsh_json(
        &bs,
        None,
        &t(r#"
            let p = plan_leaders(#{topics: ["TOPIC"], avoid: [3]});
            reassign(p);
            let done = wait_reassignment(p, #{timeout: "2m", interval: "1s"});
            elect_leaders(#{topics: ["TOPIC"]});
            #{plan: p, changed: p.leaders_changed}
        "#),
    );
    assert_eq!(r["changed"], 2, "{r}");
    let after = tool_replicas(c, topic);
    for (b, a) in before.iter().zip(&after) {
        let mut x = b.1.clone();
        let mut y = a.1.clone();
        x.sort();
        y.sort();
        assert_eq!(x, y, "no data moves: {before:?} -> {after:?}");
        assert_ne!(a.2, 3, "broker 3 leads none: {after:?}");
        assert_eq!(a.2, a.1[0], "preferred leader elected: {after:?}");
    }
    let on = |b: i32| after.iter().filter(|p| p.2 == b).count();
    assert_eq!((on(1), on(2)), (2, 2), "{after:?}");
}

/// Bytes balance on a real cluster: topics of very different sizes (ProducerPerformance)
/// all on brokers 1 and 2; `plan_reassignment(#{balance: "bytes"})` over 1-3 reads the
/// sizes from DescribeLogDirs, and after the move every broker's bytes, as Kafka's
/// LogDirsCommand reports them, are where the plan said, within its tolerance of the mean.
pub fn bytes_balance_matches_log_dirs(c: &Cluster, prefix: &str) {
    let _turn = reassignment_turn();
    let bs = c.bootstrap_servers();
    let topics: Vec<String> = (0..3).map(|i| format!("{prefix}-{i}")).collect();
    let parts = [[1, 2], [2, 1], [1, 2], [2, 1], [1, 2], [2, 1]];
    for (i, topic) in topics.iter().enumerate() {
        let assignment: Vec<String> = parts
            .iter()
            .map(|r| format!("[{}, {}]", r[0], r[1]))
            .collect();
        kafsh_json(
            &bs,
            None,
            &format!(
                r#"create_topic("{topic}", #{{assignment: [{}]}})"#,
                assignment.join(", ")
            ),
        );
        // 1, 3 and 9 MB: partitions of very different sizes.
        super::groups_suite::produce_sized(c, topic, [1000, 3000, 9000][i], 1000);
    }
    let names: Vec<String> = topics.iter().map(|t| format!("{t:?}")).collect();
    let r = kafsh_json(
        &bs,
        None,
        &format!(
            r#"
            let p = plan_reassignment(#{{topics: [{0}], brokers: [1, 2, 3], balance: "bytes", tolerance: 0.1}});
            reassign(p, #{{throttle: 100000000}});
            wait_reassignment(p, #{{timeout: "3m", interval: "1s"}});
            #{{moves: p.moves, bytes_to_move: p.bytes_to_move, bytes_lower_bound: p.bytes_lower_bound,
               before: p.before, after: p.after}}
            "#,
            names.join(", ")
        ),
    );
    assert!(r["bytes_to_move"].as_u64().unwrap_or(0) > 0, "{r}");
    let bytes = log_dir_bytes(c, &topics);
    let mean = bytes.values().sum::<u64>() as f64 / bytes.len() as f64;
    for (b, v) in &bytes {
        let off = (*v as f64 - mean).abs() / mean;
        assert!(
            off <= 0.1 + 0.02,
            "broker {b}: {v} bytes, {:.1}% from the mean {mean}: {bytes:?} plan {r}",
            off * 100.0
        );
    }
    assert_eq!(bytes.len(), 3, "{bytes:?}");
}

/// Bytes per broker of `topics` as Kafka's LogDirsCommand reports them (future replicas
/// of a move in flight left out).
pub fn log_dir_bytes(c: &Cluster, topics: &[String]) -> std::collections::BTreeMap<i64, u64> {
    let text = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.LogDirsCommand",
            &[
                "--bootstrap-server",
                &c.bootstrap_servers(),
                "--describe",
                "--topic-list",
                &topics.join(","),
            ],
        ),
        "LogDirsCommand --describe",
    );
    let json_line = text
        .lines()
        .find(|l| l.trim_start().starts_with('{'))
        .expect("LogDirsCommand prints JSON");
    let dirs: serde_json::Value = serde_json::from_str(json_line).expect("json");
    let mut bytes = std::collections::BTreeMap::new();
    for b in dirs["brokers"].as_array().expect("brokers") {
        let total: u64 = b["logDirs"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|d| d["partitions"].as_array().cloned().unwrap_or_default())
            .filter(|p| !p["isFuture"].as_bool().unwrap_or(false))
            .map(|p| p["size"].as_u64().unwrap_or(0))
            .sum();
        bytes.insert(b["broker"].as_i64().unwrap_or(0), total);
    }
    bytes
}

/// Asserts every broker's bytes of `topics` (LogDirsCommand) within `tolerance` of the mean.
pub fn assert_disks_within(c: &Cluster, topics: &[String], tolerance: f64, context: &str) {
    let bytes = log_dir_bytes(c, topics);
    let mean = bytes.values().sum::<u64>() as f64 / bytes.len().max(1) as f64;
    for (b, v) in &bytes {
        let off = (*v as f64 - mean).abs() / mean;
        assert!(
            off <= tolerance,
            "broker {b}: {v} bytes, {:.1}% from the mean {mean:.0}: {bytes:?} {context}",
            off * 100.0
        );
    }
}

/// Writes (p + 1) x `unit` records of 1 KB, uncompressed, into each partition p of `topic`
/// (partitions of very different sizes), through kafsh's `produce`.
pub fn produce_skewed(c: &Cluster, topic: &str, partitions: i32, unit: i32) {
    kafsh_json(
        &c.bootstrap_servers(),
        None,
        &format!(
            r#"
            let v = ""; v.pad(1000, 'x');
            for p in 0..{partitions} {{
                let records = [];
                for i in 0..(p + 1) * {unit} {{ records.push(#{{value: v}}); }}
                produce("{topic}", records, #{{partition: p, compression: "none", wait: false}});
            }}
            flush().delivered
            "#
        ),
    );
}
