//! Rhai functions for the cluster and its brokers.

use rhai::plugin::*;

#[export_module]
pub mod api {
    use crate::kafka::brokers;
    use crate::script::convert::to_array;
    use crate::script::{script_error, session_of};
    use rhai::{EvalAltResult, NativeCallContext};

    /// List the live brokers: id, host, port, rack, and whether it is the controller
    /// (ZooKeeper mode).
    ///
    /// ```rhai
    /// for b in brokers() { print(`${b.id} ${b.host}:${b.port}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn brokers(ctx: NativeCallContext) -> Result<rhai::Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let result = session
            .kafka()
            .and_then(|k| session.block_on("brokers", async move { brokers::brokers(&k).await }))
            .map_err(|e| script_error(&session, "brokers", e))?;
        to_array(&result)
    }
}
