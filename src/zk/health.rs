//! Ensemble health from the servers' status: a quorum of voters serving, exactly one leader,
//! every follower and observer synced, one epoch; and zoo.cfg rendering (observers marked
//! `:observer`).

use super::config::Role;
use super::status::ZkServerStatus;
use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// Whether the ensemble is healthy, and why not.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ZkHealth {
    /// True when every check passed.
    pub healthy: bool,
    /// What is wrong (empty when healthy).
    pub reasons: Vec<String>,
    /// The leader, if exactly one.
    pub leader: Option<String>,
    /// Servers serving clients.
    pub serving: usize,
    /// Servers in the ensemble.
    pub servers: usize,
    /// Voting servers among them (the rest are observers).
    pub voters: usize,
}

/// Judges the ensemble from every server's status. Only voters count for the quorum and the
/// followers the leader must have synced; observers must serve and be synced too, but an
/// observer down never costs the quorum.
pub fn judge(statuses: &[ZkServerStatus]) -> ZkHealth {
    let mut reasons = Vec::new();
    let serving: Vec<&ZkServerStatus> = statuses.iter().filter(|s| s.is_serving()).collect();
    let voters: Vec<&ZkServerStatus> = statuses.iter().filter(|s| s.is_voter()).collect();
    let observers = (statuses.len() - voters.len()) as u64;
    let standalone = voters.len() == 1 && voters[0].mode == "standalone";
    for s in statuses.iter().filter(|s| !s.is_serving()) {
        reasons.push(format!(
            "{}{} is {}{}",
            s.server,
            if s.is_voter() { "" } else { " (observer)" },
            s.mode,
            s.error
                .as_ref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ));
    }
    let serving_voters = voters.iter().filter(|s| s.is_serving()).count();
    let quorum = voters.len() / 2 + 1;
    if !standalone && serving_voters < quorum {
        reasons.push(format!(
            "only {serving_voters} of {} voting servers serve; a quorum needs {quorum}",
            voters.len()
        ));
    }
    let leaders: Vec<&&ZkServerStatus> = serving.iter().filter(|s| s.mode == "leader").collect();
    if !standalone && leaders.len() != 1 {
        reasons.push(format!("{} leaders (expected exactly one)", leaders.len()));
    }
    if let [leader] = leaders.as_slice() {
        let followers = serving.iter().filter(|s| s.mode == "follower").count() as u64;
        let expected = voters.len() as u64 - 1;
        match leader.synced_followers {
            Some(synced) if synced >= expected => {}
            Some(synced) => reasons.push(format!(
                "the leader {} reports {synced} synced followers of {expected} ({followers} following)",
                leader.server
            )),
            None => reasons.push(leader.error.clone().unwrap_or_else(|| {
                format!(
                    "the leader {} did not report zk_synced_followers",
                    leader.server
                )
            })),
        }
        if let Some(synced) = leader.synced_observers.filter(|&n| n < observers) {
            reasons.push(format!(
                "the leader {} reports {synced} synced observers of {observers}",
                leader.server
            ));
        }
    }
    // Followers report the last zxid they applied, which stays in the previous epoch until
    // the new leader's first write; only a server *ahead* of the leader's epoch is wrong.
    if let [leader] = leaders.as_slice() {
        if let Some(leader_epoch) = leader.epoch {
            for s in serving
                .iter()
                .filter(|s| s.epoch.is_some_and(|e| e > leader_epoch))
            {
                reasons.push(format!(
                    "{} is at epoch {} ahead of the leader's {leader_epoch}",
                    s.server,
                    s.epoch.unwrap_or_default()
                ));
            }
        }
    }
    ZkHealth {
        healthy: reasons.is_empty(),
        reasons,
        leader: leaders.first().map(|l| l.server.clone()),
        serving: serving.len(),
        servers: statuses.len(),
        voters: voters.len(),
    }
}

