//! The client side of SASL PLAIN (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802, RFC 7677) as
//! Kafka brokers run them: pure message computation; `conn` carries the messages in
//! SaslHandshake / SaslAuthenticate requests.

use super::security::{Mechanism, SaslCredentials};
use crate::error::{Error, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ring::{digest, hmac, pbkdf2};
use std::num::NonZeroU32;

/// Kafka refuses SCRAM credentials stored with fewer iterations.
const MIN_ITERATIONS: u32 = 4096;

/// PLAIN's single message: authzid (empty), user, password, separated by NUL.
pub fn plain_message(credentials: &SaslCredentials) -> Vec<u8> {
    let mut out = Vec::with_capacity(credentials.username.len() + credentials.password.len() + 2);
    out.push(0);
    out.extend_from_slice(credentials.username.as_bytes());
    out.push(0);
    out.extend_from_slice(credentials.password.as_bytes());
    out
}

/// A fresh client nonce (24 random bytes, base64).
pub fn random_nonce() -> Result<String> {
    let mut bytes = [0u8; 24];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| Error::Failed("no randomness for the SCRAM nonce".into()))?;
    Ok(BASE64.encode(bytes))
}

/// One SCRAM conversation.
pub struct Scram {
    algorithm: (
        pbkdf2::Algorithm,
        hmac::Algorithm,
        &'static digest::Algorithm,
    ),
    password: String,
    client_nonce: String,
    client_first_bare: String,
    server_signature: Option<Vec<u8>>,
}

impl Scram {
    /// Starts a conversation for a SCRAM mechanism.
    pub fn new(credentials: &SaslCredentials, client_nonce: String) -> Result<Scram> {
        let algorithm = match credentials.mechanism {
            Mechanism::ScramSha256 => (
                pbkdf2::PBKDF2_HMAC_SHA256,
                hmac::HMAC_SHA256,
                &digest::SHA256,
            ),
            Mechanism::ScramSha512 => (
                pbkdf2::PBKDF2_HMAC_SHA512,
                hmac::HMAC_SHA512,
                &digest::SHA512,
            ),
            Mechanism::Plain | Mechanism::Gssapi | Mechanism::OAuthBearer => {
                return Err(Error::InvalidInput(format!(
                    "{} is not a SCRAM mechanism",
                    credentials.mechanism.name()
                )))
            }
        };
        let user = credentials.username.replace('=', "=3D").replace(',', "=2C");
        Ok(Scram {
            algorithm,
            password: credentials.password.clone(),
            client_first_bare: format!("n={user},r={client_nonce}"),
            client_nonce,
            server_signature: None,
        })
    }

    /// The client-first message.
    pub fn client_first(&self) -> String {
        format!("n,,{}", self.client_first_bare)
    }

