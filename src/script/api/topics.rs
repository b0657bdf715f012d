//! Rhai functions for topics: list, describe, create, delete, add partitions.

use rhai::plugin::*;

/// Topics
///
/// List, describe, create and delete topics and add partitions — what `kafka-topics.sh`
/// does. The functions that change topics honour --dry-run.
#[export_module]
pub mod api {
    use crate::kafka::topics;
    use crate::script::convert::{to_array, to_map, Options};
    use crate::script::{kafka_call as call, script_error, session_of};
    use rhai::{Array, EvalAltResult, Map, NativeCallContext};

    /// List topic names, sorted, without internal topics (like `kafka-topics.sh --list`).
    ///
    /// Options: `internal` (bool) includes `__consumer_offsets` and the like.
    ///
    /// ```rhai
    /// let names = list_topics();
    /// let everything = list_topics(#{internal: true});
    /// ```
    #[rhai_fn(return_raw, name = "list_topics")]
    pub fn list_topics(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        list_topics_with(ctx, Map::new())
    }

    /// List topic names with options (`internal`).
    #[rhai_fn(return_raw, name = "list_topics")]
    pub fn list_topics_with(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let opts = Options::new("list_topics", &options, &["internal"])?;
        let list_options = topics::ListOptions {
            internal: opts.bool("internal")?.unwrap_or(false),
        };
        let result = call(&session, "list_topics", |k| async move {
            topics::list_topics(&k, &list_options).await
        })?;
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
        let result = call(&session, "describe_topic", |k| async move {
            topics::describe_topic(&k, &name).await
        })?;
        to_map(&result)
    }

    /// Describe several topics at once (one metadata and one config request in all): a list
    /// of names, or a regular expression matched against whole names.
    ///
    /// ```rhai
    /// let some = describe_topics(["orders", "payments"]);
    /// let peters = describe_topics("peter.*");
    /// ```
    #[rhai_fn(return_raw, name = "describe_topics")]
    pub fn describe_topics_pattern(
        ctx: NativeCallContext,
        pattern: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let pattern = pattern.to_string();
        let result = call(&session, "describe_topics", |k| async move {
            let names = topics::matching_topics(&k, &pattern).await?;
            topics::describe_topics(&k, &names).await
        })?;
        to_array(&result)
    }

    /// Describe the topics named in a list.
    #[rhai_fn(return_raw, name = "describe_topics")]
    pub fn describe_topics_list(
        ctx: NativeCallContext,
        names: Array,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let names: Vec<String> = names
            .into_iter()
            .map(|n| {
                n.into_string()
                    .map_err(|t| format!("describe_topics: expects a list of names, found a {t}"))
            })
            .collect::<Result<_, _>>()?;
        for n in &names {
            topics::validate_topic_name(n)
                .map_err(|e| script_error(&session, "describe_topics", e))?;
        }
        let result = call(&session, "describe_topics", |k| async move {
            topics::describe_topics(&k, &names).await
        })?;
        to_array(&result)
    }

    /// Create a topic. Options: `partitions`, `replication_factor` (broker defaults when
    /// left out), `config` (a map of topic configs), `assignment` (replica lists per
    /// partition, first = preferred leader; replaces partitions and replication_factor),
    /// `if_not_exists` (succeed without change when it exists), `force` (past the guard
    /// rails: more than `max_new_partitions` (10,000) new partitions, more than doubling a
    /// cluster of over 1,000, or more than `max_replicas_per_broker` (4,000) replicas per
    /// broker are refused without it). Waits until every partition has a leader. With
    /// --dry-run the controller validates the request and nothing changes.
    ///
    /// ```rhai
    /// create_topic("peter-topic", #{partitions: 1, replication_factor: 1});
    /// create_topic("peter5", #{partitions: 5, replication_factor: 2, config: #{"retention.ms": 3600000}});
    /// create_topic("placed", #{assignment: [[1, 2], [2, 3]], if_not_exists: true});
    /// ```
    #[rhai_fn(return_raw, name = "create_topic")]
    pub fn create_topic_with(
        ctx: NativeCallContext,
        name: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "create_topic";
        let opts = Options::new(
            f,
            &options,
            &[
                "partitions",
                "replication_factor",
                "config",
                "assignment",
                "if_not_exists",
                "force",
            ],
        )?;
        let guard = (!opts.bool("force")?.unwrap_or(false)).then_some(session.settings.guard_rails);
        let partitions = opts.int("partitions")?;
        let rf = opts.int("replication_factor")?;
        let new_topic = topics::NewTopic {
            name: name.to_string(),
            partitions: partitions
                .map(|p| p.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32),
            replication_factor: rf
                .map(|r| r.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16),
            config: opts.string_map("config")?,
            assignment: opts.int_matrix("assignment")?.map(|rows| {
                rows.into_iter()
                    .map(|r| r.into_iter().map(|b| b as i32).collect())
                    .collect()
            }),
            if_not_exists: opts.bool("if_not_exists")?.unwrap_or(false),
        };
        let dry_run = session.options.dry_run;
        let result = call(&session, f, |k| async move {
            topics::create_topic(&k, &new_topic, dry_run, guard.as_ref()).await
        })?;
        if result.changes {
            session.mutation(
                "create_topic",
                &result.topic,
                &result.message,
                serde_json::json!({
                    "partitions": result.partitions,
                    "replication_factor": result.replication_factor,
                    "config": result.config,
                    "assignment": result.assignment,
                }),
            );
        }
        to_map(&result)
    }

