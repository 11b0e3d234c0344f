//! An approximation of strategic merge patch: JSON merge patch, except that the lists the
//! built-in kinds declare as merge lists (containers by name, volume mounts by path, ...)
//! merge item by item, plus the `$patch`, `$retainKeys`, `$setElementOrder` and
//! `$deleteFromPrimitiveList` directives kubectl sends.

use serde_json::{Map, Value};

use super::PatchError;

const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";

/// How a list field merges, keyed by the field name (the Go types agree across kinds).
pub(super) enum ListStrategy {
    ByKey(&'static str),
    PrimitiveSet,
    Replace,
}

pub(super) fn list_strategy(field: &str, items: &[Value]) -> ListStrategy {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "imagePullSecrets"
        | "volumes"
        | "env"
        | "resourceClaims" => ListStrategy::ByKey("name"),
        "volumeMounts" => ListStrategy::ByKey("mountPath"),
        "volumeDevices" => ListStrategy::ByKey("devicePath"),
        "conditions" => ListStrategy::ByKey("type"),
        "ownerReferences" => ListStrategy::ByKey("uid"),
        "hostAliases" => ListStrategy::ByKey("ip"),
        "topologySpreadConstraints" => ListStrategy::ByKey("topologyKey"),
        "ports" => {
            if items.iter().any(|item| item.get("containerPort").is_some()) {
                ListStrategy::ByKey("containerPort")
            } else {
                ListStrategy::ByKey("port")
            }
        }
        "finalizers" => ListStrategy::PrimitiveSet,
        _ => ListStrategy::Replace,
    }
}

/// Applies a strategic merge patch to `target`.
pub(crate) fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let Value::Object(patch_map) = patch else {
        return Err(PatchError::Malformed(
            "json: cannot unmarshal into Go value of type map[string]interface {}".into(),
        ));
    };
    match merge_map(target.as_object().cloned(), patch_map)? {
        Some(merged) => *target = Value::Object(merged),
        None => *target = Value::Object(Map::new()),
    }
    Ok(())
}

/// Merges a patch map into a target map; `None` means the patch deleted the map.
fn merge_map(
    target: Option<Map<String, Value>>,
    patch: &Map<String, Value>,
) -> Result<Option<Map<String, Value>>, PatchError> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("delete") => return Ok(None),
        Some("replace") => {
            let mut replaced = patch.clone();
            replaced.remove("$patch");
            return Ok(Some(without_directives(replaced)));
        }
        Some(other) => {
            return Err(PatchError::Malformed(format!(
                "unknown patch type: {other} in map"
            )))
        }
        None => {}
    }
    let mut target = target.unwrap_or_default();
    if let Some(retained) = patch.get("$retainKeys").and_then(Value::as_array) {
        target.retain(|key, _| {
            retained.iter().any(|kept| kept.as_str() == Some(key)) || patch.contains_key(key)
        });
    }
    for (key, value) in patch {
        if key == "$retainKeys" || key.starts_with(SET_ELEMENT_ORDER) {
            continue;
        }
        if let Some(field) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            let removed = value.as_array().cloned().unwrap_or_default();
            if let Some(Value::Array(items)) = target.get_mut(field) {
                items.retain(|item| !removed.contains(item));
            }
            continue;
        }
        if value.is_null() {
            target.remove(key);
            continue;
        }
        let existing = target.remove(key);
        let merged = match (existing, value) {
            (Some(Value::Object(existing)), Value::Object(patch_child)) => {
                merge_map(Some(existing), patch_child)?.map(Value::Object)
            }
            (None, Value::Object(patch_child)) => merge_map(None, patch_child)?.map(Value::Object),
            (Some(Value::Array(existing)), Value::Array(patch_items)) => {
                Some(Value::Array(merge_list(key, existing, patch_items)?))
            }
            (None, Value::Array(patch_items)) => {
                Some(Value::Array(merge_list(key, Vec::new(), patch_items)?))
            }
            (_, other) => Some(other.clone()),
        };
        if let Some(merged) = merged {
            target.insert(key.clone(), merged);
        }
    }
    Ok(Some(target))
}

fn without_directives(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .filter(|(key, _)| !key.starts_with('$'))
        .map(|(key, value)| match value {
            Value::Object(child) => (key, Value::Object(without_directives(child))),
            other => (key, other),
        })
        .collect()
}

