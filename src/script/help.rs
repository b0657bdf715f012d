//! Help, reference docs, completion names and editor definitions, all generated from the
//! engine's function metadata (the `///` doc comments of the registered functions).

use super::api;
use rhai::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One registered function (all its overloads).
#[derive(Debug, Clone, Default)]
pub struct FunctionDoc {
    /// The Rhai name.
    pub name: String,
    /// The area it belongs to.
    pub area: String,
    /// One signature per overload, Rhai-style: `describe_topic(name: &str) -> Dynamic`.
    pub signatures: Vec<String>,
    /// Documentation text (Markdown): the prose of every overload that has its own, the
    /// overload with the fewest parameters first.
    pub doc: String,
    /// The ```rhai examples.
    pub examples: Vec<String>,
}

impl FunctionDoc {
    /// The first sentence of the doc.
    pub fn summary(&self) -> String {
        let paragraph: Vec<&str> = self
            .doc
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect();
        let paragraph = paragraph.join(" ");
        match paragraph.find(". ") {
            Some(i) => paragraph[..=i].to_string(),
            None => paragraph,
        }
    }
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    functions: Vec<FnMeta>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FnMeta {
    name: String,
    #[serde(default)]
    params: Vec<ParamMeta>,
    #[serde(default)]
    return_type: Option<String>,
    #[serde(default)]
    doc_comments: Vec<String>,
}

#[derive(Deserialize)]
struct ParamMeta {
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "type", default)]
    typ: Option<String>,
}

/// Every kafsh function (not Rhai's standard library), by name.
pub fn functions(engine: &Engine) -> BTreeMap<String, FunctionDoc> {
    let json = engine.gen_fn_metadata_to_json(false).unwrap_or_default();
    let meta: Metadata = serde_json::from_str(&json).unwrap_or(Metadata {
        functions: Vec::new(),
    });
    let mut out: BTreeMap<String, FunctionDoc> = BTreeMap::new();
    for area in api::areas() {
        for name in &area.functions {
            out.insert(
                name.clone(),
                FunctionDoc {
                    name: name.clone(),
                    area: area.title.clone(),
                    ..Default::default()
                },
            );
        }
    }
    let mut overloads: BTreeMap<String, Vec<Overload>> = BTreeMap::new();
    for f in meta.functions {
        if !out.contains_key(&f.name) {
            continue;
        }
        let params: Vec<String> = f
            .params
            .iter()
            .filter(|p| p.typ.as_deref() != Some("NativeCallContext"))
            .map(|p| {
                let name = p.name.clone().unwrap_or_else(|| "_".into());
                match p.typ.as_deref().map(rhai_type) {
                    Some(t) => format!("{name}: {t}"),
                    None => name,
                }
            })
            .collect();
        let ret = f.return_type.as_deref().map(rhai_type).unwrap_or_default();
        let signature = if ret.is_empty() || ret == "()" {
            format!("{}({})", f.name, params.join(", "))
        } else {
            format!("{}({}) -> {ret}", f.name, params.join(", "))
        };
        let (prose, examples) = split_examples(&api::comment_text(&f.doc_comments));
        overloads.entry(f.name).or_default().push(Overload {
            parameters: params.len(),
            signature,
            prose,
            examples,
        });
    }
    for (name, mut overloads) in overloads {
        let Some(doc) = out.get_mut(&name) else {
            continue;
        };
        overloads.sort_by(|a, b| {
            (a.parameters, a.signature.len(), &a.signature).cmp(&(
                b.parameters,
                b.signature.len(),
                &b.signature,
            ))
        });
        let mut paragraphs: Vec<String> = Vec::new();
        for overload in overloads {
            if !doc.signatures.contains(&overload.signature) {
                doc.signatures.push(overload.signature);
            }
            if !overload.prose.is_empty() && !paragraphs.contains(&overload.prose) {
                paragraphs.push(overload.prose);
            }
            for example in overload.examples {
                if !doc.examples.contains(&example) {
                    doc.examples.push(example);
                }
            }
        }
        doc.doc = paragraphs.join("\n\n");
    }
    out
}

