//! The plan as it is built: the steps so far, what they delete, and what they recreate.

use std::collections::BTreeSet;

use super::types::{Hazard, Step};
use crate::catalog::Catalog;

pub(super) struct Builder<'a> {
    pub from: &'a Catalog,
    pub to: &'a Catalog,
    pub steps: Vec<Step>,
    /// What the steps delete ("column \"user\".email"): refused unless allowed.
    pub destructive: Vec<String>,
    /// Objects dropped and created again ("view v", "index i", "column t.c"): they lost their
    /// comments, so the comments are written again.
    pub recreated: BTreeSet<String>,
    /// Steps that add an enum value, with the value as an SQL literal: if a later step uses it
    /// the file must run outside a transaction.
    pub added_values: Vec<(usize, String)>,
}

impl<'a> Builder<'a> {
    pub fn new(from: &'a Catalog, to: &'a Catalog) -> Self {
        Self {
            from,
            to,
            steps: Vec::new(),
            destructive: Vec::new(),
            recreated: BTreeSet::new(),
            added_values: Vec::new(),
        }
    }

    /// A step that runs anywhere.
    pub fn step(&mut self, sql: String, comment: &str, hazards: &[Hazard]) -> &mut Step {
        self.push(sql, comment, hazards, false)
    }

    /// A step that cannot run in a transaction block.
    pub fn outside(&mut self, sql: String, comment: &str, hazards: &[Hazard]) -> &mut Step {
        self.push(sql, comment, hazards, true)
    }

    /// A step that deletes `object`'s data, on `table` (the table, or what goes whole).
    pub fn deletes(&mut self, object: String, table: &str, sql: String, comment: &str) {
        self.destructive.push(object);
        self.push(sql, comment, &[Hazard::DeletesData], false)
            .on(table);
    }

    fn push(&mut self, sql: String, comment: &str, hazards: &[Hazard], outside: bool) -> &mut Step {
        self.steps.push(Step {
            sql,
            comment: comment.to_string(),
            hazards: hazards.to_vec(),
            outside_transaction: outside,
            table: None,
        });
        self.steps.last_mut().expect("just pushed")
    }
}
