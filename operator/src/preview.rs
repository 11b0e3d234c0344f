//! What a manifest restore would create, without creating it: the objects of a manifest
//! Snapshot that pass the RestoreSession's filters, in restore order. Cloud backends are read
//! in this process; a volume backend is read by a short Job that mounts it (`executor
//! list-manifests`), with the repository password handed over in a temporary Secret.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, Secret, SecretKeySelector};
use k8s_openapi::ByteString;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::{Api, Client, ResourceExt};
use kubestash::api::core::RestoreSession;
use kubestash::api::storage::{Repository, Snapshot};
use kubestash::engine::{ComponentRepository, Location};
use kubestash::manifest::{plan_restore, ManifestFilter, RestoreOptions};
use serde_json::{json, Value};

use crate::backend::{self, PASSWORD_KEY};
use crate::jobs::{self, JobSpec};
use crate::util;
use crate::{Error, Result};

/// The line prefix `executor list-manifests` prints each object with.
pub const MANIFEST_LOG_PREFIX: &str = "kubestash-manifest: ";

/// One object a manifest restore would create.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PreviewObject {
    /// `plural` or `plural.group`.
    pub resource: String,
    /// Namespace (after re-targeting), for namespaced objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl std::fmt::Display for PreviewObject {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(formatter, "{} {namespace}/{}", self.resource, self.name),
            None => write!(formatter, "{} {}", self.resource, self.name),
        }
    }
}

/// The filters a manifest restore applies: the first task's params and the restore namespace.
pub fn restore_filter(restore: &RestoreSession) -> (BTreeMap<String, String>, Option<String>) {
    let params: BTreeMap<String, String> = restore
        .spec
        .addon
        .as_ref()
        .and_then(|addon| addon.tasks.as_ref()?.first())
        .and_then(|task| task.params.clone())
        .and_then(|params| serde_json::to_value(params).ok())
        .and_then(|value| value.as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| {
            let text = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            (key, text)
        })
        .collect();
    let namespace = restore_namespace(restore, &params);
    (params, namespace)
}

/// Where a manifest restore puts namespaced objects: `manifestOptions.workload.restoreNamespace`,
/// else the `RestoreNamespace` parameter; `None` keeps their own namespaces.
pub fn restore_namespace(
    restore: &RestoreSession,
    params: &BTreeMap<String, String>,
) -> Option<String> {
    restore
        .spec
        .manifest_options
        .as_ref()
        .and_then(|options| options.workload.as_ref())
        .and_then(|workload| workload.restore_namespace.clone())
        .or_else(|| params.get("RestoreNamespace").cloned())
        .filter(|namespace| !namespace.is_empty())
}

/// The objects of a manifest snapshot's files that pass the restore parameters' filters,
/// moved into `target_namespace` and changed as `RestorePVs` and `StorageClassMappings`
/// say, in restore order.
pub fn plan(
    files: &[(String, Vec<u8>)],
    params: &BTreeMap<String, String>,
    target_namespace: Option<&str>,
) -> Result<Vec<kubestash::manifest::ManifestObject>> {
    let parameters: serde_json::Map<String, Value> =
        params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let filter = ManifestFilter::from_parameters(&parameters);
    let options =
        RestoreOptions::from_parameters(&parameters, target_namespace).map_err(Error::msg)?;
    plan_restore(files, &filter, &options).map_err(Error::msg)
}

/// Reads a manifest snapshot and applies the filters. Blocking.
pub fn list_objects(
    engine: &ComponentRepository,
    restic_id: &str,
    params: &BTreeMap<String, String>,
    target_namespace: Option<&str>,
) -> Result<Vec<PreviewObject>> {
    let files = engine.read_files(restic_id, "/")?;
    Ok(plan(&files, params, target_namespace)?
        .into_iter()
        .map(|object| PreviewObject {
            resource: object.resource,
            namespace: object.namespace,
            name: object.name,
        })
        .collect())
}

/// `executor list-manifests`: reads a component repository under a mounted volume with the
/// password in `RESTIC_PASSWORD`.
pub fn list_mounted(
    container_path: &Path,
    restic_id: &str,
    params: &BTreeMap<String, String>,
    target_namespace: Option<&str>,
) -> Result<Vec<PreviewObject>> {
    let password = std::env::var(PASSWORD_KEY)
        .map_err(|_| Error::msg(format!("{PASSWORD_KEY} is not set")))?;
    let root = crate::mounts::Mounts::from_env().resolve(container_path);
    let engine = ComponentRepository::new(Location::Local { root }, password);
    list_objects(&engine, restic_id, params, target_namespace)
}

