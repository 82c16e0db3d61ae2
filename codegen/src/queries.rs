// This file was generated with `cornucopia`. Do not modify.

pub mod idempotency;
pub mod messages;
pub mod tables;
pub mod users;
