//! Rhai functions for the audit trail.

use rhai::plugin::*;

/// Audit trail
///
/// Every change kafsh makes is recorded — who (the real user, the person behind sudo, the
/// login user, the Kafka principal), where, what, with the values before and after — in a
/// hash-chained trail. `kafsh audit` lists, verifies and undoes entries from the shell;
/// these functions read the trail from scripts.
#[export_module]
pub mod api {
    use crate::audit::query;
    use crate::script::convert::{to_array, to_map, Options};
    use crate::script::session_of;
    use rhai::{Array, EvalAltResult, Map, NativeCallContext};

    /// Entries of the local audit trail (or `file`), oldest first, filtered by `since` (a
    /// duration back from now like "7d", or an RFC 3339 time), `context`, `user` (also
    /// matches the sudo or login user), `function` and `target` (a part of it). Each entry
    /// has seq, time, user, uid, host, context, cluster_id, principal, function, target,
    /// arguments (old and new values where there are any) and result.
    ///
    /// ```rhai
    /// let changed = audit_log(#{since: "7d", target: "orders", function: "alter_config"});
    /// for e in changed { print(`${e.time} ${e.user}: ${e.result}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn audit_log(ctx: NativeCallContext, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let _ = session_of(&ctx)?;
        let f = "audit_log";
        let opts = Options::new(
            f,
            &options,
            &["since", "context", "user", "function", "target", "file"],
        )?;
        let since = match opts.string("since")? {
            Some(text) => Some(super::since(&text).map_err(|e| format!("{f}: {e}"))?),
            None => None,
        };
        let filter = query::Filter {
            since,
            context: opts.string("context")?,
            user: opts.string("user")?,
            function: opts.string("function")?,
            target: opts.string("target")?,
        };
        let path = match opts.string("file")? {
            Some(p) => std::path::PathBuf::from(p),
            None => crate::audit::audit_path().ok_or_else(|| format!("{f}: no state directory"))?,
        };
        let entries = query::read(&path, &filter)
            .map_err(|e| format!("{f}: cannot read {}: {e}", path.display()))?;
        to_array(&entries)
    }

    /// Checks the audit trail's hash chain (the local one, or `file`): `intact`, the number
    /// of `entries`, and where it is broken (`broken_at`, a line number, and `reason`).
    ///
    /// ```rhai
    /// let v = audit_verify(#{});
    /// if !v.intact { fail(`the audit trail was changed at line ${v.broken_at}: ${v.reason}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn audit_verify(ctx: NativeCallContext, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let _ = session_of(&ctx)?;
        let f = "audit_verify";
        let opts = Options::new(f, &options, &["file"])?;
        let path = match opts.string("file")? {
            Some(p) => std::path::PathBuf::from(p),
            None => crate::audit::audit_path().ok_or_else(|| format!("{f}: no state directory"))?,
        };
        let report = query::verify(&path)
            .map_err(|e| format!("{f}: cannot read {}: {e}", path.display()))?;
        to_map(&report)
    }
}

/// `since` as seconds since the epoch: a duration back from now, or an RFC 3339 time.
pub(crate) fn since(text: &str) -> Result<i64, String> {
    if let Ok(ms) = crate::kafka::time::parse_rfc3339_ms(text) {
        return Ok(ms / 1000);
    }
    let back = crate::config::parse_duration(text)
        .map_err(|e| format!("since {text:?}: not a duration (7d) or an RFC 3339 time: {e}"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Ok(now - back.as_secs() as i64)
}
