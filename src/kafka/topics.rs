//! Topics: list and describe (partitions with leader, replicas, ISR, offline replicas, and the
//! topic's non-default configs: the fields `kafka-topics.sh --describe` shows). Configs that
//! cannot be read leave the partitions standing: the topic says why in `configs_error`.

use super::client::{check_code, KafkaClient};
use super::topic_id_string;
use crate::error::{Error, Result};
use indexmap::IndexMap;
use kafka_protocol::error::ResponseError;
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
    /// Why the configs could not be read (they are then empty), when they could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configs_error: Option<String>,
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
        if t.error_code == ResponseError::UnknownTopicOrPartition.code() {
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
            configs_error: None,
            internal: t.is_internal,
            partitions,
        });
    }
    let names_found: Vec<String> = out.iter().map(|t| t.topic.clone()).collect();
    match non_default_topic_configs(client, &names_found).await {
        Ok(mut configs) => {
            for t in &mut out {
                match configs.shift_remove(&t.topic) {
                    Some(Ok(c)) => t.configs = c,
                    Some(Err(e)) => t.configs_error = Some(e),
                    None => {}
                }
            }
        }
        Err(e) => {
            for t in &mut out {
                t.configs_error = Some(e.to_string());
            }
        }
    }
    let unread = out.iter().filter(|t| t.configs_error.is_some()).count();
    if unread > 0 {
        let first = out
            .iter()
            .find_map(|t| t.configs_error.clone())
            .unwrap_or_default();
        client.note(format!(
            "the configs of {unread} topic(s) could not be read: {first}"
        ));
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

/// Non-default configs of the given topics, in one DescribeConfigs request (any broker
/// answers it); a topic the broker could not describe gets its error.
async fn non_default_topic_configs(
    client: &KafkaClient,
    topics: &[String],
) -> Result<IndexMap<String, std::result::Result<IndexMap<String, String>, String>>> {
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
        if let Err(e) = check_code(
            r.error_code,
            r.error_message.as_ref(),
            &format!("topic {topic:?}"),
        ) {
            out.insert(topic, Err(e.to_string()));
            continue;
        }
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
        out.insert(topic, Ok(configs));
    }
    Ok(out)
}

/// Replicas one request may create before a broker that goes away while handling it is
/// told to have possibly been felled by the request itself.
const LARGE_REPLICA_COUNT: i64 = 10_000;

/// "100000000 new partitions", when that many partitions (times their replicas) is large.
fn magnitude(new_partitions: i64, replication_factor: i64) -> Option<String> {
    (new_partitions.saturating_mul(replication_factor.max(1)) >= LARGE_REPLICA_COUNT)
        .then(|| format!("{new_partitions} new partitions"))
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
    fn large_topic_changes_are_named() {
        assert_eq!(magnitude(100, 3), None);
        assert_eq!(
            magnitude(100_000_000, 1).as_deref(),
            Some("100000000 new partitions")
        );
        assert!(magnitude(5_000, 2).is_some());
        assert!(magnitude(i64::MAX, i64::MAX).is_some());
    }

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

/// Topic names matching a regular expression (anchored, like Kafka's `--topic` patterns).
pub async fn matching_topics(client: &KafkaClient, pattern: &str) -> Result<Vec<String>> {
    let re = regex::Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| Error::InvalidInput(format!("bad topic pattern {pattern:?}: {e}")))?;
    let all = list_topics(client, &ListOptions { internal: true }).await?;
    Ok(all.into_iter().filter(|t| re.is_match(t)).collect())
}

/// What `create_topic` asks for.
#[derive(Debug, Clone, Default)]
pub struct NewTopic {
    /// Topic name.
    pub name: String,
    /// Partition count (ignored with an assignment); None = broker default.
    pub partitions: Option<i32>,
    /// Replication factor (ignored with an assignment); None = broker default.
    pub replication_factor: Option<i16>,
    /// Topic configs.
    pub config: IndexMap<String, String>,
    /// Replica lists per partition, preferred leader first.
    pub assignment: Option<Vec<Vec<i32>>>,
    /// Succeed without change when the topic exists.
    pub if_not_exists: bool,
}

/// What `create_topic` did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CreatedTopic {
    /// Topic name.
    pub topic: String,
    /// Whether the topic was created now (false: it existed, or a dry run).
    pub created: bool,
    /// True when nothing was changed (the broker validated the request).
    pub dry_run: bool,
    /// Partition count of the topic.
    pub partitions: i32,
    /// Replication factor of the topic.
    pub replication_factor: i32,
    /// Configs given at creation.
    pub config: IndexMap<String, String>,
    /// Replica lists, when given.
    pub assignment: Option<Vec<Vec<i32>>>,
    /// What happened, for people.
    pub message: String,
    /// Whether the call creates the topic: now, or (in a dry run) when run for real.
    #[serde(skip)]
    pub changes: bool,
}

