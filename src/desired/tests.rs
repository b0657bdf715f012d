use super::*;

const FILE: &str = r#"
[settings]
delete_unlisted = ["tmp."]

[[topics]]
name = "orders"
partitions = 6
replication_factor = 3
configs = { "retention.ms" = "86400000" }

[[topics]]
name = "eu-only"
partitions = 1
replication_factor = 1
contexts = ["eu"]

[[acls]]
resource_type = "topic"
name = "orders"
principal = "User:app"
operation = "read"

[[quotas]]
user = "app"
quotas = { producer_byte_rate = 1048576.0 }
"#;

fn topic(partitions: u32, rf: u16, configs: &[(&str, &str)]) -> ActualTopic {
    ActualTopic {
        partitions,
        replication_factor: rf,
        configs: configs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn a_file_reads_and_plans_against_an_empty_cluster() {
    let desired = parse(FILE, "state.toml").expect("parses");
    let empty = ActualState {
        acls: Some(Vec::new()),
        quotas: Some(Vec::new()),
        ..ActualState::default()
    };
    let p = plan(&desired, &empty, Some("us-1"), &["us".into()]);
    let actions: Vec<String> = p
        .changes
        .iter()
        .map(|c| format!("{} {}", c.target(), c.summary()))
        .collect();
    assert_eq!(p.changes.len(), 3, "{actions:?}");
    assert!(
        matches!(&p.changes[0], Change::CreateTopic { topic, partitions: 6, .. } if topic == "orders")
    );
    assert!(matches!(&p.changes[1], Change::CreateAcl { .. }));
    assert!(matches!(&p.changes[2], Change::SetQuotas { .. }));
    let eu = plan(&desired, &empty, Some("eu-1"), &["eu".into()]);
    assert!(eu.changes.iter().any(|c| c.target() == "eu-only"));
}

#[test]
fn what_differs_is_changed_and_what_cannot_be_is_refused() {
    let desired = parse(FILE, "state.toml").expect("parses");
    let mut actual = ActualState::default();
    actual.topics.insert(
        "orders".into(),
        topic(
            3,
            2,
            &[("retention.ms", "1"), ("cleanup.policy", "compact")],
        ),
    );
    actual.topics.insert("tmp.scratch".into(), topic(1, 1, &[]));
    actual.topics.insert("other".into(), topic(1, 1, &[]));
    let p = plan(&desired, &actual, None, &[]);
    let kinds: Vec<&str> = p
        .changes
        .iter()
        .map(|c| match c {
            Change::AddPartitions { .. } => "add",
            Change::AlterConfigs { .. } => "alter",
            Change::DeleteTopic { .. } => "delete",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["add", "alter", "delete"], "{p:?}");
    match &p.changes[1] {
        Change::AlterConfigs { set, delete, .. } => {
            assert_eq!(
                set["retention.ms"],
                (Some("1".to_string()), "86400000".to_string())
            );
            assert_eq!(delete["cleanup.policy"], "compact");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.changes[2].target(), "tmp.scratch");
    assert_eq!(p.refused.len(), 1, "{p:?}");
    assert!(p.refused[0].reason.contains("reassignment"));

    actual.topics.insert(
        "orders".into(),
        topic(8, 3, &[("retention.ms", "86400000")]),
    );
    actual.topics.remove("tmp.scratch");
    let p = plan(&desired, &actual, None, &[]);
    assert!(p.changes.is_empty(), "{p:?}");
    assert!(p.refused[0].reason.contains("cannot remove partitions"));
}

#[test]
fn an_applied_plan_plans_nothing_more() {
    let desired = parse(FILE, "state.toml").expect("parses");
    let actual = ActualState {
        topics: [(
            "orders".to_string(),
            topic(6, 3, &[("retention.ms", "86400000")]),
        )]
        .into(),
        acls: Some(vec![desired.acls[0].binding()]),
        quotas: Some(vec![(
            QuotaKey {
                user: Some("app".into()),
                client_id: None,
                ip: None,
            },
            [("producer_byte_rate".to_string(), 1048576.0)].into(),
        )]),
    };
    assert!(plan(&desired, &actual, None, &[]).changes.is_empty());
    let exported = export(&actual, None).expect("export");
    let again = parse(&exported, "exported.toml").expect("the export reads back");
    assert!(
        plan(&again, &actual, None, &[]).changes.is_empty(),
        "{exported}"
    );
}

#[test]
fn bad_files_name_the_line_and_the_key() {
    let err = |text: &str| parse(text, "s.toml").unwrap_err().to_string();
    let e = err("[[topics]]\nname = \"a\"\npartitions = -3\nreplication_factor = 1\n");
    assert!(e.starts_with("s.toml:3:"), "{e}");
    let e =
        err("[[topics]]\nname = \"a\"\npartitions = 1\nreplication_factor = 1\nretention = 5\n");
    assert!(e.contains("s.toml:5") && e.contains("retention"), "{e}");
    let e = err("[[topics]]\nname = \"a\"\npartitions = \"six\"\nreplication_factor = 1\n");
    assert!(e.contains("s.toml:3"), "{e}");
    let e = err("\n\n[[topics]]\nname = \"a\"\npartitions = 0\nreplication_factor = 1\n");
    assert!(
        e.starts_with("s.toml:3: topics[0] \"a\": partitions"),
        "{e}"
    );
    let e = err("[[topics]]\nname = \"bad name\"\npartitions = 1\nreplication_factor = 1\n");
    assert!(e.contains("topics[0]"), "{e}");
    let e = err("[[acls]]\nresource_type = \"group\"\nname = \"g\"\nprincipal = \"User:app\"\noperation = \"write\"\n");
    assert!(e.contains("acls[0]"), "{e}");
    let e = err("[settings]\ndelete_unlisted = [\"\"]\n");
    assert!(e.contains("empty prefix"), "{e}");
}
