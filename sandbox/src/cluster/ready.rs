//! Waiting until nodes serve, with errors that name the node and quote its logs.

use std::collections::BTreeSet;
use std::thread;
use std::time::{Duration, Instant};

use super::Cluster;
use crate::error::{Error, Result};
use crate::node::Node;
use crate::probe;
use crate::process::{self, ProcState};

const POLL: Duration = Duration::from_millis(200);
pub(super) const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a node does not serve yet.
enum NotYet {
    /// It is not up itself.
    Starting,
    /// Broker `.0` (running) does not list it.
    NotListedBy(i32),
}

impl Cluster {
    /// Waits until every `(node, log offset)` serves (see [`Cluster::start_node`]; the log
    /// must say "started" after the offset). With `zk_leader`, when ZooKeeper servers are
    /// among them, also until one of the running servers is leader. A node that exits is an
    /// error at once; one that does not serve by `deadline` names itself and its logs.
    pub(super) fn wait_serving(
        &self,
        pending: &[(Node, u64)],
        zk_leader: bool,
        deadline: Instant,
    ) -> Result<()> {
        let need_leader = zk_leader && pending.iter().any(|(n, _)| !n.is_kafka());
        loop {
            let mut first_waiting = None;
            // Every node is looked at, so one that exits is noticed while another is slow.
            for &(node, offset) in pending {
                if let Some(why) = self.not_serving(node, offset)? {
                    first_waiting.get_or_insert((node, why));
                }
            }
            if first_waiting.is_none() && (!need_leader || self.zk_leader().is_some()) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let secs = self.timeout.as_secs();
                let (node, problem) = match first_waiting {
                    Some((node, NotYet::Starting)) => {
                        (node, format!("is not serving after {secs}s"))
                    }
                    Some((node, NotYet::NotListedBy(at))) => (
                        Node::Broker(at),
                        format!("still does not list {node} after {secs}s"),
                    ),
                    None => (
                        pending[0].0, // need_leader: pending holds a ZooKeeper server
                        format!("is serving but the ensemble has no leader after {secs}s"),
                    ),
                };
                return Err(self.node_error(node, problem, true));
            }
            thread::sleep(POLL);
        }
    }

    /// `None` when `node` serves; an error when it is not running at all.
    fn not_serving(&self, node: Node, offset: u64) -> Result<Option<NotYet>> {
        let st = &self.state;
        let dir = self.node_dir(node);
        let ps = self.proc_state(node, st.pid(node)?);
        if ps == ProcState::Gone {
            return Err(self.node_error(node, "exited while starting".into(), false));
        }
        let started = || {
            let log = process::read_from(&dir.join("server.log"), offset);
            log.contains("Kafka Server started")
                || log.contains("started (kafka.server.KafkaServer)")
        };
        let serves = match node {
            Node::Zk(id) => probe::zk_four_letter(st.zk(id)?.client_port, "srvr", PROBE_TIMEOUT)
                .ok()
                .and_then(|s| probe::zk_mode_of(&s))
                .is_some(),
            Node::Controller(id) => started() && probe::port_open(st.controller(id)?.port),
            Node::Broker(id) => {
                started()
                    && ps != ProcState::Paused
                    && probe::kafka_metadata(st.broker(id)?.port, PROBE_TIMEOUT)
                        .is_ok_and(|m| m.brokers.iter().any(|x| x.id == id))
            }
        };
        if !serves {
            return Ok(Some(NotYet::Starting));
        }
        if let Node::Broker(id) = node {
            for b in self.brokers().iter().filter(|b| b.running && !b.paused) {
                let seen: BTreeSet<i32> = probe::kafka_metadata(b.port, PROBE_TIMEOUT)
                    .map(|m| m.brokers.iter().map(|x| x.id).collect())
                    .unwrap_or_default();
                if !seen.contains(&id) {
                    return Ok(Some(NotYet::NotListedBy(b.id)));
                }
            }
        }
        Ok(None)
    }

    /// ZooKeeper mode: a broker that was killed keeps its `/brokers/ids/<id>` registration until
    /// its session expires, and a new broker with that id fails to start meanwhile. Waits (at
    /// most a session timeout) until no server's `dump` lists it.
    pub(super) fn wait_unregistered(&self, id: i32, deadline: Instant) {
        let path = format!(
            "{}/brokers/ids/{id}",
            self.state.chroot.as_deref().unwrap_or("")
        );
        let until = deadline.min(Instant::now() + Duration::from_millis(self.session_ms() + 5_000));
        loop {
            let registered = self.state.zk.iter().any(|z| {
                probe::zk_four_letter(z.client_port, "dump", PROBE_TIMEOUT)
                    .map(|d| d.lines().any(|l| l.trim() == path))
                    .unwrap_or(false)
            });
            if !registered || Instant::now() >= until {
                return;
            }
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// The error of `node` that did not come up, with the last lines of its logs.
    pub(super) fn node_error(&self, node: Node, problem: String, timed_out: bool) -> Error {
        let dir = self.node_dir(node);
        Error::Node {
            node,
            problem,
            timed_out,
            server_log: process::tail(&dir.join("server.log"), 15),
            stdout_log: process::tail(&dir.join("stdout.log"), 10),
            dir,
        }
    }
}
