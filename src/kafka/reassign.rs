//! Executing reassignment plans: AlterPartitionReassignments with replication throttles on
//! exactly the moving replicas, progress from ListPartitionReassignments, cancellation,
//! throttle removal (as Kafka's tool does on completion), and preferred leader election.

use super::client::{check_code, KafkaClient};
use super::configs::{alter_config, wait_broker_values, Entity};
use crate::error::{Error, Result};
use crate::plan::PartitionAssignment;
use indexmap::IndexMap;
use kafka_protocol::error::{ParseResponseErrorCode, ResponseError};
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

/// Partitions in flight → (replicas being added, replicas being removed).
type Ongoing = HashMap<(String, i32), (Vec<i32>, Vec<i32>)>;

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
    /// Replicas moving between log dirs of their broker (the plan's `log_dirs`): "topic-
    /// partition on broker B to DIR".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_dir_moves: Vec<String>,
    /// Throttle in bytes/s of copies between log dirs on the brokers those move on, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_dirs_throttle: Option<i64>,
    /// True when nothing was changed (validated only).
    pub dry_run: bool,
    /// The replica lists of the started partitions before the change (what undoes it:
    /// the audit trail records it for `kafsh audit rollback`).
    #[serde(skip)]
    pub previous: Vec<PartitionAssignment>,
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
        if t.error_code == ResponseError::UnknownTopicOrPartition.code() {
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

/// Starts a reassignment through AlterPartitionReassignments: [`prepare`], then
/// [`submit`].
pub async fn reassign(
    client: &KafkaClient,
    plan: &[PartitionAssignment],
    throttle: Option<i64>,
    dry_run: bool,
) -> Result<ReassignStarted> {
    let (result, moving) = prepare(client, plan, throttle, dry_run).await?;
    if !dry_run && !moving.is_empty() {
        submit(client, &moving).await?;
    }
    Ok(result)
}

/// Validates a plan against the cluster and, unless `dry_run`, sets the throttles: the
/// replication rate on every broker involved and the throttled-replica lists on the topics
/// for exactly the moving replicas. Returns what will start and the partitions that move
/// (those not already where the plan puts them); nothing is submitted yet.
pub async fn prepare(
    client: &KafkaClient,
    plan: &[PartitionAssignment],
    throttle: Option<i64>,
    dry_run: bool,
) -> Result<(ReassignStarted, Vec<PartitionAssignment>)> {
    if let Some(rate) = throttle {
        if rate <= 0 {
            return Err(Error::InvalidInput(format!(
                "throttle must be a positive number of bytes/s, not {rate}"
            )));
        }
    }
    let (current, live) = current_replicas(client, plan).await?;
    validate(plan, &current, &live)?;
    let moving: Vec<PartitionAssignment> = plan
        .iter()
        .filter(|p| current.get(&(p.topic.clone(), p.partition)) != Some(&p.replicas))
        .cloned()
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
        log_dir_moves: Vec::new(),
        log_dirs_throttle: None,
        dry_run,
        previous: moving
            .iter()
            .map(|p| PartitionAssignment {
                topic: p.topic.clone(),
                partition: p.partition,
                replicas: current[&(p.topic.clone(), p.partition)].clone(),
                log_dirs: None,
            })
            .collect(),
    };
    if dry_run || moving.is_empty() {
        return Ok((result, moving));
    }
    if let Some(rate) = throttle {
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
        // The throttled replica lists first, the rates last: brokers apply config changes
        // in the order they were made (ZooKeeper's change notifications, KRaft's metadata
        // log), so a broker showing the rates has the lists too, and only then does the
        // reassignment start.
        for (topic, leaders) in &leader_lists {
            let mut set = IndexMap::new();
            set.insert(LEADER_REPLICAS.to_string(), leaders.join(","));
            if let Some(f) = follower_lists.get(topic) {
                set.insert(FOLLOWER_REPLICAS.to_string(), f.join(","));
            }
            alter_config(client, &Entity::Topic(topic.to_string()), &set, &[], false).await?;
        }
        let rate = rate.to_string();
        for b in &involved {
            let mut set = IndexMap::new();
            set.insert(LEADER_RATE.to_string(), rate.clone());
            set.insert(FOLLOWER_RATE.to_string(), rate.clone());
            alter_config(client, &Entity::Broker(*b), &set, &[], false).await?;
        }
        wait_broker_values(
            client,
            &involved,
            &[(LEADER_RATE, &rate), (FOLLOWER_RATE, &rate)],
        )
        .await;
    }
    Ok((result, moving))
}

