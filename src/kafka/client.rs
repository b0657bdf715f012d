//! The Kafka admin client: bootstraps from the configured servers, keeps one connection per
//! broker address, and routes requests to any broker, a specific broker, or the controller.
//!
//! No single broker holds up a call that others can answer. Connections to the bootstrap
//! servers are raced in the style of happy eyeballs: the next address is tried when one has
//! not connected within [`STAGGER`] (or has failed), and the first to connect wins. Reads that
//! any broker can answer (Metadata, topic configs, DescribeCluster, DescribeQuorum) are sent
//! the same way, and also to the next broker when the first has not answered within the
//! ApiVersions limit; the first answer wins. Requests that need one broker (a leader, a
//! coordinator, a broker's own configs or log dirs) fail naming that broker, and a read
//! there fails as soon as the broker is found not to answer at all (see `conn.rs`).
//!
//! With bootstrap controllers (`--bootstrap-controller`, KIP-919) the client also talks to
//! the KRaft controllers directly: reads any controller answers are raced over them the same
//! way, and requests for the quorum go to the active controller, which DescribeCluster
//! (endpoint type "controllers") names.

use super::conn::{human, is_read, BrokerConnection, ConnConfig, Health, Node, Waiting};
use super::security::Security;
use crate::config::{NodeTimeouts, Settings};
use crate::error::{Error, Result};
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    DescribeClusterRequest, DescribeClusterResponse, MetadataRequest, MetadataResponse, TopicName,
};
use kafka_protocol::protocol::{Request, StrBytes};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// A shared handle to one broker connection.
pub type Conn = Arc<Mutex<BrokerConnection>>;

/// How long one bootstrap address may take to connect before the next one is tried too
/// (RFC 8305's connection attempt delay).
pub const STAGGER: Duration = Duration::from_millis(250);

/// Which kind of node a request any of them can answer goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Brokers,
    Controllers,
}

/// Admin client over the Kafka protocol.
pub struct KafkaClient {
    bootstrap: Vec<String>,
    /// KRaft controllers named by `--bootstrap-controller` (may be empty).
    controllers: Vec<String>,
    /// The controller address that answered last.
    controller_preferred: std::sync::Mutex<Option<String>>,
    /// Controller id → `host:port`, from the last DescribeCluster of the controllers.
    controller_addresses: std::sync::Mutex<HashMap<i32, String>>,
    /// What every connection shares: client id, security, limits, the waiting register.
    config: Arc<ConnConfig>,
    /// Connections by `host:port`.
    pool: std::sync::Mutex<HashMap<String, Conn>>,
    /// The address that answered the last request any broker could answer.
    preferred: std::sync::Mutex<Option<String>>,
    /// Broker id → `host:port`, from the last metadata answer.
    addresses: std::sync::Mutex<HashMap<i32, String>>,
    /// Addresses that failed in this session, with when and why: tried last; a hung one is
    /// not waited for again for one call timeout (unless a health check finds it up).
    troubled: std::sync::Mutex<HashMap<String, (Instant, Error)>>,
    /// What the current call could not get (partial results), for the caller to report.
    notes: std::sync::Mutex<Vec<String>>,
}

/// When an attempt of a race connected (so the next one waits for its answer longer).
type Ready = Arc<OnceLock<Instant>>;

