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

/// Connects with the global flags.
pub async fn connect(global: &GlobalArgs) -> anyhow::Result<Cluster> {
    let options = KubeConfigOptions {
        context: global.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match &global.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .with_context(|| format!("unable to read kubeconfig `{}`", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .context("unable to load the kubeconfig")?
        }
        // No context asked for: ~/.kube/config, else in-cluster credentials (the executor
        // inside Jobs and the operator's Deployment).
        None if global.context.is_none() => kube::Config::infer()
            .await
            .context("unable to load a kubeconfig or in-cluster credentials")?,
        None => kube::Config::from_kubeconfig(&options)
            .await
            .context("unable to load the kubeconfig")?,
    };
    let namespace = global
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = Client::try_from(config).context("unable to create a Kubernetes client")?;
    Ok(Cluster { client, namespace })
}