fn new_topic_checks(topic: &NewTopic, live_brokers: &[i32]) -> Result<()> {
    validate_topic_name(&topic.name)?;
    if let Some(assignment) = &topic.assignment {
        if assignment.is_empty() {
            return Err(Error::InvalidInput("assignment is empty".into()));
        }
        let rf = assignment[0].len();
        for (p, replicas) in assignment.iter().enumerate() {
            if replicas.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "assignment of partition {p} is empty"
                )));
            }
            if replicas.len() != rf {
                return Err(Error::InvalidInput(format!(
                    "assignment of partition {p} has {} replicas, partition 0 has {rf}; all partitions need the same count",
                    replicas.len()
                )));
            }
            let mut seen = std::collections::HashSet::new();
            for b in replicas {
                if !seen.insert(b) {
                    return Err(Error::InvalidInput(format!(
                        "assignment of partition {p} names broker {b} twice: {replicas:?}"
                    )));
                }
                if !live_brokers.contains(b) {
                    return Err(Error::InvalidInput(format!(
                        "assignment of partition {p} names broker {b}, which is not a live broker (live: {live_brokers:?})"
                    )));
                }
            }
        }
        if topic
            .partitions
            .is_some_and(|n| n as usize != assignment.len())
        {
            return Err(Error::InvalidInput(format!(
                "partitions is {} but the assignment lists {} partitions",
                topic.partitions.unwrap_or(0),
                assignment.len()
            )));
        }
        return Ok(());
    }
    if let Some(p) = topic.partitions {
        if p <= 0 {
            return Err(Error::InvalidInput(format!(
                "partitions must be at least 1, not {p}"
            )));
        }
    }
    if let Some(rf) = topic.replication_factor {
        if rf <= 0 {
            return Err(Error::InvalidInput(format!(
                "replication factor must be at least 1, not {rf}"
            )));
        }
        if rf as usize > live_brokers.len() {
            return Err(Error::InvalidInput(format!(
                "replication factor {rf} is larger than the {} live brokers",
                live_brokers.len()
            )));
        }
    }
    Ok(())
}

