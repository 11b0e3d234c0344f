//! Benchmark: creates 10,000 ConfigMaps through HTTP and lists them, printing the timings.
//! Run with `cargo run -p kubestash-sandbox --example bench_configmaps`.

use std::time::Instant;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kubestash_sandbox::{Sandbox, SandboxOptions};

const COUNT: usize = 10_000;

#[tokio::main]
async fn main() {
    let sandbox = Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox starts");
    let kubeconfig = Kubeconfig::read_from(sandbox.kubeconfig_path()).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    let client = kube::Client::try_from(config).expect("client");
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let started = Instant::now();
    let results: Vec<_> = futures::stream::iter(0..COUNT)
        .map(|index| {
            let maps = maps.clone();
            async move {
                let mut map = ConfigMap::default();
                map.metadata.name = Some(format!("bench-{index:05}"));
                map.data = Some([("index".to_string(), index.to_string())].into());
                maps.create(&PostParams::default(), &map).await
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let created = started.elapsed();
    assert!(results.iter().all(Result::is_ok), "every create succeeds");
    let started = Instant::now();
    let listed = maps.list(&ListParams::default()).await.expect("list");
    let listing = started.elapsed();
    let started = Instant::now();
    let page = maps
        .list(&ListParams::default().limit(500))
        .await
        .expect("page");
    let paging = started.elapsed();
    println!(
        "created {COUNT} configmaps in {created:?} ({:.0}/s)",
        COUNT as f64 / created.as_secs_f64()
    );
    println!("listed {} configmaps in {listing:?}", listed.items.len());
    println!("listed a page of {} in {paging:?}", page.items.len());
    sandbox.shutdown().await;
}
