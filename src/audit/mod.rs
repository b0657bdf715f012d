//! The audit trail: every mutation kafsh performs becomes one JSON line — when, who (the
//! real uid and its name, the person behind sudo, the session's login user, the Kafka
//! principal), where (host, context, cluster id, kafsh version), what (function, target,
//! arguments with the values before and after, result) — secrets masked, each line chained
//! to the one before by a SHA-256 hash so an edited or removed line is found
//! (`kafsh audit verify`). Lines go to `<state dir>/audit.log` (mode 0600), and when the
//! configuration says so also to a shared trail (a group-writable file), syslog and the
//! systemd journal. A sink that cannot be written is an error the caller must report.

pub mod identity;
pub mod query;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Where audit entries go besides the local trail (`[audit]` in config.toml, globally or
/// per context).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// A trail shared by this host's operators: created group-writable (0660) in a
    /// directory their group may write, chained like the local one.
    #[serde(default)]
    pub shared_path: Option<PathBuf>,
    /// A syslog socket (usually `/dev/log`): each entry as an RFC 5424 message with
    /// structured data, facility authpriv.
    #[serde(default)]
    pub syslog: Option<PathBuf>,
    /// The systemd journal (its native socket), with `KAFSH_*` fields.
    #[serde(default)]
    pub journald: bool,
}

/// Where this run is, for every entry it writes.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The context's name.
    pub context: Option<String>,
    /// The Kafka cluster id, when known.
    pub cluster_id: Option<String>,
    /// The principal kafsh authenticates to Kafka as.
    pub principal: Option<String>,
}

/// Where the local trail is (`$KAFSH_AUDIT_LOG`, else `<state dir>/audit.log`).
pub fn audit_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KAFSH_AUDIT_LOG") {
        return Some(PathBuf::from(p));
    }
    crate::config::state_dir().map(|d| d.join("audit.log"))
}

/// Masks every value whose key looks like a secret, at any depth, and the old and new
/// values of config changes marked sensitive.
pub fn mask_secrets(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let secret_entry = map
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(crate::kafka::configs::looks_secret);
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let masked = (crate::kafka::configs::looks_secret(k)
                            || (secret_entry && matches!(k.as_str(), "old" | "new" | "value")))
                            && !v.is_null();
                        if masked {
                            (k.clone(), Value::String("[hidden]".into()))
                        } else {
                            (k.clone(), mask_secrets(v))
                        }
                    })
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(mask_secrets).collect()),
        other => other.clone(),
    }
}

/// Appends one entry to every configured sink. Every sink is tried; the error names each
/// one that failed (the change itself is made already: the caller must say so loudly).
pub fn append(
    origin: &Origin,
    config: &AuditConfig,
    function: &str,
    target: &str,
    arguments: &Value,
    result: &str,
) -> Result<(), String> {
    append_at(
        audit_path().as_deref(),
        origin,
        config,
        function,
        target,
        arguments,
        result,
    )
}

