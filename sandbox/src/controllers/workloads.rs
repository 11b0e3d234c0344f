//! Workload controllers: Deployments own a ReplicaSet per pod template, ReplicaSets and
//! DaemonSets keep their pods, StatefulSets create `<name>-<ordinal>` pods (in order for
//! OrderedReady) and the claims of their volumeClaimTemplates; each reports its replicas.

use std::hash::{Hash, Hasher};

use serde_json::{json, Value};

use super::{controller_reference, deleting, owned, set_condition, Cluster, NODE_NAME};
use crate::api::{name_of, namespace_of, uid_of, ApiError, Subresource};
use crate::store::Change;

const WORKLOAD_RESOURCES: &[(&str, &str)] = &[
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("", "pods"),
];

/// A short stable hash of a pod template, spelled with the `generateName` alphabet.
fn template_hash(template: &Value) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    template.to_string().hash(&mut hasher);
    let mut value = hasher.finish();
    let alphabet = b"bcdfghjklmnpqrstvwxz2456789";
    (0..10)
        .map(|_| {
            let character = alphabet[(value % alphabet.len() as u64) as usize] as char;
            value /= alphabet.len() as u64;
            character
        })
        .collect()
}

fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|condition| condition["type"] == "Ready" && condition["status"] == "True")
}

fn alive(pod: &Value) -> bool {
    !deleting(pod)
        && !matches!(
            pod["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed")
        )
}

fn pod_from_template(
    owner: &Value,
    template: &Value,
    name: Option<String>,
    extra_labels: &[(&str, String)],
) -> Value {
    let mut metadata = template["metadata"].clone();
    if !metadata.is_object() {
        metadata = json!({});
    }
    if !metadata["labels"].is_object() {
        metadata["labels"] = json!({});
    }
    for (key, value) in extra_labels {
        metadata["labels"][*key] = json!(value);
    }
    match name {
        Some(name) => metadata["name"] = json!(name),
        None => metadata["generateName"] = json!(format!("{}-", name_of(owner))),
    }
    metadata["namespace"] = json!(namespace_of(owner));
    metadata["ownerReferences"] = json!([controller_reference(owner)]);
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]})
}

/// A reconcile function for one workload object.
type WorkloadPass = fn(&Cluster, &Value) -> Result<(), ApiError>;

/// Runs one pass over every workload when workloads or pods changed.
pub(crate) fn reconcile(cluster: &Cluster, changes: &[Change]) -> Result<(), ApiError> {
    if !super::touches(changes, WORKLOAD_RESOURCES) {
        return Ok(());
    }
    let passes: [(&str, WorkloadPass); 4] = [
        ("deployments", reconcile_deployment),
        ("replicasets", reconcile_replica_set),
        ("statefulsets", reconcile_stateful_set),
        ("daemonsets", reconcile_daemon_set),
    ];
    for (plural, pass) in passes {
        let resource = cluster.builtin("apps", plural);
        for object in cluster.objects(&resource, None) {
            if deleting(&object) {
                continue;
            }
            if let Err(error) = pass(cluster, &object) {
                tracing::debug!(workload = name_of(&object), %error, "workload reconcile failed");
            }
        }
    }
    Ok(())
}

