//! What differs between two catalogs, one line per object: what `bottles migrate check` prints
//! when a database drifted from what its migrations made.

use std::fmt;

use super::model::{
    Catalog, Column, Constraint, EnumType, Index, Sequence, Table, Unsupported, View,
};
use crate::ident::{ident, literal};

/// One way an object differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Missing, not expected, or different.
    pub kind: DifferenceKind,
    /// The object, as SQL names it: `column "user".email`, `index message_content_idx on
    /// message`.
    pub object: String,
    /// What differs, when [`DifferenceKind::Changed`]: `expected NOT NULL`.
    pub detail: String,
}

/// How an object differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DifferenceKind {
    /// Expected, and not there.
    Missing,
    /// There, and not expected.
    Unexpected,
    /// In both, but different.
    Changed,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DifferenceKind::Missing => write!(f, "{}: missing", self.object),
            DifferenceKind::Unexpected => {
                write!(f, "{}: not expected (added by hand?)", self.object)
            }
            DifferenceKind::Changed => write!(f, "{}: {}", self.object, self.detail),
        }
    }
}

impl PartialEq for Catalog {
    /// The same schema: no [`differences`] (column order is not one).
    fn eq(&self, other: &Self) -> bool {
        differences(self, other).is_empty()
    }
}

/// Everything in which `actual` differs from `expected`, sorted by kind of object and name.
pub fn differences(expected: &Catalog, actual: &Catalog) -> Vec<Difference> {
    let mut out = Out(Vec::new());
    let name = |t: &Table| format!("table {}", ident(&t.name));
    out.matched(&expected.tables, &actual.tables, |t| &t.name, name, tables);
    let name = |e: &EnumType| format!("enum type {}", ident(&e.name));
    out.matched(
        &expected.enums,
        &actual.enums,
        |e| &e.name,
        name,
        |out, o, e, a| {
            out.changed(
                o,
                "labels",
                Some(&labels(&e.labels)),
                Some(&labels(&a.labels)),
            );
            out.changed(
                o,
                "comment",
                quoted(&e.comment).as_deref(),
                quoted(&a.comment).as_deref(),
            );
        },
    );
    let name = |s: &Sequence| format!("sequence {}", ident(&s.name));
    out.matched(
        &expected.sequences,
        &actual.sequences,
        |s| &s.name,
        name,
        sequences,
    );
    let name = |v: &View| format!("view {}", ident(&v.name));
    out.matched(&expected.views, &actual.views, |v| &v.name, name, views);
    out.matched(
        &expected.unsupported,
        &actual.unsupported,
        |u| &u.name,
        |u| u.name.clone(),
        |out, o, e: &Unsupported, a| {
            if let Some(detail) = first_difference(&e.definition, &a.definition) {
                out.push(DifferenceKind::Changed, o.to_string(), detail);
            }
        },
    );
    out.0
}

/// How two definitions differ, on one line: the first line where they part, each side cut
/// short (a function's body spans lines).
pub(crate) fn first_difference(expected: &str, found: &str) -> Option<String> {
    if expected == found {
        return None;
    }
    let (mut e, mut a) = (expected.lines(), found.lines());
    let mut number = 1;
    loop {
        match (e.next(), a.next()) {
            (Some(x), Some(y)) if x == y => number += 1,
            (None, None) => return Some("definition differs in its line endings".into()),
            (x, y) => {
                let (x, y) = (x.unwrap_or_default().trim(), y.unwrap_or_default().trim());
                // From a little before the first character that differs.
                let same = x.chars().zip(y.chars()).take_while(|(a, b)| a == b).count();
                let from = same.saturating_sub(20);
                let shown = |line: &str| match line.is_empty() {
                    true => "nothing".to_string(),
                    false => literal(&cut(line, from)),
                };
                return Some(format!(
                    "definition differs at line {number}: expected {}, found {}",
                    shown(x),
                    shown(y)
                ));
            }
        }
    }
}

/// `line` from its character `from` on, at most 60 characters, with `…` where cut.
fn cut(line: &str, from: usize) -> String {
    let mut shown: String = line.chars().skip(from).take(60).collect();
    if from > 0 {
        shown.insert(0, '…');
    }
    if line.chars().count() > from + 60 {
        shown.push('…');
    }
    shown
}

struct Out(Vec<Difference>);

impl Out {
    /// Pairs `expected` and `actual` by `key`: a line for each one missing or not expected,
    /// and `compare` for each pair.
    fn matched<T>(
        &mut self,
        expected: &[T],
        actual: &[T],
        key: impl Fn(&T) -> &String,
        object: impl Fn(&T) -> String,
        compare: impl Fn(&mut Self, &str, &T, &T),
    ) {
        for e in expected {
            match actual.iter().find(|a| key(a) == key(e)) {
                Some(a) => compare(self, &object(e), e, a),
                None => self.push(DifferenceKind::Missing, object(e), String::new()),
            }
        }
        for a in actual
            .iter()
            .filter(|a| !expected.iter().any(|e| key(e) == key(a)))
        {
            self.push(DifferenceKind::Unexpected, object(a), String::new());
        }
    }

    fn push(&mut self, kind: DifferenceKind, object: String, detail: String) {
        self.0.push(Difference {
            kind,
            object,
            detail,
        });
    }

