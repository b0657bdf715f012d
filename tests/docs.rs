//! Every registered function documents itself: a doc comment with a summary and at least one
//! ```rhai example, and every example compiles with the real engine. The committed reference
//! (docs/functions.md) is what `kafsh docs` prints, and `kafsh docs --definitions` writes
//! editor definitions of every function. Needs no cluster.

mod common;

use kafsh::config::Settings;
use kafsh::script::{self, api, bridge::Interrupt, help, Session, SessionOptions};
use std::path::Path;

fn engine() -> rhai::Engine {
    let settings = Settings::for_servers("127.0.0.1:1", None).expect("settings");
    let session =
        Session::new(settings, SessionOptions::default(), Interrupt::default()).expect("session");
    script::engine(session)
}

#[test]
fn every_function_has_a_doc_comment_and_an_example_that_compiles() {
    let engine = engine();
    let functions = help::functions(&engine);
    assert!(
        functions.len() >= 8,
        "expected the API to be registered, got {functions:?}"
    );
    let mut problems = Vec::new();
    for (name, doc) in &functions {
        if doc.doc.trim().is_empty() {
            problems.push(format!("{name}: no doc comment"));
        }
        if doc.examples.is_empty() {
            problems.push(format!("{name}: no ```rhai example"));
        }
        for example in &doc.examples {
            if let Err(e) = engine.compile(example) {
                problems.push(format!("{name}: example does not compile: {e}\n{example}"));
            }
            if !example.contains(name.as_str()) {
                problems.push(format!("{name}: example does not call {name}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn help_lists_every_function_by_area_and_explains_one() {
    let engine = engine();
    let overview = help::overview(&engine, None);
    for name in help::functions(&engine).keys() {
        assert!(overview.contains(name.as_str()), "help() misses {name}");
    }
    // On an 80-column terminal every line fits, long summaries end with …; help("name")
    // keeps the whole text.
    let narrow = help::overview(&engine, Some(80));
    assert!(
        narrow.lines().all(|l| l.chars().count() <= 80),
        "{}",
        narrow
            .lines()
            .filter(|l| l.chars().count() > 80)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(narrow.contains('…'), "{narrow}");
    let create = help::function(&engine, "create_topic").expect("create_topic");
    assert!(
        create.contains(
            "options: #{assignment, config, force, if_not_exists, partitions, replication_factor}"
        ),
        "{create}"
    );
    assert!(
        overview.contains("Topics")
            && overview.contains("Configs")
            && overview.contains("ZooKeeper")
    );
    let one = help::function(&engine, "describe_topic").expect("describe_topic documented");
    assert!(
        one.starts_with("describe_topic(name: String) -> Map"),
        "{one}"
    );
    assert!(one.contains("Example:"), "{one}");
}

#[test]
fn every_area_has_a_title_and_an_introduction() {
    let areas = api::areas();
    assert!(areas.len() >= 7, "expected every API module, got {areas:?}");
    for area in areas {
        assert!(
            !area.title.is_empty() && !area.introduction.is_empty(),
            "an API module lacks its `///` title line and introduction above `pub mod api`: {area:?}"
        );
        assert!(
            !area.functions.is_empty(),
            "{} has no functions",
            area.title
        );
    }
}

#[test]
fn docs_markdown_lists_every_function_in_the_contents_and_under_its_area() {
    let engine = engine();
    let md = help::markdown(&engine);
    let sections: Vec<&str> = md.split("\n## ").collect();
    let section = |title: &str| {
        sections
            .iter()
            .find(|s| s.starts_with(&format!("{title}\n")))
            .copied()
            .unwrap_or_else(|| panic!("no section {title:?} in\n{md}"))
    };
    let contents = section("Contents");
    assert!(contents.contains("- [Cluster and brokers](#cluster-and-brokers)"));
    for area in api::areas() {
        let body = section(&area.title);
        assert!(
            body.contains(&area.introduction),
            "{} lacks its introduction",
            area.title
        );
        for name in &area.functions {
            assert!(
                contents.contains(&format!("[`{name}`](#{name})")),
                "the contents miss {name}"
            );
            assert!(
                body.contains(&format!("### `{name}`")),
                "{name} is not under {}",
                area.title
            );
        }
    }
}

#[test]
fn every_overload_keeps_its_documentation() {
    let engine = engine();
    let create = help::function(&engine, "create_topic").expect("create_topic documented");
    assert!(
        create.contains("if_not_exists") && create.contains("broker's default partitions"),
        "{create}"
    );
    let help_doc = help::function(&engine, "help").expect("help documented");
    assert!(
        help_doc.contains("List every function") && help_doc.contains("Show one function"),
        "{help_doc}"
    );
}

#[test]
fn docs_functions_md_is_what_kafsh_docs_prints() {
    let state = tempfile::tempdir().expect("temp dir");
    let out = common::kafsh(&state)
        .arg("docs")
        .output()
        .expect("run kafsh docs");
    assert!(
        out.status.success(),
        "kafsh docs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/functions.md");
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .replace("\r\n", "\n");
    if printed != committed {
        let first_difference = printed
            .lines()
            .zip(committed.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| printed.lines().count().min(committed.lines().count()));
        panic!(
            "docs/functions.md is not what `kafsh docs` prints (first difference at line {}). \
             Regenerate it with\n\n    cargo run -q -- docs > docs/functions.md\n",
            first_difference + 1
        );
    }
}

#[test]
fn docs_definitions_declare_every_function_with_its_doc_comment() {
    let state = tempfile::tempdir().expect("temp dir");
    let dir = state.path().join("definitions");
    let out = common::kafsh(&state)
        .args(["docs", "--definitions"])
        .arg(&dir)
        .output()
        .expect("run kafsh docs --definitions");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut definitions = String::new();
    for entry in std::fs::read_dir(&dir).expect("the definitions directory") {
        let path = entry.expect("entry").path();
        if path.to_string_lossy().ends_with(".d.rhai") {
            definitions.push_str(&std::fs::read_to_string(&path).expect("read"));
        }
    }
    let kafsh =
        std::fs::read_to_string(dir.join(help::KAFSH_DEFINITIONS_FILE)).expect("kafsh.d.rhai");
    assert!(
        kafsh.contains("fn create_topic(name: string, options: map) -> map;"),
        "{kafsh}"
    );
    assert!(kafsh.contains("fn zk_status() -> array;"), "{kafsh}");
    assert!(kafsh.contains("/// Create a topic."), "{kafsh}");
    assert!(!kafsh.contains("EvalAltResult"), "Rust types leak: {kafsh}");
    for name in help::functions(&engine()).keys() {
        assert!(
            kafsh.contains(&format!("fn {name}(")),
            "kafsh.d.rhai misses {name}"
        );
    }
    assert!(
        definitions.contains("fn len(") && definitions.contains("fn zk_status("),
        "expected the standard library next to the kafsh functions"
    );
}

#[test]
fn docs_definitions_into_an_unusable_directory_is_a_usage_error() {
    let state = tempfile::tempdir().expect("temp dir");
    let file = state.path().join("a-file");
    std::fs::write(&file, "not a directory").expect("write");
    let out = common::kafsh(&state)
        .args(["docs", "--definitions"])
        .arg(file.join("definitions"))
        .output()
        .expect("run kafsh docs --definitions");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot write the definitions"), "{err}");
}

#[test]
fn check_compiles_without_a_cluster_and_reports_syntax_errors_with_position() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = dir.path().join("good.rhai");
    std::fs::write(&good, "let t = describe_topic(\"x\");\nprint(t.topic);\n").expect("write");
    let bad = dir.path().join("bad.rhai");
    std::fs::write(&bad, "let x = 1;\nlet y = (x + ;\n").expect("write");
    let bin = env!("CARGO_BIN_EXE_kafsh");
    let out = std::process::Command::new(bin)
        .args(["check"])
        .arg(&good)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(bin)
        .args(["check"])
        .arg(&bad)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.rhai:2:"), "{err}");
}

/// The README's walkthrough (output pasted by scripts/walkthrough.sh from a real run) does
/// the operations guide's whole chapter, and every kafsh expression in it still compiles
/// and calls only functions kafsh registers (or Rhai's own).
#[test]
fn the_readme_walkthrough_covers_the_chapter_with_commands_that_still_exist() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let begin = readme
        .find("<!-- walkthrough:begin")
        .expect("walkthrough section");
    let end = readme.find("<!-- walkthrough:end -->").expect("its end");
    let walkthrough = &readme[begin..end];
    for section in [
        "6.1.1", "6.1.2", "6.1.3", "6.1.4", "6.1.5", "6.1.6", "6.1.7", "6.1.8", "6.2", "6.3",
    ] {
        assert!(
            walkthrough.contains(&format!("### {section} ")),
            "no step {section}"
        );
    }
    let engine = engine();
    let registered: std::collections::BTreeSet<String> =
        help::functions(&engine).into_keys().collect();
    let rhai_own = ["print", "type_of"];
    let mut expressions = 0;
    let mut problems = Vec::new();
    for line in walkthrough.lines() {
        let Some(rest) = line.strip_prefix("$ kafsh -e '") else {
            continue;
        };
        let expression = rest.strip_suffix('\'').expect("one quoted expression");
        expressions += 1;
        if let Err(e) = engine.compile(expression) {
            problems.push(format!("{expression}: {e}"));
        }
        // Calls not written as methods: identifiers followed by '(' and not after '.'.
        let bytes = expression.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_alphabetic() && (i == 0 || !is_ident(bytes[i - 1])) {
                let start = i;
                while i < bytes.len() && is_ident(bytes[i]) {
                    i += 1;
                }
                let name = &expression[start..i];
                let is_call = bytes.get(i) == Some(&b'(');
                let is_method = start > 0 && bytes[start - 1] == b'.';
                if is_call && !is_method && !registered.contains(name) && !rhai_own.contains(&name)
                {
                    problems.push(format!("{expression}: {name} is not a kafsh function"));
                }
            } else {
                i += 1;
            }
        }
    }
    assert!(expressions >= 20, "only {expressions} kafsh -e lines");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[test]
fn every_function_taking_options_names_its_keys_for_the_shell() {
    let engine = engine();
    let mut missing = Vec::new();
    for (name, doc) in help::functions(&engine) {
        let takes_options = doc.signatures.iter().any(|s| s.contains("options: Map"));
        if takes_options && help::option_keys(&name).is_empty() {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "functions taking an options map whose keys build.rs did not find (read them with Options::new(name, &options, &[...])): {missing:?}"
    );
}
