//! The simulated control plane: a controller manager loop that runs the garbage collector,
//! namespace, CRD cleanup, volume binding, Job, CronJob and workload controllers on every
//! batch of store changes (and on a short tick for time-based work), plus the kubelet.

mod cronjob;
mod garbage_collector;
mod job;
pub(crate) mod kubelet;
mod lifecycle;
mod volumes;
mod workloads;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{ApiError, Cluster, DeleteOptions, Propagation, WriteOptions};
use crate::registry::ResourceType;
use crate::store::Change;

pub(crate) use cronjob::fire_now as fire_cronjob;
pub(crate) use volumes::claim_dir;

/// The one node of the sandbox.
pub(crate) const NODE_NAME: &str = "sandbox-node";

/// How often time-based work (deadlines, TTLs, schedules) is checked without changes.
const TICK: Duration = Duration::from_millis(500);

/// What the kubelet needs to run project-image pods.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub project_image: String,
    pub binary: PathBuf,
    /// Kubeconfig handed to pod processes.
    pub kubeconfig: PathBuf,
}

/// Starts the controller manager and the kubelet.
pub(crate) fn spawn(
    cluster: Arc<Cluster>,
    settings: Settings,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(run_manager(cluster.clone(), shutdown.clone())),
        tokio::spawn(kubelet::run(cluster, settings, shutdown)),
    ]
}

/// Reads the changes since `last`; `None` when the history no longer reaches back.
pub(crate) fn changes_since(cluster: &Cluster, last: &mut u64) -> Option<Vec<Change>> {
    let state = cluster.lock();
    let changes = state.changes_since(*last).ok();
    *last = state.revision();
    changes
}

/// Waits for a store change (debounced), the tick, or shutdown; false on shutdown.
pub(crate) async fn wait_for_work(
    revisions: &mut watch::Receiver<u64>,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    if *shutdown.borrow() {
        return false;
    }
    tokio::select! {
        changed = revisions.changed() => {
            if changed.is_err() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            true
        }
        _ = tokio::time::sleep(TICK) => true,
        _ = shutdown.changed() => false,
    }
}

/// One controller's pass over a batch of changes.
type Step = fn(&Cluster, &[Change]) -> Result<(), ApiError>;

async fn run_manager(cluster: Arc<Cluster>, mut shutdown: watch::Receiver<bool>) {
    let mut revisions = cluster.subscribe();
    let mut last = 0;
    loop {
        let changes = changes_since(&cluster, &mut last).unwrap_or_default();
        let steps: [(&str, Step); 6] = [
            ("garbage-collector", garbage_collector::reconcile),
            ("lifecycle", lifecycle::reconcile),
            ("volumes", volumes::reconcile),
            ("job", job::reconcile),
            ("cronjob", cronjob::reconcile),
            ("workloads", workloads::reconcile),
        ];
        for (name, step) in steps {
            if let Err(error) = step(&cluster, &changes) {
                tracing::debug!(controller = name, %error, "reconcile failed; retrying");
            }
        }
        if !wait_for_work(&mut revisions, &mut shutdown).await {
            return;
        }
    }
}

/// Whether any change concerns one of the given `(group, plural)` resources.
pub(crate) fn touches(changes: &[Change], resources: &[(&str, &str)]) -> bool {
    changes.iter().any(|change| {
        resources.iter().any(|(group, plural)| {
            change.resource.group == *group && change.resource.plural == *plural
        })
    })
}

/// Objects of `resource` owned (as controller) by the object with `uid`.
pub(crate) fn owned(cluster: &Cluster, resource: &ResourceType, uid: &str) -> Vec<Arc<Value>> {
    let state = cluster.lock();
    let key = resource.storage_key();
    state
        .dependents_of(uid)
        .into_iter()
        .filter(|(dependent_resource, _)| *dependent_resource == key)
        .filter_map(|(dependent_resource, name)| state.get(&dependent_resource, &name))
        .filter(|object| {
            object["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|owner| owner["uid"] == uid && owner["controller"] == true)
        })
        .collect()
}

/// An ownerReference naming `owner` as controller.
pub(crate) fn controller_reference(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Creates an object as a controller; an existing name is not an error.
pub(crate) fn create(
    cluster: &Cluster,
    resource: &ResourceType,
    object: Value,
) -> Result<(), ApiError> {
    let namespace = crate::api::namespace_of(&object).to_string();
    match cluster.create(resource, &namespace, object, &WriteOptions::default()) {
        Ok(_) => Ok(()),
        Err(error) if error.code == 409 => Ok(()),
        Err(error) => Err(error),
    }
}

/// Deletes an object in the background; a missing object is not an error.
pub(crate) fn delete(
    cluster: &Cluster,
    resource: &ResourceType,
    object: &Value,
) -> Result<(), ApiError> {
    let options = DeleteOptions {
        propagation: Some(Propagation::Background),
        ..DeleteOptions::default()
    };
    let namespace = crate::api::namespace_of(object).to_string();
    let name = crate::api::name_of(object).to_string();
    match cluster.delete(resource, &namespace, &name, &options) {
        Ok(_) => Ok(()),
        Err(error) if error.code == 404 => Ok(()),
        Err(error) => Err(error),
    }
}

/// Whether an object is being deleted.
pub(crate) fn deleting(object: &Value) -> bool {
    !object["metadata"]["deletionTimestamp"].is_null()
}

/// Sets (or refreshes) a condition in a `status.conditions` list, keeping the transition
/// time when the status does not change.
pub(crate) fn set_condition(
    status: &mut Value,
    kind: &str,
    value: &str,
    reason: &str,
    message: &str,
) {
    let now = crate::names::now();
    if !status["conditions"].is_array() {
        status["conditions"] = json!([]);
    }
    let conditions = status["conditions"].as_array_mut().expect("made an array");
    match conditions
        .iter_mut()
        .find(|condition| condition["type"] == kind)
    {
        Some(condition) => {
            if condition["status"] != value {
                condition["lastTransitionTime"] = json!(now);
            }
            condition["status"] = json!(value);
            condition["reason"] = json!(reason);
            condition["message"] = json!(message);
        }
        None => conditions.push(json!({
            "type": kind,
            "status": value,
            "reason": reason,
            "message": message,
            "lastProbeTime": now,
            "lastTransitionTime": now,
        })),
    }
}

/// Whether a condition of the given type is `True`.
pub(crate) fn condition_true(object: &Value, kind: &str) -> bool {
    object["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|condition| condition["type"] == kind && condition["status"] == "True")
}
