//! The first functions and the REPL against a real KRaft-mode Kafka 4 cluster (3 combined
//! broker+controller nodes), checked against Kafka's own TopicCommand on the same cluster;
//! Kafka 4's group types (KIP-848 consumer, share and streams groups) against
//! kafka-groups.sh, kafka-consumer-groups.sh, kafka-share-groups.sh and
//! kafka-streams-groups.sh; and lag() with one coordinator frozen, on its own cluster.

mod common;

use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, Node};
use std::sync::OnceLock;

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| shared_cluster(ClusterSpec::kraft().log_dirs(2)))
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
fn list_and_describe_match_topic_command() {
    let c = cluster();
    create_topic_with_tool("kraft-topic", 4, 3, Some("cleanup.policy=compact"));
    let bs = c.bootstrap_servers();
    let ours = kafsh_json(&bs, None, r#"describe_topic("kraft-topic")"#);
    let tool = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.TopicCommand",
            &[
                "--bootstrap-server",
                &bs,
                "--describe",
                "--topic",
                "kraft-topic",
            ],
        ),
        "TopicCommand --describe",
    );
    assert_describe_matches(&ours, &tool);
    assert_eq!(ours["configs"]["cleanup.policy"], "compact");

    let listed = kafsh_json(&bs, None, "list_topics()");
    assert!(listed
        .as_array()
        .expect("array")
        .iter()
        .any(|t| t == "kraft-topic"));
    // Other tests create topics meanwhile, and KRaft brokers learn of new topics
    // asynchronously: ask the tool first, then give the broker kafsh asks a moment.
    let tool = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.TopicCommand",
            &["--bootstrap-server", &bs, "--list"],
        ),
        "TopicCommand --list",
    );
    let expected: Vec<&str> = tool
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let with_internal = kafsh_json(&bs, None, "list_topics(#{internal: true})");
        let missing: Vec<&&str> = expected
            .iter()
            .filter(|t| {
                !with_internal
                    .as_array()
                    .expect("array")
                    .iter()
                    .any(|x| x == **t)
            })
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "kafsh misses {missing:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

#[test]
fn brokers_lists_every_node() {
    let c = cluster();
    let ours = kafsh_json(&c.bootstrap_servers(), None, "brokers()");
    let ids: Vec<i64> = ours
        .as_array()
        .expect("array")
        .iter()
        .map(|b| b["id"].as_i64().unwrap_or(-1))
        .collect();
    let expected: Vec<i64> = c.brokers().iter().map(|b| i64::from(b.id)).collect();
    assert_eq!(ids, expected);
    for b in ours.as_array().expect("array") {
        // The sandbox's nodes are combined broker+controller nodes, all answering.
        assert_eq!(b["roles"], "broker,controller", "{b}");
        assert_eq!(b["status"], "up", "{b}");
    }
}

