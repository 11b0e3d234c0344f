//! Shared helpers: starting a sandbox with a kube-rs client, and polling for a condition.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kube::config::{KubeConfigOptions, Kubeconfig};
use kubestash_sandbox::{Sandbox, SandboxHandle, SandboxOptions};

/// The image that marks pods run as local processes in these tests.
pub const TEST_IMAGE: &str = "example.com/kubestash/test-runner:1";

/// Options whose "project binary" is `/bin/sh`, so container args are shell scripts.
pub fn shell_options() -> SandboxOptions {
    SandboxOptions {
        project_image: TEST_IMAGE.to_string(),
        binary: Some(PathBuf::from("/bin/sh")),
        ..SandboxOptions::default()
    }
}

/// A kube-rs client for a running sandbox.
pub async fn client(sandbox: &SandboxHandle) -> kube::Client {
    let kubeconfig =
        Kubeconfig::read_from(sandbox.kubeconfig_path()).expect("kubeconfig is readable");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig is valid");
    kube::Client::try_from(config).expect("client builds")
}

/// Starts a sandbox with the shell runner and returns it with a client.
pub async fn start() -> (SandboxHandle, kube::Client) {
    let sandbox = Sandbox::start(shell_options())
        .await
        .expect("sandbox starts");
    let client = client(&sandbox).await;
    (sandbox, client)
}

/// Polls `check` every 50 ms until it yields a value, panicking after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The HTTP status of a kube-rs error, if it came from the server.
pub fn status_code(error: &kube::Error) -> Option<u16> {
    match error {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}
