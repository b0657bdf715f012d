//! Rhai functions for reassignment: planning (the planner is pure; these read the current
//! assignment from the cluster or a saved plan) and thin wrappers over the workflows of
//! `kafka::reassign_flow` (start, status, wait, cancel, list, throttles, elections).

use rhai::plugin::*;

/// Reassignment
///
/// Move replicas between brokers — what `kafka-reassign-partitions.sh` does. A plan holds
/// that tool's JSON shape (`version`, `partitions`) and, when kafsh computed it, what it
/// does (`moves`, `bytes_to_move`, `lower_bound`, spreads `before` and `after`): read the
/// current `assignment`, compute one with `plan_reassignment` (every topic spread over
/// every broker with the fewest moves, or disk bytes balanced with the fewest bytes moved),
/// `plan_leaders`, `plan_replication_factor` or `plan_log_dirs`, then `reassign` it with a
/// throttle, follow it with `reassignment_status` and finish it with `wait_reassignment`.
/// Plans stay native values in scripts (a million partitions are one value); `plan_json`
/// writes the tool's JSON and `parse_plan` reads it back.
#[export_module]
pub mod api {
    use super::{parse_capacity, parse_sizes, progress_text, route, topic_names, tracking};
    use crate::kafka::reassign_flow::{self as flow, Route, WaitEvent, WaitOptions};
    use crate::output::{log_line, progress::Progress};
    use crate::plan::{self, Balance, Plan, PlanOptions};
    use crate::script::convert::{plan_of, to_array, to_map, Options, ScriptPlan};
    use crate::script::{kafka_call as call, kafka_call_for as call_for, script_error, session_of};
    use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext};
    use std::time::Duration;

    /// The current assignment of topics (a name, a list of names, or all non-internal
    /// topics when empty) as a plan in kafka-reassign-partitions.sh's shape: `version`
    /// and `partitions` (`topic`, `partition`, `replicas`).
    ///
    /// ```rhai
    /// let now = assignment(["peter5"]);
    /// write_file("/tmp/peter5-rollback.json", plan_json(now));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn assignment(
        ctx: NativeCallContext,
        topics: Dynamic,
    ) -> Result<ScriptPlan, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let names = topic_names("assignment", &topics)?;
        let result = call(&session, "assignment", |k| async move {
            flow::assignment(&k, &names, false).await.map(|(p, _)| p)
        })?;
        Ok(ScriptPlan::new(result, None::<&()>))
    }

    /// Plan a reassignment over `brokers`. Constraints first: replication factor kept (or
    /// `replication_factor`), no broker twice, only target brokers, racks distinct with
    /// `rack_aware`. Then, with `balance: "count"` (default), every topic's replicas and
    /// preferred leaders differ by at most one between brokers, and so do the cluster
    /// totals, with the fewest replica moves; with `balance: "bytes"`, every broker's disk
    /// bytes within `tolerance` (default 0.05 of the mean) and under its capacity, each
    /// topic within two, with the fewest bytes moved.
    ///
    /// Options: `topics` (default all) or `assignment` (a saved plan: planned without a
    /// cluster), `brokers` (the targets: registered brokers, when planned online), `drain`
    /// (brokers to empty: only their replicas move, internal topics included unless
    /// `topics` is given; the targets default to every other broker), `replication_factor`,
    /// `rack_aware` (racks from the cluster, or `racks: #{"1": "a"}` offline), `balance`,
    /// `tolerance`, `sizes` (#{"orders-3": bytes}; from DescribeLogDirs when online) and
    /// `capacity` (#{"1": bytes}; from the log dirs' free space on Kafka 3.3+ when online).
    /// Refuses when the targets cannot hold the data or the replication factor.
    ///
    /// The plan reports `moves`, `bytes_to_move`, `lower_bound` (no balanced plan moves
    /// fewer replicas), `bytes_lower_bound` (no plan within the tolerance moves fewer
    /// bytes), `cluster_lower_bound`, `topic_lower_bound`, `leaders_changed`, and the
    /// spreads `before` and `after` (`replicas`, `leaders`, `topic_replicas`,
    /// `topic_leaders`, `disk_bytes`, `disk_percent`, per-broker `brokers`).
    ///
    /// ```rhai
    /// let p = plan_reassignment(#{topics: ["peter5"], brokers: [1, 2, 3, 4, 5]});
    /// print(`${p.moves} replica moves (lower bound ${p.lower_bound})`);
    /// let by_disk = plan_reassignment(#{brokers: [1, 2, 3, 4, 5], balance: "bytes"});
    /// let drain = plan_reassignment(#{drain: [5]});
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plan_reassignment(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<ScriptPlan, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "plan_reassignment";
        let opts = Options::new(
            f,
            &options,
            &[
                "topics",
                "assignment",
                "brokers",
                "drain",
                "replication_factor",
                "rack_aware",
                "racks",
                "balance",
                "tolerance",
                "sizes",
                "capacity",
            ],
        )?;
        let invalid = |e: String| script_error(&session, f, crate::error::Error::InvalidInput(e));
        let ids = |key: &str| -> Result<Vec<i32>, Box<EvalAltResult>> {
            Ok(opts.int_list(key)?.into_iter().map(|b| b as i32).collect())
        };
        let given_brokers = ids("brokers")?;
        let drain = ids("drain")?;
        if given_brokers.is_empty() && drain.is_empty() {
            return Err(invalid(
                "give the target brokers (#{brokers: [1, 2, 3]}) or the brokers to drain (#{drain: [4]})".into(),
            ));
        }
        let rf = opts.int("replication_factor")?.map(|r| r.max(0) as usize);
        let rack_aware = opts.bool("rack_aware")?.unwrap_or(false);
        let balance = match opts.string("balance")?.as_deref() {
            None | Some("count") => Balance::Count,
            Some("bytes") => Balance::Bytes,
            Some(other) => {
                return Err(invalid(format!(
                    "balance must be \"count\" or \"bytes\", not {other:?}"
                )))
            }
        };
        let tolerance = match options.get("tolerance") {
            None => 0.05,
            Some(v) => v
                .as_float()
                .or_else(|_| v.as_int().map(|i| i as f64))
                .map_err(|t| invalid(format!("tolerance must be a fraction like 0.05, not {t}")))?,
        };
        let mut sizes = parse_sizes(f, &opts)?;
        let mut capacity = parse_capacity(f, &opts)?;
        let offline_racks: std::collections::HashMap<i32, String> = opts
            .string_map("racks")?
            .into_iter()
            .map(|(k, v)| {
                k.parse::<i32>()
                    .map(|b| (b, v))
                    .map_err(|_| invalid(format!("racks: {k:?} is not a broker id")))
            })
            .collect::<Result<_, _>>()?;
        let (before, racks, live) = match options.get("assignment") {
            Some(saved) => {
                // A native plan is shared, not copied (a million partitions).
                let plan = match saved.read_lock::<ScriptPlan>() {
                    Some(p) => p.clone(),
                    None => ScriptPlan::new(plan_of(f, saved)?, None::<&()>),
                };
                let mut held: Vec<i32> = plan
                    .plan()
                    .partitions
                    .iter()
                    .flat_map(|p| p.replicas.iter().copied())
                    .collect();
                held.sort_unstable();
                held.dedup();
                (plan, offline_racks, held)
            }
            None => {
                let names = opts.string_list("topics")?;
                // Draining empties the brokers: internal topics move too.
                let internal = !drain.is_empty();
                let want_bytes =
                    sizes.is_empty() || (balance == Balance::Bytes && capacity.is_empty());
                let needs_bytes = balance == Balance::Bytes;
                let online = call(&session, f, |k| async move {
                    flow::planning_input(&k, &names, internal, want_bytes, needs_bytes).await
                })?;
                if let Some(bytes) = online.bytes {
                    if sizes.is_empty() {
                        sizes = bytes.sizes;
                    }
                    if capacity.is_empty() {
                        capacity = bytes.capacity;
                    }
                }
                let (plan, racks, live) = (online.plan, online.racks, online.live);
                let racks = if offline_racks.is_empty() {
                    racks
                } else {
                    offline_racks
                };
                (ScriptPlan::new(plan, None::<&()>), racks, live)
            }
        };
        if !options.contains_key("assignment") {
            flow::registered(&given_brokers, &live).map_err(|e| script_error(&session, f, e))?;
        }
        let brokers: Vec<i32> = if given_brokers.is_empty() {
            live.iter()
                .copied()
                .filter(|b| !drain.contains(b))
                .collect()
        } else {
            given_brokers
                .into_iter()
                .filter(|b| !drain.contains(b))
                .collect()
        };
        let planned = plan::plan(
            &before.plan().partitions,
            &PlanOptions {
                brokers,
                racks,
                rack_aware,
                replication_factor: rf,
                balance,
                tolerance,
                sizes,
                capacity,
                drain_only: !drain.is_empty(),
            },
        )
        .map_err(invalid)?;
        Ok(ScriptPlan::new(
            Plan {
                version: 1,
                partitions: planned.partitions,
            },
            Some(&planned.report),
        ))
    }

    /// Leaders only (Cruise Control's demote_broker): reorder replica lists so preferred
    /// leaders are balanced, per topic and cluster-wide, over `brokers` (default every
    /// broker) except `avoid`; no data moves. `reassign` the plan (it only reorders), then
    /// `elect_leaders`. Options: `topics` or `assignment`, `brokers`, `avoid`.
    ///
    /// ```rhai
    /// let p = plan_leaders(#{avoid: [3]});
    /// print(`${p.leaders_changed} partitions get another preferred leader`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plan_leaders(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<ScriptPlan, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "plan_leaders";
        let opts = Options::new(f, &options, &["topics", "assignment", "brokers", "avoid"])?;
        let ids = |key: &str| -> Result<Vec<i32>, Box<EvalAltResult>> {
            Ok(opts.int_list(key)?.into_iter().map(|b| b as i32).collect())
        };
        let (brokers, avoid) = (ids("brokers")?, ids("avoid")?);
        let before = match options.get("assignment") {
            Some(saved) => plan_of(f, saved)?,
            None => {
                let names = opts.string_list("topics")?;
                call(&session, f, |k| async move {
                    flow::assignment(&k, &names, false).await.map(|(p, _)| p)
                })?
            }
        };
        let planned = plan::plan_leaders(&before.partitions, &brokers, &avoid)
            .map_err(|e| script_error(&session, f, crate::error::Error::InvalidInput(e)))?;
        Ok(ScriptPlan::new(
            Plan {
                version: 1,
                partitions: planned.partitions,
            },
            Some(&planned.report),
        ))
    }

    /// Balance one broker's disks (JBOD): which replicas to move between its log dirs so
    /// every dir's bytes are within `tolerance` (default 0.05) of the mean and under what
    /// its volume can hold, copying the fewest bytes it can. Reads the broker's dirs and
    /// replica sizes from DescribeLogDirs; refused while a copy between its dirs is in
    /// flight. The plan keeps every replica list and puts the moving replicas' new dirs
    /// in `log_dirs` ("any" for the other brokers): `reassign` it (option `throttle` is
    /// then the copy throttle between log dirs), `wait_reassignment` until the copies
    /// caught up, and `plan_json` writes what kafka-reassign-partitions.sh executes.
    ///
    /// Option `topics` moves only those topics' replicas (the others still count in
    /// their dirs' bytes).
    ///
    /// The plan reports `broker`, `moves`, `bytes_to_move`, `bytes_lower_bound` (what
    /// must leave the dirs above their band at least), `dir_moves` (`topic`, `partition`,
    /// `from`, `to`, `size`) and the spreads `before` and `after` (`dirs` with their
    /// `bytes`, `spread_bytes`, `spread_percent` of the mean).
    ///
    /// ```rhai
    /// let p = plan_log_dirs(1, #{tolerance: 0.1});
    /// let only = plan_log_dirs(2, #{topics: ["peter5"]});
    /// print(`${p.moves} moves, ${p.bytes_to_move} bytes; spread ${p.before.spread_percent}% -> ${p.after.spread_percent}%`);
    /// if p.moves > 0 { reassign(p, #{throttle: 50000000}); wait_reassignment(p); }
    /// ```
    #[rhai_fn(return_raw, name = "plan_log_dirs")]
    pub fn plan_log_dirs_with(
        ctx: NativeCallContext,
        broker: i64,
        options: Map,
    ) -> Result<ScriptPlan, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "plan_log_dirs";
        let opts = Options::new(f, &options, &["tolerance", "topics"])?;
        let topics = opts.string_list("topics")?;
        let invalid = |e: String| script_error(&session, f, crate::error::Error::InvalidInput(e));
        let tolerance = match options.get("tolerance") {
            None => 0.05,
            Some(v) => v
                .as_float()
                .or_else(|_| v.as_int().map(|i| i as f64))
                .ok()
                .filter(|t| (0.0..1.0).contains(t))
                .ok_or_else(|| {
                    invalid(format!("tolerance must be a fraction like 0.05, not {v}"))
                })?,
        };
        let broker =
            i32::try_from(broker).map_err(|_| invalid(format!("{broker} is not a broker id")))?;
        let input = call(&session, f, |k| async move {
            crate::kafka::replica_dirs::planning_input(&k, broker, &topics).await
        })?;
        let planned = plan::plan_log_dirs(broker, &input.replicas, &input.dirs, tolerance)
            .map_err(invalid)?;
        let partitions = planned.partitions(&input.assignment).map_err(invalid)?;
        let report = serde_json::json!({
            "broker": broker,
            "moves": planned.moves.len(),
            "bytes_to_move": planned.bytes_to_move,
            "bytes_lower_bound": planned.bytes_lower_bound,
            "dir_moves": planned.moves,
            "before": plan::DirSpread::of(&planned.before),
            "after": plan::DirSpread::of(&planned.after),
        });
        Ok(ScriptPlan::new(Plan::new(partitions), Some(&report)))
    }

    /// Balance one broker's disks within 5% of the mean.
    #[rhai_fn(return_raw, name = "plan_log_dirs")]
    pub fn plan_log_dirs(
        ctx: NativeCallContext,
        broker: i64,
    ) -> Result<ScriptPlan, Box<EvalAltResult>> {
        plan_log_dirs_with(ctx, broker, Map::new())
    }

    /// The seed's rt.json, computed: a plan that raises or lowers a topic's replication
    /// factor to `rf`, keeping every partition's current leader first and placing new
    /// replicas on the live brokers holding the least of the topic.
    ///
    /// ```rhai
    /// let rt = plan_replication_factor("peter-topic", 2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plan_replication_factor(
        ctx: NativeCallContext,
        topic: &str,
        rf: i64,
    ) -> Result<ScriptPlan, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "plan_replication_factor";
        let names = vec![topic.to_string()];
        let (before, racks, brokers) = call(&session, f, |k| async move {
            let (plan, racks) = flow::assignment(&k, &names, false).await?;
            let brokers: Vec<i32> = crate::kafka::brokers::brokers(&k)
                .await?
                .into_iter()
                .map(|b| b.id)
                .collect();
            Ok((plan, racks, brokers))
        })?;
        let rf_usize = usize::try_from(rf).unwrap_or(0);
        let changed =
            plan::change_replication_factor_of(&before.partitions, &brokers, &racks, rf_usize)
                .map_err(|e| script_error(&session, f, crate::error::Error::InvalidInput(e)))?;
        Ok(ScriptPlan::new(Plan::new(changed), None::<&()>))
    }

    /// A plan as kafka-reassign-partitions.sh JSON text (for `--reassignment-json-file`).
    ///
    /// ```rhai
    /// let text = plan_json(assignment(["peter5"]));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plan_json(plan: Dynamic) -> Result<String, Box<EvalAltResult>> {
        if let Some(p) = plan.read_lock::<ScriptPlan>() {
            return Ok(p.plan().to_json());
        }
        Ok(plan_of("plan_json", &plan)?.to_json())
    }

    /// Read kafka-reassign-partitions.sh JSON (the seed's partition.json) into a plan.
    ///
    /// ```rhai
    /// let p = parse_plan(`{"version":1,"partitions":[{"topic":"peter5","partition":0,"replicas":[2,1]}]}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn parse_plan(text: &str) -> Result<ScriptPlan, Box<EvalAltResult>> {
        let plan = Plan::from_json(text).map_err(|e| format!("parse_plan: {e}"))?;
        Ok(ScriptPlan::new(plan, None::<&()>))
    }

    /// Start a reassignment (AlterPartitionReassignments). Checked first — every partition
    /// exists, every broker is alive, no broker twice, one replica count per topic — and
    /// nothing changes when a check fails. Option `throttle` (bytes/s) sets the replication
    /// rate on the brokers involved and throttles exactly the moving replicas. Kafka before
    /// 2.4 takes the plan through ZooKeeper's `/admin/reassign_partitions` (needs
    /// `--zookeeper`); option `via` ("auto", "api" or "zookeeper") chooses.
    ///
    /// A plan's `log_dirs` (kafka-reassign-partitions.sh's format: one per replica, "any"
    /// or a path) move replicas between a broker's disks (AlterReplicaLogDirs, once the
    /// replica exists on the broker); every named dir must be a log dir of its broker.
    /// Option `log_dirs_throttle` (bytes/s, the tool's --replica-alter-log-dirs-throttle)
    /// throttles those copies on their brokers; a plan that moves no replica between
    /// brokers (as `plan_log_dirs`'s) takes `throttle` for it. `wait_reassignment` waits
    /// for them too and removes that throttle with the others.
    ///
    /// A throttle below 1 MB/s or above 10 GB/s (`min_throttle` / `max_throttle` of the
    /// context's guard rails) is refused without `force: true`. Honours --dry-run.
    ///
    /// ```rhai
    /// let p = plan_reassignment(#{topics: ["peter5"], brokers: [1, 2, 3, 4, 5]});
    /// reassign(p, #{throttle: 50000000});
    /// let disks = parse_plan(`{"version":1,"partitions":[{"topic":"peter5","partition":0,"replicas":[1,2],"log_dirs":["/data/kafka-2","any"]}]}`);
    /// reassign(disks, #{log_dirs_throttle: 100000000});
    /// ```
    #[rhai_fn(return_raw, name = "reassign")]
    pub fn reassign_with(
        ctx: NativeCallContext,
        plan: Dynamic,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "reassign";
        let opts = Options::new(
            f,
            &options,
            &["throttle", "log_dirs_throttle", "via", "force"],
        )?;
        let throttle = opts.int("throttle")?;
        let log_dirs_throttle = opts.int("log_dirs_throttle")?;
        if !opts.bool("force")?.unwrap_or(false) {
            for rate in throttle.iter().chain(&log_dirs_throttle) {
                session
                    .settings
                    .guard_rails
                    .check_throttle(*rate)
                    .map_err(|e| script_error(&session, f, e))?;
            }
        }
        let via = opts.string("via")?;
        let parts = plan_of(f, &plan)?.partitions;
        let dry_run = session.options.dry_run;
        let route = route(&session, f, via.as_deref())?;
        let zk = match route {
            Route::Znode if !dry_run => Some(
                session
                    .zookeeper()
                    .map_err(|e| script_error(&session, f, e))?,
            ),
            _ => None,
        };
        let p2 = parts.clone();
        // Log dir moves add a check, a throttle and AlterReplicaLogDirs retried for up to
        // a call timeout.
        let with_dirs = parts.iter().any(|p| p.log_dirs.is_some());
        let steps = session.settings.call_timeout * if with_dirs { 6 } else { 3 };
        let result = call_for(&session, f, steps, |k| async move {
            flow::start(
                &k,
                route,
                zk.as_deref(),
                &p2,
                throttle,
                log_dirs_throttle,
                dry_run,
            )
            .await
        })?;
        let started = &result.started;
        if !started.started.is_empty() || !started.log_dir_moves.is_empty() {
            let dirs = if started.log_dir_moves.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} between log dirs{}",
                    started.log_dir_moves.len(),
                    started
                        .log_dirs_throttle
                        .map(|t| format!(" throttled at {t} B/s"))
                        .unwrap_or_default()
                )
            };
            session.mutation(
                f,
                &format!("{} partition(s)", started.started.len()),
                &format!(
                    "move {} replica(s){}{dirs}",
                    started.moving_replicas,
                    throttle
                        .filter(|_| !started.started.is_empty())
                        .map(|t| format!(" throttled at {t} B/s"))
                        .unwrap_or_default()
                ),
                serde_json::json!({
                    "partitions": parts,
                    "throttle": throttle,
                    "previous": started.previous,
                    "log_dir_moves": started.log_dir_moves,
                    "log_dirs_throttle": started.log_dirs_throttle,
                }),
            );
        }
        to_map(&result)
    }

    /// Start a reassignment without a throttle.
    #[rhai_fn(return_raw, name = "reassign")]
    pub fn reassign(ctx: NativeCallContext, plan: Dynamic) -> Result<Map, Box<EvalAltResult>> {
        reassign_with(ctx, plan, Map::new())
    }

    /// Progress of a plan: per partition the target and current replicas, the replicas
    /// still being added or removed, the brokers whose replica is not in the plan's log
    /// dir yet (`log_dirs_pending`), and whether it is done; plus the totals. A plan with
    /// `log_dirs` also gets `log_dirs`: per placed replica its `broker`, `target`,
    /// `current` and `future` dir and `state` ("complete", "in progress", "replica
    /// missing", "not moving", "moving elsewhere"), what kafka-reassign-partitions.sh
    /// --verify says of it.
    ///
    /// ```rhai
    /// let s = reassignment_status(plan_reassignment(#{topics: ["peter5"], brokers: [1, 2, 3]}));
    /// print(`${s.done} of ${s.total} partitions done`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn reassignment_status(
        ctx: NativeCallContext,
        plan: Dynamic,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "reassignment_status";
        let parts = plan_of(f, &plan)?.partitions;
        let tracking = tracking(&session, f)?;
        let steps = session.settings.call_timeout * 2;
        let status = call_for(&session, f, steps, |k| async move {
            flow::status(&k, &tracking, &parts).await
        })?;
        to_map(&status)
    }

    /// Wait until a plan's reassignment completes (with `log_dirs`: until the replicas'
    /// copies between log dirs caught up and were swapped in), logging progress every
    /// `interval` (default "5s": partitions done, bytes left, the observed replication rate
    /// and the time left at it), then remove the replication throttles (from the plan's
    /// topics and every broker, the log dir copy throttle too, as Kafka's tool does) and
    /// elect preferred leaders unless `elect: false`. Warns when another reassignment is
    /// in flight on the same brokers: throttle rates are per broker, so the two share them.
    /// Fails after `timeout` (default "1h"), leaving the reassignment running and its
    /// throttles in place.
    /// Returns `complete`, `seconds`, `bytes_per_second` (when measured),
    /// `throttles_removed` and `leaders_elected`.
    ///
    /// ```rhai
    /// let p = plan_reassignment(#{topics: ["peter5"], brokers: [1, 2, 3, 4, 5]});
    /// reassign(p, #{throttle: 50000000});
    /// wait_reassignment(p, #{timeout: "2h"});
    /// ```
    #[rhai_fn(return_raw, name = "wait_reassignment")]
    pub fn wait_reassignment_with(
        ctx: NativeCallContext,
        plan: Dynamic,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "wait_reassignment";
        let opts = Options::new(f, &options, &["timeout", "interval", "elect"])?;
        let wait = WaitOptions {
            timeout: opts.duration("timeout", Duration::from_secs(3600))?,
            interval: opts.duration("interval", Duration::from_secs(5))?,
            elect: opts.bool("elect")?.unwrap_or(true),
            dry_run: session.options.dry_run,
        };
        let parts = plan_of(f, &plan)?.partitions;
        let tracking = tracking(&session, f)?;
        // A backstop above the wait's own limits: every step is bounded by the call
        // timeout, the polls by `timeout`, the election by its patience.
        let limit = wait.timeout
            + wait.interval
            + flow::ELECTION_PATIENCE
            + session.settings.call_timeout * 10;
        let bar = Progress::new("reassignment", parts.len() as u64);
        let shown = &bar;
        let done = call_for(&session, f, limit, |k| async move {
            let notes = k.clone();
            flow::wait(&k, &tracking, &parts, wait, |event| {
                for note in notes.take_notes() {
                    log_line("warn", &format!("{f}: {note}"));
                }
                match event {
                    WaitEvent::SharedThrottle(shared) => {
                        log_line("warn", &format!("{f}: {shared}"));
                    }
                    WaitEvent::Progress {
                        done,
                        bytes_left,
                        bytes_per_second,
                        ..
                    } => shown.update(done as u64, &progress_text(bytes_left, bytes_per_second)),
                }
            })
            .await
        });
        bar.finish();
        let done = done?;
        if !done.throttles_removed.is_empty() {
            session.mutation(
                f,
                "throttles",
                &format!("removed {}", done.throttles_removed.join(", ")),
                serde_json::json!({}),
            );
        }
        to_map(&done)
    }

    /// Wait up to an hour for a plan's reassignment, then remove throttles and elect leaders.
    #[rhai_fn(return_raw, name = "wait_reassignment")]
    pub fn wait_reassignment(
        ctx: NativeCallContext,
        plan: Dynamic,
    ) -> Result<Map, Box<EvalAltResult>> {
        wait_reassignment_with(ctx, plan, Map::new())
    }

    /// Cancel a plan's in-flight reassignments (replicas return where they were) and its
    /// copies between log dirs (each replica stays in the dir it is in), and remove the
    /// throttles. Honours --dry-run.
    ///
    /// ```rhai
    /// cancel_reassignment(parse_plan(read_file("/tmp/plan.json")));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cancel_reassignment(
        ctx: NativeCallContext,
        plan: Dynamic,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "cancel_reassignment";
        let parts = plan_of(f, &plan)?.partitions;
        let dry_run = session.options.dry_run;
        let steps = session.settings.call_timeout * 3;
        let result = call_for(&session, f, steps, |k| async move {
            flow::cancel(&k, &parts, dry_run).await
        })?;
        session.mutation(
            f,
            &format!("{} partition(s)", result.cancelled.len()),
            "cancel",
            serde_json::json!({}),
        );
        to_map(&result)
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
        let session = session_of(&ctx)?;
        let f = "list_reassignments";
        let tracking = tracking(&session, f)?;
        let listed = call(
            &session,
            f,
            |k| async move { flow::list(&k, &tracking).await },
        )?;
        to_array(&listed)
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
        remove_throttles_with(ctx, topics, Map::new())
    }

    /// Remove the replication throttles (see the one-argument form). While partitions of
    /// other topics still move, removing the brokers' shared rates is asked on a terminal
    /// and, without one, needs --yes or `force: true`.
    ///
    /// ```rhai
    /// remove_throttles("orders", #{force: true});
    /// ```
    #[rhai_fn(return_raw, name = "remove_throttles")]
    pub fn remove_throttles_with(
        ctx: NativeCallContext,
        topics: Dynamic,
        options: Map,
    ) -> Result<rhai::Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "remove_throttles";
        let opts = Options::new(f, &options, &["force"])?;
        let force = opts.bool("force")?.unwrap_or(false);
        let topics = topic_names(f, &topics)?;
        let dry_run = session.options.dry_run;
        // The brokers' throttle rates are shared by every reassignment: removing them while
        // partitions of other topics still move unthrottles those too, so that is asked.
        let named = topics.clone();
        let others = call(&session, f, |k| async move {
            flow::others_moving(&k, &named).await
        })?;
        if !others.is_empty() {
            crate::script::confirm_many_listing(
                &session,
                f,
                others
                    .len()
                    .max(session.settings.guard_rails.confirm_above.saturating_add(1) as usize),
                &format!(
                    "the brokers' throttle rates while {} partition(s) of other topics are still moving (they would move unthrottled)",
                    others.len()
                ),
                &others,
                force,
            )?;
        }
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
        to_array(&removed)
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
        let patience = opts.duration("timeout", flow::ELECTION_PATIENCE)?;
        let elected = if session.options.dry_run {
            Vec::new()
        } else {
            // A backstop above the rounds' own limits (each bounded by the call timeout).
            let limit = patience + session.settings.call_timeout * 4;
            call_for(&session, f, limit, |k| async move {
                flow::elect_preferred(&k, &topics, patience).await
            })?
        };
        session.mutation(
            f,
            "preferred leaders",
            &format!("{} leader(s) changed", elected.len()),
            serde_json::json!({}),
        );
        to_array(&elected)
    }
}

