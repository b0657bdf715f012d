//! Replica sizes per broker and log directory (DescribeLogDirs, one request per broker), and
//! totals per topic: what "shrink the biggest topic's retention" needs. A broker that does
//! not answer is listed in `missing_brokers` with its error; the others' replicas are kept.

use super::client::{check_code, KafkaClient};
use crate::error::Result;
use kafka_protocol::messages::DescribeLogDirsRequest;
use serde::Serialize;
use std::collections::BTreeMap;

/// One replica on one broker.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReplicaSize {
    /// Broker id.
    pub broker: i32,
    /// Log directory.
    pub log_dir: String,
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
    /// Bytes on disk.
    pub size: i64,
    /// How far this replica is behind the log end (bytes or messages, as the broker reports).
    pub offset_lag: i64,
    /// Whether this is the future replica of an ongoing move between log dirs.
    pub future: bool,
}

/// Sizes per topic, biggest first.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TopicSize {
    /// Topic name.
    pub topic: String,
    /// Bytes over all replicas on all brokers.
    pub size: i64,
    /// Replicas counted.
    pub replicas: usize,
}

/// One log directory of one broker, with its disk's size where the broker reports it
/// (DescribeLogDirs v4, Kafka 3.3 and later).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LogDirUsage {
    /// Broker id.
    pub broker: i32,
    /// Log directory.
    pub log_dir: String,
    /// Bytes of the replicas in it (of every topic).
    pub bytes: i64,
    /// Size of the volume, when known.
    pub total_bytes: Option<i64>,
    /// Free bytes on the volume, when known.
    pub usable_bytes: Option<i64>,
}

/// The answer of `log_dirs`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LogDirs {
    /// Every replica asked for.
    pub replicas: Vec<ReplicaSize>,
    /// Every log directory of the brokers asked, with its disk's size where known.
    pub dirs: Vec<LogDirUsage>,
    /// Totals per topic, biggest first.
    pub topics: Vec<TopicSize>,
    /// Brokers that could not answer, with the reason.
    pub errors: Vec<String>,
    /// Brokers whose replicas are missing because they did not answer.
    pub missing_brokers: Vec<i32>,
}

/// Replica sizes on `brokers` (all live ones when empty) for `topics` (all when empty).
pub async fn log_dirs(client: &KafkaClient, brokers: &[i32], topics: &[String]) -> Result<LogDirs> {
    let meta = client.metadata(Some(&[])).await?;
    let targets: Vec<i32> = if brokers.is_empty() {
        meta.brokers.iter().map(|b| b.node_id.0).collect()
    } else {
        for b in brokers {
            if !meta.brokers.iter().any(|m| m.node_id.0 == *b) {
                return Err(crate::error::Error::NotFound(format!(
                    "broker {b} is not a live broker"
                )));
            }
        }
        brokers.to_vec()
    };
    let request = DescribeLogDirsRequest::default().with_topics(None);
    let answers = KafkaClient::join_all(
        targets
            .iter()
            .map(|id| {
                let request = request.clone();
                async move { (*id, client.send_to(*id, &request).await) }
            })
            .collect(),
    )
    .await;
    let mut replicas = Vec::new();
    let mut dirs = Vec::new();
    let mut errors = Vec::new();
    let mut missing_brokers = Vec::new();
    for (broker, answer) in answers {
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                let text = e.to_string();
                let text = if text.starts_with(&format!("broker {broker} ")) {
                    text
                } else {
                    format!("broker {broker}: {text}")
                };
                client.note(format!(
                    "replica sizes of broker {broker} are missing: {text}"
                ));
                errors.push(text);
                missing_brokers.push(broker);
                continue;
            }
        };
        if let Err(e) = check_code(response.error_code, None, &format!("broker {broker}")) {
            errors.push(e.to_string());
            continue;
        }
        for dir in response.results {
            if dir.error_code != 0 {
                errors.push(format!(
                    "broker {broker} log dir {}: error {}",
                    dir.log_dir.as_str(),
                    dir.error_code
                ));
                continue;
            }
            let known = |v: i64| (v >= 0).then_some(v);
            dirs.push(LogDirUsage {
                broker,
                log_dir: dir.log_dir.as_str().to_string(),
                bytes: dir
                    .topics
                    .iter()
                    .flat_map(|t| t.partitions.iter())
                    .filter(|p| !p.is_future_key)
                    .map(|p| p.partition_size)
                    .sum(),
                total_bytes: known(dir.total_bytes),
                usable_bytes: known(dir.usable_bytes),
            });
            for t in dir.topics {
                let name = t.name.0.as_str().to_string();
                if !topics.is_empty() && !topics.contains(&name) {
                    continue;
                }
                for p in t.partitions {
                    replicas.push(ReplicaSize {
                        broker,
                        log_dir: dir.log_dir.as_str().to_string(),
                        topic: name.clone(),
                        partition: p.partition_index,
                        size: p.partition_size,
                        offset_lag: p.offset_lag,
                        future: p.is_future_key,
                    });
                }
            }
        }
    }
    replicas
        .sort_by(|a, b| (&a.topic, a.partition, a.broker).cmp(&(&b.topic, b.partition, b.broker)));
    let mut totals: BTreeMap<String, (i64, usize)> = BTreeMap::new();
    for r in &replicas {
        let e = totals.entry(r.topic.clone()).or_default();
        e.0 += r.size;
        e.1 += 1;
    }
    let mut topic_sizes: Vec<TopicSize> = totals
        .into_iter()
        .map(|(topic, (size, replicas))| TopicSize {
            topic,
            size,
            replicas,
        })
        .collect();
    topic_sizes.sort_by(|a, b| b.size.cmp(&a.size).then(a.topic.cmp(&b.topic)));
    dirs.sort_by(|a, b| (a.broker, &a.log_dir).cmp(&(b.broker, &b.log_dir)));
    Ok(LogDirs {
        replicas,
        dirs,
        topics: topic_sizes,
        errors,
        missing_brokers,
    })
}
