//! The registered Rhai API, one module per area. A function's `///` doc comment (with a
//! ```` ```rhai ```` example) is its help text; `help()`, completion, `kafsh docs` and the
//! editor definitions are generated from it, and a test compiles every example.
//!
//! An area's title and introduction are the `///` doc comment on its `pub mod api` (first
//! line the title); `areas()` reads them from the module's metadata, so a new area is one
//! more line in `modules()` and nothing else names it.
//!
//! To add a function: write it in the area's file with a doc comment and an example, call a
//! domain function through `session.block_on`, convert with `convert::to_dynamic`.

pub mod access;
pub mod audit;
pub mod cluster;
pub mod configs;
pub mod contexts;
pub mod desired;
pub mod groups;
pub mod messages;
pub mod quorum;
pub mod reassign;
pub mod shell;
pub mod topics;
pub mod transactions;
pub mod zookeeper;

use rhai::{Engine, Module, Shared};
use std::sync::OnceLock;

/// The registered modules, in the order `help()` and `kafsh docs` list their areas.
fn modules() -> Vec<Module> {
    vec![
        rhai::exported_module!(topics::api),
        rhai::exported_module!(configs::api),
        rhai::exported_module!(cluster::api),
        rhai::exported_module!(groups::api),
        rhai::exported_module!(messages::api),
        rhai::exported_module!(reassign::api),
        rhai::exported_module!(access::api),
        rhai::exported_module!(transactions::api),
        rhai::exported_module!(zookeeper::api),
        rhai::exported_module!(quorum::api),
        rhai::exported_module!(contexts::api),
        rhai::exported_module!(desired::api),
        rhai::exported_module!(shell::api),
        rhai::exported_module!(audit::api),
    ]
}

/// One area of the API: a registered module, titled and introduced by the `///` doc
/// comment on its `pub mod api` (first line the title, the rest the introduction).
#[derive(Debug, Clone)]
pub struct Area {
    /// The heading, e.g. "Topics".
    pub title: String,
    /// What the area is for, in Markdown (may be empty).
    pub introduction: String,
    /// The Rhai names of its functions, sorted.
    pub functions: Vec<String>,
}

impl Area {
    fn of(module: &Module) -> Area {
        let doc = comment_text(&[module.doc().to_string()]);
        let (title, introduction) = doc.split_once('\n').unwrap_or((doc.as_str(), ""));
        let mut functions: Vec<String> = module
            .gen_fn_signatures_with_mapper(std::borrow::Cow::Borrowed)
            .filter_map(|sig| sig.split('(').next().map(|n| n.trim().to_string()))
            .collect();
        functions.sort();
        functions.dedup();
        Area {
            title: title.trim_start_matches('#').trim().to_string(),
            introduction: introduction.trim().to_string(),
            functions,
        }
    }
}

static AREAS: OnceLock<Vec<Area>> = OnceLock::new();

/// The areas of the API with their functions, in the order `help()` lists them.
pub fn areas() -> &'static [Area] {
    AREAS.get_or_init(|| modules().iter().map(Area::of).collect())
}

/// Registers every area's functions into the engine's global namespace.
pub fn register(engine: &mut Engine) {
    for module in modules() {
        engine.register_global_module(Shared::new(module));
    }
    super::convert::register_plan_type(engine);
}

/// Doc comment lines without their `///` markers.
pub(crate) fn comment_text(lines: &[String]) -> String {
    let mut out = Vec::new();
    for block in lines {
        for line in block.lines() {
            let line = line.trim_start();
            let line = line
                .strip_prefix("///")
                .or_else(|| line.strip_prefix("//!"))
                .unwrap_or(line);
            out.push(line.strip_prefix(' ').unwrap_or(line).to_string());
        }
    }
    out.join("\n").trim().to_string()
}
