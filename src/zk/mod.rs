//! ZooKeeper domain operations: ensemble status from the four-letter words (`four_letter`,
//! `status`), health and zoo.cfg (`health`), znodes through a session (`znodes`), old
//! consumer groups (`legacy`) and the pre-2.4 reassignment znode (`reassign`).
//! Typed async functions; nothing here prints or knows rhai.

pub mod four_letter;
pub mod health;
pub mod legacy;
pub mod reassign;
pub mod status;
pub mod znodes;
