//! Rhai functions for topics: list and describe.

use rhai::plugin::*;

#[export_module]
pub mod api {
    use crate::kafka::topics;
    use crate::script::convert::{to_array, to_map, Options};
    use crate::script::{script_error, session_of};
    use rhai::{EvalAltResult, Map, NativeCallContext};

    /// List topic names, sorted, without internal topics (like `kafka-topics.sh --list`).
    ///
    /// Options: `internal` (bool) includes `__consumer_offsets` and the like.
    ///
    /// ```rhai
    /// let names = list_topics();
    /// let everything = list_topics(#{internal: true});
    /// ```
    #[rhai_fn(return_raw, name = "list_topics")]
    pub fn list_topics(ctx: NativeCallContext) -> Result<rhai::Array, Box<EvalAltResult>> {
        list_topics_with(ctx, Map::new())
    }

    /// List topic names with options (`internal`).
    #[rhai_fn(return_raw, name = "list_topics")]
    pub fn list_topics_with(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<rhai::Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let opts = Options::new("list_topics", &options, &["internal"])?;
        let list_options = topics::ListOptions {
            internal: opts.bool("internal")?.unwrap_or(false),
        };
        let result = session
            .kafka()
            .and_then(|k| {
                session.block_on("list_topics", async move {
                    topics::list_topics(&k, &list_options).await
                })
            })
            .map_err(|e| script_error(&session, "list_topics", e))?;
        to_array(&result)
    }

    /// Describe a topic: partition count, replication factor, non-default configs, and per
    /// partition the leader, replicas (preferred leader first), ISR and offline replicas —
    /// the fields of `kafka-topics.sh --describe`.
    ///
    /// ```rhai
    /// let t = describe_topic("peter-topic");
    /// print(`${t.topic}: ${t.partition_count} partitions, leader of 0 is ${t.partitions[0].leader}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn describe_topic(ctx: NativeCallContext, name: &str) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let name = name.to_string();
        let result = session
            .kafka()
            .and_then(|k| {
                session.block_on("describe_topic", async move {
                    topics::describe_topic(&k, &name).await
                })
            })
            .map_err(|e| script_error(&session, "describe_topic", e))?;
        to_map(&result)
    }
}
