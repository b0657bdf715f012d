//! The rustyline helper: completion of function names and of topic names (from the
//! connected cluster, cached), and multi-line input while brackets or strings are open.

use crate::script::{help, SessionRef};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};
use std::sync::Mutex;
use std::time::Duration;

const KEYWORDS: &[&str] = &[
    "let", "const", "if", "else", "for", "in", "while", "loop", "break", "continue", "return",
    "fn", "true", "false", "switch", "import", "export", "try", "catch", "throw",
];

/// Completion and validation for the REPL.
pub struct KafshHelper {
    functions: Vec<String>,
    session: SessionRef,
    topics: Mutex<Option<Vec<String>>>,
}

impl KafshHelper {
    /// A helper knowing the engine's functions and able to ask the cluster for topics.
    pub fn new(engine: &rhai::Engine, session: SessionRef) -> Self {
        let functions = help::functions(engine).into_keys().collect();
        KafshHelper {
            functions,
            session,
            topics: Mutex::new(None),
        }
    }

    fn topic_names(&self) -> Vec<String> {
        if let Ok(guard) = self.topics.lock() {
            if let Some(t) = guard.as_ref() {
                return t.clone();
            }
        }
        let session = self.session.clone();
        let fetched = session.kafka().and_then(|client| {
            session
                .bridge()
                .call("complete topics", Duration::from_secs(3), async move {
                    crate::kafka::topics::list_topics(
                        &client,
                        &crate::kafka::topics::ListOptions { internal: true },
                    )
                    .await
                })
        });
        match fetched {
            Ok(names) => {
                if let Ok(mut guard) = self.topics.lock() {
                    *guard = Some(names.clone());
                }
                names
            }
            Err(_) => Vec::new(),
        }
    }
}

/// Whether `pos` is inside a double-quoted string of `line`.
fn in_string(line: &str, pos: usize) -> bool {
    let mut inside = false;
    let mut escaped = false;
    for c in line[..pos].chars() {
        match c {
            '\\' if inside => escaped = !escaped,
            '"' if !escaped => inside = !inside,
            _ => escaped = false,
        }
    }
    inside
}

impl Completer for KafshHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let quoted = in_string(line, pos);
        let start = line[..pos]
            .char_indices()
            .rev()
            .find(|(_, c)| {
                !(c.is_ascii_alphanumeric() || *c == '_' || (quoted && (*c == '.' || *c == '-')))
            })
            .map(|(i, c)| i + c.len_utf8())
            .unwrap_or(0);
        let prefix = &line[start..pos];
        if quoted {
            let candidates = self
                .topic_names()
                .into_iter()
                .filter(|t| t.starts_with(prefix))
                .map(|t| Pair {
                    display: t.clone(),
                    replacement: t,
                })
                .collect();
            return Ok((start, candidates));
        }
        if prefix.is_empty() {
            return Ok((start, Vec::new()));
        }
        let mut candidates: Vec<Pair> = self
            .functions
            .iter()
            .filter(|f| f.starts_with(prefix))
            .map(|f| Pair {
                display: f.clone(),
                replacement: format!("{f}("),
            })
            .collect();
        candidates.extend(
            KEYWORDS
                .iter()
                .filter(|k| k.starts_with(prefix))
                .map(|k| Pair {
                    display: k.to_string(),
                    replacement: k.to_string(),
                }),
        );
        Ok((start, candidates))
    }
}

impl Hinter for KafshHelper {
    type Hint = String;
}

impl Highlighter for KafshHelper {}

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
    fn string_detection() {
        assert!(in_string("describe_topic(\"pet", 19));
        assert!(!in_string("describe_topic(\"a\")", 19));
    }
}
