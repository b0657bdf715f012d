//! SASL OAUTHBEARER (RFC 7628) as Kafka brokers run it: the bearer token from an OIDC token
//! endpoint by the client-credentials grant (`sasl.oauthbearer.method=oidc`,
//! `sasl.oauthbearer.token.endpoint.url`, `sasl.oauthbearer.client.id`,
//! `sasl.oauthbearer.client.secret`, `sasl.oauthbearer.scope`), kept and fetched again
//! before it expires, so a long runbook's new connections always present a valid one; or
//! from a file (`sasl.oauthbearer.token.file`, read at each login, for setups where
//! something else keeps it fresh). The client secret never appears in messages. Both paths
//! take their tokens from here: the admin path at each login, the data path (librdkafka)
//! through its token refresh callback, with the token's expiry ([`Token`]).

use crate::error::{Error, Result};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where tokens come from.
pub enum TokenSource {
    /// The client-credentials grant at an OIDC token endpoint.
    ClientCredentials {
        /// The token endpoint, `http://` or `https://`.
        endpoint: String,
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: String,
        /// The scope asked for, if any.
        scope: Option<String>,
        /// The token in hand and when it should be replaced.
        current: Mutex<Option<(Token, Instant)>>,
    },
    /// A file holding the token (its first line).
    File(String),
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::ClientCredentials {
                endpoint,
                client_id,
                scope,
                ..
            } => f
                .debug_struct("ClientCredentials")
                .field("endpoint", endpoint)
                .field("client_id", client_id)
                .field("client_secret", &"****")
                .field("scope", scope)
                .finish(),
            TokenSource::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// A bearer token with what is known of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The token itself.
    pub value: String,
    /// When it expires: the earlier of the endpoint's `expires_in` and the JWT's `exp`
    /// claim (none when neither says).
    pub expires: Option<SystemTime>,
    /// The JWT's `sub` claim, when the token is a JWT that has one.
    pub subject: Option<String>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("value", &"****")
            .field("expires", &self.expires)
            .field("subject", &self.subject)
            .finish()
    }
}

impl Token {
    /// A token as read (`lifetime`: the endpoint's `expires_in`, counted from `fetched`).
    fn new(value: String, fetched: SystemTime, lifetime: Option<u64>) -> Token {
        let (exp, subject) = jwt_claims(&value);
        let by_endpoint = lifetime.map(|s| fetched + Duration::from_secs(s));
        let by_claim = exp.map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        let expires = match (by_endpoint, by_claim) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Token {
            value,
            expires,
            subject,
        }
    }
}

/// The `exp` and `sub` claims of a JWT (nothing for a token that is not one: the broker
/// decides what a token is; this is only for knowing when to fetch the next).
fn jwt_claims(token: &str) -> (Option<u64>, Option<String>) {
    use base64::Engine;
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return (None, None);
    };
    let Ok(bytes) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
    else {
        return (None, None);
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return (None, None);
    };
    (
        claims.get("exp").and_then(|e| e.as_u64()),
        claims.get("sub").and_then(|s| s.as_str()).map(String::from),
    )
}

/// What the token endpoint answers (RFC 6749 section 5.1).
#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// A token is replaced once 80% of its lifetime has passed (or a token without a stated
/// lifetime after a minute).
fn refresh_at(fetched: Instant, lifetime: Option<Duration>) -> Instant {
    match lifetime {
        Some(lifetime) => fetched + lifetime * 4 / 5,
        None => fetched + Duration::from_secs(60),
    }
}

impl TokenSource {
    /// A valid token: the one in hand, or a new one.
    pub async fn token(&self, limit: Duration) -> Result<String> {
        Ok(self.token_with_expiry(limit).await?.value)
    }

    /// The client-credentials token in hand, while it is not due for replacement.
    pub fn cached(&self) -> Option<Token> {
        let TokenSource::ClientCredentials { current, .. } = self else {
            return None;
        };
        let guard = current.lock().ok()?;
        let (token, until) = guard.as_ref()?;
        (Instant::now() < *until).then(|| token.clone())
    }

    /// A valid token with its expiry and subject: the one in hand, or a new one.
    pub async fn token_with_expiry(&self, limit: Duration) -> Result<Token> {
        match self {
            TokenSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::Config(format!("sasl.oauthbearer.token.file {path}: {e}"))
                })?;
                let token = text.lines().next().unwrap_or("").trim().to_string();
                if token.is_empty() {
                    return Err(Error::Config(format!(
                        "sasl.oauthbearer.token.file {path} is empty"
                    )));
                }
                Ok(Token::new(token, SystemTime::now(), None))
            }
            TokenSource::ClientCredentials {
                endpoint,
                client_id,
                client_secret,
                scope,
                current,
            } => {
                if let Ok(guard) = current.lock() {
                    if let Some((token, until)) = guard.as_ref() {
                        if Instant::now() < *until {
                            return Ok(token.clone());
                        }
                    }
                }
                let fetched = Instant::now();
                let fetched_at = SystemTime::now();
                let response = tokio::time::timeout(
                    limit,
                    fetch(endpoint, client_id, client_secret, scope.as_deref()),
                )
                .await
                .map_err(|_| {
                    Error::Timeout(format!(
                        "sasl.oauthbearer.token.endpoint.url {endpoint} did not answer within {}s",
                        limit.as_secs()
                    ))
                })??;
                let token = Token::new(response.access_token, fetched_at, response.expires_in);
                if let Ok(mut guard) = current.lock() {
                    // The lifetime the token really has (a JWT's `exp` may end it sooner
                    // than `expires_in` says), so librdkafka, which also refreshes at 80%,
                    // finds a new one here when it asks.
                    let lifetime = token
                        .expires
                        .map(|e| e.duration_since(fetched_at).unwrap_or_default());
                    *guard = Some((token.clone(), refresh_at(fetched, lifetime)));
                }
                Ok(token)
            }
        }
    }
}

