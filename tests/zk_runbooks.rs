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

/// What the counter-writing client saw.
#[derive(Debug)]
struct Writes {
    /// Acknowledged increments (every one is in the counter at the end).
    done: u64,
    /// Increments that failed for good (after 20 s of retries).
    failures: Vec<String>,
    /// Whether its session expired.
    expired: bool,
    /// The longest time between two acknowledged increments.
    longest_stall: Duration,
}

/// Increments /counter as fast as it can (retrying through leader changes within the
/// session timeout) until stopped; checks at the end that the counter holds every
/// acknowledged increment and none from nowhere.
fn counter_client(connect: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Writes> {
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
            let mut last_ack = Instant::now();
            let mut longest_stall = Duration::ZERO;
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
                            longest_stall = longest_stall.max(last_ack.elapsed());
                            last_ack = Instant::now();
                            break;
                        }
                        Ok(Err(zookeeper_client::Error::SessionExpired)) => {
                            return Writes {
                                done,
                                failures,
                                expired: true,
                                longest_stall,
                            }
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
            Writes {
                done,
                failures,
                expired: false,
                longest_stall,
            }
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
    let Writes {
        done,
        failures,
        expired,
        ..
    } = client.join().expect("client");
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
    let ids: Vec<u32> = c.zk_servers().iter().map(|z| z.id).collect();
    membership_context(c, old_connect, &ids, state);
}

/// A context whose ZooKeeper is `connect` and whose inventory lists the servers `ids` as
/// the sandbox has them now (ports, role), with commands that drive the sandbox; with the
/// super user's credentials when the ensemble has dynamic reconfiguration.
fn membership_context(c: &Cluster, connect: &str, ids: &[u32], state: &tempfile::TempDir) {
    let sb = sandbox_bin();
    let dir = c.dir().display().to_string();
    let mut text = format!(
        "current_context = \"t\"\n[contexts.t]\nbootstrap_servers = \"127.0.0.1:1\"\nzookeeper = \"{connect}\"\ntimeout = \"10s\"\n"
    );
    if c.zk_reconfig() {
        text.push_str(&format!(
            "zookeeper_auth = \"{}:{}\"\n",
            kafsh_sandbox::ZK_SUPER_USER,
            kafsh_sandbox::ZK_SUPER_PASSWORD
        ));
    }
    for z in c.zk_servers().iter().filter(|z| ids.contains(&z.id)) {
        let id = z.id;
        text.push_str(&format!(
            "\n[[contexts.t.zookeeper_servers]]\nid = {id}\nhost = \"127.0.0.1\"\nclient_port = {}\npeer_port = {}\nelection_port = {}\n\
             restart = \"{sb} restart zk {id} --dir {dir}\"\nstart = \"{sb} start zk {id} --no-wait --dir {dir}\"\n\
             stop = \"{sb} stop zk {id} --dir {dir}\"\n\
             write_config = \"{sb} zk-servers {id} - --dir {dir}\"\nwrite_myid = \"cat > {}/data/myid\"\nrole = \"{}\"\n",
            z.client_port,
            z.peer_port,
            z.election_port,
            c.node_dir(Node::Zk(id)).display(),
            if z.observer { "observer" } else { "participant" },
            sb = sb.display(),
        ));
    }
    std::fs::write(state.path().join("config.toml"), text).expect("config");
}

/// Runs runbook `name` with `args` in the context of `state`; fails the test when it fails.
fn run_runbook(state: &tempfile::TempDir, name: &str, args: &[String]) -> String {
    let mut cmd = kafsh(state);
    cmd.env("KAFSH_CONFIG", state.path().join("config.toml"))
        .arg("run")
        .arg(format!(
            "{}/scripts/{name}.rhai",
            env!("CARGO_MANIFEST_DIR")
        ));
    for a in args {
        cmd.args(["--arg", a]);
    }
    let started = Instant::now();
    let out = cmd.output().expect("run the runbook");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{name} {args:?} failed: {err}");
    eprintln!(
        "{name} {args:?}: done in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    err
}

/// The client's outcome as a crash sweep compares it.
fn client_shape(w: Writes) -> serde_json::Value {
    eprintln!(
        "client: {} acknowledged increments, longest stall {:.1}s",
        w.done,
        w.longest_stall.as_secs_f64()
    );
    serde_json::json!({"session_expired": w.expired, "failures": w.failures, "kept_writing": w.done > 10})
}

/// The leader's id and epoch, as zk_status() reports them.
fn leader_and_epoch(state: &tempfile::TempDir) -> (serde_json::Value, serde_json::Value) {
    let l = kafsh_json_ctx(state, r#"zk_status().filter(|s| s.mode == "leader")"#);
    (l[0]["id"].clone(), l[0]["epoch"].clone())
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
    type Counter = (Arc<AtomicBool>, std::thread::JoinHandle<Writes>);
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
        // The client reads the counter one last time before the ensemble goes.
        let (c, _, (_, client)) = current.borrow_mut().take().expect("an ensemble");
        shape["client"] = client_shape(client.join().expect("client"));
        drop(c);
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
    let w = client.join().expect("client");
    assert!(!w.expired, "the client's session expired");
    assert!(w.failures.is_empty(), "writes failed: {:?}", w.failures);
    assert!(w.done > 20, "the client kept writing: {}", w.done);
}

/// The whole life of an ensemble under a client incrementing a counter: 3 → 5 servers,
/// 5 → 3 (the leader among those removed), a killed server replaced on a new host, an
/// observer added; every acknowledged increment kept, healthy at the end, the longest write
/// stall reported. With dynamic reconfiguration the scale-out elects no leader (the epoch
/// stays).
fn membership_lifecycle(reconfig: bool) {
    let kind = if reconfig { "dynamic" } else { "static" };
    let spec = if reconfig {
        ClusterSpec::zk_only(3).zk_reconfig()
    } else {
        ClusterSpec::zk_only(3)
    };
    let mut c = Cluster::start(spec).expect("ensemble");
    let connect = c.zk_connect().expect("zk");
    c.add(NewNode::Zk { id: Some(4) }).expect("add 4");
    c.add(NewNode::Zk { id: Some(5) }).expect("add 5");
    c.add(NewNode::ZkObserver { id: Some(6) }).expect("add 6");
    let base_dir = tempfile::tempdir().expect("tmp");
    let base = base_dir.path().join("zoo.base.cfg");
    std::fs::write(&base, "tickTime=500\ninitLimit=20\nsyncLimit=5\n").expect("base");
    let base_arg = format!("base={}", base.display());
    let stop = Arc::new(AtomicBool::new(false));
    let client = counter_client(connect.clone(), stop.clone());
    std::thread::sleep(Duration::from_secs(1));
    let state = tempfile::tempdir().expect("tmp");

    // What ZooKeeper says of itself.
    membership_context(&c, &connect, &[1, 2, 3], &state);
    let config = kafsh_json_ctx(&state, "zk_config()");
    assert_eq!(config["reconfig_enabled"], reconfig, "{config}");
    assert_eq!(config["voters"], serde_json::json!([1, 2, 3]), "{config}");
    assert_eq!(config["agreed"], true, "{config}");
    assert!(config["version"].is_string(), "{config}");
    // Without an inventory, zk_status() takes the ids from the servers' conf.
    let ids = kafsh_json("127.0.0.1:1", Some(&connect), "zk_status().map(|s| s.id)");
    assert_eq!(ids, serde_json::json!([1, 2, 3]));
    let refused = |state: &tempfile::TempDir, expr: &str, why: &str| {
        let out = kafsh(state).args(["-e", expr]).output().expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{expr}: {err}");
        assert!(err.contains(why), "{expr}: {err}");
    };
    if reconfig {
        // The dry run plans; without the super user's credentials ZooKeeper refuses.
        let out = kafsh(&state)
            .args(["--dry-run", "--json", "-e", "zk_reconfig(#{remove: [3]})"])
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(plan["voters"], serde_json::json!([1, 2]), "{plan}");
        let text = std::fs::read_to_string(state.path().join("config.toml")).expect("cfg");
        let anonymous = tempfile::tempdir().expect("tmp");
        std::fs::write(
            anonymous.path().join("config.toml"),
            text.lines()
                .filter(|l| !l.starts_with("zookeeper_auth"))
                .collect::<Vec<_>>()
                .join("\n"),
        )
        .expect("cfg");
        refused(&anonymous, "zk_reconfig(#{remove: [3]})", "super user");
        refused(&state, "zk_reconfig(#{remove: [2, 3]})", "#{force: true}");
        refused(
            &state,
            "zk_reconfig(#{remove: [3], from_config: \"1\"})",
            "not from_config 1",
        );
        assert_eq!(
            kafsh_json_ctx(&state, "zk_config()")["version"],
            config["version"],
            "nothing changed"
        );
    } else {
        refused(
            &state,
            "zk_reconfig(#{remove: [3]})",
            "reconfigEnabled=false",
        );
    }
    assert_eq!(kafsh_json_ctx(&state, "zk_healthy().healthy"), true);

    // 3 → 5.
    let (leader, epoch) = leader_and_epoch(&state);
    membership_context(&c, &connect, &[1, 2, 3, 4, 5], &state);
    run_runbook(
        &state,
        "zk_scale_out",
        &["new_servers=4,5".into(), base_arg.clone()],
    );
    let shape = ensemble_state(&state);
    assert_eq!(
        shape,
        serde_json::json!({"servers": 5, "followers": 4, "leaders": 1, "synced_followers": 4, "healthy": true})
    );
    if reconfig {
        assert_eq!(
            leader_and_epoch(&state),
            (leader, epoch),
            "dynamic reconfiguration elected no leader"
        );
    }

    // 5 → 3: the leader and another server, the leader last.
    let leader = c.zk_leader().expect("a leader");
    let other = [5, 4, 3]
        .into_iter()
        .find(|id| *id != leader)
        .expect("another");
    run_runbook(
        &state,
        "zk_scale_in",
        &[format!("remove={other},{leader}"), base_arg.clone()],
    );
    let remaining: Vec<u32> = (1..=5).filter(|id| ![leader, other].contains(id)).collect();
    membership_context(&c, &connect, &remaining, &state);
    assert_eq!(
        ensemble_state(&state),
        serde_json::json!({"servers": 3, "followers": 2, "leaders": 1, "synced_followers": 2, "healthy": true})
    );
    assert!(c.zk_mode(leader).is_none() && c.zk_mode(other).is_none());
    let config = kafsh_json_ctx(&state, "zk_config()");
    assert_eq!(config["voters"], serde_json::json!(remaining), "{config}");

    // A killed server onto a new host (new ports, empty data).
    let victim = *remaining
        .iter()
        .find(|id| Some(**id) != c.zk_leader())
        .expect("a follower");
    c.kill(Node::Zk(victim)).expect("kill");
    c.rehost_zk(victim).expect("rehost");
    membership_context(&c, &connect, &remaining, &state);
    run_runbook(
        &state,
        "zk_replace_server",
        &[format!("server={victim}"), base_arg.clone()],
    );
    assert_eq!(
        ensemble_state(&state),
        serde_json::json!({"servers": 3, "followers": 2, "leaders": 1, "synced_followers": 2, "healthy": true})
    );
    let config = kafsh_json_ctx(&state, "zk_config()");
    let moved = c.zk_server(victim).expect("victim");
    let line = format!(
        "server.{victim}=127.0.0.1:{}:{}:participant",
        moved.peer_port, moved.election_port
    );
    for view in config["views"].as_array().expect("views") {
        assert!(
            view["lines"].as_array().is_some_and(|l| l
                .iter()
                .any(|l| l.as_str().is_some_and(|l| l.starts_with(&line)))),
            "every server knows {victim}'s new address: {view}"
        );
    }

    // An observer.
    let mut with_observer = remaining.clone();
    with_observer.push(6);
    membership_context(&c, &connect, &with_observer, &state);
    run_runbook(&state, "zk_scale_out", &["new_servers=6".into(), base_arg]);
    let status = kafsh_json_ctx(&state, "zk_status().map(|s| [s.id, s.mode, s.role])");
    assert!(
        status
            .as_array()
            .expect("status")
            .contains(&serde_json::json!([6, "observer", "observer"])),
        "{status}"
    );
    let health = kafsh_json_ctx(&state, "zk_healthy()");
    assert_eq!(health["healthy"], true, "{health}");
    assert_eq!(health["voters"], 3, "{health}");
    if reconfig {
        assert_eq!(
            kafsh_json_ctx(&state, "zk_config().observers"),
            serde_json::json!([6])
        );
    }

    stop.store(true, Ordering::SeqCst);
    let w = client.join().expect("client");
    eprintln!(
        "{kind} ensemble: 3 → 5 → 3, replaced {victim}, observer 6: {} acknowledged increments, longest write stall {:.1}s",
        w.done,
        w.longest_stall.as_secs_f64()
    );
    assert!(!w.expired, "the client's session expired");
    assert!(w.failures.is_empty(), "writes failed: {:?}", w.failures);
    assert!(w.done > 20, "the client kept writing: {}", w.done);
}

#[test]
fn static_ensemble_grows_shrinks_replaces_a_server_and_adds_an_observer() {
    membership_lifecycle(false);
}

#[test]
fn dynamic_ensemble_grows_shrinks_replaces_a_server_and_adds_an_observer() {
    membership_lifecycle(true);
}

/// A crash sweep of a ZooKeeper membership runbook, a fresh ensemble per run: `setup`
/// starts it (and breaks what the runbook repairs), a client increments a counter
/// throughout; the runbook runs with `args` in a context listing `inventory`; every run
/// must end with the servers `members` serving one healthy ensemble, the servers `gone`
/// stopped, and every acknowledged increment kept.
fn membership_sweep(
    name: &'static str,
    setup: &dyn Fn() -> Cluster,
    inventory: &[u32],
    members: &[u32],
    gone: &[u32],
    args: &[&str],
    sample: &[common::crash::Pick],
) -> common::crash::SweepReport {
    use common::crash::{sweep, Scenario};
    use std::cell::RefCell;
    type Running = (
        Cluster,
        String,
        Arc<AtomicBool>,
        std::thread::JoinHandle<Writes>,
    );
    let current: RefCell<Option<Running>> = RefCell::new(None);
    let base_dir = tempfile::tempdir().expect("tmp");
    let base = base_dir.path().join("zoo.base.cfg");
    std::fs::write(&base, "tickTime=500\ninitLimit=20\nsyncLimit=5\n").expect("base");
    let command = |state: &tempfile::TempDir| {
        let guard = current.borrow();
        let (c, connect, _, _) = guard.as_ref().expect("an ensemble");
        membership_context(c, connect, inventory, state);
        let mut cmd = kafsh(state);
        cmd.env("KAFSH_CONFIG", state.path().join("config.toml"))
            .arg("run")
            .arg(format!(
                "{}/scripts/{name}.rhai",
                env!("CARGO_MANIFEST_DIR")
            ))
            .args(["--arg", &format!("base={}", base.display())])
            .args(["--arg", "timeout=90s"]);
        for a in args {
            cmd.args(["--arg", a]);
        }
        cmd
    };
    let reset = || {
        let old = current.borrow_mut().take();
        drop(old);
        let c = setup();
        let connect = c.zk_connect().expect("zk");
        let stop = Arc::new(AtomicBool::new(false));
        let client = counter_client(connect.clone(), stop.clone());
        std::thread::sleep(Duration::from_secs(1));
        *current.borrow_mut() = Some((c, connect, stop, client));
    };
    let state = || {
        let guard = current.borrow();
        let (c, connect, stop, _) = guard.as_ref().expect("an ensemble");
        let ctx = tempfile::tempdir().expect("tmp");
        membership_context(c, connect, members, &ctx);
        let mut shape = ensemble_state(&ctx);
        shape["gone_stopped"] = serde_json::json!(gone.iter().all(|id| c.zk_mode(*id).is_none()));
        shape["voters"] = kafsh_json_ctx(&ctx, "zk_config().voters");
        stop.store(true, Ordering::SeqCst);
        drop(guard);
        // The client reads the counter one last time before the ensemble goes.
        let (c, _, _, client) = current.borrow_mut().take().expect("an ensemble");
        shape["client"] = client_shape(client.join().expect("client"));
        drop(c);
        shape
    };
    sweep(&Scenario {
        name,
        command: &command,
        reset: &reset,
        state: &state,
        sample,
        after_reference: &|| {},
    })
}

/// 5 → 3 on a static ensemble, killed at kill points: each run after a kill ends with the
/// three servers healthy, the two removed stopped, and no acknowledged increment lost.
#[test]
fn static_scale_in_from_five_to_three_killed_anywhere() {
    use common::crash::Pick;
    let report = membership_sweep(
        "zk_scale_in",
        &|| Cluster::start(ClusterSpec::zk_only(5)).expect("ensemble"),
        &[1, 2, 3, 4, 5],
        &[1, 2, 3],
        &[4, 5],
        &["remove=4,5"],
        &[Pick::Middle],
    );
    assert_eq!(
        report.expected,
        serde_json::json!({"servers": 3, "followers": 2, "leaders": 1, "synced_followers": 2,
            "healthy": true, "gone_stopped": true, "voters": [1, 2, 3],
            "client": {"session_expired": false, "failures": [], "kept_writing": true}})
    );
}

/// A killed server of a dynamic ensemble replaced on a new host, killed at kill points.
#[test]
fn dynamic_replace_of_a_killed_server_killed_anywhere() {
    use common::crash::Pick;
    let report = membership_sweep(
        "zk_replace_server",
        &|| {
            let mut c = Cluster::start(ClusterSpec::zk_only(3).zk_reconfig()).expect("ensemble");
            c.kill(Node::Zk(1)).expect("kill");
            c.rehost_zk(1).expect("rehost");
            c
        },
        &[1, 2, 3],
        &[1, 2, 3],
        &[],
        &["server=1"],
        &[Pick::First],
    );
    assert_eq!(report.expected["healthy"], true, "{}", report.expected);
    assert_eq!(report.expected["servers"], 3, "{}", report.expected);
}

/// 3 → 5 by dynamic reconfiguration, killed at kill points (the seventh mutation starts the
/// second new server, before its reconfig).
#[test]
fn dynamic_scale_out_killed_anywhere() {
    use common::crash::Pick;
    let report = membership_sweep(
        "zk_scale_out",
        &|| {
            let mut c = Cluster::start(ClusterSpec::zk_only(3).zk_reconfig()).expect("ensemble");
            c.add(NewNode::Zk { id: Some(4) }).expect("add 4");
            c.add(NewNode::Zk { id: Some(5) }).expect("add 5");
            c
        },
        &[1, 2, 3, 4, 5],
        &[1, 2, 3, 4, 5],
        &[],
        &["new_servers=4,5"],
        &[Pick::At(7)],
    );
    assert_eq!(
        report.expected["voters"],
        serde_json::json!([1, 2, 3, 4, 5])
    );
    assert_eq!(report.expected["healthy"], true, "{}", report.expected);
}

/// A killed server of a static ensemble replaced on a new host, killed at kill points (the
/// sixth mutation restarts the first of the others, which then knows the new address while
/// the last one does not yet).
#[test]
fn static_replace_of_a_killed_server_killed_anywhere() {
    use common::crash::Pick;
    let report = membership_sweep(
        "zk_replace_server",
        &|| {
            let mut c = Cluster::start(ClusterSpec::zk_only(3)).expect("ensemble");
            c.kill(Node::Zk(2)).expect("kill");
            c.rehost_zk(2).expect("rehost");
            c
        },
        &[1, 2, 3],
        &[1, 2, 3],
        &[],
        &["server=2"],
        &[Pick::At(6)],
    );
    assert_eq!(report.expected["healthy"], true, "{}", report.expected);
    assert_eq!(report.expected["servers"], 3, "{}", report.expected);
}