/// One overload of a function, as its metadata describes it.
struct Overload {
    /// Parameters a script passes (without the native call context).
    parameters: usize,
    signature: String,
    prose: String,
    examples: Vec<String>,
}

/// Rhai's names for the Rust types in signatures.
fn rhai_type(t: &str) -> String {
    let t = t
        .trim()
        .trim_start_matches('&')
        .trim_start_matches("mut ")
        .trim();
    if let Some(inner) = t
        .strip_prefix("Result<")
        .and_then(|r| r.split_once(','))
        .map(|(ok, _)| ok)
    {
        return rhai_type(inner);
    }
    match t {
        "str" | "String" | "ImmutableString" | "rhai::ImmutableString" => "String".into(),
        "i64" | "INT" | "rhai::INT" => "int".into(),
        "f64" | "FLOAT" | "rhai::FLOAT" => "float".into(),
        "bool" => "bool".into(),
        "Map" | "rhai::Map" => "Map".into(),
        "Array" | "rhai::Array" => "Array".into(),
        "Dynamic" | "rhai::Dynamic" => "Dynamic".into(),
        other => other.rsplit("::").next().unwrap_or(other).to_string(),
    }
}

/// Splits documentation into prose and its ```rhai code blocks.
fn split_examples(text: &str) -> (String, Vec<String>) {
    let mut prose = Vec::new();
    let mut examples = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        match (&mut current, line.trim()) {
            (None, fence) if fence.starts_with("```rhai") => current = Some(Vec::new()),
            (Some(code), "```") => {
                examples.push(code.join("\n"));
                current = None;
            }
            (Some(code), _) => code.push(line),
            (None, _) => prose.push(line),
        }
    }
    (prose.join("\n").trim().to_string(), examples)
}

include!(concat!(env!("OUT_DIR"), "/function_options.rs"));

/// The keys of the options map `name` accepts (none when it takes no options map).
pub fn option_keys(name: &str) -> &'static [&'static str] {
    FUNCTION_OPTIONS
        .iter()
        .find(|(f, _)| *f == name)
        .map(|(_, keys)| *keys)
        .unwrap_or(&[])
}

/// `help()`: every function by area with its summary; with a terminal `width`, each
/// summary is shortened with … to fit its line (`help("name")` has the whole text).
pub fn overview(engine: &Engine, width: Option<usize>) -> String {
    let all = functions(engine);
    let name_width = all.keys().map(String::len).max().unwrap_or(10);
    let mut out = String::new();
    for area in api::areas() {
        out.push_str(&area.title);
        out.push('\n');
        for name in &area.functions {
            let summary = all.get(name).map(FunctionDoc::summary).unwrap_or_default();
            let room = width.map(|w| w.saturating_sub(name_width + 4));
            let summary = match room {
                Some(room) => shorten(&summary, room),
                None => summary,
            };
            out.push_str(&format!("  {name:<name_width$}  {summary}\n"));
        }
        out.push('\n');
    }
    out.push_str("help(\"name\") shows a function's signatures, documentation and example.");
    out
}

/// `text` cut at a word boundary to at most `room` characters, ending with … when cut.
pub fn shorten(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    if room < 2 {
        return "…".chars().take(room).collect();
    }
    let cut: String = text.chars().take(room - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > room / 2 => cut[..i].trim_end().to_string(),
        _ => cut,
    };
    format!("{cut}…")
}

/// `help("name")`: signatures, documentation and examples of one function.
pub fn function(engine: &Engine, name: &str) -> Option<String> {
    let all = functions(engine);
    let doc = all.get(name)?;
    let mut out = String::new();
    for s in &doc.signatures {
        out.push_str(s);
        out.push('\n');
    }
    let keys = option_keys(name);
    if !keys.is_empty() {
        out.push_str(&format!("options: #{{{}}}\n", keys.join(", ")));
    }
    out.push('\n');
    out.push_str(&doc.doc);
    out.push('\n');
    for example in &doc.examples {
        out.push_str("\nExample:\n");
        for line in example.lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
    }
    Some(out.trim_end().to_string())
}

