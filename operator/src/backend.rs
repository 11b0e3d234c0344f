//! From KubeStash objects to the repository engine: a BackupStorage and its Secret become a
//! [`Location`], an encryption Secret becomes the `RESTIC_PASSWORD`, and a backend is
//! initialized (`metadata.yaml`, `repository.yaml`) by [`sync_storage`], which the operator
//! runs in-process for cloud backends and the executor runs in a Job for volumes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::{Api, Client, ResourceExt};
use kubestash::api::common::ObjectReference;
use kubestash::api::storage::{BackupStorage, Repository, RepositoryInfo, Snapshot};
use kubestash::engine::layout;
use kubestash::engine::{ComponentRepository, Location};
use kubestash::validation::usage_policy::{namespace_allowed, NamespaceAccess};
use serde_json::json;

use crate::mounts::Mounts;
use crate::util::{self, condition, set_condition};
use crate::{Error, Result};

/// The key of the encryption Secret that holds the repository password.
pub const PASSWORD_KEY: &str = "RESTIC_PASSWORD";

/// The Secret a storage's provider names, if any.
pub fn storage_secret_name(storage: &BackupStorage) -> Option<String> {
    let backend = &storage.spec.storage;
    match backend.provider.as_deref() {
        Some("s3") => backend.s3.as_ref().and_then(|s| s.secret_name.clone()),
        Some("gcs") => backend.gcs.as_ref().and_then(|s| s.secret_name.clone()),
        Some("azure") => backend.azure.as_ref().and_then(|s| s.secret_name.clone()),
        _ => None,
    }
    .filter(|name| !name.is_empty())
}

/// Whether the storage is a volume (reached through a Job that mounts it).
pub fn is_local(storage: &BackupStorage) -> bool {
    storage.spec.storage.provider.as_deref() == Some("local")
}

/// Reads a Secret's data; a clear error names it when it is missing.
pub async fn secret_data(
    client: &Client,
    namespace: &str,
    name: &str,
    purpose: &str,
) -> Result<BTreeMap<String, Vec<u8>>> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = util::get_opt(&api, name)
        .await?
        .ok_or_else(|| Error::msg(format!("{purpose} Secret `{namespace}/{name}` not found")))?;
    Ok(secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| (key, value.0))
        .collect())
}

/// The password of an encryption Secret.
pub async fn encryption_password(
    client: &Client,
    default_namespace: &str,
    secret: Option<&ObjectReference>,
) -> Result<String> {
    let secret = secret.ok_or_else(|| Error::msg("no encryption Secret is set"))?;
    let namespace = secret.namespace_or(default_namespace);
    let data = secret_data(client, namespace, &secret.name, "encryption").await?;
    let password = data.get(PASSWORD_KEY).ok_or_else(|| {
        Error::msg(format!(
            "encryption Secret `{namespace}/{}` has no `{PASSWORD_KEY}` key",
            secret.name
        ))
    })?;
    Ok(String::from_utf8_lossy(password)
        .trim_end_matches(['\n', '\r'])
        .to_string())
}

/// The backend root of a storage as this process reaches it. Local storages resolve their
/// mount path through the sandbox mounts (it is the mount path itself in a Job).
pub async fn storage_location(client: &Client, storage: &BackupStorage) -> Result<Location> {
    let namespace = storage.namespace().unwrap_or_default();
    let secret = match storage_secret_name(storage) {
        Some(name) => Some(secret_data(client, &namespace, &name, "storage").await?),
        None => None,
    };
    let local_root: Option<PathBuf> = storage
        .spec
        .storage
        .local
        .as_ref()
        .map(|local| Mounts::from_env().resolve(std::path::Path::new(&local.mount_path)));
    Ok(Location::from_storage(
        &storage.name_any(),
        &storage.spec,
        secret.as_ref(),
        local_root.as_deref(),
    )?)
}

/// The storage a Repository uses.
pub async fn repository_storage(client: &Client, repository: &Repository) -> Result<BackupStorage> {
    let namespace = repository.namespace().unwrap_or_default();
    let reference = &repository.spec.storage_ref;
    let storage_namespace = reference.namespace_or(&namespace).to_string();
    let api: Api<BackupStorage> = Api::namespaced(client.clone(), &storage_namespace);
    util::get_opt(&api, &reference.name).await?.ok_or_else(|| {
        Error::msg(format!(
            "BackupStorage `{storage_namespace}/{}` of Repository `{namespace}/{}` not found",
            reference.name,
            repository.name_any()
        ))
    })
}

