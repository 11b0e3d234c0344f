//! The operator and the executor of kubectl-kubestash: one reconciler per KubeStash kind, the
//! subcommands that run inside backup and restore Jobs, leader election, metrics and the
//! install bundle. The plugin wires them to `operator run` and the hidden `executor` commands;
//! one-shot commands embed [`run`] in-process.

pub mod backend;
pub mod bundle;
pub mod catalog;
pub mod controllers;
pub mod executor;
pub mod hooks;
pub mod invoker;
pub mod jobs;
pub mod leader;
pub mod metrics;
pub mod mounts;
pub mod preview;
pub mod sessions;
pub mod util;

pub use controllers::{run, Context, Options};

/// Namespace the operator's Lease, Deployment and RBAC live in by default.
pub const DEFAULT_NAMESPACE: &str = "kubestash";

/// The image of this project as the install bundle and the default catalog reference it.
pub const IMAGE: &str = concat!(
    "ghcr.io/kubestash-rs/kubectl-kubestash:",
    env!("CARGO_PKG_VERSION")
);

/// Label that marks objects the operator manages.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubestash.com");
/// Labels KubeStash puts on BackupSessions and the Jobs of a run.
pub const LABEL_INVOKER_KIND: &str = "kubestash.com/invoker-kind";
/// The invoker's name.
pub const LABEL_INVOKER_NAME: &str = "kubestash.com/invoker-name";
/// The session of the invoker.
pub const LABEL_SESSION: &str = "kubestash.com/session";
/// The BackupSession a Job works for.
pub const LABEL_BACKUP_SESSION: &str = "kubestash.com/backup-session";
/// Annotation on a BackupSession the operator created to retry a failed one: the failed
/// session's name (`backup now --wait` follows the retry to the outcome).
pub const ANNOTATION_RETRY_OF: &str = "kubestash.com/retry-of";
/// The RestoreSession a Job works for.
pub const LABEL_RESTORE_SESSION: &str = "kubestash.com/restore-session";
/// The BackupStorage a sync Job works for.
pub const LABEL_STORAGE: &str = "kubestash.com/backup-storage";

/// Why a reconcile or an executor step failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API server refused or failed.
    #[error(transparent)]
    Kube(#[from] kube::Error),
    /// The repository engine failed.
    #[error(transparent)]
    Engine(#[from] kubestash::engine::EngineError),
    /// Anything else, already worded for users.
    #[error("{0}")]
    Message(String),
}

impl Error {
    /// An error with a message for users.
    pub fn msg(message: impl Into<String>) -> Self {
        Self::Message(message.into())
    }
}

/// Result of reconcilers and executor steps.
pub type Result<T, E = Error> = std::result::Result<T, E>;
