//! The version matrix: a lean smoke of every function area against each Kafka version an
//! operator may still run, one small cluster at a time (1 ZooKeeper + 2 brokers, or 2
//! combined KRaft nodes), each answer compared with that version's own Kafka tools where
//! they have one, and each function a version cannot serve checked to fail naming the API
//! it lacks (never a wrong answer).
//!
//! One test runs the versions sequentially and writes the compatibility table to
//! `target/version-matrix.md` (`scripts/version_matrix.sh --readme` puts it in README.md).
//! `KAFSH_MATRIX=2.8.2` (or `3.9.2-kraft`, or a comma-separated list) runs only those.

mod common;

use common::*;
use kafsh_sandbox::jars::Version;
use kafsh_sandbox::{Cluster, ClusterSpec, Flavor};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Instant;

/// The matrix: the oldest 2.x the sandbox runs (reassignment through the znode only), the
/// last 2.x, a 3.x before the KIP-848 previews, the last ZooKeeper-mode release in both
/// modes, the first 4.x and the newest 4.x on Maven Central.
const MATRIX: &[(&str, Flavor)] = &[
    ("2.3.1", Flavor::ZooKeeper),
    ("2.8.2", Flavor::ZooKeeper),
    ("3.6.2", Flavor::ZooKeeper),
    ("3.9.2", Flavor::ZooKeeper),
    ("3.9.2", Flavor::KRaft),
    ("4.0.2", Flavor::KRaft),
    ("4.4.0", Flavor::KRaft),
];

/// What one version's smoke found, for the table.
#[derive(Debug, Default)]
struct Row {
    version: String,
    kind: String,
    tested: Vec<String>,
    refused: Vec<String>,
    seconds: f64,
    failure: Option<String>,
}

/// One version's cluster and how to ask kafsh and the tools about it.
struct Target {
    cluster: Cluster,
    version: Version,
    bootstrap: String,
    zk: Option<String>,
}

impl Target {
    /// kafsh's JSON answer to `expr`, failing the test when kafsh fails.
    fn kafsh(&self, expr: &str) -> Value {
        kafsh_json(&self.bootstrap, self.zk.as_deref(), expr)
    }

