//! Reading the audit trail back: entries filtered by time, context, user, function and
//! target; the hash chain verified link by link; and the inverse of a recorded change (a
//! config change's previous values, a reassignment's previous assignment).

use super::{legacy_hash, link_hash, GENESIS};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// Which entries a query returns (every field optional; all given must match).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Entries at or after this time (seconds since the epoch).
    pub since: Option<i64>,
    /// The context, exactly.
    pub context: Option<String>,
    /// The user, the sudo user or the login user, exactly.
    pub user: Option<String>,
    /// The function, exactly.
    pub function: Option<String>,
    /// A part of the target ("orders" finds `topic "orders"`).
    pub target: Option<String>,
}

impl Filter {
    fn matches(&self, e: &Value) -> bool {
        let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
        if let Some(since) = self.since {
            let at = crate::kafka::time::parse_rfc3339_ms(text("time"))
                .map(|ms| ms / 1000)
                .unwrap_or(i64::MIN);
            if at < since {
                return false;
            }
        }
        if self
            .context
            .as_deref()
            .is_some_and(|c| text("context") != c)
        {
            return false;
        }
        if let Some(u) = &self.user {
            if ![text("user"), text("sudo_user"), text("login_user")].contains(&u.as_str()) {
                return false;
            }
        }
        if self
            .function
            .as_deref()
            .is_some_and(|f| text("function") != f)
        {
            return false;
        }
        if self
            .target
            .as_deref()
            .is_some_and(|t| !text("target").contains(t))
        {
            return false;
        }
        true
    }
}

/// The entries of a trail that match, oldest first. Lines written before entries were
/// numbered get their line number as `seq`.
pub fn read(path: &Path, filter: &Filter) -> std::io::Result<Vec<Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .filter_map(|(i, l)| {
            let mut v: Value = serde_json::from_str(l).ok()?;
            if v.get("seq").is_none() {
                v["seq"] = Value::from(i as u64 + 1);
            }
            Some(v)
        })
        .filter(|v| filter.matches(v))
        .collect())
}

/// What `verify` found.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VerifyReport {
    /// The trail.
    pub file: String,
    /// Lines read.
    pub entries: usize,
    /// Lines written before entries were chained (each still a link: the next entry's
    /// `prev` is its hash).
    pub legacy: usize,
    /// Whether every link holds.
    pub intact: bool,
    /// The first line (1-based) whose link does not hold.
    pub broken_at: Option<usize>,
    /// Why it does not.
    pub reason: Option<String>,
}

/// Checks every link of a trail: each entry's `prev` is the hash of the line before, its
/// `hash` is that of its own content, its `seq` follows the one before. The first line that
/// fails is reported (an edited line fails its own hash; a removed one, the next `prev`).
pub fn verify(path: &Path) -> std::io::Result<VerifyReport> {
    let text = std::fs::read_to_string(path)?;
    let mut report = VerifyReport {
        file: path.display().to_string(),
        entries: 0,
        legacy: 0,
        intact: true,
        broken_at: None,
        reason: None,
    };
    let mut prev = GENESIS.to_string();
    let mut last_seq = 0u64;
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        report.entries += 1;
        let broken = |why: String, report: &mut VerifyReport| {
            report.intact = false;
            report.broken_at = Some(i + 1);
            report.reason = Some(why);
        };
        let Ok(Value::Object(mut entry)) = serde_json::from_str::<Value>(line) else {
            broken("not a JSON object".into(), &mut report);
            break;
        };
        let Some(hash) = entry.remove("hash") else {
            if report.entries > report.legacy + 1 {
                broken("an unchained line after chained ones".into(), &mut report);
                break;
            }
            report.legacy += 1;
            prev = legacy_hash(line);
            last_seq = (i + 1) as u64;
            continue;
        };
        let hash = hash.as_str().unwrap_or_default().to_string();
        let claimed_prev = entry.get("prev").and_then(Value::as_str).unwrap_or("");
        if claimed_prev != prev {
            broken(
                "its prev is not the hash of the line before (a line was removed, added or reordered)"
                    .into(),
                &mut report,
            );
            break;
        }
        let seq = entry.get("seq").and_then(Value::as_u64).unwrap_or(0);
        if seq != last_seq + 1 {
            broken(format!("seq {seq} follows {last_seq}"), &mut report);
            break;
        }
        if link_hash(&prev, &entry) != hash {
            broken(
                "its content does not match its hash (the line was edited)".into(),
                &mut report,
            );
            break;
        }
        prev = hash;
        last_seq = seq;
    }
    Ok(report)
}

