//! Configs of topics and brokers: describe every entry with its source, and change them
//! incrementally (IncrementalAlterConfigs) so a config that is not named keeps its value.

use super::client::{check_code, KafkaClient};
use crate::error::{Error, Result};
use indexmap::IndexMap;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::{DescribeConfigsRequest, IncrementalAlterConfigsRequest};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;

/// The kind of object a config belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entity {
    /// A topic, by name.
    Topic(String),
    /// One broker, by id.
    Broker(i32),
    /// The cluster-wide default of every broker.
    BrokerDefault,
}

impl Entity {
    /// Parses `("topic", "orders")`, `("broker", "1")`, `("broker_default", "")`.
    pub fn parse(kind: &str, name: &str) -> Result<Entity> {
        match kind {
            "topic" | "topics" => {
                super::topics::validate_topic_name(name)?;
                Ok(Entity::Topic(name.to_string()))
            }
            "broker" | "brokers" => name.trim().parse::<i32>().map(Entity::Broker).map_err(|_| {
                Error::InvalidInput(format!("broker id must be a number, not {name:?}"))
            }),
            "broker_default" | "broker-default" => Ok(Entity::BrokerDefault),
            other => Err(Error::InvalidInput(format!(
                "unknown entity {other:?}; use \"topic\", \"broker\" or \"broker_default\""
            ))),
        }
    }

    fn resource_type(&self) -> i8 {
        match self {
            Entity::Topic(_) => 2,
            Entity::Broker(_) | Entity::BrokerDefault => 4,
        }
    }

    /// The entity kind as `describe_config` takes it: "topic", "broker", "broker_default".
    pub fn kind(&self) -> &'static str {
        match self {
            Entity::Topic(_) => "topic",
            Entity::Broker(_) => "broker",
            Entity::BrokerDefault => "broker_default",
        }
    }

    /// The entity's name: the topic, the broker id, "" for the broker default.
    pub fn resource_name(&self) -> String {
        match self {
            Entity::Topic(t) => t.clone(),
            Entity::Broker(id) => id.to_string(),
            Entity::BrokerDefault => String::new(),
        }
    }

    /// The source of configs set on this entity itself ("dynamic_topic", ...): what
    /// `kafka-configs.sh --describe` lists without `--all`, and what a delete can remove.
    pub fn own_source(&self) -> &'static str {
        match self {
            Entity::Topic(_) => "dynamic_topic",
            Entity::Broker(_) => "dynamic_broker",
            Entity::BrokerDefault => "dynamic_default_broker",
        }
    }

    /// "topic \"orders\"", "broker 1", "the broker default".
    pub fn describe(&self) -> String {
        match self {
            Entity::Topic(t) => format!("topic {t:?}"),
            Entity::Broker(id) => format!("broker {id}"),
            Entity::BrokerDefault => "the broker default".to_string(),
        }
    }

    async fn send_describe(
        &self,
        client: &KafkaClient,
        request: &DescribeConfigsRequest,
    ) -> Result<kafka_protocol::messages::DescribeConfigsResponse> {
        match self {
            Entity::Broker(id) => client.send_to(*id, request).await.map_err(|e| match e {
                Error::NotFound(_) => Error::NotFound(format!("broker {id} is not in the cluster")),
                other => other,
            }),
            _ => client.send_any(request).await,
        }
    }
}

/// One config entry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConfigEntry {
    /// Config name.
    pub name: String,
    /// Value; sensitive values are masked, unset ones are none.
    pub value: Option<String>,
    /// default, static_broker, dynamic_broker, dynamic_default_broker, dynamic_topic, ...
    pub source: String,
    /// Whether Kafka marks the value sensitive (it is never shown).
    pub sensitive: bool,
    /// Whether it can only be changed by restarting the broker.
    pub read_only: bool,
}

/// The name kafsh uses for a DescribeConfigs source code.
pub fn source_name(code: i8) -> &'static str {
    match code {
        1 => "dynamic_topic",
        2 => "dynamic_broker",
        3 => "dynamic_default_broker",
        4 => "static_broker",
        5 => "default",
        6 => "dynamic_broker_logger",
        7 => "client_metrics",
        8 => "group",
        _ => "unknown",
    }
}

