//! Reading records with librdkafka: the planned partitions are assigned at their start
//! offsets (no group is joined; with a group id, the offsets read can be committed as that
//! group), and each partition stops at its planned end. The caller polls one record at a
//! time with a short wait, so it can check for Ctrl-C and its deadline between polls and
//! never holds more than librdkafka's fetch queue in memory.

use super::codec::Encoding;
use super::ranges::PartitionRange;
use super::{kafka_error, DataContext, DataPath};
use crate::error::{Error, Result};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message, Timestamp};
use rdkafka::types::RDKafkaErrorCode as Code;
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How keys, values and header values are shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Decoding {
    /// Keys.
    pub key: Encoding,
    /// Values.
    pub value: Encoding,
    /// Header values.
    pub headers: Encoding,
}

/// One record header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordHeader {
    /// The header's key.
    pub key: String,
    /// Its value, decoded (null when the header has none).
    pub value: Value,
}

/// A record as read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
    /// Milliseconds since the epoch (none when the record has no timestamp).
    pub timestamp: Option<i64>,
    /// "CreateTime" (set by the producer) or "LogAppendTime" (set by the broker).
    pub timestamp_type: &'static str,
    /// The key, decoded (null when the record has none).
    pub key: Value,
    /// The value, decoded (null for a tombstone).
    pub value: Value,
    /// Headers in the record's order (a key may repeat).
    pub headers: Vec<RecordHeader>,
}

/// What one poll gave.
#[derive(Debug)]
pub enum Next<T> {
    /// A record, as the caller's visitor made it.
    Record(T),
    /// Nothing within the wait (more may come).
    Idle,
    /// Every partition reached its end.
    Done,
}

/// A record as librdkafka holds it, not decoded yet: `tail` prints it without copying its
/// key and value; [`RawRecord::decode`] makes the [`Record`] that scripts get.
pub struct RawRecord<'m> {
    message: &'m BorrowedMessage<'m>,
    topic: &'m str,
    decoding: Decoding,
    /// Key and value bytes read so far, this record's included.
    pub bytes_read: u64,
}

impl RawRecord<'_> {
    /// The partition.
    pub fn partition(&self) -> i32 {
        self.message.partition()
    }

    /// The offset.
    pub fn offset(&self) -> i64 {
        self.message.offset()
    }

    /// The key as one line of text in the reader's key encoding.
    pub fn shown_key(&self) -> Result<Cow<'_, str>> {
        self.decoding
            .key
            .show(self.message.key())
            .map_err(|e| Error::InvalidInput(format!("the key of {}: {e}", self.at())))
    }

    /// The value as one line of text in the reader's value encoding.
    pub fn shown_value(&self) -> Result<Cow<'_, str>> {
        self.decoding
            .value
            .show(self.message.payload())
            .map_err(|e| Error::InvalidInput(format!("the value of {}: {e}", self.at())))
    }

    fn at(&self) -> String {
        format!(
            "{}-{} offset {}",
            self.topic,
            self.partition(),
            self.offset()
        )
    }

    /// The record decoded: key, value and header values in the reader's encodings.
    pub fn decode(&self) -> Result<Record> {
        let message = self.message;
        let (timestamp, timestamp_type) = match message.timestamp() {
            Timestamp::NotAvailable => (None, "NoTimestampType"),
            Timestamp::CreateTime(t) => (Some(t), "CreateTime"),
            Timestamp::LogAppendTime(t) => (Some(t), "LogAppendTime"),
        };
        let mut headers = Vec::new();
        if let Some(hs) = message.headers() {
            for h in hs.iter() {
                headers.push(RecordHeader {
                    key: h.key.to_string(),
                    value: self.decoding.headers.decode(h.value).map_err(|e| {
                        Error::InvalidInput(format!("header {:?} of {}: {e}", h.key, self.at()))
                    })?,
                });
            }
        }
        Ok(Record {
            topic: self.topic.to_string(),
            partition: message.partition(),
            offset: message.offset(),
            timestamp,
            timestamp_type,
            key: self
                .decoding
                .key
                .decode(message.key())
                .map_err(|e| Error::InvalidInput(format!("the key of {}: {e}", self.at())))?,
            value: self
                .decoding
                .value
                .decode(message.payload())
                .map_err(|e| Error::InvalidInput(format!("the value of {}: {e}", self.at())))?,
            headers,
        })
    }
}

/// A reader of planned partitions of one topic.
pub struct Reader {
    consumer: Arc<BaseConsumer<DataContext>>,
    topic: String,
    /// Partitions still being read, with the offset each stops before (none: follow).
    open: BTreeMap<i32, Option<i64>>,
    /// The next offset of each partition something was read from (for a group commit).
    positions: BTreeMap<i32, i64>,
    decoding: Decoding,
    group: Option<String>,
    /// Records read so far.
    pub records: u64,
    /// Key and value bytes read so far.
    pub bytes: u64,
    planned: u64,
}

