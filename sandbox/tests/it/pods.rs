//! The simulated kubelet and controllers: Job pods run as processes with logs, failures
//! respect backoffLimit, CronJobs fire, workloads get ready pods, and claims bind to
//! directories.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, ListParams, LogParams, PostParams};
use serde_json::json;

use super::support::{eventually, start, TEST_IMAGE};

fn job(name: &str, script: &str, backoff_limit: i32) -> Job {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"backoffLimit": backoff_limit, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "main", "image": TEST_IMAGE, "args": ["-c", script],
                            "env": [{"name": "GREETING", "value": "hello"},
                                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}]}}}
    }))
    .unwrap()
}

fn condition(job: &Job, kind: &str) -> bool {
    job.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|condition| condition.type_ == kind && condition.status == "True")
        })
}

#[tokio::test]
async fn a_job_pod_runs_as_a_process_and_its_output_is_the_pod_log() {
    let (sandbox, client) = start().await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &job("greet", "echo $GREETING from $POD_NAME; exit 0", 0),
    )
    .await
    .unwrap();
    let done = eventually("the job to complete", Duration::from_secs(20), || async {
        let job = jobs.get("greet").await.ok()?;
        condition(&job, "Complete").then_some(job)
    })
    .await;
    assert_eq!(done.status.unwrap().succeeded, Some(1));
    let pod = pods
        .list(&ListParams::default().labels("job-name=greet"))
        .await
        .unwrap()
        .items
        .remove(0);
    let pod_name = pod.metadata.name.clone().unwrap();
    assert_eq!(pod.status.unwrap().phase.as_deref(), Some("Succeeded"));
    let log = pods.logs(&pod_name, &LogParams::default()).await.unwrap();
    assert_eq!(log, format!("hello from {pod_name}\n"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_failing_job_is_failed_after_its_backoff_limit() {
    let (sandbox, client) = start().await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &job("broken", "echo failing; exit 3", 1),
    )
    .await
    .unwrap();
    let failed = eventually("the job to fail", Duration::from_secs(20), || async {
        let job = jobs.get("broken").await.ok()?;
        condition(&job, "Failed").then_some(job)
    })
    .await;
    assert_eq!(failed.status.unwrap().failed, Some(2));
    let listed = pods
        .list(&ListParams::default().labels("job-name=broken"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);
    for pod in listed.items {
        let status = pod.status.unwrap();
        assert_eq!(status.phase.as_deref(), Some("Failed"));
        let terminated = status.container_statuses.unwrap()[0]
            .state
            .clone()
            .unwrap()
            .terminated
            .unwrap();
        assert_eq!(terminated.exit_code, 3);
    }
    sandbox.shutdown().await;
}

fn cronjob(name: &str, schedule: &str) -> CronJob {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {"backoffLimit": 0, "template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": TEST_IMAGE, "args": ["-c", "echo version 1.0"]}]}}}}}
    }))
    .unwrap()
}

