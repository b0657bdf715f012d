//! Rhai functions for the KRaft control plane: the controller quorum, feature flags,
//! unregistering brokers, and the inventory commands of controller nodes.

use rhai::plugin::*;

/// KRaft control plane
///
/// The controller quorum of a KRaft cluster — what `kafka-metadata-quorum.sh`,
/// `kafka-features.sh` and `kafka-cluster.sh unregister` do: who leads, who is caught up,
/// whether it is safe to restart a node, adding and removing controllers (dynamic quorums,
/// Kafka ≥ 3.9), feature levels, and the inventory's commands for controller nodes. With
/// `--bootstrap-controller` (or the context's `bootstrap_controllers`) kafsh talks to the
/// controllers directly, as Kafka's tools do since KIP-919; otherwise brokers forward the
/// requests. On a ZooKeeper-mode cluster these functions say so (see `zk_status()`).
#[export_module]
pub mod api {
    use super::{health_limits, record};
    use crate::kafka::features::{self, UpgradeType};
    use crate::kafka::migration;
    use crate::kafka::quorum::{self, Endpoint, NewVoter};
    use crate::script::api::shell::run_inventory_command;
    use crate::script::convert::{to_array, to_map, Options};
    use crate::script::{kafka_call as call, script_error, session_of};
    use rhai::{Array, EvalAltResult, Map, NativeCallContext};