/// The objects a manifest RestoreSession would create, per component. `image` runs the Job
/// for volume backends; `timeout` bounds it.
pub async fn manifest_objects(
    client: &Client,
    restore: &RestoreSession,
    image: &str,
    timeout: Duration,
) -> Result<BTreeMap<String, Vec<PreviewObject>>> {
    let namespace = restore.namespace().unwrap_or_default();
    let source = restore.spec.data_source.clone().unwrap_or_default();
    let source_namespace = source
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| namespace.clone());
    let repository_name = source.repository.clone().unwrap_or_default();
    let repositories: Api<Repository> = Api::namespaced(client.clone(), &source_namespace);
    let repository = util::get_opt(&repositories, &repository_name)
        .await?
        .ok_or_else(|| {
            Error::msg(format!(
                "Repository `{source_namespace}/{repository_name}` (spec.dataSource.repository) not found"
            ))
        })?;
    let requested = source.snapshot.clone().unwrap_or_else(|| "latest".into());
    let snapshot = if requested == "latest" {
        crate::controllers::restore::latest_snapshot(client, &source_namespace, &repository_name)
            .await?
            .ok_or_else(|| {
                Error::msg(format!(
                    "Repository `{source_namespace}/{repository_name}` has no Succeeded Snapshot (spec.dataSource.snapshot: latest)"
                ))
            })?
    } else {
        let snapshots: Api<Snapshot> = Api::namespaced(client.clone(), &source_namespace);
        util::get_opt(&snapshots, &requested)
            .await?
            .ok_or_else(|| {
                Error::msg(format!(
                "Snapshot `{source_namespace}/{requested}` (spec.dataSource.snapshot) not found"
            ))
            })?
    };
    let (params, target_namespace) = restore_filter(restore);
    let wanted: Option<Vec<String>> = source.components.clone().filter(|c| !c.is_empty());
    let storage = backend::repository_storage(client, &repository).await?;
    // As the restore Job reads it: the RestoreSession's Secret relative to its namespace,
    // the Repository's relative to the Repository's.
    let password = match source.encryption_secret.as_ref() {
        Some(secret) => backend::encryption_password(client, &namespace, Some(secret)).await?,
        None => {
            backend::encryption_password(
                client,
                &source_namespace,
                repository.spec.encryption_secret.as_ref(),
            )
            .await?
        }
    };
    let mut result = BTreeMap::new();
    let components = snapshot
        .status
        .as_ref()
        .and_then(|s| s.components.clone())
        .unwrap_or_default();
    for (component, status) in components {
        if wanted.as_ref().is_some_and(|w| !w.contains(&component)) {
            continue;
        }
        let restic_id = status
            .restic_stats
            .iter()
            .flatten()
            .find_map(|s| s.summary.as_ref().and_then(|s| s.id.clone()))
            .ok_or_else(|| {
                Error::msg(format!(
                    "component `{component}` of Snapshot `{}` records no restic snapshot",
                    snapshot.name_any()
                ))
            })?;
        let component_path = status.path.clone().unwrap_or_default();
        let objects = if backend::is_local(&storage) {
            let path =
                jobs::storage_container_path(&storage, &[&repository.spec.path, &component_path])
                    .ok_or_else(|| Error::msg("spec.storage.local is missing"))?;
            let job = ListJob {
                client,
                storage: &storage,
                image,
                path: &path,
                restic_id: &restic_id,
                params: &params,
                target_namespace: target_namespace.as_deref(),
                password: &password,
                timeout,
            };
            job.run().await?
        } else {
            let location = backend::storage_location(client, &storage).await?;
            let engine = ComponentRepository::new(
                location.join(&repository.spec.path).join(&component_path),
                password.clone(),
            );
            let params = params.clone();
            let target = target_namespace.clone();
            backend::blocking(move || list_objects(&engine, &restic_id, &params, target.as_deref()))
                .await?
        };
        result.insert(component, objects);
    }
    Ok(result)
}

/// A Job that lists a manifest snapshot on a volume backend.
struct ListJob<'a> {
    client: &'a Client,
    storage: &'a kubestash::api::storage::BackupStorage,
    image: &'a str,
    path: &'a Path,
    restic_id: &'a str,
    params: &'a BTreeMap<String, String>,
    target_namespace: Option<&'a str>,
    password: &'a str,
    timeout: Duration,
}

