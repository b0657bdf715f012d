//! The Kafka admin client: bootstraps from the configured servers, keeps one connection per
//! broker, and routes requests to any broker, a specific broker, or the controller.

use super::conn::{human, BrokerConnection};
use super::security::Security;
use crate::config::Settings;
use crate::error::{Error, Result};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::{Request, StrBytes};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// A shared handle to one broker connection.
pub type Conn = Arc<Mutex<BrokerConnection>>;

/// Admin client over the Kafka protocol.
pub struct KafkaClient {
    bootstrap: Vec<String>,
    client_id: String,
    /// TLS and SASL settings every connection uses (no connection goes without them).
    security: Arc<Security>,
    timeout: Duration,
    /// Connections by broker id; the bootstrap connection is kept under its address.
    by_id: Mutex<HashMap<i32, Conn>>,
    bootstrap_conn: Mutex<Option<Conn>>,
    /// Broker id → `host:port`, from the last metadata answer.
    addresses: Mutex<HashMap<i32, String>>,
}

impl KafkaClient {
    /// A client for the settings' bootstrap servers. Connects lazily.
    pub fn new(settings: &Settings) -> Result<Self> {
        if settings.bootstrap_servers.is_empty() {
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
            client_id,
            security,
            timeout: settings.call_timeout,
            by_id: Mutex::new(HashMap::new()),
            bootstrap_conn: Mutex::new(None),
            addresses: Mutex::new(HashMap::new()),
        })
    }

    /// The time limit of one call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A connection to any live broker (the bootstrap connection, re-established if broken).
    pub async fn any(&self) -> Result<Conn> {
        let mut slot = self.bootstrap_conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let mut failures = Vec::new();
        let mut all_timed_out = true;
        // Known brokers first (after a bootstrap server died), then the bootstrap list.
        let mut candidates: Vec<String> = self.addresses.lock().await.values().cloned().collect();
        candidates.sort();
        for b in &self.bootstrap {
            if !candidates.contains(b) {
                candidates.push(b.clone());
            }
        }
        for address in candidates {
            match BrokerConnection::connect(&address, &self.client_id, self.timeout, &self.security)
                .await
            {
                Ok(conn) => {
                    let conn = Arc::new(Mutex::new(conn));
                    *slot = Some(conn.clone());
                    return Ok(conn);
                }
                // Credentials or certificates that one broker rejects, every broker
                // rejects: say so at once, not "unreachable" after trying them all.
                Err(e @ Error::Config(_)) => return Err(e),
                Err(e) => {
                    all_timed_out &= matches!(e, Error::Timeout(_));
                    failures.push(e.to_string());
                }
            }
        }
        let message = format!(
            "no Kafka broker reachable at {} ({})",
            self.bootstrap.join(","),
            failures.join("; ")
        );
        // Brokers that accept connections but never answer (frozen, overloaded) are a
        // timeout, not an unreachable cluster.
        Err(if all_timed_out && !failures.is_empty() {
            Error::Timeout(message)
        } else {
            Error::Cluster(message)
        })
    }

    /// A connection to broker `id`.
    pub async fn broker(&self, id: i32) -> Result<Conn> {
        if let Some(conn) = self.by_id.lock().await.get(&id) {
            return Ok(conn.clone());
        }
        let mut address = self.addresses.lock().await.get(&id).cloned();
        if address.is_none() {
            self.metadata(Some(&[])).await?;
            address = self.addresses.lock().await.get(&id).cloned();
        }
        let address = address.ok_or_else(|| {
            Error::NotFound(format!("broker {id} is not in the cluster metadata"))
        })?;
        let conn = Arc::new(Mutex::new(
            BrokerConnection::connect(&address, &self.client_id, self.timeout, &self.security)
                .await?,
        ));
        self.by_id.lock().await.insert(id, conn.clone());
        Ok(conn)
    }

    /// Sends to any broker; on a broken connection, reconnects once and retries.
    pub async fn send_any<R: Request + Clone>(&self, request: &R) -> Result<R::Response> {
        let conn = self.any().await?;
        let result = { conn.lock().await.send(request).await };
        match result {
            Err(Error::Cluster(_)) | Err(Error::Timeout(_)) => {
                *self.bootstrap_conn.lock().await = None;
                let conn = self.any().await?;
                let mut guard = conn.lock().await;
                guard.send(request).await
            }
            other => other,
        }
    }

    /// Sends to broker `id`, dropping the connection if it failed.
    pub async fn send_to<R: Request>(&self, id: i32, request: &R) -> Result<R::Response> {
        let conn = self.broker(id).await?;
        let result = { conn.lock().await.send(request).await };
        if matches!(result, Err(Error::Cluster(_)) | Err(Error::Timeout(_))) {
            self.by_id.lock().await.remove(&id);
        }
        result
    }

    /// Sends to broker `id`, giving up after `limit` (shorter than the call's time limit, so
    /// a call that asks many brokers survives one that does not answer). A connection
    /// abandoned mid-request is dropped, never reused.
    pub async fn send_to_within<R: Request>(
        &self,
        id: i32,
        request: &R,
        limit: Duration,
    ) -> Result<R::Response> {
        match tokio::time::timeout(limit, self.send_to(id, request)).await {
            Ok(result) => result,
            Err(_) => {
                self.by_id.lock().await.remove(&id);
                Err(Error::Timeout(format!(
                    "broker {id} did not answer {} within {}",
                    super::conn::api_name(R::KEY),
                    human(limit)
                )))
            }
        }
    }

    /// Sends to the active controller (ZooKeeper mode needs it for topic changes; KRaft
    /// brokers forward, and answer with a random broker id as "controller").
    pub async fn send_to_controller<R: Request + Clone>(&self, request: &R) -> Result<R::Response> {
        let meta = self.metadata(Some(&[])).await?;
        let controller = meta.controller_id.0;
        if controller >= 0 {
            match self.send_to(controller, request).await {
                Ok(r) => return Ok(r),
                Err(Error::Cluster(_)) | Err(Error::Timeout(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.send_any(request).await
    }

    /// Whether the active controller (any broker when there is none) supports the API of
    /// `R`, to choose between a modern API and an older cluster's way.
    pub async fn controller_supports<R: Request>(&self) -> Result<bool> {
        let meta = self.metadata(Some(&[])).await?;
        let controller = meta.controller_id.0;
        let conn = if controller >= 0 {
            self.broker(controller).await?
        } else {
            self.any().await?
        };
        let supported = conn.lock().await.supports::<R>();
        Ok(supported)
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
        let mut addresses = self.addresses.lock().await;
        for b in &response.brokers {
            addresses.insert(b.node_id.0, format!("{}:{}", b.host.as_str(), b.port));
        }
        Ok(response)
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
