//! Load for runbook tests: Kafka's VerifiableProducer writing with acks=all while a runbook
//! runs, and the check that every message it had acknowledged is there exactly once.
#![allow(dead_code)]

use kafsh_sandbox::Cluster;
use std::collections::BTreeSet;
use std::process::{Child, Stdio};

/// Where each running producer's report goes, by pid: a file, not a pipe. A pipe nobody
/// reads fills after a few hundred acknowledgements, and the producer's callbacks (on its
/// sender thread) then block writing to it: the producer stops producing.
static REPORTS: std::sync::Mutex<Vec<(u32, tempfile::NamedTempFile)>> =
    std::sync::Mutex::new(Vec::new());

/// Kafka's VerifiableProducer writing `count` values at `rate`/s with acks=all.
pub fn start_producer(c: &Cluster, topic: &str, count: u32, rate: u32) -> Child {
    let args: Vec<String> = [
        "--bootstrap-server",
        &c.bootstrap_servers(),
        "--topic",
        topic,
        "--max-messages",
        &count.to_string(),
        "--throughput",
        &rate.to_string(),
        "--acks",
        "-1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let report = tempfile::NamedTempFile::new().expect("producer report file");
    let child = c
        .kafka_tool_command("org.apache.kafka.tools.VerifiableProducer", &args)
        .expect("command")
        .stdout(Stdio::from(report.reopen().expect("report file")))
        .stderr(Stdio::null())
        .spawn()
        .expect("producer");
    REPORTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((child.id(), report));
    child
}

/// Stops a producer still writing (SIGTERM: it finishes its in-flight sends and reports).
pub fn stop_producer(producer: &Child) {
    // SAFETY: a signal to a child process we started.
    unsafe {
        libc::kill(producer.id() as libc::pid_t, libc::SIGTERM);
    }
}

/// The values the producer had acknowledged when it ended.
pub fn acked_values(producer: Child) -> BTreeSet<String> {
    acked_values_and_stall(producer).0
}

/// The values the producer had acknowledged when it ended, and the longest time between
/// two acknowledgements (the longest produce stall). Send errors are summarised on stderr.
pub fn acked_values_and_stall(mut producer: Child) -> (BTreeSet<String>, std::time::Duration) {
    producer.wait().expect("producer ends");
    let report = {
        let mut reports = REPORTS.lock().unwrap_or_else(|e| e.into_inner());
        let at = reports
            .iter()
            .position(|(pid, _)| *pid == producer.id())
            .expect("a producer started by start_producer");
        reports.remove(at).1
    };
    let text = std::fs::read_to_string(report.path()).expect("producer report");
    let events: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .collect();
    let acks: Vec<&serde_json::Value> = events
        .iter()
        .filter(|v| v["name"] == "producer_send_success")
        .collect();
    let mut times: Vec<i64> = acks
        .iter()
        .filter_map(|v| v["timestamp"].as_i64())
        .collect();
    times.sort();
    let stall = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let mut errors: std::collections::BTreeMap<String, usize> = Default::default();
    for v in events.iter().filter(|v| v["name"] == "producer_send_error") {
        *errors
            .entry(v["exception"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    for (e, n) in errors {
        eprintln!("producer: {n} send(s) failed with {e}");
    }
    let values = acks
        .iter()
        .filter_map(|v| v["value"].as_str().map(String::from))
        .collect();
    (
        values,
        std::time::Duration::from_millis(stall.max(0) as u64),
    )
}

/// Every acknowledged value of `topic` is there, and none twice.
pub fn assert_consumed_exactly_once(c: &Cluster, topic: &str, acked: &BTreeSet<String>) {
    let consumed = c
        .kafka_tool(
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            &[
                "--bootstrap-server",
                &c.bootstrap_servers(),
                "--topic",
                topic,
                "--from-beginning",
                "--timeout-ms",
                "15000",
            ],
        )
        .expect("consumer");
    let values: Vec<String> = String::from_utf8_lossy(&consumed.stdout)
        .lines()
        .map(String::from)
        .collect();
    let unique: BTreeSet<String> = values.iter().cloned().collect();
    assert_eq!(unique.len(), values.len(), "a message was consumed twice");
    let lost: Vec<&String> = acked.difference(&unique).take(5).collect();
    assert!(
        lost.is_empty(),
        "acknowledged messages lost: {lost:?} of {}",
        acked.len()
    );
}
