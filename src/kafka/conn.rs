//! One connection to one broker: TCP or TLS, API version negotiation (ApiVersions), SASL
//! authentication, Kafka's size-prefixed framing and request headers, and typed
//! request/response exchange through the `kafka-protocol` crate's generated messages.
//!
//! Every stage has its own limit ([`NodeTimeouts`]): a broker that refuses connections is
//! *down*, one that accepts them but does not answer ApiVersions in time is *hung*. A read
//! that waits longer than the ApiVersions limit makes the connection check the broker on a
//! second connection; a broker that does not answer there either is named as not answering
//! at once instead of when the whole call times out. Every wait is registered in
//! [`Waiting`], so a call that times out can say which broker it was waiting for.

use super::security::{SaslCredentials, Security};
use crate::config::NodeTimeouts;
use crate::error::{Error, Result};
use bytes::{Buf, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, RequestHeader, ResponseHeader, SaslAuthenticateRequest,
    SaslHandshakeRequest,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A byte stream to a broker: plain TCP or TLS over it.
trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

/// Largest response accepted (guards against talking to something that is not Kafka).
const MAX_RESPONSE_BYTES: usize = 512 * 1024 * 1024;

/// A request at least this large may itself be why a broker went away while answering it.
const LARGE_REQUEST_BYTES: usize = 1024 * 1024;

/// What every connection of one client shares: who it is, how it secures connections, its
/// limits, and the register of answers it is waiting for.
#[derive(Debug)]
pub struct ConnConfig {
    /// `client.id`.
    pub client_id: String,
    /// TLS and SASL settings (no connection goes without them).
    pub security: Arc<Security>,
    /// Connection and first-answer limits.
    pub limits: NodeTimeouts,
    /// Limit of one request's answer (the call timeout).
    pub request_timeout: Duration,
    /// What is being waited for right now.
    pub waiting: Arc<Waiting>,
}

/// A broker as messages name it: "broker 3 at 10.0.0.3:9092", or "broker at 10.0.0.3:9092"
/// for a bootstrap address whose id is not known yet; a KRaft controller reached directly
/// (`--bootstrap-controller`) is "controller 101 at ...".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Node {
    /// Broker (or controller) id, when known.
    pub id: Option<i32>,
    /// `host:port`.
    pub address: String,
    /// A KRaft controller's controller listener rather than a broker.
    pub controller: bool,
}

impl Node {
    /// A broker at `address` with an optional id.
    pub fn new(address: &str, id: Option<i32>) -> Node {
        Node {
            id,
            address: address.to_string(),
            controller: false,
        }
    }

    /// A KRaft controller's controller listener at `address`.
    pub fn controller(address: &str, id: Option<i32>) -> Node {
        Node {
            controller: true,
            ..Node::new(address, id)
        }
    }

    /// "broker" or "controller".
    pub fn noun(&self) -> &'static str {
        if self.controller {
            "controller"
        } else {
            "broker"
        }
    }
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.id {
            Some(id) => write!(f, "{} {id} at {}", self.noun(), self.address),
            None => write!(f, "{} at {}", self.noun(), self.address),
        }
    }
}

/// How a broker answered a health probe (a new connection and ApiVersions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// It answered ApiVersions after this long.
    Up(Duration),
    /// It accepted the connection (or the TLS handshake hung) but did not answer in time.
    Hung(String),
    /// It refused the connection, closed it, or was not reachable within the limit.
    Down(String),
}

/// The register of answers being waited for: what, from whom, since when. When a call
/// runs out of time, this says which broker held it up.
#[derive(Debug, Default)]
pub struct Waiting {
    next: AtomicU64,
    open: std::sync::Mutex<BTreeMap<u64, (String, Instant)>>,
}

