//! Command-line parsing and the choice of surface: REPL, `-e EXPR`, `run FILE`, `check FILE`,
//! `docs`. Maps every outcome to a documented exit code (`exit::ExitStatus`).

use crate::config::{self, Overrides};
use crate::exit::ExitStatus;
use crate::output::{self, Format};
use crate::script::surface::{eval_expr, run_file, RunOptions};
use crate::script::{self, bridge::Interrupt, Session, SessionOptions, SessionRef};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// kafsh: a scriptable admin shell for Apache Kafka and ZooKeeper.
#[derive(Debug, Parser)]
#[command(name = "kafsh", version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("KAFSH_COMMIT"), ")"), about, long_about = None)]
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
    #[arg(
        long = "bootstrap-server",
        global = true,
        env = "KAFSH_BOOTSTRAP_SERVER",
        value_name = "HOSTS"
    )]
    pub bootstrap_server: Option<String>,
    /// KRaft controllers, host:port[,host:port...] of their controller listener (KIP-919,
    /// as Kafka's tools take it): the quorum functions, cluster() and brokers() talk to the
    /// controllers directly (overrides the context's `bootstrap_controllers`).
    #[arg(
        long = "bootstrap-controller",
        global = true,
        env = "KAFSH_BOOTSTRAP_CONTROLLER",
        value_name = "HOSTS"
    )]
    pub bootstrap_controller: Option<String>,
    /// ZooKeeper connect string with optional chroot, e.g. h1:2181,h2:2181/kafka (overrides the context).
    #[arg(long, global = true, env = "KAFSH_ZOOKEEPER", value_name = "CONNECT")]
    pub zookeeper: Option<String>,
    /// Kafka client properties file, as Kafka's own tools take it (overrides the context's).
    #[arg(
        long = "command-config",
        global = true,
        env = "KAFSH_COMMAND_CONFIG",
        value_name = "FILE"
    )]
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
    /// Limit of one connection attempt to one broker or ZooKeeper server; the next
    /// bootstrap server is tried meanwhile (default: the context's `connect_timeout`, else 5s).
    #[arg(long = "connect-timeout", global = true, env = "KAFSH_CONNECT_TIMEOUT", value_name = "DURATION", value_parser = parse_duration_arg)]
    pub connect_timeout: Option<Duration>,
    /// Limit of a broker's first answer (ApiVersions) on a new connection; a broker that
    /// accepts connections but does not answer is hung (default: the context's
    /// `api_versions_timeout`, else 5s).
    #[arg(long = "api-versions-timeout", global = true, env = "KAFSH_API_VERSIONS_TIMEOUT", value_name = "DURATION", value_parser = parse_duration_arg)]
    pub api_versions_timeout: Option<Duration>,
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
    /// Run a runbook: a script file, or a runbook's name (see `kafsh runbooks`).
    #[command(disable_help_flag = true)]
    Run {
        /// The script file (.rhai), or a runbook's name looked up in the current directory,
        /// KAFSH_RUNBOOK_PATH, ~/.config/kafsh/runbooks and the installed runbooks.
        #[arg(required_unless_present = "help")]
        file: Option<PathBuf>,
        /// Print the runbook's header (what it does, its arguments), or this help.
        #[arg(long, short = 'h')]
        help: bool,
        /// Script argument k=v, available as args.k (numbers, bools and lists like 4,5 are typed).
        #[arg(long = "arg", value_name = "K=V")]
        args: Vec<String>,
        /// Finish an interrupted earlier run (same script, same arguments): skip the step()
        /// blocks it finished, keeping what they returned.
        #[arg(long, conflicts_with = "fresh")]
        resume: bool,
        /// Start over although an earlier run of the same script and arguments is
        /// unfinished, discarding what its finished steps remembered.
        #[arg(long)]
        fresh: bool,
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
    /// The audit trail: list entries (filtered), verify its hash chain, or undo a change.
    Audit {
        #[command(subcommand)]
        action: Option<AuditAction>,
        /// Entries of the last DURATION (7d, 12h) or since an RFC 3339 time.
        #[arg(long, value_name = "DURATION|TIME")]
        since: Option<String>,
        /// Entries made by this user (or by this person through sudo, or logged in as).
        #[arg(long)]
        user: Option<String>,
        /// Entries of this function (alter_config, reassign, delete_topic, ...).
        #[arg(long)]
        function: Option<String>,
        /// Entries whose target contains this text (a topic, a broker, a znode).
        #[arg(long)]
        target: Option<String>,
        /// Read this trail instead of the local one.
        #[arg(long, global = true, value_name = "FILE", conflicts_with = "shared")]
        file: Option<PathBuf>,
        /// Read the shared trail of the context's (or the global) `[audit] shared_path`.
        #[arg(long, global = true)]
        shared: bool,
    },
    /// List the runbooks `kafsh run NAME` finds, with what they do and their arguments.
    Runbooks,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(hide = true)]
    Man,
    /// Print the Markdown reference of every function (docs/functions.md).
    Docs {
        /// Write Rhai definition files (*.d.rhai) for editors into DIR instead of printing.
        #[arg(long, value_name = "DIR")]
        definitions: Option<PathBuf>,
    },
}

