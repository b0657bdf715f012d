//! Table rendering of JSON-shaped results, in the style of Kafka's own tools: upper-case
//! headers (`CURRENT-OFFSET`), no borders, familiar columns first.

use comfy_table::{presets, Cell, ContentArrangement, Table};
use serde_json::{Map, Value};

/// Columns shown first, in this order; the rest follow alphabetically.
const COLUMN_ORDER: &[&str] = &[
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
    "mode",
    "leader",
    "replicas",
    "isr",
    "offline_replicas",
    "old_offset",
    "new_offset",
    "current_offset",
    "log_end_offset",
    "lag",
    "consumer_id",
    "host",
    "port",
    "rack",
    "controller",
    "client_id",
    "state",
    "protocol_type",
    "members",
    "total_lag",
    "name",
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
];

/// Columns shown last.
const LAST_COLUMNS: &[&str] = &["error"];

/// Renders any result for people.
pub fn render_table(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "(none)".to_string(),
        Value::Array(items) if items.iter().all(Value::is_object) => rows_table(items),
        Value::Array(items) => items.iter().map(cell_text).collect::<Vec<_>>().join("\n"),
        Value::Object(map) => object_view(map),
        other => cell_text(other),
    }
}

fn object_view(map: &Map<String, Value>) -> String {
    let mut lines = Vec::new();
    let scalar_keys: Vec<&String> = map
        .iter()
        .filter(|(_, v)| !is_table(v))
        .map(|(k, _)| k)
        .collect();
    let width = scalar_keys.iter().map(|k| k.len()).max().unwrap_or(0);
    for key in ordered(scalar_keys.iter().map(|k| k.as_str()).collect()) {
        let text = cell_text(&map[key]);
        lines.push(format!(
            "{:<width$}  {}",
            format!("{key}:"),
            text,
            width = width + 1
        ));
    }
    for (key, value) in map.iter().filter(|(_, v)| is_table(v)) {
        if let Value::Array(items) = value {
            lines.push(String::new());
            lines.push(rows_table(items));
            let _ = key;
        }
    }
    lines.join("\n")
}

fn is_table(v: &Value) -> bool {
    matches!(v, Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object))
}

fn rows_table(items: &[Value]) -> String {
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
    let keys = ordered(keys);
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
    fn lists_of_strings_are_one_per_line() {
        assert_eq!(render_table(&json!(["a", "b"])), "a\nb");
        assert_eq!(render_table(&json!([])), "(none)");
    }
}
