//! Enum types, sequences and comments.

use super::builder::Builder;
use super::types::PlanError;
use crate::catalog::{EnumType, Sequence};
use crate::ident::{ident, literal};

/// New enum types, and values added to existing ones. PostgreSQL can only add values: one
/// removed, renamed or moved is refused.
pub(super) fn enums(b: &mut Builder) -> Result<(), PlanError> {
    for to in &b.to.enums {
        let name = ident(&to.name);
        let Some(from) = b.from.enums.iter().find(|e| e.name == to.name) else {
            let labels: Vec<String> = to.labels.iter().map(|l| literal(l)).collect();
            let sql = format!("CREATE TYPE {name} AS ENUM ({})", labels.join(", "));
            b.step(sql, "a new enum type", &[]);
            continue;
        };
        check_only_added(from, to, &name)?;
        for (at, label) in to.labels.iter().enumerate() {
            if from.labels.contains(label) {
                continue;
            }
            let place = match at {
                0 => to
                    .labels
                    .get(1)
                    .map(|next| format!(" BEFORE {}", literal(next))),
                _ => Some(format!(" AFTER {}", literal(&to.labels[at - 1]))),
            };
            let sql = format!(
                "ALTER TYPE {name} ADD VALUE {}{}",
                literal(label),
                place.unwrap_or_default()
            );
            b.added_values.push((b.steps.len(), literal(label)));
            b.step(sql, "a new enum value, first: a catalog change", &[]);
        }
    }
    Ok(())
}

fn check_only_added(from: &EnumType, to: &EnumType, name: &str) -> Result<(), PlanError> {
    let refuse = |reason: String| PlanError::EnumValues {
        name: name.to_string(),
        reason,
    };
    if let Some(gone) = from.labels.iter().find(|l| !to.labels.contains(l)) {
        return Err(refuse(format!(
            "value {} is removed (or renamed)",
            literal(gone)
        )));
    }
    let kept: Vec<&String> = to
        .labels
        .iter()
        .filter(|l| from.labels.contains(l))
        .collect();
    if kept.iter().zip(&from.labels).any(|(a, b)| *a != b) {
        return Err(refuse("its values change order".to_string()));
    }
    Ok(())
}

/// A value added in a transaction cannot be used until it commits ("unsafe use of new
/// value"): when a later statement names it, the file runs outside a transaction.
pub(super) fn commit_added_values(b: &mut Builder) {
    for (at, value) in b.added_values.clone() {
        if b.steps[at + 1..].iter().any(|s| s.sql.contains(&value)) {
            let step = &mut b.steps[at];
            step.outside_transaction = true;
            step.comment = "a new enum value, first; statements below use it, and a value added \
                in a transaction cannot be used before it commits, so this file runs outside one"
                .to_string();
        }
    }
}

fn settings(s: &Sequence) -> String {
    format!(
        "AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
        s.data_type,
        s.increment,
        s.min,
        s.max,
        s.start,
        s.cache,
        if s.cycle { "CYCLE" } else { "NO CYCLE" }
    )
}

/// New sequences (owned later, once their column exists) and changed settings.
pub(super) fn sequences(b: &mut Builder) {
    for to in &b.to.sequences {
        let name = ident(&to.name);
        match b.from.sequences.iter().find(|s| s.name == to.name) {
            None => {
                let sql = format!("CREATE SEQUENCE {name} {}", settings(to));
                b.step(
                    sql,
                    "a new sequence, before the tables whose defaults use it",
                    &[],
                );
            }
            Some(from) if settings(from) != settings(to) => {
                let sql = format!("ALTER SEQUENCE {name} {}", settings(to));
                b.step(
                    sql,
                    "the sequence's settings change (its current value stays)",
                    &[],
                );
            }
            Some(_) => {}
        }
    }
}

