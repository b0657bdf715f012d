//! Rhai functions for records: consume, tail, find, produce, offsets, count and
//! delete_records. Reading and writing go through librdkafka (`kafka::messages`), planning
//! and deleting through the admin path; the polling loop lives here because it calls the
//! script's closures between polls and checks Ctrl-C and the deadlines.

use rhai::plugin::*;

/// Messages
///
/// Look at and write the data: read records by partition, offset or time (`consume`),
/// follow new ones (`tail`), search a topic (`find`), write test records (`produce`), see
/// offsets and counts (`offsets`, `count` — what `kafka-get-offsets.sh` shows) and delete
/// old records (`delete_records`, as `kafka-delete-records.sh`). Records are maps: topic,
/// partition, offset, timestamp and timestamp_type, key, value and headers (a list of
/// `#{key, value}`). Keys, values and header values decode as "string" (the default;
/// bytes that are not UTF-8 show as `\xNN`), "json", "hex", "base64" or "bytes". Reading
/// never joins a consumer group unless given `group`. Positions (`from`, `to`) are
/// "earliest", "latest", an offset, `#{shift: -10}` (ten before the end; a positive shift
/// counts from the start) or an RFC 3339 time; `to` is exclusive.
#[export_module]
pub mod api {
    use crate::error::Error;
    use crate::kafka::messages::delete;
    use crate::kafka::messages::produce::{self as producing, ProduceSettings};
    use crate::kafka::messages::ranges::{self, Position};
    use crate::script::convert::{to_array, to_dynamic, to_map, Options};
    use crate::script::{confirm_many, kafka_call as call, script_error, session_of};
    use rhai::{Array, Dynamic, EvalAltResult, FnPtr, Map, NativeCallContext};
    use std::time::{Duration, Instant};

    use super::{
        check_group_idle, commit, data_path, open_reader, out_record, read_loop, tail_inner,
        warn_stop,
    };

    /// Read records without joining a group: from each partition's `from` (default
    /// "earliest") up to `to` (exclusive; default the log end as it is now), at most
    /// `limit` records (default 1,000; 0 for no limit). Options: `partition` (a number or a
    /// list; default all), `from`, `to`, `limit`, `timeout` (default the call timeout; what
    /// was read by then is returned with a warning), `key` / `value` / `headers` (the
    /// encodings), `group` (commit the offsets read as this group; refused while the group
    /// has active members unless `force`). An offset outside the log is an error naming
    /// the log's range.
    ///
    /// ```rhai
    /// let r = consume("orders", #{partition: 2, from: 41, limit: 1});
    /// let last = consume("orders", #{from: #{shift: -10}});
    /// let night = consume("orders", #{from: "2026-11-24T03:00:00Z", to: "2026-11-24T03:05:00Z", value: "json"});
    /// ```
    #[rhai_fn(return_raw, name = "consume")]
    pub fn consume_with(
        ctx: NativeCallContext,
        topic: &str,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "consume";
        let opts = Options::new(
            f,
            &options,
            &[
                "partition",
                "from",
                "to",
                "limit",
                "timeout",
                "key",
                "value",
                "headers",
                "group",
                "force",
            ],
        )?;
        let limit = opts.int("limit")?.unwrap_or(1000).max(0) as u64;
        let timeout = opts.duration("timeout", session.settings.call_timeout)?;
        let group = opts.string("group")?;
        if let Some(g) = &group {
            check_group_idle(&session, f, g, opts.bool("force")?.unwrap_or(false))?;
        }
        let mut reader = open_reader(
            &session,
            f,
            topic,
            &opts,
            Position::Earliest,
            false,
            group.as_deref(),
        )?;
        let mut out = Array::new();
        let stop = read_loop(&session, f, &mut reader, limit, Some(timeout), |raw| {
            let record = raw.decode().map_err(|e| script_error(&session, f, e))?;
            out.push(to_dynamic(&record)?);
            Ok(true)
        })?;
        warn_stop(f, topic, &stop, &reader);
        commit(&session, f, &reader)?;
        Ok(out)
    }

    /// Read up to 1,000 records of every partition from the start.
    #[rhai_fn(return_raw, name = "consume")]
    pub fn consume(ctx: NativeCallContext, topic: &str) -> Result<Array, Box<EvalAltResult>> {
        consume_with(ctx, topic, Map::new())
    }

