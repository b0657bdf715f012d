//! Degraded clusters, on both kinds: each broker in turn paused with SIGSTOP (it accepts
//! connections and never answers — a long GC pause, a stalled disk, a frozen VM), at each
//! position of the bootstrap list, while every read function runs. What the other brokers
//! can answer succeeds within the normal latency plus one attempt, what needs the paused
//! broker fails within the call timeout naming it, partial results say what is missing,
//! `brokers()` and `cluster()` flag it as hung; after SIGCONT everything answers again.
//! The same for each ZooKeeper server and the ZooKeeper functions. Then the fault matrix of
//! the long-running functions: a node paused in the middle of a session or a call.
//!
//! Each kind starts its own small cluster (pausing nodes breaks it for others) whose
//! brokers stay registered for 60 s without heartbeats, so a paused broker is hung, not
//! gone; the context's limits are short (call 10 s, connect and ApiVersions 2 s).

mod common;

use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, Flavor, Node};
use serde_json::Value;
use std::time::{Duration, Instant};

/// One cluster at a time: two starting at once on 2 cores only slow each other down.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The context's limits.
const CALL: Duration = Duration::from_secs(10);
const ATTEMPT: Duration = Duration::from_secs(4); // connect 2 s + ApiVersions 2 s
/// Headroom for a loaded 2-core machine on top of the limits ("fails fast", not a benchmark).
const SLACK: Duration = Duration::from_secs(3);

const GROUPS: usize = 24;
const MANY_TOPICS: usize = 20;

struct Env {
    c: Cluster,
    state: tempfile::TempDir,
    /// Broker ids, sorted.
    ids: Vec<i32>,
    /// Group → coordinator.
    coordinators: Vec<(String, i32)>,
}

/// The result of one kafsh run.
struct Run {
    code: Option<i32>,
    json: Value,
    stderr: String,
    took: Duration,
}

impl Env {
    fn start(spec: ClusterSpec) -> Env {
        let c = Cluster::start(spec.session_timeout(Duration::from_secs(60)))
            .expect("start the cluster");
        eprintln!("cluster in {}", c.dir().display());
        let state = tempfile::tempdir().expect("tmp");
        let zk = c
            .zk_connect()
            .map(|z| format!("zookeeper = \"{z}\"\n"))
            .unwrap_or_default();
        std::fs::write(
            state.path().join("config.toml"),
            format!(
                "current_context = \"t\"\n[contexts.t]\nbootstrap_servers = \"{}\"\n{zk}\
                 timeout = \"10s\"\nconnect_timeout = \"2s\"\napi_versions_timeout = \"2s\"\n\
                 four_letter_timeout = \"2s\"\n",
                c.bootstrap_servers()
            ),
        )
        .expect("config");
        let ids = c.brokers().iter().map(|b| b.id).collect();
        let mut env = Env {
            c,
            state,
            ids,
            coordinators: Vec::new(),
        };
        env.setup();
        env
    }

    fn address(&self, id: i32) -> String {
        let b = self.c.broker(id).expect("broker");
        format!("127.0.0.1:{}", b.port)
    }

    /// The bootstrap list with broker `id` at `position`, the others in id order around it.
    fn bootstrap_with(&self, id: i32, position: usize) -> String {
        let mut list: Vec<String> = self
            .ids
            .iter()
            .filter(|b| **b != id)
            .map(|b| self.address(*b))
            .collect();
        list.insert(position.min(list.len()), self.address(id));
        list.join(",")
    }

    fn run(&self, bootstrap: &str, zookeeper: Option<&str>, script: &str) -> Run {
        let mut cmd = kafsh(&self.state);
        cmd.args(["--json", "--bootstrap-server", bootstrap]);
        if let Some(zk) = zookeeper {
            cmd.args(["--zookeeper", zk]);
        }
        let started = Instant::now();
        let out = cmd.args(["-e", script]).output().expect("kafsh");
        let took = started.elapsed();
        Run {
            code: out.status.code(),
            json: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            took,
        }
    }

    /// Runs a script that must succeed and print JSON.
    fn ok(&self, bootstrap: &str, script: &str) -> Value {
        let r = self.run(bootstrap, None, script);
        assert_eq!(r.code, Some(0), "{script}: {}", r.stderr);
        r.json
    }

