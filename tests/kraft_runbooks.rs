//! The KRaft runbooks on a real Kafka 4 cluster of 3 controllers (dynamic quorum) and 3
//! brokers, driven through a context whose inventory commands are the sandbox's (standing
//! in for ssh/systemctl): the rolling restart under an acks=all producer and killed at a
//! mutation boundary, a controller killed -9 during a rolling restart, and the quorum grown
//! from three voters to five and shrunk back, each runbook killed once and resumed. The
//! tests break the cluster on purpose, so they share one of their own, taking turns.

mod common;

use common::crash::{sweep, Pick, Scenario};
use common::load::{acked_values_and_stall, assert_consumed_exactly_once, start_producer};
use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, NewNode, Node};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::Stdio;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

fn cluster() -> MutexGuard<'static, Cluster> {
    static CLUSTER: OnceLock<Mutex<Cluster>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| {
            Mutex::new(shared_cluster(
                ClusterSpec::kraft()
                    .controllers(3)
                    .brokers(3)
                    .dynamic_quorum(),
            ))
        })
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

fn runbook(name: &str) -> String {
    format!("{}/scripts/{name}.rhai", env!("CARGO_MANIFEST_DIR"))
}

/// A context "t" for this cluster in `state`: its brokers, optionally the controllers as
/// `bootstrap_controllers`, and an inventory of the brokers and of `controllers` whose
/// commands drive the sandbox; restarts are logged, one id a line, to `<dir>/order.log`.
fn context(c: &Cluster, state: &std::path::Path, controllers: &[i32], direct: bool) {
    let sb = sandbox_bin().display().to_string();
    let dir = c.dir().display().to_string();
    let mut text = format!(
        "current_context = \"t\"\n[contexts.t]\nbootstrap_servers = \"{}\"\ntimeout = \"15s\"\n",
        c.bootstrap_servers()
    );
    if direct {
        text.push_str(&format!(
            "bootstrap_controllers = \"{}\"\n",
            c.bootstrap_controllers().expect("controllers")
        ));
    }
    for b in c.brokers() {
        text.push_str(&format!(
            "\n[[contexts.t.brokers]]\nid = {id}\nhost = \"127.0.0.1\"\n\
             restart = \"echo {id} >> {dir}/order.log && {sb} restart broker {id} --dir {dir}\"\n",
            id = b.id
        ));
    }
    for ctl in c
        .controllers()
        .iter()
        .filter(|n| controllers.contains(&n.id))
    {
        text.push_str(&format!(
            "\n[[contexts.t.controllers]]\nid = {id}\nhost = \"127.0.0.1\"\nport = {port}\n\
             restart = \"echo {id} >> {dir}/order.log && {sb} restart controller {id} --dir {dir}\"\n\
             start = \"{sb} start controller {id} --dir {dir}\"\n\
             stop = \"{sb} stop controller {id} --dir {dir}\"\n\
             format = \"{sb} format controller {id} --no-initial-controllers --dir {dir}\"\n",
            id = ctl.id,
            port = ctl.port
        ));
    }
    std::fs::write(state.join("config.toml"), text).expect("config");
}