impl KafkaClient {
    /// A client for the settings' bootstrap servers. Connects lazily.
    pub fn new(settings: &Settings) -> Result<Self> {
        if settings.bootstrap_servers.is_empty() && settings.bootstrap_controllers.is_empty() {
            return Err(Error::Config(
                "no Kafka bootstrap servers configured".into(),
            ));
        }
        let security = Arc::new(Security::from_properties(&settings.properties)?);
        let client_id = settings
            .properties
            .get("client.id")
            .cloned()
            .unwrap_or_else(|| "kafsh".to_string());
        Ok(KafkaClient {
            bootstrap: settings.bootstrap_servers.clone(),
            controllers: settings.bootstrap_controllers.clone(),
            controller_preferred: std::sync::Mutex::new(None),
            controller_addresses: std::sync::Mutex::new(HashMap::new()),
            config: Arc::new(ConnConfig {
                client_id,
                security,
                limits: settings.node_timeouts,
                request_timeout: settings.call_timeout,
                waiting: Arc::new(Waiting::default()),
            }),
            pool: std::sync::Mutex::new(HashMap::new()),
            preferred: std::sync::Mutex::new(None),
            addresses: std::sync::Mutex::new(HashMap::new()),
            troubled: std::sync::Mutex::new(HashMap::new()),
            notes: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// How every connection is secured (the data path takes its token source from here).
    pub fn security(&self) -> &Security {
        &self.config.security
    }

    /// Whether bootstrap controllers were named: quorum requests then go to the controllers
    /// directly.
    pub fn via_controllers(&self) -> bool {
        !self.controllers.is_empty()
    }

    /// Whether bootstrap brokers were named (not, when only `--bootstrap-controller` was).
    pub fn has_brokers(&self) -> bool {
        !self.bootstrap.is_empty()
    }

    /// The time limit of one call.
    pub fn timeout(&self) -> Duration {
        self.config.request_timeout
    }

    /// The connection and first-answer limits.
    pub fn limits(&self) -> NodeTimeouts {
        self.config.limits
    }

    /// What the client is waiting for right now, longest first ("broker 3 at h:p to answer
    /// ListOffsets (for 4.8s)"), for the message of a call that ran out of time.
    pub fn waiting(&self) -> Option<String> {
        self.config.waiting.describe()
    }

    /// Records what a call could not get while returning the rest (a partial result).
    pub fn note(&self, text: String) {
        if let Ok(mut notes) = self.notes.lock() {
            if !notes.contains(&text) {
                notes.push(text);
            }
        }
    }

    /// The notes recorded since the last call of this, oldest first.
    pub fn take_notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default()
    }

    /// Broker `id` as messages name it (with its address when known).
    pub fn node(&self, id: i32) -> Node {
        let address = self
            .addresses
            .lock()
            .ok()
            .and_then(|a| a.get(&id).cloned())
            .unwrap_or_else(|| "an unknown address".into());
        Node::new(&address, Some(id))
    }

    fn node_at(&self, address: &str, side: Side) -> Node {
        let known = match side {
            Side::Brokers => &self.addresses,
            Side::Controllers => &self.controller_addresses,
        };
        let id = known.lock().ok().and_then(|a| {
            a.iter()
                .find(|(_, addr)| addr.as_str() == address)
                .map(|(id, _)| *id)
        });
        match side {
            Side::Brokers => Node::new(address, id),
            Side::Controllers => Node::controller(address, id),
        }
    }

    /// The address of broker `id`, from the metadata (refreshed when it is not known).
    async fn node_for(&self, id: i32) -> Result<Node> {
        let known = |s: &Self| s.addresses.lock().ok().and_then(|a| a.get(&id).cloned());
        let address = match known(self) {
            Some(a) => a,
            None => {
                self.metadata(Some(&[])).await?;
                known(self).ok_or_else(|| {
                    Error::NotFound(format!("broker {id} is not in the cluster metadata"))
                })?
            }
        };
        Ok(Node::new(&address, Some(id)))
    }

    fn pooled(&self, address: &str) -> Option<Conn> {
        let mut pool = self.pool.lock().ok()?;
        let conn = pool.get(address)?.clone();
        // A connection whose answer was abandoned is out of step: never use it again; one
        // whose SASL session the broker has ended is replaced by a new login.
        if conn
            .try_lock()
            .is_ok_and(|c| c.is_out_of_step() || c.is_session_over())
        {
            pool.remove(address);
            return None;
        }
        Some(conn)
    }

    fn discard(&self, address: &str, conn: &Conn) {
        if let Ok(mut pool) = self.pool.lock() {
            if pool.get(address).is_some_and(|c| Arc::ptr_eq(c, conn)) {
                pool.remove(address);
            }
        }
    }

    fn set_troubled(&self, address: &str, trouble: Option<&Error>) {
        if let Ok(mut t) = self.troubled.lock() {
            match trouble {
                Some(e) => {
                    t.insert(address.to_string(), (Instant::now(), e.clone()));
                }
                None => {
                    t.remove(address);
                }
            }
        }
    }

    /// The error of a broker found hung less than a call timeout ago: a session (a script,
    /// the REPL) waits for a hung broker once, not in every call.
    fn recently_hung(&self, address: &str) -> Option<Error> {
        let troubled = self.troubled.lock().ok()?;
        match troubled.get(address) {
            Some((at, e @ Error::Timeout(_))) if at.elapsed() < self.config.request_timeout => {
                let ago = human(at.elapsed());
                let hold = human(self.config.request_timeout);
                Some(
                    e.clone()
                        .map_message(|m| format!("{m} ({ago} ago; not retried within {hold})")),
                )
            }
            _ => None,
        }
    }

    /// The pooled connection to `node`, or a new one.
    async fn connection(&self, node: &Node) -> Result<Conn> {
        if let Some(conn) = self.pooled(&node.address) {
            return Ok(conn);
        }
        if let Some(e) = self.recently_hung(&node.address) {
            return Err(e);
        }
        match BrokerConnection::connect(node, &self.config).await {
            Ok(conn) => {
                let conn = Arc::new(Mutex::new(conn));
                if let Ok(mut pool) = self.pool.lock() {
                    pool.insert(node.address.clone(), conn.clone());
                }
                self.set_troubled(&node.address, None);
                Ok(conn)
            }
            Err(e) => {
                self.set_troubled(&node.address, Some(&e));
                Err(e)
            }
        }
    }

    /// Sends on `conn`; a connection that failed or was left out of step is discarded.
    async fn send_on<R: Request>(
        &self,
        conn: &Conn,
        request: &R,
        magnitude: Option<&str>,
    ) -> Result<R::Response> {
        let mut guard = conn.lock().await;
        let version = guard.version_of::<R>()?;
        let result = guard.send_noting(request, version, magnitude).await;
        if guard.is_out_of_step() || matches!(result, Err(Error::Cluster(_) | Error::Timeout(_))) {
            let address = guard.node().address.clone();
            drop(guard);
            self.discard(&address, conn);
            if let Err(e) = &result {
                self.set_troubled(&address, Some(e));
            }
        }
        result
    }

    /// Every address worth trying for a request any broker (or controller) can answer, in
    /// order: the one that answered last, the bootstrap servers as given, the nodes the
    /// metadata named; those that failed in this session last.
    fn candidates(&self, side: Side) -> Vec<Node> {
        let (preferred, bootstrap, addresses) = match side {
            Side::Brokers => (&self.preferred, &self.bootstrap, &self.addresses),
            Side::Controllers => (
                &self.controller_preferred,
                &self.controllers,
                &self.controller_addresses,
            ),
        };
        let mut all: Vec<String> = Vec::new();
        if let Some(p) = preferred.lock().ok().and_then(|p| p.clone()) {
            all.push(p);
        }
        for b in bootstrap {
            if !all.contains(b) {
                all.push(b.clone());
            }
        }
        let mut known: Vec<(i32, String)> = addresses
            .lock()
            .map(|a| a.iter().map(|(id, a)| (*id, a.clone())).collect())
            .unwrap_or_default();
        known.sort();
        for (_, a) in known {
            if !all.contains(&a) {
                all.push(a);
            }
        }
        let troubled: HashSet<String> = self
            .troubled
            .lock()
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        let (good, bad): (Vec<String>, Vec<String>) =
            all.into_iter().partition(|a| !troubled.contains(a));
        good.into_iter()
            .chain(bad)
            .map(|a| self.node_at(&a, side))
            .collect()
    }

    /// Runs `attempt` on the candidates, staggered: the next one starts when the newest has
    /// failed, has not connected within [`STAGGER`], or has connected but not answered
    /// within the ApiVersions limit. The first success wins; the others are dropped. `what`
    /// (" Metadata", or "" for a connection) names the request in the error.
    async fn race<T, F, Fut>(&self, what: &str, attempt: F) -> Result<(Node, T)>
    where
        F: Fn(Node, Ready) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        self.race_on(Side::Brokers, what, attempt).await
    }

    /// [`Self::race`] over the brokers or the bootstrap controllers.
    async fn race_on<T, F, Fut>(&self, side: Side, what: &str, attempt: F) -> Result<(Node, T)>
    where
        F: Fn(Node, Ready) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let candidates = self.candidates(side);
        if candidates.is_empty() {
            return Err(match side {
                Side::Brokers => Error::Config(format!(
                    "no Kafka bootstrap servers: the controllers named by --bootstrap-controller do not serve{}; give --bootstrap-server (or the context's bootstrap_servers) too",
                    if what.is_empty() { " broker requests".to_string() } else { what.to_string() }
                )),
                Side::Controllers => Error::Config(
                    "no KRaft controllers: give --bootstrap-controller (or the context's bootstrap_controllers)".into(),
                ),
            });
        }
        let hedge = self.config.limits.api_versions;
        let mut running = FuturesUnordered::new();
        let mut failures: Vec<Error> = Vec::new();
        let mut next = 0usize;
        let mut newest: Option<Ready> = None;
        let mut all_ready: Vec<Ready> = Vec::new();
        let mut next_at = Instant::now();
        loop {
            if let Some(at) = newest.as_ref().and_then(|r| r.get().copied()) {
                next_at = next_at.max(at + hedge);
            }
            if next < candidates.len() && (running.is_empty() || Instant::now() >= next_at) {
                let node: Node = candidates[next].clone();
                let index = next;
                next += 1;
                let ready: Ready = Arc::default();
                newest = Some(ready.clone());
                all_ready.push(ready.clone());
                running.push(attempt(node.clone(), ready).map(move |r| (index, node, r)));
                next_at = Instant::now() + STAGGER;
                continue;
            }
            if running.is_empty() {
                break;
            }
            let more = next < candidates.len();
            tokio::select! {
                Some((index, node, result)) = running.next() => match result {
                    Ok(value) => {
                        let preferred = match side {
                            Side::Brokers => &self.preferred,
                            Side::Controllers => &self.controller_preferred,
                        };
                        if let Ok(mut p) = preferred.lock() {
                            *p = Some(node.address.clone());
                        }
                        return Ok((node, value));
                    }
                    // Credentials or certificates one broker rejects, every broker rejects.
                    Err(e @ Error::Config(_)) => return Err(e),
                    Err(e) => {
                        failures.push(e);
                        if index + 1 == next {
                            newest = None;
                            next_at = Instant::now();
                        }
                    }
                },
                _ = tokio::time::sleep_until(next_at.into()), if more => {}
            }
        }
        // Brokers that accept connections but never answer (frozen, overloaded) are a
        // timeout, not an unreachable cluster.
        let all_timed_out =
            !failures.is_empty() && failures.iter().all(|e| matches!(e, Error::Timeout(_)));
        let failures = failures
            .iter()
            .map(Error::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        let reached = all_ready.iter().any(|r| r.get().is_some());
        let (bootstrap, nodes, node) = match side {
            Side::Brokers => (self.bootstrap.join(","), "Kafka brokers", "Kafka broker"),
            Side::Controllers => (
                self.controllers.join(","),
                "KRaft controllers",
                "KRaft controller",
            ),
        };
        let message = if all_timed_out {
            format!("the {nodes} at {bootstrap} did not answer{what} in time ({failures})")
        } else if reached {
            format!("no {node} answered{what} ({failures})")
        } else {
            format!("no {node} reachable at {bootstrap} ({failures})")
        };
        Err(if all_timed_out {
            Error::Timeout(message)
        } else {
            Error::Cluster(message)
        })
    }

    /// A connection to any live broker: the one that answered last, else the first of the
    /// bootstrap servers (raced) to connect.
    pub async fn any(&self) -> Result<Conn> {
        if let Some(conn) = self
            .preferred
            .lock()
            .ok()
            .and_then(|p| p.clone())
            .and_then(|p| self.pooled(&p))
        {
            return Ok(conn);
        }
        let (_, conn) = self
            .race(
                "",
                |node, _ready| async move { self.connection(&node).await },
            )
            .await?;
        Ok(conn)
    }

    /// A connection to broker `id`.
    pub async fn broker(&self, id: i32) -> Result<Conn> {
        let node = self.node_for(id).await?;
        self.connection(&node).await
    }

    /// Sends a request any broker can answer. Reads go to the brokers in turn, staggered,
    /// the first answer winning; anything else is sent once, to one broker.
    pub async fn send_any<R: Request>(&self, request: &R) -> Result<R::Response> {
        if !is_read(R::KEY) {
            let conn = self.any().await?;
            return self.send_on(&conn, request, None).await;
        }
        let what = format!(" {}", super::conn::api_name(R::KEY));
        let (_, response) = self
            .race(&what, |node, ready| async move {
                let conn = self.connection(&node).await?;
                let _ = ready.set(Instant::now());
                self.send_on(&conn, request, None).await
            })
            .await?;
        Ok(response)
    }

    /// A connection to any bootstrap controller (raced like [`Self::any`]).
    pub async fn any_controller(&self) -> Result<Conn> {
        if let Some(conn) = self
            .controller_preferred
            .lock()
            .ok()
            .and_then(|p| p.clone())
            .and_then(|p| self.pooled(&p))
        {
            return Ok(conn);
        }
        let (_, conn) = self
            .race_on(Side::Controllers, "", |node, _ready| async move {
                self.connection(&node).await
            })
            .await?;
        Ok(conn)
    }

    /// Sends a read any controller can answer (DescribeCluster, ApiVersions) to the
    /// bootstrap controllers, staggered; the first answer wins.
    pub async fn send_any_controller<R: Request>(&self, request: &R) -> Result<R::Response> {
        let what = format!(" {}", super::conn::api_name(R::KEY));
        let (_, response) = self
            .race_on(Side::Controllers, &what, |node, ready| async move {
                let conn = self.connection(&node).await?;
                let _ = ready.set(Instant::now());
                self.send_on(&conn, request, None).await
            })
            .await?;
        Ok(response)
    }

    /// The KRaft controllers as they describe themselves (DescribeCluster with endpoint type
    /// "controllers", KIP-919): the cluster id, the active controller (the quorum leader;
    /// -1 during an election) and every controller's address on the listener asked.
    pub async fn describe_controllers(&self) -> Result<DescribeClusterResponse> {
        let request = DescribeClusterRequest::default().with_endpoint_type(2);
        let response = self.send_any_controller(&request).await?;
        check_code(
            response.error_code,
            response.error_message.as_ref(),
            "DescribeCluster of the controllers",
        )?;
        if let Ok(mut addresses) = self.controller_addresses.lock() {
            for c in &response.brokers {
                addresses.insert(c.broker_id.0, format!("{}:{}", c.host.as_str(), c.port));
            }
        }
        Ok(response)
    }

    /// The active controller, as the bootstrap controllers name it.
    pub async fn active_controller(&self) -> Result<Node> {
        let response = self.describe_controllers().await?;
        let id = response.controller_id.0;
        if id < 0 {
            return Err(Error::Cluster(
                "the controller quorum has no leader (an election is under way)".into(),
            ));
        }
        let address = response
            .brokers
            .iter()
            .find(|c| c.broker_id.0 == id)
            .map(|c| format!("{}:{}", c.host.as_str(), c.port))
            .ok_or_else(|| {
                Error::Cluster(format!(
                    "the controllers name {id} as the active controller but not its address"
                ))
            })?;
        Ok(Node::controller(&address, Some(id)))
    }

    /// Sends to the active controller directly (bootstrap controllers needed).
    pub async fn send_to_active_controller<R: Request>(&self, request: &R) -> Result<R::Response> {
        let node = self.active_controller().await?;
        let conn = self.connection(&node).await?;
        self.send_on(&conn, request, None).await
    }

    /// Sends a request for the controller quorum: to the active controller directly when
    /// bootstrap controllers are named, else to a broker, which forwards it (reads raced
    /// over the brokers).
    pub async fn send_to_quorum<R: Request>(&self, request: &R) -> Result<R::Response> {
        if self.via_controllers() {
            return self.send_to_active_controller(request).await;
        }
        self.send_any(request).await
    }

    /// Sends to `node` (a broker or a controller, by address); errors name it.
    pub async fn send_to_node<R: Request>(&self, node: &Node, request: &R) -> Result<R::Response> {
        let conn = self.connection(node).await?;
        self.send_on(&conn, request, None).await
    }

    /// Sends to broker `id`; errors name it.
    pub async fn send_to<R: Request>(&self, id: i32, request: &R) -> Result<R::Response> {
        self.send_to_noting(id, request, None).await
    }

    /// Sends to broker `id`, saying what the request asks for when it is large (see
    /// [`BrokerConnection::send_noting`]).
    pub async fn send_to_noting<R: Request>(
        &self,
        id: i32,
        request: &R,
        magnitude: Option<&str>,
    ) -> Result<R::Response> {
        let node = self.node_for(id).await?;
        let pooled = self.pooled(&node.address).is_some();
        let conn = self.connection(&node).await?;
        match self.send_on(&conn, request, magnitude).await {
            // A pooled connection the broker closed while it was idle: a read is safe to
            // send again on a new one.
            Err(Error::Cluster(m))
                if pooled && is_read(R::KEY) && m.contains("closed the connection") =>
            {
                let conn = self.connection(&node).await?;
                self.send_on(&conn, request, magnitude).await
            }
            other => other,
        }
    }

    /// Sends to the active controller (ZooKeeper mode needs it for topic changes; KRaft
    /// brokers forward, and answer with a random broker id as "controller"). When the
    /// controller cannot be connected to, any broker gets it (it forwards or says
    /// NOT_CONTROLLER); a change the controller received but did not answer is not sent again.
    pub async fn send_to_controller<R: Request>(&self, request: &R) -> Result<R::Response> {
        self.send_to_controller_noting(request, None).await
    }

    /// Sends to broker `id`, giving up after `limit` (shorter than the call's time limit, so
    /// a call that asks many brokers survives one that does not answer). A connection
    /// abandoned mid-request is out of step and discarded, never reused.
    pub async fn send_to_within<R: Request>(
        &self,
        id: i32,
        request: &R,
        limit: Duration,
    ) -> Result<R::Response> {
        match tokio::time::timeout(limit, self.send_to(id, request)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout(format!(
                "broker {id} did not answer {} within {}",
                super::conn::api_name(R::KEY),
                human(limit)
            ))),
        }
    }

