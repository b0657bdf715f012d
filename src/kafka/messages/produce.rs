//! Writing records with librdkafka's producer: idempotent with acks=all by default,
//! batched and compressed by librdkafka. Either every record's delivery is waited for
//! within the call timeout (librdkafka's `message.timeout.ms`) and its offset returned, or
//! records are queued and their deliveries counted as librdkafka reports them, until a
//! flush waits for the rest (bulk loads: the next records go out while earlier ones are
//! still being acknowledged, as kcat and Kafka's console producer do).

use super::{explain_by_login, kafka_error, millis, DataContext, DataPath, LoginFailure};
use crate::error::{Error, Result};
use bytes::Bytes;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{
    BaseRecord, DeliveryResult, FutureProducer, FutureRecord, Producer, ProducerContext,
    ThreadedProducer,
};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A record to write. Key and value are shared buffers, so a script's strings reach
/// librdkafka without a copy of their own (librdkafka copies them into its batches).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutRecord {
    /// The key (none: no key, the partitioner spreads such records).
    #[serde(skip)]
    pub key: Option<Bytes>,
    /// The value (none: a tombstone).
    #[serde(skip)]
    pub value: Option<Bytes>,
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
/// script producing in many calls connects once; the queueing ones share one count of
/// deliveries.
#[derive(Default)]
pub struct Producers {
    cache: Mutex<Vec<(ProduceSettings, FutureProducer<DataContext>)>>,
    queueing: Mutex<Vec<(ProduceSettings, Queueing)>>,
    deliveries: Arc<Deliveries>,
    login_failure: LoginFailure,
    /// Partition counts of the topics produced to, with when they were looked up: a bulk
    /// load in calls of 10,000 records asks the cluster once, not on every call.
    partition_counts: Mutex<HashMap<String, (i32, Instant)>>,
}

/// How long a topic's partition count is taken as known (partitions are only ever added,
/// and a record for a partition beyond the known count looks again).
const PARTITION_COUNT_AGE: Duration = Duration::from_secs(10);

/// A queueing producer with the topic handles it writes through. The handles come first:
/// they are released before the producer is (librdkafka's order).
struct Queueing {
    topics: Vec<(String, TopicHandle)>,
    producer: ThreadedProducer<CountingContext>,
}

impl Queueing {
    /// The handle of `topic` on this producer (made on first use).
    fn topic(&mut self, topic: &str) -> Result<*mut rdkafka::bindings::rd_kafka_topic_t> {
        if let Some((_, handle)) = self.topics.iter().find(|(t, _)| t == topic) {
            return Ok(handle.0.as_ptr());
        }
        let name = std::ffi::CString::new(topic)
            .map_err(|_| Error::InvalidInput(format!("topic {topic:?} contains a NUL byte")))?;
        // SAFETY: the client pointer is the live producer's; a null configuration takes the
        // producer's defaults; the name is copied by librdkafka.
        let raw = unsafe {
            rdkafka::bindings::rd_kafka_topic_new(
                self.producer.client().native_ptr(),
                name.as_ptr(),
                std::ptr::null_mut(),
            )
        };
        let handle = std::ptr::NonNull::new(raw)
            .map(TopicHandle)
            .ok_or_else(|| {
                Error::Failed(format!("librdkafka made no handle for topic {topic:?}"))
            })?;
        let ptr = handle.0.as_ptr();
        self.topics.push((topic.to_string(), handle));
        Ok(ptr)
    }
}

/// A librdkafka topic handle. Producing through it (`rd_kafka_produce`, as kcat does)
/// spares each record the topic lookup under the client's write lock and the name copy
/// that producing by topic name costs.
struct TopicHandle(std::ptr::NonNull<rdkafka::bindings::rd_kafka_topic_t>);

// SAFETY: librdkafka's topic handles are reference-counted and may be used and released
// from any thread.
unsafe impl Send for TopicHandle {}

impl Drop for TopicHandle {
    fn drop(&mut self) {
        // SAFETY: the handle came from rd_kafka_topic_new and is released once, here.
        unsafe { rdkafka::bindings::rd_kafka_topic_destroy(self.0.as_ptr()) }
    }
}

/// Deliveries of queued records as librdkafka reports them, since the last flush.
#[derive(Debug, Default)]
struct Deliveries {
    queued: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
    /// (topic, partition, records): a few entries, searched without allocating.
    per_partition: Mutex<Vec<(String, i32, u64)>>,
}

/// The producer context that counts deliveries (librdkafka's delivery reports arrive on
/// the producer's polling thread), with the data path's tokens.
struct CountingContext(Arc<Deliveries>, DataContext);

impl ClientContext for CountingContext {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = DataContext::ENABLE_REFRESH_OAUTH_TOKEN;

