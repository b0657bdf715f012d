//! Rhai functions for contexts and many clusters: list and switch contexts, run code
//! against other clusters, and compare values between them.

use rhai::plugin::*;

/// Contexts and many clusters
///
/// A context of config.toml names one cluster. `contexts()` lists them; `on()` runs code
/// against another one and `on_each()` against several (by name or tag), so one script can
/// compare or change a fleet; `diff()` shows where two values differ; in the shell,
/// `use_context()` switches cluster without leaving. From the command line,
/// `--context a,b` or `--tag prod` run `-e` or a runbook against each.
#[export_module]
pub mod api {
    use crate::script::convert::to_map;
    use crate::script::{script_error, session_of};
    use rhai::{Array, Dynamic, EvalAltResult, FnPtr, Map, NativeCallContext};

    /// The contexts of config.toml: `name`, `bootstrap_servers`, `zookeeper`, `tags`,
    /// `production`, `current` (this session's) and `default` (config.toml's
    /// `current_context`).
    ///
    /// ```rhai
    /// for c in contexts().filter(|c| c.tags.contains("prod")) { print(c.name); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn contexts(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let all = crate::config::contexts().map_err(|e| script_error(&session, "contexts", e))?;
        let here = session.settings.context_name.clone();
        all.into_iter()
            .map(|c| {
                let current = here.as_deref() == Some(c.name.as_str());
                let mut m = to_map(&c)?;
                m.insert("current".into(), current.into());
                Ok(Dynamic::from_map(m))
            })
            .collect()
    }

    /// Runs `body` against another context of config.toml (a context's name, or a tag
    /// that names exactly one): every function inside uses that cluster's connections,
    /// security and inventory. Returns what `body` returns. Dry runs and the audit trail
    /// record the changes with the context's name.
    ///
    /// ```rhai
    /// let eu = on("prod-eu", || describe_topic("orders").partitions.len());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn on(
        ctx: NativeCallContext,
        target: &str,
        body: FnPtr,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "on";
        let names =
            crate::config::expand_contexts(target).map_err(|e| script_error(&session, f, e))?;
        let [name] = names.as_slice() else {
            return Err(script_error(
                &session,
                f,
                crate::error::Error::InvalidInput(format!(
                    "{target:?} names {} contexts ({}); on() runs against one, on_each() against several",
                    names.len(),
                    names.join(", ")
                )),
            ));
        };
        let other = session
            .for_context(name)
            .map_err(|e| script_error(&session, f, e))?;
        crate::script::within_session(other, || body.call_within_context::<Dynamic>(&ctx, ()))
    }

    /// Runs `body` against each context that `targets` names (a context, a tag, or a list
    /// of them), one after the other, and returns a map context → what `body` returned,
    /// or `#{error: "…"}` for a context where it failed: one unreachable cluster is
    /// reported without stopping the others. With `#{parallel: true}` the contexts run at
    /// the same time, each on its own engine (the closure sees the variables it captured,
    /// not the script's later changes).
    ///
    /// ```rhai
    /// let counts = on_each("prod", || list_topics().len());
    /// for name in counts.keys() { print(`${name}: ${counts[name]}`); }
    /// let lags = on_each(["prod-eu", "prod-us"], || lag().len(), #{parallel: true});
    /// ```
    #[rhai_fn(return_raw, name = "on_each")]
    pub fn on_each_with(
        ctx: NativeCallContext,
        targets: Dynamic,
        body: FnPtr,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "on_each";
        let opts = crate::script::convert::Options::new(f, &options, &["parallel"])?;
        let parallel = opts.bool("parallel")?.unwrap_or(false);
        let wanted = if let Some(list) = targets.clone().try_cast::<rhai::Array>() {
            list.iter()
                .map(|t| {
                    t.clone()
                        .into_string()
                        .map_err(|_| format!("{f}: targets must be names or tags"))
                })
                .collect::<Result<Vec<String>, _>>()?
                .join(",")
        } else {
            targets
                .into_string()
                .map_err(|_| format!("{f}: targets must be a context, a tag or a list of them"))?
        };
        let names =
            crate::config::expand_contexts(&wanted).map_err(|e| script_error(&session, f, e))?;
        let outcomes: Vec<(String, Result<Dynamic, String>)> = if parallel {
            // The script's functions (the closure among them) for the other engines.
            let mut lib = rhai::Module::new();
            for m in ctx.iter_namespaces() {
                lib.combine(m.clone());
            }
            let lib = rhai::AST::new(std::iter::empty(), lib);
            let lib = &lib;
            std::thread::scope(|scope| {
                let running: Vec<_> = names
                    .iter()
                    .map(|name| {
                        let (session, body) = (session.clone(), body.clone());
                        scope.spawn(move || {
                            let other = session.for_context(name).map_err(|e| e.to_string())?;
                            let engine = crate::script::engine(other);
                            body.call::<Dynamic>(&engine, lib, ())
                                .map_err(|e| crate::script::error_message(&e))
                        })
                    })
                    .collect();
                names
                    .iter()
                    .cloned()
                    .zip(running.into_iter().map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err("the run against this context panicked".into()))
                    }))
                    .collect()
            })
        } else {
            names
                .iter()
                .map(|name| {
                    let outcome = session
                        .for_context(name)
                        .map_err(|e| e.to_string())
                        .and_then(|other| {
                            crate::script::within_session(other, || {
                                body.call_within_context::<Dynamic>(&ctx, ())
                                    .map_err(|e| crate::script::error_message(&e))
                            })
                        });
                    (name.clone(), outcome)
                })
                .collect()
        };
        let mut results = Map::new();
        for (name, outcome) in outcomes {
            let value = match outcome {
                Ok(v) => v,
                Err(message) => {
                    if session.bridge().interrupt().is_set() {
                        return Err(message.into());
                    }
                    let mut m = Map::new();
                    m.insert("error".into(), message.into());
                    Dynamic::from_map(m)
                }
            };
            results.insert(name.into(), value);
        }
        Ok(results)
    }

    /// Runs `body` against each context `targets` names, one after the other (see the
    /// options form).
    #[rhai_fn(return_raw, name = "on_each")]
    pub fn on_each(
        ctx: NativeCallContext,
        targets: Dynamic,
        body: FnPtr,
    ) -> Result<Map, Box<EvalAltResult>> {
        on_each_with(ctx, targets, body, Map::new())
    }

    /// Switches the shell to another context of config.toml once this line is done:
    /// connections are reopened, the prompt names the new context, and its `init` script
    /// runs. Variables and functions defined so far stay. Only the interactive shell
    /// switches; `run` and `-e` take `--context NAME`.
    ///
    /// ```rhai
    /// use_context("prod-eu");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn use_context(ctx: NativeCallContext, name: &str) -> Result<(), Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "use_context";
        if !session.options.interactive {
            return Err(script_error(
                &session,
                f,
                crate::error::Error::InvalidInput(
                    "only the interactive shell switches context; give --context NAME to run or -e"
                        .into(),
                ),
            ));
        }
        let names = crate::config::contexts().map_err(|e| script_error(&session, f, e))?;
        if !names.iter().any(|c| c.name == name) {
            let known: Vec<&str> = names.iter().map(|c| c.name.as_str()).collect();
            return Err(script_error(
                &session,
                f,
                crate::error::Error::NotFound(format!(
                    "no context {name:?} in config.toml (contexts: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )),
            ));
        }
        session.request_context(name);
        Ok(())
    }

    /// Where two values differ — topic descriptions, config maps, assignments — as rows of
    /// `path`, `left` and `right` (unit on the side that lacks it), in path order. Lists
    /// of plain values compare whole (replica order matters), lists of maps item by item.
    ///
    /// ```rhai
    /// let rows = diff(#{partitions: 3, configs: #{"retention.ms": "1"}}, #{partitions: 6, configs: #{}});
    /// ```
    #[rhai_fn(return_raw)]
    pub fn diff(left: Dynamic, right: Dynamic) -> Result<Array, Box<EvalAltResult>> {
        let left: serde_json::Value = rhai::serde::from_dynamic(&left)?;
        let right: serde_json::Value = rhai::serde::from_dynamic(&right)?;
        crate::script::convert::to_array(&crate::diff::diff(&left, &right))
    }
}