/// Like [`append`], with the local trail at `local` (none: no local trail).
pub fn append_at(
    local: Option<&Path>,
    origin: &Origin,
    config: &AuditConfig,
    function: &str,
    target: &str,
    arguments: &Value,
    result: &str,
) -> Result<(), String> {
    let who = identity::Identity::current();
    let mut entry = Map::new();
    entry.insert("time".into(), json!(now_rfc3339()));
    entry.insert("user".into(), json!(who.user));
    entry.insert("uid".into(), json!(who.uid));
    if let Some(s) = &who.sudo_user {
        entry.insert("sudo_user".into(), json!(s));
    }
    if let Some(s) = who.sudo_uid {
        entry.insert("sudo_uid".into(), json!(s));
    }
    if let Some(s) = &who.login_user {
        entry.insert("login_user".into(), json!(s));
    }
    entry.insert("host".into(), json!(hostname()));
    entry.insert("context".into(), json!(origin.context));
    entry.insert("cluster_id".into(), json!(origin.cluster_id));
    entry.insert("principal".into(), json!(origin.principal));
    entry.insert("kafsh".into(), json!(env!("CARGO_PKG_VERSION")));
    entry.insert("function".into(), json!(function));
    entry.insert("target".into(), json!(target));
    entry.insert("arguments".into(), mask_secrets(arguments));
    entry.insert("result".into(), json!(result));

    let mut failures = Vec::new();
    let mut files: Vec<(PathBuf, u32)> = local
        .into_iter()
        .map(|p| (p.to_path_buf(), 0o600))
        .collect();
    if let Some(shared) = &config.shared_path {
        files.push((shared.clone(), 0o660));
    }
    // Syslog and the journal get the entry as the first trail numbered and chained it.
    let mut sent = None;
    for (path, mode) in &files {
        match append_chained(path, *mode, entry.clone()) {
            Ok(chained) => {
                sent.get_or_insert(chained);
            }
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    let entry = sent.unwrap_or(entry);
    if let Some(socket) = &config.syslog {
        if let Err(e) = send_syslog(socket, &entry) {
            failures.push(format!("syslog {}: {e}", socket.display()));
        }
    }
    if config.journald {
        if let Err(e) = send_journald(Path::new(JOURNAL_SOCKET), &entry) {
            failures.push(format!("the systemd journal: {e}"));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// The `prev` of a trail's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 of the previous link and the entry's JSON without its hash, as hex.
pub fn link_hash(prev: &str, entry_without_hash: &Map<String, Value>) -> String {
    let text = serde_json::to_string(entry_without_hash).unwrap_or_default();
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(prev.as_bytes());
    ctx.update(b"\n");
    ctx.update(text.as_bytes());
    hex(ctx.finish().as_ref())
}

/// SHA-256 of a line written before entries were chained.
pub fn legacy_hash(line: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, line.as_bytes()).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Appends `entry` to the trail at `path` under an exclusive lock: numbered after the last
/// line, chained to it.
fn append_chained(
    path: &Path,
    mode: u32,
    mut entry: Map<String, Value>,
) -> std::io::Result<Map<String, Value>> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).read(true).append(true);
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut file = options.open(path)?;
    let _lock = Flock::exclusive(&file)?;
    let (seq, prev) = match last_line(&mut file)? {
        None => (1, GENESIS.to_string()),
        Some(line) => match serde_json::from_str::<Value>(&line) {
            Ok(v) if v.get("hash").is_some() => (
                v["seq"].as_u64().unwrap_or(0) + 1,
                v["hash"].as_str().unwrap_or_default().to_string(),
            ),
            _ => (count_lines(&mut file)? + 1, legacy_hash(&line)),
        },
    };
    entry.insert("seq".into(), json!(seq));
    entry.insert("prev".into(), json!(prev));
    let hash = link_hash(&prev, &entry);
    entry.insert("hash".into(), json!(hash));
    let line = serde_json::to_string(&entry).unwrap_or_default();
    file.write_all(format!("{line}\n").as_bytes())?;
    file.flush()?;
    Ok(entry)
}

/// An exclusive flock held until dropped (two kafsh runs never interleave a link).
struct Flock(std::os::fd::RawFd);

impl Flock {
    fn exclusive(file: &std::fs::File) -> std::io::Result<Flock> {
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        // SAFETY: flock on a descriptor we own for the lifetime of the guard.
        if unsafe { libc::flock(fd, libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Flock(fd))
    }
}

impl Drop for Flock {
    fn drop(&mut self) {
        // SAFETY: the descriptor is still open (the file outlives the guard).
        unsafe {
            libc::flock(self.0, libc::LOCK_UN);
        }
    }
}

/// The last non-empty line of a file, read from its end.
fn last_line(file: &mut std::fs::File) -> std::io::Result<Option<String>> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(None);
    }
    let mut window = 4096u64;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail)?;
        let text = String::from_utf8_lossy(&tail);
        let trimmed = text.trim_end_matches('\n');
        if let Some(i) = trimmed.rfind('\n') {
            return Ok(Some(trimmed[i + 1..].to_string()));
        }
        if start == 0 {
            return Ok(Some(trimmed.to_string()).filter(|l| !l.is_empty()));
        }
        window *= 4;
    }
}

fn count_lines(file: &mut std::fs::File) -> std::io::Result<u64> {
    file.seek(SeekFrom::Start(0))?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(text.lines().filter(|l| !l.trim().is_empty()).count() as u64)
}

/// The systemd journal's native socket.
const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";

