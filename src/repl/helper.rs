//! The rustyline helper: what the shell knows about the line being typed. Completion of
//! function names, option keys inside `#{…}` (for the function being called), and of
//! arguments by what the parameter is (topics, groups, broker ids, config keys, znode
//! paths, contexts, files) from the connected cluster, cached for a few seconds; a hint
//! with the signature and options of the call being typed; Rhai highlighting with the
//! bracket under the cursor matched; multi-line input while brackets or strings are open.

use crate::script::{help, SessionRef};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hint, Hinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const KEYWORDS: &[&str] = &[
    "let", "const", "if", "else", "for", "in", "while", "loop", "break", "continue", "return",
    "fn", "true", "false", "switch", "import", "export", "try", "catch", "throw",
];

/// How long a cluster's answer serves completion before it is asked again.
const CACHE_FOR: Duration = Duration::from_secs(5);

/// The longest completion waits for the cluster (less when the call timeout is shorter).
const COMPLETION_LIMIT: Duration = Duration::from_secs(3);

/// Completion, hints, highlighting and validation for the REPL.
pub struct KafshHelper {
    functions: BTreeMap<String, help::FunctionDoc>,
    session: SessionRef,
    prompt_colour: Option<&'static str>,
    colour: bool,
    cache: Mutex<HashMap<String, (Instant, Vec<String>)>>,
}

/// What kind of value an argument is, for completion.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ArgKind {
    Topic,
    Group,
    BrokerId,
    ConfigKey { entity: String, name: String },
    Znode,
    Context,
    File,
}

/// Where the cursor is: in which call, at which argument, in a string, at a map key.
#[derive(Debug, Default, PartialEq, Eq)]
struct CallSite {
    /// The innermost function being called, if any.
    function: Option<String>,
    /// Its argument index at the cursor.
    arg: usize,
    /// The string literals given as its earlier arguments (for config keys of a topic).
    literals: Vec<Option<String>>,
    /// The cursor is at a key of an options map given directly to the call.
    at_option_key: bool,
    /// The cursor is inside a string starting at this byte.
    string_start: Option<usize>,
    /// The string is inside a map nested in the call (alter_config's `set`).
    in_nested_map: bool,
    /// `import "…"`.
    import: bool,
}

#[derive(Debug)]
enum Frame {
    Call {
        name: String,
        arg: usize,
        literals: Vec<Option<String>>,
    },
    Map {
        at_key: bool,
    },
    Other,
}

/// Reads `line` up to `pos` as Rhai and says where the cursor is.
fn call_site(line: &str, pos: usize) -> CallSite {
    let text = &line[..pos];
    let mut stack: Vec<Frame> = Vec::new();
    let mut string: Option<(usize, char)> = None;
    let mut escaped = false;
    let mut last_literal: Option<String> = None;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if let Some((start, quote)) = string {
            match c {
                '\\' if !escaped => {
                    escaped = true;
                    i += 1;
                    continue;
                }
                c if c == quote && !escaped => {
                    string = None;
                    last_literal = Some(text[start + 1..at].to_string());
                }
                _ => {}
            }
            escaped = false;
            i += 1;
            continue;
        }
        match c {
            '"' | '`' => string = Some((at, c)),
            '#' if chars.get(i + 1).map(|x| x.1) == Some('{') => {
                stack.push(Frame::Map { at_key: true });
                i += 1;
            }
            '(' => {
                let name: String = text[..at]
                    .trim_end()
                    .chars()
                    .rev()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                stack.push(Frame::Call {
                    name,
                    arg: 0,
                    literals: Vec::new(),
                });
            }
            '[' | '{' => stack.push(Frame::Other),
            ')' | ']' | '}' => {
                stack.pop();
            }
            ',' => match stack.last_mut() {
                Some(Frame::Call { arg, literals, .. }) => {
                    literals.push(last_literal.take());
                    *arg += 1;
                }
                Some(Frame::Map { at_key }) => *at_key = true,
                _ => {}
            },
            ':' => {
                if let Some(Frame::Map { at_key }) = stack.last_mut() {
                    *at_key = false;
                }
            }
            c if !c.is_whitespace() => last_literal = None,
            _ => {}
        }
        i += 1;
    }
    let mut site = CallSite {
        string_start: string.map(|(s, _)| s),
        ..CallSite::default()
    };
    site.import = site
        .string_start
        .is_some_and(|s| text[..s].trim_end().ends_with("import"));
    let call_index = stack.iter().rposition(|f| matches!(f, Frame::Call { .. }));
    if let Some(ci) = call_index {
        if let Frame::Call {
            name,
            arg,
            literals,
        } = &stack[ci]
        {
            site.function = Some(name.clone()).filter(|n| !n.is_empty());
            site.arg = *arg;
            site.literals = literals.clone();
        }
        let inner = &stack[ci + 1..];
        site.at_option_key =
            site.string_start.is_none() && matches!(inner, [Frame::Map { at_key: true }]);
        site.in_nested_map = inner.len() >= 2;
    }
    site
}

