//! Scenarios of the data path (consume, tail, find, produce, offsets, count,
//! delete_records) against a real cluster, with Kafka's console producer and consumer,
//! VerifiableProducer, GetOffsetShell and DeleteRecordsCommand as the reference. Shared by
//! the ZooKeeper-mode and KRaft test binaries; none of them breaks the cluster.

use super::*;
use kafsh_sandbox::{Cluster, Flavor};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

/// Creates a topic with kafsh (the admin path is tested elsewhere).
pub fn create_topic(c: &Cluster, name: &str, partitions: u32) {
    kafsh_json(
        &c.bootstrap_servers(),
        None,
        &format!(r#"create_topic("{name}", #{{partitions: {partitions}, replication_factor: 3}})"#),
    );
}

/// Runs a Kafka tool with `input` on stdin, failing the test after 60 s or on a non-zero exit.
pub fn tool_with_input(c: &Cluster, class: &str, args: &[&str], input: &str) -> String {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let mut cmd = c.kafka_tool_command(class, &args).expect("tool command");
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn the tool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{class} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("output");
    assert!(
        out.status.success(),
        "{class} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn console_producer_class(c: &Cluster) -> &'static str {
    match c.flavor() {
        Flavor::ZooKeeper => "kafka.tools.ConsoleProducer",
        _ => "org.apache.kafka.tools.ConsoleProducer",
    }
}

/// One record as Kafka's console consumer prints it with every `print.*` property:
/// (partition, offset) → (timestamp line, headers, key, value).
type ToolRecords = BTreeMap<(i64, i64), (String, String, String, String)>;

fn console_consume(c: &Cluster, topic: &str, count: usize) -> ToolRecords {
    let bs = c.bootstrap_servers();
    let n = count.to_string();
    let out = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            &[
                "--bootstrap-server",
                &bs,
                "--topic",
                topic,
                "--from-beginning",
                "--max-messages",
                &n,
                "--timeout-ms",
                "20000",
                "--property",
                "print.timestamp=true",
                "--property",
                "print.partition=true",
                "--property",
                "print.offset=true",
                "--property",
                "print.headers=true",
                "--property",
                "print.key=true",
            ],
        ),
        "ConsoleConsumer",
    );
    let mut records = BTreeMap::new();
    for line in out.lines().filter(|l| l.starts_with("CreateTime:")) {
        let f: Vec<&str> = line.splitn(6, '\t').collect();
        assert_eq!(f.len(), 6, "console consumer line {line:?}");
        let partition = f[1]
            .trim_start_matches("Partition:")
            .parse()
            .expect("partition");
        let offset = f[2].trim_start_matches("Offset:").parse().expect("offset");
        records.insert(
            (partition, offset),
            (
                f[0].to_string(),
                f[3].to_string(),
                f[4].to_string(),
                f[5].to_string(),
            ),
        );
    }
    assert_eq!(records.len(), count, "console consumer output:\n{out}");
    records
}

