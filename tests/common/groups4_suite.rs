//! Kafka 4's group types with real clients on a KRaft cluster, compared with Kafka's own
//! tools at the same moment: consumer groups on the KIP-848 protocol (console consumer and
//! VerifiableConsumer with `group.protocol=consumer`) beside a classic group, share groups
//! (console share consumer), a streams group (Kafka Streams' WordCountDemo with
//! `group.protocol=streams`), and `lag()` on a cluster whose one coordinator is stuck.

use super::groups_suite::{kafsh_rows, produce, tool_rows};
use super::*;
use kafsh_sandbox::{Cluster, ClusterSpec, Node};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const GROUP_COMMAND: &str = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
const SHARE_COMMAND: &str = "org.apache.kafka.tools.consumer.group.ShareGroupCommand";
const STREAMS_COMMAND: &str = "org.apache.kafka.tools.streams.StreamsGroupCommand";
const GROUPS_COMMAND: &str = "org.apache.kafka.tools.GroupsCommand";
const CONSOLE_CONSUMER: &str = "org.apache.kafka.tools.consumer.ConsoleConsumer";
const SHARE_CONSUMER: &str = "org.apache.kafka.tools.consumer.ConsoleShareConsumer";
const VERIFIABLE_CONSUMER: &str = "org.apache.kafka.tools.VerifiableConsumer";
const WORD_COUNT: &str = "org.apache.kafka.streams.examples.wordcount.WordCountDemo";

/// A Kafka client running in the background; killed if a failed assertion leaves it.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn(c: &Cluster, class: &str, args: &[String]) -> Running {
    Running(Some(
        c.kafka_tool_command(class, args)
            .expect("command")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn a Kafka client"),
    ))
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// A console consumer in `group` on the KIP-848 protocol, running until stopped.
fn protocol_consumer(c: &Cluster, topic: &str, group: &str, client_id: &str) -> Running {
    let bs = c.bootstrap_servers();
    let client = format!("client.id={client_id}");
    spawn(
        c,
        CONSOLE_CONSUMER,
        &strings(&[
            "--bootstrap-server",
            &bs,
            "--topic",
            topic,
            "--group",
            group,
            "--from-beginning",
            "--consumer-property",
            "group.protocol=consumer",
            "--consumer-property",
            &client,
        ]),
    )
}

/// A console share consumer in share group `group`, running until stopped.
fn share_consumer(c: &Cluster, topic: &str, group: &str, client_id: &str) -> Running {
    let bs = c.bootstrap_servers();
    let client = format!("client.id={client_id}");
    spawn(
        c,
        SHARE_CONSUMER,
        &strings(&[
            "--bootstrap-server",
            &bs,
            "--topic",
            topic,
            "--group",
            group,
            "--command-property",
            &client,
        ]),
    )
}

/// Reads up to `max` records in `group` on the KIP-848 protocol, commits and leaves.
fn consume_with_protocol(c: &Cluster, topic: &str, group: &str, max: u32) -> usize {
    let bs = c.bootstrap_servers();
    let max = max.to_string();
    let out = c
        .kafka_tool(
            CONSOLE_CONSUMER,
            &[
                "--bootstrap-server",
                &bs,
                "--topic",
                topic,
                "--group",
                group,
                "--from-beginning",
                "--max-messages",
                &max,
                "--timeout-ms",
                "10000",
                "--consumer-property",
                "group.protocol=consumer",
            ],
        )
        .expect("console consumer");
    // ProducerPerformance's records are 10 capital letters; the new consumer may print a
    // log line on stdout too.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.len() == 10 && l.bytes().all(|b| b.is_ascii_uppercase()))
        .count()
}

