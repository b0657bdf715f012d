//! Java `.properties` files, as Kafka's tools take them with `--command-config`, and edits
//! of a server's `server.properties` that keep its comments and order (the migration to
//! KRaft rewrites brokers' and controllers' files phase by phase).

use std::collections::BTreeMap;

use serde::Serialize;

/// One changed setting of an edit: `before` none when added, `after` none when removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyChange {
    /// The key.
    pub key: String,
    /// The value before (none: not set).
    pub before: Option<String>,
    /// The value after (none: removed).
    pub after: Option<String>,
}

/// A properties file after an edit, and what changed, in the order the edit named it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditedProperties {
    /// The new text.
    pub text: String,
    /// The settings whose value changed (nothing when the file already said so).
    pub changes: Vec<PropertyChange>,
}

/// Edits properties `text`: each key of `set` gets its value (replacing the first line that
/// sets it in place, dropping later duplicates, else appending a line at the end), each key
/// of `remove` loses every line that sets it. Comments, blank lines and the order of the rest
/// stay. A key set to the value it has is no change; the result of an edit applied twice is
/// the same text with no changes. Keys and values are written escaped as Java reads them.
pub fn edit_properties(
    text: &str,
    set: &[(String, String)],
    remove: &[String],
) -> EditedProperties {
    let before = parse_properties(text);
    // Logical lines: (the physical lines, the key they set if any).
    let mut lines: Vec<(String, Option<String>)> = Vec::new();
    let mut logical = String::new();
    let mut physical = String::new();
    for raw in text.lines() {
        let line = raw.trim_start();
        if logical.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            lines.push((raw.to_string(), None));
            continue;
        }
        physical.push_str(raw);
        physical.push('\n');
        let trailing_backslashes = line.chars().rev().take_while(|c| *c == '\\').count();
        if trailing_backslashes % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            continue;
        }
        logical.push_str(line);
        let (key, _) = split_key_value(&logical);
        let body = physical.trim_end_matches('\n').to_string();
        lines.push((body, Some(unescape(&key))));
        logical.clear();
        physical.clear();
    }
    if !physical.is_empty() {
        let (key, _) = split_key_value(&logical);
        lines.push((
            physical.trim_end_matches('\n').to_string(),
            Some(unescape(&key)),
        ));
    }
    let mut changes = Vec::new();
    let mut out: Vec<String> = Vec::new();
    let mut placed: Vec<&str> = Vec::new();
    for (body, key) in &lines {
        let Some(key) = key else {
            out.push(body.clone());
            continue;
        };
        if remove.contains(key) && !set.iter().any(|(k, _)| k == key) {
            continue;
        }
        match set.iter().find(|(k, _)| k == key) {
            Some((k, v)) if !placed.contains(&k.as_str()) => {
                placed.push(k);
                out.push(format!("{}={}", escape(k, true), escape(v, false)));
            }
            Some(_) => {}
            None => out.push(body.clone()),
        }
    }
    for (k, v) in set {
        if !placed.contains(&k.as_str()) {
            placed.push(k);
            out.push(format!("{}={}", escape(k, true), escape(v, false)));
        }
    }
    for (k, v) in set {
        if before.get(k) != Some(v) && !changes.iter().any(|c: &PropertyChange| &c.key == k) {
            changes.push(PropertyChange {
                key: k.clone(),
                before: before.get(k).cloned(),
                after: Some(v.clone()),
            });
        }
    }
    for k in remove {
        if set.iter().any(|(s, _)| s == k) || changes.iter().any(|c| &c.key == k) {
            continue;
        }
        if let Some(old) = before.get(k) {
            changes.push(PropertyChange {
                key: k.clone(),
                before: Some(old.clone()),
                after: None,
            });
        }
    }
    let mut text_out = out.join("\n");
    if !text_out.is_empty() {
        text_out.push('\n');
    }
    EditedProperties {
        text: text_out,
        changes,
    }
}

/// Escapes a key or value for a properties file (a key also escapes separators).
fn escape(s: &str, key: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '=' | ':' | ' ' if key => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == 0 => out.push_str("\\ "),
            '#' | '!' if key && i == 0 => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Parses Java properties text: `key=value`, `key: value` or `key value`; `#`/`!` comments;
/// backslash line continuations and escapes (`\t`, `\n`, `\uXXXX`, `\=`).
pub fn parse_properties(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.trim_start();
        if logical.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            continue;
        }
        let trailing_backslashes = line.chars().rev().take_while(|c| *c == '\\').count();
        if trailing_backslashes % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            continue;
        }
        logical.push_str(line);
        let (key, value) = split_key_value(&logical);
        out.insert(unescape(&key), unescape(&value));
        logical.clear();
    }
    if !logical.is_empty() {
        let (key, value) = split_key_value(&logical);
        out.insert(unescape(&key), unescape(&value));
    }
    out
}

