//! The differences between two values (topic descriptions, config maps, assignments) as
//! rows of path, left and right, for `diff(a, b)` and the configuration drift runbook.
//! Pure: JSON-shaped values in, rows out.

use serde::Serialize;
use serde_json::Value;

/// One place where two values differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// Where: `configs.retention.ms`, `partitions[2].replicas`, or `` for the values
    /// themselves.
    pub path: String,
    /// The left value there (null when only the right has it).
    pub left: Value,
    /// The right value there (null when only the left has it).
    pub right: Value,
}

/// Every leaf where `left` and `right` differ, in path order. Maps are compared key by
/// key (a key on one side only is a difference, unless its value is null); lists of scalars are compared whole
/// (`[1, 2]` vs `[2, 1]` is one difference: replica order matters to Kafka); lists of maps
/// item by item.
pub fn diff(left: &Value, right: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    walk("", left, right, &mut out);
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(path: &str, left: &Value, right: &Value, out: &mut Vec<Difference>) {
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => {
            let mut keys: Vec<&String> = l.keys().chain(r.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let (a, b) = (
                    l.get(k).unwrap_or(&Value::Null),
                    r.get(k).unwrap_or(&Value::Null),
                );
                walk(&join(path, k), a, b, out);
            }
        }
        (Value::Array(l), Value::Array(r))
            if l.iter()
                .chain(r.iter())
                .any(|v| v.is_object() || v.is_array()) =>
        {
            for i in 0..l.len().max(r.len()) {
                let (a, b) = (
                    l.get(i).unwrap_or(&Value::Null),
                    r.get(i).unwrap_or(&Value::Null),
                );
                walk(&format!("{path}[{i}]"), a, b, out);
            }
        }
        (a, b) if a != b => out.push(Difference {
            path: path.to_string(),
            left: a.clone(),
            right: b.clone(),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn differences_have_paths() {
        let a = json!({"topic": "t", "configs": {"retention.ms": "1", "cleanup.policy": "delete"},
                       "partitions": [{"partition": 0, "replicas": [1, 2]}]});
        let b = json!({"topic": "t", "configs": {"retention.ms": "2"},
                       "partitions": [{"partition": 0, "replicas": [2, 1]}, {"partition": 1, "replicas": [3]}]});
        let d = diff(&a, &b);
        let paths: Vec<&str> = d.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "configs.cleanup.policy",
                "configs.retention.ms",
                "partitions[0].replicas",
                "partitions[1]"
            ]
        );
        assert_eq!(d[0].right, Value::Null);
        assert_eq!(d[1].left, json!("1"));
        assert_eq!(diff(&json!(1), &json!("1"))[0].path, "");
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            "[a-c]{0,2}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn a_value_equals_itself_and_differences_are_symmetric(a in value(), b in value()) {
            prop_assert!(diff(&a, &a).is_empty());
            let ab = diff(&a, &b);
            let ba = diff(&b, &a);
            prop_assert_eq!(ab.len(), ba.len());
            for (x, y) in ab.iter().zip(ba.iter()) {
                prop_assert_eq!(&x.path, &y.path);
                prop_assert_eq!(&x.left, &y.right);
            }
            if a != b && !ab.is_empty() {
                prop_assert!(ab.iter().all(|d| d.left != d.right));
            }
        }
    }
}