/// Every config of `entity`, in the broker's order.
pub async fn describe_config(client: &KafkaClient, entity: &Entity) -> Result<Vec<ConfigEntry>> {
    if let Entity::Topic(t) = entity {
        // DescribeConfigs answers for missing topics on some versions; make it explicit.
        super::topics::describe_topic(client, t).await?;
    }
    let request = DescribeConfigsRequest::default()
        .with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(entity.resource_type())
            .with_resource_name(StrBytes::from_string(entity.resource_name()))
            .with_configuration_keys(None)])
        .with_include_synonyms(false);
    let response = entity.send_describe(client, &request).await?;
    let mut out = Vec::new();
    for r in response.results {
        check_code(r.error_code, r.error_message.as_ref(), &entity.describe())?;
        for c in r.configs {
            out.push(ConfigEntry {
                name: c.name.as_str().to_string(),
                value: if c.is_sensitive {
                    c.value.as_ref().map(|_| "[hidden]".to_string())
                } else {
                    c.value.as_ref().map(|v| v.as_str().to_string())
                },
                source: source_name(c.config_source).to_string(),
                sensitive: c.is_sensitive,
                read_only: c.read_only,
            });
        }
    }
    Ok(out)
}

/// What `alter_config` did (or would do, in a dry run).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConfigChange {
    /// "topic \"orders\"", "broker 1", ...
    pub entity: String,
    /// The entity itself (for the audit trail's rollback).
    #[serde(skip)]
    pub subject: Option<Entity>,
    /// True when nothing was changed (dry run; the broker still validated the change).
    pub dry_run: bool,
    /// One line per changed key.
    pub changes: Vec<ConfigChangeLine>,
    /// Whether a describe after the change showed it in effect (KRaft applies config
    /// changes asynchronously; kafsh waits up to 10 s for them).
    pub in_effect: bool,
}

/// One key's change.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConfigChangeLine {
    /// Config name.
    pub name: String,
    /// "set" or "delete".
    pub action: String,
    /// Value before (masked when sensitive), none when it was not set.
    pub old: Option<String>,
    /// Value after, none for a delete.
    pub new: Option<String>,
}

/// Sets and deletes configs of `entity` incrementally; every other config keeps its value.
/// With `dry_run`, the broker validates the change (validate_only) and nothing changes.
pub async fn alter_config(
    client: &KafkaClient,
    entity: &Entity,
    set: &IndexMap<String, String>,
    delete: &[String],
    dry_run: bool,
) -> Result<ConfigChange> {
    if set.is_empty() && delete.is_empty() {
        return Err(Error::InvalidInput(
            "nothing to change: no config to set or delete".into(),
        ));
    }
    for name in set.keys().chain(delete) {
        validate_config_name(name)?;
    }
    if let Some(both) = delete.iter().find(|k| set.contains_key(*k)) {
        return Err(Error::InvalidInput(format!(
            "{both:?} is both set and deleted"
        )));
    }
    let before = describe_config(client, entity).await?;
    // As ConfigCommand does: deleting a config that is not set here is a mistake (a typo),
    // not a silent no-op.
    let not_set: Vec<&str> = delete
        .iter()
        .filter(|k| {
            !before
                .iter()
                .any(|c| &c.name == *k && c.source == entity.own_source())
        })
        .map(String::as_str)
        .collect();
    if !not_set.is_empty() {
        return Err(Error::InvalidInput(format!(
            "invalid config(s) to delete: {} (not set on {}; configs set there: {})",
            not_set.join(", "),
            entity.describe(),
            {
                let set: Vec<&str> = before
                    .iter()
                    .filter(|c| c.source == entity.own_source())
                    .map(|c| c.name.as_str())
                    .collect();
                if set.is_empty() {
                    "none".to_string()
                } else {
                    set.join(", ")
                }
            }
        )));
    }
    let old_value = |name: &str| -> Option<String> {
        before
            .iter()
            .find(|c| {
                c.name == name && !(matches!(entity, Entity::Topic(_)) && c.source == "default")
            })
            .and_then(|c| c.value.clone())
    };
    let mut configs = Vec::new();
    let mut changes = Vec::new();
    for (name, value) in set {
        configs.push(
            AlterableConfig::default()
                .with_name(StrBytes::from_string(name.clone()))
                .with_config_operation(0)
                .with_value(Some(StrBytes::from_string(value.clone()))),
        );
        let sensitive = before.iter().any(|c| &c.name == name && c.sensitive) || looks_secret(name);
        changes.push(ConfigChangeLine {
            name: name.clone(),
            action: "set".into(),
            old: old_value(name),
            new: Some(if sensitive {
                "[hidden]".into()
            } else {
                value.clone()
            }),
        });
    }
    for name in delete {
        configs.push(
            AlterableConfig::default()
                .with_name(StrBytes::from_string(name.clone()))
                .with_config_operation(1)
                .with_value(None),
        );
        changes.push(ConfigChangeLine {
            name: name.clone(),
            action: "delete".into(),
            old: old_value(name),
            new: None,
        });
    }
    let request = IncrementalAlterConfigsRequest::default()
        .with_resources(vec![AlterConfigsResource::default()
            .with_resource_type(entity.resource_type())
            .with_resource_name(StrBytes::from_string(entity.resource_name()))
            .with_configs(configs)])
        .with_validate_only(dry_run);
    let response = match entity {
        Entity::Broker(id) => client.send_to(*id, &request).await?,
        _ => client.send_any(&request).await?,
    };
    for r in &response.responses {
        check_code(r.error_code, r.error_message.as_ref(), &entity.describe())?;
    }
    let in_effect = !dry_run && wait_in_effect(client, entity, set, delete).await;
    Ok(ConfigChange {
        entity: entity.describe(),
        subject: Some(entity.clone()),
        dry_run,
        changes,
        in_effect,
    })
}

