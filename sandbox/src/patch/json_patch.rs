//! RFC 6902 JSON patch: add, remove, replace, move, copy and test over RFC 6901 pointers.

use serde_json::Value;

use super::PatchError;

fn decode_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(pointer: &str) -> Result<(Vec<String>, String), PatchError> {
    if pointer.is_empty() {
        return Ok((Vec::new(), String::new()));
    }
    let rest = pointer
        .strip_prefix('/')
        .ok_or_else(|| PatchError::Malformed(format!("invalid JSON pointer \"{pointer}\"")))?;
    let mut tokens: Vec<String> = rest.split('/').map(decode_token).collect();
    let last = tokens.pop().unwrap_or_default();
    Ok((tokens, last))
}

fn parent_mut<'a>(
    document: &'a mut Value,
    tokens: &[String],
    pointer: &str,
) -> Result<&'a mut Value, PatchError> {
    let mut current = document;
    for token in tokens {
        current = match current {
            Value::Object(map) => map.get_mut(token),
            Value::Array(items) => token
                .parse::<usize>()
                .ok()
                .and_then(move |index| items.get_mut(index)),
            _ => None,
        }
        .ok_or_else(|| PatchError::Unprocessable(format!("doc is missing path: \"{pointer}\"")))?;
    }
    Ok(current)
}

fn add(document: &mut Value, pointer: &str, value: Value) -> Result<(), PatchError> {
    let (tokens, last) = split_pointer(pointer)?;
    if pointer.is_empty() {
        *document = value;
        return Ok(());
    }
    match parent_mut(document, &tokens, pointer)? {
        Value::Object(map) => {
            map.insert(last, value);
            Ok(())
        }
        Value::Array(items) => {
            if last == "-" {
                items.push(value);
                return Ok(());
            }
            let index = last
                .parse::<usize>()
                .ok()
                .filter(|index| *index <= items.len());
            let index = index.ok_or_else(|| {
                PatchError::Unprocessable(format!("unable to add at index \"{pointer}\""))
            })?;
            items.insert(index, value);
            Ok(())
        }
        _ => Err(PatchError::Unprocessable(format!(
            "doc is missing path: \"{pointer}\""
        ))),
    }
}

fn remove(document: &mut Value, pointer: &str) -> Result<Value, PatchError> {
    let (tokens, last) = split_pointer(pointer)?;
    let missing = || PatchError::Unprocessable(format!("doc is missing path: \"{pointer}\""));
    match parent_mut(document, &tokens, pointer)? {
        Value::Object(map) => map.remove(&last).ok_or_else(missing),
        Value::Array(items) => {
            let index = last
                .parse::<usize>()
                .ok()
                .filter(|index| *index < items.len())
                .ok_or_else(missing)?;
            Ok(items.remove(index))
        }
        _ => Err(missing()),
    }
}

fn get(document: &Value, pointer: &str) -> Result<Value, PatchError> {
    document
        .pointer(pointer)
        .cloned()
        .ok_or_else(|| PatchError::Unprocessable(format!("doc is missing path: \"{pointer}\"")))
}

/// Applies an RFC 6902 patch document (an array of operations).
pub(crate) fn json_patch(document: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let operations = patch.as_array().ok_or_else(|| {
        PatchError::Malformed(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch".into(),
        )
    })?;
    for operation in operations {
        let name = operation["op"].as_str().unwrap_or_default();
        let path = operation["path"]
            .as_str()
            .ok_or_else(|| PatchError::Malformed(format!("operation {operation} has no path")))?;
        let value = || {
            operation
                .get("value")
                .cloned()
                .ok_or_else(|| PatchError::Malformed(format!("operation {operation} has no value")))
        };
        let from = || {
            operation["from"]
                .as_str()
                .ok_or_else(|| PatchError::Malformed(format!("operation {operation} has no from")))
        };
        match name {
            "add" => add(document, path, value()?)?,
            "remove" => {
                remove(document, path)?;
            }
            "replace" => {
                remove(document, path)?;
                add(document, path, value()?)?;
            }
            "move" => {
                let moved = remove(document, from()?)?;
                add(document, path, moved)?;
            }
            "copy" => {
                let copied = get(document, from()?)?;
                add(document, path, copied)?;
            }
            "test" => {
                // evanphx/json-patch, which the apiserver uses, reads a missing member of an
                // existing parent as null (kube-rs's finalizer helper relies on it).
                let parent_exists = path
                    .rsplit_once('/')
                    .is_some_and(|(parent, _)| document.pointer(parent).is_some());
                let actual = match get(document, path) {
                    Ok(actual) => actual,
                    Err(_) if parent_exists => Value::Null,
                    Err(error) => return Err(error),
                };
                if actual != value()? {
                    return Err(PatchError::Unprocessable(format!(
                        "testing value {path} failed: test failed"
                    )));
                }
            }
            other => return Err(PatchError::Malformed(format!("Unexpected kind: {other}"))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_apply_in_order() {
        let mut document = json!({"metadata": {"labels": {"a": "1"}}, "list": [1, 2]});
        json_patch(
            &mut document,
            &json!([
                {"op": "add", "path": "/metadata/labels/b", "value": "2"},
                {"op": "remove", "path": "/metadata/labels/a"},
                {"op": "add", "path": "/list/-", "value": 3},
                {"op": "replace", "path": "/list/0", "value": 0},
                {"op": "copy", "from": "/list/2", "path": "/copied"},
                {"op": "move", "from": "/copied", "path": "/moved"},
                {"op": "test", "path": "/moved", "value": 3},
                {"op": "add", "path": "/metadata/labels/x~1y", "value": "z"}
            ]),
        )
        .unwrap();
        assert_eq!(
            document,
            json!({"metadata": {"labels": {"b": "2", "x/y": "z"}}, "list": [0, 2, 3], "moved": 3})
        );
    }

    #[test]
    fn failing_test_and_missing_paths_are_unprocessable() {
        let mut document = json!({"a": 1});
        let failed = json_patch(
            &mut document,
            &json!([{"op": "test", "path": "/a", "value": 2}]),
        );
        assert!(matches!(failed, Err(PatchError::Unprocessable(_))));
        let missing = json_patch(&mut document, &json!([{"op": "remove", "path": "/b"}]));
        assert!(matches!(missing, Err(PatchError::Unprocessable(_))));
        let malformed = json_patch(&mut document, &json!({"op": "add"}));
        assert!(matches!(malformed, Err(PatchError::Malformed(_))));
    }

    #[test]
    fn a_missing_member_tests_as_null_when_its_parent_exists() {
        let mut document = json!({"metadata": {"name": "x"}});
        json_patch(
            &mut document,
            &json!([
                {"op": "test", "path": "/metadata/finalizers", "value": null},
                {"op": "add", "path": "/metadata/finalizers", "value": ["keep"]},
            ]),
        )
        .unwrap();
        assert_eq!(document["metadata"]["finalizers"], json!(["keep"]));
        let no_parent = json_patch(
            &mut document,
            &json!([{"op": "test", "path": "/spec/x", "value": null}]),
        );
        assert!(matches!(no_parent, Err(PatchError::Unprocessable(_))));
    }
}
