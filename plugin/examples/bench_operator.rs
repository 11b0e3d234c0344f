//! Operator benchmark on the sandbox: 1,000 BackupConfigurations to Ready, the operator's
//! memory, its restart to Ready, and the latency from BackupSession creation to the backup
//! Job's creation.
//!
//! `cargo build --release -p kubectl-kubestash && cargo run --release -p kubectl-kubestash
//! --example bench_operator` (BENCH_CONFIGURATIONS, BENCH_SESSIONS change the sizes). The
//! operator runs as a separate `kubectl-kubestash operator run` process of the release
//! binary, so its memory is its own; the sandbox runs in this process.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, DynamicObject, PostParams, WatchEvent, WatchParams};
use kube::discovery::ApiResource;
use kube::{Client, Config};
use kubestash::api::core::{BackupConfiguration, BackupSession};
use kubestash_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("release/kubectl-kubestash")
}

struct Operator(Child);

impl Operator {
    fn start(kubeconfig: &std::path::Path, metrics: &str) -> Self {
        let child = Command::new(binary())
            .args(["operator", "run", "--metrics-addr", metrics])
            .env("KUBECONFIG", kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the release binary runs (cargo build --release first)");
        Self(child)
    }

    /// (VmRSS, VmHWM) in KiB.
    fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// The RSS split into anonymous memory (heap, stacks) and mapped file pages (the
    /// binary's code and data), as text for the report.
    fn split(&self) -> String {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).unwrap();
        let field = |name: &str| -> f64 {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
                / 1024.0
        };
        format!(
            "anon {:.1} MiB + file {:.1} MiB",
            field("RssAnon:"),
            field("RssFile:")
        )
    }

