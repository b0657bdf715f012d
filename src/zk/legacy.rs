//! Old (ZooKeeper-based) consumer groups, the seed's "old consumer": offsets under
//! `<chroot>/consumers/<group>/offsets/<topic>/<partition>`, owners under `.../owners/...`,
//! members under `.../ids/`.

use super::znodes::ZkSession;
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Group names under `/consumers` (none when the path does not exist).
pub async fn list(session: &ZkSession) -> Result<Vec<String>> {
    match session.ls("/consumers").await {
        Ok(groups) => Ok(groups),
        Err(Error::NotFound(_)) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// What ZooKeeper holds for one old-style group.
#[derive(Debug, Clone, Default)]
pub struct LegacyGroup {
    /// topic → partition → committed offset.
    pub offsets: BTreeMap<String, BTreeMap<i32, i64>>,
    /// topic → partition → owning consumer id.
    pub owners: BTreeMap<String, BTreeMap<i32, String>>,
    /// Registered consumer ids.
    pub members: Vec<String>,
}

/// Reads one group's offsets, owners and members.
pub async fn read(session: &ZkSession, group: &str) -> Result<LegacyGroup> {
    if !session.exists(&format!("/consumers/{group}")).await? {
        return Err(Error::NotFound(format!(
            "consumer group {group:?} has no /consumers/{group} in ZooKeeper"
        )));
    }
    let mut out = LegacyGroup::default();
    for topic in children(session, &format!("/consumers/{group}/offsets")).await? {
        for partition in children(session, &format!("/consumers/{group}/offsets/{topic}")).await? {
            let Ok(p) = partition.parse::<i32>() else {
                continue;
            };
            let node = session
                .get(&format!("/consumers/{group}/offsets/{topic}/{partition}"))
                .await?;
            if let Some(offset) = node
                .data
                .as_deref()
                .and_then(|d| d.trim().parse::<i64>().ok())
            {
                out.offsets
                    .entry(topic.clone())
                    .or_default()
                    .insert(p, offset);
            }
        }
    }
    for topic in children(session, &format!("/consumers/{group}/owners")).await? {
        for partition in children(session, &format!("/consumers/{group}/owners/{topic}")).await? {
            let Ok(p) = partition.parse::<i32>() else {
                continue;
            };
            let node = session
                .get(&format!("/consumers/{group}/owners/{topic}/{partition}"))
                .await?;
            if let Some(owner) = node.data {
                out.owners
                    .entry(topic.clone())
                    .or_default()
                    .insert(p, owner);
            }
        }
    }
    out.members = children(session, &format!("/consumers/{group}/ids")).await?;
    Ok(out)
}

async fn children(session: &ZkSession, path: &str) -> Result<Vec<String>> {
    match session.ls(path).await {
        Ok(c) => Ok(c),
        Err(Error::NotFound(_)) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}
