//! Access control against real clusters with an authorizer — ZooKeeper-mode Kafka 3.9
//! (AclAuthorizer) and KRaft Kafka 4 (StandardAuthorizer), each with a super user for kafsh
//! and a user without rights — compared with kafka-acls.sh, kafka-configs.sh and
//! kafka-transactions.sh, real console clients, Kafka's admin tools logging in, and the
//! brokers' own authorized-operations answers. One small cluster of each kind, shared by
//! the tests of that kind (see `common/access_suite.rs`).

mod common;

use common::access_suite as suite;
use kafsh_sandbox::{Cluster, Flavor};
use std::sync::OnceLock;

fn zk() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| common::shared_cluster(suite::cluster_spec(Flavor::ZooKeeper)))
}

fn kraft() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| common::shared_cluster(suite::cluster_spec(Flavor::KRaft)))
}

#[test]
fn zk_acls_match_kafka_acls() {
    suite::acls_match_kafka_acls(zk());
}

#[test]
fn kraft_acls_match_kafka_acls() {
    suite::acls_match_kafka_acls(kraft());
}

#[test]
fn zk_real_clients_follow_can() {
    suite::real_clients_follow_can(zk(), "zk");
}

#[test]
fn kraft_real_clients_follow_can() {
    suite::real_clients_follow_can(kraft(), "kr");
}

#[test]
fn zk_can_matches_the_brokers_decisions() {
    suite::can_matches_the_brokers_decisions(zk(), "zk");
}

#[test]
fn kraft_can_matches_the_brokers_decisions() {
    suite::can_matches_the_brokers_decisions(kraft(), "kr");
}

#[test]
fn zk_users_log_in_until_deleted() {
    suite::users_log_in_until_deleted(zk(), "zk");
}

#[test]
fn kraft_users_log_in_until_deleted() {
    suite::users_log_in_until_deleted(kraft(), "kr");
}

#[test]
fn zk_quotas_match_kafka_configs() {
    suite::quotas_match_kafka_configs(zk(), "zk");
}

#[test]
fn kraft_quotas_match_kafka_configs() {
    suite::quotas_match_kafka_configs(kraft(), "kr");
}

#[test]
fn zk_hanging_transaction_found_and_aborted() {
    suite::hanging_transaction_found_and_aborted(zk(), "zk");
}

#[test]
fn kraft_hanging_transaction_found_and_aborted() {
    suite::hanging_transaction_found_and_aborted(kraft(), "kr");
}

#[test]
fn zk_access_review_runbook() {
    suite::access_review_runbook(zk(), "zk");
}

#[test]
fn kraft_access_review_runbook() {
    suite::access_review_runbook(kraft(), "kr");
}

#[test]
fn zk_desired_state_applies_acls_and_quotas() {
    suite::desired_state_applies_acls_and_quotas(zk(), "zk");
}

#[test]
fn kraft_desired_state_applies_acls_and_quotas() {
    suite::desired_state_applies_acls_and_quotas(kraft(), "kr");
}
