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
use crate::error::{Error, Result};
use crate::kafka::oauth::TokenSource;
use crate::kafka::security::Security;
use rdkafka::client::OAuthToken;
use rdkafka::consumer::ConsumerContext;
use rdkafka::{ClientConfig, ClientContext};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use codec::Encoding;
pub use ranges::{PartitionRange, Position};

/// How the data path reaches the cluster: the context's addresses and connection
/// properties, and the admin path's OAUTHBEARER token source (one token serves both
/// paths). The password is only in the client configuration, never in `Debug`.
#[derive(Clone)]
pub struct DataPath {
    bootstrap: String,
    properties: Vec<(String, String)>,
    timeout: Duration,
    connect_timeout: Duration,
    context: DataContext,
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
    /// The data path of a session's settings, with the admin path's `security` (refuses
    /// what the admin path refuses). Kerberos and OAUTHBEARER credentials are tried here,
    /// before librdkafka starts, so a wrong keytab or client secret is a clear error naming
    /// the setting rather than records that time out.
    pub fn new(settings: &Settings, security: &Security) -> Result<DataPath> {
        let bootstrap = settings.bootstrap_servers.join(",");
        let sasl = security.sasl.as_ref();
        let mut properties = std::borrow::Cow::Borrowed(&settings.properties);
        if let Some(kerberos) = sasl.and_then(|s| s.kerberos.as_ref()) {
            let host = settings
                .bootstrap_servers
                .first()
                .map(|a| broker_host(a))
                .unwrap_or_default();
            let principal = crate::kafka::gssapi::check_login(kerberos, &host)?;
            // librdkafka's kinit needs the principal; the admin path takes the keytab's.
            if kerberos.keytab.is_some() && kerberos.principal.is_none() {
                properties
                    .to_mut()
                    .insert("sasl.kerberos.principal".into(), principal);
            }
        }
        let oauth = sasl.and_then(|s| s.oauth.clone());
        let principal = sasl.map(|s| s.username.clone()).unwrap_or_default();
        let context = DataContext {
            oauth,
            principal,
            timeout: settings.call_timeout,
            login_failure: Arc::default(),
        };
        if context.oauth.is_some() {
            context.token()?;
        }
        Ok(DataPath {
            bootstrap,
            properties: crate::kafka::security::data_path_properties(&properties)?,
            timeout: settings.call_timeout,
            connect_timeout: settings.node_timeouts.connect,
            context,
        })
    }

    /// The call timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The librdkafka client context: OAUTHBEARER tokens from kafsh's token source.
    fn context(&self) -> DataContext {
        self.context.clone()
    }

    /// The client context, keeping the brokers' first login refusal in `login_failure`.
    fn context_reporting_to(&self, login_failure: &LoginFailure) -> DataContext {
        DataContext {
            login_failure: login_failure.clone(),
            ..self.context.clone()
        }
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

/// The host of a `host:port` bootstrap address (brackets of an IPv6 one removed).
fn broker_host(address: &str) -> String {
    let host = match address.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => host,
        _ => address,
    };
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

/// kafsh's librdkafka client context: librdkafka asks it for an OAUTHBEARER token when it
/// starts and again at 80% of the token's lifetime, and gets the admin path's token (the
/// token source fetches a new one once 80% of its lifetime has passed).
#[derive(Clone)]
pub struct DataContext {
    oauth: Option<Arc<TokenSource>>,
    /// The principal librdkafka is told, when the token is not a JWT with a subject.
    principal: String,
    timeout: Duration,
    login_failure: LoginFailure,
}

/// The first login refusal librdkafka reported (SASL or a token that could not be had):
/// librdkafka retries logins until a record's delivery times out, so the timeout's error
/// says why.
pub type LoginFailure = Arc<std::sync::Mutex<Option<String>>>;

/// `e` with the login refusal that explains it: a configuration error (exit 2).
fn explain_by_login(login_failure: &LoginFailure, e: Error) -> Error {
    let reason = login_failure.lock().ok().and_then(|r| r.clone());
    match (reason, e) {
        (Some(reason), Error::Timeout(m) | Error::Cluster(m)) => {
            Error::Config(format!("{m}: the brokers refused the login: {reason}"))
        }
        (_, e) => e,
    }
}

impl DataContext {
    /// The current token, fetched on a thread of its own (librdkafka calls from its own
    /// threads and from the script's thread, inside and outside the session's runtime).
    fn token(&self) -> Result<crate::kafka::oauth::Token> {
        let source = self
            .oauth
            .clone()
            .ok_or_else(|| Error::Config("OAUTHBEARER without a token source".into()))?;
        if let Some(token) = source.cached() {
            return Ok(token);
        }
        let limit = self.timeout;
        std::thread::Builder::new()
            .name("kafsh-oauth".into())
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Error::Failed(format!("the token fetch's runtime: {e}")))?
                    .block_on(source.token_with_expiry(limit))
            })
            .map_err(|e| Error::Failed(format!("the token fetch's thread: {e}")))?
            .join()
            .map_err(|_| Error::Failed("the token fetch panicked".into()))?
    }
}