    /// Follow new records of a topic and call `callback` with each (return `false` from it
    /// to stop), until `limit` records, `timeout`, the run's --timeout or Ctrl-C. Starts at
    /// `from` (default "latest": only new records). Memory stays bounded however long it
    /// runs. Without a callback each record is printed as one line
    /// (`partition offset key value`). Returns #{records, bytes}. Options: `partition`,
    /// `from`, `limit`, `timeout`, `key` / `value` / `headers` (encodings).
    ///
    /// ```rhai
    /// tail("orders", |r| print(`${r.partition}@${r.offset} ${r.key}: ${r.value}`), #{limit: 10, timeout: "30s"});
    /// tail("orders", #{from: #{shift: -5}, timeout: 5});
    /// ```
    #[rhai_fn(return_raw, name = "tail")]
    pub fn tail_with(
        ctx: NativeCallContext,
        topic: &str,
        callback: FnPtr,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        tail_inner(&ctx, topic, Some(callback), options)
    }

    /// Follow new records and call `callback` with each.
    #[rhai_fn(return_raw, name = "tail")]
    pub fn tail_callback(
        ctx: NativeCallContext,
        topic: &str,
        callback: FnPtr,
    ) -> Result<Map, Box<EvalAltResult>> {
        tail_inner(&ctx, topic, Some(callback), Map::new())
    }

    /// Follow new records and print each, with options.
    #[rhai_fn(return_raw, name = "tail")]
    pub fn tail_print_with(
        ctx: NativeCallContext,
        topic: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        tail_inner(&ctx, topic, None, options)
    }

    /// Follow new records and print each.
    #[rhai_fn(return_raw, name = "tail")]
    pub fn tail_print(ctx: NativeCallContext, topic: &str) -> Result<Map, Box<EvalAltResult>> {
        tail_inner(&ctx, topic, None, Map::new())
    }

    /// Search a topic: every record from `from` (default "earliest") to `to` (default the
    /// log end now) for which `condition` returns true, at most `limit` (default 100) of
    /// them. All partitions are fetched at once; on a terminal a progress bar shows the
    /// records scanned and the matches found. Options: `partition`, `from`, `to`, `limit`, `timeout`,
    /// `key` / `value` / `headers` (encodings).
    ///
    /// ```rhai
    /// let hits = find("orders", |r| r.key == "12345", #{limit: 5});
    /// let big = find("orders", |r| r.value.amount > 1000, #{value: "json", from: #{shift: -10000}});
    /// ```
    #[rhai_fn(return_raw, name = "find")]
    pub fn find_with(
        ctx: NativeCallContext,
        topic: &str,
        condition: FnPtr,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "find";
        let opts = Options::new(
            f,
            &options,
            &[
                "partition",
                "from",
                "to",
                "limit",
                "timeout",
                "key",
                "value",
                "headers",
            ],
        )?;
        let limit = opts.int("limit")?.unwrap_or(100).max(0) as u64;
        let timeout = opts.duration("timeout", session.settings.call_timeout)?;
        let mut reader = open_reader(&session, f, topic, &opts, Position::Earliest, false, None)?;
        let total = reader.planned_records();
        let progress =
            crate::output::progress::Progress::records(&format!("find in {topic}"), total);
        let mut out = Array::new();
        let mut scanned = 0u64;
        let mut last_shown = Instant::now();
        let stop = read_loop(&session, f, &mut reader, 0, Some(timeout), |raw| {
            let bytes = raw.bytes_read;
            let record = raw.decode().map_err(|e| script_error(&session, f, e))?;
            scanned += 1;
            if last_shown.elapsed() > Duration::from_millis(250) {
                last_shown = Instant::now();
                progress.update(
                    scanned,
                    &format!(
                        "{} scanned, {} found",
                        crate::output::progress::human_bytes(bytes as i64),
                        out.len()
                    ),
                );
            }
            let arg = to_dynamic(&record)?;
            let matched: Dynamic = condition.call_within_context(&ctx, (arg.clone(),))?;
            if matched.as_bool().unwrap_or(false) {
                out.push(arg);
            }
            Ok(limit == 0 || (out.len() as u64) < limit)
        });
        progress.finish();
        let stop = stop?;
        warn_stop(f, topic, &stop, &reader);
        Ok(out)
    }

