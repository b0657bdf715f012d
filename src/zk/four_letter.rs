//! ZooKeeper's four-letter words (`srvr`, `mntr`, `ruok`): plain TCP, send four bytes, read
//! until the server closes the connection. A server that refuses the connection is down;
//! one that accepts it but does not answer within the limit is hung (a paused or frozen
//! process) — not serving either way.

use crate::error::{Error, Result};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest answer accepted (mntr on a big server is a few KiB).
const MAX_ANSWER: u64 = 1024 * 1024;

/// Why a four-letter word got no useful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FourLetterError {
    /// Nothing listens, or the connection failed or timed out: the server is down.
    Down(String),
    /// The server accepted the connection but did not answer within the limit.
    Hung(String),
    /// The server answered that the word is not in `4lw.commands.whitelist`.
    NotWhitelisted(String),
    /// The server runs but is not part of a serving quorum.
    NotServing,
}

/// Sends `word` to `server` (`host:port`) and returns the whole answer; over TLS when
/// `tls` is given (ZooKeeper answers four-letter words on its secure client port too, after
/// the handshake).
pub async fn four_letter(
    server: &str,
    word: &str,
    timeout: Duration,
    tls: Option<&super::security::ZkTls>,
) -> Result<String, FourLetterError> {
    let started = tokio::time::Instant::now();
    let stream = match tokio::time::timeout(timeout, TcpStream::connect(server)).await {
        Err(_) => {
            return Err(FourLetterError::Down(format!(
                "no connection within {}",
                crate::kafka::conn::human(timeout)
            )))
        }
        Ok(Err(e)) => return Err(FourLetterError::Down(e.to_string())),
        Ok(Ok(stream)) => stream,
    };
    let exchange = async {
        let mut answer = Vec::new();
        match tls {
            None => {
                let mut stream = stream;
                stream.write_all(word.as_bytes()).await?;
                (&mut stream)
                    .take(MAX_ANSWER)
                    .read_to_end(&mut answer)
                    .await?;
            }
            Some(tls) => {
                let connector = tls.connector().map_err(std::io::Error::other)?;
                let host = server.rsplit_once(':').map_or(server, |(h, _)| h);
                let name = rustls::pki_types::ServerName::try_from(
                    host.trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_string(),
                )
                .map_err(std::io::Error::other)?;
                let mut stream = connector.connect(name, stream).await?;
                stream.write_all(word.as_bytes()).await?;
                // ZooKeeper closes without a TLS close_notify.
                match (&mut stream)
                    .take(MAX_ANSWER)
                    .read_to_end(&mut answer)
                    .await
                {
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
                    other => {
                        other?;
                    }
                }
            }
        }
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&answer).into_owned())
    };
    let answer = match tokio::time::timeout_at(started + timeout, exchange).await {
        Err(_) => {
            return Err(FourLetterError::Hung(format!(
                "hung: accepts connections but did not answer {word} within {}",
                crate::kafka::conn::human(timeout)
            )))
        }
        Ok(Err(e)) => return Err(FourLetterError::Down(e.to_string())),
        Ok(Ok(a)) => a,
    };
    if answer.contains("is not executed because it is not in the whitelist") {
        return Err(FourLetterError::NotWhitelisted(word.to_string()));
    }
    if answer.contains("not currently serving requests") {
        return Err(FourLetterError::NotServing);
    }
    if answer.is_empty() {
        return Err(FourLetterError::Down(format!("empty answer to {word}")));
    }
    Ok(answer)
}

impl FourLetterError {
    /// The error as a domain error naming the server.
    pub fn into_error(self, server: &str) -> Error {
        match self {
            FourLetterError::Down(why) => {
                Error::Cluster(format!("ZooKeeper {server} is down: {why}"))
            }
            FourLetterError::Hung(why) => {
                Error::Timeout(format!("ZooKeeper {server} is not answering: {why}"))
            }
            FourLetterError::NotWhitelisted(word) => Error::Refused(whitelist_hint(server, &word)),
            FourLetterError::NotServing => Error::Cluster(format!(
                "ZooKeeper {server} is running but not serving requests (no quorum)"
            )),
        }
    }
}

/// The message for a refused four-letter word, with the fix.
pub fn whitelist_hint(server: &str, word: &str) -> String {
    format!(
        "ZooKeeper {server} refuses the four-letter word {word:?}: add `4lw.commands.whitelist=srvr,mntr,ruok` \
         (or `*`) to its zoo.cfg and restart it"
    )
}

/// Parses `srvr` output (`Key: value` lines).
pub fn parse_srvr(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Parses `mntr` output (`key<TAB>value` lines).
pub fn parse_mntr(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('\t').or_else(|| l.split_once(' ')))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_srvr_and_mntr() {
        let srvr = "Zookeeper version: 3.8.4-9316c2a, built on 2024-02-12 22:16 UTC\nLatency min/avg/max: 0/0.5/3\nReceived: 10\nSent: 9\nConnections: 2\nOutstanding: 0\nZxid: 0x200000003\nMode: leader\nNode count: 42\nProposal sizes last/min/max: 48/48/90\n";
        let kv = parse_srvr(srvr);
        assert!(kv.contains(&("Mode".into(), "leader".into())));
        assert!(kv.contains(&("Zxid".into(), "0x200000003".into())));
        let mntr = "zk_version\t3.8.4-9316c2a, built on 2024-02-12 22:16 UTC\nzk_server_state\tleader\nzk_synced_followers\t2\n";
        let kv = parse_mntr(mntr);
        assert!(kv.contains(&("zk_synced_followers".into(), "2".into())));
    }
}