    /// kafsh's error for `expr`, failing the test when kafsh succeeds.
    fn kafsh_error(&self, expr: &str) -> String {
        let out = kafsh_eval(&self.bootstrap, self.zk.as_deref(), expr);
        assert!(
            !out.status.success(),
            "kafsh -e {expr:?} succeeded on Kafka {}: {}",
            self.version,
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Runs the first of `classes` this version's jars have (Kafka moved its tools from
    /// `kafka.admin` to `org.apache.kafka.tools` over 3.5–4.1), failing the test when it fails.
    fn tool(&self, classes: &[&str], args: &[&str]) -> String {
        let mut last = String::new();
        for class in classes {
            let out = self
                .cluster
                .kafka_tool(class, args)
                .unwrap_or_else(|e| panic!("{class}: cannot run: {e}"));
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stderr.contains("ClassNotFoundException")
                || stderr.contains("Could not find or load main class")
            {
                last = stderr.into_owned();
                continue;
            }
            assert!(
                out.status.success(),
                "{class} {args:?} failed on Kafka {}: {}\n{stderr}",
                self.version,
                String::from_utf8_lossy(&out.stdout)
            );
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        panic!(
            "none of {classes:?} in the Kafka {} jars: {last}",
            self.version
        )
    }
}

const TOPIC_COMMAND: &[&str] = &[
    "org.apache.kafka.tools.TopicCommand",
    "kafka.admin.TopicCommand",
];
const CONFIG_COMMAND: &[&str] = &[
    "org.apache.kafka.tools.ConfigCommand",
    "kafka.admin.ConfigCommand",
];
const GROUP_COMMAND: &[&str] = &[
    "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "kafka.admin.ConsumerGroupCommand",
];
const LOG_DIRS_COMMAND: &[&str] = &[
    "org.apache.kafka.tools.LogDirsCommand",
    "kafka.admin.LogDirsCommand",
];
const QUORUM_COMMAND: &[&str] = &[
    "org.apache.kafka.tools.MetadataQuorumCommand",
    "kafka.admin.MetadataQuorumCommand",
];

fn selected() -> Vec<(&'static str, Flavor)> {
    let filter = std::env::var("KAFSH_MATRIX").unwrap_or_default();
    let wanted: Vec<String> = filter
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    MATRIX
        .iter()
        .copied()
        .filter(|(v, kind)| {
            wanted.is_empty()
                || wanted
                    .iter()
                    .any(|w| w == v || *w == format!("{v}-{kind}") || *w == kind.to_string())
        })
        .collect()
}

#[test]
fn every_version_of_the_matrix() {
    let versions = selected();
    assert!(
        !versions.is_empty(),
        "KAFSH_MATRIX={:?} selects no version of {MATRIX:?}",
        std::env::var("KAFSH_MATRIX").unwrap_or_default()
    );
    let mut rows = Vec::new();
    for (version, kind) in versions {
        let started = Instant::now();
        eprintln!("version matrix: Kafka {version} ({kind})");
        let mut row = Row {
            version: version.to_string(),
            kind: kind.to_string(),
            ..Row::default()
        };
        let (mut tested, mut refused) = (Vec::new(), Vec::new());
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            smoke(version, kind, &mut tested, &mut refused)
        }));
        row.tested = tested;
        row.refused = refused;
        match outcome {
            Ok(()) => {}
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panicked".into());
                row.failure = Some(message);
            }
        }
        row.seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "version matrix: Kafka {version} ({kind}) {} in {:.1}s",
            if row.failure.is_some() {
                "FAILED"
            } else {
                "passed"
            },
            row.seconds
        );
        rows.push(row);
    }
    let table = render(&rows);
    let path = kafsh_sandbox::jars::target_dir().join("version-matrix.md");
    std::fs::write(&path, &table).expect("write the table");
    eprintln!("version matrix: table in {}\n{table}", path.display());
    let failed: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            r.failure
                .as_ref()
                .map(|f| format!("Kafka {} ({}): {f}", r.version, r.kind))
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// The compatibility table (Markdown).
fn render(rows: &[Row]) -> String {
    let mut s = String::new();
    s.push_str("| Kafka | cluster | tested (each against the version's own tool where it has one) | refused, naming the missing API | result |\n");
    s.push_str("| --- | --- | --- | --- | --- |\n");
    for r in rows {
        let kind = if r.kind == "kraft" {
            "KRaft (2 combined nodes)"
        } else {
            "ZooKeeper (1 server, 2 brokers)"
        };
        let result = match &r.failure {
            None => format!("passed ({:.0} s)", r.seconds),
            Some(f) => format!(
                "FAILED: {}",
                f.lines().next().unwrap_or("").replace('|', "/")
            ),
        };
        let refused = if r.refused.is_empty() {
            "nothing".to_string()
        } else {
            r.refused.join("; ")
        };
        let _ = writeln!(
            s,
            "| {} | {kind} | {} | {refused} | {result} |",
            r.version,
            r.tested.join(", ")
        );
    }
    s
}

fn start(version: &str, kind: Flavor) -> Target {
    let spec = match kind {
        Flavor::ZooKeeper => ClusterSpec::zookeeper().zk_servers(1).brokers(2),
        Flavor::KRaft => ClusterSpec::kraft().brokers(2),
    }
    .version(version);
    let cluster = Cluster::start(spec).expect("start the sandbox cluster");
    let version = cluster.kafka_version();
    Target {
        bootstrap: cluster.bootstrap_servers(),
        zk: cluster.zk_connect(),
        cluster,
        version,
    }
}