    /// Search a topic for records matching `condition` (at most 100).
    #[rhai_fn(return_raw, name = "find")]
    pub fn find(
        ctx: NativeCallContext,
        topic: &str,
        condition: FnPtr,
    ) -> Result<Array, Box<EvalAltResult>> {
        find_with(ctx, topic, condition, Map::new())
    }

    /// Write records: one (`#{key, value, headers, partition, timestamp}`, or just a value)
    /// or a list of them. Values and keys given as strings are written as UTF-8, maps and
    /// arrays as JSON, blobs as their bytes; `()` is null (a tombstone value). Headers are a
    /// map of names to strings or blobs. Options: `acks` ("all" default, 1, 0),
    /// `compression` ("none", "gzip", "snappy", "lz4", "zstd"), `partition` (for every
    /// record that names none), `idempotent` (default true; needs acks "all"), `wait`
    /// (default true). Returns where each record went: topic, partition, offset, timestamp.
    /// With `wait: false` (bulk loads) the records are queued and the call returns at once
    /// with `#{queued: n}` while librdkafka sends them; `flush()` waits for their
    /// deliveries and fails if any record was not written, and so does the end of the
    /// script or shell line. The topic must exist. With --dry-run nothing is sent and the
    /// result says what would be.
    ///
    /// ```rhai
    /// produce("orders", #{key: "12345", value: #{item: "tea", amount: 3}, headers: #{source: "kafsh"}});
    /// produce("orders", ["a", "b", "c"], #{partition: 0, compression: "lz4"});
    /// for chunk in chunks { produce("orders", chunk, #{wait: false}); }
    /// flush();
    /// ```
    #[rhai_fn(return_raw, name = "produce")]
    pub fn produce_with(
        ctx: NativeCallContext,
        topic: &str,
        records: Dynamic,
        options: Map,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "produce";
        let opts = Options::new(
            f,
            &options,
            &["acks", "compression", "partition", "idempotent", "wait"],
        )?;
        let wait = opts.bool("wait")?.unwrap_or(true);
        let acks = match options.get("acks") {
            None => "all".to_string(),
            Some(v) if v.is_unit() => "all".to_string(),
            Some(v) => v.to_string().to_ascii_lowercase(),
        };
        let explicit_idempotence = opts.bool("idempotent")?;
        let settings = ProduceSettings {
            idempotent: explicit_idempotence.unwrap_or(acks == "all" || acks == "-1"),
            acks,
            compression: opts.string("compression")?.unwrap_or_else(|| "none".into()),
        };
        settings
            .validate()
            .map_err(|e| script_error(&session, f, e))?;
        let default_partition = opts.int("partition")?.map(|p| p as i32);
        let list = if records.is_array() {
            records.into_array().unwrap_or_default()
        } else {
            vec![records]
        };
        let mut out_records = Vec::with_capacity(list.len());
        for (i, item) in list.into_iter().enumerate() {
            let mut record = out_record(item).map_err(|e| {
                script_error(&session, f, Error::InvalidInput(format!("record {i}: {e}")))
            })?;
            record.partition = record.partition.or(default_partition);
            out_records.push(record);
        }
        let beyond = |count: i32| out_records.iter().any(|r| r.partition >= Some(count));
        let partitions = match session.producers().known_partitions(topic) {
            Some(count) if !beyond(count) => count,
            _ => {
                let name = topic.to_string();
                let count = call(&session, f, |k| async move {
                    ranges::partitions_of(&k, &name).await
                })?
                .len() as i32;
                session.producers().remember_partitions(topic, count);
                count
            }
        };
        if let Some(bad) = out_records
            .iter()
            .filter_map(|r| r.partition)
            .find(|p| *p < 0 || *p >= partitions)
        {
            return Err(script_error(
                &session,
                f,
                Error::NotFound(format!(
                    "topic {topic:?} has no partition {bad} (it has {partitions})"
                )),
            ));
        }
        let count = out_records.len();
        let summary = format!(
            "{count} record(s), acks={}, compression={}, idempotent={}",
            settings.acks, settings.compression, settings.idempotent
        );
        if session.options.dry_run {
            session.mutation(f, topic, &summary, serde_json::json!({"records": count}));
            if !wait {
                return Ok(Dynamic::from_map(Map::from_iter([
                    ("queued".into(), Dynamic::from_int(0)),
                    ("dry_run".into(), true.into()),
                ])));
            }
            let planned: Vec<serde_json::Value> = out_records
                .iter()
                .map(|r| serde_json::json!({"topic": topic, "partition": r.partition, "dry_run": true}))
                .collect();
            return to_array(&planned).map(Dynamic::from_array);
        }
        let path = data_path(&session).map_err(|e| script_error(&session, f, e))?;
        if !wait {
            let interrupt = session.bridge().interrupt().clone();
            let queued = session
                .producers()
                .queue(&path, &settings, topic, &out_records, &|| {
                    interrupt.is_set()
                })
                .map_err(|e| script_error(&session, f, e))?;
            session.mutation(
                f,
                topic,
                &format!("{summary}, queued (delivery counted at the flush)"),
                serde_json::json!({"records": queued, "wait": false}),
            );
            return Ok(Dynamic::from_map(Map::from_iter([(
                "queued".into(),
                Dynamic::from_int(queued as i64),
            )])));
        }
        let producer = session
            .producers()
            .get(&path, &settings, topic)
            .map_err(|e| script_error(&session, f, e))?;
        let t = topic.to_string();
        let produced = session
            .block_on(f, async move {
                producing::produce(&producer, &t, out_records).await
            })
            .map_err(|e| script_error(&session, f, session.producers().explain(e)))?;
        let mut per_partition = std::collections::BTreeMap::<i32, u64>::new();
        for p in &produced {
            *per_partition.entry(p.partition).or_default() += 1;
        }
        session.mutation(
            f,
            topic,
            &summary,
            serde_json::json!({"records": count, "per_partition": per_partition}),
        );
        to_array(&produced).map(Dynamic::from_array)
    }

