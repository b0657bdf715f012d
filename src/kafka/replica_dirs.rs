//! Moving replicas between a broker's log dirs (JBOD): the replicas a plan's `log_dirs`
//! put in a given dir, where each of them and its future replica are now (DescribeLogDirs,
//! one request per broker, the answer Kafka's tool verifies with), AlterReplicaLogDirs to
//! each broker (retried while a replica the same reassignment adds does not exist there
//! yet, as kafka-reassign-partitions.sh does), and the intra-broker copy throttle
//! (`replica.alter.log.dirs.io.max.bytes.per.second`, removed with the other throttles).

use super::client::{check_code, KafkaClient};
use super::configs::{alter_config, wait_broker_values, Entity};
use crate::error::{Error, Result};
use crate::plan::PartitionAssignment;
use indexmap::IndexMap;
use kafka_protocol::error::{ParseResponseErrorCode, ResponseError};
use kafka_protocol::messages::alter_replica_log_dirs_request::{
    AlterReplicaLogDir, AlterReplicaLogDirTopic,
};
use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::{AlterReplicaLogDirsRequest, DescribeLogDirsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// The broker setting that throttles copies between its log dirs (bytes/s).
pub const ALTER_LOG_DIRS_RATE: &str = "replica.alter.log.dirs.io.max.bytes.per.second";

/// The log dir entry of a plan that leaves the choice to the broker.
pub const ANY_DIR: &str = "any";

/// One replica a plan puts in a given log dir.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DirTarget {
    /// Broker.
    pub broker: i32,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The log dir it should be in.
    pub dir: String,
}

/// The replicas `plan` puts in a given log dir (its `log_dirs` entries other than "any").
pub fn targets(plan: &[PartitionAssignment]) -> Vec<DirTarget> {
    let mut out: Vec<DirTarget> = plan
        .iter()
        .filter_map(|p| p.log_dirs.as_ref().map(|dirs| (p, dirs)))
        .flat_map(|(p, dirs)| {
            p.replicas
                .iter()
                .zip(dirs)
                .filter(|(_, d)| d.as_str() != ANY_DIR)
                .map(|(b, d)| DirTarget {
                    broker: *b,
                    topic: p.topic.clone(),
                    partition: p.partition,
                    dir: d.clone(),
                })
        })
        .collect();
    out.sort();
    out
}

/// Where one replica of a plan's `log_dirs` is, as kafka-reassign-partitions.sh --verify
/// tells it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DirProgress {
    /// Broker.
    pub broker: i32,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The log dir the plan puts it in.
    pub target: String,
    /// Its log dir now (none while the broker has no replica).
    pub current: Option<String>,
    /// The log dir its future replica is being copied to, while one is.
    pub future: Option<String>,
    /// "complete" (in the target, no copy in flight), "in progress" (being copied to the
    /// target), "replica missing" (the broker holds none yet), "not moving" (elsewhere,
    /// no copy in flight) or "moving elsewhere" (being copied to another dir).
    pub state: &'static str,
    /// Bytes of the replica now.
    pub size: i64,
    /// Bytes of its future replica so far.
    pub future_size: i64,
}

impl DirProgress {
    /// Whether the replica is in its target dir with no copy in flight.
    pub fn done(&self) -> bool {
        self.state == "complete"
    }
}

/// A broker's log dirs and where the asked replicas are on it.
struct BrokerDirs {
    dirs: BTreeSet<String>,
    /// (topic, partition) → (dir, size) of the replica and of its future replica.
    current: HashMap<(String, i32), (String, i64)>,
    future: HashMap<(String, i32), (String, i64)>,
}

