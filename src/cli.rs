//! Command-line parsing and the choice of surface: REPL, `-e EXPR`, `run FILE`, `check FILE`,
//! `docs`. Maps every outcome to a documented exit code (`exit::ExitStatus`).

use crate::config::{self, Overrides};
use crate::exit::ExitStatus;
use crate::output::{self, Format};
use crate::script::{self, bridge::Interrupt, Session, SessionOptions, SessionRef};
use clap::{Parser, Subcommand};
use rhai::{Dynamic, Map, Scope};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// kafsh: a scriptable admin shell for Apache Kafka and ZooKeeper.
#[derive(Debug, Parser)]
#[command(name = "kafsh", version, about, long_about = None)]
pub struct Cli {
    /// Evaluate one expression and print its result, e.g. -e 'list_topics()'.
    #[arg(short = 'e', long = "eval", value_name = "EXPR")]
    pub eval: Option<String>,

    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every surface takes.
#[derive(Debug, Clone, clap::Args, Default)]
pub struct GlobalArgs {
    /// Use this context of config.toml (else KAFSH_CONTEXT, else the file's current_context).
    #[arg(long, global = true, env = "KAFSH_CONTEXT")]
    pub context: Option<String>,
    /// Kafka bootstrap servers, host:port[,host:port...] (overrides the context).
    #[arg(long = "bootstrap-server", global = true, value_name = "HOSTS")]
    pub bootstrap_server: Option<String>,
    /// ZooKeeper connect string with optional chroot, e.g. h1:2181,h2:2181/kafka.
    #[arg(long, global = true, value_name = "CONNECT")]
    pub zookeeper: Option<String>,
    /// Kafka client properties file, as Kafka's own tools take it.
    #[arg(long = "command-config", global = true, value_name = "FILE")]
    pub command_config: Option<PathBuf>,
    /// Print results as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// Report what mutating functions would do; change nothing.
    #[arg(long = "dry-run", global = true)]
    pub dry_run: bool,
    /// Answer yes to confirmations (never prompts without a terminal anyway).
    #[arg(long, global = true)]
    pub yes: bool,
    /// Stop the whole run after this long (e.g. 90s, 10m, 1h).
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub timeout: Option<Duration>,
    /// Time limit of every network call (default: the context's `timeout`, else 30s).
    #[arg(long = "call-timeout", global = true, env = "KAFSH_CALL_TIMEOUT", value_name = "DURATION", value_parser = parse_duration_arg)]
    pub call_timeout: Option<Duration>,
    /// Stop a script after this many operations (a runaway loop in a cron script).
    #[arg(long = "max-operations", global = true, value_name = "N")]
    pub max_operations: Option<u64>,
    /// Also append log lines (info, warnings, errors) to this file.
    #[arg(long = "log-file", global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a runbook script.
    Run {
        /// The script file (.rhai).
        file: PathBuf,
        /// Script argument k=v, available as args.k (numbers, bools and lists like 4,5 are typed).
        #[arg(long = "arg", value_name = "K=V")]
        args: Vec<String>,
        /// Skip the step() blocks an interrupted earlier run (same script, same arguments) finished.
        #[arg(long)]
        resume: bool,
        /// Hold this exclusive lock for the whole run; exit at once (code 6) if another run holds it.
        #[arg(long, value_name = "NAME")]
        lock: Option<String>,
    },
    /// Compile scripts without touching a cluster.
    Check {
        /// The script files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the Markdown reference of every function (docs/functions.md).
    Docs {
        /// Write Rhai definition files (*.d.rhai) for editors into DIR instead of printing.
        #[arg(long, value_name = "DIR")]
        definitions: Option<PathBuf>,
    },
}

fn parse_duration_arg(text: &str) -> Result<Duration, String> {
    config::parse_duration(text)
}

/// Runs kafsh with the process's arguments; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitStatus::Ok
                }
                _ => ExitStatus::Usage,
            };
            let _ = e.print();
            return code.code();
        }
    };
    run_cli(cli).code()
}

