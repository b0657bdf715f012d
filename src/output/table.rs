//! Table rendering of JSON-shaped results, in the style of Kafka's own tools: upper-case
//! headers (`CURRENT-OFFSET`), no borders, familiar columns first.

use comfy_table::{presets, Cell, ContentArrangement, Table};
use serde_json::{Map, Value};

/// Columns shown first, in this order; the rest follow alphabetically.
const COLUMN_ORDER: &[&str] = &[
    "seq",
    "time",
    "group",
    "type",
    "topic",
    "topic_id",
    "partition_count",
    "replication_factor",
    "configs",
    "partition",
    "server",
    "id",
    "node_id",
    "directory_id",
    "feature",
    "supported_min",
    "supported_max",
    "finalized_level",
    "mode",
    "role",
    "leader",
    "replicas",
    "isr",
    "offline_replicas",
    "old_offset",
    "new_offset",
    "current_offset",
    "log_end_offset",
    "lag",
    "last_fetch_timestamp",
    "last_caught_up_timestamp",
    "consumer_id",
    "resource_type",
    "resource",
    "name",
    "pattern_type",
    "principal",
    "host",
    "operation",
    "permission",
    "port",
    "rack",
    "controller",
    "user",
    "client_id",
    "ip",
    "transactional_id",
    "coordinator",
    "producer_id",
    "producer_epoch",
    "state",
    "protocol_type",
    "members",
    "total_lag",
    "summary",
    "arguments",
    "action",
    "old",
    "new",
    "value",
    "source",
    "version",
    "zxid",
    "epoch",
    "latency_min",
    "latency_avg",
    "latency_max",
    "connections",
    "outstanding",
    "znode_count",
    "followers",
    "synced_followers",
    "sudo_user",
    "function",
    "target",
    "result",
];

/// Columns shown last.
const LAST_COLUMNS: &[&str] = &["error"];

/// Columns left out first when a table is wider than the terminal, in this order; after
/// them, columns go from the right (never the first column, never `error`).
const DROPPED_FIRST: &[&str] = &[
    "latency_min",
    "latency_max",
    "outstanding",
    "epoch",
    "zxid",
    "read_only",
    "sensitive",
    "protocol_type",
    "client_id",
    "host",
    "topic_id",
    "version",
    "znode_count",
    "connections",
    "latency_avg",
];

/// Renders any result for people, with lines as long as they need to be (pipes, files).
pub fn render_table(value: &Value) -> String {
    render_table_within(value, None)
}

/// Renders any result for people; tables wider than `width` columns leave out their
/// least useful columns and say which.
pub fn render_table_within(value: &Value, width: Option<usize>) -> String {
    render(value, width, false)
}

/// Renders a result for a terminal: like [`render_table_within`], and items that hold
/// tables (a topic's partitions, a group's lag rows) are blocks — the item's fields, then
/// its inner table — as Kafka's tools lay them out. Pipes keep one row per item.
pub fn render_table_on_terminal(value: &Value, width: Option<usize>) -> String {
    render(value, width, true)
}

fn render(value: &Value, width: Option<usize>, blocks: bool) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "(none)".to_string(),
        Value::Array(items)
            if blocks && items.iter().all(Value::is_object) && items.iter().any(holds_a_table) =>
        {
            items
                .iter()
                .filter_map(Value::as_object)
                .map(|m| object_view(m, width))
                .collect::<Vec<_>>()
                .join("\n\n")
        }
        Value::Array(items) if items.iter().all(Value::is_object) => rows_table(items, width),
        Value::Array(items) => items.iter().map(cell_text).collect::<Vec<_>>().join("\n"),
        Value::Object(map) => object_view(map, width),
        other => cell_text(other),
    }
}

fn object_view(map: &Map<String, Value>, width: Option<usize>) -> String {
    let mut lines = Vec::new();
    // Fields with nothing to say (none, "", [], {}) are left out; JSON keeps them.
    let scalar_keys: Vec<&String> = map
        .iter()
        .filter(|(_, v)| !is_table(v) && !is_empty(v))
        .map(|(k, _)| k)
        .collect();
    let key_width = scalar_keys.iter().map(|k| k.len()).max().unwrap_or(0);
    for key in ordered(scalar_keys.iter().map(|k| k.as_str()).collect()) {
        let text = cell_text(&map[key]);
        lines.push(format!(
            "{:<width$}  {}",
            format!("{key}:"),
            text,
            width = key_width + 1
        ));
    }
    let tables = map.values().filter(|v| is_table(v)).count();
    for (key, value) in map.iter().filter(|(_, v)| is_table(v)) {
        if let Value::Array(items) = value {
            lines.push(String::new());
            if tables > 1 {
                lines.push(format!("{key}:"));
            }
            lines.push(rows_table(items, width));
        }
    }
    lines.join("\n")
}

