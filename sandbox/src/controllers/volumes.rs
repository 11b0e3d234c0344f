//! Volume binding: every pending PersistentVolumeClaim gets a hostPath PersistentVolume whose
//! path is a directory per claim under the data dir (or binds to the volume it names); a
//! volume whose claim is gone is deleted (reclaim policy Delete, directory removed) or
//! released.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::{deleting, Cluster};
use crate::api::{name_of, namespace_of, uid_of, ApiError, Subresource};
use crate::store::Change;

/// The directory a claim gets when the sandbox provisions its volume.
fn provisioned_dir(cluster: &Cluster, namespace: &str, claim: &str) -> PathBuf {
    cluster.data_dir.join("pvc").join(namespace).join(claim)
}

/// The host directory behind a claim: its bound volume's `hostPath`, else the directory it
/// will be provisioned with.
pub(crate) fn claim_dir(cluster: &Cluster, namespace: &str, claim: &str) -> PathBuf {
    let claims = cluster.builtin("", "persistentvolumeclaims");
    let volumes = cluster.builtin("", "persistentvolumes");
    let bound = cluster
        .get(&claims, namespace, claim)
        .ok()
        .and_then(|claim| claim["spec"]["volumeName"].as_str().map(str::to_string))
        .and_then(|volume| cluster.get(&volumes, "", &volume).ok())
        .and_then(|volume| {
            volume["spec"]["hostPath"]["path"]
                .as_str()
                .map(PathBuf::from)
        });
    bound.unwrap_or_else(|| provisioned_dir(cluster, namespace, claim))
}

/// Runs one binding pass when claims or volumes changed.
pub(crate) fn reconcile(cluster: &Cluster, changes: &[Change]) -> Result<(), ApiError> {
    if !super::touches(
        changes,
        &[("", "persistentvolumeclaims"), ("", "persistentvolumes")],
    ) {
        return Ok(());
    }
    let claims = cluster.builtin("", "persistentvolumeclaims");
    let volumes = cluster.builtin("", "persistentvolumes");
    for claim in cluster.objects(&claims, None) {
        if deleting(&claim) || claim["status"]["phase"] == "Bound" {
            continue;
        }
        bind(cluster, &claim)?;
    }
    for volume in cluster.objects(&volumes, None) {
        let claim_uid = volume["spec"]["claimRef"]["uid"]
            .as_str()
            .unwrap_or_default();
        if claim_uid.is_empty() || deleting(&volume) {
            continue;
        }
        let claim_exists = cluster.lock().find_uid(claim_uid).is_some();
        if claim_exists {
            continue;
        }
        if volume["spec"]["persistentVolumeReclaimPolicy"] == "Delete" {
            if let Some(path) = volume["spec"]["hostPath"]["path"].as_str() {
                if PathBuf::from(path).starts_with(cluster.data_dir.join("pvc")) {
                    let _ = std::fs::remove_dir_all(path);
                }
            }
            super::delete(cluster, &volumes, &volume)?;
        } else {
            cluster.mutate(
                &volumes,
                "",
                name_of(&volume),
                Subresource::Status,
                |volume| {
                    volume["status"]["phase"] = json!("Released");
                },
            )?;
        }
    }
    Ok(())
}

fn bind(cluster: &Cluster, claim: &Value) -> Result<(), ApiError> {
    let claims = cluster.builtin("", "persistentvolumeclaims");
    let volumes = cluster.builtin("", "persistentvolumes");
    let namespace = namespace_of(claim).to_string();
    let name = name_of(claim).to_string();
    let storage = claim["spec"]["resources"]["requests"]["storage"].clone();
    let claim_reference = json!({
        "kind": "PersistentVolumeClaim",
        "namespace": namespace,
        "name": name,
        "uid": uid_of(claim),
        "apiVersion": "v1",
    });
    let volume_name = match claim["spec"]["volumeName"]
        .as_str()
        .filter(|volume| !volume.is_empty())
    {
        Some(existing) => {
            let Ok(volume) = cluster.get(&volumes, "", existing) else {
                return Ok(());
            };
            let free = volume["spec"]["claimRef"].is_null()
                || volume["spec"]["claimRef"]["name"] == name.as_str()
                    && volume["spec"]["claimRef"]["namespace"] == namespace.as_str();
            if !free {
                return Ok(());
            }
            cluster.mutate(&volumes, "", existing, Subresource::Main, |volume| {
                volume["spec"]["claimRef"] = claim_reference.clone();
            })?;
            existing.to_string()
        }
        None => {
            let directory = provisioned_dir(cluster, &namespace, &name);
            std::fs::create_dir_all(&directory).map_err(|error| {
                ApiError::internal(format!(
                    "failed to create `{}`: {error}",
                    directory.display()
                ))
            })?;
            let volume_name = format!("pvc-{}", uid_of(claim));
            let mut spec = json!({
                "capacity": {"storage": storage},
                "accessModes": claim["spec"]["accessModes"].clone(),
                "hostPath": {"path": directory.display().to_string(), "type": "DirectoryOrCreate"},
                "persistentVolumeReclaimPolicy": "Delete",
                "volumeMode": claim["spec"]["volumeMode"].clone(),
                "claimRef": claim_reference,
            });
            if let Some(class) = claim["spec"]["storageClassName"].as_str() {
                spec["storageClassName"] = json!(class);
            }
            let volume = json!({
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {
                    "name": volume_name,
                    "annotations": {"pv.kubernetes.io/provisioned-by": "kubestash-sandbox"},
                },
                "spec": spec,
            });
            super::create(cluster, &volumes, volume)?;
            volume_name
        }
    };
    let capacity = cluster
        .get(&volumes, "", &volume_name)
        .map(|volume| volume["spec"]["capacity"].clone())
        .unwrap_or(json!({"storage": storage}));
    cluster.mutate(&volumes, "", &volume_name, Subresource::Status, |volume| {
        volume["status"]["phase"] = json!("Bound");
    })?;
    cluster.mutate(&claims, &namespace, &name, Subresource::Main, |claim| {
        claim["spec"]["volumeName"] = json!(volume_name);
        let annotations = &mut claim["metadata"]["annotations"];
        if !annotations.is_object() {
            *annotations = json!({});
        }
        annotations["pv.kubernetes.io/bind-completed"] = json!("yes");
        annotations["pv.kubernetes.io/bound-by-controller"] = json!("yes");
    })?;
    let access_modes = claim["spec"]["accessModes"].clone();
    cluster.mutate(&claims, &namespace, &name, Subresource::Status, |claim| {
        claim["status"]["phase"] = json!("Bound");
        claim["status"]["accessModes"] = access_modes;
        claim["status"]["capacity"] = capacity;
    })?;
    Ok(())
}
