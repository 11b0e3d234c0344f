//! Create, update and patch: body checks, metadata the server owns (uid, timestamps,
//! generation, resourceVersion), the status subresource split, finalizer completion,
//! no-op detection, and the patch formats including server-side apply.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{name_of, scope, ApiError, Cluster};
use crate::names;
use crate::registry::ResourceType;
use crate::schema;
use crate::store::StoreState;
use crate::validation::{self, FieldError};

/// Which part of an object a write addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subresource {
    Main,
    Status,
}

/// The patch formats, by request content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchType {
    Merge,
    Json,
    Strategic,
    Apply,
}

impl PatchType {
    /// The patch type for a `Content-Type` header value.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        match content_type.split(';').next().unwrap_or_default().trim() {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/json-patch+json" => Some(Self::Json),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// The `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum FieldValidation {
    Ignore,
    #[default]
    Warn,
    Strict,
}

/// Query parameters that shape a write.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteOptions {
    pub dry_run: bool,
    pub field_manager: Option<String>,
    pub field_validation: FieldValidation,
}

/// The outcome of a write.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    pub object: Arc<Value>,
    pub created: bool,
    pub warnings: Vec<String>,
}

fn metadata_mut(object: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    object["metadata"]
        .as_object_mut()
        .expect("metadata was made an object")
}

/// Everything but metadata and status, to decide whether the generation moves.
fn spec_part(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Value::Object(map) = &mut copy {
        map.remove("metadata");
        map.remove("status");
    }
    copy
}

fn same_ignoring_server_fields(left: &Value, right: &Value) -> bool {
    let strip = |object: &Value| {
        let mut copy = object.clone();
        if let Some(metadata) = copy["metadata"].as_object_mut() {
            metadata.remove("resourceVersion");
            metadata.remove("managedFields");
        }
        copy
    };
    strip(left) == strip(right)
}

