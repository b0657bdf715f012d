//! How a ZooKeeper session is secured beyond digest auth: TLS to the secure client port and
//! SASL logins (Kerberos, DIGEST-MD5), from ZooKeeper's own client settings — the
//! properties zkCli's `-client-configuration` file and Kafka's `--zk-tls-config-file` hold
//! (`zookeeper.client.secure`, `zookeeper.ssl.trustStore.location`, ...; names compared
//! without case, so Kafka's lowercase spellings work too) and the JAAS file's `Client`
//! section (`java.security.auth.login.config`) with `Krb5LoginModule` or
//! `DigestLoginModule`, translated. Stores (JKS, PKCS12, PEM) are opened here into PEM
//! text; passwords open them and are not kept. Errors name the setting, never a password.

use crate::error::{Error, Result};
use crate::kafka::keystore::{self, StoreFormat};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// TLS to ZooKeeper's secure client port: the CA to trust and the client's certificate
/// (ZooKeeper's default `ssl.clientAuth=need` asks for one).
#[derive(Clone)]
pub struct ZkTls {
    ca_pem: String,
    identity: Option<(String, String)>,
    verify_hostname: bool,
    /// Where the CA came from, for messages.
    pub source: String,
}

impl std::fmt::Debug for ZkTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZkTls")
            .field("source", &self.source)
            .field("client_certificate", &self.identity.is_some())
            .field("verify_hostname", &self.verify_hostname)
            .finish()
    }
}

/// The one process-wide rustls provider: zookeeper-client builds its TLS configuration
/// with rustls' default provider, which must be chosen when two are compiled in.
fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl ZkTls {
    /// The options of zookeeper-client's TLS connections.
    pub fn options(&self) -> Result<zookeeper_client::TlsOptions> {
        install_provider();
        let bad = |e: zookeeper_client::Error| Error::Config(format!("{}: {e}", self.source));
        let mut options = zookeeper_client::TlsOptions::new()
            .with_pem_ca(&self.ca_pem)
            .map_err(bad)?;
        if let Some((cert, key)) = &self.identity {
            options = options.with_pem_identity(cert, key).map_err(bad)?;
        }
        if !self.verify_hostname {
            // SAFETY (of the library's contract): the user turned hostname verification off
            // (zookeeper.ssl.hostnameVerification=false); the chain is still verified.
            options = unsafe { options.with_no_hostname_verification() };
        }
        Ok(options)
    }

    /// A connector for four-letter words over TLS (ZooKeeper answers them on the secure
    /// port, after the handshake).
    pub fn connector(&self) -> Result<tokio_rustls::TlsConnector> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for cert in pem_blocks(&self.ca_pem, "CERTIFICATE") {
            roots
                .add(rustls::pki_types::CertificateDer::from(cert))
                .map_err(|e| Error::Config(format!("{}: {e}", self.source)))?;
        }
        let roots = Arc::new(roots);
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("TLS: {e}")))?;
        let builder = if self.verify_hostname {
            builder.with_root_certificates(roots)
        } else {
            let inner =
                rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
                    .build()
                    .map_err(|e| Error::Config(format!("TLS: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(crate::kafka::security::chain_only(
                    inner,
                )))
        };
        let config = match &self.identity {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = pem_blocks(cert, "CERTIFICATE")
                    .into_iter()
                    .map(rustls::pki_types::CertificateDer::from)
                    .collect();
                let key = pem_blocks(key, "PRIVATE KEY")
                    .into_iter()
                    .next()
                    .ok_or_else(|| {
                        Error::Config(format!("{}: no PKCS#8 private key", self.source))
                    })?;
                builder
                    .with_client_auth_cert(
                        chain,
                        rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
                    )
                    .map_err(|e| Error::Config(format!("{}: {e}", self.source)))?
            }
        };
        Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
    }
}

