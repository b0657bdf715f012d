//! Every runbook in scripts/ run with --dry-run against a real cluster changes nothing, and
//! a broker that stops answering (SIGSTOP) makes a call fail within its time limit.

mod common;

use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, NewNode, Node};
use std::time::{Duration, Instant};

fn snapshot(
    c: &Cluster,
    bs: &str,
    zk: &str,
) -> (
    serde_json::Value,
    serde_json::Value,
    Vec<String>,
    serde_json::Value,
) {
    let configs: Vec<String> = c
        .zk_servers()
        .iter()
        .map(|z| std::fs::read_to_string(z.dir.join("zoo.cfg")).unwrap_or_default())
        .collect();
    (
        kafsh_json(bs, Some(zk), "list_topics()"),
        kafsh_json(
            bs,
            Some(zk),
            r#"describe_config("topic", "dry-orders").filter(|c| c.source == "dynamic_topic")"#,
        ),
        configs,
        kafsh_json(bs, Some(zk), r#"zk_tree("/", #{depth: 3}).map(|e| e.path)"#),
    )
}

#[test]
fn every_runbook_dry_run_changes_nothing_and_a_frozen_broker_times_out() {
    let mut c = Cluster::start(ClusterSpec::zookeeper()).expect("cluster");
    c.add(NewNode::Zk { id: Some(4) })
        .expect("a fifth... fourth server, not started");
    let bs = c.bootstrap_servers();
    let zk = c.zk_connect().expect("zk");
    kafsh_json(
        &bs,
        None,
        r#"create_topic("dry-orders", #{partitions: 2, replication_factor: 2, config: #{"retention.ms": 3600000}})"#,
    );

    // A context whose inventory logs every command it would run.
    let state = tempfile::tempdir().expect("tmp");
    let ran = state.path().join("ran.log");
    // Two contexts: the running ensemble, and the same plus server 4 for the scale-out.
    let write_config = |path: &std::path::Path, ids: &[u32]| {
        let mut text = format!("current_context = \"t\"\n[contexts.t]\nbootstrap_servers = \"{bs}\"\nzookeeper = \"{zk}\"\ntimeout = \"10s\"\n");
        for z in c.zk_servers().iter().filter(|z| ids.contains(&z.id)) {
            let log = |what: &str| format!("echo {what} {} >> {}", z.id, ran.display());
            text.push_str(&format!(
                "\n[[contexts.t.zookeeper_servers]]\nid = {}\nhost = \"127.0.0.1\"\nclient_port = {}\npeer_port = {}\nelection_port = {}\nrestart = \"{}\"\nstart = \"{}\"\nstop = \"{}\"\nwrite_config = \"{}\"\nwrite_myid = \"{}\"\n",
                z.id,
                z.client_port,
                z.peer_port,
                z.election_port,
                log("restart"),
                log("start"),
                log("stop"),
                log("write_config"),
                log("write_myid"),
            ));
        }
        for b in c.brokers() {
            text.push_str(&format!(
                "\n[[contexts.t.brokers]]\nid = {}\nrestart = \"echo restart broker {} >> {}\"\n",
                b.id,
                b.id,
                ran.display()
            ));
        }
        std::fs::write(path, text).expect("config");
    };
    let config = state.path().join("config.toml");
    write_config(&config, &[1, 2, 3]);
    let config_with_4 = state.path().join("config4.toml");
    write_config(&config_with_4, &[1, 2, 3, 4]);
    let before = snapshot(&c, &bs, &zk);

    let prom = state.path().join("lag.prom");
    let scripts = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts");
    let mut runbooks: Vec<std::path::PathBuf> = std::fs::read_dir(scripts)
        .expect("scripts/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
        // The KRaft runbooks need a KRaft cluster: tests/kraft_runbooks.rs dry-runs them;
        // the migration to KRaft (controllers in the inventory) and the upgrade of the
        // migrated cluster to Kafka 4 run in tests/zk_to_kraft.rs.
        .filter(|p| {
            !p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with("kraft_")
                    || n == "zk_to_kraft_migration.rhai"
                    || n == "kafka_rolling_upgrade.rhai"
            })
        })
        .collect();
    runbooks.sort();
    assert!(runbooks.len() >= 4, "{runbooks:?}");
    for runbook in &runbooks {
        let name = runbook
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let extra: Vec<String> = match name.as_str() {
            "zk_scale_out.rhai" => vec!["--arg".into(), "new_servers=4".into()],
            "zk_scale_in.rhai" => vec!["--arg".into(), "remove=4".into()],
            "zk_replace_server.rhai" => vec!["--arg".into(), "server=2".into()],
            "increase_replication_factor.rhai" => vec![
                "--arg".into(),
                "topic=dry-orders".into(),
                "--arg".into(),
                "rf=3".into(),
            ],
            "kafka_scale_out.rhai" => vec![
                "--arg".into(),
                "new_brokers=1,2,3".into(),
                "--arg".into(),
                "shrink_retention=1000".into(),
            ],
            "kafka_scale_in.rhai" => vec!["--arg".into(), "remove=3".into()],
            "config_drift.rhai" => vec!["--arg".into(), "contexts=t".into()],
            "lag_check.rhai" => vec![
                "--arg".into(),
                format!("prometheus={}", prom.display()),
                "--arg".into(),
                "max_lag=1000000".into(),
            ],
            _ => Vec::new(),
        };
        let out = kafsh(&state)
            .env(
                "KAFSH_CONFIG",
                if name == "zk_scale_out.rhai" || name == "zk_scale_in.rhai" {
                    &config_with_4
                } else {
                    &config
                },
            )
            .args(["--dry-run", "run"])
            .arg(runbook)
            .args(&extra)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name} --dry-run failed: {err}");
        assert!(
            err.contains("dry run:"),
            "{name}: the plan is listed: {err}"
        );
        assert_eq!(
            before,
            snapshot(&c, &bs, &zk),
            "{name} --dry-run changed the cluster"
        );
    }
    assert!(
        !ran.exists(),
        "no inventory command ran: {}",
        std::fs::read_to_string(&ran).unwrap_or_default()
    );
    assert!(!prom.exists(), "lag_check wrote its file in a dry run");

    // A broker that stops answering: the call fails within its time limit, never hangs.
    let frozen = c.brokers()[0].clone();
    c.pause(Node::Broker(frozen.id)).expect("SIGSTOP");
    let started = Instant::now();
    let out = kafsh(&state)
        .env("KAFSH_CONFIG", "/nonexistent")
        .args([
            "--bootstrap-server",
            &format!("127.0.0.1:{}", frozen.port),
            "-e",
            "list_topics()",
        ])
        .env("KAFSH_CALL_TIMEOUT", "3s")
        .output()
        .expect("run");
    let elapsed = started.elapsed();
    c.resume(Node::Broker(frozen.id)).expect("SIGCONT");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    assert!(
        err.contains("did not answer") || err.contains("timed out"),
        "{err}"
    );
}