impl Waiting {
    /// Registers a wait ("broker 3 at h:p to answer Metadata") until the guard is dropped.
    pub fn enter(self: &Arc<Self>, what: String) -> WaitGuard {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut open) = self.open.lock() {
            open.insert(id, (what, Instant::now()));
        }
        WaitGuard {
            waiting: self.clone(),
            id,
        }
    }

    /// The longest waits now, longest first: "broker 3 at h:p to answer ListOffsets
    /// (for 4.8s)"; `None` when nothing is waited for.
    pub fn describe(&self) -> Option<String> {
        let open = self.open.lock().ok()?;
        let mut all: Vec<(&String, Duration)> = open
            .values()
            .map(|(w, since)| (w, since.elapsed()))
            .collect();
        if all.is_empty() {
            return None;
        }
        all.sort_by_key(|w| std::cmp::Reverse(w.1));
        let longest = all[0].1;
        // Only the waits that held the call up, not a hedge started a moment ago.
        let shown: Vec<String> = all
            .iter()
            .filter(|(_, d)| *d * 2 >= longest)
            .take(3)
            .map(|(w, d)| format!("{w} (for {})", human(*d)))
            .collect();
        Some(shown.join("; "))
    }
}

/// One registered wait; dropping it ends the wait.
pub struct WaitGuard {
    waiting: Arc<Waiting>,
    id: u64,
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        if let Ok(mut open) = self.waiting.open.lock() {
            open.remove(&self.id);
        }
    }
}

/// Whether an API only reads: such a request may be abandoned for a hung broker and sent
/// to another one; anything else is waited for until the call's limit.
pub fn is_read(key: i16) -> bool {
    use ApiKey::*;
    matches!(
        ApiKey::try_from(key),
        Ok(Metadata
            | ListOffsets
            | OffsetFetch
            | FindCoordinator
            | DescribeGroups
            | ListGroups
            | ApiVersions
            | DescribeAcls
            | DescribeConfigs
            | DescribeLogDirs
            | DescribeDelegationToken
            | ListPartitionReassignments
            | DescribeClientQuotas
            | DescribeUserScramCredentials
            | DescribeQuorum)
    ) || matches!(key, 60 | 61 | 65 | 66 | 69) // DescribeCluster, DescribeProducers,
                                               // DescribeTransactions, ListTransactions,
                                               // ConsumerGroupDescribe
}

/// Where opening a connection failed.
enum OpenError {
    /// Refused, reset, closed, or no TCP connection within the limit (unreachable).
    Down(Error),
    /// Connected, but no answer in time (TLS handshake, ApiVersions, SASL).
    Hung(Error),
    /// Anything else (credentials, certificates, a listener that is not Kafka).
    Other(Error),
}

impl OpenError {
    fn into_error(self) -> Error {
        match self {
            OpenError::Down(e) | OpenError::Hung(e) | OpenError::Other(e) => e,
        }
    }
}

/// An open, version-negotiated connection to one broker.
pub struct BrokerConnection {
    stream: Box<dyn Transport>,
    node: Node,
    correlation_id: i32,
    client_id: StrBytes,
    /// API key → (min, max) version the broker supports.
    supported: HashMap<i16, (i16, i16)>,
    config: Arc<ConnConfig>,
    /// A request was written whose answer was not read (the wait was abandoned): the
    /// stream is out of step and the connection must not be used again.
    out_of_step: bool,
    /// When the broker ends this connection's SASL session (KIP-368's session lifetime,
    /// e.g. an OAUTHBEARER token's expiry): kafsh does not re-authenticate, so the
    /// connection is not used past it.
    session_ends: Option<std::time::Instant>,
    /// Size of the last request sent, for messages about large requests.
    request_bytes: usize,
}

impl BrokerConnection {
    /// Connects to `node`, with TLS and SASL as the config says, and negotiates API
    /// versions: TCP and TLS within the connect limit, each answer within the ApiVersions
    /// limit. A broker that refuses is down (a cluster error); one that accepts but does not
    /// answer is hung (a timeout); both name the broker.
    pub async fn connect(node: &Node, config: &Arc<ConnConfig>) -> Result<Self> {
        Self::open(node, config, true)
            .await
            .map_err(OpenError::into_error)
    }

