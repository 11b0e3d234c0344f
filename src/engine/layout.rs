//! The KubeStash backend layout: `metadata.yaml` (BackendMeta) at the root, and per
//! repository directory `repository.yaml`, `snapshots/<name>.yaml` copies of the Snapshot
//! objects, and one restic repository per component under `repository/v1/<session>/<component>`.

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::api::storage::{Repository, RepositoryInfo, Snapshot};
use crate::engine::location::clean_prefix;
use crate::engine::{EngineError, Store};

/// File name of the backend metadata at the root.
pub const METADATA_FILE: &str = "metadata.yaml";
/// File name of a repository's description in its directory.
pub const REPOSITORY_FILE: &str = "repository.yaml";
/// Directory of the Snapshot copies in a repository directory.
pub const SNAPSHOTS_DIRECTORY: &str = "snapshots";
/// Data layout version of component repositories.
pub const LAYOUT_VERSION: &str = "v1";

/// `metadata.yaml`: marks an initialized backend (`config.kubestash.com/v1alpha1` BackendMeta).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendMeta {
    /// `config.kubestash.com/v1alpha1`.
    pub api_version: String,
    /// `BackendMeta`.
    pub kind: String,
    /// When the backend was initialized.
    pub creation_timestamp: String,
    /// Version of the operator that initialized it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_version: Option<String>,
    /// Repositories stored in the backend.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<RepositoryInfo>,
}

impl BackendMeta {
    /// A fresh BackendMeta.
    pub fn new(operator_version: &str) -> Self {
        Self {
            api_version: "config.kubestash.com/v1alpha1".into(),
            kind: "BackendMeta".into(),
            creation_timestamp: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            operator_version: Some(operator_version.to_string()),
            repositories: Vec::new(),
        }
    }
}

fn yaml_error(path: &str, error: impl std::fmt::Display) -> EngineError {
    EngineError::Io {
        path: path.to_string(),
        cause: error.to_string(),
    }
}

/// Reads `metadata.yaml`; `None` when the backend is not initialized.
pub fn read_backend_meta(store: &Store) -> Result<Option<BackendMeta>, EngineError> {
    match store.read(METADATA_FILE)? {
        None => Ok(None),
        Some(data) => serde_yaml::from_slice(&data)
            .map(Some)
            .map_err(|error| yaml_error(METADATA_FILE, error)),
    }
}

/// Initializes a backend: writes `metadata.yaml` unless it is there. Returns the metadata.
pub fn initialize_backend(
    store: &Store,
    operator_version: &str,
) -> Result<BackendMeta, EngineError> {
    if let Some(existing) = read_backend_meta(store)? {
        return Ok(existing);
    }
    let meta = BackendMeta::new(operator_version);
    write_backend_meta(store, &meta)?;
    Ok(meta)
}

/// Writes `metadata.yaml`.
pub fn write_backend_meta(store: &Store, meta: &BackendMeta) -> Result<(), EngineError> {
    let text = serde_yaml::to_string(meta).map_err(|error| yaml_error(METADATA_FILE, error))?;
    store.write(METADATA_FILE, text.as_bytes())
}

/// The path of a component repository relative to its repository directory:
/// `repository/v1/<session>/<component>`.
pub fn component_path(session: &str, component: &str) -> String {
    format!("repository/{LAYOUT_VERSION}/{session}/{component}")
}

/// Whether two repository paths name one directory (`/shop/orders/` and `shop/orders`).
pub fn same_directory(left: &str, right: &str) -> bool {
    clean_prefix(left) == clean_prefix(right)
}

/// Writes `<repository.spec.path>/repository.yaml` (status and server fields dropped).
pub fn write_repository(store: &Store, repository: &Repository) -> Result<(), EngineError> {
    let mut copy = repository.clone();
    copy.status = None;
    copy.metadata.managed_fields = None;
    copy.metadata.resource_version = None;
    copy.metadata.uid = None;
    let path = format!("{}/{REPOSITORY_FILE}", clean_prefix(&repository.spec.path));
    let text = serde_yaml::to_string(&copy).map_err(|error| yaml_error(&path, error))?;
    store.write(&path, text.as_bytes())
}

/// Reads `<directory>/repository.yaml`.
pub fn read_repository(store: &Store, directory: &str) -> Result<Option<Repository>, EngineError> {
    let path = format!("{}/{REPOSITORY_FILE}", clean_prefix(directory));
    match store.read(&path)? {
        None => Ok(None),
        Some(data) => serde_yaml::from_slice(&data)
            .map(Some)
            .map_err(|error| yaml_error(&path, error)),
    }
}

