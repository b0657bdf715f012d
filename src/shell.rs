//! Shell commands for runbooks (`sh`, inventory restart commands): run with `sh -c`, a
//! time limit, captured output, and the process group killed when the limit passes.

use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The outcome of one command.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CommandResult {
    /// The command line.
    pub command: String,
    /// Exit code (none when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Wall time in ms.
    pub duration_ms: u64,
}

/// Runs `command` with `sh -c`, extra `env`, `stdin` (or none), within `timeout`.
pub async fn run(
    command: &str,
    env: &BTreeMap<String, String>,
    stdin: Option<&str>,
    timeout: Duration,
) -> Result<CommandResult> {
    let started = Instant::now();
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .envs(env)
        .stdin(if stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::Cluster(format!("cannot run {command:?}: {e}")))?;
    let pid = child.id();
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use tokio::io::AsyncWriteExt;
        let text = text.as_bytes().to_vec();
        // Written concurrently: a command that does not read stdin must not block us.
        tokio::spawn(async move {
            let _ = pipe.write_all(&text).await;
        });
    }
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => Ok(CommandResult {
            command: command.to_string(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            duration_ms: started.elapsed().as_millis() as u64,
        }),
        Ok(Err(e)) => Err(Error::Cluster(format!("{command:?} failed: {e}"))),
        Err(_) => {
            // The whole process group the command leads (`sh -c` and its children); never
            // any other group.
            if let Some(pgid) = pid.and_then(|p| i32::try_from(p).ok()).filter(|p| *p > 1) {
                // SAFETY: killpg only sends a signal; the group was created for this command.
                unsafe {
                    libc::killpg(pgid, libc::SIGKILL);
                }
            }
            Err(Error::Timeout(format!(
                "{command:?} did not finish within {}",
                crate::kafka::conn::human(timeout)
            )))
        }
    }
}
