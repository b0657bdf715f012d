//! Reassignment the way ZooKeeper-based Kafka before 2.4 takes it (the seed's way): the
//! plan written to `<chroot>/admin/reassign_partitions`, which the controller watches and
//! shrinks as partitions complete, deleting it when all are done.

use super::znodes::ZkSession;
use crate::error::{Error, Result};
use crate::plan::{PartitionAssignment, Plan};
use std::collections::BTreeSet;

/// The znode the controller watches.
pub const REASSIGN_ZNODE: &str = "/admin/reassign_partitions";

/// Partitions whose reassignment is still pending in the znode (none when it is absent).
pub async fn pending(session: &ZkSession) -> Result<BTreeSet<(String, i32)>> {
    let node = match session.get(REASSIGN_ZNODE).await {
        Ok(node) => node,
        Err(Error::NotFound(_)) => return Ok(BTreeSet::new()),
        Err(e) => return Err(e),
    };
    let text = node.data.unwrap_or_default();
    if text.trim().is_empty() {
        return Ok(BTreeSet::new());
    }
    let plan = Plan::from_json(&text)
        .map_err(|e| Error::Cluster(format!("{REASSIGN_ZNODE} holds no readable plan: {e}")))?;
    Ok(plan
        .partitions
        .into_iter()
        .map(|p| (p.topic, p.partition))
        .collect())
}

/// Writes the moving partitions to the znode. Refuses while another reassignment is still
/// pending there, as the controller would ignore a second one.
pub async fn submit(session: &ZkSession, moving: &[PartitionAssignment]) -> Result<()> {
    let in_flight = pending(session).await?;
    if !in_flight.is_empty() {
        return Err(Error::Refused(format!(
            "a reassignment of {} partition(s) is still in progress ({REASSIGN_ZNODE} exists); wait for it or let it finish first",
            in_flight.len()
        )));
    }
    let text = Plan::new(moving.to_vec()).to_json();
    match session
        .create(
            REASSIGN_ZNODE,
            text.as_bytes(),
            false,
            true,
            super::znodes::ZkAcl::Open,
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(Error::InvalidInput(_)) => Err(Error::Refused(format!(
            "{REASSIGN_ZNODE} appeared while kafsh was writing it: another reassignment started"
        ))),
        Err(e) => Err(e),
    }
}