    /// The quorum's status, as `kafka-metadata-quorum.sh describe --status` shows it:
    /// `cluster_id`, `leader_id`, `leader_epoch`, `high_watermark`, `max_follower_lag`
    /// (offsets) and `max_follower_lag_ms`, the `voters` and `observers` (id, directory id,
    /// endpoints), plus the `quorum` kind ("dynamic": kraft.version ≥ 1, or "static"),
    /// `kraft_version` and `leader_time_ms` (the leader's clock when it answered).
    ///
    /// ```rhai
    /// let q = quorum_status();
    /// print(`leader ${q.leader_id} (epoch ${q.leader_epoch}), ${q.voters.len()} voters`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn quorum_status(ctx: NativeCallContext) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let result = call(&session, "quorum_status", |k| async move {
            Ok(quorum::status_of(&quorum::describe(&k).await?))
        })?;
        to_map(&result)
    }

    /// Replication of the metadata log per node, as `describe --replication` shows it: the
    /// leader, the other voters (Follower) and the observers (brokers, and controllers not
    /// yet voting): `node_id`, `directory_id`, `log_end_offset`, `lag`,
    /// `last_fetch_timestamp`, `last_caught_up_timestamp` (ms on the leader's clock, -1
    /// unknown) and `status` (Leader, Follower, Observer).
    ///
    /// ```rhai
    /// let behind = quorum_replication().filter(|r| r.status == "Follower" && r.lag > 100);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn quorum_replication(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let result = call(&session, "quorum_replication", |k| async move {
            Ok(quorum::replication_of(&quorum::describe(&k).await?))
        })?;
        to_array(&result)
    }

    /// Whether the controller quorum is healthy — the judgement `zk_healthy()` gives for
    /// ZooKeeper: one leader among the voters, every voter fetching and within the lag
    /// limits, so a majority caught up — with the `reasons` when not. Also `leader`,
    /// `voters`, `caught_up`, `majority` and `high_watermark`. Defaults: `max_lag` 1000
    /// offsets, `max_lag_ms` 5000 (since it last fetched, and since it was last caught up).
    ///
    /// ```rhai
    /// let h = quorum_healthy(#{max_lag: 100, max_lag_ms: 3000});
    /// if !h.healthy { fail(`the quorum is unhealthy: ${h.reasons}`); }
    /// ```
    #[rhai_fn(return_raw, name = "quorum_healthy")]
    pub fn quorum_healthy_with(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "quorum_healthy";
        let opts = Options::new(f, &options, &["max_lag", "max_lag_ms"])?;
        let limits = health_limits(&session, f, &opts)?;
        let result = call(&session, f, |k| async move {
            Ok(quorum::judge(&quorum::describe(&k).await?, limits))
        })?;
        to_map(&result)
    }

    /// Whether the controller quorum is healthy, with the default limits.
    #[rhai_fn(return_raw, name = "quorum_healthy")]
    pub fn quorum_healthy(ctx: NativeCallContext) -> Result<Map, Box<EvalAltResult>> {
        quorum_healthy_with(ctx, Map::new())
    }

    /// Add a controller to a dynamic quorum as a voter (AddRaftVoter, KIP-853, Kafka ≥
    /// 3.9), as `kafka-metadata-quorum.sh add-controller` does. Give the controller's
    /// `properties` file (node.id, its directory id from meta.properties, its controller
    /// listeners — as the tool reads them), or `node_id`, `directory_id` and `endpoints`
    /// (["CONTROLLER://host:9093"]; "host:port" takes the quorum's listener name). Refused
    /// on a static quorum, for a node that is not observing the quorum caught up (within
    /// `max_lag` / `max_lag_ms`), and — unless `force` — while the quorum is unhealthy.
    /// --dry-run checks and says what would change.
    ///
    /// ```rhai
    /// let o = quorum_status().observers.filter(|o| o.id == 104)[0];
    /// add_controller(#{node_id: 104, directory_id: o.directory_id, endpoints: ["CONTROLLER://ctrl4:9093"]});
    /// ```
    #[rhai_fn(return_raw)]
    pub fn add_controller(ctx: NativeCallContext, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "add_controller";
        let opts = Options::new(
            f,
            &options,
            &[
                "properties",
                "node_id",
                "directory_id",
                "endpoints",
                "force",
                "max_lag",
                "max_lag_ms",
            ],
        )?;
        let force = opts.bool("force")?.unwrap_or(false);
        let limits = health_limits(&session, f, &opts)?;
        let fail = |e| script_error(&session, f, e);
        let new = match opts.string("properties")? {
            Some(path) => {
                if opts.int("node_id")?.is_some() || opts.string("directory_id")?.is_some() {
                    return Err(fail(crate::error::Error::InvalidInput(
                        "give either properties or node_id and directory_id, not both".into(),
                    )));
                }
                NewVoter::from_properties(std::path::Path::new(&path)).map_err(fail)?
            }
            None => {
                let id = opts.int("node_id")?.ok_or_else(|| {
                    fail(crate::error::Error::InvalidInput(
                        "give #{properties: FILE} or #{node_id, directory_id, endpoints}".into(),
                    ))
                })?;
                let id = i32::try_from(id).ok().filter(|i| *i >= 0).ok_or_else(|| {
                    fail(crate::error::Error::InvalidInput(format!(
                        "node_id {id} is not a node id"
                    )))
                })?;
                let directory_id = opts.string("directory_id")?.ok_or_else(|| {
                    fail(crate::error::Error::InvalidInput(format!(
                        "give the directory_id of controller {id} (quorum_status().observers shows it)"
                    )))
                })?;
                quorum::parse_directory_id(&directory_id).map_err(fail)?;
                let endpoints = opts.string_list("endpoints")?;
                let inventory = session
                    .settings
                    .inventory
                    .controllers
                    .iter()
                    .find(|c| c.id == id)
                    .and_then(|c| Some(format!("{}:{}", c.host.as_deref()?, c.port?)));
                let endpoints = if endpoints.is_empty() {
                    inventory.into_iter().collect()
                } else {
                    endpoints
                };
                let listener = if endpoints.iter().any(|e| !e.contains("://")) {
                    call(&session, f, |k| async move {
                        Ok(quorum::QuorumSettings::of(&quorum::describe(&k).await?)?.listener_name)
                    })?
                } else {
                    String::new()
                };
                let endpoints = endpoints
                    .iter()
                    .map(|e| Endpoint::parse(e, Some(&listener)))
                    .collect::<crate::error::Result<Vec<_>>>()
                    .map_err(fail)?;
                NewVoter {
                    id,
                    directory_id,
                    endpoints,
                }
            }
        };
        let dry_run = session.options.dry_run;
        let result = call(&session, f, |k| async move {
            quorum::add_voter(&k, &new, limits, dry_run, force).await
        })?;
        record(&session, f, &result);
        to_map(&result)
    }

    /// Remove voter `node_id` with `directory_id` from a dynamic quorum (RemoveRaftVoter,
    /// KIP-853), as `kafka-metadata-quorum.sh remove-controller` does. Kafka's documented
    /// order: stop the controller first, then remove it. Refused on a static quorum, for a
    /// node that is not a voter with that directory, and when the remaining voters would
    /// have no caught-up majority; removing the active controller or leaving fewer than
    /// three voters needs `#{force: true}`. --dry-run checks and says what would change.
    ///
    /// ```rhai
    /// let v = quorum_status().voters.filter(|v| v.id == 105)[0];
    /// remove_controller(105, v.directory_id);
    /// ```
    #[rhai_fn(return_raw, name = "remove_controller")]
    pub fn remove_controller(
        ctx: NativeCallContext,
        node_id: i64,
        directory_id: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        remove_controller_with(ctx, node_id, directory_id, Map::new())
    }

    /// Remove a voter, with options `force`, `max_lag`, `max_lag_ms`.
    #[rhai_fn(return_raw, name = "remove_controller")]
    pub fn remove_controller_with(
        ctx: NativeCallContext,
        node_id: i64,
        directory_id: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "remove_controller";
        let opts = Options::new(f, &options, &["force", "max_lag", "max_lag_ms"])?;
        let force = opts.bool("force")?.unwrap_or(false);
        let limits = health_limits(&session, f, &opts)?;
        let id = i32::try_from(node_id)
            .ok()
            .filter(|i| *i >= 0)
            .ok_or_else(|| {
                script_error(
                    &session,
                    f,
                    crate::error::Error::InvalidInput(format!("{node_id} is not a node id")),
                )
            })?;
        let directory_id = directory_id.to_string();
        let dry_run = session.options.dry_run;
        let result = call(&session, f, |k| async move {
            quorum::remove_voter(&k, id, &directory_id, limits, dry_run, force).await
        })?;
        record(&session, f, &result);
        to_map(&result)
    }

    /// The feature flags, as `kafka-features.sh describe` shows them: per feature the
    /// supported range of the node that answered (a controller with --bootstrap-controller,
    /// else a broker), the cluster's finalized level and its epoch; `version` and
    /// `supported_versions` are the levels as the tool prints them ("4.2-IV1" for
    /// metadata.version). `#{nodes: true}` lists
    /// every reachable node's supported range instead (brokers, and controllers with
    /// --bootstrap-controller), to check before an upgrade.
    ///
    /// ```rhai
    /// let mv = features().filter(|f| f.feature == "metadata.version")[0];
    /// print(`metadata.version ${mv.version} (level ${mv.finalized_level})`);
    /// ```
    #[rhai_fn(return_raw, name = "features")]
    pub fn features_with(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let opts = Options::new("features", &options, &["nodes"])?;
        if opts.bool("nodes")?.unwrap_or(false) {
            let result = call(&session, "features", |k| async move {
                features::per_node(&k).await
            })?;
            return to_array(&result);
        }
        let result = call(&session, "features", |k| async move {
            features::describe(&k).await
        })?;
        to_array(&result)
    }

    /// The feature flags, as `kafka-features.sh describe` shows them.
    #[rhai_fn(return_raw, name = "features")]
    pub fn features(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        features_with(ctx, Map::new())
    }

    /// Set feature `name` to `level` (UpdateFeatures), as `kafka-features.sh upgrade` /
    /// `downgrade` do. A downgrade needs `#{force: true}` and says what it gives up; it is a
    /// safe one unless `upgrade_type: "unsafe_downgrade"` (metadata lost). --dry-run asks
    /// the controller to validate the change without making it.
    ///
    /// ```rhai
    /// update_feature("kraft.version", 1);
    /// update_feature("group.version", 0, #{force: true});
    /// ```
    #[rhai_fn(return_raw, name = "update_feature")]
    pub fn update_feature_with(
        ctx: NativeCallContext,
        name: &str,
        level: i64,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "update_feature";
        let opts = Options::new(f, &options, &["upgrade_type", "force"])?;
        let force = opts.bool("force")?.unwrap_or(false);
        let upgrade_type = opts
            .string("upgrade_type")?
            .map(|t| UpgradeType::parse(&t))
            .transpose()
            .map_err(|e| script_error(&session, f, e))?;
        let level = i16::try_from(level).map_err(|_| {
            script_error(
                &session,
                f,
                crate::error::Error::InvalidInput(format!("level {level} is not a feature level")),
            )
        })?;
        let name = name.to_string();
        let dry_run = session.options.dry_run;
        let result = call(&session, f, |k| async move {
            features::update(&k, &name, level, upgrade_type, dry_run, force).await
        })?;
        if result.from != result.to {
            session.mutation(
                f,
                &result.feature,
                &format!(
                    "{} ({}){}",
                    result.shown,
                    result.upgrade_type.name(),
                    result
                        .loses
                        .as_ref()
                        .map(|l| format!(": {l}"))
                        .unwrap_or_default()
                ),
                serde_json::json!({"from": result.from, "to": result.to, "upgrade_type": result.upgrade_type}),
            );
        }
        to_map(&result)
    }

    /// Set feature `name` to `level` (an upgrade; a downgrade needs options).
    #[rhai_fn(return_raw, name = "update_feature")]
    pub fn update_feature(
        ctx: NativeCallContext,
        name: &str,
        level: i64,
    ) -> Result<Map, Box<EvalAltResult>> {
        update_feature_with(ctx, name, level, Map::new())
    }

    /// Remove the registration KRaft keeps (fenced) for broker `id` that is gone
    /// (UnregisterBroker), as `kafka-cluster.sh unregister --id` does. Refused while the
    /// broker is registered unfenced or still answers, and while it holds replicas (move
    /// them first). Needs the brokers (--bootstrap-server) to check both. Honours --dry-run.
    ///
    /// ```rhai
    /// unregister_broker(4);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn unregister_broker(ctx: NativeCallContext, id: i64) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "unregister_broker";
        let id = i32::try_from(id).ok().filter(|i| *i >= 0).ok_or_else(|| {
            script_error(
                &session,
                f,
                crate::error::Error::InvalidInput(format!("{id} is not a broker id")),
            )
        })?;
        let dry_run = session.options.dry_run;
        let result = call(&session, f, |k| async move {
            quorum::unregister_broker(&k, id, dry_run).await
        })?;
        session.mutation(
            f,
            &format!("broker {id}"),
            &format!("unregister broker {id} ({})", result.address),
            serde_json::json!({"broker_id": id}),
        );
        to_map(&result)
    }

    /// Where a migration from ZooKeeper to KRaft stands, from what the cluster itself shows:
    /// `phase` ("zookeeper", "controllers", "migrating", "dual-write", "kraft-brokers",
    /// "finalizing", "kraft" or "unknown") and `summary`; `zookeeper` (`/cluster/id`'s
    /// `cluster_id`, `/controller`'s `controller` and `kraft_controller_epoch`, the
    /// `/migration` znode, the `brokers` registered in `/brokers/ids`); `quorum` (leader,
    /// voters, health, `kraft_brokers`: the brokers fetching the metadata log); each
    /// `controllers` entry of the inventory (`up`, `migration_enabled`: it runs with
    /// `zookeeper.metadata.migration.enable`); `zk_brokers`, `kraft_brokers` and
    /// `metadata_migrated`. The controllers are reached at the inventory's `host:port` (or
    /// `--bootstrap-controller`); what does not answer is reported, never an error.
    ///
    /// ```rhai
    /// let m = migration_status();
    /// print(`${m.phase}: ${m.summary}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn migration_status(ctx: NativeCallContext) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "migration_status";
        let nodes: Vec<(i32, String)> = session
            .settings
            .inventory
            .controllers
            .iter()
            .filter_map(|c| {
                let host = c.host.clone()?;
                Some((c.id, format!("{host}:{}", c.port?)))
            })
            .collect();
        let mut settings = session.settings.clone();
        settings.bootstrap_servers.clear();
        if settings.bootstrap_controllers.is_empty() {
            settings.bootstrap_controllers = nodes.iter().map(|(_, a)| a.clone()).collect();
        }
        let zk = if session.settings.zookeeper.is_some() {
            match session.zookeeper() {
                Ok(z) => session
                    .block_on(f, async move { migration::zk_view(&z).await.map(Some) })
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        } else {
            Ok(None)
        };
        let (quorum, controllers) = if settings.bootstrap_controllers.is_empty() {
            (Ok(None), Vec::new())
        } else {
            let client = crate::kafka::KafkaClient::new(&settings)
                .map_err(|e| script_error(&session, f, e))?;
            session
                .block_on(f, async move {
                    let (q, c) = tokio::join!(
                        migration::quorum_view(&client),
                        migration::controller_views(&client, &nodes)
                    );
                    Ok((q.map(Some).map_err(|e| e.to_string()), c))
                })
                .map_err(|e| script_error(&session, f, e))?
        };
        to_map(&migration::status(zk, quorum, controllers))
    }

    /// Restart KRaft controller `id` with the command the inventory (`controllers`) names
    /// for it (output captured; a failure or a timeout fails the script). Honours --dry-run.
    ///
    /// ```rhai
    /// restart_controller(101);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn restart_controller(ctx: NativeCallContext, id: i64) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        run_inventory_command(&session, "restart_controller", "controller", id, "restart")
    }

    /// Start KRaft controller `id` with the inventory's start command.
    ///
    /// ```rhai
    /// start_controller(104);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn start_controller(ctx: NativeCallContext, id: i64) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        run_inventory_command(&session, "start_controller", "controller", id, "start")
    }

    /// Stop KRaft controller `id` with the inventory's stop command.
    ///
    /// ```rhai
    /// stop_controller(105);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn stop_controller(ctx: NativeCallContext, id: i64) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        run_inventory_command(&session, "stop_controller", "controller", id, "stop")
    }

    /// Format the storage of KRaft controller `id` with the inventory's format command
    /// (`kafka-storage.sh format ... --no-initial-controllers` for a controller joining a
    /// dynamic quorum; make it skip a formatted directory, `--ignore-formatted`, so a
    /// repeated run is harmless). Honours --dry-run.
    ///
    /// ```rhai
    /// format_controller(104);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn format_controller(ctx: NativeCallContext, id: i64) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        run_inventory_command(&session, "format_controller", "controller", id, "format")
    }
}

