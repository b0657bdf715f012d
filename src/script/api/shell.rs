//! Rhai functions of the shell itself: help and messages.

use rhai::plugin::*;

/// Shell and runbooks
///
/// What runbook scripts need besides Kafka: help, messages, script arguments,
/// confirmations, journaled steps for `run --resume`, waiting, files, shell commands and
/// the inventory's start, stop and restart commands.
#[export_module]
pub mod api {
    use super::{node_kind, run_command, run_inventory_command};
    use crate::script::convert::to_map;
    use crate::script::convert::Options;
    use crate::script::{help, script_error, session_of};
    use rhai::{Dynamic, EvalAltResult, FnPtr, Map, NativeCallContext};
    use std::time::Duration;

    /// List every function by area with its one-line summary.
    ///
    /// ```rhai
    /// help()
    /// ```
    #[rhai_fn(name = "help")]
    pub fn help_all(ctx: NativeCallContext) -> String {
        help::overview(ctx.engine(), crate::output::terminal_width())
    }

    /// Show one function's signatures, documentation and example.
    ///
    /// ```rhai
    /// help("describe_topic")
    /// ```
    #[rhai_fn(return_raw, name = "help")]
    pub fn help_one(ctx: NativeCallContext, name: &str) -> Result<String, Box<EvalAltResult>> {
        help::function(ctx.engine(), name).ok_or_else(|| {
            let suggestion = help::closest(ctx.engine(), name)
                .map(|s| format!("; did you mean {s:?}?"))
                .unwrap_or_default();
            format!("help: no function named {name:?}{suggestion}").into()
        })
    }

    /// Write an informational line to stderr (and the log).
    ///
    /// ```rhai
    /// log("starting the rolling restart");
    /// ```
    pub fn log(message: &str) {
        crate::output::log_line("info", message);
    }

    /// Write a warning line to stderr (and the log).
    ///
    /// ```rhai
    /// warn("broker 3 is slow to rejoin the ISR");
    /// ```
    pub fn warn(message: &str) {
        crate::output::log_line("warn", message);
    }

