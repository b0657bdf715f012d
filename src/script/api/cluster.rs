//! Rhai functions for the cluster and its brokers.

use rhai::plugin::*;

/// The context's ZooKeeper session when it names one and the cluster runs in ZooKeeper
/// mode: there the partition health gates read the partition state znodes, the current
/// source (see `cluster::partitions_current`). None when the context names none, the
/// cluster runs KRaft (a migrated cluster's context may still name its stopped ZooKeeper,
/// which must not cost every gate a connection timeout) or ZooKeeper cannot be reached:
/// the brokers' metadata is then the only answer there is.
fn current_source(
    session: &crate::script::Session,
) -> Option<std::sync::Arc<crate::zk::znodes::ZkSession>> {
    session.settings.zookeeper.as_ref()?;
    let kraft = crate::script::kafka_call(session, "cluster mode", |k| async move {
        crate::kafka::brokers::is_kraft(&k).await
    })
    .ok()?;
    if kraft {
        return None;
    }
    session.zookeeper().ok()
}

/// Cluster and brokers
///
/// The cluster at a glance: its brokers and controller, replica sizes per broker, the
/// partitions that need attention (under-replicated, under min ISR, offline), and what a
/// new broker needs (a free id, its server.properties).
#[export_module]
pub mod api {
    use super::current_source;
    use crate::kafka::{brokers, cluster, log_dirs};
    use crate::script::convert::{to_array, to_map, Options};
    use crate::script::{kafka_call as call, session_of};
    use rhai::{Array, EvalAltResult, Map, NativeCallContext};

