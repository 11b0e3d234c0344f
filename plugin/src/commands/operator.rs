//! `kubectl kubestash operator run`: every controller in the foreground against the current
//! context, as the in-cluster Deployment runs it.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Args, Subcommand};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::{Api, Client};
use kubestash_operator::controllers::FIELD_MANAGER;

use crate::cli::GlobalArgs;
use crate::exit::ExitStatus;

/// `operator` subcommands.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Run the operator in the foreground (Lease namespace from -n, default `kubestash`).
    Run(RunArgs),
}

/// Flags of `operator run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Image of the backup, restore and trigger Jobs.
    #[arg(long, default_value = kubestash_operator::IMAGE)]
    pub image: String,
    /// Serve /metrics, /healthz and /readyz here (e.g. 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Do not apply the CRDs and the default catalog at start.
    #[arg(long)]
    pub no_bootstrap: bool,
}

/// The plural of a kind, by the rules Kubernetes' defaults use (`RetentionPolicy` →
/// `retentionpolicies`, `Ingress` → `ingresses`).
pub(crate) fn plural(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if let Some(stem) = lower.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    if lower.ends_with('s') || lower.ends_with("ch") || lower.ends_with('x') {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

/// Applies objects with server-side apply, in order.
pub async fn apply_objects(client: &Client, objects: &[serde_json::Value]) -> anyhow::Result<()> {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    for object in objects {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(group, version, kind),
            &plural(kind),
        );
        let api: Api<DynamicObject> = match object["metadata"]["namespace"].as_str() {
            Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
            None => Api::all_with(client.clone(), &resource),
        };
        api.patch(name, &params, &Patch::Apply(object))
            .await
            .with_context(|| format!("failed to apply {kind} {name}"))?;
    }
    Ok(())
}

/// The CRDs and the default catalog.
pub fn bootstrap_objects(image: &str) -> Vec<serde_json::Value> {
    kubestash_operator::bundle::objects(kubestash_operator::DEFAULT_NAMESPACE, image)
        .into_iter()
        .filter(|o| {
            matches!(
                o["kind"].as_str(),
                Some("CustomResourceDefinition" | "Addon" | "Function")
            )
        })
        .collect()
}

/// Runs `operator run`.
pub fn run(command: &OperatorCommand, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let OperatorCommand::Run(args) = command;
    allocator::limit_arenas();
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(async {
        tokio::spawn(allocator::trim_periodically());
        let cluster = crate::cluster::connect(global).await?;
        if !args.no_bootstrap {
            apply_objects(&cluster.client, &bootstrap_objects(&args.image)).await?;
            eprintln!("CRDs and the default catalog are in place");
        }
        let options = kubestash_operator::Options {
            image: args.image.clone(),
            namespace: global
                .namespace
                .clone()
                .unwrap_or_else(|| kubestash_operator::DEFAULT_NAMESPACE.into()),
            metrics_addr: args.metrics_addr,
            ..kubestash_operator::Options::default()
        };
        eprintln!(
            "operator starting (Lease {}/{})",
            options.namespace,
            kubestash_operator::leader::LEASE_NAME
        );
        kubestash_operator::run(cluster.client, options, shutdown_signal()).await?;
        eprintln!("operator stopped");
        Ok(ExitStatus::Success)
    })
}

/// glibc keeps freed memory in per-thread arenas and seldom hands it back, so the operator's
/// RSS stayed at its start-up peak (every controller's initial list at once) for good. Two
/// arenas and a trim every 10 s return it. Other allocators need neither.
mod allocator {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn limit_arenas() {
        // SAFETY: mallopt only changes allocator tuning; called before any other thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub async fn trim_periodically() {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
            // SAFETY: malloc_trim only releases free memory back to the OS.
            unsafe {
                libc::malloc_trim(0);
            }
        }
    }

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub fn limit_arenas() {}

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub async fn trim_periodically() {}
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = terminate.recv() => {},
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plurals_follow_the_kubernetes_defaults() {
        for (kind, plural) in [
            ("CustomResourceDefinition", "customresourcedefinitions"),
            ("RetentionPolicy", "retentionpolicies"),
            ("Ingress", "ingresses"),
            ("Deployment", "deployments"),
            ("Gateway", "gateways"),
        ] {
            assert_eq!(super::plural(kind), plural);
        }
    }
}
