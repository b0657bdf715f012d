//! Embeds the commit kafsh is built from, for `kafsh --version`, and the option keys each
//! registered function accepts (read from its `Options::new(name, &options, &[keys])`
//! call), for the shell's hints and completion.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown commit".to_string());
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .is_some_and(|o| !o.stdout.is_empty());
    println!(
        "cargo:rustc-env=KAFSH_COMMIT={commit}{}",
        if dirty { "+changes" } else { "" }
    );
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");

    println!("cargo:rerun-if-changed=src/script/api");
    let mut options: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    let mut files: Vec<_> = std::fs::read_dir("src/script/api")
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "rs"))
    {
        println!("cargo:rerun-if-changed={}", file.display());
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for (name, keys) in option_calls(&text) {
            options.entry(name).or_default().extend(keys);
        }
    }
    let mut out = String::from(
        "/// The option keys of each function taking an options map, by function name.\n\
         pub static FUNCTION_OPTIONS: &[(&str, &[&str])] = &[\n",
    );
    for (name, keys) in &options {
        let keys: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
        let _ = writeln!(out, "    ({name:?}, &[{}]),", keys.join(", "));
    }
    out.push_str("];\n");
    let dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    std::fs::write(Path::new(&dir).join("function_options.rs"), out)
        .expect("write function_options.rs");
}

/// Each `Options::new(NAME, &options, &[KEYS])` of a source file: the function name (a
/// literal, or the literal an identifier was bound to by the nearest `let X = "..."`
/// before it) and the literal keys.
fn option_calls(text: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("Options::new(") {
        let start = from + at + "Options::new(".len();
        from = start;
        let Some(args) = balanced(&text[start..]) else {
            continue;
        };
        let first = args.split(',').next().unwrap_or("").trim();
        let name = if let Some(lit) = literal(first) {
            Some(lit)
        } else {
            let binding = format!("let {first} = \"");
            text[..start].rfind(&binding).and_then(|i| {
                let rest = &text[i + binding.len() - 1..];
                literal(rest)
            })
        };
        let keys: Vec<String> = args
            .find("&[")
            .map(|i| {
                let list = &args[i + 2..];
                let list = &list[..list.find(']').unwrap_or(list.len())];
                list.split(',').filter_map(|k| literal(k.trim())).collect()
            })
            .unwrap_or_default();
        if let Some(name) = name {
            found.push((name, keys));
        }
    }
    found
}

/// The text up to the parenthesis that closes an opened one.
fn balanced(text: &str) -> Option<&str> {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The content of a string literal at the start of `text`.
fn literal(text: &str) -> Option<String> {
    let rest = text.strip_prefix('"')?;
    rest.find('"').map(|end| rest[..end].to_string())
}
