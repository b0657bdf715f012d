//! Load for runbook tests: Kafka's VerifiableProducer writing with acks=all while a runbook
//! runs, and the check that every message it had acknowledged is there exactly once.
#![allow(dead_code)]

use kafsh_sandbox::Cluster;
use std::collections::BTreeSet;
use std::process::{Child, Stdio};

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
    c.kafka_tool_command("org.apache.kafka.tools.VerifiableProducer", &args)
        .expect("command")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("producer")
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
    let produced = producer.wait_with_output().expect("producer output");
    String::from_utf8_lossy(&produced.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["name"] == "producer_send_success")
        .filter_map(|v| v["value"].as_str().map(String::from))
        .collect()
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
