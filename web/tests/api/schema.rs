//! Checking a JSON answer against the schema the OpenAPI document gives it.

use serde_json::Value;

/// Follows a `$ref` into the components.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &spec["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// Checks `value` against a JSON schema as utoipa writes them (objects with required
/// properties, arrays, the scalar types, `type` as a list for nullable ones).
pub fn conforms(spec: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(spec, schema);
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => panic!("{at}: no type in {schema}"),
    };
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let fits = types.contains(&kind) || (kind == "integer" && types.contains(&"number"));
    assert!(fits, "{at}: {value} is not of type {types:?}");
    match value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate().take(5) {
                conforms(spec, &schema["items"], item, &format!("{at}[{index}]"));
            }
        }
        Value::Object(fields) => {
            let properties = schema["properties"].as_object().expect("properties");
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap();
                assert!(
                    fields.contains_key(name),
                    "{at}: {name} missing from {value}"
                );
            }
            for (name, field) in fields {
                let property = properties
                    .get(name)
                    .unwrap_or_else(|| panic!("{at}: {name} is not documented"));
                conforms(spec, property, field, &format!("{at}.{name}"));
            }
        }
        _ => {}
    }
}