/// Whether the cluster's controller takes reassignments through the API (Kafka 2.4+);
/// older ZooKeeper-based clusters take them through the `/admin/reassign_partitions` znode.
pub async fn api_supported(client: &KafkaClient) -> Result<bool> {
    client
        .controller_supports::<AlterPartitionReassignmentsRequest>()
        .await
}

/// Submits the moving partitions through AlterPartitionReassignments.
pub async fn submit(client: &KafkaClient, moving: &[PartitionAssignment]) -> Result<()> {
    let mut by_topic: BTreeMap<&str, Vec<&PartitionAssignment>> = BTreeMap::new();
    for p in moving {
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
    Ok(())
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
    /// Brokers whose replica is not in the log dir the plan's `log_dirs` put it in yet.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_dirs_pending: Vec<i32>,
    /// Whether the partition is where the plan puts it (brokers and log dirs) and nothing
    /// is in flight.
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
    let topics = by_topic
        .iter()
        .map(|(t, ps)| {
            ListPartitionReassignmentsTopics::default()
                .with_name(TopicName(StrBytes::from_string(t.to_string())))
                .with_partition_indexes(ps.clone())
        })
        .collect();
    let ongoing: Ongoing = list_in_flight(client, Some(topics))
        .await?
        .into_iter()
        .map(|f| ((f.topic, f.partition), (f.adding, f.removing)))
        .collect();
    Ok(progress(plan, &current, &ongoing))
}

/// One partition being reassigned right now.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InFlight {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The replicas now (old and new while the move runs).
    pub replicas: Vec<i32>,
    /// Replicas being added.
    pub adding: Vec<i32>,
    /// Replicas to be removed.
    pub removing: Vec<i32>,
}

/// Every reassignment in flight in the cluster, whoever started it.
pub async fn in_flight(client: &KafkaClient) -> Result<Vec<InFlight>> {
    let mut out = list_in_flight(client, None).await?;
    out.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    Ok(out)
}

/// One ListPartitionReassignments request: the given partitions, or all when `None`.
async fn list_in_flight(
    client: &KafkaClient,
    topics: Option<Vec<ListPartitionReassignmentsTopics>>,
) -> Result<Vec<InFlight>> {
    let request = ListPartitionReassignmentsRequest::default()
        .with_timeout_ms(client.timeout().as_millis().min(i32::MAX as u128) as i32)
        .with_topics(topics);
    let response = client.send_to_controller(&request).await?;
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        "ListPartitionReassignments",
    )?;
    Ok(response
        .topics
        .into_iter()
        .flat_map(|t| {
            let topic = t.name.0.as_str().to_string();
            t.partitions.into_iter().map(move |p| InFlight {
                topic: topic.clone(),
                partition: p.partition_index,
                replicas: p.replicas.iter().map(|b| b.0).collect(),
                adding: p.adding_replicas.iter().map(|b| b.0).collect(),
                removing: p.removing_replicas.iter().map(|b| b.0).collect(),
            })
        })
        .collect())
}

/// Progress of the plan's partitions on a cluster that takes reassignments through the
/// `/admin/reassign_partitions` znode: `pending` are the partitions still in that znode
/// (the controller removes each one when its move completes).
pub async fn status_from_znode(
    client: &KafkaClient,
    plan: &[PartitionAssignment],
    pending: &BTreeSet<(String, i32)>,
) -> Result<Vec<PartitionProgress>> {
    let (current, _) = current_replicas(client, plan).await?;
    let ongoing = plan
        .iter()
        .filter(|p| pending.contains(&(p.topic.clone(), p.partition)))
        .map(|p| {
            let key = (p.topic.clone(), p.partition);
            let now = current.get(&key).cloned().unwrap_or_default();
            let adding = p
                .replicas
                .iter()
                .filter(|b| !now.contains(b))
                .copied()
                .collect();
            let removing = now
                .iter()
                .filter(|b| !p.replicas.contains(b))
                .copied()
                .collect();
            (key, (adding, removing))
        })
        .collect();
    Ok(progress(plan, &current, &ongoing))
}

fn progress(
    plan: &[PartitionAssignment],
    current: &HashMap<(String, i32), Vec<i32>>,
    ongoing: &Ongoing,
) -> Vec<PartitionProgress> {
    plan.iter()
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
                log_dirs_pending: Vec::new(),
            }
        })
        .collect()
}

