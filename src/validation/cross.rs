//! Rules across a set of objects (what a webhook checks against the cluster): one default
//! per namespace, one BackupStorage per backend location, usage policies of referenced
//! storages and retention policies, and blueprint variables of annotated targets.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::common::{ObjectReference, UsagePolicy};
use crate::api::core::{
    BackendReference, BLUEPRINT_NAMESPACE_ANNOTATION, BLUEPRINT_NAME_ANNOTATION,
};
use crate::api::storage::BackupStorage;
use crate::blueprint::{self, Target};
use crate::object::{annotations_of, labels_of, Object, ObjectKey};

use super::{usage_policy::NamespaceAccess, validate_object, Finding, Findings};

/// Validates every object on its own, then the rules that need the other objects of the set.
pub fn validate_set(objects: &[Object]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = objects.iter().flat_map(validate_object).collect();
    let namespaces = namespace_labels(objects);
    check_single_defaults(objects, &mut findings);
    check_storage_locations(objects, &mut findings);
    for object in objects {
        let mut object_findings = Findings::new(object.key());
        let namespace = object
            .key()
            .namespace
            .unwrap_or_else(|| "default".to_string());
        match object {
            Object::BackupConfiguration(configuration) => {
                let backends = configuration.spec.backends.as_deref().unwrap_or_default();
                check_backend_access(
                    backends,
                    "spec.backends",
                    &namespace,
                    objects,
                    &namespaces,
                    &mut object_findings,
                );
            }
            Object::BackupBatch(batch) => {
                let backends = batch.spec.backends.as_deref().unwrap_or_default();
                check_backend_access(
                    backends,
                    "spec.backends",
                    &namespace,
                    objects,
                    &namespaces,
                    &mut object_findings,
                );
            }
            Object::Other(other) => {
                check_blueprint_target(&other.value, objects, &namespaces, &mut object_findings);
            }
            _ => {}
        }
        findings.extend(object_findings.into_vec());
    }
    findings
}

fn namespace_labels(objects: &[Object]) -> BTreeMap<String, BTreeMap<String, String>> {
    objects
        .iter()
        .filter_map(|object| match object {
            Object::Other(other) if other.kind == "Namespace" && other.api_version == "v1" => {
                let name = other.value.pointer("/metadata/name")?.as_str()?.to_string();
                let mut labels = labels_of(&other.value);
                labels.insert("kubernetes.io/metadata.name".into(), name.clone());
                Some((name, labels))
            }
            _ => None,
        })
        .collect()
}

fn check_single_defaults(objects: &[Object], findings: &mut Vec<Finding>) {
    let mut defaults: BTreeMap<(&str, String), ObjectKey> = BTreeMap::new();
    for object in objects {
        let kind = match object {
            Object::BackupStorage(storage) if storage.spec.default => "BackupStorage",
            Object::RetentionPolicy(policy) if policy.spec.default => "RetentionPolicy",
            _ => continue,
        };
        let key = object.key();
        let namespace = key.namespace.clone().unwrap_or_else(|| "default".into());
        if let Some(first) = defaults.get(&(kind, namespace.clone())) {
            let mut object_findings = Findings::new(key);
            object_findings.error(
                "spec.default",
                format!(
                    "namespace `{namespace}` already has a default {kind}: `{}`",
                    first.name
                ),
            );
            findings.extend(object_findings.into_vec());
        } else {
            defaults.insert((kind, namespace), key);
        }
    }
}

fn storage_location(storage: &BackupStorage) -> Option<String> {
    let backend = &storage.spec.storage;
    let trim = |text: &str| text.trim_matches('/').to_string();
    let prefix = |prefix: &Option<String>| trim(prefix.as_deref().unwrap_or_default());
    match backend.provider.as_deref()? {
        "s3" => backend.s3.as_ref().map(|s3| {
            format!(
                "s3 {}/{}/{}",
                s3.endpoint.trim_end_matches('/'),
                trim(&s3.bucket),
                prefix(&s3.prefix)
            )
        }),
        "gcs" => backend
            .gcs
            .as_ref()
            .map(|gcs| format!("gcs {}/{}", trim(&gcs.bucket), prefix(&gcs.prefix))),
        "azure" => backend.azure.as_ref().map(|azure| {
            format!(
                "azure {}/{}/{}",
                azure.storage_account,
                azure.container,
                prefix(&azure.prefix)
            )
        }),
        "local" => {
            let local = backend.local.as_ref()?;
            let sub_path = trim(local.sub_path.as_deref().unwrap_or_default());
            let source = &local.volume_source;
            if let Some(host_path) = &source.host_path {
                Some(format!(
                    "hostPath {}/{sub_path}",
                    host_path.path.trim_end_matches('/')
                ))
            } else if let Some(nfs) = &source.nfs {
                Some(format!(
                    "nfs {}:{}/{sub_path}",
                    nfs.server,
                    nfs.path.trim_end_matches('/')
                ))
            } else {
                source.persistent_volume_claim.as_ref().map(|claim| {
                    let namespace = storage.metadata.namespace.clone().unwrap_or_default();
                    format!("pvc {namespace}/{}/{sub_path}", claim.claim_name)
                })
            }
        }
        _ => None,
    }
}