/// kafsh's records in the console consumer's terms.
fn as_tool_records(records: &Value) -> ToolRecords {
    let text = |v: &Value| match v {
        Value::Null => "null".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = BTreeMap::new();
    for r in records.as_array().expect("records") {
        let headers = r["headers"].as_array().expect("headers");
        let headers = if headers.is_empty() {
            "NO_HEADERS".to_string()
        } else {
            headers
                .iter()
                .map(|h| format!("{}:{}", text(&h["key"]), text(&h["value"])))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(r["timestamp_type"], "CreateTime", "{r}");
        out.insert(
            (
                r["partition"].as_i64().expect("p"),
                r["offset"].as_i64().expect("o"),
            ),
            (
                format!("CreateTime:{}", r["timestamp"]),
                headers,
                text(&r["key"]),
                text(&r["value"]),
            ),
        );
    }
    out
}

/// Records written by the console producer (keys, headers) and by VerifiableProducer read
/// back by kafsh exactly as the console consumer reads them.
pub fn tool_written_records_read_back_identically(c: &Cluster, topic: &str) {
    create_topic(c, topic, 3);
    let bs = c.bootstrap_servers();
    let mut input = String::new();
    for i in 0..30 {
        input.push_str(&format!(
            "trace:t{i},source:console\tkey-{}\tvalue {i} é\n",
            i % 7
        ));
    }
    tool_with_input(
        c,
        console_producer_class(c),
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            topic,
            "--property",
            "parse.key=true",
            "--property",
            "parse.headers=true",
        ],
        &input,
    );
    let acks = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.VerifiableProducer",
            &[
                "--bootstrap-server",
                &bs,
                "--topic",
                topic,
                "--max-messages",
                "50",
                "--acks",
                "-1",
            ],
        ),
        "VerifiableProducer",
    );
    let ours = kafsh_json(&bs, None, &format!(r#"consume("{topic}", #{{limit: 0}})"#));
    assert_eq!(ours.as_array().expect("array").len(), 80, "{ours}");
    let tool = console_consume(c, topic, 80);
    assert_eq!(as_tool_records(&ours), tool);
    // Every acknowledged record of VerifiableProducer is where its ack said.
    let by_position: BTreeMap<(i64, i64), String> = ours
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                (
                    r["partition"].as_i64().unwrap(),
                    r["offset"].as_i64().unwrap(),
                ),
                r["value"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut acked = 0;
    for line in acks.lines().filter(|l| l.contains("producer_send_success")) {
        let ack: Value = serde_json::from_str(line).expect("ack JSON");
        let at = (
            ack["partition"].as_i64().unwrap(),
            ack["offset"].as_i64().unwrap(),
        );
        assert_eq!(
            by_position.get(&at).map(String::as_str),
            ack["value"].as_str(),
            "{line}"
        );
        acked += 1;
    }
    assert_eq!(acked, 50, "{acks}");
    // One partition from an offset, with a limit.
    let p0 = kafsh_json(
        &bs,
        None,
        &format!(r#"consume("{topic}", #{{partition: 0, from: 1, limit: 2}})"#),
    );
    let p0 = p0.as_array().expect("array");
    assert_eq!(p0.len(), 2);
    assert_eq!(
        (p0[0]["partition"].as_i64(), p0[0]["offset"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(p0[1]["offset"].as_i64(), Some(2));
    // The last three of every partition.
    let last = kafsh_json(
        &bs,
        None,
        &format!(r#"consume("{topic}", #{{from: #{{shift: -3}}}})"#),
    );
    assert_eq!(last.as_array().expect("array").len(), 9, "{last}");
}

/// kafsh's own records with every codec and binary keys and values come back byte for
/// byte in every encoding, and Kafka's console consumer reads them the same.
pub fn round_trips_every_codec_and_encoding(c: &Cluster, topic: &str) {
    create_topic(c, topic, 2);
    let bs = c.bootstrap_servers();
    let script = format!(
        r#"
        let out = [];
        for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {{
            let records = [];
            for i in 0..20 {{
                records.push(#{{key: `${{codec}}-${{i}}`, value: #{{codec: codec, i: i}}, headers: #{{codec: codec}}, partition: i % 2}});
            }}
            out += produce("{topic}", records, #{{compression: codec}});
        }}
        let blob = blob(4, 0);
        blob[0] = 0xde; blob[1] = 0xad; blob[2] = 0xff; blob[3] = 0x5c;
        out += produce("{topic}", #{{key: blob, value: blob, partition: 0}});
        out.len()
        "#
    );
    assert_eq!(kafsh_json(&bs, None, &script), 101);
    // Everything but the binary record (the last of partition 0; `to` is per partition).
    let all_but_binary = |decode: &str| {
        format!(
            r#"consume("{topic}", #{{partition: 0, to: #{{shift: -1}}, limit: 0{decode}}}) + consume("{topic}", #{{partition: 1, limit: 0{decode}}})"#
        )
    };
    let json = kafsh_json(&bs, None, &all_but_binary(r#", value: "json""#));
    let json = json.as_array().expect("array");
    assert_eq!(json.len(), 100);
    for r in json {
        let codec = r["value"]["codec"].as_str().expect("codec");
        assert_eq!(r["key"], format!("{codec}-{}", r["value"]["i"]), "{r}");
        assert_eq!(r["headers"][0]["key"], "codec");
        assert_eq!(r["headers"][0]["value"], codec);
    }
    // The binary record in every encoding.
    let last = |enc: &str| {
        kafsh_json(
            &bs,
            None,
            &format!(r#"consume("{topic}", #{{partition: 0, from: #{{shift: -1}}, key: "{enc}", value: "{enc}"}})"#),
        )[0]
            .clone()
    };
    assert_eq!(last("hex")["value"], "deadff5c");
    assert_eq!(last("base64")["key"], "3q3/XA==");
    assert_eq!(
        last("bytes")["value"],
        serde_json::json!([222, 173, 255, 92])
    );
    // 0xde 0xad is UTF-8 (U+07AD); 0xff is not, and a backslash is doubled.
    assert_eq!(last("string")["value"], "\u{7ad}\\xff\\\\");
    // Kafka's console consumer sees kafsh's records (keys, values, headers) as kafsh does.
    let ours = kafsh_json(&bs, None, &all_but_binary(""));
    let tool_all_but_binary: ToolRecords = console_consume(c, topic, 101)
        .into_iter()
        .filter(|(_, (_, _, _, v))| v.starts_with('{'))
        .collect();
    assert_eq!(as_tool_records(&ours), tool_all_but_binary);
}

fn get_offsets(c: &Cluster, topic: &str, time: &str) -> BTreeMap<i64, Option<i64>> {
    let bs = c.bootstrap_servers();
    let out = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.GetOffsetShell",
            &["--bootstrap-server", &bs, "--topic", topic, "--time", time],
        ),
        "GetOffsetShell",
    );
    out.lines()
        .filter_map(|l| {
            let mut f = l.rsplitn(3, ':');
            let offset = f.next()?;
            let partition = f.next()?.parse().ok()?;
            Some((partition, offset.parse::<i64>().ok().filter(|o| *o >= 0)))
        })
        .collect()
}

/// offsets(), offsets for a time, and count() equal GetOffsetShell's answers; consume from
/// a time starts where GetOffsetShell says.
pub fn offsets_and_times_match_get_offsets(c: &Cluster, topic: &str) {
    create_topic(c, topic, 3);
    let bs = c.bootstrap_servers();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let t0 = now_ms - 3_600_000;
    kafsh_json(
        &bs,
        None,
        &format!(
            r#"let r = []; for i in 0..60 {{ r.push(#{{value: `v${{i}}`, partition: i % 3, timestamp: {t0} + i * 1000}}); }} produce("{topic}", r).len()"#
        ),
    );
    let ours = kafsh_json(&bs, None, &format!(r#"offsets("{topic}")"#));
    let earliest = get_offsets(c, topic, "-2");
    let latest = get_offsets(c, topic, "-1");
    for p in ours.as_array().expect("array") {
        let part = p["partition"].as_i64().unwrap();
        assert_eq!(
            Some(p["earliest"].as_i64()),
            earliest.get(&part).copied(),
            "{ours}"
        );
        assert_eq!(
            Some(p["latest"].as_i64()),
            latest.get(&part).copied(),
            "{ours}"
        );
    }
    assert_eq!(
        kafsh_json(&bs, None, &format!(r#"count("{topic}").records"#)),
        60
    );
    for at in [t0 - 10, t0 + 30_500, t0 + 59_000, t0 + 3_000_000] {
        let ours = kafsh_json(
            &bs,
            None,
            &format!(r#"offsets("{topic}", #{{time: {at}}})"#),
        );
        let tool = get_offsets(c, topic, &at.to_string());
        for p in ours.as_array().expect("array") {
            let part = p["partition"].as_i64().unwrap();
            assert_eq!(
                p["offset_for_time"].as_i64(),
                tool.get(&part).copied().flatten(),
                "time {at}: ours {ours}, GetOffsetShell {tool:?}"
            );
        }
    }
    // The same time as RFC 3339, and consuming from it.
    let from_time = kafsh_json(
        &bs,
        None,
        &format!(
            r#"consume("{topic}", #{{from: {}, limit: 0}})"#,
            rfc3339(t0 + 30_000)
        ),
    );
    let values: Vec<&str> = from_time
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(values.len(), 30, "{from_time}");
    assert!(
        values.iter().all(|v| v[1..].parse::<i64>().unwrap() >= 30),
        "{values:?}"
    );
}

/// `"YYYY-MM-DDTHH:MM:SS.mmmZ"` of ms since the epoch, quoted for a script.
fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "\"{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z\"",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

/// delete_records moves the log start offset exactly as DeleteRecordsCommand does on a
/// twin topic; a dry run changes nothing; more than the guard rail is refused.
pub fn delete_records_moves_log_start_like_the_tool(c: &Cluster, topic: &str) {
    let bs = c.bootstrap_servers();
    let twin = format!("{topic}-tool");
    for t in [topic, twin.as_str()] {
        create_topic(c, t, 2);
        kafsh_json(
            &bs,
            None,
            &format!(
                r#"let r = []; for i in 0..40 {{ r.push(#{{value: `v${{i}}`, partition: i % 2}}); }} produce("{t}", r).len()"#
            ),
        );
    }
    // A dry run plans and changes nothing.
    let state = tempfile::tempdir().expect("tmp");
    let out = kafsh(&state)
        .args(["--json", "--dry-run", "--bootstrap-server", &bs, "-e"])
        .arg(format!(
            r#"delete_records("{topic}", #{{"0": 5, "1": "latest"}})"#
        ))
        .output()
        .expect("kafsh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(plan["records"], 25, "{plan}");
    assert_eq!(
        get_offsets(c, topic, "-2"),
        BTreeMap::from([(0, Some(0)), (1, Some(0))])
    );

    let done = kafsh_json(
        &bs,
        None,
        &format!(r#"delete_records("{topic}", #{{"0": 5, "1": "latest"}})"#),
    );
    assert_eq!(done["records"], 25, "{done}");
    let json_file = state.path().join("delete.json");
    std::fs::write(
        &json_file,
        format!(
            r#"{{"version":1,"partitions":[{{"topic":"{twin}","partition":0,"offset":5}},{{"topic":"{twin}","partition":1,"offset":-1}}]}}"#
        ),
    )
    .expect("write");
    tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.DeleteRecordsCommand",
            &[
                "--bootstrap-server",
                &bs,
                "--offset-json-file",
                json_file.to_str().unwrap(),
            ],
        ),
        "DeleteRecordsCommand",
    );
    let ours = get_offsets(c, topic, "-2");
    assert_eq!(ours, get_offsets(c, &twin, "-2"));
    assert_eq!(ours, BTreeMap::from([(0, Some(5)), (1, Some(20))]));
    for p in done["partitions"].as_array().expect("partitions") {
        let part = p["partition"].as_i64().unwrap();
        assert_eq!(
            Some(p["low_watermark"].as_i64()),
            ours.get(&part).copied(),
            "{done}"
        );
    }
    // Reading below the new log start is an error naming the log's range.
    let below = kafsh_eval(
        &bs,
        None,
        &format!(r#"consume("{topic}", #{{partition: 0, from: 2}})"#),
    );
    assert!(!below.status.success());
    let err = String::from_utf8_lossy(&below.stderr);
    assert!(
        err.contains("offset 2 is outside") && err.contains("5 to 19"),
        "{err}"
    );

    // Above max_deleted_records: refused (exit 5) without force, nothing deleted.
    std::fs::write(
        state.path().join("config.toml"),
        format!(
            "current_context = \"t\"\n[contexts.t]\nbootstrap_servers = \"{bs}\"\n[contexts.t.guard_rails]\nmax_deleted_records = 3\n"
        ),
    )
    .expect("config");
    let refused = kafsh(&state)
        .args(["-e", &format!(r#"delete_records("{topic}", #{{"0": 10}})"#)])
        .output()
        .expect("kafsh");
    assert_eq!(
        refused.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("max_deleted_records") && err.contains("force"),
        "{err}"
    );
    assert_eq!(get_offsets(c, topic, "-2")[&0], Some(5));
    let forced = kafsh(&state)
        .args([
            "-e",
            &format!(r#"delete_records("{topic}", #{{"0": 10}}, #{{force: true}}).records"#),
        ])
        .output()
        .expect("kafsh");
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_eq!(get_offsets(c, topic, "-2")[&0], Some(10));
}

/// A missing topic, a partition that does not exist, an offset outside the log and a
/// value that is not JSON are clear errors naming the object.
pub fn bad_input_is_a_clear_error(c: &Cluster, topic: &str) {
    create_topic(c, topic, 1);
    let bs = c.bootstrap_servers();
    kafsh_json(
        &bs,
        None,
        &format!(r#"produce("{topic}", ["not json", "x"]).len()"#),
    );
    let cases = [
        (
            r#"consume("no-such-topic-x")"#.to_string(),
            "no-such-topic-x",
            2,
        ),
        (
            format!(r#"consume("{topic}", #{{partition: 7}})"#),
            "no partition 7",
            2,
        ),
        (
            format!(r#"consume("{topic}", #{{from: 99}})"#),
            "offset 99 is outside",
            2,
        ),
        (
            format!(r#"consume("{topic}", #{{value: "json"}})"#),
            "is not JSON",
            2,
        ),
        (
            format!(r#"consume("{topic}", #{{value: "yaml"}})"#),
            "unknown encoding",
            2,
        ),
        (
            format!(r#"produce("{topic}", "x", #{{partition: 3}})"#),
            "no partition 3",
            2,
        ),
        (
            r#"produce("no-such-topic-x", "x")"#.to_string(),
            "no-such-topic-x",
            2,
        ),
        (
            format!(r#"produce("{topic}", "x", #{{acks: 1, idempotent: true}})"#),
            "acks=all",
            2,
        ),
        (
            format!(r#"delete_records("{topic}", #{{"0": 50}})"#),
            "log ends at 2",
            2,
        ),
    ];
    for (expr, needle, _) in cases {
        let out = kafsh_eval(&bs, None, &expr);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{expr} succeeded");
        assert!(err.contains(needle), "{expr}: {err}");
        assert!(!err.contains("panicked"), "{expr}: {err}");
    }
    // produce to a missing topic did not create it.
    let listed = kafsh_json(&bs, None, "list_topics()");
    assert!(!listed
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "no-such-topic-x"));
}

/// find() scans every partition and returns the matches; consume as a group commits the
/// offsets it read.
pub fn find_and_group_commit(c: &Cluster, topic: &str) {
    create_topic(c, topic, 3);
    let bs = c.bootstrap_servers();
    kafsh_json(
        &bs,
        None,
        &format!(
            r#"let r = []; for i in 0..90 {{ r.push(#{{key: `k${{i}}`, value: #{{n: i}}}}); }} produce("{topic}", r).len()"#
        ),
    );
    let hits = kafsh_json(
        &bs,
        None,
        &format!(r#"find("{topic}", |r| r.value.n % 30 == 7, #{{value: "json"}})"#),
    );
    let mut ns: Vec<i64> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"]["n"].as_i64().unwrap())
        .collect();
    ns.sort();
    assert_eq!(ns, vec![7, 37, 67]);
    let one = kafsh_json(
        &bs,
        None,
        &format!(r#"find("{topic}", |r| r.key == "k12", #{{limit: 1}})"#),
    );
    assert_eq!(one.as_array().unwrap().len(), 1);
    let group = format!("{topic}-g");
    let read = kafsh_json(
        &bs,
        None,
        &format!(r#"consume("{topic}", #{{group: "{group}", limit: 0}}).len()"#),
    );
    assert_eq!(read, 90);
    let described = kafsh_json(&bs, None, &format!(r#"describe_group("{group}")"#));
    let lag: i64 = described["total_lag"].as_i64().expect("lag");
    assert_eq!(lag, 0, "{described}");
    let tool = tool_stdout(
        c.kafka_tool(
            "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
            &["--bootstrap-server", &bs, "--describe", "--group", &group],
        ),
        "ConsumerGroupCommand",
    );
    let committed: i64 = tool
        .lines()
        .filter(|l| l.contains(topic))
        .filter_map(|l| l.split_whitespace().nth(3)?.parse::<i64>().ok())
        .sum();
    assert_eq!(committed, 90, "{tool}");

    // A group with an active member: committing as it is refused without force.
    let busy = format!("{topic}-busy");
    let mut member = c
        .kafka_tool_command(
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            &[
                "--bootstrap-server".into(),
                bs.clone(),
                "--topic".into(),
                topic.into(),
                "--group".into(),
                busy.clone(),
                "--timeout-ms".into(),
                "60000".into(),
            ],
        )
        .expect("tool")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("console consumer");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let g = kafsh_eval(
            &bs,
            None,
            &format!(r#"describe_group("{busy}").members.len()"#),
        );
        if String::from_utf8_lossy(&g.stdout).trim() == "1" {
            break;
        }
        if Instant::now() > deadline {
            let _ = member.kill();
            panic!("the console consumer never joined {busy}");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let refused = kafsh_eval(
        &bs,
        None,
        &format!(r#"consume("{topic}", #{{group: "{busy}"}})"#),
    );
    let _ = member.kill();
    let _ = member.wait();
    assert_eq!(
        refused.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("active member"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// tail() in a terminal prints new records as they come and stops within a second of
/// Ctrl-C.
pub fn tail_stops_on_ctrl_c_in_a_pty(c: &Cluster, topic: &str) {
    create_topic(c, topic, 1);
    let bs = c.bootstrap_servers();
    let state = tempfile::tempdir().expect("tmp");
    let mut cmd = kafsh(&state);
    cmd.args([
        "--bootstrap-server",
        &bs,
        "-e",
        &format!(r#"tail("{topic}")"#),
    ]);
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).expect("spawn kafsh in a pty");
    std::thread::sleep(Duration::from_secs(3));
    kafsh_json(
        &bs,
        None,
        &format!(r#"produce("{topic}", #{{key: "k", value: "hello tail"}}).len()"#),
    );
    p.exp_string("hello tail").expect("the new record printed");
    let stopped = Instant::now();
    p.send_control('c').expect("ctrl-c");
    p.exp_eof().expect("tail ends");
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "{:?}",
        stopped.elapsed()
    );
}

/// produce with `wait: false` queues and returns at once; flush() waits and counts every
/// delivery, per partition (the records have keys: librdkafka puts keyless records that
/// arrive within 10 ms of each other in one partition); a script that ends without flushing still waits for its records; a record
/// the broker refuses makes the flush (here the end of the script) fail, saying so.
pub fn queued_produce_delivers_everything_and_reports_failures(c: &Cluster, topic: &str) {
    create_topic(c, topic, 3);
    let bs = c.bootstrap_servers();
    let flushed = kafsh_json(
        &bs,
        None,
        &format!(
            r#"let batch = []; for i in 0..1000 {{ batch.push(#{{key: `k${{i}}`, value: `record ${{i}}`}}); }}
               let queued = 0;
               for round in 0..20 {{ queued += produce("{topic}", batch, #{{wait: false, compression: "lz4"}}).queued; }}
               let f = flush();
               let sum = 0; for p in f.partitions {{ sum += p.records; }}
               #{{queued: queued, delivered: f.delivered, partitions: f.partitions.len(), sum: sum, again: flush().delivered}}"#
        ),
    );
    assert_eq!(flushed["queued"], 20000, "{flushed}");
    assert_eq!(flushed["delivered"], 20000, "{flushed}");
    assert_eq!(flushed["sum"], 20000, "{flushed}");
    assert_eq!(flushed["partitions"], 3, "{flushed}");
    assert_eq!(flushed["again"], 0, "a second flush has nothing left");
    // Queued and never flushed: the script's end waits for them.
    let out = kafsh_eval(
        &bs,
        None,
        &format!(
            r#"let b = []; for i in 0..500 {{ b.push("late"); }} produce("{topic}", b, #{{wait: false}}); "queued""#
        ),
    );
    assert!(out.status.success(), "{out:?}");
    let count = kafsh_json(&bs, None, &format!(r#"count("{topic}").records"#));
    assert_eq!(count, 20500);

    // One run: the partition count looked up by the first call is reused, a partition
    // added meanwhile is looked up again, one that does not exist is still refused; records
    // with headers (another route into librdkafka) keep their order with plain ones.
    let grown = kafsh_json(
        &bs,
        None,
        &format!(
            r#"produce("{topic}", "before", #{{partition: 0, wait: false}});
               add_partitions("{topic}", 4);
               produce("{topic}", ["a", #{{value: "b", headers: #{{h: "1"}}}}, "c"], #{{partition: 3, wait: false}});
               let f = flush();
               let refused = "";
               try {{ produce("{topic}", "x", #{{partition: 9}}); }} catch (e) {{ refused = `${{e}}`; }}
               produce("{topic}", "waited", #{{partition: 3}});
               add_partitions("{topic}", 5);
               let waited = produce("{topic}", "waited", #{{partition: 4}});
               #{{waited: waited[0].partition, delivered: f.delivered, partitions: f.partitions.map(|p| p.partition), refused: refused,
                  read: consume("{topic}", #{{partition: 3, from: "earliest", limit: 3}}).map(|r| r.value)}}"#
        ),
    );
    assert_eq!(grown["delivered"], 4, "{grown}");
    assert_eq!(grown["partitions"], serde_json::json!([0, 3]), "{grown}");
    assert!(
        grown["refused"]
            .as_str()
            .is_some_and(|e| e.contains("has no partition 9 (it has 4)")),
        "{grown}"
    );
    assert_eq!(grown["waited"], 4, "{grown}");
    assert_eq!(grown["read"], serde_json::json!(["a", "b", "c"]), "{grown}");

    // The broker refuses records above the topic's max.message.bytes.
    let small = format!("{topic}-small");
    kafsh_json(
        &bs,
        None,
        &format!(
            r#"create_topic("{small}", #{{partitions: 1, replication_factor: 1, config: #{{"max.message.bytes": "1024"}}}}).topic"#
        ),
    );
    let out = kafsh_eval(
        &bs,
        None,
        &format!(
            r#"let big = ""; while big.len() < 5000 {{ big += "0123456789"; }}
               produce("{small}", [big, big], #{{wait: false}}).queued"#
        ),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("flush") && err.contains("2 of 2 queued record(s) were not written"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
