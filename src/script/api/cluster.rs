//! Rhai functions for the cluster and its brokers.

use rhai::plugin::*;

#[export_module]
pub mod api {
    use crate::kafka::{brokers, cluster, log_dirs};
    use crate::script::convert::{to_array, to_map, Options};
    use crate::script::{kafka_call as call, session_of};
    use rhai::{Array, EvalAltResult, Map, NativeCallContext};

    /// List the live brokers: id, host, port, rack, and whether it is the controller
    /// (ZooKeeper mode).
    ///
    /// ```rhai
    /// for b in brokers() { print(`${b.id} ${b.host}:${b.port}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn brokers(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let result = call(&session, "brokers", |k| async move {
            brokers::brokers(&k).await
        })?;
        to_array(&result)
    }

    /// Cluster summary: id, mode (zookeeper or kraft), the active controller, live brokers,
    /// topic and partition counts, and how many partitions are under-replicated, offline or
    /// under min.insync.replicas.
    ///
    /// ```rhai
    /// let c = cluster();
    /// if c.offline > 0 { fail(`${c.offline} partitions are offline`); }
    /// ```
    #[rhai_fn(return_raw, name = "cluster")]
    pub fn cluster_summary(ctx: NativeCallContext) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let result = call(&session, "cluster", |k| async move {
            cluster::cluster(&k).await
        })?;
        to_map(&result)
    }

    /// Partitions whose ISR is smaller than their replica list.
    ///
    /// ```rhai
    /// let urp = under_replicated();
    /// print(`${urp.len()} under-replicated partitions`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn under_replicated(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let result = call(&session, "under_replicated", |k| async move {
            Ok(cluster::under_replicated(&cluster::partitions(&k).await?.1))
        })?;
        to_array(&result)
    }

    /// Partitions without a leader.
    ///
    /// ```rhai
    /// if offline().len() > 0 { fail("offline partitions"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn offline(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let result = call(&session, "offline", |k| async move {
            Ok(cluster::offline(&cluster::partitions(&k).await?.1))
        })?;
        to_array(&result)
    }

    /// Partitions whose ISR is below their topic's min.insync.replicas: producers with
    /// acks=all cannot write to them.
    ///
    /// ```rhai
    /// let blocked = under_min_isr();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn under_min_isr(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let result = call(&session, "under_min_isr", |k| async move {
            Ok(cluster::under_min_isr(&cluster::partitions(&k).await?.1))
        })?;
        to_array(&result)
    }

    /// Size of every replica on every broker (DescribeLogDirs, one request per broker) and a
    /// total per topic, biggest first. Options: `brokers` (ids), `topics` (names).
    ///
    /// ```rhai
    /// let biggest = log_dirs().topics[0];
    /// let on_broker_1 = log_dirs(#{brokers: [1], topics: ["peter-topic"]});
    /// ```
    #[rhai_fn(return_raw, name = "log_dirs")]
    pub fn log_dirs_with(ctx: NativeCallContext, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let opts = Options::new("log_dirs", &options, &["brokers", "topics"])?;
        let brokers: Vec<i32> = opts
            .int_list("brokers")?
            .into_iter()
            .map(|b| b as i32)
            .collect();
        let topics = opts.string_list("topics")?;
        let result = call(&session, "log_dirs", |k| async move {
            log_dirs::log_dirs(&k, &brokers, &topics).await
        })?;
        to_map(&result)
    }

    /// Size of every replica on every live broker.
    #[rhai_fn(return_raw, name = "log_dirs")]
    pub fn log_dirs_all(ctx: NativeCallContext) -> Result<Map, Box<EvalAltResult>> {
        log_dirs_with(ctx, Map::new())
    }
}