fn check_storage_locations(objects: &[Object], findings: &mut Vec<Finding>) {
    let mut locations: BTreeMap<String, ObjectKey> = BTreeMap::new();
    for object in objects {
        let Object::BackupStorage(storage) = object else {
            continue;
        };
        let Some(location) = storage_location(storage) else {
            continue;
        };
        if let Some(first) = locations.get(&location) {
            let mut object_findings = Findings::new(object.key());
            object_findings.error(
                "spec.storage",
                format!("{first} already uses the same backend location ({location})"),
            );
            findings.extend(object_findings.into_vec());
        } else {
            locations.insert(location, object.key());
        }
    }
}

fn find_shared<'a>(
    objects: &'a [Object],
    kind: &str,
    reference: &ObjectReference,
    user_namespace: &str,
) -> Option<(ObjectKey, Option<&'a UsagePolicy>)> {
    let namespace = reference.namespace_or(user_namespace);
    objects.iter().find_map(|object| {
        let key = object.key();
        if key.kind != kind
            || key.name != reference.name
            || key.namespace.as_deref().unwrap_or("default") != namespace
        {
            return None;
        }
        match object {
            Object::BackupStorage(storage) => Some((key, storage.spec.usage_policy.as_ref())),
            Object::RetentionPolicy(policy) => Some((key, policy.spec.usage_policy.as_ref())),
            _ => None,
        }
    })
}

fn check_backend_access(
    backends: &[BackendReference],
    field: &str,
    user_namespace: &str,
    objects: &[Object],
    namespaces: &BTreeMap<String, BTreeMap<String, String>>,
    findings: &mut Findings,
) {
    for (index, backend) in backends.iter().enumerate() {
        let references = [
            ("BackupStorage", "storageRef", backend.storage_ref.as_ref()),
            (
                "RetentionPolicy",
                "retentionPolicy",
                backend.retention_policy.as_ref(),
            ),
        ];
        for (kind, name, reference) in references {
            let Some(reference) = reference else { continue };
            let Some((key, policy)) = find_shared(objects, kind, reference, user_namespace) else {
                continue;
            };
            let owner_namespace = key.namespace.clone().unwrap_or_else(|| "default".into());
            let access = super::namespace_allowed(
                policy,
                &owner_namespace,
                user_namespace,
                namespaces.get(user_namespace),
            );
            if let NamespaceAccess::Denied(reason) = access {
                findings.error(
                    format!("{field}[{index}].{name}"),
                    format!("{key} cannot be used from namespace `{user_namespace}`: {reason}"),
                );
            }
        }
    }
}

fn check_blueprint_target(
    value: &Value,
    objects: &[Object],
    namespaces: &BTreeMap<String, BTreeMap<String, String>>,
    findings: &mut Findings,
) {
    let annotations = annotations_of(value);
    let (Some(name), Some(namespace)) = (
        annotations.get(BLUEPRINT_NAME_ANNOTATION),
        annotations.get(BLUEPRINT_NAMESPACE_ANNOTATION),
    ) else {
        return;
    };
    let Some(blueprint) = objects.iter().find_map(|object| match object {
        Object::BackupBlueprint(blueprint)
            if blueprint.metadata.name.as_deref() == Some(name.as_str())
                && blueprint.metadata.namespace.as_deref().unwrap_or("default") == namespace =>
        {
            Some(blueprint)
        }
        _ => None,
    }) else {
        return;
    };
    let Some(target) = Target::from_value(value) else {
        return;
    };
    match blueprint::resolve(blueprint, &target, namespaces.get(&target.namespace)) {
        Err(error) => findings.error("metadata.annotations", error.to_string()),
        Ok(resolution) => {
            for variable in &resolution.unresolved {
                findings.error(
                    format!("metadata.annotations[{}{variable}]", crate::api::core::VARIABLES_ANNOTATION_PREFIX),
                    format!(
                        "unresolved `${{{variable}}}` in BackupBlueprint {namespace}/{name}; hint: annotate the target with `{}{variable}: <value>`",
                        crate::api::core::VARIABLES_ANNOTATION_PREFIX
                    ),
                );
            }
        }
    }
}
