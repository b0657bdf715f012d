//! Exit codes and configuration handling of the `kafsh` binary; needs no cluster (an
//! unreachable address stands in where one is named).

mod common;

use common::kafsh;
use std::time::{Duration, Instant};

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

#[test]
fn exit_codes_are_distinct_and_documented() {
    let state = tempfile::tempdir().expect("tmp");
    // 0: success.
    let out = kafsh(&state).args(["-e", "1 + 1"]).output().expect("run");
    assert_eq!(code(&out), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
    // 1: script error.
    let out = kafsh(&state)
        .args(["-e", "fail(\"no\")"])
        .output()
        .expect("run");
    assert_eq!(code(&out), Some(1));
    // 2: usage.
    let out = kafsh(&state)
        .args(["--no-such-flag"])
        .output()
        .expect("run");
    assert_eq!(code(&out), Some(2));
    // 3: cluster unreachable.
    let out = kafsh(&state)
        .args(["--bootstrap-server", "127.0.0.1:1", "-e", "list_topics()"])
        .output()
        .expect("run");
    assert_eq!(
        code(&out),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 4: the run's --timeout.
    let started = Instant::now();
    let out = kafsh(&state)
        .args(["--timeout", "1s", "-e", "loop { }"])
        .output()
        .expect("run");
    assert_eq!(
        code(&out),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--timeout"));
    // 5: interrupted (Ctrl-C) — SIGINT to a running script.
    let dir = tempfile::tempdir().expect("tmp");
    let script = dir.path().join("forever.rhai");
    std::fs::write(&script, "loop { }\n").expect("write");
    let child = kafsh(&state)
        .arg("run")
        .arg(&script)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(700));
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        code(&out),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
}

#[test]
fn missing_config_uses_defaults_and_says_so_once() {
    let state = tempfile::tempdir().expect("tmp");
    let out = kafsh(&state)
        .args(["--timeout", "5s", "-e", "1"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("localhost:9092") && err.contains("localhost:2181"),
        "{err}"
    );
    let out = kafsh(&state).args(["-e", "1"]).output().expect("run");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("localhost:9092"),
        "said only once"
    );
}

#[test]
fn malformed_config_names_file_line_and_key() {
    let state = tempfile::tempdir().expect("tmp");
    let config = state.path().join("config.toml");
    std::fs::write(
        &config,
        "current_context = \"a\"\n\n[contexts.a]\nbootstrap_server = \"x:9092\"\n",
    )
    .expect("write");
    let out = kafsh(&state).args(["-e", "1"]).output().expect("run");
    assert_eq!(code(&out), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:4", config.display())), "{err}");
    assert!(err.contains("bootstrap_server"), "{err}");
}

#[test]
fn contexts_and_command_config_are_used() {
    let state = tempfile::tempdir().expect("tmp");
    let config = state.path().join("config.toml");
    std::fs::write(
        &config,
        "current_context = \"a\"\n[contexts.a]\nbootstrap_servers = \"127.0.0.1:1\"\n[contexts.b]\nbootstrap_servers = \"127.0.0.1:2\"\n",
    )
    .expect("write");
    let out = kafsh(&state)
        .args(["-e", "list_topics()"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("127.0.0.1:1"));
    let out = kafsh(&state)
        .args(["--context", "b", "-e", "list_topics()"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("127.0.0.1:2"));
    let out = kafsh(&state)
        .args(["--context", "nope", "-e", "1"])
        .output()
        .expect("run");
    assert_eq!(code(&out), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known: a, b"));
    // A client properties file, as Kafka's tools take it; SASL without credentials is refused
    // rather than silently falling back to PLAINTEXT.
    let props = state.path().join("client.properties");
    std::fs::write(&props, "security.protocol=SASL_SSL\n").expect("write");
    let out = kafsh(&state)
        .arg("--command-config")
        .arg(&props)
        .args(["-e", "list_topics()"])
        .output()
        .expect("run");
    assert_eq!(code(&out), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SASL needs sasl.username"));
}

#[test]
fn run_passes_typed_arguments() {
    let state = tempfile::tempdir().expect("tmp");
    let dir = tempfile::tempdir().expect("tmp");
    let script = dir.path().join("args.rhai");
    std::fs::write(&script, "args.new_brokers.len() + args.count").expect("write");
    let out = kafsh(&state)
        .arg("run")
        .arg(&script)
        .args(["--arg", "new_brokers=4,5", "--arg", "count=10"])
        .output()
        .expect("run");
    assert_eq!(
        code(&out),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "12");
}