/// What `kafsh audit` does besides listing entries.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check every link of the trail's hash chain; exit 1 naming the first broken one.
    Verify,
    /// Undo the change recorded as entry SEQ (config changes and reassignments), through
    /// the same functions (audited again); with --dry-run only print and validate it.
    Rollback {
        /// The entry's `seq`.
        seq: u64,
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
        Some(Command::Runbooks) => return runbooks(format),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "kafsh", &mut std::io::stdout());
            return ExitStatus::Ok;
        }
        Some(Command::Man) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut page = Vec::new();
            if clap_mangen::Man::new(cmd).render(&mut page).is_err() {
                return ExitStatus::ScriptError;
            }
            output::print_text(String::from_utf8_lossy(&page).trim_end());
            return ExitStatus::Ok;
        }
        Some(Command::Run {
            file, help: true, ..
        }) => return run_help(file.as_deref()),
        _ => {}
    }

    let overrides = Overrides {
        context: cli.global.context.clone(),
        bootstrap_servers: cli.global.bootstrap_server.clone(),
        bootstrap_controllers: cli.global.bootstrap_controller.clone(),
        zookeeper: cli.global.zookeeper.clone(),
        command_config: cli.global.command_config.clone(),
        call_timeout: cli.global.call_timeout,
        max_operations: cli.global.max_operations,
        connect_timeout: cli.global.connect_timeout,
        api_versions_timeout: cli.global.api_versions_timeout,
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
            Some(Command::Audit {
                action,
                since,
                user,
                function,
                target,
                file,
                shared,
            }) => {
                let trail = match (file, shared) {
                    (Some(f), _) => Some(f),
                    (None, true) => session.settings.audit.shared_path.clone(),
                    (None, false) => crate::audit::audit_path(),
                };
                let Some(trail) = trail else {
                    output::print_error(
                        "no audit trail to read: --shared needs `[audit] shared_path` in config.toml",
                        None,
                        None,
                    );
                    return ExitStatus::Usage;
                };
                let filter = AuditFilter {
                    since,
                    context: cli.global.context.clone(),
                    user,
                    function,
                    target,
                };
                return audit(session, &trail, action, filter, format);
            }
            Some(Command::Run {
                file: Some(file),
                args,
                resume,
                fresh,
                lock,
                ..
            }) => {
                let run = RunOptions {
                    journal: if resume {
                        crate::journal::JournalMode::Resume
                    } else if fresh {
                        crate::journal::JournalMode::Fresh
                    } else {
                        crate::journal::JournalMode::New
                    },
                    lock,
                };
                run_file(session.clone(), &file, &args, &run, format)
            }
            _ => crate::repl::run(session.clone(), format),
        }
    };
    let status = match session.audit_failure() {
        Some(why) if status == ExitStatus::Ok => {
            output::print_error(&why, None, None);
            ExitStatus::ScriptError
        }
        _ => status,
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

/// The filters of `kafsh audit`, as given.
struct AuditFilter {
    since: Option<String>,
    context: Option<String>,
    user: Option<String>,
    function: Option<String>,
    target: Option<String>,
}

/// `kafsh audit`: list, verify, or roll back.
fn audit(
    session: SessionRef,
    trail: &std::path::Path,
    action: Option<AuditAction>,
    given: AuditFilter,
    format: Format,
) -> ExitStatus {
    use crate::audit::query;
    match action {
        Some(AuditAction::Verify) => match query::verify(trail) {
            Ok(report) => {
                let intact = report.intact;
                output::print_result(&serde_json::to_value(&report).unwrap_or_default(), format);
                if intact {
                    ExitStatus::Ok
                } else {
                    ExitStatus::ScriptError
                }
            }
            Err(e) => {
                output::print_error(&format!("cannot read {}: {e}", trail.display()), None, None);
                ExitStatus::Usage
            }
        },
        Some(AuditAction::Rollback { seq }) => {
            let entries = match query::read(trail, &query::Filter::default()) {
                Ok(e) => e,
                Err(e) => {
                    output::print_error(
                        &format!("cannot read {}: {e}", trail.display()),
                        None,
                        None,
                    );
                    return ExitStatus::Usage;
                }
            };
            let Some(entry) = entries.iter().find(|e| e["seq"].as_u64() == Some(seq)) else {
                output::print_error(
                    &format!("{} has no entry {seq}", trail.display()),
                    None,
                    None,
                );
                return ExitStatus::ScriptError;
            };
            match query::inverse(entry).map(|i| script::surface::inverse_call(&i)) {
                Ok(call) => {
                    output::log_line(
                        "info",
                        &format!(
                            "undoing entry {seq} ({} {} at {} by {}): {call}",
                            entry["function"].as_str().unwrap_or(""),
                            entry["target"].as_str().unwrap_or(""),
                            entry["time"].as_str().unwrap_or(""),
                            entry["user"].as_str().unwrap_or("")
                        ),
                    );
                    eval_expr(session, &call, format)
                }
                Err(why) => {
                    output::print_error(&format!("entry {seq}: {why}"), None, None);
                    ExitStatus::ScriptError
                }
            }
        }
        None => {
            let since = match given
                .since
                .as_deref()
                .map(script::api::audit::since)
                .transpose()
            {
                Ok(s) => s,
                Err(e) => {
                    output::print_error(&e, None, None);
                    return ExitStatus::Usage;
                }
            };
            let filter = query::Filter {
                since,
                context: given.context,
                user: given.user,
                function: given.function,
                target: given.target,
            };
            match query::read(trail, &filter) {
                Ok(entries) => {
                    let shown: Vec<serde_json::Value> = if format == Format::Json {
                        entries
                    } else {
                        entries
                            .into_iter()
                            .map(|e| {
                                serde_json::json!({
                                    "seq": e["seq"], "time": e["time"], "user": e["user"],
                                    "sudo_user": e.get("sudo_user"), "context": e["context"],
                                    "function": e["function"], "target": e["target"],
                                    "result": e["result"],
                                })
                            })
                            .collect()
                    };
                    output::print_result(&serde_json::Value::Array(shown), format);
                    ExitStatus::Ok
                }
                Err(e) => {
                    output::print_error(
                        &format!("cannot read {}: {e}", trail.display()),
                        None,
                        None,
                    );
                    ExitStatus::Usage
                }
            }
        }
    }
}

/// `kafsh runbooks`: every runbook found, what it does and its arguments.
fn runbooks(format: Format) -> ExitStatus {
    let list = crate::runbooks::list();
    let value = if format == Format::Json {
        serde_json::to_value(&list).unwrap_or_default()
    } else {
        serde_json::Value::Array(
            list.iter()
                .map(|r| {
                    serde_json::json!({"name": r.name, "summary": r.summary,
                                       "arguments": r.arguments.join(", ")})
                })
                .collect(),
        )
    };
    output::print_result(&value, format);
    ExitStatus::Ok
}

/// `kafsh run NAME --help`: the runbook's header; without a name, `run`'s own help.
fn run_help(file: Option<&std::path::Path>) -> ExitStatus {
    let Some(file) = file else {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        cmd.build();
        if let Some(run) = cmd.find_subcommand_mut("run") {
            let _ = run.print_help();
        }
        return ExitStatus::Ok;
    };
    match crate::runbooks::resolve(file).and_then(|p| {
        std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    }) {
        Ok(source) => {
            output::print_text(&crate::runbooks::Header::parse(&source).text);
            ExitStatus::Ok
        }
        Err(e) => {
            output::print_error(&e, None, None);
            ExitStatus::Usage
        }
    }
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

/// `check FILE...`: compiles each file with the full API registered, touching no cluster.
fn check(files: &[PathBuf]) -> ExitStatus {
    match offline_session() {
        Ok(session) => script::surface::check(session, files),
        Err(status) => status,
    }
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
