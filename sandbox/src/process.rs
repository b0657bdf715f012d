//! Spawning and controlling the JVMs: detached start, signals, liveness, bounded waits.
//!
//! Every node runs in its own process group (so a Ctrl-C in the terminal of `kafsh-sandbox up`
//! does not reach it and it outlives the process that started it). Each JVM carries
//! `-Dkafsh.sandbox.node=<node dir>` on its command line; liveness checks look for that marker in
//! `/proc/<pid>/cmdline`, so a recycled pid is never mistaken for (or signalled as) a node.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub(crate) const SIGKILL: i32 = 9;
pub(crate) const SIGTERM: i32 = 15;
#[cfg(not(target_os = "macos"))]
pub(crate) const SIGCONT: i32 = 18;
#[cfg(not(target_os = "macos"))]
pub(crate) const SIGSTOP: i32 = 19;
#[cfg(target_os = "macos")]
pub(crate) const SIGCONT: i32 = 19;
#[cfg(target_os = "macos")]
pub(crate) const SIGSTOP: i32 = 17;

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

/// Sends `sig` to `pid`.
pub(crate) fn signal(pid: u32, sig: i32) -> io::Result<()> {
    let pid = i32::try_from(pid).map_err(|_| io::Error::other(format!("bad pid {pid}")))?;
    // SAFETY: kill(2) has no memory-safety preconditions.
    let rc = unsafe { kill(pid, sig) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// What a recorded pid currently is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProcState {
    /// No such process, a zombie, or a process that is not this node.
    Gone,
    Running,
    /// Stopped by SIGSTOP.
    Paused,
}

/// The command-line marker that identifies the JVM of the node in `node_dir`.
pub(crate) fn marker(node_dir: &Path) -> String {
    format!("-Dkafsh.sandbox.node={}", node_dir.display())
}

/// State of `pid`, which must carry the marker of `node_dir` to count.
pub(crate) fn proc_state(pid: u32, node_dir: &Path) -> ProcState {
    #[cfg(target_os = "linux")]
    {
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return ProcState::Gone;
        };
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .unwrap_or('?');
        if matches!(state, 'Z' | 'X' | 'x') {
            return ProcState::Gone;
        }
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
            return ProcState::Gone;
        };
        // Right after spawn the new image's arguments may not be mapped yet (the exec is
        // still setting up), and the kernel shows an empty command line: still starting.
        if cmdline.is_empty() {
            return if matches!(state, 'T' | 't') {
                ProcState::Paused
            } else {
                ProcState::Running
            };
        }
        let mut want = marker(node_dir).into_bytes();
        want.push(0);
        if !cmdline.windows(want.len()).any(|w| w == want.as_slice()) {
            return ProcState::Gone;
        }
        if matches!(state, 'T' | 't') {
            ProcState::Paused
        } else {
            ProcState::Running
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = node_dir;
        if signal(pid, 0).is_ok() {
            ProcState::Running
        } else {
            ProcState::Gone
        }
    }
}

/// The `java` to run: `$JAVA_HOME/bin/java` when set, else `java` from `PATH`.
pub(crate) fn java() -> PathBuf {
    match std::env::var_os("JAVA_HOME") {
        Some(home) if !home.is_empty() => {
            let p = PathBuf::from(home).join("bin").join("java");
            if p.exists() {
                p
            } else {
                PathBuf::from("java")
            }
        }
        _ => PathBuf::from("java"),
    }
}

/// JVM options shared by servers and tools: small heap, serial GC, C1 only.
pub(crate) fn base_jvm_opts(xmx: &str) -> Vec<String> {
    vec![
        format!("-Xmx{xmx}"),
        "-Xms32m".into(),
        "-XX:+UseSerialGC".into(),
        "-XX:TieredStopAtLevel=1".into(),
        "-XX:-UsePerfData".into(),
        "-XX:+ExitOnOutOfMemoryError".into(),
        "-Djava.awt.headless=true".into(),
    ]
}

/// A `java` command line: options, classpath `<jars>/*`, main class, arguments.
pub(crate) fn java_command(
    jvm_opts: &[String],
    jars_dir: &Path,
    main_class: &str,
    args: &[String],
) -> Command {
    let mut cmd = Command::new(java());
    cmd.args(jvm_opts)
        .arg("-cp")
        .arg(format!("{}/*", jars_dir.display()))
        .arg(main_class)
        .args(args)
        .env_remove("JAVA_TOOL_OPTIONS")
        .env_remove("_JAVA_OPTIONS")
        .env_remove("JDK_JAVA_OPTIONS")
        .env_remove("CLASSPATH");
    cmd
}

/// Starts `cmd` detached in `node_dir`: own process group, stdin closed, stdout and stderr
/// appended to `<node_dir>/stdout.log`.
pub(crate) fn spawn_detached(mut cmd: Command, node_dir: &Path) -> io::Result<Child> {
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(node_dir.join("stdout.log"))?;
    let log2 = log.try_clone()?;
    cmd.current_dir(node_dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .process_group(0);
    cmd.spawn().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot start {:?}: {e} (is Java installed?)",
                cmd.get_program()
            ),
        )
    })
}

/// Polls until `pid` is gone or `timeout` passes; true when gone.
pub(crate) fn wait_gone(pid: u32, node_dir: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if proc_state(pid, node_dir) == ProcState::Gone {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `cmd` to completion with captured output, killing it after `timeout`.
pub(crate) fn output_with_timeout(mut cmd: Command, timeout: Duration) -> io::Result<Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot start {:?}: {e}", cmd.get_program()),
        )
    })?;
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "{:?} did not finish within {}s and was killed",
                    cmd.get_program(),
                    timeout.as_secs()
                ),
            ));
        }
        thread::sleep(Duration::from_millis(50));
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// Length of a file, 0 when it does not exist.
pub(crate) fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The text of `path` from byte `offset` on (lossy UTF-8), empty when unreadable.
pub(crate) fn read_from(path: &Path, offset: u64) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let start = if offset > len { 0 } else { offset };
    if f.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The last `n` lines of `path` (for error messages), or a note that it is missing.
pub(crate) fn tail(path: &Path, n: usize) -> String {
    let len = file_len(path);
    let text = read_from(path, len.saturating_sub(64 * 1024));
    if text.is_empty() {
        return format!("  ({} is empty or missing)\n", path.display());
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for l in &lines[lines.len().saturating_sub(n)..] {
        out.push_str("  | ");
        out.push_str(l);
        out.push('\n');
    }
    out
}