    /// Checks `node` on a new connection: TCP, TLS, ApiVersions (no SASL, which ApiVersions
    /// does not need); the connection is closed afterwards.
    pub async fn probe(node: &Node, config: &Arc<ConnConfig>) -> Health {
        let started = Instant::now();
        match Self::open(node, config, false).await {
            Ok(_) => Health::Up(started.elapsed()),
            Err(OpenError::Hung(e)) => Health::Hung(e.to_string()),
            Err(OpenError::Down(e)) | Err(OpenError::Other(e)) => Health::Down(e.to_string()),
        }
    }

    async fn open(
        node: &Node,
        config: &Arc<ConnConfig>,
        authenticate: bool,
    ) -> std::result::Result<Self, OpenError> {
        let address = node.address.as_str();
        let security = &config.security;
        let limits = config.limits;
        let tcp = {
            let _wait = config
                .waiting
                .enter(format!("{node} to accept a connection"));
            match tokio::time::timeout(limits.connect, TcpStream::connect(address)).await {
                // No answer to the SYN (a frozen host, a lost network, a firewall): not
                // hung, since nothing accepted the connection, but a timeout all the same.
                Err(_) => {
                    return Err(OpenError::Down(Error::Timeout(format!(
                        "{node} is unreachable: no TCP connection within {}",
                        human(limits.connect)
                    ))))
                }
                Ok(Err(e)) => {
                    let what = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                        "refuses connections (down)".to_string()
                    } else {
                        "cannot be connected to".to_string()
                    };
                    return Err(OpenError::Down(Error::Cluster(format!(
                        "{node} {what}: {e}"
                    ))));
                }
                Ok(Ok(tcp)) => tcp,
            }
        };
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Transport> = match &security.tls {
            None => Box::new(tcp),
            Some(tls_config) => {
                let host = address
                    .rsplit_once(':')
                    .map(|(h, _)| h)
                    .unwrap_or(address)
                    .trim_start_matches('[')
                    .trim_end_matches(']');
                let name =
                    rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|e| {
                        OpenError::Other(Error::Config(format!("broker address {address}: {e}")))
                    })?;
                let _wait = config
                    .waiting
                    .enter(format!("{node} to finish the TLS handshake"));
                let handshake =
                    tokio_rustls::TlsConnector::from(tls_config.clone()).connect(name, tcp);
                match tokio::time::timeout(limits.connect, handshake).await {
                    Err(_) => {
                        return Err(OpenError::Hung(Error::Timeout(format!(
                            "{node} is not answering: connected, but no TLS handshake within {}",
                            human(limits.connect)
                        ))))
                    }
                    Ok(Err(e)) => {
                        return Err(OpenError::Other(tls_error(address, host, &e, security)))
                    }
                    Ok(Ok(tls)) => Box::new(tls),
                }
            }
        };
        let mut conn = BrokerConnection {
            stream,
            node: node.clone(),
            correlation_id: 0,
            client_id: StrBytes::from_string(config.client_id.clone()),
            supported: HashMap::new(),
            config: config.clone(),
            out_of_step: false,
            session_ends: None,
            request_bytes: 0,
        };
        conn.negotiate().await?;
        if authenticate {
            if let Some(credentials) = &security.sasl {
                let limit = limits.api_versions * 3;
                match tokio::time::timeout(limit, conn.authenticate(credentials)).await {
                    Err(_) => {
                        return Err(OpenError::Hung(Error::Timeout(format!(
                            "{node} is not answering: no SASL authentication within {}",
                            human(limit)
                        ))))
                    }
                    Ok(Err(e)) => return Err(OpenError::Other(e)),
                    Ok(Ok(())) => {}
                }
            }
        }
        Ok(conn)
    }

    /// SaslHandshake (v1), then the mechanism's messages in SaslAuthenticate requests.
    async fn authenticate(&mut self, credentials: &SaslCredentials) -> Result<()> {
        use super::security::Mechanism;
        let mechanism = credentials.mechanism.name();
        let handshake = self
            .exchange(
                &SaslHandshakeRequest::default()
                    .with_mechanism(StrBytes::from_static_str(mechanism)),
                1,
            )
            .await?;
        if handshake.error_code != 0 {
            let offered: Vec<&str> = handshake.mechanisms.iter().map(|m| m.as_str()).collect();
            return Err(Error::Config(format!(
                "broker {} does not accept SASL {mechanism} on this listener (it offers {}): check sasl.mechanism and security.protocol",
                self.node.address,
                if offered.is_empty() { "none".to_string() } else { offered.join(", ") }
            )));
        }
        match credentials.mechanism {
            Mechanism::Plain => {
                self.sasl_round(credentials, super::sasl::plain_message(credentials))
                    .await?;
            }
            Mechanism::ScramSha256 | Mechanism::ScramSha512 => {
                let mut scram = super::sasl::Scram::new(credentials, super::sasl::random_nonce()?)?;
                let first = self
                    .sasl_round(credentials, scram.client_first().into_bytes())
                    .await?;
                let reply = scram.client_final(&String::from_utf8_lossy(&first))?;
                let last = self.sasl_round(credentials, reply.into_bytes()).await?;
                scram.verify_server_final(&String::from_utf8_lossy(&last))?;
            }
            Mechanism::Gssapi => {
                let settings = credentials
                    .kerberos
                    .as_ref()
                    .ok_or_else(|| Error::Config("GSSAPI without Kerberos settings".into()))?;
                let address = &self.node.address;
                let host = address
                    .rsplit_once(':')
                    .map(|(h, _)| h)
                    .unwrap_or(address)
                    .trim_start_matches('[')
                    .trim_end_matches(']');
                let mut context = super::gssapi::ClientContext::new(settings, host)?;
                let mut token = context.step(None)?;
                // The context's tokens; once it is established, an empty message asks
                // for the broker's security layer offer (RFC 4752).
                let offer = loop {
                    let reply = self.sasl_round(credentials, token).await?;
                    if context.is_established() {
                        break reply;
                    }
                    token = context.step(Some(&reply))?;
                };
                let answer = context.security_layer_answer(&offer)?;
                self.sasl_round(credentials, answer).await?;
            }
            Mechanism::OAuthBearer => {
                let source = credentials
                    .oauth
                    .as_ref()
                    .ok_or_else(|| Error::Config("OAUTHBEARER without a token source".into()))?;
                let token = source.token(self.config.limits.api_versions * 2).await?;
                let reply = self
                    .sasl_round(credentials, super::oauth::initial_response(&token))
                    .await?;
                if !reply.is_empty() {
                    // The broker's JSON error (RFC 7628 section 3.2.2); the client's
                    // answer is a lone separator, and the broker then fails the login.
                    let why = String::from_utf8_lossy(&reply).into_owned();
                    let _ = self.sasl_round(credentials, vec![1]).await;
                    return Err(Error::Config(format!(
                        "broker {} refused the OAUTHBEARER token of {:?}: {why}",
                        self.node.address, credentials.username
                    )));
                }
            }
        }
        Ok(())
    }

    async fn sasl_round(
        &mut self,
        credentials: &SaslCredentials,
        message: Vec<u8>,
    ) -> Result<Vec<u8>> {
        let version = self.version_of::<SaslAuthenticateRequest>()?;
        let response = self
            .exchange(
                &SaslAuthenticateRequest::default().with_auth_bytes(message.into()),
                version,
            )
            .await?;
        if response.error_code != 0 {
            let detail = response
                .error_message
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_else(|| format!("error {}", response.error_code));
            return Err(Error::Config(format!(
                "broker {} refused SASL {} authentication of user {:?}: {detail}",
                self.node.address,
                credentials.mechanism.name(),
                credentials.username
            )));
        }
        if response.session_lifetime_ms > 0 {
            // A margin for the request in flight when the session ends.
            let lifetime = std::time::Duration::from_millis(response.session_lifetime_ms as u64);
            self.session_ends = Some(std::time::Instant::now() + lifetime.mul_f64(0.9));
        }
        Ok(response.auth_bytes.to_vec())
    }

    /// Whether the broker has ended (or is about to end) this connection's SASL session.
    pub fn is_session_over(&self) -> bool {
        self.session_ends
            .is_some_and(|ends| std::time::Instant::now() >= ends)
    }

    /// The broker this connection talks to.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Whether the connection can no longer be used: an answer it waited for was abandoned,
    /// so the next bytes on it would belong to that answer.
    pub fn is_out_of_step(&self) -> bool {
        self.out_of_step
    }

    /// ApiVersions within the ApiVersions limit: no answer is a hung broker.
    async fn negotiate(&mut self) -> std::result::Result<(), OpenError> {
        let limit = self.config.limits.api_versions;
        let _wait = self
            .config
            .waiting
            .enter(format!("{} to answer ApiVersions", self.node));
        let hung = |node: &Node| {
            OpenError::Hung(Error::Timeout(format!(
                "{node} is not answering: connected, but no answer to ApiVersions within {}",
                human(limit)
            )))
        };
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("kafsh"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let deadline = tokio::time::Instant::now() + limit;
        // v3 is understood by every broker since Kafka 2.4; older ones answer with error 35
        // and a v0 body listing their versions, which v0 decodes.
        let response = match tokio::time::timeout_at(deadline, self.exchange(&request, 3)).await {
            Err(_) => return Err(hung(&self.node)),
            Ok(Ok(r)) if r.error_code == 0 => r,
            Ok(Err(e)) if self.out_of_step => return Err(lost_or_other(e)),
            Ok(_) => match tokio::time::timeout_at(
                deadline,
                self.exchange(&ApiVersionsRequest::default(), 0),
            )
            .await
            {
                Err(_) => return Err(hung(&self.node)),
                Ok(Err(e)) => return Err(lost_or_other(e)),
                Ok(Ok(r)) => r,
            },
        };
        if response.error_code != 0 {
            return Err(OpenError::Other(Error::Cluster(format!(
                "{} refused ApiVersions (error {})",
                self.node, response.error_code
            ))));
        }
        self.supported = response
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect();
        Ok(())
    }

    /// The highest version of `R` both sides speak, or a clear error naming the API.
    pub fn version_of<R: Request>(&self) -> Result<i16> {
        self.version_of_capped::<R>(R::VERSIONS.max)
    }

    /// Like [`Self::version_of`], but never above `cap` (for APIs whose newer versions
    /// change semantics this client does not implement).
    pub fn version_of_capped<R: Request>(&self, cap: i16) -> Result<i16> {
        let name = api_name(R::KEY);
        let address = &self.node.address;
        let noun = self.node.noun();
        let (min, max) = self.supported.get(&R::KEY).copied().ok_or_else(|| {
            Error::Unsupported(if self.node.controller {
                format!("controller {address} does not serve the {name} API (controllers do not; ask a broker with --bootstrap-server)")
            } else {
                format!("broker {address} does not support the {name} API (too old for this operation)")
            })
        })?;
        let ours_max = R::VERSIONS.max.min(cap);
        let version = max.min(ours_max);
        if version < min.max(R::VERSIONS.min) {
            return Err(Error::Unsupported(format!(
                "{noun} {address} speaks {name} versions {min}..{max}, kafsh speaks {}..{ours_max}",
                R::VERSIONS.min
            )));
        }
        Ok(version)
    }

    /// Whether the broker supports the API of `R` at all.
    pub fn supports<R: Request>(&self) -> bool {
        self.version_of::<R>().is_ok()
    }

    /// Sends `request` at the negotiated version and reads its response.
    pub async fn send<R: Request>(&mut self, request: &R) -> Result<R::Response> {
        let version = self.version_of::<R>()?;
        self.send_version(request, version).await
    }

    /// Sends `request` at an explicit version and reads its response.
    pub async fn send_version<R: Request>(
        &mut self,
        request: &R,
        version: i16,
    ) -> Result<R::Response> {
        self.send_noting(request, version, None).await
    }

    /// Sends `request` and reads its answer within the request limit. `magnitude` says what
    /// the request asks for when that is large ("100000000 new partitions"): if the broker
    /// goes away meanwhile, the error says the request may have been the cause.
    ///
    /// A read that is not answered within the ApiVersions limit makes this check the broker
    /// on a new connection, again every such period: a broker that does not answer there
    /// either is hung, and the read fails at once naming it (the connection is then out of
    /// step and discarded). Other requests are waited for until the request limit.
    pub async fn send_noting<R: Request>(
        &mut self,
        request: &R,
        version: i16,
        magnitude: Option<&str>,
    ) -> Result<R::Response> {
        if self.out_of_step {
            return Err(Error::Cluster(format!(
                "the connection to {} was abandoned while waiting for an answer",
                self.node
            )));
        }
        let api = api_name(R::KEY);
        let node = self.node.clone();
        let config = self.config.clone();
        let timeout = config.request_timeout;
        let _wait = config.waiting.enter(format!(
            "{node} to answer {api}{}",
            magnitude
                .map(|m| format!(", a large request ({m}) that may itself have stopped it"))
                .unwrap_or_default()
        ));
        let started = Instant::now();
        let watchdog = async {
            if !is_read(R::KEY) {
                return std::future::pending::<String>().await;
            }
            loop {
                tokio::time::sleep(config.limits.api_versions).await;
                if let Health::Hung(why) = Self::probe(&node, &config).await {
                    return why;
                }
            }
        };
        let exchange = self.exchange_noting(request, version, magnitude);
        tokio::select! {
            result = tokio::time::timeout(timeout, exchange) => match result {
                Ok(r) => r,
                Err(_) => Err(Error::Timeout(format!(
                    "{node} did not answer {api} within {}{}",
                    human(timeout),
                    cause_note(magnitude, self.request_bytes)
                ))),
            },
            _hung = watchdog => Err(Error::Timeout(format!(
                "{node} is not answering: no answer to {api} for {}, nor to ApiVersions on a new connection within {}{}",
                human(started.elapsed()),
                human(config.limits.api_versions),
                cause_note(magnitude, self.request_bytes)
            ))),
        }
    }

    async fn exchange<R: Request>(&mut self, request: &R, version: i16) -> Result<R::Response> {
        self.exchange_noting(request, version, None).await
    }

    async fn exchange_noting<R: Request>(
        &mut self,
        request: &R,
        version: i16,
        magnitude: Option<&str>,
    ) -> Result<R::Response> {
        self.correlation_id = self.correlation_id.wrapping_add(1);
        let correlation_id = self.correlation_id;
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(self.client_id.clone()));
        let mut buf = BytesMut::with_capacity(256);
        buf.extend_from_slice(&[0, 0, 0, 0]);
        // The request type knows its header version, also for APIs the crate has no
        // ApiKey for (StreamsGroupDescribe, encoded in kafka/groups/wire.rs).
        header
            .encode(&mut buf, R::header_version(version))
            .map_err(|e| self.codec_error(R::KEY, e))?;
        request
            .encode(&mut buf, version)
            .map_err(|e| self.codec_error(R::KEY, e))?;
        let size = (buf.len() - 4) as i32;
        buf[..4].copy_from_slice(&size.to_be_bytes());
        let request_bytes = buf.len();
        self.request_bytes = request_bytes;
        // Until the whole answer is read, an abandoned wait leaves the stream out of step.
        self.out_of_step = true;
        self.stream
            .write_all(&buf)
            .await
            .map_err(|e| self.lost(e, R::KEY, false, magnitude, request_bytes))?;

        let mut size_buf = [0u8; 4];
        self.stream
            .read_exact(&mut size_buf)
            .await
            .map_err(|e| self.lost(e, R::KEY, true, magnitude, request_bytes))?;
        let size = i32::from_be_bytes(size_buf);
        if size < 4 || size as usize > MAX_RESPONSE_BYTES {
            return Err(Error::Cluster(format!(
                "broker {} sent a frame of {size} bytes: is this a Kafka PLAINTEXT listener?",
                self.node.address
            )));
        }
        let mut body = vec![0u8; size as usize];
        self.stream
            .read_exact(&mut body)
            .await
            .map_err(|e| self.lost(e, R::KEY, true, magnitude, request_bytes))?;
        self.out_of_step = false;
        let mut body = bytes::Bytes::from(body);
        let header_version = R::Response::header_version(version);
        let response_header = ResponseHeader::decode(&mut body, header_version)
            .map_err(|e| self.codec_error(R::KEY, e))?;
        if response_header.correlation_id != correlation_id {
            self.out_of_step = true;
            return Err(Error::Cluster(format!(
                "broker {} answered request {} with correlation id {}",
                self.node.address, correlation_id, response_header.correlation_id
            )));
        }
        let response =
            R::Response::decode(&mut body, version).map_err(|e| self.codec_error(R::KEY, e))?;
        if body.has_remaining() {
            tracing_remaining(body.remaining());
        }
        Ok(response)
    }

    /// The connection failed while sending a request or waiting for its answer: which
    /// broker, which request, and whether the request itself may have been the cause.
    fn lost(
        &self,
        e: std::io::Error,
        key: i16,
        sent: bool,
        magnitude: Option<&str>,
        request_bytes: usize,
    ) -> Error {
        // With TLS 1.3 the client finishes its handshake first; a broker that rejects the
        // client's certificate (or its absence) says so in an alert on the first read.
        if let Some(refused) = client_certificate_refused(&self.node.address, &e) {
            return refused;
        }
        let api = api_name(key);
        let when = if sent {
            format!("closed the connection before answering {api}")
        } else {
            format!("closed the connection while kafsh was sending {api}")
        };
        Error::Cluster(format!(
            "{} {when} ({e}){}",
            self.node,
            cause_note(magnitude, request_bytes)
        ))
    }

    fn codec_error(&self, key: i16, e: anyhow::Error) -> Error {
        Error::Cluster(format!(
            "cannot encode/decode {} with broker {}: {e}",
            api_name(key),
            self.node.address
        ))
    }
}