    /// Write one record or a list of records with the defaults (acks=all, idempotent).
    #[rhai_fn(return_raw, name = "produce")]
    pub fn produce(
        ctx: NativeCallContext,
        topic: &str,
        records: Dynamic,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        produce_with(ctx, topic, records, Map::new())
    }

    /// Waits for the deliveries of every record queued by `produce(.., #{wait: false})`
    /// since the last flush, within the call timeout (or `timeout`, e.g. "5m"). Returns
    /// `delivered` and the records per partition (`partitions`: topic, partition,
    /// records); fails naming the first record that was not written. A script or shell
    /// line that ends with queued records flushes them the same way.
    ///
    /// ```rhai
    /// for i in 0..100 { produce("load-test", batch, #{wait: false}); }
    /// let done = flush(#{timeout: "2m"});
    /// print(`${done.delivered} records written`);
    /// ```
    #[rhai_fn(return_raw, name = "flush")]
    pub fn flush_with(ctx: NativeCallContext, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "flush";
        let opts = Options::new(f, &options, &["timeout"])?;
        let timeout = opts.duration("timeout", session.settings.call_timeout)?;
        let flushed = session
            .producers()
            .flush(timeout)
            .map_err(|e| script_error(&session, f, e))?;
        to_map(&flushed)
    }

    /// Waits for the deliveries of every queued record (see the options form).
    #[rhai_fn(return_raw, name = "flush")]
    pub fn flush(ctx: NativeCallContext) -> Result<Map, Box<EvalAltResult>> {
        flush_with(ctx, Map::new())
    }

    /// Earliest and latest offset of every partition, and the records between them, as
    /// `kafka-get-offsets.sh` gives them; with `time` (an RFC 3339 time, or ms since the
    /// epoch) also `offset_for_time`: the first offset whose timestamp is at or after it
    /// (`()` when no record is that late).
    ///
    /// ```rhai
    /// let o = offsets("orders");
    /// let at3 = offsets("orders", #{time: "2026-11-24T03:00:00+09:00"});
    /// ```
    #[rhai_fn(return_raw, name = "offsets")]
    pub fn offsets_with(
        ctx: NativeCallContext,
        topic: &str,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "offsets";
        Options::new(f, &options, &["time"])?;
        let time = match options.get("time") {
            None => None,
            Some(v) if v.is_unit() => None,
            Some(v) => match v.as_int() {
                Ok(ms) => Some(ms),
                Err(_) => Some(
                    crate::kafka::time::parse_rfc3339_ms(&v.to_string()).map_err(|e| {
                        script_error(&session, f, Error::InvalidInput(format!("time: {e}")))
                    })?,
                ),
            },
        };
        let topic = topic.to_string();
        let result = call(&session, f, |k| async move {
            ranges::partition_offsets(&k, &topic, time).await
        })?;
        to_array(&result)
    }