fn merge_list(
    field: &str,
    existing: Vec<Value>,
    patch_items: &[Value],
) -> Result<Vec<Value>, PatchError> {
    let replace_all = patch_items
        .iter()
        .any(|item| item.get("$patch").and_then(Value::as_str) == Some("replace"));
    if replace_all {
        return Ok(patch_items
            .iter()
            .filter(|item| item.get("$patch").is_none())
            .cloned()
            .collect());
    }
    let mut all_items = existing.clone();
    all_items.extend(patch_items.iter().cloned());
    match list_strategy(field, &all_items) {
        ListStrategy::Replace => Ok(patch_items
            .iter()
            .map(|item| match item {
                Value::Object(map) => Value::Object(without_directives(map.clone())),
                other => other.clone(),
            })
            .collect()),
        ListStrategy::PrimitiveSet => {
            let mut merged = existing;
            for item in patch_items {
                if !merged.contains(item) {
                    merged.push(item.clone());
                }
            }
            Ok(merged)
        }
        ListStrategy::ByKey(merge_key) => {
            let mut merged = existing;
            for item in patch_items {
                let Value::Object(item_map) = item else {
                    merged.push(item.clone());
                    continue;
                };
                let key_value = item_map.get(merge_key);
                let position = key_value.and_then(|key_value| {
                    merged
                        .iter()
                        .position(|candidate| candidate.get(merge_key) == Some(key_value))
                });
                let deleting = item_map.get("$patch").and_then(Value::as_str) == Some("delete");
                match (position, deleting) {
                    (Some(index), true) => {
                        merged.remove(index);
                    }
                    (None, true) => {}
                    (Some(index), false) => {
                        let current = merged[index].as_object().cloned();
                        if let Some(updated) = merge_map(current, item_map)? {
                            merged[index] = Value::Object(updated);
                        }
                    }
                    (None, false) => {
                        if let Some(created) = merge_map(None, item_map)? {
                            merged.push(Value::Object(created));
                        }
                    }
                }
            }
            Ok(merged)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containers_merge_by_name_and_keep_unpatched_fields() {
        let mut deployment = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}]},
            {"name": "sidecar", "image": "s:1"}
        ]}}}});
        strategic_merge(
            &mut deployment,
            &json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
                "containers": [{"name": "app", "image": "a:2", "env": [{"name": "B", "value": "2"}]}]
            }}}}),
        )
        .unwrap();
        assert_eq!(
            deployment["spec"]["template"]["spec"]["containers"],
            json!([
                {"name": "app", "image": "a:2", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                {"name": "sidecar", "image": "s:1"}
            ])
        );
    }

    #[test]
    fn delete_directives_remove_items_and_maps() {
        let mut pod = json!({
            "metadata": {"finalizers": ["a", "b"], "labels": {"x": "1"}},
            "spec": {"volumes": [{"name": "one"}, {"name": "two"}], "affinity": {"nodeAffinity": {}}}
        });
        strategic_merge(
            &mut pod,
            &json!({
                "metadata": {"$deleteFromPrimitiveList/finalizers": ["a"], "labels": {"x": null}},
                "spec": {"volumes": [{"name": "one", "$patch": "delete"}], "affinity": {"$patch": "delete"}}
            }),
        )
        .unwrap();
        assert_eq!(
            pod,
            json!({"metadata": {"finalizers": ["b"], "labels": {}}, "spec": {"volumes": [{"name": "two"}]}})
        );
    }

    #[test]
    fn lists_without_a_merge_key_are_replaced() {
        let mut pod = json!({"spec": {"containers": [{"name": "app", "args": ["a", "b"]}]}});
        strategic_merge(
            &mut pod,
            &json!({"spec": {"containers": [{"name": "app", "args": ["c"]}]}}),
        )
        .unwrap();
        assert_eq!(pod["spec"]["containers"][0]["args"], json!(["c"]));
    }

    #[test]
    fn service_ports_merge_by_port_and_finalizers_merge_as_a_set() {
        let mut service = json!({"metadata": {"finalizers": ["a"]}, "spec": {"ports": [{"port": 80, "name": "http"}]}});
        strategic_merge(
            &mut service,
            &json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"ports": [{"port": 443, "name": "https"}]}}),
        )
        .unwrap();
        assert_eq!(service["metadata"]["finalizers"], json!(["a", "b"]));
        assert_eq!(service["spec"]["ports"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn retain_keys_drops_fields_not_listed() {
        let mut deployment = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
        strategic_merge(
            &mut deployment,
            &json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
        )
        .unwrap();
        assert_eq!(deployment["spec"]["strategy"], json!({"type": "Recreate"}));
    }
}