/// Writes the copy of a Snapshot object into `<directory>/snapshots/<name>.yaml`.
pub fn write_snapshot(
    store: &Store,
    directory: &str,
    snapshot: &Snapshot,
) -> Result<(), EngineError> {
    let mut copy = snapshot.clone();
    copy.metadata.managed_fields = None;
    copy.metadata.resource_version = None;
    copy.metadata.uid = None;
    let name = snapshot.metadata.name.clone().unwrap_or_default();
    let path = format!(
        "{}/{SNAPSHOTS_DIRECTORY}/{name}.yaml",
        clean_prefix(directory)
    );
    let text = serde_yaml::to_string(&copy).map_err(|error| yaml_error(&path, error))?;
    store.write(&path, text.as_bytes())
}

/// Removes the copy of a Snapshot object.
pub fn delete_snapshot(store: &Store, directory: &str, name: &str) -> Result<(), EngineError> {
    store.delete(&format!(
        "{}/{SNAPSHOTS_DIRECTORY}/{name}.yaml",
        clean_prefix(directory)
    ))
}

/// How deep below the backend root [`discover_repositories`] looks for `repository.yaml`.
const DISCOVERY_DEPTH: usize = 4;
/// How many directories [`discover_repositories`] visits at most, on a bucket shared with
/// other data.
const DISCOVERY_LIMIT: usize = 2_000;

/// A repository directory found in a backend: its `repository.yaml`, or why it could not be
/// read.
pub type DiscoveredRepository = (String, Result<Repository, EngineError>);

/// The repository directories of a backend, for re-creating their Repository objects in a
/// new cluster: those `metadata.yaml` lists, and any directory up to four levels below the
/// root that holds a `repository.yaml` (restic data and Snapshot copies are not entered).
/// Directories are returned once, cleaned (`shop/orders`), in order.
pub fn discover_repositories(
    store: &Store,
    meta: &BackendMeta,
) -> Result<Vec<DiscoveredRepository>, EngineError> {
    let mut directories: std::collections::BTreeSet<String> = meta
        .repositories
        .iter()
        .map(|info| clean_prefix(&info.path))
        .filter(|path| !path.is_empty())
        .collect();
    let mut queue = std::collections::VecDeque::from([(String::new(), 0usize)]);
    let mut visited = 0;
    while let Some((directory, depth)) = queue.pop_front() {
        visited += 1;
        if visited > DISCOVERY_LIMIT {
            tracing::warn!(
                location = %store.location,
                "stopped looking for repository.yaml after {DISCOVERY_LIMIT} directories; repositories not listed in metadata.yaml beyond them were not found"
            );
            break;
        }
        if !directory.is_empty()
            && store
                .list(&directory)?
                .iter()
                .any(|name| name == REPOSITORY_FILE)
        {
            directories.insert(directory);
            continue;
        }
        if depth == DISCOVERY_DEPTH {
            continue;
        }
        for name in store.list_directories(&directory)? {
            // Hidden directories (the connectivity probe's), restic data and Snapshot copies.
            if name.starts_with('.') || name == "repository" || name == SNAPSHOTS_DIRECTORY {
                continue;
            }
            let child = if directory.is_empty() {
                name
            } else {
                format!("{directory}/{name}")
            };
            queue.push_back((child, depth + 1));
        }
    }
    let mut found = Vec::new();
    for directory in directories {
        match read_repository(store, &directory) {
            Ok(Some(repository)) => found.push((directory, Ok(repository))),
            Ok(None) => {}
            Err(error) => found.push((directory, Err(error))),
        }
    }
    Ok(found)
}