/// What undoes a recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inverse {
    /// Set the old values again and delete the keys that were not set before.
    AlterConfig {
        /// "topic", "broker" or "broker_default".
        entity: String,
        /// The entity's name.
        name: String,
        /// (key, old value) to set again.
        set: Vec<(String, String)>,
        /// Keys to delete (they had no value of their own before).
        delete: Vec<String>,
    },
    /// Move the partitions back to their previous replicas.
    Reassign {
        /// The previous assignment, as kafka-reassign-partitions.sh's JSON.
        plan: String,
        /// The throttle the change used, if any.
        throttle: Option<i64>,
    },
}

/// What undoes a recorded change, or why nothing can.
pub fn inverse(entry: &Value) -> Result<Inverse, String> {
    let function = entry["function"].as_str().unwrap_or("");
    let args = &entry["arguments"];
    match function {
        "alter_config" => {
            let entity = args["entity"].as_str().ok_or_else(|| {
                "this entry does not name its entity (written by an older kafsh)".to_string()
            })?;
            let mut set = Vec::new();
            let mut delete = Vec::new();
            for c in args["changes"].as_array().cloned().unwrap_or_default() {
                let key = c["name"].as_str().unwrap_or("").to_string();
                match &c["old"] {
                    Value::Null => delete.push(key),
                    Value::String(old) if old == "[hidden]" => {
                        return Err(format!(
                            "the old value of {key} is sensitive and was not recorded; set it again by hand"
                        ))
                    }
                    Value::String(old) => set.push((key, old.clone())),
                    other => set.push((key, other.to_string())),
                }
            }
            if set.is_empty() && delete.is_empty() {
                return Err("the change had nothing to undo".into());
            }
            Ok(Inverse::AlterConfig {
                entity: entity.to_string(),
                name: args["name"].as_str().unwrap_or("").to_string(),
                set,
                delete,
            })
        }
        "reassign" => {
            let previous = args
                .get("previous")
                .filter(|p| p.is_array())
                .ok_or_else(|| {
                    "this entry does not hold the previous assignment (written by an older kafsh)"
                        .to_string()
                })?;
            Ok(Inverse::Reassign {
                plan: serde_json::json!({"version": 1, "partitions": previous}).to_string(),
                throttle: args["throttle"].as_i64(),
            })
        }
        other => Err(format!(
            "kafsh cannot undo {other} from the trail (config changes and reassignments it can)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_config_change_is_undone_by_setting_old_values_and_deleting_new_keys() {
        let e = json!({"function": "alter_config", "arguments": {"entity": "topic", "name": "orders",
            "changes": [{"name": "retention.ms", "action": "set", "old": "3600000", "new": "60000"},
                        {"name": "cleanup.policy", "action": "set", "old": null, "new": "compact"}]}});
        assert_eq!(
            inverse(&e).unwrap(),
            Inverse::AlterConfig {
                entity: "topic".into(),
                name: "orders".into(),
                set: vec![("retention.ms".into(), "3600000".into())],
                delete: vec!["cleanup.policy".into()],
            }
        );
        let hidden = json!({"function": "alter_config", "arguments": {"entity": "broker", "name": "1",
            "changes": [{"name": "ssl.keystore.password", "old": "[hidden]", "new": "[hidden]"}]}});
        assert!(inverse(&hidden).unwrap_err().contains("sensitive"));
    }

    #[test]
    fn a_reassignment_is_undone_by_its_previous_assignment() {
        let e = json!({"function": "reassign", "arguments": {"throttle": 50000000,
            "previous": [{"topic": "t", "partition": 0, "replicas": [1, 2]}]}});
        match inverse(&e).unwrap() {
            Inverse::Reassign { plan, throttle } => {
                assert!(plan.contains("\"replicas\":[1,2]"), "{plan}");
                assert_eq!(throttle, Some(50_000_000));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn filters_match_users_behind_sudo_and_parts_of_targets() {
        let e = json!({"time": "2026-11-24T03:00:00Z", "user": "root", "sudo_user": "peter",
                       "function": "alter_config", "target": "topic \"orders\"", "context": "prod"});
        let f = Filter {
            user: Some("peter".into()),
            target: Some("orders".into()),
            since: Some(1_764_000_000 - 86_400 * 365),
            ..Filter::default()
        };
        assert!(f.matches(&e));
        assert!(!Filter {
            context: Some("dev".into()),
            ..Filter::default()
        }
        .matches(&e));
    }
}