fn holds_a_table(item: &Value) -> bool {
    item.as_object().is_some_and(|m| m.values().any(is_table))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

fn is_table(v: &Value) -> bool {
    matches!(v, Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object))
}

fn rows_table(items: &[Value], width: Option<usize>) -> String {
    let mut keys: Vec<&str> = Vec::new();
    for item in items {
        if let Value::Object(m) = item {
            for k in m.keys() {
                if !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
        }
    }
    let mut keys = ordered(keys);
    let mut left_out: Vec<&str> = Vec::new();
    loop {
        let text = draw_rows(items, &keys);
        let too_wide = width.is_some_and(|w| text.lines().any(|l| l.chars().count() > w));
        let next = too_wide.then(|| droppable(&keys)).flatten();
        match next {
            Some(column) => {
                keys.retain(|k| *k != column);
                left_out.push(column);
            }
            None if left_out.is_empty() => return text,
            None => {
                let names: Vec<String> = left_out.iter().map(|k| header(k)).collect();
                let note = format!(
                    "({} column(s) left out to fit the terminal: {}; --json shows all)",
                    names.len(),
                    names.join(", ")
                );
                return format!("{text}\n{}", wrap(&note, width.unwrap_or(usize::MAX)));
            }
        }
    }
}

/// Wraps text at spaces so no line is longer than `width` (a word longer than that stays
/// whole).
fn wrap(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines.join("\n")
}

/// The next column to leave out of a table that is too wide, if any may go.
fn droppable<'k>(keys: &[&'k str]) -> Option<&'k str> {
    if keys.len() <= 2 {
        return None;
    }
    let first = keys[0];
    DROPPED_FIRST
        .iter()
        .find_map(|d| keys.iter().find(|k| *k == d && **k != first).copied())
        .or_else(|| {
            keys.iter()
                .rev()
                .find(|k| **k != first && !LAST_COLUMNS.contains(k))
                .copied()
        })
}