    /// Earliest and latest offset of every partition.
    #[rhai_fn(return_raw, name = "offsets")]
    pub fn offsets(ctx: NativeCallContext, topic: &str) -> Result<Array, Box<EvalAltResult>> {
        offsets_with(ctx, topic, Map::new())
    }

    /// How many records a topic holds: the sum over partitions of latest − earliest offset
    /// (no record is read). On a compacted topic the result has a `note`: removed records'
    /// offsets still count, so it holds fewer.
    ///
    /// ```rhai
    /// let n = count("orders").records;
    /// ```
    #[rhai_fn(return_raw)]
    pub fn count(ctx: NativeCallContext, topic: &str) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let topic = topic.to_string();
        let result = call(&session, "count", |k| async move {
            ranges::count(&k, &topic).await
        })?;
        to_map(&result)
    }

    /// Delete the records below an offset in some partitions (what
    /// `kafka-delete-records.sh` does): `cuts` maps partition numbers (as strings) to the
    /// offset to delete below, or "latest" / -1 for everything. Sized before anything is
    /// sent: the result lists per partition the records deleted and the new log start.
    /// More than the context's `max_deleted_records` (1,000,000) records is refused, and
    /// more than `confirm_above` (10) partitions asks first in a terminal (without one
    /// needs --yes), unless `#{force: true}`. Honours --dry-run.
    ///
    /// ```rhai
    /// delete_records("orders", #{"0": 1200, "1": 800});
    /// delete_records("orders", #{"2": "latest"}, #{force: true});
    /// ```
    #[rhai_fn(return_raw, name = "delete_records")]
    pub fn delete_records_with(
        ctx: NativeCallContext,
        topic: &str,
        cuts: Map,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "delete_records";
        let opts = Options::new(f, &options, &["force"])?;
        let force = opts.bool("force")?.unwrap_or(false);
        let mut parsed = Vec::new();
        for (k, v) in &cuts {
            let partition: i32 = k.trim().parse().map_err(|_| {
                script_error(
                    &session,
                    f,
                    Error::InvalidInput(format!(
                        "{k:?} is not a partition number (write #{{\"0\": 1200}})"
                    )),
                )
            })?;
            let before = if let Ok(n) = v.as_int() {
                (n >= 0).then_some(n)
            } else if v.to_string() == "latest" {
                None
            } else {
                return Err(script_error(
                    &session,
                    f,
                    Error::InvalidInput(format!(
                        "partition {partition}: {v} is not an offset or \"latest\""
                    )),
                ));
            };
            parsed.push((partition, before));
        }
        let name = topic.to_string();
        let plan = call(&session, f, |k| async move {
            delete::plan(&k, &name, &parsed).await
        })?;
        if !force {
            let held: i64 = plan
                .partitions
                .iter()
                .map(|p| p.latest - p.earliest_before)
                .sum();
            session
                .settings
                .guard_rails
                .check_deleted_records(
                    &format!("topic {topic:?}"),
                    plan.records as u64,
                    held.max(0) as u64,
                )
                .map_err(|e| script_error(&session, f, e))?;
        }
        confirm_many(
            &session,
            f,
            plan.partitions.len(),
            &format!(
                "{} partitions of {topic:?} ({} records deleted)",
                plan.partitions.len(),
                plan.records
            ),
            force,
        )?;
        let summary = format!(
            "delete {} records below {}",
            plan.records,
            plan.partitions
                .iter()
                .map(|p| format!("{}:{}", p.partition, p.before))
                .collect::<Vec<_>>()
                .join(",")
        );
        let arguments = serde_json::json!({
            "partitions": plan.partitions.iter().map(|p| serde_json::json!({
                "partition": p.partition, "before": p.before,
                "earliest_before": p.earliest_before, "records": p.records,
            })).collect::<Vec<_>>(),
        });
        if session.options.dry_run {
            session.mutation(f, topic, &summary, arguments);
            return to_map(&plan);
        }
        let done = call(
            &session,
            f,
            |k| async move { delete::execute(&k, plan).await },
        )?;
        session.mutation(f, topic, &summary, arguments);
        to_map(&done)
    }

    /// Delete the records below an offset in some partitions, within the guard rails.
    #[rhai_fn(return_raw, name = "delete_records")]
    pub fn delete_records(
        ctx: NativeCallContext,
        topic: &str,
        cuts: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        delete_records_with(ctx, topic, cuts, Map::new())
    }
}

