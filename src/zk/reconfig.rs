//! Dynamic reconfiguration (ZooKeeper 3.5+ `reconfig`, as `zkCli.sh reconfig -add/-remove/
//! -members` and ZooKeeperAdmin send it, over the same session): planning a membership
//! change against the current configuration (pure: what is added, removed or changed, and a
//! refusal when it would change more than one voter at once without `force`), sending it
//! conditionally on the version it was planned from, and waiting until every server of the
//! new configuration reports its version.

use super::config::{hex, server_views, Membership, ServerView, SessionSettings, ZkMember};
use super::config::{NEW_CONFIG_NO_QUORUM, RECONFIG_IN_PROGRESS};
use super::znodes::ZkSession;
use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use zookeeper_client as zk;

/// A requested membership change: incremental (`add`, `remove`) or a whole new membership
/// (`members`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// Servers to add, or to change (same id: new address or role).
    pub add: Vec<ZkMember>,
    /// Ids of servers to remove.
    pub remove: Vec<u32>,
    /// The whole new membership (instead of add/remove).
    pub members: Option<Vec<ZkMember>>,
}

/// What a reconfiguration does, or did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReconfigResult {
    /// Nothing was sent: a dry run.
    pub dry_run: bool,
    /// The configuration already is what was asked: nothing sent.
    pub unchanged: bool,
    /// The version it was planned from (hex).
    pub version_before: Option<String>,
    /// The version it made (hex); none in a dry run or when unchanged.
    pub version: Option<String>,
    /// Ids added.
    pub added: Vec<u32>,
    /// Ids removed.
    pub removed: Vec<u32>,
    /// Ids whose address or role changed.
    pub changed: Vec<u32>,
    /// Voting members after.
    pub voters: Vec<u32>,
    /// Observers after.
    pub observers: Vec<u32>,
    /// The membership before.
    pub before: Vec<ZkMember>,
    /// The membership after.
    pub servers: Vec<ZkMember>,
    /// Members that were not running when the others reported the new version (they take
    /// it from the leader when they start).
    pub not_running: Vec<u32>,
}