    /// Stop the script with an error message (exit code 1).
    ///
    /// ```rhai
    /// if brokers().len() < 3 { fail("fewer than 3 brokers are alive"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn fail(message: &str) -> Result<(), Box<EvalAltResult>> {
        Err(message.into())
    }

    /// Run a shell command (`sh -c`) with captured output: `#{timeout: "60s", check: true,
    /// env: #{..}, stdin: "text", read_only: false}`. A non-zero exit fails the script unless `check:
    /// false`. With --dry-run it is only reported, unless marked `read_only: true`.
    ///
    /// ```rhai
    /// let r = sh("uptime", #{read_only: true});
    /// print(r.stdout);
    /// ```
    #[rhai_fn(return_raw, name = "sh")]
    pub fn sh_with(
        ctx: NativeCallContext,
        command: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let opts = Options::new(
            "sh",
            &options,
            &["timeout", "check", "env", "read_only", "stdin"],
        )?;
        let stdin = opts.string("stdin")?;
        let timeout = opts.duration("timeout", Duration::from_secs(300))?;
        let env: std::collections::BTreeMap<String, String> =
            opts.string_map("env")?.into_iter().collect();
        let check = opts.bool("check")?.unwrap_or(true);
        let read_only = opts.bool("read_only")?.unwrap_or(false);
        run_command(
            &session,
            "sh",
            CommandSpec {
                command,
                env,
                stdin,
                timeout,
                check,
                read_only,
            },
        )
    }

    /// Run a shell command with the defaults (5 minute limit, non-zero exit fails).
    #[rhai_fn(return_raw, name = "sh")]
    pub fn sh(ctx: NativeCallContext, command: &str) -> Result<Map, Box<EvalAltResult>> {
        sh_with(ctx, command, Map::new())
    }

    /// A journaled step of a runbook: runs `body` unless an interrupted earlier run of the
    /// same script with the same arguments finished it and this run has `--resume`; records
    /// the step as finished, with what `body` returned, when `body` returns. Returns what
    /// `body` returns — when skipped, what it returned in the earlier run, so a resumed run
    /// keeps the decisions the first one took (a plan, values to restore).
    ///
    /// ```rhai
    /// let original = step("remember retention", || describe_config("topic", "peter-topic", #{all: true}));
    /// step("lower retention", || set_config("peter-topic", "retention.ms", 3600000));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn step(
        ctx: NativeCallContext,
        name: &str,
        body: FnPtr,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        if session.options.dry_run {
            // A dry run finishes nothing: it neither skips nor records steps.
            return body.call_within_context(&ctx, ());
        }
        if let Some(earlier) = session.step_result(name) {
            crate::output::log_line(
                "info",
                &format!("step {name:?}: finished in an earlier run, skipped (--resume)"),
            );
            return Ok(earlier);
        }
        crate::output::log_line("info", &format!("step {name:?}: started"));
        let value: Dynamic = body.call_within_context(&ctx, ())?;
        session
            .finish_step(name, &value)
            .map_err(|e| script_error(&session, "step", e))?;
        crate::output::log_line("info", &format!("step {name:?}: finished"));
        Ok(value)
    }

    /// A required script argument (`--arg name=value`): fails with a clear message naming
    /// it when it is missing.
    ///
    /// ```rhai
    /// let new_brokers = arg("new_brokers");
    /// ```
    #[rhai_fn(return_raw, name = "arg")]
    pub fn arg_required(ctx: NativeCallContext, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        session.arg(name).ok_or_else(|| {
            script_error(
                &session,
                "arg",
                crate::error::Error::Config(format!(
                    "missing required argument {name:?}: pass --arg {name}=VALUE"
                )),
            )
        })
    }

    /// A script argument with a default.
    ///
    /// ```rhai
    /// let rate = arg("throttle", 50000000);
    /// ```
    #[rhai_fn(return_raw, name = "arg")]
    pub fn arg_or(
        ctx: NativeCallContext,
        name: &str,
        default: Dynamic,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        Ok(session.arg(name).unwrap_or(default))
    }

    /// Pause for a number of seconds (Ctrl-C and --timeout still stop the script).
    ///
    /// ```rhai
    /// sleep(5);
    /// ```
    #[rhai_fn(return_raw, name = "sleep")]
    pub fn sleep(ctx: NativeCallContext, seconds: i64) -> Result<(), Box<EvalAltResult>> {
        sleep_float(ctx, seconds as f64)
    }

    /// Pause for a duration given as text: "500ms", "30s", "2m".
    #[rhai_fn(return_raw, name = "sleep")]
    pub fn sleep_text(ctx: NativeCallContext, duration: &str) -> Result<(), Box<EvalAltResult>> {
        let d = crate::config::parse_duration(duration)
            .map_err(|e| format!("sleep: {duration:?} is not a duration: {e}"))?;
        sleep_float(ctx, d.as_secs_f64())
    }

    /// Pause for a fractional number of seconds.
    #[rhai_fn(return_raw, name = "sleep")]
    pub fn sleep_float(ctx: NativeCallContext, seconds: f64) -> Result<(), Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(script_error(
                &session,
                "sleep",
                crate::error::Error::InvalidInput(format!(
                    "cannot sleep {seconds} seconds: give a number of seconds ≥ 0"
                )),
            ));
        }
        session
            .pause("sleep", Duration::from_secs_f64(seconds))
            .map_err(|e| script_error(&session, "sleep", e))
    }

    /// Call `condition` every `interval` until it returns true; fail after `timeout`.
    /// Options: `timeout` (default "5m"), `interval` (default "2s"), `message`. In a dry
    /// run it checks once and goes on (nothing changed, so there is nothing to wait for).
    ///
    /// ```rhai
    /// wait_until(|| under_replicated().len() == 0, #{timeout: "10m", interval: "5s"});
    /// ```
    #[rhai_fn(return_raw, name = "wait_until")]
    pub fn wait_until_with(
        ctx: NativeCallContext,
        condition: FnPtr,
        options: Map,
    ) -> Result<(), Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let opts = Options::new("wait_until", &options, &["timeout", "interval", "message"])?;
        let timeout = opts.duration("timeout", Duration::from_secs(300))?;
        let interval = opts.duration("interval", Duration::from_secs(2))?;
        let message = opts
            .string("message")?
            .unwrap_or_else(|| "the condition".to_string());
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let done: bool = condition.call_within_context(&ctx, ())?;
            if done {
                return Ok(());
            }
            if session.options.dry_run {
                // Nothing was changed, so waiting for the change's effect would never end.
                crate::output::log_line(
                    "dry-run",
                    &format!("wait_until: would wait for {message}"),
                );
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(script_error(
                    &session,
                    "wait_until",
                    crate::error::Error::Timeout(format!(
                        "{message} did not hold within {}",
                        crate::kafka::conn::human(timeout)
                    )),
                ));
            }
            session
                .pause("wait_until", interval)
                .map_err(|e| script_error(&session, "wait_until", e))?;
        }
    }

    /// Wait until `condition` returns true, checking every 2 s for up to 5 minutes.
    #[rhai_fn(return_raw, name = "wait_until")]
    pub fn wait_until(ctx: NativeCallContext, condition: FnPtr) -> Result<(), Box<EvalAltResult>> {
        wait_until_with(ctx, condition, Map::new())
    }

    /// Ask a yes/no question on the terminal. Without a terminal (cron) it never waits:
    /// it answers yes with --yes and no otherwise, and says so on stderr.
    ///
    /// ```rhai
    /// if !confirm("Restart the ZooKeeper leader now?") { fail("stopped by the operator"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn confirm(ctx: NativeCallContext, question: &str) -> Result<bool, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        Ok(crate::output::confirm(question, session.options.yes))
    }

    /// Whether a person can be asked: stdin is a terminal (false under cron, in a pipe or a
    /// test). Runbooks use it to refuse a step that needs a person's yes, not only `--yes`.
    ///
    /// ```rhai
    /// if !interactive() && arg("finalize", false) != true { fail("pass --arg finalize=true"); }
    /// ```
    pub fn interactive() -> bool {
        crate::output::interactive()
    }

    /// Write text to a file atomically (a temporary file in the same directory, then a
    /// rename), so readers such as node_exporter never see half a file. Honours --dry-run.
    ///
    /// ```rhai
    /// write_file("/tmp/kafsh-example.txt", "hello\n");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_file(
        ctx: NativeCallContext,
        path: &str,
        text: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let record = || {
            session.mutation(
                "write_file",
                path,
                &format!("write {} bytes", text.len()),
                serde_json::json!({}),
            )
        };
        if session.options.dry_run {
            record();
            crate::output::log_line(
                "dry-run",
                &format!("write_file: would write {} bytes to {path}", text.len()),
            );
            return Ok(());
        }
        let target = std::path::Path::new(path);
        let dir = target
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.kafsh-{}", std::process::id()));
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, target))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                script_error(
                    &session,
                    "write_file",
                    crate::error::Error::Failed(format!("cannot write {path}: {e}")),
                )
            })?;
        record();
        Ok(())
    }

    /// Read a text file.
    ///
    /// ```rhai
    /// let plan = read_file("/etc/hostname");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read_file(ctx: NativeCallContext, path: &str) -> Result<String, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        std::fs::read_to_string(path).map_err(|e| {
            script_error(
                &session,
                "read_file",
                crate::error::Error::InvalidInput(format!("cannot read {path}: {e}")),
            )
        })
    }

    /// Print a value the way results are printed: a table, or JSON with --json.
    ///
    /// ```rhai
    /// print_result(brokers());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn print_result(ctx: NativeCallContext, value: Dynamic) -> Result<(), Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let format = if session.options.json {
            crate::output::Format::Json
        } else {
            crate::output::Format::Table
        };
        let json = crate::script::convert::to_json(&value)?;
        crate::output::print_result(&json, format);
        Ok(())
    }

    /// Whether this run is a dry run (--dry-run): runbooks skip checks of effects that
    /// cannot have happened.
    ///
    /// ```rhai
    /// if !dry_run() { wait_until(|| zk_healthy().healthy); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn dry_run(ctx: NativeCallContext) -> Result<bool, Box<EvalAltResult>> {
        Ok(session_of(&ctx)?.options.dry_run)
    }

    /// An environment variable's value, or unit when it is not set.
    ///
    /// ```rhai
    /// let who = env("USER");
    /// ```
    pub fn env(name: &str) -> Dynamic {
        std::env::var(name)
            .map(Dynamic::from)
            .unwrap_or(Dynamic::UNIT)
    }

    /// Restart ZooKeeper server `id` with the command the inventory names for it (output
    /// captured; a failure or a timeout fails the script). Honours --dry-run.
    ///
    /// ```rhai
    /// restart_zk(2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn restart_zk(ctx: NativeCallContext, id: i64) -> Result<Map, Box<EvalAltResult>> {
        run_inventory_command(&*session_of(&ctx)?, "restart_zk", "zk", id, "restart")
    }

    /// Start ZooKeeper server `id` with the inventory's start command.
    ///
    /// ```rhai
    /// start_zk(4);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn start_zk(ctx: NativeCallContext, id: i64) -> Result<Map, Box<EvalAltResult>> {
        run_inventory_command(&*session_of(&ctx)?, "start_zk", "zk", id, "start")
    }

    /// Stop ZooKeeper server `id` with the inventory's stop command.
    ///
    /// ```rhai
    /// stop_zk(4);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn stop_zk(ctx: NativeCallContext, id: i64) -> Result<Map, Box<EvalAltResult>> {
        run_inventory_command(&*session_of(&ctx)?, "stop_zk", "zk", id, "stop")
    }

    /// Restart broker `id` with the command the inventory names for it. Honours --dry-run.
    ///
    /// ```rhai
    /// restart_broker(3);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn restart_broker(ctx: NativeCallContext, id: i64) -> Result<Map, Box<EvalAltResult>> {
        run_inventory_command(
            &*session_of(&ctx)?,
            "restart_broker",
            "broker",
            id,
            "restart",
        )
    }

    /// Stop broker `id` for good (a decommission) with the inventory's stop command.
    /// Refused while the broker holds a replica of any partition, internal topics
    /// included (drain it first: `plan_reassignment(#{drain: [id]})`), unless
    /// `force: true`. Honours --dry-run.
    ///
    /// ```rhai
    /// stop_broker(4, #{});
    /// ```
    #[rhai_fn(return_raw, name = "stop_broker")]
    pub fn stop_broker_with(
        ctx: NativeCallContext,
        id: i64,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "stop_broker";
        let opts = Options::new(f, &options, &["force"])?;
        if !opts.bool("force")?.unwrap_or(false) {
            let held = crate::script::api::reassign::replicas_held(&session, f, id as i32)?;
            if !held.is_empty() {
                return Err(script_error(
                    &session,
                    f,
                    crate::error::Error::Refused(format!(
                        "broker {id} still holds {} replica(s) ({}{}): drain it first with plan_reassignment(#{{drain: [{id}]}}), or force: true",
                        held.len(),
                        held.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
                        if held.len() > 5 { ", ..." } else { "" }
                    )),
                ));
            }
        }
        run_inventory_command(&session, f, "broker", id, "stop")
    }

    /// Stop broker `id` (refused while it holds replicas; see the form with options).
    #[rhai_fn(return_raw)]
    pub fn stop_broker(ctx: NativeCallContext, id: i64) -> Result<Map, Box<EvalAltResult>> {
        stop_broker_with(ctx, id, Map::new())
    }

    /// Start broker `id` with the inventory's start command. Honours --dry-run.
    ///
    /// ```rhai
    /// start_broker(4);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn start_broker(ctx: NativeCallContext, id: i64) -> Result<Map, Box<EvalAltResult>> {
        run_inventory_command(&*session_of(&ctx)?, "start_broker", "broker", id, "start")
    }

    /// The configuration file (`server.properties`) of a node, printed by the inventory's
    /// `read_config` command: `kind` is "broker" or "controller". Runs in a dry run too.
    ///
    /// ```rhai
    /// let props = parse_properties(read_node_config("broker", 1));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read_node_config(
        ctx: NativeCallContext,
        kind: &str,
        id: i64,
    ) -> Result<String, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let kind = node_kind(&session, "read_node_config", kind)?;
        let out = super::run_inventory_command_with(
            &session,
            "read_node_config",
            kind,
            id,
            "read_config",
            None,
        )?;
        Ok(out
            .get("stdout")
            .and_then(|v| v.clone().into_string().ok())
            .unwrap_or_default())
    }

    /// Install a new configuration file for a node with the inventory's `write_config`
    /// command (the text on its stdin); it takes effect at the node's next restart. `kind`
    /// is "broker" or "controller". Honours --dry-run (only reported).
    ///
    /// ```rhai
    /// let edit = edit_properties(read_node_config("broker", 1), #{set: #{"log.retention.hours": 72}});
    /// write_node_config("broker", 1, edit.text);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_node_config(
        ctx: NativeCallContext,
        kind: &str,
        id: i64,
        text: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let kind = node_kind(&session, "write_node_config", kind)?;
        super::run_inventory_command_with(
            &session,
            "write_node_config",
            kind,
            id,
            "write_config",
            Some(text.to_string()),
        )
    }

    /// The settings of a Java properties text (`server.properties`) as a map of strings.
    ///
    /// ```rhai
    /// let p = parse_properties("broker.id=1\nzookeeper.connect=zk1:2181/kafka\n");
    /// print(p["zookeeper.connect"]);
    /// ```
    pub fn parse_properties(text: &str) -> Map {
        crate::config::parse_properties(text)
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect()
    }

    /// Edit a properties text, keeping its comments and order: `#{set: #{key: value},
    /// remove: [keys]}`. Returns `#{text, changes}`, `changes` listing `#{key, before, after}` for
    /// every setting whose value changes (`before` () when added, `after` () when removed); an
    /// edit applied again changes nothing.
    ///
    /// ```rhai
    /// let e = edit_properties("broker.id=1\n", #{set: #{"node.id": 1}, remove: ["broker.id"]});
    /// for c in e.changes { print(`${c.key}: ${c.before} -> ${c.after}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn edit_properties(text: &str, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let opts = Options::new("edit_properties", &options, &["set", "remove"])?;
        let set: Vec<(String, String)> = opts.string_map("set")?.into_iter().collect();
        let remove = opts.string_list("remove")?;
        to_map(&crate::config::edit_properties(text, &set, &remove))
    }
}

