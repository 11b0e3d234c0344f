//! `kubectl kubestash pause|resume <backupconfiguration>`: set `spec.paused`, which suspends or
//! resumes the configuration's schedules.

use anyhow::Context;
use clap::Args;
use kube::api::{Api, Patch, PatchParams};
use kubestash::api::core::BackupConfiguration;

use crate::cli::GlobalArgs;
use crate::exit::{CliError, ExitStatus};

/// Arguments of `pause` and `resume`.
#[derive(Debug, Args)]
pub struct PauseArgs {
    /// The BackupConfiguration.
    pub backup_configuration: String,
}

/// Sets `spec.paused` to `paused`.
pub fn run(args: &PauseArgs, global: &GlobalArgs, paused: bool) -> anyhow::Result<ExitStatus> {
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(async {
        let cluster = crate::cluster::connect(global).await?;
        let api: Api<BackupConfiguration> = Api::namespaced(cluster.client, &cluster.namespace);
        let name = &args.backup_configuration;
        let patch = serde_json::json!({"spec": {"paused": paused}});
        match api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {
                let verb = if paused { "paused" } else { "resumed" };
                eprintln!("backupconfiguration {}/{name} {verb}", cluster.namespace);
                Ok(ExitStatus::Success)
            }
            Err(kube::Error::Api(status)) if status.code == 404 => Err(CliError::bad_input(
                format!("BackupConfiguration {}/{name} not found", cluster.namespace),
            )
            .with_hint("list them with `kubectl get backupconfigurations -n <namespace>`")
            .into()),
            Err(error) => Err(anyhow::Error::new(error).context(format!(
                "failed to update BackupConfiguration {}/{name}",
                cluster.namespace
            ))),
        }
    })
}
