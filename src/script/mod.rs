//! The scripting layer: the only code that imports rhai. It holds the session (settings,
//! lazily connected clients, the async bridge), the one engine factory every surface uses
//! (REPL, `run`, `-e`, `check`, tests), the registered API modules, and the help system
//! generated from their doc comments.

pub mod api;
pub mod bridge;
pub mod convert;
pub mod help;
pub mod surface;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::kafka::KafkaClient;
use bridge::{Bridge, Interrupt};
use rhai::{Dynamic, Engine, EvalAltResult, Position, Scope, AST};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// How a session behaves.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Mutating functions report what they would do and change nothing.
    pub dry_run: bool,
    /// Confirmations are answered yes.
    pub yes: bool,
    /// Results are printed as JSON.
    pub json: bool,
    /// A person is at a terminal (REPL).
    pub interactive: bool,
}

/// The state behind one engine: what to connect to and how.
pub struct Session {
    /// Cluster addresses, properties, inventory, call timeout.
    pub settings: Settings,
    /// Behaviour flags.
    pub options: SessionOptions,
    bridge: Bridge,
    kafka: OnceLock<std::result::Result<Arc<KafkaClient>, Error>>,
    zookeeper: Mutex<Option<Arc<crate::zk::znodes::ZkSession>>>,
    last_error: Mutex<Option<(String, ExitStatus)>>,
    planned: Mutex<Vec<PlannedChange>>,
    journal: Mutex<Option<crate::journal::Journal>>,
    /// Script arguments, kept as JSON so the session stays `Send + Sync`.
    args: Mutex<serde_json::Map<String, serde_json::Value>>,
    /// Context, cluster id and principal of every audit entry (looked up once).
    audit_origin: OnceLock<crate::audit::Origin>,
    /// Set when a mutation's audit entry could not be written.
    audit_failure: Mutex<Option<String>>,
    /// Where `import "name"` looks (a runbook's directory; else the current directory).
    module_dir: Mutex<Option<std::path::PathBuf>>,
    /// The data path's producers (created on first use, kept for the session).
    producers: crate::kafka::messages::produce::Producers,
    /// The context `use_context` asked the shell to switch to.
    context_request: Mutex<Option<String>>,
    /// The command line's overrides, kept for the sessions of other contexts (timeouts).
    overrides: OnceLock<crate::config::Overrides>,
    /// Sessions of other contexts that `on()` / `on_each()` opened, by context name.
    others: Mutex<std::collections::HashMap<String, SessionRef>>,
    /// The session whose script opened this one with `on()`: its dry-run plan and audit
    /// failures are the run's.
    parent: Option<std::sync::Weak<Session>>,
}

/// A change a dry run would have made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedChange {
    /// The function.
    pub function: String,
    /// What it would change.
    pub target: String,
    /// What it would do.
    pub summary: String,
}

/// A shared session, stored as the engine's tag so registered functions can reach it.
pub type SessionRef = Arc<Session>;

impl Session {
    /// A session for `settings`. Nothing connects until a function needs it.
    pub fn new(
        settings: Settings,
        options: SessionOptions,
        interrupt: Interrupt,
    ) -> Result<SessionRef> {
        let bridge = Bridge::new(interrupt)
            .map_err(|e| Error::Cluster(format!("cannot start the I/O runtime: {e}")))?;
        Ok(Arc::new(Session {
            settings,
            options,
            bridge,
            kafka: OnceLock::new(),
            zookeeper: Mutex::new(None),
            last_error: Mutex::new(None),
            planned: Mutex::new(Vec::new()),
            journal: Mutex::new(None),
            args: Mutex::new(serde_json::Map::new()),
            audit_origin: OnceLock::new(),
            audit_failure: Mutex::new(None),
            module_dir: Mutex::new(None),
            producers: Default::default(),
            context_request: Mutex::new(None),
            overrides: OnceLock::new(),
            others: Mutex::new(std::collections::HashMap::new()),
            parent: None,
        }))
    }

    /// The async bridge.
    pub fn bridge(&self) -> &Bridge {
        &self.bridge
    }

