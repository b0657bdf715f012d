//! KRaft with separate controller nodes and a dynamic quorum (KIP-853): three controllers
//! formatted with `--initial-controllers` and two brokers; a fourth controller added
//! (formatted with `--no-initial-controllers`) that Kafka's own MetadataQuorumCommand shows
//! as an observer; controllers paused, resumed, killed and restarted.

use std::process::Command;
use std::time::{Duration, Instant};

use kafsh_sandbox::{Cluster, ClusterSpec, Error, NewNode, Node, Quorum};
use serde_json::Value;

/// What `kafka-metadata-quorum.sh describe --status` says.
struct QuorumStatus {
    leader: i32,
    /// `(id, directory id)` of each voter, by id.
    voters: Vec<(i32, String)>,
    observers: Vec<i32>,
}

/// `describe --status` through the brokers, or with `via_controllers` through the
/// controllers (`--bootstrap-controller`: while one of those is paused, the tool may wait on
/// it).
fn describe_status_via(c: &Cluster, via_controllers: bool) -> Result<QuorumStatus, String> {
    let (flag, servers) = if via_controllers {
        (
            "--bootstrap-controller",
            c.bootstrap_controllers().expect("controllers"),
        )
    } else {
        ("--bootstrap-server", c.bootstrap_servers())
    };
    let out = c
        .kafka_tool(
            "org.apache.kafka.tools.MetadataQuorumCommand",
            &[flag, &servers, "describe", "--status"],
        )
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "describe --status failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .ok_or_else(|| format!("no {name} in {text}"))
    };
    let nodes = |name: &str| -> Result<Vec<Value>, String> {
        let v: Value = serde_json::from_str(field(name)?).map_err(|e| format!("{e}: {text}"))?;
        Ok(v.as_array().cloned().unwrap_or_default())
    };
    let id = |n: &Value| n["id"].as_i64().expect("id") as i32;
    let mut voters: Vec<(i32, String)> = nodes("CurrentVoters:")?
        .iter()
        .map(|n| (id(n), n["directoryId"].as_str().unwrap_or("").to_string()))
        .collect();
    voters.sort();
    let mut observers: Vec<i32> = nodes("CurrentObservers:")?.iter().map(id).collect();
    observers.sort();
    Ok(QuorumStatus {
        leader: field("LeaderId:")?.parse().map_err(|_| text.clone())?,
        voters,
        observers,
    })
}

fn describe_status(c: &Cluster) -> Result<QuorumStatus, String> {
    describe_status_via(c, false)
}

