//! Structural-schema handling for custom resources, as a real server does it on write:
//! pruning of unknown fields, defaulting, and the cheap OpenAPI validations (type, required,
//! enum, bounds, lengths, item counts). `pattern` and CEL rules are not evaluated.

use serde_json::{Map, Value};

use crate::validation::FieldError;

fn preserves_unknown(schema: &Value) -> bool {
    schema["x-kubernetes-preserve-unknown-fields"].as_bool() == Some(true)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Removes fields the schema does not know; returns the paths that were removed.
pub(crate) fn prune(object: &mut Value, schema: &Value) -> Vec<String> {
    let mut pruned = Vec::new();
    if let Value::Object(map) = object {
        let properties = schema["properties"].as_object();
        let keys: Vec<String> = map.keys().cloned().collect();
        for key in keys {
            if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            match properties.and_then(|properties| properties.get(&key)) {
                Some(child_schema) => {
                    if let Some(child) = map.get_mut(&key) {
                        prune_value(child, child_schema, &key, &mut pruned);
                    }
                }
                None if preserves_unknown(schema) => {}
                None => {
                    map.remove(&key);
                    pruned.push(key);
                }
            }
        }
    }
    pruned
}

fn prune_value(value: &mut Value, schema: &Value, path: &str, pruned: &mut Vec<String>) {
    if schema["x-kubernetes-int-or-string"].as_bool() == Some(true) {
        return;
    }
    match value {
        Value::Object(map) => {
            let embedded = schema["x-kubernetes-embedded-resource"].as_bool() == Some(true);
            let properties = schema["properties"].as_object();
            let additional = schema
                .get("additionalProperties")
                .filter(|value| value.is_object());
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if embedded && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let child_schema = properties
                    .and_then(|properties| properties.get(&key))
                    .or(additional);
                match child_schema {
                    Some(child_schema) => {
                        if let Some(child) = map.get_mut(&key) {
                            prune_value(child, child_schema, &join(path, &key), pruned);
                        }
                    }
                    None if preserves_unknown(schema) => {}
                    None if schema["additionalProperties"].as_bool() == Some(true) => {}
                    None => {
                        map.remove(&key);
                        pruned.push(join(path, &key));
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter_mut().enumerate() {
                    prune_value(item, item_schema, &format!("{path}[{index}]"), pruned);
                }
            }
        }
        _ => {}
    }
}

/// Fills absent (or null, when not nullable) fields that have a schema `default`.
pub(crate) fn apply_defaults(value: &mut Value, schema: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(properties) = schema["properties"].as_object() {
                for (key, child_schema) in properties {
                    let Some(default) = child_schema.get("default") else {
                        continue;
                    };
                    let nullable = child_schema["nullable"].as_bool() == Some(true);
                    let absent = match map.get(key) {
                        None => true,
                        Some(Value::Null) => !nullable,
                        Some(_) => false,
                    };
                    if absent {
                        map.insert(key.clone(), default.clone());
                    }
                }
                for (key, child_schema) in properties {
                    if key == "metadata" {
                        continue;
                    }
                    if let Some(child) = map.get_mut(key) {
                        apply_defaults(child, child_schema);
                    }
                }
            } else if let Some(additional) = schema
                .get("additionalProperties")
                .filter(|value| value.is_object())
            {
                for child in map.values_mut() {
                    apply_defaults(child, additional);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    apply_defaults(item, item_schema);
                }
            }
        }
        _ => {}
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn display(value: &Value) -> String {
    match value {
        Value::String(text) => format!("\"{text}\""),
        other => other.to_string(),
    }
}

/// Validates a custom resource (without `metadata`) against its schema.
pub(crate) fn validate(object: &Value, schema: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut root = object.clone();
    if let Value::Object(map) = &mut root {
        map.remove("metadata");
        map.remove("apiVersion");
        map.remove("kind");
    }
    let mut root_schema = schema.clone();
    if let Some(properties) = root_schema["properties"].as_object_mut() {
        properties.remove("metadata");
        properties.remove("apiVersion");
        properties.remove("kind");
    }
    if let Some(required) = root_schema["required"].as_array_mut() {
        required
            .retain(|field| !matches!(field.as_str(), Some("metadata" | "apiVersion" | "kind")));
    }
    validate_value(&root, &root_schema, "", &mut errors);
    errors
}

fn validate_value(value: &Value, schema: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let field = if path.is_empty() { "<root>" } else { path };
    if value.is_null() {
        if schema["nullable"].as_bool() != Some(true) && schema.get("type").is_some() {
            errors.push(FieldError::type_invalid(
                field,
                "\"null\"",
                &format!(
                    "{field} in body must be of type {}: \"null\"",
                    schema["type"].as_str().unwrap_or("object")
                ),
            ));
        }
        return;
    }
    if schema["x-kubernetes-int-or-string"].as_bool() == Some(true) {
        if !matches!(type_name(value), "integer" | "string") {
            errors.push(FieldError::type_invalid(
                field,
                &display(value),
                &format!(
                    "{field} in body must be of type integer or string: \"{}\"",
                    type_name(value)
                ),
            ));
        }
        return;
    }
    if let Some(expected) = schema["type"].as_str() {
        let actual = type_name(value);
        let compatible = actual == expected || (expected == "number" && actual == "integer");
        if !compatible {
            errors.push(FieldError::type_invalid(
                field,
                &format!("\"{actual}\""),
                &format!("{field} in body must be of type {expected}: \"{actual}\""),
            ));
            return;
        }
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            let supported: Vec<String> = allowed.iter().map(display).collect();
            errors.push(FieldError::not_supported(
                field,
                &display(value),
                &supported.join(", "),
            ));
        }
    }
    match value {
        Value::Number(number) => {
            let number = number.as_f64().unwrap_or_default();
            if let Some(minimum) = schema["minimum"].as_f64() {
                if number < minimum {
                    errors.push(FieldError::invalid(
                        field,
                        &display(value),
                        &format!("{field} in body should be greater than or equal to {minimum}"),
                    ));
                }
            }
            if let Some(maximum) = schema["maximum"].as_f64() {
                if number > maximum {
                    errors.push(FieldError::invalid(
                        field,
                        &display(value),
                        &format!("{field} in body should be less than or equal to {maximum}"),
                    ));
                }
            }
        }
        Value::String(text) => {
            let length = text.chars().count() as u64;
            if let Some(minimum) = schema["minLength"].as_u64() {
                if length < minimum {
                    errors.push(FieldError::invalid(
                        field,
                        &display(value),
                        &format!("{field} in body should be at least {minimum} chars long"),
                    ));
                }
            }
            if let Some(maximum) = schema["maxLength"].as_u64() {
                if length > maximum {
                    errors.push(FieldError::too_long(field, maximum));
                }
            }
        }
        Value::Array(items) => {
            let count = items.len() as u64;
            if let Some(minimum) = schema["minItems"].as_u64() {
                if count < minimum {
                    errors.push(FieldError::invalid(
                        field,
                        &count.to_string(),
                        &format!("{field} in body should have at least {minimum} items"),
                    ));
                }
            }
            if let Some(maximum) = schema["maxItems"].as_u64() {
                if count > maximum {
                    errors.push(FieldError::too_many(field, count, maximum));
                }
            }
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    validate_value(item, item_schema, &format!("{path}[{index}]"), errors);
                }
            }
        }
        Value::Object(map) => validate_object(map, schema, path, errors),
        _ => {}
    }
}

