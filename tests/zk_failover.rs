//! `zk_status` on a real 3-server ZooKeeper ensemble whose leader the test kills: the new
//! leader is reported, and the dead server is reported as down within the timeout.

mod common;

use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec};
use std::time::{Duration, Instant};

#[test]
fn zk_status_follows_a_leader_change_and_reports_the_dead_server_as_down() {
    let mut c = Cluster::start(ClusterSpec::zk_only(3)).expect("start the ensemble");
    let zk = c.zk_connect().expect("connect string");
    let status = kafsh_json("127.0.0.1:1", Some(&zk), "zk_status()");
    let leader = status
        .as_array()
        .expect("array")
        .iter()
        .find(|s| s["mode"] == "leader")
        .expect("a leader")["server"]
        .as_str()
        .expect("server")
        .to_string();
    let leader_port: u16 = leader
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let leader_node = c
        .zk_servers()
        .into_iter()
        .find(|z| z.client_port == leader_port)
        .expect("node");
    c.kill_zk(leader_node.id).expect("kill the leader");

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let started = Instant::now();
        let status = kafsh_json("127.0.0.1:1", Some(&zk), "zk_status()");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "zk_status must not hang on a dead server"
        );
        let servers = status.as_array().expect("array");
        let dead = servers
            .iter()
            .find(|s| s["server"] == leader.as_str())
            .expect("dead server listed");
        assert_eq!(dead["mode"], "down", "{dead}");
        let leaders: Vec<&serde_json::Value> =
            servers.iter().filter(|s| s["mode"] == "leader").collect();
        if leaders.len() == 1 {
            assert_ne!(leaders[0]["server"], leader.as_str());
            assert_eq!(leaders[0]["followers"], 1, "{}", leaders[0]);
            break;
        }
        assert!(Instant::now() < deadline, "no new leader elected: {status}");
        std::thread::sleep(Duration::from_millis(500));
    }
}