/// One component repository: `<storage>/<repository path>/<component path>`.
pub async fn component_repository(
    client: &Client,
    repository: &Repository,
    component_path: &str,
    password_override: Option<&ObjectReference>,
) -> Result<ComponentRepository> {
    let storage = repository_storage(client, repository).await?;
    let location = storage_location(client, &storage).await?;
    let namespace = repository.namespace().unwrap_or_default();
    let password = encryption_password(
        client,
        &namespace,
        password_override.or(repository.spec.encryption_secret.as_ref()),
    )
    .await?;
    Ok(ComponentRepository::new(
        location.join(&repository.spec.path).join(component_path),
        password,
    ))
}

/// Runs blocking engine work off the async runtime.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| Error::msg(format!("engine task failed: {error}")))?
}

/// Whether a Repository uses this storage.
pub fn uses_storage(repository: &Repository, storage: &BackupStorage) -> bool {
    let namespace = repository.namespace().unwrap_or_default();
    repository.spec.storage_ref.name == storage.name_any()
        && repository.spec.storage_ref.namespace_or(&namespace)
            == storage.namespace().unwrap_or_default()
}

/// Why the storage's usage policy does not admit Repositories of `namespace` (with
/// `labels`), or `None` when it does.
pub fn usage_denied(
    storage: &BackupStorage,
    namespace: &str,
    labels: &std::collections::BTreeMap<String, String>,
) -> Option<String> {
    let storage_namespace = storage.namespace().unwrap_or_default();
    match namespace_allowed(
        storage.spec.usage_policy.as_ref(),
        &storage_namespace,
        namespace,
        Some(labels),
    ) {
        NamespaceAccess::Denied(reason) => Some(format!(
            "BackupStorage `{storage_namespace}/{}` does not admit namespace `{namespace}`: {reason}",
            storage.name_any()
        )),
        _ => None,
    }
}

/// Initializes a storage's backend: `metadata.yaml`, then `repository.yaml` of every
/// Repository that uses it; updates the statuses of the storage and the repositories.
pub async fn sync_storage(client: &Client, storage: &BackupStorage) -> Result<()> {
    let storage_api: Api<BackupStorage> =
        Api::namespaced(client.clone(), &storage.namespace().unwrap_or_default());
    let result = sync_storage_inner(client, storage).await;
    let mut conditions = storage
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    match &result {
        Ok((repositories, size)) => {
            set_condition(
                &mut conditions,
                condition(
                    "BackendInitialized",
                    true,
                    "BackendInitializationSucceeded",
                    "",
                ),
            );
            util::patch_status(
                &storage_api,
                &storage.name_any(),
                json!({
                    "phase": "Ready",
                    "conditions": conditions,
                    "repositories": repositories,
                    "totalSize": util::human_bytes(*size),
                }),
            )
            .await?;
        }
        Err(error) => {
            set_condition(
                &mut conditions,
                condition(
                    "BackendInitialized",
                    false,
                    "BackendInitializationFailed",
                    error.to_string(),
                ),
            );
            util::patch_status(
                &storage_api,
                &storage.name_any(),
                json!({"phase": "NotReady", "conditions": conditions}),
            )
            .await?;
        }
    }
    result.map(|_| ())
}

