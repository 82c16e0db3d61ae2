//! Views. PostgreSQL replaces a view in place only when its columns stay and new ones are
//! appended; any other change drops it first (with the views that read it) and creates it
//! again at the end, once what it reads has changed.

use std::collections::BTreeSet;

use super::builder::Builder;
use super::columns::rebuilds_readers;
use crate::catalog::{Catalog, View};
use crate::ident::ident;

/// The views of `from` that must be dropped before the tables change: those gone, those whose
/// change cannot be made in place, those reading a table whose columns change type or go, and
/// every view that reads one of these.
pub(super) fn rebuilt(from: &Catalog, to: &Catalog) -> BTreeSet<String> {
    let changed_tables: BTreeSet<&str> = from
        .tables
        .iter()
        .filter(|f| to.table(&f.name).is_none_or(|t| rebuilds_readers(f, t)))
        .map(|f| f.name.as_str())
        .collect();
    let mut set: BTreeSet<String> = from
        .views
        .iter()
        .filter(|f| match to.view(&f.name) {
            None => true,
            Some(t) => {
                (!same(f, t) && !replaceable(f, t))
                    || f.uses.iter().any(|u| changed_tables.contains(u.as_str()))
            }
        })
        .map(|f| f.name.clone())
        .collect();
    loop {
        let readers: Vec<String> = from
            .views
            .iter()
            .filter(|v| !set.contains(&v.name) && v.uses.iter().any(|u| set.contains(u)))
            .map(|v| v.name.clone())
            .collect();
        if readers.is_empty() {
            return set;
        }
        set.extend(readers);
    }
}

/// The same query, options and columns (comments aside).
fn same(from: &View, to: &View) -> bool {
    from.definition == to.definition && from.options == to.options && from.columns == to.columns
}

/// CREATE OR REPLACE VIEW keeps the old columns, in order and type, and may append more.
fn replaceable(from: &View, to: &View) -> bool {
    from.options == to.options
        && from.columns.len() <= to.columns.len()
        && from.columns.iter().zip(&to.columns).all(|(a, b)| a == b)
}

/// `views` ordered so that each comes after the views it reads.
fn in_order(views: Vec<&View>) -> Vec<&View> {
    let names: BTreeSet<&str> = views.iter().map(|v| v.name.as_str()).collect();
    let (mut done, mut order) = (BTreeSet::new(), Vec::new());
    while order.len() < views.len() {
        let before = order.len();
        for v in &views {
            let ready = v
                .uses
                .iter()
                .all(|u| !names.contains(u.as_str()) || done.contains(u.as_str()));
            if !done.contains(v.name.as_str()) && ready {
                done.insert(v.name.as_str());
                order.push(*v);
            }
        }
        if order.len() == before {
            // A cycle, which PostgreSQL does not allow: keep the rest as they are.
            order.extend(views.iter().filter(|v| !done.contains(v.name.as_str())));
        }
    }
    order
}

/// Drops the views of `set`, readers first.
pub(super) fn drop(b: &mut Builder, set: &BTreeSet<String>) {
    let from = b.from;
    let views = in_order(
        from.views
            .iter()
            .filter(|v| set.contains(&v.name))
            .collect(),
    );
    for view in views.into_iter().rev() {
        let why = if b.to.view(&view.name).is_some() {
            "dropped first and created again below: it cannot be changed in place, or what it reads changes"
        } else {
            "the view goes (its rows are its tables')"
        };
        b.step(format!("DROP VIEW {}", ident(&view.name)), why, &[]);
    }
}

/// Creates the new views and those dropped to be rebuilt, and replaces in place those that
/// only gain columns, each after the views it reads.
pub(super) fn create(b: &mut Builder, set: &BTreeSet<String>) {
    let (from, to) = (b.from, b.to);
    let views = in_order(to.views.iter().collect());
    for view in views {
        let old = from.view(&view.name);
        let (verb, why) = match old {
            None => ("CREATE", "a new view"),
            Some(_) if set.contains(&view.name) => ("CREATE", "the view, created again"),
            Some(old) if !same(old, view) => (
                "CREATE OR REPLACE",
                "replaced in place: its columns stay, new ones are appended",
            ),
            Some(_) => continue,
        };
        if verb == "CREATE" && old.is_some() {
            b.recreated.insert(format!("view {}", ident(&view.name)));
        }
        let options = match view.options.is_empty() {
            true => String::new(),
            false => format!(" WITH ({})", view.options.join(", ")),
        };
        let sql = format!(
            "{verb} VIEW {}{options} AS\n{}",
            ident(&view.name),
            view.definition
        );
        b.step(sql, why, &[]);
    }
}