/// Runs a parsed command line.
pub fn run_cli(cli: Cli) -> ExitStatus {
    let format = if cli.global.json {
        Format::Json
    } else {
        Format::Table
    };
    if let Some(path) = &cli.global.log_file {
        if let Err(e) = output::set_log_file(path) {
            output::print_error(
                &format!("cannot open the log file {}: {e}", path.display()),
                None,
                None,
            );
            return ExitStatus::Usage;
        }
    }
    let interactive = cli.eval.is_none() && cli.command.is_none();

    // Commands that need no cluster and no config.
    match &cli.command {
        Some(Command::Check { files }) => return check(files),
        Some(Command::Docs { definitions }) => return docs(definitions.as_deref()),
        _ => {}
    }

    let overrides = Overrides {
        context: cli.global.context.clone(),
        bootstrap_servers: cli.global.bootstrap_server.clone(),
        zookeeper: cli.global.zookeeper.clone(),
        command_config: cli.global.command_config.clone(),
        call_timeout: cli.global.call_timeout,
    };
    let resolved = match config::resolve(&overrides) {
        Ok(r) => r,
        Err(e) => {
            output::print_error(&e.to_string(), None, None);
            return e.exit_status();
        }
    };
    for note in &resolved.notes {
        if interactive {
            output::print_note(note);
        } else {
            once_note(note);
        }
    }
    let interrupt = Interrupt::default();
    install_sigint(&interrupt);
    interrupt.set_deadline(cli.global.timeout.map(|t| Instant::now() + t));
    let options = SessionOptions {
        dry_run: cli.global.dry_run,
        yes: cli.global.yes,
        json: cli.global.json,
        interactive,
    };
    let session = match Session::new(resolved.settings, options, interrupt) {
        Ok(s) => s,
        Err(e) => {
            output::print_error(&e.to_string(), None, None);
            return e.exit_status();
        }
    };

    let status = if let Some(expr) = &cli.eval {
        eval_expr(session.clone(), expr, format)
    } else {
        match cli.command {
            Some(Command::Run {
                file,
                args,
                resume,
                lock,
            }) => {
                let run = RunOptions {
                    resume,
                    lock,
                    max_operations: cli.global.max_operations,
                };
                run_file(session.clone(), &file, &args, &run, format)
            }
            _ => crate::repl::run(session.clone(), format),
        }
    };
    if session.options.dry_run {
        let planned: Vec<(String, String, String)> = session
            .planned_changes()
            .into_iter()
            .map(|c| (c.function, c.target, c.summary))
            .collect();
        output::print_plan(&planned, format);
    }
    status
}

/// Prints the defaults note only the first time on this machine (cron runs stay quiet).
fn once_note(note: &str) {
    let Some(dir) = config::state_dir() else {
        output::print_note(note);
        return;
    };
    let marker = dir.join("defaults-noted");
    if marker.exists() {
        return;
    }
    output::print_note(note);
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(marker, note);
}

/// Ctrl-C sets the interrupt flag (the running script stops at its next step); a second
/// Ctrl-C while the flag is still set ends the process.
fn install_sigint(interrupt: &Interrupt) {
    let flag = interrupt.flag();
    let _ = signal_hook::flag::register_conditional_shutdown(
        signal_hook::consts::SIGINT,
        ExitStatus::Refused.code(),
        flag.clone(),
    );
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, flag);
}

/// Options of `run` beyond the script's arguments.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Skip finished steps of an interrupted run.
    pub resume: bool,
    /// Hold this lock for the whole run.
    pub lock: Option<String>,
    /// Operation limit of the engine.
    pub max_operations: Option<u64>,
}

/// `-e EXPR`.
pub fn eval_expr(session: SessionRef, expr: &str, format: Format) -> ExitStatus {
    let engine = script::engine(session.clone());
    let mut scope = Scope::new();
    scope.push_constant("args", Map::new());
    match script::eval(&engine, &mut scope, expr) {
        Ok(value) => {
            print_value(&value, format);
            ExitStatus::Ok
        }
        Err(err) => report(&session, &engine, &err, None),
    }
}

