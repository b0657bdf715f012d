//! Runbooks found by name: `kafsh run zk_rolling_restart` looks for `zk_rolling_restart` or
//! `zk_rolling_restart.rhai` in the current directory, each directory of
//! `KAFSH_RUNBOOK_PATH`, `~/.config/kafsh/runbooks`, then the runbooks installed with kafsh
//! (`<prefix>/share/kafsh/runbooks` next to the binary, and `/usr/share/kafsh/runbooks`).
//! A runbook's header comment is its help: the first line names it and says what it does,
//! an `Arguments:` block lists its arguments (`//   name   what it is`).

use serde::Serialize;
use std::path::{Path, PathBuf};

/// The directories searched for runbooks, in order.
pub fn search_path() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(".")];
    if let Some(path) = std::env::var_os("KAFSH_RUNBOOK_PATH") {
        dirs.extend(std::env::split_paths(&path).filter(|p| !p.as_os_str().is_empty()));
    }
    if let Some(config) =
        crate::config::config_path().and_then(|c| c.parent().map(Path::to_path_buf))
    {
        dirs.push(config.join("runbooks"));
    } else if let Some(config) = dirs::config_dir() {
        dirs.push(config.join("kafsh").join("runbooks"));
    }
    if let Some(prefix) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(Path::to_path_buf))
    {
        dirs.push(prefix.join("share").join("kafsh").join("runbooks"));
    }
    let system = PathBuf::from("/usr/share/kafsh/runbooks");
    if !dirs.contains(&system) {
        dirs.push(system);
    }
    dirs
}

/// The runbook a `run` argument names: an existing file as it is, else `NAME` or
/// `NAME.rhai` in the search path. The error says where it looked.
pub fn resolve(name: &Path) -> Result<PathBuf, String> {
    if name.is_file() {
        return Ok(name.to_path_buf());
    }
    let bare = name.components().count() == 1;
    let dirs = search_path();
    if bare {
        for dir in &dirs {
            for candidate in [dir.join(name), dir.join(name).with_extension("rhai")] {
                if candidate.is_file() {
                    return Ok(candidate);
                }
            }
        }
    }
    Err(if bare {
        format!(
            "no runbook {} (nor {}.rhai) in {}; `kafsh runbooks` lists those found",
            name.display(),
            name.display(),
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        format!("{}: no such file", name.display())
    })
}

/// A runbook as `kafsh runbooks` lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Runbook {
    /// The name `kafsh run NAME` takes.
    pub name: String,
    /// What it does (the first line of its header, after the name).
    pub summary: String,
    /// Its arguments, from the header's `Arguments:` block.
    pub arguments: Vec<String>,
    /// Where it is.
    pub path: String,
}

/// Every runbook in the search path; a name found twice is listed where it is found first
/// (the one `kafsh run NAME` runs).
pub fn list() -> Vec<Runbook> {
    let mut out: Vec<Runbook> = Vec::new();
    for dir in search_path() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
            .collect();
        files.sort();
        for path in files {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if out.iter().any(|r| r.name == name) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let header = Header::parse(&text);
            out.push(Runbook {
                name,
                summary: header.summary,
                arguments: header.arguments.into_iter().map(|(n, _)| n).collect(),
                path: path.display().to_string(),
            });
        }
    }
    out
}

/// A runbook's header comment: the leading `//` lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// The header as text, without the `// ` prefixes.
    pub text: String,
    /// What the first line says after "name.rhai — ".
    pub summary: String,
    /// (name, description) of each argument in the `Arguments:` block.
    pub arguments: Vec<(String, String)>,
}

impl Header {
    /// Reads the leading comment lines of a runbook.
    pub fn parse(source: &str) -> Header {
        let lines: Vec<&str> = source
            .lines()
            .take_while(|l| l.starts_with("//"))
            .map(|l| {
                l.trim_start_matches("//!")
                    .trim_start_matches("//")
                    .strip_prefix(' ')
                    .unwrap_or_else(|| l.trim_start_matches("//"))
            })
            .collect();
        // The first paragraph, after "name.rhai — ".
        let paragraph: Vec<&str> = lines
            .iter()
            .take_while(|l| !l.trim().is_empty())
            .map(|l| l.trim())
            .collect();
        let first = paragraph.join(" ");
        let summary = first
            .split_once(" — ")
            .map(|(_, s)| s)
            .unwrap_or(&first)
            .trim()
            .to_string();
        let mut arguments: Vec<(String, String)> = Vec::new();
        let mut in_block = false;
        for line in &lines {
            if line.trim() == "Arguments:" {
                in_block = true;
                continue;
            }
            if !in_block {
                continue;
            }
            if line.trim().is_empty() || !line.starts_with("  ") {
                if !arguments.is_empty() || !line.trim().is_empty() {
                    in_block = false;
                }
                continue;
            }
            let body = line.trim_start();
            let indent = line.len() - body.len();
            match body.split_once("  ") {
                // "  name   what it is": an argument; deeper lines continue the one before.
                Some((name, what)) if indent <= 4 && !name.contains(' ') => {
                    arguments.push((name.to_string(), what.trim().to_string()));
                }
                _ => {
                    if let Some(last) = arguments.last_mut() {
                        last.1.push(' ');
                        last.1.push_str(body.trim());
                    }
                }
            }
        }
        Header {
            text: lines.join("\n"),
            summary,
            arguments,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_gives_the_summary_and_the_arguments() {
        let h = Header::parse(
            "// zk_x.rhai — restart every server,\n// one at a time\n//\n// Arguments:\n//   servers   ids to restart (default: all)\n//   timeout   how long one server may take\n//             to come back (default 3m)\n//\n// Safety: ...\nlet x = 1;\n",
        );
        assert_eq!(h.summary, "restart every server, one at a time");
        assert_eq!(
            h.arguments,
            vec![
                (
                    "servers".to_string(),
                    "ids to restart (default: all)".to_string()
                ),
                (
                    "timeout".to_string(),
                    "how long one server may take to come back (default 3m)".to_string()
                )
            ]
        );
    }
}
