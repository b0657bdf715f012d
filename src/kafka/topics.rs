//! Topics: list and describe (partitions with leader, replicas, ISR, offline replicas, and the
//! topic's non-default configs: the fields `kafka-topics.sh --describe` shows).

use super::client::{check_code, KafkaClient};
use super::topic_id_string;
use crate::error::{Error, Result};
use indexmap::IndexMap;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::DescribeConfigsRequest;
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;

/// Config source code of a default value (DescribeConfigs `config_source`).
pub const SOURCE_DEFAULT: i8 = 5;
/// Resource type code of a topic (DescribeConfigs).
pub const RESOURCE_TOPIC: i8 = 2;

/// Options of `list_topics`.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Include internal topics (`__consumer_offsets`, `__transaction_state`).
    pub internal: bool,
}

/// Topic names, sorted.
pub async fn list_topics(client: &KafkaClient, options: &ListOptions) -> Result<Vec<String>> {
    let meta = client.metadata(None).await?;
    let mut names: Vec<String> = meta
        .topics
        .iter()
        .filter(|t| options.internal || !t.is_internal)
        .filter_map(|t| t.name.as_ref().map(|n| n.0.as_str().to_string()))
        .collect();
    names.sort();
    Ok(names)
}

/// One topic as `kafka-topics.sh --describe` shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TopicDescription {
    /// Topic name.
    pub topic: String,
    /// Topic id (base64, as Kafka prints it); absent on brokers without topic ids.
    pub topic_id: Option<String>,
    /// Number of partitions.
    pub partition_count: usize,
    /// Replicas of the first partition (Kafka's definition).
    pub replication_factor: usize,
    /// Configs whose value is not the default, in the broker's order.
    pub configs: IndexMap<String, String>,
    /// Whether the topic is internal.
    pub internal: bool,
    /// Partitions by index.
    pub partitions: Vec<PartitionDescription>,
}

/// One partition of a topic.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PartitionDescription {
    /// Partition index.
    pub partition: i32,
    /// The leader's broker id, or none when the partition has no leader.
    pub leader: Option<i32>,
    /// Replica broker ids, preferred leader first.
    pub replicas: Vec<i32>,
    /// In-sync replica broker ids.
    pub isr: Vec<i32>,
    /// Replicas on brokers that are offline (or whose log dir failed).
    pub offline_replicas: Vec<i32>,
}

/// Describes one topic; `NotFound` when it does not exist.
pub async fn describe_topic(client: &KafkaClient, name: &str) -> Result<TopicDescription> {
    validate_topic_name(name)?;
    let mut all = describe_topics(client, &[name.to_string()]).await?;
    all.pop()
        .ok_or_else(|| Error::NotFound(format!("topic {name:?} does not exist")))
}

/// Describes the named topics (one Metadata and one DescribeConfigs request in all).
pub async fn describe_topics(
    client: &KafkaClient,
    names: &[String],
) -> Result<Vec<TopicDescription>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let meta = client.metadata(Some(names)).await?;
    let mut out = Vec::with_capacity(meta.topics.len());
    for t in &meta.topics {
        let name = t
            .name
            .as_ref()
            .map(|n| n.0.as_str().to_string())
            .unwrap_or_default();
        if t.error_code == 3 {
            return Err(Error::NotFound(format!("topic {name:?} does not exist")));
        }
        check_code(t.error_code, None, &format!("topic {name:?}"))?;
        let mut partitions: Vec<PartitionDescription> = t
            .partitions
            .iter()
            .map(|p| PartitionDescription {
                partition: p.partition_index,
                leader: (p.leader_id.0 >= 0).then_some(p.leader_id.0),
                replicas: p.replica_nodes.iter().map(|b| b.0).collect(),
                isr: p.isr_nodes.iter().map(|b| b.0).collect(),
                offline_replicas: p.offline_replicas.iter().map(|b| b.0).collect(),
            })
            .collect();
        partitions.sort_by_key(|p| p.partition);
        let id = t.topic_id.as_bytes();
        out.push(TopicDescription {
            topic: name,
            topic_id: (id != &[0u8; 16]).then(|| topic_id_string(id)),
            partition_count: partitions.len(),
            replication_factor: partitions.first().map(|p| p.replicas.len()).unwrap_or(0),
            configs: IndexMap::new(),
            internal: t.is_internal,
            partitions,
        });
    }
    let names_found: Vec<String> = out.iter().map(|t| t.topic.clone()).collect();
    let mut configs = non_default_topic_configs(client, &names_found).await?;
    for t in &mut out {
        if let Some(c) = configs.shift_remove(&t.topic) {
            t.configs = c;
        }
    }
    // Keep the caller's order.
    out.sort_by_key(|t| {
        names
            .iter()
            .position(|n| n == &t.topic)
            .unwrap_or(usize::MAX)
    });
    Ok(out)
}

/// Non-default configs of the given topics, in one DescribeConfigs request.
async fn non_default_topic_configs(
    client: &KafkaClient,
    topics: &[String],
) -> Result<IndexMap<String, IndexMap<String, String>>> {
    if topics.is_empty() {
        return Ok(IndexMap::new());
    }
    let request = DescribeConfigsRequest::default().with_resources(
        topics
            .iter()
            .map(|t| {
                DescribeConfigsResource::default()
                    .with_resource_type(RESOURCE_TOPIC)
                    .with_resource_name(StrBytes::from_string(t.clone()))
                    .with_configuration_keys(None)
            })
            .collect(),
    );
    let response = client.send_any(&request).await?;
    let mut out = IndexMap::new();
    for r in response.results {
        let topic = r.resource_name.as_str().to_string();
        check_code(
            r.error_code,
            r.error_message.as_ref(),
            &format!("topic {topic:?}"),
        )?;
        let configs = r
            .configs
            .iter()
            .filter(|c| c.config_source != SOURCE_DEFAULT)
            .map(|c| {
                let value = if c.is_sensitive {
                    "[hidden]".to_string()
                } else {
                    c.value
                        .as_ref()
                        .map(|v| v.as_str().to_string())
                        .unwrap_or_else(|| "null".into())
                };
                (c.name.as_str().to_string(), value)
            })
            .collect();
        out.insert(topic, configs);
    }
    Ok(out)
}

/// Kafka's topic-name rule: 1–249 characters of `[a-zA-Z0-9._-]`, not "." or "..".
pub fn validate_topic_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::InvalidInput("topic name is empty".into()));
    }
    if name == "." || name == ".." {
        return Err(Error::InvalidInput(format!(
            "topic name {name:?} is not allowed"
        )));
    }
    if name.len() > 249 {
        return Err(Error::InvalidInput(format!(
            "topic name is {} characters long; the limit is 249",
            name.len()
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '.' || *c == '_' || *c == '-'))
    {
        return Err(Error::InvalidInput(format!(
            "topic name {name:?} contains {bad:?}; only letters, digits, '.', '_' and '-' are allowed"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_name_rules() {
        assert!(validate_topic_name("peter-topic.v1_x").is_ok());
        assert!(validate_topic_name("").is_err());
        assert!(validate_topic_name("..").is_err());
        assert!(validate_topic_name("a b")
            .unwrap_err()
            .to_string()
            .contains("' '"));
        assert!(validate_topic_name(&"x".repeat(250)).is_err());
        assert!(validate_topic_name(&"x".repeat(249)).is_ok());
    }
}
