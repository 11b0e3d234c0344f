//! `kubectl kubestash sandbox`: the in-memory test cluster, in the foreground, until Ctrl-C.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use kubestash_sandbox::{run_foreground, SandboxOptions, PROJECT_IMAGE};

use crate::exit::ExitStatus;

/// Arguments of `sandbox`.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Directory for volumes and pod files (default: a temporary directory removed on exit).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Port of the API server on 127.0.0.1 (default: a free one).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub port: u16,
    /// Write the kubeconfig for the sandbox to this path.
    #[arg(long, value_name = "PATH")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Image whose pods run as local processes of this binary.
    #[arg(long, value_name = "IMAGE", default_value = PROJECT_IMAGE)]
    pub image: String,
}

/// Runs the sandbox until SIGINT or SIGTERM.
pub fn run(args: &SandboxArgs) -> anyhow::Result<ExitStatus> {
    let options = SandboxOptions {
        port: args.port,
        data_dir: args.data_dir.clone(),
        kubeconfig_path: args.kubeconfig_out.clone(),
        project_image: args.image.clone(),
        ..SandboxOptions::default()
    };
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime
        .block_on(run_foreground(options, shutdown_signal()))
        .context("failed to run the sandbox cluster")?;
    Ok(ExitStatus::Success)
}

async fn shutdown_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
