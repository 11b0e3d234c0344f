//! In-memory Kubernetes API server and simulated cluster controllers for tests and the demo.
//!
//! [`Sandbox::start`] serves the Kubernetes REST protocol on `127.0.0.1` (discovery, CRUD,
//! patches, status subresources, resource versions and conflicts, selectors, watch,
//! pagination, finalizers, garbage collection, CRDs) and runs simulated controllers: a
//! kubelet, and Job, CronJob, Deployment/ReplicaSet, StatefulSet, DaemonSet, namespace,
//! garbage-collector and PersistentVolumeClaim binding controllers. State lives in memory.
//!
//! # Pods of the project image
//!
//! Pods whose container image is [`SandboxOptions::project_image`] (by default
//! [`PROJECT_IMAGE`]) run as local processes of [`SandboxOptions::binary`]; pods of any
//! other image are only marked Running and Ready, except that an image from a registry under
//! the reserved `.invalid` domain (e.g. `registry.invalid/app:1`) cannot be pulled: its pod
//! stays Pending with the container waiting in `ErrImagePull`, as a kubelet leaves it. A container `command` whose first element
//! has the file name `kubectl-kubestash` means the binary itself; another `command` replaces
//! the binary; the container `args` follow. The process gets the container's `env` and
//! `envFrom` (Secret and ConfigMap values resolved, `fieldRef` to `metadata.name`,
//! `metadata.namespace`, `metadata.uid`, `spec.nodeName`, `spec.serviceAccountName`,
//! `status.podIP`), `$(VAR)` references expanded, `PATH` from the host, plus:
//!
//! * `KUBECONFIG`: a kubeconfig for the sandbox, in place of in-cluster credentials;
//! * `KUBESTASH_SANDBOX_MOUNTS` ([`MOUNTS_ENV`]): a JSON object mapping every container
//!   `mountPath` to the host directory (or file) behind it, e.g.
//!   `{"/var/lib/orders": "/tmp/sandbox/pvc/shop/orders-data"}`. A process that would
//!   read or write a mount path must resolve it through this map: the longest mount path
//!   that is a prefix of the path wins, and the rest of the path is appended to its host
//!   directory. This is the contract between the sandbox and the executor.
//!
//! Volumes map as follows: a PersistentVolumeClaim to the directory of its bound volume
//! (see [`SandboxHandle::pvc_dir`]), a Secret or ConfigMap to a directory of files, an
//! `emptyDir` to a fresh directory under the data dir, a `hostPath` to the host path itself;
//! `subPath` is appended. Container stdout and stderr become `pods/log`; the exit code
//! decides the pod phase, and `restartPolicy` is honoured. The processes of a deleted pod get
//! SIGTERM, then SIGKILL after its `terminationGracePeriodSeconds` (at most 5 s here).
//!
//! `pods/exec` (WebSocket, subprotocols `v5.channel.k8s.io` and `v4.channel.k8s.io`, as
//! kubectl 1.30+ and kube-rs speak them) runs the command the same way, with the chosen
//! container's environment and mounts; it works in project-image containers of Running pods
//! only, and answers 400 for others. There is no SPDY and no TTY.

mod api;
mod controllers;
mod error;
mod kubeconfig;
mod logs;
mod names;
mod patch;
mod registry;
mod sandbox;
mod schema;
mod selector;
mod server;
mod store;
mod validation;

pub use error::SandboxError;
pub use sandbox::{run_foreground, Sandbox, SandboxHandle, SandboxOptions};

/// The image of this project as the install bundle references it; pods using it run as
/// local processes.
pub const PROJECT_IMAGE: &str = concat!(
    "ghcr.io/kubestash-rs/kubectl-kubestash:",
    env!("CARGO_PKG_VERSION")
);

/// Environment variable naming the binary that project-image pods run (overrides
/// `std::env::current_exe()` when [`SandboxOptions::binary`] is not set).
pub const BINARY_ENV: &str = "KUBESTASH_SANDBOX_BINARY";

/// Environment variable carrying the JSON map from container mount paths to host paths.
pub const MOUNTS_ENV: &str = "KUBESTASH_SANDBOX_MOUNTS";
