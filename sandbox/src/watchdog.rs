//! The watchdog of an owned cluster: a small `sh` loop in its own process group. When the
//! owning process dies without tearing the cluster down (killed by a test timeout, or a
//! cluster kept in a `static` that is never dropped), it kills the nodes (the pids in
//! `<dir>/pids` whose command line carries the node marker of this cluster) and removes the
//! directory unless `<dir>/keep` exists, within about a second. It quits once `<dir>/owner`
//! no longer names the owner.

use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const SCRIPT: &str = r#"
dir=$1; owner=$2
while [ "$(cat "$dir/owner" 2>/dev/null)" = "$owner" ]; do
  if ! kill -0 "$owner" 2>/dev/null; then
    for p in $(cat "$dir/pids" 2>/dev/null); do
      if tr '\0' '\n' < "/proc/$p/cmdline" 2>/dev/null | grep -qF -- "-Dkafsh.sandbox.node=$dir/"; then
        kill -9 "$p" 2>/dev/null
      fi
    done
    if [ ! -e "$dir/keep" ] && [ -f "$dir/sandbox.json" ]; then rm -rf -- "$dir"; fi
    exit 0
  fi
  sleep 1
done
"#;

/// Names this process the owner of the cluster in `dir` and starts its watchdog.
pub(crate) fn spawn(dir: &Path) -> io::Result<Child> {
    let me = std::process::id().to_string();
    fs::write(dir.join("owner"), &me)?;
    Command::new("/bin/sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("kafsh-sandbox-watchdog")
        .arg(dir)
        .arg(&me)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
}

/// Ends the ownership (the watchdog quits on its own) and the watchdog `child`, if any.
pub(crate) fn stop(dir: &Path, child: Option<Child>) {
    let _ = fs::remove_file(dir.join("owner"));
    if let Some(mut w) = child {
        let _ = w.kill();
        let _ = w.wait();
    }
}

/// Marks the directory to be kept when the watchdog cleans up.
pub(crate) fn keep(dir: &Path) {
    let _ = fs::write(dir.join("keep"), b"");
}
