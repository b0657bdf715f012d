//! End-to-end test of the ZooKeeper flavor: a real 3-server ZooKeeper 3.8 ensemble with three
//! ZooKeeper-mode Kafka 3.9 brokers, driven through the library and the `kafsh-sandbox` binary.

use std::process::Command;
use std::time::{Duration, Instant};

use kafsh_sandbox::{Cluster, ClusterSpec, Flavor, Node};

const TOPIC_COMMAND: &str = "org.apache.kafka.tools.TopicCommand";

fn ok(out: std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "tool failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn bin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kafsh-sandbox"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn zookeeper_cluster_end_to_end() {
    let t0 = Instant::now();
    let mut c = Cluster::start(ClusterSpec::zookeeper()).unwrap();
    eprintln!(
        "zookeeper flavor (3 zk + 3 brokers) started in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(c.flavor(), Flavor::ZooKeeper);
    let bootstrap = c.bootstrap_servers();
    let zk = c.zk_connect().unwrap();
    assert_eq!(bootstrap.split(',').count(), 3);
    assert!(zk.ends_with("/kafka"), "{zk}");
    assert_eq!(zk.trim_end_matches("/kafka").split(',').count(), 3);
    assert!(c.zk_servers().iter().all(|z| z.running && z.pid.is_some()));
    assert_eq!(c.metadata().unwrap().broker_ids(), vec![1, 2, 3]);

    // The brokers registered under the chroot, which Kafka created.
    let ids = ok(c.zk_cli(&["ls", "/kafka/brokers/ids"]).unwrap());
    assert!(ids.contains("[1, 2, 3]"), "{ids}");

    // A topic with replication factor 3.
    let t = Instant::now();
    ok(c.kafka_tool(
        TOPIC_COMMAND,
        &[
            "--bootstrap-server",
            &bootstrap,
            "--create",
            "--topic",
            "rf3",
            "--partitions",
            "3",
            "--replication-factor",
            "3",
        ],
    )
    .unwrap());
    let describe = ok(c
        .kafka_tool(
            TOPIC_COMMAND,
            &[
                "--bootstrap-server",
                &bootstrap,
                "--describe",
                "--topic",
                "rf3",
            ],
        )
        .unwrap());
    eprintln!(
        "create + describe took {:.1}s:\n{describe}",
        t.elapsed().as_secs_f64()
    );
    assert!(describe.contains("ReplicationFactor: 3"), "{describe}");
    assert_eq!(describe.matches("Partition: ").count(), 3, "{describe}");

    // Kill a broker and bring it back (its old ZooKeeper session must expire first).
    c.kill(Node::Broker(2)).unwrap();
    let b2 = c.brokers().into_iter().find(|b| b.id == 2).unwrap();
    assert!(!b2.running && b2.pid.is_none());
    let t = Instant::now();
    c.start_node(Node::Broker(2)).unwrap();
    eprintln!(
        "broker 2 restarted after SIGKILL in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(c.broker_metadata(2).unwrap().broker_ids(), vec![1, 2, 3]);

    // A graceful restart through another process: the binary, on the state file.
    let dir = c.dir().to_str().unwrap().to_string();
    let t = Instant::now();
    let out = bin(&["restart", "broker", "3", "--dir", &dir]);
    assert!(out.status.success(), "{out:?}");
    eprintln!(
        "broker 3 graceful restart via the binary took {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let b3 = c.brokers().into_iter().find(|b| b.id == 3).unwrap();
    assert!(b3.running);
    let status = String::from_utf8_lossy(&bin(&["status", "--dir", &dir]).stdout).into_owned();
    assert!(status.contains("broker 3"), "{status}");
    let env = String::from_utf8_lossy(&bin(&["env", "--dir", &dir]).stdout).into_owned();
    assert!(
        env.contains(&format!("KAFSH_BOOTSTRAP={bootstrap}")),
        "{env}"
    );
    assert!(env.contains(&format!("KAFSH_ZOOKEEPER={zk}")), "{env}");

    // Kill the ZooKeeper leader; another server takes over.
    let leader = c.wait_zk_leader(Duration::from_secs(10)).unwrap();
    let t = Instant::now();
    c.kill(Node::Zk(leader)).unwrap();
    let mut new_leader = 0;
    wait_until(
        "a new ZooKeeper leader",
        Duration::from_secs(60),
        || match c.zk_leader() {
            Some(l) if l != leader => {
                new_leader = l;
                true
            }
            _ => false,
        },
    );
    eprintln!(
        "zk leader {leader} killed; {new_leader} elected in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    c.start_node(Node::Zk(leader)).unwrap();
    assert_eq!(c.zk_mode(leader).as_deref(), Some("follower"));

    // The topic survived all that.
    let describe = ok(c
        .kafka_tool(
            TOPIC_COMMAND,
            &[
                "--bootstrap-server",
                &bootstrap,
                "--describe",
                "--topic",
                "rf3",
            ],
        )
        .unwrap());
    assert!(describe.contains("ReplicationFactor: 3"), "{describe}");

    // Teardown kills everything and removes the directory.
    let pids: Vec<u32> = c
        .zk_servers()
        .iter()
        .filter_map(|z| z.pid)
        .chain(c.brokers().iter().filter_map(|b| b.pid))
        .collect();
    assert_eq!(pids.len(), 6);
    let dir = c.dir().to_path_buf();
    c.teardown();
    assert!(!dir.exists());
    for pid in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists() || {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                stat.contains(") Z")
            }
        );
    }
}
