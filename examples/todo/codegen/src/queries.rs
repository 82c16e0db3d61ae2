// This file was generated with `cornucopia`. Do not modify.

pub mod items;
pub mod lists;
