//! Disks inside a broker (JBOD), on a shared cluster whose brokers have two log dirs each:
//! a plan file with `log_dirs` as kafka-reassign-partitions.sh writes it, executed by
//! `reassign` and then verified by that tool's --verify; and `plan_log_dirs` balancing a
//! broker whose data sits in one dir, checked with `log_dirs()` and against Kafka's
//! LogDirsCommand.

use super::*;
use kafsh_sandbox::Cluster;
use serde_json::Value;
use std::collections::BTreeMap;

/// The log dirs of `broker` (as kafsh lists them).
fn dirs_of(bs: &str, broker: i32) -> Vec<String> {
    let dirs = kafsh_json(
        bs,
        None,
        &format!("log_dirs(#{{brokers: [{broker}]}}).dirs.map(|d| d.log_dir)"),
    );
    dirs.as_array()
        .expect("dirs")
        .iter()
        .map(|d| d.as_str().unwrap_or("").to_string())
        .collect()
}

/// (broker, topic-partition or log dir) → what LogDirsCommand says of it.
type ByBroker<T> = BTreeMap<(i64, String), T>;

/// LogDirsCommand --describe of `topic`: (broker, topic-partition) → (dir, size), current
/// replicas only; and bytes per (broker, dir) over every topic.
fn tool_log_dirs(c: &Cluster, topic: &str) -> (ByBroker<(String, u64)>, ByBroker<u64>) {
    let bs = c.bootstrap_servers();
    let text = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.LogDirsCommand",
            &["--bootstrap-server", &bs, "--describe"],
        ),
        "LogDirsCommand --describe",
    );
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with('{'))
        .expect("LogDirsCommand prints JSON");
    let json: Value = serde_json::from_str(line).expect("json");
    let mut replicas = BTreeMap::new();
    let mut bytes = BTreeMap::new();
    for b in json["brokers"].as_array().expect("brokers") {
        let broker = b["broker"].as_i64().unwrap_or(-1);
        for d in b["logDirs"].as_array().into_iter().flatten() {
            let dir = d["logDir"].as_str().unwrap_or("").to_string();
            let slot: &mut u64 = bytes.entry((broker, dir.clone())).or_default();
            for p in d["partitions"].as_array().into_iter().flatten() {
                if p["isFuture"].as_bool().unwrap_or(false) {
                    continue;
                }
                let size = p["size"].as_u64().unwrap_or(0);
                *slot += size;
                let name = p["partition"].as_str().unwrap_or("").to_string();
                if name.rsplit_once('-').map(|(t, _)| t) == Some(topic) {
                    replicas.insert((broker, name), (dir.clone(), size));
                }
            }
        }
    }
    (replicas, bytes)
}

/// kafka-reassign-partitions.sh --verify of the plan in `file`.
fn tool_verify(c: &Cluster, file: &std::path::Path) -> String {
    tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
            &[
                "--bootstrap-server",
                &c.bootstrap_servers(),
                "--reassignment-json-file",
                &file.display().to_string(),
                "--verify",
            ],
        ),
        "ReassignPartitionsCommand --verify",
    )
}