/// Every Snapshot copy of a repository directory, each read on its own: one that does not
/// parse is an `Err` naming it, and the others still count.
pub fn read_snapshot_copies(
    store: &Store,
    directory: &str,
) -> Result<Vec<Result<Snapshot, String>>, EngineError> {
    let folder = format!("{}/{SNAPSHOTS_DIRECTORY}", clean_prefix(directory));
    let mut copies = Vec::new();
    for name in store.list(&folder)? {
        if !name.ends_with(".yaml") {
            continue;
        }
        let path = format!("{folder}/{name}");
        match store.read(&path) {
            Ok(Some(data)) => copies
                .push(serde_yaml::from_slice(&data).map_err(|error| format!("{path}: {error}"))),
            Ok(None) => {}
            Err(error) => copies.push(Err(error.to_string())),
        }
    }
    Ok(copies)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::ObjectReference;
    use crate::api::storage::RepositorySpec;
    use crate::engine::Location;

    #[test]
    fn backend_metadata_is_written_once() {
        let directory = tempfile::tempdir().unwrap();
        let store = Location::Local {
            root: directory.path().to_path_buf(),
        }
        .store()
        .unwrap();
        assert!(read_backend_meta(&store).unwrap().is_none());
        let first = initialize_backend(&store, "0.1.0").unwrap();
        let second = initialize_backend(&store, "0.2.0").unwrap();
        assert_eq!(first, second);
        let text = std::fs::read_to_string(directory.path().join(METADATA_FILE)).unwrap();
        assert!(
            text.contains("kind: BackendMeta")
                && text.contains("apiVersion: config.kubestash.com/v1alpha1"),
            "{text}"
        );
    }

    #[test]
    fn repository_and_snapshot_copies_round_trip() {
        let directory = tempfile::tempdir().unwrap();
        let store = Location::Local {
            root: directory.path().to_path_buf(),
        }
        .store()
        .unwrap();
        let mut repository = Repository::new(
            "orders-repo",
            RepositorySpec {
                storage_ref: ObjectReference {
                    namespace: Some("shop".into()),
                    name: "local-disk".into(),
                },
                path: "/shop/orders/".into(),
                ..RepositorySpec::default()
            },
        );
        repository.metadata.namespace = Some("shop".into());
        write_repository(&store, &repository).unwrap();
        assert!(directory
            .path()
            .join("shop/orders/repository.yaml")
            .is_file());
        assert_eq!(
            read_repository(&store, "shop/orders")
                .unwrap()
                .unwrap()
                .spec
                .path,
            "/shop/orders/"
        );
        let snapshot = Snapshot::new(
            "orders-repo-orders-backup-nightly-1700000000",
            Default::default(),
        );
        write_snapshot(&store, "/shop/orders", &snapshot).unwrap();
        assert_eq!(
            read_snapshot_copies(&store, "shop/orders").unwrap().len(),
            1
        );
        delete_snapshot(
            &store,
            "shop/orders",
            "orders-repo-orders-backup-nightly-1700000000",
        )
        .unwrap();
        assert!(read_snapshot_copies(&store, "shop/orders")
            .unwrap()
            .is_empty());
        assert_eq!(
            component_path("nightly", "dump"),
            "repository/v1/nightly/dump"
        );
    }

    #[test]
    fn repositories_are_discovered_from_the_metadata_and_by_their_files() {
        let directory = tempfile::tempdir().unwrap();
        let store = Location::Local {
            root: directory.path().to_path_buf(),
        }
        .store()
        .unwrap();
        let repository = |name: &str, path: &str| {
            let mut repository = Repository::new(
                name,
                RepositorySpec {
                    path: path.into(),
                    ..RepositorySpec::default()
                },
            );
            repository.metadata.namespace = Some("shop".into());
            repository
        };
        let mut meta = initialize_backend(&store, "0.1.0").unwrap();
        for (name, path) in [
            ("orders", "/shop/orders/"),
            ("deep", "a/b/c/d"),
            ("deeper", "a/b/c/d2/e"),
            ("listed", "x/1/2/3/4/5"),
        ] {
            write_repository(&store, &repository(name, path)).unwrap();
        }
        // restic data and Snapshot copies are not searched, even below a directory that has
        // lost its repository.yaml.
        write_repository(&store, &repository("nested", "plain/repository/inner")).unwrap();
        write_repository(&store, &repository("copied", "plain/snapshots/inner")).unwrap();
        std::fs::create_dir_all(directory.path().join("broken")).unwrap();
        std::fs::write(directory.path().join("broken/repository.yaml"), "spec: [").unwrap();
        meta.repositories.push(RepositoryInfo {
            name: "listed".into(),
            namespace: Some("shop".into()),
            path: "/x/1/2/3/4/5/".into(),
            size: None,
            synced: Some(true),
            error: None,
        });
        meta.repositories.push(RepositoryInfo {
            name: "gone".into(),
            namespace: Some("shop".into()),
            path: "gone".into(),
            size: None,
            synced: Some(true),
            error: None,
        });
        let found = discover_repositories(&store, &meta).unwrap();
        let directories: Vec<&str> = found.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(
            directories,
            ["a/b/c/d", "broken", "shop/orders", "x/1/2/3/4/5"]
        );
        let names: Vec<String> = found
            .iter()
            .filter_map(|(_, read)| read.as_ref().ok())
            .map(|repository| repository.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["deep", "orders", "listed"]);
        let broken = found[1].1.as_ref().unwrap_err().to_string();
        assert!(broken.contains("broken/repository.yaml"), "{broken}");
    }
}
