//! What a request does to the connection's transaction, read from its SQL, for the gate: a
//! transaction pooler keeps a server connection while a transaction is open, so requests may
//! follow one another unanswered only while none of those in flight can end it. Reading SQL
//! by its words is rough, so every doubt counts as "may end it".

/// A request's effect on the transaction, as far as its SQL tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Opens a transaction and leaves it open (`BEGIN; SET LOCAL …`).
    Opens,
    /// Leaves the transaction as it was, open or not.
    Keeps,
    /// May end the transaction (`COMMIT`, `ROLLBACK`, …), or nobody can tell.
    MayEnd,
}

/// Words that end a transaction block: `COMMIT`, `END`, `ROLLBACK` (also `ROLLBACK TO`, to be
/// safe), `ABORT`, and `PREPARE` (`PREPARE TRANSACTION`).
const ENDS: [&str; 5] = ["commit", "end", "rollback", "abort", "prepare"];

/// A simple query (`Query` message), which may hold several statements.
pub(crate) fn of_simple_query(sql: &str) -> Effect {
    let mut words = words(sql);
    let Some(first) = words.next() else {
        return Effect::Keeps;
    };
    let ends = |word: &str| ENDS.iter().any(|end| word.eq_ignore_ascii_case(end));
    if ends(first) || words.any(ends) {
        return Effect::MayEnd;
    }
    let opens = first.eq_ignore_ascii_case("begin") || first.eq_ignore_ascii_case("start");
    if opens {
        return Effect::Opens;
    }
    // A BEGIN further on could open one: harmless, it only means fewer requests go together.
    Effect::Keeps
}

/// One statement executed through the extended protocol (a `Parse` followed by `Execute`).
pub(crate) fn of_statement(sql: &str) -> Effect {
    match words(sql).next() {
        Some(first) if ENDS.iter().any(|end| first.eq_ignore_ascii_case(end)) => Effect::MayEnd,
        // A statement that begins a transaction is sent as a simple query by tokio-postgres;
        // one sent otherwise is not worth reasoning about.
        Some(first)
            if first.eq_ignore_ascii_case("begin") || first.eq_ignore_ascii_case("start") =>
        {
            Effect::MayEnd
        }
        Some(_) => Effect::Keeps,
        None => Effect::MayEnd,
    }
}

/// The SQL's words (runs of letters and `_`), skipping comments; `None` at the first thing it
/// cannot read past safely, which callers treat as the end of the words.
fn words(sql: &str) -> impl Iterator<Item = &str> {
    let mut rest = sql;
    std::iter::from_fn(move || {
        loop {
            rest = rest.trim_start_matches(|c: char| {
                !c.is_ascii_alphabetic() && c != '-' && c != '/' && c != '_'
            });
            if let Some(after) = rest.strip_prefix("--") {
                rest = after.split_once('\n').map_or("", |(_, line)| line);
            } else if let Some(after) = rest.strip_prefix("/*") {
                rest = after.split_once("*/").map_or("", |(_, tail)| tail);
            } else if rest.starts_with(['-', '/']) {
                rest = &rest[1..];
            } else {
                break;
            }
        }
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(rest.len());
        let (word, tail) = rest.split_at(end);
        rest = tail;
        (!word.is_empty()).then_some(word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_begin_with_settings_opens_and_anything_that_ends_may_end() {
        let opening = "BEGIN; SET LOCAL statement_timeout = 5000; ";
        assert_eq!(of_simple_query(opening), Effect::Opens);
        assert_eq!(
            of_simple_query("start transaction read only"),
            Effect::Opens
        );
        for ends in [
            "COMMIT",
            "DEALLOCATE ALL; COMMIT",
            "begin; select 1; end",
            "ROLLBACK TO SAVEPOINT x; ROLLBACK",
            "abort",
            "PREPARE TRANSACTION 'x'",
        ] {
            assert_eq!(of_simple_query(ends), Effect::MayEnd, "{ends}");
        }
        assert_eq!(of_simple_query("DEALLOCATE ALL"), Effect::Keeps);
        assert_eq!(of_simple_query(""), Effect::Keeps);
    }

    #[test]
    fn words_in_comments_do_not_count_but_words_in_strings_do() {
        assert_eq!(of_simple_query("-- commit\nSELECT 1"), Effect::Keeps);
        assert_eq!(of_simple_query("/* end */ BEGIN"), Effect::Opens);
        // Rough on purpose: a string that says "commit" stops requests going together.
        assert_eq!(of_simple_query("SELECT 'commit'"), Effect::MayEnd);
        assert_eq!(of_simple_query("SELECT 1 -- no end of line"), Effect::Keeps);
    }

    #[test]
    fn a_statement_is_judged_by_its_first_word() {
        let query = "SELECT id, content, user_id FROM message WHERE user_id = $1";
        assert_eq!(of_statement(query), Effect::Keeps);
        assert_eq!(
            of_statement("INSERT INTO t VALUES ('commit')"),
            Effect::Keeps
        );
        assert_eq!(of_statement("  commit"), Effect::MayEnd);
        assert_eq!(of_statement("BEGIN"), Effect::MayEnd);
        assert_eq!(of_statement("  "), Effect::MayEnd);
        assert_eq!(of_statement("/* x */ END"), Effect::MayEnd);
    }
}
