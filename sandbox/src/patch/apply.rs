//! Server-side apply, approximated: the applied configuration is merged into the live object,
//! and fields this field manager applied before but left out now are removed. Ownership is
//! tracked in `managedFields` (`fieldsV1`) exactly as a real server spells it, but conflicts
//! between managers are not detected.

use serde_json::{json, Map, Value};

use super::strategic::{list_strategy, ListStrategy};

fn merge_key_of(field: &str, items: &[Value], keyed_lists: bool) -> Option<&'static str> {
    if !keyed_lists {
        return None;
    }
    match list_strategy(field, items) {
        ListStrategy::ByKey(key) => Some(key),
        _ => None,
    }
}

fn item_key(merge_key: &str, item: &Value) -> String {
    let mut key = Map::new();
    key.insert(
        merge_key.to_string(),
        item.get(merge_key).cloned().unwrap_or(Value::Null),
    );
    format!("k:{}", Value::Object(key))
}

/// The `fieldsV1` set of an applied configuration.
pub(crate) fn fields_of(applied: &Value, keyed_lists: bool) -> Value {
    fn walk(value: &Value, keyed_lists: bool) -> Value {
        let Value::Object(map) = value else {
            return json!({});
        };
        let mut fields = Map::new();
        for (key, child) in map {
            let entry = match child {
                Value::Object(_) => walk(child, keyed_lists),
                Value::Array(items) => match merge_key_of(key, items, keyed_lists) {
                    Some(merge_key) => {
                        let mut keyed = Map::new();
                        for item in items {
                            let mut item_fields = walk(item, keyed_lists);
                            if let Value::Object(item_map) = &mut item_fields {
                                item_map.insert(".".to_string(), json!({}));
                            }
                            keyed.insert(item_key(merge_key, item), item_fields);
                        }
                        Value::Object(keyed)
                    }
                    None => json!({}),
                },
                _ => json!({}),
            };
            fields.insert(format!("f:{key}"), entry);
        }
        Value::Object(fields)
    }
    walk(applied, keyed_lists)
}

fn remove_dropped(live: &mut Value, previous: &Value, current: &Value) {
    let (Some(live_map), Some(previous_map)) = (live.as_object_mut(), previous.as_object()) else {
        return;
    };
    for (field, previous_child) in previous_map {
        let Some(name) = field.strip_prefix("f:") else {
            continue;
        };
        match current.get(field) {
            None => {
                live_map.remove(name);
            }
            Some(current_child) => {
                let Some(live_child) = live_map.get_mut(name) else {
                    continue;
                };
                if let Value::Array(items) = live_child {
                    let dropped: Vec<&String> = previous_child
                        .as_object()
                        .map(|keys| {
                            keys.keys()
                                .filter(|key| {
                                    key.starts_with("k:") && current_child.get(*key).is_none()
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    items.retain(|item| {
                        !dropped.iter().any(|key| {
                            serde_json::from_str::<Map<String, Value>>(&key[2..])
                                .map(|fields| {
                                    fields
                                        .iter()
                                        .all(|(name, value)| item.get(name) == Some(value))
                                })
                                .unwrap_or(false)
                        })
                    });
                    for item in items.iter_mut() {
                        for (key, previous_item) in previous_child.as_object().into_iter().flatten()
                        {
                            let Some(current_item) = current_child.get(key) else {
                                continue;
                            };
                            let matches = serde_json::from_str::<Map<String, Value>>(
                                key.get(2..).unwrap_or_default(),
                            )
                            .map(|fields| {
                                fields
                                    .iter()
                                    .all(|(name, value)| item.get(name) == Some(value))
                            })
                            .unwrap_or(false);
                            if matches {
                                remove_dropped(item, previous_item, current_item);
                            }
                        }
                    }
                } else {
                    remove_dropped(live_child, previous_child, current_child);
                }
            }
        }
    }
}

fn merge_applied(live: &mut Value, applied: &Value, keyed_lists: bool) {
    let Value::Object(applied_map) = applied else {
        *live = applied.clone();
        return;
    };
    if !live.is_object() {
        *live = Value::Object(Map::new());
    }
    let live_map = live.as_object_mut().expect("live was made an object");
    for (key, value) in applied_map {
        match value {
            Value::Null => {
                live_map.remove(key);
            }
            Value::Object(_) => merge_applied(
                live_map.entry(key.clone()).or_insert(Value::Null),
                value,
                keyed_lists,
            ),
            Value::Array(items) => {
                let existing = live_map.get(key).and_then(Value::as_array).cloned();
                let merged = match (merge_key_of(key, items, keyed_lists), existing) {
                    (Some(merge_key), Some(mut existing)) => {
                        for item in items {
                            let position = existing.iter().position(|candidate| {
                                candidate.get(merge_key) == item.get(merge_key)
                            });
                            match position {
                                Some(index) => {
                                    merge_applied(&mut existing[index], item, keyed_lists)
                                }
                                None => existing.push(item.clone()),
                            }
                        }
                        existing
                    }
                    _ => items.clone(),
                };
                live_map.insert(key.clone(), Value::Array(merged));
            }
            scalar => {
                live_map.insert(key.clone(), scalar.clone());
            }
        }
    }
}

/// Applies `applied` over `live`, removing what the same manager applied before
/// (`previous_fields`, its `fieldsV1`) but no longer sets. `keyed_lists` enables the
/// built-in merge keys for lists; custom resources treat lists as atomic.
pub(crate) fn apply(
    live: &Value,
    previous_fields: Option<&Value>,
    applied: &Value,
    keyed_lists: bool,
) -> Value {
    let mut result = live.clone();
    if let Some(previous_fields) = previous_fields {
        let current_fields = fields_of(applied, keyed_lists);
        remove_dropped(&mut result, previous_fields, &current_fields);
    }
    merge_applied(&mut result, applied, keyed_lists);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applied_fields_are_recorded_like_fields_v1() {
        let fields = fields_of(
            &json!({"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "app", "image": "x"}]}}),
            true,
        );
        assert_eq!(
            fields,
            json!({
                "f:metadata": {"f:labels": {"f:a": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:name": {}, "f:image": {}}}}
            })
        );
    }

    #[test]
    fn reapplying_without_a_field_removes_it_but_keeps_other_managers_fields() {
        let first = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": 1}});
        let live = {
            let mut live = apply(&json!({"metadata": {"name": "n"}}), None, &first, false);
            live["metadata"]["labels"]["other"] = json!("kept");
            live
        };
        let previous = fields_of(&first, false);
        let second = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"y": 2}});
        let result = apply(&live, Some(&previous), &second, false);
        assert_eq!(
            result,
            json!({"metadata": {"name": "n", "labels": {"a": "1", "other": "kept"}}, "spec": {"y": 2}})
        );
    }

    #[test]
    fn keyed_list_items_merge_and_dropped_items_go_away() {
        let first = json!({"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]}});
        let live = apply(&json!({}), None, &first, true);
        let second = json!({"spec": {"containers": [{"name": "a", "image": "2"}]}});
        let result = apply(&live, Some(&fields_of(&first, true)), &second, true);
        assert_eq!(
            result,
            json!({"spec": {"containers": [{"name": "a", "image": "2"}]}})
        );
    }
}
