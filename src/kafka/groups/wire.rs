//! Group messages the `kafka-protocol` crate (0.18) does not have, encoded here from Kafka
//! 4.2's own schemas (`clients/src/main/resources/common/message/*.json`):
//! StreamsGroupDescribe v0 (API key 89, KIP-1071) and DescribeShareGroupOffsets v0–v1 (API key
//! 90; the crate stops at v0, v1 adds the share-partition lag of KIP-1226). Both are flexible
//! versions: compact strings and arrays, tagged fields after every struct.
//!
//! The types implement the crate's `Request`/`Encodable`/`Decodable` traits, so they travel
//! over the same connection, version negotiation and timeouts as every other request.

use anyhow::{bail, Result};
use bytes::{Buf, BufMut, BytesMut};
use kafka_protocol::protocol::buf::{ByteBuf, ByteBufMut};
use kafka_protocol::protocol::{
    Decodable, Encodable, HeaderVersion, Message, Request, VersionRange,
};

// ----- primitives of flexible versions ---------------------------------------------------

fn need(buf: &impl Buf, n: usize, what: &str) -> Result<()> {
    if buf.remaining() < n {
        bail!(
            "truncated {what}: {n} bytes needed, {} left",
            buf.remaining()
        );
    }
    Ok(())
}

fn get_i8(buf: &mut impl Buf) -> Result<i8> {
    need(buf, 1, "int8")?;
    Ok(buf.get_i8())
}

fn get_i16(buf: &mut impl Buf) -> Result<i16> {
    need(buf, 2, "int16")?;
    Ok(buf.get_i16())
}

fn get_i32(buf: &mut impl Buf) -> Result<i32> {
    need(buf, 4, "int32")?;
    Ok(buf.get_i32())
}

fn get_i64(buf: &mut impl Buf) -> Result<i64> {
    need(buf, 8, "int64")?;
    Ok(buf.get_i64())
}

fn get_u16(buf: &mut impl Buf) -> Result<u16> {
    need(buf, 2, "uint16")?;
    Ok(buf.get_u16())
}

fn get_uvarint(buf: &mut impl Buf) -> Result<u32> {
    let mut value: u32 = 0;
    for i in 0..5 {
        need(buf, 1, "varint")?;
        let b = buf.get_u8();
        value |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    bail!("varint longer than 5 bytes")
}

fn put_uvarint(buf: &mut impl BufMut, mut value: u32) {
    while value >= 0x80 {
        buf.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

/// A compact length: 0 is null, n + 1 is n.
fn get_compact_len(buf: &mut impl Buf) -> Result<Option<usize>> {
    Ok(match get_uvarint(buf)? {
        0 => None,
        n => Some(n as usize - 1),
    })
}

fn get_nullable_string(buf: &mut impl Buf) -> Result<Option<String>> {
    let Some(len) = get_compact_len(buf)? else {
        return Ok(None);
    };
    need(buf, len, "string")?;
    let bytes = buf.copy_to_bytes(len);
    Ok(Some(String::from_utf8(bytes.to_vec())?))
}

fn get_string(buf: &mut impl Buf) -> Result<String> {
    get_nullable_string(buf)?.ok_or_else(|| anyhow::anyhow!("null in a non-nullable string"))
}

fn put_nullable_string(buf: &mut impl BufMut, s: Option<&str>) {
    match s {
        None => put_uvarint(buf, 0),
        Some(s) => {
            put_uvarint(buf, s.len() as u32 + 1);
            buf.put_slice(s.as_bytes());
        }
    }
}

fn put_string(buf: &mut impl BufMut, s: &str) {
    put_nullable_string(buf, Some(s));
}

fn get_nullable_array<B: Buf, T>(
    buf: &mut B,
    mut item: impl FnMut(&mut B) -> Result<T>,
) -> Result<Option<Vec<T>>> {
    let Some(len) = get_compact_len(buf)? else {
        return Ok(None);
    };
    // Every item takes at least one byte: a length beyond the buffer is corrupt.
    need(buf, len, "array")?;
    (0..len).map(|_| item(buf)).collect::<Result<_>>().map(Some)
}

fn get_array<B: Buf, T>(buf: &mut B, item: impl FnMut(&mut B) -> Result<T>) -> Result<Vec<T>> {
    get_nullable_array(buf, item)?.ok_or_else(|| anyhow::anyhow!("null in a non-nullable array"))
}

fn put_nullable_array<B: BufMut, T>(
    buf: &mut B,
    items: Option<&[T]>,
    mut item: impl FnMut(&mut B, &T),
) {
    match items {
        None => put_uvarint(buf, 0),
        Some(items) => {
            put_uvarint(buf, items.len() as u32 + 1);
            for i in items {
                item(buf, i);
            }
        }
    }
}

fn put_array<B: BufMut, T>(buf: &mut B, items: &[T], item: impl FnMut(&mut B, &T)) {
    put_nullable_array(buf, Some(items), item);
}

/// Skips the tagged fields that end every struct (none of them is used here).
fn skip_tagged_fields(buf: &mut impl Buf) -> Result<()> {
    let count = get_uvarint(buf)?;
    for _ in 0..count {
        let _tag = get_uvarint(buf)?;
        let size = get_uvarint(buf)? as usize;
        need(buf, size, "tagged field")?;
        buf.advance(size);
    }
    Ok(())
}

fn put_no_tagged_fields(buf: &mut impl BufMut) {
    put_uvarint(buf, 0);
}

/// The size of an encoding, by encoding it (these messages are small and rare).
fn encoded_size(encode: impl FnOnce(&mut BytesMut) -> Result<()>) -> Result<usize> {
    let mut buf = BytesMut::new();
    encode(&mut buf)?;
    Ok(buf.len())
}

// ----- StreamsGroupDescribe (API key 89) ----------------------------------------------------

/// StreamsGroupDescribe request, version 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamsGroupDescribeRequest {
    /// The ids of the groups to describe.
    pub group_ids: Vec<String>,
    /// Whether to include authorized operations.
    pub include_authorized_operations: bool,
}

/// StreamsGroupDescribe response, version 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamsGroupDescribeResponse {
    pub throttle_time_ms: i32,
    pub groups: Vec<StreamsDescribedGroup>,
}

/// One described streams group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamsDescribedGroup {
    pub error_code: i16,
    pub error_message: Option<String>,
    pub group_id: String,
    pub group_state: String,
    pub group_epoch: i32,
    pub assignment_epoch: i32,
    /// The topology initialized for the application; null on a describe error.
    pub topology: Option<StreamsTopology>,
    pub members: Vec<StreamsMember>,
    pub authorized_operations: i32,
}