pub fn plans_move_replicas_between_log_dirs(c: &Cluster, topic: &str) {
    let _turn = super::topics_suite::reassignment_turn();
    let bs = c.bootstrap_servers();
    let (dirs1, dirs3) = (dirs_of(&bs, 1), dirs_of(&bs, 3));
    assert_eq!(dirs1.len(), 2, "broker 1 has two log dirs: {dirs1:?}");
    assert_eq!(dirs3.len(), 2, "broker 3 has two log dirs: {dirs3:?}");
    kafsh_json(
        &bs,
        None,
        &format!(
            r#"create_topic("{topic}", #{{assignment: [[1, 2], [2, 1], [1, 2], [2, 1], [1, 2], [2, 1]]}})"#
        ),
    );
    // 12 MB over six partitions: most of what broker 1 holds.
    super::groups_suite::produce_sized(c, topic, 12_000, 1000);

    // A dir the broker does not have: refused, nothing changes.
    let bad = format!(
        r#"{{"version":1,"partitions":[{{"topic":"{topic}","partition":0,"replicas":[1,2],"log_dirs":["/no/such/dir","any"]}}]}}"#
    );
    let out = kafsh_eval(&bs, None, &format!("reassign(parse_plan({bad:?}))"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused: {err}");
    assert!(
        err.contains("reassign") && err.contains("/no/such/dir") && err.contains("broker 1"),
        "{err}"
    );

    // A plan file as kafka-reassign-partitions.sh writes it: every replica of broker 1 into
    // its first dir, and partition 0 moved from broker 2 to broker 3's second dir (a replica
    // that does not exist yet when its dir is asked).
    let partitions: Vec<Value> = (0..6)
        .map(|p| {
            let (replicas, dirs) = match p {
                0 => (vec![1, 3], vec![dirs1[0].clone(), dirs3[1].clone()]),
                p if p % 2 == 0 => (vec![1, 2], vec![dirs1[0].clone(), "any".into()]),
                _ => (vec![2, 1], vec!["any".into(), dirs1[0].clone()]),
            };
            serde_json::json!({"topic": topic, "partition": p, "replicas": replicas, "log_dirs": dirs})
        })
        .collect();
    let plan = serde_json::json!({"version": 1, "partitions": partitions});
    let state = tempfile::tempdir().expect("tmp");
    let file = state.path().join("dirs.json");
    std::fs::write(&file, plan.to_string()).expect("write the plan");
    let r = kafsh_json(
        &bs,
        None,
        &format!(
            r#"
            let p = parse_plan(read_file({path:?}));
            let started = reassign(p, #{{throttle: 100000000, log_dirs_throttle: 100000000}});
            let done = wait_reassignment(p, #{{timeout: "3m", interval: "1s", elect: false}});
            #{{started: started, done: done, status: reassignment_status(p),
               dirs: log_dirs(#{{topics: ["{topic}"]}})}}
            "#,
            path = file.display().to_string()
        ),
    );
    assert!(
        !r["started"]["log_dir_moves"]
            .as_array()
            .expect("log dir moves")
            .is_empty(),
        "{r}"
    );
    assert_eq!(r["started"]["log_dirs_throttle"], 100000000, "{r}");
    let removed = r["done"]["throttles_removed"].to_string();
    assert!(
        removed.contains("replica.alter.log.dirs.io.max.bytes.per.second"),
        "the copy throttle between log dirs is removed: {r}"
    );
    super::topics_suite::assert_no_throttle_left(c, topic);
    assert_eq!(r["status"]["complete"], true, "{r}");
    // kafsh's view of every replica the plan placed == the tool's --verify.
    let verify = tool_verify(c, &file);
    let placed = r["status"]["log_dirs"]
        .as_array()
        .expect("log dir progress");
    assert_eq!(
        placed.len(),
        7,
        "six replicas on broker 1, one on broker 3: {r}"
    );
    for d in placed {
        assert_eq!(d["state"], "complete", "{d}");
        let replica = format!(
            "{}-{}-{}",
            d["topic"].as_str().unwrap_or(""),
            d["partition"],
            d["broker"]
        );
        assert!(
            verify.contains(&format!(
                "Reassignment of replica {replica} completed successfully"
            )),
            "the tool agrees on {replica}: {verify}"
        );
    }
    for p in 0..6 {
        assert!(
            verify.contains(&format!(
                "Reassignment of partition {topic}-{p} is completed"
            )),
            "{verify}"
        );
    }
    // log_dirs() and LogDirsCommand: broker 1 holds the topic in its first dir only, broker
    // 3 partition 0 in its second.
    let (tool, _) = tool_log_dirs(c, topic);
    for rep in r["dirs"]["replicas"].as_array().expect("replicas") {
        let key = (
            rep["broker"].as_i64().unwrap_or(-1),
            format!("{topic}-{}", rep["partition"]),
        );
        assert_eq!(
            tool.get(&key).map(|t| t.0.as_str()),
            rep["log_dir"].as_str(),
            "{key:?}: {rep}"
        );
        match key.0 {
            1 => assert_eq!(rep["log_dir"].as_str(), Some(dirs1[0].as_str()), "{rep}"),
            3 => assert_eq!(rep["log_dir"].as_str(), Some(dirs3[1].as_str()), "{rep}"),
            _ => {}
        }
    }

    // Broker 1's data now sits in one dir: plan_log_dirs spreads it within 10%, reassign
    // moves it, and log_dirs() and LogDirsCommand show where every moved replica went.
    let r = kafsh_json(
        &bs,
        None,
        &format!(
            r#"
            let p = plan_log_dirs(1, #{{tolerance: 0.1, topics: ["{topic}"]}});
            write_file({path:?}, plan_json(p));
            let started = reassign(p, #{{throttle: 100000000}});
            let done = wait_reassignment(p, #{{timeout: "3m", interval: "1s", elect: false}});
            #{{plan: p, moves: p.moves, dir_moves: p.dir_moves, bytes_to_move: p.bytes_to_move,
               bytes_lower_bound: p.bytes_lower_bound, before: p.before, after: p.after,
               started: started, done: done, dirs: log_dirs(#{{brokers: [1]}})}}
            "#,
            path = state.path().join("balance.json").display().to_string()
        ),
    );
    eprintln!(
        "plan_log_dirs(1): {} moves, {} bytes (lower bound {}), spread {}% -> {}%, dirs {} -> {}",
        r["moves"],
        r["bytes_to_move"],
        r["bytes_lower_bound"],
        r["before"]["spread_percent"],
        r["after"]["spread_percent"],
        r["before"]["dirs"],
        r["after"]["dirs"]
    );
    assert!(r["moves"].as_u64().unwrap_or(0) > 0, "{r}");
    // This topic's replicas on broker 1 all sit in its first dir (checked above); how
    // skewed the whole broker is depends on what other tests left there.
    assert!(
        r["after"]["spread_percent"].as_f64() < r["before"]["spread_percent"].as_f64(),
        "{r}"
    );
    assert!(
        r["after"]["spread_percent"].as_f64().unwrap_or(100.0) <= 20.0,
        "within 10% of the mean each, so at most 20% apart: {r}"
    );
    assert!(
        r["bytes_to_move"].as_u64() >= r["bytes_lower_bound"].as_u64(),
        "{r}"
    );
    // Only broker 1's dirs are named, replica lists unchanged.
    for p in r["plan"]["partitions"].as_array().expect("partitions") {
        let replicas = p["replicas"].as_array().expect("replicas");
        let dirs = p["log_dirs"].as_array().expect("log_dirs");
        for (b, d) in replicas.iter().zip(dirs) {
            assert_eq!(d == "any", b != 1, "{p}");
        }
    }
    assert_eq!(r["started"]["log_dirs_throttle"], 100000000, "{r}");
    let (tool, bytes) = tool_log_dirs(c, topic);
    let verify = tool_verify(c, &state.path().join("balance.json"));
    for m in r["dir_moves"].as_array().expect("dir moves") {
        let (t, p) = (m["topic"].as_str().unwrap_or(""), &m["partition"]);
        let to = m["to"].as_str().unwrap_or("");
        let now = r["dirs"]["replicas"]
            .as_array()
            .expect("replicas")
            .iter()
            .find(|x| x["topic"] == t && &x["partition"] == p && x["broker"] == 1)
            .unwrap_or_else(|| panic!("{t}-{p} on broker 1: {r}"));
        assert_eq!(now["log_dir"], to, "log_dirs(): {now}");
        if t == topic {
            assert_eq!(
                tool.get(&(1, format!("{t}-{p}"))).map(|x| x.0.as_str()),
                Some(to),
                "LogDirsCommand"
            );
        }
        assert!(
            verify.contains(&format!(
                "Reassignment of replica {t}-{p}-1 completed successfully"
            )),
            "{verify}"
        );
    }
    // The disks as Kafka's tool measures them: within the tolerance, with a margin for
    // what other tests write to broker 1 meanwhile.
    let on1: Vec<u64> = dirs1
        .iter()
        .map(|d| bytes.get(&(1, d.clone())).copied().unwrap_or(0))
        .collect();
    eprintln!("broker 1's dirs per LogDirsCommand afterwards: {on1:?}");
    let mean = on1.iter().sum::<u64>() as f64 / 2.0;
    for b in &on1 {
        assert!(
            (*b as f64 - mean).abs() <= mean * 0.25,
            "broker 1's dirs per LogDirsCommand: {on1:?}, plan {r}"
        );
    }

    // A copy between log dirs throttled to a crawl is in flight, then cancelled: the
    // replica stays in its dir and its future replica is gone.
    let first = r["dir_moves"][0].clone();
    let (t, p) = (first["topic"].as_str().unwrap_or(""), &first["partition"]);
    let back = first["from"].as_str().unwrap_or("");
    let plan = format!(
        r#"{{"version":1,"partitions":[{{"topic":"{t}","partition":{p},"replicas":{replicas},"log_dirs":{dirs}}}]}}"#,
        replicas = r["plan"]["partitions"]
            .as_array()
            .expect("partitions")
            .iter()
            .find(|x| x["topic"] == t && &x["partition"] == p)
            .expect("the moved partition")["replicas"],
        dirs = serde_json::json!(r["plan"]["partitions"]
            .as_array()
            .expect("partitions")
            .iter()
            .find(|x| x["topic"] == t && &x["partition"] == p)
            .expect("the moved partition")["replicas"]
            .as_array()
            .expect("replicas")
            .iter()
            .map(|b| if b == 1 { back } else { "any" })
            .collect::<Vec<_>>()),
    );
    let c2 = kafsh_json(
        &bs,
        None,
        &format!(
            r#"
            let p = parse_plan({plan:?});
            reassign(p, #{{log_dirs_throttle: 10000, force: true}});
            let during = reassignment_status(p);
            let cancelled = cancel_reassignment(p);
            #{{during: during, cancelled: cancelled, after: reassignment_status(p)}}
            "#
        ),
    );
    assert_eq!(c2["during"]["log_dirs"][0]["state"], "in progress", "{c2}");
    assert_eq!(
        c2["cancelled"]["log_dir_moves_cancelled"],
        serde_json::json!([format!("{t}-{p} on broker 1")]),
        "{c2}"
    );
    assert_eq!(c2["after"]["log_dirs"][0]["state"], "not moving", "{c2}");
    assert_eq!(c2["after"]["log_dirs"][0]["future"], Value::Null, "{c2}");
    super::topics_suite::assert_no_throttle_left(c, topic);
}