    fn generate_oauth_token(
        &self,
        config: Option<&str>,
    ) -> std::result::Result<rdkafka::client::OAuthToken, Box<dyn std::error::Error>> {
        self.1.generate_oauth_token(config)
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        self.1.error(error, reason)
    }
}

impl ProducerContext for CountingContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let d = &self.0;
        match result {
            Ok(m) => {
                d.delivered.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut per) = d.per_partition.lock() {
                    let (topic, partition) = (m.topic(), m.partition());
                    match per
                        .iter_mut()
                        .find(|(t, p, _)| *p == partition && t == topic)
                    {
                        Some((_, _, n)) => *n += 1,
                        None => per.push((topic.to_string(), partition, 1)),
                    }
                }
            }
            Err((e, m)) => {
                d.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = d.first_error.lock() {
                    first.get_or_insert_with(|| format!("{}-{}: {e}", m.topic(), m.partition()));
                }
            }
        }
    }
}

/// What a flush found: every record queued since the previous flush, delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flushed {
    /// Records delivered.
    pub delivered: u64,
    /// Delivered records per topic and partition.
    pub partitions: Vec<PartitionCount>,
}

/// Records delivered to one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionCount {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// Records written there.
    pub records: u64,
}

impl Producers {
    /// `e` with the brokers' login refusal that explains it, when a producer saw one (a
    /// delivery that timed out because no login succeeded is a configuration error).
    pub fn explain(&self, e: Error) -> Error {
        explain_by_login(&self.login_failure, e)
    }

    /// `topic`'s partition count when it was looked up within the last few seconds.
    pub fn known_partitions(&self, topic: &str) -> Option<i32> {
        let counts = self.partition_counts.lock().ok()?;
        let (count, at) = counts.get(topic)?;
        (at.elapsed() < PARTITION_COUNT_AGE).then_some(*count)
    }

    /// Keeps `topic`'s partition count, as just looked up.
    pub fn remember_partitions(&self, topic: &str, count: i32) {
        if let Ok(mut counts) = self.partition_counts.lock() {
            counts.insert(topic.to_string(), (count, Instant::now()));
        }
    }