    /// List the registered brokers, each checked on a new connection: id, host, port, rack,
    /// `controller` (the active controller: ZooKeeper mode's controller broker, KRaft's
    /// quorum leader — the node `cluster().controller` names), `roles` ("broker", or
    /// "broker,controller" for a KRaft node that is also a quorum voter), and `status`: `up`
    /// (with `api_versions_ms`), `hung` (accepts connections but does not answer ApiVersions
    /// within the `api_versions_timeout`) or `down` (refuses connections), with the `error`.
    ///
    /// ```rhai
    /// for b in brokers() { print(`${b.id} ${b.host}:${b.port} ${b.status}`); }
    /// let hung = brokers().filter(|b| b.status == "hung").map(|b| b.id);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn brokers(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let result = call(&session, "brokers", |k| async move {
            Ok(brokers::checked(&k).await?.brokers)
        })?;
        to_array(&result)
    }

    /// Cluster summary: id, mode (zookeeper or kraft), the active `controller` (KRaft: the
    /// quorum leader, from DescribeQuorum; a `note` says why when it is not known), the
    /// quorum's voters (`controllers`, KRaft), the registered `brokers` and which of them are
    /// `hung_brokers` or `down_brokers` (as `brokers()` checks them), topic and partition
    /// counts, and how many partitions are under-replicated, offline or under
    /// min.insync.replicas.
    ///
    /// ```rhai
    /// let c = cluster();
    /// if c.offline > 0 { fail(`${c.offline} partitions are offline`); }
    /// if c.hung_brokers.len() > 0 { fail(`brokers not answering: ${c.hung_brokers}`); }
    /// ```
    #[rhai_fn(return_raw, name = "cluster")]
    pub fn cluster_summary(ctx: NativeCallContext) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let zk = current_source(&session);
        let result = call(&session, "cluster", |k| async move {
            cluster::cluster(&k, zk.as_deref()).await
        })?;
        to_map(&result)
    }

    /// Partitions whose ISR is smaller than their replica list.
    ///
    /// On a ZooKeeper-mode cluster whose context names its ZooKeeper, each partition's
    /// leader and ISR are read from its state znode (`/brokers/topics/<t>/partitions/<p>/state`):
    /// Kafka before 2.7 shows ISR changes to the brokers' metadata seconds late, and a gate
    /// must not wait on, or pass on, that stale answer.
    ///
    /// ```rhai
    /// let urp = under_replicated();
    /// print(`${urp.len()} under-replicated partitions`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn under_replicated(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let zk = current_source(&session);
        let result = call(&session, "under_replicated", |k| async move {
            Ok(cluster::under_replicated(
                &cluster::partitions_current(&k, zk.as_deref()).await?.1,
            ))
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
        let zk = current_source(&session);
        let result = call(&session, "offline", |k| async move {
            Ok(cluster::offline(
                &cluster::partitions_current(&k, zk.as_deref()).await?.1,
            ))
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
        let zk = current_source(&session);
        let result = call(&session, "under_min_isr", |k| async move {
            Ok(cluster::under_min_isr(
                &cluster::partitions_current(&k, zk.as_deref()).await?.1,
            ))
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

    /// Broker ids nobody uses yet: not in the cluster metadata, not registered in ZooKeeper
    /// (when the context has it) and not in the inventory — the seed's "broker.id must not
    /// collide". Returns the `n` ids after the highest one in use.
    ///
    /// ```rhai
    /// let ids = free_broker_ids(2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn free_broker_ids(ctx: NativeCallContext, n: i64) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        if !(1..=1000).contains(&n) {
            return Err(crate::script::script_error(
                &session,
                "free_broker_ids",
                crate::error::Error::InvalidInput(format!(
                    "asked for {n} ids; give a count from 1 to 1000"
                )),
            ));
        }
        let mut used: std::collections::BTreeSet<i64> =
            call(&session, "free_broker_ids", |k| async move {
                Ok(brokers::brokers(&k)
                    .await?
                    .into_iter()
                    .map(|b| i64::from(b.id))
                    .collect())
            })?;
        used.extend(
            session
                .settings
                .inventory
                .brokers
                .iter()
                .map(|b| i64::from(b.id)),
        );
        if let Some(zk) = current_source(&session) {
            if let Ok(ids) =
                session.block_on(
                    "free_broker_ids",
                    async move { zk.ls("/brokers/ids").await },
                )
            {
                used.extend(ids.iter().filter_map(|i| i.parse::<i64>().ok()));
            }
        }
        let next = used.iter().max().copied().unwrap_or(0) + 1;
        Ok((next..next + n.max(0))
            .map(rhai::Dynamic::from_int)
            .collect())
    }

    /// The server.properties settings of a new broker: `broker_id` (required), `host`,
    /// `port` (9092), `log_dirs`, `rack`, `zookeeper` (default: the context's connect
    /// string). With `kraft: true` the settings of a KRaft broker of the running cluster:
    /// node.id, process.roles, listeners, the controllers' listener name and the quorum
    /// setting of its kind — `controller.quorum.bootstrap.servers` for a dynamic quorum
    /// (kraft.version ≥ 1), `controller.quorum.voters` for a static one — taken from the
    /// cluster (DescribeQuorum) unless `controller_quorum_voters` is given, and, as a
    /// comment, the `kafka-storage.sh format` command line with the cluster id. Refuses an
    /// id that a broker already uses.
    ///
    /// ```rhai
    /// let text = server_properties(#{broker_id: 4, host: "peter-kafka004", log_dirs: "/data/kafka"});
    /// let kraft = server_properties(#{broker_id: 4, kraft: true, host: "peter-kafka004", log_dirs: "/data/kafka"});
    /// ```
    #[rhai_fn(return_raw)]
    pub fn server_properties(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<String, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "server_properties";
        let opts = Options::new(
            f,
            &options,
            &[
                "broker_id",
                "host",
                "port",
                "log_dirs",
                "rack",
                "zookeeper",
                "kraft",
                "controller_quorum_voters",
                "check",
            ],
        )?;
        let id = opts
            .int("broker_id")?
            .ok_or_else(|| format!("{f}: give #{{broker_id: N}}"))?;
        if opts.bool("check")?.unwrap_or(true) {
            let live = call(&session, f, |k| async move { brokers::brokers(&k).await })?;
            if live.iter().any(|b| i64::from(b.id) == id) {
                return Err(crate::script::script_error(
                    &session,
                    f,
                    crate::error::Error::InvalidInput(format!("broker id {id} is already in use; free_broker_ids(1) gives one that is not")),
                ));
            }
        }
        let host = opts.string("host")?.unwrap_or_else(|| "localhost".into());
        let port = opts.int("port")?.unwrap_or(9092);
        let mut lines = Vec::new();
        let mut format_line = None;
        if opts.bool("kraft")?.unwrap_or(false) {
            lines.push(format!("node.id={id}"));
            lines.push("process.roles=broker".into());
            lines.push(format!("listeners=PLAINTEXT://0.0.0.0:{port}"));
            lines.push(format!("advertised.listeners=PLAINTEXT://{host}:{port}"));
            lines.push("inter.broker.listener.name=PLAINTEXT".into());
            match opts.string("controller_quorum_voters")? {
                Some(voters) => {
                    lines.push("controller.listener.names=CONTROLLER".into());
                    lines.push(
                        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
                            .into(),
                    );
                    lines.push(format!("controller.quorum.voters={voters}"));
                }
                None => {
                    let quorum = call(&session, f, |k| async move {
                        crate::kafka::quorum::QuorumSettings::of(
                            &crate::kafka::quorum::describe(&k).await?,
                        )
                    })?;
                    let name = &quorum.listener_name;
                    lines.push(format!("controller.listener.names={name}"));
                    lines.push("# the controllers' listener protocol: as their listener.security.protocol.map says".into());
                    lines.push(format!(
                        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,{name}:PLAINTEXT"
                    ));
                    lines.push(quorum.quorum_line());
                    format_line = Some(format!(
                        "kafka-storage.sh format --cluster-id={} --config server.properties --ignore-formatted",
                        quorum.cluster_id
                    ));
                }
            }
            lines.push(format!(
                "log.dirs={}",
                opts.string("log_dirs")?
                    .unwrap_or_else(|| "/var/lib/kafka/data".into())
            ));
            if let Some(rack) = opts.string("rack")? {
                lines.push(format!("broker.rack={rack}"));
            }
            if let Some(format) = format_line {
                lines.push("# Format its storage before the first start:".into());
                lines.push(format!("#   {format}"));
            }
            return Ok(lines.join("\n") + "\n");
        }
        lines.push(format!("broker.id={id}"));
        let zk = match opts.string("zookeeper")? {
            Some(zk) => zk,
            None => session
                .zookeeper_connect()
                .map_err(|e| crate::script::script_error(&session, f, e))?
                .to_string(),
        };
        lines.push(format!("zookeeper.connect={zk}"));
        lines.push(format!("listeners=PLAINTEXT://0.0.0.0:{port}"));
        lines.push(format!("advertised.listeners=PLAINTEXT://{host}:{port}"));
        if let Some(dirs) = opts.string("log_dirs")? {
            lines.push(format!("log.dirs={dirs}"));
        }
        if let Some(rack) = opts.string("rack")? {
            lines.push(format!("broker.rack={rack}"));
        }
        Ok(lines.join("\n") + "\n")
    }
}
