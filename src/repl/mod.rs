//! The interactive shell: rustyline with history, completion, hints, highlighting and
//! multi-line input; evaluation in one persistent scope; results rendered by `output`.
//! Startup scripts (`init.rhai` beside config.toml, then the context's `init`) run first;
//! `use_context` switches cluster without leaving; in a production context a line that
//! would change the cluster shows its dry run and asks first. Ctrl-C cancels the running
//! expression (or the current line); Ctrl-D exits.

mod helper;

use crate::config::{self, Overrides};
use crate::exit::ExitStatus;
use crate::output::{self, Format};
use crate::script::{self, Session, SessionRef};
use helper::KafshHelper;
use rhai::{Map, Scope, AST};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Config, Editor};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What the shell starts with.
pub struct Shell {
    /// The session of the starting context.
    pub session: SessionRef,
    /// Tables or JSON.
    pub format: Format,
    /// The command line's overrides (kept for contexts switched to: timeouts and limits).
    pub overrides: Overrides,
    /// Whether to run the startup scripts (`--no-init` turns them off).
    pub init: bool,
}

/// A production context's dry-run twin: the same settings with `--dry-run`, whose prints
/// are held back so a preview shows only its plan.
struct Preview {
    session: SessionRef,
    engine: rhai::Engine,
    printed: Arc<Mutex<Vec<String>>>,
}

impl Preview {
    fn new(session: &SessionRef) -> Option<Preview> {
        let mut options = session.options.clone();
        options.dry_run = true;
        let dry = Session::new(
            session.settings.clone(),
            options,
            session.bridge().interrupt().clone(),
        )
        .ok()?;
        let mut engine = script::engine(dry.clone());
        let printed = Arc::new(Mutex::new(Vec::new()));
        let held = printed.clone();
        engine.on_print(move |text| {
            if let Ok(mut p) = held.lock() {
                p.push(text.to_string());
            }
        });
        Some(Preview {
            session: dry,
            engine,
            printed,
        })
    }
}

/// The REPL's state that survives a context switch.
struct Repl {
    session: SessionRef,
    engine: rhai::Engine,
    preview: Option<Preview>,
    scope: Scope<'static>,
    functions: AST,
    format: Format,
}

/// Runs the REPL until Ctrl-D; returns the exit status.
pub fn run(shell: Shell) -> ExitStatus {
    let Shell {
        session,
        format,
        overrides,
        init,
    } = shell;
    let engine = script::engine(session.clone());
    let helper = KafshHelper::new(&engine, session.clone());
    let config = Config::builder()
        .auto_add_history(false)
        .max_history_size(10_000)
        .map(|b| b.build())
        .unwrap_or_default();
    let mut editor: Editor<KafshHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            output::print_error(&format!("cannot start the line editor: {e}"), None, None);
            return ExitStatus::Usage;
        }
    };
    editor.set_helper(Some(helper));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let mut scope = Scope::new();
    scope.push_constant("args", Map::new());
    let mut repl = Repl {
        preview: None,
        session,
        engine,
        scope,
        functions: AST::empty(),
        format,
    };
    greet(&repl.session);
    if init {
        if let Some(path) = config::init_script_path().filter(|p| p.exists()) {
            repl.run_init(&path);
        }
        repl.run_context_init();
    }
    loop {
        repl.session.bridge().interrupt().reset();
        match editor.readline(&prompt(&repl.session)) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                // As bash's HISTCONTROL=ignorespace: a line typed with a leading space
                // (one holding a secret, say) is not remembered.
                if !line.starts_with(' ') {
                    let _ = editor.add_history_entry(line.as_str());
                    if let Some(path) = &history {
                        save_history(&mut editor, path);
                    }
                }
                repl.evaluate(&line);
                if let Some(name) = repl.session.take_context_request() {
                    match switch_context(&repl.session, &overrides, &name) {
                        Ok(session) => {
                            repl.engine = script::engine(session.clone());
                            repl.preview = None;
                            editor
                                .set_helper(Some(KafshHelper::new(&repl.engine, session.clone())));
                            repl.session = session;
                            greet(&repl.session);
                            if init {
                                repl.run_context_init();
                            }
                        }
                        Err(e) => output::print_error(&format!("use_context: {e}"), None, None),
                    }
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                output::print_error(&format!("line editor: {e}"), None, None);
                return ExitStatus::Usage;
            }
        }
    }
    ExitStatus::Ok
}