/// A streams group's topology.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamsTopology {
    pub epoch: i32,
    /// Null while the group is uninitialized or its source topics are missing.
    pub subtopologies: Option<Vec<StreamsSubtopology>>,
}

/// One subtopology: the topics its tasks read and write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamsSubtopology {
    pub subtopology_id: String,
    pub source_topics: Vec<String>,
    pub repartition_sink_topics: Vec<String>,
    pub state_changelog_topics: Vec<StreamsTopicInfo>,
    pub repartition_source_topics: Vec<StreamsTopicInfo>,
}

/// An internal topic of a subtopology.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamsTopicInfo {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i16,
    pub topic_configs: Vec<(String, String)>,
}

/// One member of a streams group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamsMember {
    pub member_id: String,
    pub member_epoch: i32,
    pub instance_id: Option<String>,
    pub rack_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub topology_epoch: i32,
    pub process_id: String,
    /// Interactive Queries endpoint (host, port), if the client has one.
    pub user_endpoint: Option<(String, u16)>,
    pub client_tags: Vec<(String, String)>,
    pub task_offsets: Vec<StreamsTaskOffset>,
    pub task_end_offsets: Vec<StreamsTaskOffset>,
    pub assignment: StreamsAssignment,
    pub target_assignment: StreamsAssignment,
    pub is_classic: bool,
}

/// A task's cumulative changelog offset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamsTaskOffset {
    pub subtopology_id: String,
    pub partition: i32,
    pub offset: i64,
}

/// Active, standby and warm-up tasks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamsAssignment {
    pub active_tasks: Vec<StreamsTaskIds>,
    pub standby_tasks: Vec<StreamsTaskIds>,
    pub warmup_tasks: Vec<StreamsTaskIds>,
}

/// The partitions (task ids) of one subtopology.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamsTaskIds {
    pub subtopology_id: String,
    pub partitions: Vec<i32>,
}

fn only_version_0(version: i16, what: &str) -> Result<()> {
    if version != 0 {
        bail!("kafsh speaks {what} version 0 only, not {version}");
    }
    Ok(())
}

impl Message for StreamsGroupDescribeRequest {
    const VERSIONS: VersionRange = VersionRange { min: 0, max: 0 };
    const DEPRECATED_VERSIONS: Option<VersionRange> = None;
}

impl Message for StreamsGroupDescribeResponse {
    const VERSIONS: VersionRange = VersionRange { min: 0, max: 0 };
    const DEPRECATED_VERSIONS: Option<VersionRange> = None;
}

impl HeaderVersion for StreamsGroupDescribeRequest {
    fn header_version(_version: i16) -> i16 {
        2
    }
}

impl HeaderVersion for StreamsGroupDescribeResponse {
    fn header_version(_version: i16) -> i16 {
        1
    }
}

impl Request for StreamsGroupDescribeRequest {
    const KEY: i16 = 89;
    type Response = StreamsGroupDescribeResponse;
}

