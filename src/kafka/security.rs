//! How kafsh reaches a secured Kafka listener: the client properties (librdkafka names, and
//! the Java names Kafka's own tools take, translated or refused with the librdkafka name to
//! use) resolved into one [`Security`] that every connection uses — TLS through rustls,
//! SASL PLAIN or SCRAM-SHA-256/512. Nothing here falls back to PLAINTEXT: a setting kafsh
//! cannot honour is an error.

use crate::error::{Error, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The system CA bundle, used for TLS when `ssl.ca.location` is not given (as librdkafka
/// probes for it).
const SYSTEM_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// A SASL mechanism kafsh speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// PLAIN (RFC 4616): the password itself, so only over TLS in practice.
    Plain,
    /// SCRAM-SHA-256 (RFC 7677).
    ScramSha256,
    /// SCRAM-SHA-512.
    ScramSha512,
    /// GSSAPI: Kerberos V5 (RFC 4752), through the system's MIT krb5.
    Gssapi,
    /// OAUTHBEARER (RFC 7628): a bearer token from an OIDC token endpoint or a file.
    OAuthBearer,
}

impl Mechanism {
    /// The name brokers use.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha512 => "SCRAM-SHA-512",
            Mechanism::Gssapi => "GSSAPI",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    fn parse(text: &str) -> Result<Mechanism> {
        match text.trim().to_ascii_uppercase().as_str() {
            "PLAIN" => Ok(Mechanism::Plain),
            "SCRAM-SHA-256" => Ok(Mechanism::ScramSha256),
            "SCRAM-SHA-512" => Ok(Mechanism::ScramSha512),
            "GSSAPI" => Ok(Mechanism::Gssapi),
            "OAUTHBEARER" => Ok(Mechanism::OAuthBearer),
            other => Err(Error::Config(format!(
                "sasl.mechanism {other} is not supported; kafsh speaks PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI and OAUTHBEARER"
            ))),
        }
    }
}

/// SASL credentials. The password never appears in `Debug` output.
#[derive(Clone)]
pub struct SaslCredentials {
    /// The mechanism.
    pub mechanism: Mechanism,
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
    /// GSSAPI's settings (the mechanism is GSSAPI exactly when this is set).
    pub kerberos: Option<super::gssapi::KerberosSettings>,
    /// OAUTHBEARER's token source (the mechanism is OAUTHBEARER exactly when this is set).
    pub oauth: Option<Arc<super::oauth::TokenSource>>,
}

impl std::fmt::Debug for SaslCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslCredentials")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &"****")
            .field("kerberos", &self.kerberos)
            .field("oauth", &self.oauth)
            .finish()
    }
}

/// Everything a connection needs to reach a listener.
#[derive(Clone, Default)]
pub struct Security {
    /// TLS, when the protocol is SSL or SASL_SSL.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// SASL, when the protocol is SASL_PLAINTEXT or SASL_SSL.
    pub sasl: Option<SaslCredentials>,
    /// Where the trusted CAs came from, for error messages.
    pub ca_source: String,
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Security")
            .field("tls", &self.tls.is_some())
            .field("sasl", &self.sasl)
            .finish()
    }
}

impl Security {
    /// The protocol name, as `security.protocol` spells it.
    pub fn protocol(&self) -> &'static str {
        match (self.tls.is_some(), self.sasl.is_some()) {
            (false, false) => "PLAINTEXT",
            (true, false) => "SSL",
            (false, true) => "SASL_PLAINTEXT",
            (true, true) => "SASL_SSL",
        }
    }

    /// Resolves client properties (already merged from the command config and the context).
    pub fn from_properties(properties: &BTreeMap<String, String>) -> Result<Security> {
        let props = translate_java_names(properties)?;
        let protocol = props
            .get("security.protocol")
            .map(|p| p.trim().to_ascii_uppercase())
            .unwrap_or_else(|| "PLAINTEXT".into());
        let (tls, sasl) = match protocol.as_str() {
            "PLAINTEXT" => (false, false),
            "SSL" => (true, false),
            "SASL_PLAINTEXT" => (false, true),
            "SASL_SSL" => (true, true),
            other => {
                return Err(Error::Config(format!(
                "security.protocol {other} is unknown (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)"
            )))
            }
        };
        let mut security = Security::default();
        if sasl {
            security.sasl = Some(sasl_credentials(&props)?);
        }
        if tls {
            let (config, source) = tls_config(&props)?;
            security.tls = Some(Arc::new(config));
            security.ca_source = source;
        }
        Ok(security)
    }
}

