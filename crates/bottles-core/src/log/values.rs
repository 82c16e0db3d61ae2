//! Shows a bound parameter the way Rust's `Debug` would show the value it came from, decoding
//! PostgreSQL's binary format for the common types (postgres-types names them,
//! postgres-protocol decodes them). Long text and long arrays are cut short, so
//! a bulk insert's parameters stay one readable line.

use std::fmt::Write as _;

use postgres_protocol::types;
use postgres_types::{Kind, Type};
use tokio_postgres::fallible_iterator::FallibleIterator;

use super::conversation::Param;

/// Characters of a text value shown before it is cut.
const TEXT_SHOWN: usize = 64;
/// Items of an array shown before it is cut.
const ITEMS_SHOWN: usize = 3;

/// The parameter as text: `"Eli"`, `33`, `["Nick", "Eli", "Paul", … 10000 items]`, `NULL`.
pub(crate) fn render(param: &Param) -> String {
    match (&param.value, param.binary) {
        (None, _) => "NULL".into(),
        (Some(bytes), false) => text(&String::from_utf8_lossy(bytes)),
        (Some(bytes), true) => {
            binary(param.type_oid, bytes).unwrap_or_else(|| opaque(param.type_oid, bytes))
        }
    }
}

fn opaque(type_oid: u32, bytes: &[u8]) -> String {
    format!("<type {type_oid}, {} bytes>", bytes.len())
}

fn text(value: &str) -> String {
    let count = value.chars().count();
    if count <= TEXT_SHOWN {
        return format!("{value:?}");
    }
    let shown: String = value.chars().take(TEXT_SHOWN).collect();
    format!("{shown:?}… ({count} characters)")
}

/// Decodes one binary value of a built-in type with postgres-protocol's decoders; `None` for a
/// type it does not show (or bytes that are not that type).
fn binary(type_oid: u32, bytes: &[u8]) -> Option<String> {
    let ty = Type::from_oid(type_oid)?;
    Some(match ty {
        Type::BOOL => types::bool_from_sql(bytes).ok()?.to_string(),
        Type::INT2 => types::int2_from_sql(bytes).ok()?.to_string(),
        Type::INT4 => types::int4_from_sql(bytes).ok()?.to_string(),
        Type::INT8 => types::int8_from_sql(bytes).ok()?.to_string(),
        Type::OID => types::oid_from_sql(bytes).ok()?.to_string(),
        Type::FLOAT4 => types::float4_from_sql(bytes).ok()?.to_string(),
        Type::FLOAT8 => types::float8_from_sql(bytes).ok()?.to_string(),
        Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR | Type::UNKNOWN | Type::JSON => {
            text(types::text_from_sql(bytes).ok()?)
        }
        Type::UUID => uuid(&types::uuid_from_sql(bytes).ok()?),
        Type::BYTEA => format!("<{} bytes>", bytes.len()),
        _ if matches!(ty.kind(), Kind::Array(_)) => return array(bytes),
        _ => return None,
    })
}

fn uuid(bytes: &[u8; 16]) -> String {
    let mut shown = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            shown.push('-');
        }
        let _ = write!(shown, "{byte:02x}");
    }
    shown
}

/// A one-dimensional array, its first items shown as their element type would be.
fn array(bytes: &[u8]) -> Option<String> {
    let array = types::array_from_sql(bytes).ok()?;
    let dimensions: Vec<_> = array.dimensions().collect().ok()?;
    let length = match dimensions.as_slice() {
        [] => return Some("[]".into()),
        [only] => usize::try_from(only.len).ok()?,
        _ => return None,
    };
    let element = array.element_type();
    let mut items: Vec<String> = array
        .values()
        .take(ITEMS_SHOWN)
        .map(|value| {
            Ok(match value {
                Some(value) => binary(element, value).unwrap_or_else(|| opaque(element, value)),
                None => "NULL".into(),
            })
        })
        .collect()
        .ok()?;
    if length > ITEMS_SHOWN {
        items.push(format!("… {length} items"));
    }
    Some(format!("[{}]", items.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary_param(type_oid: u32, value: &[u8]) -> Param {
        Param {
            type_oid,
            binary: true,
            value: Some(value.to_vec()),
        }
    }

    fn text_array(items: &[&str]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for part in [1i32, 0, 25, items.len() as i32, 1] {
            bytes.extend(part.to_be_bytes());
        }
        for item in items {
            bytes.extend((item.len() as i32).to_be_bytes());
            bytes.extend(item.as_bytes());
        }
        bytes
    }

    #[test]
    fn values_show_as_rust_would_debug_them() {
        assert_eq!(render(&binary_param(25, b"Eli")), r#""Eli""#);
        assert_eq!(render(&binary_param(23, &33i32.to_be_bytes())), "33");
        assert_eq!(render(&binary_param(20, &(-5i64).to_be_bytes())), "-5");
        assert_eq!(render(&binary_param(16, &[1])), "true");
        assert_eq!(
            render(&binary_param(25, "tab\there".as_bytes())),
            r#""tab\there""#
        );
        let null = Param {
            type_oid: 25,
            binary: true,
            value: None,
        };
        assert_eq!(render(&null), "NULL");
        assert_eq!(render(&binary_param(9999, &[1, 2])), "<type 9999, 2 bytes>");
        assert_eq!(render(&binary_param(23, &[1, 2])), "<type 23, 2 bytes>");
    }

    #[test]
    fn long_text_and_long_arrays_are_cut_short() {
        let names = text_array(&["Nick", "Eli", "Paul", "User 4", "User 5"]);
        assert_eq!(
            render(&binary_param(1009, &names)),
            r#"["Nick", "Eli", "Paul", … 5 items]"#
        );
        assert_eq!(render(&binary_param(1009, &text_array(&["a"]))), r#"["a"]"#);
        let long = "m".repeat(1 << 20);
        let shown = render(&binary_param(25, long.as_bytes()));
        assert!(
            shown.ends_with("… (1048576 characters)") && shown.len() < 100,
            "{shown}"
        );
    }
}