    /// The producer for `settings` (created on first use, ready to write to `topic`).
    pub fn get(
        &self,
        path: &DataPath,
        settings: &ProduceSettings,
        topic: &str,
    ) -> Result<FutureProducer<DataContext>> {
        settings.validate()?;
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| Error::Failed("the producer cache is poisoned".into()))?;
        if let Some((_, p)) = cache.iter().find(|(s, _)| s == settings) {
            return Ok(p.clone());
        }
        let producer: FutureProducer<DataContext> = producer_config(path, settings)
            .create_with_context(path.context_reporting_to(&self.login_failure))
            .map_err(|e| kafka_error("cannot start the producer", e))?;
        get_producer_id_early(producer.client(), settings, topic);
        cache.push((settings.clone(), producer.clone()));
        Ok(producer)
    }

    /// Queues `records` for `topic` (which the caller checked exists) without waiting for
    /// their deliveries; returns how many were queued. When librdkafka's queue is full it
    /// waits for room, up to the call timeout; `stop` is asked between records (Ctrl-C).
    pub fn queue(
        &self,
        path: &DataPath,
        settings: &ProduceSettings,
        topic: &str,
        records: &[OutRecord],
        stop: &dyn Fn() -> bool,
    ) -> Result<usize> {
        settings.validate()?;
        let mut producers = self
            .queueing
            .lock()
            .map_err(|_| Error::Failed("the producer cache is poisoned".into()))?;
        let index = match producers.iter().position(|(s, _)| s == settings) {
            Some(i) => i,
            None => {
                let producer: ThreadedProducer<CountingContext> = producer_config(path, settings)
                    // A bulk load: batches wait longer to fill, so librdkafka's threads
                    // wake up less (a million records took about 20% less time and 30%
                    // less CPU than with 5 ms); flush() sends what is left at once.
                    .set("linger.ms", BULK_LINGER_MS)
                    // librdkafka's default is twice linger.ms: records without a key would
                    // all go to one partition for 200 ms. Kept at its value for 5 ms.
                    .set("sticky.partitioning.linger.ms", "10")
                    .create_with_context(CountingContext(
                        self.deliveries.clone(),
                        path.context_reporting_to(&self.login_failure),
                    ))
                    .map_err(|e| kafka_error("cannot start the producer", e))?;
                get_producer_id_early(producer.client(), settings, topic);
                producers.push((
                    settings.clone(),
                    Queueing {
                        topics: Vec::new(),
                        producer,
                    },
                ));
                producers.len() - 1
            }
        };
        let queueing = &mut producers[index].1;
        let handle = queueing.topic(topic)?;
        let producer = &queueing.producer;
        let deadline = std::time::Instant::now() + path.timeout();
        // Waits for what librdkafka refused the record for: room in its queue (QueueFull),
        // or, for a partition the caller found in the cluster but librdkafka's metadata
        // does not have yet (added since this producer looked), a fresh look at the topic.
        let retry = |i: usize, code: RDKafkaErrorCode| -> Result<()> {
            if !matches!(
                code,
                RDKafkaErrorCode::QueueFull | RDKafkaErrorCode::UnknownPartition
            ) {
                return Err(kafka_error(
                    &format!("producing to {topic}"),
                    KafkaError::MessageProduction(code),
                ));
            }
            if stop() {
                return Err(Error::Refused(format!(
                    "interrupted after queueing {i} of {} records",
                    records.len()
                )));
            }
            if std::time::Instant::now() >= deadline {
                let why = match code {
                    RDKafkaErrorCode::QueueFull => "librdkafka's queue stayed full",
                    _ => "librdkafka's metadata still lacked the record's partition",
                };
                return Err(Error::Timeout(format!(
                    "producing to {topic}: {why} for {}s ({i} of {} records queued)",
                    path.timeout().as_secs(),
                    records.len()
                )));
            }
            if code == RDKafkaErrorCode::UnknownPartition {
                refresh_metadata(producer.client(), topic);
            } else {
                // librdkafka's polling thread drains the queue as deliveries arrive.
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(())
        };
        for (i, record) in records.iter().enumerate() {
            if record.headers.is_empty() && record.timestamp.is_none() {
                loop {
                    match produce_through(handle, record) {
                        Ok(()) => break,
                        Err(code) => retry(i, code)?,
                    }
                }
                self.deliveries.queued.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let mut base = BaseRecord::<[u8], [u8]>::to(topic);
            if let Some(k) = &record.key {
                base = base.key(k.as_ref());
            }
            if let Some(v) = &record.value {
                base = base.payload(v.as_ref());
            }
            base.partition = record.partition;
            base.timestamp = record.timestamp;
            if !record.headers.is_empty() {
                base = base.headers(owned_headers(&record.headers));
            }
            loop {
                match producer.send(base) {
                    Ok(()) => {
                        self.deliveries.queued.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Err((KafkaError::MessageProduction(code), back)) => {
                        retry(i, code)?;
                        base = back;
                    }
                    Err((e, _)) => return Err(kafka_error(&format!("producing to {topic}"), e)),
                }
            }
        }
        Ok(records.len())
    }

    /// Records queued since the last flush (delivered by now or not).
    pub fn unflushed(&self) -> u64 {
        self.deliveries.queued.load(Ordering::Relaxed)
    }

    /// Waits until every queued record is delivered (or `timeout` passes) and returns what
    /// was delivered since the last flush. Fails when a record was not written (naming the
    /// first failure and the counts) or the deliveries did not finish in time.
    pub fn flush(&self, timeout: Duration) -> Result<Flushed> {
        self.flush_all(timeout).map_err(|e| self.explain(e))
    }

    fn flush_all(&self, timeout: Duration) -> Result<Flushed> {
        let producers = self
            .queueing
            .lock()
            .map_err(|_| Error::Failed("the producer cache is poisoned".into()))?;
        let d = &self.deliveries;
        let deadline = std::time::Instant::now() + timeout;
        for (_, Queueing { producer, .. }) in producers.iter() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if let Err(e) = producer.flush(left) {
                let waiting = producer.in_flight_count();
                return Err(Error::Timeout(format!(
                    "flush: {waiting} queued record(s) still not delivered after {}s ({e})",
                    timeout.as_secs()
                )));
            }
        }
        let queued = d.queued.swap(0, Ordering::Relaxed);
        let delivered = d.delivered.swap(0, Ordering::Relaxed);
        let failed = d.failed.swap(0, Ordering::Relaxed);
        let mut per_partition = d
            .per_partition
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        per_partition.sort();
        let first_error = d.first_error.lock().ok().and_then(|mut f| f.take());
        if failed > 0 {
            return Err(Error::Cluster(format!(
                "{failed} of {queued} queued record(s) were not written ({delivered} were); the first: {}",
                first_error.unwrap_or_default()
            )));
        }
        Ok(Flushed {
            delivered,
            partitions: per_partition
                .into_iter()
                .map(|(topic, partition, records)| PartitionCount {
                    topic,
                    partition,
                    records,
                })
                .collect(),
        })
    }
}

/// Has librdkafka look at `topic` again (its metadata answer replaces what it knew of the
/// topic's partitions), then pauses a moment: the brokers may learn of a new partition a
/// little after the controller.
fn refresh_metadata<C: ClientContext>(client: &rdkafka::client::Client<C>, topic: &str) {
    let _ = client.fetch_metadata(Some(topic), Duration::from_secs(2));
    std::thread::sleep(Duration::from_millis(100));
}

/// Has a new idempotent producer ask for its producer id now rather than half a second
/// later. librdkafka 2.12 drops its bootstrap connections once the first metadata answer
/// names the brokers, so the producer-id request made on that answer finds no broker up
/// and falls back to a 500 ms retry timer while the first records wait in the queue. Each
/// metadata answer tries again: two requests right away (about 50 ms, mostly connecting)
/// had the id and the first batches out within 0.1 s instead of 0.6 s.
fn get_producer_id_early<C: ClientContext>(
    client: &rdkafka::client::Client<C>,
    settings: &ProduceSettings,
    topic: &str,
) {
    if settings.idempotent {
        for _ in 0..2 {
            let _ = client.fetch_metadata(Some(topic), Duration::from_secs(2));
        }
    }
}

/// How long queued (`wait: false`) records may wait for their batch to fill.
const BULK_LINGER_MS: &str = "100";

/// librdkafka's RD_KAFKA_PARTITION_UA (a C macro): its partitioner picks the partition.
const PARTITION_UNASSIGNED: i32 = -1;

/// Queues a record without headers or timestamp through a topic handle (librdkafka copies
/// key and value); the error code when librdkafka refuses it (QueueFull: no room yet).
fn produce_through(
    topic: *mut rdkafka::bindings::rd_kafka_topic_t,
    record: &OutRecord,
) -> std::result::Result<(), RDKafkaErrorCode> {
    let bytes = |b: &Option<Bytes>| match b {
        Some(b) => (b.as_ptr() as *mut std::ffi::c_void, b.len()),
        None => (std::ptr::null_mut(), 0),
    };
    let (value, value_len) = bytes(&record.value);
    let (key, key_len) = bytes(&record.key);
    // SAFETY: the handle is live (its producer is locked by the caller); key and value
    // outlive the call and librdkafka copies them (F_COPY); a null opaque is the unit
    // delivery opaque that the producer's context expects.
    let status = unsafe {
        rdkafka::bindings::rd_kafka_produce(
            topic,
            record.partition.unwrap_or(PARTITION_UNASSIGNED),
            rdkafka::bindings::RD_KAFKA_MSG_F_COPY,
            value,
            value_len,
            key,
            key_len,
            std::ptr::null_mut(),
        )
    };
    if status == 0 {
        return Ok(());
    }
    // SAFETY: reads the calling thread's last librdkafka error, set by the call above.
    Err(unsafe { rdkafka::bindings::rd_kafka_last_error() }.into())
}

/// The producer configuration of `settings` on `path`.
fn producer_config(path: &DataPath, settings: &ProduceSettings) -> rdkafka::ClientConfig {
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
    config
}

fn owned_headers(headers: &[(String, Option<Vec<u8>>)]) -> OwnedHeaders {
    let mut owned = OwnedHeaders::new_with_capacity(headers.len());
    for (key, value) in headers {
        owned = owned.insert(Header {
            key: key.as_str(),
            value: value.as_deref(),
        });
    }
    owned
}

/// Writes `records` to `topic` (which the caller checked exists) and waits for every
/// delivery. Fails with the first delivery error; records before it in the list may have
/// been written (the error says how many were).
pub async fn produce(
    producer: &FutureProducer<DataContext>,
    topic: &str,
    records: Vec<OutRecord>,
) -> Result<Vec<Produced>> {
    let mut pending = Vec::with_capacity(records.len());
    let mut refreshes = 0;
    for record in &records {
        let mut future = FutureRecord::<[u8], [u8]>::to(topic);
        if let Some(k) = &record.key {
            future = future.key(k.as_ref());
        }
        if let Some(v) = &record.value {
            future = future.payload(v.as_ref());
        }
        if let Some(p) = record.partition {
            future = future.partition(p);
        }
        if let Some(t) = record.timestamp {
            future = future.timestamp(t);
        }
        if !record.headers.is_empty() {
            future = future.headers(owned_headers(&record.headers));
        }
        loop {
            match producer.send_result(future) {
                Ok(delivery) => {
                    pending.push(delivery);
                    break;
                }
                Err((e, back)) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull) => {
                    // librdkafka's queue is full: let deliveries drain, then go on.
                    future = back;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                // A partition the caller found in the cluster that librdkafka's metadata
                // lacks (added since this producer looked): look again, within the
                // delivery timeout that bounds the call.
                Err((e, back))
                    if e.rdkafka_error_code() == Some(RDKafkaErrorCode::UnknownPartition)
                        && refreshes < 20 =>
                {
                    refreshes += 1;
                    future = back;
                    let (p, t) = (producer.clone(), topic.to_string());
                    let _ =
                        tokio::task::spawn_blocking(move || refresh_metadata(p.client(), &t)).await;
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