/// DescribeLogDirs of `broker` for `partitions`.
async fn describe(
    client: &KafkaClient,
    broker: i32,
    partitions: &BTreeSet<(String, i32)>,
) -> Result<BrokerDirs> {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (t, p) in partitions {
        by_topic.entry(t).or_default().push(*p);
    }
    let request = DescribeLogDirsRequest::default().with_topics(Some(
        by_topic
            .into_iter()
            .map(|(t, ps)| {
                DescribableLogDirTopic::default()
                    .with_topic(TopicName(StrBytes::from_string(t.to_string())))
                    .with_partitions(ps)
            })
            .collect(),
    ));
    let response = client.send_to(broker, &request).await?;
    check_code(response.error_code, None, &format!("broker {broker}"))?;
    let mut out = BrokerDirs {
        dirs: BTreeSet::new(),
        current: HashMap::new(),
        future: HashMap::new(),
    };
    for dir in response.results {
        let path = dir.log_dir.as_str().to_string();
        if dir.error_code != 0 {
            // An offline dir is no place to move to; its replicas are not where asked.
            continue;
        }
        out.dirs.insert(path.clone());
        for t in dir.topics {
            for p in t.partitions {
                let key = (t.name.0.as_str().to_string(), p.partition_index);
                let slot = if p.is_future_key {
                    &mut out.future
                } else {
                    &mut out.current
                };
                slot.insert(key, (path.clone(), p.partition_size));
            }
        }
    }
    Ok(out)
}

/// The log dirs of every broker of `targets` and where those replicas are.
async fn describe_all(
    client: &KafkaClient,
    targets: &[DirTarget],
) -> Result<BTreeMap<i32, BrokerDirs>> {
    let mut asked: BTreeMap<i32, BTreeSet<(String, i32)>> = BTreeMap::new();
    for t in targets {
        asked
            .entry(t.broker)
            .or_default()
            .insert((t.topic.clone(), t.partition));
    }
    let answers = KafkaClient::join_all(
        asked
            .iter()
            .map(|(b, parts)| async move { (*b, describe(client, *b, parts).await) })
            .collect(),
    )
    .await;
    let mut out = BTreeMap::new();
    for (b, answer) in answers {
        out.insert(b, answer?);
    }
    Ok(out)
}

/// Where every replica of `targets` is.
pub async fn progress(client: &KafkaClient, targets: &[DirTarget]) -> Result<Vec<DirProgress>> {
    let described = describe_all(client, targets).await?;
    Ok(targets
        .iter()
        .map(|t| {
            let key = (t.topic.clone(), t.partition);
            let on = &described[&t.broker];
            let current = on.current.get(&key);
            let future = on.future.get(&key);
            let state = match (current, future) {
                (None, _) => "replica missing",
                (Some((dir, _)), None) if *dir == t.dir => "complete",
                (Some(_), None) => "not moving",
                (Some(_), Some((dir, _))) if *dir == t.dir => "in progress",
                (Some(_), Some(_)) => "moving elsewhere",
            };
            DirProgress {
                broker: t.broker,
                topic: t.topic.clone(),
                partition: t.partition,
                target: t.dir.clone(),
                current: current.map(|c| c.0.clone()),
                future: future.map(|f| f.0.clone()),
                state,
                size: current.map_or(0, |c| c.1),
                future_size: future.map_or(0, |f| f.1),
            }
        })
        .collect())
}

