//! Tiny loopback clients used for readiness checks and by tests: ZooKeeper four-letter words
//! (`srvr`, `dump`, `ruok`, ...) and a Kafka Metadata request (v4, understood by Kafka 1.0 up
//! to 4.x) that lists the brokers a broker knows and the controller it reports.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::time::Duration;

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// Whether something accepts TCP connections on `127.0.0.1:port`.
pub fn port_open(port: u16) -> bool {
    TcpStream::connect_timeout(&loopback(port), Duration::from_millis(500)).is_ok()
}

/// Sends the four-letter word `cmd` to the ZooKeeper server on `127.0.0.1:port` and returns its
/// answer.
pub fn zk_four_letter(port: u16, cmd: &str, timeout: Duration) -> io::Result<String> {
    let mut s = TcpStream::connect_timeout(&loopback(port), timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    s.write_all(cmd.as_bytes())?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The `Mode:` of a `srvr` answer (`leader`, `follower`, `standalone`, `observer`), if any.
pub fn zk_mode_of(srvr: &str) -> Option<String> {
    srvr.lines()
        .find_map(|l| l.strip_prefix("Mode:"))
        .map(|m| m.trim().to_string())
}

/// A broker as listed in a Metadata response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaBroker {
    pub id: i32,
    pub host: String,
    pub port: u16,
    pub rack: Option<String>,
}

/// The cluster part of a Metadata response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaMetadata {
    pub cluster_id: Option<String>,
    /// As the broker reports it (in KRaft mode a random live broker, by design).
    pub controller_id: i32,
    /// Sorted by id.
    pub brokers: Vec<KafkaBroker>,
}

impl KafkaMetadata {
    /// Ids of the listed brokers, sorted.
    pub fn broker_ids(&self) -> Vec<i32> {
        self.brokers.iter().map(|b| b.id).collect()
    }
}

/// Sends a Metadata v4 request for no topics to the broker on `127.0.0.1:port`.
pub fn kafka_metadata(port: u16, timeout: Duration) -> io::Result<KafkaMetadata> {
    let mut s = TcpStream::connect_timeout(&loopback(port), timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let client_id = b"kafsh-sandbox";
    let mut req = Vec::new();
    req.extend_from_slice(&3i16.to_be_bytes()); // api key: Metadata
    req.extend_from_slice(&4i16.to_be_bytes()); // api version
    req.extend_from_slice(&7i32.to_be_bytes()); // correlation id
    req.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
    req.extend_from_slice(client_id);
    req.extend_from_slice(&0i32.to_be_bytes()); // topics: empty array = none
    req.push(0); // allow_auto_topic_creation = false
    let mut frame = (req.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&req);
    s.write_all(&frame)?;
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let len = i32::from_be_bytes(len);
    if !(8..=64 * 1024 * 1024).contains(&len) {
        return Err(bad(format!("Metadata response of {len} bytes")));
    }
    let mut body = vec![0u8; len as usize];
    s.read_exact(&mut body)?;
    parse_metadata_v4(&body)
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| bad("truncated Metadata response".into()))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn i16(&mut self) -> io::Result<i16> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> io::Result<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn nullable_string(&mut self) -> io::Result<Option<String>> {
        let n = self.i16()?;
        if n < 0 {
            return Ok(None);
        }
        let b = self.take(n as usize)?;
        Ok(Some(String::from_utf8_lossy(b).into_owned()))
    }
}

/// Parses a Metadata v4 response (after the length prefix), up to the controller id.
fn parse_metadata_v4(body: &[u8]) -> io::Result<KafkaMetadata> {
    let mut r = Reader { buf: body, pos: 0 };
    let _correlation = r.i32()?;
    let _throttle = r.i32()?;
    let n = r.i32()?;
    if !(0..=100_000).contains(&n) {
        return Err(bad(format!("Metadata response lists {n} brokers")));
    }
    let mut brokers = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let id = r.i32()?;
        let host = r.nullable_string()?.unwrap_or_default();
        let port = r.i32()?;
        let rack = r.nullable_string()?;
        brokers.push(KafkaBroker {
            id,
            host,
            port: u16::try_from(port).map_err(|_| bad(format!("broker port {port}")))?,
            rack,
        });
    }
    let cluster_id = r.nullable_string()?;
    let controller_id = r.i32()?;
    brokers.sort_by_key(|b| b.id);
    Ok(KafkaMetadata {
        cluster_id,
        controller_id,
        brokers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_metadata_v4() {
        let mut b = Vec::new();
        b.extend_from_slice(&7i32.to_be_bytes());
        b.extend_from_slice(&0i32.to_be_bytes());
        b.extend_from_slice(&2i32.to_be_bytes());
        for (id, rack) in [(2i32, None), (1, Some("r"))] {
            b.extend_from_slice(&id.to_be_bytes());
            b.extend_from_slice(&9i16.to_be_bytes());
            b.extend_from_slice(b"127.0.0.1");
            b.extend_from_slice(&(9090 + id).to_be_bytes());
            match rack {
                None => b.extend_from_slice(&(-1i16).to_be_bytes()),
                Some(r) => {
                    b.extend_from_slice(&(r.len() as i16).to_be_bytes());
                    b.extend_from_slice(r.as_bytes());
                }
            }
        }
        b.extend_from_slice(&3i16.to_be_bytes());
        b.extend_from_slice(b"abc");
        b.extend_from_slice(&1i32.to_be_bytes());
        b.extend_from_slice(&0i32.to_be_bytes());
        let m = parse_metadata_v4(&b).unwrap();
        assert_eq!(m.broker_ids(), vec![1, 2]);
        assert_eq!(m.brokers[0].rack.as_deref(), Some("r"));
        assert_eq!(m.brokers[1].port, 9092);
        assert_eq!(m.cluster_id.as_deref(), Some("abc"));
        assert_eq!(m.controller_id, 1);
        assert!(parse_metadata_v4(&b[..10]).is_err());
    }

    #[test]
    fn mode_of_srvr() {
        let s = "Zookeeper version: 3.8.4\nLatency min/avg/max: 0/0.0/0\nMode: follower\nNode count: 5\n";
        assert_eq!(zk_mode_of(s).as_deref(), Some("follower"));
        assert_eq!(
            zk_mode_of("This ZooKeeper instance is not currently serving requests\n"),
            None
        );
    }
}
