//! The audit trail without a cluster (file writes are mutations too): who is recorded under
//! an empty environment and under sudo as another user, the hash chain verified and an
//! edited line found, syslog delivery read back from a socket the test binds, a query by
//! target over thousands of entries, and a run that stops when its audit entry cannot be
//! written. Config rollback against a real cluster is in `tests/common/topics_suite.rs`.

mod common;

use common::kafsh;
use std::path::Path;

fn entries(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn entries_name_the_real_user_even_without_user_or_logname() {
    let state = tempfile::tempdir().expect("tmp");
    let target = state.path().join("note.txt");
    let out = std::process::Command::new(common::kafsh_bin())
        .env_clear()
        .env("KAFSH_STATE_DIR", state.path().join("state"))
        .env("KAFSH_CONFIG", state.path().join("none.toml"))
        .args(["-e", &format!("write_file({:?}, \"x\")", target.display())])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = entries(&state.path().join("state/audit.log"));
    assert_eq!(log.len(), 1, "{log:?}");
    let e = &log[0];
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    assert_eq!(e["uid"], uid);
    assert_eq!(
        e["user"].as_str(),
        kafsh::audit::identity::user_name(uid).as_deref()
    );
    assert!(!e["user"].as_str().unwrap_or("").is_empty(), "{e}");
    assert_eq!(e["function"], "write_file");
    assert_eq!(e["kafsh"], env!("CARGO_PKG_VERSION"));
    assert_eq!(e["seq"], 1);
    assert_eq!(e["prev"], kafsh::audit::GENESIS);
}

/// Under `sudo -u` another user: that user is who ran it, and the person behind sudo is
/// recorded next to it. Needs root and sudo (CI has both: scripts/install-deps.sh).
#[test]
fn under_sudo_both_the_target_user_and_the_sudoer_are_recorded() {
    // SAFETY: getuid cannot fail.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("skipped: needs root to create a user and run sudo -u");
        return;
    }
    let user = "kafsh-audit";
    if kafsh::audit::identity::user_name(0).is_some()
        && !std::process::Command::new("id")
            .arg(user)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    {
        let made = std::process::Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                user,
            ])
            .status()
            .expect("useradd");
        assert!(made.success(), "useradd {user}");
    }
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let state = dir.path().join("state");
    let out = std::process::Command::new("sudo")
        .args(["-n", "-u", user, "env"])
        .arg(format!("KAFSH_STATE_DIR={}", state.display()))
        .arg(format!(
            "KAFSH_CONFIG={}",
            dir.path().join("none.toml").display()
        ))
        .arg(common::kafsh_bin())
        .args([
            "-e",
            &format!(
                "write_file({:?}, \"x\")",
                dir.path().join("n.txt").display()
            ),
        ])
        .output()
        .expect("sudo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = entries(&state.join("audit.log"));
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["user"], user, "{}", log[0]);
    assert_eq!(log[0]["sudo_user"], "root", "{}", log[0]);
    assert_eq!(log[0]["sudo_uid"], 0, "{}", log[0]);
}

#[test]
fn the_chain_verifies_and_an_edited_or_removed_line_is_found() {
    let state = tempfile::tempdir().expect("tmp");
    let dir = tempfile::tempdir().expect("tmp");
    for i in 0..4 {
        let out = kafsh(&state)
            .args([
                "-e",
                &format!(
                    "write_file({:?}, \"{i}\")",
                    dir.path().join(format!("{i}.txt")).display()
                ),
            ])
            .output()
            .expect("run");
        assert!(out.status.success());
    }
    let trail = state.path().join("state/audit.log");
    let verify = |expect_ok: bool| -> serde_json::Value {
        let out = kafsh(&state)
            .args(["--json", "audit", "verify"])
            .output()
            .expect("verify");
        assert_eq!(
            out.status.success(),
            expect_ok,
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let report = verify(true);
    assert_eq!(report["entries"], 4);
    assert_eq!(report["intact"], true);

    let text = std::fs::read_to_string(&trail).expect("trail");
    std::fs::write(&trail, text.replacen("2.txt", "9.txt", 1)).expect("edit");
    let report = verify(false);
    assert_eq!(report["broken_at"], 3, "{report}");
    assert!(
        report["reason"].as_str().unwrap_or("").contains("edited"),
        "{report}"
    );

    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(1);
    std::fs::write(&trail, lines.join("\n") + "\n").expect("remove");
    let report = verify(false);
    assert_eq!(report["broken_at"], 2, "{report}");
    assert!(
        report["reason"].as_str().unwrap_or("").contains("removed"),
        "{report}"
    );
}

#[test]
fn entries_reach_syslog_with_structured_fields() {
    let state = tempfile::tempdir().expect("tmp");
    let socket_path = state.path().join("log.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).expect("bind");
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    std::fs::write(
        state.path().join("config.toml"),
        format!(
            "[audit]\nsyslog = {:?}\n",
            socket_path.display().to_string()
        ),
    )
    .expect("config");
    let out = kafsh(&state)
        .args([
            "-e",
            &format!(
                "write_file({:?}, \"x\")",
                state.path().join("x.txt").display()
            ),
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut buf = vec![0u8; 65536];
    let n = socket.recv(&mut buf).expect("a syslog message");
    let message = String::from_utf8_lossy(&buf[..n]);
    assert!(message.starts_with("<85>1 "), "{message}");
    assert!(
        message.contains("[kafsh@32473 function=\"write_file\""),
        "{message}"
    );
    assert!(message.contains("\"function\":\"write_file\""), "{message}");
    assert!(message.contains("seq=\"1\""), "{message}");
}

#[test]
fn a_query_by_target_finds_its_entries_among_thousands() {
    let state = tempfile::tempdir().expect("tmp");
    let trail = state.path().join("big.log");
    let origin = kafsh::audit::Origin {
        context: Some("prod".into()),
        ..Default::default()
    };
    for i in 0..3000 {
        kafsh::audit::append_at(
            Some(&trail),
            &origin,
            &Default::default(),
            "alter_config",
            &format!("topic \"orders-{i}\""),
            &serde_json::json!({"entity": "topic", "name": format!("orders-{i}"), "changes": []}),
            "set retention.ms=1",
        )
        .expect("append");
    }
    let started = std::time::Instant::now();
    let out = kafsh(&state)
        .args(["--json", "audit", "--file"])
        .arg(&trail)
        .args(["--target", "orders-2718\"", "--since", "1h"])
        .output()
        .expect("query");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["seq"], 2719);
    eprintln!("query over 3000 entries: {took:?}");
    let out = kafsh(&state)
        .args(["--json", "audit", "verify", "--file"])
        .arg(&trail)
        .output()
        .expect("verify");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_run_whose_audit_entry_cannot_be_written_stops_and_fails_loudly() {
    let state = tempfile::tempdir().expect("tmp");
    let dir = tempfile::tempdir().expect("tmp");
    let first = dir.path().join("first.txt");
    let second = dir.path().join("second.txt");
    let out = kafsh(&state)
        .env("KAFSH_AUDIT_LOG", "/proc/kafsh-no-such-dir/audit.log")
        .args([
            "-e",
            &format!(
                "write_file({:?}, \"1\"); write_file({:?}, \"2\")",
                first.display(),
                second.display()
            ),
        ])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("audit entry could not be written"), "{err}");
    assert!(first.exists(), "the change itself is made");
    assert!(
        !second.exists(),
        "the run stops after the unaudited change: {err}"
    );
}