/// The DER contents of the PEM blocks labelled `label`.
fn pem_blocks(text: &str, label: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(&begin) {
        let after = &rest[at + begin.len()..];
        let Some(stop) = after.find(&end) else { break };
        let body: String = after[..stop].split_whitespace().collect();
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(body) {
            out.push(der);
        }
        rest = &after[stop + end.len()..];
    }
    out
}

/// A Kerberos login to ZooKeeper (SASL GSSAPI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkKerberos {
    /// The client's keytab; `None`: the ticket cache.
    pub keytab: Option<String>,
    /// The client's principal (the keytab's or cache's first when absent).
    pub principal: Option<String>,
    /// A ticket cache other than the default (`KRB5CCNAME`): JAAS `ticketCache`.
    pub ticket_cache: Option<String>,
    /// The server principal's first part (`zookeeper.sasl.client.username`, default
    /// "zookeeper").
    pub service: String,
    /// The server principal's host part when it is not the connect string's host (from
    /// `zookeeper.server.principal`).
    pub host: Option<String>,
    /// The settings that asked for it, for messages.
    pub source: String,
}

/// Everything a session authenticates and encrypts with.
#[derive(Debug, Clone, Default)]
pub struct ZkAuth {
    /// Digest auth `user:password` (`addauth digest`).
    pub digest: Option<String>,
    /// SASL DIGEST-MD5 `user:password`.
    pub sasl: Option<String>,
    /// TLS to the secure client port.
    pub tls: Option<ZkTls>,
    /// SASL Kerberos.
    pub kerberos: Option<ZkKerberos>,
}

/// What the ZooKeeper client settings ask for besides the connect string.
#[derive(Debug, Clone, Default)]
pub struct ZkClientSecurity {
    /// TLS to the secure client port.
    pub tls: Option<ZkTls>,
    /// SASL Kerberos.
    pub kerberos: Option<ZkKerberos>,
    /// SASL DIGEST-MD5 `user:password` from a JAAS `DigestLoginModule`.
    pub digest_md5: Option<String>,
}

const KNOWN: &[&str] = &[
    "zookeeper.client.secure",
    "zookeeper.ssl.client.enable",
    "zookeeper.clientcnxnsocket",
    "zookeeper.ssl.truststore.location",
    "zookeeper.ssl.truststore.password",
    "zookeeper.ssl.truststore.passwordpath",
    "zookeeper.ssl.truststore.type",
    "zookeeper.ssl.keystore.location",
    "zookeeper.ssl.keystore.password",
    "zookeeper.ssl.keystore.passwordpath",
    "zookeeper.ssl.keystore.type",
    "zookeeper.ssl.hostnameverification",
    "zookeeper.ssl.endpoint.identification.algorithm",
    "zookeeper.sasl.client",
    "zookeeper.sasl.clientconfig",
    "zookeeper.sasl.client.username",
    "zookeeper.sasl.client.canonicalize.hostname",
    "zookeeper.server.principal",
    "zookeeper.server.realm",
    "java.security.auth.login.config",
];

/// The settings by lowercase name: (the name as given, the value).
struct Props(BTreeMap<String, (String, String)>);

impl Props {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|(_, v)| v.as_str())
    }

    /// The name as the user spelled it, else ZooKeeper's spelling.
    fn name_of(&self, key: &str) -> String {
        self.0
            .get(key)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| canonical(key))
    }
}

/// ZooKeeper's spelling of a setting named in lowercase.
fn canonical(key: &str) -> String {
    key.replace("truststore", "trustStore")
        .replace("keystore", "keyStore")
        .replace("passwordpath", "passwordPath")
        .replace("hostnameverification", "hostnameVerification")
}

