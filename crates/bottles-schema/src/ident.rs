//! SQL identifiers and literals, written the way the server's `quote_ident` and
//! `quote_literal` write them, so planned SQL and the names in messages read alike.

/// The keywords `quote_ident` quotes (every one not UNRESERVED): PostgreSQL 15's
/// `pg_get_keywords()`, plus those 16 and 17 added, so a plan made on 15 also runs there.
const KEYWORDS: &str = "all analyse analyze and any array as asc asymmetric authorization \
    between bigint binary bit boolean both case cast char character check coalesce collate \
    collation column concurrently constraint create cross current_catalog current_date \
    current_role current_schema current_time current_timestamp current_user dec decimal \
    default deferrable desc distinct do else end except exists extract false fetch float for \
    foreign freeze from full grant greatest group grouping having ilike in initially inner \
    inout int integer intersect interval into is isnull join json json_array json_arrayagg \
    json_exists json_object json_objectagg json_query json_scalar json_serialize json_table \
    json_value lateral leading least left like limit localtime localtimestamp merge_action \
    national natural nchar none normalize not notnull null nullif numeric offset on only or \
    order out outer overlaps overlay placing position precision primary real references \
    returning right row select session_user setof similar smallint some substring symmetric \
    system_user table tablesample then time timestamp to trailing treat trim true union \
    unique user using values varchar variadic verbose when where window with xmlattributes \
    xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot \
    xmlserialize xmltable";

/// `name` as an SQL identifier: bare when it is lower-case and no keyword, else double-quoted.
pub fn ident(name: &str) -> String {
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain && !KEYWORDS.split_ascii_whitespace().any(|k| k == name) {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `text` as a string literal (standard_conforming_strings, on by default since 9.1).
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `name` cut to PostgreSQL's 63-byte identifier limit, on a character boundary: the server
/// would cut a longer one itself, and then the plan would name something that does not exist.
pub fn truncated(name: String) -> String {
    if name.len() <= 63 {
        return name;
    }
    let mut end = 63;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_quote_ident() {
        assert_eq!(ident("message"), "message");
        assert_eq!(ident("user"), "\"user\"");
        assert_eq!(ident("Mixed"), "\"Mixed\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(ident("1st"), "\"1st\"");
        assert_eq!(ident("name"), "name");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(truncated("é".repeat(40)).len(), 62);
    }
}