/// Plans `change` against `current`: the membership after, what differs, and refusals —
/// no voter left, a member given twice, a malformed whole membership, or (without `force`)
/// more than one voter added, removed or changed at once, which is how a reconfiguration
/// can leave too few synced voters for a quorum.
pub fn plan(current: &Membership, change: &Change, force: bool) -> Result<ReconfigResult> {
    let incremental = !change.add.is_empty() || !change.remove.is_empty();
    if incremental && change.members.is_some() {
        return Err(Error::InvalidInput(
            "give either add/remove or members (the whole new membership), not both".into(),
        ));
    }
    let after: Vec<ZkMember> = match &change.members {
        Some(members) => {
            let mut ids = BTreeSet::new();
            for m in members {
                if !ids.insert(m.id) {
                    return Err(Error::InvalidInput(format!(
                        "server {} is given twice in members",
                        m.id
                    )));
                }
            }
            members.clone()
        }
        None if !incremental => {
            return Err(Error::InvalidInput(
                "nothing to change: give add, remove or members".into(),
            ))
        }
        None => {
            let mut ids = BTreeSet::new();
            for m in &change.add {
                if !ids.insert(m.id) {
                    return Err(Error::InvalidInput(format!(
                        "server {} is given twice in add",
                        m.id
                    )));
                }
                if change.remove.contains(&m.id) {
                    return Err(Error::InvalidInput(format!(
                        "server {} is both added and removed",
                        m.id
                    )));
                }
            }
            let mut next: Vec<ZkMember> = current
                .members
                .iter()
                .filter(|m| !change.remove.contains(&m.id) && !ids.contains(&m.id))
                .cloned()
                .collect();
            next.extend(change.add.iter().cloned());
            next
        }
    };
    let mut after = after;
    after.sort_by_key(|m| m.id);
    let before = &current.members;
    let added: Vec<u32> = after
        .iter()
        .filter(|m| current.member(m.id).is_none())
        .map(|m| m.id)
        .collect();
    let removed: Vec<u32> = before
        .iter()
        .filter(|m| !after.iter().any(|a| a.id == m.id))
        .map(|m| m.id)
        .collect();
    let changed: Vec<u32> = after
        .iter()
        .filter(|m| current.member(m.id).is_some_and(|b| !b.same_as(m)))
        .map(|m| m.id)
        .collect();
    let voters: Vec<u32> = after
        .iter()
        .filter(|m| m.is_voter())
        .map(|m| m.id)
        .collect();
    if voters.is_empty() {
        return Err(Error::InvalidInput(
            "the new configuration would have no voting member".into(),
        ));
    }
    let was_voter = |id: u32| current.member(id).is_some_and(|m| m.is_voter());
    let is_voter = |id: u32| voters.contains(&id);
    let voter_changes: Vec<u32> = added
        .iter()
        .chain(&removed)
        .chain(&changed)
        .copied()
        .filter(|&id| was_voter(id) || is_voter(id))
        .collect();
    if voter_changes.len() > 1 && !force {
        return Err(Error::OutOfProportion(format!(
            "it changes {} voters at once ({}): a quorum of the new configuration must be connected \
             and synced, and one voter at a time keeps every step within what the ensemble tolerates",
            voter_changes.len(),
            voter_changes
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // What is sent must say where clients reach it (a joining server needs it).
    for m in after
        .iter()
        .filter(|m| change.members.is_some() || added.contains(&m.id) || changed.contains(&m.id))
    {
        m.spec()?;
    }
    let unchanged = added.is_empty() && removed.is_empty() && changed.is_empty();
    Ok(ReconfigResult {
        dry_run: false,
        unchanged,
        version_before: current.version.map(hex),
        version: None,
        added,
        removed,
        changed,
        observers: after
            .iter()
            .filter(|m| !m.is_voter())
            .map(|m| m.id)
            .collect(),
        voters,
        before: before.clone(),
        servers: after,
        not_running: Vec::new(),
    })
}

/// Sends the planned change (`whole`: as a whole new membership), conditional on the
/// version it was planned from; returns the configuration ZooKeeper committed.
pub async fn send(
    session: &ZkSession,
    planned: &ReconfigResult,
    whole: bool,
) -> Result<Membership> {
    let expected = match &planned.version_before {
        Some(v) => Some(i64::from_str_radix(v, 16).map_err(|_| {
            Error::InvalidInput(format!("config version {v:?} is not hexadecimal"))
        })?),
        None => None,
    };
    let specs: Vec<String> = if whole {
        planned
            .servers
            .iter()
            .map(ZkMember::spec)
            .collect::<Result<_>>()?
    } else {
        planned
            .servers
            .iter()
            .filter(|m| planned.added.contains(&m.id) || planned.changed.contains(&m.id))
            .map(ZkMember::spec)
            .collect::<Result<_>>()?
    };
    let leaving: Vec<String> = planned.removed.iter().map(u32::to_string).collect();
    let answer = if whole {
        let update = zk::EnsembleUpdate::New {
            ensemble: specs.iter().map(String::as_str),
        };
        session.client().update_ensemble(update, expected).await
    } else {
        let update = zk::EnsembleUpdate::Incremental {
            joinings: specs.iter().map(String::as_str),
            leavings: leaving.iter().map(String::as_str),
        };
        session.client().update_ensemble(update, expected).await
    };
    match answer {
        Ok((data, _)) => Membership::parse(&String::from_utf8_lossy(&data)),
        Err(e @ (zk::Error::ConnectionLoss | zk::Error::Timeout | zk::Error::Custom(_))) => {
            // The request may have been committed before the connection went: look.
            let now = session.config().await?;
            if same_members(&now.members, &planned.servers) {
                Ok(now)
            } else {
                Err(Error::Cluster(format!(
                    "the connection to ZooKeeper failed while it reconfigured ({e}); the configuration \
                     is still version {}: zk_config() shows whether a late commit changed it",
                    now.version.map(hex).unwrap_or_else(|| "?".into())
                )))
            }
        }
        Err(e) => Err(refusal(e, planned)),
    }
}

/// Whether two memberships list the same servers the same way.
pub fn same_members(a: &[ZkMember], b: &[ZkMember]) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|m| b.iter().any(|o| o.id == m.id && o.same_as(m)))
}

/// ZooKeeper's refusal of a reconfiguration, with what to do about it.
fn refusal(e: zk::Error, planned: &ReconfigResult) -> Error {
    match e {
        zk::Error::ReconfigDisabled => Error::Refused(
            "dynamic reconfiguration is disabled on this ensemble (reconfigEnabled=false): change its \
             membership with a configuration rewrite and a rolling restart (zk_scale_out / zk_scale_in \
             choose that path by themselves)"
                .into(),
        ),
        zk::Error::NoAuth => Error::Refused(
            "this session may not reconfigure the ensemble: only a ZooKeeper super user (the servers' \
             -Dzookeeper.DigestAuthenticationProvider.superDigest) may, or everyone with skipACL; give \
             the context zookeeper_auth = \"super:PASSWORD\" (or zookeeper_auth_file, or \
             KAFSH_ZOOKEEPER_AUTH)"
                .into(),
        ),
        zk::Error::BadVersion => Error::Refused(format!(
            "the configuration changed since it was read (version {}): read zk_config() again",
            planned.version_before.as_deref().unwrap_or("?")
        )),
        zk::Error::UnexpectedErrorCode(NEW_CONFIG_NO_QUORUM) => Error::Refused(format!(
            "ZooKeeper refused: no quorum of the new configuration (voters {:?}) is connected to the \
             leader and synced; start the servers it adds first and wait until they follow",
            planned.voters
        )),
        zk::Error::UnexpectedErrorCode(RECONFIG_IN_PROGRESS) => Error::Cluster(
            "another reconfiguration is being committed; try again when zk_config() shows it done"
                .into(),
        ),
        zk::Error::BadArguments(_) => Error::InvalidInput(format!(
            "ZooKeeper refused the new configuration as malformed (see the leader's log): {:?}",
            planned
                .servers
                .iter()
                .filter_map(|m| m.spec().ok())
                .collect::<Vec<_>>()
        )),
        zk::Error::Unimplemented => {
            Error::Unsupported("a standalone ZooKeeper server cannot be reconfigured".into())
        }
        other => super::znodes::zk_error(other, "/zookeeper/config"),
    }
}

/// Waits until every running server of `members` (at its client address) reports config
/// `version` or a newer one; fails at `deadline` naming those that do not. Returns the ids
/// of the members that are not running (they refuse connections): each takes the
/// configuration from the leader when it starts.
pub async fn wait_reported(
    members: &[ZkMember],
    version: u64,
    deadline: Instant,
    four_letter_timeout: Duration,
    session: &SessionSettings,
) -> Result<Vec<u32>> {
    let servers: Vec<(u32, String)> = members
        .iter()
        .filter_map(|m| Some((m.id, m.client_address()?)))
        .collect();
    let addresses: Vec<String> = servers.iter().map(|(_, a)| a.clone()).collect();
    loop {
        let views = server_views(
            &addresses,
            four_letter_timeout,
            session.auth.tls.as_ref(),
            Some(session),
        )
        .await;
        let behind: Vec<&ServerView> = views
            .iter()
            .filter(|v| !v.down)
            .filter(|v| {
                v.version
                    .as_deref()
                    .and_then(|x| u64::from_str_radix(x, 16).ok())
                    .is_none_or(|x| x < version)
            })
            .collect();
        if behind.is_empty() {
            return Ok(servers
                .iter()
                .zip(&views)
                .filter(|(_, v)| v.down)
                .map(|((id, _), _)| *id)
                .collect());
        }
        if Instant::now() >= deadline {
            let named: Vec<String> = behind
                .iter()
                .map(|v| {
                    format!(
                        "{} ({})",
                        v.server,
                        v.error.clone().unwrap_or_else(|| format!(
                            "at version {}",
                            v.version.as_deref().unwrap_or("?")
                        ))
                    )
                })
                .collect();
            return Err(Error::Timeout(format!(
                "ZooKeeper committed configuration version {} but {} did not report it in time",
                hex(version),
                named.join(", ")
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zk::config::Role;

    fn m(id: u32, role: Role) -> ZkMember {
        ZkMember {
            id,
            host: format!("zk{id}"),
            peer_port: 2888,
            election_port: 3888,
            role,
            client_host: None,
            client_port: Some(2181),
        }
    }

    fn three() -> Membership {
        Membership {
            members: (1..=3).map(|id| m(id, Role::Participant)).collect(),
            version: Some(0x1_0000_0000),
        }
    }

    #[test]
    fn plans_additions_removals_and_changes() {
        let p = plan(
            &three(),
            &Change {
                add: vec![m(4, Role::Participant)],
                ..Default::default()
            },
            false,
        )
        .unwrap();
        assert_eq!(
            (p.added.clone(), p.voters.clone()),
            (vec![4], vec![1, 2, 3, 4])
        );
        assert_eq!(p.version_before.as_deref(), Some("100000000"));
        let p = plan(
            &three(),
            &Change {
                remove: vec![3, 9],
                ..Default::default()
            },
            false,
        )
        .unwrap();
        assert_eq!((p.removed.clone(), p.voters.clone()), (vec![3], vec![1, 2]));
        let mut moved = m(2, Role::Participant);
        moved.host = "zk2b".into();
        let p = plan(
            &three(),
            &Change {
                add: vec![moved],
                ..Default::default()
            },
            false,
        )
        .unwrap();
        assert_eq!((p.changed.clone(), p.added.len()), (vec![2], 0));
        // Observers do not count against the one-voter rule.
        let p = plan(
            &three(),
            &Change {
                add: vec![
                    m(4, Role::Participant),
                    m(5, Role::Observer),
                    m(6, Role::Observer),
                ],
                ..Default::default()
            },
            false,
        )
        .unwrap();
        assert_eq!(p.observers, vec![5, 6]);
        // Asking for what is already there changes nothing.
        let p = plan(
            &three(),
            &Change {
                add: vec![m(1, Role::Participant)],
                remove: vec![7],
                ..Default::default()
            },
            false,
        )
        .unwrap();
        assert!(p.unchanged);
    }

    #[test]
    fn refuses_what_is_out_of_proportion_or_malformed() {
        let two = Change {
            add: vec![m(4, Role::Participant), m(5, Role::Participant)],
            ..Default::default()
        };
        assert!(matches!(
            plan(&three(), &two, false),
            Err(Error::OutOfProportion(_))
        ));
        assert!(plan(&three(), &two, true).is_ok());
        let demote = Change {
            members: Some(vec![
                m(1, Role::Participant),
                m(2, Role::Observer),
                m(3, Role::Observer),
            ]),
            ..Default::default()
        };
        assert!(matches!(
            plan(&three(), &demote, false),
            Err(Error::OutOfProportion(_))
        ));
        let none = Change {
            remove: vec![1, 2, 3],
            ..Default::default()
        };
        assert!(plan(&three(), &none, true)
            .unwrap_err()
            .to_string()
            .contains("no voting member"));
        let both = Change {
            add: vec![m(4, Role::Participant)],
            remove: vec![4],
            ..Default::default()
        };
        assert!(plan(&three(), &both, false).is_err());
        assert!(plan(&three(), &Change::default(), false).is_err());
        let mut no_client = m(4, Role::Participant);
        no_client.client_port = None;
        let c = Change {
            add: vec![no_client],
            ..Default::default()
        };
        assert!(plan(&three(), &c, false)
            .unwrap_err()
            .to_string()
            .contains("client port"));
    }
}
