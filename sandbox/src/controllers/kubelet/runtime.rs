//! Running one pod of the project image: init containers in order, then every container as
//! a process group whose output feeds `pods/log`, restarts per `restartPolicy`, container
//! and pod status as a real kubelet reports them, and a clean kill on stop.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::watch;

use super::super::Settings;
use super::environment::{self, NotReady};
use crate::api::{name_of, namespace_of, Cluster, Subresource};
use crate::names;

/// The longest a stopped container gets between SIGTERM and SIGKILL (a kubelet gives the
/// pod's terminationGracePeriodSeconds, 30 s by default; tests should not wait that long).
const GRACE_LIMIT: Duration = Duration::from_secs(5);
/// Longest wait between restarts of a crashing container (a real kubelet caps at 5 minutes).
const RESTART_DELAY_CAP: Duration = Duration::from_secs(10);

/// How a container run ended.
enum Exit {
    Code(i32),
    Stopped,
}

struct PodRun {
    cluster: Arc<Cluster>,
    settings: Arc<Settings>,
    pod: Arc<Value>,
    volumes: BTreeMap<String, std::path::PathBuf>,
    statuses: Mutex<Vec<Value>>,
}

/// The status of a container that waits, for `reason`.
pub(super) fn waiting_status(container: &Value, reason: &str) -> Value {
    json!({
        "name": container["name"],
        "image": container["image"],
        "imageID": "",
        "ready": false,
        "started": false,
        "restartCount": 0,
        "state": {"waiting": {"reason": reason}},
    })
}

impl PodRun {
    fn is_project(&self, container: &Value) -> bool {
        container["image"] == self.settings.project_image.as_str()
    }

    /// Writes the pod status from the container statuses.
    fn publish(&self, phase: &str, init_statuses: Option<&[Value]>) {
        let statuses = self
            .statuses
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let ready = phase == "Running" && statuses.iter().all(|status| status["ready"] == true);
        let pods = self.cluster.builtin("", "pods");
        let update = self.cluster.mutate(
            &pods,
            namespace_of(&self.pod),
            name_of(&self.pod),
            Subresource::Status,
            |pod| {
                let mut status = pod["status"].clone();
                if status["startTime"].is_null() {
                    let started = super::started_status(&self.pod);
                    for (key, value) in started.as_object().into_iter().flatten() {
                        status[key] = value.clone();
                    }
                }
                status["phase"] = json!(phase);
                status["containerStatuses"] = json!(statuses);
                if let Some(init_statuses) = init_statuses {
                    status["initContainerStatuses"] = json!(init_statuses);
                }
                super::pod_conditions(&mut status, ready);
                if matches!(phase, "Succeeded" | "Failed") {
                    super::super::set_condition(&mut status, "Ready", "False", "PodCompleted", "");
                    super::super::set_condition(
                        &mut status,
                        "ContainersReady",
                        "False",
                        "PodCompleted",
                        "",
                    );
                }
                pod["status"] = status;
            },
        );
        if let Err(error) = update {
            tracing::debug!(pod = name_of(&self.pod), %error, "unable to update pod status");
        }
    }

    fn set_status(&self, index: usize, change: impl FnOnce(&mut Value)) {
        let mut statuses = self
            .statuses
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(status) = statuses.get_mut(index) {
            change(status);
        }
    }

    /// Runs one container process to its end (or until stopped: SIGTERM, then SIGKILL).
    async fn execute(
        &self,
        container: &Value,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Exit, NotReady> {
        let (program, mut command) = container_command(
            &self.cluster,
            &self.settings,
            &self.pod,
            container,
            &self.volumes,
            None,
        )?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let key = (
            namespace_of(&self.pod).to_string(),
            name_of(&self.pod).to_string(),
            container["name"].as_str().unwrap_or_default().to_string(),
        );
        self.cluster.logs.start(&key);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => {
                self.cluster.logs.append(
                    &key,
                    format!("failed to start `{}`: {error}", program.display()),
                );
                self.cluster.logs.finish(&key);
                return Ok(Exit::Code(128));
            }
        };
        let group = child.id().map(|id| id as i32);
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(tokio::spawn(forward(
                BufReader::new(stdout),
                self.cluster.clone(),
                key.clone(),
            )));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(tokio::spawn(forward(
                BufReader::new(stderr),
                self.cluster.clone(),
                key.clone(),
            )));
        }
        let exit = tokio::select! {
            status = child.wait() => Exit::Code(status.ok().and_then(|status| {
                use std::os::unix::process::ExitStatusExt;
                status.code().or_else(|| status.signal().map(|signal| 128 + signal))
            }).unwrap_or(1)),
            _ = stop.wait_for(|stopped| *stopped) => Exit::Stopped,
        };
        if let (Exit::Stopped, Some(group)) = (&exit, group) {
            // As a kubelet stops a deleted pod: SIGTERM, then SIGKILL after the grace period
            // (the pod's terminationGracePeriodSeconds, at most GRACE_LIMIT here).
            // SAFETY: kill(2) with a negative pid signals the process group we created for
            // this container; it has no memory-safety preconditions.
            unsafe {
                libc::kill(-group, libc::SIGTERM);
            }
            let grace = self.pod["spec"]["terminationGracePeriodSeconds"]
                .as_u64()
                .map(Duration::from_secs)
                .unwrap_or(GRACE_LIMIT)
                .min(GRACE_LIMIT);
            let _ = tokio::time::timeout(grace, child.wait()).await;
        }
        if let Some(group) = group {
            // SAFETY: kill(2) with a negative pid signals the process group we created for this
            // container; it has no memory-safety preconditions.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
        let _ = child.wait().await;
        for reader in readers {
            let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
        }
        self.cluster.logs.finish(&key);
        Ok(exit)
    }
}

