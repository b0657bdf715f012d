//! Rhai functions for reassignment planning (the planner is pure; these read the current
//! assignment from the cluster or a saved plan).

use rhai::plugin::*;

/// Reassignment
///
/// Move replicas between brokers — what `kafka-reassign-partitions.sh` does. A plan is a
/// map in that tool's JSON shape: read the current `assignment`, compute one with
/// `plan_reassignment` (fewest moves) or `plan_replication_factor`, then `reassign` it with
/// a throttle, follow it with `reassignment_status` and finish it with `wait_reassignment`.
#[export_module]
pub mod api {
    use super::{bytes_left, current, plan_parts, plan_progress, route, topic_names, Route};
    use crate::plan::{self, Plan, PlanOptions};
    use crate::script::convert::{to_map, Options};
    use crate::script::{kafka_call as call, script_error, session_of, zk_call};
    use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext};

    /// The current assignment of topics (a name, a list of names, or all non-internal
    /// topics when empty) as a plan in kafka-reassign-partitions.sh's shape:
    /// `#{version: 1, partitions: [#{topic, partition, replicas}]}`.
    ///
    /// ```rhai
    /// let now = assignment(["peter5"]);
    /// write_file("/tmp/peter5-rollback.json", plan_json(now));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn assignment(ctx: NativeCallContext, topics: Dynamic) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let names = topic_names("assignment", &topics)?;
        let result = call(&session, "assignment", |k| async move {
            current(&k, &names).await.map(|(p, _)| p)
        })?;
        to_map(&result)
    }

    /// Plan a reassignment that balances replicas and preferred leaders over `brokers`
    /// with the fewest replica moves. Options: `topics` (names; default all) or
    /// `assignment` (a saved plan map, planned without a cluster), `brokers` (required),
    /// `replication_factor`, `rack_aware` (racks from the cluster metadata). The result
    /// carries `moves` and `lower_bound` next to the plan.
    ///
    /// ```rhai
    /// let p = plan_reassignment(#{topics: ["peter5"], brokers: [1, 2, 3, 4, 5]});
    /// print(`${p.moves} replica moves (lower bound ${p.lower_bound})`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plan_reassignment(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "plan_reassignment";
        let opts = Options::new(
            f,
            &options,
            &[
                "topics",
                "assignment",
                "brokers",
                "replication_factor",
                "rack_aware",
            ],
        )?;
        let brokers: Vec<i32> = opts
            .int_list("brokers")?
            .into_iter()
            .map(|b| b as i32)
            .collect();
        if brokers.is_empty() {
            return Err(script_error(
                &session,
                f,
                crate::error::Error::InvalidInput(
                    "give the target brokers: #{brokers: [1, 2, 3]}".into(),
                ),
            ));
        }
        let mut distinct = brokers.clone();
        distinct.sort_unstable();
        if let Some(pair) = distinct.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(script_error(
                &session,
                f,
                crate::error::Error::InvalidInput(format!(
                    "broker {} is named twice in brokers: each broker holds at most one replica of a partition",
                    pair[0]
                )),
            ));
        }
        let rf = opts.int("replication_factor")?.map(|r| r.max(0) as usize);
        let rack_aware = opts.bool("rack_aware")?.unwrap_or(false);
        let (before, racks) = match options.get("assignment") {
            Some(saved) => {
                let json: serde_json::Value = rhai::serde::from_dynamic(saved)?;
                let plan = Plan::from_json(&json.to_string())
                    .map_err(|e| script_error(&session, f, crate::error::Error::InvalidInput(e)))?;
                (plan, std::collections::HashMap::new())
            }
            None => {
                let names = opts.string_list("topics")?;
                call(&session, f, |k| async move { current(&k, &names).await })?
            }
        };
        let planned = plan::plan(
            &before.partitions,
            &PlanOptions {
                brokers: brokers.clone(),
                racks,
                rack_aware,
                replication_factor: rf,
            },
        )
        .map_err(|e| script_error(&session, f, crate::error::Error::InvalidInput(e)))?;
        let moves = plan::replica_moves(&before.partitions, &planned);
        let bound = if rf.is_none() {
            plan::lower_bound_moves(&before.partitions, &brokers)
        } else {
            moves
        };
        let mut out = to_map(&Plan::new(planned))?;
        out.insert("moves".into(), Dynamic::from_int(moves as i64));
        out.insert("lower_bound".into(), Dynamic::from_int(bound as i64));
        Ok(out)
    }

    /// The seed's rt.json, computed: a plan that raises or lowers a topic's replication
    /// factor to `rf`, keeping every partition's current leader first and placing new
    /// replicas on the least loaded live brokers.
    ///
    /// ```rhai
    /// let rt = plan_replication_factor("peter-topic", 2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plan_replication_factor(
        ctx: NativeCallContext,
        topic: &str,
        rf: i64,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "plan_replication_factor";
        let names = vec![topic.to_string()];
        let (before, racks, brokers) = call(&session, f, |k| async move {
            let (plan, racks) = current(&k, &names).await?;
            let brokers: Vec<i32> = crate::kafka::brokers::brokers(&k)
                .await?
                .into_iter()
                .map(|b| b.id)
                .collect();
            Ok((plan, racks, brokers))
        })?;
        let rf_usize = usize::try_from(rf).unwrap_or(0);
        let mut changed = before.partitions.clone();
        let planned = plan::plan(
            &before.partitions,
            &PlanOptions {
                brokers: brokers.clone(),
                racks: racks.clone(),
                rack_aware: !racks.is_empty(),
                replication_factor: Some(rf_usize),
            },
        )
        .map_err(|e| script_error(&session, f, crate::error::Error::InvalidInput(e)))?;
        // Only the replica lists change size; every partition keeps its leader first.
        for (c, p) in changed.iter_mut().zip(planned) {
            let leader = c.replicas[0];
            let mut replicas: Vec<i32> = p.replicas.into_iter().filter(|b| *b != leader).collect();
            replicas.insert(0, leader);
            replicas.truncate(rf_usize);
            c.replicas = replicas;
        }
        to_map(&Plan::new(changed))
    }

    /// A plan as kafka-reassign-partitions.sh JSON text (for `--reassignment-json-file`).
    ///
    /// ```rhai
    /// let text = plan_json(assignment(["peter5"]));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plan_json(plan: Map) -> Result<String, Box<EvalAltResult>> {
        let mut json: serde_json::Value = rhai::serde::from_dynamic(&Dynamic::from_map(plan))?;
        if let Some(obj) = json.as_object_mut() {
            obj.retain(|k, _| k == "version" || k == "partitions");
        }
        let plan = Plan::from_json(&json.to_string()).map_err(|e| format!("plan_json: {e}"))?;
        Ok(plan.to_json())
    }

    /// Read kafka-reassign-partitions.sh JSON (the seed's partition.json) into a plan.
    ///
    /// ```rhai
    /// let p = parse_plan(`{"version":1,"partitions":[{"topic":"peter5","partition":0,"replicas":[2,1]}]}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn parse_plan(text: &str) -> Result<Map, Box<EvalAltResult>> {
        let plan = Plan::from_json(text).map_err(|e| format!("parse_plan: {e}"))?;
        to_map(&plan)
    }

    /// Start a reassignment (AlterPartitionReassignments). Checked first — every partition
    /// exists, every broker is alive, no broker twice, one replica count per topic — and
    /// nothing changes when a check fails. Option `throttle` (bytes/s) sets the replication
    /// rate on the brokers involved and throttles exactly the moving replicas. Kafka before
    /// 2.4 takes the plan through ZooKeeper's `/admin/reassign_partitions` (needs
    /// `--zookeeper`); option `via` ("auto", "api" or "zookeeper") chooses. A throttle
    /// below 1 MB/s or above 10 GB/s (`min_throttle` / `max_throttle` of the context's
    /// guard rails) is refused without `force: true`. Honours --dry-run.
    ///
    /// ```rhai
    /// let p = plan_reassignment(#{topics: ["peter5"], brokers: [1, 2, 3, 4, 5]});
    /// reassign(p, #{throttle: 50000000});
    /// ```
    #[rhai_fn(return_raw, name = "reassign")]
    pub fn reassign_with(
        ctx: NativeCallContext,
        plan: Map,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "reassign";
        let opts = Options::new(f, &options, &["throttle", "via", "force"])?;
        let throttle = opts.int("throttle")?;
        if let Some(rate) = throttle {
            if !opts.bool("force")?.unwrap_or(false) {
                session
                    .settings
                    .guard_rails
                    .check_throttle(rate)
                    .map_err(|e| script_error(&session, f, e))?;
            }
        }
        let via = opts.string("via")?;
        let parts = plan_parts(f, &plan)?;
        let dry_run = session.options.dry_run;
        let route = route(&session, f, via.as_deref())?;
        if route == Route::Znode && !dry_run {
            // Before any throttle is set: the controller ignores a second znode plan.
            let pending = zk_call(&session, f, |z| async move {
                crate::zk::reassign::pending(&z).await
            })?;
            if !pending.is_empty() {
                return Err(script_error(
                    &session,
                    f,
                    crate::error::Error::Refused(format!(
                        "a reassignment of {} partition(s) is still in progress ({} exists); wait for it first",
                        pending.len(),
                        crate::zk::reassign::REASSIGN_ZNODE
                    )),
                ));
            }
        }
        let p2 = parts.clone();
        let (result, moving) = call(&session, f, |k| async move {
            crate::kafka::reassign::prepare(&k, &p2, throttle, dry_run).await
        })?;
        if !dry_run && !moving.is_empty() {
            match route {
                Route::Api => call(&session, f, |k| async move {
                    crate::kafka::reassign::submit(&k, &moving).await
                })?,
                Route::Znode => zk_call(&session, f, |z| async move {
                    crate::zk::reassign::submit(&z, &moving).await
                })?,
            }
        }
        if !result.started.is_empty() {
            session.mutation(
                f,
                &format!("{} partition(s)", result.started.len()),
                &format!(
                    "move {} replica(s){}",
                    result.moving_replicas,
                    throttle
                        .map(|t| format!(" throttled at {t} B/s"))
                        .unwrap_or_default()
                ),
                serde_json::json!({"partitions": parts, "throttle": throttle}),
            );
        }
        let mut out = to_map(&result)?;
        out.insert("via".into(), Dynamic::from(route.name().to_string()));
        Ok(out)
    }

    /// Start a reassignment without a throttle.
    #[rhai_fn(return_raw, name = "reassign")]
    pub fn reassign(ctx: NativeCallContext, plan: Map) -> Result<Map, Box<EvalAltResult>> {
        reassign_with(ctx, plan, Map::new())
    }

    /// Progress of a plan: per partition the target and current replicas, the replicas
    /// still being added or removed, and whether it is done; plus the totals.
    ///
    /// ```rhai
    /// let s = reassignment_status(plan_reassignment(#{topics: ["peter5"], brokers: [1, 2, 3]}));
    /// print(`${s.done} of ${s.total} partitions done`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn reassignment_status(
        ctx: NativeCallContext,
        plan: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let parts = plan_parts("reassignment_status", &plan)?;
        let progress = plan_progress(&session, "reassignment_status", &parts)?;
        let done = progress.iter().filter(|p| p.done).count();
        let mut out = Map::new();
        out.insert("total".into(), Dynamic::from_int(progress.len() as i64));
        out.insert("done".into(), Dynamic::from_int(done as i64));
        out.insert(
            "complete".into(),
            Dynamic::from_bool(done == progress.len()),
        );
        out.insert("partitions".into(), rhai::serde::to_dynamic(&progress)?);
        Ok(out)
    }

    /// Wait until a plan's reassignment completes, logging progress every `interval`
    /// (default "5s"), then remove the replication throttles (from the plan's topics and
    /// every broker, as Kafka's tool does) and elect preferred leaders unless
    /// `elect: false`. Fails after `timeout` (default "1h"), leaving the reassignment
    /// running and its throttles in place.
    ///
    /// ```rhai
    /// let p = plan_reassignment(#{topics: ["peter5"], brokers: [1, 2, 3, 4, 5]});
    /// reassign(p, #{throttle: 50000000});
    /// wait_reassignment(p, #{timeout: "2h"});
    /// ```
    #[rhai_fn(return_raw, name = "wait_reassignment")]
    pub fn wait_reassignment_with(
        ctx: NativeCallContext,
        plan: Map,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "wait_reassignment";
        let opts = Options::new(f, &options, &["timeout", "interval", "elect"])?;
        let timeout = opts.duration("timeout", std::time::Duration::from_secs(3600))?;
        let interval = opts.duration("interval", std::time::Duration::from_secs(5))?;
        let elect = opts.bool("elect")?.unwrap_or(true);
        let parts = plan_parts(f, &plan)?;
        let started = std::time::Instant::now();
        let bar = crate::output::progress::Progress::new("reassignment", parts.len() as u64);
        loop {
            let progress = plan_progress(&session, f, &parts)?;
            let done = progress.iter().filter(|p| p.done).count();
            if done == progress.len() || session.options.dry_run {
                break;
            }
            let left = bytes_left(&session, &progress)
                .map(|b| format!("{} left to copy", crate::output::progress::human_bytes(b)))
                .unwrap_or_else(|| "bytes left unknown".into());
            bar.update(done as u64, &left);
            if started.elapsed() >= timeout {
                bar.finish();
                return Err(script_error(
                    &session,
                    f,
                    crate::error::Error::Timeout(format!(
                        "{done} of {} partitions done after {}; the reassignment goes on, throttles stay",
                        progress.len(),
                        crate::kafka::conn::human(timeout)
                    )),
                ));
            }
            session
                .bridge()
                .call(
                    f,
                    interval + std::time::Duration::from_secs(1),
                    async move {
                        tokio::time::sleep(interval).await;
                        Ok(())
                    },
                )
                .map_err(|e| script_error(&session, f, e))
                .inspect_err(|_| bar.finish())?;
        }
        bar.finish();
        let dry_run = session.options.dry_run;
        let p2 = parts.clone();
        let removed = call(&session, f, |k| async move {
            if dry_run {
                return Ok(Vec::new());
            }
            crate::kafka::reassign::remove_throttles(&k, &p2).await
        })?;
        let topics: Vec<String> = parts
            .iter()
            .map(|p| p.topic.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let elected = if elect && !dry_run {
            elect_preferred(&session, f, topics, ELECTION_PATIENCE)?
        } else {
            Vec::new()
        };
        if !removed.is_empty() {
            session.mutation(
                f,
                "throttles",
                &format!("removed {}", removed.join(", ")),
                serde_json::json!({}),
            );
        }
        let mut out = Map::new();
        out.insert("complete".into(), Dynamic::TRUE);
        out.insert(
            "seconds".into(),
            Dynamic::from_int(started.elapsed().as_secs() as i64),
        );
        out.insert(
            "throttles_removed".into(),
            rhai::serde::to_dynamic(&removed)?,
        );
        out.insert("leaders_elected".into(), rhai::serde::to_dynamic(&elected)?);
        Ok(out)
    }

    /// Wait up to an hour for a plan's reassignment, then remove throttles and elect leaders.
    #[rhai_fn(return_raw, name = "wait_reassignment")]
    pub fn wait_reassignment(ctx: NativeCallContext, plan: Map) -> Result<Map, Box<EvalAltResult>> {
        wait_reassignment_with(ctx, plan, Map::new())
    }

    /// Cancel a plan's in-flight reassignments (replicas return where they were) and remove
    /// the throttles. Honours --dry-run.
    ///
    /// ```rhai
    /// cancel_reassignment(parse_plan(read_file("/tmp/plan.json")));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cancel_reassignment(
        ctx: NativeCallContext,
        plan: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "cancel_reassignment";
        let parts = plan_parts(f, &plan)?;
        let dry_run = session.options.dry_run;
        if route(&session, f, None)? == Route::Znode {
            return Err(script_error(
                &session,
                f,
                crate::error::Error::Unsupported(
                    "this cluster (Kafka before 2.4) cannot cancel a reassignment; wait for it to complete".into(),
                ),
            ));
        }
        let (cancelled, removed) = call(&session, f, |k| async move {
            if dry_run {
                return Ok((Vec::new(), Vec::new()));
            }
            let c = crate::kafka::reassign::cancel(&k, &parts).await?;
            let r = crate::kafka::reassign::remove_throttles(&k, &parts).await?;
            Ok((c, r))
        })?;
        session.mutation(
            f,
            &format!("{} partition(s)", cancelled.len()),
            "cancel",
            serde_json::json!({}),
        );
        let mut out = Map::new();
        out.insert("cancelled".into(), rhai::serde::to_dynamic(&cancelled)?);
        out.insert(
            "throttles_removed".into(),
            rhai::serde::to_dynamic(&removed)?,
        );
        out.insert("dry_run".into(), Dynamic::from_bool(dry_run));
        Ok(out)
    }

    /// Every reassignment in flight in the cluster, whoever started it (kafsh, Kafka's
    /// tool, Cruise Control): topic, partition, replicas, adding, removing. On Kafka before
    /// 2.4, the partitions still pending in `/admin/reassign_partitions` (needs
    /// `--zookeeper`).
    ///
    /// ```rhai
    /// let busy = list_reassignments();
    /// if !busy.is_empty() { log(`${busy.len()} partition(s) still moving`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list_reassignments(ctx: NativeCallContext) -> Result<rhai::Array, Box<EvalAltResult>> {
        use kafka_protocol::messages::ListPartitionReassignmentsRequest;
        let session = session_of(&ctx)?;
        let f = "list_reassignments";
        let listed = call(&session, f, |k| async move {
            if k.controller_supports::<ListPartitionReassignmentsRequest>()
                .await?
            {
                Ok(Some(crate::kafka::reassign::in_flight(&k).await?))
            } else {
                Ok(None)
            }
        })?;
        if let Some(listed) = listed {
            return crate::script::convert::to_array(&listed);
        }
        let pending = zk_call(&session, f, |z| async move {
            crate::zk::reassign::pending(&z).await
        })?;
        Ok(pending
            .into_iter()
            .map(|(topic, partition)| {
                let mut m = Map::new();
                m.insert("topic".into(), Dynamic::from(topic));
                m.insert("partition".into(), Dynamic::from_int(partition as i64));
                Dynamic::from_map(m)
            })
            .collect())
    }

    /// Remove the replication throttles a reassignment set: the throttled-replica lists of
    /// `topics` (a name or a list) and the throttle rates of every live broker. For a run
    /// that failed and left them behind; `wait_reassignment` and `cancel_reassignment` do
    /// this themselves. Returns what it removed. Honours --dry-run.
    ///
    /// ```rhai
    /// remove_throttles(["peter5", "orders"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove_throttles(
        ctx: NativeCallContext,
        topics: Dynamic,
    ) -> Result<rhai::Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "remove_throttles";
        let topics = topic_names(f, &topics)?;
        let dry_run = session.options.dry_run;
        let removed = call(&session, f, |k| async move {
            if dry_run {
                return Ok(Vec::new());
            }
            crate::kafka::reassign::remove_throttles_of(&k, &topics).await
        })?;
        session.mutation(
            f,
            "throttles",
            &if dry_run {
                "remove replication throttles".to_string()
            } else {
                format!("removed {}", removed.len())
            },
            serde_json::json!({}),
        );
        crate::script::convert::to_array(&removed)
    }

    /// Preferred leader election: every partition led again by the first broker of its
    /// replica list. Option `topics` (default all). A partition whose preferred replica is
    /// not in sync yet (a broker just restarted) is retried until `timeout` (default "1m"),
    /// then named in the error. Returns the partitions whose leader changed. Honours
    /// --dry-run.
    ///
    /// ```rhai
    /// elect_leaders(#{topics: ["peter5"]});
    /// elect_leaders(#{timeout: "5m"});
    /// ```
    #[rhai_fn(return_raw)]
    pub fn elect_leaders(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<rhai::Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "elect_leaders";
        let opts = Options::new(f, &options, &["topics", "timeout"])?;
        let topics = opts.string_list("topics")?;
        let patience = opts.duration("timeout", ELECTION_PATIENCE)?;
        let elected = if session.options.dry_run {
            Vec::new()
        } else {
            elect_preferred(&session, f, topics, patience)?
        };
        session.mutation(
            f,
            "preferred leaders",
            &format!("{} leader(s) changed", elected.len()),
            serde_json::json!({}),
        );
        crate::script::convert::to_array(&elected)
    }
}

