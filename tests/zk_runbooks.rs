//! The ZooKeeper runbooks on a real 3-server ensemble; the harness's restart commands stand
//! in for ssh/systemctl. A client keeps incrementing a counter znode throughout.

mod common;

use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, NewNode, Node};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RUNBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scripts/zk_rolling_restart.rhai"
);

fn run(state: &tempfile::TempDir, extra: &[&str]) -> std::process::Output {
    kafsh(state)
        .arg("run")
        .arg(RUNBOOK)
        .args(extra)
        .env("KAFSH_CONFIG", state.path().join("config.toml"))
        .output()
        .expect("run the runbook")
}

fn order(c: &Cluster) -> Vec<u32> {
    std::fs::read_to_string(c.dir().join("order.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Increments /counter as fast as it can (retrying through leader changes within the
/// session timeout) until stopped; returns (increments, failures, session expired).
fn counter_client(
    connect: String,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(u64, Vec<String>, bool)> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("rt");
        rt.block_on(async move {
            let client = zookeeper_client::Client::connector()
                .with_session_timeout(Duration::from_secs(20))
                .connect(&connect)
                .await
                .expect("connect");
            let opts = zookeeper_client::CreateMode::Persistent
                .with_acls(zookeeper_client::Acls::anyone_all());
            let _ = client.create("/counter", b"0", &opts).await;
            let mut done = 0u64;
            // Attempts that failed after possibly reaching ZooKeeper (connection lost or
            // timed out with the set in flight): each may have committed one increment.
            let mut uncertain = 0u64;
            let mut failures = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let started = Instant::now();
                loop {
                    let attempt = async {
                        let (data, stat) = client.get_data("/counter").await?;
                        let n: u64 = String::from_utf8_lossy(&data).parse().unwrap_or(0);
                        client
                            .set_data(
                                "/counter",
                                (n + 1).to_string().as_bytes(),
                                Some(stat.version),
                            )
                            .await?;
                        Ok::<_, zookeeper_client::Error>(())
                    };
                    match tokio::time::timeout(Duration::from_secs(5), attempt).await {
                        Ok(Ok(())) => {
                            done += 1;
                            break;
                        }
                        Ok(Err(zookeeper_client::Error::SessionExpired)) => {
                            return (done, failures, true)
                        }
                        Ok(Err(e)) if started.elapsed() > Duration::from_secs(20) => {
                            uncertain += 1;
                            failures.push(e.to_string());
                            break;
                        }
                        _ if started.elapsed() > Duration::from_secs(20) => {
                            uncertain += 1;
                            failures.push("timed out".into());
                            break;
                        }
                        _ => {
                            uncertain += 1;
                            tokio::time::sleep(Duration::from_millis(100)).await
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // The connection may be moving to another server (one just restarted).
            let mut tries = 0;
            let (data, _) = loop {
                match client.get_data("/counter").await {
                    Ok(read) => break read,
                    Err(e) if tries < 40 => {
                        tries += 1;
                        let _ = e;
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Err(e) => panic!("final read: {e}"),
                }
            };
            let value: u64 = String::from_utf8_lossy(&data).parse().unwrap_or(0);
            assert!(
                value >= done,
                "every acknowledged increment is in the counter: {value} < {done}"
            );
            assert!(
                value <= done + uncertain,
                "no increment came from nowhere: {value} > {done} + {uncertain} unacknowledged"
            );
            (done, failures, false)
        })
    })
}

#[test]
fn rolling_restart_restarts_the_leader_last_and_refuses_or_stops_when_unhealthy() {
    let mut c = Cluster::start(ClusterSpec::zk_only(3)).expect("ensemble");
    let state = tempfile::tempdir().expect("tmp");
    let config = state.path().join("config.toml");
    zk_context(&c, &config, &[]);
    let leader = c.zk_leader().expect("a leader");

    // 1. The rolling restart under a writing client.
    let stop = Arc::new(AtomicBool::new(false));
    let client = counter_client(c.zk_connect().expect("zk"), stop.clone());
    std::thread::sleep(Duration::from_secs(1));
    let out = run(&state, &[]);
    stop.store(true, Ordering::SeqCst);
    let (done, failures, expired) = client.join().expect("client");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let restarted = order(&c);
    assert_eq!(restarted.len(), 3, "{restarted:?}");
    assert_eq!(
        *restarted.last().expect("last"),
        leader,
        "the leader goes last: {restarted:?}\n{err}"
    );
    assert!(!expired, "the client's session expired");
    assert!(failures.is_empty(), "writes failed: {failures:?}");
    assert!(done > 20, "the client kept writing: {done}");
    let health = kafsh_json_ctx(&state, "zk_healthy()");
    assert_eq!(health["healthy"], true, "{health}");

    // 2. Refuses to start while a server is down; restarts nothing.
    std::fs::remove_file(c.dir().join("order.log")).expect("reset log");
    let victim = c
        .zk_servers()
        .iter()
        .map(|z| z.id)
        .find(|id| Some(*id) != c.zk_leader())
        .expect("a follower");
    c.kill(Node::Zk(victim)).expect("kill");
    let out = run(&state, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing to start"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(order(&c).is_empty(), "nothing restarted");
    c.start_node(Node::Zk(victim)).expect("bring it back");
    c.wait_zk_leader(Duration::from_secs(30)).expect("leader");

    // 3. Stops at the first server that does not come back (its config is broken before
    // the restart), leaving the remaining servers untouched.
    let follower = c
        .zk_servers()
        .iter()
        .map(|z| z.id)
        .find(|id| Some(*id) != c.zk_leader())
        .expect("a follower");
    let sb = sandbox_bin();
    let breaker = format!(
        "echo {follower} >> {dir}/order.log && echo 'server.{follower}=not a valid line' >> {cfg} && {} restart zk {follower} --dir {dir}",
        sb.display(),
        dir = c.dir().display(),
        cfg = c.node_dir(Node::Zk(follower)).join("zoo.cfg").display()
    );
    zk_context(&c, &config, &[(follower, breaker)]);
    wait_healthy(&state);
    let out = run(&state, &["--arg", "timeout=8s"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("restart_zk: ")
            || err.contains(&format!("ZooKeeper {follower} serving again")),
        "{err}"
    );
    assert_eq!(
        order(&c),
        vec![follower],
        "stopped after the broken server: {err}"
    );

    // Bad input: an unknown server id restarts nothing.
    let out = kafsh(&state)
        .env("KAFSH_CONFIG", state.path().join("config.toml"))
        .args(["-e", "restart_zk(9)"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("ZooKeeper server 9 is not in the inventory"),
        "{err}"
    );
    assert_eq!(order(&c), vec![follower]);
}

fn kafsh_json_ctx(state: &tempfile::TempDir, expr: &str) -> serde_json::Value {
    let out = kafsh(state)
        .env("KAFSH_CONFIG", state.path().join("config.toml"))
        .args(["--json", "-e", expr])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn wait_healthy(state: &tempfile::TempDir) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while kafsh_json_ctx(state, "zk_healthy()")["healthy"] != true {
        assert!(Instant::now() < deadline, "never healthy");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The context of a 3 → 5 scale-out: the old ensemble's connect string and an inventory
/// of all five servers whose commands drive the sandbox.
fn scale_out_context(c: &Cluster, old_connect: &str, state: &tempfile::TempDir) {
    let sb = sandbox_bin();
    let dir = c.dir().display().to_string();
    let mut text = format!(
        "current_context = \"t\"\n[contexts.t]\nbootstrap_servers = \"127.0.0.1:1\"\nzookeeper = \"{old_connect}\"\ntimeout = \"10s\"\n"
    );
    for z in c.zk_servers() {
        let id = z.id;
        text.push_str(&format!(
            "\n[[contexts.t.zookeeper_servers]]\nid = {id}\nhost = \"127.0.0.1\"\nclient_port = {}\npeer_port = {}\nelection_port = {}\n\
             restart = \"{sb} restart zk {id} --dir {dir}\"\nstart = \"{sb} start zk {id} --no-wait --dir {dir}\"\n\
             write_config = \"{sb} zk-servers {id} - --dir {dir}\"\nwrite_myid = \"cat > {}/data/myid\"\n",
            z.client_port,
            z.peer_port,
            z.election_port,
            c.node_dir(Node::Zk(id)).display(),
            sb = sb.display(),
        ));
    }
    std::fs::write(state.path().join("config.toml"), text).expect("config");
}

/// The ensemble's shape as the runbooks must leave it.
fn ensemble_state(state: &tempfile::TempDir) -> serde_json::Value {
    let status = kafsh_json_ctx(state, "zk_status()");
    let servers = status.as_array().cloned().unwrap_or_default();
    let leaders: Vec<&serde_json::Value> =
        servers.iter().filter(|s| s["mode"] == "leader").collect();
    serde_json::json!({
        "servers": servers.len(),
        "followers": servers.iter().filter(|s| s["mode"] == "follower").count(),
        "leaders": leaders.len(),
        "synced_followers": leaders.first().map(|l| l["synced_followers"].clone()),
        "healthy": kafsh_json_ctx(state, "zk_healthy().healthy"),
    })
}

/// The 3 → 5 scale-out under a client incrementing a counter, then killed at kill points
/// (each on a fresh ensemble): every run after a kill ends with five serving servers, one
/// leader with four synced followers, and no acknowledged increment lost.
#[test]
fn scale_out_from_three_to_five_servers() {
    use common::crash::{sweep, Pick, Scenario};
    use std::cell::RefCell;
    type Counter = (
        Arc<AtomicBool>,
        std::thread::JoinHandle<(u64, Vec<String>, bool)>,
    );
    let setup = || -> (Cluster, String, Counter) {
        let mut c = Cluster::start(ClusterSpec::zk_only(3)).expect("ensemble");
        let old_connect = c.zk_connect().expect("zk");
        c.add(NewNode::Zk { id: Some(4) }).expect("add 4");
        c.add(NewNode::Zk { id: Some(5) }).expect("add 5");
        let stop = Arc::new(AtomicBool::new(false));
        let client = counter_client(old_connect.clone(), stop.clone());
        std::thread::sleep(Duration::from_secs(1));
        (c, old_connect, (stop, client))
    };
    let current: RefCell<Option<(Cluster, String, Counter)>> = RefCell::new(None);
    let base_dir = tempfile::tempdir().expect("tmp");
    let base = base_dir.path().join("zoo.base.cfg");
    std::fs::write(&base, "tickTime=500\ninitLimit=20\nsyncLimit=5\n").expect("base");
    let command = |state: &tempfile::TempDir| {
        let guard = current.borrow();
        let (c, old_connect, _) = guard.as_ref().expect("an ensemble");
        scale_out_context(c, old_connect, state);
        let mut cmd = kafsh(state);
        cmd.env("KAFSH_CONFIG", state.path().join("config.toml"))
            .arg("run")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scripts/zk_scale_out.rhai"
            ))
            .args([
                "--arg",
                "new_servers=4,5",
                "--arg",
                &format!("base={}", base.display()),
                "--arg",
                "timeout=90s",
            ]);
        cmd
    };
    let reset = || {
        let old = current.borrow_mut().take();
        drop(old);
        *current.borrow_mut() = Some(setup());
    };
    let state = || {
        let guard = current.borrow();
        let (c, old_connect, (stop, _)) = guard.as_ref().expect("an ensemble");
        let state = tempfile::tempdir().expect("tmp");
        scale_out_context(c, old_connect, &state);
        stop.store(true, Ordering::SeqCst);
        let mut shape = ensemble_state(&state);
        drop(guard);
        let (_, _, (_, client)) = current.borrow_mut().take().expect("an ensemble");
        let (done, failures, expired) = client.join().expect("client");
        shape["client"] = serde_json::json!({
            "session_expired": expired, "failures": failures, "kept_writing": done > 10});
        // The next reset starts another ensemble; this one stays for a moment's reading.
        shape
    };
    let report = sweep(&Scenario {
        name: "zk_scale_out",
        command: &command,
        reset: &reset,
        state: &state,
        sample: &[Pick::Middle, Pick::At(17)],
        after_reference: &|| {},
    });
    assert_eq!(
        report.expected,
        serde_json::json!({"servers": 5, "followers": 4, "leaders": 1, "synced_followers": 4,
            "healthy": true, "client": {"session_expired": false, "failures": [], "kept_writing": true}})
    );
}

/// The rolling restart killed between two restarts, under a writing client: the run after
/// the kill restarts the rest and no server twice.
#[test]
fn rolling_restart_killed_between_restarts_restarts_each_server_once() {
    use common::crash::{sweep, Pick, Scenario};
    let c = Cluster::start(ClusterSpec::zk_only(3)).expect("ensemble");
    let stop = Arc::new(AtomicBool::new(false));
    let client = counter_client(c.zk_connect().expect("zk"), stop.clone());
    let command = |state: &tempfile::TempDir| {
        zk_context(&c, &state.path().join("config.toml"), &[]);
        let mut cmd = kafsh(state);
        cmd.arg("run")
            .arg(RUNBOOK)
            .env("KAFSH_CONFIG", state.path().join("config.toml"));
        cmd
    };
    let reset = || {
        let _ = std::fs::remove_file(c.dir().join("order.log"));
    };
    let state = || {
        let mut restarts: std::collections::BTreeMap<u32, usize> = Default::default();
        for id in order(&c) {
            *restarts.entry(id).or_default() += 1;
        }
        let ctx = tempfile::tempdir().expect("tmp");
        zk_context(&c, &ctx.path().join("config.toml"), &[]);
        let mut shape = ensemble_state(&ctx);
        shape["restarts"] = serde_json::json!(restarts);
        shape
    };
    let report = sweep(&Scenario {
        name: "zk_rolling_restart",
        command: &command,
        reset: &reset,
        state: &state,
        sample: &[Pick::Middle],
        after_reference: &|| {},
    });
    assert_eq!(
        report.expected["restarts"],
        serde_json::json!({"1": 1, "2": 1, "3": 1})
    );
    assert_eq!(report.expected["healthy"], true);
    stop.store(true, Ordering::SeqCst);
    let (done, failures, expired) = client.join().expect("client");
    assert!(!expired, "the client's session expired");
    assert!(failures.is_empty(), "writes failed: {failures:?}");
    assert!(done > 20, "the client kept writing: {done}");
}