    /// `RSS … MiB (anon … + file …)`, with `, peak … MiB` (VmHWM) when `peak` is set.
    fn report(&self, peak: bool) -> String {
        let (rss, hwm) = self.memory();
        let mut text = format!("RSS {:.1} MiB ({})", rss as f64 / 1024.0, self.split());
        if peak {
            text += &format!(", peak {:.1} MiB", hwm as f64 / 1024.0);
        }
        text
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn ready(metrics: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(metrics) else {
        return false;
    };
    let _ = stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}

async fn apply(client: &Client, object: serde_json::Value) {
    let api_version = object["apiVersion"].as_str().unwrap();
    let kind = object["kind"].as_str().unwrap();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let plural = match kind {
        "RetentionPolicy" => "retentionpolicies".to_string(),
        other => format!("{}s", other.to_lowercase()),
    };
    let resource = ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk(group, version, kind),
        &plural,
    );
    let api: Api<DynamicObject> = match object["metadata"]["namespace"].as_str() {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let object: DynamicObject = serde_json::from_value(object).unwrap();
    api.create(&PostParams::default(), &object).await.unwrap();
}

fn configuration(index: usize) -> serde_json::Value {
    json!({
        "apiVersion": "core.kubestash.com/v1alpha1",
        "kind": "BackupConfiguration",
        "metadata": {"name": format!("app-{index:04}"), "namespace": "bench"},
        "spec": {
            "target": {"apiGroup": "apps", "kind": "Deployment", "name": "app", "namespace": "bench"},
            "backends": [{"name": "local", "storageRef": {"name": "disk", "namespace": "bench"},
                          "retentionPolicy": {"name": "keep", "namespace": "bench"}}],
            "sessions": [{
                "name": "nightly",
                "scheduler": {"schedule": "30 2 * * *", "jobTemplate": {"backoffLimit": 0}},
                "repositories": [{"name": format!("app-{index:04}-repo"), "backend": "local",
                                  "directory": format!("/bench/app-{index:04}"),
                                  "encryptionSecret": {"name": "password", "namespace": "bench"}}],
                "addon": {"name": "workload-addon", "tasks": [{"name": "logical-backup",
                          "targetVolumes": {"volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                          "params": {"paths": "/data"}}]},
            }],
        },
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

#[tokio::main]
async fn main() {
    let configurations = env_number("BENCH_CONFIGURATIONS", 1000);
    let sessions = env_number("BENCH_SESSIONS", 30);
    let directory = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxOptions {
        data_dir: Some(directory.path().join("data")),
        kubeconfig_path: Some(directory.path().join("kubeconfig")),
        binary: Some(binary()),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let kubeconfig = sandbox.kubeconfig_path().to_path_buf();
    let config = Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(&kubeconfig).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    let client = Client::try_from(config).unwrap();
    let metrics = "127.0.0.1:18099";

    let operator = Operator::start(&kubeconfig, metrics);
    let started = Instant::now();
    while !ready(metrics) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "operator (CRDs and catalog applied, Lease held) ready in {:.2}s on an empty cluster",
        started.elapsed().as_secs_f64()
    );

    let storage = directory.path().join("storage");
    for object in [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "password", "namespace": "bench"},
               "stringData": {"RESTIC_PASSWORD": "bench"}}),
        json!({"apiVersion": "storage.kubestash.com/v1alpha1", "kind": "BackupStorage",
               "metadata": {"name": "disk", "namespace": "bench"},
               "spec": {"storage": {"provider": "local", "local": {"mountPath": "/storage",
                        "hostPath": {"path": storage.display().to_string()}}},
                        "usagePolicy": {"allowedNamespaces": {"from": "Same"}},
                        "default": true, "deletionPolicy": "Delete"}}),
        json!({"apiVersion": "storage.kubestash.com/v1alpha1", "kind": "RetentionPolicy",
               "metadata": {"name": "keep", "namespace": "bench"},
               "spec": {"successfulSnapshots": {"last": 3},
                        "usagePolicy": {"allowedNamespaces": {"from": "Same"}}}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"name": "data", "namespace": "bench"},
               "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app", "namespace": "bench"},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "app"}},
                        "template": {"metadata": {"labels": {"app": "app"}},
                                     "spec": {"containers": [{"name": "app", "image": "busybox",
                                              "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                                              "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}}}}),
    ] {
        apply(&client, object).await;
    }
    std::fs::create_dir_all(sandbox.pvc_dir("bench", "data")).unwrap();
    std::fs::write(
        sandbox.pvc_dir("bench", "data").join("file"),
        b"bench data\n",
    )
    .unwrap();

    // The floor: the operator with its catalog and storage, before any configuration.
    tokio::time::sleep(Duration::from_secs(5)).await;
    println!(
        "operator memory with no configurations: {}",
        operator.report(false)
    );
    let configurations_api: Api<BackupConfiguration> = Api::namespaced(client.clone(), "bench");
    let count_ready = || async {
        configurations_api
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .iter()
            .filter(|c| {
                c.status
                    .as_ref()
                    .and_then(|s| s.phase)
                    .is_some_and(|p| format!("{p:?}") == "Ready")
            })
            .count()
    };
    let started = Instant::now();
    for index in 0..configurations {
        apply(&client, configuration(index)).await;
    }
    let created = started.elapsed();
    loop {
        if count_ready().await == configurations {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            panic!(
                "only {} of {configurations} Ready after 10 min",
                count_ready().await
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let all_ready = started.elapsed();
    println!(
        "{configurations} BackupConfigurations: created in {:.2}s, all Ready {:.2}s after the first was created",
        created.as_secs_f64(),
        all_ready.as_secs_f64()
    );
    println!(
        "operator memory with {configurations} configurations: {}",
        operator.report(true)
    );

    // Restart: time until the new process leads and serves /readyz, with everything present.
    operator.stop();
    let started = Instant::now();
    let operator = Operator::start(&kubeconfig, metrics);
    while !ready(metrics) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let restart = started.elapsed();
    tokio::time::sleep(Duration::from_secs(5)).await;
    println!(
        "operator restart to Ready with {configurations} configurations: {:.2}s; memory 5 s later: {}",
        restart.as_secs_f64(),
        operator.report(true)
    );
    // Settled: the operator returns freed memory every second.
    tokio::time::sleep(Duration::from_secs(10)).await;
    println!(
        "operator memory 15 s after the restart: {}",
        operator.report(false)
    );

    // BackupSession → Job latency, one session at a time (a second one would be Skipped).
    let sessions_api: Api<BackupSession> = Api::namespaced(client.clone(), "bench");
    let jobs: Api<Job> = Api::namespaced(client.clone(), "bench");
    let mut latencies = Vec::new();
    for index in 0..sessions {
        let name = format!("latency-{index:03}");
        let mut watch = jobs
            .watch(&WatchParams::default(), "0")
            .await
            .unwrap()
            .boxed();
        let session: BackupSession = serde_json::from_value(json!({
            "apiVersion": "core.kubestash.com/v1alpha1",
            "kind": "BackupSession",
            "metadata": {"name": name, "namespace": "bench"},
            "spec": {"invoker": {"apiGroup": "core.kubestash.com", "kind": "BackupConfiguration", "name": "app-0000"},
                     "session": "nightly"},
        }))
        .unwrap();
        let created = Instant::now();
        sessions_api
            .create(&PostParams::default(), &session)
            .await
            .unwrap();
        let job_name = format!("{name}-dump");
        while let Some(event) = watch.next().await {
            if let Ok(WatchEvent::Added(job)) = event {
                if job.metadata.name.as_deref() == Some(job_name.as_str()) {
                    latencies.push(created.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
            }
        }
        // Let it finish before the next one.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let current = sessions_api.get(&name).await.unwrap();
            let phase = current
                .status
                .and_then(|s| s.phase)
                .map(|p| format!("{p:?}"))
                .unwrap_or_default();
            if phase == "Succeeded" {
                break;
            }
            assert!(
                phase != "Failed" && phase != "Skipped" && Instant::now() < deadline,
                "session {name} ended {phase}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "BackupSession → Job over {sessions} sessions: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        latencies.last().unwrap()
    );
    println!("operator memory at the end: {}", operator.report(true));
    // Settled again: idle, with every configuration still present, past the next trims.
    tokio::time::sleep(Duration::from_secs(25)).await;
    println!(
        "operator memory 25 s after the last session: {}",
        operator.report(false)
    );
    operator.stop();
    sandbox.shutdown().await;
}
