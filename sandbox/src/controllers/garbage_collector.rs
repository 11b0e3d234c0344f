//! The garbage collector: deletes dependents whose owners are all gone (background
//! propagation), deletes dependents of owners in foreground deletion before letting the owner
//! go, and strips owner references for orphan deletion.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{deleting, Cluster};
use crate::api::{uid_of, ApiError, Subresource, FOREGROUND_FINALIZER, ORPHAN_FINALIZER};
use crate::registry::StorageKey;
use crate::store::{Change, ChangeKind, ObjectName};

fn owner_uids(object: &Value) -> Vec<String> {
    object["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|owner| owner["uid"].as_str().map(str::to_string))
        .collect()
}

fn has_finalizer(object: &Value, finalizer: &str) -> bool {
    object["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|finalizers| finalizers.iter().any(|value| value == finalizer))
}

/// Runs one garbage-collection pass over the changes.
pub(crate) fn reconcile(cluster: &Cluster, changes: &[Change]) -> Result<(), ApiError> {
    let mut gone_owners = BTreeSet::new();
    let mut deleting_owners = BTreeSet::new();
    let mut dependents: BTreeSet<(StorageKey, ObjectName)> = BTreeSet::new();
    for change in changes {
        let object = &change.object;
        match change.kind {
            ChangeKind::Deleted => {
                gone_owners.insert(uid_of(object).to_string());
                deleting_owners.extend(owner_uids(object));
            }
            ChangeKind::Added | ChangeKind::Modified => {
                if deleting(object)
                    && (has_finalizer(object, FOREGROUND_FINALIZER)
                        || has_finalizer(object, ORPHAN_FINALIZER))
                {
                    deleting_owners.insert(uid_of(object).to_string());
                }
                if !owner_uids(object).is_empty() {
                    dependents.insert((
                        change.resource.clone(),
                        (
                            crate::api::namespace_of(object).to_string(),
                            crate::api::name_of(object).to_string(),
                        ),
                    ));
                }
            }
        }
    }
    {
        let state = cluster.lock();
        for uid in &gone_owners {
            dependents.extend(state.dependents_of(uid));
        }
    }
    for (resource, name) in dependents {
        collect_dependent(cluster, &resource, &name)?;
    }
    for uid in deleting_owners {
        finish_owner(cluster, &uid)?;
    }
    Ok(())
}

/// Deletes a dependent whose owners are all gone, or drops references to the missing ones.
fn collect_dependent(
    cluster: &Cluster,
    key: &StorageKey,
    name: &ObjectName,
) -> Result<(), ApiError> {
    let Some(resource) = cluster.resource_by_key(key) else {
        return Ok(());
    };
    let (object, missing, present) = {
        let state = cluster.lock();
        let Some(object) = state.get(key, name) else {
            return Ok(());
        };
        let owners = owner_uids(&object);
        let (present, missing): (Vec<String>, Vec<String>) = owners
            .into_iter()
            .partition(|uid| state.find_uid(uid).is_some());
        (object, missing, present)
    };
    if missing.is_empty() {
        return Ok(());
    }
    if present.is_empty() {
        if !deleting(&object) {
            super::delete(cluster, &resource, &object)?;
        }
        return Ok(());
    }
    cluster.mutate(&resource, &name.0, &name.1, Subresource::Main, |object| {
        if let Some(owners) = object["metadata"]["ownerReferences"].as_array_mut() {
            owners.retain(|owner| !missing.iter().any(|uid| owner["uid"] == uid.as_str()));
        }
    })?;
    Ok(())
}

/// Progresses an owner in foreground or orphan deletion.
fn finish_owner(cluster: &Cluster, uid: &str) -> Result<(), ApiError> {
    let located = cluster.lock().find_uid(uid);
    let Some((key, name)) = located else {
        return Ok(());
    };
    let Some(resource) = cluster.resource_by_key(&key) else {
        return Ok(());
    };
    let Some(owner) = cluster.lock().get(&key, &name) else {
        return Ok(());
    };
    if !deleting(&owner) {
        return Ok(());
    }
    let dependents = cluster.lock().dependents_of(uid);
    if has_finalizer(&owner, ORPHAN_FINALIZER) {
        for (dependent_key, dependent_name) in &dependents {
            if let Some(dependent_resource) = cluster.resource_by_key(dependent_key) {
                cluster.mutate(
                    &dependent_resource,
                    &dependent_name.0,
                    &dependent_name.1,
                    Subresource::Main,
                    |object| {
                        if let Some(owners) = object["metadata"]["ownerReferences"].as_array_mut() {
                            owners.retain(|owner| owner["uid"] != uid);
                        }
                    },
                )?;
            }
        }
        remove_finalizer(cluster, &resource, &name, ORPHAN_FINALIZER)?;
    }
    if has_finalizer(&owner, FOREGROUND_FINALIZER) {
        if dependents.is_empty() {
            remove_finalizer(cluster, &resource, &name, FOREGROUND_FINALIZER)?;
        }
        for (dependent_key, dependent_name) in dependents {
            let dependent = cluster.lock().get(&dependent_key, &dependent_name);
            if let (Some(dependent), Some(dependent_resource)) =
                (dependent, cluster.resource_by_key(&dependent_key))
            {
                if !deleting(&dependent) {
                    super::delete(cluster, &dependent_resource, &dependent)?;
                }
            }
        }
    }
    Ok(())
}

fn remove_finalizer(
    cluster: &Cluster,
    resource: &crate::registry::ResourceType,
    name: &ObjectName,
    finalizer: &str,
) -> Result<(), ApiError> {
    cluster.mutate(resource, &name.0, &name.1, Subresource::Main, |object| {
        if let Some(finalizers) = object["metadata"]["finalizers"].as_array_mut() {
            finalizers.retain(|value| value != finalizer);
        }
    })?;
    Ok(())
}