/// The known function closest to a misspelt name.
pub fn closest(engine: &Engine, name: &str) -> Option<String> {
    functions(engine)
        .keys()
        .map(|k| (edit_distance(k, name), k.clone()))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `kafsh docs`: the Markdown reference of every function, grouped by area, with a table
/// of contents; each function with its signatures, documentation and ```rhai examples.
pub fn markdown(engine: &Engine) -> String {
    let all = functions(engine);
    let mut out = String::from(
        "# kafsh function reference\n\n\
         Every function kafsh adds to Rhai, by area. Generated by `kafsh docs` from the doc \
         comments of the registered functions; in the shell, `help()` lists them and \
         `help(\"name\")` shows one.\n\n\
         ## Contents\n\n",
    );
    for area in api::areas() {
        out.push_str(&format!(
            "- [{}](#{})\n",
            area.title,
            github_anchor(&area.title)
        ));
        for name in &area.functions {
            let summary = all.get(name).map(FunctionDoc::summary).unwrap_or_default();
            out.push_str(&format!(
                "  - [`{name}`](#{}) — {summary}\n",
                github_anchor(name)
            ));
        }
    }
    for area in api::areas() {
        out.push_str(&format!("\n## {}\n", area.title));
        if !area.introduction.is_empty() {
            out.push_str(&format!("\n{}\n", area.introduction));
        }
        for name in &area.functions {
            let Some(doc) = all.get(name) else { continue };
            out.push_str(&format!(
                "\n### `{name}`\n\n```\n{}\n```\n\n{}\n",
                doc.signatures.join("\n"),
                doc.doc
            ));
            for example in &doc.examples {
                out.push_str(&format!("\n```rhai\n{example}\n```\n"));
            }
        }
    }
    out
}

/// The anchor GitHub gives a Markdown heading: lower case, spaces to dashes, punctuation
/// other than `-` and `_` dropped.
fn github_anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The definition file holding the kafsh functions.
pub const KAFSH_DEFINITIONS_FILE: &str = "kafsh.d.rhai";

/// `kafsh docs --definitions DIR`: writes Rhai definition files for editors (the Rhai
/// language server) into `dir`, creating it: [`KAFSH_DEFINITIONS_FILE`] with every kafsh
/// function, its signatures and doc comments, next to the files of Rhai's built-ins and
/// standard library. Returns the paths written.
pub fn write_definitions(engine: &Engine, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let kafsh_functions = engine
        .definitions()
        .include_standard_packages(false)
        .static_module();
    let kafsh = format!(
        "module static;\n\n{}\n",
        with_rhai_return_types(kafsh_functions.trim())
    );
    let standard_library = super::standard_library_engine();
    let mut files: Vec<(String, String)> = standard_library.definitions().iter_files().collect();
    files.push((KAFSH_DEFINITIONS_FILE.to_string(), kafsh));
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::write(&path, content)?;
        written.push(path);
    }
    Ok(written)
}

/// Rhai's definitions keep a fallible function's Rust return type
/// (`-> Result<Map, Box<EvalAltResult>>`, or `-> Array, Box<EvalAltResult>>` when the Rust
/// type was written with a path such as `rhai::Array`); editors want the Rhai type
/// (`-> map`), as in the standard library's definitions.
fn with_rhai_return_types(definitions: &str) -> String {
    definitions
        .lines()
        .map(|line| {
            let declaration = line
                .strip_prefix("fn ")
                .and_then(|_| line.strip_suffix(';'))
                .and_then(|l| l.rsplit_once(") -> "));
            let Some((head, returns)) = declaration else {
                return line.to_string();
            };
            let returns = returns.strip_prefix("Result<").unwrap_or(returns);
            let returns = returns
                .strip_suffix(", Box<EvalAltResult>>")
                .unwrap_or(returns);
            format!("{head}) -> {};", definition_type(returns))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The short type names Rhai's definition files use (`string`, `map`, `?` for any value).
fn definition_type(rust_type: &str) -> &str {
    match rust_type
        .trim()
        .rsplit("::")
        .next()
        .unwrap_or(rust_type)
        .trim()
    {
        "String" | "ImmutableString" | "&str" | "str" => "string",
        "Array" => "array",
        "Map" => "map",
        "Dynamic" | "?" => "?",
        "INT" | "i64" => "int",
        "FLOAT" | "f64" => "float",
        "FnPtr" => "Fn",
        other => other,
    }
}
