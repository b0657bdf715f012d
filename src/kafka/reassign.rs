//! Executing reassignment plans: AlterPartitionReassignments with replication throttles on
//! exactly the moving replicas, progress from ListPartitionReassignments, cancellation,
//! throttle removal (as Kafka's tool does on completion), and preferred leader election.

use super::client::{check_code, KafkaClient};
use super::configs::{alter_config, Entity};
use crate::error::{Error, Result};
use crate::plan::PartitionAssignment;
use indexmap::IndexMap;
use kafka_protocol::messages::alter_partition_reassignments_request::{
    ReassignablePartition, ReassignableTopic,
};
use kafka_protocol::messages::list_partition_reassignments_request::ListPartitionReassignmentsTopics;
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, BrokerId, ElectLeadersRequest,
    ListPartitionReassignmentsRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const LEADER_RATE: &str = "leader.replication.throttled.rate";
const FOLLOWER_RATE: &str = "follower.replication.throttled.rate";
const LEADER_REPLICAS: &str = "leader.replication.throttled.replicas";
const FOLLOWER_REPLICAS: &str = "follower.replication.throttled.replicas";

/// What `reassign` started.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReassignStarted {
    /// Partitions whose reassignment started ("topic-partition").
    pub started: Vec<String>,
    /// Partitions already where the plan puts them.
    pub unchanged: usize,
    /// Replicas that will be copied to a new broker.
    pub moving_replicas: usize,
    /// Throttle in bytes/s on every broker involved, if any.
    pub throttle: Option<i64>,
    /// True when nothing was changed (validated only).
    pub dry_run: bool,
}

/// The current replica lists of the plan's partitions, checking the plan against the cluster.
async fn current_replicas(
    client: &KafkaClient,
    plan: &[PartitionAssignment],
) -> Result<(HashMap<(String, i32), Vec<i32>>, BTreeSet<i32>)> {
    let topics: Vec<String> = plan
        .iter()
        .map(|p| p.topic.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let meta = client.metadata(Some(&topics)).await?;
    let live: BTreeSet<i32> = meta.brokers.iter().map(|b| b.node_id.0).collect();
    let mut current = HashMap::new();
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
        for p in &t.partitions {
            current.insert(
                (name.clone(), p.partition_index),
                p.replica_nodes.iter().map(|b| b.0).collect(),
            );
        }
    }
    Ok((current, live))
}

/// Checks a plan before anything changes: partitions exist, brokers are alive, no broker
/// twice, one replica count per topic.
pub fn validate(
    plan: &[PartitionAssignment],
    current: &HashMap<(String, i32), Vec<i32>>,
    live: &BTreeSet<i32>,
) -> Result<()> {
    if plan.is_empty() {
        return Err(Error::InvalidInput("the plan has no partitions".into()));
    }
    let mut rf: BTreeMap<&str, usize> = BTreeMap::new();
    for p in plan {
        if !current.contains_key(&(p.topic.clone(), p.partition)) {
            return Err(Error::NotFound(format!(
                "partition {}-{} does not exist",
                p.topic, p.partition
            )));
        }
        let mut seen = BTreeSet::new();
        for b in &p.replicas {
            if !seen.insert(b) {
                return Err(Error::InvalidInput(format!(
                    "{}-{} names broker {b} twice",
                    p.topic, p.partition
                )));
            }
            if !live.contains(b) {
                return Err(Error::InvalidInput(format!(
                    "{}-{} names broker {b}, which is not alive (live: {:?})",
                    p.topic, p.partition, live
                )));
            }
        }
        if p.replicas.is_empty() {
            return Err(Error::InvalidInput(format!(
                "{}-{} has no replicas",
                p.topic, p.partition
            )));
        }
        let n = *rf.entry(p.topic.as_str()).or_insert(p.replicas.len());
        if n != p.replicas.len() {
            return Err(Error::InvalidInput(format!(
                "topic {:?} would have partitions with {n} and with {} replicas; give every partition the same count",
                p.topic,
                p.replicas.len()
            )));
        }
    }
    Ok(())
}

