//! The public face: [`SandboxOptions`], [`Sandbox::start`], the [`SandboxHandle`] tests use,
//! and [`run_foreground`] for `kubectl kubestash sandbox`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{Cluster, WriteOptions};
use crate::controllers::{self, Settings};
use crate::error::SandboxError;
use crate::{kubeconfig, names, PROJECT_IMAGE};

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Where claim directories and pod scratch space live; a fresh temporary directory
    /// (removed on shutdown) when `None`.
    pub data_dir: Option<PathBuf>,
    /// Where to write the kubeconfig; `<data dir>/kubeconfig` when `None`.
    pub kubeconfig_path: Option<PathBuf>,
    /// Pods with this container image run as local processes.
    pub project_image: String,
    /// The program project-image pods run; `KUBESTASH_SANDBOX_BINARY`, else the current
    /// executable, when `None`.
    pub binary: Option<PathBuf>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            port: 0,
            data_dir: None,
            kubeconfig_path: None,
            project_image: PROJECT_IMAGE.to_string(),
            binary: None,
        }
    }
}

/// Entry point for starting sandboxes.
pub struct Sandbox;

/// A running sandbox. Dropping it stops the server and kills pod processes; call
/// [`SandboxHandle::shutdown`] to wait for that to finish.
pub struct SandboxHandle {
    cluster: Arc<Cluster>,
    base_url: String,
    kubeconfig_path: PathBuf,
    data_dir: PathBuf,
    owns_data_dir: bool,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SandboxError + '_ {
    move |source| SandboxError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Sandbox {
    /// Starts the API server and controllers; returns once the server accepts requests.
    pub async fn start(options: SandboxOptions) -> Result<SandboxHandle, SandboxError> {
        let (data_dir, owns_data_dir) = match &options.data_dir {
            Some(directory) => (directory.clone(), false),
            None => (
                std::env::temp_dir()
                    .join(format!("kubestash-sandbox-{}", names::random_suffix(10))),
                true,
            ),
        };
        std::fs::create_dir_all(&data_dir).map_err(io_error(&data_dir))?;
        let data_dir = data_dir.canonicalize().map_err(io_error(&data_dir))?;
        let binary = match &options.binary {
            Some(binary) => binary.clone(),
            None => match std::env::var_os(crate::BINARY_ENV) {
                Some(binary) => PathBuf::from(binary),
                None => std::env::current_exe().map_err(SandboxError::Binary)?,
            },
        };
        let address = format!("127.0.0.1:{}", options.port);
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|source| SandboxError::Bind {
                address: address.clone(),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| SandboxError::Bind {
            address: address.clone(),
            source,
        })?;
        let base_url = format!("http://{local}");
        let pod_kubeconfig = data_dir.join("kubeconfig");
        kubeconfig::write(&pod_kubeconfig, &base_url)?;
        let kubeconfig_path = options
            .kubeconfig_path
            .clone()
            .unwrap_or_else(|| pod_kubeconfig.clone());
        if kubeconfig_path != pod_kubeconfig {
            kubeconfig::write(&kubeconfig_path, &base_url)?;
        }
        let cluster = Cluster::new(data_dir.clone());
        bootstrap(&cluster)?;
        let (shutdown, shutdown_receiver) = watch::channel(false);
        let mut tasks = vec![tokio::spawn(crate::server::serve(
            cluster.clone(),
            listener,
            shutdown_receiver.clone(),
        ))];
        let settings = Settings {
            project_image: options.project_image.clone(),
            binary,
            kubeconfig: pod_kubeconfig,
        };
        tasks.extend(controllers::spawn(
            cluster.clone(),
            settings,
            shutdown_receiver,
        ));
        tracing::info!(%base_url, data_dir = %data_dir.display(), "sandbox cluster started");
        Ok(SandboxHandle {
            cluster,
            base_url,
            kubeconfig_path,
            data_dir,
            owns_data_dir,
            shutdown,
            tasks,
        })
    }
}

fn bootstrap(cluster: &Cluster) -> Result<(), SandboxError> {
    let namespaces = cluster.builtin("", "namespaces");
    let nodes = cluster.builtin("", "nodes");
    let fail = |error: crate::api::ApiError| SandboxError::Api {
        action: "create the initial objects".to_string(),
        message: error.message,
    };
    for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let namespace =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        cluster
            .create(&namespaces, "", namespace, &WriteOptions::default())
            .map_err(fail)?;
    }
    let node = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": controllers::NODE_NAME, "labels": {
            "kubernetes.io/hostname": controllers::NODE_NAME,
            "kubernetes.io/os": "linux",
        }},
        "spec": {},
    });
    let node = cluster
        .create(&nodes, "", node, &WriteOptions::default())
        .map_err(fail)?;
    let mut ready = (*node.object).clone();
    ready["status"] = json!({
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "message": "kubelet is posting ready status", "lastHeartbeatTime": names::now(),
                        "lastTransitionTime": names::now()}],
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": controllers::NODE_NAME}],
        "nodeInfo": {"kubeletVersion": "v1.33.0-kubestash-sandbox", "operatingSystem": "linux", "architecture": std::env::consts::ARCH},
    });
    cluster
        .update(
            &nodes,
            "",
            controllers::NODE_NAME,
            ready,
            crate::api::Subresource::Status,
            &WriteOptions::default(),
        )
        .map_err(fail)?;
    Ok(())
}

impl SandboxHandle {
    /// The kubeconfig file that points at this sandbox.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The data directory (claim directories live under `pvc/`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The host directory behind a PersistentVolumeClaim: its bound volume's `hostPath`, or
    /// the directory the claim will get once bound.
    pub fn pvc_dir(&self, namespace: &str, claim: &str) -> PathBuf {
        controllers::claim_dir(&self.cluster, namespace, claim)
    }

    /// Creates a Job from a CronJob's template now, like `kubectl create job --from=cronjob/…`;
    /// returns the Job's name.
    pub fn fire_cronjob(&self, namespace: &str, name: &str) -> Result<String, SandboxError> {
        controllers::fire_cronjob(&self.cluster, namespace, name).map_err(|error| {
            SandboxError::Api {
                action: format!("fire cronjob `{namespace}/{name}`"),
                message: error.message,
            }
        })
    }

    /// Stops the server and controllers, kills pod processes and waits for them.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        if self.owns_data_dir {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
        if self.owns_data_dir && self.tasks.iter().all(JoinHandle::is_finished) {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// Runs a sandbox until `shutdown` completes, printing how to use it on stderr.
pub async fn run_foreground(
    options: SandboxOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SandboxError> {
    let handle = Sandbox::start(options).await?;
    let kubeconfig = handle.kubeconfig_path().display().to_string();
    eprintln!(
        "kubestash sandbox cluster is running at {}",
        handle.base_url()
    );
    eprintln!("  data directory: {}", handle.data_dir().display());
    eprintln!("  kubeconfig:     {kubeconfig}");
    eprintln!();
    eprintln!("Use it from another shell:");
    eprintln!("  export KUBECONFIG={kubeconfig}");
    eprintln!("  kubectl get namespaces");
    eprintln!();
    eprintln!("State is kept in memory and lost on exit. Press Ctrl-C to stop.");
    shutdown.await;
    eprintln!("stopping the sandbox cluster");
    handle.shutdown().await;
    Ok(())
}