use crate::kafka::reassign::PartitionProgress;
use crate::plan::{PartitionAssignment, Plan};
use crate::script::{kafka_call as call, script_error, zk_call, Session};
use rhai::{Dynamic, EvalAltResult};

/// How the cluster takes a reassignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// AlterPartitionReassignments (Kafka 2.4 and later).
    Api,
    /// The `/admin/reassign_partitions` znode (ZooKeeper-based Kafka before 2.4).
    Znode,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::Api => "api",
            Route::Znode => "zookeeper",
        }
    }
}

/// The route `via` asks for; "auto" (or none) asks the controller what it supports.
fn route(session: &Session, f: &str, via: Option<&str>) -> Result<Route, Box<EvalAltResult>> {
    match via {
        Some("api") => Ok(Route::Api),
        Some("zookeeper") => Ok(Route::Znode),
        None | Some("auto") => {
            let api = call(session, f, |k| async move {
                crate::kafka::reassign::api_supported(&k).await
            })?;
            Ok(if api { Route::Api } else { Route::Znode })
        }
        Some(other) => Err(format!(
            "{f}: via must be \"auto\", \"api\" or \"zookeeper\", not {other:?}"
        )
        .into()),
    }
}

/// Progress of a plan: ListPartitionReassignments where the controller has it, else the
/// partitions still pending in the reassignment znode.
fn plan_progress(
    session: &Session,
    f: &str,
    parts: &[PartitionAssignment],
) -> Result<Vec<PartitionProgress>, Box<EvalAltResult>> {
    use kafka_protocol::messages::ListPartitionReassignmentsRequest;
    let p = parts.to_vec();
    let listed = call(session, f, |k| async move {
        if k.controller_supports::<ListPartitionReassignmentsRequest>()
            .await?
        {
            Ok(Some(crate::kafka::reassign::status(&k, &p).await?))
        } else {
            Ok(None)
        }
    })?;
    if let Some(progress) = listed {
        return Ok(progress);
    }
    let pending = zk_call(session, f, |z| async move {
        crate::zk::reassign::pending(&z).await
    })?;
    let p = parts.to_vec();
    call(session, f, |k| async move {
        crate::kafka::reassign::status_from_znode(&k, &p, &pending).await
    })
}

