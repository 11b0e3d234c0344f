//! From an Addon task and its Function to Jobs: which components a target has (one per
//! StatefulSet replica volume set, one per node of a DaemonSet, or one for the whole target), the volumes each Job mounts (target
//! volumes, the addon's volume templates, the storage volume for local backends), and the
//! Job object with the session's job template merged in.

use std::collections::BTreeMap;
use std::path::PathBuf;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, PodSpec, Volume, VolumeMount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::{Api, Client};
use kubestash::api::addons::{Function, Task};
use kubestash::api::common::{PodTemplateSpec, TypedObjectReference};
use kubestash::api::core::session::{JobTemplate, TaskReference};
use kubestash::api::storage::BackupStorage;
use kubestash::placeholder;
use serde_json::{json, Value};

use crate::util;
use crate::{Error, Result};

/// Name of the volume that carries a local backend.
pub const STORAGE_VOLUME: &str = "kubestash-storage";

/// One unit of work of a task: a component and the volumes it reads or writes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ComponentPlan {
    /// Component name in the Snapshot (`dump`, `pod-0`, `manifest`).
    pub component: String,
    /// Extra variables for the Function's placeholders (`PVC_NAME`, `POD_ORDINAL`).
    pub variables: BTreeMap<String, String>,
    /// Volumes of the target.
    pub volumes: Vec<Volume>,
    /// Where the Job mounts them.
    pub mounts: Vec<VolumeMount>,
    /// The node the Job must run on (a DaemonSet's node-local volumes).
    pub node: Option<String>,
}

/// Whether a Function works on manifests rather than files.
pub fn is_manifest_function(function: &Function) -> bool {
    function
        .spec
        .args
        .iter()
        .flatten()
        .any(|arg| arg == "--mode=manifest")
}

fn target_namespace<'a>(target: &'a TypedObjectReference, default: &'a str) -> &'a str {
    target.namespace_or(default)
}

async fn pod_template(
    client: &Client,
    target: &TypedObjectReference,
    namespace: &str,
) -> Result<(Value, Vec<Value>, i32)> {
    let name = &target.name;
    let kind = target.kind.as_deref().unwrap_or_default();
    let missing = || Error::msg(format!("target {kind} `{namespace}/{name}` not found"));
    let (spec, claims, replicas) = match kind {
        "Deployment" => {
            let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
            let object = util::get_opt(&api, name).await?.ok_or_else(missing)?;
            let spec = object.spec.unwrap_or_default();
            (serde_json::to_value(spec.template.spec)?, Vec::new(), spec.replicas.unwrap_or(1))
        }
        "ReplicaSet" => {
            let api: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
            let object = util::get_opt(&api, name).await?.ok_or_else(missing)?;
            let spec = object.spec.unwrap_or_default();
            (serde_json::to_value(spec.template.and_then(|t| t.spec))?, Vec::new(), spec.replicas.unwrap_or(1))
        }
        "DaemonSet" => {
            let api: Api<DaemonSet> = Api::namespaced(client.clone(), namespace);
            let object = util::get_opt(&api, name).await?.ok_or_else(missing)?;
            let spec = object.spec.unwrap_or_default();
            (serde_json::to_value(spec.template.spec)?, Vec::new(), 1)
        }
        "StatefulSet" => {
            let api: Api<StatefulSet> = Api::namespaced(client.clone(), namespace);
            let object = util::get_opt(&api, name).await?.ok_or_else(missing)?;
            let spec = object.spec.unwrap_or_default();
            let claims = spec
                .volume_claim_templates
                .iter()
                .flatten()
                .map(serde_json::to_value)
                .collect::<Result<Vec<_>, _>>()?;
            (serde_json::to_value(spec.template.spec)?, claims, spec.replicas.unwrap_or(1))
        }
        other => {
            return Err(Error::msg(format!(
                "target kind `{other}` is not supported for volume backup (supported: Deployment, StatefulSet, DaemonSet, ReplicaSet, PersistentVolumeClaim)"
            )))
        }
    };
    Ok((spec, claims, replicas))
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Error::msg(format!("unable to convert an object: {error}"))
    }
}