use crate::kafka::reassign_flow::{self as flow, Route, Tracking};
use crate::script::{kafka_call as call, script_error, Session};
use rhai::{Dynamic, EvalAltResult};

/// The route `via` asks for; "auto" (or none) asks the controller what it supports.
fn route(session: &Session, f: &str, via: Option<&str>) -> Result<Route, Box<EvalAltResult>> {
    match via {
        Some("api") => Ok(Route::Api),
        Some("zookeeper") => Ok(Route::Znode),
        None | Some("auto") => call(session, f, |k| async move { flow::route(&k).await }),
        Some(other) => Err(format!(
            "{f}: via must be \"auto\", \"api\" or \"zookeeper\", not {other:?}"
        )
        .into()),
    }
}

/// Where a plan's progress is read: ListPartitionReassignments where the controller has
/// it, else the reassignment znode (which needs the context's ZooKeeper).
fn tracking(session: &Session, f: &str) -> Result<Tracking, Box<EvalAltResult>> {
    Ok(
        match call(
            session,
            f,
            |k| async move { flow::progress_route(&k).await },
        )? {
            Route::Api => Tracking::Api,
            Route::Znode => Tracking::Znode(
                session
                    .zookeeper()
                    .map_err(|e| script_error(session, f, e))?,
            ),
        },
    )
}