/// Polls `describe --status` until `ok` holds.
fn wait_for(c: &Cluster, what: &str, ok: impl Fn(&QuorumStatus) -> bool) -> QuorumStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let last = describe_status(c);
        match &last {
            Ok(s) if ok(s) => return last.unwrap(),
            _ if Instant::now() >= deadline => panic!(
                "{what}: last seen {:?}",
                last.map(|s| (s.leader, s.voters, s.observers))
            ),
            _ => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

#[test]
fn separate_controllers_with_a_dynamic_quorum() {
    let t0 = Instant::now();
    let spec = ClusterSpec::kraft()
        .controllers(3)
        .brokers(2)
        .dynamic_quorum();
    let mut c = Cluster::start(spec).unwrap();
    eprintln!(
        "3 controllers + 2 brokers (dynamic quorum) started in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(c.quorum(), Quorum::Dynamic);
    let controllers = c.controllers();
    let ids: Vec<i32> = controllers.iter().map(|n| n.id).collect();
    assert_eq!(ids, vec![101, 102, 103]);
    assert!(controllers
        .iter()
        .all(|n| n.running && n.initial_voter && n.directory_id.is_some()));
    assert!(c.brokers().iter().all(|b| b.controller_port.is_none()));
    assert_eq!(c.metadata().unwrap().broker_ids(), vec![1, 2]);
    let props =
        std::fs::read_to_string(c.node_dir(Node::Controller(101)).join("server.properties"))
            .unwrap();
    assert!(props.contains("process.roles=controller\n"), "{props}");
    assert!(
        props.contains("controller.quorum.bootstrap.servers="),
        "{props}"
    );
    assert!(!props.contains("controller.quorum.voters"), "{props}");

    // The three voters, with the directory ids they were formatted with.
    let t = Instant::now();
    let status = describe_status_via(&c, true).unwrap();
    eprintln!("describe --status took {:.1}s", t.elapsed().as_secs_f64());
    let formatted: Vec<(i32, String)> = controllers
        .iter()
        .map(|n| (n.id, n.directory_id.clone().unwrap()))
        .collect();
    assert_eq!(status.voters, formatted);
    assert!(ids.contains(&status.leader));

    // A fourth controller: formatted, stopped, not a voter; started, it observes.
    let t = Instant::now();
    let added = c.add(NewNode::Controller).unwrap();
    assert_eq!(added, Node::Controller(104));
    let fourth = c.controller(104).unwrap();
    assert!(!fourth.running && !fourth.initial_voter);
    let directory = fourth.directory_id.clone().expect("formatted");
    assert!(!formatted.iter().any(|(_, d)| *d == directory));

    // Its inventory commands, from `kafsh-sandbox context`; format refuses a running node.
    let dir = c.dir().display().to_string();
    let bin = env!("CARGO_BIN_EXE_kafsh-sandbox");
    let context = Command::new(bin)
        .args(["context", "k", "--dir", &dir])
        .output()
        .unwrap();
    let context = String::from_utf8_lossy(&context.stdout).into_owned();
    assert_eq!(context.matches("[[contexts.k.controllers]]").count(), 4);
    let format = format!("{bin} format controller 104 --no-initial-controllers --dir {dir}");
    assert!(
        context.contains(&format!("format = \"{format}\"")),
        "{context}"
    );
    assert!(
        context.contains(&format!(
            "start = \"{bin} start controller 104 --dir {dir}\""
        )),
        "{context}"
    );

    c.start_node(added).unwrap();
    let status = wait_for(&c, "controller 104 observes", |s| {
        s.observers.contains(&104) && s.voters.len() == 3
    });
    eprintln!(
        "controller 104 added and observing in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    assert!(!status.voters.iter().any(|(id, _)| *id == 104));
    let refused = Command::new(bin)
        .args(["format", "controller", "104", "--dir", &dir])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("controller 104 is running"),
        "{refused:?}"
    );
    assert!(matches!(
        c.format(added, kafsh_sandbox::Format::AsMade),
        Err(Error::Running(Node::Controller(104)))
    ));

    // Pause a follower voter: the quorum goes on; resume it.
    let t = Instant::now();
    let follower = *ids.iter().find(|&&id| id != status.leader).unwrap();
    c.pause(Node::Controller(follower)).unwrap();
    assert!(c.controller(follower).unwrap().paused);
    assert!(matches!(
        c.start_node(Node::Controller(follower)),
        Err(Error::Paused(_))
    ));
    describe_status(&c).unwrap();
    c.resume(Node::Controller(follower)).unwrap();
    assert!(!c.controller(follower).unwrap().paused);

    // Kill the leader: another voter leads; it comes back as a voter.
    c.kill(Node::Controller(status.leader)).unwrap();
    assert!(!c.controller(status.leader).unwrap().running);
    wait_for(&c, "a new leader", |s| s.leader != status.leader);
    c.start_node(Node::Controller(status.leader)).unwrap();

    // A graceful restart of the follower.
    c.restart(Node::Controller(follower)).unwrap();
    let end = wait_for(&c, "three voters, 104 observing", |s| {
        s.voters.len() == 3 && s.observers.contains(&104)
    });
    assert_eq!(end.voters, formatted);
    eprintln!(
        "pause, resume, kill, start, restart of controllers took {:.1}s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(c.metadata().unwrap().broker_ids(), vec![1, 2]);
    assert!(matches!(
        c.kill(Node::Controller(7)),
        Err(Error::NoSuchNode(Node::Controller(7)))
    ));
}