impl ListJob<'_> {
    async fn run(&self) -> Result<Vec<PreviewObject>> {
        let namespace = self.storage.namespace().unwrap_or_default();
        let suffix = format!("{:x}", chrono::Utc::now().timestamp_micros() & 0xff_ffff);
        let name = kubestash::naming::valid_name("preview", &self.storage.name_any(), &suffix);
        // The pod can only read Secrets of its own namespace; the password's may be another.
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), &namespace);
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                labels: Some(BTreeMap::from([(
                    crate::MANAGED_BY.0.to_string(),
                    crate::MANAGED_BY.1.to_string(),
                )])),
                ..ObjectMeta::default()
            },
            data: Some(BTreeMap::from([(
                PASSWORD_KEY.to_string(),
                ByteString(self.password.as_bytes().to_vec()),
            )])),
            ..Secret::default()
        };
        secrets.create(&PostParams::default(), &secret).await?;
        let result = tokio::time::timeout(self.timeout, self.run_job(&name, &namespace)).await;
        // On every outcome, a timeout included, neither the Job nor the password stays.
        let jobs_api: Api<k8s_openapi::api::batch::v1::Job> =
            Api::namespaced(self.client.clone(), &namespace);
        let _ = jobs_api.delete(&name, &DeleteParams::background()).await;
        let _ = secrets.delete(&name, &DeleteParams::default()).await;
        result.map_err(|_| {
            Error::msg(format!(
                "listing the manifests took longer than {}s (Job `{namespace}/{name}`)",
                self.timeout.as_secs()
            ))
        })?
    }

    async fn run_job(&self, name: &str, namespace: &str) -> Result<Vec<PreviewObject>> {
        let mut args = vec![
            "executor".to_string(),
            "list-manifests".to_string(),
            format!("--path={}", self.path.display()),
            format!("--snapshot-id={}", self.restic_id),
        ];
        args.extend(self.params.iter().map(|(k, v)| format!("--param={k}={v}")));
        if let Some(target) = self.target_namespace {
            args.push(format!("--restore-namespace={target}"));
        }
        let base = JobSpec {
            name: name.to_string(),
            namespace: namespace.to_string(),
            labels: BTreeMap::from([(
                crate::MANAGED_BY.0.to_string(),
                crate::MANAGED_BY.1.to_string(),
            )]),
            image: self.image.to_string(),
            args,
            ..JobSpec::default()
        };
        let mut job = jobs::storage_job(self.storage, base, 0, 600)
            .ok_or_else(|| Error::msg("spec.storage.local is not a volume"))?;
        // Should this process die while waiting, the Job still ends.
        if let Some(spec) = job.spec.as_mut() {
            spec.active_deadline_seconds = Some(self.timeout.as_secs().max(1) as i64);
        }
        if let Some(container) = job
            .spec
            .as_mut()
            .and_then(|spec| spec.template.spec.as_mut())
            .and_then(|pod| pod.containers.first_mut())
        {
            container.env.get_or_insert_with(Vec::new).push(EnvVar {
                name: PASSWORD_KEY.into(),
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector {
                        name: name.to_string(),
                        key: PASSWORD_KEY.into(),
                        optional: None,
                    }),
                    ..EnvVarSource::default()
                }),
                ..EnvVar::default()
            });
        }
        let logs = crate::controllers::run_job(self.client, &job, 100_000).await?;
        logs.lines()
            .filter_map(|line| line.strip_prefix(MANIFEST_LOG_PREFIX))
            .map(|text| {
                serde_json::from_str(text).map_err(|error| {
                    Error::msg(format!("the preview Job printed `{text}`: {error}"))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_print_like_kubectl_keys() {
        let object = PreviewObject {
            resource: "deployments.apps".into(),
            namespace: Some("shop".into()),
            name: "orders".into(),
        };
        assert_eq!(object.to_string(), "deployments.apps shop/orders");
        let cluster = PreviewObject {
            resource: "namespaces".into(),
            namespace: None,
            name: "shop".into(),
        };
        assert_eq!(cluster.to_string(), "namespaces shop");
    }

    #[test]
    fn the_filter_comes_from_the_task_params_and_the_restore_namespace() {
        let restore: RestoreSession = serde_json::from_value(json!({
            "apiVersion": "core.kubestash.com/v1alpha1",
            "kind": "RestoreSession",
            "metadata": {"name": "r", "namespace": "shop"},
            "spec": {
                "dataSource": {"repository": "repo", "snapshot": "latest"},
                "addon": {"name": "kubedump-addon", "tasks": [{"name": "manifest-restore", "params": {"IncludeNamespaces": "shop", "OverrideResources": true}}]},
                "manifestOptions": {"workload": {"restoreNamespace": "shop-copy"}},
            },
        }))
        .unwrap();
        let (params, namespace) = restore_filter(&restore);
        assert_eq!(params["IncludeNamespaces"], "shop");
        assert_eq!(params["OverrideResources"], "true");
        assert_eq!(namespace.as_deref(), Some("shop-copy"));
    }
}