impl Reader {
    /// Assigns `ranges` of `topic` at their start offsets (partitions with nothing to read
    /// are left out). With `group`, the consumer carries that group id so [`Reader::commit`]
    /// can commit what was read; it never joins the group.
    pub fn open(
        path: &DataPath,
        topic: &str,
        ranges: &[PartitionRange],
        decoding: Decoding,
        group: Option<&str>,
    ) -> Result<Reader> {
        let mut config = path.client_config();
        config
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "error")
            .set("fetch.queue.backoff.ms", "20")
            .set("group.id", group.unwrap_or("kafsh-reader"));
        let consumer: BaseConsumer<DataContext> = config
            .create_with_context(path.context())
            .map_err(|e| kafka_error("cannot start the consumer", e))?;
        let mut assignment = TopicPartitionList::new();
        let mut open = BTreeMap::new();
        for r in ranges.iter().filter(|r| !r.is_empty()) {
            assignment
                .add_partition_offset(topic, r.partition, Offset::Offset(r.start))
                .map_err(|e| kafka_error("cannot assign", e))?;
            open.insert(r.partition, r.end);
        }
        if !open.is_empty() {
            consumer
                .assign(&assignment)
                .map_err(|e| kafka_error(&format!("cannot assign {topic}"), e))?;
        }
        Ok(Reader {
            consumer: Arc::new(consumer),
            topic: topic.to_string(),
            open,
            positions: BTreeMap::new(),
            decoding,
            group: group.map(str::to_string),
            records: 0,
            bytes: 0,
            planned: ranges
                .iter()
                .filter_map(|r| r.end.map(|e| (e - r.start).max(0) as u64))
                .sum(),
        })
    }

    /// Records the plan covers (bounded partitions only).
    pub fn planned_records(&self) -> u64 {
        self.planned
    }

    /// Partitions not read to their end yet.
    pub fn open_partitions(&self) -> Vec<i32> {
        self.open.keys().copied().collect()
    }

    /// Whether every partition reached its end.
    pub fn is_done(&self) -> bool {
        self.open.is_empty()
    }

    /// Waits up to `wait` for the next record and hands it to `visit` while librdkafka
    /// still holds it.
    pub fn next_with<T>(
        &mut self,
        wait: Duration,
        visit: impl FnOnce(RawRecord<'_>) -> T,
    ) -> Result<Next<T>> {
        loop {
            if self.open.is_empty() {
                return Ok(Next::Done);
            }
            let consumer = self.consumer.clone();
            let polled = match consumer.poll(wait) {
                None => return Ok(Next::Idle),
                Some(polled) => polled,
            };
            let message = match polled {
                Ok(m) => m,
                Err(KafkaError::PartitionEOF(p)) => {
                    // The end of the log as it is now: a bounded read of it is complete.
                    if self.open.get(&p).is_some_and(Option::is_some) {
                        self.finish(p);
                    }
                    continue;
                }
                Err(e) => {
                    if is_fatal(&e) {
                        return Err(kafka_error(&format!("reading {}", self.topic), e));
                    }
                    // Brokers going away and coming back: librdkafka retries by itself.
                    return Ok(Next::Idle);
                }
            };
            let p = message.partition();
            let offset = message.offset();
            let Some(end) = self.open.get(&p).copied() else {
                continue;
            };
            if end.is_some_and(|e| offset >= e) {
                self.finish(p);
                continue;
            }
            self.positions.insert(p, offset + 1);
            if end.is_some_and(|e| offset + 1 >= e) {
                self.finish(p);
            }
            self.records += 1;
            self.bytes += (message.key_len() + message.payload_len()) as u64;
            return Ok(Next::Record(visit(RawRecord {
                message: &message,
                topic: &self.topic,
                decoding: self.decoding,
                bytes_read: self.bytes,
            })));
        }
    }

    fn finish(&mut self, partition: i32) {
        self.open.remove(&partition);
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&self.topic, partition);
        // Stops fetching what is no longer wanted; failing to pause only costs bandwidth.
        let _ = self.consumer.pause(&tpl);
    }

    /// The next offset of every partition read from (what a group commit stores).
    pub fn positions(&self) -> &BTreeMap<i32, i64> {
        &self.positions
    }

    /// A handle to commit from another thread.
    pub fn committer(&self) -> Committer {
        Committer {
            consumer: self.consumer.clone(),
            topic: self.topic.clone(),
            group: self.group.clone(),
            positions: self.positions.clone(),
        }
    }
}

/// The offsets a reader read, to commit off the script's thread.
pub struct Committer {
    consumer: Arc<BaseConsumer<DataContext>>,
    topic: String,
    group: Option<String>,
    positions: BTreeMap<i32, i64>,
}

impl Committer {
    /// The group, when the reader has one.
    pub fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    /// The offsets it would commit: the next offset per partition.
    pub fn positions(&self) -> &BTreeMap<i32, i64> {
        &self.positions
    }

    /// Commits the positions as the group (blocking, bounded by the socket timeout).
    pub fn commit(&self) -> Result<usize> {
        let Some(group) = &self.group else {
            return Ok(0);
        };
        if self.positions.is_empty() {
            return Ok(0);
        }
        let mut tpl = TopicPartitionList::new();
        for (p, next) in &self.positions {
            tpl.add_partition_offset(&self.topic, *p, Offset::Offset(*next))
                .map_err(|e| kafka_error("commit", e))?;
        }
        self.consumer
            .commit(&tpl, CommitMode::Sync)
            .map_err(|e| kafka_error(&format!("committing offsets of group {group:?}"), e))?;
        Ok(self.positions.len())
    }
}

/// Errors after which reading cannot go on (the rest librdkafka retries itself).
fn is_fatal(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            Code::OffsetOutOfRange
                | Code::AutoOffsetReset
                | Code::UnknownTopicOrPartition
                | Code::UnknownTopic
                | Code::UnknownPartition
                | Code::TopicAuthorizationFailed
                | Code::GroupAuthorizationFailed
                | Code::ClusterAuthorizationFailed
                | Code::SaslAuthenticationFailed
                | Code::Authentication
                | Code::SSL
                | Code::Fatal
        )
    )
}
