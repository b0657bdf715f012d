//! Looking at the running cluster: ZooKeeper four-letter words and modes, Kafka Metadata.

use std::thread;
use std::time::{Duration, Instant};

use super::ready::PROBE_TIMEOUT;
use super::Cluster;
use crate::error::{Error, Result};
use crate::probe::{self, KafkaMetadata};

impl Cluster {
    /// Sends a four-letter word (`srvr`, `stat`, `mntr`, `dump`, `ruok`, ...) to ZooKeeper
    /// server `id`.
    pub fn zk_four_letter(&self, id: u32, cmd: &str) -> Result<String> {
        let port = self.current().zk(id)?.client_port;
        Ok(probe::zk_four_letter(port, cmd, PROBE_TIMEOUT)?)
    }

    /// The `Mode:` ZooKeeper server `id` reports (`leader`, `follower`, `standalone`), if it
    /// serves.
    pub fn zk_mode(&self, id: u32) -> Option<String> {
        self.zk_four_letter(id, "srvr")
            .ok()
            .and_then(|s| probe::zk_mode_of(&s))
    }

    /// The id of the server that reports itself `leader` (or `standalone`), if any.
    pub fn zk_leader(&self) -> Option<u32> {
        self.zk_servers()
            .into_iter()
            .filter(|z| z.running && !z.paused)
            .find(|z| {
                matches!(
                    self.zk_mode(z.id).as_deref(),
                    Some("leader") | Some("standalone")
                )
            })
            .map(|z| z.id)
    }

    /// Polls until some server reports itself leader.
    pub fn wait_zk_leader(&self, timeout: Duration) -> Result<u32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(id) = self.zk_leader() {
                return Ok(id);
            }
            if Instant::now() >= deadline {
                return Err(Error::NoZkLeader {
                    secs: timeout.as_secs(),
                    dir: self.dir.clone(),
                });
            }
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Metadata as broker `id` sees it.
    pub fn broker_metadata(&self, id: i32) -> Result<KafkaMetadata> {
        let port = self.current().broker(id)?.port;
        Ok(probe::kafka_metadata(port, PROBE_TIMEOUT)?)
    }

    /// Metadata from the first running, unpaused broker that answers.
    pub fn metadata(&self) -> Result<KafkaMetadata> {
        let mut last =
            std::io::Error::new(std::io::ErrorKind::NotConnected, "no broker is running");
        for b in self
            .brokers()
            .into_iter()
            .filter(|b| b.running && !b.paused)
        {
            match probe::kafka_metadata(b.port, PROBE_TIMEOUT) {
                Ok(m) => return Ok(m),
                Err(e) => last = e,
            }
        }
        Err(last.into())
    }
}
