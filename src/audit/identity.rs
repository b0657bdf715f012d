//! Who is making a change, as the system knows it rather than as the environment claims:
//! the real uid and its name from the user database, the person behind `sudo`, the login
//! user of the session (the kernel's login uid survives `su` and `sudo`), and the principal
//! kafsh authenticates to Kafka as.

use serde::Serialize;
use std::collections::BTreeMap;

/// The identity recorded with every audit entry.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Identity {
    /// The user name of the real uid (from the user database, not `$USER`).
    pub user: String,
    /// The real uid.
    pub uid: u32,
    /// `SUDO_USER`, when run through sudo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sudo_user: Option<String>,
    /// `SUDO_UID`, when run through sudo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sudo_uid: Option<u32>,
    /// The user who logged in to this session (the kernel's login uid), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_user: Option<String>,
}

impl Identity {
    /// The identity of this process.
    pub fn current() -> Identity {
        // SAFETY: getuid cannot fail and reads no memory of ours.
        let uid = unsafe { libc::getuid() };
        let login_uid = std::fs::read_to_string("/proc/self/loginuid")
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
            .filter(|id| *id != u32::MAX);
        Identity {
            user: user_name(uid).unwrap_or_else(|| format!("uid {uid}")),
            uid,
            sudo_user: std::env::var("SUDO_USER").ok().filter(|s| !s.is_empty()),
            sudo_uid: std::env::var("SUDO_UID").ok().and_then(|s| s.parse().ok()),
            login_user: login_uid.map(|id| user_name(id).unwrap_or_else(|| format!("uid {id}"))),
        }
    }
}

/// The name of `uid` in the user database (getpwuid_r), if it has one.
pub fn user_name(uid: u32) -> Option<String> {
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: getpwuid_r writes into `pwd` and `buf`, both ours and large enough (it
    // reports ERANGE otherwise); `result` points at `pwd` or is null.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            uid,
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// The principal Kafka knows kafsh as, from the client properties: `User:<name>` for SASL,
/// the client certificate's subject for mutual TLS, none for an anonymous connection.
pub fn kafka_principal(properties: &BTreeMap<String, String>) -> Option<String> {
    let protocol = properties
        .get("security.protocol")
        .map(|p| p.to_ascii_uppercase())
        .unwrap_or_default();
    if protocol.starts_with("SASL") {
        if let Some(user) = properties.get("sasl.username") {
            return Some(format!("User:{user}"));
        }
    }
    let cert = properties.get("ssl.certificate.location")?;
    let pem = std::fs::read(cert).ok()?;
    certificate_subject(&pem).map(|s| format!("User:{s}"))
}

/// The subject of the first certificate in a PEM file, as RFC 4514 text.
pub fn certificate_subject(pem: &[u8]) -> Option<String> {
    use x509_cert::der::DecodePem;
    let text = std::str::from_utf8(pem).ok()?;
    let begin = text.find("-----BEGIN CERTIFICATE-----")?;
    let end = text[begin..].find("-----END CERTIFICATE-----")? + begin + 25;
    let cert = x509_cert::Certificate::from_pem(&text[begin..end]).ok()?;
    Some(cert.tbs_certificate.subject.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_uid_is_named_from_the_user_database() {
        let me = Identity::current();
        // SAFETY: getuid cannot fail.
        assert_eq!(me.uid, unsafe { libc::getuid() });
        assert_eq!(user_name(0).as_deref(), Some("root"));
    }

    #[test]
    fn sasl_principal() {
        let props: BTreeMap<String, String> = [
            ("security.protocol".to_string(), "SASL_SSL".to_string()),
            ("sasl.username".to_string(), "alice".to_string()),
        ]
        .into();
        assert_eq!(kafka_principal(&props).as_deref(), Some("User:alice"));
        assert_eq!(kafka_principal(&BTreeMap::new()), None);
    }
}
