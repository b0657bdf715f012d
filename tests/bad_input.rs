//! The bad-input corpus: well over a hundred and fifty wrong calls across every registered
//! function and the command line (wrong types, out-of-range numbers, unknown options,
//! nonexistent topics, groups, brokers and znodes, malformed plans, properties and
//! config.toml, hostile znode paths, 100 kB strings, non-UTF-8 files, unicode names, empty
//! lists, changes out of proportion). Each case must end with its exit code and a message
//! naming the bad input, and leave the cluster as it was: topics, partitions, configs,
//! group offsets and the znode tree are compared before and after every case.

mod common;

use common::*;
use kafsh_sandbox::{Cluster, ClusterSpec};
use std::path::Path;

/// One wrong call: a kafsh expression (or a command line), the exit code it must end with,
/// and what its message must say.
struct Case {
    /// `-e` expression, or `None` for a command-line case.
    expr: Option<String>,
    /// Extra command-line arguments (before `-e`), for CLI cases.
    args: Vec<String>,
    /// Environment for CLI cases.
    env: Vec<(String, String)>,
    code: i32,
    says: String,
}

fn e(expr: impl Into<String>, code: i32, says: impl Into<String>) -> Case {
    Case {
        expr: Some(expr.into()),
        args: Vec::new(),
        env: Vec::new(),
        code,
        says: says.into(),
    }
}

fn cli(args: &[&str], code: i32, says: impl Into<String>) -> Case {
    Case {
        expr: None,
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        code,
        says: says.into(),
    }
}

/// Everything a wrong call could have changed, in one kafsh call: topics and their
/// replicas, the configs set on topics and brokers, every group's committed offsets, and
/// the znode tree with each node's data version.
fn snapshot(bs: &str, zk: &str) -> serde_json::Value {
    kafsh_json(
        bs,
        Some(zk),
        r#"
        let topics = [];
        for t in describe_topics(list_topics(#{internal: true})) {
            let replicas = [];
            for p in t.partitions { replicas.push(p.replicas); }
            topics.push(#{topic: t.topic, replicas: replicas,
                          configs: describe_config("topic", t.topic).map(|c| `${c.name}=${c.value}`)});
        }
        let brokers = [];
        for b in brokers() {
            brokers.push(describe_config("broker", b.id).map(|c| `${b.id}:${c.name}=${c.value}`));
        }
        let offsets = [];
        for g in lag() {
            for p in g.partitions { offsets.push(`${g.group} ${p.topic}-${p.partition}=${p.current_offset}`); }
        }
        let znodes = zk_tree("/", #{depth: 12})
            .filter(|z| !z.path.starts_with("/admin/delete_topics") && !z.path.contains("isr_change"))
            .map(|z| `${z.path} v${z.version} c${z.num_children}`);
        #{topics: topics, brokers: brokers, offsets: offsets, znodes: znodes,
          reassigning: list_reassignments().len()}
        "#,
    )
}