use crate::error::Error;
use crate::kafka::messages::produce::OutRecord;
use crate::kafka::messages::ranges::{self, PartitionRange, Position};
use crate::kafka::messages::reader::{Decoding, Next, RawRecord, Reader};
use crate::kafka::messages::{DataPath, Encoding};
use crate::script::convert::to_dynamic;
use crate::script::convert::Options;
use crate::script::{kafka_call as call, script_error, session_of, Session};
use bytes::Bytes;
use rhai::{Dynamic, EvalAltResult, FnPtr, Map, NativeCallContext};
use std::time::{Duration, Instant};

type Fallible<T> = Result<T, Box<EvalAltResult>>;

fn position(value: Option<&Dynamic>, default: Position) -> crate::error::Result<Position> {
    let Some(v) = value.filter(|v| !v.is_unit()) else {
        return Ok(default);
    };
    if let Ok(n) = v.as_int() {
        return Ok(Position::Offset(n));
    }
    if let Some(map) = v.clone().try_cast::<Map>() {
        if let (1, Some(n)) = (map.len(), map.get("shift").and_then(|s| s.as_int().ok())) {
            return Ok(Position::Shift(n));
        }
        return Err(Error::InvalidInput(
            "a position as a map must be #{shift: n}".into(),
        ));
    }
    let text = v.to_string();
    match text.as_str() {
        "earliest" | "beginning" => Ok(Position::Earliest),
        "latest" | "end" => Ok(Position::Latest),
        other => crate::kafka::time::parse_rfc3339_ms(other)
            .map(Position::Time)
            .map_err(|e| {
                Error::InvalidInput(format!(
                    "position {other:?} is not \"earliest\", \"latest\", an offset, #{{shift: n}} or an RFC 3339 time: {e}"
                ))
            }),
    }
}

/// The encodings named by `key`, `value` and `headers` (default "string").
fn decoding(session: &Session, f: &str, opts: &Options) -> Fallible<Decoding> {
    let pick = |key: &str| -> Fallible<Encoding> {
        match opts.string(key)? {
            Some(e) => Encoding::parse(&e).map_err(|e| script_error(session, f, e)),
            None => Ok(Encoding::String),
        }
    };
    Ok(Decoding {
        key: pick("key")?,
        value: pick("value")?,
        headers: pick("headers")?,
    })
}

fn open_reader(
    session: &Session,
    f: &str,
    topic: &str,
    opts: &Options,
    default_from: Position,
    follow: bool,
    group: Option<&str>,
) -> Fallible<Reader> {
    let partitions: Vec<i32> = opts
        .int_list("partition")?
        .into_iter()
        .map(|p| p as i32)
        .collect();
    let from = position(opts.get("from"), default_from).map_err(|e| script_error(session, f, e))?;
    let to = match opts.get("to") {
        Some(v) if !v.is_unit() => {
            Some(position(Some(v), Position::Latest).map_err(|e| script_error(session, f, e))?)
        }
        _ => None,
    };
    let decoding = decoding(session, f, opts)?;
    let name = topic.to_string();
    let planned: Vec<PartitionRange> = call(session, f, |k| async move {
        ranges::plan_read(&k, &name, &partitions, from, to, follow).await
    })?;
    let path = data_path(session).map_err(|e| script_error(session, f, e))?;
    Reader::open(&path, topic, &planned, decoding, group).map_err(|e| script_error(session, f, e))
}

/// The session's data path, sharing the admin client's security (one OAUTHBEARER token
/// for both).
fn data_path(session: &Session) -> crate::error::Result<DataPath> {
    DataPath::new(&session.settings, session.kafka()?.security())
}

/// Why a read loop ended.
enum Stop {
    Done,
    Limit,
    Timeout,
}

