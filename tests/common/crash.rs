//! The crash-point harness: a runbook killed at any mutation boundary must, when run again,
//! end where an uninterrupted run ends.
//!
//! For a scenario (a runbook command, a way back to its start state, and a snapshot of the
//! state it must reach), `sweep` runs it once uninterrupted to learn its mutations (from the
//! audit log) and its final state; then for each chosen kill point k it starts from the same
//! state, runs it with `KAFSH_CRASH_AFTER_MUTATIONS=k` (kafsh kills itself with SIGKILL right
//! after its k-th mutation, as `kill -9` there would), runs it again — once without
//! `--resume` (which must either finish the job or refuse, naming --resume), then with
//! `--resume` — and compares the final state with the uninterrupted run's. A difference
//! fails with the kill point and the differing fields, one line each.
//!
//! CI runs the kill points a scenario samples; `KAFSH_CRASH_SWEEP=full` runs every one
//! (`scripts/crash_sweep.sh`).
#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// Which kill points CI tries, as positions among the run's n mutations.
#[derive(Debug, Clone, Copy)]
pub enum Pick {
    /// After the first mutation.
    First,
    /// After mutation ⌈n/2⌉.
    Middle,
    /// After the last mutation (before the run reports its result).
    Last,
    /// After mutation k (clamped to n).
    At(usize),
}

/// One runbook under the harness.
pub struct Scenario<'a> {
    /// Names the scenario in failures.
    pub name: &'a str,
    /// The `kafsh ... run SCRIPT --arg ...` command, with its state dir (config, journal).
    pub command: &'a dyn Fn(&tempfile::TempDir) -> Command,
    /// Brings the cluster back to the scenario's start state.
    pub reset: &'a dyn Fn(),
    /// The state every run must end in (compared as JSON).
    pub state: &'a dyn Fn() -> Value,
    /// Kill points CI tries.
    pub sample: &'a [Pick],
    /// Checks of the uninterrupted run beyond its state (e.g. the order of restarts),
    /// before the first reset.
    pub after_reference: &'a dyn Fn(),
}

/// What a sweep did, for the test's own assertions and its log.
#[derive(Debug)]
pub struct SweepReport {
    /// Mutations of the uninterrupted run, as "function target".
    pub mutations: Vec<String>,
    /// Kill points tried.
    pub points: Vec<usize>,
    /// The state the uninterrupted run ended in.
    pub expected: Value,
}

