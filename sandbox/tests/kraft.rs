//! End-to-end test of the KRaft flavor: three combined Kafka 4.4 nodes, a replicated topic, a
//! broker-only node added, a node restarted, everything torn down.

use std::time::Instant;

use kafsh_sandbox::{Cluster, ClusterSpec, Flavor, NewNode, Node};

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

#[test]
fn kraft_cluster_end_to_end() {
    let t0 = Instant::now();
    let mut c = Cluster::start(ClusterSpec::kraft()).unwrap();
    eprintln!(
        "kraft flavor (3 combined nodes) started in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(c.flavor(), Flavor::KRaft);
    assert_eq!(c.zk_connect(), None);
    assert!(c.zk_servers().is_empty());
    let nodes = c.brokers();
    assert_eq!(nodes.len(), 3);
    assert!(nodes
        .iter()
        .all(|b| b.running && b.controller_port.is_some()));
    let bootstrap = c.bootstrap_servers();
    let md = c.metadata().unwrap();
    assert_eq!(md.broker_ids(), vec![1, 2, 3]);
    assert_eq!(md.cluster_id, c.cluster_id());

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
            "2",
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

    // A broker-only node joins.
    let t = Instant::now();
    let node = c
        .add(NewNode::Broker {
            rack: Some("rack-x".into()),
        })
        .unwrap();
    c.start_node(node).unwrap();
    let id = node.id();
    eprintln!(
        "broker-only node {id} added in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(id, 4);
    let b4 = c.broker(4).unwrap();
    assert!(b4.running && b4.controller_port.is_none());
    assert_eq!(c.metadata().unwrap().broker_ids(), vec![1, 2, 3, 4]);
    let versions = ok(c
        .kafka_tool(
            "org.apache.kafka.tools.BrokerApiVersionsCommand",
            &["--bootstrap-server", &bootstrap],
        )
        .unwrap());
    assert!(
        versions.contains("(id: 4 rack: rack-x"),
        "{}",
        &versions[..versions.len().min(2000)]
    );
    let quorum = ok(c
        .kafka_tool(
            "org.apache.kafka.tools.MetadataQuorumCommand",
            &["--bootstrap-server", &bootstrap, "describe", "--status"],
        )
        .unwrap());
    eprintln!("{quorum}");
    assert!(quorum.contains("CurrentVoters"), "{quorum}");

    // Kill a combined node and bring it back.
    let t = Instant::now();
    c.kill(Node::Broker(1)).unwrap();
    assert!(!c.broker(1).unwrap().running);
    c.start_node(Node::Broker(1)).unwrap();
    eprintln!(
        "node 1 restarted after SIGKILL in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    c.restart(Node::Broker(2)).unwrap();
    eprintln!(
        "node 2 graceful restart took {:.1}s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(c.broker_metadata(1).unwrap().broker_ids(), vec![1, 2, 3, 4]);

    let dir = c.dir().to_path_buf();
    let pids: Vec<u32> = c.brokers().iter().filter_map(|b| b.pid).collect();
    assert_eq!(pids.len(), 4);
    drop(c);
    assert!(!dir.exists());
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(stat.is_empty() || stat.contains(") Z"), "{pid} survives");
    }
}
