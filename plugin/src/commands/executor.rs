//! `kubectl kubestash executor …` (hidden): the steps that run inside the Jobs the operator
//! creates. The namespace comes from the global `-n/--namespace`.

use anyhow::Context;
use clap::{Args, Subcommand};
use kubestash_operator::executor::{self, Mode};

use crate::cli::GlobalArgs;
use crate::exit::ExitStatus;

/// Executor steps.
#[derive(Debug, Subcommand)]
pub enum ExecutorCommand {
    /// Back up one component of a BackupSession.
    Backup(BackupArgs),
    /// Restore one component of a Snapshot for a RestoreSession.
    Restore(RestoreArgs),
    /// Create a BackupSession (what a session's CronJob runs).
    Trigger(TriggerArgs),
    /// Initialize a volume backend from a Job that mounts it.
    SyncStorage(SyncArgs),
    /// Apply the retention policies after a BackupSession.
    Retention(RetentionArgs),
    /// Probe a volume backend: write, read back and delete an object (`storage check`).
    CheckVolume(CheckVolumeArgs),
    /// List the objects of a manifest snapshot on a volume (`restore --dry-run`).
    ListManifests(ListManifestsArgs),
    /// Remove a deleted WipeOut Snapshot's data from the backend, then release it.
    WipeSnapshot(WipeSnapshotArgs),
    /// Empty a volume directory (WipeOut delete of a Repository or BackupStorage).
    WipeVolume(CheckVolumeArgs),
}

/// `executor wipe-snapshot`.
#[derive(Debug, Args)]
pub struct WipeSnapshotArgs {
    /// The Snapshot.
    #[arg(long)]
    pub snapshot: String,
}

/// `executor list-manifests`; the password comes in `RESTIC_PASSWORD`.
#[derive(Debug, Args)]
pub struct ListManifestsArgs {
    /// The component repository inside the container.
    #[arg(long)]
    pub path: std::path::PathBuf,
    /// The restic snapshot id.
    #[arg(long)]
    pub snapshot_id: String,
    /// A restore task parameter, key=value (repeatable).
    #[arg(long = "param")]
    pub params: Vec<String>,
    /// Namespace the objects would be moved into.
    #[arg(long)]
    pub restore_namespace: Option<String>,
}

/// `executor check-volume` and `executor wipe-volume`.
#[derive(Debug, Args)]
pub struct CheckVolumeArgs {
    /// The backend directory inside the container (mount path and subPath).
    #[arg(long)]
    pub path: std::path::PathBuf,
}

/// `executor backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// paths or manifest.
    #[arg(long)]
    pub mode: Mode,
    /// The BackupSession.
    #[arg(long = "backupsession")]
    pub backup_session: String,
    /// The component.
    #[arg(long, default_value = "dump")]
    pub component: String,
    /// A task parameter, key=value (repeatable).
    #[arg(long = "param")]
    pub params: Vec<String>,
}

/// `executor restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// paths or manifest.
    #[arg(long)]
    pub mode: Mode,
    /// The RestoreSession.
    #[arg(long = "restoresession")]
    pub restore_session: String,
    /// The Snapshot.
    #[arg(long)]
    pub snapshot: String,
    /// The component.
    #[arg(long, default_value = "dump")]
    pub component: String,
    /// A task parameter, key=value (repeatable).
    #[arg(long = "param")]
    pub params: Vec<String>,
}

/// `executor trigger`.
#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// Invoker kind.
    #[arg(long, default_value = "BackupConfiguration")]
    pub invoker_kind: String,
    /// Invoker name.
    #[arg(long)]
    pub invoker_name: String,
    /// Session name.
    #[arg(long)]
    pub session: String,
}

/// `executor sync-storage`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The BackupStorage.
    #[arg(long)]
    pub storage: String,
}

/// `executor retention`.
#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// The BackupSession.
    #[arg(long = "backupsession")]
    pub backup_session: String,
}

