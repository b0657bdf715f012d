//! The script side of each surface: evaluate one expression (`-e`), run a runbook file
//! (`run`: lock, journal, arguments, modules next to the file), compile files (`check`),
//! print a script value through `output`, and type `--arg k=v` pairs. `cli.rs` parses the
//! command line and maps outcomes to exit codes; everything that touches Rhai is here.

use super::{Session, SessionRef};
use crate::exit::ExitStatus;
use crate::output::{self, Format};
use rhai::{Dynamic, Map, Scope};
use std::path::PathBuf;

/// Options of `run` beyond the script's arguments.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// What to do with the journal of an interrupted earlier run.
    pub journal: crate::journal::JournalMode,
    /// Hold this lock for the whole run.
    pub lock: Option<String>,
    /// With several contexts, the one this run is for: each keeps its own journal.
    pub journal_context: Option<String>,
}

/// `-e EXPR`.
pub fn eval_expr(session: SessionRef, expr: &str, format: Format) -> ExitStatus {
    match eval_value(session, expr) {
        Ok(value) => {
            print_value(&value, format);
            ExitStatus::Ok
        }
        Err(failure) => failure.status,
    }
}

/// How a script ended when it did not succeed (the error was printed already).
#[derive(Debug, Clone)]
pub struct Failure {
    /// The exit status it maps to.
    pub status: ExitStatus,
    /// The error, as printed.
    pub message: String,
}

impl Failure {
    fn usage(message: String) -> Failure {
        output::print_error(&message, None, None);
        Failure {
            status: ExitStatus::Usage,
            message,
        }
    }
}

/// `-e EXPR` without printing its value; an error is printed and returned.
pub fn eval_value(session: SessionRef, expr: &str) -> Result<Dynamic, Failure> {
    let engine = super::engine(session.clone());
    let mut scope = Scope::new();
    scope.push_constant("args", Map::new());
    super::eval(&engine, &mut scope, expr)
        .and_then(|value| flush_queued(&session).map(|()| value))
        .map_err(|err| report(&session, &engine, &err, None))
}

/// Waits for the records a script queued with `produce(.., #{wait: false})` and did not
/// flush, so that it does not end (or exit) before they are written; an error when any was
/// not.
pub fn flush_queued(session: &Session) -> Result<(), Box<rhai::EvalAltResult>> {
    if session.producers().unflushed() == 0 {
        return Ok(());
    }
    session
        .producers()
        .flush(session.settings.call_timeout)
        .map(|_| ())
        .map_err(|e| super::script_error(session, "flush", e))
}

/// A script value as JSON (what `--json` prints).
pub fn value_json(value: &Dynamic) -> serde_json::Value {
    if value.is_unit() {
        return serde_json::Value::Null;
    }
    rhai::serde::from_dynamic(value)
        .unwrap_or_else(|_| serde_json::Value::String(value.to_string()))
}

/// `run FILE --arg k=v`.
pub fn run_file(
    session: SessionRef,
    file: &std::path::Path,
    args: &[String],
    run: &RunOptions,
    format: Format,
) -> ExitStatus {
    match run_file_value(session, file, args, run) {
        Ok(value) => {
            if !value.is_unit() {
                print_value(&value, format);
            }
            ExitStatus::Ok
        }
        Err(failure) => failure.status,
    }
}

/// `run FILE` without printing the script's value; errors are printed and their status
/// returned.
pub fn run_file_value(
    session: SessionRef,
    file: &std::path::Path,
    args: &[String],
    run: &RunOptions,
) -> Result<Dynamic, Failure> {
    let journal_key: Vec<String> = match &run.journal_context {
        Some(context) => args
            .iter()
            .cloned()
            .chain([format!("--context={context}")])
            .collect(),
        None => args.to_vec(),
    };
    let map = match parse_script_args(args) {
        Ok(m) => m,
        Err(e) => {
            return Err(Failure::usage(e));
        }
    };
    let file = match crate::runbooks::resolve(file) {
        Ok(f) => f,
        Err(e) => {
            return Err(Failure::usage(e));
        }
    };
    let file = file.as_path();
    let name = file.display().to_string();
    let source = match std::fs::read_to_string(file) {
        Ok(s) => s,
        Err(e) => {
            return Err(Failure::usage(format!("cannot read {name}: {e}")));
        }
    };
    // The lock is taken before anything else and held until the run ends.
    let _lock = match run
        .lock
        .clone()
        .or_else(|| crate::runlock::directive(&source))
    {
        Some(lock) => match crate::runlock::RunLock::acquire(&lock) {
            Ok(l) => Some(l),
            Err(crate::runlock::LockError::Held(who)) => {
                let message = format!("{name}: not started: {who}");
                output::print_error(&message, None, None);
                return Err(Failure {
                    status: ExitStatus::Locked,
                    message,
                });
            }
            Err(crate::runlock::LockError::Io(e)) => {
                return Err(Failure::usage(e));
            }
        },
        None => None,
    };
    match crate::journal::Journal::open(file, &journal_key, run.journal, session.options.dry_run) {
        Ok(j) => session.set_journal(j),
        Err(e @ crate::journal::JournalError::Unfinished { .. }) => {
            let message = format!("{name}: {e}; finish it with --resume, or discard what it remembered and start over with --fresh");
            output::print_error(&message, None, None);
            return Err(Failure {
                status: ExitStatus::Refused,
                message,
            });
        }
        Err(e) => output::log_line(
            "warn",
            &format!("no step journal ({e}); --resume will redo every step"),
        ),
    }
    session.set_args(&map);
    // Modules (`import "lib/common"`) resolve next to the script.
    session.set_module_dir(
        file.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf(),
    );
    let engine = super::engine(session.clone());
    let ast = match engine.compile(&source) {
        Ok(ast) => ast,
        Err(err) => return Err(report(&session, &engine, &err.into(), Some(&name))),
    };
    let mut scope = Scope::new();
    scope.push_constant("args", map);
    match engine
        .eval_ast_with_scope::<Dynamic>(&mut scope, &ast)
        .and_then(|value| flush_queued(&session).map(|()| value))
    {
        Ok(value) => {
            if let Some(journal) = session.take_journal() {
                journal.complete();
            }
            Ok(value)
        }
        Err(err) => Err(report(&session, &engine, &err, Some(&name))),
    }
}