use crate::kafka::quorum::{HealthLimits, VoterChange};
use crate::script::convert::Options;
use crate::script::{script_error, Session};
use rhai::EvalAltResult;

/// The lag limits of an option map (`max_lag`, `max_lag_ms`), defaults filled in.
fn health_limits(
    session: &Session,
    f: &str,
    opts: &Options,
) -> Result<HealthLimits, Box<EvalAltResult>> {
    let defaults = HealthLimits::default();
    let limits = HealthLimits {
        max_lag: opts.int("max_lag")?.unwrap_or(defaults.max_lag),
        max_lag_ms: opts.int("max_lag_ms")?.unwrap_or(defaults.max_lag_ms),
    };
    if limits.max_lag < 0 || limits.max_lag_ms <= 0 {
        return Err(script_error(
            session,
            f,
            crate::error::Error::InvalidInput(format!(
                "max_lag {} and max_lag_ms {} must be ≥ 0 and > 0",
                limits.max_lag, limits.max_lag_ms
            )),
        ));
    }
    Ok(limits)
}

/// Records a voter change for the dry-run plan or the audit log.
fn record(session: &Session, f: &str, change: &VoterChange) {
    session.mutation(
        f,
        &format!("controller {}", change.node_id),
        &format!(
            "{} controller {} (directory {}): voters {:?} -> {:?}",
            change.action,
            change.node_id,
            change.directory_id,
            change.voters_before,
            change.voters_after
        ),
        serde_json::json!({
            "node_id": change.node_id,
            "directory_id": change.directory_id,
            "endpoints": change.endpoints,
        }),
    );
}
