//! The first functions against a real ZooKeeper-mode Kafka 3.9 cluster (3 ZooKeeper servers,
//! 3 brokers), checked against Kafka's and ZooKeeper's own command-line classes on the same
//! cluster. One cluster is shared by the tests of this file; none of them breaks it.

mod common;

use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, Node};
use std::sync::OnceLock;

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| shared_cluster(ClusterSpec::zookeeper().log_dirs(2)))
}

fn create_topic_with_tool(name: &str, partitions: u32, rf: u32, config: Option<&str>) {
    let c = cluster();
    let bs = c.bootstrap_servers();
    let partitions = partitions.to_string();
    let rf = rf.to_string();
    let mut args = vec![
        "--bootstrap-server",
        bs.as_str(),
        "--create",
        "--topic",
        name,
        "--partitions",
        &partitions,
        "--replication-factor",
        &rf,
    ];
    if let Some(cfg) = config {
        args.extend(["--config", cfg]);
    }
    tool_stdout(
        c.kafka_tool("org.apache.kafka.tools.TopicCommand", &args),
        "TopicCommand --create",
    );
}

#[test]
fn list_topics_matches_topic_command() {
    let c = cluster();
    create_topic_with_tool("list-a", 1, 1, None);
    create_topic_with_tool("list-b", 2, 2, None);
    let bs = c.bootstrap_servers();
    let tool = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.TopicCommand",
            &["--bootstrap-server", &bs, "--list", "--exclude-internal"],
        ),
        "TopicCommand --list",
    );
    let mut expected: Vec<String> = tool
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    expected.sort();
    let ours = kafsh_json(&bs, None, "list_topics()");
    let ours: Vec<String> = ours
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect();
    // Other tests create topics concurrently: every topic the tool saw must be in our later answer.
    for t in &expected {
        assert!(
            ours.contains(t),
            "kafsh misses {t}: {ours:?} vs {expected:?}"
        );
    }
    assert!(ours.contains(&"list-a".to_string()) && ours.contains(&"list-b".to_string()));
    assert!(
        !ours.iter().any(|t| t.starts_with("__")),
        "internal topics are hidden by default: {ours:?}"
    );
}

#[test]
fn describe_topic_matches_topic_command() {
    let c = cluster();
    create_topic_with_tool("peter-topic", 3, 3, Some("retention.ms=3600000"));
    let bs = c.bootstrap_servers();
    let ours = kafsh_json(&bs, None, r#"describe_topic("peter-topic")"#);
    let tool = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.TopicCommand",
            &[
                "--bootstrap-server",
                &bs,
                "--describe",
                "--topic",
                "peter-topic",
            ],
        ),
        "TopicCommand --describe",
    );
    assert_describe_matches(&ours, &tool);
    assert_eq!(ours["configs"]["retention.ms"], "3600000");
    assert_eq!(ours["partition_count"], 3);
}

#[test]
fn brokers_match_the_registrations_in_zookeeper() {
    let c = cluster();
    let bs = c.bootstrap_servers();
    let ours = kafsh_json(&bs, None, "brokers()");
    let ours = ours.as_array().expect("array");
    let ids: Vec<i64> = ours
        .iter()
        .map(|b| b["id"].as_i64().unwrap_or(-1))
        .collect();
    let expected: Vec<i64> = c.brokers().iter().map(|b| i64::from(b.id)).collect();
    assert_eq!(ids, expected);
    assert_eq!(
        ours.iter().filter(|b| b["controller"] == true).count(),
        1,
        "one controller: {ours:?}"
    );
    // Kafka's own view of the brokers, from their registrations in ZooKeeper.
    let zk = c.zk_connect().expect("zk connect");
    let out = tool_stdout(
        c.kafka_tool(
            "org.apache.zookeeper.ZooKeeperMain",
            &["-server", &zk, "ls", "/brokers/ids"],
        ),
        "zkCli ls",
    );
    let listed = out
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('['))
        .unwrap_or("")
        .to_string();
    for id in &expected {
        assert!(
            listed.contains(&id.to_string()),
            "zkCli lists {listed}, missing {id}"
        );
    }
    for b in ours {
        let port = b["port"].as_i64().unwrap_or(0);
        assert!(
            bs.contains(&format!(":{port}")),
            "broker port {port} not in {bs}"
        );
    }
}

#[test]
fn zk_status_finds_the_leader_that_srvr_reports() {
    let c = cluster();
    let zk = c.zk_connect().expect("zk connect");
    let ours = kafsh_json(&c.bootstrap_servers(), Some(&zk), "zk_status()");
    let ours = ours.as_array().expect("array");
    assert_eq!(ours.len(), 3, "{ours:?}");
    for server in c.zk_servers() {
        // ZooKeeper's own four-letter-word client is the reference.
        let out = tool_stdout(
            c.kafka_tool(
                "org.apache.zookeeper.client.FourLetterWordMain",
                &["127.0.0.1", &server.client_port.to_string(), "srvr"],
            ),
            "FourLetterWordMain srvr",
        );
        let mode = out
            .lines()
            .find_map(|l| l.strip_prefix("Mode: "))
            .unwrap_or("")
            .trim()
            .to_string();
        let addr = format!("127.0.0.1:{}", server.client_port);
        let mine = ours
            .iter()
            .find(|s| s["server"] == addr.as_str())
            .unwrap_or_else(|| panic!("{addr} missing"));
        assert_eq!(mine["mode"], mode.as_str(), "{addr}");
        if mode == "leader" {
            assert_eq!(mine["followers"], 2);
            assert_eq!(mine["synced_followers"], 2);
        }
        assert!(
            mine["version"].as_str().unwrap_or("").starts_with("3."),
            "{mine}"
        );
        assert!(mine["znode_count"].as_u64().unwrap_or(0) > 5);
    }
    assert_eq!(ours.iter().filter(|s| s["mode"] == "leader").count(), 1);
}

