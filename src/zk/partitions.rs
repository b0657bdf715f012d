//! The partition state znodes of a ZooKeeper-mode cluster,
//! `/brokers/topics/<topic>/partitions/<partition>/state`: the leader and ISR as the
//! controller and the partition leaders write them. They are the current source: brokers
//! learn an ISR change only when the controller passes it on (Kafka before 2.7 batches the
//! leaders' ISR change notifications, so the brokers' metadata can lag seconds behind).

use std::collections::HashMap;

use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;

use super::znodes::ZkSession;
use crate::error::{Error, Result};

/// How many state znodes are read at once.
const CONCURRENT_READS: usize = 64;

/// A partition's leader and ISR as its state znode holds them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PartitionState {
    /// The leader, none when the partition is offline (-1 in the znode).
    pub leader: Option<i32>,
    /// The in-sync replicas.
    pub isr: Vec<i32>,
    /// The leader epoch.
    pub leader_epoch: i32,
}

/// Parses a state znode's JSON, e.g.
/// `{"controller_epoch":1,"leader":2,"version":1,"leader_epoch":0,"isr":[2,1]}`.
pub fn parse_state(json: &serde_json::Value) -> Option<PartitionState> {
    let leader = i32::try_from(json.get("leader")?.as_i64()?).ok()?;
    let isr = json
        .get("isr")?
        .as_array()?
        .iter()
        .map(|b| b.as_i64().and_then(|b| i32::try_from(b).ok()))
        .collect::<Option<Vec<i32>>>()?;
    Some(PartitionState {
        leader: (leader >= 0).then_some(leader),
        isr,
        leader_epoch: json
            .get("leader_epoch")
            .and_then(|e| e.as_i64())
            .and_then(|e| i32::try_from(e).ok())
            .unwrap_or(-1),
    })
}

/// The state znodes of `partitions` that exist (a partition without one, e.g. deleted
/// meanwhile, is left out).
pub async fn states(
    session: &ZkSession,
    partitions: &[(String, i32)],
) -> Result<HashMap<(String, i32), PartitionState>> {
    stream::iter(partitions.iter().cloned())
        .map(|(topic, partition)| async move {
            let path = format!("/brokers/topics/{topic}/partitions/{partition}/state");
            match session.get(&path).await {
                Ok(node) => Ok(node
                    .json
                    .as_ref()
                    .and_then(parse_state)
                    .map(|s| ((topic, partition), s))),
                Err(Error::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .buffer_unordered(CONCURRENT_READS)
        .try_filter_map(|found| async move { Ok(found) })
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_state_znode() {
        let j = serde_json::json!({"controller_epoch":1,"leader":2,"version":1,"leader_epoch":4,"isr":[2,1]});
        assert_eq!(
            parse_state(&j),
            Some(PartitionState {
                leader: Some(2),
                isr: vec![2, 1],
                leader_epoch: 4
            })
        );
        let offline = serde_json::json!({"leader":-1,"leader_epoch":5,"isr":[1]});
        assert_eq!(parse_state(&offline).unwrap().leader, None);
        assert_eq!(parse_state(&serde_json::json!({"isr":[1]})), None);
        assert_eq!(
            parse_state(&serde_json::json!({"leader":1,"isr":["x"]})),
            None
        );
    }
}