async fn sync_storage_inner(
    client: &Client,
    storage: &BackupStorage,
) -> Result<(Vec<serde_json::Value>, u64)> {
    let location = storage_location(client, storage).await?;
    let all: Api<Repository> = Api::all(client.clone());
    let listed: Vec<Repository> = util::list_all(&all, &Default::default()).await?;
    // A Repository on its way out keeps no files: its cleanup may be wiping them.
    let mut repositories: Vec<Repository> = listed
        .iter()
        .filter(|repository| uses_storage(repository, storage))
        .filter(|repository| repository.metadata.deletion_timestamp.is_none())
        .cloned()
        .collect();

    // The backend's own record of what a cluster wrote there before this one, read when
    // this cluster first initializes the storage (disaster recovery). Later syncs leave it:
    // a Repository deleted here (its configuration deleted, say) keeps its files under the
    // Delete policy and must not come back.
    let first_sync = !util::is_true(
        storage.status.as_ref().and_then(|s| s.conditions.as_ref()),
        "BackendInitialized",
    );
    let backend = location.clone();
    let discovered = blocking(move || {
        let store = backend.store()?;
        let meta = layout::initialize_backend(&store, env!("CARGO_PKG_VERSION"))?;
        if !first_sync {
            return Ok(Vec::new());
        }
        Ok(layout::discover_repositories(&store, &meta)?)
    })
    .await?;
    // Only the first sync discovers anything to weigh against the other storages.
    let storages: Vec<(String, String)> = if discovered.is_empty() {
        Vec::new()
    } else {
        Api::<BackupStorage>::all(client.clone())
            .list(&Default::default())
            .await?
            .items
            .iter()
            .map(|s| (s.namespace().unwrap_or_default(), s.name_any()))
            .collect()
    };
    let mut unsynced: Vec<RepositoryInfo> = Vec::new();
    for (directory, read) in discovered {
        let known = repositories
            .iter()
            .any(|repository| layout::same_directory(&repository.spec.path, &directory));
        if known {
            continue;
        }
        // Another BackupStorage of this cluster on the same bucket owns it.
        if let Ok(copy) = &read {
            let recorded = &copy.spec.storage_ref;
            let recorded_namespace = recorded
                .namespace_or(&copy.namespace().unwrap_or_default())
                .to_string();
            let this = recorded.name == storage.name_any()
                && recorded_namespace == storage.namespace().unwrap_or_default();
            if !this && storages.contains(&(recorded_namespace, recorded.name.clone())) {
                continue;
            }
        }
        let outcome = match read {
            Ok(copy) => recreate_repository(client, storage, &listed, copy, &directory).await,
            Err(error) => Err((String::new(), None, error.to_string())),
        };
        match outcome {
            Ok(created) => {
                tracing::info!(
                    storage = %storage.name_any(),
                    repository = %format!("{}/{}", created.namespace().unwrap_or_default(), created.name_any()),
                    %directory,
                    "re-created a Repository found in the backend"
                );
                repositories.push(created);
            }
            Err((name, namespace, error)) => unsynced.push(RepositoryInfo {
                name,
                namespace,
                path: directory,
                size: None,
                synced: Some(false),
                error: Some(error),
            }),
        }
    }

    // `repository.yaml` of each, sizes, and the Snapshot copies of the Repositories this
    // cluster has not initialized yet (a new cluster, or a Repository re-created on old data).
    let fresh: Vec<bool> = repositories
        .iter()
        .map(|repository| {
            !util::is_true(
                repository
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref()),
                "RepositoryInitialized",
            )
        })
        .collect();
    let for_files = repositories.clone();
    let import = fresh.clone();
    let backend = location.clone();
    let (sizes, copies, total) = blocking(move || {
        let store = backend.store()?;
        let mut sizes = Vec::new();
        let mut copies = Vec::new();
        for (repository, fresh) in for_files.iter().zip(import) {
            layout::write_repository(&store, repository)?;
            sizes.push(store.size(&repository.spec.path).unwrap_or(0));
            copies.push(if fresh {
                layout::read_snapshot_copies(&store, &repository.spec.path)?
            } else {
                Vec::new()
            });
        }
        let total = store.size("").unwrap_or(0);
        Ok((sizes, copies, total))
    })
    .await?;
    let mut infos = Vec::new();
    for (((repository, size), copies), fresh) in
        repositories.iter().zip(sizes).zip(copies).zip(fresh)
    {
        let namespace = repository.namespace().unwrap_or_default();
        let api: Api<Repository> = Api::namespaced(client.clone(), &namespace);
        let mut error = None;
        if fresh {
            // One unreadable copy, or one that cannot be created, costs that Snapshot only.
            let problems = import_snapshots(client, repository, copies).await;
            if !problems.is_empty() {
                tracing::warn!(repository = %format!("{namespace}/{}", repository.name_any()), problems = %problems.join("; "), "some Snapshot copies were not imported");
                error = Some(format!(
                    "Snapshot copies not imported: {}",
                    problems.join("; ")
                ));
            }
            let mut conditions = repository
                .status
                .as_ref()
                .and_then(|s| s.conditions.clone())
                .unwrap_or_default();
            set_condition(
                &mut conditions,
                condition(
                    "RepositoryInitialized",
                    true,
                    "RepositoryInitializationSucceeded",
                    "",
                ),
            );
            util::patch_status(
                &api,
                &repository.name_any(),
                json!({"phase": "Ready", "conditions": conditions}),
            )
            .await?;
        }
        infos.push(RepositoryInfo {
            name: repository.name_any(),
            namespace: Some(namespace),
            path: repository.spec.path.clone(),
            size: Some(util::human_bytes(size)),
            synced: Some(true),
            error,
        });
    }
    infos.extend(unsynced);

    // `metadata.yaml` lists the repositories, so that the next cluster finds them first.
    let recorded = infos.clone();
    blocking(move || {
        let store = location.store()?;
        let mut meta = layout::initialize_backend(&store, env!("CARGO_PKG_VERSION"))?;
        let ours: Vec<RepositoryInfo> = recorded
            .into_iter()
            .filter(|info| info.synced == Some(true))
            .map(|info| RepositoryInfo {
                size: None,
                error: None,
                ..info
            })
            .collect();
        // Entries of other directories stay: another storage (or cluster) on the same
        // bucket lists its own.
        let mut merged: Vec<RepositoryInfo> = meta
            .repositories
            .iter()
            .filter(|old| {
                !ours
                    .iter()
                    .any(|new| layout::same_directory(&new.path, &old.path))
            })
            .cloned()
            .collect();
        merged.extend(ours);
        merged.sort_by(|a, b| a.path.cmp(&b.path));
        if meta.repositories != merged {
            meta.repositories = merged;
            layout::write_backend_meta(&store, &meta)?;
        }
        Ok(())
    })
    .await?;
    let entries = infos
        .iter()
        .map(|info| serde_json::to_value(info).unwrap_or_default())
        .collect();
    Ok((entries, total))
}

