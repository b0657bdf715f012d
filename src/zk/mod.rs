//! ZooKeeper domain operations: ensemble status from the four-letter words (`four_letter`,
//! `status`), health and zoo.cfg (`health`), and znodes through a session (`znodes`).
//! Typed async functions; nothing here prints or knows rhai.

pub mod four_letter;
pub mod health;
pub mod legacy;
pub mod status;
pub mod znodes;
