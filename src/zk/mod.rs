//! ZooKeeper domain operations: ensemble status from the four-letter words (`four_letter`,
//! `status`), health and zoo.cfg (`health`), the membership as ZooKeeper sees it (`config`)
//! and dynamic reconfiguration (`reconfig`), znodes through a session (`znodes`) secured as `security` says (TLS, SASL), old
//! consumer groups (`legacy`), the pre-2.4 reassignment znode (`reassign`) and the partition
//! state znodes, the current leader and ISR of a ZooKeeper-mode cluster (`partitions`).
//! Typed async functions; nothing here prints or knows rhai.

pub mod config;
pub mod four_letter;
pub mod health;
pub mod legacy;
pub mod partitions;
pub mod reassign;
pub mod reconfig;
pub mod security;
pub mod status;
pub mod znodes;