/// Bytes still to copy for the in-flight partitions of `progress`: for every replica being
/// added, what the partition holds on its existing replicas minus what the new replica has
/// so far (from DescribeLogDirs sizes).
pub fn bytes_left(progress: &[PartitionProgress], sizes: &[super::log_dirs::ReplicaSize]) -> i64 {
    let mut size: HashMap<(i32, &str, i32), i64> = HashMap::new();
    for r in sizes {
        let slot = size
            .entry((r.broker, r.topic.as_str(), r.partition))
            .or_default();
        *slot = (*slot).max(r.size);
    }
    let mut left = 0;
    for p in progress.iter().filter(|p| !p.done && !p.adding.is_empty()) {
        let source = p
            .replicas
            .iter()
            .filter(|b| !p.adding.contains(b))
            .filter_map(|b| size.get(&(*b, p.topic.as_str(), p.partition)))
            .max()
            .copied()
            .unwrap_or(0);
        for b in &p.adding {
            let copied = size
                .get(&(*b, p.topic.as_str(), p.partition))
                .copied()
                .unwrap_or(0);
            left += (source - copied).max(0);
        }
    }
    left
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
    let topics: BTreeSet<String> = plan.iter().map(|p| p.topic.clone()).collect();
    remove_throttles_of(client, &topics.into_iter().collect::<Vec<_>>()).await
}

/// Removes the replication throttles from `topics` and from every live broker.
pub async fn remove_throttles_of(client: &KafkaClient, topics: &[String]) -> Result<Vec<String>> {
    let mut removed = Vec::new();
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
                &[
                    LEADER_RATE,
                    FOLLOWER_RATE,
                    super::replica_dirs::ALTER_LOG_DIRS_RATE,
                ],
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

/// One round of preferred leader election: what was elected, and what may yet be.
#[derive(Debug, Default)]
pub struct ElectionRound {
    /// `topic-partition` of the partitions whose leader changed.
    pub elected: Vec<String>,
    /// Partitions not elected yet for a reason that passes (the preferred replica is not
    /// in sync yet, the controller did not finish in time), with that reason.
    pub pending: Vec<((String, i32), String)>,
}

/// Every partition of `topics` (default: every non-internal topic), for [`elect_round`].
pub async fn partitions_of(client: &KafkaClient, topics: &[String]) -> Result<Vec<(String, i32)>> {
    let names = if topics.is_empty() {
        super::topics::list_topics(client, &super::topics::ListOptions { internal: false }).await?
    } else {
        topics.to_vec()
    };
    let described = super::topics::describe_topics(client, &names).await?;
    Ok(described
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| (t.topic.clone(), p.partition)))
        .collect())
}

/// One ElectLeaders (preferred) request for `partitions`. The controller may wait for the
/// elections up to three quarters of the call's timeout, so it answers (with
/// REQUEST_TIMED_OUT for what it did not finish) before the call gives up on it.
pub async fn elect_round(
    client: &KafkaClient,
    partitions: &[(String, i32)],
) -> Result<ElectionRound> {
    use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (topic, partition) in partitions {
        by_topic.entry(topic.as_str()).or_default().push(*partition);
    }
    // Kafka before 2.4 answers NONE (not ELECTION_NOT_NEEDED, which 2.4 introduced) for a
    // partition its preferred replica already led: what led before the request tells the two
    // apart, so such a partition is not reported elected.
    // Asked only of those: newer brokers' metadata may lag the controller (KRaft), and
    // the controller's answer is then the one to trust.
    let already = if client
        .controller_version_of::<ElectLeadersRequest>()
        .await?
        == 0
    {
        let topics: Vec<String> = by_topic.keys().map(|t| t.to_string()).collect();
        preferred_leading(client, &topics).await?
    } else {
        BTreeSet::new()
    };
    let wait = client.timeout() * 3 / 4;
    let request = ElectLeadersRequest::default()
        .with_election_type(0)
        .with_timeout_ms(wait.as_millis().min(i32::MAX as u128) as i32)
        .with_topic_partitions(Some(
            by_topic
                .into_iter()
                .map(|(topic, partitions)| {
                    TopicPartitions::default()
                        .with_topic(TopicName(StrBytes::from_string(topic.to_string())))
                        .with_partitions(partitions)
                })
                .collect(),
        ));
    let response = client.send_to_controller(&request).await?;
    check_code(response.error_code, None, "ElectLeaders")?;
    let mut round = ElectionRound::default();
    for t in response.replica_election_results {
        let topic = t.topic.0.as_str();
        for p in t.partition_result {
            let name = format!("{topic}-{}", p.partition_id);
            match ParseResponseErrorCode::err(p.error_code) {
                None if already.contains(&(topic.to_string(), p.partition_id)) => {}
                None => round.elected.push(name),
                // The preferred replica already leads.
                Some(ResponseError::ElectionNotNeeded) => {}
                // They pass once the controller catches up or the replica is back in sync.
                Some(
                    ResponseError::RequestTimedOut
                    | ResponseError::LeaderNotAvailable
                    | ResponseError::PreferredLeaderNotAvailable,
                ) => {
                    let reason = check_code(p.error_code, p.error_message.as_ref(), &name)
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_default();
                    round
                        .pending
                        .push(((topic.to_string(), p.partition_id), reason));
                }
                Some(_) => check_code(p.error_code, p.error_message.as_ref(), &name)?,
            }
        }
    }
    Ok(round)
}

