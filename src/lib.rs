//! kafsh: a scriptable admin shell for Apache Kafka and Apache ZooKeeper.
//!
//! The crate is layered (see ARCHITECTURE.md): `kafka`, `zk` are the domain (typed async
//! functions, no printing, no rhai); `script` is the only code that knows rhai, with `repl`,
//! which holds the engine; `output` and `repl` are the only terminal writers; `config`
//! resolves contexts; `cli` picks a surface.

pub mod audit;
pub mod cli;
pub mod config;
pub mod desired;
pub mod diff;
pub mod error;
pub mod exit;
pub mod guard;
pub mod journal;
pub mod kafka;
pub mod output;
pub mod plan;
pub mod repl;
pub mod runbooks;
pub mod runlock;
pub mod script;
pub mod shell;
pub mod zk;
