//! The first functions against a real ZooKeeper-mode Kafka 3.9 cluster (3 ZooKeeper servers,
//! 3 brokers), checked against Kafka's and ZooKeeper's own command-line classes on the same
//! cluster. One cluster is shared by the tests of this file; none of them breaks it.

mod common;

use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec};
use std::sync::OnceLock;

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| shared_cluster(ClusterSpec::zookeeper()))
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
