//! SCRAM users: their credentials (DescribeUserScramCredentials), a new password
//! (AlterUserScramCredentials with the salted password computed here, so the password
//! itself never leaves this process), and deleting them. A password is a [`Secret`] read
//! from an environment variable or a file; nothing here ever formats it.

use super::client::{check_code, KafkaClient};
use crate::error::{Error, Result};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, DescribeUserScramCredentialsRequest,
};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;
use std::num::NonZeroU32;

/// Kafka's fewest SCRAM iterations.
pub const MIN_ITERATIONS: u32 = 4096;
/// Kafka's most SCRAM iterations (AlterUserScramCredentials refuses more).
pub const MAX_ITERATIONS: u32 = 16384;

/// A SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum ScramMechanism {
    /// SCRAM-SHA-256.
    #[serde(rename = "SCRAM-SHA-256")]
    Sha256,
    /// SCRAM-SHA-512.
    #[serde(rename = "SCRAM-SHA-512")]
    Sha512,
}

impl ScramMechanism {
    /// Both, in Kafka's order.
    pub const ALL: [ScramMechanism; 2] = [ScramMechanism::Sha256, ScramMechanism::Sha512];

    fn code(self) -> i8 {
        match self {
            ScramMechanism::Sha256 => 1,
            ScramMechanism::Sha512 => 2,
        }
    }

    fn from_code(code: i8) -> Option<ScramMechanism> {
        match code {
            1 => Some(ScramMechanism::Sha256),
            2 => Some(ScramMechanism::Sha512),
            _ => None,
        }
    }

    /// "SCRAM-SHA-256" or "SCRAM-SHA-512".
    pub fn name(self) -> &'static str {
        match self {
            ScramMechanism::Sha256 => "SCRAM-SHA-256",
            ScramMechanism::Sha512 => "SCRAM-SHA-512",
        }
    }

    /// "SCRAM-SHA-512", "scram-sha-256", "sha512", ...
    pub fn parse(text: &str) -> Result<ScramMechanism> {
        let t = text.trim().to_ascii_uppercase().replace('_', "-");
        match t.trim_start_matches("SCRAM-") {
            "SHA-256" | "SHA256" => Ok(ScramMechanism::Sha256),
            "SHA-512" | "SHA512" => Ok(ScramMechanism::Sha512),
            _ => Err(Error::InvalidInput(format!(
                "unknown SCRAM mechanism {text:?} (known: SCRAM-SHA-256, SCRAM-SHA-512)"
            ))),
        }
    }

    fn pbkdf2(self) -> ring::pbkdf2::Algorithm {
        match self {
            ScramMechanism::Sha256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
            ScramMechanism::Sha512 => ring::pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }

    fn output_len(self) -> usize {
        match self {
            ScramMechanism::Sha256 => 32,
            ScramMechanism::Sha512 => 64,
        }
    }
}

/// A password: never printed, never serialized, never in an error message.
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(password: String) -> Secret {
        Secret(password)
    }

    /// The password from environment variable `name`.
    pub fn from_env(name: &str) -> Result<Secret> {
        match std::env::var(name) {
            Ok(v) if !v.is_empty() => Ok(Secret(v)),
            Ok(_) => Err(Error::InvalidInput(format!(
                "environment variable {name} is empty"
            ))),
            Err(_) => Err(Error::InvalidInput(format!(
                "environment variable {name} is not set"
            ))),
        }
    }

    /// The password in file `path` (its first line, without the line end).
    pub fn from_file(path: &std::path::Path) -> Result<Secret> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::InvalidInput(format!("cannot read password file {}: {e}", path.display()))
        })?;
        let first = text.lines().next().unwrap_or("").to_string();
        if first.is_empty() {
            return Err(Error::InvalidInput(format!(
                "password file {} is empty",
                path.display()
            )));
        }
        Ok(Secret(first))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([hidden])")
    }
}

/// SCRAM's SaltedPassword, Hi(password, salt, i) of RFC 5802: what Kafka stores (as keys
/// derived from it) and what AlterUserScramCredentials carries instead of the password.
pub fn salted_password(
    mechanism: ScramMechanism,
    password: &Secret,
    salt: &[u8],
    iterations: u32,
) -> Result<Vec<u8>> {
    let n = NonZeroU32::new(iterations)
        .ok_or_else(|| Error::InvalidInput("iterations must be positive".into()))?;
    let mut out = vec![0u8; mechanism.output_len()];
    ring::pbkdf2::derive(mechanism.pbkdf2(), n, salt, password.0.as_bytes(), &mut out);
    Ok(out)
}

/// One credential of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credential {
    /// The mechanism.
    pub mechanism: ScramMechanism,
    /// Its iterations.
    pub iterations: i32,
}