/// Creates a topic (CreateTopics at the controller). With `dry_run` the controller only
/// validates it. Waits until the new topic's partitions have leaders.
pub async fn create_topic(
    client: &KafkaClient,
    topic: &NewTopic,
    dry_run: bool,
    guard: Option<&crate::guard::GuardRails>,
) -> Result<CreatedTopic> {
    use kafka_protocol::messages::create_topics_request::{
        CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
    };
    use kafka_protocol::messages::{BrokerId, CreateTopicsRequest, TopicName};
    validate_topic_name(&topic.name)?;
    let meta = client
        .metadata(Some(std::slice::from_ref(&topic.name)))
        .await?;
    let live: Vec<i32> = meta.brokers.iter().map(|b| b.node_id.0).collect();
    new_topic_checks(topic, &live)?;
    let exists = meta.topics.iter().any(|t| t.error_code == 0);
    if exists {
        if topic.if_not_exists {
            let d = describe_topic(client, &topic.name).await?;
            return Ok(CreatedTopic {
                topic: topic.name.clone(),
                changes: false,
                created: false,
                dry_run,
                partitions: d.partition_count as i32,
                replication_factor: d.replication_factor as i32,
                config: topic.config.clone(),
                assignment: topic.assignment.clone(),
                message: format!("topic {:?} already exists; nothing changed", topic.name),
            });
        }
        return Err(Error::InvalidInput(format!(
            "topic {:?} already exists",
            topic.name
        )));
    }
    if let Some(guard) = guard {
        let (partitions, rf) = match &topic.assignment {
            Some(rows) => (rows.len(), rows.first().map(Vec::len).unwrap_or(1)),
            None => (
                topic.partitions.unwrap_or(1).max(1) as usize,
                topic.replication_factor.unwrap_or(1).max(1) as usize,
            ),
        };
        check_growth(
            client,
            guard,
            &format!("creating topic {:?}", topic.name),
            partitions,
            rf,
        )
        .await?;
    }
    let mut creatable = CreatableTopic::default()
        .with_name(TopicName(StrBytes::from_string(topic.name.clone())))
        .with_num_partitions(topic.partitions.unwrap_or(-1))
        .with_replication_factor(topic.replication_factor.unwrap_or(-1))
        .with_configs(
            topic
                .config
                .iter()
                .map(|(k, v)| {
                    CreatableTopicConfig::default()
                        .with_name(StrBytes::from_string(k.clone()))
                        .with_value(Some(StrBytes::from_string(v.clone())))
                })
                .collect(),
        );
    if let Some(assignment) = &topic.assignment {
        creatable = creatable
            .with_num_partitions(-1)
            .with_replication_factor(-1)
            .with_assignments(
                assignment
                    .iter()
                    .enumerate()
                    .map(|(i, replicas)| {
                        CreatableReplicaAssignment::default()
                            .with_partition_index(i as i32)
                            .with_broker_ids(replicas.iter().map(|b| BrokerId(*b)).collect())
                    })
                    .collect(),
            );
    }
    let timeout_ms = client.timeout().as_millis().min(i32::MAX as u128) as i32;
    let request = CreateTopicsRequest::default()
        .with_topics(vec![creatable])
        .with_timeout_ms(timeout_ms)
        .with_validate_only(dry_run);
    let new_partitions = match &topic.assignment {
        Some(a) => (a.len() as i64, a.first().map_or(1, |r| r.len() as i64)),
        None => (
            i64::from(topic.partitions.unwrap_or(1)),
            i64::from(topic.replication_factor.unwrap_or(1)),
        ),
    };
    let response = client
        .send_to_controller_noting(
            &request,
            magnitude(new_partitions.0, new_partitions.1).as_deref(),
        )
        .await?;
    let mut partitions = topic.partitions.unwrap_or(0);
    let mut rf = topic.replication_factor.map(i32::from).unwrap_or(0);
    for r in &response.topics {
        if r.error_code == ResponseError::TopicAlreadyExists.code() {
            if topic.if_not_exists {
                return Ok(CreatedTopic {
                    topic: topic.name.clone(),
                    changes: false,
                    created: false,
                    dry_run,
                    partitions,
                    replication_factor: rf,
                    config: topic.config.clone(),
                    assignment: topic.assignment.clone(),
                    message: format!("topic {:?} already exists; nothing changed", topic.name),
                });
            }
            return Err(Error::InvalidInput(format!(
                "topic {:?} already exists",
                topic.name
            )));
        }
        check_code(
            r.error_code,
            r.error_message.as_ref(),
            &format!("topic {:?}", topic.name),
        )?;
        if r.num_partitions > 0 {
            partitions = r.num_partitions;
        }
        if r.replication_factor > 0 {
            rf = i32::from(r.replication_factor);
        }
    }
    if let Some(a) = &topic.assignment {
        partitions = a.len() as i32;
        rf = a.first().map(|r| r.len() as i32).unwrap_or(0);
    }
    if !dry_run {
        wait_for_leaders(client, &topic.name, partitions).await?;
    }
    Ok(CreatedTopic {
        topic: topic.name.clone(),
        changes: true,
        created: !dry_run,
        dry_run,
        partitions,
        replication_factor: rf,
        config: topic.config.clone(),
        assignment: topic.assignment.clone(),
        message: if dry_run {
            format!(
                "would create topic {:?} (validated by the controller)",
                topic.name
            )
        } else {
            format!("created topic {:?}", topic.name)
        },
    })
}

