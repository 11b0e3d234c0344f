//! Deletion: preconditions, propagation policies (background, foreground and orphan through
//! their finalizers), `deletionTimestamp` for objects with finalizers, namespaces that
//! terminate before they go, and the bookkeeping when an object finally leaves the store.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{scope, ApiError, Cluster, ListQuery, WriteOptions};
use crate::names;
use crate::registry::ResourceType;
use crate::store::{ObjectName, StoreState};

/// Finalizer the garbage collector honours for foreground deletion.
pub(crate) const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
/// Finalizer the garbage collector honours for orphaning dependents.
pub(crate) const ORPHAN_FINALIZER: &str = "orphan";

/// `propagationPolicy` of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Propagation {
    Background,
    Foreground,
    Orphan,
}

impl Propagation {
    /// Parses the query or body value.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        match text {
            "Background" => Ok(Self::Background),
            "Foreground" => Ok(Self::Foreground),
            "Orphan" => Ok(Self::Orphan),
            other => Err(ApiError::bad_request(format!(
                "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
            ))),
        }
    }
}

/// `DeleteOptions`, from the query string and body.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeleteOptions {
    pub propagation: Option<Propagation>,
    pub precondition_uid: Option<String>,
    pub precondition_resource_version: Option<String>,
    pub dry_run: bool,
}

impl DeleteOptions {
    /// Reads a `DeleteOptions` body (fields absent in the body keep their query values).
    pub fn merge_body(&mut self, body: &Value) -> Result<(), ApiError> {
        if let Some(policy) = body["propagationPolicy"].as_str() {
            self.propagation = Some(Propagation::parse(policy)?);
        } else if body["orphanDependents"].as_bool() == Some(true) {
            self.propagation = Some(Propagation::Orphan);
        }
        if let Some(uid) = body["preconditions"]["uid"].as_str() {
            self.precondition_uid = Some(uid.to_string());
        }
        if let Some(version) = body["preconditions"]["resourceVersion"].as_str() {
            self.precondition_resource_version = Some(version.to_string());
        }
        if body["dryRun"]
            .as_array()
            .is_some_and(|modes| !modes.is_empty())
        {
            self.dry_run = true;
        }
        Ok(())
    }
}

/// The outcome of a delete: the object, and whether it is gone or only marked.
#[derive(Debug, Clone)]
pub(crate) struct Deleted {
    pub object: Arc<Value>,
    pub removed: bool,
}