/// A process of `container` as the sandbox runs it: the container's environment, its mount
/// map, a per-pod home and temporary directory and the pod's kubeconfig. The program is the
/// container's command and args, or `exec` (a `pods/exec` command) in their place. Standard
/// streams are left to the caller.
pub(crate) fn container_command(
    cluster: &Cluster,
    settings: &Settings,
    pod: &Value,
    container: &Value,
    volumes: &BTreeMap<String, std::path::PathBuf>,
    exec: Option<&[String]>,
) -> Result<(std::path::PathBuf, tokio::process::Command), NotReady> {
    let mut own = environment::container_environment(cluster, pod, container)?;
    let (program, arguments) = match exec {
        Some(command) => {
            let replaced = json!({"command": command});
            environment::command_line(settings, &replaced, &BTreeMap::new())
        }
        None => environment::command_line(settings, container, &own),
    };
    let mounts = environment::mounts(container, volumes);
    let pod_dir = environment::pod_dir(cluster, pod);
    let home = pod_dir.join("home");
    let temporary = pod_dir.join("tmp");
    for directory in [&home, &temporary] {
        std::fs::create_dir_all(directory).map_err(|error| {
            NotReady(format!(
                "failed to create `{}`: {error}",
                directory.display()
            ))
        })?;
    }
    let mut variables: BTreeMap<String, String> = BTreeMap::new();
    for inherited in ["PATH", "RUST_LOG", "RUST_BACKTRACE", "LLVM_PROFILE_FILE"] {
        if let Ok(value) = std::env::var(inherited) {
            variables.insert(inherited.to_string(), value);
        }
    }
    variables.insert("HOME".to_string(), home.display().to_string());
    variables.insert("TMPDIR".to_string(), temporary.display().to_string());
    variables.insert("HOSTNAME".to_string(), name_of(pod).to_string());
    variables.insert(
        "KUBECONFIG".to_string(),
        settings.kubeconfig.display().to_string(),
    );
    variables.insert(
        crate::MOUNTS_ENV.to_string(),
        environment::mounts_json(&mounts),
    );
    variables.append(&mut own);
    let working_directory = container["workingDir"]
        .as_str()
        .map(std::path::PathBuf::from)
        .filter(|directory| directory.is_dir())
        .unwrap_or(pod_dir.clone());
    let mut command = tokio::process::Command::new(&program);
    command
        .args(&arguments)
        .env_clear()
        .envs(&variables)
        .current_dir(&working_directory);
    Ok((program, command))
}

async fn forward<R: tokio::io::AsyncRead + Unpin>(
    reader: BufReader<R>,
    cluster: Arc<Cluster>,
    key: crate::logs::ContainerKey,
) {
    let mut lines = reader.lines();
    while let Ok(Some(line)) = lines.next_line().await {
        cluster.logs.append(&key, line);
    }
}

fn terminated(code: i32, started: &str) -> Value {
    json!({"terminated": {
        "exitCode": code,
        "reason": if code == 0 { "Completed" } else { "Error" },
        "startedAt": started,
        "finishedAt": names::now(),
        "containerID": format!("sandbox://{}", names::random_suffix(12)),
    }})
}