fn draw_rows(items: &[Value], keys: &[&str]) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(keys.iter().map(|k| Cell::new(header(k))));
    for item in items {
        if let Value::Object(m) = item {
            table.add_row(
                keys.iter()
                    .map(|k| Cell::new(m.get(*k).map(cell_text).unwrap_or_else(|| "-".into()))),
            );
        }
    }
    table
        .to_string()
        .lines()
        .map(|l| {
            l.trim_end()
                .strip_prefix(' ')
                .unwrap_or(l.trim_end())
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ordered(mut keys: Vec<&str>) -> Vec<&str> {
    keys.sort_by_key(|k| {
        let rank = match (
            COLUMN_ORDER.iter().position(|c| c == k),
            LAST_COLUMNS.iter().position(|c| c == k),
        ) {
            (Some(i), _) => i,
            (None, Some(i)) => usize::MAX - LAST_COLUMNS.len() + i,
            (None, None) => usize::MAX - LAST_COLUMNS.len() - 1,
        };
        (rank, k.to_string())
    });
    keys
}

/// `current_offset` → `CURRENT-OFFSET`.
fn header(key: &str) -> String {
    key.replace('_', "-").to_uppercase()
}

fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            items.iter().map(cell_text).collect::<Vec<_>>().join(",")
        }
        Value::Array(items) => format!("[{} items]", items.len()),
        Value::Object(m) if m.values().all(|i| !i.is_object() && !i.is_array()) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", cell_text(v)))
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_rows_with_familiar_columns_first() {
        let v = json!([{"lag": 0, "topic": "t", "partition": 0, "current_offset": 17, "log_end_offset": 17}]);
        let text = render_table(&v);
        let header = text.lines().next().unwrap();
        let cols: Vec<&str> = header.split_whitespace().collect();
        assert_eq!(
            cols,
            vec![
                "TOPIC",
                "PARTITION",
                "CURRENT-OFFSET",
                "LOG-END-OFFSET",
                "LAG"
            ]
        );
        assert!(text.lines().nth(1).unwrap().contains("17"));
    }

    #[test]
    fn renders_objects_with_nested_tables() {
        let v = json!({"topic": "t", "partition_count": 1, "configs": {"retention.ms": "1"},
                        "partitions": [{"partition": 0, "leader": null, "replicas": [1, 2], "isr": []}]});
        let text = render_table(&v);
        assert!(text.contains("topic:"), "{text}");
        assert!(text.contains("configs:"), "{text}");
        assert!(text.contains("retention.ms=1"), "{text}");
        assert!(text.contains("1,2"), "{text}");
        assert!(text.contains("PARTITION"), "{text}");
    }

    #[test]
    fn empty_fields_are_left_out_of_the_table_form() {
        let v = json!({"topic": "t", "configs": {}, "assignment": null, "errors": [],
                        "note": "", "dry_run": false, "partitions": 0});
        let text = render_table(&v);
        assert_eq!(
            text.lines()
                .map(|l| l.split(':').next().unwrap())
                .collect::<Vec<_>>(),
            vec!["topic", "dry_run", "partitions"],
            "{text}"
        );
    }

    #[test]
    fn wide_tables_fit_the_terminal_and_say_what_they_left_out() {
        let row = |server: &str, mode: &str| {
            json!({"server": server, "id": 1, "mode": mode, "version": "3.8.4-d7c5e8a6d2c1a4ff1f4c9b2ea3c1a5e6f0b2a9c8, built on 2024-02-12",
                   "zxid": "0x1000000a1", "epoch": 1, "latency_min": 0.0, "latency_avg": 1.5617,
                   "latency_max": 16.0, "connections": 3, "outstanding": 0, "znode_count": 74,
                   "followers": 2, "synced_followers": 2, "error": null})
        };
        let v = json!([
            row("127.0.0.1:41021", "follower"),
            row("127.0.0.1:44913", "leader")
        ]);
        let full = render_table(&v);
        assert!(full.lines().next().unwrap().len() > 160, "{full}");
        let fitted = render_table_within(&v, Some(100));
        let header = fitted.lines().next().unwrap();
        assert!(fitted.lines().all(|l| l.chars().count() <= 100), "{fitted}");
        for kept in ["SERVER", "MODE", "FOLLOWERS", "SYNCED-FOLLOWERS", "ERROR"] {
            assert!(header.contains(kept), "{kept} left out: {fitted}");
        }
        assert!(!header.contains("LATENCY-MIN"), "{fitted}");
        assert!(
            fitted.contains("left out to fit the terminal") && fitted.contains("--json shows all"),
            "{fitted}"
        );
        assert_eq!(
            render_table_within(&v, Some(1000)),
            full,
            "wide enough: unchanged"
        );
    }

    #[test]
    fn items_holding_tables_are_blocks_on_a_terminal_and_rows_in_a_pipe() {
        let v = json!([
            {"topic": "a", "partition_count": 2, "partitions": [
                {"partition": 0, "leader": 1, "replicas": [1, 2]},
                {"partition": 1, "leader": 2, "replicas": [2, 1]}]},
            {"topic": "b", "partition_count": 1, "partitions": [
                {"partition": 0, "leader": 3, "replicas": [3]}]}
        ]);
        let piped = render_table(&v);
        assert!(piped.contains("[2 items]"), "{piped}");
        assert_eq!(piped.lines().count(), 3, "{piped}");
        assert_eq!(render_table_within(&v, Some(120)), piped);
        let terminal = render_table_on_terminal(&v, None);
        assert!(!terminal.contains("items]"), "{terminal}");
        let blocks: Vec<&str> = terminal.split("\n\n").collect();
        // a's fields, a's partitions, b's fields, b's partitions.
        assert_eq!(blocks.len(), 4, "{terminal}");
        assert!(
            blocks[0].starts_with("topic:") && blocks[0].contains('a'),
            "{terminal}"
        );
        assert!(
            blocks[1].starts_with("PARTITION") && blocks[1].contains("2,1"),
            "{terminal}"
        );
        assert_eq!(blocks[1].lines().count(), 3, "{terminal}");
        assert!(
            blocks[2].starts_with("topic:") && blocks[2].contains('b'),
            "{terminal}"
        );
        assert_eq!(blocks[3].lines().count(), 2, "{terminal}");
    }

    #[test]
    fn lists_of_strings_are_one_per_line() {
        assert_eq!(render_table(&json!(["a", "b"])), "a\nb");
        assert_eq!(render_table(&json!([])), "(none)");
    }
}