/// "broker" or "controller", else an error naming the function.
fn node_kind(session: &Session, f: &str, kind: &str) -> Result<&'static str, Box<EvalAltResult>> {
    match kind {
        "broker" => Ok("broker"),
        "controller" => Ok("controller"),
        other => Err(script_error(
            session,
            f,
            crate::error::Error::InvalidInput(format!(
                "{other:?} is not a node kind: give \"broker\" or \"controller\""
            )),
        )),
    }
}

use crate::script::convert::to_map;
use crate::script::{script_error, Session};
use rhai::{EvalAltResult, Map};

/// How `sh` and the inventory commands run a command.
struct CommandSpec<'a> {
    command: &'a str,
    env: std::collections::BTreeMap<String, String>,
    stdin: Option<String>,
    timeout: std::time::Duration,
    /// A non-zero exit fails the script.
    check: bool,
    /// Runs even in a dry run (it changes nothing).
    read_only: bool,
}

fn run_command(session: &Session, f: &str, spec: CommandSpec) -> Result<Map, Box<EvalAltResult>> {
    let CommandSpec {
        command,
        env,
        stdin,
        timeout,
        check,
        read_only,
    } = spec;
    if !read_only {
        session.mutation(f, command, "run", serde_json::json!({"env": env}));
    }
    if session.options.dry_run && !read_only {
        let mut m = Map::new();
        m.insert("command".into(), command.into());
        m.insert("dry_run".into(), rhai::Dynamic::TRUE);
        crate::output::log_line("dry-run", &format!("{f}: would run {command:?}"));
        return Ok(m);
    }
    crate::output::log_line("info", &format!("{f}: running {command:?}"));
    let cmd = command.to_string();
    let result = session
        .bridge()
        .call(f, timeout + std::time::Duration::from_secs(1), async move {
            crate::shell::run(&cmd, &env, stdin.as_deref(), timeout).await
        })
        .map_err(|e| script_error(session, f, e))?;
    if check && result.code != Some(0) {
        let detail = result
            .stderr
            .trim()
            .lines()
            .last()
            .unwrap_or("")
            .to_string();
        return Err(script_error(
            session,
            f,
            crate::error::Error::Failed(format!(
                "{command:?} exited with {}{}",
                result
                    .code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "a signal".into()),
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                }
            )),
        ));
    }
    to_map(&result)
}