/// The components of a task for a target, with their volumes.
pub async fn plan_components(
    client: &Client,
    target: Option<&TypedObjectReference>,
    namespace: &str,
    task: &TaskReference,
    manifest: bool,
) -> Result<Vec<ComponentPlan>> {
    if manifest {
        return Ok(vec![ComponentPlan {
            component: "manifest".into(),
            ..ComponentPlan::default()
        }]);
    }
    let target = target
        .ok_or_else(|| Error::msg("spec.target is required for a volume backup or restore"))?;
    let namespace = target_namespace(target, namespace).to_string();
    let kind = target.kind.as_deref().unwrap_or_default();
    if kind == "PersistentVolumeClaim" {
        let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &namespace);
        if util::get_opt(&api, &target.name).await?.is_none() {
            return Err(Error::msg(format!(
                "target PersistentVolumeClaim `{namespace}/{}` not found",
                target.name
            )));
        }
        return Ok(vec![ComponentPlan {
            component: "dump".into(),
            variables: BTreeMap::from([("PVC_NAME".to_string(), target.name.clone())]),
            ..ComponentPlan::default()
        }]);
    }
    let (spec, claim_templates, replicas) = pod_template(client, target, &namespace).await?;
    let spec: PodSpec = serde_json::from_value(spec).unwrap_or_default();
    let template_volumes = spec.volumes.clone().unwrap_or_default();
    let daemon = kind == "DaemonSet";
    let explicit = task.target_volumes.as_ref();
    let mounts: Vec<VolumeMount> = match explicit.and_then(|t| t.volume_mounts.clone()) {
        Some(mounts) if !mounts.is_empty() => mounts,
        _ => {
            // Every persistent volume of the pod (and a DaemonSet's node directories), where
            // the first container using it mounts it.
            let persistent: Vec<String> = template_volumes
                .iter()
                .filter(|v| {
                    v.persistent_volume_claim.is_some() || (daemon && v.host_path.is_some())
                })
                .map(|v| v.name.clone())
                .chain(
                    claim_templates
                        .iter()
                        .filter_map(|c| c["metadata"]["name"].as_str().map(str::to_string)),
                )
                .collect();
            let mut mounts: Vec<VolumeMount> = Vec::new();
            for container in &spec.containers {
                for mount in container.volume_mounts.iter().flatten() {
                    if persistent.contains(&mount.name)
                        && !mounts.iter().any(|m| m.name == mount.name)
                    {
                        mounts.push(VolumeMount {
                            name: mount.name.clone(),
                            mount_path: mount.mount_path.clone(),
                            ..VolumeMount::default()
                        });
                    }
                }
            }
            mounts
        }
    };
    if mounts.is_empty() {
        return Err(Error::msg(format!(
            "{kind} `{namespace}/{}` has no persistent volume to back up; set addon.tasks[].targetVolumes",
            target.name
        )));
    }
    let explicit_volumes = explicit.and_then(|t| t.volumes.clone()).unwrap_or_default();
    let volume_for = |name: &str, ordinal: Option<i32>| -> Option<Volume> {
        if let Some(volume) = explicit_volumes.iter().find(|v| v.name == name) {
            return Some(volume.clone());
        }
        if let Some(volume) = template_volumes.iter().find(|v| v.name == name) {
            return Some(volume.clone());
        }
        let ordinal = ordinal?;
        claim_templates
            .iter()
            .any(|c| c["metadata"]["name"].as_str() == Some(name))
            .then(|| {
                serde_json::from_value(json!({
                    "name": name,
                    "persistentVolumeClaim": {"claimName": format!("{name}-{}-{ordinal}", target.name)}
                }))
                .expect("a claim volume is valid")
            })
    };
    let per_pod = kind == "StatefulSet";
    let ordinals: Vec<Option<i32>> = if per_pod {
        (0..replicas.max(1)).map(Some).collect()
    } else {
        vec![None]
    };
    if daemon {
        // One component per node the DaemonSet runs on, named after the node, each Job
        // pinned to its node so node-local volumes are the node's own.
        let nodes = daemon_set_nodes(client, &namespace, &target.name).await?;
        if nodes.is_empty() {
            return Err(Error::msg(format!(
                "DaemonSet `{namespace}/{}` has no pod on any node yet: nothing to back up",
                target.name
            )));
        }
        let volumes = mounts
            .iter()
            .map(|mount| {
                volume_for(&mount.name, None).ok_or_else(|| {
                    Error::msg(format!(
                        "volume `{}` named in targetVolumes.volumeMounts is not a volume of DaemonSet `{namespace}/{}`",
                        mount.name, target.name
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok(nodes
            .into_iter()
            .map(|node| ComponentPlan {
                component: node.clone(),
                variables: BTreeMap::from([("NODE_NAME".to_string(), node.clone())]),
                volumes: volumes.clone(),
                mounts: mounts.clone(),
                node: Some(node),
            })
            .collect());
    }
    let mut plans = Vec::new();
    for ordinal in ordinals {
        let mut volumes = Vec::new();
        for mount in &mounts {
            let volume = volume_for(&mount.name, ordinal).ok_or_else(|| {
                Error::msg(format!(
                    "volume `{}` named in targetVolumes.volumeMounts is not a volume of {kind} `{namespace}/{}`",
                    mount.name, target.name
                ))
            })?;
            volumes.push(volume);
        }
        let mut variables = BTreeMap::new();
        let component = match ordinal {
            Some(n) => {
                variables.insert("POD_ORDINAL".to_string(), n.to_string());
                format!("pod-{n}")
            }
            None => "dump".to_string(),
        };
        plans.push(ComponentPlan {
            component,
            variables,
            volumes,
            mounts: mounts.clone(),
            node: None,
        });
    }
    Ok(plans)
}

/// The nodes a DaemonSet's living pods run on, sorted, each once.
async fn daemon_set_nodes(client: &Client, namespace: &str, name: &str) -> Result<Vec<String>> {
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), namespace);
    let uid = util::get_opt(&api, name)
        .await?
        .and_then(|d| d.metadata.uid)
        .unwrap_or_default();
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut nodes: Vec<String> = pods
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .filter(|pod| {
            pod.metadata.deletion_timestamp.is_none()
                && pod
                    .metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|o| o.uid == uid && o.controller == Some(true))
        })
        .filter_map(|pod| pod.spec.and_then(|s| s.node_name))
        .collect();
    nodes.sort();
    nodes.dedup();
    Ok(nodes)
}

/// The volume and mount of a local BackupStorage.
pub fn storage_volume(storage: &BackupStorage) -> Option<(Volume, VolumeMount)> {
    let local = storage.spec.storage.local.as_ref()?;
    let mut value = serde_json::to_value(&local.volume_source).ok()?;
    value["name"] = json!(STORAGE_VOLUME);
    let volume: Volume = serde_json::from_value(value).ok()?;
    Some((
        volume,
        VolumeMount {
            name: STORAGE_VOLUME.into(),
            mount_path: local.mount_path.clone(),
            ..VolumeMount::default()
        },
    ))
}

/// The directory `parts` (storage-relative, e.g. a repository path) as a Job that mounts
/// the volume of a local storage sees it: mount path, subPath, then the parts.
pub fn storage_container_path(storage: &BackupStorage, parts: &[&str]) -> Option<PathBuf> {
    let local = storage.spec.storage.local.as_ref()?;
    let mut path = PathBuf::from(&local.mount_path);
    let sub_path = local.sub_path.as_deref().unwrap_or_default();
    for part in std::iter::once(sub_path).chain(parts.iter().copied()) {
        let part = kubestash::engine::location::clean_prefix(part);
        if !part.is_empty() {
            path.push(part);
        }
    }
    Some(path)
}

/// A short Job that mounts a local storage's volume and runs `base`'s command, retried
/// `backoff_limit` times and removed `ttl_seconds` after it finishes. `None` when the storage
/// is not a volume.
pub fn storage_job(
    storage: &BackupStorage,
    base: JobSpec,
    backoff_limit: i32,
    ttl_seconds: i32,
) -> Option<Job> {
    let (volume, mount) = storage_volume(storage)?;
    Some(build_job(JobSpec {
        volumes: vec![volume],
        mounts: vec![mount],
        job_template: Some(JobTemplate {
            backoff_limit: Some(backoff_limit),
            ttl_seconds_after_finished: Some(ttl_seconds),
            ..Default::default()
        }),
        ..base
    }))
}

/// Everything a Job needs.
#[derive(Clone, Debug, Default)]
pub struct JobSpec {
    /// Job name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Labels of the Job and its pod.
    pub labels: BTreeMap<String, String>,
    /// The owner.
    pub owner: Option<OwnerReference>,
    /// Container image.
    pub image: String,
    /// Container command (empty: the image's entrypoint).
    pub command: Vec<String>,
    /// Container arguments.
    pub args: Vec<String>,
    /// Environment variables set after the pod template's.
    pub env: Vec<(String, String)>,
    /// Volumes.
    pub volumes: Vec<Volume>,
    /// Mounts.
    pub mounts: Vec<VolumeMount>,
    /// Job settings of the session.
    pub job_template: Option<JobTemplate>,
    /// Pod settings of the addon.
    pub pod_template: Option<PodTemplateSpec>,
    /// ServiceAccount used when the templates set none.
    pub service_account: Option<String>,
    /// The node the pod must run on.
    pub node: Option<String>,
}

fn dedup_by_name<T: Clone>(items: Vec<T>, name: impl Fn(&T) -> &str) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for item in items {
        if !out.iter().any(|existing| name(existing) == name(&item)) {
            out.push(item);
        }
    }
    out
}

/// Builds the Job.
pub fn build_job(spec: JobSpec) -> Job {
    let template = spec.job_template.clone().unwrap_or_default();
    let pod_template = spec
        .pod_template
        .clone()
        .or(template.template.clone())
        .unwrap_or_default();
    let pod_settings = pod_template.spec.clone().unwrap_or_default();
    // The template's labels and annotations go on the pod (a service mesh's
    // `sidecar.istio.io/inject: "false"`, without which the Job would never complete), its
    // `controller` ones on the Job; ours win on a clash.
    let (mut labels, pod_annotations) = template_meta(pod_template.metadata.as_ref());
    labels.extend(spec.labels.clone());
    let (mut job_labels, job_annotations) = template_meta(pod_template.controller.as_ref());
    job_labels.extend(spec.labels.clone());
    let volumes = dedup_by_name(spec.volumes.clone(), |v| v.name.as_str());
    let mounts = dedup_by_name(spec.mounts.clone(), |m| m.mount_path.as_str());
    let mut container = json!({
        "name": "executor",
        "image": spec.image,
        "args": spec.args,
        "volumeMounts": mounts,
        "env": pod_settings.env.clone().unwrap_or_default(),
    });
    if let Some(env) = container["env"].as_array_mut() {
        for (name, value) in &spec.env {
            env.push(json!({"name": name, "value": value}));
        }
    }
    if !spec.command.is_empty() {
        container["command"] = json!(spec.command);
    }
    if let Some(resources) = &pod_settings.resources {
        container["resources"] = json!(resources);
    }
    if let Some(context) = &pod_settings.container_security_context {
        container["securityContext"] = json!(context);
    }
    let mut pod_spec = json!({
        "restartPolicy": "Never",
        "containers": [container],
        "volumes": volumes,
    });
    if let Some(node) = &spec.node {
        pod_spec["nodeName"] = json!(node);
    }
    if let Some(account) = pod_settings
        .service_account_name
        .clone()
        .or(spec.service_account.clone())
    {
        pod_spec["serviceAccountName"] = json!(account);
    }
    apply_pod_settings(&mut pod_spec, &pod_settings);
    let mut pod_metadata = json!({"labels": labels});
    if !pod_annotations.is_empty() {
        pod_metadata["annotations"] = json!(pod_annotations);
    }
    let mut job_spec = json!({
        "backoffLimit": template.backoff_limit.unwrap_or(0),
        "template": {"metadata": pod_metadata, "spec": pod_spec},
    });
    if let Some(deadline) = template.active_deadline_seconds {
        job_spec["activeDeadlineSeconds"] = json!(deadline);
    }
    if let Some(ttl) = template.ttl_seconds_after_finished {
        job_spec["ttlSecondsAfterFinished"] = json!(ttl);
    }
    let mut metadata = json!({
        "name": spec.name,
        "namespace": spec.namespace,
        "labels": job_labels,
    });
    if !job_annotations.is_empty() {
        metadata["annotations"] = json!(job_annotations);
    }
    if let Some(owner) = &spec.owner {
        metadata["ownerReferences"] = json!([owner]);
    }
    serde_json::from_value(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": job_spec,
    }))
    .expect("the Job is well-formed")
}

