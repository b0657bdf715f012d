//! `zk_status` on a real 3-server ZooKeeper ensemble whose leader the test kills: the new
//! leader is reported, and the dead server is reported as down within the timeout.

mod common;

use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec, Node};
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
    c.kill(Node::Zk(leader_node.id)).expect("kill the leader");

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

#[test]
fn refused_four_letter_words_and_digest_acls_are_reported_clearly() {
    let mut c = Cluster::start(ClusterSpec::zk_only(1)).expect("standalone ZooKeeper");
    let zk = c.zk_connect().expect("connect string");

    // A znode only user "ops" may read (digest ACL), created by a real client.
    let hosts = zk.split('/').next().unwrap_or_default().to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let client = zookeeper_client::Client::connector()
            .with_auth("digest", b"ops:s3cret")
            .connect(&hosts)
            .await
            .expect("connect");
        let opts = zookeeper_client::CreateMode::Persistent
            .with_acls(zookeeper_client::Acls::creator_all());
        client
            .create("/secured", b"for ops only", &opts)
            .await
            .expect("create");
    });
    let out = kafsh_eval("127.0.0.1:1", Some(&hosts), r#"zk_get("/secured")"#);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("znode \"/secured\" is protected by an ACL") && err.contains("zookeeper_auth"),
        "{err}"
    );
    let state = tempfile::tempdir().expect("tmp");
    let out = kafsh(&state)
        .env("KAFSH_ZOOKEEPER_AUTH", "ops:s3cret")
        .args([
            "--json",
            "--zookeeper",
            &hosts,
            "-e",
            r#"zk_get("/secured").data"#,
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "\"for ops only\""
    );

    // Four-letter words not whitelisted: reported as refused, with the fix.
    let node = c.zk_servers()[0].clone();
    c.stop(Node::Zk(node.id)).expect("stop");
    let cfg = node.dir.join("zoo.cfg");
    let text = std::fs::read_to_string(&cfg).expect("zoo.cfg");
    std::fs::write(
        &cfg,
        text.replace("4lw.commands.whitelist=*", "4lw.commands.whitelist=ruok"),
    )
    .expect("write");
    c.start_node_no_wait(Node::Zk(node.id)).expect("start");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = kafsh_json("127.0.0.1:1", Some(&hosts), "zk_status()");
        let s = &status[0];
        // ZooKeeper always answers srvr (zkServer.sh needs it); mntr is refused.
        let error = s["error"].as_str().unwrap_or("");
        if s["mode"] == "standalone" && error.contains("refuses the four-letter word \"mntr\"") {
            assert!(
                error.contains("4lw.commands.whitelist=srvr,mntr,ruok"),
                "{error}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "never refused: {status}");
        std::thread::sleep(Duration::from_millis(300));
    }
    c.kill(Node::Zk(node.id)).expect("cleanup");
}