/// `run FILE --arg k=v`.
pub fn run_file(
    session: SessionRef,
    file: &std::path::Path,
    args: &[String],
    run: &RunOptions,
    format: Format,
) -> ExitStatus {
    let map = match parse_script_args(args) {
        Ok(m) => m,
        Err(e) => {
            output::print_error(&e, None, None);
            return ExitStatus::Usage;
        }
    };
    let name = file.display().to_string();
    let source = match std::fs::read_to_string(file) {
        Ok(s) => s,
        Err(e) => {
            output::print_error(&format!("cannot read {name}: {e}"), None, None);
            return ExitStatus::Usage;
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
                output::print_error(&format!("{name}: not started: {who}"), None, None);
                return ExitStatus::Locked;
            }
            Err(crate::runlock::LockError::Io(e)) => {
                output::print_error(&e, None, None);
                return ExitStatus::Usage;
            }
        },
        None => None,
    };
    match crate::journal::Journal::open(file, args, run.resume) {
        Ok(j) => session.set_journal(j),
        Err(e) => output::log_line(
            "warn",
            &format!("no step journal ({e}); --resume will redo every step"),
        ),
    }
    session.set_args(&map);
    let mut engine = script::engine(session.clone());
    if let Some(n) = run.max_operations {
        engine.set_max_operations(n);
    }
    let base = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    engine.set_module_resolver(rhai::module_resolvers::FileModuleResolver::new_with_path(
        base,
    ));
    let ast = match engine.compile(&source) {
        Ok(ast) => ast,
        Err(err) => return report(&session, &engine, &err.into(), Some(&name)),
    };
    let mut scope = Scope::new();
    scope.push_constant("args", map);
    match engine.eval_ast_with_scope::<Dynamic>(&mut scope, &ast) {
        Ok(value) => {
            if let Some(journal) = session.take_journal() {
                journal.complete();
            }
            if !value.is_unit() {
                print_value(&value, format);
            }
            ExitStatus::Ok
        }
        Err(err) => report(&session, &engine, &err, Some(&name)),
    }
}

/// Prints an escaped error and returns its exit status.
fn report(
    session: &Session,
    engine: &rhai::Engine,
    err: &rhai::EvalAltResult,
    source: Option<&str>,
) -> ExitStatus {
    output::print_error(
        &script::describe_error(engine, err),
        script::error_position(err),
        source,
    );
    session.exit_status_of(err)
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
    match script::convert::to_json(value) {
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
fn check(files: &[PathBuf]) -> ExitStatus {
    let session = match offline_session() {
        Ok(s) => s,
        Err(status) => return status,
    };
    let engine = script::engine(session);
    let mut status = ExitStatus::Ok;
    for file in files {
        let name = file.display().to_string();
        match script::compile_file(&engine, file) {
            Ok(_) => output::print_text(&format!("ok: {name}")),
            Err(err) => {
                if matches!(*err, rhai::EvalAltResult::ErrorSystem(..)) {
                    output::print_error(&format!("cannot read {name}: {err}"), None, None);
                    status = ExitStatus::Usage;
                } else {
                    output::print_error(
                        &script::error_message(&err),
                        script::error_position(&err),
                        Some(&name),
                    );
                    status = ExitStatus::ScriptError;
                }
            }
        }
    }
    status
}

/// `docs`: the Markdown reference on stdout, or with `--definitions DIR` the editor
/// definition files written into DIR.
fn docs(definitions_dir: Option<&std::path::Path>) -> ExitStatus {
    let engine = match offline_session() {
        Ok(session) => script::engine(session),
        Err(status) => return status,
    };
    let Some(dir) = definitions_dir else {
        output::print_text(script::help::markdown(&engine).trim_end());
        return ExitStatus::Ok;
    };
    match script::help::write_definitions(&engine, dir) {
        Ok(written) => {
            for path in written {
                output::print_text(&format!("wrote {}", path.display()));
            }
            ExitStatus::Ok
        }
        Err(e) => {
            output::print_error(
                &format!("cannot write the definitions to {}: {e}", dir.display()),
                None,
                None,
            );
            ExitStatus::Usage
        }
    }
}

/// A session that never connects (for check and docs).
fn offline_session() -> Result<SessionRef, ExitStatus> {
    let settings = config::Settings::for_servers(config::DEFAULT_BOOTSTRAP, None).map_err(|e| {
        output::print_error(&e.to_string(), None, None);
        ExitStatus::Usage
    })?;
    Session::new(settings, SessionOptions::default(), Interrupt::default()).map_err(|e| {
        output::print_error(&e.to_string(), None, None);
        e.exit_status()
    })
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
}