/// Checks that every target dir is an online log dir of its broker; returns the replicas
/// that are not in their target dir yet (those a move has to start for).
pub async fn check(client: &KafkaClient, targets: &[DirTarget]) -> Result<Vec<DirProgress>> {
    let described = describe_all(client, targets).await?;
    for t in targets {
        let dirs = &described[&t.broker].dirs;
        if !dirs.contains(&t.dir) {
            return Err(Error::InvalidInput(format!(
                "{}-{}: broker {} has no online log dir {:?} (its log dirs: {})",
                t.topic,
                t.partition,
                t.broker,
                t.dir,
                dirs.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    Ok(progress(client, targets)
        .await?
        .into_iter()
        .filter(|p| !p.done())
        .collect())
}

/// Stops the copies of `targets` in flight to their target dirs: AlterReplicaLogDirs to
/// the dir each replica is in, which drops its future replica. Returns "topic-partition on
/// broker B" of each stopped.
pub async fn cancel(client: &KafkaClient, targets: &[DirTarget]) -> Result<Vec<String>> {
    let back: Vec<DirTarget> = progress(client, targets)
        .await?
        .into_iter()
        .filter(|p| p.future.is_some())
        .filter_map(|p| {
            Some(DirTarget {
                broker: p.broker,
                topic: p.topic,
                partition: p.partition,
                dir: p.current?,
            })
        })
        .collect();
    if !back.is_empty() {
        alter(client, &back, Duration::ZERO).await?;
    }
    Ok(back
        .iter()
        .map(|t| format!("{}-{} on broker {}", t.topic, t.partition, t.broker))
        .collect())
}

/// Sets the intra-broker copy throttle on `brokers`, and waits (up to 10 s) until each
/// broker has applied it: a copy started before that runs unthrottled.
pub async fn set_throttle(client: &KafkaClient, brokers: &BTreeSet<i32>, rate: i64) -> Result<()> {
    let value = rate.to_string();
    for b in brokers {
        let mut set = IndexMap::new();
        set.insert(ALTER_LOG_DIRS_RATE.to_string(), value.clone());
        alter_config(client, &Entity::Broker(*b), &set, &[], false).await?;
    }
    wait_broker_values(client, brokers, &[(ALTER_LOG_DIRS_RATE, &value)]).await;
    Ok(())
}

/// AlterReplicaLogDirs for `targets`, one request per broker. A replica the broker does
/// not hold yet (a reassignment is adding it) answers ReplicaNotAvailable; the broker has
/// noted the dir to create it in, and the request is repeated every 100 ms until it holds
/// the replica or `patience` runs out, as Kafka's tool does. Any other error fails.
pub async fn alter(client: &KafkaClient, targets: &[DirTarget], patience: Duration) -> Result<()> {
    let started = Instant::now();
    let mut pending: Vec<DirTarget> = targets.to_vec();
    loop {
        let mut by_broker: BTreeMap<i32, Vec<&DirTarget>> = BTreeMap::new();
        for t in &pending {
            by_broker.entry(t.broker).or_default().push(t);
        }
        let answers = KafkaClient::join_all(
            by_broker
                .iter()
                .map(|(b, ts)| async move { (*b, alter_on(client, *b, ts).await) })
                .collect(),
        )
        .await;
        let mut retry = Vec::new();
        for (_, answer) in answers {
            retry.extend(answer?);
        }
        if retry.is_empty() {
            return Ok(());
        }
        if started.elapsed() >= patience {
            let names: Vec<String> = retry
                .iter()
                .map(|t| format!("{}-{} on broker {}", t.topic, t.partition, t.broker))
                .collect();
            return Err(Error::Timeout(format!(
                "the log dir moves of {} could not start within {}: the brokers do not hold those replicas yet",
                names.join(", "),
                super::conn::human(patience)
            )));
        }
        pending = retry;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One AlterReplicaLogDirs to `broker`; returns the targets it does not hold yet.
async fn alter_on(
    client: &KafkaClient,
    broker: i32,
    targets: &[&DirTarget],
) -> Result<Vec<DirTarget>> {
    let mut by_dir: BTreeMap<&str, BTreeMap<&str, Vec<i32>>> = BTreeMap::new();
    for t in targets {
        by_dir
            .entry(&t.dir)
            .or_default()
            .entry(&t.topic)
            .or_default()
            .push(t.partition);
    }
    let request = AlterReplicaLogDirsRequest::default().with_dirs(
        by_dir
            .into_iter()
            .map(|(dir, topics)| {
                AlterReplicaLogDir::default()
                    .with_path(StrBytes::from_string(dir.to_string()))
                    .with_topics(
                        topics
                            .into_iter()
                            .map(|(t, ps)| {
                                AlterReplicaLogDirTopic::default()
                                    .with_name(TopicName(StrBytes::from_string(t.to_string())))
                                    .with_partitions(ps)
                            })
                            .collect(),
                    )
            })
            .collect(),
    );
    let response = client.send_to(broker, &request).await?;
    let mut retry = Vec::new();
    for t in response.results {
        let topic = t.topic_name.0.as_str().to_string();
        for p in t.partitions {
            if matches!(p.error_code.err(), Some(ResponseError::ReplicaNotAvailable)) {
                if let Some(found) = targets
                    .iter()
                    .find(|x| x.topic == topic && x.partition == p.partition_index)
                {
                    retry.push((*found).clone());
                }
                continue;
            }
            check_code(
                p.error_code,
                None,
                &format!(
                    "moving {topic}-{} between log dirs of broker {broker}",
                    p.partition_index
                ),
            )?;
        }
    }
    Ok(retry)
}

/// What balancing one broker's log dirs starts from.
#[derive(Debug, Clone)]
pub struct DirsInput {
    /// Every replica the broker holds, with its dir and size.
    pub replicas: Vec<crate::plan::DirReplica>,
    /// The broker's online log dirs, with the most bytes of replicas each could hold (its
    /// replicas' bytes plus the volume's free bytes) where the broker reports it.
    pub dirs: Vec<(String, Option<u64>)>,
    /// The replica lists of the partitions it holds.
    pub assignment: Vec<PartitionAssignment>,
}

/// The replicas and log dirs of `broker` (DescribeLogDirs) and the replica lists of the
/// partitions it holds; replicas of topics not in `topics` (when given) stay where they
/// are. Refused while a copy between its log dirs is in flight.
pub async fn planning_input(
    client: &KafkaClient,
    broker: i32,
    topics: &[String],
) -> Result<DirsInput> {
    let sizes = super::log_dirs::log_dirs(client, &[broker], &[]).await?;
    if let Some(e) = sizes.errors.first() {
        return Err(Error::Cluster(e.clone()));
    }
    let moving: Vec<String> = sizes
        .replicas
        .iter()
        .filter(|r| r.future)
        .map(|r| format!("{}-{}", r.topic, r.partition))
        .collect();
    if !moving.is_empty() {
        return Err(Error::Refused(format!(
            "broker {broker} is still copying {} between its log dirs; wait for that first",
            moving.join(", ")
        )));
    }
    let replicas: Vec<crate::plan::DirReplica> = sizes
        .replicas
        .iter()
        .map(|r| crate::plan::DirReplica {
            topic: r.topic.clone(),
            partition: r.partition,
            dir: r.log_dir.clone(),
            size: r.size.max(0) as u64,
            fixed: !topics.is_empty() && !topics.contains(&r.topic),
        })
        .collect();
    let dirs = sizes
        .dirs
        .iter()
        .map(|d| {
            let room = d.usable_bytes.map(|u| (u.max(0) + d.bytes.max(0)) as u64);
            (d.log_dir.clone(), room)
        })
        .collect();
    let topics: Vec<String> = replicas
        .iter()
        .filter(|r| !r.fixed)
        .map(|r| r.topic.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let assignment = if topics.is_empty() {
        Vec::new()
    } else {
        super::reassign_flow::assignment(client, &topics, true)
            .await?
            .0
            .partitions
    };
    Ok(DirsInput {
        replicas,
        dirs,
        assignment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_skip_any_and_plans_without_dirs() {
        let plan = vec![
            PartitionAssignment {
                topic: "t".into(),
                partition: 0,
                replicas: vec![2, 1],
                log_dirs: Some(vec!["any".into(), "/d2".into()]),
            },
            PartitionAssignment {
                topic: "t".into(),
                partition: 1,
                replicas: vec![1, 2],
                log_dirs: None,
            },
        ];
        assert_eq!(
            targets(&plan),
            vec![DirTarget {
                broker: 1,
                topic: "t".into(),
                partition: 0,
                dir: "/d2".into()
            }]
        );
    }
}