    /// [`Self::send_to_controller`] saying what the request asks for when it is large.
    pub async fn send_to_controller_noting<R: Request>(
        &self,
        request: &R,
        magnitude: Option<&str>,
    ) -> Result<R::Response> {
        let meta = self.metadata(Some(&[])).await?;
        let controller = meta.controller_id.0;
        if controller >= 0 {
            let node = self.node_for(controller).await?;
            match self.connection(&node).await {
                Ok(conn) => match self.send_on(&conn, request, magnitude).await {
                    Err(Error::Cluster(_) | Error::Timeout(_)) if is_read(R::KEY) => {}
                    other => return other,
                },
                // A hung ZooKeeper-mode controller stays the controller (its session lives
                // on), and other brokers would only answer NOT_CONTROLLER: say who it is.
                // KRaft brokers forward to the quorum, so another broker takes the change.
                Err(e @ Error::Timeout(_))
                    if !is_read(R::KEY) && !super::brokers::is_kraft(self).await? =>
                {
                    return Err(e.map_message(|m| format!("the controller, {m}")));
                }
                Err(Error::Cluster(_) | Error::Timeout(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if is_read(R::KEY) {
            return self.send_any(request).await;
        }
        let conn = self.any().await?;
        self.send_on(&conn, request, magnitude).await
    }

    /// Whether the active controller (any broker when there is none, or when it does not
    /// answer) supports the API of `R`, to choose between a modern API and an older
    /// cluster's way.
    pub async fn controller_supports<R: Request>(&self) -> Result<bool> {
        let meta = self.metadata(Some(&[])).await?;
        let controller = meta.controller_id.0;
        let conn = match controller {
            c if c >= 0 => match self.broker(c).await {
                Ok(conn) => conn,
                Err(Error::Cluster(_) | Error::Timeout(_)) => self.any().await?,
                Err(e) => return Err(e),
            },
            _ => self.any().await?,
        };
        let supported = conn.lock().await.supports::<R>();
        Ok(supported)
    }

    /// The version of `R` the active controller's connection negotiated (an error naming
    /// the API when it has none).
    pub async fn controller_version_of<R: Request>(&self) -> Result<i16> {
        let meta = self.metadata(Some(&[])).await?;
        let conn = match meta.controller_id.0 {
            c if c >= 0 => match self.broker(c).await {
                Ok(conn) => conn,
                Err(Error::Cluster(_) | Error::Timeout(_)) => self.any().await?,
                Err(e) => return Err(e),
            },
            _ => self.any().await?,
        };
        let version = conn.lock().await.version_of::<R>();
        version
    }

    /// Cluster metadata. `topics`: `None` = all topics, `Some(&[])` = brokers only.
    pub async fn metadata(&self, topics: Option<&[String]>) -> Result<MetadataResponse> {
        let request = MetadataRequest::default()
            .with_topics(topics.map(|names| {
                names
                    .iter()
                    .map(|n| {
                        MetadataRequestTopic::default()
                            .with_name(Some(TopicName(StrBytes::from_string(n.clone()))))
                    })
                    .collect()
            }))
            .with_allow_auto_topic_creation(false);
        let response = self.send_any(&request).await?;
        if let Ok(mut addresses) = self.addresses.lock() {
            for b in &response.brokers {
                addresses.insert(b.node_id.0, format!("{}:{}", b.host.as_str(), b.port));
            }
        }
        Ok(response)
    }

    /// Checks each broker on a new connection (TCP, TLS, ApiVersions), all at once: up (with
    /// the time ApiVersions took), hung (connected, no answer within the ApiVersions
    /// limit) or down (refused, or no connection within the connect limit). A broker found
    /// hung is avoided for a call timeout, one found up no longer.
    pub async fn probe(&self, brokers: &[(i32, String)]) -> Vec<Health> {
        let nodes: Vec<Node> = brokers
            .iter()
            .map(|(id, address)| Node::new(address, Some(*id)))
            .collect();
        self.probe_nodes(&nodes).await
    }

    /// [`Self::probe`] of any nodes (brokers or controllers).
    pub async fn probe_nodes(&self, nodes: &[Node]) -> Vec<Health> {
        futures::future::join_all(nodes.iter().map(|node| {
            let address = &node.address;
            async move {
                let health = BrokerConnection::probe(node, &self.config).await;
                match &health {
                    Health::Up(_) => self.set_troubled(address, None),
                    Health::Hung(why) => {
                        self.set_troubled(address, Some(&Error::Timeout(why.clone())))
                    }
                    Health::Down(_) => {}
                }
                health
            }
        }))
        .await
    }

    /// Runs one future per item concurrently (one request per broker, never per partition).
    pub async fn join_all<T, F>(futures: Vec<F>) -> Vec<T>
    where
        F: std::future::Future<Output = T>,
    {
        futures::future::join_all(futures).await
    }
}

/// Turns a Kafka error code into a domain error naming `what`, or `Ok` for code 0.
pub fn check_code(code: i16, message: Option<&StrBytes>, what: &str) -> Result<()> {
    let Some(err) = kafka_protocol::error::ParseResponseErrorCode::err(code) else {
        return Ok(());
    };
    let detail = message
        .map(|m| m.as_str().to_string())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| err.to_string());
    let name = error_name(err);
    let text = format!("{what}: {name}: {detail}");
    Err(match err {
        ResponseError::UnknownTopicOrPartition
        | ResponseError::UnknownTopicId
        | ResponseError::GroupIdNotFound => Error::NotFound(text),
        ResponseError::RequestTimedOut => Error::Timeout(text),
        ResponseError::InvalidTopicException
        | ResponseError::InvalidPartitions
        | ResponseError::InvalidReplicationFactor
        | ResponseError::InvalidReplicaAssignment
        | ResponseError::InvalidConfig
        | ResponseError::InvalidRequest
        | ResponseError::TopicAlreadyExists
        | ResponseError::PolicyViolation => Error::InvalidInput(text),
        _ => Error::Cluster(text),
    })
}

/// Kafka's upper-snake error name ("UNKNOWN_TOPIC_OR_PARTITION").
pub fn error_name(err: ResponseError) -> String {
    let debug = format!("{err:?}");
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out.trim_end_matches("_EXCEPTION").to_string()
}

/// Describes a timeout for messages.
pub fn describe_timeout(d: Duration) -> String {
    human(d)
}