impl Encodable for StreamsGroupDescribeRequest {
    fn encode<B: ByteBufMut>(&self, buf: &mut B, version: i16) -> Result<()> {
        only_version_0(version, "StreamsGroupDescribe")?;
        put_array(buf, &self.group_ids, |b, g| put_string(b, g));
        buf.put_u8(u8::from(self.include_authorized_operations));
        put_no_tagged_fields(buf);
        Ok(())
    }

    fn compute_size(&self, version: i16) -> Result<usize> {
        encoded_size(|b| self.encode(b, version))
    }
}

impl Decodable for StreamsGroupDescribeRequest {
    fn decode<B: ByteBuf>(buf: &mut B, version: i16) -> Result<Self> {
        only_version_0(version, "StreamsGroupDescribe")?;
        let group_ids = get_array(buf, get_string)?;
        let include_authorized_operations = get_i8(buf)? != 0;
        skip_tagged_fields(buf)?;
        Ok(StreamsGroupDescribeRequest {
            group_ids,
            include_authorized_operations,
        })
    }
}

fn put_key_values(buf: &mut impl BufMut, pairs: &[(String, String)]) {
    put_array(buf, pairs, |b, (k, v)| {
        put_string(b, k);
        put_string(b, v);
        put_no_tagged_fields(b);
    });
}

fn get_key_values(buf: &mut impl Buf) -> Result<Vec<(String, String)>> {
    get_array(buf, |b| {
        let pair = (get_string(b)?, get_string(b)?);
        skip_tagged_fields(b)?;
        Ok(pair)
    })
}

fn put_topic_info(buf: &mut impl BufMut, t: &StreamsTopicInfo) {
    put_string(buf, &t.name);
    buf.put_i32(t.partitions);
    buf.put_i16(t.replication_factor);
    put_key_values(buf, &t.topic_configs);
    put_no_tagged_fields(buf);
}

fn get_topic_info(buf: &mut impl Buf) -> Result<StreamsTopicInfo> {
    let t = StreamsTopicInfo {
        name: get_string(buf)?,
        partitions: get_i32(buf)?,
        replication_factor: get_i16(buf)?,
        topic_configs: get_key_values(buf)?,
    };
    skip_tagged_fields(buf)?;
    Ok(t)
}

fn put_task_offsets(buf: &mut impl BufMut, offsets: &[StreamsTaskOffset]) {
    put_array(buf, offsets, |b, o| {
        put_string(b, &o.subtopology_id);
        b.put_i32(o.partition);
        b.put_i64(o.offset);
        put_no_tagged_fields(b);
    });
}

fn get_task_offsets(buf: &mut impl Buf) -> Result<Vec<StreamsTaskOffset>> {
    get_array(buf, |b| {
        let o = StreamsTaskOffset {
            subtopology_id: get_string(b)?,
            partition: get_i32(b)?,
            offset: get_i64(b)?,
        };
        skip_tagged_fields(b)?;
        Ok(o)
    })
}

fn put_task_ids(buf: &mut impl BufMut, tasks: &[StreamsTaskIds]) {
    put_array(buf, tasks, |b, t| {
        put_string(b, &t.subtopology_id);
        put_array(b, &t.partitions, |b, p| b.put_i32(*p));
        put_no_tagged_fields(b);
    });
}

fn get_task_ids(buf: &mut impl Buf) -> Result<Vec<StreamsTaskIds>> {
    get_array(buf, |b| {
        let t = StreamsTaskIds {
            subtopology_id: get_string(b)?,
            partitions: get_array(b, get_i32)?,
        };
        skip_tagged_fields(b)?;
        Ok(t)
    })
}

fn put_assignment(buf: &mut impl BufMut, a: &StreamsAssignment) {
    put_task_ids(buf, &a.active_tasks);
    put_task_ids(buf, &a.standby_tasks);
    put_task_ids(buf, &a.warmup_tasks);
    put_no_tagged_fields(buf);
}

fn get_assignment(buf: &mut impl Buf) -> Result<StreamsAssignment> {
    let a = StreamsAssignment {
        active_tasks: get_task_ids(buf)?,
        standby_tasks: get_task_ids(buf)?,
        warmup_tasks: get_task_ids(buf)?,
    };
    skip_tagged_fields(buf)?;
    Ok(a)
}

fn put_member(buf: &mut impl BufMut, m: &StreamsMember) {
    put_string(buf, &m.member_id);
    buf.put_i32(m.member_epoch);
    put_nullable_string(buf, m.instance_id.as_deref());
    put_nullable_string(buf, m.rack_id.as_deref());
    put_string(buf, &m.client_id);
    put_string(buf, &m.client_host);
    buf.put_i32(m.topology_epoch);
    put_string(buf, &m.process_id);
    match &m.user_endpoint {
        None => buf.put_i8(-1),
        Some((host, port)) => {
            buf.put_i8(1);
            put_string(buf, host);
            buf.put_u16(*port);
            put_no_tagged_fields(buf);
        }
    }
    put_key_values(buf, &m.client_tags);
    put_task_offsets(buf, &m.task_offsets);
    put_task_offsets(buf, &m.task_end_offsets);
    put_assignment(buf, &m.assignment);
    put_assignment(buf, &m.target_assignment);
    buf.put_u8(u8::from(m.is_classic));
    put_no_tagged_fields(buf);
}

