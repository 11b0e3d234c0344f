//! Watch through kube-rs: ordered ADDED/MODIFIED/DELETED, resuming from a resource version,
//! and the runtime watcher.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher;

use super::support::start;

fn named(name: &str) -> ConfigMap {
    let mut map = ConfigMap::default();
    map.metadata.name = Some(name.to_string());
    map
}

#[tokio::test]
async fn a_watch_sees_added_modified_and_deleted_in_order_and_resumes() {
    let (sandbox, client) = start().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let initial = maps.list(&Default::default()).await.unwrap();
    let start_version = initial.metadata.resource_version.unwrap();
    let stream = maps
        .watch(&WatchParams::default().timeout(10), &start_version)
        .await
        .unwrap();
    let mut stream = stream.boxed();
    maps.create(&PostParams::default(), &named("watched"))
        .await
        .unwrap();
    let patch = serde_json::json!({"data": {"a": "b"}});
    maps.patch("watched", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    maps.delete("watched", &DeleteParams::default())
        .await
        .unwrap();
    let mut kinds = Vec::new();
    let mut versions = Vec::new();
    while kinds.len() < 3 {
        let event = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match event {
            WatchEvent::Added(map) => {
                kinds.push("ADDED");
                versions.push(map.metadata.resource_version.unwrap());
            }
            WatchEvent::Modified(map) => {
                kinds.push("MODIFIED");
                versions.push(map.metadata.resource_version.unwrap());
            }
            WatchEvent::Deleted(map) => {
                kinds.push("DELETED");
                versions.push(map.metadata.resource_version.unwrap());
            }
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(error) => panic!("unexpected watch error {error:?}"),
        }
    }
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"]);

    let resumed = maps
        .watch(&WatchParams::default().timeout(5), &versions[0])
        .await
        .unwrap();
    let resumed: Vec<_> = resumed.take(2).try_collect().await.unwrap();
    assert!(matches!(resumed[0], WatchEvent::Modified(_)), "{resumed:?}");
    assert!(matches!(resumed[1], WatchEvent::Deleted(_)), "{resumed:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_runtime_watcher_follows_changes_with_selectors() {
    let (sandbox, client) = start().await;
    let maps: Api<ConfigMap> = Api::namespaced(client, "default");
    let config = watcher::Config::default().labels("watched=yes");
    let mut events = watcher(maps.clone(), config).boxed();
    let mut labelled = named("labelled");
    labelled.metadata.labels = Some([("watched".to_string(), "yes".to_string())].into());
    let writer = {
        let maps = maps.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            maps.create(&PostParams::default(), &named("unlabelled"))
                .await
                .unwrap();
            maps.create(&PostParams::default(), &labelled)
                .await
                .unwrap();
            maps.delete("labelled", &DeleteParams::default())
                .await
                .unwrap();
        })
    };
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let event = tokio::time::timeout(Duration::from_secs(5), events.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match event {
            watcher::Event::Apply(map) => {
                seen.push(format!("apply {}", map.metadata.name.unwrap()))
            }
            watcher::Event::Delete(map) => {
                seen.push(format!("delete {}", map.metadata.name.unwrap()))
            }
            _ => {}
        }
    }
    assert_eq!(seen, ["apply labelled", "delete labelled"]);
    writer.await.unwrap();
    sandbox.shutdown().await;
}
