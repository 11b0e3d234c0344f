//! Manifest backup and restore against the sandbox API server: exactly the objects the
//! example's filter selects land in the snapshot (readable by restic), and restore recreates
//! them in a fresh namespace, skipping or replacing existing ones as asked.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Client;
use kubestash::engine::{ComponentRepository, Location};
use kubestash::manifest::cluster::{apply, dump, write_dry_run};
use kubestash::manifest::{plan_restore, ManifestFilter, RestoreOptions};
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
        &RestoreOptions::default(),
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

    let into_restored = RestoreOptions {
        target_namespace: Some("shop-restored".into()),
        ..RestoreOptions::default()
    };
    let plan = plan_restore(&stored, &ManifestFilter::default(), &into_restored).unwrap();
    let report = apply(&client, &plan, false).await.unwrap();
    assert_eq!(report.created.len(), 4, "{report:?}");
    assert_eq!(
        report.created[0], "namespaces shop-restored",
        "the missing target namespace is created first"
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resources_are_restored_once_their_definition_serves_them() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let client = client(&sandbox).await;
    let files = vec![
        (
            "/customresourcedefinitions.apiextensions.k8s.io/cluster/widgets.example.com.yaml"
                .to_string(),
            b"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"
            .to_vec(),
        ),
        (
            "/widgets.example.com/namespaces/shop/gear.yaml".to_string(),
            b"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: gear, namespace: shop}\nspec: {teeth: 12}\n"
                .to_vec(),
        ),
        (
            "/services/namespaces/shop/web.yaml".to_string(),
            b"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}\n"
                .to_vec(),
        ),
    ];
    let everything = ManifestFilter {
        include_cluster_resources: true,
        ..ManifestFilter::default()
    };
    let plan = plan_restore(&files, &everything, &RestoreOptions::default()).unwrap();
    let report = apply(&client, &plan, false).await.unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(
        report.created.len(),
        4,
        "namespace, CRD, service, widget: {report:?}"
    );
    let widgets: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        client.clone(),
        "shop",
        &kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk("example.com", "v1", "Widget"),
            "widgets",
        ),
    );
    assert_eq!(widgets.get("gear").await.unwrap().data["spec"]["teeth"], 12);

    // Dumped again, the headless Service stays headless.
    let dumped = dump(
        &client,
        &ManifestFilter::from_parameters(
            &[(
                "IncludeResources".to_string(),
                serde_json::json!("services"),
            )]
            .into_iter()
            .collect(),
        ),
    )
    .await
    .unwrap();
    let service = dumped
        .iter()
        .find(|(path, _)| path.ends_with("shop/web.yaml"))
        .map(|(_, yaml)| String::from_utf8(yaml.clone()).unwrap())
        .unwrap();
    assert!(service.contains("clusterIP: None"), "{service}");
    sandbox.shutdown().await;
}
