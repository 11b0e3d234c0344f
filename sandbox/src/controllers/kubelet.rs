//! The simulated kubelet: schedules pods onto the one node, runs pods of the project image
//! as local processes (see the crate docs for the contract), marks other pods Running and
//! Ready, and stops processes when their pod is deleted or the sandbox shuts down.

mod environment;
mod runtime;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{deleting, Cluster, Settings, NODE_NAME};
use crate::api::{name_of, namespace_of, uid_of, ApiError, Subresource};
use crate::names;

struct Running {
    uid: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        self.stop.send_replace(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }
}

/// Whether any container (or init container) of the pod uses the project image.
fn runs_project_image(pod: &Value, image: &str) -> bool {
    ["containers", "initContainers"].iter().any(|list| {
        pod["spec"][list]
            .as_array()
            .into_iter()
            .flatten()
            .any(|container| container["image"] == image)
    })
}

/// A `pods/exec` process in `container` (default: the pod's first container), or why it
/// cannot run: (HTTP code, message). Only containers of the project image run as real
/// processes here, so only they can be exec'd into; the command runs with the container's
/// environment and mounts, like its main process.
pub(crate) fn exec_command(
    cluster: &Cluster,
    pod: &Value,
    container: Option<&str>,
    command: &[String],
) -> Result<tokio::process::Command, (u16, String)> {
    let name = name_of(pod);
    let settings = cluster
        .kubelet
        .get()
        .ok_or_else(|| (503, "the kubelet is not running".to_string()))?;
    let containers = pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let chosen = match container {
        Some(wanted) => containers
            .iter()
            .find(|c| c["name"] == wanted)
            .ok_or_else(|| {
                (
                    400,
                    format!("container {wanted} is not valid for pod {name}"),
                )
            })?,
        None => containers
            .first()
            .ok_or_else(|| (400, format!("pod {name} has no containers")))?,
    };
    if command.is_empty() {
        return Err((400, "you must specify at least 1 command".into()));
    }
    if pod["status"]["phase"] != "Running" {
        return Err((
            400,
            format!("unable to upgrade connection: pod {name} is not running"),
        ));
    }
    if chosen["image"] != settings.project_image.as_str() {
        return Err((
            400,
            format!(
                "container {} of pod {name} runs image {} which the sandbox does not execute; exec works in containers of the project image ({})",
                chosen["name"].as_str().unwrap_or_default(),
                chosen["image"],
                settings.project_image
            ),
        ));
    }
    let volumes = environment::prepare_volumes(cluster, pod).map_err(|reason| (500, reason.0))?;
    runtime::container_command(cluster, settings, pod, chosen, &volumes, Some(command))
        .map(|(_, command)| command)
        .map_err(|reason| (500, reason.0))
}

/// The pod IP the sandbox reports (all pods share the host network in reality).
pub(crate) fn pod_ip(pod: &Value) -> String {
    let seed = uid_of(pod).bytes().fold(0u32, |sum, byte| {
        sum.wrapping_mul(31).wrapping_add(byte as u32)
    });
    format!("10.244.{}.{}", (seed >> 8) % 256, (seed % 253) + 2)
}

/// Pod conditions for a pod whose containers are all started (`ready`) or not.
pub(crate) fn pod_conditions(status: &mut Value, ready: bool) {
    let ready_text = if ready { "True" } else { "False" };
    for (kind, value) in [
        ("PodReadyToStartContainers", "True"),
        ("Initialized", "True"),
        ("Ready", ready_text),
        ("ContainersReady", ready_text),
        ("PodScheduled", "True"),
    ] {
        let reason = if value == "True" {
            ""
        } else {
            "ContainersNotReady"
        };
        super::set_condition(status, kind, value, reason, "");
    }
}

/// Common status fields of a started pod.
pub(crate) fn started_status(pod: &Value) -> Value {
    let ip = pod_ip(pod);
    json!({
        "hostIP": "127.0.0.1",
        "hostIPs": [{"ip": "127.0.0.1"}],
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": names::now(),
        "qosClass": "BestEffort",
    })
}

/// The first image of the pod whose registry is under the reserved `.invalid` domain (RFC
/// 2606), which no kubelet can resolve.
fn unpullable_image(pod: &Value) -> Option<String> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|list| pod["spec"][list].as_array().into_iter().flatten())
        .filter_map(|container| container["image"].as_str())
        .find(|image| {
            image.split_once('/').is_some_and(|(registry, _)| {
                let host = registry.split(':').next().unwrap_or(registry);
                host.ends_with(".invalid")
            })
        })
        .map(str::to_string)
}

/// Leaves a pod Pending with its containers waiting in `ErrImagePull`, as a kubelet does when
/// it cannot resolve the registry of `image`.
fn mark_pull_failure(cluster: &Cluster, pod: &Value, image: &str) -> Result<(), ApiError> {
    let registry = image.split('/').next().unwrap_or(image);
    let message = format!(
        "failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": dial tcp: lookup {registry}: no such host"
    );
    let waiting = |container: &Value| {
        if container["image"] == image {
            let mut status = runtime::waiting_status(container, "ErrImagePull");
            status["state"]["waiting"]["message"] = json!(message);
            status
        } else {
            runtime::waiting_status(container, "PodInitializing")
        }
    };
    let statuses = |list: &str| -> Vec<Value> {
        pod["spec"][list]
            .as_array()
            .into_iter()
            .flatten()
            .map(waiting)
            .collect()
    };
    let init = statuses("initContainers");
    write_started(cluster, pod, "Pending", statuses("containers"), init)
}