/// Polls until a describe shows every set value and no deleted key at the entity's own
/// level; false when that did not happen within 10 s (the change may still be applying).
async fn wait_in_effect(
    client: &KafkaClient,
    entity: &Entity,
    set: &IndexMap<String, String>,
    delete: &[String],
) -> bool {
    let own_source = entity.own_source();
    let deadline =
        tokio::time::Instant::now() + client.timeout().min(std::time::Duration::from_secs(10));
    loop {
        if let Ok(now) = describe_config(client, entity).await {
            let set_ok = set.iter().all(|(k, v)| {
                now.iter()
                    .find(|c| &c.name == k)
                    .is_none_or(|c| c.sensitive || c.value.as_deref() == Some(v.as_str()))
            });
            let delete_ok = delete.iter().all(|k| {
                now.iter()
                    .find(|c| &c.name == k)
                    .is_none_or(|c| c.source != own_source)
            });
            if set_ok && delete_ok {
                return true;
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Waits, up to 10 s, until each of `brokers` lists every one of `settings` with that
/// value as its own. Unlike [`alter_config`]'s check, a key missing from the answer does not
/// count as applied: the throttle rates are listed only once a broker has applied them,
/// which a ZooKeeper-mode broker does when the change notification reaches it, so work
/// started right after storing them ran unthrottled for a moment. A broker that cannot be
/// asked any more is not waited on; one that never shows the value delays by 10 s at most.
pub async fn wait_broker_values(
    client: &KafkaClient,
    brokers: &std::collections::BTreeSet<i32>,
    settings: &[(&str, &str)],
) {
    let deadline =
        tokio::time::Instant::now() + client.timeout().min(std::time::Duration::from_secs(10));
    for b in brokers {
        loop {
            let Ok(now) = describe_config(client, &Entity::Broker(*b)).await else {
                break;
            };
            let applied = settings.iter().all(|(name, value)| {
                now.iter()
                    .any(|c| c.name == *name && c.value.as_deref() == Some(*value))
            });
            if applied || tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Names that hold secrets, whatever Kafka says about them.
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["password", "secret", "token", "jaas", "credential"]
        .iter()
        .any(|w| n.contains(w))
}

/// Refuses what cannot be a config name (Kafka's are short, of letters, digits, '.', '_'
/// and '-'), before it is sent: a broker drops the connection of a request whose strings
/// are longer than the protocol allows.
pub fn validate_config_name(name: &str) -> Result<()> {
    let bad = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')));
    if name.is_empty() || name.len() > 255 || bad.is_some() {
        let shown: String = name.chars().take(60).collect();
        let ellipsis = if name.chars().count() > 60 { "…" } else { "" };
        return Err(Error::InvalidInput(format!(
            "{shown:?}{ellipsis} ({} characters) is not a config name",
            name.chars().count()
        )));
    }
    Ok(())
}
