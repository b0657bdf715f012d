//! The Debian package: `scripts/package.sh` builds it, `dpkg -i` installs it on this machine,
//! the installed kafsh names its version and commit, prints its docs, finds the installed
//! runbooks by name and runs one (`--dry-run`) against a real ZooKeeper ensemble, its
//! completions and man page are where the shells and man look; `dpkg -r` removes it all.
//! Needs root and dpkg (CI has both); elsewhere it says so and does nothing.

mod common;

use kafsh_sandbox::{Cluster, ClusterSpec};
use std::path::Path;
use std::process::Command;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_package_installs_runs_a_runbook_by_name_and_removes_cleanly() {
    // SAFETY: getuid cannot fail.
    if unsafe { libc::getuid() } != 0 || !Path::new("/usr/bin/dpkg").exists() {
        eprintln!("skipped: installing a package needs root and dpkg");
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let built = run(Command::new(format!("{root}/scripts/package.sh"))
        .current_dir(root)
        .env("KAFSH_PACKAGE_PROFILE", "dev"));
    let deb = Path::new(root).join(built.lines().last().expect("the package path").trim());
    assert!(deb.exists(), "{}", deb.display());
    let contents = run(Command::new("dpkg-deb").arg("--contents").arg(&deb));
    for path in [
        "./usr/bin/kafsh",
        "./usr/share/kafsh/runbooks/zk_rolling_restart.rhai",
        "./usr/share/bash-completion/completions/kafsh",
        "./usr/share/zsh/vendor-completions/_kafsh",
        "./usr/share/fish/vendor_completions.d/kafsh.fish",
        "./usr/share/man/man1/kafsh.1.gz",
        "./usr/share/doc/kafsh/examples/config.toml",
        "./usr/share/doc/kafsh/copyright",
    ] {
        assert!(contents.contains(path), "{path} missing:\n{contents}");
    }

    run(Command::new("dpkg").arg("-i").arg(&deb));
    let installed = Path::new("/usr/bin/kafsh");
    let version = run(Command::new(installed).arg("--version"));
    assert!(
        version.starts_with(&format!("kafsh {} (", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    assert!(!version.contains("unknown commit"), "{version}");
    let docs = run(Command::new(installed).arg("docs"));
    assert!(docs.contains("describe_topic"), "docs");

    // Found by name among the installed runbooks, from a directory that has none.
    let state = tempfile::tempdir().expect("tmp");
    let listed = run(Command::new(installed)
        .args(["--json", "runbooks"])
        .current_dir(state.path())
        .env("KAFSH_CONFIG", state.path().join("config.toml"))
        .env_remove("KAFSH_RUNBOOK_PATH"));
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("json");
    let zk = listed
        .as_array()
        .expect("runbooks")
        .iter()
        .find(|r| r["name"] == "zk_rolling_restart")
        .cloned()
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(
        zk["path"],
        "/usr/share/kafsh/runbooks/zk_rolling_restart.rhai"
    );
    assert!(zk["arguments"]
        .as_array()
        .expect("arguments")
        .iter()
        .any(|a| a == "timeout"));

    let c = Cluster::start(ClusterSpec::zk_only(3)).expect("ensemble");
    common::zk_context(&c, &state.path().join("config.toml"), &[]);
    let out = Command::new(installed)
        .args(["--dry-run", "run", "zk_rolling_restart"])
        .current_dir(state.path())
        .env("KAFSH_CONFIG", state.path().join("config.toml"))
        .env("KAFSH_STATE_DIR", state.path().join("state"))
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("would run") && err.contains("planned change"),
        "{err}"
    );
    assert!(
        !c.dir().join("order.log").exists(),
        "a dry run restarted nothing"
    );
    let header = run(Command::new(installed)
        .args(["run", "zk_rolling_restart", "--help"])
        .current_dir(state.path()));
    assert!(
        header.contains("Arguments:") && header.contains("leader last"),
        "{header}"
    );

    run(Command::new("dpkg").args(["-r", "kafsh"]));
    for gone in [
        "/usr/bin/kafsh",
        "/usr/share/kafsh/runbooks",
        "/usr/share/man/man1/kafsh.1.gz",
        "/usr/share/bash-completion/completions/kafsh",
    ] {
        assert!(!Path::new(gone).exists(), "{gone} left behind");
    }
}

/// Every shipped runbook keeps the header `kafsh runbooks` and `kafsh run NAME --help` read:
/// a first line "name.rhai — what it does", a Usage block running it by name, and an
/// Arguments block naming every `arg("...")` the script reads.
#[test]
fn every_shipped_runbook_has_a_header_naming_its_arguments() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("scripts") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|x| x != "rhai") {
            continue;
        }
        let name = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let source = std::fs::read_to_string(&path).expect("read");
        let header = kafsh::runbooks::Header::parse(&source);
        assert!(
            source.starts_with(&format!("// {name}.rhai — ")),
            "{name}: the first line names it and says what it does"
        );
        assert!(!header.summary.is_empty(), "{name}");
        assert!(
            header.text.contains(&format!("run {name}")),
            "{name}: the Usage block runs it by name"
        );
        let declared: Vec<&str> = header.arguments.iter().map(|(n, _)| n.as_str()).collect();
        let body = &source[header.text.len().min(source.len())..];
        for used in body.split("arg(\"").skip(1) {
            let used = used.split('"').next().unwrap_or("");
            assert!(
                declared.contains(&used),
                "{name}: arg(\"{used}\") is not in its Arguments block {declared:?}"
            );
        }
        for used in body.split("args.").skip(1) {
            let used: String = used
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                declared.contains(&used.as_str()),
                "{name}: args.{used} is not in its Arguments block {declared:?}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 7, "{checked} runbooks");
}