    /// `kafsh-sandbox pause|resume broker|zk ID` for this cluster, as a shell command.
    fn sandbox_command(&self, verb: &str, kind: &str, id: impl std::fmt::Display) -> String {
        format!(
            "{} {verb} {kind} {id} --dir {}",
            sandbox_bin().display(),
            self.c.dir().display()
        )
    }

    /// Topics on known brokers, groups with committed offsets (each broker coordinates some).
    fn setup(&mut self) {
        let bs = self.c.bootstrap_servers();
        let script = format!(
            r#"create_topic("dg-one", #{{assignment: [[1], [2], [3]]}});
               create_topic("dg-three", #{{assignment: [[1, 2, 3], [2, 3, 1], [3, 1, 2]]}});
               for i in 0..{MANY_TOPICS} {{ create_topic(`ft-${{i}}`, #{{assignment: [[i % 3 + 1]]}}); }}
               let coordinators = #{{}};
               for i in 0..{GROUPS} {{
                   let g = `dg-g${{i}}`;
                   reset_offsets(g, #{{topic: "dg-one", to: "earliest", execute: true}});
                   coordinators[g] = describe_group(g).coordinator;
               }}
               coordinators"#
        );
        let json = self.ok(&bs, &script);
        let mut coordinators: Vec<(String, i32)> = json
            .as_object()
            .expect("coordinators")
            .iter()
            .map(|(g, c)| (g.clone(), c.as_i64().expect("id") as i32))
            .collect();
        coordinators.sort();
        for id in &self.ids {
            assert!(
                coordinators.iter().any(|(_, c)| c == id),
                "broker {id} coordinates none of {GROUPS} groups: {coordinators:?}"
            );
        }
        self.coordinators = coordinators;
    }

    fn group_at(&self, id: i32) -> &str {
        &self
            .coordinators
            .iter()
            .find(|(_, c)| *c == id)
            .expect("group")
            .0
    }

    fn group_not_at(&self, id: i32) -> &str {
        &self
            .coordinators
            .iter()
            .find(|(_, c)| *c != id)
            .expect("group")
            .0
    }
}

/// Runs each closure, recording `ok`, `value` or `error`, and `ms`.
const RUN: &str = r#"
let run = |f| {
    let t = timestamp();
    let r = #{};
    try { r.value = f.call(); r.ok = true; } catch (e) { r.ok = false; r.error = `${e}`; }
    r.ms = (t.elapsed * 1000.0).to_int();
    r
};
let m = #{};
"#;

/// Every read function, with broker `paused` paused (or none): returns a map of results.
fn read_matrix(env: &Env, paused: Option<i32>, zookeeper: bool) -> String {
    let mut s = String::from(RUN);
    s.push_str(
        r#"
m.list_topics = run.call(|| list_topics());
m.describe_topic = run.call(|| describe_topic("dg-three"));
m.describe_topics = run.call(|| describe_topics("dg-.*"));
m.brokers = run.call(|| brokers());
m.cluster = run.call(|| cluster());
m.under_replicated = run.call(|| under_replicated());
m.offline = run.call(|| offline());
m.under_min_isr = run.call(|| under_min_isr());
m.assignment = run.call(|| assignment(["dg-one", "dg-three"]));
m.config_topic = run.call(|| describe_config("topic", "dg-three"));
m.log_dirs = run.call(|| log_dirs());
m.list_groups = run.call(|| list_groups());
"#,
    );
    match paused {
        Some(paused) => {
            let other = *env.ids.iter().find(|b| **b != paused).expect("another");
            s.push_str(&format!(
                r#"
m.config_other = run.call(|| describe_config("broker", "{other}"));
m.config_paused = run.call(|| describe_config("broker", "{paused}"));
m.group_other = run.call(|| describe_group("{g_other}"));
m.lag_other = run.call(|| lag(#{{groups: ["{g_other}"]}}));
m.group_paused = run.call(|| describe_group("{g_paused}"));
"#,
                g_other = env.group_not_at(paused),
                g_paused = env.group_at(paused),
            ));
        }
        None => {
            for id in &env.ids {
                s.push_str(&format!(
                    "m.config_{id} = run.call(|| describe_config(\"broker\", \"{id}\"));\n\
                     m.group_at_{id} = run.call(|| describe_group(\"{g}\"));\n",
                    g = env.group_at(*id)
                ));
            }
            s.push_str("m.lag = run.call(|| lag());\n");
        }
    }
    if zookeeper {
        s.push_str("m.zk_brokers = run.call(|| zk_brokers());\n");
    }
    s.push_str("m\n");
    s
}

fn entry<'a>(m: &'a Value, name: &str) -> &'a Value {
    &m[name]
}

fn assert_ok(m: &Value, name: &str, limit: Duration) {
    let e = entry(m, name);
    assert_eq!(e["ok"], true, "{name} failed: {e}");
    let ms = e["ms"].as_u64().expect("ms");
    assert!(
        ms < limit.as_millis() as u64,
        "{name} took {ms} ms (limit {limit:?}): {e}"
    );
}

fn assert_fails_naming(m: &Value, name: &str, broker: i32) {
    let e = entry(m, name);
    assert_eq!(e["ok"], false, "{name} should need broker {broker}: {e}");
    let error = e["error"].as_str().expect("error");
    assert!(
        error.contains(&format!("broker {broker} at ")) && error.contains("not answering"),
        "{name}: {error}"
    );
    let ms = e["ms"].as_u64().expect("ms");
    assert!(
        ms < (CALL + SLACK).as_millis() as u64,
        "{name} took {ms} ms: {e}"
    );
}

/// The partitions of dg-one led by `paused` have no log-end offset (the row says so), the
/// others have theirs.
fn assert_offsets_partial(group: &Value, paused: i32) {
    let rows = group["partitions"].as_array().expect("rows");
    assert_eq!(rows.len(), 3, "{group}");
    for r in rows {
        let led_by_paused = r["partition"].as_i64() == Some(i64::from(paused - 1));
        assert_eq!(
            r["log_end_offset"].is_null(),
            led_by_paused,
            "partition {} (leader {}), paused {paused}: {r}",
            r["partition"],
            r["partition"].as_i64().unwrap_or(-1) + 1
        );
    }
}

/// Broker `paused` is hung: every read function, checked.
fn check_paused_matrix(env: &Env, paused: i32, r: &Run, zookeeper: bool) {
    let m = &r.json;
    assert!(m.is_object(), "{}", r.stderr);
    let fast = ATTEMPT + SLACK;
    for name in [
        "list_topics",
        "describe_topic",
        "describe_topics",
        "brokers",
        "cluster",
        "under_replicated",
        "offline",
        "under_min_isr",
        "assignment",
        "config_topic",
        "config_other",
        "log_dirs",
        "list_groups",
        "group_other",
        "lag_other",
    ] {
        assert_ok(m, name, fast);
    }
    if zookeeper {
        assert_ok(m, "zk_brokers", fast);
    }
    // The broker's own configs and the groups it coordinates need it.
    assert_fails_naming(m, "config_paused", paused);
    assert_fails_naming(m, "group_paused", paused);

    // brokers() and cluster(): the paused broker is hung, the others up.
    for b in m["brokers"]["value"].as_array().expect("brokers") {
        let expected = if b["id"] == paused { "hung" } else { "up" };
        assert_eq!(b["status"], expected, "{b}");
    }
    let cluster = &m["cluster"]["value"];
    assert_eq!(
        cluster["hung_brokers"],
        serde_json::json!([paused]),
        "{cluster}"
    );
    assert_eq!(cluster["down_brokers"], serde_json::json!([]), "{cluster}");
    assert_eq!(
        cluster["brokers"].as_array().map(Vec::len),
        Some(3),
        "{cluster}"
    );

    // Partial results: what is missing is marked, the rest is there.
    let dirs = &m["log_dirs"]["value"];
    assert_eq!(
        dirs["missing_brokers"],
        serde_json::json!([paused]),
        "{dirs}"
    );
    let replicas = dirs["replicas"].as_array().expect("replicas");
    assert!(replicas.iter().all(|r| r["broker"] != paused), "{dirs}");
    assert!(
        replicas.iter().any(|r| r["topic"] == "dg-three"),
        "the other brokers' replicas: {dirs}"
    );
    assert!(
        r.stderr.contains(&format!(
            "[warn] log_dirs: replica sizes of broker {paused}"
        )),
        "{}",
        r.stderr
    );
    let listed: Vec<&str> = m["list_groups"]["value"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["group"].as_str())
        .collect();
    assert!(
        listed.contains(&env.group_not_at(paused)),
        "groups other brokers coordinate: {listed:?}"
    );
    assert!(
        r.stderr.contains(&format!(
            "[warn] list_groups: the groups broker {paused} coordinates are missing"
        )),
        "{}",
        r.stderr
    );
    assert_offsets_partial(&m["group_other"]["value"], paused);
    assert_offsets_partial(&m["lag_other"]["value"][0], paused);
    assert!(
        r.stderr.contains(&format!(
            "[warn] lag: no offsets for 1 partition(s) led by broker {paused}"
        )),
        "{}",
        r.stderr
    );
    let described = &m["describe_topics"]["value"];
    assert!(
        described
            .as_array()
            .expect("topics")
            .iter()
            .all(|t| t.get("configs_error").is_none()),
        "{described}"
    );
}

/// After SIGCONT: everything answers again (the broker may need a moment to catch up).
fn check_all_answer(env: &Env, zookeeper: bool) {
    let bs = env.c.bootstrap_servers();
    let deadline = Instant::now() + Duration::from_secs(40);
    let script = read_matrix(env, None, zookeeper);
    loop {
        let r = env.run(&bs, None, &script);
        let m = &r.json;
        let all_ok = m
            .as_object()
            .is_some_and(|o| o.values().all(|e| e["ok"] == true));
        let all_up = m["brokers"]["value"]
            .as_array()
            .is_some_and(|bs| bs.iter().all(|b| b["status"] == "up"));
        let complete = m["log_dirs"]["value"]["missing_brokers"] == serde_json::json!([])
            && m["lag"]["value"].as_array().is_some_and(|groups| {
                groups.len() == GROUPS
                    && groups.iter().all(|g| {
                        g["partitions"]
                            .as_array()
                            .is_some_and(|rows| rows.iter().all(|r| !r["log_end_offset"].is_null()))
                    })
            });
        if all_ok && all_up && complete && !r.stderr.contains("[warn]") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not everything answers after SIGCONT: {m}\n{}",
            r.stderr
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Each broker paused in turn, at each position of the bootstrap list.
fn broker_matrix(env: &mut Env, zookeeper: bool) {
    for (position, paused) in env.ids.clone().into_iter().enumerate() {
        env.c.pause(Node::Broker(paused)).expect("pause");
        // The issue's case: the hung broker first in the list, a one-shot command.
        let first = env.bootstrap_with(paused, 0);
        let r = env.run(&first, None, "list_topics()");
        assert_eq!(
            r.code,
            Some(0),
            "list_topics with broker {paused} hung first: {}",
            r.stderr
        );
        assert!(r.took < ATTEMPT + SLACK, "list_topics took {:?}", r.took);
        // Every read function, the paused broker at `position`.
        let bootstrap = env.bootstrap_with(paused, position);
        let r = env.run(&bootstrap, None, &read_matrix(env, Some(paused), zookeeper));
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        check_paused_matrix(env, paused, &r, zookeeper);
        env.c.resume(Node::Broker(paused)).expect("resume");
        check_all_answer(env, zookeeper);
    }
}

/// Each ZooKeeper server paused in turn (first in the connect string): the ZooKeeper
/// functions answer from the others, costing at most one connect limit per session, and
/// zk_status says which server is hung.
fn zookeeper_matrix(env: &mut Env) {
    let chroot = env.c.chroot().unwrap_or_default();
    let bs = env.c.bootstrap_servers();
    for z in env.c.zk_servers() {
        let paused = format!("127.0.0.1:{}", z.client_port);
        let mut servers: Vec<String> = env
            .c
            .zk_servers()
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.client_port))
            .filter(|s| *s != paused)
            .collect();
        servers.insert(0, paused.clone());
        let connect = format!("{}{chroot}", servers.join(","));
        let was_leader = env.c.zk_leader() == Some(z.id);
        env.c.pause(Node::Zk(z.id)).expect("pause zk");
        let script = format!(
            "{RUN}
m.zk_ls = run.call(|| zk_ls(\"/brokers/ids\"));
m.zk_get = run.call(|| zk_get(\"/controller\"));
m.zk_tree = run.call(|| zk_tree(\"/brokers\", #{{depth: 3}}));
m.zk_brokers = run.call(|| zk_brokers());
m.zk_status = run.call(|| zk_status());
m.zk_healthy = run.call(|| zk_healthy());
m"
        );
        let r = env.run(&bs, Some(&connect), &script);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let m = &r.json;
        // The first call connects, paying at most one connect limit for the paused server
        // (a paused leader also costs the ensemble an election); the others use the
        // session and pay nothing for it.
        let connecting = if was_leader { CALL } else { ATTEMPT + SLACK };
        assert_ok(m, "zk_ls", connecting);
        assert_eq!(
            m["zk_ls"]["value"],
            serde_json::json!(["1", "2", "3"]),
            "{m}"
        );
        let after = if was_leader { CALL } else { SLACK };
        for name in ["zk_get", "zk_tree", "zk_brokers"] {
            assert_ok(m, name, after);
        }
        for name in ["zk_status", "zk_healthy"] {
            assert_ok(m, name, ATTEMPT + SLACK);
        }
        let status = m["zk_status"]["value"].as_array().expect("status");
        let hung = status
            .iter()
            .find(|s| s["server"] == paused.as_str())
            .expect("the paused server listed");
        assert_eq!(hung["mode"], "down", "{hung}");
        assert!(
            hung["error"].as_str().unwrap_or("").starts_with("hung:"),
            "{hung}"
        );
        assert!(
            m["zk_status"]["ms"].as_u64().unwrap_or(u64::MAX)
                < (ATTEMPT + SLACK).as_millis() as u64,
            "{m}"
        );
        assert_eq!(m["zk_healthy"]["value"]["healthy"], false, "{m}");
        assert!(
            m["zk_healthy"]["value"]["reasons"]
                .to_string()
                .contains(&paused),
            "{m}"
        );
        env.c.resume(Node::Zk(z.id)).expect("resume zk");
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let r = env.run(&bs, Some(&connect), "zk_healthy().healthy");
            if r.code == Some(0) && r.json == true {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "ZooKeeper unhealthy after SIGCONT: {}",
                r.stderr
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// The fault matrix of the long-running functions: a node paused during the session or
/// the call; each call ends within its limit (succeeding from the other nodes, or naming
/// the node), nothing half-done goes unreported, and a rerun after SIGCONT succeeds.
fn fault_matrix(env: &mut Env, zookeeper: bool) {
    let controller = env.ok(&env.c.bootstrap_servers(), "cluster().controller");
    let controller = controller.as_i64().map(|c| c as i32);
    // A broker that is neither the controller nor broker 1 (dg-one's first partition).
    let victim = *env
        .ids
        .iter()
        .rev()
        .find(|b| Some(**b) != controller && **b != 1)
        .expect("victim");

    // describe_topics over many topics: the connection the session holds goes silent; the
    // next broker answers after one ApiVersions limit.
    let only_victim = env.address(victim);
    let script = format!(
        r#"let before = describe_topics("ft-.*").len();
           sh("{pause}");
           let t = timestamp();
           let after = describe_topics("ft-.*");
           #{{before: before, after: after.len(), ms: (t.elapsed * 1000.0).to_int(),
              configs_errors: after.filter(|x| x.configs_error != ()).len()}}"#,
        pause = env.sandbox_command("pause", "broker", victim),
    );
    let r = env.run(&only_victim, None, &script);
    env.c.resume(Node::Broker(victim)).expect("resume");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.json["before"], MANY_TOPICS, "{}", r.json);
    assert_eq!(r.json["after"], MANY_TOPICS, "{}", r.json);
    assert_eq!(r.json["configs_errors"], 0, "{}", r.json);
    assert!(
        r.json["ms"].as_u64().unwrap_or(u64::MAX) < (ATTEMPT + SLACK).as_millis() as u64,
        "{}",
        r.json
    );

    // lag over all groups with a coordinator paused: ends within the call timeout, the
    // groups it coordinates reported missing, naming it (as a failure, a warning beside the
    // other groups' rows, or — once groups carry their own error rows — in their rows).
    let script = format!(
        r#"let before = lag().len();
           sh("{pause}");
           let t = timestamp();
           let r = #{{before: before}};
           try {{ r.rows = lag(); }} catch (e) {{ r.error = `${{e}}`; }}
           r.ms = (t.elapsed * 1000.0).to_int();
           r"#,
        pause = env.sandbox_command("pause", "broker", victim),
    );
    let r = env.run(&env.c.bootstrap_servers(), None, &script);
    env.c.resume(Node::Broker(victim)).expect("resume");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.json["before"], GROUPS, "{}", r.json);
    let named = format!("broker {victim} at ");
    let rows = r.json["rows"].as_array().map(Vec::len).unwrap_or(0);
    // A row of its own for the broker that could not list its groups, or the groups it
    // coordinates marked, or (when the rows are fewer) a warning naming it.
    let broker_row = r.json["rows"].as_array().is_some_and(|rows| {
        rows.iter().any(|row| {
            row["group"] == ""
                && row["coordinator"] == victim
                && row["error"]
                    .as_str()
                    .is_some_and(|e| e.contains(&format!("broker {victim} ")))
        })
    });
    let names_victim = broker_row
        || r.json["error"].as_str().is_some_and(|e| e.contains(&named))
        || r.json["rows"].to_string().contains(&named)
        || (rows < GROUPS
            && r.stderr.contains(&format!(
                "[warn] lag: the groups broker {victim} coordinates are missing"
            )));
    assert!(
        names_victim,
        "lag() with broker {victim} hung: {}\n{}",
        r.json, r.stderr
    );
    assert!(
        r.json["ms"].as_u64().unwrap_or(u64::MAX) < (CALL + SLACK).as_millis() as u64,
        "{}",
        r.json
    );
    let all = env.ok(&env.c.bootstrap_servers(), "lag().len()");
    assert_eq!(all, GROUPS, "lag() after SIGCONT");

    // reassign + wait_reassignment while the target broker is paused: the wait ends at its
    // timeout saying the reassignment goes on; after SIGCONT the same wait completes.
    let target = victim;
    let source = *env.ids.iter().find(|b| **b != target).expect("source");
    let plan = format!(
        r#"#{{version: 1, partitions: [#{{topic: "ft-move", partition: 0, replicas: [{target}]}}]}}"#
    );
    env.ok(
        &env.c.bootstrap_servers(),
        &format!(r#"create_topic("ft-move", #{{assignment: [[{source}]]}})"#),
    );
    env.c.pause(Node::Broker(target)).expect("pause");
    let r = env.run(
        &env.bootstrap_with(target, 2),
        None,
        &format!(
            r#"reassign({plan}); wait_reassignment({plan}, #{{timeout: "3s", interval: "1s"}})"#
        ),
    );
    env.c.resume(Node::Broker(target)).expect("resume");
    assert_eq!(r.code, Some(4), "{}", r.stderr);
    assert!(
        r.stderr.contains("the reassignment goes on"),
        "{}",
        r.stderr
    );
    assert!(
        r.took < Duration::from_secs(3) + CALL + SLACK,
        "{:?}",
        r.took
    );
    let done = env.ok(
        &env.c.bootstrap_servers(),
        &format!(r#"wait_reassignment({plan}, #{{timeout: "60s", interval: "1s"}}); describe_topic("ft-move").partitions[0].replicas"#),
    );
    assert_eq!(done, serde_json::json!([target]));

    // elect_leaders with the broker the session talks to paused (ZooKeeper mode: the
    // controller itself): ends within the call timeout naming it; a rerun succeeds.
    let talked_to = if zookeeper {
        controller.expect("a controller")
    } else {
        victim
    };
    let script = format!(
        r#"elect_leaders(#{{topics: ["dg-three"]}});
           sh("{pause}");
           elect_leaders(#{{topics: ["dg-three"], timeout: "5s"}})"#,
        pause = env.sandbox_command("pause", "broker", talked_to),
    );
    let r = env.run(&env.address(talked_to), None, &script);
    env.c.resume(Node::Broker(talked_to)).expect("resume");
    let named = format!("broker {talked_to} at ");
    if r.code == Some(0) {
        // KRaft: another broker took the election (brokers forward it to the quorum).
        assert!(!zookeeper, "{}", r.stderr);
    } else {
        assert!(r.stderr.contains(&named), "{}", r.stderr);
    }
    assert!(
        r.took < Duration::from_secs(5) + CALL + SLACK,
        "{:?}",
        r.took
    );
    env.ok(
        &env.c.bootstrap_servers(),
        r#"elect_leaders(#{topics: ["dg-three"], timeout: "60s"})"#,
    );

    // A broker killed during a session (last: it stays dead): what needs it fails at once
    // naming it (refusing connections, or resetting one it accepted while dying), and
    // brokers() and cluster() say it is down (still registered).
    let script = format!(
        r#"let r = #{{before: describe_config("broker", "{victim}").len()}};
           sh("{kill}");
           let t = timestamp();
           try {{ describe_config("broker", "{victim}"); }} catch (e) {{ r.error = `${{e}}`; }}
           r.ms = (t.elapsed * 1000.0).to_int();
           r.brokers = brokers();
           r.cluster = cluster();
           r"#,
        kill = env.sandbox_command("kill", "broker", victim),
    );
    let r = env.run(&env.c.bootstrap_servers(), None, &script);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let error = r.json["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!("broker {victim} at "))
            && (error.contains("refuses connections") || error.contains("closed the connection")),
        "{}",
        r.json
    );
    assert!(
        r.json["ms"].as_u64().unwrap_or(u64::MAX) < SLACK.as_millis() as u64,
        "{}",
        r.json
    );
    for b in r.json["brokers"].as_array().expect("brokers") {
        let expected = if b["id"] == victim { "down" } else { "up" };
        assert_eq!(b["status"], expected, "{b}");
    }
    assert_eq!(
        r.json["cluster"]["down_brokers"],
        serde_json::json!([victim]),
        "{}",
        r.json
    );

    // zk_tree with each ZooKeeper server paused in turn during one session: one of them is
    // the server the session is connected to.
    if zookeeper {
        let mut script = String::from(
            "let full = zk_tree(\"/\", #{depth: 10}).len(); let r = #{full: full, runs: []};\n",
        );
        for z in env.c.zk_servers() {
            script.push_str(&format!(
                "sh(\"{pause}\"); let t = timestamp(); let n = zk_tree(\"/\", #{{depth: 10}}).len(); \
                 r.runs.push(#{{id: {id}, entries: n, ms: (t.elapsed * 1000.0).to_int()}}); sh(\"{resume}\");\n",
                pause = env.sandbox_command("pause", "zk", z.id),
                resume = env.sandbox_command("resume", "zk", z.id),
                id = z.id
            ));
        }
        script.push_str("r\n");
        let r = env.run(&env.c.bootstrap_servers(), None, &script);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let full = r.json["full"].as_u64().expect("full");
        for run in r.json["runs"].as_array().expect("runs") {
            let n = run["entries"].as_u64().expect("entries");
            assert!(n + 5 >= full && n <= full + 5, "{run} vs {full}");
            assert!(
                run["ms"].as_u64().unwrap_or(u64::MAX) < CALL.as_millis() as u64,
                "{run}"
            );
        }
    }
}

fn degraded(spec: ClusterSpec) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let zookeeper = spec.flavor == Flavor::ZooKeeper;
    let started = Instant::now();
    let mut env = Env::start(spec);
    eprintln!("cluster and setup: {:?}", started.elapsed());
    broker_matrix(&mut env, zookeeper);
    eprintln!("broker matrix done: {:?}", started.elapsed());
    if zookeeper {
        zookeeper_matrix(&mut env);
        eprintln!("ZooKeeper matrix done: {:?}", started.elapsed());
    }
    fault_matrix(&mut env, zookeeper);
    eprintln!("fault matrix done: {:?}", started.elapsed());
}

#[test]
fn hung_nodes_zookeeper_mode() {
    degraded(ClusterSpec::zookeeper());
}

#[test]
fn hung_nodes_kraft() {
    degraded(ClusterSpec::kraft());
}
