//! `kubectl kubestash pause|resume <name> [--batch]`: set `spec.paused` of a
//! BackupConfiguration (or a BackupBatch), which suspends or resumes its schedules.

use anyhow::Context;
use clap::Args;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::Resource;
use kubestash::api::core::{BackupBatch, BackupConfiguration};

use crate::cli::GlobalArgs;
use crate::exit::{CliError, ExitStatus};

/// Arguments of `pause` and `resume`.
#[derive(Debug, Args)]
pub struct PauseArgs {
    /// The BackupConfiguration (with --batch: the BackupBatch).
    pub backup_configuration: String,
    /// The name is a BackupBatch.
    #[arg(long)]
    pub batch: bool,
}

/// Sets `spec.paused` to `paused`.
pub fn run(args: &PauseArgs, global: &GlobalArgs, paused: bool) -> anyhow::Result<ExitStatus> {
    let (kind, plural, resource) = if args.batch {
        (
            BackupBatch::kind(&()),
            BackupBatch::plural(&()),
            ApiResource::erase::<BackupBatch>(&()),
        )
    } else {
        (
            BackupConfiguration::kind(&()),
            BackupConfiguration::plural(&()),
            ApiResource::erase::<BackupConfiguration>(&()),
        )
    };
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(async {
        let cluster = crate::cluster::connect(global).await?;
        let api: Api<DynamicObject> =
            Api::namespaced_with(cluster.client, &cluster.namespace, &resource);
        let name = &args.backup_configuration;
        let patch = serde_json::json!({"spec": {"paused": paused}});
        match api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {
                let verb = if paused { "paused" } else { "resumed" };
                eprintln!(
                    "{}/{name} {verb} in namespace {}",
                    kind.to_lowercase(),
                    cluster.namespace
                );
                Ok(ExitStatus::Success)
            }
            Err(kube::Error::Api(status)) if status.code == 404 => Err(CliError::bad_input(
                format!("{kind} {}/{name} not found", cluster.namespace),
            )
            .with_hint(format!(
                "list them with `kubectl get {plural} -n {}`{}",
                cluster.namespace,
                if args.batch {
                    ""
                } else {
                    "; a BackupBatch needs --batch"
                }
            ))
            .into()),
            Err(error) => Err(anyhow::Error::new(error).context(format!(
                "failed to update {kind} {}/{name}",
                cluster.namespace
            ))),
        }
    })
}