    /// The Kafka admin client (created on first use).
    pub fn kafka(&self) -> Result<Arc<KafkaClient>> {
        self.kafka
            .get_or_init(|| KafkaClient::new(&self.settings).map(Arc::new))
            .clone()
    }

    /// The data path's producers, kept for the session.
    pub fn producers(&self) -> &crate::kafka::messages::produce::Producers {
        &self.producers
    }

    /// Records a mutation: in a dry run it joins the plan printed at the end; otherwise it
    /// is appended to the audit log (secrets masked).
    pub fn mutation(
        &self,
        function: &str,
        target: &str,
        summary: &str,
        arguments: serde_json::Value,
    ) {
        if self.options.dry_run {
            let change = PlannedChange {
                function: function.to_string(),
                target: match (&self.parent, &self.settings.context_name) {
                    (Some(_), Some(context)) => format!("{context}:{target}"),
                    _ => target.to_string(),
                },
                summary: summary.to_string(),
            };
            let root = self.root();
            let holder = root.as_deref().unwrap_or(self);
            if let Ok(mut planned) = holder.planned.lock() {
                planned.push(change);
            };
        } else {
            self.audit(function, target, summary, &arguments);
            crash_after_mutation();
        }
    }

    fn audit(&self, function: &str, target: &str, summary: &str, arguments: &serde_json::Value) {
        let origin = self.audit_origin.get_or_init(|| crate::audit::Origin {
            context: self.settings.context_name.clone(),
            cluster_id: self.cluster_id(),
            principal: crate::audit::identity::kafka_principal(&self.settings.properties),
        });
        if let Err(e) = crate::audit::append(
            origin,
            &self.settings.audit,
            function,
            target,
            arguments,
            summary,
        ) {
            let message = format!(
                "{function} {target}: the change was made, but its audit entry could not be written ({e}); stopping"
            );
            crate::output::log_line("error", &message);
            let root = self.root();
            let holder = root.as_deref().unwrap_or(self);
            if let Ok(mut failed) = holder.audit_failure.lock() {
                failed.get_or_insert(message);
            };
        }
    }

    /// Why the audit trail could not be written, once a mutation's entry was lost: the run
    /// stops at its next step and exits non-zero.
    pub fn audit_failure(&self) -> Option<String> {
        self.audit_failure.lock().ok().and_then(|f| f.clone())
    }

    /// The Kafka cluster id for audit entries: a short look, never a failure of its own.
    fn cluster_id(&self) -> Option<String> {
        let client = self.kafka().ok()?;
        self.bridge
            .call(
                "cluster id",
                std::time::Duration::from_secs(3),
                async move {
                    if !client.has_brokers() {
                        // Only controllers named (--bootstrap-controller): they know it too.
                        return Ok(Some(crate::kafka::quorum::cluster_id(&client).await?));
                    }
                    Ok(client
                        .metadata(Some(&[]))
                        .await?
                        .cluster_id
                        .map(|c| c.to_string()))
                },
            )
            .ok()
            .flatten()
    }

    /// Makes `import "name"` resolve in `dir` for engines built from now on.
    pub fn set_module_dir(&self, dir: std::path::PathBuf) {
        if let Ok(mut d) = self.module_dir.lock() {
            *d = Some(dir);
        }
    }

    /// Sets the script arguments (`--arg k=v`) that `arg()` reads.
    pub fn set_args(&self, args: &rhai::Map) {
        let json: serde_json::Map<String, serde_json::Value> = args
            .iter()
            .filter_map(|(k, v)| {
                rhai::serde::from_dynamic(v)
                    .ok()
                    .map(|v| (k.to_string(), v))
            })
            .collect();
        if let Ok(mut a) = self.args.lock() {
            *a = json;
        }
    }

    /// One script argument.
    pub fn arg(&self, name: &str) -> Option<Dynamic> {
        let value = self.args.lock().ok().and_then(|a| a.get(name).cloned())?;
        rhai::serde::to_dynamic(&value).ok()
    }

    /// Uses `journal` for `step()` (runs of a script file).
    pub fn set_journal(&self, journal: crate::journal::Journal) {
        if let Ok(mut j) = self.journal.lock() {
            *j = Some(journal);
        }
    }