/// The labels and annotations of a template's metadata.
pub fn template_meta(
    meta: Option<&kubestash::api::common::TemplateMeta>,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let meta = meta.cloned().unwrap_or_default();
    (
        meta.labels.unwrap_or_default(),
        meta.annotations.unwrap_or_default(),
    )
}

/// Sets the pod-level settings of a jobTemplate (scheduling, pull secrets, pod security
/// context) that are given on `pod_spec`.
pub fn apply_pod_settings(
    pod_spec: &mut serde_json::Value,
    pod_settings: &kubestash::api::common::PodSpec,
) {
    for (key, value) in [
        ("nodeSelector", json!(pod_settings.node_selector)),
        ("affinity", json!(pod_settings.affinity)),
        ("tolerations", json!(pod_settings.tolerations)),
        ("imagePullSecrets", json!(pod_settings.image_pull_secrets)),
        ("priorityClassName", json!(pod_settings.priority_class_name)),
        ("securityContext", json!(pod_settings.security_context)),
        ("schedulerName", json!(pod_settings.scheduler_name)),
    ] {
        if !value.is_null() {
            pod_spec[key] = value;
        }
    }
}

/// A Function filled in: image, args, volumes and mounts.
pub type ResolvedFunction = (String, Vec<String>, Vec<Volume>, Vec<VolumeMount>);