/// A SCRAM user and its credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScramUser {
    /// The user name (principal `User:<user>`).
    pub user: String,
    /// Mechanism ("SCRAM-SHA-512") → iterations, one per mechanism it can log in with.
    pub credentials: std::collections::BTreeMap<String, i32>,
}

impl ScramUser {
    /// Its credentials as a list.
    pub fn credential_list(&self) -> Vec<Credential> {
        ScramMechanism::ALL
            .iter()
            .filter_map(|m| {
                self.credentials.get(m.name()).map(|i| Credential {
                    mechanism: *m,
                    iterations: *i,
                })
            })
            .collect()
    }
}

/// Refuses a name Kafka would refuse (empty) or that cannot be a SASL user name.
pub fn validate_user(user: &str) -> Result<()> {
    if user.is_empty() || user.len() > 255 || user.chars().any(char::is_control) {
        return Err(Error::InvalidInput(format!(
            "{user:?} is not a SCRAM user name"
        )));
    }
    Ok(())
}

async fn describe(client: &KafkaClient, users: Option<&[String]>) -> Result<Vec<ScramUser>> {
    let request = DescribeUserScramCredentialsRequest::default().with_users(users.map(|u| {
        u.iter()
            .map(|n| UserName::default().with_name(StrBytes::from_string(n.clone())))
            .collect()
    }));
    let response = client.send_any(&request).await?;
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        "DescribeUserScramCredentials",
    )?;
    let mut out = Vec::new();
    for r in response.results {
        let user = r.user.as_str().to_string();
        if r.error_code == ResponseError::ResourceNotFound.code() {
            return Err(Error::NotFound(format!(
                "SCRAM user {user:?} does not exist"
            )));
        }
        check_code(
            r.error_code,
            r.error_message.as_ref(),
            &format!("user {user:?}"),
        )?;
        let credentials = r
            .credential_infos
            .iter()
            .filter_map(|c| {
                ScramMechanism::from_code(c.mechanism).map(|m| (m.name().to_string(), c.iterations))
            })
            .collect();
        out.push(ScramUser { user, credentials });
    }
    out.sort_by(|a, b| a.user.cmp(&b.user));
    Ok(out)
}

/// Every SCRAM user with its mechanisms and iterations.
pub async fn list_users(client: &KafkaClient) -> Result<Vec<ScramUser>> {
    describe(client, None).await
}

/// One SCRAM user; not found when it has no credentials.
pub async fn describe_user(client: &KafkaClient, user: &str) -> Result<ScramUser> {
    validate_user(user)?;
    describe(client, Some(&[user.to_string()]))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::NotFound(format!("SCRAM user {user:?} does not exist")))
}

/// What `set_password` did (never the password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasswordSet {
    /// The user.
    pub user: String,
    /// The mechanism whose credential was set.
    pub mechanism: ScramMechanism,
    /// Its iterations.
    pub iterations: u32,
    /// Whether the user had no credential of this mechanism before.
    pub new_credential: bool,
    /// True when nothing was changed.
    pub dry_run: bool,
}

/// Sets `user`'s credential for `mechanism` to `password`, salted with 32 random bytes
/// and `iterations` here; the broker receives only salt and salted password. With
/// `dry_run`, checks everything and sends nothing.
pub async fn set_password(
    client: &KafkaClient,
    user: &str,
    mechanism: ScramMechanism,
    iterations: u32,
    password: &Secret,
    dry_run: bool,
) -> Result<PasswordSet> {
    validate_user(user)?;
    if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
        return Err(Error::InvalidInput(format!(
            "{iterations} iterations: Kafka takes {MIN_ITERATIONS} to {MAX_ITERATIONS}"
        )));
    }
    let before = match describe_user(client, user).await {
        Ok(u) => Some(u),
        Err(Error::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let new_credential = !before
        .iter()
        .any(|u| u.credentials.contains_key(mechanism.name()));
    if !dry_run {
        let mut salt = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
            .map_err(|_| Error::Failed("no randomness for the SCRAM salt".into()))?;
        let salted = salted_password(mechanism, password, &salt, iterations)?;
        let request = AlterUserScramCredentialsRequest::default().with_upsertions(vec![
            ScramCredentialUpsertion::default()
                .with_name(StrBytes::from_string(user.to_string()))
                .with_mechanism(mechanism.code())
                .with_iterations(iterations as i32)
                .with_salt(bytes::Bytes::copy_from_slice(&salt))
                .with_salted_password(bytes::Bytes::from(salted)),
        ]);
        let response = client.send_to_controller(&request).await?;
        for r in &response.results {
            check_code(
                r.error_code,
                r.error_message.as_ref(),
                &format!("user {user:?}"),
            )?;
        }
        wait_for(client, user, |u| {
            u.is_some_and(|u| u.credentials.get(mechanism.name()) == Some(&(iterations as i32)))
        })
        .await;
    }
    Ok(PasswordSet {
        user: user.to_string(),
        mechanism,
        iterations,
        new_credential,
        dry_run,
    })
}

/// What `delete_user` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeletedUser {
    /// The user.
    pub user: String,
    /// The credentials deleted (or, in a dry run, that would be).
    pub deleted: Vec<Credential>,
    /// Credentials the user keeps (another mechanism).
    pub kept: Vec<Credential>,
    /// True when nothing was changed.
    pub dry_run: bool,
}

