//! The cluster side of manifest backup and restore: dump what the API server serves (found by
//! discovery) through a [`ManifestFilter`], and create objects back in restore order.

use std::path::{Path, PathBuf};

use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::discovery::{verbs, ApiCapabilities, ApiGroup, ApiResource, Scope};
use kube::Client;
use serde_json::Value;

use crate::manifest::{clean, is_controlled, manifest_path, ManifestFilter, ManifestObject};

/// Why a manifest backup or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Discovery failed.
    #[error("unable to discover the API server's resources: {0}")]
    Discovery(String),
    /// Listing a resource failed.
    #[error("unable to list {resource}: {cause}")]
    List {
        /// `plural.group`.
        resource: String,
        /// The API error.
        cause: String,
    },
    /// The object's kind is not served.
    #[error("{object}: kind `{kind}` is not served by the cluster")]
    UnknownKind {
        /// `resource namespace/name`.
        object: String,
        /// `apiVersion` and kind.
        kind: String,
    },
    /// A local file could not be written.
    #[error("unable to write `{path}`: {cause}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        cause: String,
    },
}

/// What happened to each object of a restore.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Objects created.
    pub created: Vec<String>,
    /// Objects that existed and were left alone.
    pub skipped: Vec<String>,
    /// Objects that existed and were replaced (`override`).
    pub replaced: Vec<String>,
    /// Objects that could not be created, with the reason.
    pub failed: Vec<(String, String)>,
}

/// The resources the API server serves, group by group. A group whose discovery fails (an
/// aggregated API whose backend is down, say metrics-server) is left out with a warning
/// instead of failing the whole backup.
async fn discover(client: &Client) -> Result<Vec<ApiGroup>, ManifestError> {
    let fatal = |error: kube::Error| ManifestError::Discovery(error.to_string());
    let mut groups = vec![kube::discovery::group(client, ApiGroup::CORE_GROUP)
        .await
        .map_err(fatal)?];
    for listed in client.list_api_groups().await.map_err(fatal)?.groups {
        let Some(version) = listed
            .preferred_version
            .as_ref()
            .or(listed.versions.first())
            .map(|v| v.version.clone())
        else {
            continue;
        };
        let group_version = kube::core::GroupVersion::gv(&listed.name, &version);
        match kube::discovery::pinned_group(client, &group_version).await {
            Ok(group) => groups.push(group),
            Err(error) => {
                tracing::warn!(group = %listed.name, %error, "API group left out: its discovery failed")
            }
        }
    }
    Ok(groups)
}

/// Resources a manifest backup takes: those it can list and a restore can create
/// (`pods.metrics.k8s.io`, list-only, is left out).
fn listable(groups: &[ApiGroup]) -> Vec<(ApiResource, ApiCapabilities)> {
    groups
        .iter()
        .flat_map(|group| group.recommended_resources())
        .filter(|(_, capabilities)| {
            capabilities.supports_operation(verbs::LIST)
                && capabilities.supports_operation(verbs::CREATE)
        })
        .collect()
}

/// Lists every object the filter takes, cleaned, as manifest files (path, YAML).
pub async fn dump(
    client: &Client,
    filter: &ManifestFilter,
) -> Result<Vec<(PathBuf, Vec<u8>)>, ManifestError> {
    let groups = discover(client).await?;
    let mut files = Vec::new();
    for (resource, capabilities) in listable(&groups) {
        let namespaced = capabilities.scope == Scope::Namespaced;
        if !filter.takes_resource(&resource.plural, &resource.group)
            || (!namespaced && !filter.include_cluster_resources)
        {
            continue;
        }
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|error| ManifestError::List {
                resource: crate::manifest::qualified_resource(&resource.plural, &resource.group),
                cause: error.to_string(),
            })?;
        for item in list.items {
            let mut object = serde_json::to_value(&item).unwrap_or(Value::Null);
            object["apiVersion"] = Value::String(resource.api_version.clone());
            object["kind"] = Value::String(resource.kind.clone());
            if is_controlled(&object)
                || !filter.takes_object(&resource.plural, &resource.group, namespaced, &object)
            {
                continue;
            }
            clean(&mut object);
            let name = item.metadata.name.clone().unwrap_or_default();
            let namespace = if namespaced {
                item.metadata.namespace.as_deref()
            } else {
                None
            };
            let path = manifest_path(&resource.plural, &resource.group, namespace, &name);
            let yaml = serde_yaml::to_string(&object).unwrap_or_default();
            files.push((PathBuf::from(path), yaml.into_bytes()));
        }
    }
    files.sort();
    Ok(files)
}