    /// Takes the journal back (to complete it at the end of a successful run).
    pub fn take_journal(&self) -> Option<crate::journal::Journal> {
        self.journal.lock().ok().and_then(|mut j| j.take())
    }

    /// What step `name` returned when it finished in an interrupted earlier run (unit for
    /// a step that returned nothing); none when it did not finish.
    pub fn step_result(&self, name: &str) -> Option<Dynamic> {
        let value = self
            .journal
            .lock()
            .ok()
            .and_then(|j| j.as_ref().and_then(|j| j.finished_value(name).cloned()))?;
        // A plan comes back as the native plan it was (same partitions, same report).
        if let Some(plan) = convert::ScriptPlan::from_json(&value) {
            return Some(Dynamic::from(plan));
        }
        Some(rhai::serde::to_dynamic(&value).unwrap_or(Dynamic::UNIT))
    }

    /// Records step `name` as finished with what it returned.
    pub fn finish_step(&self, name: &str, value: &Dynamic) -> Result<()> {
        let json = convert::to_json(value).map_err(|e| {
            Error::Failed(format!(
                "step {name:?} returned a value the step journal cannot record: {e}"
            ))
        })?;
        if let Ok(mut guard) = self.journal.lock() {
            if let Some(j) = guard.as_mut() {
                j.finish(name, json)
                    .map_err(|e| Error::Failed(format!("cannot write the step journal: {e}")))?;
            }
        }
        Ok(())
    }

