//! Patching: JSON merge, JSON patch, strategic merge (built-ins only, as a real server
//! refuses it for custom resources) and server-side apply with `managedFields` tracking.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{scope, ApiError, Cluster, PatchType, Subresource, WriteOptions, Written};
use crate::names;
use crate::patch::{self, PatchError};
use crate::registry::ResourceType;
use crate::store::StoreState;

impl Cluster {
    /// Patches an object; server-side apply may create it.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &self,
        resource: &ResourceType,
        version: &str,
        namespace: &str,
        name: &str,
        patch_type: PatchType,
        body: &[u8],
        subresource: Subresource,
        options: &WriteOptions,
    ) -> Result<Written, ApiError> {
        if patch_type == PatchType::Strategic && resource.custom {
            return Err(ApiError::unsupported_media_type(
                "application/strategic-merge-patch+json",
            ));
        }
        let document: Value = if patch_type == PatchType::Apply {
            serde_yaml::from_slice(body)
                .map_err(|error| ApiError::bad_request(format!("error decoding YAML: {error}")))?
        } else {
            serde_json::from_slice(body)
                .map_err(|error| ApiError::bad_request(format!("error decoding patch: {error}")))?
        };
        let mut state = self.lock();
        let written = if patch_type == PatchType::Apply {
            self.apply_locked(
                &mut state,
                resource,
                version,
                namespace,
                name,
                document,
                subresource,
                options,
            )?
        } else {
            let old = self.get_locked(&state, resource, namespace, name)?;
            let mut patched = (*old).clone();
            let outcome = match patch_type {
                PatchType::Merge => {
                    patch::merge_patch(&mut patched, &document);
                    Ok(())
                }
                PatchType::Json => patch::json_patch(&mut patched, &document),
                PatchType::Strategic => patch::strategic_merge(&mut patched, &document),
                PatchType::Apply => Ok(()),
            };
            outcome.map_err(|error| match error {
                PatchError::Malformed(message) => ApiError::bad_request(message),
                PatchError::Unprocessable(message) => ApiError {
                    code: 422,
                    reason: "Invalid",
                    message,
                    details: json!({}),
                },
            })?;
            let patched = self.check_body(resource, version, namespace, Some(name), patched)?;
            self.update_locked(
                &mut state,
                resource,
                namespace,
                name,
                patched,
                subresource,
                options,
            )?
        };
        let revision = state.revision();
        drop(state);
        self.notify(revision);
        Ok(written)
    }

    fn get_locked(
        &self,
        state: &StoreState,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
    ) -> Result<Arc<Value>, ApiError> {
        state
            .get(
                &resource.storage_key(),
                &(scope(resource, namespace), name.to_string()),
            )
            .ok_or_else(|| ApiError::not_found(resource, name))
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_locked(
        &self,
        state: &mut StoreState,
        resource: &ResourceType,
        version: &str,
        namespace: &str,
        name: &str,
        applied: Value,
        subresource: Subresource,
        options: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let manager = options
            .field_manager
            .clone()
            .filter(|manager| !manager.is_empty())
            .ok_or_else(|| ApiError::bad_request("PATCH /apply requests require fieldManager"))?;
        if applied["apiVersion"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
            || applied["kind"].as_str().unwrap_or_default().is_empty()
        {
            return Err(ApiError::bad_request(
                "invalid object type: apiVersion and kind must be set in an apply configuration",
            ));
        }
        let applied = self.check_body(resource, version, namespace, Some(name), applied)?;
        let subresource_name = match subresource {
            Subresource::Main => "",
            Subresource::Status => "status",
        };
        let keyed_lists = !resource.custom;
        let entry = |fields: Value| {
            let mut entry = json!({
                "manager": manager,
                "operation": "Apply",
                "apiVersion": resource.api_version(version),
                "time": names::now(),
                "fieldsType": "FieldsV1",
                "fieldsV1": fields,
            });
            if !subresource_name.is_empty() {
                entry["subresource"] = json!(subresource_name);
            }
            entry
        };
        let mut applied_fields_source = applied.clone();
        if let Some(metadata) = applied_fields_source["metadata"].as_object_mut() {
            for implied in ["name", "namespace", "resourceVersion"] {
                metadata.remove(implied);
            }
        }
        let fields = patch::fields_of(&applied_fields_source, keyed_lists);
        let existing = state.get(
            &resource.storage_key(),
            &(scope(resource, namespace), name.to_string()),
        );
        let Some(old) = existing else {
            if subresource == Subresource::Status {
                return Err(ApiError::not_found(resource, name));
            }
            let mut object = applied;
            object["metadata"]["managedFields"] = json!([entry(fields)]);
            return self.create_locked(state, resource, namespace, object, options);
        };
        let mut managed = old["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let position = managed.iter().position(|candidate| {
            candidate["manager"].as_str() == Some(manager.as_str())
                && candidate["operation"].as_str() == Some("Apply")
                && candidate["subresource"].as_str().unwrap_or_default() == subresource_name
        });
        let previous = position.map(|index| managed[index]["fieldsV1"].clone());
        let mut merged = patch::apply(&old, previous.as_ref(), &applied, keyed_lists);
        match position {
            Some(index) => managed[index] = entry(fields),
            None => managed.push(entry(fields)),
        }
        merged["metadata"]["managedFields"] = Value::Array(managed);
        if applied["metadata"]["resourceVersion"].is_null() {
            merged["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
        }
        let written = self.update_locked(
            state,
            resource,
            namespace,
            name,
            merged,
            subresource,
            options,
        )?;
        Ok(written)
    }
}