fn describe(object: &ManifestObject) -> String {
    match &object.namespace {
        Some(namespace) => format!("{} {namespace}/{}", object.resource, object.name),
        None => format!("{} {}", object.resource, object.name),
    }
}

/// Creates the objects in order; an existing object is skipped, or replaced when
/// `override_existing`. Failures are collected, not fatal, so one bad object does not stop
/// the rest.
pub async fn apply(
    client: &Client,
    objects: &[ManifestObject],
    override_existing: bool,
) -> Result<ApplyReport, ManifestError> {
    // Kinds are resolved one group version at a time, as they come: a group whose
    // discovery fails fails only its own objects.
    let mut resolved_kinds: std::collections::HashMap<
        kube::api::GroupVersionKind,
        (ApiResource, ApiCapabilities),
    > = std::collections::HashMap::new();
    let mut report = ApplyReport::default();
    for object in objects {
        let label = describe(object);
        let api_version = object
            .object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kind = object
            .object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let (group, version) = api_version
            .rsplit_once('/')
            .unwrap_or(("", api_version.as_str()));
        let gvk = kube::api::GroupVersionKind::gvk(group, version, &kind);
        // Not cached when missing: a CRD restored earlier in this run may serve it soon.
        let resolved = match resolved_kinds.get(&gvk) {
            Some(found) => Ok(found.clone()),
            None => kube::discovery::pinned_kind(client, &gvk)
                .await
                .inspect(|found| {
                    resolved_kinds.insert(gvk.clone(), found.clone());
                }),
        };
        let (resource, capabilities) = match resolved {
            Ok(found) => found,
            Err(error) => {
                let unknown = ManifestError::UnknownKind {
                    object: label.clone(),
                    kind: format!("{api_version} {kind}"),
                };
                report.failed.push((label, format!("{unknown} ({error})")));
                continue;
            }
        };
        let api: Api<DynamicObject> = match (&capabilities.scope, &object.namespace) {
            (Scope::Namespaced, Some(namespace)) => {
                Api::namespaced_with(client.clone(), namespace, &resource)
            }
            _ => Api::all_with(client.clone(), &resource),
        };
        let dynamic: DynamicObject = match serde_json::from_value(object.object.clone()) {
            Ok(dynamic) => dynamic,
            Err(error) => {
                report.failed.push((label, error.to_string()));
                continue;
            }
        };
        match api.create(&PostParams::default(), &dynamic).await {
            Ok(_) => report.created.push(label),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                if !override_existing {
                    report.skipped.push(label);
                    continue;
                }
                let replaced = async {
                    let existing = api.get(&object.name).await?;
                    let mut replacement = dynamic.clone();
                    replacement.metadata.resource_version = existing.metadata.resource_version;
                    api.replace(&object.name, &PostParams::default(), &replacement)
                        .await
                };
                match replaced.await {
                    Ok(_) => report.replaced.push(label),
                    Err(error) => report.failed.push((label, error.to_string())),
                }
            }
            Err(error) => report.failed.push((label, error.to_string())),
        }
    }
    Ok(report)
}

/// Writes the objects a restore would create into `directory`, in the snapshot's layout,
/// instead of creating them.
pub fn write_dry_run(
    directory: &Path,
    objects: &[ManifestObject],
) -> Result<Vec<PathBuf>, ManifestError> {
    let mut written = Vec::new();
    for object in objects {
        let (plural, group) = object
            .resource
            .split_once('.')
            .unwrap_or((object.resource.as_str(), ""));
        let relative = manifest_path(plural, group, object.namespace.as_deref(), &object.name);
        let path = directory.join(relative.trim_start_matches('/'));
        let io = |error: std::io::Error| ManifestError::Io {
            path: path.display().to_string(),
            cause: error.to_string(),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(
            &path,
            serde_yaml::to_string(&object.object).unwrap_or_default(),
        )
        .map_err(io)?;
        written.push(path);
    }
    Ok(written)
}