/// Reads the ZooKeeper client properties (names without case) into what they ask for.
pub fn resolve(properties: &BTreeMap<String, String>) -> Result<ZkClientSecurity> {
    let props: BTreeMap<String, (String, String)> = properties
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (k.clone(), v.trim().to_string())))
        .collect();
    for (lower, (name, _)) in &props {
        if !KNOWN.contains(&lower.as_str()) {
            return Err(Error::Config(format!(
                "ZooKeeper client setting {name} is not supported; kafsh reads {}",
                KNOWN.join(", ")
            )));
        }
    }
    let props = Props(props);
    let get = |key: &str| props.get(key);
    let flag = |key: &str| props.get(key).map(|v| v.eq_ignore_ascii_case("true"));
    let mut security = ZkClientSecurity::default();
    let secure = flag("zookeeper.client.secure")
        .or(flag("zookeeper.ssl.client.enable"))
        .unwrap_or(false);
    if secure {
        security.tls = Some(tls(&props)?);
    }
    if flag("zookeeper.sasl.client") != Some(false) {
        if let Some(file) = get("java.security.auth.login.config") {
            let section = get("zookeeper.sasl.clientconfig").unwrap_or("Client");
            let (kerberos, digest) = jaas_client(Path::new(file), section)?;
            security.digest_md5 = digest;
            security.kerberos = kerberos.map(|(keytab, principal, ticket_cache)| ZkKerberos {
                keytab,
                principal,
                ticket_cache,
                service: "zookeeper".into(),
                host: None,
                source: format!("the JAAS section {section} of {file}"),
            });
        }
    }
    if let Some(k) = security.kerberos.as_mut() {
        apply_server_principal(
            k,
            get("zookeeper.sasl.client.username"),
            get("zookeeper.server.principal"),
        );
    }
    Ok(security)
}

/// The server principal settings: `zookeeper.sasl.client.username` (the service) and
/// `zookeeper.server.principal` (`service/host@REALM`, which wins).
pub fn apply_server_principal(k: &mut ZkKerberos, service: Option<&str>, principal: Option<&str>) {
    if let Some(service) = service.filter(|s| !s.is_empty()) {
        k.service = service.to_string();
    }
    if let Some(principal) = principal.filter(|p| !p.is_empty()) {
        let without_realm = principal.split('@').next().unwrap_or(principal);
        match without_realm.split_once('/') {
            Some((service, host)) => {
                k.service = service.to_string();
                k.host = Some(host.to_string());
            }
            None => k.service = without_realm.to_string(),
        }
    }
}

fn password_of(props: &Props, store: &str) -> Result<Option<String>> {
    let get = |key: &str| props.get(key);
    let name_of = |key: &str| props.name_of(key);
    let key = format!("zookeeper.ssl.{store}.password");
    if let Some(p) = get(&key) {
        return Ok(Some(p.to_string()));
    }
    let key = format!("zookeeper.ssl.{store}.passwordpath");
    match get(&key) {
        None => Ok(None),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Config(format!("{} {path}: {e}", name_of(&key))))?;
            Ok(Some(text.trim_end_matches(['\r', '\n']).to_string()))
        }
    }
}

