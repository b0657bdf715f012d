//! ZooKeeper domain operations: ensemble status from the four-letter words (`four_letter`,
//! `status`). Typed async functions; nothing here prints or knows rhai.

pub mod four_letter;
pub mod status;