/// A failed first exchange: the broker closing the connection means it is down (or going
/// down); anything else (a refused client certificate, a listener that is not Kafka) is
/// reported as it is.
fn lost_or_other(e: Error) -> OpenError {
    match e {
        Error::Cluster(m) if m.contains("closed the connection") => {
            OpenError::Down(Error::Cluster(m))
        }
        other => OpenError::Other(other),
    }
}

/// "; the request was large (…) and may have caused it: check the broker's log", when it was.
fn cause_note(magnitude: Option<&str>, request_bytes: usize) -> String {
    let size = (request_bytes >= LARGE_REQUEST_BYTES)
        .then(|| format!("{:.1} MB", request_bytes as f64 / 1_048_576.0));
    let what: Vec<String> = magnitude
        .map(str::to_string)
        .into_iter()
        .chain(size)
        .collect();
    if what.is_empty() {
        return String::new();
    }
    format!(
        "; the request was large ({}) and may itself have caused this: check the broker's log",
        what.join(", ")
    )
}

/// A failed TLS handshake, saying what to fix.
fn tls_error(address: &str, host: &str, e: &std::io::Error, security: &Security) -> Error {
    use rustls::CertificateError;
    if let Some(refused) = client_certificate_refused(address, e) {
        return refused;
    }
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature,
        )) => Error::Config(format!(
            "broker {address}: its TLS certificate is not signed by a CA kafsh trusts ({})",
            security.ca_source
        )),
        Some(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        )) => Error::Config(format!(
            "broker {address}: its TLS certificate does not name {host}; fix the certificate, or set ssl.endpoint.identification.algorithm=none to check only the chain"
        )),
        Some(rustls::Error::InvalidCertificate(other)) => Error::Config(format!(
            "broker {address}: its TLS certificate is not acceptable: {other:?}"
        )),
        Some(other) => Error::Cluster(format!(
            "TLS handshake with broker {address} failed: {other}"
        )),
        None => Error::Cluster(format!(
            "TLS handshake with broker {address} failed: {e} (is this a TLS listener? check security.protocol)"
        )),
    }
}