#[test]
fn bad_input_gets_one_clear_line_and_a_non_zero_exit() {
    let c = cluster();
    let bs = c.bootstrap_servers();
    let cases: &[(&str, i32, &str)] = &[
        (
            r#"describe_topic("no-such-topic")"#,
            1,
            "describe_topic: topic \"no-such-topic\" does not exist",
        ),
        ("describe_topic(42)", 1, "describe_topic: wrong arguments"),
        (r#"describe_topic("bad name!")"#, 1, "contains ' '"),
        (
            "list_topics(#{internl: true})",
            1,
            "unknown option \"internl\"",
        ),
        ("let x = (1 + ;", 1, "syntax error"),
    ];
    for (expr, code, message) in cases {
        let out = kafsh_eval(&bs, None, expr);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{expr}: {err}");
        assert!(err.contains(message), "{expr}: {err}");
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{expr}: one line expected: {err}"
        );
        assert!(err.contains("line 1"), "{expr}: position expected: {err}");
    }
    let out = kafsh_eval("127.0.0.1:1", None, "list_topics()");
    assert_eq!(out.status.code(), Some(3), "unreachable cluster");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Kafka broker reachable"));
    // Nothing was created by any of that.
    let topics = kafsh_json(&bs, None, "list_topics()");
    assert!(!topics
        .as_array()
        .expect("array")
        .iter()
        .any(|t| t == "no-such-topic" || t == "bad name!"));
}

#[test]
fn topic_lifecycle_matches_kafka_tools() {
    common::topics_suite::lifecycle_matches_kafka_tools(cluster(), "zk-life");
}

#[test]
fn topic_bad_input_changes_nothing() {
    common::topics_suite::bad_input_changes_nothing(cluster(), "zk-bad");
}

#[test]
fn topic_dry_run_changes_nothing() {
    common::topics_suite::dry_run_changes_nothing(cluster(), "zk-dry");
}

#[test]
fn broker_configs_are_incremental() {
    common::topics_suite::broker_configs(cluster());
}

#[test]
fn health_and_log_dirs_match_kafka_tools() {
    common::topics_suite::health_and_log_dirs(cluster(), "zk-health");
}

#[test]
fn describe_group_matches_consumer_group_command() {
    common::groups_suite::describe_matches_consumer_group_command(cluster(), "zk-g");
}

#[test]
fn reset_offsets_and_delete_group() {
    common::groups_suite::reset_and_delete(cluster(), "zk-r");
}

#[test]
fn legacy_zookeeper_groups_with_lag() {
    common::groups_suite::legacy_zookeeper_groups(cluster(), "zk-l");
}

#[test]
fn lag_check_runbook_for_cron() {
    common::groups_suite::lag_check_runbook(cluster(), "zk-c");
}