#[test]
fn one_hundred_and_fifty_bad_inputs_each_refused_clearly_and_changing_nothing() {
    let c = Cluster::start(ClusterSpec::zookeeper().brokers(2).zk_servers(1)).expect("cluster");
    let bs = c.bootstrap_servers();
    let zk = c.zk_connect().expect("zk");
    let files = tempfile::tempdir().expect("tmp");

    // Fixtures every case may aim at: a topic with a config, a group with offsets, znodes.
    kafsh_json(
        &bs,
        Some(&zk),
        r#"create_topic("bi-t", #{partitions: 2, replication_factor: 1, config: #{"retention.ms": 86400000}});
           zk_create("/bi/a", "one", #{parents: true}); zk_create("/bi/b", "two", #{})"#,
    );
    groups_suite::produce(&c, "bi-t", 20);
    groups_suite::consume(&c, "bi-t", "bi-g", 20);

    let binary = files.path().join("binary.bin");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0a]).expect("write");
    let binary = binary.display().to_string();
    let bad_json = files.path().join("plan.json");
    std::fs::write(&bad_json, r#"{"version":1,"partitions":[{"topic":"bi-t""#).expect("write");
    let bad_json = bad_json.display().to_string();
    let bad_script = files.path().join("bad.rhai");
    std::fs::write(&bad_script, [b'1', b'+', 0xff, 0xfe, b'\n']).expect("write");
    let bad_script = bad_script.display().to_string();
    let props_bad = files.path().join("client.properties");
    std::fs::write(
        &props_bad,
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n",
    )
    .expect("write");
    let props_jks = files.path().join("jks.properties");
    std::fs::write(
        &props_jks,
        "security.protocol=SSL\nssl.truststore.location=/etc/kafka/truststore.jks\n",
    )
    .expect("write");
    let props_protocol = files.path().join("protocol.properties");
    std::fs::write(&props_protocol, "security.protocol=PLAINTEXTT\n").expect("write");
    let props_binary = files.path().join("binary.properties");
    std::fs::write(&props_binary, [0xff, b'=', 0xfe, b'\n']).expect("write");
    let config_dir = files.path().join("configs");
    std::fs::create_dir_all(&config_dir).expect("mkdir");
    let config = |name: &str, text: &[u8]| -> String {
        let p = config_dir.join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    };
    let cfg_unknown_key = config(
        "unknown.toml",
        b"current_context = \"a\"\n[contexts.a]\nbootstrap = \"x:1\"\n",
    );
    let cfg_bad_timeout = config(
        "timeout.toml",
        b"current_context = \"a\"\n[contexts.a]\nbootstrap_servers = \"127.0.0.1:1\"\ntimeout = \"5 parsecs\"\n",
    );
    let cfg_no_context = config(
        "nocontext.toml",
        b"current_context = \"prod\"\n[contexts.a]\nbootstrap_servers = \"127.0.0.1:1\"\n",
    );
    let cfg_binary = config("binary.toml", &[0xff, 0xfe, b'=', b'\n']);
    let cfg_bad_guard = config(
        "guard.toml",
        b"current_context = \"a\"\n[contexts.a]\nbootstrap_servers = \"127.0.0.1:1\"\n[contexts.a.guard_rails]\nmax_new_partition = 5\n",
    );
    let cfg_type = config(
        "type.toml",
        b"current_context = \"a\"\n[contexts.a]\nbootstrap_servers = 9092\n",
    );
    let cfg_password_env = config(
        "password.toml",
        b"current_context = \"a\"\n[contexts.a]\nbootstrap_servers = \"127.0.0.1:1\"\npassword_env = \"KAFSH_NO_SUCH_VARIABLE\"\n",
    );
    let big = "x".repeat(100_000);
    let plan = |body: &str| format!(r#"parse_plan(`{body}`)"#);

    let mut cases: Vec<Case> = vec![
        // Wrong types: the expected signatures are named.
        e("describe_topic(42)", 1, "describe_topic: wrong arguments"),
        e("describe_topic([\"bi-t\"])", 1, "describe_topic: wrong arguments"),
        e("create_topic(\"x\", 5)", 1, "create_topic: wrong arguments"),
        e("add_partitions(\"bi-t\", \"3\")", 1, "add_partitions: wrong arguments"),
        e("delete_topic(#{})", 1, "delete_topic: wrong arguments"),
        e("describe_group(7)", 1, "describe_group: wrong arguments"),
        e("describe_config(\"topic\")", 1, "describe_config: wrong arguments"),
        e("set_config(\"bi-t\", \"retention.ms\")", 1, "set_config: wrong arguments"),
        e("zk_ls(1)", 1, "zk_ls: wrong arguments"),
        e("zk_get()", 1, "zk_get: wrong arguments"),
        e("reassign(\"plan.json\")", 1, "reassign: wrong arguments"),
        e("plan_json(\"x\")", 1, "plan_json: wrong arguments"),
        e("sleep(\"forever\")", 1, "sleep: \"forever\" is not a duration"),
        e("restart_zk(\"one\")", 1, "restart_zk: wrong arguments"),
        e("free_broker_ids(\"2\")", 1, "free_broker_ids: wrong arguments"),
        e("elect_leaders(\"bi-t\")", 1, "elect_leaders: wrong arguments"),
        e("lag(#{groups: 5})", 1, "option \"groups\" must be"),
        e("create_topic(\"bi-x\", #{partitions: \"3\"})", 1, "option \"partitions\" must be an integer"),
        e("create_topic(\"bi-x\", #{config: [1]})", 1, "option \"config\" must be a map"),
        e("create_topic(\"bi-x\", #{config: #{\"retention.ms\": [1]}})", 1, "config.retention.ms"),
        e("create_topic(\"bi-x\", #{assignment: [1, 2]})", 1, "option \"assignment\" must be a list of replica lists"),
        e("alter_config(\"topic\", \"bi-t\", #{set: \"retention.ms=1\"})", 1, "option \"set\" must be a map"),
        e("alter_config(\"topic\", \"bi-t\", #{delete: [1]})", 1, "option \"delete\" must be a list of strings"),
        e("list_topics(#{internal: \"yes\"})", 1, "option \"internal\" must be a bool"),
        e("zk_tree(\"/bi\", #{depth: \"2\"})", 1, "option \"depth\" must be an integer"),
        e("sh(\"true\", #{timeout: []})", 1, "option \"timeout\" must be a duration"),
        e("wait_until(|| true, #{interval: true})", 1, "option \"interval\" must be a duration"),
        e("zk_set(\"/bi/a\", || 1, #{})", 1, "zk_set: data must be"),
        e("zoo_cfg([1, 2])", 1, "zoo_cfg: server 0 must be a map"),
        e("zoo_cfg([#{id: \"1\", host: \"zk1\"}])", 1, "zoo_cfg: server 0: id must be an integer"),
        // Out-of-range numbers.
        e("add_partitions(\"bi-t\", -1)", 1, "would not increase it"),
        e("add_partitions(\"bi-t\", 0)", 1, "would not increase it"),
        e("add_partitions(\"bi-t\", 2)", 1, "has 2 partitions"),
        e("add_partitions(\"bi-t\", 99999999999)", 1, "99999999999 partitions is too many"),
        e("create_topic(\"bi-x\", #{partitions: 0})", 1, "partitions must be at least 1"),
        e("create_topic(\"bi-x\", #{partitions: -7})", 1, "partitions must be at least 1"),
        e("create_topic(\"bi-x\", #{partitions: 1, replication_factor: 0})", 1, "replication factor"),
        e("create_topic(\"bi-x\", #{partitions: 1, replication_factor: -1})", 1, "replication factor"),
        e("create_topic(\"bi-x\", #{partitions: 1, replication_factor: 3})", 1, "replication factor 3 is larger than"),
        e("create_topic(\"bi-x\", #{assignment: [[1, 1]]})", 1, "names broker 1"),
        e("create_topic(\"bi-x\", #{assignment: [[99]]})", 1, "99"),
        e("create_topic(\"bi-x\", #{assignment: [[1], [1, 2]]})", 1, "partition 1 has 2 replicas, partition 0 has 1"),
        e("create_topic(\"bi-x\", #{assignment: [[]]})", 1, "assignment of partition 0 is empty"),
        e("sleep(-1)", 1, "cannot sleep -1 seconds"),
        e("sleep(-0.5)", 1, "cannot sleep -0.5 seconds"),
        e("zk_tree(\"/bi\", #{depth: -1})", 1, "option \"depth\" must be 0 or more, not -1"),
        e("wait_until(|| true, #{timeout: \"0s\"})", 1, "option \"timeout\" must be a positive duration"),
        e("wait_until(|| true, #{interval: -3})", 1, "option \"interval\" must be a positive duration"),
        e("sh(\"true\", #{timeout: 0})", 1, "option \"timeout\" must be a positive duration"),
        e("elect_leaders(#{timeout: \"0s\"})", 1, "option \"timeout\" must be a positive duration"),
        e("wait_reassignment(assignment([\"bi-t\"]), #{timeout: \"-5m\"})", 1, "timeout"),
        e("free_broker_ids(-3)", 1, "asked for -3 ids"),
        e("plan_replication_factor(\"bi-t\", 0)", 1, "replication factor"),
        e("plan_replication_factor(\"bi-t\", 5)", 1, "5"),
        e("zoo_cfg([#{id: 0, host: \"zk1\"}])", 1, "server id 0 must be between 1 and 255"),
        e("zoo_cfg([#{id: 300, host: \"zk1\"}])", 1, "server id 300 must be between 1 and 255"),
        e("zoo_cfg([#{id: 1, host: \"zk1\", peer_port: 2888, election_port: 2888}])", 1, "both 2888"),
        e("zoo_cfg([#{id: 1, host: \"a\"}, #{id: 1, host: \"b\"}])", 1, "server id 1 appears twice"),
        e("describe_config(\"broker\", \"one\")", 1, "broker id must be a number, not \"one\""),
        e("reassign(assignment([\"bi-t\"]), #{throttle: 0})", 1, "throttle"),
        e("reassign(assignment([\"bi-t\"]), #{throttle: -100})", 1, "throttle"),
        // Unknown options: the known ones are listed.
        e("create_topic(\"bi-x\", #{partitons: 3})", 1, "unknown option \"partitons\" (known: partitions"),
        e("list_topics(#{internl: true})", 1, "unknown option \"internl\""),
        e("describe_config(\"topic\", \"bi-t\", #{every: true})", 1, "unknown option \"every\""),
        e("alter_config(\"topic\", \"bi-t\", #{add: #{}})", 1, "unknown option \"add\""),
        e("add_partitions(\"bi-t\", 4, #{forse: true})", 1, "unknown option \"forse\""),
        e("delete_topics(\"bi-.*\", #{yes: true})", 1, "unknown option \"yes\""),
        e("lag(#{group: \"bi-g\"})", 1, "unknown option \"group\""),
        e("reset_offsets(\"bi-g\", #{topc: \"bi-t\", to: \"earliest\"})", 1, "unknown option \"topc\""),
        e("log_dirs(#{broker: 1})", 1, "unknown option \"broker\""),
        e("plan_reassignment(#{broker: [1, 2]})", 1, "unknown option \"broker\""),
        e("reassign(assignment([\"bi-t\"]), #{throtle: 10000000})", 1, "unknown option \"throtle\""),
        e("wait_reassignment(assignment([\"bi-t\"]), #{timout: \"1m\"})", 1, "unknown option \"timout\""),
        e("elect_leaders(#{topic: [\"bi-t\"]})", 1, "unknown option \"topic\""),
        e("zk_tree(\"/bi\", #{deep: 3})", 1, "unknown option \"deep\""),
        e("zk_create(\"/bi/c\", \"x\", #{ephemral: true})", 1, "unknown option \"ephemral\""),
        e("zk_set(\"/bi/a\", \"x\", #{versoin: 1})", 1, "unknown option \"versoin\""),
        e("zk_delete(\"/bi/a\", #{recurse: true})", 1, "unknown option \"recurse\""),
        e("zk_healthy(#{server: [1]})", 1, "unknown option \"server\""),
        e("sh(\"true\", #{check: true, stdout: \"x\"})", 1, "unknown option \"stdout\""),
        e("wait_until(|| true, #{tries: 3})", 1, "unknown option \"tries\""),
        e("server_properties(#{brokerid: 4})", 1, "unknown option \"brokerid\""),
        e("zoo_cfg([#{id: 1, host: \"a\"}], #{bass: #{}})", 1, "unknown option \"bass\""),
        e("zoo_cfg([#{id: 1, host: \"a\", role: \"leader\"}])", 1, "role must be \"participant\" or \"observer\""),
        e("zoo_cfg([#{id: 1, host: \"a\", role: \"observer\"}])", 1, "at least one voting server"),
        e("zk_reconfig(#{ad: [4]})", 1, "unknown option \"ad\""),
        e("zk_reconfig(#{})", 1, "nothing to change"),
        e("zk_reconfig(#{add: [9]})", 1, "add[0]: ZooKeeper server 9 is not in the inventory"),
        e("zk_reconfig(#{add: [#{id: 0, host: \"zk0\"}]})", 1, "add[0]: 0 is not a server id"),
        e("zk_reconfig(#{add: [#{id: 4}]})", 1, "add[0]: no host"),
        e("zk_reconfig(#{add: [#{id: 4, host: \"zk4\", client_port: 70000}]})", 1, "client_port 70000 is not a port"),
        e("zk_reconfig(#{add: [\"server.x=zk4:2888:3888\"]})", 1, "names no server id"),
        e("zk_reconfig(#{add: [\"server.4=zk4:2888\"]})", 1, "needs a peer and an election port"),
        e("zk_reconfig(#{members: [\"server.4=zk4:2888:3888;2181\", \"server.4=zk5:2888:3888;2181\"]})", 1, "server 4 is given twice"),
        e("zk_reconfig(#{add: [\"server.4=zk4:2888:3888;2181\"], remove: [4]})", 1, "both added and removed"),
        e("zk_reconfig(#{remove: [-1]})", 1, "remove: -1 is not a server id"),
        e("zk_reconfig(#{remove: [1], from_config: \"zz\"})", 1, "from_config must be a config version"),
        // Many clusters and desired state.
        e("on(\"no-such-context\", || 1)", 1, "no context or tag \"no-such-context\""),
        e("on_each(42, || 1)", 1, "targets must be"),
        e("use_context(\"x\")", 1, "only the interactive shell switches context"),
        e("desired_plan(\"/nonexistent/desired.toml\")", 1, "cannot read /nonexistent/desired.toml"),
        e("desired_apply(#{changes: 3})", 1, "not a plan from desired_plan"),
        e("desired_apply(#{context: (), changes: [], refused: [], unmanaged_acls: []}, #{forse: true})", 1, "unknown option \"forse\""),
        e("desired_export(#{topics: \"(\"})", 1, "is not a regular expression"),
        e("desired_export(#{acl: true})", 1, "unknown option \"acl\""),
        // The KRaft control plane: refused before anything is sent.
        e("quorum_healthy(#{lag: 1})", 1, "unknown option \"lag\""),
        e("quorum_healthy(#{max_lag: \"x\"})", 1, "option \"max_lag\" must be an integer"),
        e("features(#{node: true})", 1, "unknown option \"node\""),
        e("add_controller(#{})", 1, "give #{properties: FILE}"),
        e("add_controller(#{node_id: 4, directory_id: \"nope\"})", 1, "\"nope\" is not a Kafka id"),
        e("add_controller(#{properties: \"/nonexistent.properties\"})", 1, "cannot read /nonexistent.properties"),
        e("remove_controller(-1, \"x\")", 1, "-1 is not a node id"),
        e("remove_controller(101, \"x\", #{forse: true})", 1, "unknown option \"forse\""),
        e("update_feature(\"metadata.version\", 99999)", 1, "level 99999 is not a feature level"),
        e("update_feature(\"x\", 1, #{upgrade_type: \"sideways\"})", 1, "upgrade_type \"sideways\""),
        e("unregister_broker(-3)", 1, "-3 is not a broker id"),
        e("describe_group(\"bi-g\", #{verbose: true})", 1, "describe_group"),
        // Nonexistent objects.
        e("describe_topic(\"bi-nope\")", 1, "topic \"bi-nope\" does not exist"),
        e("describe_topics([\"bi-t\", \"bi-nope\"])", 1, "bi-nope"),
        e("delete_topic(\"bi-nope\")", 1, "topic \"bi-nope\" does not exist"),
        e("delete_topics(\"bi-nope.*\")", 1, "no topic matches \"bi-nope.*\""),
        e("add_partitions(\"bi-nope\", 5)", 1, "bi-nope"),
        e("set_config(\"bi-nope\", \"retention.ms\", 1)", 1, "bi-nope"),
        e("delete_config(\"bi-nope\", \"retention.ms\")", 1, "bi-nope"),
        e("describe_config(\"topic\", \"bi-nope\")", 1, "bi-nope"),
        e("describe_config(\"broker\", 99)", 1, "broker 99"),
        e("alter_config(\"broker\", 99, #{set: #{\"log.cleaner.threads\": 2}})", 1, "broker 99"),
        e("describe_group(\"bi-nope\")", 1, "\"bi-nope\" does not exist"),
        e("delete_group(\"bi-nope\")", 1, "\"bi-nope\" does not exist"),
        e("reset_offsets(\"bi-g\", #{topic: \"bi-nope\", to: \"earliest\"})", 1, "bi-nope"),
        e("reset_offsets(\"bi-g\", #{topic: \"bi-t\", partitions: [7], to: \"earliest\"})", 1, "partition 7"),
        e("assignment([\"bi-nope\"])", 1, "bi-nope"),
        e("plan_replication_factor(\"bi-nope\", 2)", 1, "bi-nope"),
        e("plan_reassignment(#{topics: [\"bi-nope\"], brokers: [1, 2]})", 1, "bi-nope"),
        e("log_dirs(#{brokers: [99]})", 1, "99"),
        e("zk_get(\"/bi/nope\")", 1, "/bi/nope"),
        e("zk_ls(\"/bi/nope\")", 1, "/bi/nope"),
        e("zk_tree(\"/bi/nope\")", 1, "/bi/nope"),
        e("zk_set(\"/bi/nope\", \"x\", #{})", 1, "/bi/nope"),
        e("zk_delete(\"/bi/nope\")", 1, "/bi/nope"),
        e("zk_create(\"/bi/nope/child\", \"x\", #{})", 1, "/bi/nope"),
        e("zk_create(\"/bi/a\", \"x\", #{})", 1, "znode \"/bi/a\" already exists"),
        e("zk_delete(\"/bi\")", 5, "znode \"/bi\" has children"),
        e("zk_healthy(#{servers: [9]})", 1, "ZooKeeper server 9 is not in the inventory"),
        e("restart_zk(9)", 1, "ZooKeeper server 9 is not in the inventory"),
        e("restart_broker(9)", 1, "broker 9 is not in the inventory"),
        e("start_zk(9)", 1, "ZooKeeper server 9"),
        e("stop_zk(9)", 1, "ZooKeeper server 9"),
        e("read_file(\"/nonexistent/kafsh/file\")", 1, "/nonexistent/kafsh/file"),
        e("help(\"no_such_function\")", 1, "no function named \"no_such_function\""),
        e("describ_topic(\"bi-t\")", 1, "unknown function describ_topic; did you mean describe_topic?"),
        e("arg(\"missing\")", 2, "missing required argument \"missing\""),
        // Malformed plans.
        e(plan("{"), 1, "parse_plan"),
        e(plan("[]"), 1, "parse_plan"),
        e(plan("{\"version\": 2, \"partitions\": []}"), 1, "version"),
        e(plan("{\"version\": 1}"), 1, "partitions"),
        e(plan("{\"version\": 1, \"partitions\": [{\"topic\": \"bi-t\"}]}"), 1, "parse_plan"),
        e(plan("{\"version\": 1, \"partitions\": [{\"topic\": \"bi-t\", \"partition\": 0, \"replicas\": [\"1\"]}]}"), 1, "parse_plan"),
        e(plan("{\"version\": 1, \"partitions\": [{\"topic\": \"bi-t\", \"partition\": -1, \"replicas\": [1]}]}"), 1, "partition -1 is negative"),
        e(plan("{\"version\": 1, \"partitions\": [{\"topic\": \"bi-t\", \"partition\": 0, \"replicas\": [1, 1]}]}"), 1, "parse_plan"),
        e(plan("{\"version\": 1, \"partitions\": [{\"topic\": \"bi-t\", \"partition\": 0, \"replicas\": []}]}"), 1, "parse_plan"),
        e(format!("parse_plan(read_file({bad_json:?}))"), 1, "parse_plan"),
        e("reassign(#{version: 1, partitions: [#{topic: \"bi-t\", partition: 0, replicas: [99]}]})", 1, "99"),
        e("reassign(#{version: 1, partitions: [#{topic: \"bi-nope\", partition: 0, replicas: [1]}]})", 1, "bi-nope"),
        e("reassign(#{version: 1, partitions: [#{topic: \"bi-t\", partition: 9, replicas: [1]}]})", 1, "bi-t"),
        e("reassign(#{version: 1})", 1, "reassign"),
        e("reassign(#{version: 1, partitions: [1]})", 1, "reassign"),
        e("reassignment_status(#{version: 1, partitions: \"all\"})", 1, "reassignment_status"),
        e("cancel_reassignment(#{partitions: [#{topic: \"bi-t\"}]})", 1, "cancel_reassignment"),
        e("plan_reassignment(#{assignment: #{version: 1, partitions: 3}, brokers: [1]})", 1, "plan_reassignment"),
        e("plan_reassignment(#{topics: [\"bi-t\"], brokers: [1, 1]})", 1, "broker 1 is named twice"),
        // Hostile znode paths.
        e("zk_get(\"bi/a\")", 1, "bi/a"),
        e("zk_get(\"\")", 1, "zk_get"),
        e("zk_get(\"/bi//a\")", 1, "znode path \"/bi//a\" contains an empty name"),
        e("zk_get(\"/bi/a/\")", 1, "/bi/a/"),
        e("zk_get(\"/bi/../bi/a\")", 1, "contains the relative name \"..\""),
        e("zk_get(\"/bi/./a\")", 1, "contains the relative name \".\""),
        e("zk_ls(\"/bi\\u0000x\")", 1, "contains the character '\\0'"),
        e("zk_create(\"/bi/../etc\", \"x\", #{})", 1, "/bi/../etc"),
        e("zk_create(\"/brokers/ids/99\", \"x\", #{})", 5, "belongs to Kafka"),
        e("zk_set(\"/controller\", \"x\", #{})", 5, "belongs to Kafka"),
        e("zk_delete(\"/zookeeper/quota\")", 5, "belongs to Kafka or ZooKeeper"),
        e("zk_delete(\"/\", #{recursive: true})", 5, "belongs to Kafka or ZooKeeper"),
        e("zk_create(\"/bi/c\", \"x\", #{acl: \"world\"})", 1, "world"),
        // 100 kB strings.
        e(format!("describe_topic({big:?})"), 1, "is 100000 characters long"),
        e(format!("create_topic({big:?}, #{{partitions: 1}})"), 1, "is 100000 characters long"),
        e(format!("describe_group({big:?})"), 1, "describe_group"),
        e(format!("zk_get(\"/{big}\")"), 1, "zk_get"),
        e(format!("set_config(\"bi-t\", {big:?}, 1)"), 1, "(100000 characters) is not a config name"),
        e(format!("describe_topics([{big:?}])"), 1, "is 100000 characters long"),
        // Unicode and illegal names.
        e("create_topic(\"주문\", #{partitions: 1})", 1, "주문"),
        e("create_topic(\"bi topic\", #{partitions: 1})", 1, "contains ' '"),
        e("create_topic(\"..\", #{partitions: 1})", 1, "\"..\""),
        e("create_topic(\"\", #{partitions: 1})", 1, "create_topic"),
        e("describe_topic(\"tøpic\")", 1, "tøpic"),
        e("delete_topic(\"__consumer_offsets\")", 5, "internal"),
        e("describe_topics(\"(unclosed\")", 1, "bad topic pattern \"(unclosed\""),
        e("delete_topics(\"[\")", 1, "bad topic pattern \"[\""),
        // Empty lists and empty plans.
        e("plan_reassignment(#{topics: [\"bi-t\"], brokers: []})", 1, "give the target brokers"),
        e("zoo_cfg([])", 1, "zoo.cfg needs at least one server"),
        e("alter_config(\"topic\", \"bi-t\", #{})", 1, "nothing to change"),
        e("alter_config(\"topic\", \"bi-t\", #{set: #{}, delete: []})", 1, "nothing to change"),
        e("reset_offsets(\"bi-g\", #{to: \"earliest\"})", 1, "name the topic"),
        e("reassign(#{version: 1, partitions: []})", 1, "reassign"),
        // Values Kafka refuses, named.
        e("set_config(\"bi-t\", \"retention.ms\", \"abc\")", 1, "retention.ms"),
        e("set_config(\"bi-t\", \"no.such.config\", 1)", 1, "no.such.config"),
        e("delete_config(\"bi-t\", \"no.such\")", 1, "no.such"),
        e("delete_config(\"bi-t\", \"cleanup.policy\")", 1, "cleanup.policy"),
        e("alter_config(\"broker_default\", \"\", #{delete: [\"log.retention.ms\"]})", 1, "log.retention.ms"),
        e("alter_config(\"topic\", \"bi-t\", #{set: #{\"retention.ms\": 1}, delete: [\"retention.ms\"]})", 1, "both set and deleted"),
        e("alter_config(\"topics!\", \"bi-t\", #{set: #{\"retention.ms\": 1}})", 1, "unknown entity \"topics!\""),
        e("reset_offsets(\"bi-g\", #{topic: \"bi-t\", to: \"yesterday\"})", 1, "yesterday"),
        e("reset_offsets(\"bi-g\", #{topic: \"bi-t\", to: \"2026-13-45T00:00:00Z\"})", 1, "2026-13-45"),
        e("create_topic(\"bi-x\", #{partitions: 1, config: #{\"cleanup.policy\": \"shred\"}})", 1, "shred"),
        e("create_topic(\"bi-t\", #{partitions: 1})", 1, "topic \"bi-t\" already exists"),
        // Out of proportion: refused without force, the numbers named.
        e("add_partitions(\"bi-t\", 100000000)", 5, "99999998 new partitions"),
        e("create_topic(\"bi-huge\", #{partitions: 20000})", 5, "20000 new partitions"),
        e("create_topic(\"bi-wide\", #{partitions: 5000, replication_factor: 2})", 5, "5000 new partitions would more than double"),
        e("reassign(assignment([\"bi-t\"]), #{throttle: 1})", 5, "throttle 1 B/s is below"),
        e("reassign(assignment([\"bi-t\"]), #{throttle: 50000000000})", 5, "above"),
        // Access control, users, quotas, transactions (this cluster has no authorizer).
        e("list_acls()", 3, "no authorizer"),
        e("delete_acls(#{principal: \"User:bi\", topic: \"bi-t\"})", 3, "no authorizer"),
        e("can(\"bob\", \"fly\", #{topic: \"bi-t\"})", 1, "unknown operation \"fly\""),
        e("can(\"bob\", \"read\", #{topic: \"bi-t\", group: \"g\"})", 1, "name one resource"),
        e("who_can(\"read\", \"topic:\")", 1, "a topic resource needs a name"),
        e("create_acls([#{topic: \"bi-t\", operation: \"read\"}])", 1, "needs a principal"),
        e("create_acls([#{topic: \"bi-t\", principal: \"User:bi\", operation: \"read\", host: \"h.example\"}])", 1, "not an IP address"),
        e("delete_acls(#{topik: \"bi-t\"})", 1, "unknown filter key \"topik\""),
        e("allow_producer(\"User:bi\", \"bi-t\", #{pattern_type: \"match\"})", 1, "unknown pattern type \"match\""),
        e("set_password(\"bi-u\", #{password: \"hunter2\"})", 1, "never taken inline"),
        e("set_password(\"bi-u\", #{password_env: \"KAFSH_NO_SUCH_PW\"})", 1, "KAFSH_NO_SUCH_PW is not set"),
        e("set_password(\"bi-u\", #{password_env: \"HOME\", iterations: 100})", 1, "4096 to 16384"),
        e("delete_user(\"\")", 1, "not a SCRAM user name"),
        e("set_quota(#{usr: \"a\"}, #{producer_byte_rate: 1048576})", 1, "unknown entity key \"usr\""),
        e("set_quota(#{user: \"a\"}, #{producer_byte_rate: \"fast\"})", 1, "must be a number"),
        e("delete_quota(#{user: \"<default>\"}, \"producer_byte_rate\")", 5, "lifts the limit"),
        e("list_transactions(#{state: \"Sleeping\"})", 1, "unknown transaction state \"Sleeping\""),
        e("find_hanging(#{})", 1, "name a topic or a broker"),
        e("abort_transaction(\"bi-t\", -1, 5)", 1, "-1 is not a partition number"),
        e("describe_producers(\"bi-t\", 99999999999)", 1, "99999999999 is not a partition number"),
        e("delete_group_offsets(\"bi-g\", \"bi-t\", #{partition: [0]})", 1, "unknown option \"partition\""),
        // Script errors.
        e("let x = (1 + ;", 1, "syntax error"),
        e("fail(\"stopped on purpose\")", 1, "stopped on purpose"),
        e("[1, 2][5]", 1, "5"),
        e("#{}.missing.field", 1, "Unknown property 'field'"),
        e("parse_int(\"x\")", 1, "x"),
        // Files.
        e(format!("read_file({binary:?})"), 1, "valid UTF-8"),
        e(format!("parse_plan(read_file({binary:?}))"), 1, "valid UTF-8"),
        e("write_file(\"/nonexistent/dir/x.txt\", \"x\")", 1, "/nonexistent/dir"),
        // The command line.
        cli(&["--no-such-flag"], 2, "--no-such-flag"),
        cli(&["--call-timeout", "soon", "-e", "1"], 2, "soon"),
        cli(&["--call-timeout=-5s", "-e", "1"], 2, "-5s"),
        cli(&["--timeout", "1 parsec", "-e", "1"], 2, "1 parsec"),
        cli(&["--max-operations", "lots", "-e", "1"], 2, "lots"),
        cli(&["run"], 2, "FILE"),
        cli(&["run", "/nonexistent/runbook.rhai"], 2, "/nonexistent/runbook.rhai"),
        cli(&["run", &bad_script], 2, "valid UTF-8"),
        cli(&["check", "/nonexistent/check.rhai"], 2, "/nonexistent/check.rhai"),
        cli(&["run", "/dev/null", "--arg", "novalue"], 2, "novalue"),
        cli(&["run", "/dev/null", "--resume", "--fresh"], 2, "--fresh"),
        cli(&["--context", "nope", "-e", "1"], 2, "context \"nope\""),
        cli(&["--command-config", "/nonexistent/client.properties", "-e", "1"], 2, "/nonexistent/client.properties"),
        cli(&["--command-config", props_bad.to_str().expect("path"), "-e", "list_topics()"], 2, "GSSAPI"),
        cli(&["--command-config", props_jks.to_str().expect("path"), "-e", "list_topics()"], 2, "truststore.jks"),
        cli(&["--command-config", props_protocol.to_str().expect("path"), "-e", "list_topics()"], 2, "PLAINTEXTT"),
        cli(&["--command-config", props_binary.to_str().expect("path"), "-e", "1"], 2, "binary.properties"),
        cli(&["--zookeeper", "", "-e", "zk_ls(\"/\")"], 1, "names no server"),
        cli(&["docs", "--definitions", "/dev/null/x"], 2, "/dev/null/x"),
    ];
    for (name, path, code, says) in [
        ("unknown key", &cfg_unknown_key, 2, "bootstrap"),
        ("bad timeout", &cfg_bad_timeout, 2, "5 parsecs"),
        ("missing context", &cfg_no_context, 2, "\"prod\""),
        ("binary file", &cfg_binary, 2, "binary.toml"),
        ("guard rails typo", &cfg_bad_guard, 2, "max_new_partition"),
        ("wrong type", &cfg_type, 2, "bootstrap_servers"),
        (
            "unset password variable",
            &cfg_password_env,
            2,
            "KAFSH_NO_SUCH_VARIABLE",
        ),
    ] {
        let _ = name;
        let mut case = cli(&["-e", "list_topics()"], code, says);
        case.env.push(("KAFSH_CONFIG".into(), path.clone()));
        case.env
            .push(("KAFSH_BOOTSTRAP_SERVER".into(), String::new()));
        cases.push(case);
    }
    assert!(cases.len() >= 150, "the corpus has {} cases", cases.len());

    let before = snapshot(&bs, &zk);
    let mut failures = Vec::new();
    for case in &cases {
        let state = tempfile::tempdir().expect("tmp");
        let mut cmd = kafsh(&state);
        let shown = match &case.expr {
            Some(expr) => {
                cmd.args(["--bootstrap-server", &bs, "--zookeeper", &zk, "-e", expr]);
                expr.chars().take(120).collect::<String>()
            }
            None => {
                cmd.args(&case.args);
                if !case.env.iter().any(|(k, _)| k == "KAFSH_CONFIG") {
                    cmd.args(["--bootstrap-server", &bs]);
                }
                format!("kafsh {}", case.args.join(" "))
            }
        };
        for (k, v) in &case.env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let out = cmd
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run kafsh");
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().find(|l| !l.starts_with("note:")).unwrap_or("");
        if out.status.code() != Some(case.code) {
            failures.push(format!(
                "{shown}: exit {:?}, expected {}: {first}",
                out.status.code(),
                case.code
            ));
        } else if !err.contains(&case.says) {
            failures.push(format!(
                "{shown}: the message does not say {:?}: {first}",
                case.says
            ));
        }
        if case.expr.is_some() {
            let after = snapshot(&bs, &zk);
            let diff = common::crash::differences(&before, &after);
            if !diff.is_empty() {
                failures.push(format!("{shown}: changed the cluster: {}", diff.join("; ")));
                break;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs were not handled as they should be:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    let _ = Path::new(&binary);
}
