//! The resource registry: every resource type the server serves, built-in or from a CRD,
//! with the discovery facts (kind, plural, short names, scope, subresources) handlers need.

mod builtin;

use std::collections::BTreeMap;

use serde_json::Value;

pub(crate) use builtin::builtin_resources;

/// Identifies where objects of one resource are stored, independent of the served version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct StorageKey {
    /// API group, empty for the core group.
    pub group: String,
    /// Plural resource name, e.g. `configmaps`.
    pub plural: String,
}

/// One served resource type.
#[derive(Debug, Clone)]
pub(crate) struct ResourceType {
    pub group: String,
    /// Served versions; the first one is the preferred (and storage) version.
    pub versions: Vec<String>,
    pub kind: String,
    pub list_kind: String,
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub namespaced: bool,
    pub status_subresource: bool,
    /// Only pods have a `log` subresource.
    pub log_subresource: bool,
    /// Whether `metadata.generation` is maintained (bumped on spec changes).
    pub tracks_generation: bool,
    /// Whether a delete without a propagation policy orphans dependents (batch/v1 Jobs).
    pub orphans_by_default: bool,
    /// Field selector labels beyond `metadata.name` and `metadata.namespace`.
    pub field_labels: Vec<String>,
    /// The structural schema per version, for custom resources.
    pub schemas: BTreeMap<String, Value>,
    /// `additionalPrinterColumns` per version, for custom resources.
    pub printer_columns: BTreeMap<String, Vec<Value>>,
    /// Whether this type comes from a CustomResourceDefinition.
    pub custom: bool,
}

impl ResourceType {
    /// The storage key of this resource.
    pub fn storage_key(&self) -> StorageKey {
        StorageKey {
            group: self.group.clone(),
            plural: self.plural.clone(),
        }
    }

    /// `apiVersion` for the given served version.
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{version}", self.group)
        }
    }

    /// `plural` or `plural.group`, the way a real server names a resource in messages.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Kind` or `Kind.group`, the way a real server names a kind in validation messages.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// Whether the given field selector label can be used on this resource.
    pub fn supports_field_label(&self, label: &str) -> bool {
        matches!(label, "metadata.name" | "metadata.namespace")
            || self.field_labels.iter().any(|known| known == label)
    }
}

/// All served resource types.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    resources: BTreeMap<StorageKey, ResourceType>,
}

impl Registry {
    /// A registry holding the built-in resources.
    pub fn with_builtins() -> Self {
        let mut registry = Self::default();
        for resource in builtin_resources() {
            registry.register(resource);
        }
        registry
    }

    /// Adds or replaces a resource type.
    pub fn register(&mut self, resource: ResourceType) {
        self.resources.insert(resource.storage_key(), resource);
    }

    /// Removes a resource type.
    pub fn unregister(&mut self, key: &StorageKey) -> Option<ResourceType> {
        self.resources.remove(key)
    }

    /// The resource served at `group/version` under `plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        let key = StorageKey {
            group: group.to_string(),
            plural: plural.to_string(),
        };
        self.resources
            .get(&key)
            .filter(|resource| resource.versions.iter().any(|served| served == version))
    }

    /// The resource stored under `key`.
    pub fn get(&self, key: &StorageKey) -> Option<&ResourceType> {
        self.resources.get(key)
    }

    /// Every resource type.
    pub fn all(&self) -> impl Iterator<Item = &ResourceType> {
        self.resources.values()
    }

    /// Every served `(group, version)` pair with its resources, core group first.
    pub fn group_versions(&self) -> BTreeMap<(String, String), Vec<&ResourceType>> {
        let mut groups: BTreeMap<(String, String), Vec<&ResourceType>> = BTreeMap::new();
        for resource in self.resources.values() {
            for version in &resource.versions {
                groups
                    .entry((resource.group.clone(), version.clone()))
                    .or_default()
                    .push(resource);
            }
        }
        groups
    }
}