#[test]
fn znodes_and_registered_brokers_match_zookeeper_cli() {
    let c = cluster();
    let bs = c.bootstrap_servers();
    let zk = c.zk_connect().expect("zk");
    // zk_brokers and zk_ls agree with ZooKeeper's own CLI (under the chroot).
    let chroot = c.chroot().unwrap_or_default();
    let cli = tool_stdout(
        c.zk_cli(&["ls", &format!("{chroot}/brokers/ids")]),
        "zkCli ls",
    );
    let listed = cli
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('['))
        .unwrap_or("")
        .to_string();
    let ids = kafsh_json(&bs, Some(&zk), r#"zk_ls("/brokers/ids")"#);
    let ids: Vec<String> = ids
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(format!("[{}]", ids.join(", ")), listed.trim());
    let regs = kafsh_json(&bs, Some(&zk), "zk_brokers()");
    for (reg, broker) in regs.as_array().expect("array").iter().zip(c.brokers()) {
        assert_eq!(reg["id"], broker.id);
        assert_eq!(reg["port"], i64::from(broker.port));
        assert_eq!(reg["host"], "127.0.0.1");
    }
    let get = kafsh_json(&bs, Some(&zk), r#"zk_get("/brokers/ids/1")"#);
    assert_eq!(get["json"]["port"], i64::from(c.brokers()[0].port));
    assert!(
        get["ephemeral_owner"].as_i64().unwrap_or(0) != 0,
        "broker registrations are ephemeral"
    );
    let tree = kafsh_json(&bs, Some(&zk), r#"zk_tree("/brokers", #{depth: 1})"#);
    assert!(tree
        .as_array()
        .expect("array")
        .iter()
        .any(|e| e["path"] == "/brokers/ids"));

    // Guarded writes: own paths work, Kafka's paths are refused without force.
    kafsh_json(
        &bs,
        Some(&zk),
        r#"zk_create("/kafsh-test/a", "one", #{parents: true})"#,
    );
    let set = kafsh_json(
        &bs,
        Some(&zk),
        r#"zk_set("/kafsh-test/a", #{k: 2}, #{version: 0})"#,
    );
    assert_eq!(set["json"]["k"], 2);
    assert_eq!(set["version"], 1);
    let cli = tool_stdout(
        c.zk_cli(&["get", &format!("{chroot}/kafsh-test/a")]),
        "zkCli get",
    );
    assert!(cli.contains(r#"{"k":2}"#), "{cli}");
    for (expr, code, message) in [
        (
            r#"zk_set("/brokers/ids/1", "x", #{})"#,
            5,
            "belongs to Kafka",
        ),
        (r#"zk_delete("/controller")"#, 5, "belongs to Kafka"),
        (
            r#"zk_set("/kafsh-test/a", "x", #{version: 7})"#,
            5,
            "version mismatch",
        ),
        (
            r#"zk_get("/no/such/node")"#,
            1,
            "znode \"/no/such/node\" does not exist",
        ),
        (r#"zk_delete("/kafsh-test")"#, 5, "has children"),
        (r#"zk_ls("relative")"#, 1, "must start with '/'"),
    ] {
        let out = kafsh_eval(&bs, Some(&zk), expr);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{expr}: {err}");
        assert!(err.contains(message), "{expr}: {err}");
    }
    // Dry runs change nothing.
    let state = tempfile::tempdir().expect("tmp");
    let out = kafsh(&state)
        .args([
            "--dry-run",
            "--json",
            "--bootstrap-server",
            &bs,
            "--zookeeper",
            &zk,
            "-e",
            r#"zk_delete("/kafsh-test", #{recursive: true})"#,
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        kafsh_json(&bs, Some(&zk), r#"zk_ls("/kafsh-test")"#),
        serde_json::json!(["a"])
    );
    let deleted = kafsh_json(
        &bs,
        Some(&zk),
        r#"zk_delete("/kafsh-test", #{recursive: true})"#,
    );
    assert_eq!(deleted["deleted"], 2);
    // The registered brokers are untouched by all of that.
    assert_eq!(
        kafsh_json(&bs, Some(&zk), "zk_brokers()")
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}

#[test]
fn rebalancing_group_matches_consumer_group_command() {
    common::groups_suite::rebalancing_group_matches(cluster(), "zk-b");
}

#[test]
fn plans_are_balanced_minimal_and_readable_by_kafka_reassign_partitions() {
    let c = cluster();
    let bs = c.bootstrap_servers();
    // The seed's peter5, all on brokers 1 and 2 to begin with.
    kafsh_json(
        &bs,
        None,
        r#"create_topic("plan-peter5", #{assignment: [[1, 2], [2, 1], [1, 2], [2, 1], [1, 2], [2, 1]]})"#,
    );
    let now = kafsh_json(&bs, None, r#"assignment(["plan-peter5"])"#);
    assert_eq!(now["version"], 1);
    assert_eq!(now["partitions"].as_array().map(Vec::len), Some(6));
    let p = kafsh_json(
        &bs,
        None,
        r#"plan_reassignment(#{topics: ["plan-peter5"], brokers: [1, 2, 3]})"#,
    );
    assert_eq!(p["moves"], p["lower_bound"], "{p}");
    assert_eq!(p["moves"], 4, "{p}");
    let mut per_broker = std::collections::HashMap::new();
    let mut leaders = std::collections::HashMap::new();
    for part in p["partitions"].as_array().expect("partitions") {
        for b in part["replicas"].as_array().expect("replicas") {
            *per_broker.entry(b.as_i64().unwrap_or(0)).or_insert(0) += 1;
        }
        *leaders
            .entry(part["replicas"][0].as_i64().unwrap_or(0))
            .or_insert(0) += 1;
    }
    assert!(per_broker.values().all(|n| *n == 4), "{per_broker:?}");
    assert!(leaders.values().all(|n| *n == 2), "{leaders:?}");
    // The seed's rt.json, computed: RF 3, leaders kept first.
    let rt = kafsh_json(&bs, None, r#"plan_replication_factor("plan-peter5", 3)"#);
    for (a, b) in rt["partitions"]
        .as_array()
        .expect("rt")
        .iter()
        .zip(now["partitions"].as_array().expect("now"))
    {
        assert_eq!(a["replicas"].as_array().map(Vec::len), Some(3));
        assert_eq!(a["replicas"][0], b["replicas"][0], "leader kept first");
    }
    // Kafka's own tool reads kafsh's JSON: verifying the current assignment says complete.
    let state = tempfile::tempdir().expect("tmp");
    let file = state.path().join("now.json");
    let out = kafsh_eval(&bs, None, r#"plan_json(assignment(["plan-peter5"]))"#);
    let text: String = serde_json::from_slice(&out.stdout).expect("json string");
    std::fs::write(&file, &text).expect("write");
    let verify = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
            &[
                "--bootstrap-server",
                &bs,
                "--reassignment-json-file",
                &file.display().to_string(),
                "--verify",
            ],
        ),
        "ReassignPartitionsCommand --verify",
    );
    assert!(
        verify.contains("Reassignment of partition plan-peter5-0 is completed")
            || verify.contains("is complete"),
        "{verify}"
    );
    let parsed = kafsh_json(&bs, None, &format!("parse_plan({text:?})"));
    assert_eq!(parsed["partitions"], now["partitions"]);
}

#[test]
fn reassign_with_throttle_waits_elects_and_removes_every_throttle() {
    common::topics_suite::reassign_with_throttle(cluster(), "zk-move");
}

#[test]
fn increase_replication_factor_runbook() {
    let _turn = common::topics_suite::reassignment_turn();
    let c = cluster();
    let bs = c.bootstrap_servers();
    kafsh_json(
        &bs,
        None,
        r#"create_topic("rf-up", #{partitions: 3, replication_factor: 1})"#,
    );
    common::groups_suite::produce(c, "rf-up", 1000);
    let before = kafsh_json(&bs, None, r#"describe_topic("rf-up")"#);
    let state = tempfile::tempdir().expect("tmp");
    let out = kafsh(&state)
        .args([
            "--bootstrap-server",
            &bs,
            "--json",
            "run",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scripts/increase_replication_factor.rhai"
            ),
        ])
        .args([
            "--arg",
            "topic=rf-up",
            "--arg",
            "rf=3",
            "--arg",
            "timeout=2m",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = kafsh_json(&bs, None, r#"describe_topic("rf-up")"#);
    assert_eq!(after["replication_factor"], 3);
    for (a, b) in after["partitions"]
        .as_array()
        .expect("after")
        .iter()
        .zip(before["partitions"].as_array().expect("before"))
    {
        assert_eq!(a["replicas"][0], b["replicas"][0], "leader kept first");
        assert_eq!(a["isr"].as_array().map(Vec::len), Some(3), "{a}");
    }
    assert_describe_matches(&after, &common::topics_suite::tool_describe(c, "rf-up"));
}

#[test]
fn reassign_is_audited_with_its_previous_assignment_and_rolled_back() {
    common::topics_suite::reassign_audit_rollback(cluster(), "zk-rollback");
}

#[test]
fn plan_leaders_keeps_leadership_off_a_broker_without_moving_data() {
    common::topics_suite::leaders_only_keeps_leadership_off_a_broker(cluster(), "zk-leaders");
}

#[test]
fn bytes_balance_lands_every_broker_within_tolerance_by_log_dirs() {
    common::topics_suite::bytes_balance_matches_log_dirs(cluster(), "zk-bytes");
}

#[test]
fn cancel_reassignment_returns_replicas_and_removes_throttles() {
    common::topics_suite::cancel_reassignment_restores(cluster(), "zk-cancel");
}

/// The pre-2.4 way, which 3.9's ZooKeeper-mode controller still honours: the plan written
/// to /admin/reassign_partitions, one at a time, the controller deleting it when done.
#[test]
fn reassignment_through_the_zookeeper_znode() {
    let _turn = common::topics_suite::reassignment_turn();
    let c = cluster();
    let bs = c.bootstrap_servers();
    let zk = c.zk_connect().expect("zk");
    common::topics_suite::create_heavy_topic(c, "zk-znode");
    let started = kafsh_json(
        &bs,
        Some(&zk),
        r#"
        let p = plan_reassignment(#{topics: ["zk-znode"], brokers: [2, 3]});
        let started = reassign(p, #{throttle: 1, via: "zookeeper", force: true});
        let znode = zk_get("/admin/reassign_partitions").json;
        // The controller takes the plan from the znode when its watch fires, not at once.
        wait_until(|| list_reassignments().len() == 4,
                   #{timeout: "30s", interval: "200ms", message: "the controller took the plan"});
        #{started: started, znode: znode, listed: list_reassignments()}
        "#,
    );
    assert_eq!(started["started"]["via"], "zookeeper", "{started}");
    let written = started["znode"]["partitions"]
        .as_array()
        .expect("znode plan");
    assert_eq!(written.len(), 4, "{started}");
    assert_eq!(
        started["listed"].as_array().map(Vec::len),
        Some(4),
        "{started}"
    );
    // A second plan while the first is pending is refused before anything changes.
    let out = kafsh_eval(
        &bs,
        Some(&zk),
        r#"reassign(parse_plan(`{"version":1,"partitions":[{"topic":"zk-znode","partition":0,"replicas":[3]}]}`), #{via: "zookeeper"})"#,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("still in progress"), "{err}");
    // Lift the throttle; the controller completes the moves and deletes the znode.
    let done = kafsh_json(
        &bs,
        Some(&zk),
        r#"
        let pending = #{version: 1, partitions: zk_get("/admin/reassign_partitions").json.partitions};
        remove_throttles("zk-znode");
        let done = wait_reassignment(pending, #{timeout: "2m", interval: "1s"});
        wait_until(|| !zk_ls("/admin").contains("reassign_partitions"), #{timeout: "1m", interval: "1s"});
        #{done: done, after: describe_topic("zk-znode").partitions.map(|p| p.replicas)}
        "#,
    );
    assert_eq!(done["done"]["complete"], true, "{done}");
    for replicas in done["after"].as_array().expect("after") {
        let b = replicas[0].as_i64().unwrap_or(0);
        assert!(b == 2 || b == 3, "{done}");
    }
    common::topics_suite::assert_no_throttle_left(c, "zk-znode");
}

/// A new broker given an id another broker already registered cannot register itself; the
/// scale-out runbook reports that at once instead of waiting for it.
#[test]
fn scale_out_reports_a_duplicate_broker_id() {
    let c = cluster();
    let state = tempfile::tempdir().expect("tmp");
    let out = kafsh(&state)
        .args([
            "--bootstrap-server",
            &c.bootstrap_servers(),
            "run",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/kafka_scale_out.rhai"),
            "--arg",
            "new_brokers=2",
            "--arg",
            "new_endpoints=127.0.0.1:1",
        ])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("broker id 2 is already registered by 127.0.0.1:")
            && err.contains("duplicate broker.id"),
        "{err}"
    );
}

#[test]
fn increase_replication_factor_survives_a_kill_at_its_mutations() {
    let _turn = common::topics_suite::reassignment_turn();
    common::topics_suite::increase_replication_factor_survives_kills(cluster(), "zk-rf-kill");
}

#[test]
fn audit_rollback_restores_configs() {
    common::topics_suite::audit_rollback_restores_configs(cluster(), "zk-audit");
}

/// One answer about the controller in `brokers()` and `cluster()`: the broker holding
/// `/controller` in ZooKeeper, as ZooKeeper's own CLI reads it; every node is a broker only.
#[test]
fn the_controller_is_the_broker_holding_the_controller_znode() {
    let c = cluster();
    let bs = c.bootstrap_servers();
    let chroot = c.chroot().unwrap_or_default();
    let cli = tool_stdout(
        c.zk_cli(&["get", &format!("{chroot}/controller")]),
        "zkCli get /controller",
    );
    let json = cli
        .lines()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or_else(|| panic!("{cli}"));
    let holder: serde_json::Value = serde_json::from_str(json).expect("controller znode");
    let ours = kafsh_json(&bs, None, "#{brokers: brokers(), cluster: cluster()}");
    assert_eq!(
        ours["cluster"]["controller"], holder["brokerid"],
        "{ours}\n{cli}"
    );
    assert_eq!(
        ours["cluster"]["controllers"],
        serde_json::json!([]),
        "{ours}"
    );
    assert_eq!(
        ours["cluster"]["hung_brokers"],
        serde_json::json!([]),
        "{ours}"
    );
    let brokers = ours["brokers"].as_array().expect("brokers");
    let flagged: Vec<&serde_json::Value> =
        brokers.iter().filter(|b| b["controller"] == true).collect();
    assert_eq!(flagged.len(), 1, "{ours}");
    assert_eq!(flagged[0]["id"], holder["brokerid"], "{ours}");
    for b in brokers {
        assert_eq!(b["roles"], "broker", "{b}");
        assert_eq!(b["status"], "up", "{b}");
    }
}

#[test]
fn cluster_report_shows_zookeeper() {
    common::topics_suite::cluster_report_is_healthy(cluster(), "ZooKeeper:");
}

/// The KRaft control-plane functions on a ZooKeeper-mode cluster say so, point to
/// zk_status(), and change nothing.
#[test]
fn kraft_quorum_functions_say_the_cluster_uses_zookeeper() {
    let bs = cluster().bootstrap_servers();
    for expr in [
        "quorum_status()",
        "quorum_replication()",
        "quorum_healthy()",
        "features()",
        r#"update_feature("metadata.version", 21)"#,
        "unregister_broker(3)",
        r#"remove_controller(1, "-_v7-_v7-_v7-_v7-_v7-w")"#,
        r#"add_controller(#{node_id: 4, directory_id: "-_v7-_v7-_v7-_v7-_v7-w", endpoints: ["C://h:1"]})"#,
    ] {
        let out = kafsh_eval(&bs, None, expr);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{expr}: {err}");
        assert!(
            err.contains("this cluster uses ZooKeeper; see zk_status()"),
            "{expr}: {err}"
        );
    }
    assert_eq!(
        kafsh_json(&bs, None, "brokers().len()"),
        3,
        "broker 3 is still registered"
    );
}

/// Sends keys to a REPL in a pty without Enter, then lets the editor redraw.
fn keys(p: &mut rexpect::session::PtySession, text: &str) {
    p.send(text).expect("send");
    p.flush().expect("flush");
    std::thread::sleep(std::time::Duration::from_millis(400));
}

/// Everything the shell printed until it reads the next line: the line editor turns on
/// bracketed paste once per prompt (the prompt text itself is redrawn while typing, and
/// keys typed before the editor reads are lost).
fn ready(p: &mut rexpect::session::PtySession) -> String {
    p.exp_string("\x1b[?2004h").expect("the next prompt")
}

/// Types a line and returns what the shell printed for it.
fn enter(p: &mut rexpect::session::PtySession, line: &str) -> String {
    type_line(p, line);
    ready(p)
}

/// The shell as an operator lives in it, in a real terminal: startup scripts, nested
/// results as blocks, the signature hint, completion of option keys, groups, config keys,
/// broker ids and znode paths from this cluster, highlighting, contexts() and use_context
/// onto a second (KRaft) cluster marked production, whose prompt is red and whose changes
/// show their dry run and ask first.
#[test]
fn the_shell_completes_from_the_cluster_and_switches_to_a_production_context() {
    let c = cluster();
    let other = Cluster::start(ClusterSpec::kraft().brokers(1)).expect("a second cluster");
    create_topic_with_tool("sh-a", 2, 2, None);
    create_topic_with_tool("sh-b", 1, 1, None);
    let state = tempfile::tempdir().expect("tmp");
    let dir = state.path();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "current_context = \"zk\"\n\
             [contexts.zk]\nbootstrap_servers = \"{}\"\nzookeeper = \"{}\"\n\
             [contexts.prod-eu]\nbootstrap_servers = \"{}\"\nproduction = true\ninit = \"prod.rhai\"\n",
            c.bootstrap_servers(),
            c.zk_connect().expect("zk"),
            other.bootstrap_servers()
        ),
    )
    .expect("config");
    std::fs::write(
        dir.join("init.rhai"),
        "fn hello() { `hi from init, ${list_topics().len() > 0}` }\n",
    )
    .expect("init.rhai");
    std::fs::write(dir.join("prod.rhai"), "let ok = 1;\nlet broken = 1 +* 2;\n")
        .expect("prod.rhai");
    let mut cmd = kafsh(&state);
    cmd.env_remove("NO_COLOR").env("TERM", "xterm");
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).expect("spawn kafsh in a pty");
    p.exp_string("kafsh:zk> ")
        .expect("prompt of the config's context");

    let out = enter(&mut p, "hello()");
    assert!(
        out.contains("hi from init, true"),
        "init.rhai's function: {out}"
    );

    // Topics matching a pattern: a block per topic, its partitions as a table.
    let out = enter(&mut p, r#"describe_topics("sh-.*")"#);
    assert!(!out.contains("items]"), "{out}");
    assert_eq!(out.matches("\r\nPARTITION").count(), 2, "{out}");
    assert!(out.rfind("sh-a") < out.rfind("sh-b"), "{out}");

    // The signature hint while typing a call (dim, after the cursor), then Ctrl-U.
    keys(&mut p, "create_topic(");
    p.exp_string("create_topic(name: String, options: Map)")
        .expect("signature hint");
    p.exp_string("if_not_exists")
        .expect("the options in the hint");
    keys(&mut p, "\x15");

    // Option keys of the call being typed.
    keys(&mut p, r#"create_topic("sh-c", #{parti"#);
    keys(&mut p, "\t");
    enter(&mut p, "1})");
    let out = enter(&mut p, r#"describe_topic("sh-c").partitions.len()"#);
    assert!(
        out.contains("\r\n1\r\n"),
        "partitions: completed, one partition: {out}"
    );

    // A group's name from the cluster, then lag() as a block with its rows.
    let out = enter(
        &mut p,
        r#"reset_offsets("sh-group", #{topic: "sh-a", to: "earliest", execute: true}).executed"#,
    );
    assert!(out.contains("\r\ntrue\r\n"), "a group with offsets: {out}");
    keys(&mut p, r#"describe_group("sh-gr"#);
    keys(&mut p, "\t");
    let out = enter(&mut p, r#"").group"#);
    assert!(
        out.contains("\r\nsh-group\r\n"),
        "group name completed: {out}"
    );
    let out = enter(&mut p, r#"lag(#{groups: ["sh-group"]})"#);
    assert!(!out.contains("items]"), "{out}");
    assert!(out.contains("LOG-END-OFFSET"), "{out}");

    // A config key of the topic being configured.
    keys(&mut p, r#"set_config("sh-a", "cleanup.pol"#);
    keys(&mut p, "\t");
    enter(&mut p, r#"", "compact")"#);
    let out = enter(
        &mut p,
        r#"describe_config("topic", "sh-a").map(|c| `${c.name}=${c.value}`)"#,
    );
    assert!(
        out.contains("cleanup.policy=compact"),
        "config key completed: {out}"
    );

    // A broker id, and a znode path under the chroot.
    keys(&mut p, r#"describe_config("broker", ""#);
    keys(&mut p, "\t");
    let out = enter(&mut p, r#"").len() >= 0"#);
    assert!(out.contains("\r\ntrue\r\n"), "broker id completed: {out}");
    keys(&mut p, r#"zk_ls("/brok"#);
    keys(&mut p, "\t");
    let out = enter(&mut p, r#"")"#);
    assert!(out.contains("\r\nids\r\n"), "znode path completed: {out}");

    // Highlighting on a terminal: kafsh's functions, strings and numbers in colour.
    let out = enter(&mut p, r#"list_topics().len() > 2"#);
    assert!(out.contains("\x1b[36mlist_topics\x1b[0m"), "{out:?}");
    assert!(out.contains("\x1b[33m2\x1b[0m"), "{out:?}");

    // Contexts, and switching to the production one: its broken init is reported with
    // the file and line, the shell goes on; the prompt is red and names the context.
    let out = enter(&mut p, "contexts().map(|c| c.name)");
    assert!(out.contains("prod-eu"), "{out}");
    type_line(&mut p, r#"use_context("prod-eu")"#);
    p.exp_string("PRODUCTION")
        .expect("the greeting says production");
    p.exp_string("prod.rhai:2")
        .expect("the broken init named with its line");
    p.exp_string("\x1b[1;31mkafsh:prod-eu [PRODUCTION]> ")
        .expect("a red production prompt");
    let out = enter(&mut p, "hello()");
    assert!(
        out.contains("hi from init, false"),
        "functions defined before stay: {out}"
    );

    // Reads just run; a change shows its dry run and asks.
    type_line(
        &mut p,
        r#"create_topic("prod-t", #{partitions: 1, replication_factor: 1})"#,
    );
    p.exp_string("would make 1 change(s) on PRODUCTION context prod-eu")
        .expect("preview");
    p.exp_string("create_topic prod-t")
        .expect("the change listed");
    p.exp_string("[y/N]").expect("asked");
    let out = enter(&mut p, "n");
    assert!(out.contains("not run: nothing changed on prod-eu"), "{out}");
    let out = enter(&mut p, r#"list_topics().contains("prod-t")"#);
    assert!(out.contains("\r\nfalse\r\n"), "nothing created: {out}");
    type_line(
        &mut p,
        r#"create_topic("prod-t", #{partitions: 1, replication_factor: 1}).topic"#,
    );
    p.exp_string("[y/N]").expect("asked again");
    let out = enter(&mut p, "y");
    assert!(
        out.lines().any(|l| l.trim() == "prod-t"),
        "created: {out:?}"
    );
    let listed = tool_stdout(
        other.kafka_tool(
            "org.apache.kafka.tools.TopicCommand",
            &["--bootstrap-server", &other.bootstrap_servers(), "--list"],
        ),
        "TopicCommand --list",
    );
    assert!(listed.lines().any(|l| l == "prod-t"), "{listed}");
    p.send_control('d').expect("ctrl-d");
    p.exp_eof().expect("exit");

    // Piped, the same shell writes no colour; --no-init skips the startup script.
    let mut cmd = kafsh(&state);
    cmd.env_remove("NO_COLOR")
        .arg("--no-init")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"list_topics().len() > 0\nhello()\nlet x = 1 +* 2;\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stdout.contains("true"), "{stdout}");
    assert!(stderr.contains("hello"), "no init, no hello(): {stderr}");
    assert!(stderr.contains("syntax error"), "{stderr}");
    assert!(
        !stdout.contains('\x1b') && !stderr.contains('\x1b'),
        "{stdout:?} {stderr:?}"
    );

    // `kafsh completions bash`, sourced in bash, completes context names.
    let script = dir.join("kafsh.bash");
    let out = kafsh(&state)
        .args(["completions", "bash"])
        .output()
        .expect("completions");
    std::fs::write(&script, &out.stdout).expect("script");
    let bin_dir = kafsh_bin().parent().expect("bin dir").to_path_buf();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(kafsh --context p); COMP_CWORD=2; COMP_LINE='kafsh --context p'; \
             COMP_POINT=${{#COMP_LINE}}; _kafsh kafsh p --context; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .env("KAFSH_CONFIG", dir.join("config.toml"))
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default()),
        )
        .output()
        .expect("bash");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "prod-eu",
        "{out:?}"
    );
}

/// One script, many clusters: this ZooKeeper-mode cluster and a KRaft one, both tagged
/// "prod". `--tag` runs an expression on each and `--json` gives the map; `on()` reaches
/// the other cluster from a script (its dry-run changes named with its context);
/// config_drift.rhai finds the topic whose partitions and configs differ; and a loop over
/// `on_each` goes on with the other cluster when one is stopped midway.
#[test]
fn one_script_reaches_many_clusters_and_survives_one_stopping() {
    let c = cluster();
    let mut other = Cluster::start(ClusterSpec::kraft().brokers(1)).expect("a second cluster");
    create_topic_with_tool("fleet-t", 3, 2, Some("retention.ms=3600000"));
    tool_stdout(
        other.kafka_tool(
            "org.apache.kafka.tools.TopicCommand",
            &[
                "--bootstrap-server",
                &other.bootstrap_servers(),
                "--create",
                "--topic",
                "fleet-t",
                "--partitions",
                "1",
                "--replication-factor",
                "1",
            ],
        ),
        "TopicCommand --create on the second cluster",
    );
    let state = tempfile::tempdir().expect("tmp");
    std::fs::write(
        state.path().join("config.toml"),
        format!(
            "current_context = \"zk\"\n\
             [contexts.zk]\nbootstrap_servers = \"{}\"\nzookeeper = \"{}\"\ntags = [\"prod\", \"eu\"]\ntimeout = \"8s\"\n\
             [contexts.kr]\nbootstrap_servers = \"{}\"\ntags = [\"prod\", \"us\"]\ntimeout = \"8s\"\n",
            c.bootstrap_servers(),
            c.zk_connect().expect("zk"),
            other.bootstrap_servers()
        ),
    )
    .expect("config");
    let run = |args: &[&str]| kafsh(&state).args(args).output().expect("kafsh");

    let out = run(&[
        "--tag",
        "prod",
        "--json",
        "-e",
        r#"describe_topic("fleet-t").partition_count"#,
    ]);
    let map: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON map");
    assert_eq!(map, serde_json::json!({"zk": 3, "kr": 1}), "{out:?}");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 context(s): all succeeded"));

    let out = run(&[
        "--json",
        "-e",
        r#"let wanted = "fleet-t"; fn count(t) { describe_topic(t).partition_count }
           on_each("prod", || count(wanted), #{parallel: true})"#,
    ]);
    let map: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON map");
    assert_eq!(
        map,
        serde_json::json!({"zk": 3, "kr": 1}),
        "in parallel: {out:?}"
    );

    let out = run(&[
        "-e",
        r#"on("kr", || describe_topic("fleet-t").partition_count) + on("eu", || 10)"#,
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "11", "{out:?}");

    let out = run(&[
        "--dry-run",
        "-e",
        r#"on("kr", || create_topic("fleet-new"))"#,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.contains("kr:fleet-new"),
        "{err}"
    );
    let listed = tool_stdout(
        other.kafka_tool(
            "org.apache.kafka.tools.TopicCommand",
            &["--bootstrap-server", &other.bootstrap_servers(), "--list"],
        ),
        "TopicCommand --list",
    );
    assert!(
        !listed.contains("fleet-new"),
        "a dry run created it: {listed}"
    );

    let out = run(&[
        "--json",
        "run",
        "scripts/config_drift.rhai",
        "--arg",
        "contexts=prod",
        "--arg",
        "topics=fleet-.*",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("rows");
    let what: Vec<&str> = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["what"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        what,
        ["configs.retention.ms", "partitions", "replication_factor"],
        "{rows}"
    );

    // Desired state: topics made on the KRaft cluster, exported, applied to this one.
    let out = run(&[
        "--context",
        "kr",
        "-e",
        r#"create_topic("ds-a", #{partitions: 3, replication_factor: 1, config: #{"retention.ms": "1000000", "cleanup.policy": "compact"}});
           create_topic("ds-b", #{partitions: 1, replication_factor: 1});"#,
    ]);
    assert!(out.status.success(), "{out:?}");
    let out = run(&["--context", "kr", "export", "--topics", "ds-.*"]);
    assert!(out.status.success(), "{out:?}");
    let desired = state.path().join("desired.toml");
    std::fs::write(&desired, &out.stdout).expect("desired.toml");
    let desired_arg = desired.display().to_string();
    let out = run(&["--context", "zk", "--dry-run", "apply", &desired_arg]);
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    assert!(c_lacks_topic(c, "ds-a"), "a dry run created it");
    // Killed -9 right after its first change, the apply is finished by applying again,
    // which names what the stopped run had done.
    let out = kafsh(&state)
        .args(["--context", "zk", "apply", &desired_arg])
        .env("KAFSH_CRASH_AFTER_MUTATIONS", "1")
        .output()
        .expect("kafsh");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(9),
        "{out:?}"
    );
    assert_eq!(
        u8::from(c_lacks_topic(c, "ds-a")) + u8::from(c_lacks_topic(c, "ds-b")),
        1,
        "one topic made before the kill"
    );
    let out = run(&["--context", "zk", "apply", &desired_arg]);
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stopped after 1 change(s) (ds-") && err.contains("1 change(s) left"),
        "{err}"
    );
    for (topic, theirs) in [("ds-a", &other), ("ds-b", &other)] {
        let describe = |cluster: &Cluster| {
            let text = tool_stdout(
                cluster.kafka_tool(
                    "org.apache.kafka.tools.TopicCommand",
                    &[
                        "--bootstrap-server",
                        &cluster.bootstrap_servers(),
                        "--describe",
                        "--topic",
                        topic,
                    ],
                ),
                "TopicCommand --describe",
            );
            let first = text.lines().next().unwrap_or_default().to_string();
            let fields = parse_describe_line(&first);
            let mut configs: Vec<String> = field(&fields, "Configs")
                .unwrap_or_default()
                .split(',')
                .filter(|kv| kv.starts_with("retention.ms") || kv.starts_with("cleanup.policy"))
                .map(str::to_string)
                .collect();
            configs.sort();
            (
                field(&fields, "PartitionCount").map(str::to_string),
                field(&fields, "ReplicationFactor").map(str::to_string),
                configs,
            )
        };
        assert_eq!(describe(c), describe(theirs), "{topic} the same on both");
    }
    let out = run(&["--tag", "prod", "apply", &desired_arg]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "nothing left to do on either: {out:?}"
    );
    let bad = state.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[topics]]\nname = \"ds-c\"\npartitions = 2\nreplication_factor = 1\nretention = \"1d\"\n",
    )
    .expect("bad.toml");
    let out = run(&["--context", "zk", "apply", &bad.display().to_string()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("bad.toml:5") && err.contains("retention"),
        "{err}"
    );
    assert!(c_lacks_topic(c, "ds-c"));

    // A loop over both clusters; the KRaft one stops after the first round.
    let mut child = kafsh(&state)
        .args([
            "--call-timeout",
            "4s",
            "-e",
            r#"for round in 1..=3 {
                 let seen = on_each("prod", || list_topics().contains("fleet-t"));
                 print(`round ${round}: zk=${seen.zk} kr=${if type_of(seen.kr) == "map" { "error" } else { seen.kr }}`);
                 if round == 1 { sleep(6); }
               }"#,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).expect("round 1");
    assert_eq!(first.trim(), "round 1: zk=true kr=true");
    other
        .kill(Node::Broker(1))
        .expect("stop the second cluster");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("rounds 2 and 3");
    let status = child.wait().expect("wait");
    assert!(status.success(), "{rest}");
    assert_eq!(
        rest.lines().collect::<Vec<_>>(),
        ["round 2: zk=true kr=error", "round 3: zk=true kr=error"],
    );

    // And --tag with the second cluster down: its error in the map, the exit says so.
    let out = run(&[
        "--tag",
        "prod",
        "--call-timeout",
        "4s",
        "--json",
        "-e",
        "list_topics().len() > 0",
    ]);
    let map: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON map");
    assert_eq!(map["zk"], true, "{map}");
    assert!(map["kr"]["error"].is_string(), "{map}");
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 failed: kr (exit"));
}

/// Whether TopicCommand --list on `c` lacks `topic`.
fn c_lacks_topic(c: &Cluster, topic: &str) -> bool {
    let listed = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.TopicCommand",
            &["--bootstrap-server", &c.bootstrap_servers(), "--list"],
        ),
        "TopicCommand --list",
    );
    !listed.lines().any(|l| l == topic)
}

#[test]
fn log_dirs_plans_and_plan_log_dirs_move_replicas_between_disks() {
    common::jbod_suite::plans_move_replicas_between_log_dirs(cluster(), "zk-jbod");
}