fn reconcile_deployment(cluster: &Cluster, deployment: &Value) -> Result<(), ApiError> {
    let deployments = cluster.builtin("apps", "deployments");
    let replica_sets = cluster.builtin("apps", "replicasets");
    let spec = &deployment["spec"];
    let replicas = spec["replicas"].as_i64().unwrap_or(1);
    let hash = template_hash(&spec["template"]);
    let current_name = format!("{}-{hash}", name_of(deployment));
    let owned_sets = owned(cluster, &replica_sets, uid_of(deployment));
    if !owned_sets.iter().any(|set| name_of(set) == current_name) {
        let mut template = spec["template"].clone();
        template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
        let mut selector = spec["selector"].clone();
        selector["matchLabels"]["pod-template-hash"] = json!(hash);
        let set = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": current_name,
                "namespace": namespace_of(deployment),
                "labels": template["metadata"]["labels"].clone(),
                "annotations": {"deployment.kubernetes.io/revision": "1"},
                "ownerReferences": [controller_reference(deployment)],
            },
            "spec": {"replicas": replicas, "selector": selector, "template": template},
        });
        super::create(cluster, &replica_sets, set)?;
    }
    let (mut total, mut ready, mut updated) = (0, 0, 0);
    for set in owned(cluster, &replica_sets, uid_of(deployment)) {
        let wanted = if name_of(&set) == current_name {
            replicas
        } else {
            0
        };
        cluster.mutate(
            &replica_sets,
            namespace_of(&set),
            name_of(&set),
            Subresource::Main,
            |set| {
                set["spec"]["replicas"] = json!(wanted);
            },
        )?;
        let status = &set["status"];
        total += status["replicas"].as_i64().unwrap_or_default();
        ready += status["readyReplicas"].as_i64().unwrap_or_default();
        if name_of(&set) == current_name {
            updated = status["replicas"].as_i64().unwrap_or_default();
        }
    }
    let generation = deployment["metadata"]["generation"].clone();
    cluster.mutate(
        &deployments,
        namespace_of(deployment),
        name_of(deployment),
        Subresource::Status,
        |deployment| {
            let status = &mut deployment["status"];
            if !status.is_object() {
                *status = json!({});
            }
            status["observedGeneration"] = generation;
            status["replicas"] = json!(total);
            status["readyReplicas"] = json!(ready);
            status["availableReplicas"] = json!(ready);
            status["updatedReplicas"] = json!(updated);
            status["unavailableReplicas"] = json!((replicas - ready).max(0));
            let available = if ready >= replicas { "True" } else { "False" };
            let (reason, message) = if ready >= replicas {
                (
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                )
            } else {
                (
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                )
            };
            set_condition(status, "Available", available, reason, message);
            set_condition(
                status,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                "ReplicaSet has successfully progressed.",
            );
            if let Some(map) = status.as_object_mut() {
                for zero in [
                    "readyReplicas",
                    "availableReplicas",
                    "updatedReplicas",
                    "unavailableReplicas",
                    "replicas",
                ] {
                    if map[zero] == 0 {
                        map.remove(zero);
                    }
                }
            }
        },
    )?;
    Ok(())
}

fn replica_status(status: &mut Value, generation: Value, total: i64, ready: i64) {
    if !status.is_object() {
        *status = json!({});
    }
    status["observedGeneration"] = generation;
    status["replicas"] = json!(total);
    status["readyReplicas"] = json!(ready);
    status["availableReplicas"] = json!(ready);
    if let Some(map) = status.as_object_mut() {
        for zero in ["readyReplicas", "availableReplicas"] {
            if map[zero] == 0 {
                map.remove(zero);
            }
        }
    }
}

fn reconcile_replica_set(cluster: &Cluster, set: &Value) -> Result<(), ApiError> {
    let replica_sets = cluster.builtin("apps", "replicasets");
    let pods = cluster.builtin("", "pods");
    let replicas = set["spec"]["replicas"].as_i64().unwrap_or(1);
    let mut living: Vec<_> = owned(cluster, &pods, uid_of(set))
        .into_iter()
        .filter(|pod| alive(pod))
        .collect();
    let count = living.len() as i64;
    for _ in count..replicas {
        super::create(
            cluster,
            &pods,
            pod_from_template(set, &set["spec"]["template"], None, &[]),
        )?;
    }
    if count > replicas {
        living.sort_by_key(|pod| {
            pod["metadata"]["creationTimestamp"]
                .as_str()
                .map(str::to_string)
        });
        for pod in living.drain(..).rev().take((count - replicas) as usize) {
            super::delete(cluster, &pods, &pod)?;
        }
    }
    let living: Vec<_> = owned(cluster, &pods, uid_of(set))
        .into_iter()
        .filter(|pod| alive(pod))
        .collect();
    let ready = living.iter().filter(|pod| is_ready(pod)).count() as i64;
    let generation = set["metadata"]["generation"].clone();
    cluster.mutate(
        &replica_sets,
        namespace_of(set),
        name_of(set),
        Subresource::Status,
        |set| {
            replica_status(&mut set["status"], generation, living.len() as i64, ready);
            set["status"]["fullyLabeledReplicas"] = json!(living.len());
        },
    )?;
    Ok(())
}