fn get_member(buf: &mut impl Buf) -> Result<StreamsMember> {
    let member_id = get_string(buf)?;
    let member_epoch = get_i32(buf)?;
    let instance_id = get_nullable_string(buf)?;
    let rack_id = get_nullable_string(buf)?;
    let client_id = get_string(buf)?;
    let client_host = get_string(buf)?;
    let topology_epoch = get_i32(buf)?;
    let process_id = get_string(buf)?;
    let user_endpoint = if get_i8(buf)? < 0 {
        None
    } else {
        let host = get_string(buf)?;
        let port = get_u16(buf)?;
        skip_tagged_fields(buf)?;
        Some((host, port))
    };
    let m = StreamsMember {
        member_id,
        member_epoch,
        instance_id,
        rack_id,
        client_id,
        client_host,
        topology_epoch,
        process_id,
        user_endpoint,
        client_tags: get_key_values(buf)?,
        task_offsets: get_task_offsets(buf)?,
        task_end_offsets: get_task_offsets(buf)?,
        assignment: get_assignment(buf)?,
        target_assignment: get_assignment(buf)?,
        is_classic: get_i8(buf)? != 0,
    };
    skip_tagged_fields(buf)?;
    Ok(m)
}

fn put_subtopology(buf: &mut impl BufMut, s: &StreamsSubtopology) {
    put_string(buf, &s.subtopology_id);
    put_array(buf, &s.source_topics, |b, t| put_string(b, t));
    put_array(buf, &s.repartition_sink_topics, |b, t| put_string(b, t));
    put_array(buf, &s.state_changelog_topics, |b, t| put_topic_info(b, t));
    put_array(buf, &s.repartition_source_topics, |b, t| {
        put_topic_info(b, t)
    });
    put_no_tagged_fields(buf);
}

fn get_subtopology(buf: &mut impl Buf) -> Result<StreamsSubtopology> {
    let s = StreamsSubtopology {
        subtopology_id: get_string(buf)?,
        source_topics: get_array(buf, get_string)?,
        repartition_sink_topics: get_array(buf, get_string)?,
        state_changelog_topics: get_array(buf, get_topic_info)?,
        repartition_source_topics: get_array(buf, get_topic_info)?,
    };
    skip_tagged_fields(buf)?;
    Ok(s)
}

fn put_streams_group(buf: &mut impl BufMut, g: &StreamsDescribedGroup) {
    buf.put_i16(g.error_code);
    put_nullable_string(buf, g.error_message.as_deref());
    put_string(buf, &g.group_id);
    put_string(buf, &g.group_state);
    buf.put_i32(g.group_epoch);
    buf.put_i32(g.assignment_epoch);
    match &g.topology {
        None => buf.put_i8(-1),
        Some(t) => {
            buf.put_i8(1);
            buf.put_i32(t.epoch);
            put_nullable_array(buf, t.subtopologies.as_deref(), |b, s| {
                put_subtopology(b, s)
            });
            put_no_tagged_fields(buf);
        }
    }
    put_array(buf, &g.members, |b, m| put_member(b, m));
    buf.put_i32(g.authorized_operations);
    put_no_tagged_fields(buf);
}

fn get_streams_group(buf: &mut impl Buf) -> Result<StreamsDescribedGroup> {
    let error_code = get_i16(buf)?;
    let error_message = get_nullable_string(buf)?;
    let group_id = get_string(buf)?;
    let group_state = get_string(buf)?;
    let group_epoch = get_i32(buf)?;
    let assignment_epoch = get_i32(buf)?;
    let topology = if get_i8(buf)? < 0 {
        None
    } else {
        let epoch = get_i32(buf)?;
        let subtopologies = get_nullable_array(buf, get_subtopology)?;
        skip_tagged_fields(buf)?;
        Some(StreamsTopology {
            epoch,
            subtopologies,
        })
    };
    let g = StreamsDescribedGroup {
        error_code,
        error_message,
        group_id,
        group_state,
        group_epoch,
        assignment_epoch,
        topology,
        members: get_array(buf, get_member)?,
        authorized_operations: get_i32(buf)?,
    };
    skip_tagged_fields(buf)?;
    Ok(g)
}

