//! The data path (consume, tail, find, produce, offsets, count, delete_records) against a
//! real KRaft-mode Kafka 4 cluster (3 combined nodes), checked against Kafka's console
//! producer and consumer, VerifiableProducer, GetOffsetShell, DeleteRecordsCommand and
//! ConsumerGroupCommand on the same cluster. One cluster is shared; nothing breaks it.

mod common;

use common::messages_suite as suite;
use common::shared_cluster;
use kafsh_sandbox::{Cluster, ClusterSpec};
use std::sync::OnceLock;

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| shared_cluster(ClusterSpec::kraft()))
}

#[test]
fn tool_written_records_read_back_identically() {
    suite::tool_written_records_read_back_identically(cluster(), "m-tools");
}

#[test]
fn round_trips_every_codec_and_encoding() {
    suite::round_trips_every_codec_and_encoding(cluster(), "m-codecs");
}

#[test]
fn offsets_and_times_match_get_offsets() {
    suite::offsets_and_times_match_get_offsets(cluster(), "m-times");
}

#[test]
fn delete_records_moves_log_start_like_the_tool() {
    suite::delete_records_moves_log_start_like_the_tool(cluster(), "m-delete");
}

#[test]
fn bad_input_is_a_clear_error() {
    suite::bad_input_is_a_clear_error(cluster(), "m-bad");
}

#[test]
fn find_and_group_commit() {
    suite::find_and_group_commit(cluster(), "m-find");
}

#[test]
fn tail_stops_on_ctrl_c_in_a_pty() {
    suite::tail_stops_on_ctrl_c_in_a_pty(cluster(), "m-tail");
}

#[test]
fn queued_produce_delivers_everything_and_reports_failures() {
    suite::queued_produce_delivers_everything_and_reports_failures(cluster(), "m-queued");
}
