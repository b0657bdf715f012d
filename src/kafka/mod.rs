//! Kafka domain operations: typed async functions over the admin client. Nothing here prints
//! or knows rhai; every function returns a `Serialize` value or a domain error.
//!
//! One file per operation area (kafkactl-style): `topics`, `brokers`, `quorum` and
//! `features` (the KRaft control plane), `acls`, `authorizer`, `users`, `quotas` and
//! `transactions` (access control), `reassign` (single reassignment requests) and
//! `reassign_flow` (the workflows over them: start, wait, elections); the protocol plumbing
//! is in `conn` (one connection) and `client` (routing and pooling).

pub mod acls;
pub mod authorizer;
pub mod brokers;
pub mod client;
pub mod cluster;
pub mod configs;
pub mod conn;
pub mod features;
pub mod groups;
pub mod gssapi;
pub mod keystore;
pub mod log_dirs;
pub mod messages;
pub mod migration;
pub mod oauth;
pub mod offsets;
pub mod quorum;
pub mod quotas;
pub mod reassign;
pub mod reassign_flow;
pub mod replica_dirs;
pub mod sasl;
pub mod security;
pub mod time;
pub mod topics;
pub mod transactions;
pub mod users;

pub use client::KafkaClient;

/// Kafka's topic id as its tools print it: URL-safe base64 without padding.
pub fn topic_id_string(bytes: &[u8; 16]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn topic_ids_print_like_kafka() {
        assert_eq!(super::topic_id_string(&[0u8; 16]), "AAAAAAAAAAAAAAAAAAAAAA");
        let bytes: [u8; 16] = [0xfb; 16];
        assert_eq!(super::topic_id_string(&bytes), "-_v7-_v7-_v7-_v7-_v7-w");
    }
}