impl KafshHelper {
    /// A helper knowing the engine's functions and able to ask the cluster for names.
    pub fn new(engine: &rhai::Engine, session: SessionRef) -> Self {
        let colour = crate::output::stdout_colour();
        let prompt_colour = colour.then_some(if session.settings.production {
            "1;31"
        } else {
            "1;32"
        });
        KafshHelper {
            functions: help::functions(engine),
            session,
            prompt_colour,
            colour,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// A cluster answer for completion: cached for a few seconds, never waited for longer
    /// than the call timeout (nor 3 s); nothing when the cluster does not answer.
    fn cached(
        &self,
        key: &str,
        fetch: impl FnOnce(&SessionRef, Duration) -> Vec<String>,
    ) -> Vec<String> {
        if let Ok(cache) = self.cache.lock() {
            if let Some((at, names)) = cache.get(key) {
                if at.elapsed() < CACHE_FOR {
                    return names.clone();
                }
            }
        }
        let limit = COMPLETION_LIMIT.min(self.session.settings.call_timeout);
        let names = fetch(&self.session, limit);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key.to_string(), (Instant::now(), names.clone()));
        }
        names
    }

    fn names_of(&self, kind: &ArgKind) -> Vec<String> {
        match kind {
            ArgKind::Topic => self.cached("topics", |s, limit| {
                let Ok(client) = s.kafka() else {
                    return Vec::new();
                };
                s.bridge()
                    .call("complete topics", limit, async move {
                        crate::kafka::topics::list_topics(
                            &client,
                            &crate::kafka::topics::ListOptions { internal: true },
                        )
                        .await
                    })
                    .unwrap_or_default()
            }),
            ArgKind::Group => self.cached("groups", |s, limit| {
                let Ok(client) = s.kafka() else {
                    return Vec::new();
                };
                s.bridge()
                    .call("complete groups", limit, async move {
                        crate::kafka::groups::list_groups(&client, &Default::default()).await
                    })
                    .map(|gs| gs.into_iter().map(|g| g.group).collect())
                    .unwrap_or_default()
            }),
            ArgKind::BrokerId => self.cached("brokers", |s, limit| {
                let Ok(client) = s.kafka() else {
                    return Vec::new();
                };
                s.bridge()
                    .call("complete brokers", limit, async move {
                        crate::kafka::brokers::brokers(&client).await
                    })
                    .map(|bs| bs.into_iter().map(|b| b.id.to_string()).collect())
                    .unwrap_or_default()
            }),
            ArgKind::ConfigKey { entity, name } => {
                let key = format!("configs {entity} {name}");
                let (entity, name) = (entity.clone(), name.clone());
                self.cached(&key, move |s, limit| {
                    let Ok(client) = s.kafka() else {
                        return Vec::new();
                    };
                    let Ok(entity) = crate::kafka::configs::Entity::parse(&entity, &name) else {
                        return Vec::new();
                    };
                    s.bridge()
                        .call("complete config keys", limit, async move {
                            crate::kafka::configs::describe_config(&client, &entity).await
                        })
                        .map(|cs| cs.into_iter().map(|c| c.name).collect())
                        .unwrap_or_default()
                })
            }
            ArgKind::Context => crate::config::contexts()
                .map(|cs| cs.into_iter().map(|c| c.name).collect())
                .unwrap_or_default(),
            ArgKind::Znode | ArgKind::File => Vec::new(),
        }
    }

    /// The children of the znode a typed path's parent names, as full paths.
    fn znodes(&self, typed: &str) -> Vec<String> {
        let parent = match typed.rfind('/') {
            Some(0) | None => "/".to_string(),
            Some(i) => typed[..i].to_string(),
        };
        let key = format!("znodes {parent}");
        let p = parent.clone();
        let children = self.cached(&key, move |s, limit| {
            let Ok(zk) = s.zookeeper() else {
                return Vec::new();
            };
            s.bridge()
                .call("complete znodes", limit, async move { zk.ls(&p).await })
                .unwrap_or_default()
        });
        let base = if parent == "/" { String::new() } else { parent };
        children
            .into_iter()
            .map(|c| format!("{base}/{c}"))
            .collect()
    }