/// Bytes the new replicas of in-flight partitions still have to copy; `None` when the
/// brokers cannot tell (a progress display must not fail the wait).
fn bytes_left(session: &Session, progress: &[PartitionProgress]) -> Option<i64> {
    let in_flight: Vec<&PartitionProgress> = progress.iter().filter(|p| !p.done).collect();
    let brokers: Vec<i32> = in_flight
        .iter()
        .flat_map(|p| p.replicas.iter().chain(&p.adding).copied())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let topics: Vec<String> = in_flight
        .iter()
        .map(|p| p.topic.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let sizes = call(session, "wait_reassignment", |k| async move {
        crate::kafka::log_dirs::log_dirs(&k, &brokers, &topics).await
    })
    .ok()?;
    Some(crate::kafka::reassign::bytes_left(
        progress,
        &sizes.replicas,
    ))
}

/// How long a preferred leader election waits, by default, for replicas to be in sync.
const ELECTION_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Preferred leader election of every partition of `topics`, in rounds: partitions that
/// cannot be elected yet (preferred replica out of sync, controller busy) are retried every
/// second until `patience` runs out, then reported with their reasons.
fn elect_preferred(
    session: &Session,
    f: &str,
    topics: Vec<String>,
    patience: std::time::Duration,
) -> Result<Vec<String>, Box<EvalAltResult>> {
    let started = std::time::Instant::now();
    let mut todo = call(session, f, |k| async move {
        crate::kafka::reassign::partitions_of(&k, &topics).await
    })?;
    let mut elected = Vec::new();
    loop {
        let batch = todo.clone();
        let round = call(session, f, |k| async move {
            crate::kafka::reassign::elect_round(&k, &batch).await
        })?;
        elected.extend(round.elected);
        if round.pending.is_empty() {
            return Ok(elected);
        }
        if started.elapsed() >= patience {
            let shown: Vec<&str> = round
                .pending
                .iter()
                .take(5)
                .map(|(_, why)| why.as_str())
                .collect();
            return Err(script_error(
                session,
                f,
                crate::error::Error::Timeout(format!(
                    "{} partition(s) not led by their preferred replica after {} ({} elected): {}{}",
                    round.pending.len(),
                    crate::kafka::conn::human(patience),
                    elected.len(),
                    shown.join("; "),
                    if round.pending.len() > shown.len() { "; ..." } else { "" }
                )),
            ));
        }
        todo = round.pending.into_iter().map(|(p, _)| p).collect();
        let pause = std::time::Duration::from_secs(1);
        session
            .bridge()
            .call(f, pause * 2, async move {
                tokio::time::sleep(pause).await;
                Ok(())
            })
            .map_err(|e| script_error(session, f, e))?;
    }
}

fn topic_names(f: &str, topics: &Dynamic) -> Result<Vec<String>, Box<EvalAltResult>> {
    if topics.is_unit() {
        return Ok(Vec::new());
    }
    if topics.is_string() {
        return Ok(vec![topics.to_string()]);
    }
    topics
        .clone()
        .into_array()
        .map_err(|t| format!("{f}: expects a topic name or a list of names, not {t}"))?
        .into_iter()
        .map(|t| {
            t.into_string()
                .map_err(|t| format!("{f}: topic names must be strings, not {t}").into())
        })
        .collect()
}

async fn current(
    client: &crate::kafka::KafkaClient,
    names: &[String],
) -> crate::error::Result<(Plan, std::collections::HashMap<i32, String>)> {
    use crate::kafka::topics;
    let names = if names.is_empty() {
        topics::list_topics(client, &topics::ListOptions { internal: false }).await?
    } else {
        names.to_vec()
    };
    let described = topics::describe_topics(client, &names).await?;
    let mut partitions = Vec::new();
    for t in described {
        for p in t.partitions {
            partitions.push(PartitionAssignment {
                topic: t.topic.clone(),
                partition: p.partition,
                replicas: p.replicas,
                log_dirs: None,
            });
        }
    }
    let racks = crate::kafka::brokers::brokers(client)
        .await?
        .into_iter()
        .filter_map(|b| b.rack.map(|r| (b.id, r)))
        .collect();
    Ok((Plan::new(partitions), racks))
}

/// The partitions of a plan map.
fn plan_parts(f: &str, plan: &rhai::Map) -> Result<Vec<PartitionAssignment>, Box<EvalAltResult>> {
    let json: serde_json::Value = rhai::serde::from_dynamic(&Dynamic::from_map(plan.clone()))?;
    let partitions = json.get("partitions").cloned().ok_or_else(|| {
        format!("{f}: the plan has no partitions (use plan_reassignment, assignment or parse_plan)")
    })?;
    serde_json::from_value(partitions).map_err(|e| format!("{f}: not a plan: {e}").into())
}
