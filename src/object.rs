//! Reading KubeStash objects from YAML or JSON documents into the typed API, with the
//! field path of the first error.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::api::{addons, appcatalog, core, storage};

/// Any object of the KubeStash API (plus AppBinding), or another Kubernetes object.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Object {
    /// storage.kubestash.com BackupStorage.
    BackupStorage(storage::BackupStorage),
    /// storage.kubestash.com Repository.
    Repository(storage::Repository),
    /// storage.kubestash.com RetentionPolicy.
    RetentionPolicy(storage::RetentionPolicy),
    /// storage.kubestash.com Snapshot.
    Snapshot(storage::Snapshot),
    /// core.kubestash.com BackupConfiguration.
    BackupConfiguration(core::BackupConfiguration),
    /// core.kubestash.com BackupSession.
    BackupSession(core::BackupSession),
    /// core.kubestash.com RestoreSession.
    RestoreSession(core::RestoreSession),
    /// core.kubestash.com HookTemplate.
    HookTemplate(core::HookTemplate),
    /// core.kubestash.com BackupBlueprint.
    BackupBlueprint(core::BackupBlueprint),
    /// core.kubestash.com BackupBatch.
    BackupBatch(core::BackupBatch),
    /// core.kubestash.com BackupVerifier.
    BackupVerifier(core::BackupVerifier),
    /// core.kubestash.com BackupVerificationSession.
    BackupVerificationSession(core::BackupVerificationSession),
    /// addons.kubestash.com Addon.
    Addon(addons::Addon),
    /// addons.kubestash.com Function.
    Function(addons::Function),
    /// appcatalog.appscode.com AppBinding.
    AppBinding(appcatalog::AppBinding),
    /// Any other object (a Deployment, a Secret, ...), kept as it was written.
    Other(OtherObject),
}

/// A Kubernetes object this crate has no type for.
#[derive(Clone, Debug, PartialEq)]
pub struct OtherObject {
    /// `apiVersion` of the object.
    pub api_version: String,
    /// `kind` of the object.
    pub kind: String,
    /// The whole object.
    pub value: Value,
}

/// Identity of an object, for messages.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectKey {
    /// Kind, e.g. `BackupConfiguration`.
    pub kind: String,
    /// Namespace, if any.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(formatter, "{} {namespace}/{}", self.kind, self.name),
            None => write!(formatter, "{} {}", self.kind, self.name),
        }
    }
}

