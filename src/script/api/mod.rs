//! The registered Rhai API, one module per area. A function's `///` doc comment (with a
//! ```` ```rhai ```` example) is its help text; `help()`, completion, `kafsh docs` and the
//! editor definitions are generated from it, and a test compiles every example.
//!
//! To add a function: write it in the area's file with a doc comment and an example, call a
//! domain function through `session.block_on`, convert with `convert::to_dynamic`.

pub mod cluster;
pub mod configs;
pub mod groups;
pub mod reassign;
pub mod shell;
pub mod topics;
pub mod zookeeper;

use rhai::{Engine, Module, Shared};
use std::sync::OnceLock;

/// The areas of the API, in the order `help()` lists them.
pub fn modules() -> Vec<(&'static str, Module)> {
    vec![
        ("Topics", rhai::exported_module!(topics::api)),
        ("Configs", rhai::exported_module!(configs::api)),
        ("Cluster and brokers", rhai::exported_module!(cluster::api)),
        ("Consumer groups", rhai::exported_module!(groups::api)),
        ("Reassignment", rhai::exported_module!(reassign::api)),
        ("ZooKeeper", rhai::exported_module!(zookeeper::api)),
        ("Shell and runbooks", rhai::exported_module!(shell::api)),
    ]
}

static AREAS: OnceLock<Vec<(&'static str, Vec<String>)>> = OnceLock::new();

/// Function names per area.
pub fn areas() -> &'static [(&'static str, Vec<String>)] {
    AREAS.get_or_init(|| {
        modules()
            .into_iter()
            .map(|(area, module)| {
                let mut names: Vec<String> = module
                    .gen_fn_signatures_with_mapper(std::borrow::Cow::Borrowed)
                    .filter_map(|sig| sig.split('(').next().map(|n| n.trim().to_string()))
                    .collect();
                names.sort();
                names.dedup();
                (area, names)
            })
            .collect()
    })
}

/// Registers every area's functions into the engine's global namespace.
pub fn register(engine: &mut Engine) {
    for (_, module) in modules() {
        engine.register_global_module(Shared::new(module));
    }
}