    /// What the argument at the cursor is, from the function and its parameter's name.
    fn arg_kind(&self, site: &CallSite) -> Option<ArgKind> {
        if site.import {
            return Some(ArgKind::File);
        }
        let function = site.function.as_deref()?;
        let literal = |i: usize| site.literals.get(i).cloned().flatten();
        if function == "alter_config" && (site.in_nested_map || site.arg >= 2) {
            return Some(ArgKind::ConfigKey {
                entity: literal(0)?,
                name: literal(1).unwrap_or_default(),
            });
        }
        let param = self.param_name(function, site.arg).unwrap_or_default();
        Some(match (function, param.as_str()) {
            ("set_config" | "delete_config", "key") => ArgKind::ConfigKey {
                entity: "topic".into(),
                name: literal(0)?,
            },
            ("describe_config" | "alter_config", _) if site.arg == 1 => {
                match literal(0)?.as_str() {
                    "broker" => ArgKind::BrokerId,
                    "topic" | "topics" => ArgKind::Topic,
                    _ => return None,
                }
            }
            ("use_context" | "on" | "on_each", _) if site.arg == 0 => ArgKind::Context,
            ("read_file" | "write_file", _) if site.arg == 0 => ArgKind::File,
            (f, "path") if f.starts_with("zk_") => ArgKind::Znode,
            (_, "group") => ArgKind::Group,
            (f, "name") if f.contains("group") => ArgKind::Group,
            (f, "id" | "broker" | "broker_id") if f.contains("broker") => ArgKind::BrokerId,
            (_, "topic" | "name" | "topics") => ArgKind::Topic,
            _ if site.string_start.is_some() => ArgKind::Topic,
            _ => return None,
        })
    }

    /// The name of parameter `index` of `function` (from its longest signature).
    fn param_name(&self, function: &str, index: usize) -> Option<String> {
        let doc = self.functions.get(function)?;
        let longest = doc
            .signatures
            .iter()
            .max_by_key(|s| s.matches(':').count())?;
        let inside = longest.split_once('(')?.1.rsplit_once(')')?.0;
        inside
            .split(',')
            .nth(index)
            .and_then(|p| p.split(':').next())
            .map(|p| p.trim().to_string())
    }
}

/// The start of the word before `pos` (identifier characters).
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0)
}

fn pairs(names: impl IntoIterator<Item = String>, prefix: &str, suffix: &str) -> Vec<Pair> {
    let mut names: Vec<String> = names
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|n| Pair {
            display: n.clone(),
            replacement: format!("{n}{suffix}"),
        })
        .collect()
}

/// Files and directories matching a typed path (directories end with `/`).
fn files(typed: &str) -> Vec<String> {
    let (dir, name) = match typed.rfind('/') {
        Some(i) => (&typed[..=i], &typed[i + 1..]),
        None => ("", typed),
    };
    let Ok(entries) = std::fs::read_dir(if dir.is_empty() { "." } else { dir }) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().to_string();
            if !file.starts_with(name) || (file.starts_with('.') && !name.starts_with('.')) {
                return None;
            }
            let slash = if e.path().is_dir() { "/" } else { "" };
            Some(format!("{dir}{file}{slash}"))
        })
        .collect()
}

impl Completer for KafshHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let site = call_site(line, pos);
        if let Some(string_start) = site.string_start {
            let start = string_start + 1;
            let typed = &line[start..pos];
            let names = match self.arg_kind(&site) {
                Some(ArgKind::Znode) => self.znodes(typed),
                Some(ArgKind::File) => files(typed),
                Some(kind) => self.names_of(&kind),
                None => Vec::new(),
            };
            return Ok((start, pairs(names, typed, "")));
        }
        let start = word_start(line, pos);
        let prefix = &line[start..pos];
        if site.at_option_key {
            let keys = site
                .function
                .as_deref()
                .map(help::option_keys)
                .unwrap_or(&[]);
            let keys = keys.iter().map(|k| k.to_string());
            return Ok((start, pairs(keys, prefix, ": ")));
        }
        if prefix.chars().all(|c| c.is_ascii_digit()) {
            if let Some(ArgKind::BrokerId) = self.arg_kind(&site) {
                return Ok((start, pairs(self.names_of(&ArgKind::BrokerId), prefix, "")));
            }
        }
        if prefix.is_empty() {
            return Ok((start, Vec::new()));
        }
        let mut candidates = pairs(self.functions.keys().cloned(), prefix, "(");
        candidates.extend(pairs(KEYWORDS.iter().map(|k| k.to_string()), prefix, ""));
        Ok((start, candidates))
    }
}