/// The client's first (and only) message: GS2 header, the token, no extensions.
pub fn initial_response(token: &str) -> Vec<u8> {
    format!("n,,\x01auth=Bearer {token}\x01\x01").into_bytes()
}

fn form_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// POSTs the client-credentials grant (client id and secret in HTTP Basic, RFC 6749
/// section 2.3.1) and reads the JSON answer.
async fn fetch(
    endpoint: &str,
    client_id: &str,
    client_secret: &str,
    scope: Option<&str>,
) -> Result<TokenResponse> {
    use base64::Engine;
    let what = format!("sasl.oauthbearer.token.endpoint.url {endpoint}");
    let (tls, rest) = if let Some(rest) = endpoint.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = endpoint.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(Error::Config(format!(
            "{what}: not an http:// or https:// URL"
        )));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || p.parse::<u16>().is_ok() => (
            h.trim_start_matches('[').trim_end_matches(']'),
            p.parse::<u16>()
                .map_err(|_| Error::Config(format!("{what}: bad port {p:?}")))?,
        ),
        _ => (authority, if tls { 443 } else { 80 }),
    };
    let mut body = "grant_type=client_credentials".to_string();
    if let Some(scope) = scope {
        body.push_str(&format!("&scope={}", form_encode(scope)));
    }
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        form_encode(client_id),
        form_encode(client_secret)
    ));
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Basic {basic}\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| Error::Cluster(format!("{what}: cannot connect: {e}")))?;
    let mut answer = Vec::new();
    if tls {
        let config = super::security::system_tls_config()?;
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|e| Error::Config(format!("{what}: {e}")))?;
        let mut stream = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| Error::Config(format!("{what}: TLS: {e}")))?;
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| Error::Cluster(format!("{what}: {e}")))?;
        stream
            .read_to_end(&mut answer)
            .await
            .map_err(|e| Error::Cluster(format!("{what}: {e}")))?;
    } else {
        let mut stream = tcp;
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| Error::Cluster(format!("{what}: {e}")))?;
        stream
            .read_to_end(&mut answer)
            .await
            .map_err(|e| Error::Cluster(format!("{what}: {e}")))?;
    }
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| Error::Cluster(format!("{what}: not an HTTP answer")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    if status != 200 {
        // The endpoint's own words (RFC 6749's "error"), never the request.
        let reason = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
            .unwrap_or_default();
        return Err(Error::Config(format!(
            "{what} refused the client credentials of sasl.oauthbearer.client.id {client_id:?}: HTTP {status} {reason}"
        )));
    }
    serde_json::from_str(&body)
        .map_err(|e| Error::Cluster(format!("{what}: no access_token in the answer: {e}")))
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_initial_response_is_rfc_7628s() {
        assert_eq!(
            initial_response("abc.def.ghi"),
            b"n,,\x01auth=Bearer abc.def.ghi\x01\x01".to_vec()
        );
    }

    #[test]
    fn tokens_are_replaced_at_four_fifths_of_their_lifetime() {
        let now = Instant::now();
        assert_eq!(
            refresh_at(now, Some(Duration::from_secs(10))),
            now + Duration::from_secs(8)
        );
        assert_eq!(refresh_at(now, None), now + Duration::from_secs(60));
    }

    #[test]
    fn a_jwts_expiry_and_subject_are_read_and_the_earlier_expiry_wins() {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let jwt = format!(
            "{}.{}.sig",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"sub":"kafsh-ops","exp":1000}"#)
        );
        let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let token = Token::new(jwt.clone(), at(900), Some(300));
        assert_eq!(token.expires, Some(at(1000)));
        assert_eq!(token.subject.as_deref(), Some("kafsh-ops"));
        assert_eq!(Token::new(jwt, at(900), Some(50)).expires, Some(at(950)));
        let opaque = Token::new("opaque".into(), at(900), None);
        assert_eq!((opaque.expires, opaque.subject.clone()), (None, None));
        assert!(!format!("{opaque:?}").contains("opaque\""));
    }

    #[test]
    fn form_encoding_and_chunks() {
        assert_eq!(form_encode("a b/c:d"), "a+b%2Fc%3Ad");
        assert_eq!(dechunk("4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"), "Wikipedia");
    }

    #[test]
    fn the_secret_never_shows_in_debug() {
        let source = TokenSource::ClientCredentials {
            endpoint: "https://idp/token".into(),
            client_id: "kafsh".into(),
            client_secret: "s3cret".into(),
            scope: None,
            current: Mutex::new(None),
        };
        assert!(!format!("{source:?}").contains("s3cret"));
    }
}