/// Runs the scenario uninterrupted, then killed at each chosen point and run again.
pub fn sweep(s: &Scenario) -> SweepReport {
    (s.reset)();
    let state = tempfile::tempdir().expect("state dir");
    let audit = state.path().join("audit-reference.log");
    let out = run(s, &state, &audit, None, &[]);
    assert!(
        out.status.success(),
        "{}: the uninterrupted run failed: {}",
        s.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = (s.state)();
    (s.after_reference)();
    let mutations = mutations(&audit);
    let n = mutations.len();
    assert!(n > 0, "{}: the run changed nothing", s.name);
    let points = points(s.sample, n);
    eprintln!(
        "{}: {n} mutations, kill points {points:?}: {mutations:?}",
        s.name
    );
    for (i, &k) in points.iter().enumerate() {
        (s.reset)();
        let state = tempfile::tempdir().expect("state dir");
        let audit = state.path().join(format!("audit-{k}.log"));
        let killed = run(s, &state, &audit, Some(k), &[]);
        let at = mutations
            .get(k - 1)
            .cloned()
            .unwrap_or_else(|| "?".to_string());
        let was_killed = signal_of(&killed) == Some(9);
        if !was_killed {
            // This run made fewer mutations than the reference (the cluster answered
            // faster); it must have finished the job by itself.
            assert!(
                killed.status.success(),
                "{}: kill point {k}: the run neither reached it nor succeeded: {}",
                s.name,
                String::from_utf8_lossy(&killed.stderr)
            );
        } else if i == 0 {
            // Once per scenario: a new run, without --resume, over the killed one.
            let again = run(s, &state, &audit, None, &[]);
            let err = String::from_utf8_lossy(&again.stderr);
            if !again.status.success() {
                assert_eq!(
                    again.status.code(),
                    Some(5),
                    "{}: kill point {k} ({at}): a run without --resume must finish the job or refuse: {err}",
                    s.name
                );
                assert!(err.contains("--resume"), "{}: {err}", s.name);
                resume(s, &state, &audit, k, &at);
            }
        } else {
            resume(s, &state, &audit, k, &at);
        }
        let actual = (s.state)();
        let diff = differences(&expected, &actual);
        assert!(
            diff.is_empty(),
            "{}: killed after mutation {k} of {n} ({at}), then run again: the state differs from an uninterrupted run's:\n  {}",
            s.name,
            diff.join("\n  ")
        );
    }
    SweepReport {
        mutations,
        points,
        expected,
    }
}

fn resume(s: &Scenario, state: &tempfile::TempDir, audit: &Path, k: usize, at: &str) {
    let out = run(s, state, audit, None, &["--resume"]);
    assert!(
        out.status.success(),
        "{}: killed after mutation {k} ({at}), the --resume run failed: {}",
        s.name,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(
    s: &Scenario,
    state: &tempfile::TempDir,
    audit: &Path,
    kill_after: Option<usize>,
    extra: &[&str],
) -> Output {
    let mut cmd = (s.command)(state);
    cmd.args(extra).env("KAFSH_AUDIT_LOG", audit);
    match kill_after {
        Some(k) => cmd.env("KAFSH_CRASH_AFTER_MUTATIONS", k.to_string()),
        None => cmd.env_remove("KAFSH_CRASH_AFTER_MUTATIONS"),
    };
    cmd.output().expect("run kafsh")
}

fn signal_of(out: &Output) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    out.status.signal()
}

/// "function target" of every audit line.
pub fn mutations(audit: &Path) -> Vec<String> {
    std::fs::read_to_string(audit)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| {
            format!(
                "{} {}",
                v["function"].as_str().unwrap_or(""),
                v["target"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// The kill points to try among `n` mutations: every one under `KAFSH_CRASH_SWEEP=full`,
/// else the sample.
fn points(sample: &[Pick], n: usize) -> Vec<usize> {
    let mut out: Vec<usize> = if std::env::var("KAFSH_CRASH_SWEEP").is_ok_and(|v| v == "full") {
        (1..=n).collect()
    } else {
        sample
            .iter()
            .map(|p| match p {
                Pick::First => 1,
                Pick::Middle => n.div_ceil(2),
                Pick::Last => n,
                Pick::At(k) => (*k).clamp(1, n),
            })
            .collect()
    };
    out.dedup();
    out
}

/// The paths where two JSON values differ, as "path: expected X, got Y".
pub fn differences(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_into("", expected, actual, &mut out);
    out
}

fn diff_into(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let keys: std::collections::BTreeSet<&String> = e.keys().chain(a.keys()).collect();
            for k in keys {
                diff_into(
                    &format!("{path}.{k}"),
                    e.get(k).unwrap_or(&Value::Null),
                    a.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (x, y)) in e.iter().zip(a).enumerate() {
                diff_into(&format!("{path}[{i}]"), x, y, out);
            }
        }
        (e, a) if e != a => out.push(format!(
            "{}: expected {e}, got {a}",
            if path.is_empty() { "." } else { path }
        )),
        _ => {}
    }
}

/// The Kafka state a reassigning runbook must leave, for `topics`: every partition's
/// replicas and leader, whether the preferred replica leads, the configs set on each topic,
/// every throttle config on the brokers, and the reassignments still in flight.
pub fn kafka_state(bootstrap: &str, topics: &[&str]) -> Value {
    let list = topics
        .iter()
        .map(|t| format!("{t:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    super::kafsh_json(
        bootstrap,
        None,
        &format!(
            r#"let topics = [{list}];
            let partitions = [];
            for t in describe_topics(topics) {{
                let rows = [];
                for p in t.partitions {{
                    rows.push(#{{topic: t.topic, partition: p.partition, replicas: p.replicas,
                                preferred_leads: p.leader == p.replicas[0]}});
                }}
                partitions.push(rows);
            }}
            let configs = [];
            for t in topics {{
                configs.push(describe_config("topic", t).map(|c| `${{c.name}}=${{c.value}}`));
            }}
            let throttles = [];
            for b in brokers() {{
                for c in describe_config("broker", b.id) {{
                    if c.name.contains("throttled") {{ throttles.push(`${{b.id}}:${{c.name}}`); }}
                }}
            }}
            #{{partitions: partitions, topic_configs: configs, broker_throttles: throttles,
               in_flight: list_reassignments().len()}}"#
        ),
    )
}
