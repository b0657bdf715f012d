//! The data path: reading and writing records through librdkafka (the `rdkafka` crate),
//! with the same context settings as the admin path (bootstrap servers, security
//! properties, call timeout). What is read and where it stops is planned on the admin path
//! (`ranges`, ListOffsets), and so is deleting records (`delete`); librdkafka only fetches
//! (assign and seek, never joining a group unless asked) and produces (batching,
//! compression, the idempotent producer).

pub mod codec;
pub mod delete;
pub mod produce;
pub mod ranges;
pub mod reader;

use crate::config::Settings;
use crate::error::Result;
use rdkafka::ClientConfig;
use std::time::Duration;

pub use codec::Encoding;
pub use ranges::{PartitionRange, Position};

/// How the data path reaches the cluster: the context's addresses and connection
/// properties. The password is only in the client configuration, never in `Debug`.
#[derive(Clone)]
pub struct DataPath {
    bootstrap: String,
    properties: Vec<(String, String)>,
    timeout: Duration,
    connect_timeout: Duration,
}

impl std::fmt::Debug for DataPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataPath")
            .field("bootstrap", &self.bootstrap)
            .field(
                "properties",
                &self.properties.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl DataPath {
    /// The data path of a session's settings (refuses what the admin path refuses).
    pub fn from_settings(settings: &Settings) -> Result<DataPath> {
        Ok(DataPath {
            bootstrap: settings.bootstrap_servers.join(","),
            properties: crate::kafka::security::data_path_properties(&settings.properties)?,
            timeout: settings.call_timeout,
            connect_timeout: settings.node_timeouts.connect,
        })
    }

    /// The call timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A librdkafka configuration with the connection settings.
    fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.bootstrap)
            .set("client.id", "kafsh")
            .set(
                "socket.connection.setup.timeout.ms",
                millis(self.connect_timeout.max(Duration::from_secs(1))),
            )
            .set(
                "socket.timeout.ms",
                millis(self.timeout.max(Duration::from_secs(10))),
            )
            // librdkafka's own logging would go to stderr; errors reach the caller instead.
            .set("log_level", "0");
        for (k, v) in &self.properties {
            config.set(k, v);
        }
        config
    }
}

fn millis(d: Duration) -> String {
    d.as_millis().min(i32::MAX as u128).to_string()
}

/// A librdkafka error as kafsh reports it (librdkafka's texts name the broker and the
/// cause; they never hold the password).
fn kafka_error(what: &str, e: rdkafka::error::KafkaError) -> crate::error::Error {
    use rdkafka::error::KafkaError;
    use rdkafka::types::RDKafkaErrorCode as Code;
    let text = format!("{what}: {e}");
    match e.rdkafka_error_code() {
        Some(Code::UnknownTopicOrPartition | Code::UnknownTopic | Code::UnknownPartition) => {
            crate::error::Error::NotFound(text)
        }
        Some(Code::MessageTimedOut | Code::RequestTimedOut | Code::OperationTimedOut) => {
            crate::error::Error::Timeout(text)
        }
        _ if matches!(
            e,
            KafkaError::ClientConfig(..) | KafkaError::ClientCreation(_)
        ) =>
        {
            crate::error::Error::Config(text)
        }
        _ => crate::error::Error::Cluster(text),
    }
}