/// The partitions of `topics` whose preferred replica (the first of the list) leads.
async fn preferred_leading(
    client: &KafkaClient,
    topics: &[String],
) -> Result<BTreeSet<(String, i32)>> {
    let meta = client.metadata(Some(topics)).await?;
    Ok(meta
        .topics
        .iter()
        .filter_map(|t| Some((t.name.as_ref()?.0.as_str().to_string(), &t.partitions)))
        .flat_map(|(name, partitions)| {
            partitions
                .iter()
                .filter(|p| p.leader_id.0 >= 0 && p.replica_nodes.first() == Some(&p.leader_id))
                .map(move |p| (name.clone(), p.partition_index))
        })
        .collect())
}

/// What the planner needs to know about bytes: each partition's size (its largest
/// replica) and each broker's capacity (Kafka's bytes plus the free bytes of its log dirs,
/// where every dir reports them).
#[derive(Debug, Clone, Default)]
pub struct ClusterBytes {
    /// topic → partition → bytes.
    pub sizes: crate::plan::PartitionSizes,
    /// Broker id → bytes it can hold.
    pub capacity: HashMap<i32, u64>,
    /// Brokers that did not answer.
    pub errors: Vec<String>,
}

/// Partition sizes and broker capacities from DescribeLogDirs (one request per broker).
pub async fn cluster_bytes(client: &KafkaClient, topics: &[String]) -> Result<ClusterBytes> {
    let dirs = super::log_dirs::log_dirs(client, &[], topics).await?;
    let mut out = ClusterBytes {
        errors: dirs.errors,
        ..Default::default()
    };
    for r in dirs.replicas.iter().filter(|r| !r.future) {
        let slot = out
            .sizes
            .entry(r.topic.clone())
            .or_default()
            .entry(r.partition)
            .or_default();
        *slot = (*slot).max(r.size.max(0) as u64);
    }
    let mut capacity: HashMap<i32, Option<u64>> = HashMap::new();
    for d in &dirs.dirs {
        let slot = capacity.entry(d.broker).or_insert(Some(0));
        *slot = match (*slot, d.usable_bytes) {
            (Some(sum), Some(free)) => Some(sum + free.max(0) as u64 + d.bytes.max(0) as u64),
            _ => None,
        };
    }
    out.capacity = capacity
        .into_iter()
        .filter_map(|(b, c)| c.map(|c| (b, c)))
        .collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::log_dirs::ReplicaSize;

    fn size(broker: i32, partition: i32, size: i64) -> ReplicaSize {
        ReplicaSize {
            broker,
            log_dir: "/data".into(),
            topic: "t".into(),
            partition,
            size,
            offset_lag: 0,
            future: false,
        }
    }

    fn part(partition: i32, target: &[i32]) -> PartitionAssignment {
        PartitionAssignment {
            topic: "t".into(),
            partition,
            replicas: target.to_vec(),
            log_dirs: None,
        }
    }

    #[test]
    fn bytes_left_counts_what_new_replicas_still_miss() {
        let plan = vec![part(0, &[1, 4]), part(1, &[2, 3])];
        let current: HashMap<(String, i32), Vec<i32>> = [
            (("t".to_string(), 0), vec![1, 2, 4]),
            (("t".to_string(), 1), vec![2, 3]),
        ]
        .into_iter()
        .collect();
        let ongoing: Ongoing = [(("t".to_string(), 0), (vec![4], vec![2]))]
            .into_iter()
            .collect();
        let progress = progress(&plan, &current, &ongoing);
        assert!(!progress[0].done);
        assert!(progress[1].done);
        let sizes = vec![
            size(1, 0, 1000),
            size(2, 0, 990),
            size(4, 0, 300),
            size(2, 1, 50),
        ];
        assert_eq!(bytes_left(&progress, &sizes), 700);
        // Nothing copied yet: the whole partition is left.
        assert_eq!(bytes_left(&progress, &sizes[..2]), 1000);
        // A new replica that already has more than the source (it caught up) counts 0.
        let caught_up = vec![size(1, 0, 1000), size(4, 0, 1200)];
        assert_eq!(bytes_left(&progress, &caught_up), 0);
    }
}
