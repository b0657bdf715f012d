//! One connection to one broker: Kafka's size-prefixed framing, request headers, API version
//! negotiation (ApiVersions), and typed request/response exchange through the `kafka-protocol`
//! crate's generated messages.

use crate::error::{Error, Result};
use bytes::{Buf, BytesMut};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{
    encode_request_header_into_buffer, Decodable, HeaderVersion, Request, StrBytes,
};
use std::collections::HashMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response accepted (guards against talking to something that is not Kafka).
const MAX_RESPONSE_BYTES: usize = 512 * 1024 * 1024;

/// An open, version-negotiated connection to one broker.
pub struct BrokerConnection {
    stream: TcpStream,
    address: String,
    correlation_id: i32,
    client_id: StrBytes,
    /// API key → (min, max) version the broker supports.
    supported: HashMap<i16, (i16, i16)>,
    timeout: Duration,
}

impl BrokerConnection {
    /// Connects to `address` and negotiates API versions, all within `timeout`.
    pub async fn connect(address: &str, client_id: &str, timeout: Duration) -> Result<Self> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(address))
            .await
            .map_err(|_| {
                Error::Timeout(format!(
                    "connecting to broker {address} timed out after {}",
                    human(timeout)
                ))
            })?
            .map_err(|e| Error::Cluster(format!("cannot connect to broker {address}: {e}")))?;
        let _ = stream.set_nodelay(true);
        let mut conn = BrokerConnection {
            stream,
            address: address.to_string(),
            correlation_id: 0,
            client_id: StrBytes::from_string(client_id.to_string()),
            supported: HashMap::new(),
            timeout,
        };
        conn.negotiate().await?;
        Ok(conn)
    }

    /// The `host:port` this connection talks to.
    pub fn address(&self) -> &str {
        &self.address
    }

    async fn negotiate(&mut self) -> Result<()> {
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("kafsh"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        // v3 is understood by every broker since Kafka 2.4; older ones answer with error 35
        // and a v0 body listing their versions, which v0 decodes.
        let response = match self.exchange(&request, 3).await {
            Ok(r) if r.error_code == 0 => r,
            _ => self.exchange(&ApiVersionsRequest::default(), 0).await?,
        };
        if response.error_code != 0 {
            return Err(Error::Cluster(format!(
                "broker {} refused ApiVersions (error {})",
                self.address, response.error_code
            )));
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
        let (min, max) = self.supported.get(&R::KEY).copied().ok_or_else(|| {
            Error::Unsupported(format!(
                "broker {} does not support the {name} API (too old for this operation)",
                self.address
            ))
        })?;
        let ours_max = R::VERSIONS.max.min(cap);
        let version = max.min(ours_max);
        if version < min.max(R::VERSIONS.min) {
            return Err(Error::Unsupported(format!(
                "broker {} speaks {name} versions {min}..{max}, kafsh speaks {}..{ours_max}",
                self.address,
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
        let timeout = self.timeout;
        let address = self.address.clone();
        match tokio::time::timeout(timeout, self.exchange(request, version)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout(format!(
                "broker {address} did not answer {} within {}",
                api_name(R::KEY),
                human(timeout)
            ))),
        }
    }

    async fn exchange<R: Request>(&mut self, request: &R, version: i16) -> Result<R::Response> {
        self.correlation_id = self.correlation_id.wrapping_add(1);
        let correlation_id = self.correlation_id;
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(self.client_id.clone()));
        let mut buf = BytesMut::with_capacity(256);
        buf.extend_from_slice(&[0, 0, 0, 0]);
        encode_request_header_into_buffer(&mut buf, &header)
            .map_err(|e| self.codec_error(R::KEY, e))?;
        request
            .encode(&mut buf, version)
            .map_err(|e| self.codec_error(R::KEY, e))?;
        let size = (buf.len() - 4) as i32;
        buf[..4].copy_from_slice(&size.to_be_bytes());
        self.stream
            .write_all(&buf)
            .await
            .map_err(|e| self.io_error(e))?;

        let mut size_buf = [0u8; 4];
        self.stream
            .read_exact(&mut size_buf)
            .await
            .map_err(|e| self.io_error(e))?;
        let size = i32::from_be_bytes(size_buf);
        if size < 4 || size as usize > MAX_RESPONSE_BYTES {
            return Err(Error::Cluster(format!(
                "broker {} sent a frame of {size} bytes: is this a Kafka PLAINTEXT listener?",
                self.address
            )));
        }
        let mut body = vec![0u8; size as usize];
        self.stream
            .read_exact(&mut body)
            .await
            .map_err(|e| self.io_error(e))?;
        let mut body = bytes::Bytes::from(body);
        let header_version = R::Response::header_version(version);
        let response_header = ResponseHeader::decode(&mut body, header_version)
            .map_err(|e| self.codec_error(R::KEY, e))?;
        if response_header.correlation_id != correlation_id {
            return Err(Error::Cluster(format!(
                "broker {} answered request {} with correlation id {}",
                self.address, correlation_id, response_header.correlation_id
            )));
        }
        let response =
            R::Response::decode(&mut body, version).map_err(|e| self.codec_error(R::KEY, e))?;
        if body.has_remaining() {
            tracing_remaining(body.remaining());
        }
        Ok(response)
    }

    fn io_error(&self, e: std::io::Error) -> Error {
        Error::Cluster(format!("connection to broker {} failed: {e}", self.address))
    }

    fn codec_error(&self, key: i16, e: anyhow::Error) -> Error {
        Error::Cluster(format!(
            "cannot encode/decode {} with broker {}: {e}",
            api_name(key),
            self.address
        ))
    }
}

fn tracing_remaining(_bytes: usize) {
    // Trailing bytes are tolerated: brokers may add tagged fields this crate version ignores.
}

/// The protocol name of an API key ("Metadata", "DescribeConfigs", ...).
pub fn api_name(key: i16) -> String {
    match ApiKey::try_from(key) {
        Ok(k) => format!("{k:?}"),
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
