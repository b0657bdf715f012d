//! Rhai functions for groups of every type (classic, consumer, share, streams): list,
//! describe with lag, lag of many groups, reset offsets, delete groups and their offsets.

use rhai::plugin::*;

/// Consumer groups
///
/// List and describe groups of every type Kafka 4 has — classic and KIP-848 consumer groups,
/// share groups and streams groups — with their lag, reset their offsets, and delete them or
/// their offsets: what `kafka-groups.sh`, `kafka-consumer-groups.sh`,
/// `kafka-share-groups.sh` and `kafka-streams-groups.sh` do.
#[export_module]
pub mod api {
    use crate::kafka::groups::{self, ResetTarget};
    use crate::script::convert::{to_array, to_map, Options};
    use crate::script::{kafka_call as call, script_error, session_of};
    use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};

    /// List groups with their type, state and protocol type, like `kafka-groups.sh --list`
    /// (TYPE: Classic, Consumer, Share or Streams). Options: `type` keeps one type (or a
    /// list of types: "classic", "consumer", "share", "streams"); `state` keeps groups in
    /// that state ("Stable", "Empty", ...); `zookeeper: true` lists the old consumers' groups
    /// whose offsets live in ZooKeeper under `<chroot>/consumers`.
    ///
    /// ```rhai
    /// let all = list_groups();
    /// let idle = list_groups(#{state: "Empty"});
    /// let queues = list_groups(#{type: "share"});
    /// ```
    #[rhai_fn(return_raw, name = "list_groups")]
    pub fn list_groups_with(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "list_groups";
        let opts = Options::new(f, &options, &["type", "state", "zookeeper"])?;
        let state = opts.string("state")?;
        let types = opts
            .string_list("type")?
            .iter()
            .map(|t| groups::GroupType::parse(t))
            .collect::<crate::error::Result<Vec<_>>>()
            .map_err(|e| script_error(&session, f, e))?;
        if opts.bool("zookeeper")?.unwrap_or(false) {
            let names = crate::script::zk_call(&session, f, |z| async move {
                crate::zk::legacy::list(&z).await
            })?;
            let listed: Vec<groups::GroupListing> = names
                .into_iter()
                .map(|g| groups::GroupListing {
                    group: g,
                    group_type: groups::GroupType::Classic,
                    state: "ZooKeeper".into(),
                    protocol_type: "zookeeper".into(),
                })
                .collect();
            return to_array(&listed);
        }
        let filter = groups::GroupFilter {
            types,
            states: state.into_iter().collect(),
        };
        let result = call(&session, f, |k| async move {
            groups::list_groups(&k, &filter).await
        })?;
        to_array(&result)
    }

    /// List every consumer group.
    #[rhai_fn(return_raw, name = "list_groups")]
    pub fn list_groups(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        list_groups_with(ctx, Map::new())
    }

    /// Describe a group of any type: type, state, coordinator, members (new protocols: member
    /// epochs and target assignments; streams: tasks), and per partition TOPIC, PARTITION,
    /// CURRENT-OFFSET, LOG-END-OFFSET, LAG, CONSUMER-ID, HOST, CLIENT-ID computed as
    /// `kafka-consumer-groups.sh --describe` does (a partition without a committed offset has
    /// no current offset and an unknown lag), plus `total_lag` and `lag_per_topic`. A share
    /// group's rows are its share-partitions: CURRENT-OFFSET is the START-OFFSET and LAG the
    /// broker's count of records not yet acknowledged (`kafka-share-groups.sh --describe`);
    /// a streams group's rows are its active tasks' partitions (`kafka-streams-groups.sh
    /// --describe`).
    ///
    /// ```rhai
    /// let g = describe_group("peter-consumer-group");
    /// print(`${g.type} group, lag ${g.total_lag}`);
    /// ```
    #[rhai_fn(return_raw, name = "describe_group")]
    pub fn describe_group(ctx: NativeCallContext, name: &str) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        groups::validate_group_id(name).map_err(|e| script_error(&session, "describe_group", e))?;
        let name = name.to_string();
        let result = call(&session, "describe_group", |k| async move {
            groups::describe_group(&k, &name).await
        })?;
        to_map(&result)
    }

    /// Describe a group with options: `zookeeper: true` reads an old consumer's group from
    /// ZooKeeper (`<chroot>/consumers/<group>/offsets/<topic>/<partition>`, owners and
    /// ids), with lag against the brokers' log-end offsets.
    ///
    /// ```rhai
    /// let old = describe_group("legacy-group", #{zookeeper: true});
    /// ```
    #[rhai_fn(return_raw, name = "describe_group")]
    pub fn describe_group_with(
        ctx: NativeCallContext,
        name: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let opts = Options::new("describe_group", &options, &["zookeeper"])?;
        if !opts.bool("zookeeper")?.unwrap_or(false) {
            return describe_group(ctx, name);
        }
        let zk = session
            .zookeeper()
            .map_err(|e| script_error(&session, "describe_group", e))?;
        let name = name.to_string();
        let result = call(&session, "describe_group", |k| async move {
            groups::legacy_group_lag(&k, &zk, &name).await
        })?;
        to_map(&result)
    }

    /// Lag of many groups at once (default: every group of every type), optionally only on
    /// `topics`. Never fails because one group or one broker cannot be read: that group's row
    /// carries an `error` (and `total_lag` 0), a broker that could not list its groups is a
    /// row with group "" naming it, and every other row is complete. Batched: one
    /// FindCoordinator, per coordinator one describe per group type and one offsets request,
    /// and one ListOffsets per partition leader — never one request per partition.
    ///
    /// ```rhai
    /// for g in lag() {
    ///     if g.error != () { warn(`${g.group}: ${g.error}`); }
    ///     else if g.total_lag > 1000 { warn(`${g.group} lags ${g.total_lag}`); }
    /// }
    /// let some = lag(#{groups: ["peter-consumer-group"], topics: ["peter-topic"]});
    /// ```
    #[rhai_fn(return_raw, name = "lag")]
    pub fn lag_with(ctx: NativeCallContext, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let opts = Options::new("lag", &options, &["groups", "topics"])?;
        let wanted = opts.string_list("groups")?;
        let topics = opts.string_list("topics")?;
        let result = call(&session, "lag", |k| async move {
            groups::group_lags(&k, &wanted, &topics).await
        })?;
        to_array(&result)
    }

    /// Lag of every group.
    #[rhai_fn(return_raw, name = "lag")]
    pub fn lag(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        lag_with(ctx, Map::new())
    }

    /// Reset a group's committed offsets (a share group's start offsets, as
    /// `kafka-share-groups.sh --reset-offsets` does). Options: `topic` (a name or a list),
    /// `partitions` (default: all), `to`: "earliest", "latest", an offset, an RFC 3339 time
    /// ("2026-11-24T03:00:00Z") or `#{shift: -100}`. Shows the plan (old and new offset per
    /// partition) and commits it only with `execute: true` or --yes (never with --dry-run).
    /// Refused while the group has active members, naming them. Offsets outside the log
    /// are clamped to it and the plan says so. Committing more than the context's
    /// `confirm_above` (10) partitions asks first in a terminal and, without one, needs
    /// --yes or `force: true`. The audit trail keeps every partition's old and new offset.
    ///
    /// ```rhai
    /// let plan = reset_offsets("peter-consumer-group", #{topic: "peter-topic", to: "earliest"});
    /// reset_offsets("peter-consumer-group", #{topic: "peter-topic", to: #{shift: -10}, execute: true});
    /// ```
    #[rhai_fn(return_raw)]
    pub fn reset_offsets(
        ctx: NativeCallContext,
        group: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "reset_offsets";
        let opts = Options::new(
            f,
            &options,
            &["topic", "partitions", "to", "execute", "force"],
        )?;
        groups::validate_group_id(group).map_err(|e| script_error(&session, f, e))?;
        let topics = opts.string_list("topic")?;
        if topics.is_empty() {
            return Err(format!("{f}: name the topic(s) to reset: #{{topic: \"name\"}}").into());
        }
        let partitions: Vec<i32> = opts
            .int_list("partitions")?
            .into_iter()
            .map(|p| p as i32)
            .collect();
        let target = parse_target(options.get("to")).map_err(|e| script_error(&session, f, e))?;
        let wanted = opts.bool("execute")?.unwrap_or(false) || session.options.yes;
        let execute = wanted && !session.options.dry_run;
        let force = opts.bool("force")?.unwrap_or(false);
        let name = group.to_string();
        let (t, p, tg) = (topics.clone(), partitions.clone(), target.clone());
        let plan = call(&session, f, |k| async move {
            groups::reset_offsets(&k, &name, &t, &p, &tg, false).await
        })?;
        let mut result = plan;
        if execute {
            // Moving many partitions' offsets at once is confirmed first.
            crate::script::confirm_many(
                &session,
                f,
                result.partitions.len(),
                &format!(
                    "the offsets of {} partition(s) of group {group:?}",
                    result.partitions.len()
                ),
                force,
            )?;
            let name = group.to_string();
            result = call(&session, f, |k| async move {
                groups::reset_offsets(&k, &name, &topics, &partitions, &target, true).await
            })?;
        } else {
            result.message = format!(
                "{} (run with --yes or #{{execute: true}} to commit)",
                result.message
            );
        }
        if wanted {
            let offsets: Vec<String> = result
                .partitions
                .iter()
                .map(|r| format!("{}-{}={}", r.topic, r.partition, r.new_offset))
                .collect();
            let before_after: Vec<serde_json::Value> = result
                .partitions
                .iter()
                .map(|r| {
                    serde_json::json!({"topic": r.topic, "partition": r.partition,
                                       "old": r.old_offset, "new": r.new_offset})
                })
                .collect();
            session.mutation(
                f,
                &result.group,
                &format!("commit offsets {}", offsets.join(", ")),
                serde_json::json!({"offsets": before_after}),
            );
        }
        to_map(&result)
    }

    /// Delete a group of any type and its offsets; refused while it has members. Honours
    /// --dry-run.
    ///
    /// ```rhai
    /// delete_group("old-group");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn delete_group(ctx: NativeCallContext, name: &str) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        groups::validate_group_id(name).map_err(|e| script_error(&session, "delete_group", e))?;
        let name = name.to_string();
        let dry_run = session.options.dry_run;
        let result = call(&session, "delete_group", |k| async move {
            groups::delete_group(&k, &name, dry_run).await
        })?;
        session.mutation(
            "delete_group",
            &result.group,
            "delete the group and its offsets",
            serde_json::json!({"type": result.group_type}),
        );
        to_map(&result)
    }

    /// Delete a group's offsets of some topics, keeping the rest (like
    /// `kafka-consumer-groups.sh --delete-offsets`; a share group's whole topics, like
    /// `kafka-share-groups.sh --delete-offsets`). Options: `topic` (a name or a list),
    /// `partitions` (default: every partition with an offset). Refused while an active member
    /// reads one of the topics, naming it. Honours --dry-run: the plan lists each offset
    /// that would go.
    ///
    /// ```rhai
    /// delete_group_offsets("peter-consumer-group", #{topic: "retired-topic"});
    /// ```
    #[rhai_fn(return_raw)]
    pub fn delete_group_offsets(
        ctx: NativeCallContext,
        group: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "delete_group_offsets";
        let opts = Options::new(f, &options, &["topic", "partitions"])?;
        groups::validate_group_id(group).map_err(|e| script_error(&session, f, e))?;
        let topics = opts.string_list("topic")?;
        if topics.is_empty() {
            return Err(format!(
                "{f}: name the topic(s) whose offsets to delete: #{{topic: \"name\"}}"
            )
            .into());
        }
        let partitions: Vec<i32> = opts
            .int_list("partitions")?
            .into_iter()
            .map(|p| p as i32)
            .collect();
        let dry_run = session.options.dry_run;
        let group = group.to_string();
        let result = call(&session, f, |k| async move {
            groups::delete_group_offsets(&k, &group, &topics, &partitions, dry_run).await
        })?;
        let offsets: Vec<String> = result
            .partitions
            .iter()
            .map(|r| format!("{}-{}", r.topic, r.partition))
            .collect();
        session.mutation(
            f,
            &result.group,
            &format!("delete offsets of {}", offsets.join(", ")),
            serde_json::json!({"type": result.group_type, "partitions": offsets}),
        );
        to_map(&result)
    }

    /// Delete a group's offsets of one topic (`kafka-consumer-groups.sh --delete-offsets
    /// --topic t`), or of some of its partitions with `#{partitions: [0, 2]}`; refused while
    /// an active member reads the topic. Honours --dry-run.
    ///
    /// ```rhai
    /// delete_group_offsets("peter-consumer-group", "retired-topic", #{partitions: [0]});
    /// ```
    #[rhai_fn(return_raw, name = "delete_group_offsets")]
    pub fn delete_topic_offsets_with(
        ctx: NativeCallContext,
        group: &str,
        topic: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        if let Some(k) = options.keys().find(|k| k.as_str() != "partitions") {
            return Err(format!(
                "delete_group_offsets: unknown option {:?} (known: partitions)",
                k.as_str()
            )
            .into());
        }
        let mut all = options;
        all.insert("topic".into(), topic.into());
        delete_group_offsets(ctx, group, all)
    }

    /// Delete a group's offsets of one topic.
    #[rhai_fn(return_raw, name = "delete_group_offsets")]
    pub fn delete_topic_offsets(
        ctx: NativeCallContext,
        group: &str,
        topic: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        delete_topic_offsets_with(ctx, group, topic, Map::new())
    }

    #[rhai_fn(skip)]
    pub fn parse_target(to: Option<&Dynamic>) -> crate::error::Result<ResetTarget> {
        use crate::error::Error;
        let Some(to) = to else {
            return Err(Error::InvalidInput(
                "say where to: #{to: \"earliest\"}, \"latest\", an offset, a time or #{shift: n}"
                    .into(),
            ));
        };
        if let Ok(n) = to.as_int() {
            return Ok(ResetTarget::Offset(n));
        }
        if let Some(map) = to.clone().try_cast::<Map>() {
            if let Some(n) = map.get("shift").and_then(|v| v.as_int().ok()) {
                return Ok(ResetTarget::Shift(n));
            }
            return Err(Error::InvalidInput(
                "`to` as a map must be #{shift: n}".into(),
            ));
        }
        let text = to.to_string();
        match text.as_str() {
            "earliest" => Ok(ResetTarget::Earliest),
            "latest" => Ok(ResetTarget::Latest),
            other => crate::kafka::time::parse_rfc3339_ms(other).map(ResetTarget::Timestamp).map_err(|e| {
                Error::InvalidInput(format!(
                    "`to` {other:?} is not \"earliest\", \"latest\", an offset, #{{shift: n}} or an RFC 3339 time: {e}"
                ))
            }),
        }
    }
}