fn reconcile_stateful_set(cluster: &Cluster, set: &Value) -> Result<(), ApiError> {
    let stateful_sets = cluster.builtin("apps", "statefulsets");
    let pods = cluster.builtin("", "pods");
    let claims = cluster.builtin("", "persistentvolumeclaims");
    let spec = &set["spec"];
    let name = name_of(set).to_string();
    let namespace = namespace_of(set).to_string();
    let replicas = spec["replicas"].as_i64().unwrap_or(1);
    let revision = format!("{name}-{}", template_hash(&spec["template"]));
    let ordered = spec["podManagementPolicy"]
        .as_str()
        .unwrap_or("OrderedReady")
        == "OrderedReady";
    let existing = owned(cluster, &pods, uid_of(set));
    let selector_labels = spec["selector"]["matchLabels"].clone();
    for ordinal in 0..replicas {
        let pod_name = format!("{name}-{ordinal}");
        let current = existing.iter().find(|pod| name_of(pod) == pod_name);
        match current {
            Some(pod)
                if pod["metadata"]["labels"]["controller-revision-hash"] != revision.as_str()
                    && !deleting(pod) =>
            {
                super::delete(cluster, &pods, pod)?;
                return Ok(());
            }
            Some(pod) if ordered && !is_ready(pod) => break,
            Some(_) => continue,
            None => {}
        }
        let mut template = spec["template"].clone();
        let mut volumes = template["spec"]["volumes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for claim_template in spec["volumeClaimTemplates"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let template_name = name_of(claim_template);
            let claim_name = format!("{template_name}-{name}-{ordinal}");
            let mut labels = claim_template["metadata"]["labels"].clone();
            if !labels.is_object() {
                labels = json!({});
            }
            if let Some(selector) = selector_labels.as_object() {
                for (key, value) in selector {
                    labels[key] = value.clone();
                }
            }
            let claim = json!({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim_name, "namespace": namespace, "labels": labels},
                "spec": claim_template["spec"],
            });
            super::create(cluster, &claims, claim)?;
            volumes.retain(|volume| volume["name"] != template_name);
            volumes.push(
                json!({"name": template_name, "persistentVolumeClaim": {"claimName": claim_name}}),
            );
        }
        template["spec"]["volumes"] = Value::Array(volumes);
        template["spec"]["hostname"] = json!(pod_name);
        if let Some(service) = spec["serviceName"].as_str() {
            template["spec"]["subdomain"] = json!(service);
        }
        let labels = [
            ("statefulset.kubernetes.io/pod-name", pod_name.clone()),
            ("apps.kubernetes.io/pod-index", ordinal.to_string()),
            ("controller-revision-hash", revision.clone()),
        ];
        super::create(
            cluster,
            &pods,
            pod_from_template(set, &template, Some(pod_name), &labels),
        )?;
        if ordered {
            break;
        }
    }
    for pod in &existing {
        let ordinal = name_of(pod)
            .rsplit('-')
            .next()
            .and_then(|ordinal| ordinal.parse::<i64>().ok())
            .unwrap_or_default();
        if ordinal >= replicas && !deleting(pod) {
            super::delete(cluster, &pods, pod)?;
        }
    }
    let living: Vec<_> = owned(cluster, &pods, uid_of(set))
        .into_iter()
        .filter(|pod| alive(pod))
        .collect();
    let ready = living.iter().filter(|pod| is_ready(pod)).count() as i64;
    let generation = set["metadata"]["generation"].clone();
    cluster.mutate(
        &stateful_sets,
        &namespace,
        &name,
        Subresource::Status,
        |set| {
            replica_status(&mut set["status"], generation, living.len() as i64, ready);
            set["status"]["currentReplicas"] = json!(living.len());
            set["status"]["updatedReplicas"] = json!(living.len());
            set["status"]["currentRevision"] = json!(revision);
            set["status"]["updateRevision"] = json!(revision);
            set["status"]["collisionCount"] = json!(0);
        },
    )?;
    Ok(())
}

fn reconcile_daemon_set(cluster: &Cluster, set: &Value) -> Result<(), ApiError> {
    let daemon_sets = cluster.builtin("apps", "daemonsets");
    let pods = cluster.builtin("", "pods");
    let revision = template_hash(&set["spec"]["template"]);
    let living: Vec<_> = owned(cluster, &pods, uid_of(set))
        .into_iter()
        .filter(|pod| alive(pod))
        .collect();
    for pod in &living {
        if pod["metadata"]["labels"]["controller-revision-hash"] != revision.as_str() {
            super::delete(cluster, &pods, pod)?;
        }
    }
    let current = living
        .iter()
        .any(|pod| pod["metadata"]["labels"]["controller-revision-hash"] == revision.as_str());
    if !current {
        let mut pod = pod_from_template(
            set,
            &set["spec"]["template"],
            None,
            &[("controller-revision-hash", revision.clone())],
        );
        pod["spec"]["nodeName"] = json!(NODE_NAME);
        super::create(cluster, &pods, pod)?;
    }
    let living: Vec<_> = owned(cluster, &pods, uid_of(set))
        .into_iter()
        .filter(|pod| alive(pod))
        .collect();
    let ready = living.iter().filter(|pod| is_ready(pod)).count();
    let generation = set["metadata"]["generation"].clone();
    cluster.mutate(
        &daemon_sets,
        namespace_of(set),
        name_of(set),
        Subresource::Status,
        |set| {
            let status = &mut set["status"];
            *status = json!({
                "observedGeneration": generation,
                "desiredNumberScheduled": 1,
                "currentNumberScheduled": living.len(),
                "updatedNumberScheduled": living.len(),
                "numberReady": ready,
                "numberAvailable": ready,
                "numberMisscheduled": 0,
            });
        },
    )?;
    Ok(())
}
