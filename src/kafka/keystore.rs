//! Java keystores read as they are: the `ssl.truststore.location` / `ssl.keystore.location`
//! files a Kafka tool's client properties name, in JKS or PKCS12 (told apart by their first
//! bytes, as Java's own loader does, whatever `ssl.*.type` says), opened with their
//! passwords and turned into PEM text for both paths: rustls on the admin path and
//! librdkafka's `ssl.ca.pem` / `ssl.certificate.pem` / `ssl.key.pem` on the data path.
//! PKCS12 through the `p12-keystore` crate, JKS through the `jks` crate. Errors name the
//! setting and the file, never a password.

use crate::error::{Error, Result};
use std::path::Path;

/// What a file holds, judged by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFormat {
    /// Java's proprietary JKS (magic `FEEDFEED`).
    Jks,
    /// JCEKS (magic `CECECECE`), which kafsh does not read.
    Jceks,
    /// PKCS#12 (a DER sequence).
    Pkcs12,
    /// PEM text.
    Pem,
}

impl StoreFormat {
    /// The format of a store's bytes, if it is one kafsh knows.
    pub fn sniff(bytes: &[u8]) -> Option<StoreFormat> {
        match bytes {
            [0xFE, 0xED, 0xFE, 0xED, ..] => Some(StoreFormat::Jks),
            [0xCE, 0xCE, 0xCE, 0xCE, ..] => Some(StoreFormat::Jceks),
            [0x30, ..] => Some(StoreFormat::Pkcs12),
            _ if String::from_utf8_lossy(&bytes[..bytes.len().min(4096)])
                .contains("-----BEGIN") =>
            {
                Some(StoreFormat::Pem)
            }
            _ => None,
        }
    }
}

/// A key store's private key (PKCS#8 DER) and its certificate chain (DER, leaf first).
pub struct KeyEntry {
    /// The private key, PKCS#8 DER.
    pub key: Vec<u8>,
    /// The certificate chain, leaf first.
    pub chain: Vec<Vec<u8>>,
}

/// Certificates (DER) as one PEM text, in order.
pub fn certificates_pem(certs: &[Vec<u8>]) -> String {
    certs.iter().map(|c| pem("CERTIFICATE", c)).collect()
}

/// The file's bytes and format, or an error naming the setting.
pub fn read_store(setting: &str, path: &Path) -> Result<(Vec<u8>, StoreFormat)> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Config(format!("{setting} {}: {e}", path.display())))?;
    let format = StoreFormat::sniff(&bytes).ok_or_else(|| {
        Error::Config(format!(
            "{setting} {} is neither a JKS, a PKCS12 nor a PEM store",
            path.display()
        ))
    })?;
    if format == StoreFormat::Jceks {
        return Err(Error::Config(format!(
            "{setting} {} is a JCEKS store, which kafsh cannot read; convert it: keytool -importkeystore -srckeystore {} -srcstoretype JCEKS -destkeystore store.p12 -deststoretype PKCS12",
            path.display(),
            path.display()
        )));
    }
    Ok((bytes, format))
}

fn wrong_password(setting: &str, password_setting: &str, path: &Path, why: String) -> Error {
    Error::Config(format!(
        "{setting} {}: cannot open it with {password_setting} (wrong password or a damaged store): {why}",
        path.display()
    ))
}

/// The trusted certificates (DER) of a truststore: its trusted-certificate entries, else
/// the chains of its key entries.
pub fn trusted_certificates(
    bytes: &[u8],
    format: StoreFormat,
    path: &Path,
    password: Option<&str>,
) -> Result<Vec<Vec<u8>>> {
    trusted_certificates_of(
        bytes,
        format,
        path,
        password,
        ("ssl.truststore.location", "ssl.truststore.password"),
    )
}