fn context_name(session: &Session) -> String {
    session
        .settings
        .context_name
        .clone()
        .unwrap_or_else(|| "default".into())
}

/// `kafsh:NAME> `, and `kafsh:NAME [PRODUCTION]> ` for a production context (red on a
/// terminal, by the helper).
fn prompt(session: &Session) -> String {
    if session.settings.production {
        format!("kafsh:{} [PRODUCTION]> ", context_name(session))
    } else {
        format!("kafsh:{}> ", context_name(session))
    }
}

fn greet(session: &Session) {
    let servers = if session.settings.bootstrap_servers.is_empty() {
        session.settings.bootstrap_controllers.join(",")
    } else {
        session.settings.bootstrap_servers.join(",")
    };
    output::print_text(&format!(
        "kafsh {} — context {} ({servers}){}. help() lists functions; Ctrl-D exits.",
        env!("CARGO_PKG_VERSION"),
        context_name(session),
        if session.settings.production {
            " — PRODUCTION: a line that changes the cluster shows its dry run and asks first"
        } else {
            ""
        }
    ));
}

/// A session for context `name`: the command line's timeouts and limits stay, its
/// cluster overrides (which named the first context's servers) do not.
fn switch_context(
    current: &SessionRef,
    overrides: &Overrides,
    name: &str,
) -> crate::error::Result<SessionRef> {
    let overrides = Overrides {
        context: Some(name.to_string()),
        bootstrap_servers: None,
        bootstrap_controllers: None,
        zookeeper: None,
        command_config: None,
        ..overrides.clone()
    };
    let resolved = config::resolve(&overrides)?;
    for note in &resolved.notes {
        output::print_note(note);
    }
    let session = Session::new(
        resolved.settings,
        current.options.clone(),
        current.bridge().interrupt().clone(),
    )?;
    session.set_overrides(overrides);
    Ok(session)
}