/// Runs the inventory's `action` command (restart, start, stop, format) of node `id` of
/// `kind` ("zk", "broker" or "controller"); a dry run only reports it.
pub(crate) fn run_inventory_command(
    session: &Session,
    f: &str,
    kind: &str,
    id: i64,
    action: &str,
) -> Result<Map, Box<EvalAltResult>> {
    run_inventory_command_with(session, f, kind, id, action, None)
}

/// [`run_inventory_command`] with text on the command's stdin (`write_config`); the
/// `read_config` command runs in a dry run too (it changes nothing).
pub(crate) fn run_inventory_command_with(
    session: &Session,
    f: &str,
    kind: &str,
    id: i64,
    action: &str,
    stdin: Option<String>,
) -> Result<Map, Box<EvalAltResult>> {
    super::zookeeper::inventory_matches(session, f, kind)?;
    let inv = &session.settings.inventory;
    let command = if kind == "zk" {
        let server = inv
            .zookeeper_servers
            .iter()
            .find(|z| i64::from(z.id) == id)
            .ok_or_else(|| {
                let known: Vec<String> = inv
                    .zookeeper_servers
                    .iter()
                    .map(|z| z.id.to_string())
                    .collect();
                script_error(
                    session,
                    f,
                    crate::error::Error::InvalidInput(format!(
                        "ZooKeeper server {id} is not in the inventory (known: {})",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    )),
                )
            })?;
        match action {
            "restart" => server.restart.clone(),
            "start" => server.start.clone(),
            "write_config" => server.write_config.clone(),
            "read_config" => None,
            _ => server.stop.clone(),
        }
    } else if kind == "controller" {
        let controller = inv
            .controllers
            .iter()
            .find(|c| i64::from(c.id) == id)
            .ok_or_else(|| {
                let known: Vec<String> = inv.controllers.iter().map(|c| c.id.to_string()).collect();
                script_error(
                    session,
                    f,
                    crate::error::Error::InvalidInput(format!(
                        "controller {id} is not in the inventory (known: {})",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    )),
                )
            })?;
        match action {
            "restart" => controller.restart.clone(),
            "start" => controller.start.clone(),
            "format" => controller.format.clone(),
            "read_config" => controller.read_config.clone(),
            "write_config" => controller.write_config.clone(),
            _ => controller.stop.clone(),
        }
    } else {
        let broker = inv
            .brokers
            .iter()
            .find(|b| i64::from(b.id) == id)
            .ok_or_else(|| {
                script_error(
                    session,
                    f,
                    crate::error::Error::InvalidInput(format!(
                        "broker {id} is not in the inventory"
                    )),
                )
            })?;
        match action {
            "restart" => broker.restart.clone(),
            "start" => broker.start.clone(),
            "format" => broker.format.clone(),
            "read_config" => broker.read_config.clone(),
            "write_config" => broker.write_config.clone(),
            _ => broker.stop.clone(),
        }
    };
    let command = command.ok_or_else(|| {
        script_error(
            session,
            f,
            crate::error::Error::InvalidInput(format!(
                "the inventory has no {action} command for {kind} {id}"
            )),
        )
    })?;
    run_command(
        session,
        f,
        CommandSpec {
            command: &command,
            env: Default::default(),
            stdin,
            timeout: std::time::Duration::from_secs(600),
            check: true,
            read_only: action == "read_config",
        },
    )
}