/// One `server.N=host:peer:election` line's worth of facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfgServer {
    /// myid.
    pub id: u32,
    /// Host.
    pub host: String,
    /// Quorum port.
    pub peer_port: u16,
    /// Election port.
    pub election_port: u16,
    /// Client port, when the servers differ.
    pub client_port: Option<u16>,
    /// participant or observer (`:observer` after the ports).
    pub role: Role,
}

/// Renders a static zoo.cfg: the base settings, then one `server.N=` line per server.
/// Refuses duplicate ids and duplicate host:port pairs.
pub fn render_zoo_cfg(servers: &[CfgServer], base: &BTreeMap<String, String>) -> Result<String> {
    if servers.is_empty() {
        return Err(Error::InvalidInput(
            "zoo.cfg needs at least one server".into(),
        ));
    }
    if servers.iter().all(|s| s.role == Role::Observer) {
        return Err(Error::InvalidInput(
            "zoo.cfg needs at least one voting server (all are observers)".into(),
        ));
    }
    let mut ids = HashSet::new();
    let mut endpoints = HashSet::new();
    for s in servers {
        if s.id == 0 || s.id > 255 {
            return Err(Error::InvalidInput(format!(
                "server id {} must be between 1 and 255",
                s.id
            )));
        }
        if !ids.insert(s.id) {
            return Err(Error::InvalidInput(format!(
                "server id {} appears twice",
                s.id
            )));
        }
        if s.peer_port == s.election_port {
            return Err(Error::InvalidInput(format!(
                "server {}: peer and election port are both {}",
                s.id, s.peer_port
            )));
        }
        for port in [s.peer_port, s.election_port] {
            if !endpoints.insert((s.host.clone(), port)) {
                return Err(Error::InvalidInput(format!(
                    "{}:{port} is used twice",
                    s.host
                )));
            }
        }
    }
    let mut out = String::new();
    let mut base = base.clone();
    base.entry("tickTime".into())
        .or_insert_with(|| "2000".into());
    base.entry("initLimit".into())
        .or_insert_with(|| "10".into());
    base.entry("syncLimit".into()).or_insert_with(|| "5".into());
    base.entry("4lw.commands.whitelist".into())
        .or_insert_with(|| "srvr,mntr,ruok".into());
    for (k, v) in &base {
        if k.starts_with("server.") {
            return Err(Error::InvalidInput(format!(
                "give servers as the first argument, not as {k:?} in base"
            )));
        }
        out.push_str(&format!("{k}={v}\n"));
    }
    let mut sorted = servers.to_vec();
    sorted.sort_by_key(|s| s.id);
    for s in sorted {
        let client = s.client_port.map(|p| format!(";{p}")).unwrap_or_default();
        let role = match s.role {
            Role::Participant => "",
            Role::Observer => ":observer",
        };
        out.push_str(&format!(
            "server.{}={}:{}:{}{role}{client}\n",
            s.id, s.host, s.peer_port, s.election_port
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(server: &str, mode: &str, synced: Option<u64>, epoch: u64) -> ZkServerStatus {
        let mut s: ZkServerStatus = serde_json::from_value(serde_json::json!({
            "server": server, "id": null, "mode": mode, "version": null, "zxid": null, "epoch": epoch,
            "latency_min": null, "latency_avg": null, "latency_max": null, "connections": null,
            "outstanding": null, "znode_count": null, "followers": null, "synced_followers": synced, "error": null
        }))
        .unwrap();
        if mode == "down" {
            s.epoch = None;
        }
        s
    }

    #[test]
    fn healthy_and_unhealthy_ensembles() {
        let ok = [
            st("a", "leader", Some(2), 3),
            st("b", "follower", None, 3),
            st("c", "follower", None, 3),
        ];
        assert!(judge(&ok).healthy, "{:?}", judge(&ok));
        let one_down = [
            st("a", "leader", Some(1), 3),
            st("b", "follower", None, 3),
            st("c", "down", None, 0),
        ];
        let h = judge(&one_down);
        assert!(!h.healthy);
        assert!(h.reasons.iter().any(|r| r.contains("c is down")));
        assert!(h
            .reasons
            .iter()
            .any(|r| r.contains("1 synced followers of 2")));
        let behind = [
            st("a", "leader", Some(2), 4),
            st("b", "follower", None, 3),
            st("c", "follower", None, 3),
        ];
        assert!(
            judge(&behind).healthy,
            "followers lag an epoch until the first write"
        );
        let ahead = [
            st("a", "leader", Some(2), 3),
            st("b", "follower", None, 4),
            st("c", "follower", None, 3),
        ];
        assert!(judge(&ahead).reasons.iter().any(|r| r.contains("ahead")));
        let no_quorum = [
            st("a", "not_serving", None, 0),
            st("b", "down", None, 0),
            st("c", "follower", None, 3),
        ];
        assert!(judge(&no_quorum)
            .reasons
            .iter()
            .any(|r| r.contains("quorum")));
    }

    #[test]
    fn observers_do_not_count_for_the_quorum() {
        let observer = |server: &str, mode: &str| {
            let mut s = st(server, mode, None, 3);
            s.role = Some(crate::zk::config::Role::Observer);
            s
        };
        let mut leader = st("a", "leader", Some(2), 3);
        leader.synced_observers = Some(2);
        let ok = [
            leader.clone(),
            st("b", "follower", None, 3),
            st("c", "follower", None, 3),
            observer("d", "observer"),
            observer("e", "observer"),
        ];
        assert!(judge(&ok).healthy, "{:?}", judge(&ok));
        // Two observers down: the three voters still have their quorum, but it is reported.
        let mut lonely = leader.clone();
        lonely.synced_observers = Some(0);
        let h = judge(&[
            lonely,
            st("b", "follower", None, 3),
            st("c", "follower", None, 3),
            observer("d", "down"),
            observer("e", "down"),
        ]);
        assert!(!h.reasons.iter().any(|r| r.contains("quorum")), "{h:?}");
        assert!(
            h.reasons.iter().any(|r| r.contains("d (observer) is down")),
            "{h:?}"
        );
        assert!(
            h.reasons
                .iter()
                .any(|r| r.contains("0 synced observers of 2")),
            "{h:?}"
        );
        // Two voters down of three: no quorum, whatever the observers do.
        let h = judge(&[
            st("a", "not_serving", None, 0),
            st("b", "down", None, 0),
            st("c", "follower", None, 3),
            observer("d", "observer"),
            observer("e", "observer"),
        ]);
        assert!(
            h.reasons
                .iter()
                .any(|r| r.contains("only 1 of 3 voting servers")),
            "{h:?}"
        );
    }

    #[test]
    fn renders_zoo_cfg_and_refuses_duplicates() {
        let s = |id, host: &str| CfgServer {
            id,
            host: host.into(),
            peer_port: 2888,
            election_port: 3888,
            client_port: None,
            role: Role::Participant,
        };
        let cfg = render_zoo_cfg(
            &[s(2, "zk2"), s(1, "zk1")],
            &BTreeMap::from([("dataDir".to_string(), "/data".to_string())]),
        )
        .unwrap();
        assert!(
            cfg.contains("server.1=zk1:2888:3888\nserver.2=zk2:2888:3888\n"),
            "{cfg}"
        );
        assert!(cfg.contains("dataDir=/data"));
        let mut observer = s(3, "zk3");
        observer.role = Role::Observer;
        observer.client_port = Some(2181);
        let cfg = render_zoo_cfg(&[s(1, "zk1"), observer.clone()], &BTreeMap::new()).unwrap();
        assert!(
            cfg.contains("server.3=zk3:2888:3888:observer;2181\n"),
            "{cfg}"
        );
        assert!(render_zoo_cfg(&[observer], &BTreeMap::new())
            .unwrap_err()
            .to_string()
            .contains("voting"));
        assert!(render_zoo_cfg(&[s(1, "a"), s(1, "b")], &BTreeMap::new())
            .unwrap_err()
            .to_string()
            .contains("twice"));
        assert!(render_zoo_cfg(&[s(1, "a"), s(2, "a")], &BTreeMap::new())
            .unwrap_err()
            .to_string()
            .contains("used twice"));
    }
}
