//! Runbooks that run unattended: resumable steps (a real run killed with kill -9), locks,
//! confirmations without a terminal, sh, arguments, modules, operation limits, the audit
//! and log files. Needs no cluster.

mod common;

use common::kafsh;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, text).expect("write");
    p
}

fn count_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn a_run_killed_mid_way_resumes_after_its_last_finished_step() {
    let state = tempfile::tempdir().expect("tmp");
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("done.log");
    let script = write(
        dir.path(),
        "three_steps.rhai",
        &format!(
            r#"
step("one", || sh("echo one >> {log}"));
step("two", || {{ sh("echo two >> {log}"); sleep(parse_int(env("PAUSE") ?? "0")); }});
step("three", || sh("echo three >> {log}"));
"#,
            log = log.display()
        ),
    );
    // First run: killed with SIGKILL while step two sleeps.
    let mut child = kafsh(&state)
        .arg("run")
        .arg(&script)
        .args(["--arg", "who=ops"])
        .env("PAUSE", "60")
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    while count_lines(&log) < 2 {
        assert!(Instant::now() < deadline, "the run never reached step two");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert_eq!(std::fs::read_to_string(&log).expect("log"), "one\ntwo\n");

    // A new run over the unfinished one refuses, naming the finished step and the way on;
    // it changes nothing.
    let out = kafsh(&state)
        .arg("run")
        .arg(&script)
        .args(["--arg", "who=ops"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("\"one\"") && err.contains("--resume") && err.contains("--fresh"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&log).expect("log"), "one\ntwo\n");

    // --resume: step one is not redone; two (unfinished) and three run.
    let out = kafsh(&state)
        .arg("run")
        .arg(&script)
        .args(["--arg", "who=ops", "--resume"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("step \"one\": finished in an earlier run, skipped"));
    assert_eq!(
        std::fs::read_to_string(&log).expect("log"),
        "one\ntwo\ntwo\nthree\n"
    );

    // The run completed, so the journal is gone: the next run does everything again
    // (and --fresh, over a journal, starts over the same way).
    let out = kafsh(&state)
        .arg("run")
        .arg(&script)
        .args(["--arg", "who=ops", "--resume"])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(count_lines(&log), 7);
}

#[test]
fn locks_keep_two_runs_apart_and_stale_locks_are_taken_over() {
    let state = tempfile::tempdir().expect("tmp");
    let dir = tempfile::tempdir().expect("tmp");
    let slow = write(dir.path(), "slow.rhai", "//! lock: nightly\nsleep(30);\n");
    let quick = write(dir.path(), "quick.rhai", "1\n");
    let mut holder = kafsh(&state)
        .arg("run")
        .arg(&slow)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(800));
    let started = Instant::now();
    let out = kafsh(&state)
        .args(["run", "--lock", "nightly"])
        .arg(&quick)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "exits at once");
    assert!(
        err.contains(&format!("pid {}", holder.id())) && err.contains("since 20"),
        "{err}"
    );
    // The holder dies without cleaning up: its lock is stale and the next run takes it.
    holder.kill().expect("kill -9");
    let _ = holder.wait();
    let out = kafsh(&state)
        .args(["run", "--lock", "nightly"])
        .arg(&quick)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn confirm_sh_args_modules_and_limits() {
    let state = tempfile::tempdir().expect("tmp");
    let dir = tempfile::tempdir().expect("tmp");
    // confirm never waits without a terminal: no, or yes with --yes; and says so.
    let out = kafsh(&state)
        .args(["-e", r#"confirm("restart the leader?")"#])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "false");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no terminal to ask"));
    let out = kafsh(&state)
        .args(["--yes", "-e", r#"confirm("restart the leader?")"#])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "true");

    // sh: captured output; a non-zero exit fails unless check: false; a time limit kills.
    let out = kafsh(&state)
        .args([
            "-e",
            r#"sh("echo out; echo err >&2", #{read_only: true}).stdout"#,
        ])
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "out");
    let out = kafsh(&state)
        .args(["-e", r#"sh("exit 7")"#])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exited with 7"));
    let out = kafsh(&state)
        .args(["-e", r#"sh("exit 7", #{check: false}).code"#])
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "7");
    let started = Instant::now();
    let out = kafsh(&state)
        .args(["-e", r#"sh("sleep 30", #{timeout: "1s"})"#])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    // Required and defaulted arguments.
    let script = write(
        dir.path(),
        "args.rhai",
        "let b = arg(\"new_brokers\"); let t = arg(\"throttle\", 10); b.len() * t\n",
    );
    let out = kafsh(&state).arg("run").arg(&script).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing required argument \"new_brokers\"")
    );
    let out = kafsh(&state)
        .arg("run")
        .arg(&script)
        .args(["--arg", "new_brokers=4,5"])
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "20");

    // Modules from a library folder next to the script.
    write(
        dir.path(),
        "lib/common.rhai",
        "fn double(x) { x * 2 }\nexport const TEAM = \"ops\";\n",
    );
    let script = write(
        dir.path(),
        "uses_lib.rhai",
        "import \"lib/common\" as common;\n`${common::TEAM}:${common::double(21)}`\n",
    );
    let out = kafsh(&state).arg("run").arg(&script).output().expect("run");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ops:42",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A runaway loop is stopped by the operation limit with a clear error.
    let script = write(dir.path(), "runaway.rhai", "let i = 0;\nloop { i += 1; }\n");
    let out = kafsh(&state)
        .args(["run", "--max-operations", "100000"])
        .arg(&script)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .to_lowercase()
        .contains("too many operations"));
    // The same global flag stops a one-liner too (one engine factory for every surface).
    let out = kafsh(&state)
        .args([
            "--max-operations",
            "100000",
            "-e",
            "let i = 0; loop { i += 1; }",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .to_lowercase()
        .contains("too many operations"));
}

#[test]
fn mutations_are_audited_with_secrets_masked_and_logged() {
    let state = tempfile::tempdir().expect("tmp");
    let log = state.path().join("kafsh.log");
    let out = kafsh(&state)
        .arg("--log-file")
        .arg(&log)
        .args([
            "-e",
            r#"sh("true", #{env: #{DB_PASSWORD: "hunter2", REGION: "eu"}}); log("all done")"#,
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let audit_path = state.path().join("state").join("audit.log");
    let audit = std::fs::read_to_string(&audit_path).expect("audit log");
    let line: serde_json::Value =
        serde_json::from_str(audit.lines().last().expect("a line")).expect("json");
    assert_eq!(line["function"], "sh");
    assert_eq!(line["arguments"]["env"]["DB_PASSWORD"], "[hidden]");
    assert_eq!(line["arguments"]["env"]["REGION"], "eu");
    assert!(!audit.contains("hunter2"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&audit_path)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&log).expect("log file");
    assert!(text.contains("info all done"), "{text}");
    // A dry run lists what it would do and audits nothing.
    let before = count_lines(&audit_path);
    let out = kafsh(&state)
        .args([
            "--dry-run",
            "-e",
            r#"sh("touch /tmp/never"); write_file("/tmp/never2", "x")"#,
        ])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dry run: 2 planned change(s), none made:"),
        "{err}"
    );
    assert!(err.contains("1. sh touch /tmp/never"), "{err}");
    assert_eq!(count_lines(&audit_path), before);
    assert!(!Path::new("/tmp/never2").exists());
}