fn sasl_credentials(props: &BTreeMap<String, String>) -> Result<SaslCredentials> {
    let mechanism = props
        .get("sasl.mechanisms")
        .or_else(|| props.get("sasl.mechanism"))
        .map(|m| Mechanism::parse(m))
        .transpose()?
        .unwrap_or(Mechanism::Plain);
    if mechanism == Mechanism::Gssapi {
        let kerberos = super::gssapi::KerberosSettings {
            service_name: props
                .get("sasl.kerberos.service.name")
                .cloned()
                .unwrap_or_else(|| "kafka".into()),
            principal: props.get("sasl.kerberos.principal").cloned(),
            keytab: props.get("sasl.kerberos.keytab").cloned(),
        };
        return Ok(SaslCredentials {
            mechanism,
            username: kerberos
                .principal
                .clone()
                .unwrap_or_else(|| "(the ticket cache's principal)".into()),
            password: String::new(),
            kerberos: Some(kerberos),
            oauth: None,
        });
    }
    if mechanism == Mechanism::OAuthBearer {
        let source = oauth_source(props)?;
        let username = match &source {
            super::oauth::TokenSource::ClientCredentials { client_id, .. } => client_id.clone(),
            super::oauth::TokenSource::File(_) => "(the token file's subject)".into(),
        };
        return Ok(SaslCredentials {
            mechanism,
            username,
            password: String::new(),
            kerberos: None,
            oauth: Some(Arc::new(source)),
        });
    }
    let username = props
        .get("sasl.username")
        .cloned()
        .ok_or_else(|| Error::Config("SASL needs sasl.username".into()))?;
    let password = props.get("sasl.password").cloned().ok_or_else(|| {
        Error::Config(
            "SASL needs a password: sasl.password, or password_file / password_env in the context"
                .into(),
        )
    })?;
    Ok(SaslCredentials {
        mechanism,
        username,
        password,
        kerberos: None,
        oauth: None,
    })
}

/// OAUTHBEARER's token source: a token file, or OIDC client credentials.
fn oauth_source(props: &BTreeMap<String, String>) -> Result<super::oauth::TokenSource> {
    if let Some(file) = props.get("sasl.oauthbearer.token.file") {
        return Ok(super::oauth::TokenSource::File(file.clone()));
    }
    match props.get("sasl.oauthbearer.method").map(|m| m.trim().to_ascii_lowercase()) {
        Some(m) if m == "oidc" => {}
        _ => {
            return Err(Error::Config(
                "OAUTHBEARER needs sasl.oauthbearer.method=oidc (with sasl.oauthbearer.token.endpoint.url, sasl.oauthbearer.client.id and the client secret) or sasl.oauthbearer.token.file".into(),
            ))
        }
    }
    let need = |key: &str| {
        props.get(key).cloned().ok_or_else(|| {
            Error::Config(format!(
                "OAUTHBEARER with sasl.oauthbearer.method=oidc needs {key}"
            ))
        })
    };
    let endpoint = need("sasl.oauthbearer.token.endpoint.url")?;
    let client_id = need("sasl.oauthbearer.client.id")?;
    let client_secret = props.get("sasl.oauthbearer.client.secret").cloned().ok_or_else(|| {
        Error::Config(
            "OAUTHBEARER needs the client secret: client_secret_file or client_secret_env in the context (or sasl.oauthbearer.client.secret)".into(),
        )
    })?;
    Ok(super::oauth::TokenSource::ClientCredentials {
        endpoint,
        client_id,
        client_secret,
        scope: props.get("sasl.oauthbearer.scope").cloned(),
        current: std::sync::Mutex::new(None),
    })
}