/// Runs one step; its errors are already recorded in the object's status.
pub fn run(command: &ExecutorCommand, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    if let Some(outcome) = run_offline(command) {
        return outcome;
    }
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("failed to watch for SIGTERM")?;
        tokio::select! {
            outcome = step(command, global) => outcome,
            _ = terminate.recv() => {
                // The Job was deleted (a timeout, a lost session) or its pod evicted. As pid 1
                // the process would ignore SIGTERM and be killed later, leaving its
                // repository locks to block others for half an hour.
                // On a plain thread: a remote store's blocking calls may not run on the
                // async runtime.
                let released = std::thread::spawn(kubestash::engine::lock::release_held_locks)
                    .join()
                    .unwrap_or(0);
                eprintln!("terminated: {released} repository lock(s) released");
                std::process::exit(143)
            }
        }
    })
}

/// One step that talks to the API server.
async fn step(command: &ExecutorCommand, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let cluster = crate::cluster::connect(global).await?;
    let client = &cluster.client;
    let namespace = cluster.namespace.clone();
    match command {
        ExecutorCommand::Backup(args) => {
            executor::backup(
                client,
                &executor::BackupArgs {
                    namespace,
                    backup_session: args.backup_session.clone(),
                    component: args.component.clone(),
                    mode: args.mode,
                    params: executor::parse_params(&args.params)?,
                },
            )
            .await?
        }
        ExecutorCommand::Restore(args) => {
            executor::restore(
                client,
                &executor::RestoreArgs {
                    namespace,
                    restore_session: args.restore_session.clone(),
                    snapshot: args.snapshot.clone(),
                    component: args.component.clone(),
                    mode: args.mode,
                    params: executor::parse_params(&args.params)?,
                },
            )
            .await?
        }
        ExecutorCommand::Trigger(args) => {
            let name = executor::trigger(
                client,
                &namespace,
                &args.invoker_kind,
                &args.invoker_name,
                &args.session,
            )
            .await?;
            println!("backupsession/{name} created");
        }
        ExecutorCommand::SyncStorage(args) => {
            executor::sync_storage(client, &namespace, &args.storage).await?
        }
        ExecutorCommand::Retention(args) => {
            executor::retention(client, &namespace, &args.backup_session).await?
        }
        ExecutorCommand::WipeSnapshot(args) => {
            executor::wipe_snapshot(client, &namespace, &args.snapshot).await?
        }
        ExecutorCommand::CheckVolume(_)
        | ExecutorCommand::ListManifests(_)
        | ExecutorCommand::WipeVolume(_) => {
            return Err(anyhow::anyhow!("this step runs without the API"))
        }
    }
    Ok(ExitStatus::Success)
}

/// The steps that need no API access: they print their result to the log, where the CLI
/// that created the Job reads it. `None` for the other steps.
fn run_offline(command: &ExecutorCommand) -> Option<anyhow::Result<ExitStatus>> {
    match command {
        ExecutorCommand::CheckVolume(args) => Some((|| {
            let report = executor::check_volume(&args.path)?;
            print_line(executor::PROBE_LOG_PREFIX, &report)?;
            Ok(ExitStatus::Success)
        })()),
        ExecutorCommand::ListManifests(args) => Some((|| {
            let params = executor::parse_params(&args.params)?;
            let objects = kubestash_operator::preview::list_mounted(
                &args.path,
                &args.snapshot_id,
                &params,
                args.restore_namespace.as_deref(),
            )?;
            for object in &objects {
                print_line(kubestash_operator::preview::MANIFEST_LOG_PREFIX, object)?;
            }
            Ok(ExitStatus::Success)
        })()),
        ExecutorCommand::WipeVolume(args) => Some((|| {
            let removed = executor::wipe_volume(&args.path)?;
            println!("removed {removed} entries below {}", args.path.display());
            Ok(ExitStatus::Success)
        })()),
        _ => None,
    }
}

/// One JSON value on one line after a prefix.
fn print_line(prefix: &str, value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{prefix}{}", serde_json::to_string(value)?);
    Ok(())
}