/// A hint shown after the cursor: the signature of the call being typed. Never inserted.
pub struct SignatureHint(String);

impl Hint for SignatureHint {
    fn display(&self) -> &str {
        &self.0
    }

    fn completion(&self) -> Option<&str> {
        None
    }
}

impl Hinter for KafshHelper {
    type Hint = SignatureHint;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<SignatureHint> {
        if pos < line.len() {
            return None;
        }
        let site = call_site(line, pos);
        let function = site.function?;
        let doc = self.functions.get(&function)?;
        let signatures: Vec<&str> = doc
            .signatures
            .iter()
            .map(|s| s.split(" -> ").next().unwrap_or(s))
            .collect();
        let keys = help::option_keys(&function);
        let mut text = format!("  ← {}", signatures.join(" | "));
        if !keys.is_empty() {
            text.push_str(&format!("  #{{{}}}", keys.join(", ")));
        }
        Some(SignatureHint(text))
    }
}

/// The byte of the bracket matching the one at `at`, if any.
fn matching_bracket(line: &str, at: usize) -> Option<usize> {
    let bytes = line.as_bytes();
    let (open, close, forward) = match bytes.get(at)? {
        b'(' => (b'(', b')', true),
        b'[' => (b'[', b']', true),
        b'{' => (b'{', b'}', true),
        b')' => (b'(', b')', false),
        b']' => (b'[', b']', false),
        b'}' => (b'{', b'}', false),
        _ => return None,
    };
    let mut depth = 0i32;
    let indices: Box<dyn Iterator<Item = usize>> = if forward {
        Box::new(at..bytes.len())
    } else {
        Box::new((0..=at).rev())
    };
    for i in indices {
        if bytes[i] == open {
            depth += if forward { 1 } else { -1 };
        } else if bytes[i] == close {
            depth += if forward { -1 } else { 1 };
        }
        if depth == 0 {
            return Some(i);
        }
    }
    None
}

/// Rhai source with ANSI colours: keywords, strings, numbers, kafsh's functions, and the
/// brackets at `cursor` (the one under it or just before it) and its match.
fn highlight_rhai(line: &str, cursor: Option<usize>, is_function: impl Fn(&str) -> bool) -> String {
    let marked: Vec<usize> = cursor
        .into_iter()
        .flat_map(|c| [c, c.wrapping_sub(1)])
        .find_map(|c| matching_bracket(line, c).map(|m| vec![c, m]))
        .unwrap_or_default();
    let mut out = String::with_capacity(line.len() * 2);
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if c == '"' || c == '`' {
            let mut j = i + 1;
            let mut escaped = false;
            while j < chars.len() {
                let d = chars[j].1;
                if d == c && !escaped {
                    break;
                }
                escaped = d == '\\' && !escaped;
                j += 1;
            }
            let end = chars.get(j + 1).map(|x| x.0).unwrap_or(line.len());
            out.push_str(&format!("\x1b[32m{}\x1b[0m", &line[at..end]));
            i = j + 1;
            continue;
        }
        if c == '/' && chars.get(i + 1).map(|x| x.1) == Some('/') {
            out.push_str(&format!("\x1b[2m{}\x1b[0m", &line[at..]));
            break;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len() && (chars[j].1.is_ascii_alphanumeric() || chars[j].1 == '_') {
                j += 1;
            }
            let end = chars.get(j).map(|x| x.0).unwrap_or(line.len());
            let word = &line[at..end];
            if KEYWORDS.contains(&word) {
                out.push_str(&format!("\x1b[35m{word}\x1b[0m"));
            } else if is_function(word) {
                out.push_str(&format!("\x1b[36m{word}\x1b[0m"));
            } else {
                out.push_str(word);
            }
            i = j;
            continue;
        }
        if c.is_ascii_digit() {
            let mut j = i;
            while j < chars.len()
                && (chars[j].1.is_ascii_alphanumeric() || chars[j].1 == '.' || chars[j].1 == '_')
            {
                j += 1;
            }
            let end = chars.get(j).map(|x| x.0).unwrap_or(line.len());
            out.push_str(&format!("\x1b[33m{}\x1b[0m", &line[at..end]));
            i = j;
            continue;
        }
        if marked.contains(&at) {
            out.push_str(&format!("\x1b[1;4m{c}\x1b[0m"));
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

impl Highlighter for KafshHelper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> Cow<'l, str> {
        if !self.colour {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight_rhai(line, Some(pos), |w| {
            self.functions.contains_key(w)
        }))
    }

    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        match self.prompt_colour {
            Some(code) => Cow::Owned(format!("\x1b[{code}m{prompt}\x1b[0m")),
            None => Cow::Borrowed(prompt),
        }
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.colour {
            Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.colour
    }
}