impl Cluster {
    /// Deletes one object.
    pub fn delete(
        &self,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<Deleted, ApiError> {
        let mut state = self.lock();
        let deleted = self.delete_locked(&mut state, resource, namespace, name, options)?;
        let revision = state.revision();
        drop(state);
        self.notify(revision);
        Ok(deleted)
    }

    /// Deletes with the store locked.
    pub(crate) fn delete_locked(
        &self,
        state: &mut StoreState,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<Deleted, ApiError> {
        let key: ObjectName = (scope(resource, namespace), name.to_string());
        let current = state
            .get(&resource.storage_key(), &key)
            .ok_or_else(|| ApiError::not_found(resource, name))?;
        let metadata = &current["metadata"];
        if let Some(uid) = &options.precondition_uid {
            let actual = metadata["uid"].as_str().unwrap_or_default();
            if uid != actual {
                return Err(ApiError::conflict(
                    resource,
                    name,
                    &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"),
                ));
            }
        }
        if let Some(version) = &options.precondition_resource_version {
            let actual = metadata["resourceVersion"].as_str().unwrap_or_default();
            if version != actual {
                return Err(ApiError::conflict(
                    resource,
                    name,
                    &format!("Precondition failed: ResourceVersion in precondition: {version}, ResourceVersion in object meta: {actual}"),
                ));
            }
        }
        let propagation = options
            .propagation
            .unwrap_or(if resource.orphans_by_default {
                Propagation::Orphan
            } else {
                Propagation::Background
            });
        let mut marked = (*current).clone();
        let finalizers = marked["metadata"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut finalizers: Vec<Value> = finalizers;
        let extra = match propagation {
            Propagation::Foreground => Some(FOREGROUND_FINALIZER),
            Propagation::Orphan => Some(ORPHAN_FINALIZER),
            Propagation::Background => None,
        };
        let has_dependents = !state.dependents_of(super::uid_of(&current)).is_empty();
        if let Some(extra) = extra.filter(|_| has_dependents) {
            if !finalizers.iter().any(|finalizer| finalizer == extra) {
                finalizers.push(json!(extra));
            }
        }
        let namespace_pending = !resource.custom
            && resource.plural == "namespaces"
            && marked["spec"]["finalizers"]
                .as_array()
                .is_some_and(|pending| !pending.is_empty());
        if finalizers.is_empty() && !namespace_pending {
            if options.dry_run {
                return Ok(Deleted {
                    object: current,
                    removed: true,
                });
            }
            let removed = self.remove_locked(state, resource, &key).unwrap_or(current);
            return Ok(Deleted {
                object: removed,
                removed: true,
            });
        }
        if marked["metadata"]["deletionTimestamp"].is_null() {
            marked["metadata"]["deletionTimestamp"] = json!(names::now());
            marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            // The apiserver bumps a set generation when it marks an object for deletion, so
            // generation-filtered controllers see it.
            if let Some(generation) = marked["metadata"]["generation"].as_i64().filter(|g| *g > 0) {
                marked["metadata"]["generation"] = json!(generation + 1);
            }
        }
        if !finalizers.is_empty() {
            marked["metadata"]["finalizers"] = Value::Array(finalizers);
        }
        if namespace_pending {
            marked["status"]["phase"] = json!("Terminating");
        }
        if options.dry_run || marked == *current {
            return Ok(Deleted {
                object: current,
                removed: false,
            });
        }
        let stored = state.insert(&resource.storage_key(), key, marked);
        Ok(Deleted {
            object: stored,
            removed: false,
        })
    }

    /// Removes an object from the store and undoes what it registered.
    pub(crate) fn remove_locked(
        &self,
        state: &mut StoreState,
        resource: &ResourceType,
        key: &ObjectName,
    ) -> Option<Arc<Value>> {
        let removed = state.remove(&resource.storage_key(), key)?;
        if !resource.custom && resource.plural == "customresourcedefinitions" {
            super::crd::forget(self, &removed);
        }
        Some(removed)
    }

    /// Deletes every object matching a list query (deletecollection).
    pub fn delete_collection(
        &self,
        resource: &ResourceType,
        namespace: Option<&str>,
        query: &ListQuery,
        options: &DeleteOptions,
    ) -> Result<Vec<Arc<Value>>, ApiError> {
        let mut state = self.lock();
        let matching = self.list_locked(&state, resource, namespace, query)?.items;
        let mut deleted = Vec::new();
        for object in matching {
            let object_namespace = super::namespace_of(&object).to_string();
            let name = super::name_of(&object).to_string();
            match self.delete_locked(&mut state, resource, &object_namespace, &name, options) {
                Ok(outcome) => deleted.push(outcome.object),
                Err(error) if error.code == 404 => {}
                Err(error) => return Err(error),
            }
        }
        let revision = state.revision();
        drop(state);
        self.notify(revision);
        Ok(deleted)
    }

    /// Writes `object` back with the store locked, as a controller would (no field checks).
    pub(crate) fn controller_update(
        &self,
        state: &mut StoreState,
        resource: &ResourceType,
        object: Value,
        subresource: super::Subresource,
    ) -> Result<Arc<Value>, ApiError> {
        let namespace = super::namespace_of(&object).to_string();
        let name = super::name_of(&object).to_string();
        self.update_locked(
            state,
            resource,
            &namespace,
            &name,
            object,
            subresource,
            &WriteOptions::default(),
        )
        .map(|written| written.object)
    }
}