/// One answer about the controller in `brokers()` and `cluster()`: the quorum's leader, as
/// Kafka's MetadataQuorumCommand reports it, with the quorum's voters.
#[test]
fn the_active_controller_is_the_quorum_leader() {
    let c = cluster();
    let bs = c.bootstrap_servers();
    let tool = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.MetadataQuorumCommand",
            &["--bootstrap-server", &bs, "describe", "--status"],
        ),
        "MetadataQuorumCommand describe --status",
    );
    let field = |name: &str| {
        tool.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim_start_matches(':').trim().to_string())
            .unwrap_or_else(|| panic!("{name} in {tool}"))
    };
    let leader: i64 = field("LeaderId").parse().expect("LeaderId");
    let voters: Vec<i64> = field("CurrentVoters")
        .split("\"id\":")
        .skip(1)
        .filter_map(|v| {
            v.trim()
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect();
    let ours = kafsh_json(&bs, None, "#{brokers: brokers(), cluster: cluster()}");
    assert_eq!(ours["cluster"]["controller"], leader, "{ours}\n{tool}");
    let mut controllers: Vec<i64> = ours["cluster"]["controllers"]
        .as_array()
        .expect("controllers")
        .iter()
        .filter_map(|v| v.as_i64())
        .collect();
    controllers.sort();
    assert_eq!(controllers, voters, "{ours}\n{tool}");
    let flagged: Vec<i64> = ours["brokers"]
        .as_array()
        .expect("brokers")
        .iter()
        .filter(|b| b["controller"] == true)
        .map(|b| b["id"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(flagged, vec![leader], "{ours}");
}

#[test]
fn repl_in_a_real_terminal() {
    let c = cluster();
    create_topic_with_tool("repl-orders", 1, 1, None);
    let state = tempfile::tempdir().expect("tmp");
    let mut cmd = kafsh(&state);
    cmd.args(["--bootstrap-server", &c.bootstrap_servers()]);
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).expect("spawn kafsh in a pty");
    p.exp_string("kafsh:default> ").expect("prompt");

    // A command and its table.
    type_line(&mut p, r#"describe_topic("repl-orders")"#);
    p.exp_string("PARTITION").expect("table header");
    p.exp_string("kafsh:default> ").expect("prompt again");

    // Completion of a function name, then of a topic name from the cluster.
    let pause = || std::thread::sleep(std::time::Duration::from_millis(400));
    p.send("brok").expect("send");
    p.flush().expect("flush");
    pause();
    p.send("\t").expect("tab");
    p.flush().expect("flush");
    pause();
    p.send(")\r").expect("enter");
    p.flush().expect("flush");
    p.exp_string("HOST").expect("brokers() completed and run");
    p.exp_string("kafsh:default> ").expect("prompt");
    p.send("describe_topic(\"repl-ord").expect("send");
    p.flush().expect("flush");
    pause();
    p.send("\t").expect("tab");
    p.flush().expect("flush");
    pause();
    p.send("\")\r").expect("enter");
    p.flush().expect("flush");
    p.exp_string("topic:").expect("completed and described");
    p.exp_string("repl-orders").expect("the completed name");
    p.exp_string("PARTITION").expect("table");
    p.exp_string("kafsh:default> ").expect("prompt");

    // Multi-line input, and a script error that does not end the REPL.
    // The block ends with a value that only its evaluation prints (the echo of the typed
    // line shows the sum, not 7077): the next line is typed once the block has run, not
    // while a loaded machine still evaluates it (the prompt is redrawn on every key).
    type_line(&mut p, "let n = 0; for t in list_topics() {");
    type_line(&mut p, "n += 1; } 1000 * 7 + 77");
    p.exp_string("7077").expect("the block ran");
    p.exp_string("kafsh:default> ")
        .expect("prompt after the block");
    type_line(&mut p, "n > 0");
    p.exp_string("true").expect("multi-line result");
    type_line(&mut p, "let x = 1 +* 2;");
    p.exp_string("error: syntax error").expect("error shown");
    p.exp_string("line 1").expect("with position");

    // Ctrl-C stops an endless loop and returns to the prompt.
    type_line(&mut p, "loop { }");
    std::thread::sleep(std::time::Duration::from_millis(500));
    p.send_control('c').expect("ctrl-c");
    p.exp_string("interrupted").expect("interrupted");
    type_line(&mut p, "40 + 2");
    p.exp_string("42").expect("still alive");

    // Ctrl-D exits, and the history file is private.
    p.send_control('d').expect("ctrl-d");
    p.exp_eof().expect("exit");
    let history = state.path().join("state").join("history");
    let mode = std::fs::metadata(&history)
        .expect("history written")
        .permissions();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(mode.mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&history).expect("history");
    assert!(text.contains("describe_topic"));
}

#[test]
fn topic_lifecycle_matches_kafka_tools() {
    common::topics_suite::lifecycle_matches_kafka_tools(cluster(), "kr-life");
}

#[test]
fn topic_bad_input_changes_nothing() {
    common::topics_suite::bad_input_changes_nothing(cluster(), "kr-bad");
}

#[test]
fn topic_dry_run_changes_nothing() {
    common::topics_suite::dry_run_changes_nothing(cluster(), "kr-dry");
}

#[test]
fn broker_configs_are_incremental() {
    common::topics_suite::broker_configs(cluster());
}

#[test]
fn health_and_log_dirs_match_kafka_tools() {
    common::topics_suite::health_and_log_dirs(cluster(), "kr-health");
}

#[test]
fn describe_group_matches_consumer_group_command() {
    common::groups_suite::describe_matches_consumer_group_command(cluster(), "kr-g");
}

#[test]
fn reset_offsets_and_delete_group() {
    common::groups_suite::reset_and_delete(cluster(), "kr-r");
}

#[test]
fn rebalancing_group_matches_consumer_group_command() {
    common::groups_suite::rebalancing_group_matches(cluster(), "kr-b");
}

#[test]
fn reassign_with_throttle_waits_elects_and_removes_every_throttle() {
    common::topics_suite::reassign_with_throttle(cluster(), "kr-move");
}

#[test]
fn reassign_is_audited_with_its_previous_assignment_and_rolled_back() {
    common::topics_suite::reassign_audit_rollback(cluster(), "kr-rollback");
}

#[test]
fn plan_leaders_keeps_leadership_off_a_broker_without_moving_data() {
    common::topics_suite::leaders_only_keeps_leadership_off_a_broker(cluster(), "kr-leaders");
}

#[test]
fn bytes_balance_lands_every_broker_within_tolerance_by_log_dirs() {
    common::topics_suite::bytes_balance_matches_log_dirs(cluster(), "kr-bytes");
}

#[test]
fn cancel_reassignment_returns_replicas_and_removes_throttles() {
    common::topics_suite::cancel_reassignment_restores(cluster(), "kr-cancel");
}

#[test]
fn increase_replication_factor_survives_a_kill_at_its_mutations() {
    let _turn = common::topics_suite::reassignment_turn();
    common::topics_suite::increase_replication_factor_survives_kills(cluster(), "kr-rf-kill");
}

/// A context with no ZooKeeper on a KRaft cluster: the ZooKeeper functions say so instead of
/// reporting on localhost:2181; table output leaves empty fields out (JSON keeps them).
#[test]
fn zookeeper_functions_say_a_kraft_cluster_has_none_and_tables_skip_empty_fields() {
    let c = cluster();
    let bs = c.bootstrap_servers();
    for expr in [
        "zk_status()",
        "zk_ls(\"/\")",
        "zk_healthy()",
        "zk_brokers()",
    ] {
        let out = kafsh_eval(&bs, None, expr);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{expr}: {err}");
        assert!(
            err.contains("no ZooKeeper")
                && err.contains("KRaft")
                && err.contains("quorum_status()"),
            "{expr}: {err}"
        );
        assert!(!err.contains("localhost:2181"), "{expr}: {err}");
    }
    let state = tempfile::tempdir().expect("tmp");
    let out = kafsh(&state)
        .args(["--bootstrap-server", &bs, "--dry-run", "-e"])
        .arg(r#"create_topic("kr-empty-fields", #{partitions: 1})"#)
        .output()
        .expect("run");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        table.contains("topic:") && table.contains("kr-empty-fields"),
        "{table}"
    );
    for empty in ["assignment:", "config:"] {
        assert!(!table.contains(empty), "{empty} is empty: {table}");
    }
    let json = kafsh_eval(
        &bs,
        None,
        r#"let r = create_topic("kr-empty-fields", #{partitions: 1}); delete_topic("kr-empty-fields"); r"#,
    );
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert!(
        json.get("assignment").is_some() && json.get("config").is_some(),
        "{json}"
    );
}

#[test]
fn cluster_report_shows_the_quorum() {
    common::topics_suite::cluster_report_is_healthy(cluster(), "KRaft controller quorum");
}

#[test]
fn kafka4_group_types_match_kafka_tools() {
    common::groups4_suite::types_match_tools(cluster(), "k4");
}

#[test]
fn consumer_protocol_members_leave_rejoin_reset_and_delete() {
    common::groups4_suite::members_leave_and_rejoin(cluster(), "k4m");
}

#[test]
fn share_group_offsets_reset_like_share_group_command() {
    common::groups4_suite::share_group_reset(cluster(), "k4s");
}

#[test]
fn streams_group_matches_streams_group_command() {
    common::groups4_suite::streams_group_matches(cluster(), "k4-wordcount");
}

#[test]
fn lag_survives_a_stuck_coordinator() {
    common::groups4_suite::lag_survives_a_stuck_coordinator();
}

/// A static quorum (controller.quorum.voters, kraft.version 0): quorum_status() says so with
/// the voters `describe --status` lists (no directory ids), voters cannot be added or
/// removed, and server_properties(#{kraft: true}) gives a new broker the cluster's own
/// `controller.quorum.voters` and the format command line with its cluster id.
#[test]
fn a_static_quorum_is_described_refused_changes_and_gives_new_brokers_its_voters() {
    let c = cluster();
    let bs = c.bootstrap_servers();
    let ours = kafsh_json(&bs, None, "quorum_status()");
    assert_eq!(ours["quorum"], "static", "{ours}");
    assert_eq!(ours["kraft_version"], 0, "{ours}");
    let text = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.MetadataQuorumCommand",
            &["--bootstrap-server", &bs, "describe", "--status"],
        ),
        "describe --status",
    );
    let voters_line = text
        .lines()
        .find_map(|l| l.strip_prefix("CurrentVoters:"))
        .expect("CurrentVoters");
    let tool_voters: Vec<serde_json::Value> =
        serde_json::from_str(voters_line.trim()).expect("voters json");
    let tool_ids: Vec<(i64, serde_json::Value)> = tool_voters
        .iter()
        .map(|v| (v["id"].as_i64().unwrap(), v["directoryId"].clone()))
        .collect();
    let our_ids: Vec<(i64, serde_json::Value)> = ours["voters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["id"].as_i64().unwrap(), v["directory_id"].clone()))
        .collect();
    assert_eq!(tool_ids, our_ids, "{text}");
    assert!(our_ids.iter().all(|(_, d)| d.is_null()), "{ours}");

    let out = kafsh_eval(
        &bs,
        None,
        r#"add_controller(#{node_id: 9, directory_id: "-_v7-_v7-_v7-_v7-_v7-w", endpoints: ["CONTROLLER://127.0.0.1:1"]})"#,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("the controller quorum is static"), "{err}");

    let props = kafsh_json(&bs, None, "server_properties(#{broker_id: 9, kraft: true})");
    let props = props.as_str().expect("text");
    let own = std::fs::read_to_string(c.node_dir(Node::Broker(1)).join("server.properties"))
        .expect("broker 1's config");
    let voters = |text: &str| -> Vec<String> {
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("controller.quorum.voters="))
            .unwrap_or_else(|| panic!("no controller.quorum.voters in {text}"));
        let mut v: Vec<String> = line.split(',').map(str::to_string).collect();
        v.sort();
        v
    };
    assert_eq!(voters(props), voters(&own), "{props}");
    assert!(
        !props.contains("controller.quorum.bootstrap.servers"),
        "{props}"
    );
    assert!(props.contains("process.roles=broker\n"), "{props}");
    assert!(
        props.contains(&format!(
            "kafka-storage.sh format --cluster-id={}",
            c.cluster_id().expect("cluster id")
        )),
        "{props}"
    );
}

#[test]
fn log_dirs_plans_and_plan_log_dirs_move_replicas_between_disks() {
    // KRaft JBOD (KIP-858) needs metadata.version 3.7-IV2 (level 17) or later; the sandbox
    // formats with the release's latest.
    let mv = kafsh_json(
        &cluster().bootstrap_servers(),
        None,
        r#"features().filter(|f| f.feature == "metadata.version")"#,
    );
    let level = mv[0]["finalized_level"].as_i64().unwrap_or(0);
    assert!(level >= 17, "metadata.version {mv}");
    common::jbod_suite::plans_move_replicas_between_log_dirs(cluster(), "kr-jbod");
}