    /// `expected X e, found a`, when they differ (`none` for no value).
    fn changed(&mut self, object: &str, what: &str, expected: Option<&str>, found: Option<&str>) {
        if expected != found {
            let what = if what.is_empty() {
                String::new()
            } else {
                format!("{what} ")
            };
            let detail = format!(
                "expected {what}{}, found {}",
                expected.unwrap_or("none"),
                found.unwrap_or("none")
            );
            self.push(DifferenceKind::Changed, object.to_string(), detail);
        }
    }

    fn flag(&mut self, object: &str, differs: bool, detail: &str) {
        if differs {
            self.push(DifferenceKind::Changed, object.into(), detail.into());
        }
    }
}

fn tables(out: &mut Out, object: &str, expected: &Table, actual: &Table) {
    out.changed(
        object,
        "comment",
        quoted(&expected.comment).as_deref(),
        quoted(&actual.comment).as_deref(),
    );
    let table = ident(&expected.name);
    let name = |c: &Column| format!("column {table}.{}", ident(&c.name));
    out.matched(
        &expected.columns,
        &actual.columns,
        |c| &c.name,
        name,
        columns,
    );
    let name = |c: &Constraint| format!("constraint {} on {table}", ident(&c.name));
    out.matched(
        &expected.constraints,
        &actual.constraints,
        |c| &c.name,
        name,
        constraints,
    );
    let name = |i: &Index| format!("index {} on {table}", ident(&i.name));
    out.matched(
        &expected.indexes,
        &actual.indexes,
        |i| &i.name,
        name,
        indexes,
    );
}

fn columns(out: &mut Out, object: &str, e: &Column, a: &Column) {
    out.changed(object, "type", Some(&column_type(e)), Some(&column_type(a)));
    if e.not_null != a.not_null {
        let detail = if e.not_null {
            "expected NOT NULL"
        } else {
            "expected nullable, found NOT NULL"
        };
        out.flag(object, true, detail);
    }
    out.changed(
        object,
        "default",
        e.default.as_deref(),
        a.default.as_deref(),
    );
    let identity = |c: &Column| c.identity.map(|i| format!("{i:?}"));
    out.changed(
        object,
        "identity",
        identity(e).as_deref(),
        identity(a).as_deref(),
    );
    out.changed(
        object,
        "generated",
        e.generated.as_deref(),
        a.generated.as_deref(),
    );
    out.changed(
        object,
        "comment",
        quoted(&e.comment).as_deref(),
        quoted(&a.comment).as_deref(),
    );
}

fn constraints(out: &mut Out, object: &str, e: &Constraint, a: &Constraint) {
    out.changed(object, "", Some(&e.definition), Some(&a.definition));
    let detail = if e.validated {
        "expected validated, found NOT VALID"
    } else {
        "expected NOT VALID, found validated"
    };
    out.flag(object, e.validated != a.validated, detail);
}

fn indexes(out: &mut Out, object: &str, e: &Index, a: &Index) {
    out.changed(object, "", Some(&e.definition), Some(&a.definition));
    let detail = "invalid (left by a CREATE INDEX CONCURRENTLY that failed?)";
    out.flag(object, e.valid && !a.valid, detail);
    out.changed(
        object,
        "comment",
        quoted(&e.comment).as_deref(),
        quoted(&a.comment).as_deref(),
    );
}

fn sequences(out: &mut Out, object: &str, e: &Sequence, a: &Sequence) {
    let settings = |s: &Sequence| {
        format!(
            "AS {} INCREMENT {} MINVALUE {} MAXVALUE {} START {} CACHE {}{}",
            s.data_type,
            s.increment,
            s.min,
            s.max,
            s.start,
            s.cache,
            if s.cycle { " CYCLE" } else { "" }
        )
    };
    out.changed(object, "", Some(&settings(e)), Some(&settings(a)));
    let owner = |s: &Sequence| {
        let owner = s.owned_by.as_ref();
        owner.map(|o| format!("{}.{}", ident(&o.table), ident(&o.column)))
    };
    out.changed(object, "owned by", owner(e).as_deref(), owner(a).as_deref());
    out.changed(
        object,
        "comment",
        quoted(&e.comment).as_deref(),
        quoted(&a.comment).as_deref(),
    );
}

fn views(out: &mut Out, object: &str, e: &View, a: &View) {
    // Definitions span lines: say that they differ, not how.
    out.flag(object, e.definition != a.definition, "definition differs");
    out.changed(
        object,
        "options",
        Some(&e.options.join(", ")),
        Some(&a.options.join(", ")),
    );
    out.changed(
        object,
        "comment",
        quoted(&e.comment).as_deref(),
        quoted(&a.comment).as_deref(),
    );
}

fn column_type(c: &Column) -> String {
    match &c.collation {
        Some(collation) => format!("{} COLLATE {}", c.data_type, ident(collation)),
        None => c.data_type.clone(),
    }
}

fn labels(labels: &[String]) -> String {
    let quoted: Vec<String> = labels.iter().map(|l| literal(l)).collect();
    format!("({})", quoted.join(", "))
}

/// A comment as a one-line literal (a comment may hold newlines; a difference is one line).
fn quoted(comment: &Option<String>) -> Option<String> {
    comment
        .as_ref()
        .map(|c| literal(&c.replace('\n', "\\n")).replace('\r', "\\r"))
}