    /// Create a topic with the broker's default partitions and replication factor.
    #[rhai_fn(return_raw, name = "create_topic")]
    pub fn create_topic(ctx: NativeCallContext, name: &str) -> Result<Map, Box<EvalAltResult>> {
        create_topic_with(ctx, name, Map::new())
    }

    /// Delete a topic (refused for internal topics). Waits until the cluster no longer lists
    /// it. With --dry-run it only checks that the topic exists.
    ///
    /// ```rhai
    /// delete_topic("peter-topic");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn delete_topic(ctx: NativeCallContext, name: &str) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let name = name.to_string();
        let dry_run = session.options.dry_run;
        let result = call(&session, "delete_topic", |k| async move {
            topics::delete_topic(&k, &name, dry_run).await
        })?;
        session.mutation(
            "delete_topic",
            &result.topic,
            &result.message,
            serde_json::json!({}),
        );
        to_map(&result)
    }

    /// Delete every topic whose whole name matches a regular expression, as
    /// `kafka-topics.sh --delete --topic 'regex'` does (internal topics never match). Lists
    /// what it deletes; more than the context's `confirm_above` (10) topics asks first in a
    /// terminal and, without one, needs --yes or `#{force: true}`. Honours --dry-run.
    ///
    /// ```rhai
    /// let gone = delete_topics("loadtest-.*");
    /// delete_topics("tmp-.*", #{force: true});
    /// ```
    #[rhai_fn(return_raw, name = "delete_topics")]
    pub fn delete_topics_with(
        ctx: NativeCallContext,
        pattern: &str,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "delete_topics";
        let opts = Options::new(f, &options, &["force"])?;
        let force = opts.bool("force")?.unwrap_or(false);
        let p = pattern.to_string();
        let names = call(&session, f, |k| async move {
            let names = topics::matching_topics(&k, &p).await?;
            let ordinary =
                topics::list_topics(&k, &topics::ListOptions { internal: false }).await?;
            Ok(names
                .into_iter()
                .filter(|n| ordinary.contains(n))
                .collect::<Vec<_>>())
        })?;
        if names.is_empty() {
            return Err(script_error(
                &session,
                f,
                crate::error::Error::NotFound(format!("no topic matches {pattern:?}")),
            ));
        }
        crate::script::confirm_many(
            &session,
            f,
            names.len(),
            &format!("{} topics matching {pattern:?}", names.len()),
            force,
        )?;
        let mut out = Array::new();
        for name in names {
            let dry_run = session.options.dry_run;
            let result = call(&session, f, |k| async move {
                topics::delete_topic(&k, &name, dry_run).await
            })?;
            session.mutation(
                "delete_topic",
                &result.topic,
                &result.message,
                serde_json::json!({}),
            );
            out.push(rhai::Dynamic::from_map(to_map(&result)?));
        }
        Ok(out)
    }

    /// Delete every topic whose name matches a regular expression (asks above 10).
    #[rhai_fn(return_raw, name = "delete_topics")]
    pub fn delete_topics(
        ctx: NativeCallContext,
        pattern: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        delete_topics_with(ctx, pattern, Map::new())
    }

    /// Raise a topic's partition count to `total`. Only increases: asking for the same or
    /// fewer partitions is refused with the reason. The result warns that keyed messages map
    /// to other partitions afterwards (ordering per key changes), and consumer groups should
    /// grow with the partitions. Growth out of proportion (see `create_topic`) is refused
    /// unless `#{force: true}`.
    ///
    /// ```rhai
    /// let r = add_partitions("peter-topic", 2);
    /// warn(r.warning);
    /// add_partitions("peter-topic", 20000, #{force: true});
    /// ```
    #[rhai_fn(return_raw, name = "add_partitions")]
    pub fn add_partitions_with(
        ctx: NativeCallContext,
        name: &str,
        total: i64,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "add_partitions";
        let opts = Options::new(f, &options, &["force"])?;
        let guard = (!opts.bool("force")?.unwrap_or(false)).then_some(session.settings.guard_rails);
        let name = name.to_string();
        let dry_run = session.options.dry_run;
        let result = call(&session, f, |k| async move {
            topics::validate_topic_name(&name)?;
            topics::add_partitions(&k, &name, total, dry_run, guard.as_ref()).await
        })?;
        session.mutation(
            f,
            &result.topic,
            &format!(
                "{} -> {} partitions",
                result.old_partitions, result.new_partitions
            ),
            serde_json::json!({"total": result.new_partitions}),
        );
        to_map(&result)
    }

    /// Raise a topic's partition count to `total`, within the guard rails.
    #[rhai_fn(return_raw, name = "add_partitions")]
    pub fn add_partitions(
        ctx: NativeCallContext,
        name: &str,
        total: i64,
    ) -> Result<Map, Box<EvalAltResult>> {
        add_partitions_with(ctx, name, total, Map::new())
    }
}