/// [`trusted_certificates`] with the names of the settings that gave the store and its
/// password (for errors), e.g. ZooKeeper's `zookeeper.ssl.trustStore.location`.
pub fn trusted_certificates_of(
    bytes: &[u8],
    format: StoreFormat,
    path: &Path,
    password: Option<&str>,
    names: (&str, &str),
) -> Result<Vec<Vec<u8>>> {
    #[allow(non_snake_case)]
    let (SETTING, PASSWORD) = names;
    let password = password.ok_or_else(|| {
        Error::Config(format!(
            "{SETTING} {} is a {format:?} store: set {PASSWORD}",
            path.display()
        ))
    })?;
    let (trusted, chains) = match format {
        StoreFormat::Pkcs12 => {
            let store = p12_keystore::KeyStore::from_pkcs12(
                bytes,
                password,
                p12_keystore::Pkcs12ImportPolicy::Relaxed,
            )
            .map_err(|e| wrong_password(SETTING, PASSWORD, path, e.to_string()))?;
            let mut trusted = Vec::new();
            let mut chains = Vec::new();
            for (_, entry) in store.entries() {
                match entry {
                    p12_keystore::KeyStoreEntry::Certificate(cert) => {
                        trusted.push(cert.as_der().to_vec())
                    }
                    p12_keystore::KeyStoreEntry::PrivateKeyChain(chain) => {
                        chains.extend(chain.certs().iter().map(|c| c.as_der().to_vec()))
                    }
                    p12_keystore::KeyStoreEntry::Secret(_) => {}
                }
            }
            (trusted, chains)
        }
        StoreFormat::Jks => {
            let store = open_jks(bytes, password)
                .map_err(|e| wrong_password(SETTING, PASSWORD, path, e))?;
            let mut trusted = Vec::new();
            let mut chains = Vec::new();
            for alias in store.aliases() {
                if let Ok(entry) = store.get_trusted_certificate_entry(&alias) {
                    trusted.push(entry.certificate.content);
                } else if let Ok(chain) = store.get_private_key_entry_certificate_chain(&alias) {
                    chains.extend(chain.into_iter().map(|c| c.content));
                }
            }
            (trusted, chains)
        }
        StoreFormat::Pem | StoreFormat::Jceks => unreachable!("PEM and JCEKS are not opened here"),
    };
    let certs = if trusted.is_empty() { chains } else { trusted };
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "{SETTING} {} holds no certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// The one private key entry of a keystore. `key_password` opens a JKS key entry (Java's
/// `ssl.key.password`, by default the store's password); a PKCS12 store has one password.
pub fn key_entry(
    bytes: &[u8],
    format: StoreFormat,
    path: &Path,
    store_password: Option<&str>,
    key_password: Option<&str>,
) -> Result<KeyEntry> {
    key_entry_of(
        bytes,
        format,
        path,
        store_password,
        key_password,
        ("ssl.keystore.location", "ssl.keystore.password"),
    )
}

/// [`key_entry`] with the names of the settings that gave the store and its password.
pub fn key_entry_of(
    bytes: &[u8],
    format: StoreFormat,
    path: &Path,
    store_password: Option<&str>,
    key_password: Option<&str>,
    names: (&str, &str),
) -> Result<KeyEntry> {
    #[allow(non_snake_case)]
    let (SETTING, PASSWORD) = names;
    let store_password = store_password.ok_or_else(|| {
        Error::Config(format!(
            "{SETTING} {} is a {format:?} store: set {PASSWORD}",
            path.display()
        ))
    })?;
    let no_key = || {
        Error::Config(format!(
            "{SETTING} {} holds no private key with a certificate",
            path.display()
        ))
    };
    match format {
        StoreFormat::Pkcs12 => {
            let store = p12_keystore::KeyStore::from_pkcs12(
                bytes,
                store_password,
                p12_keystore::Pkcs12ImportPolicy::Strict,
            )
            .map_err(|e| wrong_password(SETTING, PASSWORD, path, e.to_string()))?;
            let (_, chain) = store.private_key_chain().ok_or_else(no_key)?;
            Ok(KeyEntry {
                key: chain.key().as_der().to_vec(),
                chain: chain.certs().iter().map(|c| c.as_der().to_vec()).collect(),
            })
        }
        StoreFormat::Jks => {
            let store = open_jks(bytes, store_password)
                .map_err(|e| wrong_password(SETTING, PASSWORD, path, e))?;
            let alias = store
                .aliases()
                .into_iter()
                .find(|a| store.is_private_key_entry(a))
                .ok_or_else(no_key)?;
            let (password, password_setting) = match key_password {
                Some(p) => (p, "ssl.key.password"),
                None => (store_password, PASSWORD),
            };
            let entry = store
                .get_private_key_entry(&alias, password.as_bytes())
                .map_err(|e| {
                    Error::Config(format!(
                        "{SETTING} {}: cannot decrypt the key {alias:?} with {password_setting}: {e}",
                        path.display()
                    ))
                })?;
            Ok(KeyEntry {
                key: entry.private_key,
                chain: entry
                    .certificate_chain
                    .into_iter()
                    .map(|c| c.content)
                    .collect(),
            })
        }
        StoreFormat::Pem | StoreFormat::Jceks => unreachable!("PEM and JCEKS are not opened here"),
    }
}

fn open_jks(bytes: &[u8], password: &str) -> std::result::Result<jks::KeyStore, String> {
    let mut store = jks::KeyStore::new();
    store
        .load(bytes, password.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(store)
}

/// DER as PEM text with the given label.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_first_bytes() {
        assert_eq!(
            StoreFormat::sniff(&[0xFE, 0xED, 0xFE, 0xED, 0, 0]),
            Some(StoreFormat::Jks)
        );
        assert_eq!(
            StoreFormat::sniff(&[0xCE, 0xCE, 0xCE, 0xCE]),
            Some(StoreFormat::Jceks)
        );
        assert_eq!(
            StoreFormat::sniff(&[0x30, 0x82, 0x01]),
            Some(StoreFormat::Pkcs12)
        );
        assert_eq!(
            StoreFormat::sniff(b"# ca\n-----BEGIN CERTIFICATE-----\n"),
            Some(StoreFormat::Pem)
        );
        assert_eq!(StoreFormat::sniff(b"hello"), None);
    }

    #[test]
    fn pem_wraps_base64_at_64_columns() {
        let text = pem("CERTIFICATE", &[0u8; 100]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last(), Some(&"-----END CERTIFICATE-----"));
        use rustls::pki_types::pem::PemObject;
        let der: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(text.as_bytes())
            .collect::<std::result::Result<_, _>>()
            .expect("parses back");
        assert_eq!(der[0].as_ref(), &[0u8; 100][..]);
    }
}