/// A TLS client configuration trusting the system's CAs (for a token endpoint).
pub fn system_tls_config() -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let bundle = SYSTEM_CA_BUNDLES
        .iter()
        .find(|p| Path::new(p).exists())
        .ok_or_else(|| Error::Config("no system CA bundle for the token endpoint's TLS".into()))?;
    add_pem_certs(&mut roots, Path::new(bundle), "the system CA bundle")?;
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Config(format!("TLS: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

/// The client properties of the data path (librdkafka, for consuming and producing): the
/// same settings the admin path uses, checked by the same rules ([`Security::from_properties`])
/// and with Java names translated, so both paths reach the cluster the same way. Only the
/// connection's settings pass; what else a context holds is the admin path's business.
///
/// GSSAPI goes through librdkafka's Cyrus SASL with the same service name, principal and
/// keytab; with a keytab, librdkafka runs `kinit` (quietly, into the default ticket cache,
/// as librdkafka does) at start and every `sasl.kerberos.min.time.before.relogin`, and
/// without one it only reads the ticket cache. OAUTHBEARER passes only the mechanism: the
/// tokens come from kafsh's own token source through librdkafka's refresh callback
/// (`messages::DataContext`), so none of kafsh's OIDC settings (the client secret, the
/// token file) reach librdkafka, whose own OIDC client is not built.
pub fn data_path_properties(
    properties: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>> {
    let security = Security::from_properties(properties)?;
    let props = translate_java_names(properties)?;
    let mut out = Vec::new();
    for key in [
        "security.protocol",
        "sasl.mechanisms",
        "sasl.username",
        "sasl.password",
        "ssl.ca.location",
        "ssl.ca.pem",
        "ssl.certificate.location",
        "ssl.certificate.pem",
        "ssl.key.location",
        "ssl.key.pem",
        "ssl.key.password",
        "ssl.endpoint.identification.algorithm",
        "client.id",
    ] {
        if let Some(value) = props.get(key) {
            let value = match (key, value.trim()) {
                // Java's way of turning host name checks off is an empty value.
                ("ssl.endpoint.identification.algorithm", "") => "none".to_string(),
                _ => value.clone(),
            };
            out.push((key.to_string(), value));
        }
    }
    let Some(sasl) = &security.sasl else {
        return Ok(out);
    };
    // librdkafka's default mechanism is GSSAPI; the admin path's is PLAIN.
    if !props.contains_key("sasl.mechanisms") {
        out.push(("sasl.mechanisms".into(), sasl.mechanism.name().into()));
    }
    if let Some(kerberos) = &sasl.kerberos {
        out.push((
            "sasl.kerberos.service.name".into(),
            kerberos.service_name.clone(),
        ));
        if let Some(principal) = &kerberos.principal {
            out.push(("sasl.kerberos.principal".into(), principal.clone()));
        }
        let relogin = props.get("sasl.kerberos.min.time.before.relogin");
        match (&kerberos.keytab, props.get("sasl.kerberos.kinit.cmd")) {
            (_, Some(command)) => {
                out.push(("sasl.kerberos.kinit.cmd".into(), command.clone()));
            }
            (Some(keytab), None) => {
                // `messages::DataPath` fills in the keytab's principal when none is set.
                let principal = kerberos.principal.as_deref().ok_or_else(|| {
                    Error::Config(format!(
                        "sasl.kerberos.keytab {keytab}: the data path needs sasl.kerberos.principal"
                    ))
                })?;
                out.push(("sasl.kerberos.keytab".into(), keytab.clone()));
                out.push((
                    "sasl.kerberos.kinit.cmd".into(),
                    kinit_command(keytab, principal)?,
                ));
            }
            // The ticket cache only: nothing to run.
            (None, None) => {
                if relogin.is_none() {
                    out.push(("sasl.kerberos.min.time.before.relogin".into(), "0".into()));
                }
            }
        }
        if let Some(ms) = relogin {
            out.push(("sasl.kerberos.min.time.before.relogin".into(), ms.clone()));
        }
    }
    Ok(out)
}

/// The command librdkafka runs to log in from a keytab: MIT's `kinit` with the keytab and
/// principal quoted for the shell, its messages kept off kafsh's output (kafsh has checked
/// the login itself before; a later failure shows as the broker's refusal).
fn kinit_command(keytab: &str, principal: &str) -> Result<String> {
    let quote = |setting: &str, text: &str| {
        // librdkafka renders %{name} in the command; such a name is refused.
        if text.contains("%{") {
            return Err(Error::Config(format!("{setting} {text:?} holds \"%{{\"")));
        }
        Ok(format!("'{}'", text.replace('\'', r"'\''")))
    };
    Ok(format!(
        "kinit -k -t {} {} >/dev/null 2>&1",
        quote("sasl.kerberos.keytab", keytab)?,
        quote("sasl.kerberos.principal", principal)?
    ))
}

/// Java client property names → librdkafka names, or a refusal naming the one to use.
fn translate_java_names(properties: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
    let mut props = properties.clone();
    if let Some(jaas) = properties.get("sasl.jaas.config") {
        let module = jaas.split_whitespace().next().unwrap_or("");
        if module.ends_with("Krb5LoginModule") {
            translate_krb5_jaas(jaas, &mut props)?;
        } else if module.ends_with("OAuthBearerLoginModule") {
            translate_oauth_jaas(jaas, &mut props)?;
        } else if !(module.ends_with("ScramLoginModule") || module.ends_with("PlainLoginModule")) {
            return Err(Error::Config(format!(
                "sasl.jaas.config with {module} is not supported; kafsh speaks PLAIN, SCRAM, GSSAPI (Krb5LoginModule) and OAUTHBEARER (OAuthBearerLoginModule)"
            )));
        } else {
            for (java, ours) in [("username", "sasl.username"), ("password", "sasl.password")] {
                if !props.contains_key(ours) {
                    match jaas_option(jaas, java) {
                        Some(value) => {
                            props.insert(ours.into(), value);
                        }
                        None => {
                            return Err(Error::Config(format!(
                                "sasl.jaas.config has no {java}=\"...\"; set {ours} instead"
                            )))
                        }
                    }
                }
            }
        }
        props.remove("sasl.jaas.config");
    }
    if props.contains_key("sasl.oauthbearer.config") {
        return Err(Error::Config(
            "sasl.oauthbearer.config (librdkafka's unsecured test tokens) is not supported; set sasl.oauthbearer.method=oidc or sasl.oauthbearer.token.file".into(),
        ));
    }
    translate_stores(properties, &mut props)?;
    for (java, ours) in [
        ("sasl.mechanism", "sasl.mechanisms"),
        (
            "ssl.endpoint.identification.algorithm",
            "ssl.endpoint.identification.algorithm",
        ),
    ] {
        if let Some(v) = properties.get(java) {
            props.entry(ours.into()).or_insert_with(|| v.clone());
        }
    }
    Ok(props)
}

/// `ssl.truststore.location` / `ssl.keystore.location`: a PEM store is named to the PEM
/// settings as it is; a JKS or PKCS12 store is opened with its password and its contents
/// handed on as PEM text (`ssl.ca.pem`, `ssl.certificate.pem`, `ssl.key.pem`, librdkafka's
/// in-memory settings), so both paths read the same certificates. A store given besides
/// librdkafka's own settings for the same thing is refused: which one is meant is unclear.
fn translate_stores(
    properties: &BTreeMap<String, String>,
    props: &mut BTreeMap<String, String>,
) -> Result<()> {
    use super::keystore::{self, StoreFormat};
    let conflict = |store: &str, location: &str, ours: &[&str]| -> Result<()> {
        match ours
            .iter()
            .find(|k| properties.get(**k).is_some_and(|v| v != location))
        {
            Some(other) => Err(Error::Config(format!(
                "both {store} and {other} are set; keep one"
            ))),
            None => Ok(()),
        }
    };
    if let Some(location) = properties.get("ssl.truststore.location") {
        let path = Path::new(location);
        let (bytes, format) = keystore::read_store("ssl.truststore.location", path)?;
        conflict(
            "ssl.truststore.location",
            location,
            &["ssl.ca.location", "ssl.ca.pem"],
        )?;
        if format == StoreFormat::Pem {
            props.insert("ssl.ca.location".into(), location.clone());
        } else {
            let certs = keystore::trusted_certificates(
                &bytes,
                format,
                path,
                properties
                    .get("ssl.truststore.password")
                    .map(String::as_str),
            )?;
            props.insert("ssl.ca.pem".into(), keystore::certificates_pem(&certs));
        }
    }
    if let Some(location) = properties.get("ssl.keystore.location") {
        let path = Path::new(location);
        let (bytes, format) = keystore::read_store("ssl.keystore.location", path)?;
        conflict(
            "ssl.keystore.location",
            location,
            &[
                "ssl.certificate.location",
                "ssl.certificate.pem",
                "ssl.key.location",
                "ssl.key.pem",
            ],
        )?;
        if format == StoreFormat::Pem {
            // A PEM keystore holds the key and the certificate chain in one file.
            props.insert("ssl.certificate.location".into(), location.clone());
            props.insert("ssl.key.location".into(), location.clone());
        } else {
            let entry = keystore::key_entry(
                &bytes,
                format,
                path,
                properties.get("ssl.keystore.password").map(String::as_str),
                properties.get("ssl.key.password").map(String::as_str),
            )?;
            props.insert(
                "ssl.certificate.pem".into(),
                keystore::certificates_pem(&entry.chain),
            );
            props.insert(
                "ssl.key.pem".into(),
                keystore::pem("PRIVATE KEY", &entry.key),
            );
            // The key is handed on decrypted.
            props.remove("ssl.key.password");
        }
    }
    Ok(())
}

/// Java's `Krb5LoginModule required useKeyTab=true keyTab="..." principal="..."` (or
/// `useTicketCache=true`) as `sasl.kerberos.keytab` / `sasl.kerberos.principal`; settings
/// given in librdkafka's names win.
fn translate_krb5_jaas(jaas: &str, props: &mut BTreeMap<String, String>) -> Result<()> {
    let flag = |key: &str| jaas_option(jaas, key).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if flag("useKeyTab") {
        let keytab = jaas_option(jaas, "keyTab").ok_or_else(|| {
            Error::Config(
                "sasl.jaas.config: Krb5LoginModule with useKeyTab=true has no keyTab=\"...\"; set sasl.kerberos.keytab instead".into(),
            )
        })?;
        props.entry("sasl.kerberos.keytab".into()).or_insert(keytab);
    } else if !flag("useTicketCache") {
        return Err(Error::Config(
            "sasl.jaas.config: Krb5LoginModule needs useKeyTab=true (with keyTab) or useTicketCache=true; kafsh never asks for a Kerberos password".into(),
        ));
    }
    if let Some(principal) = jaas_option(jaas, "principal") {
        props
            .entry("sasl.kerberos.principal".into())
            .or_insert(principal);
    }
    props
        .entry("sasl.mechanisms".into())
        .or_insert_with(|| "GSSAPI".into());
    Ok(())
}

/// Java's `OAuthBearerLoginModule required clientId="..." clientSecret="..." scope="...";`
/// (with `sasl.oauthbearer.token.endpoint.url` beside it) as the OIDC settings; Java's
/// unsecured test tokens are refused.
fn translate_oauth_jaas(jaas: &str, props: &mut BTreeMap<String, String>) -> Result<()> {
    if jaas.contains("unsecuredLogin") {
        return Err(Error::Config(
            "sasl.jaas.config: OAuthBearerLoginModule's unsecured tokens are not supported; use clientId/clientSecret with sasl.oauthbearer.token.endpoint.url".into(),
        ));
    }
    for (java, ours) in [
        ("clientId", "sasl.oauthbearer.client.id"),
        ("clientSecret", "sasl.oauthbearer.client.secret"),
        ("scope", "sasl.oauthbearer.scope"),
    ] {
        if let Some(value) = jaas_option(jaas, java) {
            props.entry(ours.into()).or_insert(value);
        }
    }
    props
        .entry("sasl.oauthbearer.method".into())
        .or_insert_with(|| "oidc".into());
    props
        .entry("sasl.mechanisms".into())
        .or_insert_with(|| "OAUTHBEARER".into());
    Ok(())
}

/// `key="value"` (or `key=value`) from a JAAS line.
pub(crate) fn jaas_option(jaas: &str, key: &str) -> Option<String> {
    let mut rest = jaas;
    while let Some(at) = rest.find(key) {
        let before_ok = at == 0
            || rest[..at]
                .chars()
                .last()
                .is_some_and(|c| c.is_whitespace() || c == ';');
        let after = rest[at + key.len()..].trim_start();
        if before_ok {
            if let Some(value) = after.strip_prefix('=') {
                let value = value.trim_start();
                if let Some(quoted) = value.strip_prefix('"') {
                    return quoted.find('"').map(|end| quoted[..end].to_string());
                }
                let end = value
                    .find(|c: char| c.is_whitespace() || c == ';')
                    .unwrap_or(value.len());
                return Some(value[..end].to_string());
            }
        }
        rest = &rest[at + key.len()..];
    }
    None
}

fn tls_config(props: &BTreeMap<String, String>) -> Result<(rustls::ClientConfig, String)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let ca_source = match (props.get("ssl.ca.pem"), props.get("ssl.ca.location")) {
        (Some(text), _) => {
            let certs = pem_certs(text.as_bytes(), "ssl.ca.pem")?;
            let (added, _ignored) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(Error::Config(
                    "ssl.ca.pem holds no usable CA certificate".into(),
                ));
            }
            match props.get("ssl.truststore.location") {
                Some(store) => format!("ssl.truststore.location {store}"),
                None => "ssl.ca.pem".into(),
            }
        }
        (None, Some(path)) => {
            let added = add_pem_certs(&mut roots, Path::new(path), "ssl.ca.location")?;
            if added == 0 {
                return Err(Error::Config(format!(
                    "ssl.ca.location {path} holds no PEM certificate"
                )));
            }
            format!("ssl.ca.location {path}")
        }
        (None, None) => {
            let bundle = SYSTEM_CA_BUNDLES
                .iter()
                .find(|p| Path::new(p).exists())
                .ok_or_else(|| {
                    Error::Config(
                        "TLS needs trusted CAs: set ssl.ca.location (no system CA bundle found)"
                            .into(),
                    )
                })?;
            add_pem_certs(&mut roots, Path::new(bundle), "the system CA bundle")?;
            format!("the system CA bundle {bundle}")
        }
    };
    let roots = Arc::new(roots);
    let verify_names = !matches!(
        props
            .get("ssl.endpoint.identification.algorithm")
            .map(|a| a.trim().to_ascii_lowercase())
            .as_deref(),
        Some("") | Some("none")
    );
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?;
    let builder = if verify_names {
        builder.with_root_certificates(roots)
    } else {
        let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .map_err(|e| Error::Config(format!("TLS: {e}")))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnlyVerifier(inner)))
    };
    let certs = match (
        props.get("ssl.certificate.pem"),
        props.get("ssl.certificate.location"),
    ) {
        (Some(text), _) => Some(pem_certs(text.as_bytes(), "ssl.certificate.pem")?),
        (None, Some(path)) => Some(read_certs(Path::new(path), "ssl.certificate.location")?),
        (None, None) => None,
    };
    let config = match certs {
        Some(certs) => {
            let key = match (props.get("ssl.key.pem"), props.get("ssl.key.location")) {
                (Some(text), _) => PrivateKeyDer::from_pem_slice(text.as_bytes()).map_err(|e| {
                    Error::Config(format!("ssl.key.pem holds no PEM private key: {e}"))
                })?,
                (None, Some(key_path)) => read_key(
                    Path::new(key_path),
                    props.get("ssl.key.password").map(String::as_str),
                )?,
                (None, None) => {
                    return Err(Error::Config(
                        "a client certificate needs its key: ssl.key.location (or ssl.keystore.location)".into(),
                    ))
                }
            };
            let source = props
                .get("ssl.keystore.location")
                .map(|s| format!("ssl.keystore.location {s}"))
                .or_else(|| {
                    props
                        .get("ssl.certificate.location")
                        .map(|s| format!("ssl.certificate.location {s}"))
                })
                .unwrap_or_else(|| "ssl.certificate.pem".into());
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| Error::Config(format!("{source}: {e}")))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok((config, ca_source))
}