/// Why a document could not be read as an object.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// Not YAML at all.
    #[error("document {document}: not valid YAML: {source}")]
    Yaml {
        /// 1-based index of the document in its stream.
        document: usize,
        /// The parser error.
        source: serde_yaml::Error,
    },
    /// `apiVersion` or `kind` missing.
    #[error("document {document}: missing `{field}`")]
    MissingTypeField {
        /// 1-based index of the document.
        document: usize,
        /// `apiVersion` or `kind`.
        field: &'static str,
    },
    /// A known kind whose fields do not match the API.
    #[error("{key}: {path}: {reason}")]
    Field {
        /// The object.
        key: ObjectKey,
        /// Field path of the error, e.g. `spec.sessions[0].scheduler`.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl Object {
    /// Reads one object from a JSON value.
    pub fn from_value(value: Value, document: usize) -> Result<Self, ObjectError> {
        let api_version = value
            .get("apiVersion")
            .and_then(Value::as_str)
            .ok_or(ObjectError::MissingTypeField {
                document,
                field: "apiVersion",
            })?
            .to_string();
        let kind = value
            .get("kind")
            .and_then(Value::as_str)
            .ok_or(ObjectError::MissingTypeField {
                document,
                field: "kind",
            })?
            .to_string();
        let group = api_version
            .rsplit_once('/')
            .map(|(group, _)| group)
            .unwrap_or("");
        let known = matches!(
            group,
            storage::GROUP | core::GROUP | addons::GROUP | appcatalog::GROUP
        );
        if !known {
            return Ok(Self::Other(OtherObject {
                api_version,
                kind,
                value,
            }));
        }
        let key = key_of(&kind, &value);
        if !api_version.ends_with(&format!("/{}", crate::api::VERSION)) {
            return Err(ObjectError::Field {
                key,
                path: "apiVersion".into(),
                reason: format!(
                    "unknown version `{api_version}`; this API serves only {}",
                    crate::api::VERSION
                ),
            });
        }
        let object = match (group, kind.as_str()) {
            (storage::GROUP, "BackupStorage") => Self::BackupStorage(typed(value, key)?),
            (storage::GROUP, "Repository") => Self::Repository(typed(value, key)?),
            (storage::GROUP, "RetentionPolicy") => Self::RetentionPolicy(typed(value, key)?),
            (storage::GROUP, "Snapshot") => Self::Snapshot(typed(value, key)?),
            (core::GROUP, "BackupConfiguration") => Self::BackupConfiguration(typed(value, key)?),
            (core::GROUP, "BackupSession") => Self::BackupSession(typed(value, key)?),
            (core::GROUP, "RestoreSession") => Self::RestoreSession(typed(value, key)?),
            (core::GROUP, "HookTemplate") => Self::HookTemplate(typed(value, key)?),
            (core::GROUP, "BackupBlueprint") => Self::BackupBlueprint(typed(value, key)?),
            (core::GROUP, "BackupBatch") => Self::BackupBatch(typed(value, key)?),
            (core::GROUP, "BackupVerifier") => Self::BackupVerifier(typed(value, key)?),
            (core::GROUP, "BackupVerificationSession") => {
                Self::BackupVerificationSession(typed(value, key)?)
            }
            (addons::GROUP, "Addon") => Self::Addon(typed(value, key)?),
            (addons::GROUP, "Function") => Self::Function(typed(value, key)?),
            (appcatalog::GROUP, "AppBinding") => Self::AppBinding(typed(value, key)?),
            _ => {
                return Err(ObjectError::Field {
                    key,
                    path: "kind".into(),
                    reason: format!("`{kind}` is not a kind of `{api_version}`"),
                })
            }
        };
        Ok(object)
    }

    /// The object's identity.
    pub fn key(&self) -> ObjectKey {
        let (kind, metadata) = match self {
            Self::BackupStorage(object) => ("BackupStorage", &object.metadata),
            Self::Repository(object) => ("Repository", &object.metadata),
            Self::RetentionPolicy(object) => ("RetentionPolicy", &object.metadata),
            Self::Snapshot(object) => ("Snapshot", &object.metadata),
            Self::BackupConfiguration(object) => ("BackupConfiguration", &object.metadata),
            Self::BackupSession(object) => ("BackupSession", &object.metadata),
            Self::RestoreSession(object) => ("RestoreSession", &object.metadata),
            Self::HookTemplate(object) => ("HookTemplate", &object.metadata),
            Self::BackupBlueprint(object) => ("BackupBlueprint", &object.metadata),
            Self::BackupBatch(object) => ("BackupBatch", &object.metadata),
            Self::BackupVerifier(object) => ("BackupVerifier", &object.metadata),
            Self::BackupVerificationSession(object) => {
                ("BackupVerificationSession", &object.metadata)
            }
            Self::Addon(object) => ("Addon", &object.metadata),
            Self::Function(object) => ("Function", &object.metadata),
            Self::AppBinding(object) => ("AppBinding", &object.metadata),
            Self::Other(other) => return key_of(&other.kind, &other.value),
        };
        ObjectKey {
            kind: kind.to_string(),
            namespace: metadata.namespace.clone(),
            name: metadata.name.clone().unwrap_or_default(),
        }
    }

    /// The object as JSON, the way the API server would store it.
    pub fn to_value(&self) -> Value {
        let result = match self {
            Self::BackupStorage(object) => serde_json::to_value(object),
            Self::Repository(object) => serde_json::to_value(object),
            Self::RetentionPolicy(object) => serde_json::to_value(object),
            Self::Snapshot(object) => serde_json::to_value(object),
            Self::BackupConfiguration(object) => serde_json::to_value(object),
            Self::BackupSession(object) => serde_json::to_value(object),
            Self::RestoreSession(object) => serde_json::to_value(object),
            Self::HookTemplate(object) => serde_json::to_value(object),
            Self::BackupBlueprint(object) => serde_json::to_value(object),
            Self::BackupBatch(object) => serde_json::to_value(object),
            Self::BackupVerifier(object) => serde_json::to_value(object),
            Self::BackupVerificationSession(object) => serde_json::to_value(object),
            Self::Addon(object) => serde_json::to_value(object),
            Self::Function(object) => serde_json::to_value(object),
            Self::AppBinding(object) => serde_json::to_value(object),
            Self::Other(other) => Ok(other.value.clone()),
        };
        // Serializing plain data structs with string keys cannot fail.
        result.unwrap_or(Value::Null)
    }

    /// Whether this is one of the KubeStash (or AppBinding) kinds.
    pub fn is_kubestash(&self) -> bool {
        !matches!(self, Self::Other(_))
    }
}

