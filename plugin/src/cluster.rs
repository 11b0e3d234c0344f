//! Connecting to the cluster the way kubectl does: `--kubeconfig` (else `$KUBECONFIG`, else
//! `~/.kube/config`, else in-cluster credentials), `--context`, and the namespace from `-n`
//! or the context.

use anyhow::Context;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Client;

use crate::cli::GlobalArgs;

/// A client and the namespace commands act in.
pub struct Cluster {
    /// The client.
    pub client: Client,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
}

fn kubeconfig_from_env() -> bool {
    std::env::var_os("KUBECONFIG").is_some_and(|value| !value.is_empty())
}

/// Connects with the global flags.
pub async fn connect(global: &GlobalArgs) -> anyhow::Result<Cluster> {
    let options = KubeConfigOptions {
        context: global.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config =
        match &global.kubeconfig {
            Some(path) => {
                let kubeconfig = Kubeconfig::read_from(path)
                    .with_context(|| format!("unable to read kubeconfig `{}`", path.display()))?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .context("unable to load the kubeconfig")?
            }
            // No context and no $KUBECONFIG: ~/.kube/config, else in-cluster credentials (the
            // executor inside Jobs and the operator's Deployment).
            None if global.context.is_none() && !kubeconfig_from_env() => kube::Config::infer()
                .await
                .context("unable to load a kubeconfig or in-cluster credentials")?,
            // $KUBECONFIG (which may list several files) is the user's choice: a file that is
            // missing or broken is an error, never a quiet fall-back to in-cluster credentials.
            None => kube::Config::from_kubeconfig(&options)
                .await
                .with_context(|| {
                    match std::env::var_os("KUBECONFIG").filter(|value| !value.is_empty()) {
                        Some(value) => format!(
                            "unable to load the kubeconfig (KUBECONFIG={})",
                            value.to_string_lossy()
                        ),
                        None => "unable to load the kubeconfig".to_string(),
                    }
                })?,
        };
    let namespace = global
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = Client::try_from(config).context("unable to create a Kubernetes client")?;
    Ok(Cluster { client, namespace })
}