/// Certificates from PEM text (librdkafka's `ssl.*.pem` settings, or a keystore's contents).
fn pem_certs(text: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs: std::result::Result<Vec<_>, _> = CertificateDer::pem_slice_iter(text).collect();
    let certs = certs.map_err(|e| Error::Config(format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(Error::Config(format!("{what} holds no PEM certificate")));
    }
    Ok(certs)
}

fn read_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs: std::result::Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| Error::Config(format!("{what} {}: {e}", path.display())))?
        .collect();
    let certs = certs.map_err(|e| Error::Config(format!("{what} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "{what} {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

fn add_pem_certs(roots: &mut rustls::RootCertStore, path: &Path, what: &str) -> Result<usize> {
    let certs = read_certs(path, what)?;
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    Ok(added)
}

/// The client key: PEM PKCS#8, PKCS#1 or SEC1, or an encrypted PKCS#8 key
/// (`-----BEGIN ENCRYPTED PRIVATE KEY-----`, PBES2 as `openssl pkcs8 -topk8` writes it)
/// decrypted with `ssl.key.password`.
fn read_key(path: &Path, password: Option<&str>) -> Result<PrivateKeyDer<'static>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("ssl.key.location {}: {e}", path.display())))?;
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let Some(password) = password else {
            return Err(Error::Config(format!(
                "ssl.key.location {} is an encrypted key: set ssl.key.password",
                path.display()
            )));
        };
        return decrypt_pkcs8(&text, password).map_err(|why| {
            Error::Config(format!(
                "ssl.key.location {}: cannot decrypt the key with ssl.key.password: {why}",
                path.display()
            ))
        });
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(Error::Config(format!(
            "ssl.key.location {} is encrypted the legacy OpenSSL way, which kafsh cannot read; convert it to PKCS#8: openssl pkcs8 -topk8 -v2 aes-256-cbc -in {} -out key.p8.pem",
            path.display(),
            path.display()
        )));
    }
    PrivateKeyDer::from_pem_slice(text.as_bytes()).map_err(|e| {
        Error::Config(format!(
            "ssl.key.location {} holds no PEM private key: {e}",
            path.display()
        ))
    })
}

/// Decrypts a PEM `ENCRYPTED PRIVATE KEY`. The error says what failed, never the password.
fn decrypt_pkcs8(pem: &str, password: &str) -> std::result::Result<PrivateKeyDer<'static>, String> {
    use pkcs8::der::Decode;
    let (label, document) = pkcs8::SecretDocument::from_pem(pem).map_err(|e| e.to_string())?;
    if label != "ENCRYPTED PRIVATE KEY" {
        return Err(format!("unexpected PEM label {label:?}"));
    }
    let info = pkcs8::EncryptedPrivateKeyInfo::from_der(document.as_bytes())
        .map_err(|e| format!("not an encrypted PKCS#8 key: {e}"))?;
    let plain = info.decrypt(password.as_bytes()).map_err(|_| {
        "wrong password or unsupported encryption (PBES2 with AES-CBC is supported)".to_string()
    })?;
    Ok(PrivateKeyDer::Pkcs8(plain.as_bytes().to_vec().into()))
}

/// `ssl.endpoint.identification.algorithm=none`: the chain must still lead to a trusted
/// CA, but the certificate need not name the host.
#[derive(Debug)]
struct ChainOnlyVerifier(Arc<rustls::client::WebPkiServerVerifier>);

/// A verifier that checks the chain and not the name (hostname verification off), for
/// ZooKeeper's TLS too.
pub(crate) fn chain_only(
    inner: Arc<rustls::client::WebPkiServerVerifier>,
) -> impl rustls::client::danger::ServerCertVerifier {
    ChainOnlyVerifier(inner)
}

impl rustls::client::danger::ServerCertVerifier for ChainOnlyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn plaintext_by_default() {
        let s = Security::from_properties(&BTreeMap::new()).expect("plain");
        assert_eq!(s.protocol(), "PLAINTEXT");
    }

    #[test]
    fn scram_from_a_java_jaas_line() {
        let s = Security::from_properties(&props(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            (
                "sasl.jaas.config",
                r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s3cr=t;x";"#,
            ),
        ]))
        .expect("scram");
        let sasl = s.sasl.expect("sasl");
        assert_eq!(sasl.mechanism, Mechanism::ScramSha512);
        assert_eq!(sasl.username, "alice");
        assert_eq!(sasl.password, "s3cr=t;x");
        assert!(!format!("{sasl:?}").contains("s3cr"));
    }

    #[test]
    fn the_data_path_gets_the_same_settings_in_librdkafka_names() {
        let data = data_path_properties(&props(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "SCRAM-SHA-256"),
            (
                "sasl.jaas.config",
                r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="pw";"#,
            ),
            ("ssl.endpoint.identification.algorithm", ""),
            ("request.timeout.ms", "1000"),
        ]))
        .expect("data path");
        let get = |k: &str| {
            data.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("security.protocol"), Some("SASL_PLAINTEXT"));
        assert_eq!(get("sasl.mechanisms"), Some("SCRAM-SHA-256"));
        assert_eq!(get("sasl.username"), Some("alice"));
        assert_eq!(get("sasl.password"), Some("pw"));
        assert_eq!(get("ssl.endpoint.identification.algorithm"), Some("none"));
        assert_eq!(get("sasl.jaas.config"), None);
        assert_eq!(get("request.timeout.ms"), None);
        // librdkafka's default mechanism is GSSAPI: PLAIN is said explicitly.
        let plain = data_path_properties(&props(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.username", "u"),
            ("sasl.password", "p"),
        ]))
        .expect("plain");
        assert!(plain.contains(&("sasl.mechanisms".into(), "PLAIN".into())));
        // What the admin path refuses, the data path refuses too.
        assert!(data_path_properties(&props(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "OAUTHBEARER")
        ]))
        .is_err());
    }

    #[test]
    fn the_data_path_gets_kerberos_settings_and_no_oauth_secrets() {
        let get = |data: &[(String, String)], k: &str| {
            data.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        // A keytab: librdkafka runs kinit with it, quoted for the shell.
        let data = data_path_properties(&props(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "GSSAPI"),
            ("sasl.kerberos.keytab", "/etc/kafka/it's.keytab"),
            ("sasl.kerberos.principal", "kafsh@EXAMPLE.COM"),
        ]))
        .expect("keytab");
        assert_eq!(get(&data, "sasl.mechanisms").as_deref(), Some("GSSAPI"));
        assert_eq!(
            get(&data, "sasl.kerberos.service.name").as_deref(),
            Some("kafka")
        );
        assert_eq!(
            get(&data, "sasl.kerberos.kinit.cmd").as_deref(),
            Some(r"kinit -k -t '/etc/kafka/it'\''s.keytab' 'kafsh@EXAMPLE.COM' >/dev/null 2>&1")
        );
        // The Java line with a ticket cache: nothing to run, the cache is read.
        let data = data_path_properties(&props(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "GSSAPI"),
            ("sasl.kerberos.service.name", "kfk"),
            (
                "sasl.jaas.config",
                "com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true;",
            ),
        ]))
        .expect("ticket cache");
        assert_eq!(
            get(&data, "sasl.kerberos.service.name").as_deref(),
            Some("kfk")
        );
        assert_eq!(get(&data, "sasl.kerberos.kinit.cmd"), None);
        assert_eq!(
            get(&data, "sasl.kerberos.min.time.before.relogin").as_deref(),
            Some("0")
        );
        // A keytab without its principal: never librdkafka's default (DataPath fills in the
        // keytab's own).
        let err = data_path_properties(&props(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "GSSAPI"),
            ("sasl.kerberos.keytab", "/etc/kafka/kafsh.keytab"),
        ]))
        .expect_err("no principal");
        assert!(err.to_string().contains("sasl.kerberos.principal"), "{err}");
        // OAUTHBEARER: the mechanism only; kafsh's token source serves librdkafka.
        let data = data_path_properties(&props(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "OAUTHBEARER"),
            ("sasl.oauthbearer.method", "oidc"),
            ("sasl.oauthbearer.token.endpoint.url", "https://idp/token"),
            ("sasl.oauthbearer.client.id", "kafsh"),
            ("sasl.oauthbearer.client.secret", "Cs-unit-8f2a"),
        ]))
        .expect("oauth");
        assert_eq!(
            get(&data, "sasl.mechanisms").as_deref(),
            Some("OAUTHBEARER")
        );
        assert!(
            data.iter()
                .all(|(k, v)| !k.starts_with("sasl.oauthbearer") && !v.contains("Cs-unit")),
            "{data:?}"
        );
    }

    #[test]
    fn unsupported_java_settings_name_the_librdkafka_property() {
        for (pairs, hint) in [
            (
                vec![
                    ("security.protocol", "SSL"),
                    ("ssl.truststore.location", "/nonexistent/truststore.jks"),
                ],
                "ssl.truststore.location /nonexistent/truststore.jks",
            ),
            (
                vec![(
                    "sasl.jaas.config",
                    "com.sun.security.auth.module.Krb5LoginModule required;",
                )],
                "useKeyTab=true (with keyTab) or useTicketCache=true",
            ),
            (
                vec![
                    ("sasl.mechanism", "OAUTHBEARER"),
                    ("security.protocol", "SASL_SSL"),
                ],
                "sasl.oauthbearer.method=oidc",
            ),
            (
                vec![
                    ("sasl.mechanism", "AWS_MSK_IAM"),
                    ("security.protocol", "SASL_SSL"),
                ],
                "GSSAPI and OAUTHBEARER",
            ),
        ] {
            let err = Security::from_properties(&props(&pairs)).expect_err("refused");
            assert!(err.to_string().contains(hint), "{err}");
        }
    }

    #[test]
    fn a_store_besides_the_librdkafka_setting_for_the_same_thing_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = dir.path().join("ca.pem");
        std::fs::write(&store, "-----BEGIN CERTIFICATE-----\n").expect("write");
        let err = Security::from_properties(&props(&[
            ("security.protocol", "SSL"),
            ("ssl.truststore.location", &store.display().to_string()),
            ("ssl.ca.location", "/etc/kafka/other-ca.pem"),
        ]))
        .expect_err("ambiguous");
        assert!(
            err.to_string()
                .contains("both ssl.truststore.location and ssl.ca.location are set"),
            "{err}"
        );
        let err = Security::from_properties(&props(&[
            ("security.protocol", "SSL"),
            ("ssl.keystore.location", "/nonexistent/keystore.p12"),
        ]))
        .expect_err("missing");
        assert!(
            err.to_string()
                .contains("ssl.keystore.location /nonexistent/keystore.p12"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_password_says_where_to_put_it() {
        let err = Security::from_properties(&props(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.username", "alice"),
        ]))
        .expect_err("no password");
        assert!(err.to_string().contains("password_file"), "{err}");
    }

    #[test]
    fn a_krb5_jaas_line_becomes_the_kerberos_settings() {
        let s = Security::from_properties(&props(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.kerberos.service.name", "kafka"),
            (
                "sasl.jaas.config",
                r#"com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="/etc/security/keytabs/ops.keytab" principal="ops@EXAMPLE.COM";"#,
            ),
        ]))
        .expect("gssapi");
        let sasl = s.sasl.expect("sasl");
        assert_eq!(sasl.mechanism, Mechanism::Gssapi);
        let k = sasl.kerberos.expect("kerberos");
        assert_eq!(
            k.keytab.as_deref(),
            Some("/etc/security/keytabs/ops.keytab")
        );
        assert_eq!(k.principal.as_deref(), Some("ops@EXAMPLE.COM"));
        assert_eq!(k.service_name, "kafka");
        let s = Security::from_properties(&props(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "GSSAPI"),
            (
                "sasl.jaas.config",
                "com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true;",
            ),
        ]))
        .expect("ticket cache");
        let k = s.sasl.and_then(|s| s.kerberos).expect("kerberos");
        assert_eq!((k.keytab, k.principal), (None, None));
    }

    #[test]
    fn an_oauth_jaas_line_becomes_the_oidc_settings() {
        let s = Security::from_properties(&props(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "OAUTHBEARER"),
            ("sasl.oauthbearer.token.endpoint.url", "https://idp.example.com/token"),
            (
                "sasl.jaas.config",
                r#"org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="kafsh" clientSecret="s3cr3t" scope="kafka";"#,
            ),
        ]))
        .expect("oauth");
        let sasl = s.sasl.expect("sasl");
        assert_eq!(sasl.mechanism, Mechanism::OAuthBearer);
        let debug = format!("{sasl:?}");
        assert!(
            debug.contains("kafsh") && !debug.contains("s3cr3t"),
            "{debug}"
        );
        match sasl.oauth.as_deref() {
            Some(super::super::oauth::TokenSource::ClientCredentials {
                endpoint, scope, ..
            }) => {
                assert_eq!(endpoint, "https://idp.example.com/token");
                assert_eq!(scope.as_deref(), Some("kafka"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn jaas_options_quoted_or_bare() {
        let line = r#"x.PlainLoginModule required username=bob password="a b";"#;
        assert_eq!(jaas_option(line, "username").as_deref(), Some("bob"));
        assert_eq!(jaas_option(line, "password").as_deref(), Some("a b"));
    }
}
