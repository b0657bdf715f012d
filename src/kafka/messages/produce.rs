//! Writing records with librdkafka's producer: idempotent with acks=all by default,
//! batched and compressed by librdkafka, every record's delivery waited for within the
//! call timeout (librdkafka's `message.timeout.ms`).

use super::{kafka_error, millis, DataPath};
use crate::error::{Error, Result};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::Serialize;
use std::time::Duration;

/// A record to write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutRecord {
    /// The key (none: no key, the partitioner spreads such records).
    #[serde(skip)]
    pub key: Option<Vec<u8>>,
    /// The value (none: a tombstone).
    #[serde(skip)]
    pub value: Option<Vec<u8>>,
    /// Headers in order.
    #[serde(skip)]
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// The partition (none: librdkafka's partitioner, by key).
    pub partition: Option<i32>,
    /// The record's timestamp, ms since the epoch (none: now).
    pub timestamp: Option<i64>,
}

/// How records are produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceSettings {
    /// "all", "1" or "0".
    pub acks: String,
    /// "none", "gzip", "snappy", "lz4" or "zstd".
    pub compression: String,
    /// The idempotent producer (needs acks=all): no duplicates and no reordering on retries.
    pub idempotent: bool,
}

impl Default for ProduceSettings {
    fn default() -> Self {
        ProduceSettings {
            acks: "all".into(),
            compression: "none".into(),
            idempotent: true,
        }
    }
}

impl ProduceSettings {
    /// Checks the combination: known acks and codec; idempotence only with acks=all.
    pub fn validate(&self) -> Result<()> {
        if !["all", "-1", "1", "0"].contains(&self.acks.as_str()) {
            return Err(Error::InvalidInput(format!(
                "acks {:?}: use \"all\", 1 or 0",
                self.acks
            )));
        }
        if !["none", "gzip", "snappy", "lz4", "zstd"].contains(&self.compression.as_str()) {
            return Err(Error::InvalidInput(format!(
                "compression {:?}: use none, gzip, snappy, lz4 or zstd",
                self.compression
            )));
        }
        if self.idempotent && !matches!(self.acks.as_str(), "all" | "-1") {
            return Err(Error::InvalidInput(format!(
                "idempotent producing needs acks=all (acks is {}); turn idempotence off to use it",
                self.acks
            )));
        }
        Ok(())
    }
}

/// Where a record was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Produced {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The offset (-1 with acks=0, which learns none).
    pub offset: i64,
    /// The record's timestamp (ms), when the broker reported one.
    pub timestamp: Option<i64>,
}

/// Producers kept for a session, one per setting (acks, compression, idempotence), so a
/// script producing in many calls connects once.
#[derive(Default)]
pub struct Producers {
    cache: std::sync::Mutex<Vec<(ProduceSettings, FutureProducer)>>,
}

impl Producers {
    /// The producer for `settings` (created on first use).
    pub fn get(&self, path: &DataPath, settings: &ProduceSettings) -> Result<FutureProducer> {
        settings.validate()?;
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| Error::Failed("the producer cache is poisoned".into()))?;
        if let Some((_, p)) = cache.iter().find(|(s, _)| s == settings) {
            return Ok(p.clone());
        }
        let mut config = path.client_config();
        // Deliveries fail before the call's own timeout, so the error is librdkafka's.
        let delivery = path
            .timeout()
            .saturating_sub(Duration::from_secs(1))
            .max(Duration::from_secs(1));
        config
            .set("acks", &settings.acks)
            .set("compression.type", &settings.compression)
            .set("enable.idempotence", settings.idempotent.to_string())
            .set("linger.ms", "5")
            .set("message.timeout.ms", millis(delivery))
            // Never create a topic by producing to it.
            .set("allow.auto.create.topics", "false");
        let producer: FutureProducer = config
            .create()
            .map_err(|e| kafka_error("cannot start the producer", e))?;
        cache.push((settings.clone(), producer.clone()));
        Ok(producer)
    }
}

/// Writes `records` to `topic` (which the caller checked exists) and waits for every
/// delivery. Fails with the first delivery error; records before it in the list may have
/// been written (the error says how many were).
pub async fn produce(
    producer: &FutureProducer,
    topic: &str,
    records: Vec<OutRecord>,
) -> Result<Vec<Produced>> {
    let mut pending = Vec::with_capacity(records.len());
    for record in &records {
        let mut future = FutureRecord::<[u8], [u8]>::to(topic);
        if let Some(k) = &record.key {
            future = future.key(k.as_slice());
        }
        if let Some(v) = &record.value {
            future = future.payload(v.as_slice());
        }
        if let Some(p) = record.partition {
            future = future.partition(p);
        }
        if let Some(t) = record.timestamp {
            future = future.timestamp(t);
        }
        if !record.headers.is_empty() {
            let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
            for (key, value) in &record.headers {
                headers = headers.insert(Header {
                    key: key.as_str(),
                    value: value.as_deref(),
                });
            }
            future = future.headers(headers);
        }
        loop {
            match producer.send_result(future) {
                Ok(delivery) => {
                    pending.push(delivery);
                    break;
                }
                Err((e, back))
                    if e.rdkafka_error_code()
                        == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                {
                    // librdkafka's queue is full: let deliveries drain, then go on.
                    future = back;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, _)) => return Err(kafka_error(&format!("producing to {topic}"), e)),
            }
        }
    }
    let mut out = Vec::with_capacity(pending.len());
    for delivery in pending {
        let written = out.len();
        match delivery.await {
            Ok(Ok(d)) => out.push(Produced {
                topic: topic.to_string(),
                partition: d.partition,
                offset: d.offset,
                timestamp: d.timestamp.to_millis(),
            }),
            Ok(Err((e, _))) => {
                return Err(kafka_error(
                    &format!("producing to {topic} ({written} of {} records written before)", records.len()),
                    e,
                ))
            }
            Err(_) => {
                return Err(Error::Cluster(format!(
                    "producing to {topic}: the producer stopped before delivering ({written} of {} records written)",
                    records.len()
                )))
            }
        }
    }
    Ok(out)
}