/// The broker's TLS alert refusing the client's certificate (or its absence), during the
/// handshake (TLS 1.2) or on the first read after it (TLS 1.3).
fn client_certificate_refused(address: &str, e: &std::io::Error) -> Option<Error> {
    use rustls::AlertDescription as Alert;
    match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::AlertReceived(
            alert @ (Alert::CertificateRequired
            | Alert::BadCertificate
            | Alert::UnknownCA
            | Alert::CertificateUnknown
            | Alert::UnsupportedCertificate
            | Alert::CertificateExpired
            | Alert::CertificateRevoked
            | Alert::AccessDenied),
        ) => Some(Error::Config(format!(
            "broker {address} refused the TLS connection ({alert:?}): the listener requires a client certificate signed by a CA it trusts; set ssl.certificate.location and ssl.key.location"
        ))),
        _ => None,
    }
}

fn tracing_remaining(_bytes: usize) {
    // Trailing bytes are tolerated: brokers may add tagged fields this crate version ignores.
}

/// The protocol name of an API key ("Metadata", "DescribeConfigs", ...).
pub fn api_name(key: i16) -> String {
    match ApiKey::try_from(key) {
        Ok(k) => format!("{k:?}"),
        Err(_) if key == 89 => "StreamsGroupDescribe".to_string(),
        Err(_) => format!("API {key}"),
    }
}