/// Writes the status of a pod the kubelet took on: `phase`, its containers' statuses and the
/// pod conditions (Ready when Running).
fn write_started(
    cluster: &Cluster,
    pod: &Value,
    phase: &str,
    containers: Vec<Value>,
    init_containers: Vec<Value>,
) -> Result<(), ApiError> {
    let pods = cluster.builtin("", "pods");
    let mut status = started_status(pod);
    status["phase"] = json!(phase);
    status["containerStatuses"] = json!(containers);
    if !init_containers.is_empty() {
        status["initContainerStatuses"] = json!(init_containers);
    }
    pod_conditions(&mut status, phase == "Running");
    cluster.mutate(
        &pods,
        namespace_of(pod),
        name_of(pod),
        Subresource::Status,
        |pod| {
            pod["status"] = status;
        },
    )?;
    Ok(())
}

/// Marks a pod that runs no project-image container as Running and Ready.
fn mark_running(cluster: &Cluster, pod: &Value) -> Result<(), ApiError> {
    let now = names::now();
    let container_status = |container: &Value, terminated: bool| {
        let state = if terminated {
            json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}})
        } else {
            json!({"running": {"startedAt": now}})
        };
        json!({
            "name": container["name"],
            "image": container["image"],
            "imageID": "",
            "containerID": format!("sandbox://{}", names::random_suffix(12)),
            "ready": !terminated,
            "started": !terminated,
            "restartCount": 0,
            "state": state,
        })
    };
    let containers: Vec<Value> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|container| container_status(container, false))
        .collect();
    let init_containers: Vec<Value> = pod["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|container| container_status(container, true))
        .collect();
    write_started(cluster, pod, "Running", containers, init_containers)
}

/// Runs the kubelet until shutdown.
pub(crate) async fn run(
    cluster: Arc<Cluster>,
    settings: Settings,
    mut shutdown: watch::Receiver<bool>,
) {
    let settings = Arc::new(settings);
    let _ = cluster.kubelet.set(settings.clone());
    let mut running: HashMap<(String, String), Running> = HashMap::new();
    let mut revisions = cluster.subscribe();
    let mut last = 0;
    loop {
        let changes = super::changes_since(&cluster, &mut last);
        let relevant = changes
            .as_ref()
            .is_none_or(|changes| super::touches(changes, &[("", "pods")]));
        if relevant {
            sync(&cluster, &settings, &mut running).await;
        }
        if !super::wait_for_work(&mut revisions, &mut shutdown).await {
            break;
        }
    }
    for (_, runtime) in running.drain() {
        runtime.stop().await;
    }
}

async fn sync(
    cluster: &Arc<Cluster>,
    settings: &Arc<Settings>,
    running: &mut HashMap<(String, String), Running>,
) {
    let pods = cluster.builtin("", "pods");
    let all = cluster.objects(&pods, None);
    let mut present = std::collections::HashSet::new();
    for pod in all {
        let key = (namespace_of(&pod).to_string(), name_of(&pod).to_string());
        let uid = uid_of(&pod).to_string();
        present.insert((key.clone(), uid.clone()));
        if pod["spec"]["nodeName"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
        {
            let bound = cluster.mutate(&pods, &key.0, &key.1, Subresource::Main, |pod| {
                pod["spec"]["nodeName"] = json!(NODE_NAME);
            });
            if let Err(error) = bound {
                tracing::debug!(pod = %key.1, %error, "unable to schedule pod");
            }
            continue;
        }
        // Like a kubelet, run only the pods bound to this node; pods pinned to another
        // (e.g. one that is gone) stay Pending.
        if pod["spec"]["nodeName"] != NODE_NAME {
            continue;
        }
        if deleting(&pod) {
            if let Some(runtime) = running.remove(&key) {
                runtime.stop().await;
            }
            continue;
        }
        if let Some(runtime) = running.get(&key) {
            if runtime.uid == uid {
                continue;
            }
            if let Some(runtime) = running.remove(&key) {
                runtime.stop().await;
            }
        }
        if !pod["status"]["startTime"].is_null()
            || matches!(
                pod["status"]["phase"].as_str(),
                Some("Succeeded" | "Failed")
            )
        {
            continue;
        }
        if let Some(image) = unpullable_image(&pod) {
            if let Err(error) = mark_pull_failure(cluster, &pod, &image) {
                tracing::debug!(pod = %key.1, %error, "unable to mark pod's image pull failure");
            }
        } else if runs_project_image(&pod, &settings.project_image) {
            let (stop, stop_receiver) = watch::channel(false);
            let task = tokio::spawn(runtime::run_pod(
                cluster.clone(),
                settings.clone(),
                pod.clone(),
                stop_receiver,
            ));
            running.insert(key, Running { uid, stop, task });
        } else if let Err(error) = mark_running(cluster, &pod) {
            tracing::debug!(pod = %key.1, %error, "unable to mark pod running");
        }
    }
    let gone: Vec<(String, String)> = running
        .iter()
        .filter(|(key, runtime)| !present.contains(&((*key).clone(), runtime.uid.clone())))
        .map(|(key, _)| key.clone())
        .collect();
    for key in gone {
        if let Some(runtime) = running.remove(&key) {
            runtime.stop().await;
        }
        if !present.iter().any(|(present_key, _)| *present_key == key) {
            cluster.logs.remove_pod(&key.0, &key.1);
        }
    }
}