/// Reads every document of a multi-document YAML (or JSON) stream. Empty documents are
/// skipped; `List` objects are flattened into their items.
pub fn parse_documents(text: &str) -> Vec<Result<(Object, Value), ObjectError>> {
    let mut results = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let number = index + 1;
        let value = match Value::deserialize(document) {
            Ok(value) => value,
            Err(source) => {
                results.push(Err(ObjectError::Yaml {
                    document: number,
                    source,
                }));
                // The YAML stream cannot be resumed after a syntax error.
                break;
            }
        };
        if value.is_null() {
            continue;
        }
        let items = match value.get("kind").and_then(Value::as_str) {
            Some(kind) if kind.ends_with("List") && value.get("items").is_some() => value
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            _ => vec![value],
        };
        for item in items {
            results.push(Object::from_value(item.clone(), number).map(|object| (object, item)));
        }
    }
    results
}

fn key_of(kind: &str, value: &Value) -> ObjectKey {
    let metadata = value.get("metadata");
    let text = |field: &str| {
        metadata
            .and_then(|metadata| metadata.get(field))
            .and_then(Value::as_str)
    };
    ObjectKey {
        kind: kind.to_string(),
        namespace: text("namespace").map(str::to_string),
        name: text("name")
            .or_else(|| text("generateName"))
            .unwrap_or("<unnamed>")
            .to_string(),
    }
}

fn typed<T: DeserializeOwned>(value: Value, key: ObjectKey) -> Result<T, ObjectError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        ObjectError::Field {
            key,
            path: if path == "." { "(root)".into() } else { path },
            reason: error.into_inner().to_string(),
        }
    })
}

/// Fields present in `original` but missing from `typed` (what the API would drop), as paths.
pub fn dropped_fields(original: &Value, typed: &Value) -> Vec<String> {
    let mut dropped = Vec::new();
    collect_dropped(original, typed, String::new(), &mut dropped);
    dropped
}

fn collect_dropped(original: &Value, typed: &Value, path: String, dropped: &mut Vec<String>) {
    match (original, typed) {
        (Value::Object(original), Value::Object(typed)) => {
            for (key, value) in original {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match typed.get(key) {
                    Some(typed_value) => collect_dropped(value, typed_value, child, dropped),
                    // An explicit null or empty value carries nothing that could be lost.
                    None if is_empty(value) => {}
                    None => dropped.push(child),
                }
            }
        }
        (Value::Array(original), Value::Array(typed)) => {
            for (index, (value, typed_value)) in original.iter().zip(typed).enumerate() {
                collect_dropped(value, typed_value, format!("{path}[{index}]"), dropped);
            }
        }
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(flag) => !flag,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Number(_) => false,
    }
}

/// Labels of an object given as JSON.
pub fn labels_of(value: &Value) -> BTreeMap<String, String> {
    string_map(value.pointer("/metadata/labels"))
}

/// Annotations of an object given as JSON.
pub fn annotations_of(value: &Value) -> BTreeMap<String, String> {
    string_map(value.pointer("/metadata/annotations"))
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(key, value)| {
                    value.as_str().map(|text| (key.clone(), text.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}