/// "30s", "1.5s", "250ms".
pub fn human(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_requests_are_named_as_a_possible_cause() {
        assert_eq!(cause_note(None, 100), "");
        let note = cause_note(Some("100000000 new partitions"), 100);
        assert!(
            note.contains("100000000 new partitions") && note.contains("broker's log"),
            "{note}"
        );
        let note = cause_note(None, 3 * 1024 * 1024);
        assert!(note.contains("3.0 MB"), "{note}");
    }

    #[test]
    fn reads_are_told_from_changes() {
        use kafka_protocol::messages::*;
        assert!(is_read(MetadataRequest::KEY));
        assert!(is_read(DescribeClusterRequest::KEY));
        assert!(is_read(ListOffsetsRequest::KEY));
        assert!(!is_read(CreatePartitionsRequest::KEY));
        assert!(!is_read(ElectLeadersRequest::KEY));
        assert!(!is_read(OffsetCommitRequest::KEY));
        assert!(!is_read(AlterPartitionReassignmentsRequest::KEY));
    }

    #[test]
    fn the_longest_waits_are_described_first() {
        let waiting = Arc::new(Waiting::default());
        assert_eq!(waiting.describe(), None);
        let _a = waiting.enter("broker 3 at h:1 to answer ListOffsets".into());
        std::thread::sleep(Duration::from_millis(30));
        let _b = waiting.enter("broker 1 at h:2 to answer Metadata".into());
        let text = waiting.describe().expect("waiting");
        assert!(
            text.starts_with("broker 3 at h:1 to answer ListOffsets (for "),
            "{text}"
        );
        drop(_a);
        let text = waiting.describe().expect("waiting");
        assert!(text.starts_with("broker 1 at h:2"), "{text}");
    }
}