    /// The changes a dry run planned, in order.
    pub fn planned_changes(&self) -> Vec<PlannedChange> {
        self.planned.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// The changes planned so far, forgotten here (the shell's preview of one line).
    pub fn take_planned_changes(&self) -> Vec<PlannedChange> {
        self.planned
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }

    /// The session at the top of the `on()` chain, when this one was opened by another.
    fn root(&self) -> Option<SessionRef> {
        let mut at = self.parent.as_ref()?.upgrade()?;
        while let Some(up) = at.parent.as_ref().and_then(|p| p.upgrade()) {
            at = up;
        }
        Some(at)
    }

    /// Keeps the command line's overrides for the sessions of other contexts.
    pub fn set_overrides(&self, overrides: crate::config::Overrides) {
        let _ = self.overrides.set(overrides);
    }

    /// The session of another context of config.toml (opened once, then reused): its own
    /// servers, security and inventory; this session's options, interrupt and timeouts
    /// given on the command line.
    pub fn for_context(self: &SessionRef, name: &str) -> Result<SessionRef> {
        if self.settings.context_name.as_deref() == Some(name) && self.parent.is_none() {
            return Ok(self.clone());
        }
        if let Some(s) = self.others.lock().ok().and_then(|o| o.get(name).cloned()) {
            return Ok(s);
        }
        let base = self.overrides.get().cloned().unwrap_or_default();
        let overrides = crate::config::Overrides {
            context: Some(name.to_string()),
            bootstrap_servers: None,
            bootstrap_controllers: None,
            zookeeper: None,
            command_config: None,
            ..base.clone()
        };
        let resolved = crate::config::resolve(&overrides)?;
        let bridge = Bridge::new(self.bridge.interrupt().clone())
            .map_err(|e| Error::Cluster(format!("cannot start the I/O runtime: {e}")))?;
        let session = Arc::new(Session {
            settings: resolved.settings,
            options: self.options.clone(),
            bridge,
            kafka: OnceLock::new(),
            zookeeper: Mutex::new(None),
            last_error: Mutex::new(None),
            planned: Mutex::new(Vec::new()),
            journal: Mutex::new(None),
            args: Mutex::new(self.args.lock().map(|a| a.clone()).unwrap_or_default()),
            audit_origin: OnceLock::new(),
            audit_failure: Mutex::new(None),
            module_dir: Mutex::new(self.module_dir.lock().ok().and_then(|d| d.clone())),
            context_request: Mutex::new(None),
            overrides: OnceLock::from(base),
            others: Mutex::new(std::collections::HashMap::new()),
            parent: Some(Arc::downgrade(self)),
            producers: Default::default(),
        });
        if let Ok(mut others) = self.others.lock() {
            others.insert(name.to_string(), session.clone());
        }
        Ok(session)
    }

    /// Asks the shell to switch to `context` once the current line is done.
    pub fn request_context(&self, context: &str) {
        if let Ok(mut r) = self.context_request.lock() {
            *r = Some(context.to_string());
        }
    }

    /// The context switch asked for by the line just run, if any.
    pub fn take_context_request(&self) -> Option<String> {
        self.context_request.lock().ok().and_then(|mut r| r.take())
    }

    /// How this context's ZooKeeper sessions authenticate and encrypt.
    pub fn zookeeper_auth(&self) -> crate::zk::security::ZkAuth {
        crate::zk::security::ZkAuth {
            digest: self.settings.zookeeper_auth.clone(),
            sasl: self.settings.zookeeper_sasl.clone(),
            tls: self.settings.zookeeper_tls.clone(),
            kerberos: self.settings.zookeeper_kerberos.clone(),
        }
    }

    /// The ZooKeeper session (connected on first use).
    pub fn zookeeper(&self) -> Result<Arc<crate::zk::znodes::ZkSession>> {
        if let Some(z) = self.zookeeper.lock().ok().and_then(|z| z.clone()) {
            if !z.is_over() {
                return Ok(z);
            }
        }
        let connect = self.zookeeper_connect()?;
        let auth = self.zookeeper_auth();
        let timeout = self.settings.call_timeout;
        let connect_timeout = self.settings.node_timeouts.connect;
        let session = self.block_on("connecting to ZooKeeper", async move {
            crate::zk::znodes::ZkSession::connect(&connect, &auth, timeout, connect_timeout).await
        })?;
        let session = Arc::new(session);
        if let Ok(mut slot) = self.zookeeper.lock() {
            *slot = Some(session.clone());
        }
        Ok(session)
    }

    /// The ZooKeeper connect string, or an error saying that this context has none (and,
    /// when the cluster runs KRaft, where its controller quorum is looked at instead).
    pub fn zookeeper_connect(&self) -> Result<crate::config::ZkConnect> {
        if let Some(connect) = &self.settings.zookeeper {
            return Ok(connect.clone());
        }
        let context = match &self.settings.context_name {
            Some(name) => format!("context {name:?} names no ZooKeeper"),
            None => "no ZooKeeper is configured".to_string(),
        };
        // Only a hint: a short look at the cluster, never a failure of its own.
        let kraft = self.kafka().ok().and_then(|k| {
            self.bridge
                .call(
                    "cluster mode",
                    std::time::Duration::from_secs(3),
                    async move { crate::kafka::brokers::is_kraft(&k).await },
                )
                .ok()
        });
        Err(Error::Config(match kraft {
            Some(true) => format!(
                "{context}, and the cluster runs KRaft (no ZooKeeper): its controller quorum is shown by quorum_status() and quorum_healthy()"
            ),
            _ => format!("{context}: set `zookeeper` in the context or pass --zookeeper HOST:PORT[/chroot]"),
        }))
    }

    /// Waits `duration` through the bridge, so Ctrl-C and the run's --timeout still stop
    /// it: the one way registered functions pause.
    pub fn pause(&self, what: &str, duration: std::time::Duration) -> Result<()> {
        self.bridge.call(
            what,
            duration + std::time::Duration::from_secs(1),
            async move {
                tokio::time::sleep(duration).await;
                Ok(())
            },
        )
    }

    /// Runs async domain work through the bridge under the call timeout.
    pub fn block_on<T>(
        &self,
        what: &str,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        self.bridge.call(what, self.settings.call_timeout, work)
    }

    /// Records the classification of an error raised into a script, so the CLI can pick
    /// the exit code when it escapes.
    fn remember_error(&self, message: &str, status: ExitStatus) {
        let root = self.root();
        let holder = root.as_deref().unwrap_or(self);
        if let Ok(mut last) = holder.last_error.lock() {
            *last = Some((message.to_string(), status));
        };
    }

    /// The exit status for an error that ended a script.
    pub fn exit_status_of(&self, err: &EvalAltResult) -> ExitStatus {
        match innermost(err) {
            EvalAltResult::ErrorTerminated(value, _) => match value.clone().into_string() {
                Ok(s) if s == "timeout" => ExitStatus::Timeout,
                Ok(s) if s == "audit" => ExitStatus::ScriptError,
                _ => ExitStatus::Refused,
            },
            EvalAltResult::ErrorRuntime(value, _) => {
                let text = value.to_string();
                let last = self.last_error.lock().ok().and_then(|l| l.clone());
                match last {
                    Some((message, status)) if message == text => status,
                    _ => ExitStatus::ScriptError,
                }
            }
            _ => ExitStatus::ScriptError,
        }
    }
}

/// Test hook of the kill-anywhere tests (`tests/common/crash.rs`, `tests/zk_to_kraft.rs`,
/// the desired-state apply in `tests/zk_mode.rs`): with
/// `KAFSH_CRASH_AFTER_MUTATIONS=k` the process kills itself with SIGKILL right after its
/// k-th mutation is recorded, as `kill -9` at that point would.
fn crash_after_mutation() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static DONE: AtomicUsize = AtomicUsize::new(0);
    static AT: OnceLock<Option<usize>> = OnceLock::new();
    let at = AT.get_or_init(|| {
        std::env::var("KAFSH_CRASH_AFTER_MUTATIONS")
            .ok()
            .and_then(|v| v.parse().ok())
    });
    if let Some(k) = at {
        if DONE.fetch_add(1, Ordering::SeqCst) + 1 == *k {
            // SAFETY: sends a signal to this process; nothing is read or written.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}

/// The error inside wrappers such as "in function call".
pub fn innermost(err: &EvalAltResult) -> &EvalAltResult {
    match err {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => innermost(inner),
        other => other,
    }
}

/// Turns a domain error into a script error named after the function: `fn_name: message`.
pub fn script_error(session: &Session, fn_name: &str, err: Error) -> Box<EvalAltResult> {
    let status = err.exit_status();
    let text = match &err {
        Error::OutOfProportion(m) => {
            format!("{m}; refused without #{{force: true}} (a dry run with force shows the change)")
        }
        other => other.to_string(),
    };
    let message = if text.starts_with(&format!("{fn_name}:"))
        || text.starts_with(&format!("{fn_name} timed out"))
    {
        text
    } else {
        format!("{fn_name}: {text}")
    };
    session.remember_error(&message, status);
    Box::new(EvalAltResult::ErrorRuntime(message.into(), Position::NONE))
}

/// Guards a destructive call that matches `count` objects (`what`, e.g. "12 topics matching
/// \"test-.*\""): above the context's `confirm_above` it asks in a terminal, and without
/// one refuses unless `--yes` or `force`. A dry run only reports, so it never asks.
pub fn confirm_many(
    session: &Session,
    fn_name: &str,
    count: usize,
    what: &str,
    force: bool,
) -> std::result::Result<(), Box<EvalAltResult>> {
    let guard = session.settings.guard_rails;
    if force || session.options.dry_run || !guard.needs_confirmation(count as u64) {
        return Ok(());
    }
    let question = format!("{fn_name}: this changes {what}. Go on?");
    use std::io::IsTerminal;
    if session.options.yes || std::io::stdin().is_terminal() {
        if crate::output::confirm(&question, session.options.yes) {
            return Ok(());
        }
        return Err(script_error(
            session,
            fn_name,
            Error::Refused(format!("declined: {what} left unchanged")),
        ));
    }
    Err(script_error(
        session,
        fn_name,
        Error::Refused(format!(
            "{what} is more than {} and there is no terminal to confirm it; pass --yes or #{{force: true}}",
            guard.confirm_above
        )),
    ))
}

/// [`confirm_many`] that first shows `items` (one line each) when it is going to ask, so
/// the operator sees exactly what a yes changes.
pub fn confirm_many_listing(
    session: &Session,
    fn_name: &str,
    count: usize,
    what: &str,
    items: &[String],
    force: bool,
) -> std::result::Result<(), Box<EvalAltResult>> {
    use std::io::IsTerminal;
    let guard = session.settings.guard_rails;
    let asks = !force
        && !session.options.dry_run
        && guard.needs_confirmation(count as u64)
        && (session.options.yes || std::io::stdin().is_terminal());
    if asks {
        let mut text = format!("{fn_name}: {what}:");
        for item in items {
            text.push_str("\n  ");
            text.push_str(item);
        }
        crate::output::log_line("info", &text);
    }
    confirm_many(session, fn_name, count, what, force)
}

/// Runs one Kafka domain call through the session's bridge, naming `fn_name` in errors.
pub fn kafka_call<T, F, Fut>(
    session: &Session,
    fn_name: &str,
    work: F,
) -> std::result::Result<T, Box<EvalAltResult>>
where
    F: FnOnce(Arc<KafkaClient>) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    kafka_call_for(session, fn_name, session.settings.call_timeout, work)
}

/// [`kafka_call`] for a domain workflow that bounds each of its steps by the call timeout
/// itself (a wait, election rounds): `limit` is the bridge's backstop above their sum.
pub fn kafka_call_for<T, F, Fut>(
    session: &Session,
    fn_name: &str,
    limit: std::time::Duration,
    work: F,
) -> std::result::Result<T, Box<EvalAltResult>>
where
    F: FnOnce(Arc<KafkaClient>) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let kafka = session
        .kafka()
        .map_err(|e| script_error(session, fn_name, e))?;
    kafka.take_notes();
    let waiting = kafka.clone();
    let result = session
        .bridge
        .call_explained(fn_name, limit, work(kafka.clone()), move || {
            waiting.waiting()
        });
    // What the call could not get while returning the rest (a broker that did not answer).
    for note in kafka.take_notes() {
        crate::output::log_line("warn", &format!("{fn_name}: {note}"));
    }
    result.map_err(|e| script_error(session, fn_name, e))
}

/// Runs one ZooKeeper domain call through the session's bridge, naming `fn_name` in errors.
pub fn zk_call<T, F, Fut>(
    session: &Session,
    fn_name: &str,
    work: F,
) -> std::result::Result<T, Box<EvalAltResult>>
where
    F: FnOnce(Arc<crate::zk::znodes::ZkSession>) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    session
        .zookeeper()
        .and_then(|z| {
            let servers = z.servers().to_string();
            session.bridge.call_explained(
                fn_name,
                session.settings.call_timeout,
                work(z),
                move || Some(format!("an answer from a ZooKeeper server of {servers}")),
            )
        })
        .map_err(|e| script_error(session, fn_name, e))
}

