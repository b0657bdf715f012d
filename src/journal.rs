//! The step journal of `run`: which `step("name", ..)` blocks of a runbook finished, kept in
//! `<state dir>/journal/<key>.json` where the key is the script's path and arguments, so
//! `kafsh run --resume` skips them after an interrupted run (even a `kill -9`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The finished steps of one (script, arguments) pair.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    finished: BTreeSet<String>,
}

impl Journal {
    /// Opens the journal of `script` with `args`; without `resume` it starts empty.
    pub fn open(script: &Path, args: &[String], resume: bool) -> std::io::Result<Journal> {
        let dir = crate::config::state_dir()
            .ok_or_else(|| std::io::Error::other("no state directory for the journal"))?
            .join("journal");
        std::fs::create_dir_all(&dir)?;
        let script = std::fs::canonicalize(script).unwrap_or_else(|_| script.to_path_buf());
        let mut sorted = args.to_vec();
        sorted.sort();
        let key = format!("{}\n{}", script.display(), sorted.join("\n"));
        let path = dir.join(format!("{:016x}.json", fnv1a(key.as_bytes())));
        let finished = if resume {
            std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
                .unwrap_or_default()
                .into_iter()
                .collect()
        } else {
            let _ = std::fs::remove_file(&path);
            BTreeSet::new()
        };
        Ok(Journal { path, finished })
    }

    /// Whether step `name` finished in an earlier run.
    pub fn is_finished(&self, name: &str) -> bool {
        self.finished.contains(name)
    }

    /// Records step `name` as finished (written before returning).
    pub fn finish(&mut self, name: &str) -> std::io::Result<()> {
        self.finished.insert(name.to_string());
        let list: Vec<&String> = self.finished.iter().collect();
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string(&list).unwrap_or_default())?;
        std::fs::rename(&tmp, &self.path)
    }

    /// Forgets the journal (the run completed).
    pub fn complete(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A stable 64-bit hash (FNV-1a) for journal file names.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
