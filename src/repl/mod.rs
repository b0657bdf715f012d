//! The interactive shell: rustyline with history, completion, multi-line input; evaluation
//! in one persistent scope; results rendered by `output`. Ctrl-C cancels the running
//! expression (or the current line) and returns to the prompt; Ctrl-D exits.

mod helper;

use crate::config;
use crate::exit::ExitStatus;
use crate::output::{self, Format};
use crate::script::{self, SessionRef};
use helper::KafshHelper;
use rhai::{Map, Scope, AST};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Config, Editor};
use std::path::PathBuf;

/// Runs the REPL until Ctrl-D; returns the exit status.
pub fn run(session: SessionRef, format: Format) -> ExitStatus {
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
    let context = session
        .settings
        .context_name
        .clone()
        .unwrap_or_else(|| "default".into());
    output::print_text(&format!(
        "kafsh {} — context {context} ({}). help() lists functions; Ctrl-D exits.",
        env!("CARGO_PKG_VERSION"),
        session.settings.bootstrap_servers.join(",")
    ));
    let prompt = format!("kafsh:{context}> ");
    let mut scope = Scope::new();
    scope.push_constant("args", Map::new());
    let mut functions = AST::empty();
    loop {
        session.bridge().interrupt().reset();
        match editor.readline(&prompt) {
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
                evaluate(&session, &engine, &mut scope, &mut functions, &line, format);
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

fn evaluate(
    session: &SessionRef,
    engine: &rhai::Engine,
    scope: &mut Scope,
    functions: &mut AST,
    line: &str,
    format: Format,
) {
    let ast = match engine.compile_with_scope(scope, line) {
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
    let combined = functions.merge(&ast);
    match engine.eval_ast_with_scope::<rhai::Dynamic>(scope, &combined) {
        Ok(value) => crate::script::surface::print_value(&value, format),
        Err(err) => output::print_error(
            &script::describe_error(engine, &err),
            script::error_position(&err),
            None,
        ),
    }
    *functions = functions.merge(&ast.clone_functions_only());
    let _ = session;
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
