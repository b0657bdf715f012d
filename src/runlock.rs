//! Run locks (`kafsh run --lock NAME`, or a `//! lock: NAME` line in the script): an
//! exclusive `flock` on `<state dir>/locks/NAME.lock`, so two cron runs never overlap. The
//! holder writes its pid and start time into the file; the kernel releases the lock when the
//! holder dies, so a stale lock from a dead process is simply taken over.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;

/// A held lock; released when dropped (or when the process dies).
pub struct RunLock {
    file: File,
    path: PathBuf,
}

/// Why a lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Another live process holds it; the text says who (pid, start time).
    Held(String),
    /// The lock file could not be opened.
    Io(String),
}

/// The lock name from a `//! lock: NAME` line of a script, if any.
pub fn directive(source: &str) -> Option<String> {
    source
        .lines()
        .take_while(|l| l.trim_start().starts_with("//") || l.trim().is_empty())
        .find_map(|l| {
            l.trim_start()
                .trim_start_matches('/')
                .trim_start_matches('!')
                .trim()
                .strip_prefix("lock:")
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
        })
}

impl RunLock {
    /// Takes the lock `name` without waiting.
    pub fn acquire(name: &str) -> Result<RunLock, LockError> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(LockError::Io(format!(
                "lock name {name:?}: use letters, digits, '-', '_' and '.'"
            )));
        }
        let dir = crate::config::state_dir()
            .ok_or_else(|| LockError::Io("no state directory for locks".into()))?
            .join("locks");
        std::fs::create_dir_all(&dir)
            .map_err(|e| LockError::Io(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join(format!("{name}.lock"));
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| LockError::Io(format!("cannot open {}: {e}", path.display())))?;
        // SAFETY: flock on a valid, owned file descriptor; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(LockError::Held(format!(
                "lock {name:?} is held by {}",
                if holder.is_empty() {
                    "another run".to_string()
                } else {
                    holder.to_string()
                }
            )));
        }
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = write!(
            file,
            "pid {} since {}",
            std::process::id(),
            crate::audit::now_rfc3339()
        );
        let _ = file.flush();
        Ok(RunLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        // SAFETY: unlocking our own descriptor.
        unsafe {
            libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_lock_directive() {
        assert_eq!(
            directive("// header\n//! lock: nightly-lag\nlet x = 1;"),
            Some("nightly-lag".into())
        );
        assert_eq!(directive("let x = 1;\n//! lock: late"), None);
    }
}