#[tokio::test]
async fn a_cronjob_fires_on_its_schedule_and_on_demand() {
    let (sandbox, client) = start().await;
    let cronjobs: Api<CronJob> = Api::namespaced(client.clone(), "default");
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    cronjobs
        .create(&PostParams::default(), &cronjob("minutely", "* * * * *"))
        .await
        .unwrap();
    let manual = sandbox.fire_cronjob("default", "minutely").unwrap();
    eventually(
        "the manual job to complete",
        Duration::from_secs(20),
        || async { condition(&jobs.get(&manual).await.ok()?, "Complete").then_some(()) },
    )
    .await;
    let scheduled = eventually(
        "a scheduled job to complete",
        Duration::from_secs(75),
        || async {
            let listed = jobs.list(&Default::default()).await.ok()?;
            listed.items.into_iter().find(|job| {
                let name = job.metadata.name.clone().unwrap_or_default();
                !name.contains("manual") && condition(job, "Complete")
            })
        },
    )
    .await;
    assert!(scheduled.metadata.name.unwrap().starts_with("minutely-"));
    let status = cronjobs.get("minutely").await.unwrap().status.unwrap();
    assert!(status.last_schedule_time.is_some());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn workloads_get_ready_pods_and_claims_bind_to_directories() {
    let (sandbox, client) = start().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), "default");
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}
    }))
    .unwrap();
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    let set: StatefulSet = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}},
                              "spec": {"containers": [{"name": "db", "image": "postgres:17",
                                        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
                 "volumeClaimTemplates": [{"metadata": {"name": "data"},
                     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}
    }))
    .unwrap();
    sets.create(&PostParams::default(), &set).await.unwrap();
    eventually(
        "the deployment to be ready",
        Duration::from_secs(15),
        || async {
            let status = deployments.get("web").await.ok()?.status?;
            (status.ready_replicas == Some(2)).then_some(())
        },
    )
    .await;
    eventually(
        "the statefulset to be ready",
        Duration::from_secs(15),
        || async {
            let status = sets.get("db").await.ok()?.status?;
            (status.ready_replicas == Some(2)).then_some(())
        },
    )
    .await;
    for ordinal in 0..2 {
        let name = format!("data-db-{ordinal}");
        let claim = claims.get(&name).await.unwrap();
        assert_eq!(claim.status.unwrap().phase.as_deref(), Some("Bound"));
        let directory = sandbox.pvc_dir("default", &name);
        assert!(directory.is_dir(), "{}", directory.display());
        std::fs::write(directory.join("file.txt"), "data").unwrap();
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn project_pods_see_their_mounts_and_kubeconfig() {
    let (sandbox, client) = start().await;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let claim: PersistentVolumeClaim = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "store"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    }))
    .unwrap();
    claims.create(&PostParams::default(), &claim).await.unwrap();
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "reader"},
        "spec": {"restartPolicy": "Never",
                 "containers": [{"name": "main", "image": TEST_IMAGE,
                   "args": ["-c", "echo \"$KUBESTASH_SANDBOX_MOUNTS\"; echo \"$KUBECONFIG\""],
                   "volumeMounts": [{"name": "store", "mountPath": "/var/lib/store"}]}],
                 "volumes": [{"name": "store", "persistentVolumeClaim": {"claimName": "store"}}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    eventually("the pod to succeed", Duration::from_secs(15), || async {
        let phase = pods.get("reader").await.ok()?.status?.phase?;
        (phase == "Succeeded").then_some(())
    })
    .await;
    let log = pods.logs("reader", &LogParams::default()).await.unwrap();
    let mut lines = log.lines();
    let mounts: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(
        mounts["/var/lib/store"]
            .as_str()
            .map(std::path::PathBuf::from),
        Some(sandbox.pvc_dir("default", "store"))
    );
    assert_eq!(
        lines.next().map(std::path::PathBuf::from),
        Some(sandbox.data_dir().join("kubeconfig"))
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn exec_runs_in_project_pods_with_their_environment_over_websocket() {
    use kube::api::AttachParams;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (sandbox, client) = start().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    for (name, image) in [("shell", TEST_IMAGE), ("nominal", "busybox:1.36")] {
        let pod: Pod = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "main", "image": image, "args": ["-c", "sleep 60"],
                                     "env": [{"name": "GREETING", "value": "hello"}]}]}
        }))
        .unwrap();
        pods.create(&PostParams::default(), &pod).await.unwrap();
    }
    eventually("the pods to run", Duration::from_secs(15), || async {
        for name in ["shell", "nominal"] {
            let phase = pods.get(name).await.ok()?.status?.phase?;
            if phase != "Running" {
                return None;
            }
        }
        Some(())
    })
    .await;

    // Output on both streams and the exit code in the final Status.
    let mut attached = pods
        .exec(
            "shell",
            ["sh", "-c", "echo \"$GREETING\"; echo oops >&2; exit 3"],
            &AttachParams::default().stderr(true),
        )
        .await
        .unwrap();
    let mut stdout = String::new();
    let mut stderr = String::new();
    let mut out = attached.stdout().unwrap();
    let mut err = attached.stderr().unwrap();
    let status = attached.take_status().unwrap();
    let (read_out, read_err) = tokio::join!(
        out.read_to_string(&mut stdout),
        err.read_to_string(&mut stderr)
    );
    read_out.unwrap();
    read_err.unwrap();
    let status = status.await.unwrap();
    assert_eq!((stdout.as_str(), stderr.as_str()), ("hello\n", "oops\n"));
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
    let causes = status.details.unwrap().causes.unwrap();
    assert_eq!(causes[0].message.as_deref(), Some("3"));

    // Stdin reaches the command and closing it ends the command.
    let mut attached = pods
        .exec("shell", ["cat"], &AttachParams::default().stdin(true))
        .await
        .unwrap();
    let mut input = attached.stdin().unwrap();
    input.write_all(b"ping").await.unwrap();
    input.shutdown().await.unwrap();
    let mut echoed = String::new();
    attached
        .stdout()
        .unwrap()
        .read_to_string(&mut echoed)
        .await
        .unwrap();
    assert_eq!(echoed, "ping");
    let status = attached.take_status().unwrap().await.unwrap();
    assert_eq!(status.status.as_deref(), Some("Success"));

    // A command that keeps stdout busy while stdin is still coming (1 MiB through `cat`).
    let mut attached = pods
        .exec("shell", ["cat"], &AttachParams::default().stdin(true))
        .await
        .unwrap();
    let mut input = attached.stdin().unwrap();
    let mut output = attached.stdout().unwrap();
    let big: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let writer = {
        let big = big.clone();
        async move {
            input.write_all(&big).await.unwrap();
            input.shutdown().await.unwrap();
        }
    };
    let mut echoed = Vec::new();
    let (_, read) = tokio::join!(writer, output.read_to_end(&mut echoed));
    read.unwrap();
    assert_eq!(echoed.len(), big.len());
    assert!(echoed == big);

    // A background process left holding the output does not keep the exec open.
    let started = std::time::Instant::now();
    let mut attached = pods
        .exec(
            "shell",
            ["sh", "-c", "sleep 30 & echo started"],
            &AttachParams::default(),
        )
        .await
        .unwrap();
    let mut text = String::new();
    attached
        .stdout()
        .unwrap()
        .read_to_string(&mut text)
        .await
        .unwrap();
    assert_eq!(text, "started\n");
    let status = attached.take_status().unwrap().await.unwrap();
    assert_eq!(status.status.as_deref(), Some("Success"));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );

    // A pod the sandbox only runs nominally cannot be exec'd into, and says why.
    let refused = pods
        .exec("nominal", ["true"], &AttachParams::default())
        .await
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(refused.contains("400"), "{refused}");

    // kubectl's own exec (WebSocket, v5) works too.
    if std::path::Path::new("/usr/bin/kubectl").exists() {
        // Async: the sandbox serves on this test's runtime.
        let output = tokio::process::Command::new("/usr/bin/kubectl")
            .arg("--kubeconfig")
            .arg(sandbox.kubeconfig_path())
            .args([
                "exec",
                "shell",
                "--",
                "sh",
                "-c",
                "echo from-kubectl; exit 5",
            ])
            .output()
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "from-kubectl\n",
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            output.status.code(),
            Some(5),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_image_from_an_invalid_registry_leaves_its_pod_pending_in_err_image_pull() {
    let (sandbox, client) = start().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "unpullable"},
        "spec": {"containers": [{"name": "main", "image": "registry.invalid/app:1"}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let status = eventually("the pull to fail", Duration::from_secs(20), || async {
        let status = pods.get("unpullable").await.ok()?.status?;
        status.start_time.is_some().then_some(status)
    })
    .await;
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let waiting = status.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .waiting
        .unwrap();
    assert_eq!(waiting.reason.as_deref(), Some("ErrImagePull"));
    assert!(waiting
        .message
        .unwrap()
        .contains("lookup registry.invalid: no such host"));
    sandbox.shutdown().await;
}