/// The session of a native call.
pub fn session_of(
    ctx: &rhai::NativeCallContext,
) -> std::result::Result<SessionRef, Box<EvalAltResult>> {
    if let Some(other) = ON_CONTEXT.with(|stack| stack.borrow().last().cloned()) {
        return Ok(other);
    }
    ctx.tag()
        .and_then(|t| t.clone().try_cast::<SessionRef>())
        .ok_or_else(|| "kafsh: this engine has no session (build it with script::engine)".into())
}

thread_local! {
    /// The sessions `on()` runs its closure against, innermost last: every function called
    /// inside uses the top one instead of the engine's own.
    static ON_CONTEXT: std::cell::RefCell<Vec<SessionRef>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `body` with every registered function talking to `session`'s cluster.
pub fn within_session<T>(session: SessionRef, body: impl FnOnce() -> T) -> T {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            ON_CONTEXT.with(|stack| {
                stack.borrow_mut().pop();
            });
        }
    }
    ON_CONTEXT.with(|stack| stack.borrow_mut().push(session));
    let _pop = Pop;
    body()
}

/// The engine factory: every surface and every test builds its engine here.
pub fn engine(session: SessionRef) -> Engine {
    let mut engine = Engine::new();
    engine.set_default_tag(Dynamic::from(session.clone()));
    let limits = session.settings.limits;
    engine.set_max_call_levels(limits.max_call_levels.unwrap_or(64));
    engine.set_max_expr_depths(128, 64);
    // Rhai checks data sizes after every operation once any size limit is set, walking
    // nested arrays and maps: building a 100,000-partition plan became quadratic (minutes).
    // So size limits apply only when a context asks for them.
    if let Some(n) = limits.max_string_size {
        engine.set_max_string_size(n);
    }
    if let Some(n) = limits.max_array_size {
        engine.set_max_array_size(n);
        engine.set_max_map_size(n);
    }
    if let Some(n) = limits.max_operations {
        engine.set_max_operations(n);
    }
    let interrupt = session.bridge().interrupt().clone();
    let audited = Arc::downgrade(&session);
    engine.on_progress(move |_| {
        if audited
            .upgrade()
            .is_some_and(|s| s.audit_failure().is_some())
        {
            Some(Dynamic::from("audit"))
        } else if interrupt.is_set() {
            Some(Dynamic::from("interrupted"))
        } else if interrupt.past_deadline() {
            Some(Dynamic::from("timeout"))
        } else {
            None
        }
    });
    let module_dir = session
        .module_dir
        .lock()
        .ok()
        .and_then(|d| d.clone())
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    engine.set_module_resolver(rhai::module_resolvers::FileModuleResolver::new_with_path(
        module_dir,
    ));
    engine.on_print(crate::output::script_print);
    engine.on_debug(|text, source, pos| {
        crate::output::script_debug(text, source, pos.line(), pos.position())
    });
    api::register(&mut engine);
    engine
}