/// Polls `reader` until it is done, `on_record` returns false, `limit` records (0: no
/// limit) or `timeout`; Ctrl-C and the run's deadline end it with an error.
fn read_loop(
    session: &Session,
    f: &str,
    reader: &mut Reader,
    limit: u64,
    timeout: Option<Duration>,
    mut on_record: impl FnMut(RawRecord<'_>) -> Fallible<bool>,
) -> Fallible<Stop> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let interrupt = session.bridge().interrupt().clone();
    let mut seen = 0u64;
    let mut polls = 0u32;
    loop {
        if limit > 0 && seen >= limit {
            return Ok(Stop::Limit);
        }
        polls = polls.wrapping_add(1);
        // Checked every poll that waited and every 256 records otherwise.
        if polls.is_multiple_of(256) || seen == 0 {
            if interrupt.is_set() {
                return Err(script_error(
                    session,
                    f,
                    Error::Refused(format!("interrupted after {} records", reader.records)),
                ));
            }
            if interrupt.past_deadline() {
                return Err(script_error(
                    session,
                    f,
                    Error::Timeout(format!(
                        "the run's --timeout expired after {} records",
                        reader.records
                    )),
                ));
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(Stop::Timeout);
            }
        }
        match reader
            .next_with(Duration::from_millis(100), &mut on_record)
            .map_err(|e| script_error(session, f, e))?
        {
            Next::Done => return Ok(Stop::Done),
            Next::Idle => {
                polls = 255;
            }
            Next::Record(go_on) => {
                seen += 1;
                if !go_on? {
                    return Ok(Stop::Limit);
                }
            }
        }
    }
}

fn warn_stop(f: &str, topic: &str, stop: &Stop, reader: &Reader) {
    match stop {
        Stop::Timeout if !reader.is_done() => crate::output::log_line(
            "warn",
            &format!(
                "{f}: {topic}: stopped at the timeout after {} records; partitions not read to their end: {:?}",
                reader.records,
                reader.open_partitions()
            ),
        ),
        Stop::Limit if !reader.is_done() => crate::output::log_line(
            "warn",
            &format!("{f}: {topic}: stopped at the limit of {} records; more remain (raise `limit`)", reader.records),
        ),
        _ => {}
    }
}

fn commit(session: &Session, f: &str, reader: &Reader) -> Fallible<()> {
    let committer = reader.committer();
    let Some(group) = committer.group().map(str::to_string) else {
        return Ok(());
    };
    if session.options.dry_run {
        session.mutation(
            f,
            &group,
            "commit the offsets read (not done: dry run)",
            serde_json::json!({}),
        );
        return Ok(());
    }
    let positions = committer.positions().clone();
    session
        .block_on(f, async move {
            tokio::task::spawn_blocking(move || committer.commit())
                .await
                .map_err(|e| Error::Failed(format!("the commit stopped: {e}")))?
        })
        .map_err(|e| script_error(session, f, e))?;
    session.mutation(
        f,
        &group,
        "commit the offsets read",
        serde_json::json!({"positions": positions}),
    );
    Ok(())
}

fn check_group_idle(session: &Session, f: &str, group: &str, force: bool) -> Fallible<()> {
    crate::kafka::groups::validate_group_id(group).map_err(|e| script_error(session, f, e))?;
    if force {
        return Ok(());
    }
    let g = group.to_string();
    let described = session.kafka().map_err(|e| script_error(session, f, e))?;
    let members = session.block_on(f, async move {
        match crate::kafka::groups::describe_group(&described, &g).await {
            Ok(d) => Ok(d.members.len()),
            Err(Error::NotFound(_)) => Ok(0),
            Err(e) => Err(e),
        }
    });
    match members {
        Ok(0) => Ok(()),
        Ok(n) => Err(script_error(
            session,
            f,
            Error::Refused(format!(
                "group {group:?} has {n} active member(s): committing as it would move their offsets; refused without force"
            )),
        )),
        Err(e) => Err(script_error(session, f, e)),
    }
}

/// `tail`'s line for a record: partition, offset, key and value, tab-separated, written
/// from librdkafka's buffers (a string key or value is not copied on the way).
fn print_record(
    printer: &mut crate::output::RecordLines,
    r: &RawRecord<'_>,
) -> crate::error::Result<()> {
    printer.line_of(format_args!(
        "{}\t{}\t{}\t{}",
        r.partition(),
        r.offset(),
        r.shown_key()?,
        r.shown_value()?
    ));
    Ok(())
}