impl Encodable for StreamsGroupDescribeResponse {
    fn encode<B: ByteBufMut>(&self, buf: &mut B, version: i16) -> Result<()> {
        only_version_0(version, "StreamsGroupDescribe")?;
        buf.put_i32(self.throttle_time_ms);
        put_array(buf, &self.groups, |b, g| put_streams_group(b, g));
        put_no_tagged_fields(buf);
        Ok(())
    }

    fn compute_size(&self, version: i16) -> Result<usize> {
        encoded_size(|b| self.encode(b, version))
    }
}

impl Decodable for StreamsGroupDescribeResponse {
    fn decode<B: ByteBuf>(buf: &mut B, version: i16) -> Result<Self> {
        only_version_0(version, "StreamsGroupDescribe")?;
        let throttle_time_ms = get_i32(buf)?;
        let groups = get_array(buf, get_streams_group)?;
        skip_tagged_fields(buf)?;
        Ok(StreamsGroupDescribeResponse {
            throttle_time_ms,
            groups,
        })
    }
}

// ----- DescribeShareGroupOffsets (API key 90), versions 0–1 ---------------------------------

/// Topics and their partitions.
pub type TopicPartitions = Vec<(String, Vec<i32>)>;

/// DescribeShareGroupOffsets request: per group, the topics (and partitions) to describe, or
/// `None` for every partition the group has state for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShareGroupOffsetsRequest {
    pub groups: Vec<(String, Option<TopicPartitions>)>,
}

/// DescribeShareGroupOffsets response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShareGroupOffsetsResponse {
    pub throttle_time_ms: i32,
    pub groups: Vec<ShareGroupOffsets>,
}

/// One group's share-partition start offsets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShareGroupOffsets {
    pub group_id: String,
    pub topics: Vec<ShareTopicOffsets>,
    pub error_code: i16,
    pub error_message: Option<String>,
}

/// One topic of a group's share-partition offsets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShareTopicOffsets {
    pub topic_name: String,
    pub topic_id: [u8; 16],
    pub partitions: Vec<SharePartitionOffset>,
}

/// One share-partition: its start offset and (version 1+) its lag.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SharePartitionOffset {
    pub partition_index: i32,
    /// The share-partition start offset; negative when the partition has none.
    pub start_offset: i64,
    pub leader_epoch: i32,
    /// The broker's lag (version 1+; -1 when unknown or on version 0).
    pub lag: i64,
    pub error_code: i16,
    pub error_message: Option<String>,
}

fn share_version(version: i16) -> Result<()> {
    if !(0..=1).contains(&version) {
        bail!("kafsh speaks DescribeShareGroupOffsets versions 0..1, not {version}");
    }
    Ok(())
}

impl Message for ShareGroupOffsetsRequest {
    const VERSIONS: VersionRange = VersionRange { min: 0, max: 1 };
    const DEPRECATED_VERSIONS: Option<VersionRange> = None;
}

impl Message for ShareGroupOffsetsResponse {
    const VERSIONS: VersionRange = VersionRange { min: 0, max: 1 };
    const DEPRECATED_VERSIONS: Option<VersionRange> = None;
}

impl HeaderVersion for ShareGroupOffsetsRequest {
    fn header_version(_version: i16) -> i16 {
        2
    }
}

impl HeaderVersion for ShareGroupOffsetsResponse {
    fn header_version(_version: i16) -> i16 {
        1
    }
}

impl Request for ShareGroupOffsetsRequest {
    const KEY: i16 = 90;
    type Response = ShareGroupOffsetsResponse;
}

impl Encodable for ShareGroupOffsetsRequest {
    fn encode<B: ByteBufMut>(&self, buf: &mut B, version: i16) -> Result<()> {
        share_version(version)?;
        put_array(buf, &self.groups, |b, (group, topics)| {
            put_string(b, group);
            put_nullable_array(b, topics.as_deref(), |b, (topic, partitions)| {
                put_string(b, topic);
                put_array(b, partitions, |b, p| b.put_i32(*p));
                put_no_tagged_fields(b);
            });
            put_no_tagged_fields(b);
        });
        put_no_tagged_fields(buf);
        Ok(())
    }

    fn compute_size(&self, version: i16) -> Result<usize> {
        encoded_size(|b| self.encode(b, version))
    }
}

impl Decodable for ShareGroupOffsetsRequest {
    fn decode<B: ByteBuf>(buf: &mut B, version: i16) -> Result<Self> {
        share_version(version)?;
        let groups = get_array(buf, |b| {
            let group = get_string(b)?;
            let topics = get_nullable_array(b, |b| {
                let t = (get_string(b)?, get_array(b, get_i32)?);
                skip_tagged_fields(b)?;
                Ok(t)
            })?;
            skip_tagged_fields(b)?;
            Ok((group, topics))
        })?;
        skip_tagged_fields(buf)?;
        Ok(ShareGroupOffsetsRequest { groups })
    }
}

