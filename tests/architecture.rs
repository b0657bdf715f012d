//! The invariants ARCHITECTURE.md states, kept true by reading the source (as rust-analyzer
//! does for its own architecture): only `script/` and `repl/` use Rhai; the domain never
//! prints; domain errors speak of Kafka and ZooKeeper objects, not of Rhai syntax or kafsh's
//! command-line flags; no module imports the CLI; the API catalogue (`script/api/mod.rs`)
//! does not import the help system that reads it; one engine factory; one sleep through the
//! bridge.

use std::path::{Path, PathBuf};

fn source_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(source_files(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The file's code without its unit tests and comments, with line numbers.
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).expect("read");
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    code.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.to_string()))
        .filter(|(_, l)| {
            let t = l.trim_start();
            !(t.starts_with("//") || t.starts_with("///") || t.starts_with("//!"))
        })
        .collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(src())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The domain: typed values in, typed values out, no terminal, no Rhai.
fn is_domain(rel: &str) -> bool {
    ["kafka/", "zk/", "plan/", "audit/", "config/"]
        .iter()
        .any(|d| rel.starts_with(d))
        || [
            "guard.rs",
            "journal.rs",
            "runbooks.rs",
            "shell.rs",
            "runlock.rs",
            "error.rs",
        ]
        .contains(&rel)
}

#[test]
fn only_script_and_repl_use_rhai() {
    let mut found = Vec::new();
    for path in source_files(&src()) {
        let rel = relative(&path);
        if rel.starts_with("script/") || rel.starts_with("repl/") {
            continue;
        }
        for (n, line) in code_lines(&path) {
            if line.contains("rhai::") || line.contains("use rhai") {
                found.push(format!("src/{rel}:{n}: {}", line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "Rhai outside script/ and repl/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_domain_never_prints() {
    let mut found = Vec::new();
    for path in source_files(&src()) {
        let rel = relative(&path);
        if !is_domain(&rel) {
            continue;
        }
        for (n, line) in code_lines(&path) {
            if [
                "println!",
                "eprintln!",
                "print!(",
                "eprint!(",
                "io::stdout",
                "io::stderr",
                "dbg!(",
            ]
            .iter()
            .any(|p| line.contains(p))
            {
                found.push(format!("src/{rel}:{n}: {}", line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "the domain prints:\n{}", found.join("\n"));
}

#[test]
fn domain_messages_speak_of_kafka_not_of_rhai_or_kafsh_flags() {
    let flags = [
        "--yes",
        "--dry-run",
        "--resume",
        "--fresh",
        "--force",
        "--json",
        "--context",
    ];
    let mut found = Vec::new();
    for path in source_files(&src()) {
        let rel = relative(&path);
        if !is_domain(&rel) {
            continue;
        }
        for (n, line) in code_lines(&path) {
            // Text inside string literals only.
            let literals: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
            for lit in literals {
                if lit.contains("#{") || flags.iter().any(|f| lit.contains(f)) {
                    found.push(format!("src/{rel}:{n}: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "domain messages with script syntax or kafsh flags (script/ adds those words):\n{}",
        found.join("\n")
    );
}

#[test]
fn no_module_imports_the_cli_and_the_api_does_not_import_the_help_system() {
    let mut found = Vec::new();
    for path in source_files(&src()) {
        let rel = relative(&path);
        for (n, line) in code_lines(&path) {
            if rel != "cli.rs" && rel != "main.rs" && line.contains("crate::cli") {
                found.push(format!("src/{rel}:{n}: imports the CLI: {}", line.trim()));
            }
            // The catalogue of areas is read by the help system; it must not read help.
            if rel == "script/api/mod.rs"
                && (line.contains("help::") || line.contains("script::help"))
            {
                found.push(format!(
                    "src/{rel}:{n}: the API catalogue imports help: {}",
                    line.trim()
                ));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_engine_is_built_in_one_place() {
    let mut found = Vec::new();
    for path in source_files(&src()) {
        let rel = relative(&path);
        if rel == "script/mod.rs" {
            continue;
        }
        for (n, line) in code_lines(&path) {
            if line.contains("Engine::new")
                || line.contains("set_max_operations")
                || line.contains("set_module_resolver")
            {
                found.push(format!("src/{rel}:{n}: {}", line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "engines are built and limited only by script::engine:\n{}",
        found.join("\n")
    );
}

/// A registered function that waits does it in one of two ways: `Session::pause` (the one
/// sleep through the bridge, so Ctrl-C and `--timeout` stop it) or a domain workflow that
/// sleeps between its own bounded steps inside one bridge call. Nothing else in the
/// scripting layer or the shell sleeps.
#[test]
fn the_scripting_layer_sleeps_in_one_place() {
    let mut found = Vec::new();
    for path in source_files(&src()) {
        let rel = relative(&path);
        if !(rel.starts_with("script/") || rel.starts_with("repl/")) || rel == "script/bridge.rs" {
            continue;
        }
        for (n, line) in code_lines(&path) {
            if line.contains("time::sleep") || line.contains("thread::sleep") {
                found.push(format!("src/{rel}:{n}: {}", line.trim()));
            }
        }
    }
    assert!(
        found.len() == 1 && found[0].starts_with("src/script/mod.rs:"),
        "one sleep through the bridge (Session::pause in script/mod.rs), found:\n{}",
        found.join("\n")
    );
}
