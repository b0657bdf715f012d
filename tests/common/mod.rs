//! Shared helpers of the integration tests: run the real `kafsh` binary against a real
//! sandbox cluster, build in-process engines, and ask Kafka's own tools for reference answers.
#![allow(dead_code)]

pub mod access_suite;
pub mod crash;
pub mod groups4_suite;
pub mod groups_suite;
pub mod jbod_suite;
pub mod kdc;
pub mod load;
pub mod messages_suite;
pub mod topics_suite;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The built `kafsh` binary.
pub fn kafsh_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kafsh"))
}

/// A `kafsh` command isolated from the user's config and state.
pub fn kafsh(state: &tempfile::TempDir) -> Command {
    let mut cmd = Command::new(kafsh_bin());
    cmd.env("KAFSH_CONFIG", state.path().join("config.toml"))
        .env("KAFSH_STATE_DIR", state.path().join("state"))
        .env_remove("KAFSH_CONTEXT")
        .env("RUST_BACKTRACE", "0");
    cmd
}

/// Runs `kafsh --json --bootstrap-server B [--zookeeper Z] -e EXPR`.
pub fn kafsh_eval(bootstrap: &str, zookeeper: Option<&str>, expr: &str) -> Output {
    let state = tempfile::tempdir().expect("temp dir");
    let mut cmd = kafsh(&state);
    cmd.args(["--json", "--bootstrap-server", bootstrap]);
    if let Some(zk) = zookeeper {
        cmd.args(["--zookeeper", zk]);
    }
    cmd.args(["-e", expr]);
    cmd.output().expect("run kafsh")
}

