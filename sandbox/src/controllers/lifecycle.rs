//! Namespace and CRD lifecycle: a new namespace gets its `default` ServiceAccount; a
//! terminating namespace has its content deleted and is finalized once empty; a deleted CRD
//! has its custom resources deleted before the cleanup finalizer is removed.

use serde_json::json;

use super::{deleting, Cluster};
use crate::api::{name_of, ApiError, Subresource};
use crate::store::{Change, ChangeKind};

/// Runs one namespace and CRD lifecycle pass.
pub(crate) fn reconcile(cluster: &Cluster, changes: &[Change]) -> Result<(), ApiError> {
    let namespaces = cluster.builtin("", "namespaces");
    let service_accounts = cluster.builtin("", "serviceaccounts");
    for change in changes {
        if change.kind == ChangeKind::Added && change.resource == namespaces.storage_key() {
            let namespace = name_of(&change.object).to_string();
            let account = json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "default", "namespace": namespace},
            });
            if let Err(error) = super::create(cluster, &service_accounts, account) {
                tracing::debug!(%namespace, %error, "default service account not created");
            }
        }
    }
    for namespace in cluster.objects(&namespaces, None) {
        if deleting(&namespace) {
            drain_namespace(cluster, name_of(&namespace))?;
        }
    }
    let definitions = cluster.builtin("apiextensions.k8s.io", "customresourcedefinitions");
    for definition in cluster.objects(&definitions, None) {
        if deleting(&definition) {
            drain_definition(cluster, &definition)?;
        }
    }
    Ok(())
}

fn drain_namespace(cluster: &Cluster, namespace: &str) -> Result<(), ApiError> {
    let resources = cluster.lock().resources();
    let mut remaining = 0;
    for key in resources {
        let Some(resource) = cluster.resource_by_key(&key) else {
            continue;
        };
        if !resource.namespaced {
            continue;
        }
        for object in cluster.objects(&resource, Some(namespace)) {
            remaining += 1;
            if !deleting(&object) {
                super::delete(cluster, &resource, &object)?;
            }
        }
    }
    if remaining == 0 {
        let namespaces = cluster.builtin("", "namespaces");
        cluster.mutate(&namespaces, "", namespace, Subresource::Main, |object| {
            object["spec"]["finalizers"] = json!([]);
        })?;
    }
    Ok(())
}

fn drain_definition(cluster: &Cluster, definition: &serde_json::Value) -> Result<(), ApiError> {
    let key = crate::registry::StorageKey {
        group: definition["spec"]["group"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        plural: definition["spec"]["names"]["plural"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    let mut remaining = 0;
    if let Some(resource) = cluster
        .resource_by_key(&key)
        .filter(|resource| resource.custom)
    {
        for object in cluster.objects(&resource, None) {
            remaining += 1;
            if !deleting(&object) {
                super::delete(cluster, &resource, &object)?;
            }
        }
    }
    if remaining == 0 {
        let definitions = cluster.builtin("apiextensions.k8s.io", "customresourcedefinitions");
        cluster.mutate(
            &definitions,
            "",
            name_of(definition),
            Subresource::Main,
            |object| {
                if let Some(finalizers) = object["metadata"]["finalizers"].as_array_mut() {
                    finalizers.retain(|value| value != crate::api::CLEANUP_FINALIZER);
                }
            },
        )?;
    }
    Ok(())
}