impl ClientContext for DataContext {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        use rdkafka::types::RDKafkaErrorCode as Code;
        if matches!(
            error.rdkafka_error_code(),
            Some(Code::Authentication | Code::SaslAuthenticationFailed)
        ) {
            if let Ok(mut first) = self.login_failure.lock() {
                first.get_or_insert_with(|| reason.to_string());
            }
        }
    }

    fn generate_oauth_token(
        &self,
        _oauthbearer_config: Option<&str>,
    ) -> std::result::Result<OAuthToken, Box<dyn std::error::Error>> {
        let token = self.token()?;
        // Without a stated expiry, librdkafka asks again in about a minute.
        let expires = token
            .expires
            .unwrap_or_else(|| SystemTime::now() + Duration::from_secs(75));
        let lifetime_ms = expires
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis().min(i64::MAX as u128) as i64)
            .unwrap_or(0);
        Ok(OAuthToken {
            principal_name: token.subject.unwrap_or_else(|| self.principal.clone()),
            token: token.value,
            lifetime_ms,
        })
    }
}

impl ConsumerContext for DataContext {}

fn millis(d: Duration) -> String {
    d.as_millis().min(i32::MAX as u128).to_string()
}

/// A librdkafka error as kafsh reports it (librdkafka's texts name the broker and the
/// cause; they never hold the password).
fn kafka_error(what: &str, e: rdkafka::error::KafkaError) -> Error {
    use rdkafka::error::KafkaError;
    use rdkafka::types::RDKafkaErrorCode as Code;
    let text = format!("{what}: {e}");
    match e.rdkafka_error_code() {
        Some(Code::UnknownTopicOrPartition | Code::UnknownTopic | Code::UnknownPartition) => {
            Error::NotFound(text)
        }
        Some(Code::MessageTimedOut | Code::RequestTimedOut | Code::OperationTimedOut) => {
            Error::Timeout(text)
        }
        _ if matches!(
            e,
            KafkaError::ClientConfig(..) | KafkaError::ClientCreation(_)
        ) =>
        {
            Error::Config(text)
        }
        _ => Error::Cluster(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn librdkafka_gets_the_token_its_subject_and_its_expiry_in_epoch_millis() {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("token");
        let jwt = format!(
            "{}.{}.sig",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"sub":"ops","exp":4102444800}"#)
        );
        std::fs::write(&file, format!("{jwt}\n")).expect("write");
        let context = DataContext {
            oauth: Some(Arc::new(TokenSource::File(file.display().to_string()))),
            principal: "fallback".into(),
            timeout: Duration::from_secs(5),
            login_failure: Arc::default(),
        };
        let token = context.generate_oauth_token(None).expect("token");
        assert_eq!(token.token, jwt);
        assert_eq!(token.principal_name, "ops");
        assert_eq!(token.lifetime_ms, 4_102_444_800_000);
        let without = DataContext {
            oauth: None,
            ..context
        };
        assert!(without.generate_oauth_token(None).is_err());
    }

    #[test]
    fn a_login_refusal_explains_a_timeout_as_a_configuration_error() {
        let failure = LoginFailure::default();
        let timeout = || Error::Timeout("producing to t: Message timed out".into());
        assert!(matches!(
            explain_by_login(&failure, timeout()),
            Error::Timeout(_)
        ));
        *failure.lock().expect("lock") = Some("SASL authentication error".into());
        match explain_by_login(&failure, timeout()) {
            Error::Config(m) => assert!(
                m.ends_with("the brokers refused the login: SASL authentication error"),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            explain_by_login(&failure, Error::NotFound("t".into())),
            Error::NotFound(_)
        ));
    }

    #[test]
    fn the_broker_host_of_a_bootstrap_address() {
        assert_eq!(broker_host("kafka1:9092"), "kafka1");
        assert_eq!(broker_host("[::1]:9092"), "::1");
        assert_eq!(broker_host("kafka1"), "kafka1");
    }
}