/// Starts a reassignment (validated first; with `dry_run` only validated). With a
/// throttle, sets the replication rate on every broker involved and the throttled-replica
/// lists on the topics for exactly the moving replicas.
pub async fn reassign(
    client: &KafkaClient,
    plan: &[PartitionAssignment],
    throttle: Option<i64>,
    dry_run: bool,
) -> Result<ReassignStarted> {
    let (current, live) = current_replicas(client, plan).await?;
    validate(plan, &current, &live)?;
    let moving: Vec<&PartitionAssignment> = plan
        .iter()
        .filter(|p| current.get(&(p.topic.clone(), p.partition)) != Some(&p.replicas))
        .collect();
    let moving_replicas: usize = moving
        .iter()
        .map(|p| {
            let now = &current[&(p.topic.clone(), p.partition)];
            p.replicas.iter().filter(|b| !now.contains(b)).count()
        })
        .sum();
    let result = ReassignStarted {
        started: moving
            .iter()
            .map(|p| format!("{}-{}", p.topic, p.partition))
            .collect(),
        unchanged: plan.len() - moving.len(),
        moving_replicas,
        throttle,
        dry_run,
    };
    if dry_run || moving.is_empty() {
        return Ok(result);
    }
    if let Some(rate) = throttle {
        if rate <= 0 {
            return Err(Error::InvalidInput(format!(
                "throttle must be a positive number of bytes/s, not {rate}"
            )));
        }
        let mut leader_lists: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut follower_lists: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut involved = BTreeSet::new();
        for p in &moving {
            let now = &current[&(p.topic.clone(), p.partition)];
            for b in now {
                leader_lists
                    .entry(&p.topic)
                    .or_default()
                    .push(format!("{}:{b}", p.partition));
                involved.insert(*b);
            }
            for b in p.replicas.iter().filter(|b| !now.contains(b)) {
                follower_lists
                    .entry(&p.topic)
                    .or_default()
                    .push(format!("{}:{b}", p.partition));
                involved.insert(*b);
            }
        }
        for b in &involved {
            let mut set = IndexMap::new();
            set.insert(LEADER_RATE.to_string(), rate.to_string());
            set.insert(FOLLOWER_RATE.to_string(), rate.to_string());
            alter_config(client, &Entity::Broker(*b), &set, &[], false).await?;
        }
        for (topic, leaders) in &leader_lists {
            let mut set = IndexMap::new();
            set.insert(LEADER_REPLICAS.to_string(), leaders.join(","));
            if let Some(f) = follower_lists.get(topic) {
                set.insert(FOLLOWER_REPLICAS.to_string(), f.join(","));
            }
            alter_config(client, &Entity::Topic(topic.to_string()), &set, &[], false).await?;
        }
    }
    let mut by_topic: BTreeMap<&str, Vec<&PartitionAssignment>> = BTreeMap::new();
    for p in &moving {
        by_topic.entry(&p.topic).or_default().push(p);
    }
    let request = AlterPartitionReassignmentsRequest::default()
        .with_timeout_ms(client.timeout().as_millis().min(i32::MAX as u128) as i32)
        .with_allow_replication_factor_change(true)
        .with_topics(
            by_topic
                .into_iter()
                .map(|(t, parts)| {
                    ReassignableTopic::default()
                        .with_name(TopicName(StrBytes::from_string(t.to_string())))
                        .with_partitions(
                            parts
                                .iter()
                                .map(|p| {
                                    ReassignablePartition::default()
                                        .with_partition_index(p.partition)
                                        .with_replicas(Some(
                                            p.replicas.iter().map(|b| BrokerId(*b)).collect(),
                                        ))
                                })
                                .collect(),
                        )
                })
                .collect(),
        );
    let response = client.send_to_controller(&request).await?;
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        "the reassignment",
    )?;
    for t in response.responses {
        for p in t.partitions {
            check_code(
                p.error_code,
                p.error_message.as_ref(),
                &format!("{}-{}", t.name.0.as_str(), p.partition_index),
            )?;
        }
    }
    Ok(result)
}

/// One partition's progress.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PartitionProgress {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Where the plan puts it.
    pub target: Vec<i32>,
    /// Where it is now.
    pub replicas: Vec<i32>,
    /// Replicas still being added.
    pub adding: Vec<i32>,
    /// Replicas still to be removed.
    pub removing: Vec<i32>,
    /// Whether the partition is where the plan puts it and nothing is in flight.
    pub done: bool,
}

/// Progress of the plan's partitions.
pub async fn status(
    client: &KafkaClient,
    plan: &[PartitionAssignment],
) -> Result<Vec<PartitionProgress>> {
    let (current, _) = current_replicas(client, plan).await?;
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for p in plan {
        by_topic.entry(&p.topic).or_default().push(p.partition);
    }
    let request = ListPartitionReassignmentsRequest::default()
        .with_timeout_ms(client.timeout().as_millis().min(i32::MAX as u128) as i32)
        .with_topics(Some(
            by_topic
                .iter()
                .map(|(t, ps)| {
                    ListPartitionReassignmentsTopics::default()
                        .with_name(TopicName(StrBytes::from_string(t.to_string())))
                        .with_partition_indexes(ps.clone())
                })
                .collect(),
        ));
    let response = client.send_to_controller(&request).await?;
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        "ListPartitionReassignments",
    )?;
    let mut ongoing: HashMap<(String, i32), (Vec<i32>, Vec<i32>)> = HashMap::new();
    for t in response.topics {
        for p in t.partitions {
            ongoing.insert(
                (t.name.0.as_str().to_string(), p.partition_index),
                (
                    p.adding_replicas.iter().map(|b| b.0).collect(),
                    p.removing_replicas.iter().map(|b| b.0).collect(),
                ),
            );
        }
    }
    Ok(plan
        .iter()
        .map(|p| {
            let key = (p.topic.clone(), p.partition);
            let now = current.get(&key).cloned().unwrap_or_default();
            let (adding, removing) = ongoing.get(&key).cloned().unwrap_or_default();
            let same: BTreeSet<i32> = now.iter().copied().collect();
            let want: BTreeSet<i32> = p.replicas.iter().copied().collect();
            PartitionProgress {
                topic: p.topic.clone(),
                partition: p.partition,
                target: p.replicas.clone(),
                done: !ongoing.contains_key(&key) && same == want,
                replicas: now,
                adding,
                removing,
            }
        })
        .collect())
}

