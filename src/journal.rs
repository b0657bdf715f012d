//! The step journal of `run`: which `step("name", ..)` blocks of a runbook finished, and what
//! each returned, kept in `<state dir>/journal/<key>.json` where the key is the script's path
//! and arguments. `kafsh run --resume` skips finished steps after an interrupted run (even a
//! `kill -9`) and hands back what they returned, so a resumed run keeps the decisions the
//! first one took (the plan it executes, the retention it must restore). A run without
//! `--resume` refuses to start over a journal of an unfinished run unless `--fresh` says so.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// How a run treats the journal of an earlier, unfinished run of the same script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalMode {
    /// Finish the earlier run: skip its finished steps.
    Resume,
    /// Start over, discarding the earlier run's journal.
    Fresh,
    /// A new run: refused when an earlier run of the same script and arguments is
    /// unfinished (its journal holds finished steps).
    New,
}

/// Why a journal could not be opened.
#[derive(Debug)]
pub enum JournalError {
    /// An earlier run is unfinished and this run neither resumes nor starts fresh.
    Unfinished {
        /// Steps the earlier run finished, in order.
        finished: Vec<String>,
        /// When it last finished a step (RFC 3339), if known.
        updated: Option<String>,
    },
    /// The journal directory or file could not be used.
    Io(std::io::Error),
}

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JournalError::Unfinished { finished, updated } => write!(
                f,
                "an earlier run of this script with these arguments was interrupted after finishing step(s) {}{}",
                finished
                    .iter()
                    .map(|s| format!("{s:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                updated
                    .as_ref()
                    .map(|t| format!(" (last at {t})"))
                    .unwrap_or_default()
            ),
            JournalError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// The finished steps of one (script, arguments) pair, with what each returned.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// Step name → the value it returned (JSON), in the order the steps finished.
    finished: serde_json::Map<String, Value>,
    /// A dry run reads the journal but never writes or removes it.
    read_only: bool,
}

impl Journal {
    /// Opens the journal of `script` with `args`. `dry_run` leaves the file untouched.
    pub fn open(
        script: &Path,
        args: &[String],
        mode: JournalMode,
        dry_run: bool,
    ) -> Result<Journal, JournalError> {
        let dir = crate::config::state_dir()
            .ok_or_else(|| {
                JournalError::Io(std::io::Error::other("no state directory for the journal"))
            })?
            .join("journal");
        std::fs::create_dir_all(&dir).map_err(JournalError::Io)?;
        let script = std::fs::canonicalize(script).unwrap_or_else(|_| script.to_path_buf());
        let mut sorted = args.to_vec();
        sorted.sort();
        let key = format!("{}\n{}", script.display(), sorted.join("\n"));
        let path = dir.join(format!("{:016x}.json", fnv1a(key.as_bytes())));
        let (earlier, updated) = read(&path);
        let finished = match mode {
            JournalMode::Resume => earlier,
            JournalMode::Fresh => {
                if !dry_run {
                    let _ = std::fs::remove_file(&path);
                }
                serde_json::Map::new()
            }
            JournalMode::New if earlier.is_empty() || dry_run => serde_json::Map::new(),
            JournalMode::New => {
                return Err(JournalError::Unfinished {
                    finished: earlier.keys().cloned().collect(),
                    updated,
                })
            }
        };
        Ok(Journal {
            path,
            finished,
            read_only: dry_run,
        })
    }

    /// What step `name` returned when it finished in an earlier run; none if it did not.
    pub fn finished_value(&self, name: &str) -> Option<&Value> {
        self.finished.get(name)
    }

    /// The names of the finished steps, in the order they finished.
    pub fn finished_names(&self) -> Vec<String> {
        self.finished.keys().cloned().collect()
    }

    /// Records step `name` as finished with the value it returned (written before
    /// returning, atomically).
    pub fn finish(&mut self, name: &str, value: Value) -> std::io::Result<()> {
        self.finished.insert(name.to_string(), value);
        if self.read_only {
            return Ok(());
        }
        let doc = serde_json::json!({
            "updated": crate::audit::now_rfc3339(),
            "finished": self.finished,
        });
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string(&doc).unwrap_or_default())?;
        std::fs::rename(&tmp, &self.path)
    }

    /// Forgets the journal (the run completed).
    pub fn complete(self) {
        if !self.read_only {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The finished steps in a journal file and when it was last written; empty when there is
/// none. Journals of earlier versions (a list of step names) are read too.
fn read(path: &Path) -> (serde_json::Map<String, Value>, Option<String>) {
    let Some(doc) = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    else {
        return (serde_json::Map::new(), None);
    };
    match doc {
        Value::Array(names) => (
            names
                .into_iter()
                .filter_map(|n| n.as_str().map(|s| (s.to_string(), Value::Null)))
                .collect(),
            None,
        ),
        Value::Object(mut m) => {
            let updated = m.get("updated").and_then(Value::as_str).map(str::to_string);
            let finished = match m.remove("finished") {
                Some(Value::Object(f)) => f,
                _ => serde_json::Map::new(),
            };
            (finished, updated)
        }
        _ => (serde_json::Map::new(), None),
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