impl Cluster {
    /// Checks a request body against the URL and fills `apiVersion`/`kind`.
    pub fn check_body(
        &self,
        resource: &ResourceType,
        version: &str,
        namespace: &str,
        url_name: Option<&str>,
        mut body: Value,
    ) -> Result<Value, ApiError> {
        if !body.is_object() {
            return Err(ApiError::bad_request(format!(
                "json: cannot unmarshal {} into Go value of type {}",
                if body.is_array() { "array" } else { "value" },
                resource.kind
            )));
        }
        let expected_version = resource.api_version(version);
        match body["apiVersion"].as_str() {
            Some(found) if found != expected_version => {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({found}) does not match the expected API version ({expected_version})"
                )))
            }
            _ => body["apiVersion"] = json!(expected_version),
        }
        match body["kind"].as_str() {
            Some(found) if found != resource.kind => {
                return Err(ApiError::bad_request(format!(
                    "the kind in the data ({found}) does not match the expected kind ({})",
                    resource.kind
                )))
            }
            _ => body["kind"] = json!(resource.kind),
        }
        let metadata = metadata_mut(&mut body);
        if resource.namespaced {
            match metadata.get("namespace").and_then(Value::as_str) {
                Some(found) if !found.is_empty() && found != namespace => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ))
                }
                _ => {
                    metadata.insert("namespace".to_string(), json!(namespace));
                }
            }
        } else {
            metadata.remove("namespace");
        }
        if let Some(url_name) = url_name {
            let found = metadata
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if found.is_empty() {
                metadata.insert("name".to_string(), json!(url_name));
            } else if found != url_name {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({found}) does not match the name on the URL ({url_name})"
                )));
            }
        }
        Ok(body)
    }

    /// Creates an object from a checked body.
    pub fn create(
        &self,
        resource: &ResourceType,
        namespace: &str,
        body: Value,
        options: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let mut state = self.lock();
        let written = self.create_locked(&mut state, resource, namespace, body, options)?;
        let revision = state.revision();
        drop(state);
        self.notify(revision);
        Ok(written)
    }

    /// Schema pruning/defaulting/validation, built-in defaults and validation.
    fn prepare(
        &self,
        resource: &ResourceType,
        old: Option<&Value>,
        mut object: Value,
        options: &WriteOptions,
        warnings: &mut Vec<String>,
    ) -> Result<Value, ApiError> {
        let name = name_of(&object).to_string();
        let mut errors: Vec<FieldError> = Vec::new();
        if resource.custom {
            let version = resource.versions.first().cloned().unwrap_or_default();
            if let Some(schema) = resource.schemas.get(&version) {
                let pruned = schema::prune(&mut object, schema);
                if !pruned.is_empty() {
                    match options.field_validation {
                        FieldValidation::Strict => {
                            let fields: Vec<String> = pruned
                                .iter()
                                .map(|field| format!("unknown field \"{field}\""))
                                .collect();
                            return Err(ApiError::bad_request(format!(
                                "strict decoding error: {}",
                                fields.join(", ")
                            )));
                        }
                        FieldValidation::Warn => warnings.extend(
                            pruned
                                .iter()
                                .map(|field| format!("unknown field \"{field}\"")),
                        ),
                        FieldValidation::Ignore => {}
                    }
                }
                schema::apply_defaults(&mut object, schema);
                errors.extend(schema::validate(&object, schema));
            }
        }
        if !resource.custom {
            if let Some(path) = super::defaults::misshapen(&object) {
                // What the apiserver's decoder says of such a body.
                return Err(ApiError::bad_request(format!(
                    "json: cannot unmarshal {} into Go struct field of type object at .{path}",
                    kind_of_json(path_value(&object, &path))
                )));
            }
        }
        super::defaults::apply(resource, &mut object, old);
        errors.extend(validation::validate_builtin(resource, &object));
        if let Some(old) = old {
            errors.extend(super::defaults::immutable_fields(resource, old, &object));
        }
        if errors.is_empty() {
            Ok(object)
        } else {
            Err(ApiError::invalid(resource, &name, &errors))
        }
    }

    /// Creates with the store locked.
    pub(crate) fn create_locked(
        &self,
        state: &mut StoreState,
        resource: &ResourceType,
        namespace: &str,
        mut object: Value,
        options: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let key_namespace = scope(resource, namespace);
        let metadata = metadata_mut(&mut object);
        let mut name = metadata
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let generate = metadata
            .get("generateName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if name.is_empty() {
            if generate.is_empty() {
                return Err(ApiError::invalid(
                    resource,
                    "",
                    &[FieldError::required_because(
                        "metadata.name",
                        "name or generateName is required",
                    )],
                ));
            }
            name = names::generate_name(&generate);
            while state
                .get(
                    &resource.storage_key(),
                    &(key_namespace.clone(), name.clone()),
                )
                .is_some()
            {
                name = names::generate_name(&generate);
            }
            metadata.insert("name".to_string(), json!(name));
        }
        let name_errors = validation::validate_name(resource, &name, "metadata.name");
        if !name_errors.is_empty() {
            return Err(ApiError::invalid(resource, &name, &name_errors));
        }
        if resource.namespaced {
            let namespaces = self.builtin("", "namespaces");
            match state.get(&namespaces.storage_key(), &(String::new(), namespace.to_string())) {
                None => return Err(ApiError::not_found(&namespaces, namespace)),
                Some(found) if !found["metadata"]["deletionTimestamp"].is_null() => {
                    return Err(ApiError::forbidden(
                        resource,
                        &name,
                        &format!("unable to create new content in namespace {namespace} because it is being terminated"),
                    ))
                }
                Some(_) => {}
            }
        }
        if state
            .get(
                &resource.storage_key(),
                &(key_namespace.clone(), name.clone()),
            )
            .is_some()
        {
            return Err(ApiError::already_exists(resource, &name));
        }
        // The apiserver refuses a create that carries a resourceVersion (it ignores one that
        // is not a number).
        if metadata
            .get("resourceVersion")
            .and_then(Value::as_str)
            .and_then(|text| text.parse::<u64>().ok())
            .is_some_and(|version| version != 0)
        {
            return Err(ApiError::internal(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        for server_owned in [
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ] {
            metadata.remove(server_owned);
        }
        metadata.insert("uid".to_string(), json!(names::new_uid()));
        metadata.insert("creationTimestamp".to_string(), json!(names::now()));
        if resource.tracks_generation {
            metadata.insert("generation".to_string(), json!(1));
        } else {
            metadata.remove("generation");
        }
        if resource.status_subresource {
            if let Value::Object(map) = &mut object {
                map.remove("status");
            }
        }
        let mut warnings = Vec::new();
        let mut object = self.prepare(resource, None, object, options, &mut warnings)?;
        let definition = super::crd::admit(self, resource, &mut object)?;
        if options.dry_run {
            return Ok(Written {
                object: Arc::new(object),
                created: true,
                warnings,
            });
        }
        let stored = state.insert(&resource.storage_key(), (key_namespace, name), object);
        if let Some(definition) = definition {
            self.with_registry_mut(|registry| registry.register(definition));
        }
        Ok(Written {
            object: stored,
            created: true,
            warnings,
        })
    }

    /// Replaces an object (PUT), honouring the status subresource split.
    pub fn update(
        &self,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
        body: Value,
        subresource: Subresource,
        options: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let mut state = self.lock();
        let written = self.update_locked(
            &mut state,
            resource,
            namespace,
            name,
            body,
            subresource,
            options,
        )?;
        let revision = state.revision();
        drop(state);
        self.notify(revision);
        Ok(written)
    }

    /// Updates with the store locked.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn update_locked(
        &self,
        state: &mut StoreState,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
        new: Value,
        subresource: Subresource,
        options: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let key = (scope(resource, namespace), name.to_string());
        let old = state
            .get(&resource.storage_key(), &key)
            .ok_or_else(|| ApiError::not_found(resource, name))?;
        let requested = new["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default();
        if !requested.is_empty() && Some(requested) != old["metadata"]["resourceVersion"].as_str() {
            return Err(ApiError::stale(resource, name));
        }
        let mut merged = match subresource {
            Subresource::Status => {
                let mut merged = (*old).clone();
                match new.get("status") {
                    Some(status) => merged["status"] = status.clone(),
                    None => {
                        if let Value::Object(map) = &mut merged {
                            map.remove("status");
                        }
                    }
                }
                merged
            }
            Subresource::Main => {
                let mut merged = new;
                if resource.status_subresource {
                    if let Value::Object(map) = &mut merged {
                        match old.get("status") {
                            Some(status) => {
                                map.insert("status".to_string(), status.clone());
                            }
                            None => {
                                map.remove("status");
                            }
                        }
                    }
                }
                merged
            }
        };
        let metadata = metadata_mut(&mut merged);
        for preserved in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "name",
            "namespace",
            "generation",
            "resourceVersion",
        ] {
            match old["metadata"].get(preserved) {
                Some(value) => {
                    metadata.insert(preserved.to_string(), value.clone());
                }
                None => {
                    metadata.remove(preserved);
                }
            }
        }
        if !old["metadata"]["deletionTimestamp"].is_null() {
            let before = old["metadata"]["finalizers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let added: Vec<String> = metadata
                .get("finalizers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|finalizer| !before.contains(finalizer))
                .filter_map(|finalizer| finalizer.as_str().map(|text| format!("\"{text}\"")))
                .collect();
            if !added.is_empty() {
                return Err(ApiError::invalid(
                    resource,
                    name,
                    &[FieldError::forbidden(
                        "metadata.finalizers",
                        &format!(
                            "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                            added.join(", ")
                        ),
                    )],
                ));
            }
        }
        let mut warnings = Vec::new();
        let mut merged = self.prepare(resource, Some(&old), merged, options, &mut warnings)?;
        if resource.tracks_generation && spec_part(&merged) != spec_part(&old) {
            let generation = old["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
            merged["metadata"]["generation"] = json!(generation);
        }
        let definition = super::crd::admit(self, resource, &mut merged)?;
        if self.finalized(resource, &merged) {
            if options.dry_run {
                return Ok(Written {
                    object: Arc::new(merged),
                    created: false,
                    warnings,
                });
            }
            let removed = self.remove_locked(state, resource, &key).unwrap_or(old);
            return Ok(Written {
                object: removed,
                created: false,
                warnings,
            });
        }
        if same_ignoring_server_fields(&merged, &old) || options.dry_run {
            let object = if options.dry_run {
                Arc::new(merged)
            } else {
                old
            };
            return Ok(Written {
                object,
                created: false,
                warnings,
            });
        }
        let stored = state.insert(&resource.storage_key(), key, merged);
        if let Some(definition) = definition {
            self.with_registry_mut(|registry| registry.register(definition));
        }
        Ok(Written {
            object: stored,
            created: false,
            warnings,
        })
    }

    /// Whether an object being deleted has no finalizers left and can go.
    fn finalized(&self, resource: &ResourceType, object: &Value) -> bool {
        let metadata = &object["metadata"];
        if metadata["deletionTimestamp"].is_null() {
            return false;
        }
        let empty = |value: &Value| value.as_array().is_none_or(|items| items.is_empty());
        let namespace_done = resource.custom
            || resource.plural != "namespaces"
            || empty(&object["spec"]["finalizers"]);
        empty(&metadata["finalizers"]) && namespace_done
    }
}

fn path_value<'a>(object: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(object, |value, key| &value[key])
}

fn kind_of_json(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        _ => "object",
    }
}
