//! The audit trail: every mutation kafsh performs is appended as one JSON line (time, user,
//! host, context, function, target, arguments, result) to `<state dir>/audit.log`, created
//! with mode 0600; values of anything named like a secret are masked.

use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

/// Where audit lines go (`$KAFSH_AUDIT_LOG`, else `<state dir>/audit.log`).
pub fn audit_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KAFSH_AUDIT_LOG") {
        return Some(PathBuf::from(p));
    }
    crate::config::state_dir().map(|d| d.join("audit.log"))
}

/// Masks every value whose key looks like a secret, at any depth.
pub fn mask_secrets(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    if crate::kafka::configs::looks_secret(k) && !v.is_null() {
                        (k.clone(), Value::String("[hidden]".into()))
                    } else {
                        (k.clone(), mask_secrets(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(mask_secrets).collect()),
        other => other.clone(),
    }
}

/// Appends one audit line; failures to write are reported by the return value only (an
/// unwritable audit log must not stop a runbook half-way).
pub fn append(
    context: Option<&str>,
    function: &str,
    target: &str,
    arguments: &Value,
    result: &str,
) -> std::io::Result<()> {
    let Some(path) = audit_path() else {
        return Ok(());
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let line = json!({
        "time": now_rfc3339(),
        "user": std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_default(),
        "host": hostname(),
        "context": context,
        "function": function,
        "target": target,
        "arguments": mask_secrets(arguments),
        "result": result,
    });
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path)?;
    writeln!(file, "{line}")
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

/// The current UTC time as RFC 3339 (seconds).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// (year, month, day) of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secrets_at_any_depth() {
        let v = json!({"set": {"sasl.jaas.config": "x password=p", "retention.ms": "1"}, "ssl.key.password": "k", "token": null});
        let m = mask_secrets(&v);
        assert_eq!(m["set"]["sasl.jaas.config"], "[hidden]");
        assert_eq!(m["set"]["retention.ms"], "1");
        assert_eq!(m["ssl.key.password"], "[hidden]");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_781), (2026, 11, 24));
    }
}