/// The lean smoke of one version: every function area once, compared with the version's own
/// tools; `tested` and `refused` collect what the table says.
fn smoke(version: &str, kind: Flavor, tested: &mut Vec<String>, refused: &mut Vec<String>) {
    let t = start(version, kind);
    let v = t.version;
    assert_eq!(v.to_string(), version);
    let topic = "matrix";
    let bs = t.bootstrap.clone();

    // Topics: create, list, describe == TopicCommand --describe.
    t.kafsh(&format!(
        r#"create_topic("{topic}", #{{partitions: 3, replication_factor: 1}})"#
    ));
    let listed = t.kafsh("list_topics()");
    assert!(
        listed
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == topic)),
        "list_topics: {listed}"
    );
    let describe = || {
        (
            t.kafsh(&format!(r#"describe_topic("{topic}")"#)),
            t.tool(
                TOPIC_COMMAND,
                &["--bootstrap-server", &bs, "--describe", "--topic", topic],
            ),
        )
    };
    let (ours, tool) = describe();
    assert_describe_matches(&ours, &tool);
    tested.push("topics".into());

    // Configs: set_config, describe_config == ConfigCommand --describe.
    t.kafsh(&format!(
        r#"set_config("{topic}", "retention.ms", 3600000)"#
    ));
    let configs = t.kafsh(&format!(r#"describe_config("topic", "{topic}")"#));
    assert!(
        configs.as_array().is_some_and(|a| a
            .iter()
            .any(|c| c["name"] == "retention.ms" && c["value"] == "3600000")),
        "describe_config: {configs}"
    );
    // ConfigCommand takes topics through the brokers from 2.6 (before: --zookeeper).
    let connect = if v.at_least(2, 6) {
        ["--bootstrap-server", bs.as_str()]
    } else {
        ["--zookeeper", t.zk.as_deref().expect("ZooKeeper-mode")]
    };
    let tool = t.tool(
        CONFIG_COMMAND,
        &[
            connect[0],
            connect[1],
            "--describe",
            "--entity-type",
            "topics",
            "--entity-name",
            topic,
        ],
    );
    assert!(
        tool.contains("retention.ms=3600000"),
        "ConfigCommand: {tool}"
    );
    tested.push("configs".into());

    // Groups and lag: records on partition 0, a group committed at 2: lag 3, as
    // ConsumerGroupCommand --describe counts it.
    t.kafsh(&format!(
        r#"produce("{topic}", ["a", "b", "c", "d", "e"], #{{partition: 0}})"#
    ));
    t.kafsh(&format!(
        r#"reset_offsets("matrix-group", #{{topic: "{topic}", to: 2, execute: true}})"#
    ));
    let lag = t.kafsh(r#"lag(#{groups: ["matrix-group"]})"#);
    assert_eq!(lag[0]["total_lag"], 3, "lag: {lag}");
    let groups = t.kafsh("list_groups()");
    assert!(
        groups.to_string().contains("matrix-group"),
        "list_groups: {groups}"
    );
    let tool = t.tool(
        GROUP_COMMAND,
        &[
            "--bootstrap-server",
            &bs,
            "--describe",
            "--group",
            "matrix-group",
        ],
    );
    let row: Vec<&str> = tool
        .lines()
        .find(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 5 && f[1] == topic && f[2] == "0"
        })
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_else(|| panic!("no row of {topic} 0 in ConsumerGroupCommand: {tool}"));
    assert_eq!(
        &row[3..6],
        ["2", "5", "3"],
        "CURRENT-OFFSET LOG-END-OFFSET LAG: {tool}"
    );
    tested.push("groups and lag".into());

    // A reassignment with throttles (replication factor 1 → 2), waited for, throttles
    // removed; then the gates a runbook uses must read a current answer at once (Kafka 2.3
    // shows its ISR changes to the brokers' metadata seconds late).
    let r = t.kafsh(&format!(
        r#"let p = plan_replication_factor("{topic}", 2);
           reassign(p, #{{throttle: 10000000}});
           let w = wait_reassignment(p, #{{interval: "1s", timeout: "2m"}});
           #{{wait: w, urp: under_replicated()}}"#
    ));
    assert_eq!(r["wait"]["complete"], true, "{r}");
    let removed = r["wait"]["throttles_removed"].to_string();
    assert!(
        removed.contains("leader.replication.throttled.replicas")
            && removed.contains("follower.replication.throttled.rate"),
        "throttles set and removed: {r}"
    );
    assert_eq!(
        r["urp"],
        Value::Array(vec![]),
        "under_replicated right after: {r}"
    );
    let configs = t.kafsh(&format!(r#"describe_config("topic", "{topic}")"#));
    assert!(
        !configs.to_string().contains("throttled"),
        "throttles left: {configs}"
    );
    // under_replicated() read the partition state (current); the brokers' metadata, which
    // describe_topic and TopicCommand --bootstrap-server both read, catches up with the
    // grown ISR later on 2.3 (its ISR change notifications are batched), so the two
    // answers are compared once the brokers show the full ISR.
    let until = Instant::now() + std::time::Duration::from_secs(60);
    let (ours, tool) = loop {
        let (ours, tool) = describe();
        let settled = ours["partitions"].as_array().is_some_and(|ps| {
            ps.iter().all(|p| {
                p["isr"].as_array().map(Vec::len) == p["replicas"].as_array().map(Vec::len)
            })
        }) && tool.lines().map(parse_describe_line).all(|line| {
            let count = |name| field(&line, name).map(|v| v.split(',').count());
            count("Isr") == count("Replicas")
        });
        if settled || Instant::now() > until {
            break (ours, tool);
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    assert_eq!(ours["replication_factor"], 2, "{ours}");
    assert_describe_matches(&ours, &tool);
    tested.push(if v.at_least(2, 4) {
        "reassignment with throttles".into()
    } else {
        "reassignment with throttles (through /admin/reassign_partitions)".into()
    });

    // Leader election: nothing to elect (every preferred replica leads), so nothing is
    // reported elected; then with partition 0's preferred replica moved, exactly it is.
    let elected = t.kafsh(&format!(r#"elect_leaders(#{{topics: ["{topic}"]}})"#));
    assert_eq!(elected, Value::Array(vec![]), "nothing to elect");
    let ours = t.kafsh(&format!(r#"describe_topic("{topic}")"#));
    let p0 = &ours["partitions"][0];
    let reversed: Vec<i64> = p0["replicas"]
        .as_array()
        .expect("replicas")
        .iter()
        .rev()
        .map(|b| b.as_i64().expect("id"))
        .collect();
    let elected = t.kafsh(&format!(
        r#"let p = parse_plan(`{{"version":1,"partitions":[{{"topic":"{topic}","partition":0,"replicas":{reversed:?}}}]}}`);
           reassign(p);
           wait_reassignment(p, #{{interval: "1s", timeout: "2m", elect: false}});
           elect_leaders(#{{topics: ["{topic}"], timeout: "1m"}})"#
    ));
    assert_eq!(
        elected,
        serde_json::json!([format!("{topic}-0")]),
        "elected"
    );
    // The brokers learn the new leader from the controller a moment later (KRaft: from the
    // metadata log).
    let until = Instant::now() + std::time::Duration::from_secs(15);
    let (ours, tool) = loop {
        let (ours, tool) = describe();
        if ours["partitions"][0]["leader"] == reversed[0] || Instant::now() > until {
            break (ours, tool);
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    assert_eq!(ours["partitions"][0]["leader"], reversed[0], "{ours}");
    assert_describe_matches(&ours, &tool);
    tested.push("leader election".into());

    // Log dirs: the replicas each broker holds == LogDirsCommand --describe.
    let dirs = t.kafsh(&format!(r#"log_dirs(#{{topics: ["{topic}"]}})"#));
    let ours: BTreeSet<(i64, i64)> = dirs["replicas"]
        .as_array()
        .expect("replicas")
        .iter()
        .filter(|r| r["topic"] == topic)
        .map(|r| {
            (
                r["broker"].as_i64().unwrap(),
                r["partition"].as_i64().unwrap(),
            )
        })
        .collect();
    let tool = t.tool(
        LOG_DIRS_COMMAND,
        &[
            "--bootstrap-server",
            &bs,
            "--describe",
            "--broker-list",
            "1,2",
            "--topic-list",
            topic,
        ],
    );
    let json: Value = tool
        .lines()
        .find(|l| l.trim_start().starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("LogDirsCommand printed no JSON: {tool}"));
    let theirs: BTreeSet<(i64, i64)> = json["brokers"]
        .as_array()
        .expect("brokers")
        .iter()
        .flat_map(|b| {
            let id = b["broker"].as_i64().unwrap();
            b["logDirs"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|d| d["partitions"].as_array().into_iter().flatten())
                .filter_map(move |p| {
                    let name = p["partition"].as_str()?;
                    let (t, n) = name.rsplit_once('-')?;
                    let n: i64 = n.parse().ok()?;
                    (t == topic).then_some((id, n))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ours, theirs, "log_dirs vs LogDirsCommand: {dirs}\n{tool}");
    assert_eq!(ours.len(), 6, "3 partitions × 2 replicas: {dirs}");
    tested.push("log dirs".into());

    // The control plane: ZooKeeper functions where there is ZooKeeper (== zkCli's ls),
    // quorum functions where there is KRaft (== kafka-metadata-quorum.sh).
    match kind {
        Flavor::ZooKeeper => {
            let status = t.kafsh("zk_status()");
            assert_eq!(status[0]["mode"], "standalone", "zk_status: {status}");
            let ids = t.kafsh(r#"zk_ls("/brokers/ids")"#);
            assert_eq!(ids, serde_json::json!(["1", "2"]), "zk_ls");
            let chroot = t.cluster.chroot().unwrap_or_default();
            let cli = tool_stdout(
                t.cluster.zk_cli(&["ls", &format!("{chroot}/brokers/ids")]),
                "zkCli ls",
            );
            assert!(cli.contains("[1, 2]"), "zkCli: {cli}");
            let brokers = t.kafsh("zk_brokers()");
            assert_eq!(brokers.as_array().map(Vec::len), Some(2), "{brokers}");
            tested.push("ZooKeeper (zk_status, zk_ls, zk_brokers)".into());
        }
        Flavor::KRaft => {
            let status = t.kafsh("quorum_status()");
            let tool = t.tool(
                QUORUM_COMMAND,
                &["--bootstrap-server", &bs, "describe", "--status"],
            );
            let leader = tool
                .lines()
                .find_map(|l| l.trim().strip_prefix("LeaderId:"))
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|| panic!("no LeaderId in {tool}"));
            assert_eq!(status["leader_id"].to_string(), leader, "{status}\n{tool}");
            let healthy = t.kafsh("quorum_healthy()");
            assert_eq!(healthy["healthy"], true, "{healthy}");
            tested.push("KRaft quorum (quorum_status, quorum_healthy)".into());
        }
    }

    // What this version can and cannot serve: each API before its release is refused naming
    // it, and from its release it answers.
    let needs: &[(&str, &str, u32, u32)] = &[
        ("describe_quotas()", "DescribeClientQuotas", 2, 6),
        ("list_users()", "DescribeUserScramCredentials", 2, 7),
        ("list_transactions()", "ListTransactions", 3, 0),
    ];
    for &(expr, api, major, minor) in needs {
        if v.at_least(major, minor) {
            t.kafsh(expr);
            tested.push(expr.trim_end_matches("()").to_string());
        } else {
            let err = t.kafsh_error(expr);
            assert!(
                err.contains(&format!("does not support the {api} API")) && err.contains("too old"),
                "{expr} on Kafka {v}: {err}"
            );
            refused.push(format!(
                "`{}` ({api}, Kafka {major}.{minor}+)",
                expr.trim_end_matches("()")
            ));
        }
    }
}