/// Stops a client gracefully (SIGTERM: it leaves its group), killing it if it hangs.
fn stop(mut running: Running) {
    let Some(mut child) = running.0.take() else {
        return;
    };
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Polls `f` until it gives a value, failing after `secs` with `what`.
fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `describe_group(group)`, or None while it fails.
fn describe(bs: &str, group: &str) -> Option<Value> {
    let out = kafsh_eval(bs, None, &format!(r#"describe_group("{group}")"#));
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).expect("json"))
}

/// Waits until `group` is Stable with `members` members, every one with an assignment
/// equal to its target (the new protocols say when a member has caught up).
fn wait_stable(bs: &str, group: &str, members: usize) -> Value {
    wait_for(
        &format!("{group} stable with {members} member(s)"),
        90,
        || {
            let g = describe(bs, group)?;
            let ms = g["members"].as_array()?;
            let settled = g["state"] == "Stable"
                && ms.len() == members
                && ms.iter().all(|m| {
                    m["assignment"].as_object().is_some_and(|a| !a.is_empty())
                        && (m["target_assignment"].is_null()
                            || m["target_assignment"] == m["assignment"])
                });
            settled.then_some(g)
        },
    )
}

/// Kafka's tool output (stdout and stderr).
fn tool_text(c: &Cluster, class: &str, args: &[&str]) -> String {
    let out = c.kafka_tool(class, args).expect("run a Kafka tool");
    String::from_utf8_lossy(&out.stdout).into_owned()
        + String::from_utf8_lossy(&out.stderr).as_ref()
}

/// The rows of a tool's table for `group`, as column → value, from the header above them.
/// "COORDINATOR (ID)" is one column ("host:port (id)"); extra words go to the last column.
fn tool_table(text: &str, group: &str) -> Vec<BTreeMap<String, String>> {
    let mut header: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if line.starts_with("GROUP ") {
            header = line
                .replace("COORDINATOR (ID)", "COORDINATOR")
                .split_whitespace()
                .map(String::from)
                .collect();
            continue;
        }
        if header.is_empty() || !line.starts_with(&format!("{group} ")) {
            continue;
        }
        let mut cells: Vec<String> = Vec::new();
        for token in line.split_whitespace() {
            match cells.last_mut() {
                Some(prev) if token.starts_with('(') && header.contains(&"COORDINATOR".into()) => {
                    prev.push(' ');
                    prev.push_str(token);
                }
                _ => cells.push(token.to_string()),
            }
        }
        if cells.len() > header.len() {
            let tail = cells.split_off(header.len() - 1).join(" ");
            cells.push(tail);
        }
        rows.push(header.iter().cloned().zip(cells).collect());
    }
    rows
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// "t:0,1,2;u:3" as Kafka's tools print an assignment; "-" for none.
fn assignment_text(a: &Value) -> String {
    let Some(m) = a.as_object().filter(|m| !m.is_empty()) else {
        return "-".into();
    };
    m.iter()
        .map(|(t, ps)| {
            let ps: Vec<String> = ps
                .as_array()
                .expect("partitions")
                .iter()
                .map(text_of)
                .collect();
            format!("{t}:{}", ps.join(","))
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn partitions_in(a: &Value) -> usize {
    a.as_object()
        .map(|m| m.values().map(|ps| ps.as_array().map_or(0, Vec::len)).sum())
        .unwrap_or(0)
}

/// The coordinator id in "host:port  (id)".
fn coordinator_id(cell: &str) -> String {
    cell.rsplit('(')
        .next()
        .unwrap_or("")
        .trim_end_matches(')')
        .to_string()
}

/// Where `--describe --members --verbose` of a consumer group differs from kafsh's members.
fn consumer_members_mismatch(c: &Cluster, g: &Value) -> Option<String> {
    let group = g["group"].as_str().expect("group");
    let bs = c.bootstrap_servers();
    let text = tool_text(
        c,
        GROUP_COMMAND,
        &[
            "--bootstrap-server",
            &bs,
            "--describe",
            "--group",
            group,
            "--members",
            "--verbose",
        ],
    );
    let theirs = tool_table(&text, group);
    let members = g["members"].as_array().expect("members");
    if theirs.len() != members.len() {
        return Some(format!(
            "{} members, kafsh {}\n{text}\n{g}",
            theirs.len(),
            members.len()
        ));
    }
    for row in &theirs {
        let Some(m) = members
            .iter()
            .find(|m| m["consumer_id"] == row["CONSUMER-ID"].as_str())
        else {
            return Some(format!("kafsh lacks member {row:?}: {g}"));
        };
        let mut expected = vec![
            ("HOST", text_of(&m["host"])),
            ("CLIENT-ID", text_of(&m["client_id"])),
            ("#PARTITIONS", partitions_in(&m["assignment"]).to_string()),
            ("CURRENT-EPOCH", text_of(&m["member_epoch"])),
            ("CURRENT-ASSIGNMENT", assignment_text(&m["assignment"])),
            ("TARGET-EPOCH", text_of(&g["target_assignment_epoch"])),
            (
                "TARGET-ASSIGNMENT",
                assignment_text(&m["target_assignment"]),
            ),
        ];
        if row.contains_key("GROUP-INSTANCE-ID") {
            expected.push(("GROUP-INSTANCE-ID", text_of(&m["group_instance_id"])));
        }
        for (column, ours) in expected {
            if row.get(column) != Some(&ours) {
                return Some(format!(
                    "{column}: tool {:?}, kafsh {ours:?}\n{text}\n{g}",
                    row.get(column)
                ));
            }
        }
    }
    None
}

fn assert_consumer_members_match(c: &Cluster, g: &Value) {
    if let Some(difference) = consumer_members_mismatch(c, g) {
        panic!("{difference}");
    }
}

/// Compares `--describe --state --verbose` of a consumer group with kafsh's description.
fn assert_consumer_state_matches(c: &Cluster, g: &Value) {
    let group = g["group"].as_str().expect("group");
    let bs = c.bootstrap_servers();
    let text = tool_text(
        c,
        GROUP_COMMAND,
        &[
            "--bootstrap-server",
            &bs,
            "--describe",
            "--group",
            group,
            "--state",
            "--verbose",
        ],
    );
    let row = tool_table(&text, group)
        .pop()
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        coordinator_id(&row["COORDINATOR"]),
        text_of(&g["coordinator"]),
        "{text}"
    );
    assert_eq!(
        row["ASSIGNMENT-STRATEGY"],
        text_of(&g["assignor"]),
        "{text}"
    );
    assert_eq!(row["STATE"], text_of(&g["state"]), "{text}");
    assert_eq!(row["GROUP-EPOCH"], text_of(&g["group_epoch"]), "{text}");
    assert_eq!(
        row["TARGET-ASSIGNMENT-EPOCH"],
        text_of(&g["target_assignment_epoch"]),
        "{text}"
    );
    assert_eq!(
        row["#MEMBERS"],
        g["members"].as_array().map_or(0, Vec::len).to_string()
    );
}

/// kafsh's share rows as `kafka-share-groups.sh --describe` prints them: TOPIC PARTITION
/// START-OFFSET LAG.
fn share_rows(g: &Value) -> Vec<Vec<String>> {
    g["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .map(|r| {
            vec![
                text_of(&r["topic"]),
                text_of(&r["partition"]),
                text_of(&r["current_offset"]),
                text_of(&r["lag"]),
            ]
        })
        .collect()
}

fn tool_share_rows(c: &Cluster, group: &str) -> (String, Vec<Vec<String>>) {
    let bs = c.bootstrap_servers();
    let text = tool_text(
        c,
        SHARE_COMMAND,
        &["--bootstrap-server", &bs, "--describe", "--group", group],
    );
    let rows = tool_table(&text, group)
        .into_iter()
        .map(|r| {
            vec![
                r["TOPIC"].clone(),
                r["PARTITION"].clone(),
                r["START-OFFSET"].clone(),
                r["LAG"].clone(),
            ]
        })
        .collect();
    (text, rows)
}

/// kafsh and a tool agree once the group is quiet: kafsh, the tool, kafsh again, until
/// both kafsh reads equal the tool's (a share group's lag settles as acknowledgements land).
fn assert_settles_equal(
    what: &str,
    mut ours: impl FnMut() -> Vec<Vec<String>>,
    mut theirs: impl FnMut() -> (String, Vec<Vec<String>>),
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let before = ours();
        let (text, tool) = theirs();
        let after = ours();
        if before == tool && after == tool && !tool.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: kafsh {after:?} never equalled the tool's\n{text}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// One topic read by four kinds of group at once — classic and KIP-848 consumer groups,
/// empty and live, and a share group — listed, described and lagged exactly as
/// `kafka-groups.sh`, `kafka-consumer-groups.sh` and `kafka-share-groups.sh` show them.
pub fn types_match_tools(c: &Cluster, prefix: &str) {
    let bs = c.bootstrap_servers();
    let topic = format!("{prefix}-t");
    kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{topic}", #{{partitions: 3, replication_factor: 2}})"#),
    );
    produce(c, &topic, 300);

    let classic = format!("{prefix}-classic");
    assert_eq!(super::groups_suite::consume(c, &topic, &classic, 120), 120);
    let empty = format!("{prefix}-consumer-empty");
    assert_eq!(consume_with_protocol(c, &topic, &empty, 150), 150);

    // A share group starts at the log end: join first, then the records it will read.
    let share = format!("{prefix}-share");
    let share_client = share_consumer(c, &topic, &share, "k4-share-client");
    wait_stable(&bs, &share, 1);

    // A live KIP-848 consumer with a static member id, committing as it reads.
    let live = format!("{prefix}-consumer-live");
    let instance = format!("{prefix}-static-1");
    let verifiable = spawn(
        c,
        VERIFIABLE_CONSUMER,
        &strings(&[
            "--bootstrap-server",
            &bs,
            "--topic",
            &topic,
            "--group-id",
            &live,
            "--group-protocol",
            "consumer",
            "--group-instance-id",
            &instance,
            "--reset-policy",
            "earliest",
        ]),
    );
    produce(c, &topic, 60);
    let g = wait_stable(&bs, &live, 1);
    wait_for("the live group to commit the log end", 60, || {
        let g = describe(&bs, &live)?;
        let rows = g["partitions"].as_array()?;
        (rows.len() == 3 && rows.iter().all(|r| r["lag"] == 0)).then_some(())
    });

    // kafka-groups.sh --list: TYPE and PROTOCOL of each of our groups.
    let listed = kafsh_json(&bs, None, "list_groups()");
    let text = tool_text(c, GROUPS_COMMAND, &["--bootstrap-server", &bs, "--list"]);
    for (group, t, protocol) in [
        (&classic, "Classic", "consumer"),
        (&empty, "Consumer", "consumer"),
        (&live, "Consumer", "consumer"),
        (&share, "Share", "share"),
    ] {
        let tool_line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(group.as_str()))
            .unwrap_or_else(|| panic!("{group} not in\n{text}"));
        assert_eq!(
            tool_line.split_whitespace().collect::<Vec<_>>(),
            vec![group.as_str(), t, protocol],
            "{text}"
        );
        let ours = listed
            .as_array()
            .expect("array")
            .iter()
            .find(|l| l["group"] == group.as_str())
            .unwrap_or_else(|| panic!("{group} not in {listed}"));
        assert_eq!(ours["type"], t);
        assert_eq!(ours["protocol_type"], protocol);
    }
    let shares = kafsh_json(&bs, None, r#"list_groups(#{type: "share"})"#);
    assert!(
        shares
            .as_array()
            .expect("array")
            .iter()
            .all(|g| g["type"] == "Share")
            && shares
                .as_array()
                .expect("array")
                .iter()
                .any(|g| g["group"] == share.as_str()),
        "{shares}"
    );
    let both = kafsh_json(
        &bs,
        None,
        r#"list_groups(#{type: ["classic", "consumer"], state: "empty"})"#,
    );
    let names: Vec<&str> = both
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|g| g["group"].as_str())
        .collect();
    assert!(
        names.contains(&classic.as_str()) && names.contains(&empty.as_str()),
        "{both}"
    );
    assert!(
        !names.contains(&live.as_str()) && !names.contains(&share.as_str()),
        "{both}"
    );
    let out = kafsh_eval(&bs, None, r#"list_groups(#{type: "queue"})"#);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown group type \"queue\""));

    // kafka-consumer-groups.sh --describe: the same rows for classic and consumer groups.
    for group in [&classic, &empty, &live] {
        let (g, ours) = kafsh_rows(&bs, group);
        let (text, theirs) = tool_rows(c, group);
        assert_eq!(ours, theirs, "{text}");
        assert_eq!(
            g["total_lag"],
            ours.iter()
                .map(|r| r[5].parse::<i64>().unwrap_or(0))
                .sum::<i64>()
        );
    }
    let (g_empty, _) = kafsh_rows(&bs, &empty);
    assert_eq!(g_empty["type"], "Consumer");
    assert_eq!(
        g_empty["note"],
        format!("Consumer group '{empty}' has no active members.")
    );

    // --members --verbose and --state --verbose of the live consumer group.
    assert_eq!(g["members"][0]["group_instance_id"], instance.as_str());
    assert_eq!(g["members"][0]["member_protocol"], "consumer");
    let g = describe(&bs, &live).expect("describe");
    assert_consumer_members_match(c, &g);
    assert_consumer_state_matches(c, &g);
    assert_consumer_state_matches(c, &describe(&bs, &empty).expect("describe"));

    // kafka-share-groups.sh --describe, --members --verbose, --state --verbose.
    assert_settles_equal(
        "share rows",
        || share_rows(&describe(&bs, &share).expect("describe")),
        || tool_share_rows(c, &share),
    );
    let s = describe(&bs, &share).expect("describe");
    assert_eq!(s["type"], "Share");
    let text = tool_text(
        c,
        SHARE_COMMAND,
        &[
            "--bootstrap-server",
            &bs,
            "--describe",
            "--group",
            &share,
            "--members",
            "--verbose",
        ],
    );
    let row = tool_table(&text, &share)
        .pop()
        .unwrap_or_else(|| panic!("{text}"));
    let m = &s["members"][0];
    assert_eq!(row["CONSUMER-ID"], text_of(&m["consumer_id"]), "{text}");
    assert_eq!(row["CLIENT-ID"], "k4-share-client");
    assert_eq!(row["MEMBER-EPOCH"], text_of(&m["member_epoch"]), "{text}");
    assert_eq!(
        row["ASSIGNMENT"],
        assignment_text(&m["assignment"]),
        "{text}"
    );
    let text = tool_text(
        c,
        SHARE_COMMAND,
        &[
            "--bootstrap-server",
            &bs,
            "--describe",
            "--group",
            &share,
            "--state",
            "--verbose",
        ],
    );
    let row = tool_table(&text, &share)
        .pop()
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        coordinator_id(&row["COORDINATOR"]),
        text_of(&s["coordinator"]),
        "{text}"
    );
    assert_eq!(row["STATE"], "Stable");
    assert_eq!(row["GROUP-EPOCH"], text_of(&s["group_epoch"]), "{text}");
    assert_eq!(
        row["ASSIGNMENT-EPOCH"],
        text_of(&s["target_assignment_epoch"]),
        "{text}"
    );

    // lag() over the four agrees with describe_group, with no error.
    let all = kafsh_json(
        &bs,
        None,
        &format!(r#"lag(#{{groups: ["{classic}", "{empty}", "{live}", "{share}"]}})"#),
    );
    for row in all.as_array().expect("rows") {
        assert!(row.get("error").is_none(), "{row}");
        let g = describe(&bs, row["group"].as_str().expect("group")).expect("describe");
        assert_eq!(row["total_lag"], g["total_lag"], "{row}");
        assert_eq!(row["type"], g["type"], "{row}");
    }
    assert_eq!(all.as_array().map(Vec::len), Some(4));
    stop(verifiable);
    stop(share_client);
}

/// Members of a KIP-848 group leave and join: describe_group follows each step with the
/// epochs and assignments `--members --verbose` shows. Then, once the group is empty, its
/// offsets are reset, partly deleted and the group deleted — each refused while a member is
/// active, and a dry run changes nothing.
pub fn members_leave_and_rejoin(c: &Cluster, prefix: &str) {
    let bs = c.bootstrap_servers();
    let topic = format!("{prefix}-t");
    kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{topic}", #{{partitions: 4, replication_factor: 1}})"#),
    );
    produce(c, &topic, 100);
    let group = format!("{prefix}-members");
    let a = protocol_consumer(c, &topic, &group, "member-a");
    let one = wait_stable(&bs, &group, 1);
    assert_eq!(partitions_in(&one["members"][0]["assignment"]), 4, "{one}");
    let epoch_one = one["group_epoch"].as_i64().expect("epoch");

    let b = protocol_consumer(c, &topic, &group, "member-b");
    let two = wait_stable(&bs, &group, 2);
    for m in two["members"].as_array().expect("members") {
        assert_eq!(partitions_in(&m["assignment"]), 2, "{two}");
    }
    assert!(two["group_epoch"].as_i64() > Some(epoch_one), "{two}");
    // The tool at the same moment (a retry if the group moved between the two reads).
    wait_for("the tool and kafsh to agree on two members", 60, || {
        let g = describe(&bs, &group)?;
        consumer_members_mismatch(c, &g).is_none().then_some(())
    });

    stop(b);
    let back = wait_stable(&bs, &group, 1);
    assert_eq!(back["members"][0]["client_id"], "member-a", "{back}");
    assert_eq!(
        partitions_in(&back["members"][0]["assignment"]),
        4,
        "{back}"
    );
    assert!(
        back["group_epoch"].as_i64() > two["group_epoch"].as_i64(),
        "{back}"
    );

    // While a member is active: every change refused, naming it; nothing changes.
    let (_, before) = tool_rows(c, &group);
    for expr in [
        format!(
            r#"reset_offsets("{group}", #{{topic: "{topic}", to: "earliest", execute: true}})"#
        ),
        format!(r#"delete_group("{group}")"#),
        format!(r#"delete_group_offsets("{group}", #{{topic: "{topic}"}})"#),
    ] {
        let out = kafsh_eval(&bs, None, &expr);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{expr}: {err}");
        assert!(
            err.contains("active member") && err.contains("consumer group"),
            "{err}"
        );
    }
    assert_eq!(tool_rows(c, &group).1, before);

    stop(a);
    let gone = wait_for("the group to empty", 60, || {
        let g = describe(&bs, &group)?;
        (g["state"] == "Empty").then_some(g)
    });
    assert_eq!(gone["members"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        gone["note"],
        format!("Consumer group '{group}' has no active members.")
    );

    // A member rejoins under a new id, and leaves again.
    let again = protocol_consumer(c, &topic, &group, "member-c");
    let rejoined = wait_stable(&bs, &group, 1);
    assert_eq!(rejoined["members"][0]["client_id"], "member-c");
    assert_ne!(
        rejoined["members"][0]["consumer_id"],
        one["members"][0]["consumer_id"]
    );
    stop(again);
    wait_for("the group to empty again", 60, || {
        (describe(&bs, &group)?["state"] == "Empty").then_some(())
    });

    // Reset: back 10 on every partition, as the tool then shows.
    let done = kafsh_json(
        &bs,
        None,
        &format!(
            r#"reset_offsets("{group}", #{{topic: "{topic}", to: #{{shift: -10}}, execute: true}})"#
        ),
    );
    assert_eq!(done["type"], "Consumer");
    let (text, rows) = tool_rows(c, &group);
    for (row, planned) in rows
        .iter()
        .zip(done["partitions"].as_array().expect("rows"))
    {
        assert_eq!(row[3], planned["new_offset"].to_string(), "{text}");
    }

    // delete_group_offsets: a dry run changes nothing; then partition 0 goes, the rest stay.
    let state = tempfile::tempdir().expect("tmp");
    let out = kafsh(&state)
        .args([
            "--dry-run",
            "--json",
            "--bootstrap-server",
            &bs,
            "-e",
            &format!(r#"delete_group_offsets("{group}", #{{topic: "{topic}", partitions: [0]}})"#),
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("delete_group_offsets"));
    assert_eq!(tool_rows(c, &group).1, rows);
    let deleted = kafsh_json(
        &bs,
        None,
        &format!(r#"delete_group_offsets("{group}", #{{topic: "{topic}", partitions: [0]}})"#),
    );
    assert_eq!(deleted["deleted"], true, "{deleted}");
    assert_eq!(
        deleted["partitions"][0]["offset"],
        rows[0][3].parse::<i64>().expect("offset")
    );
    let (text, after) = tool_rows(c, &group);
    assert_eq!(after.len(), 3, "{text}");
    assert!(after.iter().all(|r| r[2] != "0"), "{text}");
    assert_eq!(kafsh_rows(&bs, &group).1, after);

    // delete_group: gone for kafsh and for the tool.
    let deleted = kafsh_json(&bs, None, &format!(r#"delete_group("{group}")"#));
    assert_eq!(deleted["deleted"], true);
    let out = kafsh_eval(&bs, None, &format!(r#"describe_group("{group}")"#));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    let (text, _) = tool_rows(c, &group);
    assert!(text.contains(&format!("Group {group} not found")), "{text}");
}

/// A share group's start offsets reset as `kafka-share-groups.sh --reset-offsets` resets
/// them: refused while a member is active; the plan equals the tool's dry run; executed, the
/// tool sees the new start offsets; a dry run changes nothing; then its offsets and the group
/// are deleted.
pub fn share_group_reset(c: &Cluster, prefix: &str) {
    let bs = c.bootstrap_servers();
    let topic = format!("{prefix}-t");
    kafsh_json(
        &bs,
        None,
        &format!(r#"create_topic("{topic}", #{{partitions: 2, replication_factor: 1}})"#),
    );
    produce(c, &topic, 20);
    let group = format!("{prefix}-queue");
    let reader = share_consumer(c, &topic, &group, "k4-share-reset");
    wait_stable(&bs, &group, 1);
    produce(c, &topic, 40);
    assert_settles_equal(
        "share rows",
        || share_rows(&describe(&bs, &group).expect("describe")),
        || tool_share_rows(c, &group),
    );

    let reset = |to: &str, execute: bool| {
        format!(r#"reset_offsets("{group}", #{{topic: "{topic}", to: {to}, execute: {execute}}})"#)
    };
    let out = kafsh_eval(&bs, None, &reset("\"earliest\"", true));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("share group") && err.contains("k4-share-reset"),
        "{err}"
    );

    stop(reader);
    wait_for("the share group to empty", 60, || {
        (describe(&bs, &group)?["state"] == "Empty").then_some(())
    });
    let (_, before) = tool_share_rows(c, &group);

    // The plan equals the tool's dry run.
    let plan = kafsh_json(&bs, None, &reset("\"earliest\"", false));
    assert_eq!(plan["type"], "Share");
    assert_eq!(plan["executed"], false);
    let text = tool_text(
        c,
        SHARE_COMMAND,
        &[
            "--bootstrap-server",
            &bs,
            "--reset-offsets",
            "--group",
            &group,
            "--topic",
            &topic,
            "--to-earliest",
            "--dry-run",
        ],
    );
    let mut theirs: Vec<(String, String, String)> = tool_table(&text, &group)
        .into_iter()
        .map(|r| {
            (
                r["TOPIC"].clone(),
                r["PARTITION"].clone(),
                r["NEW-OFFSET"].clone(),
            )
        })
        .collect();
    theirs.sort();
    let ours: Vec<(String, String, String)> = plan["partitions"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                text_of(&r["topic"]),
                text_of(&r["partition"]),
                text_of(&r["new_offset"]),
            )
        })
        .collect();
    assert_eq!(ours, theirs, "{text}");
    assert_eq!(
        tool_share_rows(c, &group).1,
        before,
        "a plan changes nothing"
    );

    // --dry-run with execute: true changes nothing either.
    let state = tempfile::tempdir().expect("tmp");
    let out = kafsh(&state)
        .args([
            "--dry-run",
            "--json",
            "--bootstrap-server",
            &bs,
            "-e",
            &reset("\"earliest\"", true),
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(tool_share_rows(c, &group).1, before);

    // Executed: the tool sees START-OFFSET 0 everywhere, as kafsh does.
    let done = kafsh_json(&bs, None, &reset("\"earliest\"", true));
    assert_eq!(done["executed"], true, "{done}");
    let (text, after) = tool_share_rows(c, &group);
    assert!(after.iter().all(|r| r[2] == "0"), "{text}");
    assert_eq!(share_rows(&describe(&bs, &group).expect("describe")), after);

    // Its offsets of the topic, then the group, deleted.
    let deleted = kafsh_json(
        &bs,
        None,
        &format!(r#"delete_group_offsets("{group}", #{{topic: "{topic}"}})"#),
    );
    assert_eq!(deleted["deleted"], true, "{deleted}");
    let text = tool_text(
        c,
        SHARE_COMMAND,
        &["--bootstrap-server", &bs, "--describe", "--group", &group],
    );
    assert!(text.contains("has no offset information"), "{text}");
    let g = describe(&bs, &group).expect("describe");
    assert_eq!(
        g["note"],
        format!("Share group '{group}' has no active members.")
    );
    assert_eq!(g["partitions"].as_array().map(Vec::len), Some(0));
    kafsh_json(&bs, None, &format!(r#"delete_group("{group}")"#));
    let listed = kafsh_json(&bs, None, r#"list_groups(#{type: "share"})"#);
    assert!(
        !listed
            .as_array()
            .expect("array")
            .iter()
            .any(|g| g["group"] == group.as_str()),
        "{listed}"
    );
}

/// Kafka Streams' WordCountDemo on the streams protocol (in-memory stores: the sandbox has
/// no RocksDB): its group described as `kafka-streams-groups.sh --describe` shows it —
/// offsets and lag of its active tasks' partitions, members with epochs, processes and
/// tasks, state and epochs; then stopped, empty, and deleted.
pub fn streams_group_matches(c: &Cluster, app: &str) {
    let bs = c.bootstrap_servers();
    for t in ["streams-plaintext-input", "streams-wordcount-output"] {
        kafsh_json(
            &bs,
            None,
            &format!(r#"create_topic("{t}", #{{partitions: 2, replication_factor: 1}})"#),
        );
    }
    let dir = tempfile::tempdir().expect("tmp");
    let props = dir.path().join("wordcount.properties");
    std::fs::write(
        &props,
        format!(
            "bootstrap.servers={bs}\napplication.id={app}\ngroup.protocol=streams\n\
             dsl.store.suppliers.class=org.apache.kafka.streams.state.BuiltInDslStoreSuppliers$InMemoryDslStoreSuppliers\n\
             state.dir={}\ncommit.interval.ms=500\n",
            dir.path().join("state").display()
        ),
    )
    .expect("properties");
    let streams = spawn(c, WORD_COUNT, &[props.display().to_string()]);
    let g = wait_stable(&bs, app, 1);
    assert_eq!(g["type"], "Streams");
    produce(c, "streams-plaintext-input", 50);
    // Rows: the input and the repartition topic, two partitions each, with the offsets
    // Streams committed on both (the repartition topic's too, as Kafka 4.4's
    // kafka-streams-groups.sh shows them; 4.2's showed "-" there: KAFKA-20306).
    wait_for(
        "the application to commit its input and repartition topics",
        90,
        || {
            let g = describe(&bs, app)?;
            let rows = g["partitions"].as_array()?;
            let repartition = rows.iter().any(|r| {
                r["topic"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("-repartition"))
            });
            let all_committed = rows
                .iter()
                .all(|r| r["lag"] == 0 && !r["current_offset"].is_null());
            (rows.len() == 4 && repartition && all_committed).then_some(())
        },
    );

    // --describe --verbose: TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET OFFSET-LAG.
    let ours = || {
        describe(&bs, app).expect("describe")["partitions"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                vec![
                    text_of(&r["topic"]),
                    text_of(&r["partition"]),
                    text_of(&r["current_offset"]),
                    text_of(&r["log_end_offset"]),
                    text_of(&r["lag"]),
                ]
            })
            .collect::<Vec<_>>()
    };
    let theirs = || {
        let text = tool_text(
            c,
            STREAMS_COMMAND,
            &[
                "--bootstrap-server",
                &bs,
                "--describe",
                "--group",
                app,
                "--verbose",
            ],
        );
        let mut rows: Vec<Vec<String>> = tool_table(&text, app)
            .into_iter()
            .map(|r| {
                vec![
                    r["TOPIC"].clone(),
                    r["PARTITION"].clone(),
                    r["CURRENT-OFFSET"].clone(),
                    r["LOG-END-OFFSET"].clone(),
                    r["OFFSET-LAG"].clone(),
                ]
            })
            .collect();
        rows.sort_by_key(|r| (r[0].clone(), r[1].parse::<i32>().unwrap_or(-1)));
        (text, rows)
    };
    assert_settles_equal("streams rows", ours, theirs);

    // --members --verbose and --state --verbose.
    let g = describe(&bs, app).expect("describe");
    let text = tool_text(
        c,
        STREAMS_COMMAND,
        &[
            "--bootstrap-server",
            &bs,
            "--describe",
            "--group",
            app,
            "--members",
            "--verbose",
        ],
    );
    let row = tool_table(&text, app)
        .pop()
        .unwrap_or_else(|| panic!("{text}"));
    let m = &g["members"][0];
    assert_eq!(row["MEMBER"], text_of(&m["consumer_id"]), "{text}");
    assert_eq!(row["MEMBER-PROTOCOL"], "streams");
    assert_eq!(row["MEMBER-EPOCH"], text_of(&m["member_epoch"]), "{text}");
    assert_eq!(row["PROCESS"], text_of(&m["process_id"]), "{text}");
    assert_eq!(row["CLIENT-ID"], text_of(&m["client_id"]), "{text}");
    assert_eq!(
        row["TARGET-ASSIGNMENT-EPOCH"],
        text_of(&g["target_assignment_epoch"])
    );
    assert_eq!(row["TOPOLOGY-EPOCH"], text_of(&g["topology_epoch"]));
    let active: Vec<String> = m["tasks"]["active"]
        .as_object()
        .expect("active tasks")
        .iter()
        .map(|(s, ps)| {
            let ps: Vec<String> = ps
                .as_array()
                .expect("partitions")
                .iter()
                .map(text_of)
                .collect();
            format!("{s}:[{}];", ps.join(","))
        })
        .collect();
    assert!(
        row["ASSIGNMENTS"].starts_with(&format!("ACTIVE: {}", active.join(" "))),
        "{text}\n{m}"
    );
    let text = tool_text(
        c,
        STREAMS_COMMAND,
        &[
            "--bootstrap-server",
            &bs,
            "--describe",
            "--group",
            app,
            "--state",
            "--verbose",
        ],
    );
    let row = tool_table(&text, app)
        .pop()
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        coordinator_id(&row["COORDINATOR"]),
        text_of(&g["coordinator"]),
        "{text}"
    );
    assert_eq!(row["STATE"], "Stable");
    assert_eq!(row["GROUP-EPOCH"], text_of(&g["group_epoch"]), "{text}");
    assert_eq!(row["#MEMBERS"], "1");

    let listed = kafsh_json(&bs, None, r#"list_groups(#{type: "streams"})"#);
    let ours = listed
        .as_array()
        .expect("array")
        .iter()
        .find(|l| l["group"] == app)
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(ours["protocol_type"], "streams");

    stop(streams);
    let g = wait_for("the application to leave", 60, || {
        let g = describe(&bs, app)?;
        (g["state"] == "Empty").then_some(g)
    });
    assert_eq!(
        g["note"],
        format!("Streams group '{app}' has no active members.")
    );
    let deleted = kafsh_json(&bs, None, &format!(r#"delete_group("{app}")"#));
    assert_eq!(deleted["type"], "Streams");
    let out = kafsh_eval(&bs, None, &format!(r#"describe_group("{app}")"#));
    assert_eq!(out.status.code(), Some(1));
}

/// `lag()` on a cluster whose broker coordinating one group is frozen (SIGSTOP; a long
/// broker session keeps it from being fenced, so its groups stay with it): every other group
/// is complete, the frozen broker's groups are reported, not lost, and the cron check says so
/// and fails only when asked to. On its own cluster, since it breaks it.
pub fn lag_survives_a_stuck_coordinator() {
    let mut c =
        Cluster::start(ClusterSpec::kraft().broker_config("broker.session.timeout.ms", "300000"))
            .expect("start cluster");
    let bs = c.bootstrap_servers();
    // The topic lives on broker 1 only, so log-end offsets never need the frozen broker.
    kafsh_json(
        &bs,
        None,
        r#"create_topic("stuck-t", #{assignment: [[1], [1]]})"#,
    );
    produce(&c, "stuck-t", 20);
    let names: Vec<String> = (0..12).map(|i| format!("stuck-g{i}")).collect();
    for g in &names {
        kafsh_json(
            &bs,
            None,
            &format!(
                r#"reset_offsets("{g}", #{{topic: "stuck-t", to: "earliest", execute: true}})"#
            ),
        );
    }
    let before = kafsh_json(&bs, None, "lag()");
    let coordinator_of = |g: &str| {
        before
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["group"] == g)
            .and_then(|r| r["coordinator"].as_i64())
            .unwrap_or_else(|| panic!("{g} not in {before}"))
    };
    // Freeze a broker other than the first bootstrap server (kafsh's first contact).
    let broken = names
        .iter()
        .find(|g| coordinator_of(g) != 1)
        .expect("some group coordinated by broker 2 or 3")
        .clone();
    let frozen = coordinator_of(&broken);
    let healthy: Vec<&String> = names
        .iter()
        .filter(|g| coordinator_of(g) != frozen)
        .collect();
    let lost: Vec<&String> = names
        .iter()
        .filter(|g| coordinator_of(g) == frozen)
        .collect();
    assert!(!healthy.is_empty(), "{before}");
    c.pause(Node::Broker(frozen as i32)).expect("pause");

    let run = |args: &[&str]| {
        let state = tempfile::tempdir().expect("tmp");
        let started = Instant::now();
        let out = kafsh(&state)
            .args(["--call-timeout", "6s", "--bootstrap-server", &bs])
            .args(args)
            .output()
            .expect("run kafsh");
        (out, started.elapsed())
    };
    let check_rows = |rows: &Value| {
        for g in &healthy {
            let row = rows
                .as_array()
                .expect("rows")
                .iter()
                .find(|r| r["group"] == g.as_str())
                .unwrap_or_else(|| panic!("{g} missing: {rows}"));
            assert!(row.get("error").is_none(), "{row}");
            assert_eq!(row["total_lag"], 20, "{row}");
            assert_eq!(row["state"], "Empty");
        }
    };

    // Every group: the frozen broker's groups cannot even be listed; a row says so.
    let (out, took) = run(&["--json", "-e", "lag()"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    let rows: Value = serde_json::from_slice(&out.stdout).expect("json");
    check_rows(&rows);
    let broker_row = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["group"] == "")
        .unwrap_or_else(|| panic!("no row for broker {frozen}: {rows}"));
    assert_eq!(broker_row["coordinator"], frozen);
    assert!(
        broker_row["error"]
            .as_str()
            .is_some_and(|e| e.contains(&format!("broker {frozen}"))),
        "{broker_row}"
    );

    // Named groups: each of the frozen broker's groups is a row with its error.
    let all: Vec<String> = names.iter().map(|g| format!("\"{g}\"")).collect();
    let (out, took) = run(&[
        "--json",
        "-e",
        &format!("lag(#{{groups: [{}]}})", all.join(",")),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    let rows: Value = serde_json::from_slice(&out.stdout).expect("json");
    check_rows(&rows);
    for g in &lost {
        let row = rows
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["group"] == g.as_str())
            .unwrap_or_else(|| panic!("{g} missing: {rows}"));
        assert!(
            row["error"]
                .as_str()
                .is_some_and(|e| e.contains(&format!("broker {frozen}"))),
            "{row}"
        );
    }
    assert_eq!(rows.as_array().map(Vec::len), Some(names.len()));

    // The cron check reports the frozen broker's groups and fails only when asked to.
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/lag_check.rhai");
    let (out, _) = run(&["run", script, "--arg", "max_lag=100"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("cannot read") && err.contains(&format!("broker {frozen}")),
        "{err}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ERROR") && stdout.contains(healthy[0].as_str()),
        "{stdout}"
    );
    let (out, _) = run(&[
        "run",
        script,
        "--arg",
        "max_lag=100",
        "--arg",
        "fail_on_error=true",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("could not be read"), "{err}");

    // describe_group of a frozen broker's group fails, fast, naming the broker.
    let (out, took) = run(&["-e", &format!(r#"describe_group("{broken}")"#)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains(&format!("broker {frozen}")), "{err}");
    assert!(took < Duration::from_secs(15), "{took:?}");
    c.resume(Node::Broker(frozen as i32)).expect("resume");
}
