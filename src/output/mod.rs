//! Rendering of results as tables or JSON, and every write to the terminal outside the REPL
//! editor itself. Rendering is pure (`render`); the `print_*` functions do the writing.

pub mod progress;
mod table;

pub use table::{render_table, render_table_on_terminal, render_table_within};

use serde_json::Value;
use std::io::Write;

/// How results are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Tables and plain text for people.
    Table,
    /// JSON for programs (`--json`).
    Json,
}

/// Renders a result. `None` for a unit result (nothing to print).
pub fn render(value: &Value, format: Format) -> Option<String> {
    if value.is_null() {
        return None;
    }
    match format {
        Format::Json => Some(serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into())),
        Format::Table => Some(render_table(value)),
    }
}

/// The terminal's width when stdout is a terminal; none for pipes and files, whose lines
/// stay whole for the scripts that parse them.
pub fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    // SAFETY: TIOCGWINSZ fills a winsize struct we own; on failure we read nothing.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if ok && size.ws_col > 0 {
        return Some(usize::from(size.ws_col));
    }
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
}

fn stdout_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}

/// Prints a result on stdout.
pub fn print_result(value: &Value, format: Format) {
    let text = match format {
        Format::Table if !value.is_null() && stdout_is_terminal() => {
            Some(render_table_on_terminal(value, terminal_width()))
        }
        _ => render(value, format),
    };
    if let Some(text) = text {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
}

/// Whether stderr gets colours: a terminal, and `NO_COLOR` not set (no-color.org).
pub fn stderr_colour() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Whether the shell's own line (prompt, highlighting) gets colours: stdout is a terminal
/// and `NO_COLOR` is not set.
pub fn stdout_colour() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// `line` in an ANSI colour (`31` red, `33` yellow, ...) when `on`.
pub fn paint(line: &str, code: &str, on: bool) -> String {
    if on {
        format!("\x1b[{code}m{line}\x1b[0m")
    } else {
        line.to_string()
    }
}

/// Prints an error line on stderr: `error: <message>` plus the script position (red on
/// a terminal).
pub fn print_error(message: &str, position: Option<(usize, usize)>, source_name: Option<&str>) {
    let location = match (source_name, position) {
        (Some(name), Some((line, col))) => format!(" (at {name}:{line}:{col})"),
        (None, Some((line, col))) => format!(" (at line {line}, column {col})"),
        _ => String::new(),
    };
    let line = paint(
        &format!("error: {message}{location}"),
        "31",
        stderr_colour(),
    );
    let _ = writeln!(std::io::stderr().lock(), "{line}");
    to_log_file("error", &format!("{message}{location}"));
}

/// Prints a note on stderr.
pub fn print_note(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "note: {message}");
}

/// `print()` from a script: stdout.
pub fn script_print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// `debug()` from a script: stderr with its position.
pub fn script_debug(text: &str, source: Option<&str>, line: Option<usize>, col: Option<usize>) {
    let at = match (source, line) {
        (Some(s), Some(l)) => format!("{s}:{l}:{}", col.unwrap_or(0)),
        (None, Some(l)) => format!("{l}:{}", col.unwrap_or(0)),
        _ => String::new(),
    };
    let _ = writeln!(std::io::stderr().lock(), "[debug {at}] {text}");
}

static LOG_FILE: std::sync::OnceLock<std::sync::Mutex<std::fs::File>> = std::sync::OnceLock::new();

/// Also appends log lines and errors to `path` (`--log-file`), created with mode 0600.
pub fn set_log_file(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    let _ = LOG_FILE.set(std::sync::Mutex::new(file));
    Ok(())
}

fn to_log_file(level: &str, message: &str) {
    if let Some(file) = LOG_FILE.get() {
        if let Ok(mut f) = file.lock() {
            let _ = writeln!(f, "{} {level} {message}", crate::audit::now_rfc3339());
        }
    }
}

/// `log()` / `warn()` from a script: stderr, one line with a level (and the log file).
pub fn log_line(level: &str, message: &str) {
    let line = format!("[{level}] {message}");
    let line = match level {
        "warn" => paint(&line, "33", stderr_colour()),
        "error" => paint(&line, "31", stderr_colour()),
        _ => line,
    };
    let _ = writeln!(std::io::stderr().lock(), "{line}");
    to_log_file(level, message);
}

/// Lines on stdout for a stream of records (`tail` without a callback): buffered, so a
/// million records are not a million writes; flushed when the stream pauses and at its end.
pub struct RecordLines {
    out: std::io::BufWriter<std::io::Stdout>,
    since_flush: std::time::Instant,
    every_line: bool,
}

impl Default for RecordLines {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordLines {
    /// A buffered writer on stdout.
    pub fn new() -> RecordLines {
        RecordLines {
            out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
            since_flush: std::time::Instant::now(),
            every_line: std::io::IsTerminal::is_terminal(&std::io::stdout()),
        }
    }

    /// Writes one line made of `parts`, formatted straight into the buffer; on a terminal at
    /// once, elsewhere when the last flush is 200 ms old.
    pub fn line_of(&mut self, parts: std::fmt::Arguments<'_>) {
        let _ = self.out.write_fmt(parts);
        let _ = self.out.write_all(b"\n");
        if self.every_line || self.since_flush.elapsed() > std::time::Duration::from_millis(200) {
            self.flush();
        }
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        let _ = self.out.flush();
        self.since_flush = std::time::Instant::now();
    }
}

/// Plain text on stdout (help, docs).
pub fn print_text(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Whether a person can be asked: stdin is a terminal.
pub fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal()
}

/// Asks a yes/no question on the terminal. Without a terminal it never waits: it answers
/// `assume_yes` and says so on stderr.
pub fn confirm(question: &str, assume_yes: bool) -> bool {
    use std::io::IsTerminal;
    if assume_yes {
        log_line("info", &format!("{question} — yes (--yes)"));
        return true;
    }
    if !std::io::stdin().is_terminal() {
        log_line(
            "warn",
            &format!("{question} — no (no terminal to ask; pass --yes to agree)"),
        );
        return false;
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Prints the numbered list of changes a dry run planned, on stderr (stdout keeps the
/// script's own result): a list for people, or one JSON document with `--json`.
pub fn print_plan(changes: &[(String, String, String)], format: Format) {
    let mut err = std::io::stderr().lock();
    if format == Format::Json {
        let list: Vec<serde_json::Value> = changes
            .iter()
            .enumerate()
            .map(|(i, (f, target, summary))| serde_json::json!({"step": i + 1, "function": f, "target": target, "change": summary}))
            .collect();
        let _ = writeln!(
            err,
            "{}",
            serde_json::json!({"dry_run": true, "planned_changes": list})
        );
        return;
    }
    if changes.is_empty() {
        let _ = writeln!(err, "dry run: no changes planned");
        return;
    }
    let _ = writeln!(
        err,
        "dry run: {} planned change(s), none made:",
        changes.len()
    );
    for (i, (f, target, summary)) in changes.iter().enumerate() {
        let _ = writeln!(err, "  {:>3}. {f} {target}: {summary}", i + 1);
    }
}