impl Validator for KafshHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if is_incomplete(ctx.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

impl Helper for KafshHelper {}

/// Whether input has unclosed brackets, braces, parentheses, strings or a trailing `\`.
pub fn is_incomplete(input: &str) -> bool {
    let mut depth: i32 = 0;
    let mut in_str: Option<char> = None;
    let mut escaped = false;
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = in_str {
            match c {
                '\\' if !escaped => {
                    escaped = true;
                    continue;
                }
                c if c == q && !escaped => in_str = None,
                _ => {}
            }
            escaped = false;
            continue;
        }
        match c {
            '"' | '`' | '\'' => in_str = Some(c),
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    depth > 0 || in_str == Some('`') || input.trim_end().ends_with('\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_detection() {
        assert!(is_incomplete("for t in list_topics() {"));
        assert!(is_incomplete("let x = #{a: 1,"));
        assert!(!is_incomplete("describe_topic(\"a{\")"));
        assert!(!is_incomplete("list_topics() // {"));
        assert!(is_incomplete("print(`multi\nline"));
        assert!(!is_incomplete("}"));
    }

    #[test]
    fn the_call_at_the_cursor() {
        let at_end = |l: &str| call_site(l, l.len());
        let s = at_end("describe_topic(\"pet");
        assert_eq!(s.function.as_deref(), Some("describe_topic"));
        assert_eq!(s.string_start, Some(15));
        assert_eq!(s.arg, 0);

        let s = at_end("create_topic(\"t\", #{parti");
        assert_eq!(s.function.as_deref(), Some("create_topic"));
        assert_eq!(s.arg, 1);
        assert!(s.at_option_key);
        assert_eq!(s.literals, vec![Some("t".to_string())]);

        let s = at_end("create_topic(\"t\", #{partitions: 3, rep");
        assert!(s.at_option_key, "{s:?}");
        let s = at_end("create_topic(\"t\", #{partitions: 3");
        assert!(!s.at_option_key, "a value, not a key: {s:?}");

        let s = at_end("set_config(\"orders\", \"retention");
        assert_eq!(s.arg, 1);
        assert_eq!(s.literals, vec![Some("orders".to_string())]);
        assert!(s.string_start.is_some());

        let s = at_end("alter_config(\"topic\", \"orders\", #{set: #{\"cleanup");
        assert!(s.in_nested_map && s.string_start.is_some(), "{s:?}");

        let s = at_end("let x = list_topics().len(); describe_topic(x).partitions.len() + sizes(");
        assert_eq!(s.function.as_deref(), Some("sizes"));

        let s = at_end("import \"lib/");
        assert!(s.import);

        let s = at_end("restart_broker(");
        assert_eq!((s.function.as_deref(), s.arg), (Some("restart_broker"), 0));
        assert_eq!(at_end("brokers()").function, None);
    }

    #[test]
    fn highlighting_marks_words_strings_numbers_and_the_matching_bracket() {
        let h = highlight_rhai(
            "let n = describe_topic(\"a(\").partitions.len() + 42; // (",
            None,
            |w| w == "describe_topic",
        );
        assert!(h.contains("\x1b[35mlet\x1b[0m"), "{h}");
        assert!(h.contains("\x1b[36mdescribe_topic\x1b[0m"), "{h}");
        assert!(h.contains("\x1b[32m\"a(\"\x1b[0m"), "{h}");
        assert!(h.contains("\x1b[33m42\x1b[0m"), "{h}");
        assert!(h.contains("\x1b[2m// (\x1b[0m"), "{h}");
        let line = "f(g(1), 2)";
        let h = highlight_rhai(line, Some(line.len()), |_| false);
        assert_eq!(h.matches("\x1b[1;4m").count(), 2, "{h}");
        assert!(h.starts_with("f\x1b[1;4m(\x1b[0m"), "{h}");
        assert_eq!(matching_bracket(line, 3), Some(5));
        assert_eq!(matching_bracket("((", 0), None);
    }
}