fn validate_object(
    map: &Map<String, Value>,
    schema: &Value,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    if let Some(required) = schema["required"].as_array() {
        for name in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(name) {
                errors.push(FieldError::required(&join(path, name)));
            }
        }
    }
    if schema["x-kubernetes-embedded-resource"].as_bool() == Some(true) {
        return;
    }
    let properties = schema["properties"].as_object();
    let additional = schema
        .get("additionalProperties")
        .filter(|value| value.is_object());
    for (key, child) in map {
        let child_schema = properties
            .and_then(|properties| properties.get(key))
            .or(additional);
        if let Some(child_schema) = child_schema {
            validate_value(child, child_schema, &join(path, key), errors);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["size"],
                    "properties": {
                        "size": {"type": "integer", "minimum": 1},
                        "colour": {"type": "string", "default": "blue", "enum": ["blue", "red"]},
                        "nested": {
                            "type": "object",
                            "properties": {"kept": {"type": "string"}, "mode": {"type": "string", "default": "fast"}}
                        },
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}
                    }
                },
                "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
            }
        })
    }

    #[test]
    fn unknown_fields_are_pruned_at_every_level() {
        let mut object = json!({
            "apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 1, "unknown": true, "nested": {"kept": "x", "dropped": 1},
                     "free": {"anything": {"goes": 1}}, "labels": {"a": "b"},
                     "items": [{"name": "one", "extra": 2}]},
            "other": 1
        });
        let pruned = prune(&mut object, &schema());
        assert_eq!(
            object["spec"],
            json!({"size": 1, "nested": {"kept": "x"}, "free": {"anything": {"goes": 1}},
                   "labels": {"a": "b"}, "items": [{"name": "one"}]})
        );
        assert!(object.get("other").is_none());
        assert_eq!(pruned.len(), 4, "{pruned:?}");
        assert!(pruned.contains(&"spec.nested.dropped".to_string()));
    }

    #[test]
    fn defaults_fill_absent_fields_inside_present_objects() {
        let mut object = json!({"spec": {"size": 1, "nested": {}}});
        apply_defaults(&mut object, &schema());
        assert_eq!(object["spec"]["colour"], "blue");
        assert_eq!(object["spec"]["nested"]["mode"], "fast");
        let mut without_nested = json!({"spec": {"size": 1}});
        apply_defaults(&mut without_nested, &schema());
        assert!(without_nested["spec"].get("nested").is_none());
    }

    #[test]
    fn validation_reports_type_required_enum_and_bounds() {
        let errors = validate(
            &json!({"metadata": {"name": "w"}, "spec": {"colour": "green", "nested": {"kept": 5}}}),
            &schema(),
        );
        let messages: Vec<String> = errors.iter().map(FieldError::to_string).collect();
        assert!(
            messages.contains(&"spec.size: Required value".to_string()),
            "{messages:?}"
        );
        assert!(
            messages.contains(
                &"spec.colour: Unsupported value: \"green\": supported values: \"blue\", \"red\""
                    .to_string()
            ),
            "{messages:?}"
        );
        assert!(
            messages.contains(&"spec.nested.kept: Invalid value: \"integer\": spec.nested.kept in body must be of type string: \"integer\"".to_string()),
            "{messages:?}"
        );
        let small = validate(&json!({"spec": {"size": 0}}), &schema());
        assert_eq!(
            small[0].to_string(),
            "spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"
        );
        assert!(validate(&json!({"spec": {"size": 2}}), &schema()).is_empty());
    }
}
