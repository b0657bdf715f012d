//! Rhai functions for configs of topics and brokers.

use rhai::plugin::*;

/// Configs
///
/// Read and change the configs of topics and brokers — what `kafka-configs.sh` does.
/// Changes are incremental: a config that is not named keeps its value.
#[export_module]
pub mod api {
    use crate::kafka::configs::{self, Entity};
    use crate::script::convert::{scalar_text, to_array, to_map, Options};
    use crate::script::{kafka_call as call, script_error, session_of};
    use indexmap::IndexMap;
    use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};

    /// The configs set on a topic, a broker or the broker default itself — what
    /// `kafka-configs.sh --describe` shows: name, value, source, whether it is sensitive
    /// (value masked) and read-only. Entity: "topic", "broker" (name = broker id) or
    /// "broker_default" (name ignored). `#{all: true}` lists every config with its source
    /// (default, static_broker, dynamic_broker, dynamic_default_broker, dynamic_topic), as
    /// `--all` does.
    ///
    /// ```rhai
    /// let changed = describe_config("topic", "peter-topic");
    /// let retention = describe_config("topic", "peter-topic", #{all: true}).filter(|c| c.name == "retention.ms");
    /// let broker = describe_config("broker", "1");
    /// ```
    #[rhai_fn(return_raw, name = "describe_config")]
    pub fn describe_config_with(
        ctx: NativeCallContext,
        entity: &str,
        name: Dynamic,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "describe_config";
        let opts = Options::new(f, &options, &["all"])?;
        let all = opts.bool("all")?.unwrap_or(false);
        let name = scalar_text(&name).unwrap_or_default();
        let entity = Entity::parse(entity, &name).map_err(|e| script_error(&session, f, e))?;
        let own = entity.own_source();
        let mut result = call(&session, f, |k| async move {
            configs::describe_config(&k, &entity).await
        })?;
        if !all {
            result.retain(|c| c.source == own);
        }
        to_array(&result)
    }

    /// The configs set on a topic, a broker or the broker default itself.
    #[rhai_fn(return_raw, name = "describe_config")]
    pub fn describe_config(
        ctx: NativeCallContext,
        entity: &str,
        name: Dynamic,
    ) -> Result<Array, Box<EvalAltResult>> {
        describe_config_with(ctx, entity, name, Map::new())
    }

    /// Change configs incrementally: `#{set: #{key: value, ..}, delete: [key, ..]}`. A config
    /// that is not named keeps its value (IncrementalAlterConfigs). The result lists each
    /// change with its old and new value. With --dry-run the broker validates the change and
    /// nothing changes.
    ///
    /// ```rhai
    /// alter_config("topic", "peter-topic", #{set: #{"retention.ms": 3600000}});
    /// alter_config("topic", "peter-topic", #{delete: ["retention.ms"]});
    /// alter_config("broker", 1, #{set: #{"log.cleaner.threads": 2}});
    /// ```
    #[rhai_fn(return_raw, name = "alter_config")]
    pub fn alter_config(
        ctx: NativeCallContext,
        entity: &str,
        name: Dynamic,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "alter_config";
        let opts = Options::new(f, &options, &["set", "delete"])?;
        let set = opts.string_map("set")?;
        let delete = opts.string_list("delete")?;
        if set.is_empty() && delete.is_empty() {
            return Err(format!(
                "{f}: nothing to change: give #{{set: #{{..}}}} and/or #{{delete: [..]}}"
            )
            .into());
        }
        let name = scalar_text(&name).unwrap_or_default();
        let entity = Entity::parse(entity, &name).map_err(|e| script_error(&session, f, e))?;
        let dry_run = session.options.dry_run;
        let result = call(&session, f, |k| async move {
            configs::alter_config(&k, &entity, &set, &delete, dry_run).await
        })?;
        super::record_config_change(&session, &result);
        to_map(&result)
    }

    /// Set one topic config, as `kafka-configs.sh --alter --add-config key=value` does;
    /// every other config keeps its value.
    ///
    /// ```rhai
    /// set_config("peter-topic", "retention.ms", 3600000);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set_config(
        ctx: NativeCallContext,
        topic: &str,
        key: &str,
        value: Dynamic,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let value = scalar_text(&value).ok_or_else(|| {
            format!("set_config: the value of {key:?} must be a number, bool or string")
        })?;
        let entity =
            Entity::parse("topic", topic).map_err(|e| script_error(&session, "set_config", e))?;
        let mut set = IndexMap::new();
        set.insert(key.to_string(), value);
        let dry_run = session.options.dry_run;
        let result = call(&session, "set_config", |k| async move {
            configs::alter_config(&k, &entity, &set, &[], dry_run).await
        })?;
        super::record_config_change(&session, &result);
        to_map(&result)
    }

    /// Delete one topic config (back to the default), as `--delete-config key` does; a key
    /// that is not set on the topic is an error naming it, as in Kafka's tool.
    ///
    /// ```rhai
    /// delete_config("peter-topic", "retention.ms");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn delete_config(
        ctx: NativeCallContext,
        topic: &str,
        key: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let entity = Entity::parse("topic", topic)
            .map_err(|e| script_error(&session, "delete_config", e))?;
        let delete = vec![key.to_string()];
        let dry_run = session.options.dry_run;
        let result = call(&session, "delete_config", |k| async move {
            configs::alter_config(&k, &entity, &IndexMap::new(), &delete, dry_run).await
        })?;
        super::record_config_change(&session, &result);
        to_map(&result)
    }
}

/// Records a config change for the dry-run plan or the audit log.
fn record_config_change(
    session: &crate::script::Session,
    change: &crate::kafka::configs::ConfigChange,
) {
    let lines: Vec<String> = change
        .changes
        .iter()
        .map(|c| match &c.new {
            Some(v) => format!("set {}={v}", c.name),
            None => format!("delete {}", c.name),
        })
        .collect();
    session.mutation(
        "alter_config",
        &change.entity,
        &lines.join(", "),
        serde_json::json!({
            "entity": change.subject.as_ref().map(|e| e.kind()),
            "name": change.subject.as_ref().map(|e| e.resource_name()),
            "changes": change.changes,
        }),
    );
}