/// An engine with Rhai's standard library only and nothing of kafsh's: what the editor
/// definitions of the built-ins are read from. Never runs scripts.
pub(crate) fn standard_library_engine() -> Engine {
    Engine::new()
}

/// Compiles a script without touching a cluster.
pub fn compile(engine: &Engine, source: &str) -> std::result::Result<AST, Box<EvalAltResult>> {
    engine.compile(source).map_err(|e| Box::new(e.into()))
}

/// Compiles a script file without touching a cluster.
pub fn compile_file(engine: &Engine, path: &Path) -> std::result::Result<AST, Box<EvalAltResult>> {
    engine.compile_file(path.to_path_buf())
}

/// Evaluates source in a scope.
pub fn eval(
    engine: &Engine,
    scope: &mut Scope,
    source: &str,
) -> std::result::Result<Dynamic, Box<EvalAltResult>> {
    engine.eval_with_scope::<Dynamic>(scope, source)
}

/// "line 3, column 7" of an error, when known.
pub fn error_position(err: &EvalAltResult) -> Option<(usize, usize)> {
    let pos = err.position();
    pos.line().map(|line| (line, pos.position().unwrap_or(0)))
}

/// The one-line message of a script error, with the expected signatures when a kafsh
/// function was called with the wrong arguments.
pub fn describe_error(engine: &Engine, err: &EvalAltResult) -> String {
    if let EvalAltResult::ErrorFunctionNotFound(signature, _) = innermost(err) {
        let name = signature.split(['(', ' ']).next().unwrap_or("").trim();
        let all = help::functions(engine);
        if let Some(doc) = all.get(name) {
            let given = signature[name.len()..].trim();
            return format!(
                "{name}: wrong arguments {given}; expected {}",
                doc.signatures.join(" or ")
            );
        }
        if let Some(close) = help::closest(engine, name) {
            return format!("unknown function {name}; did you mean {close}?");
        }
    }
    error_message(err)
}

/// The one-line message of a script error, without Rhai's position suffix.
pub fn error_message(err: &EvalAltResult) -> String {
    match innermost(err) {
        EvalAltResult::ErrorRuntime(value, _) => value.to_string(),
        EvalAltResult::ErrorTerminated(value, _) => match value.clone().into_string() {
            Ok(s) if s == "timeout" => "stopped: the run's --timeout expired".to_string(),
            Ok(s) if s == "audit" => {
                "stopped: a change was made but its audit entry could not be written".to_string()
            }
            _ => "interrupted".to_string(),
        },
        EvalAltResult::ErrorParsing(kind, _) => format!("syntax error: {kind}"),
        other => {
            let mut text = other.to_string();
            if let Some(i) = text.rfind(" (line ") {
                text.truncate(i);
            }
            text
        }
    }
}