fn tls(props: &Props) -> Result<ZkTls> {
    let get = |key: &str| props.get(key);
    let name_of = |key: &str| props.name_of(key);
    let trust_key = "zookeeper.ssl.truststore.location";
    let trust_name = name_of(trust_key);
    let Some(trust) = get(trust_key) else {
        return Err(Error::Config(format!(
            "zookeeper.client.secure=true needs {trust_name} (the CA of the ZooKeeper servers' certificates)"
        )));
    };
    let (bytes, format) = keystore::read_store(&trust_name, Path::new(trust))?;
    let ca_pem = match format {
        StoreFormat::Pem => String::from_utf8_lossy(&bytes).into_owned(),
        _ => {
            let password = password_of(props, "truststore")?;
            keystore::certificates_pem(&keystore::trusted_certificates_of(
                &bytes,
                format,
                Path::new(trust),
                password.as_deref(),
                (&trust_name, &name_of("zookeeper.ssl.truststore.password")),
            )?)
        }
    };
    let key_key = "zookeeper.ssl.keystore.location";
    let identity = match get(key_key) {
        None => None,
        Some(path) => {
            let key_name = name_of(key_key);
            let (bytes, format) = keystore::read_store(&key_name, Path::new(path))?;
            match format {
                StoreFormat::Pem => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    if text.contains("ENCRYPTED PRIVATE KEY")
                        || text.contains("Proc-Type: 4,ENCRYPTED")
                    {
                        return Err(Error::Config(format!(
                            "{key_name} {path}: an encrypted PEM key; give a PKCS12 or JKS keystore, or an unencrypted PKCS#8 key"
                        )));
                    }
                    let key: String = pem_blocks(&text, "PRIVATE KEY")
                        .iter()
                        .map(|k| keystore::pem("PRIVATE KEY", k))
                        .collect();
                    if key.is_empty() {
                        return Err(Error::Config(format!(
                            "{key_name} {path} holds no PKCS#8 private key (BEGIN PRIVATE KEY)"
                        )));
                    }
                    Some((text, key))
                }
                _ => {
                    let password = password_of(props, "keystore")?;
                    let entry = keystore::key_entry_of(
                        &bytes,
                        format,
                        Path::new(path),
                        password.as_deref(),
                        None,
                        (&key_name, &name_of("zookeeper.ssl.keystore.password")),
                    )?;
                    Some((
                        keystore::certificates_pem(&entry.chain),
                        keystore::pem("PRIVATE KEY", &entry.key),
                    ))
                }
            }
        }
    };
    let off = |v: Option<&str>, off_values: &[&str]| {
        v.is_some_and(|v| off_values.iter().any(|o| v.eq_ignore_ascii_case(o)))
    };
    let verify_hostname = !off(get("zookeeper.ssl.hostnameverification"), &["false"])
        && !off(
            get("zookeeper.ssl.endpoint.identification.algorithm"),
            &["", "none"],
        );
    Ok(ZkTls {
        ca_pem,
        identity,
        verify_hostname,
        source: format!("{trust_name} {trust}"),
    })
}

/// A JAAS login section, translated: Kerberos (keytab, principal, ticket cache) or
/// DIGEST-MD5 (`user:password`).
type JaasClient = (
    Option<(Option<String>, Option<String>, Option<String>)>,
    Option<String>,
);

/// The section `name` of a JAAS file.
fn jaas_client(file: &Path, name: &str) -> Result<JaasClient> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Error::Config(format!(
            "java.security.auth.login.config {}: {e}",
            file.display()
        ))
    })?;
    let section = jaas_section(&text, name).ok_or_else(|| {
        Error::Config(format!(
            "java.security.auth.login.config {} has no section {name}",
            file.display()
        ))
    })?;
    translate_jaas_client(&section, &format!("{} section {name}", file.display()))
}

/// The body of section `name` (`name { ... };`), comments removed.
fn jaas_section(text: &str, name: &str) -> Option<String> {
    let text: String = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("//") || t.starts_with('#') {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        let head = rest[..open].trim();
        let section_name = head
            .rsplit(|c: char| c == ';' || c == '}' || c.is_whitespace())
            .next()
            .unwrap_or("");
        let close = rest[open..].find('}')? + open;
        if section_name == name {
            return Some(rest[open + 1..close].to_string());
        }
        rest = &rest[close + 1..];
    }
    None
}