/// One RFC 5424 message (facility authpriv, severity notice) with the entry's key fields as
/// structured data and the whole entry as the message.
pub fn syslog_message(entry: &Map<String, Value>) -> String {
    let field = |k: &str| -> String {
        let v = match entry.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        v.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace(']', "\\]")
    };
    format!(
        "<85>1 {} {} kafsh {} - [kafsh@32473 function=\"{}\" target=\"{}\" user=\"{}\" sudo_user=\"{}\" context=\"{}\" seq=\"{}\"] {}",
        field("time"),
        field("host"),
        std::process::id(),
        field("function"),
        field("target"),
        field("user"),
        field("sudo_user"),
        field("context"),
        field("seq"),
        serde_json::to_string(entry).unwrap_or_default()
    )
}

fn send_syslog(socket: &Path, entry: &Map<String, Value>) -> std::io::Result<()> {
    let s = std::os::unix::net::UnixDatagram::unbound()?;
    s.send_to(syslog_message(entry).as_bytes(), socket)?;
    Ok(())
}

fn send_journald(socket: &Path, entry: &Map<String, Value>) -> std::io::Result<()> {
    let mut text = String::new();
    let mut push = |k: &str, v: &str| {
        // The entry is one JSON line; values never hold a newline.
        text.push_str(&format!("{k}={}\n", v.replace('\n', " ")));
    };
    push("SYSLOG_IDENTIFIER", "kafsh");
    push("PRIORITY", "5");
    push(
        "MESSAGE",
        &format!(
            "{} {} by {}",
            entry["function"].as_str().unwrap_or(""),
            entry["target"].as_str().unwrap_or(""),
            entry["user"].as_str().unwrap_or("")
        ),
    );
    for k in [
        "function",
        "target",
        "user",
        "sudo_user",
        "login_user",
        "context",
        "cluster_id",
    ] {
        if let Some(Value::String(v)) = entry.get(k) {
            push(&format!("KAFSH_{}", k.to_ascii_uppercase()), v);
        }
    }
    push(
        "KAFSH_ENTRY",
        &serde_json::to_string(entry).unwrap_or_default(),
    );
    let s = std::os::unix::net::UnixDatagram::unbound()?;
    s.send_to(text.as_bytes(), socket)?;
    Ok(())
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
    rfc3339_of(secs)
}

/// Seconds since the epoch as RFC 3339 UTC.
pub fn rfc3339_of(secs: i64) -> String {
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
        let v = json!({"set": {"sasl.jaas.config": "x password=p", "retention.ms": "1"}, "ssl.key.password": "k", "token": null,
                       "changes": [{"name": "ssl.keystore.password", "old": "a", "new": "b"}, {"name": "retention.ms", "old": "1", "new": "2"}]});
        let m = mask_secrets(&v);
        assert_eq!(m["set"]["sasl.jaas.config"], "[hidden]");
        assert_eq!(m["set"]["retention.ms"], "1");
        assert_eq!(m["ssl.key.password"], "[hidden]");
        assert_eq!(m["changes"][0]["old"], "[hidden]");
        assert_eq!(m["changes"][0]["new"], "[hidden]");
        assert_eq!(m["changes"][1]["new"], "2");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_781), (2026, 11, 24));
    }

    #[test]
    fn entries_chain_and_a_changed_line_breaks_the_chain() {
        let dir = tempfile_dir();
        let path = dir.join("audit.log");
        std::fs::write(&path, "{\"time\":\"old\",\"user\":\"\"}\n").unwrap();
        for i in 0..3 {
            let mut e = Map::new();
            e.insert("function".into(), json!("set_config"));
            e.insert("target".into(), json!(format!("t{i}")));
            append_chained(&path, 0o600, e).unwrap();
        }
        let report = query::verify(&path).unwrap();
        assert!(report.intact, "{report:?}");
        assert_eq!(report.entries, 4);
        assert_eq!(report.legacy, 1);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"t1\"", "\"t9\"")).unwrap();
        let report = query::verify(&path).unwrap();
        assert!(!report.intact);
        assert_eq!(report.broken_at, Some(3), "{report:?}");
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "kafsh-audit-{}-{}",
            std::process::id(),
            now_rfc3339()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