impl Encodable for ShareGroupOffsetsResponse {
    fn encode<B: ByteBufMut>(&self, buf: &mut B, version: i16) -> Result<()> {
        share_version(version)?;
        buf.put_i32(self.throttle_time_ms);
        put_array(buf, &self.groups, |b, g| {
            put_string(b, &g.group_id);
            put_array(b, &g.topics, |b, t| {
                put_string(b, &t.topic_name);
                b.put_slice(&t.topic_id);
                put_array(b, &t.partitions, |b, p| {
                    b.put_i32(p.partition_index);
                    b.put_i64(p.start_offset);
                    b.put_i32(p.leader_epoch);
                    if version >= 1 {
                        b.put_i64(p.lag);
                    }
                    b.put_i16(p.error_code);
                    put_nullable_string(b, p.error_message.as_deref());
                    put_no_tagged_fields(b);
                });
                put_no_tagged_fields(b);
            });
            b.put_i16(g.error_code);
            put_nullable_string(b, g.error_message.as_deref());
            put_no_tagged_fields(b);
        });
        put_no_tagged_fields(buf);
        Ok(())
    }

    fn compute_size(&self, version: i16) -> Result<usize> {
        encoded_size(|b| self.encode(b, version))
    }
}

impl Decodable for ShareGroupOffsetsResponse {
    fn decode<B: ByteBuf>(buf: &mut B, version: i16) -> Result<Self> {
        share_version(version)?;
        let throttle_time_ms = get_i32(buf)?;
        let groups = get_array(buf, |b| {
            let group_id = get_string(b)?;
            let topics = get_array(b, |b| {
                let topic_name = get_string(b)?;
                need(b, 16, "uuid")?;
                let mut topic_id = [0u8; 16];
                b.copy_to_slice(&mut topic_id);
                let partitions = get_array(b, |b| {
                    let partition_index = get_i32(b)?;
                    let start_offset = get_i64(b)?;
                    let leader_epoch = get_i32(b)?;
                    let lag = if version >= 1 { get_i64(b)? } else { -1 };
                    let p = SharePartitionOffset {
                        partition_index,
                        start_offset,
                        leader_epoch,
                        lag,
                        error_code: get_i16(b)?,
                        error_message: get_nullable_string(b)?,
                    };
                    skip_tagged_fields(b)?;
                    Ok(p)
                })?;
                skip_tagged_fields(b)?;
                Ok(ShareTopicOffsets {
                    topic_name,
                    topic_id,
                    partitions,
                })
            })?;
            let g = ShareGroupOffsets {
                group_id,
                topics,
                error_code: get_i16(b)?,
                error_message: get_nullable_string(b)?,
            };
            skip_tagged_fields(b)?;
            Ok(g)
        })?;
        skip_tagged_fields(buf)?;
        Ok(ShareGroupOffsetsResponse {
            throttle_time_ms,
            groups,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn roundtrip<T: Encodable + Decodable + PartialEq + std::fmt::Debug>(value: &T, version: i16) {
        let mut buf = BytesMut::new();
        value.encode(&mut buf, version).expect("encode");
        assert_eq!(value.compute_size(version).expect("size"), buf.len());
        let mut bytes: Bytes = buf.freeze();
        let back = T::decode(&mut bytes, version).expect("decode");
        assert_eq!(&back, value);
        assert_eq!(bytes.remaining(), 0, "every byte read");
    }

    fn streams_response() -> StreamsGroupDescribeResponse {
        let tasks = |id: &str, ps: &[i32]| StreamsTaskIds {
            subtopology_id: id.into(),
            partitions: ps.to_vec(),
        };
        StreamsGroupDescribeResponse {
            throttle_time_ms: 3,
            groups: vec![
                StreamsDescribedGroup {
                    error_code: 0,
                    error_message: None,
                    group_id: "wordcount".into(),
                    group_state: "Stable".into(),
                    group_epoch: 4,
                    assignment_epoch: 4,
                    topology: Some(StreamsTopology {
                        epoch: 0,
                        subtopologies: Some(vec![StreamsSubtopology {
                            subtopology_id: "0".into(),
                            source_topics: vec!["plaintext-input".into()],
                            repartition_sink_topics: vec!["wc-counts-repartition".into()],
                            state_changelog_topics: vec![StreamsTopicInfo {
                                name: "wc-counts-changelog".into(),
                                partitions: 0,
                                replication_factor: 0,
                                topic_configs: vec![("cleanup.policy".into(), "compact".into())],
                            }],
                            repartition_source_topics: vec![],
                        }]),
                    }),
                    members: vec![StreamsMember {
                        member_id: "m-1".into(),
                        member_epoch: 4,
                        instance_id: None,
                        rack_id: Some("r1".into()),
                        client_id: "wc-StreamThread-1".into(),
                        client_host: "/127.0.0.1".into(),
                        topology_epoch: 0,
                        process_id: "p-1".into(),
                        user_endpoint: Some(("localhost".into(), 8080)),
                        client_tags: vec![("zone".into(), "a".into())],
                        task_offsets: vec![StreamsTaskOffset {
                            subtopology_id: "0".into(),
                            partition: 1,
                            offset: 77,
                        }],
                        task_end_offsets: vec![],
                        assignment: StreamsAssignment {
                            active_tasks: vec![tasks("0", &[0, 1]), tasks("1", &[2])],
                            standby_tasks: vec![],
                            warmup_tasks: vec![tasks("1", &[0])],
                        },
                        target_assignment: StreamsAssignment::default(),
                        is_classic: false,
                    }],
                    authorized_operations: i32::MIN,
                },
                StreamsDescribedGroup {
                    error_code: 69,
                    error_message: Some("Group x not found.".into()),
                    group_id: "x".into(),
                    ..Default::default()
                },
            ],
        }
    }

    #[test]
    fn streams_group_describe_roundtrips() {
        roundtrip(
            &StreamsGroupDescribeRequest {
                group_ids: vec!["a".into(), "b".into()],
                include_authorized_operations: true,
            },
            0,
        );
        roundtrip(&streams_response(), 0);
        let mut buf = BytesMut::new();
        assert!(streams_response().encode(&mut buf, 1).is_err());
    }

    #[test]
    fn streams_request_bytes_follow_the_schema() {
        let mut buf = BytesMut::new();
        StreamsGroupDescribeRequest {
            group_ids: vec!["g".into()],
            include_authorized_operations: false,
        }
        .encode(&mut buf, 0)
        .expect("encode");
        // [compact array of 1][compact string "g"][false][no tagged fields]
        assert_eq!(&buf[..], &[2, 2, b'g', 0, 0]);
    }

    #[test]
    fn share_offsets_roundtrip_in_both_versions() {
        let request = ShareGroupOffsetsRequest {
            groups: vec![
                ("s1".into(), None),
                ("s2".into(), Some(vec![("t".into(), vec![0, 2])])),
            ],
        };
        roundtrip(&request, 0);
        roundtrip(&request, 1);
        let mut response = ShareGroupOffsetsResponse {
            throttle_time_ms: 0,
            groups: vec![ShareGroupOffsets {
                group_id: "s1".into(),
                topics: vec![ShareTopicOffsets {
                    topic_name: "t".into(),
                    topic_id: [7; 16],
                    partitions: vec![SharePartitionOffset {
                        partition_index: 0,
                        start_offset: 118,
                        leader_epoch: 0,
                        lag: 5,
                        error_code: 0,
                        error_message: None,
                    }],
                }],
                error_code: 0,
                error_message: None,
            }],
        };
        roundtrip(&response, 1);
        // Version 0 has no lag: it decodes as unknown (-1).
        response.groups[0].topics[0].partitions[0].lag = -1;
        roundtrip(&response, 0);
    }

    #[test]
    fn truncated_and_corrupt_input_is_an_error_not_a_panic() {
        let mut buf = BytesMut::new();
        streams_response().encode(&mut buf, 0).expect("encode");
        let full = buf.freeze();
        for cut in [0, 1, 5, full.len() / 2, full.len() - 1] {
            let mut part = full.slice(..cut);
            assert!(StreamsGroupDescribeResponse::decode(&mut part, 0).is_err());
        }
        // An array claiming more items than bytes left.
        let mut bogus = Bytes::from_static(&[0, 0, 0, 0, 0xff, 0xff, 0x03]);
        assert!(StreamsGroupDescribeResponse::decode(&mut bogus, 0).is_err());
    }

    #[test]
    fn varints_roundtrip() {
        for v in [0u32, 1, 127, 128, 300, 16_383, 16_384, u32::MAX] {
            let mut buf = BytesMut::new();
            put_uvarint(&mut buf, v);
            let mut bytes = buf.freeze();
            assert_eq!(get_uvarint(&mut bytes).expect("varint"), v);
        }
    }

    mod properties {
        use super::*;
        use proptest::collection::vec;
        use proptest::option;
        use proptest::prelude::*;

        fn text() -> impl Strategy<Value = String> {
            "[a-z0-9._-]{0,12}"
        }

        fn tasks() -> impl Strategy<Value = Vec<StreamsTaskIds>> {
            vec(
                (text(), vec(any::<i32>(), 0..4)).prop_map(|(subtopology_id, partitions)| {
                    StreamsTaskIds {
                        subtopology_id,
                        partitions,
                    }
                }),
                0..3,
            )
        }

        fn assignment() -> impl Strategy<Value = StreamsAssignment> {
            (tasks(), tasks(), tasks()).prop_map(|(active_tasks, standby_tasks, warmup_tasks)| {
                StreamsAssignment {
                    active_tasks,
                    standby_tasks,
                    warmup_tasks,
                }
            })
        }

        fn member() -> impl Strategy<Value = StreamsMember> {
            (
                (text(), any::<i32>(), option::of(text()), option::of(text())),
                (text(), text(), any::<i32>(), text()),
                (
                    option::of((text(), any::<u16>())),
                    vec((text(), text()), 0..2),
                ),
                (assignment(), assignment(), any::<bool>()),
            )
                .prop_map(
                    |(
                        (member_id, member_epoch, instance_id, rack_id),
                        (client_id, client_host, topology_epoch, process_id),
                        (user_endpoint, client_tags),
                        (assignment, target_assignment, is_classic),
                    )| StreamsMember {
                        member_id,
                        member_epoch,
                        instance_id,
                        rack_id,
                        client_id,
                        client_host,
                        topology_epoch,
                        process_id,
                        user_endpoint,
                        client_tags,
                        task_offsets: vec![],
                        task_end_offsets: vec![],
                        assignment,
                        target_assignment,
                        is_classic,
                    },
                )
        }

        fn subtopology() -> impl Strategy<Value = StreamsSubtopology> {
            (
                text(),
                vec(text(), 0..3),
                vec(text(), 0..2),
                vec(text(), 0..2),
            )
                .prop_map(
                    |(subtopology_id, source_topics, repartition_sink_topics, changelogs)| {
                        StreamsSubtopology {
                            subtopology_id,
                            source_topics,
                            repartition_sink_topics,
                            state_changelog_topics: changelogs
                                .into_iter()
                                .map(|name| StreamsTopicInfo {
                                    name,
                                    ..Default::default()
                                })
                                .collect(),
                            repartition_source_topics: vec![],
                        }
                    },
                )
        }

        fn group() -> impl Strategy<Value = StreamsDescribedGroup> {
            (
                (any::<i16>(), option::of(text()), text(), text()),
                (any::<i32>(), any::<i32>(), any::<i32>()),
                option::of((any::<i32>(), option::of(vec(subtopology(), 0..3)))),
                vec(member(), 0..3),
            )
                .prop_map(
                    |(
                        (error_code, error_message, group_id, group_state),
                        (group_epoch, assignment_epoch, authorized_operations),
                        topology,
                        members,
                    )| StreamsDescribedGroup {
                        error_code,
                        error_message,
                        group_id,
                        group_state,
                        group_epoch,
                        assignment_epoch,
                        topology: topology.map(|(epoch, subtopologies)| StreamsTopology {
                            epoch,
                            subtopologies,
                        }),
                        members,
                        authorized_operations,
                    },
                )
        }

        fn share_groups(lag: bool) -> impl Strategy<Value = Vec<ShareGroupOffsets>> {
            let partition = (
                any::<i32>(),
                any::<i64>(),
                any::<i32>(),
                any::<i64>(),
                any::<i16>(),
            )
                .prop_map(
                    move |(partition_index, start_offset, leader_epoch, l, error_code)| {
                        SharePartitionOffset {
                            partition_index,
                            start_offset,
                            leader_epoch,
                            lag: if lag { l } else { -1 },
                            error_code,
                            error_message: None,
                        }
                    },
                );
            let topic = (text(), any::<[u8; 16]>(), vec(partition, 0..4)).prop_map(
                |(topic_name, topic_id, partitions)| ShareTopicOffsets {
                    topic_name,
                    topic_id,
                    partitions,
                },
            );
            vec(
                (text(), vec(topic, 0..3), any::<i16>(), option::of(text())).prop_map(
                    |(group_id, topics, error_code, error_message)| ShareGroupOffsets {
                        group_id,
                        topics,
                        error_code,
                        error_message,
                    },
                ),
                0..3,
            )
        }

        proptest! {
            #[test]
            fn streams_responses_roundtrip(groups in vec(group(), 0..3), throttle in any::<i32>()) {
                roundtrip(&StreamsGroupDescribeResponse { throttle_time_ms: throttle, groups }, 0);
            }

            #[test]
            fn share_offsets_roundtrip(v1 in share_groups(true), v0 in share_groups(false)) {
                roundtrip(&ShareGroupOffsetsResponse { throttle_time_ms: 0, groups: v1 }, 1);
                roundtrip(&ShareGroupOffsetsResponse { throttle_time_ms: 0, groups: v0 }, 0);
            }

            #[test]
            fn any_bytes_decode_to_a_value_or_an_error(bytes in vec(any::<u8>(), 0..200)) {
                let mut b = Bytes::from(bytes.clone());
                let _ = StreamsGroupDescribeResponse::decode(&mut b, 0);
                let mut b = Bytes::from(bytes);
                let _ = ShareGroupOffsetsResponse::decode(&mut b, 1);
            }
        }
    }
}