fn translate_jaas_client(section: &str, what: &str) -> Result<JaasClient> {
    use crate::kafka::security::jaas_option;
    let module = section.split_whitespace().next().unwrap_or("");
    let flag =
        |key: &str| jaas_option(section, key).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if module.ends_with("Krb5LoginModule") {
        let keytab = if flag("useKeyTab") {
            Some(jaas_option(section, "keyTab").ok_or_else(|| {
                Error::Config(format!(
                    "JAAS {what}: Krb5LoginModule with useKeyTab=true has no keyTab=\"...\""
                ))
            })?)
        } else if flag("useTicketCache") {
            None
        } else {
            return Err(Error::Config(format!(
                "JAAS {what}: Krb5LoginModule needs useKeyTab=true (with keyTab) or useTicketCache=true; kafsh never asks for a Kerberos password"
            )));
        };
        let principal = jaas_option(section, "principal");
        let cache = jaas_option(section, "ticketCache").map(|c| {
            if c.contains(':') {
                c
            } else {
                format!("FILE:{c}")
            }
        });
        Ok((Some((keytab, principal, cache)), None))
    } else if module.ends_with("DigestLoginModule") {
        let user = jaas_option(section, "username");
        let password = jaas_option(section, "password");
        match (user, password) {
            (Some(u), Some(p)) => Ok((None, Some(format!("{u}:{p}")))),
            _ => Err(Error::Config(format!(
                "JAAS {what}: DigestLoginModule needs username=\"...\" and password=\"...\""
            ))),
        }
    } else {
        Err(Error::Config(format!(
            "JAAS {what}: {module} is not supported; kafsh speaks Krb5LoginModule (Kerberos) and DigestLoginModule (DIGEST-MD5) to ZooKeeper"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaas_client_sections_are_translated() {
        let text = "// Kafka's docs\nKafkaServer {\n  x required;\n};\nClient {\n  com.sun.security.auth.module.Krb5LoginModule required\n  useKeyTab=true\n  keyTab=\"/etc/kafka/kafka.keytab\"\n  storeKey=true\n  principal=\"kafka/h@R\";\n};\nDigest {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username=\"u\"\n  password=\"p w\";\n};\n";
        let client = jaas_section(text, "Client").expect("Client");
        let (k, d) = translate_jaas_client(&client, "t").expect("krb5");
        assert_eq!(
            k,
            Some((
                Some("/etc/kafka/kafka.keytab".into()),
                Some("kafka/h@R".into()),
                None
            ))
        );
        assert_eq!(d, None);
        let digest = jaas_section(text, "Digest").expect("Digest");
        let (k, d) = translate_jaas_client(&digest, "t").expect("digest");
        assert_eq!((k, d), (None, Some("u:p w".into())));
        let cache = "com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true ticketCache=\"/tmp/cc\";";
        let (k, _) = translate_jaas_client(cache, "t").expect("cache");
        assert_eq!(k, Some((None, None, Some("FILE:/tmp/cc".into()))));
        assert!(translate_jaas_client(
            "com.sun.security.auth.module.Krb5LoginModule required;",
            "t"
        )
        .is_err());
        assert!(jaas_section(text, "Nope").is_none());
    }

    #[test]
    fn debug_shows_no_key() {
        let tls = ZkTls {
            ca_pem: "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n".into(),
            identity: Some((
                "cert".into(),
                "-----BEGIN PRIVATE KEY-----\nU0VDUkVU\n".into(),
            )),
            verify_hostname: true,
            source: "zookeeper.ssl.trustStore.location /x".into(),
        };
        let debug = format!("{tls:?}");
        assert!(
            !debug.contains("U0VDUkVU") && !debug.contains("PRIVATE"),
            "{debug}"
        );
    }

    #[test]
    fn server_principal_settings() {
        let mut k = ZkKerberos {
            keytab: None,
            principal: None,
            ticket_cache: None,
            service: "zookeeper".into(),
            host: None,
            source: String::new(),
        };
        apply_server_principal(&mut k, Some("zk"), None);
        assert_eq!((k.service.as_str(), k.host.as_deref()), ("zk", None));
        apply_server_principal(&mut k, None, Some("zookeeper/zk1.example.com@EXAMPLE.COM"));
        assert_eq!(
            (k.service.as_str(), k.host.as_deref()),
            ("zookeeper", Some("zk1.example.com"))
        );
    }

    #[test]
    fn unknown_settings_and_missing_truststores_are_refused() {
        let props: BTreeMap<String, String> =
            [("zookeeper.ssl.ocsp".to_string(), "true".to_string())].into();
        assert!(resolve(&props)
            .unwrap_err()
            .to_string()
            .contains("zookeeper.ssl.ocsp"));
        let props: BTreeMap<String, String> =
            [("zookeeper.client.secure".to_string(), "true".to_string())].into();
        let err = resolve(&props).unwrap_err().to_string();
        assert!(err.contains("zookeeper.ssl.trustStore.location"), "{err}");
    }
}
