//! Patch formats a kube-apiserver accepts: JSON merge patch (RFC 7386), JSON patch
//! (RFC 6902), an approximation of strategic merge patch for built-in kinds, and
//! server-side apply approximated as a merge that removes fields the same manager dropped.

mod apply;
mod json_patch;
mod strategic;

use serde_json::Value;

pub(crate) use apply::{apply, fields_of};
pub(crate) use json_patch::json_patch;
pub(crate) use strategic::strategic_merge;

/// A patch that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PatchError {
    /// The patch document is not of the expected shape.
    #[error("{0}")]
    Malformed(String),
    /// A JSON patch `test` operation failed or a path does not exist.
    #[error("{0}")]
    Unprocessable(String),
}

/// Applies an RFC 7386 JSON merge patch.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let target_map = target.as_object_mut().expect("target was made an object");
    for (key, value) in patch_map {
        if value.is_null() {
            target_map.remove(key);
        } else {
            merge_patch(target_map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]});
        merge_patch(
            &mut target,
            &json!({"a": "z", "c": {"f": null}, "list": [3], "new": {"x": 1}}),
        );
        assert_eq!(
            target,
            json!({"a": "z", "c": {"d": "e"}, "list": [3], "new": {"x": 1}})
        );
    }
}