/// A value to write: strings as UTF-8, blobs as bytes, maps and arrays as JSON, `()` as
/// null. Strings and blobs are handed over without a copy.
fn bytes_of(v: Dynamic) -> Result<Option<Bytes>, String> {
    if v.is_unit() {
        return Ok(None);
    }
    if v.is_string() {
        return Ok(v
            .into_immutable_string()
            .ok()
            .map(|s| Bytes::from_owner(ScriptText(s))));
    }
    if v.is_blob() {
        return Ok(v.into_blob().ok().map(Bytes::from));
    }
    if v.is_map() || v.is_array() || v.is_int() || v.is_float() || v.is_bool() {
        let json: serde_json::Value =
            rhai::serde::from_dynamic(&v).map_err(|e| format!("cannot write as JSON: {e}"))?;
        return Ok(Some(Bytes::from(json.to_string().into_bytes())));
    }
    Err(format!("cannot write a {} as a record", v.type_name()))
}

/// A script's string as the bytes of a record (shared, not copied).
struct ScriptText(rhai::ImmutableString);

impl AsRef<[u8]> for ScriptText {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

fn out_record(item: Dynamic) -> Result<OutRecord, String> {
    if !item.is_map() {
        return Ok(OutRecord {
            value: bytes_of(item)?,
            ..OutRecord::default()
        });
    }
    let mut map = item.cast::<Map>();
    for key in map.keys() {
        if !["key", "value", "headers", "partition", "timestamp"].contains(&key.as_str()) {
            return Err(format!(
                "unknown field {:?} (a record is #{{key, value, headers, partition, timestamp}}; to write a map as the value, put it in `value`)",
                key.as_str()
            ));
        }
    }
    let mut record = OutRecord {
        key: map.remove("key").map(bytes_of).transpose()?.flatten(),
        value: map.remove("value").map(bytes_of).transpose()?.flatten(),
        ..OutRecord::default()
    };
    if let Some(p) = map.get("partition").filter(|p| !p.is_unit()) {
        record.partition = Some(
            p.as_int()
                .map_err(|t| format!("partition must be an integer, not {t}"))? as i32,
        );
    }
    if let Some(t) = map.get("timestamp").filter(|t| !t.is_unit()) {
        record.timestamp = Some(match t.as_int() {
            Ok(ms) => ms,
            Err(_) => crate::kafka::time::parse_rfc3339_ms(&t.to_string())?,
        });
    }
    if let Some(h) = map.remove("headers").filter(|h| !h.is_unit()) {
        let type_name = h.type_name();
        let headers = h
            .try_cast::<Map>()
            .ok_or_else(|| format!("headers must be a map of names to values, not {type_name}"))?;
        for (k, v) in headers {
            record
                .headers
                .push((k.to_string(), bytes_of(v)?.map(|b| b.to_vec())));
        }
    }
    Ok(record)
}

fn tail_inner(
    ctx: &NativeCallContext,
    topic: &str,
    callback: Option<FnPtr>,
    options: Map,
) -> Fallible<Map> {
    let session = session_of(ctx)?;
    let f = "tail";
    let opts = Options::new(
        f,
        &options,
        &[
            "partition",
            "from",
            "limit",
            "timeout",
            "key",
            "value",
            "headers",
        ],
    )?;
    let limit = opts.int("limit")?.unwrap_or(0).max(0) as u64;
    let timeout = match options.get("timeout") {
        Some(v) if !v.is_unit() => Some(opts.duration("timeout", Duration::ZERO)?),
        _ => None,
    };
    let mut reader = open_reader(&session, f, topic, &opts, Position::Latest, true, None)?;
    let mut printer = crate::output::RecordLines::new();
    let stop = read_loop(
        &session,
        f,
        &mut reader,
        limit,
        timeout,
        |raw| match &callback {
            Some(callback) => {
                let record = raw.decode().map_err(|e| script_error(&session, f, e))?;
                let answer: Dynamic = callback.call_within_context(ctx, (to_dynamic(&record)?,))?;
                Ok(answer.as_bool().unwrap_or(true))
            }
            None => {
                print_record(&mut printer, &raw).map_err(|e| script_error(&session, f, e))?;
                Ok(true)
            }
        },
    );
    printer.flush();
    stop?;
    let mut out = Map::new();
    out.insert("records".into(), Dynamic::from_int(reader.records as i64));
    out.insert("bytes".into(), Dynamic::from_int(reader.bytes as i64));
    Ok(out)
}
