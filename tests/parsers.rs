//! The pure parsers never panic, whatever they are given (property tests, a bounded number
//! of cases so CI stays quick): plan JSON, Java .properties, durations, RFC 3339 times,
//! config.toml, zoo.cfg rendering input, ZooKeeper's membership and `conf` text, and the
//! CLI's script arguments. Where a parser has
//! an inverse, what it produces reads back the same.

use kafsh::config::{parse_duration, parse_file, parse_properties};
use kafsh::kafka::time::parse_rfc3339_ms;
use kafsh::plan::Plan;
use kafsh::zk::config::{parse_conf, Membership, Role, ZkMember};
use kafsh::zk::health::{render_zoo_cfg, CfgServer};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any text, weighted towards the characters these formats care about.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[-0-9a-zA-Z:=.,+#!\\\\ \t\n\"{}\\[\\]TZé]{0,64}",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn plan_json_never_panics(t in text()) {
        let _ = Plan::from_json(&t);
    }

    #[test]
    fn plan_json_reads_back_what_it_writes(
        parts in proptest::collection::vec(("[a-z][a-z0-9._-]{0,20}", 0i32..1000, proptest::collection::vec(0i32..100, 1..4)), 1..20)
    ) {
        let json = serde_json::json!({"version": 1, "partitions": parts.iter().map(|(t, p, r)| {
            serde_json::json!({"topic": t, "partition": p, "replicas": r})
        }).collect::<Vec<_>>()});
        if let Ok(plan) = Plan::from_json(&json.to_string()) {
            let again = Plan::from_json(&plan.to_json()).expect("reads back");
            prop_assert_eq!(plan.to_json(), again.to_json());
        }
    }

    #[test]
    fn properties_never_panic(t in text()) {
        let _ = parse_properties(&t);
    }

    #[test]
    fn simple_properties_read_back(pairs in proptest::collection::btree_map("[a-z][a-z0-9.]{0,20}", "[a-zA-Z0-9/._-]{0,20}", 0..10)) {
        let text: String = pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        prop_assert_eq!(parse_properties(&text), pairs);
    }

    #[test]
    fn durations_never_panic(t in text()) {
        let _ = parse_duration(&t);
    }

    #[test]
    fn durations_add_up(h in 0u64..100, m in 0u64..60, s in 0u64..60, ms in 0u64..1000) {
        let d = parse_duration(&format!("{h}h{m}m{s}s{ms}ms")).expect("a duration");
        prop_assert_eq!(d.as_millis() as u64, ((h * 60 + m) * 60 + s) * 1000 + ms);
    }

    #[test]
    fn rfc3339_never_panics(t in text()) {
        let _ = parse_rfc3339_ms(&t);
    }

    #[test]
    fn rfc3339_with_one_character_changed_never_panics(at in 0usize..29, c in any::<char>()) {
        let mut chars: Vec<char> = "2026-11-24T03:04:05.123+09:00".chars().collect();
        chars[at] = c;
        let _ = parse_rfc3339_ms(&chars.into_iter().collect::<String>());
    }

    #[test]
    fn rfc3339_of_whole_seconds(secs in 0i64..4_000_000_000) {
        let days = secs / 86_400;
        // Civil date from days since the epoch (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let rem = secs % 86_400;
        let text = format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60);
        prop_assert_eq!(parse_rfc3339_ms(&text), Ok(secs * 1000));
    }

    #[test]
    fn config_toml_never_panics(t in text()) {
        let _ = parse_file(std::path::Path::new("config.toml"), &t);
    }

    #[test]
    fn zoo_cfg_input_never_panics(
        servers in proptest::collection::vec((any::<u32>(), "[a-z0-9.é-]{0,12}", any::<u16>(), any::<u16>(), proptest::option::of(any::<u16>()), any::<bool>()), 0..8),
        base in proptest::collection::btree_map(text(), text(), 0..4)
    ) {
        let servers: Vec<CfgServer> = servers.into_iter().map(|(id, host, peer_port, election_port, client_port, observer)| CfgServer {
            id, host, peer_port, election_port, client_port,
            role: if observer { Role::Observer } else { Role::Participant },
        }).collect();
        let base: BTreeMap<String, String> = base;
        if let Ok(cfg) = render_zoo_cfg(&servers, &base) {
            for s in &servers {
                let line = format!("server.{}=", s.id);
                prop_assert!(cfg.contains(&line), "{line} missing");
            }
        }
    }

    #[test]
    fn zookeeper_membership_and_conf_never_panic(t in text()) {
        let _ = Membership::parse(&t);
        let _ = parse_conf(&t);
        let _ = ZkMember::parse(1, &t);
    }

    #[test]
    fn a_server_line_reads_back_the_same(
        id in 1u32..256,
        host in prop_oneof!["[a-z][a-z0-9.-]{0,12}", Just("::1".to_string()), Just("10.0.0.7".to_string())],
        peer_port in any::<u16>(),
        election_port in any::<u16>(),
        client_host in proptest::option::of(prop_oneof!["[a-z][a-z0-9.-]{0,12}", Just("0.0.0.0".to_string())]),
        client_port in any::<u16>(),
        observer in any::<bool>(),
    ) {
        let m = ZkMember {
            id, host, peer_port, election_port,
            role: if observer { Role::Observer } else { Role::Participant },
            client_host, client_port: Some(client_port),
        };
        let spec = m.spec().expect("spec");
        let (key, value) = spec.split_once('=').expect("server.N=");
        prop_assert_eq!(key, format!("server.{id}"));
        let back = ZkMember::parse(id, value).expect("parses");
        prop_assert!(back.same_as(&m), "{:?} != {:?}", back, m);
        let line = m.line();
        let back = Membership::parse(&line).expect("parses");
        prop_assert_eq!(back.members, vec![m]);
    }

    #[test]
    fn script_arguments_never_panic(args in proptest::collection::vec(text(), 0..6)) {
        let _ = kafsh::script::surface::parse_script_args(&args);
    }
}

#[test]
fn rfc3339_with_a_multibyte_character_where_a_digit_belongs_is_an_error() {
    for t in [
        "2026-11-24T03:04:0é5Z",
        "2026-11-é4T03:04:05Z",
        "é026-11-24T03:04:05.123Z",
        "2026-11-24T03:04:05+é:00",
    ] {
        assert!(parse_rfc3339_ms(t).is_err(), "{t}");
    }
}