/// `kafsh --json -e EXPR` in the context of `state`.
fn eval(state: &tempfile::TempDir, expr: &str) -> Value {
    let out = kafsh(state)
        .args(["--json", "-e", expr])
        .output()
        .expect("kafsh");
    assert!(
        out.status.success(),
        "{expr}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// Polls `expr` (through the brokers) until it returns true.
fn wait_for(c: &Cluster, what: &str, expr: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let out = kafsh_eval(&c.bootstrap_servers(), None, expr);
        if out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "true" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn order(c: &Cluster) -> Vec<i64> {
    std::fs::read_to_string(c.dir().join("order.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

fn quorum_leader(c: &Cluster) -> i64 {
    kafsh_json(&c.bootstrap_servers(), None, "quorum_status().leader_id")
        .as_i64()
        .expect("leader")
}

/// The rolling restart of 3 controllers and 3 brokers, the controllers reached directly
/// (`bootstrap_controllers`), under an acks=all producer: controllers first with the active
/// controller last, then the brokers; killed after its middle mutation and run again, every
/// node is restarted exactly once, the quorum is healthy, every replica in sync and every
/// preferred leader leads; every acknowledged message is consumed exactly once.
#[test]
fn rolling_restart_under_load_restarts_the_active_controller_last_and_survives_a_kill() {
    let c = cluster();
    let bs = c.bootstrap_servers();
    wait_for(&c, "a healthy quorum", "quorum_healthy().healthy");
    kafsh_json(
        &bs,
        None,
        r#"create_topic("krr", #{partitions: 6, replication_factor: 3, config: #{"min.insync.replicas": 2}})"#,
    );
    let leader = quorum_leader(&c);
    let producer = start_producer(&c, "krr", 1_000_000, 50);
    std::thread::sleep(Duration::from_secs(2));
    let started = Instant::now();
    let command = |state: &tempfile::TempDir| {
        context(&c, state.path(), &[101, 102, 103], true);
        let mut cmd = kafsh(state);
        cmd.args([
            "run",
            &runbook("kraft_rolling_restart"),
            "--arg",
            "timeout=2m",
        ]);
        cmd
    };
    let reset = || {
        let _ = std::fs::remove_file(c.dir().join("order.log"));
    };
    let state = || {
        let mut restarts: BTreeMap<i64, usize> = BTreeMap::new();
        for id in order(&c) {
            *restarts.entry(id).or_default() += 1;
        }
        json!({
            "restarts": restarts,
            "quorum_healthy": kafsh_json(&bs, None, "quorum_healthy().healthy"),
            "voters": kafsh_json(&bs, None, "quorum_status().voters.map(|v| v.id)"),
            "under_replicated": kafsh_json(&bs, None, "under_replicated().len()"),
            "preferred_leaders": kafsh_json(&bs, None,
                r#"describe_topic("krr").partitions.all(|p| p.leader == p.replicas[0])"#),
        })
    };
    let after_reference = || {
        let order = order(&c);
        eprintln!("restart order: {order:?} (quorum leader at the start: {leader})");
        assert_eq!(order.len(), 6, "{order:?}");
        let (controllers, brokers) = order.split_at(3);
        assert!(
            controllers.iter().all(|id| *id >= 101),
            "controllers first: {order:?}"
        );
        assert_eq!(
            controllers[2], leader,
            "the active controller last: {order:?}"
        );
        let mut b = brokers.to_vec();
        b.sort();
        assert_eq!(b, vec![1, 2, 3], "{order:?}");
    };
    let report = sweep(&Scenario {
        name: "kraft_rolling_restart",
        command: &command,
        reset: &reset,
        state: &state,
        sample: &[Pick::Middle],
        after_reference: &after_reference,
    });
    let took = started.elapsed();
    assert_eq!(
        report.expected,
        json!({"restarts": {"1": 1, "2": 1, "3": 1, "101": 1, "102": 1, "103": 1},
               "quorum_healthy": true, "voters": [101, 102, 103], "under_replicated": 0,
               "preferred_leaders": true})
    );
    common::load::stop_producer(&producer);
    let (acked, stall) = acked_values_and_stall(producer);
    eprintln!(
        "kraft_rolling_restart: 3 runs ({} restarts) in {:.0}s; {} messages acknowledged; longest produce stall {:.1}s",
        6 + report.mutations.len(),
        took.as_secs_f64(),
        acked.len(),
        stall.as_secs_f64()
    );
    assert!(
        acked.len() > 100,
        "the producer kept writing: {}",
        acked.len()
    );
    assert_consumed_exactly_once(&c, "krr", &acked);
}

/// A kill -9 of the active controller during a rolling restart of the controllers: the run
/// stops at its next gate saying the quorum is not healthy and why; once the controller is
/// back, --resume restarts the rest, none twice.
#[test]
fn a_controller_killed_during_the_rolling_restart_stops_it_and_resume_finishes() {
    let mut c = cluster();
    wait_for(&c, "a healthy quorum", "quorum_healthy().healthy");
    let _ = std::fs::remove_file(c.dir().join("order.log"));
    let state = tempfile::tempdir().expect("tmp");
    context(&c, state.path(), &[101, 102, 103], false);
    let args = [
        "run",
        &runbook("kraft_rolling_restart"),
        "--arg",
        "brokers=none",
        "--arg",
        "timeout=20s",
    ];
    let mut run = kafsh(&state)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let mut log = Vec::new();
    let mut lines = std::io::BufReader::new(run.stderr.take().expect("stderr")).lines();
    let mut first = None;
    for line in lines.by_ref() {
        let line = line.unwrap_or_default();
        first = line
            .strip_prefix("[info] step \"controller ")
            .and_then(|rest| rest.strip_suffix("\": finished"))
            .and_then(|id| id.parse::<i64>().ok());
        log.push(line);
        if first.is_some() {
            break;
        }
    }
    let first = first.unwrap_or_else(|| panic!("no controller finished: {log:?}"));
    let victim = quorum_leader(&c);
    assert_ne!(victim, first, "the active controller goes last: {log:?}");
    c.kill(Node::Controller(victim as i32))
        .expect("kill -9 the active controller");
    log.extend(lines.map_while(Result::ok));
    let status = run.wait().expect("run ends");
    let text = log.join("\n");
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(
        text.contains("the controller quorum is not healthy")
            && text.contains(&format!("voter {victim}")),
        "the reason names the killed controller: {text}"
    );
    // The run may have started on the next follower before the kill landed; never on the
    // killed leader, which goes last.
    let before_kill = order(&c);
    assert_eq!(before_kill[0], first, "{text}");
    assert!(!before_kill.contains(&victim), "{before_kill:?}: {text}");

    c.start_node(Node::Controller(victim as i32))
        .expect("start it again");
    let out = kafsh(&state)
        .args(args)
        .arg("--resume")
        .output()
        .expect("resume");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "step \"controller {first}\": finished in an earlier run, skipped"
        )),
        "{err}"
    );
    let mut restarted = order(&c);
    restarted.sort();
    assert_eq!(restarted, vec![101, 102, 103], "each once: {err}");
    assert_eq!(eval(&state, "quorum_healthy().healthy"), true);
}

/// 3 → 5 → 3 voters with kraft_add_controller and kraft_remove_controller, through the
/// brokers. Adding 104 and removing 105 each run killed once (after a mutation), refused
/// without --resume and finished with it; MetadataQuorumCommand sees five voters, then three.
#[test]
fn the_quorum_grows_to_five_and_shrinks_back_to_three_with_the_runbooks() {
    let mut c = cluster();
    wait_for(&c, "a healthy quorum", "quorum_healthy().healthy");
    for _ in c.controllers().len()..5 {
        c.add(NewNode::Controller).expect("add a controller");
    }
    let all = [101, 102, 103, 104, 105];
    let bs = c.bootstrap_servers();
    let c = std::cell::RefCell::new(c);
    let voters = || {
        let mut v: Vec<i64> = serde_json::from_value(kafsh_json(
            &bs,
            None,
            "quorum_status().voters.map(|v| v.id)",
        ))
        .expect("ids");
        v.sort();
        v
    };
    let shape = || {
        json!({
            "voters": voters(),
            "healthy": kafsh_json(&bs, None, "quorum_healthy().healthy"),
        })
    };
    let cell = &c;
    let run = |name: &'static str, id: i32| {
        move |state: &tempfile::TempDir| {
            context(&cell.borrow(), state.path(), &all, false);
            let mut cmd = kafsh(state);
            cmd.args([
                "run",
                &runbook(name),
                "--arg",
                &format!("id={id}"),
                "--arg",
                "timeout=90s",
            ]);
            cmd
        }
    };
    // 104 not voting, stopped (formatted already: the inventory's format skips it).
    let unadd_104 = || {
        let dir = c.borrow().controller(104).unwrap().directory_id.unwrap();
        if voters().contains(&104) {
            kafsh_json(
                &bs,
                None,
                &format!(r#"remove_controller(104, "{dir}", #{{force: true}}); true"#),
            );
        }
        if c.borrow().controller(104).unwrap().running {
            c.borrow_mut()
                .stop(Node::Controller(104))
                .expect("stop 104");
        }
    };
    let add_104 = run("kraft_add_controller", 104);
    let report = sweep(&Scenario {
        name: "kraft_add_controller",
        command: &add_104,
        reset: &unadd_104,
        state: &shape,
        sample: &[Pick::Middle],
        after_reference: &|| {},
    });
    assert_eq!(
        report.expected,
        json!({"voters": [101, 102, 103, 104], "healthy": true})
    );

    let state = tempfile::tempdir().expect("tmp");
    let out = run("kraft_add_controller", 105)(&state)
        .output()
        .expect("add 105");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ctl = c.borrow().bootstrap_controllers().unwrap();
    let text = tool_stdout(
        c.borrow().kafka_tool(
            "org.apache.kafka.tools.MetadataQuorumCommand",
            &["--bootstrap-controller", &ctl, "describe", "--status"],
        ),
        "describe --status",
    );
    for n in c.borrow().controllers() {
        let entry = format!(
            "{{\"id\": {}, \"directoryId\": \"{}\"",
            n.id,
            n.directory_id.clone().unwrap()
        );
        let voters_line = text
            .lines()
            .find(|l| l.starts_with("CurrentVoters:"))
            .unwrap();
        assert!(voters_line.contains(&entry), "{} votes:\n{text}", n.id);
    }

    // 105 voting again (started as an observer, caught up, added).
    let readd_105 = || {
        if voters().contains(&105) {
            return;
        }
        if !c.borrow().controller(105).unwrap().running {
            c.borrow_mut()
                .start_node(Node::Controller(105))
                .expect("start 105");
        }
        let n = c.borrow().controller(105).unwrap();
        let expr = format!(
            r#"add_controller(#{{node_id: 105, directory_id: "{}", endpoints: ["127.0.0.1:{}"]}}); true"#,
            n.directory_id.unwrap(),
            n.port
        );
        wait_for(&c.borrow(), "105 added again", &expr);
        wait_for(&c.borrow(), "a healthy quorum", "quorum_healthy().healthy");
    };
    let remove_shape = || {
        let mut s = shape();
        s["running_105"] = json!(c.borrow().controller(105).unwrap().running);
        s
    };
    let remove_105 = run("kraft_remove_controller", 105);
    let report = sweep(&Scenario {
        name: "kraft_remove_controller",
        command: &remove_105,
        reset: &readd_105,
        state: &remove_shape,
        sample: &[Pick::First],
        after_reference: &|| {},
    });
    assert_eq!(
        report.expected,
        json!({"voters": [101, 102, 103, 104], "healthy": true, "running_105": false})
    );
    assert!(
        report.mutations[0].starts_with("stop_controller"),
        "stop first, then remove: {:?}",
        report.mutations
    );

    let out = run("kraft_remove_controller", 104)(&state)
        .output()
        .expect("remove 104");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = tool_stdout(
        c.borrow().kafka_tool(
            "org.apache.kafka.tools.MetadataQuorumCommand",
            &["--bootstrap-controller", &ctl, "describe", "--status"],
        ),
        "describe --status",
    );
    let voters_line = text
        .lines()
        .find(|l| l.starts_with("CurrentVoters:"))
        .unwrap();
    let listed: Vec<Value> =
        serde_json::from_str(voters_line.trim_start_matches("CurrentVoters:").trim()).unwrap();
    let ids: Vec<i64> = listed.iter().map(|v| v["id"].as_i64().unwrap()).collect();
    let mut ids = ids;
    ids.sort();
    assert_eq!(ids, vec![101, 102, 103], "{text}");
    assert_eq!(shape(), json!({"voters": [101, 102, 103], "healthy": true}));
}

/// The KRaft runbooks with --dry-run change nothing and run no inventory command: an
/// inventory whose every command only logs, including a controller 109 that does not exist.
#[test]
fn the_kraft_runbooks_dry_run_change_nothing() {
    let c = cluster();
    wait_for(&c, "a healthy quorum", "quorum_healthy().healthy");
    let state = tempfile::tempdir().expect("tmp");
    let ran = state.path().join("ran.log");
    let log = |what: &str| format!("echo {what} >> {}", ran.display());
    let mut text = format!(
        "current_context = \"t\"\n[contexts.t]\nbootstrap_servers = \"{}\"\n",
        c.bootstrap_servers()
    );
    for b in c.brokers() {
        text.push_str(&format!(
            "\n[[contexts.t.brokers]]\nid = {}\nrestart = \"{}\"\n",
            b.id,
            log("restart")
        ));
    }
    for (id, port) in [(101, 1), (102, 1), (103, 1), (109, 1)] {
        text.push_str(&format!(
            "\n[[contexts.t.controllers]]\nid = {id}\nhost = \"127.0.0.1\"\nport = {port}\nrestart = \"{r}\"\nstart = \"{r}\"\nstop = \"{r}\"\nformat = \"{r}\"\n",
            r = log("controller")
        ));
    }
    std::fs::write(state.path().join("config.toml"), text).expect("config");
    let before = eval(&state, "quorum_status().voters.map(|v| v.id)");
    for (name, args) in [
        ("kraft_rolling_restart", vec![]),
        ("kraft_add_controller", vec!["--arg", "id=109"]),
        (
            "kraft_remove_controller",
            vec!["--arg", "id=103", "--arg", "force=true"],
        ),
    ] {
        let out = kafsh(&state)
            .args(["--dry-run", "run", &runbook(name)])
            .args(&args)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name} --dry-run failed: {err}");
        assert!(
            err.contains("dry run:"),
            "{name}: the plan is listed: {err}"
        );
    }
    assert_eq!(eval(&state, "quorum_status().voters.map(|v| v.id)"), before);
    assert!(
        !ran.exists(),
        "no inventory command ran: {}",
        std::fs::read_to_string(&ran).unwrap_or_default()
    );
}