/// Cancels the plan's in-flight reassignments (replicas go back where they were).
pub async fn cancel(client: &KafkaClient, plan: &[PartitionAssignment]) -> Result<Vec<String>> {
    let progress = status(client, plan).await?;
    let in_flight: Vec<&PartitionProgress> = progress
        .iter()
        .filter(|p| !p.adding.is_empty() || !p.removing.is_empty())
        .collect();
    if in_flight.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for p in &in_flight {
        by_topic.entry(&p.topic).or_default().push(p.partition);
    }
    let request = AlterPartitionReassignmentsRequest::default()
        .with_timeout_ms(client.timeout().as_millis().min(i32::MAX as u128) as i32)
        .with_allow_replication_factor_change(true)
        .with_topics(
            by_topic
                .into_iter()
                .map(|(t, ps)| {
                    ReassignableTopic::default()
                        .with_name(TopicName(StrBytes::from_string(t.to_string())))
                        .with_partitions(
                            ps.into_iter()
                                .map(|p| {
                                    ReassignablePartition::default()
                                        .with_partition_index(p)
                                        .with_replicas(None)
                                })
                                .collect(),
                        )
                })
                .collect(),
        );
    let response = client.send_to_controller(&request).await?;
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        "the cancellation",
    )?;
    Ok(in_flight
        .iter()
        .map(|p| format!("{}-{}", p.topic, p.partition))
        .collect())
}

/// Removes the replication throttles from the plan's topics and from every live broker, as
/// Kafka's own tool does when a reassignment completes. Returns what it removed.
pub async fn remove_throttles(
    client: &KafkaClient,
    plan: &[PartitionAssignment],
) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    let topics: BTreeSet<&str> = plan.iter().map(|p| p.topic.as_str()).collect();
    for t in topics {
        let entity = Entity::Topic(t.to_string());
        removed.extend(
            delete_own(
                client,
                &entity,
                &[LEADER_REPLICAS, FOLLOWER_REPLICAS],
                "dynamic_topic",
            )
            .await?,
        );
    }
    for b in super::brokers::brokers(client).await? {
        let entity = Entity::Broker(b.id);
        removed.extend(
            delete_own(
                client,
                &entity,
                &[LEADER_RATE, FOLLOWER_RATE],
                "dynamic_broker",
            )
            .await?,
        );
    }
    Ok(removed)
}

/// Deletes those of `keys` that `entity` sets at its own level (`source`); returns
/// "entity: key" for each one removed.
async fn delete_own(
    client: &KafkaClient,
    entity: &Entity,
    keys: &[&str],
    source: &str,
) -> Result<Vec<String>> {
    let configs = super::configs::describe_config(client, entity).await?;
    let keys: Vec<String> = keys
        .iter()
        .filter(|k| configs.iter().any(|c| c.name == **k && c.source == source))
        .map(|k| k.to_string())
        .collect();
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    alter_config(client, entity, &IndexMap::new(), &keys, false).await?;
    Ok(keys
        .iter()
        .map(|k| format!("{}: {k}", entity.describe()))
        .collect())
}

/// Preferred leader election for every partition of `topics` (all topics when empty).
/// Returns the partitions whose leader changed; "not needed" is not an error.
pub async fn elect_leaders(client: &KafkaClient, topics: &[String]) -> Result<Vec<String>> {
    use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
    let names = if topics.is_empty() {
        super::topics::list_topics(client, &super::topics::ListOptions { internal: false }).await?
    } else {
        topics.to_vec()
    };
    let described = super::topics::describe_topics(client, &names).await?;
    let request = ElectLeadersRequest::default()
        .with_election_type(0)
        .with_timeout_ms(client.timeout().as_millis().min(i32::MAX as u128) as i32)
        .with_topic_partitions(Some(
            described
                .iter()
                .map(|t| {
                    TopicPartitions::default()
                        .with_topic(TopicName(StrBytes::from_string(t.topic.clone())))
                        .with_partitions(t.partitions.iter().map(|p| p.partition).collect())
                })
                .collect(),
        ));
    let response = client.send_to_controller(&request).await?;
    check_code(response.error_code, None, "ElectLeaders")?;
    let mut elected = Vec::new();
    for t in response.replica_election_results {
        for p in t.partition_result {
            // 84: ELECTION_NOT_NEEDED — the preferred leader already leads.
            if p.error_code == 84 {
                continue;
            }
            check_code(
                p.error_code,
                p.error_message.as_ref(),
                &format!("{}-{}", t.topic.0.as_str(), p.partition_id),
            )?;
            elected.push(format!("{}-{}", t.topic.0.as_str(), p.partition_id));
        }
    }
    Ok(elected)
}
