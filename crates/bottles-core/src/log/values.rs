//! Shows a bound parameter the way Rust's `Debug` would show the value it came from, decoding
//! PostgreSQL's binary format for the common types. Long text and long arrays are cut short, so
//! a bulk insert's parameters stay one readable line.

use std::fmt::Write as _;

use super::conversation::Param;
use crate::wire::framer::Body;

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

/// Decodes one binary value of a built-in type; `None` for a type it does not know.
fn binary(type_oid: u32, bytes: &[u8]) -> Option<String> {
    let exact = |n: usize| (bytes.len() == n).then_some(bytes);
    Some(match type_oid {
        16 => (exact(1)?[0] != 0).to_string(),
        21 => i16::from_be_bytes(exact(2)?.try_into().ok()?).to_string(),
        23 => i32::from_be_bytes(exact(4)?.try_into().ok()?).to_string(),
        20 => i64::from_be_bytes(exact(8)?.try_into().ok()?).to_string(),
        26 => u32::from_be_bytes(exact(4)?.try_into().ok()?).to_string(),
        700 => f32::from_be_bytes(exact(4)?.try_into().ok()?).to_string(),
        701 => f64::from_be_bytes(exact(8)?.try_into().ok()?).to_string(),
        // text, varchar, name, bpchar, unknown, json
        25 | 1043 | 19 | 1042 | 705 | 114 => text(std::str::from_utf8(bytes).ok()?),
        2950 => uuid(exact(16)?),
        17 => format!("<{} bytes>", bytes.len()),
        _ => return array(bytes, element_type(type_oid)?),
    })
}

fn uuid(bytes: &[u8]) -> String {
    let mut shown = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            shown.push('-');
        }
        let _ = write!(shown, "{byte:02x}");
    }
    shown
}

/// The element type of the array types above.
fn element_type(array_oid: u32) -> Option<u32> {
    Some(match array_oid {
        1000 => 16,
        1005 => 21,
        1007 => 23,
        1016 => 20,
        1028 => 26,
        1021 => 700,
        1022 => 701,
        1009 => 25,
        1015 => 1043,
        1003 => 19,
        1014 => 1042,
        2951 => 2950,
        1001 => 17,
        _ => return None,
    })
}

/// A one-dimensional binary array: dimensions, null flag, element type, then each element.
fn array(bytes: &[u8], element: u32) -> Option<String> {
    let mut body = Body(bytes);
    let dimensions = body.i32()?;
    let (_has_nulls, _element) = (body.i32()?, body.u32()?);
    if dimensions == 0 {
        return Some("[]".into());
    }
    if dimensions != 1 {
        return None;
    }
    let (length, _lower_bound) = (body.i32()?, body.i32()?);
    let length = usize::try_from(length).ok()?;
    let mut items = Vec::with_capacity(length.min(ITEMS_SHOWN));
    for _ in 0..length.min(ITEMS_SHOWN) {
        let size = body.i32()?;
        items.push(match usize::try_from(size) {
            Ok(size) => {
                let value = body.bytes(size)?;
                binary(element, value).unwrap_or_else(|| opaque(element, value))
            }
            Err(_) => "NULL".into(),
        });
    }
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
