//! Command-line parsing and the choice of surface: REPL, `-e EXPR`, `run FILE`, `check FILE`,
//! `docs`. Maps every outcome to a documented exit code (`exit::ExitStatus`).

use crate::config::{self, Overrides};
use crate::exit::ExitStatus;
use crate::output::{self, Format};
use crate::script::surface::{eval_expr, run_file, Failure, RunOptions};
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
    /// Use this context of config.toml (else KAFSH_CONTEXT, else the file's current_context);
    /// several, comma-separated, run `-e` or `run` against each.
    #[arg(long, global = true, env = "KAFSH_CONTEXT")]
    pub context: Option<String>,
    /// Run `-e` or `run` against every context of config.toml with this tag.
    #[arg(long, global = true, conflicts_with = "context")]
    pub tag: Option<String>,
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
    /// Start the shell without running init.rhai or the context's init script.
    #[arg(long = "no-init", global = true)]
    pub no_init: bool,
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
    /// Make the cluster what a desired-state file says (topics, configs, ACLs, quotas):
    /// exit 0 when nothing had to change, 7 when changes were made (with --dry-run: planned).
    Apply {
        /// The desired-state file (TOML).
        file: PathBuf,
        /// Past the guard rails, and deletions without asking.
        #[arg(long)]
        force: bool,
    },
    /// Print the cluster as a desired-state file (TOML), for `kafsh apply`.
    Export {
        /// Only topics whose names match this regular expression.
        #[arg(long, value_name = "REGEX")]
        topics: Option<String>,
        /// Also the ACL bindings.
        #[arg(long)]
        acls: bool,
        /// Also the client quotas.
        #[arg(long)]
        quotas: bool,
    },
    /// List the contexts of config.toml (which is production, which is the default).
    Contexts {
        /// Only the names, one per line (for shell completion).
        #[arg(long)]
        names: bool,
    },
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
            output::print_text(&completion_script(*shell));
            return ExitStatus::Ok;
        }
        Some(Command::Contexts { names }) => return list_contexts(*names, format),
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
    let expression = match &cli.command {
        Some(Command::Apply { file, force }) => Some(format!(
            "desired_apply(desired_plan({}), #{{force: {force}}})",
            rhai_string(&file.display().to_string())
        )),
        Some(Command::Export {
            topics,
            acls,
            quotas,
        }) => Some(format!(
            "desired_export(#{{topics: {}, acls: {acls}, quotas: {quotas}}})",
            topics
                .as_deref()
                .map(rhai_string)
                .unwrap_or_else(|| "\".*\"".into())
        )),
        _ => None,
    };
    let applying = matches!(cli.command, Some(Command::Apply { .. }));
    let several = match (&cli.global.tag, &cli.global.context) {
        (Some(tag), _) => Some(tag.clone()),
        (None, Some(c)) if c.contains(',') => Some(c.clone()),
        _ => None,
    };
    if let Some(targets) = several {
        return run_on_several(
            &cli,
            &overrides,
            &targets,
            format,
            expression.as_deref(),
            applying,
        );
    }
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
    session.set_overrides(overrides.clone());

    let status = if let Some(expr) = &expression {
        match crate::script::surface::eval_value(session.clone(), expr) {
            Ok(value) => {
                crate::script::surface::print_value(&value, format);
                applied_status(applying, &crate::script::surface::value_json(&value))
            }
            Err(failure) => failure.status,
        }
    } else if let Some(expr) = &cli.eval {
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
                    journal_context: None,
                };
                run_file(session.clone(), &file, &args, &run, format)
            }
            _ => crate::repl::run(crate::repl::Shell {
                session: session.clone(),
                format,
                overrides: overrides.clone(),
                init: !cli.global.no_init,
            }),
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

/// The shell's completion script from the clap definition, with `--context` completing
/// the names config.toml has (asked from `kafsh contexts --names` when completing).
fn completion_script(shell: clap_complete::Shell) -> String {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kafsh", &mut script);
    let script = String::from_utf8_lossy(&script).to_string();
    match shell {
        clap_complete::Shell::Bash => script.replace(
            "--context)\n                    COMPREPLY=($(compgen -f \"${cur}\"))",
            "--context)\n                    COMPREPLY=($(compgen -W \"$(kafsh contexts --names 2>/dev/null)\" -- \"${cur}\"))",
        ),
        clap_complete::Shell::Zsh => script.replace(
            ":CONTEXT:_default",
            ":CONTEXT:{compadd -- ${(f)\"$(kafsh contexts --names 2>/dev/null)\"}}",
        ),
        clap_complete::Shell::Fish => format!(
            "{script}complete -c kafsh -l context -x -a '(kafsh contexts --names 2>/dev/null)'\n"
        ),
        _ => script,
    }
}

/// `kafsh contexts`: the contexts of config.toml.
fn list_contexts(names_only: bool, format: Format) -> ExitStatus {
    let contexts = match config::contexts() {
        Ok(c) => c,
        Err(e) => {
            output::print_error(&e.to_string(), None, None);
            return e.exit_status();
        }
    };
    if names_only {
        for c in &contexts {
            output::print_text(&c.name);
        }
        return ExitStatus::Ok;
    }
    let rows = serde_json::to_value(&contexts).unwrap_or_default();
    output::print_result(&rows, format);
    ExitStatus::Ok
}