/// Creates the Repository a backend describes in `repository.yaml`, using `storage`.
/// Refused, with the reason, when its namespace is missing or may not use the storage, or
/// when a Repository of that name exists for another directory or storage.
async fn recreate_repository(
    client: &Client,
    storage: &BackupStorage,
    listed: &[Repository],
    copy: Repository,
    directory: &str,
) -> std::result::Result<Repository, (String, Option<String>, String)> {
    let name = copy.name_any();
    let Some(namespace) = copy.namespace().filter(|n| !n.is_empty()) else {
        return Err((name, None, "repository.yaml names no namespace".into()));
    };
    let refuse = |reason: String| Err((name.clone(), Some(namespace.clone()), reason));
    if name.is_empty() {
        return refuse("repository.yaml names no Repository".into());
    }
    if let Some(existing) = listed
        .iter()
        .find(|r| r.name_any() == name && r.namespace().as_deref() == Some(namespace.as_str()))
    {
        return refuse(format!(
            "Repository `{namespace}/{name}` exists already, for directory `{}` of storage `{}`",
            existing.spec.path, existing.spec.storage_ref.name
        ));
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let labels = match namespaces.get_opt(&namespace).await {
        Ok(Some(found)) => found.metadata.labels.unwrap_or_default(),
        Ok(None) => return refuse(format!("namespace `{namespace}` does not exist")),
        Err(error) => return refuse(format!("namespace `{namespace}`: {error}")),
    };
    if let Some(denied) = usage_denied(storage, &namespace, &labels) {
        return refuse(denied);
    }
    let mut repository = Repository::new(&name, copy.spec);
    if !layout::same_directory(&repository.spec.path, directory) {
        // Where the description was found is where the data is.
        repository.spec.path = format!("/{directory}");
    }
    repository.metadata.namespace = Some(namespace.clone());
    repository.metadata.labels = copy.metadata.labels;
    repository.metadata.annotations = copy.metadata.annotations;
    repository.spec.storage_ref = ObjectReference {
        name: storage.name_any(),
        namespace: storage.namespace(),
    };
    let api: Api<Repository> = Api::namespaced(client.clone(), &namespace);
    match api.create(&Default::default(), &repository).await {
        Ok(created) => Ok(created),
        Err(error) => refuse(format!("creating Repository `{namespace}/{name}`: {error}")),
    }
}

/// Creates the Snapshots of `repository` that its backend directory holds copies of and
/// this cluster does not, with their recorded status: the restic snapshots they point to
/// are in the backend, so they can be restored and are subject to retention. A Snapshot
/// created earlier whose status did not land gets it now. Returns what went wrong, per
/// copy.
async fn import_snapshots(
    client: &Client,
    repository: &Repository,
    copies: Vec<std::result::Result<Snapshot, String>>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if copies.is_empty() {
        return problems;
    }
    let namespace = repository.namespace().unwrap_or_default();
    let api: Api<Snapshot> = Api::namespaced(client.clone(), &namespace);
    let mut imported = 0;
    for copy in copies {
        let copy = match copy {
            Ok(copy) => copy,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let name = copy.name_any();
        if name.is_empty() {
            continue;
        }
        match import_snapshot(&api, repository, copy).await {
            Ok(true) => imported += 1,
            Ok(false) => {}
            Err(error) => problems.push(format!("Snapshot `{name}`: {error}")),
        }
    }
    if imported > 0 {
        tracing::info!(
            repository = %format!("{namespace}/{}", repository.name_any()),
            imported,
            "re-created Snapshots from the backend"
        );
    }
    problems
}

/// Creates one Snapshot from its copy (or fills in the status of one created without it);
/// `false` when there was nothing to do.
async fn import_snapshot(
    api: &Api<Snapshot>,
    repository: &Repository,
    copy: Snapshot,
) -> Result<bool> {
    let name = copy.name_any();
    match api.get_opt(&name).await? {
        Some(existing) if existing.status.is_some() => return Ok(false),
        Some(_) => {}
        None => {
            let mut snapshot = Snapshot::new(&name, copy.spec.clone());
            snapshot.spec.repository = repository.name_any();
            snapshot.metadata.namespace = repository.namespace();
            snapshot.metadata.labels = copy.metadata.labels.clone();
            snapshot.metadata.annotations = copy.metadata.annotations.clone();
            snapshot.metadata.owner_references =
                Some(vec![util::owner_reference(repository, false)]);
            match api.create(&Default::default(), &snapshot).await {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 409 => return Ok(false),
                Err(error) => return Err(error.into()),
            }
        }
    }
    let mut status = copy.status.unwrap_or_default();
    let mut conditions = status.conditions.take().unwrap_or_default();
    set_condition(
        &mut conditions,
        condition(
            "SnapshotMetadataUploaded",
            true,
            "SnapshotMetadataUploaded",
            "re-created from the copy in the backend",
        ),
    );
    status.conditions = Some(conditions);
    status.phase = None;
    util::patch_status(api, &name, serde_json::to_value(&status)?).await?;
    Ok(true)
}

/// What a connectivity check of a backend found.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProbeReport {
    /// The backend, as users know it (`s3:http://…/bucket/prefix`, a directory).
    pub location: String,
    /// Whether `metadata.yaml` is present (the backend is initialized).
    pub initialized: bool,
    /// Milliseconds to write the probe object.
    pub write_ms: f64,
    /// Milliseconds to read it back.
    pub read_ms: f64,
    /// Milliseconds to delete it.
    pub delete_ms: f64,
}

/// The directory probe objects are written under, at the backend root.
pub const PROBE_DIRECTORY: &str = ".kubestash-probe";

/// Writes a probe object at the backend root, reads it back, compares and deletes it.
/// Blocking: call it through [`blocking`].
pub fn probe(location: &Location) -> Result<ProbeReport> {
    use std::time::Instant;
    let store = location.store()?;
    let name = format!(
        "{PROBE_DIRECTORY}/{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let content = format!("kubestash connectivity probe {name}\n").into_bytes();
    let started = Instant::now();
    store.write(&name, &content)?;
    let write_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let read = store.read(&name);
    let read_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let deleted = store.delete(&name);
    let delete_ms = started.elapsed().as_secs_f64() * 1000.0;
    match read? {
        Some(bytes) if bytes == content => {}
        Some(_) => {
            return Err(Error::msg(format!(
                "{}: the probe object `{name}` read back with different content",
                location.describe()
            )))
        }
        None => {
            return Err(Error::msg(format!(
                "{}: the probe object `{name}` was written but cannot be read back",
                location.describe()
            )))
        }
    }
    deleted?;
    let initialized = layout::read_backend_meta(&store)?.is_some();
    Ok(ProbeReport {
        location: location.describe(),
        initialized,
        write_ms,
        read_ms,
        delete_ms,
    })
}