/// Deletes `user`'s credential for `mechanism`, or all of them: the user can no longer log
/// in with SCRAM (its ACLs and quotas stay).
pub async fn delete_user(
    client: &KafkaClient,
    user: &str,
    mechanism: Option<ScramMechanism>,
    dry_run: bool,
) -> Result<DeletedUser> {
    let before = describe_user(client, user).await?;
    let (deleted, kept): (Vec<Credential>, Vec<Credential>) = before
        .credential_list()
        .into_iter()
        .partition(|c| mechanism.is_none_or(|m| m == c.mechanism));
    if deleted.is_empty() {
        return Err(Error::NotFound(format!(
            "SCRAM user {user:?} has no {} credential",
            mechanism.map_or("", ScramMechanism::name)
        )));
    }
    if !dry_run {
        let request = AlterUserScramCredentialsRequest::default().with_deletions(
            deleted
                .iter()
                .map(|c| {
                    ScramCredentialDeletion::default()
                        .with_name(StrBytes::from_string(user.to_string()))
                        .with_mechanism(c.mechanism.code())
                })
                .collect(),
        );
        let response = client.send_to_controller(&request).await?;
        for r in &response.results {
            check_code(
                r.error_code,
                r.error_message.as_ref(),
                &format!("user {user:?}"),
            )?;
        }
        let gone: Vec<ScramMechanism> = deleted.iter().map(|c| c.mechanism).collect();
        wait_for(client, user, |u| {
            u.is_none_or(|u| !gone.iter().any(|m| u.credentials.contains_key(m.name())))
        })
        .await;
    }
    Ok(DeletedUser {
        user: user.to_string(),
        deleted,
        kept,
        dry_run,
    })
}

/// Waits (up to 10 s) until a describe shows the change: credentials reach every broker
/// through ZooKeeper watches or the KRaft metadata log a moment after the call.
async fn wait_for(client: &KafkaClient, user: &str, done: impl Fn(Option<&ScramUser>) -> bool) {
    let deadline =
        tokio::time::Instant::now() + client.timeout().min(std::time::Duration::from_secs(10));
    loop {
        match describe_user(client, user).await {
            Ok(u) if done(Some(&u)) => return,
            Err(Error::NotFound(_)) if done(None) => return,
            _ => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    /// RFC 7677's example: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==,
    /// 4096 iterations; the SaltedPassword gives the ClientKey whose hash is the StoredKey
    /// the exchange in `sasl.rs` checks, so one known vector pins Hi() here.
    #[test]
    fn salted_password_is_rfc_5802_hi() {
        let salt = base64::engine::general_purpose::STANDARD
            .decode("W22ZaJ0SNY7soEsUEjb6gQ==")
            .unwrap();
        let salted = salted_password(
            ScramMechanism::Sha256,
            &Secret::new("pencil".into()),
            &salt,
            4096,
        )
        .unwrap();
        assert_eq!(
            salted
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            "c4a49510323ab4f952cac1fa99441939e78ea74d6be81ddf7096e87513dc615d"
        );
        let long = salted_password(
            ScramMechanism::Sha512,
            &Secret::new("pencil".into()),
            &salt,
            4096,
        )
        .unwrap();
        assert_eq!(long.len(), 64);
    }

    #[test]
    fn secrets_never_show() {
        let s = Secret::new("hunter2-very-secret".into());
        assert!(!format!("{s:?}").contains("hunter2"));
        std::env::remove_var("KAFSH_TEST_UNSET_PASSWORD");
        let err = Secret::from_env("KAFSH_TEST_UNSET_PASSWORD").unwrap_err();
        assert!(err.to_string().contains("not set"));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "hunter2-very-secret\n").unwrap();
        let s = Secret::from_file(&f).unwrap();
        assert_eq!(s.0, "hunter2-very-secret");
    }

    #[test]
    fn mechanisms_parse() {
        assert_eq!(
            ScramMechanism::parse("SCRAM-SHA-512").unwrap(),
            ScramMechanism::Sha512
        );
        assert_eq!(
            ScramMechanism::parse("scram_sha_256").unwrap(),
            ScramMechanism::Sha256
        );
        assert!(ScramMechanism::parse("PLAIN").is_err());
    }
}
