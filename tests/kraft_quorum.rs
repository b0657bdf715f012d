//! The KRaft control plane against a real Kafka 4 cluster with separate controllers and a
//! dynamic quorum (3 controllers, 3 brokers, SASL_SSL and mTLS listeners on the brokers),
//! checked against Kafka's own MetadataQuorumCommand and FeatureCommand on the same cluster,
//! through the brokers and through the controllers (`--bootstrap-controller`). One cluster
//! is shared by the tests of this file; none of them breaks it (the refusals change
//! nothing; the broker one test adds is stopped and unregistered again).

mod common;

use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, SASL_PASSWORD, SASL_USER};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        shared_cluster(
            ClusterSpec::kraft()
                .controllers(3)
                .brokers(3)
                .dynamic_quorum()
                .secure(),
        )
    })
}

/// Tests that compare lists of nodes take turns with the one that adds a broker.
fn nodes_turn() -> std::sync::MutexGuard<'static, ()> {
    static NODES: std::sync::Mutex<()> = std::sync::Mutex::new(());
    NODES.lock().unwrap_or_else(|e| e.into_inner())
}

/// `kafsh --json ARGS -e EXPR`, failing the test on a non-zero exit.
fn kafsh_with(args: &[&str], expr: &str) -> Value {
    let state = tempfile::tempdir().expect("tmp");
    let out = kafsh(&state)
        .arg("--json")
        .args(args)
        .args(["-e", expr])
        .output()
        .expect("kafsh");
    assert!(
        out.status.success(),
        "kafsh {args:?} -e {expr:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// `kafsh ARGS -e EXPR` expected to fail: (exit code, stderr).
fn kafsh_fails(args: &[&str], expr: &str) -> (Option<i32>, String) {
    let state = tempfile::tempdir().expect("tmp");
    let out = kafsh(&state)
        .args(args)
        .args(["-e", expr])
        .output()
        .expect("kafsh");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The two ways in: through the brokers, and to the controllers directly.
fn routes(c: &Cluster) -> [(&'static str, String); 2] {
    [
        ("--bootstrap-server", c.bootstrap_servers()),
        (
            "--bootstrap-controller",
            c.bootstrap_controllers().expect("controllers"),
        ),
    ]
}

fn tool(c: &Cluster, class: &str, args: &[&str]) -> String {
    tool_stdout(c.kafka_tool(class, args), class)
}

/// `describe --status` as key → value.
fn parse_status(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn num(s: &str) -> i64 {
    s.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// `low <= x <= high`, naming what.
fn bracketed(what: &str, low: i64, x: i64, high: i64) {
    assert!(
        low <= x && x <= high,
        "{what}: Kafka's tool says {x}, kafsh said {low} before and {high} after"
    );
}

/// A voter or observer of `describe --status` as kafsh prints it: the tool prints the zero
/// directory id as null and leaves out an empty endpoint list.
fn member(v: &Value) -> Value {
    let mut m = serde_json::json!({"id": v["id"], "directoryId": v["directory_id"]});
    if v["endpoints"].as_array().is_some_and(|e| !e.is_empty()) {
        m["endpoints"] = v["endpoints"].clone();
    }
    m
}

/// quorum_status() equals `describe --status` on the same cluster: the same cluster id,
/// leader, epoch, voters (ids, directory ids, endpoints, in order) and observers; the
/// numbers that move while the tool runs (the high watermark grows with every no-op record,
/// lags flicker) lie between what kafsh said just before and just after.
#[test]
fn quorum_status_matches_metadata_quorum_command_both_ways() {
    let c = cluster();
    let _turn = nodes_turn();
    for (flag, servers) in routes(c) {
        let route = [flag, servers.as_str()];
        let before = kafsh_with(&route, "quorum_status()");
        let text = tool(
            c,
            "org.apache.kafka.tools.MetadataQuorumCommand",
            &[flag, &servers, "describe", "--status"],
        );
        let after = kafsh_with(&route, "quorum_status()");
        let t = parse_status(&text);
        assert_eq!(
            before["leader_id"], after["leader_id"],
            "no election meanwhile"
        );
        assert_eq!(
            t["ClusterId"],
            before["cluster_id"].as_str().unwrap(),
            "{text}"
        );
        assert_eq!(num(&t["LeaderId"]), int(&before["leader_id"]), "{text}");
        assert_eq!(
            num(&t["LeaderEpoch"]),
            int(&before["leader_epoch"]),
            "{text}"
        );
        bracketed(
            "HighWatermark",
            int(&before["high_watermark"]),
            num(&t["HighWatermark"]),
            int(&after["high_watermark"]),
        );
        // Lags: at most what the log grew by meanwhile plus the larger lag kafsh saw.
        let grew = int(&after["high_watermark"]) - int(&before["high_watermark"]);
        let lag = num(&t["MaxFollowerLag"]);
        let seen = int(&before["max_follower_lag"]).max(int(&after["max_follower_lag"]));
        bracketed("MaxFollowerLag", 0, lag, seen + grew);
        let window = int(&after["leader_time_ms"]) - int(&before["leader_time_ms"]);
        let ms = num(&t["MaxFollowerLagTimeMs"]);
        let seen_ms = int(&before["max_follower_lag_ms"]).max(int(&after["max_follower_lag_ms"]));
        bracketed("MaxFollowerLagTimeMs", -1, ms, seen_ms + window);

        let voters: Value = serde_json::from_str(&t["CurrentVoters"]).expect("voters json");
        let ours: Vec<Value> = before["voters"]
            .as_array()
            .unwrap()
            .iter()
            .map(member)
            .collect();
        assert_eq!(voters, Value::Array(ours), "{flag}: voters\n{text}");
        let mut observers: Vec<Value> =
            serde_json::from_str::<Vec<Value>>(&t["CurrentObservers"]).expect("observers json");
        let mut ours: Vec<Value> = before["observers"]
            .as_array()
            .unwrap()
            .iter()
            .map(member)
            .collect();
        let key = |v: &Value| v["id"].as_i64();
        observers.sort_by_key(key);
        ours.sort_by_key(key);
        assert_eq!(observers, ours, "{flag}: observers\n{text}");
        assert_eq!(before["quorum"], "dynamic");
        assert_eq!(before["kraft_version"], 1);
        let ids: Vec<i64> = before["voters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| int(&v["id"]))
            .collect();
        assert_eq!(ids.len(), 3, "{before}");
        assert!(ids.iter().all(|id| (101..=103).contains(id)), "{ids:?}");
    }
}

/// quorum_replication() has the rows of `describe --replication`: the same nodes, directory
/// ids and statuses in the same order (leader, followers, observers in any order), with log
/// end offsets and timestamps between kafsh's answers before and after the tool's.
#[test]
fn quorum_replication_matches_metadata_quorum_command_both_ways() {
    let c = cluster();
    let _turn = nodes_turn();
    for (flag, servers) in routes(c) {
        let route = [flag, servers.as_str()];
        let before = kafsh_with(&route, "quorum_replication()");
        let text = tool(
            c,
            "org.apache.kafka.tools.MetadataQuorumCommand",
            &[flag, &servers, "describe", "--replication"],
        );
        let after = kafsh_with(&route, "quorum_replication()");
        let rows: Vec<Vec<String>> = text
            .lines()
            .skip(1)
            .map(|l| {
                l.split('\t')
                    .map(|f| f.trim().to_string())
                    .filter(|f| !f.is_empty())
                    .collect()
            })
            .filter(|r: &Vec<String>| r.len() == 7)
            .collect();
        let before = before.as_array().unwrap();
        let after = after.as_array().unwrap();
        assert_eq!(rows.len(), before.len(), "{flag}: rows\n{text}\n{before:?}");
        let by_id = |rows: &[Value], id: i64| -> Value {
            rows.iter()
                .find(|r| int(&r["node_id"]) == id)
                .cloned()
                .unwrap_or_else(|| panic!("node {id} not in {rows:?}"))
        };
        let order = |status: &str| -> Vec<(i64, String)> {
            before
                .iter()
                .filter(|r| r["status"] == status)
                .map(|r| (int(&r["node_id"]), status.to_string()))
                .collect()
        };
        let tool_order: Vec<(i64, String)> = rows
            .iter()
            .filter(|r| r[6] != "Observer")
            .map(|r| (num(&r[0]), r[6].clone()))
            .collect();
        let mut ours = order("Leader");
        ours.extend(order("Follower"));
        assert_eq!(tool_order, ours, "{flag}: leader and followers\n{text}");
        for r in &rows {
            let id = num(&r[0]);
            let (b, a) = (by_id(before, id), by_id(after, id));
            let directory = b["directory_id"]
                .as_str()
                .unwrap_or("AAAAAAAAAAAAAAAAAAAAAA");
            assert_eq!(r[1], directory, "{flag}: directory of {id}\n{text}");
            assert_eq!(
                r[6],
                b["status"].as_str().unwrap(),
                "{flag}: status of {id}\n{text}"
            );
            bracketed(
                &format!("{flag}: LogEndOffset of {id}"),
                int(&b["log_end_offset"]),
                num(&r[2]),
                int(&a["log_end_offset"]),
            );
            for (col, field) in [(4, "last_fetch_timestamp"), (5, "last_caught_up_timestamp")] {
                bracketed(
                    &format!("{flag}: {field} of {id}"),
                    int(&b[field]),
                    num(&r[col]),
                    int(&a[field]),
                );
            }
            assert!(num(&r[3]) >= 0, "{text}");
        }
    }
}

/// features() has the lines of `kafka-features.sh describe`, both ways: the same features,
/// supported ranges and finalized levels as the tool prints them, the epoch in between.
#[test]
fn features_match_feature_command_both_ways() {
    let c = cluster();
    let _turn = nodes_turn();
    // Each node reports its own epoch of the finalized features and the tool asks any one:
    // kafsh asks each node the route names, before and after.
    let epochs = |flag: &str, servers: &str| -> (Value, i64, i64) {
        let all: Vec<Value> = servers
            .split(',')
            .map(|s| kafsh_with(&[flag, s], "features()"))
            .collect();
        let epochs: Vec<i64> = all.iter().map(|f| int(&f[0]["epoch"])).collect();
        (
            all[0].clone(),
            *epochs.iter().min().unwrap(),
            *epochs.iter().max().unwrap(),
        )
    };
    for (flag, servers) in routes(c) {
        let (before, low, _) = epochs(flag, &servers);
        let text = tool(
            c,
            "org.apache.kafka.tools.FeatureCommand",
            &[flag, &servers, "describe"],
        );
        let (after, _, high) = epochs(flag, &servers);
        // "Feature: x  SupportedMinVersion: 0 ...": tab-separated up to Kafka 4.2, columns
        // padded with spaces in 4.4; no value has a space.
        let lines: Vec<BTreeMap<String, String>> = text
            .lines()
            .filter(|l| l.starts_with("Feature:"))
            .map(|l| {
                let mut fields = BTreeMap::new();
                let mut words = l.split_whitespace();
                while let Some(word) = words.next() {
                    if let Some(key) = word.strip_suffix(':') {
                        let value = words.next().unwrap_or_default();
                        fields.insert(key.to_string(), value.to_string());
                    }
                }
                fields
            })
            .collect();
        let before = before.as_array().unwrap();
        let names: Vec<&str> = lines.iter().map(|l| l["Feature"].as_str()).collect();
        let ours: Vec<&str> = before
            .iter()
            .map(|f| f["feature"].as_str().unwrap())
            .collect();
        assert_eq!(names, ours, "{flag}\n{text}");
        for (l, (b, a)) in lines
            .iter()
            .zip(before.iter().zip(after.as_array().unwrap()))
        {
            assert_eq!(
                l["SupportedMinVersion"],
                b["supported_versions"][0].as_str().unwrap(),
                "{text}"
            );
            assert_eq!(
                l["SupportedMaxVersion"],
                b["supported_versions"][1].as_str().unwrap(),
                "{text}"
            );
            assert_eq!(
                l["FinalizedVersionLevel"],
                b["version"].as_str().unwrap(),
                "{text}"
            );
            assert_eq!(
                b["epoch"], before[0]["epoch"],
                "one epoch for every feature"
            );
            assert_eq!(a["feature"], b["feature"]);
            bracketed(
                &format!("{flag}: epoch of {}", l["Feature"]),
                low,
                num(&l["Epoch"]),
                high,
            );
        }
        assert!(
            names.contains(&"metadata.version") && names.contains(&"kraft.version"),
            "{text}"
        );
    }
    // Every node's ranges: the three brokers and the three controllers, with both routes.
    let per_node = kafsh_with(
        &[
            "--bootstrap-server",
            &c.bootstrap_servers(),
            "--bootstrap-controller",
            &c.bootstrap_controllers().unwrap(),
        ],
        r#"features(#{nodes: true}).filter(|f| f.feature == "kraft.version").map(|f| `${f.role} ${f.node} ${f.supported_max}`)"#,
    );
    let mut got: Vec<String> = serde_json::from_value(per_node).unwrap();
    got.sort();
    let mut want: Vec<String> = [
        "broker 1",
        "broker 2",
        "broker 3",
        "controller 101",
        "controller 102",
        "controller 103",
    ]
    .iter()
    .map(|n| format!("{n} 1"))
    .collect();
    want.sort();
    assert_eq!(got, want);
}

/// cluster() and brokers() through the controllers only: the controllers describe
/// themselves (DescribeCluster, KIP-919), the brokers are the metadata log's observers, and
/// what only brokers serve is null with a note.
#[test]
fn cluster_and_brokers_through_the_controllers() {
    let c = cluster();
    let _turn = nodes_turn();
    let route = [
        "--bootstrap-controller",
        &c.bootstrap_controllers().unwrap(),
    ];
    let nodes = kafsh_with(&route, "brokers()");
    let nodes = nodes.as_array().unwrap();
    let ids: Vec<i64> = nodes.iter().map(|n| int(&n["id"])).collect();
    assert_eq!(ids, vec![101, 102, 103], "{nodes:?}");
    assert!(
        nodes
            .iter()
            .all(|n| n["roles"] == "controller" && n["status"] == "up"),
        "{nodes:?}"
    );
    assert_eq!(
        nodes.iter().filter(|n| n["controller"] == true).count(),
        1,
        "{nodes:?}"
    );
    let summary = kafsh_with(&route, "cluster()");
    assert_eq!(summary["mode"], "kraft");
    assert_eq!(summary["controllers"], serde_json::json!([101, 102, 103]));
    assert_eq!(summary["partitions"], Value::Null, "{summary}");
    assert!(
        summary["note"]
            .as_str()
            .unwrap()
            .contains("--bootstrap-server"),
        "{summary}"
    );
    let brokers: Vec<i64> = summary["brokers"]
        .as_array()
        .unwrap()
        .iter()
        .map(int)
        .collect();
    for id in [1, 2, 3] {
        assert!(brokers.contains(&id), "{summary}");
    }
    let leader = kafsh_with(&route, "quorum_status().leader_id");
    assert_eq!(summary["controller"], leader);
    // Both routes: brokers and then controller-only nodes.
    let both = kafsh_with(
        &[
            "--bootstrap-server",
            &c.bootstrap_servers(),
            "--bootstrap-controller",
            &c.bootstrap_controllers().unwrap(),
        ],
        "brokers().map(|b| `${b.id} ${b.roles}`)",
    );
    assert_eq!(
        both,
        serde_json::json!([
            "1 broker",
            "2 broker",
            "3 broker",
            "101 controller",
            "102 controller",
            "103 controller"
        ])
    );
    // A broker-only request through the controllers says what to give.
    let (code, err) = kafsh_fails(&route, "list_topics()");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--bootstrap-server"), "{err}");
}

/// The quorum functions work over SASL_SSL (SCRAM) and mutual TLS like the rest: the
/// brokers forward them to the controllers.
#[test]
fn quorum_functions_over_sasl_ssl_and_mutual_tls() {
    let c = cluster();
    let state = tempfile::tempdir().expect("tmp");
    let password = state.path().join("password");
    std::fs::write(&password, SASL_PASSWORD).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&password, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let tls = |f: &str| c.tls_dir().join(f).display().to_string();
    let config = format!(
        "[contexts.sasl]\nbootstrap_servers = \"{}\"\npassword_file = \"{}\"\n[contexts.sasl.properties]\n\
         \"security.protocol\" = \"SASL_SSL\"\n\"sasl.mechanism\" = \"SCRAM-SHA-512\"\n\"sasl.username\" = \"{SASL_USER}\"\n\"ssl.ca.location\" = \"{}\"\n\
         [contexts.mtls]\nbootstrap_servers = \"{}\"\n[contexts.mtls.properties]\n\
         \"security.protocol\" = \"SSL\"\n\"ssl.ca.location\" = \"{}\"\n\"ssl.certificate.location\" = \"{}\"\n\"ssl.key.location\" = \"{}\"\n",
        c.secure_bootstrap_servers().expect("SASL_SSL listener"),
        password.display(),
        tls("ca.pem"),
        c.mtls_bootstrap_servers().expect("mTLS listener"),
        tls("ca.pem"),
        tls("client.pem"),
        tls("client.key"),
    );
    std::fs::write(state.path().join("config.toml"), config).unwrap();
    let plain = kafsh_with(
        &["--bootstrap-server", &c.bootstrap_servers()],
        "quorum_status().cluster_id",
    );
    // SCRAM credentials reach the brokers shortly after the sandbox created them.
    let deadline = Instant::now() + Duration::from_secs(60);
    for context in ["sasl", "mtls"] {
        loop {
            let out = kafsh(&state)
                .args(["--json", "--context", context, "-e"])
                .arg("#{id: quorum_status().cluster_id, healthy: quorum_healthy().healthy, features: features().len()}")
                .output()
                .expect("kafsh");
            if out.status.success() {
                let v: Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(v["id"], plain, "{context}");
                assert_eq!(v["healthy"], true, "{context}");
                assert!(int(&v["features"]) >= 2, "{context}: {v}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{context}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// The refusals change nothing: adding a controller that is not observing, removing one
/// that would leave too small a quorum or is the leader, a wrong directory id, a downgrade
/// without force (it says what it gives up), an unknown feature; dry runs validate only.
#[test]
fn voter_and_feature_changes_are_refused_with_the_reason_and_dry_runs_change_nothing() {
    let c = cluster();
    let bs = c.bootstrap_servers();
    let route = ["--bootstrap-server", bs.as_str()];
    let status = kafsh_with(&route, "quorum_status()");
    let leader = int(&status["leader_id"]);
    let voter = |id: i64| -> String {
        status["voters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| int(&v["id"]) == id)
            .map(|v| v["directory_id"].as_str().unwrap().to_string())
            .unwrap()
    };
    let follower = [101, 102, 103]
        .into_iter()
        .find(|id| *id != leader)
        .unwrap();

    let (code, err) = kafsh_fails(
        &route,
        r#"add_controller(#{node_id: 109, directory_id: "-_v7-_v7-_v7-_v7-_v7-w", endpoints: ["CONTROLLER://127.0.0.1:1"]})"#,
    );
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("controller 109 is not observing the quorum"),
        "{err}"
    );
    let (code, err) = kafsh_fails(
        &route,
        &format!(
            r#"add_controller(#{{node_id: {follower}, directory_id: "{}", endpoints: ["127.0.0.1:1"]}})"#,
            voter(follower)
        ),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("is already a voter"), "{err}");

    let (code, err) = kafsh_fails(
        &route,
        &format!(r#"remove_controller({follower}, "{}")"#, voter(follower)),
    );
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("2 voter(s)") && err.contains("#{force: true}"),
        "{err}"
    );
    let (code, err) = kafsh_fails(
        &route,
        &format!(
            r#"remove_controller({leader}, "{}", #{{force: false}})"#,
            voter(leader)
        ),
    );
    assert_eq!(code, Some(5), "{err}");
    let (code, err) = kafsh_fails(
        &route,
        &format!(r#"remove_controller({follower}, "{}")"#, voter(leader)),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!("voter {follower} has directory id")),
        "{err}"
    );
    let (code, err) = kafsh_fails(&route, r#"remove_controller(7, "-_v7-_v7-_v7-_v7-_v7-w")"#);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("controller 7 is not a voter"), "{err}");
    // --dry-run with force says what would change and changes nothing.
    let planned = kafsh_with(
        &["--bootstrap-server", &bs, "--dry-run"],
        &format!(
            r#"remove_controller({follower}, "{}", #{{force: true}})"#,
            voter(follower)
        ),
    );
    assert_eq!(planned["dry_run"], true);
    assert_eq!(
        planned["voters_after"].as_array().unwrap().len(),
        2,
        "{planned}"
    );

    let (code, err) = kafsh_fails(&route, r#"update_feature("group.version", 0)"#);
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("gives up the consumer group protocol of KIP-848"),
        "{err}"
    );
    let validated = kafsh_with(
        &["--bootstrap-server", &bs, "--dry-run"],
        r#"update_feature("group.version", 0, #{force: true})"#,
    );
    assert_eq!(validated["changed"], false, "{validated}");
    assert_eq!(validated["upgrade_type"], "safe_downgrade", "{validated}");
    let (code, err) = kafsh_fails(
        &route,
        r#"update_feature("metadata.version", 3, #{upgrade_type: "upgrade", force: true})"#,
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("is a downgrade"), "{err}");
    let (code, err) = kafsh_fails(&route, r#"update_feature("no.such.version", 1)"#);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("unknown feature \"no.such.version\""), "{err}");
    let unchanged = kafsh_with(&route, r#"update_feature("kraft.version", 1)"#);
    assert_eq!(unchanged["changed"], false);

    let after = kafsh_with(&route, "#{voters: quorum_status().voters.map(|v| v.id), group: features().filter(|f| f.feature == \"group.version\")[0].finalized_level}");
    assert_eq!(after["voters"].as_array().unwrap().len(), 3, "{after}");
    assert_eq!(after["group"], 1, "{after}");
    let (code, err) = kafsh_fails(&route, "quorum_healthy(#{max_lag: -1})");
    assert_eq!(code, Some(1), "{err}");
}

/// server_properties(#{kraft: true}) of this dynamic quorum: a broker started with exactly
/// those settings (its port and directory aside) and formatted with the printed command
/// joins the cluster. Then unregister_broker: refused while it runs, and while it holds a
/// replica; once stopped and empty, its fenced registration goes.
#[test]
fn server_properties_make_a_broker_that_joins_and_unregister_broker_removes_it_when_gone() {
    let c = cluster();
    let _turn = nodes_turn();
    let bs = c.bootstrap_servers();
    let route = ["--bootstrap-server", bs.as_str()];
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let port = free_port();
    let text = kafsh_with(
        &route,
        &format!(
            r#"server_properties(#{{broker_id: 9, kraft: true, host: "127.0.0.1", port: {port}, log_dirs: "{}"}})"#,
            data.display()
        ),
    );
    let text = text.as_str().unwrap().to_string();
    assert!(text.contains("process.roles=broker\n"), "{text}");
    let controllers: Vec<String> = c.controllers().iter().map(|n| n.endpoint()).collect();
    assert!(
        text.contains(&format!(
            "controller.quorum.bootstrap.servers={}\n",
            controllers.join(",")
        )),
        "{text}"
    );
    assert!(!text.contains("controller.quorum.voters"), "{text}");
    let cluster_id = c.cluster_id().expect("cluster id");
    let format_line = text
        .lines()
        .find_map(|l| l.strip_prefix("#   kafka-storage.sh "))
        .unwrap_or_else(|| panic!("no format line: {text}"));
    assert!(
        format_line.contains(&format!("--cluster-id={cluster_id}")),
        "{text}"
    );
    let props = dir.path().join("server.properties");
    std::fs::write(&props, &text).unwrap();
    let args: Vec<String> = format_line
        .split_whitespace()
        .map(|a| {
            if a == "server.properties" {
                props.display().to_string()
            } else {
                a.to_string()
            }
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    tool(c, "kafka.tools.StorageTool", &args);
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let mut broker = c
        .kafka_tool_command("kafka.Kafka", &[props.display().to_string()])
        .unwrap()
        .stdout(log)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start broker 9");
    let up = |want: bool| {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let ids = kafsh_with(
                &route,
                "brokers().filter(|b| b.status == \"up\").map(|b| b.id)",
            );
            if ids.as_array().unwrap().iter().any(|i| i == 9) == want {
                return;
            }
            assert!(Instant::now() < deadline, "broker 9 up={want} never: {ids}");
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    up(true);

    let (code, err) = kafsh_fails(&route, "unregister_broker(9)");
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("broker 9") && err.contains("is alive"),
        "{err}"
    );
    kafsh_with(&route, r#"create_topic("kq-on-9", #{assignment: [[9]]})"#);
    let _ = broker.kill();
    let _ = broker.wait();
    up(false);
    // Fenced once its session runs out: still registered, with a replica.
    let deadline = Instant::now() + Duration::from_secs(60);
    let err = loop {
        let (code, err) = kafsh_fails(&route, "unregister_broker(9)");
        if !err.contains("is alive") && !err.contains("still answers") {
            assert_eq!(code, Some(5), "{err}");
            break err;
        }
        assert!(Instant::now() < deadline, "broker 9 never fenced: {err}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        err.contains("still holds replicas of 1 partition(s) (topics kq-on-9)"),
        "{err}"
    );
    kafsh_with(&route, r#"delete_topic("kq-on-9")"#);
    let planned = kafsh_with(
        &["--bootstrap-server", &bs, "--dry-run"],
        "unregister_broker(9)",
    );
    assert_eq!(planned["dry_run"], true);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let state = tempfile::tempdir().unwrap();
        let out = kafsh(&state)
            .args(["--bootstrap-server", &bs, "-e", "unregister_broker(9)"])
            .output()
            .unwrap();
        if out.status.success() {
            break;
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            Instant::now() < deadline && err.contains("holds replicas"),
            "{err}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let (code, err) = kafsh_fails(&route, "unregister_broker(9)");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("broker 9 is not registered"), "{err}");
}

fn free_port() -> u16 {
    kafsh_sandbox::free_port().expect("a free port")
}
