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
    let client = client(config).context("unable to create a Kubernetes client")?;
    Ok(Cluster { client, namespace })
}

/// The most a connection buffers of a response before its reader takes it, 32 KiB rather than
/// hyper's ~408 KiB. A connection's buffer keeps the largest size it ever grew to, and the
/// operator holds ~25 watch connections (kube speaks HTTP/1.1: one per watch) plus idle pooled
/// ones; the initial lists of 1,000 objects grew each to the maximum, ~6 MB in all. Larger
/// responses are read in more, smaller reads.
const MAX_READ_BUFFER: usize = 32 * 1024;

/// Builds the client as `kube::Client::try_from` does (TLS and credentials, timeouts, kube's
/// retry of throttled requests, extra headers), with a smaller read buffer per connection.
pub fn client(config: kube::Config) -> anyhow::Result<Client> {
    use kube::client::retry::RetryPolicy;
    use kube::client::ConfigExt;
    use tower::ServiceBuilder;

    if let Some(proxy) = &config.proxy_url {
        anyhow::bail!("a proxy for the API server (`{proxy}`, from the kubeconfig's proxy-url or $HTTPS_PROXY) is not supported: reach the API server directly");
    }
    // As kube does: its TLS set-up takes the process's default provider.
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    let https = config.rustls_https_connector_with_connector(http)?;
    let mut connector = hyper_timeout::TimeoutConnector::new(https);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http1_max_buf_size(MAX_READ_BUFFER)
        .build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(
            config
                .default_retry
                .then(|| tower::retry::RetryLayer::new(RetryPolicy::server_retry())),
        )
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(http);
    Ok(Client::new(service, config.default_namespace))
}

#[cfg(test)]
mod tests {
    /// The operator's guarded status writes (`util::patch_status_at`), against the sandbox:
    /// a write made on an old reading is refused, not merged over what changed since.
    #[tokio::test]
    async fn a_status_write_on_an_old_reading_is_refused() {
        use k8s_openapi::api::core::v1::Namespace;
        use kube::api::{Api, PostParams};
        use kube::ResourceExt;
        use kubestash_operator::util::patch_status_at;
        let directory = tempfile::tempdir().unwrap();
        let sandbox = kubestash_sandbox::Sandbox::start(kubestash_sandbox::SandboxOptions {
            data_dir: Some(directory.path().join("cluster")),
            kubeconfig_path: Some(directory.path().join("kubeconfig")),
            ..Default::default()
        })
        .await
        .unwrap();
        let global = crate::cli::GlobalArgs {
            kubeconfig: Some(sandbox.kubeconfig_path().to_path_buf()),
            context: None,
            namespace: None,
            output: crate::output::OutputFormat::Table,
            verbose: 0,
        };
        let api: Api<Namespace> = Api::all(super::connect(&global).await.unwrap().client);
        let namespace: Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "guarded"}})).unwrap();
        let read = api
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap();
        let mark =
            |kind: &str| serde_json::json!({"conditions": [{"type": kind, "status": "True"}]});
        let first = patch_status_at(&api, &read, mark("First"))
            .await
            .unwrap()
            .expect("written over the version read");
        let second = patch_status_at(&api, &read, mark("Second")).await.unwrap();
        assert!(second.is_none(), "written over a change: {second:?}");
        let now = api.get("guarded").await.unwrap();
        assert_eq!(now.resource_version(), first.resource_version());
        let conditions = now.status.unwrap().conditions.unwrap();
        assert_eq!(conditions[0].type_, "First");
        sandbox.shutdown().await;
    }

    #[tokio::test]
    async fn builds_for_https_and_refuses_proxies() {
        let config = kube::Config::new("https://127.0.0.1:9".parse().unwrap());
        super::client(config.clone()).expect("an HTTPS client builds");

        let mut proxied = config;
        proxied.proxy_url = Some("http://proxy.example:3128".parse().unwrap());
        let error = super::client(proxied).err().expect("a proxy is refused");
        assert!(
            error
                .to_string()
                .contains("a proxy for the API server (`http://proxy.example:3128/`"),
            "{error}"
        );
    }
}