impl Repl {
    /// Runs a startup script in the shell's scope: its functions and variables stay. An
    /// error is reported with the file and position; the shell goes on.
    fn run_init(&mut self, path: &Path) {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                output::print_error(&format!("init script {}: {e}", path.display()), None, None);
                return;
            }
        };
        let name = path.display().to_string();
        let ast = match self.engine.compile_with_scope(&self.scope, &text) {
            Ok(mut ast) => {
                ast.set_source(name.as_str());
                ast
            }
            Err(e) => {
                let err: Box<rhai::EvalAltResult> = Box::new(e.into());
                output::print_error(
                    &format!("init script: {}", script::error_message(&err)),
                    script::error_position(&err),
                    Some(&name),
                );
                return;
            }
        };
        let combined = self.functions.merge(&ast);
        if let Err(err) = self
            .engine
            .eval_ast_with_scope::<rhai::Dynamic>(&mut self.scope, &combined)
        {
            output::print_error(
                &format!(
                    "init script: {}",
                    script::describe_error(&self.engine, &err)
                ),
                script::error_position(&err),
                Some(&name),
            );
        }
        self.functions = self.functions.merge(&ast.clone_functions_only());
    }

    /// The context's own `init` (relative to config.toml's directory).
    fn run_context_init(&mut self) {
        let Some(init) = self.session.settings.init.clone() else {
            return;
        };
        let path = if init.is_relative() {
            config::config_path()
                .and_then(|c| c.parent().map(|d| d.join(&init)))
                .unwrap_or(init)
        } else {
            init
        };
        self.run_init(&path);
    }

    fn evaluate(&mut self, line: &str) {
        let ast = match self.engine.compile_with_scope(&self.scope, line) {
            Ok(ast) => ast,
            Err(e) => {
                let err: Box<rhai::EvalAltResult> = Box::new(e.into());
                output::print_error(
                    &script::error_message(&err),
                    script::error_position(&err),
                    None,
                );
                return;
            }
        };
        let combined = self.functions.merge(&ast);
        let options = &self.session.options;
        if self.session.settings.production && !options.yes && !options.dry_run {
            match self.preview_then_ask(&combined) {
                Asked::Done => {
                    self.functions = self.functions.merge(&ast.clone_functions_only());
                    return;
                }
                Asked::Declined => return,
                Asked::Go => {}
            }
        }
        match self
            .engine
            .eval_ast_with_scope::<rhai::Dynamic>(&mut self.scope, &combined)
            .and_then(|value| script::surface::flush_queued(&self.session).map(|()| value))
        {
            Ok(value) => script::surface::print_value(&value, self.format),
            Err(err) => output::print_error(
                &script::describe_error(&self.engine, &err),
                script::error_position(&err),
                None,
            ),
        }
        self.functions = self.functions.merge(&ast.clone_functions_only());
    }

    /// In a production context: runs the line as a dry run first. A line that changes
    /// nothing is done (its result is the dry run's, whose reads were real); one that would
    /// change the cluster lists the changes and runs only when the operator agrees.
    fn preview_then_ask(&mut self, ast: &AST) -> Asked {
        if self.preview.is_none() {
            self.preview = Preview::new(&self.session);
        }
        let Some(preview) = &self.preview else {
            return Asked::Go;
        };
        let mut trial = self.scope.clone();
        if let Ok(mut p) = preview.printed.lock() {
            p.clear();
        }
        let result = preview
            .engine
            .eval_ast_with_scope::<rhai::Dynamic>(&mut trial, ast);
        let planned = preview.session.take_planned_changes();
        let context = context_name(&self.session);
        if planned.is_empty() {
            if let Ok(p) = preview.printed.lock() {
                for text in p.iter() {
                    output::script_print(text);
                }
            }
            match result {
                Ok(value) => script::surface::print_value(&value, self.format),
                Err(err) => output::print_error(
                    &script::describe_error(&preview.engine, &err),
                    script::error_position(&err),
                    None,
                ),
            }
            self.scope = trial;
            return Asked::Done;
        }
        let mut question = format!(
            "this line would make {} change(s) on PRODUCTION context {context}:\n",
            planned.len()
        );
        for (i, c) in planned.iter().enumerate() {
            question.push_str(&format!(
                "  {:>3}. {} {}: {}\n",
                i + 1,
                c.function,
                c.target,
                c.summary
            ));
        }
        if let Err(err) = &result {
            question.push_str(&format!(
                "  (its dry run stopped with: {})\n",
                script::describe_error(&preview.engine, err)
            ));
        }
        question.push_str(&format!("make them on {context}?"));
        if output::confirm(&question, false) {
            Asked::Go
        } else {
            output::print_note(&format!("not run: nothing changed on {context}"));
            Asked::Declined
        }
    }
}

enum Asked {
    /// The preview was the run (nothing to change).
    Done,
    /// The operator said no.
    Declined,
    /// Run it for real.
    Go,
}

fn history_path() -> Option<PathBuf> {
    let dir = config::state_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("history"))
}

/// Saves history with mode 0600: it can hold cluster names and commands.
fn save_history(editor: &mut Editor<KafshHelper, DefaultHistory>, path: &PathBuf) {
    if !path.exists() {
        let _ = create_private(path);
    }
    let _ = editor.save_history(path);
    let _ = set_private(path);
}

#[cfg(unix)]
fn create_private(path: &PathBuf) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map(|_| ())
}

#[cfg(unix)]
fn set_private(path: &PathBuf) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}
