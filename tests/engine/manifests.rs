//! Manifest backup and restore against the sandbox API server: exactly the objects the
//! example's filter selects land in the snapshot (readable by restic), and restore recreates
//! them in a fresh namespace, skipping or replacing existing ones as asked.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Client;
use kubestash::engine::{ComponentRepository, Location};
use kubestash::manifest::cluster::{apply, dump, write_dry_run};
use kubestash::manifest::{plan_restore, ManifestFilter};
use kubestash::object::{parse_documents, Object};
use kubestash_sandbox::{Sandbox, SandboxOptions};

use crate::{restic, Workspace, PASSWORD};

fn example(path: &str) -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/examples")
            .join(path),
    )
    .unwrap()
}

/// Manifest files of built-in objects from example YAML, as a restore would read them.
fn as_manifest_files(texts: &[String]) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for text in texts {
        for result in parse_documents(text) {
            let (object, value) = result.unwrap();
            let Object::Other(other) = object else {
                continue;
            };
            let plural = format!("{}s", other.kind.to_lowercase());
            let (group, _) = other.api_version.rsplit_once('/').unwrap_or(("", ""));
            let namespace = value
                .pointer("/metadata/namespace")
                .and_then(|namespace| namespace.as_str());
            let name = value
                .pointer("/metadata/name")
                .and_then(|name| name.as_str())
                .unwrap();
            let path = kubestash::manifest::manifest_path(&plural, group, namespace, name);
            files.push((path, serde_yaml::to_string(&value).unwrap().into_bytes()));
        }
    }
    files
}

async fn client(sandbox: &kubestash_sandbox::SandboxHandle) -> Client {
    let kubeconfig = Kubeconfig::read_from(sandbox.kubeconfig_path()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

fn example_filter() -> ManifestFilter {
    let configuration = example("manifests/backupconfiguration.yaml");
    let Ok((Object::BackupConfiguration(configuration), _)) =
        parse_documents(&configuration).remove(0)
    else {
        panic!("not a BackupConfiguration")
    };
    let sessions = configuration.spec.sessions.unwrap();
    let task = &sessions[0].addon.as_ref().unwrap().tasks.as_ref().unwrap()[0];
    ManifestFilter::from_parameters(task.params.as_ref().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_back_up_exactly_the_selection_and_restore_into_a_new_namespace() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let client = client(&sandbox).await;
    let seed = as_manifest_files(&[
        example("shared/namespace.yaml"),
        example("manifests/objects.yaml"),
        example("workload/pvc.yaml"),
        example("workload/deployment.yaml"),
    ]);
    let everything = plan_restore(
        &seed,
        &ManifestFilter {
            include_cluster_resources: true,
            ..ManifestFilter::default()
        },
        None,
    )
    .unwrap();
    let seeded = apply(&client, &everything, false).await.unwrap();
    assert!(seeded.failed.is_empty(), "{:?}", seeded.failed);

    let files = dump(&client, &example_filter()).await.unwrap();
    let paths: Vec<String> = files
        .iter()
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "/configmaps/namespaces/shop/orders-config.yaml",
            "/secrets/namespaces/shop/orders-db-credentials.yaml",
            "/services/namespaces/shop/orders.yaml"
        ]
    );
    let service = String::from_utf8(files[2].1.clone()).unwrap();
    assert!(
        !service.contains("resourceVersion") && !service.contains("uid:"),
        "{service}"
    );

    let workspace = Workspace::new();
    let repository = ComponentRepository::new(
        Location::Local {
            root: workspace.path("repository"),
        },
        PASSWORD,
    );
    let stored = {
        let repository = repository.clone();
        tokio::task::spawn_blocking(move || {
            repository.init().unwrap();
            repository
                .backup_files(files, Some("manifest"), &["component:manifest".into()])
                .unwrap();
            repository.read_files("latest", "/").unwrap()
        })
        .await
        .unwrap()
    };
    assert_eq!(stored.len(), 3);
    let listing = restic(
        &workspace.path("repository").display().to_string(),
        &["ls", "latest"],
        &[],
    );
    assert!(
        listing.contains("/secrets/namespaces/shop/orders-db-credentials.yaml"),
        "{listing}"
    );

    let namespace = as_manifest_files(&[
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop-restored}\n".to_string(),
    ]);
    apply(
        &client,
        &plan_restore(
            &namespace,
            &ManifestFilter {
                include_cluster_resources: true,
                ..ManifestFilter::default()
            },
            None,
        )
        .unwrap(),
        false,
    )
    .await
    .unwrap();
    let plan = plan_restore(&stored, &ManifestFilter::default(), Some("shop-restored")).unwrap();
    let report = apply(&client, &plan, false).await.unwrap();
    assert_eq!(report.created.len(), 3, "{report:?}");
    let configmaps: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(client.clone(), "shop-restored");
    let restored = configmaps.get("orders-config").await.unwrap();
    assert_eq!(restored.data.unwrap()["currency"], "EUR");
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
        kube::Api::namespaced(client.clone(), "shop-restored");
    assert_eq!(
        secrets
            .get("orders-db-credentials")
            .await
            .unwrap()
            .data
            .unwrap()["password"]
            .0,
        b"s3cr3t-value"
    );

    let again = apply(&client, &plan, false).await.unwrap();
    assert_eq!(again.skipped.len(), 3, "{again:?}");
    let replaced = apply(&client, &plan, true).await.unwrap();
    assert_eq!(replaced.replaced.len(), 3, "{replaced:?}");

    let dry_run = workspace.path("dry-run");
    let written = write_dry_run(&dry_run, &plan).unwrap();
    assert_eq!(written.len(), 3);
    assert!(dry_run
        .join("configmaps/namespaces/shop-restored/orders-config.yaml")
        .is_file());
    sandbox.shutdown().await;
}
