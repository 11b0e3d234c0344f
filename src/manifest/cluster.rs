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

/// The resources the API server serves: each group's at its preferred version, plus those
/// it serves only in another version (prometheus-operator's v1alpha1-only kinds next to its
/// v1 ones), at the first of those the server lists. A group whose discovery fails (an
/// aggregated API whose backend is down, say metrics-server) is left out with a warning
/// instead of failing the whole backup.
async fn discover(client: &Client) -> Result<Vec<(ApiResource, ApiCapabilities)>, ManifestError> {
    let fatal = |error: kube::Error| ManifestError::Discovery(error.to_string());
    let core = kube::discovery::group(client, ApiGroup::CORE_GROUP)
        .await
        .map_err(fatal)?;
    let mut resources = core.recommended_resources();
    for listed in client.list_api_groups().await.map_err(fatal)?.groups {
        let preferred = listed.preferred_version.as_ref().map(|v| v.version.clone());
        let mut versions: Vec<String> = preferred.iter().cloned().collect();
        versions.extend(
            listed
                .versions
                .iter()
                .map(|v| v.version.clone())
                .filter(|version| Some(version) != preferred.as_ref()),
        );
        let mut kinds = std::collections::HashSet::new();
        for version in versions {
            let group_version = kube::core::GroupVersion::gv(&listed.name, &version);
            match kube::discovery::pinned_group(client, &group_version).await {
                Ok(group) => resources.extend(
                    group
                        .recommended_resources()
                        .into_iter()
                        .filter(|(resource, _)| kinds.insert(resource.kind.clone())),
                ),
                Err(error) => {
                    tracing::warn!(group = %group_version.api_version(), %error, "API group version left out: its discovery failed")
                }
            }
        }
    }
    Ok(resources)
}

/// Resources a manifest backup takes: those it can list and a restore can create
/// (`pods.metrics.k8s.io`, list-only, is left out).
fn listable(
    resources: Vec<(ApiResource, ApiCapabilities)>,
) -> impl Iterator<Item = (ApiResource, ApiCapabilities)> {
    resources.into_iter().filter(|(_, capabilities)| {
        capabilities.supports_operation(verbs::LIST)
            && capabilities.supports_operation(verbs::CREATE)
    })
}