/// What the progress line says: bytes left, the observed rate and the time left at it.
fn progress_text(left: Option<i64>, rate: Option<f64>) -> String {
    let human = |b: f64| crate::output::progress::human_bytes(b as i64);
    match (left, rate) {
        (None, _) => "bytes left unknown".into(),
        (Some(left), None) => format!("{} left to copy", human(left as f64)),
        (Some(left), Some(rate)) => format!(
            "{} left to copy at {}/s, about {} left",
            human(left as f64),
            human(rate),
            crate::kafka::conn::human(std::time::Duration::from_secs_f64(
                (left as f64 / rate).min(1e7)
            ))
        ),
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

/// The partitions broker `id` holds a replica of, internal topics included (a broker
/// must hold none before it is stopped for good).
pub(crate) fn replicas_held(
    session: &Session,
    f: &str,
    id: i32,
) -> Result<Vec<String>, Box<EvalAltResult>> {
    call(
        session,
        f,
        |k| async move { flow::replicas_held(&k, id).await },
    )
}
/// `sizes: #{"orders-3": bytes}` (topic-partition as Kafka prints it).
fn parse_sizes(f: &str, opts: &Options) -> Result<crate::plan::PartitionSizes, Box<EvalAltResult>> {
    let mut sizes = crate::plan::PartitionSizes::new();
    for (key, value) in opts.string_map("sizes")? {
        let parsed = key
            .rsplit_once('-')
            .and_then(|(t, p)| Some((t.to_string(), p.parse::<i32>().ok()?)))
            .zip(value.parse::<u64>().ok());
        let Some(((topic, partition), bytes)) = parsed else {
            return Err(format!(
                "{f}: sizes: want \"topic-partition\": bytes, like \"orders-3\": 1048576, not {key:?}: {value:?}"
            )
            .into());
        };
        sizes.entry(topic).or_default().insert(partition, bytes);
    }
    Ok(sizes)
}

/// `capacity: #{"1": bytes}` (broker id as a string).
fn parse_capacity(
    f: &str,
    opts: &Options,
) -> Result<std::collections::HashMap<i32, u64>, Box<EvalAltResult>> {
    opts.string_map("capacity")?
        .into_iter()
        .map(|(k, v)| match (k.parse::<i32>(), v.parse::<u64>()) {
            (Ok(b), Ok(bytes)) => Ok((b, bytes)),
            _ => Err(format!(
                "{f}: capacity: want \"broker id\": bytes, like \"1\": 1000000000000, not {k:?}: {v:?}"
            )
            .into()),
        })
        .collect()
}

use crate::script::convert::Options;