fn split_key_value(line: &str) -> (String, String) {
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' | ' ' | '\t' => {
                let key = line[..i].to_string();
                let mut rest = line[i..].trim_start_matches([' ', '\t']);
                if c == ' ' || c == '\t' {
                    if let Some(r) = rest.strip_prefix(['=', ':']) {
                        rest = r;
                    }
                } else {
                    rest = &rest[1..];
                }
                return (key, rest.trim_start().to_string());
            }
            _ => {}
        }
    }
    (line.to_string(), String::new())
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kafka_client_properties() {
        let text = "# comment\nsecurity.protocol=SASL_SSL\nsasl.mechanism : SCRAM-SHA-512\n\
                    sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n    username=\"u\" password=\"p\";\n! other\nkey\\=with\\=eq = v\\u0041\n";
        let p = parse_properties(text);
        assert_eq!(p["security.protocol"], "SASL_SSL");
        assert_eq!(p["sasl.mechanism"], "SCRAM-SHA-512");
        assert_eq!(
            p["sasl.jaas.config"],
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"p\";"
        );
        assert_eq!(p["key=with=eq"], "vA");
    }

    fn set(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn edits_keep_comments_and_order() {
        let text = "# broker 1\nbroker.id=1\nzookeeper.connect=zk:2181/kafka\n\nlisteners=PLAINTEXT://h:9092\nbroker.id=1\n";
        let e = edit_properties(
            text,
            &set(&[("node.id", "1"), ("listeners", "PLAINTEXT://h:9092")]),
            &[
                "broker.id".into(),
                "zookeeper.connect".into(),
                "absent".into(),
            ],
        );
        assert_eq!(
            e.text,
            "# broker 1\n\nlisteners=PLAINTEXT://h:9092\nnode.id=1\n"
        );
        assert_eq!(
            e.changes,
            vec![
                PropertyChange {
                    key: "node.id".into(),
                    before: None,
                    after: Some("1".into())
                },
                PropertyChange {
                    key: "broker.id".into(),
                    before: Some("1".into()),
                    after: None
                },
                PropertyChange {
                    key: "zookeeper.connect".into(),
                    before: Some("zk:2181/kafka".into()),
                    after: None
                },
            ]
        );
        let again = edit_properties(&e.text, &set(&[("node.id", "1")]), &["broker.id".into()]);
        assert_eq!(again.text, e.text);
        assert!(again.changes.is_empty());
    }

    #[test]
    fn edits_replace_in_place_and_escape() {
        let text = "a=1\nlong=x\\\n  y\nb : 2\n";
        let e = edit_properties(text, &set(&[("long", "z"), ("b", "c:d\\e")]), &[]);
        assert_eq!(e.text, "a=1\nlong=z\nb=c:d\\\\e\n");
        assert_eq!(
            parse_properties(&e.text).get("b").map(String::as_str),
            Some("c:d\\e")
        );
        assert_eq!(e.changes.len(), 2);
        assert_eq!(e.changes[0].before.as_deref(), Some("xy"));
    }

    proptest::proptest! {
        #[test]
        fn an_edit_reads_back_as_asked(
            base in proptest::collection::btree_map("[a-z.]{1,8}", "[ -~]{0,12}", 0..8),
            sets in proptest::collection::btree_map("[a-z.]{1,8}", "[ -~]{0,12}", 0..5),
            removes in proptest::collection::vec("[a-z.]{1,8}", 0..4),
        ) {
            let text: String = base
                .iter()
                .map(|(k, v)| format!("{}={}\n", escape(k, true), escape(v, false)))
                .collect();
            let set: Vec<(String, String)> = sets.into_iter().collect();
            let e = edit_properties(&text, &set, &removes);
            let read = parse_properties(&e.text);
            let mut want = base.clone();
            for k in &removes { want.remove(k); }
            for (k, v) in &set { want.insert(k.clone(), v.clone()); }
            proptest::prop_assert_eq!(&read, &want);
            let again = edit_properties(&e.text, &set, &removes);
            proptest::prop_assert_eq!(again.text, e.text);
            proptest::prop_assert!(again.changes.is_empty());
        }
    }
}