/// Fills a Function's image and args, and the task's volume templates, from the task
/// parameters (falling back to the Addon's defaults) and the operator's variables. Returns
/// (image, args, volumes, mounts) or the names that stayed unresolved.
pub fn resolve_function(
    function: &Function,
    task: &Task,
    task_ref: &TaskReference,
    variables: &BTreeMap<String, String>,
) -> Result<ResolvedFunction, Vec<String>> {
    let mut values = kubestash::api::common::parameter_values(
        task.parameters.as_ref(),
        task_ref.params.as_ref(),
    );
    for variable in task_ref.variables.iter().flatten() {
        if let Some(value) = &variable.value {
            values.insert(variable.name.clone(), value.clone());
        }
    }
    values.extend(variables.clone());
    let mut missing: Vec<String> = task
        .parameters
        .iter()
        .flatten()
        .filter(|p| p.required && values.get(&p.name).is_none_or(|v| v.is_empty()))
        .map(|p| format!("parameter `{}`", p.name))
        .collect();
    let lookup = |name: &str| values.get(name).cloned();
    let mut unresolved = Vec::new();
    let mut fill = |text: &str| {
        let result = placeholder::substitute(text, lookup);
        unresolved.extend(result.unresolved);
        result.text
    };
    let image = fill(&function.spec.image);
    let args: Vec<String> = function
        .spec
        .args
        .iter()
        .flatten()
        .map(|a| fill(a))
        .collect();
    let mut volumes = Vec::new();
    for template in task.volume_template.iter().flatten() {
        let mut value = serde_json::to_value(&template.source).unwrap_or(Value::Null);
        placeholder::substitute_value(&mut value, &lookup, &mut unresolved);
        if !value.is_object() {
            value = json!({});
        }
        value["name"] = json!(template.name);
        if let Ok(volume) = serde_json::from_value::<Volume>(value) {
            volumes.push(volume);
        }
    }
    for addon_volume in task_ref.addon_volumes.iter().flatten() {
        let mut value = serde_json::to_value(&addon_volume.source).unwrap_or(json!({}));
        value["name"] = json!(addon_volume.name);
        if let Ok(volume) = serde_json::from_value::<Volume>(value) {
            volumes.retain(|v: &Volume| v.name != volume.name);
            volumes.push(volume);
        }
    }
    let mounts = task.volume_mounts.clone().unwrap_or_default();
    missing.extend(
        unresolved
            .into_iter()
            .map(|name| format!("variable `${{{name}}}`")),
    );
    if missing.is_empty() {
        Ok((image, args, volumes, mounts))
    } else {
        missing.sort();
        missing.dedup();
        Err(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_labels_and_annotations_reach_the_pod_and_the_job() {
        let template: kubestash::api::common::PodTemplateSpec = serde_json::from_value(
            serde_json::json!({
                "metadata": {"labels": {"team": "db"}, "annotations": {"sidecar.istio.io/inject": "false"}},
                "controller": {"annotations": {"owner": "ops"}},
            }),
        )
        .unwrap();
        let job = build_job(JobSpec {
            name: "backup".into(),
            namespace: "shop".into(),
            labels: BTreeMap::from([("kubestash.com/app".to_string(), "x".to_string())]),
            pod_template: Some(template),
            ..JobSpec::default()
        });
        let value = serde_json::to_value(&job).unwrap();
        let pod = &value["spec"]["template"]["metadata"];
        assert_eq!(pod["annotations"]["sidecar.istio.io/inject"], "false");
        assert_eq!(pod["labels"]["team"], "db");
        assert_eq!(pod["labels"]["kubestash.com/app"], "x");
        assert_eq!(value["metadata"]["annotations"]["owner"], "ops");
    }

    #[test]
    fn a_storage_volume_keeps_its_source_under_the_core_field_name() {
        for (key, source) in [
            (
                "downwardAPI",
                json!({"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}),
            ),
            (
                "iscsi",
                json!({"targetPortal": "10.0.0.1:3260", "iqn": "iqn.2001-04.com.example:storage", "lun": 0}),
            ),
            ("hostPath", json!({"path": "/backups"})),
        ] {
            let storage: BackupStorage = serde_json::from_value(json!({
                "apiVersion": "storage.kubestash.com/v1alpha1", "kind": "BackupStorage",
                "metadata": {"name": "disk", "namespace": "shop"},
                "spec": {"storage": {"provider": "local", "local": {"mountPath": "/repo", key: source}}},
            }))
            .unwrap();
            let (volume, mount) = storage_volume(&storage).unwrap();
            let volume = serde_json::to_value(volume).unwrap();
            assert_eq!(volume[key], source, "{volume}");
            assert_eq!(mount.mount_path, "/repo");
        }
    }
}