/// Prints an escaped error and returns it with its exit status.
fn report(
    session: &Session,
    engine: &rhai::Engine,
    err: &rhai::EvalAltResult,
    source: Option<&str>,
) -> Failure {
    let message = super::describe_error(engine, err);
    output::print_error(&message, super::error_position(err), source);
    Failure {
        status: session.exit_status_of(err),
        message,
    }
}

/// Prints a script value.
pub fn print_value(value: &Dynamic, format: Format) {
    if value.is_unit() {
        return;
    }
    if format == Format::Table {
        if let Ok(s) = value.clone().into_string() {
            output::print_text(&s);
            return;
        }
    }
    match crate::script::convert::to_json(value) {
        Ok(json) => output::print_result(&json, format),
        Err(_) => output::print_text(&value.to_string()),
    }
}

/// `--arg k=v` pairs as a typed map: integers, floats, booleans, comma lists become arrays.
pub fn parse_script_args(args: &[String]) -> Result<Map, String> {
    let mut map = Map::new();
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(format!("--arg {arg:?}: expected KEY=VALUE"));
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "--arg {arg:?}: the key must be letters, digits and '_'"
            ));
        }
        map.insert(key.into(), typed_value(value));
    }
    Ok(map)
}

fn typed_value(text: &str) -> Dynamic {
    if text.contains(',') {
        let items: rhai::Array = text.split(',').map(|p| typed_scalar(p.trim())).collect();
        return Dynamic::from_array(items);
    }
    typed_scalar(text)
}

fn typed_scalar(text: &str) -> Dynamic {
    if let Ok(i) = text.parse::<i64>() {
        return Dynamic::from_int(i);
    }
    if let Ok(f) = text.parse::<f64>() {
        if text.contains('.') {
            return Dynamic::from_float(f);
        }
    }
    match text {
        "true" => Dynamic::TRUE,
        "false" => Dynamic::FALSE,
        _ => Dynamic::from(text.to_string()),
    }
}

/// `check FILE...`: compiles each file with the full API registered, touching no cluster.
pub fn check(session: SessionRef, files: &[PathBuf]) -> ExitStatus {
    let engine = super::engine(session);
    let mut status = ExitStatus::Ok;
    for file in files {
        let name = file.display().to_string();
        match super::compile_file(&engine, file) {
            Ok(_) => output::print_text(&format!("ok: {name}")),
            Err(err) => {
                if matches!(*err, rhai::EvalAltResult::ErrorSystem(..)) {
                    output::print_error(&format!("cannot read {name}: {err}"), None, None);
                    status = ExitStatus::Usage;
                } else {
                    output::print_error(
                        &super::error_message(&err),
                        super::error_position(&err),
                        Some(&name),
                    );
                    status = ExitStatus::ScriptError;
                }
            }
        }
    }
    status
}

/// The kafsh call that undoes a recorded change (`kafsh audit rollback`).
pub fn inverse_call(inverse: &crate::audit::query::Inverse) -> String {
    use crate::audit::query::Inverse;
    let quoted = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    match inverse {
        Inverse::AlterConfig {
            entity,
            name,
            set,
            delete,
        } => {
            let mut options = Vec::new();
            if !set.is_empty() {
                let pairs: Vec<String> = set
                    .iter()
                    .map(|(k, v)| format!("{}: {}", quoted(k), quoted(v)))
                    .collect();
                options.push(format!("set: #{{{}}}", pairs.join(", ")));
            }
            if !delete.is_empty() {
                let keys: Vec<String> = delete.iter().map(|k| quoted(k)).collect();
                options.push(format!("delete: [{}]", keys.join(", ")));
            }
            format!(
                "alter_config({}, {}, #{{{}}})",
                quoted(entity),
                quoted(name),
                options.join(", ")
            )
        }
        Inverse::Reassign { plan, throttle } => format!(
            "reassign(parse_plan({}){})",
            quoted(plan),
            throttle
                .map(|t| format!(", #{{throttle: {t}}}"))
                .unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_args_are_typed() {
        let m = parse_script_args(&[
            "new_brokers=4,5".into(),
            "dry=true".into(),
            "name=x".into(),
            "rate=1.5".into(),
        ])
        .unwrap();
        assert_eq!(m["new_brokers"].clone().into_array().unwrap().len(), 2);
        assert!(m["dry"].as_bool().unwrap());
        assert_eq!(m["name"].clone().into_string().unwrap(), "x");
        assert!((m["rate"].as_float().unwrap() - 1.5).abs() < 1e-9);
        assert!(parse_script_args(&["novalue".into()]).is_err());
    }

    #[test]
    fn the_inverse_of_a_config_change_is_an_alter_config_call() {
        use crate::audit::query::Inverse;
        let call = inverse_call(&Inverse::AlterConfig {
            entity: "topic".into(),
            name: "orders".into(),
            set: vec![("retention.ms".into(), "3600000".into())],
            delete: vec!["cleanup.policy".into()],
        });
        assert_eq!(
            call,
            r#"alter_config("topic", "orders", #{set: #{"retention.ms": "3600000"}, delete: ["cleanup.policy"]})"#
        );
    }
}
