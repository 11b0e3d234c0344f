//! Object semantics on top of the store, shared by the HTTP handlers and the simulated
//! controllers: create, read, update, patch, delete with the rules a kube-apiserver enforces,
//! and `Status` errors.

mod crd;
mod defaults;
mod delete;
mod error;
mod list;
mod patching;
mod write;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use serde_json::Value;
use tokio::sync::watch;

use crate::logs::PodLogs;
use crate::registry::{Registry, ResourceType, StorageKey};
use crate::store::{ObjectName, StoreState};

pub(crate) use crd::CLEANUP_FINALIZER;
pub(crate) use delete::{DeleteOptions, Propagation, FOREGROUND_FINALIZER, ORPHAN_FINALIZER};
pub(crate) use error::ApiError;
pub(crate) use list::ListQuery;
pub(crate) use write::{FieldValidation, PatchType, Subresource, WriteOptions, Written};

/// The state of one sandbox cluster.
pub(crate) struct Cluster {
    state: Mutex<StoreState>,
    registry: RwLock<Registry>,
    revisions: watch::Sender<u64>,
    /// Where claim directories and pod scratch space live.
    pub data_dir: PathBuf,
    /// Container output captured by the kubelet.
    pub logs: PodLogs,
    /// How the kubelet runs project-image processes, set when it starts; `pods/exec` uses it.
    pub kubelet: std::sync::OnceLock<Arc<crate::controllers::Settings>>,
}

impl Cluster {
    /// A cluster with the built-in resources and no objects.
    pub fn new(data_dir: PathBuf) -> Arc<Self> {
        let (revisions, _) = watch::channel(0);
        Arc::new(Self {
            state: Mutex::new(StoreState::default()),
            registry: RwLock::new(Registry::with_builtins()),
            revisions,
            data_dir,
            logs: PodLogs::default(),
            kubelet: std::sync::OnceLock::new(),
        })
    }

    /// Locks the store; keep the guard short-lived and never across an await.
    pub fn lock(&self) -> MutexGuard<'_, StoreState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tells watchers and controllers that the store changed.
    pub fn notify(&self, revision: u64) {
        self.revisions.send_replace(revision);
    }

    /// A receiver that wakes on every store change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.revisions.subscribe()
    }

    /// Runs `action` with the registry.
    pub fn with_registry<T>(&self, action: impl FnOnce(&Registry) -> T) -> T {
        let registry = self
            .registry
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        action(&registry)
    }

    fn with_registry_mut<T>(&self, action: impl FnOnce(&mut Registry) -> T) -> T {
        let mut registry = self
            .registry
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        action(&mut registry)
    }

    /// The resource served at `group/version/plural`.
    pub fn resource(&self, group: &str, version: &str, plural: &str) -> Option<ResourceType> {
        self.with_registry(|registry| registry.find(group, version, plural).cloned())
    }

    /// A built-in or custom resource by storage key.
    pub fn resource_by_key(&self, key: &StorageKey) -> Option<ResourceType> {
        self.with_registry(|registry| registry.get(key).cloned())
    }

    /// The core or grouped resource with the given plural, at its preferred version.
    pub fn builtin(&self, group: &str, plural: &str) -> ResourceType {
        self.resource_by_key(&StorageKey {
            group: group.to_string(),
            plural: plural.to_string(),
        })
        .expect("built-in resources are always registered")
    }

    /// One object.
    pub fn get(
        &self,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let key: ObjectName = (scope(resource, namespace), name.to_string());
        self.lock()
            .get(&resource.storage_key(), &key)
            .ok_or_else(|| ApiError::not_found(resource, name))
    }

    /// Every object of a resource, optionally in one namespace (for controllers).
    pub fn objects(&self, resource: &ResourceType, namespace: Option<&str>) -> Vec<Arc<Value>> {
        let state = self.lock();
        state
            .range(&resource.storage_key(), namespace, None)
            .map(|(_, object)| object.clone())
            .collect()
    }
}

/// The namespace part of a store key: empty for cluster-scoped resources.
pub(crate) fn scope(resource: &ResourceType, namespace: &str) -> String {
    if resource.namespaced {
        namespace.to_string()
    } else {
        String::new()
    }
}

/// `metadata.name` of an object.
pub(crate) fn name_of(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

/// `metadata.namespace` of an object.
pub(crate) fn namespace_of(object: &Value) -> &str {
    object["metadata"]["namespace"].as_str().unwrap_or_default()
}

/// `metadata.uid` of an object.
pub(crate) fn uid_of(object: &Value) -> &str {
    object["metadata"]["uid"].as_str().unwrap_or_default()
}

impl Cluster {
    /// Read-modify-write of one object under the lock, as controllers do it; `Ok(None)` when
    /// the object is gone, and no write when `change` leaves it as it was.
    pub fn mutate(
        &self,
        resource: &ResourceType,
        namespace: &str,
        name: &str,
        subresource: Subresource,
        change: impl FnOnce(&mut Value),
    ) -> Result<Option<Arc<Value>>, ApiError> {
        let mut state = self.lock();
        let key: ObjectName = (scope(resource, namespace), name.to_string());
        let Some(current) = state.get(&resource.storage_key(), &key) else {
            return Ok(None);
        };
        let mut changed = (*current).clone();
        change(&mut changed);
        if changed == *current {
            return Ok(Some(current));
        }
        let stored = self.controller_update(&mut state, resource, changed, subresource)?;
        let revision = state.revision();
        drop(state);
        self.notify(revision);
        Ok(Some(stored))
    }
}