/// Like [`kafsh_eval`], but parses stdout as JSON and fails the test on a non-zero exit.
pub fn kafsh_json(bootstrap: &str, zookeeper: Option<&str>, expr: &str) -> serde_json::Value {
    let out = kafsh_eval(bootstrap, zookeeper, expr);
    assert!(
        out.status.success(),
        "kafsh -e {expr:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "kafsh -e {expr:?}: stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Stdout of a Kafka tool run, failing the test when it failed.
pub fn tool_stdout(out: kafsh_sandbox::Result<Output>, what: &str) -> String {
    let out = out.unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One partition line of `kafka-topics.sh --describe`, as key → value.
pub fn parse_describe_line(line: &str) -> Vec<(String, String)> {
    line.split('\t')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .filter_map(|f| f.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The value of `key` in a parsed describe line.
pub fn field<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A JSON array of integers as "1,2,3" (the way Kafka's tools print lists).
pub fn joined(v: &serde_json::Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// Compares kafsh's describe_topic JSON with TopicCommand's `--describe` text, field by field.
pub fn assert_describe_matches(kafsh: &serde_json::Value, tool: &str) {
    let mut lines = tool.lines().filter(|l| !l.trim().is_empty());
    let header = parse_describe_line(lines.next().expect("topic line"));
    assert_eq!(
        field(&header, "Topic"),
        kafsh["topic"].as_str(),
        "topic\n{tool}"
    );
    if let Some(id) = field(&header, "TopicId") {
        assert_eq!(Some(id), kafsh["topic_id"].as_str(), "topic id\n{tool}");
    }
    assert_eq!(
        field(&header, "PartitionCount").map(str::to_string),
        Some(kafsh["partition_count"].to_string()),
        "partition count\n{tool}"
    );
    assert_eq!(
        field(&header, "ReplicationFactor").map(str::to_string),
        Some(kafsh["replication_factor"].to_string()),
        "replication factor\n{tool}"
    );
    let tool_configs = field(&header, "Configs").unwrap_or("");
    let kafsh_configs: Vec<String> = kafsh["configs"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    let mut tool_set: Vec<&str> = tool_configs.split(',').filter(|s| !s.is_empty()).collect();
    tool_set.sort();
    let mut kafsh_set: Vec<&str> = kafsh_configs.iter().map(String::as_str).collect();
    kafsh_set.sort();
    assert_eq!(tool_set, kafsh_set, "configs\n{tool}");

    let partitions = kafsh["partitions"].as_array().expect("partitions");
    let tool_partitions: Vec<Vec<(String, String)>> = lines.map(parse_describe_line).collect();
    assert_eq!(
        tool_partitions.len(),
        partitions.len(),
        "partition lines\n{tool}"
    );
    for (t, k) in tool_partitions.iter().zip(partitions) {
        assert_eq!(
            field(t, "Partition").map(str::to_string),
            Some(k["partition"].to_string()),
            "{tool}"
        );
        let leader = if k["leader"].is_null() {
            "none".to_string()
        } else {
            k["leader"].to_string()
        };
        assert_eq!(field(t, "Leader"), Some(leader.as_str()), "leader\n{tool}");
        assert_eq!(
            field(t, "Replicas").map(str::to_string),
            Some(joined(&k["replicas"])),
            "replicas\n{tool}"
        );
        assert_eq!(
            field(t, "Isr").map(str::to_string),
            Some(joined(&k["isr"])),
            "isr\n{tool}"
        );
        if let Some(offline) = field(t, "Offline") {
            assert_eq!(
                offline.to_string(),
                joined(&k["offline_replicas"]),
                "offline\n{tool}"
            );
        }
    }
}

/// Starts a cluster shared by the tests of one binary. A `static` is never dropped; the
/// harness's watchdog kills the cluster's processes when this test process exits.
pub fn shared_cluster(spec: kafsh_sandbox::ClusterSpec) -> kafsh_sandbox::Cluster {
    let cluster = kafsh_sandbox::Cluster::start(spec).expect("start the sandbox cluster");
    eprintln!("sandbox cluster in {}", cluster.dir().display());
    cluster
}

/// The `kafsh-sandbox` binary (built on demand: it is another package of the workspace).
pub fn sandbox_bin() -> PathBuf {
    let bin = kafsh_bin().with_file_name("kafsh-sandbox");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-q",
                "-p",
                "kafsh-sandbox",
                "--bin",
                "kafsh-sandbox",
            ])
            .status()
            .expect("build kafsh-sandbox");
        assert!(status.success(), "cannot build kafsh-sandbox");
    }
    bin
}

/// A config.toml context "t" for a ZooKeeper-only sandbox whose inventory restarts servers
/// through `kafsh-sandbox`, logging each restarted id to `<dir>/order.log`. `overrides`
/// replaces the restart command of some ids.
pub fn zk_context(
    cluster: &kafsh_sandbox::Cluster,
    config: &std::path::Path,
    overrides: &[(u32, String)],
) {
    let sb = sandbox_bin();
    let dir = cluster.dir().display().to_string();
    let mut text = format!(
        "current_context = \"t\"\n[contexts.t]\nbootstrap_servers = \"127.0.0.1:1\"\nzookeeper = \"{}\"\ntimeout = \"10s\"\n",
        cluster.zk_connect().expect("zk")
    );
    for z in cluster.zk_servers() {
        let restart = overrides
            .iter()
            .find(|(id, _)| *id == z.id)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| {
                format!(
                    "echo {} >> {dir}/order.log && {} restart zk {} --dir {dir}",
                    z.id,
                    sb.display(),
                    z.id
                )
            });
        text.push_str(&format!(
            "\n[[contexts.t.zookeeper_servers]]\nid = {}\nhost = \"127.0.0.1\"\nclient_port = {}\npeer_port = {}\nelection_port = {}\nrestart = \"{}\"\n",
            z.id,
            z.client_port,
            z.peer_port,
            z.election_port,
            restart.replace('"', "\\\"")
        ));
    }
    std::fs::write(config, text).expect("write config");
}

/// Types a line into a REPL in a pty and presses Enter, as a person would.
pub fn type_line(p: &mut rexpect::session::PtySession, line: &str) {
    p.send(line).expect("send");
    p.send("\r").expect("enter");
    p.flush().expect("flush");
}