/// `OWNED BY`, once tables and columns exist.
pub(super) fn owners(b: &mut Builder) {
    for to in &b.to.sequences {
        let from = b.from.sequences.iter().find(|s| s.name == to.name);
        if from.is_some_and(|f| f.owned_by == to.owned_by)
            || (from.is_none() && to.owned_by.is_none())
        {
            continue;
        }
        let owner = match &to.owned_by {
            Some(o) => format!("{}.{}", ident(&o.table), ident(&o.column)),
            None => "NONE".to_string(),
        };
        let sql = format!("ALTER SEQUENCE {} OWNED BY {owner}", ident(&to.name));
        b.step(
            sql,
            "the sequence belongs to its column: it goes when the column goes",
            &[],
        );
    }
}

/// Every comment that differs, including those of objects new or built again.
pub(super) fn comments(b: &mut Builder) {
    let mut writes: Vec<(String, String, Option<&String>, Option<&String>)> = Vec::new();
    let (from, to) = (b.from, b.to);
    for t in &to.tables {
        let old = from.table(&t.name);
        let name = ident(&t.name);
        writes.push((
            "TABLE".into(),
            name.clone(),
            old.and_then(|o| o.comment.as_ref()),
            t.comment.as_ref(),
        ));
        for c in &t.columns {
            let object = format!("{name}.{}", ident(&c.name));
            let was = old
                .and_then(|o| o.column(&c.name))
                .and_then(|c| c.comment.as_ref());
            let was = was.filter(|_| !b.recreated.contains(&format!("column {object}")));
            writes.push(("COLUMN".into(), object, was, c.comment.as_ref()));
        }
        for i in &t.indexes {
            let object = ident(&i.name);
            let was = old
                .and_then(|o| o.index(&i.name))
                .and_then(|i| i.comment.as_ref());
            let was = was.filter(|_| !b.recreated.contains(&format!("index {object}")));
            writes.push(("INDEX".into(), object, was, i.comment.as_ref()));
        }
    }
    for v in &to.views {
        let object = ident(&v.name);
        let was = from.view(&v.name).and_then(|v| v.comment.as_ref());
        let was = was.filter(|_| !b.recreated.contains(&format!("view {object}")));
        writes.push(("VIEW".into(), object, was, v.comment.as_ref()));
    }
    for e in &to.enums {
        let was = from
            .enums
            .iter()
            .find(|o| o.name == e.name)
            .and_then(|o| o.comment.as_ref());
        writes.push(("TYPE".into(), ident(&e.name), was, e.comment.as_ref()));
    }
    for s in &to.sequences {
        let was = from
            .sequences
            .iter()
            .find(|o| o.name == s.name)
            .and_then(|o| o.comment.as_ref());
        writes.push(("SEQUENCE".into(), ident(&s.name), was, s.comment.as_ref()));
    }
    for (kind, object, was, now) in writes {
        if was != now {
            let text = now.map_or("NULL".to_string(), |c| literal(c));
            b.step(
                format!("COMMENT ON {kind} {object} IS {text}"),
                "a comment: a catalog change",
                &[],
            );
        }
    }
}

/// Drops the sequences that are gone, but not those a dropped table or column takes along.
pub(super) fn drop_sequences(b: &mut Builder) {
    for s in &b.from.sequences {
        if b.to.sequences.iter().any(|t| t.name == s.name) {
            continue;
        }
        let taken = s.owned_by.as_ref().is_some_and(|o| {
            b.to.table(&o.table)
                .is_none_or(|t| t.column(&o.column).is_none())
        });
        if !taken {
            let name = ident(&s.name);
            let why = "the sequence goes, and its current value with it";
            b.deletes(
                format!("sequence {name}"),
                &format!("sequence {name}"),
                format!("DROP SEQUENCE {name}"),
                why,
            );
        }
    }
}

/// Drops the enum types that are gone, after the columns that used them.
pub(super) fn drop_enums(b: &mut Builder) {
    for e in &b.from.enums {
        if !b.to.enums.iter().any(|t| t.name == e.name) {
            let sql = format!("DROP TYPE {}", ident(&e.name));
            b.step(sql, "the enum type goes: no column uses it any more", &[]);
        }
    }
}