/// Waits (bounded by the call timeout) until `topic` has `partitions` partitions with leaders.
async fn wait_for_leaders(client: &KafkaClient, topic: &str, partitions: i32) -> Result<()> {
    let deadline = tokio::time::Instant::now() + client.timeout();
    loop {
        if let Ok(d) = describe_topics_metadata_only(client, topic).await {
            if (partitions <= 0 || d.0 as i32 >= partitions) && d.1 {
                return Ok(());
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// (partition count, every partition has a leader) from metadata alone.
async fn describe_topics_metadata_only(client: &KafkaClient, topic: &str) -> Result<(usize, bool)> {
    let meta = client.metadata(Some(&[topic.to_string()])).await?;
    let t = meta
        .topics
        .first()
        .filter(|t| t.error_code == 0)
        .ok_or_else(|| Error::NotFound(format!("topic {topic:?} does not exist")))?;
    Ok((
        t.partitions.len(),
        t.partitions.iter().all(|p| p.leader_id.0 >= 0),
    ))
}

/// What `delete_topic` did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeletedTopic {
    /// Topic name.
    pub topic: String,
    /// Whether it was deleted now.
    pub deleted: bool,
    /// True when nothing was changed.
    pub dry_run: bool,
    /// Partitions it had.
    pub partitions: usize,
    /// What happened, for people.
    pub message: String,
}

/// Deletes a topic (DeleteTopics at the controller) and waits until metadata no longer
/// lists it. With `dry_run` it only checks that the topic exists.
pub async fn delete_topic(client: &KafkaClient, name: &str, dry_run: bool) -> Result<DeletedTopic> {
    use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
    use kafka_protocol::messages::{DeleteTopicsRequest, TopicName};
    let existing = describe_topic(client, name).await?;
    if existing.internal {
        return Err(Error::Refused(format!(
            "topic {name:?} is internal; kafsh does not delete internal topics"
        )));
    }
    if dry_run {
        return Ok(DeletedTopic {
            topic: name.to_string(),
            deleted: false,
            dry_run,
            partitions: existing.partition_count,
            message: format!(
                "would delete topic {name:?} ({} partitions)",
                existing.partition_count
            ),
        });
    }
    let timeout_ms = client.timeout().as_millis().min(i32::MAX as u128) as i32;
    let topic_name = TopicName(StrBytes::from_string(name.to_string()));
    let request = DeleteTopicsRequest::default()
        .with_topic_names(vec![topic_name.clone()])
        .with_topics(vec![DeleteTopicState::default().with_name(Some(topic_name))])
        .with_timeout_ms(timeout_ms);
    let response = client.send_to_controller(&request).await?;
    for r in &response.responses {
        check_code(
            r.error_code,
            r.error_message.as_ref(),
            &format!("topic {name:?}"),
        )?;
    }
    let deadline = tokio::time::Instant::now() + client.timeout();
    while describe_topics_metadata_only(client, name).await.is_ok()
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(DeletedTopic {
        topic: name.to_string(),
        deleted: true,
        dry_run,
        partitions: existing.partition_count,
        message: format!("deleted topic {name:?}"),
    })
}

/// What `add_partitions` did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AddedPartitions {
    /// Topic name.
    pub topic: String,
    /// Partition count before.
    pub old_partitions: usize,
    /// Partition count after.
    pub new_partitions: usize,
    /// True when nothing was changed (the controller validated the request).
    pub dry_run: bool,
    /// The ordering warning for keyed data.
    pub warning: String,
    /// Consumer groups reading the topic, with their member counts: members beyond the
    /// partition count idle, fewer members than partitions share the load.
    pub consumer_groups: Vec<super::groups::TopicReader>,
}

/// Raises the partition count of `name` to `total` (only increases).
pub async fn add_partitions(
    client: &KafkaClient,
    name: &str,
    total: i64,
    dry_run: bool,
    guard: Option<&crate::guard::GuardRails>,
) -> Result<AddedPartitions> {
    use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
    use kafka_protocol::messages::{CreatePartitionsRequest, TopicName};
    let existing = describe_topic(client, name).await?;
    let current = existing.partition_count;
    if total <= current as i64 {
        return Err(Error::InvalidInput(format!(
            "topic {name:?} has {current} partitions; {total} would not increase it, and Kafka can only add partitions, never remove them"
        )));
    }
    if total > i32::MAX as i64 {
        return Err(Error::InvalidInput(format!(
            "{total} partitions is too many"
        )));
    }
    if let Some(guard) = guard {
        check_growth(
            client,
            guard,
            &format!("adding partitions to topic {name:?} ({current} -> {total})"),
            (total - current as i64) as usize,
            existing.replication_factor.max(1),
        )
        .await?;
    }
    let consumer_groups = super::groups::groups_reading(client, name).await?;
    let timeout_ms = client.timeout().as_millis().min(i32::MAX as u128) as i32;
    let request = CreatePartitionsRequest::default()
        .with_topics(vec![CreatePartitionsTopic::default()
            .with_name(TopicName(StrBytes::from_string(name.to_string())))
            .with_count(total as i32)
            .with_assignments(None)])
        .with_timeout_ms(timeout_ms)
        .with_validate_only(dry_run);
    let response = client
        .send_to_controller_noting(
            &request,
            magnitude(total - current as i64, existing.replication_factor as i64).as_deref(),
        )
        .await?;
    for r in &response.results {
        check_code(
            r.error_code,
            r.error_message.as_ref(),
            &format!("topic {name:?}"),
        )?;
    }
    if !dry_run {
        wait_for_leaders(client, name, total as i32).await?;
    }
    Ok(AddedPartitions {
        topic: name.to_string(),
        old_partitions: current,
        new_partitions: total as usize,
        dry_run,
        warning: format!(
            "keyed messages now map to different partitions: a key that went to partition k of {current} may go to another of {total}, \
             so per-key ordering is broken across the change; consumers should grow with the partitions"
        ),
        consumer_groups,
    })
}

/// Checks new partitions against the guard rails, with the cluster's size from one
/// Metadata request.
async fn check_growth(
    client: &KafkaClient,
    guard: &crate::guard::GuardRails,
    what: &str,
    new_partitions: usize,
    replication_factor: usize,
) -> Result<()> {
    let meta = client.metadata(None).await?;
    let (mut partitions, mut replicas) = (0u64, 0u64);
    for t in &meta.topics {
        for p in &t.partitions {
            partitions += 1;
            replicas += p.replica_nodes.len() as u64;
        }
    }
    guard.check_growth(
        what,
        &crate::guard::Growth {
            new_partitions: new_partitions as u64,
            replication_factor: replication_factor as u64,
            cluster_partitions: partitions,
            cluster_replicas: replicas,
            brokers: meta.brokers.len() as u64,
        },
    )
}
