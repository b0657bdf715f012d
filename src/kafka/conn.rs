//! One connection to one broker: TCP or TLS, API version negotiation (ApiVersions), SASL
//! authentication, Kafka's size-prefixed framing and request headers, and typed
//! request/response exchange through the `kafka-protocol` crate's generated messages.

use super::security::{SaslCredentials, Security};
use crate::error::{Error, Result};
use bytes::{Buf, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, RequestHeader, ResponseHeader, SaslAuthenticateRequest,
    SaslHandshakeRequest,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use std::collections::HashMap;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A byte stream to a broker: plain TCP or TLS over it.
trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

/// Largest response accepted (guards against talking to something that is not Kafka).
const MAX_RESPONSE_BYTES: usize = 512 * 1024 * 1024;

/// An open, version-negotiated connection to one broker.
pub struct BrokerConnection {
    stream: Box<dyn Transport>,
    address: String,
    correlation_id: i32,
    client_id: StrBytes,
    /// API key → (min, max) version the broker supports.
    supported: HashMap<i16, (i16, i16)>,
    timeout: Duration,
}

impl BrokerConnection {
    /// Connects to `address`, with TLS and SASL as `security` says, and negotiates API
    /// versions, all within `timeout`.
    pub async fn connect(
        address: &str,
        client_id: &str,
        timeout: Duration,
        security: &Security,
    ) -> Result<Self> {
        tokio::time::timeout(timeout, Self::open(address, client_id, timeout, security))
            .await
            .map_err(|_| {
                Error::Timeout(format!(
                    "connecting to broker {address} ({}) timed out after {}",
                    security.protocol(),
                    human(timeout)
                ))
            })?
    }

    async fn open(
        address: &str,
        client_id: &str,
        timeout: Duration,
        security: &Security,
    ) -> Result<Self> {
        let tcp = TcpStream::connect(address)
            .await
            .map_err(|e| Error::Cluster(format!("cannot connect to broker {address}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Transport> = match &security.tls {
            None => Box::new(tcp),
            Some(config) => {
                let host = address
                    .rsplit_once(':')
                    .map(|(h, _)| h)
                    .unwrap_or(address)
                    .trim_start_matches('[')
                    .trim_end_matches(']');
                let name = rustls::pki_types::ServerName::try_from(host.to_string())
                    .map_err(|e| Error::Config(format!("broker address {address}: {e}")))?;
                let tls = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| tls_error(address, host, &e, security))?;
                Box::new(tls)
            }
        };
        let mut conn = BrokerConnection {
            stream,
            address: address.to_string(),
            correlation_id: 0,
            client_id: StrBytes::from_string(client_id.to_string()),
            supported: HashMap::new(),
            timeout,
        };
        conn.negotiate().await?;
        if let Some(credentials) = &security.sasl {
            conn.authenticate(credentials).await?;
        }
        Ok(conn)
    }

    /// SaslHandshake (v1), then the mechanism's messages in SaslAuthenticate requests.
    async fn authenticate(&mut self, credentials: &SaslCredentials) -> Result<()> {
        use super::security::Mechanism;
        let mechanism = credentials.mechanism.name();
        let handshake = self
            .send_version(
                &SaslHandshakeRequest::default()
                    .with_mechanism(StrBytes::from_static_str(mechanism)),
                1,
            )
            .await?;
        if handshake.error_code != 0 {
            let offered: Vec<&str> = handshake.mechanisms.iter().map(|m| m.as_str()).collect();
            return Err(Error::Config(format!(
                "broker {} does not accept SASL {mechanism} on this listener (it offers {}): check sasl.mechanism and security.protocol",
                self.address,
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
            .send_version(
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
                self.address,
                credentials.mechanism.name(),
                credentials.username
            )));
        }
        Ok(response.auth_bytes.to_vec())
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
        // With TLS 1.3 the client finishes its handshake first; a broker that rejects the
        // client's certificate (or its absence) says so in an alert on the first read.
        client_certificate_refused(&self.address, &e).unwrap_or_else(|| {
            Error::Cluster(format!("connection to broker {} failed: {e}", self.address))
        })
    }

    fn codec_error(&self, key: i16, e: anyhow::Error) -> Error {
        Error::Cluster(format!(
            "cannot encode/decode {} with broker {}: {e}",
            api_name(key),
            self.address
        ))
    }
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