/// Runs a pod until it finishes or `stop` flips.
pub(crate) async fn run_pod(
    cluster: Arc<Cluster>,
    settings: Arc<Settings>,
    pod: Arc<Value>,
    mut stop: watch::Receiver<bool>,
) {
    let containers: Vec<Value> = pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let init_containers: Vec<Value> = pod["spec"]["initContainers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let restart_policy = pod["spec"]["restartPolicy"]
        .as_str()
        .unwrap_or("Always")
        .to_string();
    let volumes = loop {
        match environment::prepare_volumes(&cluster, &pod) {
            Ok(volumes) => break volumes,
            Err(reason) => {
                tracing::debug!(pod = name_of(&pod), %reason, "pod waits for its volumes");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    _ = stop.wait_for(|stopped| *stopped) => return,
                }
            }
        }
    };
    let run = Arc::new(PodRun {
        cluster,
        settings,
        pod: pod.clone(),
        volumes,
        statuses: Mutex::new(
            containers
                .iter()
                .map(|container| waiting_status(container, "PodInitializing"))
                .collect(),
        ),
    });
    let mut init_statuses: Vec<Value> = init_containers
        .iter()
        .map(|container| waiting_status(container, "PodInitializing"))
        .collect();
    for (index, container) in init_containers.iter().enumerate() {
        let started = names::now();
        let code = if run.is_project(container) {
            loop {
                match run.execute(container, &mut stop).await {
                    Ok(Exit::Code(code)) if code == 0 || restart_policy == "Never" => break code,
                    Ok(Exit::Code(_)) => {
                        init_statuses[index]["restartCount"] = json!(
                            init_statuses[index]["restartCount"]
                                .as_i64()
                                .unwrap_or_default()
                                + 1
                        );
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Ok(Exit::Stopped) => return,
                    Err(reason) => {
                        init_statuses[index]["state"] = json!({"waiting": {"reason": "CreateContainerConfigError", "message": reason.0}});
                        run.publish("Pending", Some(&init_statuses));
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                            _ = stop.wait_for(|stopped| *stopped) => return,
                        }
                    }
                }
            }
        } else {
            0
        };
        init_statuses[index]["state"] = terminated(code, &started);
        if code != 0 {
            run.publish("Failed", Some(&init_statuses));
            return;
        }
    }
    let init = if init_containers.is_empty() {
        None
    } else {
        Some(init_statuses.as_slice())
    };
    let mut tasks = Vec::new();
    for (index, container) in containers.iter().enumerate() {
        if !run.is_project(container) {
            run.set_status(index, |status| {
                status["state"] = json!({"running": {"startedAt": names::now()}});
                status["ready"] = json!(true);
                status["started"] = json!(true);
            });
            continue;
        }
        let run = run.clone();
        let container = container.clone();
        let policy = restart_policy.clone();
        let mut stop = stop.clone();
        let init = init.map(<[Value]>::to_vec);
        tasks.push(tokio::spawn(async move {
            let mut restarts = 0u32;
            loop {
                let started = names::now();
                run.set_status(index, |status| {
                    status["state"] = json!({"running": {"startedAt": started}});
                    status["ready"] = json!(true);
                    status["started"] = json!(true);
                });
                run.publish("Running", init.as_deref());
                let code = match run.execute(&container, &mut stop).await {
                    Ok(Exit::Code(code)) => code,
                    Ok(Exit::Stopped) => return,
                    Err(reason) => {
                        run.set_status(index, |status| {
                            status["state"] = json!({"waiting": {"reason": "CreateContainerConfigError", "message": reason.0}});
                            status["ready"] = json!(false);
                        });
                        run.publish("Pending", init.as_deref());
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_millis(200)) => continue,
                            _ = stop.wait_for(|stopped| *stopped) => return,
                        }
                    }
                };
                let restart = policy == "Always" || (policy == "OnFailure" && code != 0);
                run.set_status(index, |status| {
                    status["state"] = terminated(code, &started);
                    status["ready"] = json!(false);
                    status["started"] = json!(false);
                });
                if !restart {
                    return;
                }
                restarts += 1;
                let delay = Duration::from_millis(250).saturating_mul(2u32.saturating_pow(restarts.min(10))).min(RESTART_DELAY_CAP);
                run.set_status(index, |status| {
                    status["lastState"] = status["state"].clone();
                    status["state"] = json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off restarting failed container {}", status["name"].as_str().unwrap_or_default())}});
                    status["restartCount"] = json!(restarts);
                });
                run.publish("Running", init.as_deref());
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.wait_for(|stopped| *stopped) => return,
                }
            }
        }));
    }
    run.publish("Running", init);
    for task in tasks {
        let _ = task.await;
    }
    if *stop.borrow() {
        return;
    }
    let has_other_containers = containers
        .iter()
        .any(|container| !run.is_project(container));
    if has_other_containers {
        run.publish("Running", init);
        return;
    }
    let statuses = run
        .statuses
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    let all_succeeded = statuses
        .iter()
        .all(|status| status["state"]["terminated"]["exitCode"] == 0);
    run.publish(if all_succeeded { "Succeeded" } else { "Failed" }, init);
}