/// `--context a,b` / `--tag T` with `-e` or `run`: the expression or runbook against each
/// context in turn, each with its own connections, journal and dry-run plan. Prints each
/// context's result under its name (`--json`: one map context → result or
/// `{error, exit}`), then a summary on stderr; exits 0 when every context succeeded, else
/// with the first failure's status.
fn run_on_several(
    cli: &Cli,
    overrides: &Overrides,
    targets: &str,
    format: Format,
    expression: Option<&str>,
    applying: bool,
) -> ExitStatus {
    if overrides.bootstrap_servers.is_some()
        || overrides.bootstrap_controllers.is_some()
        || overrides.zookeeper.is_some()
        || overrides.command_config.is_some()
    {
        output::print_error(
            "--bootstrap-server, --bootstrap-controller, --zookeeper and --command-config name one cluster; with several contexts each uses its own",
            None,
            None,
        );
        return ExitStatus::Usage;
    }
    let expression = expression.or(cli.eval.as_deref());
    let run = match (expression, &cli.command) {
        (Some(_), _) => None,
        (
            None,
            Some(Command::Run {
                file: Some(file),
                args,
                resume,
                fresh,
                lock,
                ..
            }),
        ) => Some((file.clone(), args.clone(), *resume, *fresh, lock.clone())),
        _ => {
            output::print_error(
                "several contexts work with -e and run; the shell switches with use_context()",
                None,
                None,
            );
            return ExitStatus::Usage;
        }
    };
    let names = match config::expand_contexts(targets) {
        Ok(n) => n,
        Err(e) => {
            output::print_error(&e.to_string(), None, None);
            return e.exit_status();
        }
    };
    let interrupt = Interrupt::default();
    install_sigint(&interrupt);
    interrupt.set_deadline(cli.global.timeout.map(|t| Instant::now() + t));
    let options = SessionOptions {
        dry_run: cli.global.dry_run,
        yes: cli.global.yes,
        json: cli.global.json,
        interactive: false,
    };
    let mut results = serde_json::Map::new();
    let mut failures: Vec<(String, ExitStatus)> = Vec::new();
    let mut changed = false;
    for name in &names {
        if format == Format::Table {
            output::print_text(&format!("== {name}"));
        }
        let context_overrides = Overrides {
            context: Some(name.clone()),
            ..overrides.clone()
        };
        let outcome = config::resolve(&context_overrides)
            .and_then(|resolved| {
                Session::new(resolved.settings, options.clone(), interrupt.clone())
            })
            .map_err(|e| {
                let message = format!("{name}: {e}");
                output::print_error(&message, None, None);
                Failure {
                    status: e.exit_status(),
                    message,
                }
            })
            .and_then(|session| {
                session.set_overrides(context_overrides.clone());
                let value = match &run {
                    None => crate::script::surface::eval_value(
                        session.clone(),
                        expression.unwrap_or_default(),
                    ),
                    Some((file, args, resume, fresh, lock)) => {
                        let run = RunOptions {
                            journal: if *resume {
                                crate::journal::JournalMode::Resume
                            } else if *fresh {
                                crate::journal::JournalMode::Fresh
                            } else {
                                crate::journal::JournalMode::New
                            },
                            lock: lock.clone(),
                            journal_context: Some(name.clone()),
                        };
                        crate::script::surface::run_file_value(session.clone(), file, args, &run)
                    }
                };
                let value = match (value, session.audit_failure()) {
                    (Ok(_), Some(why)) => {
                        output::print_error(&why, None, None);
                        Err(Failure {
                            status: ExitStatus::ScriptError,
                            message: why,
                        })
                    }
                    (v, _) => v,
                };
                if session.options.dry_run {
                    let planned: Vec<(String, String, String)> = session
                        .planned_changes()
                        .into_iter()
                        .map(|c| (c.function, c.target, c.summary))
                        .collect();
                    output::print_plan(&planned, format);
                }
                value
            });
        match outcome {
            Ok(value) => {
                let json = crate::script::surface::value_json(&value);
                changed |= applied_status(applying, &json) == ExitStatus::Changed;
                if format == Format::Table {
                    if !value.is_unit() {
                        crate::script::surface::print_value(&value, format);
                    }
                } else {
                    results.insert(name.clone(), json);
                }
            }
            Err(failure) => {
                results.insert(
                    name.clone(),
                    serde_json::json!({"error": failure.message, "exit": failure.status.code()}),
                );
                failures.push((name.clone(), failure.status));
            }
        }
        if interrupt.is_set() {
            break;
        }
    }
    if format == Format::Json {
        output::print_result(&serde_json::Value::Object(results), format);
    }
    let summary = if failures.is_empty() {
        format!("{} context(s): all succeeded", names.len())
    } else {
        format!(
            "{} context(s): {} succeeded, {} failed: {}",
            names.len(),
            names.len() - failures.len(),
            failures.len(),
            failures
                .iter()
                .map(|(n, s)| format!("{n} (exit {})", s.code()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    output::log_line(if failures.is_empty() { "info" } else { "warn" }, &summary);
    match failures.first() {
        Some((_, status)) => *status,
        None if changed => ExitStatus::Changed,
        None => ExitStatus::Ok,
    }
}

/// `kafsh apply`'s exit: 7 when the apply changed something (or would, in a dry run).
fn applied_status(applying: bool, result: &serde_json::Value) -> ExitStatus {
    let changed = result["applied"].as_array().is_some_and(|a| !a.is_empty());
    if applying && changed {
        ExitStatus::Changed
    } else {
        ExitStatus::Ok
    }
}

/// `text` as a Rhai string literal.
fn rhai_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}
