//! The ZooKeeper runbooks on a real 3-server ensemble; the harness's restart commands stand
//! in for ssh/systemctl. A client keeps incrementing a counter znode throughout.

mod common;

use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec};
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
            let (data, _) = client.get_data("/counter").await.expect("final read");
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
    c.kill_zk(victim).expect("kill");
    let out = run(&state, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refusing to start"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(order(&c).is_empty(), "nothing restarted");
    c.start_zk(victim).expect("bring it back");
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
        cfg = c.zk_dir(follower).join("zoo.cfg").display()
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

#[test]
fn scale_out_from_three_to_five_servers() {
    let mut c = Cluster::start(ClusterSpec::zk_only(3)).expect("ensemble");
    let old_connect = c.zk_connect().expect("zk");
    c.add_zk(Some(4)).expect("add 4");
    c.add_zk(Some(5)).expect("add 5");
    let sb = sandbox_bin();
    let dir = c.dir().display().to_string();
    let state = tempfile::tempdir().expect("tmp");
    let base = state.path().join("zoo.base.cfg");
    std::fs::write(&base, "tickTime=500\ninitLimit=20\nsyncLimit=5\n").expect("base");
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
            c.zk_dir(id).display(),
            sb = sb.display(),
        ));
    }
    std::fs::write(state.path().join("config.toml"), text).expect("config");

    let stop = Arc::new(AtomicBool::new(false));
    let client = counter_client(old_connect, stop.clone());
    std::thread::sleep(Duration::from_secs(1));
    let out = kafsh(&state)
        .env("KAFSH_CONFIG", state.path().join("config.toml"))
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
        ])
        .output()
        .expect("run");
    stop.store(true, Ordering::SeqCst);
    let (done, failures, expired) = client.join().expect("client");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let status = kafsh_json_ctx(&state, "zk_status()");
    let servers = status.as_array().expect("array");
    assert_eq!(servers.len(), 5);
    let leaders: Vec<&serde_json::Value> =
        servers.iter().filter(|s| s["mode"] == "leader").collect();
    assert_eq!(leaders.len(), 1, "{status}");
    assert_eq!(leaders[0]["synced_followers"], 4, "{status}");
    assert_eq!(
        servers.iter().filter(|s| s["mode"] == "follower").count(),
        4,
        "{status}"
    );
    assert!(!expired, "the client's session expired");
    assert!(failures.is_empty(), "writes failed: {failures:?}");
    assert!(done > 10, "{done}");
}