/// Lists every object the filter takes, cleaned, as manifest files (path, YAML).
pub async fn dump(
    client: &Client,
    filter: &ManifestFilter,
) -> Result<Vec<(PathBuf, Vec<u8>)>, ManifestError> {
    let mut files = Vec::new();
    for (resource, capabilities) in listable(discover(client).await?) {
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

/// What happened to one object.
enum Outcome {
    Created,
    Skipped,
    Replaced,
    Failed(String),
    /// Its kind is not served (yet: a CRD created by this restore may still be on its way).
    Unknown(String),
}

/// Kinds resolved so far, by group, version and kind.
type Kinds = std::collections::HashMap<kube::api::GroupVersionKind, (ApiResource, ApiCapabilities)>;

/// How long a restore waits for the CustomResourceDefinitions it created to serve their
/// kinds before it gives up on their objects.
const CRD_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Creates the objects in order; an existing object is skipped, or replaced when
/// `override_existing`. A namespace the objects go into is created when missing. Objects of
/// kinds that CustomResourceDefinitions created by this restore define are tried again once
/// those serve them. Failures are collected, not fatal, so one bad object does not stop the
/// rest.
pub async fn apply(
    client: &Client,
    objects: &[ManifestObject],
    override_existing: bool,
) -> Result<ApplyReport, ManifestError> {
    let mut report = ApplyReport::default();
    ensure_namespaces(client, objects, &mut report).await;
    // Kinds are resolved one group version at a time, as they come: a group whose
    // discovery fails fails only its own objects.
    let mut kinds = Kinds::new();
    let mut waiting = Vec::new();
    for object in objects {
        let outcome = apply_one(client, object, override_existing, &mut kinds).await;
        if matches!(outcome, Outcome::Unknown(_)) {
            waiting.push(object);
            continue;
        }
        record(&mut report, object, outcome);
    }
    let defines_kinds = report
        .created
        .iter()
        .chain(&report.replaced)
        .any(|label| label.starts_with("customresourcedefinitions."));
    let started = std::time::Instant::now();
    while !waiting.is_empty() && defines_kinds && started.elapsed() < CRD_WAIT {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let mut still = Vec::new();
        for object in waiting {
            match apply_one(client, object, override_existing, &mut kinds).await {
                Outcome::Unknown(_) => still.push(object),
                outcome => record(&mut report, object, outcome),
            }
        }
        waiting = still;
    }
    for object in waiting {
        let outcome = apply_one(client, object, override_existing, &mut kinds).await;
        record(&mut report, object, outcome);
    }
    Ok(report)
}

fn record(report: &mut ApplyReport, object: &ManifestObject, outcome: Outcome) {
    let label = describe(object);
    match outcome {
        Outcome::Created => report.created.push(label),
        Outcome::Skipped => report.skipped.push(label),
        Outcome::Replaced => report.replaced.push(label),
        Outcome::Failed(why) | Outcome::Unknown(why) => report.failed.push((label, why)),
    }
}

/// Creates the namespaces that namespaced objects go into and that neither exist nor come
/// with the restore (a restore into a new namespace, or into a new cluster).
async fn ensure_namespaces(client: &Client, objects: &[ManifestObject], report: &mut ApplyReport) {
    let restored: std::collections::BTreeSet<&str> = objects
        .iter()
        .filter(|object| object.resource == "namespaces")
        .map(|object| object.name.as_str())
        .collect();
    let wanted: std::collections::BTreeSet<&str> = objects
        .iter()
        .filter_map(|object| object.namespace.as_deref())
        .filter(|namespace| !restored.contains(namespace))
        .collect();
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    for namespace in wanted {
        let label = format!("namespaces {namespace}");
        match api.get_opt(namespace).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                let object = k8s_openapi::api::core::v1::Namespace {
                    metadata: kube::api::ObjectMeta {
                        name: Some(namespace.to_string()),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                match api.create(&PostParams::default(), &object).await {
                    Ok(_) => report.created.push(label),
                    Err(kube::Error::Api(status)) if status.code == 409 => {}
                    Err(error) => report.failed.push((label, error.to_string())),
                }
            }
            Err(error) => report.failed.push((label, error.to_string())),
        }
    }
}

async fn apply_one(
    client: &Client,
    object: &ManifestObject,
    override_existing: bool,
    kinds: &mut Kinds,
) -> Outcome {
    let text = |field: &str| {
        object
            .object
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    let (group, version) = api_version
        .rsplit_once('/')
        .unwrap_or(("", api_version.as_str()));
    let gvk = kube::api::GroupVersionKind::gvk(group, version, &kind);
    // Not cached when missing: a CRD restored earlier in this run may serve it soon.
    let resolved = match kinds.get(&gvk) {
        Some(found) => Ok(found.clone()),
        None => kube::discovery::pinned_kind(client, &gvk)
            .await
            .inspect(|found| {
                kinds.insert(gvk.clone(), found.clone());
            }),
    };
    let (resource, capabilities) = match resolved {
        Ok(found) => found,
        Err(error) => {
            let unknown = ManifestError::UnknownKind {
                object: describe(object),
                kind: format!("{api_version} {kind}"),
            };
            return Outcome::Unknown(format!("{unknown} ({error})"));
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
        Err(error) => return Outcome::Failed(error.to_string()),
    };
    match api.create(&PostParams::default(), &dynamic).await {
        Ok(_) => Outcome::Created,
        Err(kube::Error::Api(status)) if status.code == 409 => {
            if !override_existing {
                return Outcome::Skipped;
            }
            let replaced = async {
                let existing = api.get(&object.name).await?;
                let mut replacement = dynamic.clone();
                keep_immutable(&kind, &existing.data, &mut replacement.data);
                replacement.metadata.resource_version = existing.metadata.resource_version;
                api.replace(&object.name, &PostParams::default(), &replacement)
                    .await
            };
            match replaced.await {
                Ok(_) => Outcome::Replaced,
                Err(error) => Outcome::Failed(error.to_string()),
            }
        }
        Err(error) => Outcome::Failed(error.to_string()),
    }
}

/// Copies into a replacement the fields the API server set on the existing object and
/// refuses to change, which a cleaned manifest no longer carries: a bound claim's volume, a
/// Job's generated selector and pod labels, a pod's node.
fn keep_immutable(kind: &str, existing: &Value, replacement: &mut Value) {
    let fields: &[&str] = match kind {
        "PersistentVolumeClaim" => &["/spec/volumeName"],
        "Job" => &["/spec/selector", "/spec/template/metadata/labels"],
        "Pod" => &["/spec/nodeName"],
        _ => &[],
    };
    for field in fields {
        let Some(value) = existing.pointer(field) else {
            continue;
        };
        if replacement
            .pointer(field)
            .is_some_and(|current| current == value)
        {
            continue;
        }
        let (parent, key) = field.rsplit_once('/').unwrap_or(("", field));
        if let Some(parent) = replacement
            .pointer_mut(parent)
            .and_then(Value::as_object_mut)
        {
            parent.insert(key.to_string(), value.clone());
        }
    }
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
