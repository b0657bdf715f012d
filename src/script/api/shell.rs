//! Rhai functions of the shell itself: help and messages.

use rhai::plugin::*;

#[export_module]
pub mod api {
    use crate::script::help;
    use rhai::{EvalAltResult, NativeCallContext};

    /// List every function by area with its one-line summary.
    ///
    /// ```rhai
    /// help()
    /// ```
    #[rhai_fn(name = "help")]
    pub fn help_all(ctx: NativeCallContext) -> String {
        help::overview(ctx.engine())
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
}
