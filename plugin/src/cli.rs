//! The clap definition of `kubectl kubestash`: global kubectl-style flags and the subcommands.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::commands::{
    backup, blueprint, completion, crds, demo, executor, install, operator, pause, restore,
    sandbox, snapshots, storage, validate,
};
use crate::output::OutputFormat;

/// Backup and restore for Kubernetes, KubeStash-compatible, in one binary.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-kubestash",
    bin_name = "kubectl-kubestash",
    version,
    about = "Backup and restore for Kubernetes: KubeStash's API, restic's repository format, one binary",
    long_about = None,
    after_help = "Use as `kubectl kubestash <command>` once the binary is on PATH."
)]
pub struct Cli {
    /// Flags every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// kubectl-style flags shared by every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, which may list several files as
    /// kubectl's does, or ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace of the objects (default: the context's namespace).
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Output format of read commands.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// More logging on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the version of the plugin and of the API it serves.
    Version,
    /// Print the CustomResourceDefinitions, or write them to a directory.
    Crds(crds::CrdsArgs),
    /// Print a shell completion script.
    Completion(completion::CompletionArgs),
    /// Check KubeStash manifests against the API and the admission rules, without a cluster.
    Validate(validate::ValidateArgs),
    /// Back up now: create BackupSession(s) and optionally wait for the outcome.
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// Restore a snapshot into a workload or PVC, or manifests into the cluster.
    Restore(restore::RestoreArgs),
    /// Install the CRDs, RBAC, default catalog and operator Deployment.
    Install(install::InstallArgs),
    /// Remove what `install` applied (the CRDs only with --include-crds).
    Uninstall(install::UninstallArgs),
    /// Run the operator (every controller) in the foreground.
    #[command(subcommand)]
    Operator(operator::OperatorCommand),
    /// Pause the schedules of a BackupConfiguration or, with --batch, a BackupBatch (sets spec.paused).
    Pause(pause::PauseArgs),
    /// Resume a paused BackupConfiguration or, with --batch, BackupBatch.
    Resume(pause::PauseArgs),
    /// List and describe snapshots.
    #[command(subcommand)]
    Snapshots(snapshots::SnapshotsCommand),
    /// Set up, list and check BackupStorages.
    #[command(subcommand)]
    Storage(storage::StorageCommand),
    /// Preview what auto-backup creates from a BackupBlueprint.
    #[command(subcommand)]
    Blueprint(blueprint::BlueprintCommand),
    /// Try it in 30 seconds: back up, delete and restore a workload's files on a built-in cluster.
    Demo(demo::DemoArgs),
    /// Run the built-in sandbox cluster (an in-memory API server) in the foreground.
    Sandbox(sandbox::SandboxArgs),
    /// Steps that run inside backup and restore Jobs.
    #[command(subcommand, hide = true)]
    Executor(executor::ExecutorCommand),
    /// Complete a partial command line (used by the `kubectl_complete-kubestash` shim).
    #[command(name = "__complete", hide = true)]
    Complete(completion::CompleteArgs),
}

/// The clap command tree, for completions and documentation.
pub fn command() -> clap::Command {
    Cli::command()
}