    /// The client-final message (with the proof) for the server-first message.
    pub fn client_final(&mut self, server_first: &str) -> Result<String> {
        let field = |name: char| {
            server_first
                .split(',')
                .find_map(|f| f.strip_prefix(name).and_then(|f| f.strip_prefix('=')))
        };
        if let Some(e) = field('e') {
            return Err(Error::Config(format!("the broker refused SCRAM: {e}")));
        }
        let bad = || {
            Error::Cluster(format!(
                "malformed SCRAM server-first message {server_first:?}"
            ))
        };
        let nonce = field('r').ok_or_else(bad)?;
        if !nonce.starts_with(&self.client_nonce) || nonce.len() == self.client_nonce.len() {
            return Err(Error::Cluster(
                "the broker's SCRAM nonce does not extend kafsh's: not a genuine SCRAM server"
                    .into(),
            ));
        }
        let salt = BASE64
            .decode(field('s').ok_or_else(bad)?)
            .map_err(|_| bad())?;
        let iterations: u32 = field('i').ok_or_else(bad)?.parse().map_err(|_| bad())?;
        if iterations < MIN_ITERATIONS {
            return Err(Error::Cluster(format!(
                "the broker asked for {iterations} SCRAM iterations, fewer than the minimum {MIN_ITERATIONS}"
            )));
        }
        let (pbkdf2_alg, hmac_alg, digest_alg) = self.algorithm;
        let mut salted = vec![0u8; digest_alg.output_len()];
        pbkdf2::derive(
            pbkdf2_alg,
            NonZeroU32::new(iterations).ok_or_else(bad)?,
            &salt,
            self.password.as_bytes(),
            &mut salted,
        );
        let salted_key = hmac::Key::new(hmac_alg, &salted);
        let client_key = hmac::sign(&salted_key, b"Client Key");
        let stored_key = digest::digest(digest_alg, client_key.as_ref());
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let client_signature = hmac::sign(
            &hmac::Key::new(hmac_alg, stored_key.as_ref()),
            auth_message.as_bytes(),
        );
        let proof: Vec<u8> = client_key
            .as_ref()
            .iter()
            .zip(client_signature.as_ref())
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = hmac::sign(&salted_key, b"Server Key");
        self.server_signature = Some(
            hmac::sign(
                &hmac::Key::new(hmac_alg, server_key.as_ref()),
                auth_message.as_bytes(),
            )
            .as_ref()
            .to_vec(),
        );
        Ok(format!("{without_proof},p={}", BASE64.encode(proof)))
    }

    /// Checks the server-final message: the broker proves it knows the credentials too.
    pub fn verify_server_final(&self, server_final: &str) -> Result<()> {
        if let Some(e) = server_final.strip_prefix("e=") {
            return Err(Error::Config(format!("the broker refused SCRAM: {e}")));
        }
        let expected = self
            .server_signature
            .as_ref()
            .ok_or_else(|| Error::Failed("SCRAM server-final before client-final".into()))?;
        let got = server_final
            .strip_prefix("v=")
            .and_then(|v| BASE64.decode(v.split(',').next().unwrap_or("")).ok());
        if got.as_deref() != Some(expected.as_slice()) {
            return Err(Error::Cluster(
                "the broker's SCRAM signature is wrong: it does not know these credentials".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(mechanism: Mechanism, user: &str, password: &str) -> SaslCredentials {
        SaslCredentials {
            mechanism,
            username: user.into(),
            password: password.into(),
            kerberos: None,
            oauth: None,
        }
    }

    /// The example exchange of RFC 7677, section 3.
    #[test]
    fn scram_sha_256_matches_rfc_7677() {
        let mut scram = Scram::new(
            &creds(Mechanism::ScramSha256, "user", "pencil"),
            "rOprNGfwEbeRWgbNEkqO".into(),
        )
        .expect("scram");
        assert_eq!(scram.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            scram.client_final(server_first).expect("final"),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        scram
            .verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .expect("server proves itself");
        assert!(scram.verify_server_final("v=AAAA").is_err());
    }

    #[test]
    fn scram_refuses_a_server_that_does_not_extend_the_nonce_or_skimps_on_iterations() {
        let c = creds(Mechanism::ScramSha512, "u", "p");
        let mut scram = Scram::new(&c, "abc".into()).expect("scram");
        assert!(scram.client_final("r=xyz123,s=c2FsdA==,i=4096").is_err());
        let mut scram = Scram::new(&c, "abc".into()).expect("scram");
        assert!(scram.client_final("r=abc123,s=c2FsdA==,i=10").is_err());
        let mut scram = Scram::new(&c, "abc".into()).expect("scram");
        let err = scram.client_final("e=unknown-user").expect_err("refused");
        assert!(err.to_string().contains("unknown-user"));
    }

    #[test]
    fn user_names_are_escaped_and_plain_is_nul_separated() {
        let scram =
            Scram::new(&creds(Mechanism::ScramSha512, "a=b,c", "p"), "n".into()).expect("scram");
        assert_eq!(scram.client_first(), "n,,n=a=3Db=2Cc,r=n");
        assert_eq!(
            plain_message(&creds(Mechanism::Plain, "bob", "pw")),
            b"\0bob\0pw".to_vec()
        );
    }
}
