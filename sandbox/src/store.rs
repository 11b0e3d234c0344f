//! The in-memory object store: objects as JSON per resource, one monotonic resource version,
//! and a bounded history of changes that watches replay from.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;

use crate::registry::StorageKey;

/// How many changes the store remembers for watches; older resource versions get 410 Gone.
pub(crate) const HISTORY_LIMIT: usize = 50_000;

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects.
pub(crate) type ObjectName = (String, String);

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One recorded change.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub revision: u64,
    pub resource: StorageKey,
    pub kind: ChangeKind,
    pub object: Arc<Value>,
    /// The object before a modification, so selector transitions can be reported.
    pub previous: Option<Arc<Value>>,
}

/// The resource version asked for is older than the remembered history.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TooOld {
    pub oldest: u64,
}

/// Objects and history. Callers hold the lock around read-modify-write sequences.
#[derive(Debug, Default)]
pub(crate) struct StoreState {
    revision: u64,
    objects: HashMap<StorageKey, BTreeMap<ObjectName, Arc<Value>>>,
    history: VecDeque<Change>,
    /// Where each object lives, by uid.
    uids: HashMap<String, (StorageKey, ObjectName)>,
    /// Objects whose ownerReferences name a uid, by that owner uid.
    dependents: HashMap<String, BTreeSet<(StorageKey, ObjectName)>>,
}

fn uid_of(object: &Value) -> Option<String> {
    object["metadata"]["uid"].as_str().map(str::to_string)
}

fn owner_uids(object: &Value) -> Vec<String> {
    object["metadata"]["ownerReferences"]
        .as_array()
        .map(|owners| {
            owners
                .iter()
                .filter_map(|owner| owner["uid"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn set_resource_version(object: &mut Value, revision: u64) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.insert(
            "resourceVersion".to_string(),
            Value::String(revision.to_string()),
        );
    }
}

impl StoreState {
    /// The latest resource version.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// One object.
    pub fn get(&self, resource: &StorageKey, name: &ObjectName) -> Option<Arc<Value>> {
        self.objects.get(resource)?.get(name).cloned()
    }

    /// Objects of a resource in key order, optionally in one namespace, starting after `after`.
    pub fn range<'a>(
        &'a self,
        resource: &StorageKey,
        namespace: Option<&'a str>,
        after: Option<&'a ObjectName>,
    ) -> Box<dyn Iterator<Item = (&'a ObjectName, &'a Arc<Value>)> + 'a> {
        let Some(objects) = self.objects.get(resource) else {
            return Box::new(std::iter::empty());
        };
        let start = match (after, namespace) {
            (Some(after), _) => std::ops::Bound::Excluded(after.clone()),
            (None, Some(namespace)) => {
                std::ops::Bound::Included((namespace.to_string(), String::new()))
            }
            (None, None) => std::ops::Bound::Unbounded,
        };
        let iterator = objects
            .range((start, std::ops::Bound::Unbounded))
            .take_while(move |((object_namespace, _), _)| {
                namespace.is_none_or(|namespace| object_namespace == namespace)
            });
        Box::new(iterator)
    }

    /// Resources that currently hold objects.
    pub fn resources(&self) -> Vec<StorageKey> {
        self.objects
            .iter()
            .filter(|(_, objects)| !objects.is_empty())
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Where the object with `uid` lives, if it exists.
    pub fn find_uid(&self, uid: &str) -> Option<(StorageKey, ObjectName)> {
        self.uids.get(uid).cloned()
    }

    /// Objects that name `uid` in their ownerReferences.
    pub fn dependents_of(&self, uid: &str) -> Vec<(StorageKey, ObjectName)> {
        self.dependents
            .get(uid)
            .map(|dependents| dependents.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn unindex(&mut self, resource: &StorageKey, name: &ObjectName, object: &Value) {
        if let Some(uid) = uid_of(object) {
            self.uids.remove(&uid);
        }
        for owner in owner_uids(object) {
            if let Some(dependents) = self.dependents.get_mut(&owner) {
                dependents.remove(&(resource.clone(), name.clone()));
                if dependents.is_empty() {
                    self.dependents.remove(&owner);
                }
            }
        }
    }

    fn index(&mut self, resource: &StorageKey, name: &ObjectName, object: &Value) {
        if let Some(uid) = uid_of(object) {
            self.uids.insert(uid, (resource.clone(), name.clone()));
        }
        for owner in owner_uids(object) {
            self.dependents
                .entry(owner)
                .or_default()
                .insert((resource.clone(), name.clone()));
        }
    }

    fn record(&mut self, change: Change) {
        if self.history.len() >= HISTORY_LIMIT {
            self.history.pop_front();
        }
        self.history.push_back(change);
    }

    /// Stores a new object, assigning the next resource version.
    pub fn insert(
        &mut self,
        resource: &StorageKey,
        name: ObjectName,
        mut object: Value,
    ) -> Arc<Value> {
        self.revision += 1;
        set_resource_version(&mut object, self.revision);
        let object = Arc::new(object);
        let previous = self
            .objects
            .entry(resource.clone())
            .or_default()
            .insert(name.clone(), object.clone());
        if let Some(previous) = &previous {
            self.unindex(resource, &name, previous);
        }
        self.index(resource, &name, &object);
        self.record(Change {
            revision: self.revision,
            resource: resource.clone(),
            kind: if previous.is_some() {
                ChangeKind::Modified
            } else {
                ChangeKind::Added
            },
            object: object.clone(),
            previous,
        });
        object
    }

    /// Removes an object; the deletion event carries a new resource version.
    pub fn remove(&mut self, resource: &StorageKey, name: &ObjectName) -> Option<Arc<Value>> {
        let removed = self.objects.get_mut(resource)?.remove(name)?;
        self.unindex(resource, name, &removed);
        self.revision += 1;
        let mut last = (*removed).clone();
        set_resource_version(&mut last, self.revision);
        let last = Arc::new(last);
        self.record(Change {
            revision: self.revision,
            resource: resource.clone(),
            kind: ChangeKind::Deleted,
            object: last.clone(),
            previous: Some(removed),
        });
        Some(last)
    }

    /// Changes after `revision`, or [`TooOld`] when the history no longer reaches back.
    pub fn changes_since(&self, revision: u64) -> Result<Vec<Change>, TooOld> {
        let oldest = self
            .history
            .front()
            .map(|change| change.revision)
            .unwrap_or(self.revision + 1);
        if revision + 1 < oldest && revision < self.revision {
            return Err(TooOld { oldest });
        }
        let start = self
            .history
            .partition_point(|change| change.revision <= revision);
        Ok(self.history.range(start..).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> StorageKey {
        StorageKey {
            group: String::new(),
            plural: "configmaps".to_string(),
        }
    }

    fn name(namespace: &str, name: &str) -> ObjectName {
        (namespace.to_string(), name.to_string())
    }

    #[test]
    fn every_write_gets_a_higher_resource_version() {
        let mut state = StoreState::default();
        let first = state.insert(&key(), name("a", "x"), json!({"metadata": {}}));
        let second = state.insert(&key(), name("a", "x"), json!({"metadata": {}}));
        assert_eq!(first["metadata"]["resourceVersion"], "1");
        assert_eq!(second["metadata"]["resourceVersion"], "2");
        let deleted = state.remove(&key(), &name("a", "x")).unwrap();
        assert_eq!(deleted["metadata"]["resourceVersion"], "3");
    }

    #[test]
    fn range_stays_inside_one_namespace() {
        let mut state = StoreState::default();
        for (namespace, object) in [("a", "1"), ("b", "1"), ("b", "2"), ("c", "1")] {
            state.insert(&key(), name(namespace, object), json!({"metadata": {}}));
        }
        let names: Vec<_> = state
            .range(&key(), Some("b"), None)
            .map(|(name, _)| name.1.clone())
            .collect();
        assert_eq!(names, ["1", "2"]);
        let after = name("b", "1");
        let rest: Vec<_> = state
            .range(&key(), None, Some(&after))
            .map(|(name, _)| name.clone())
            .collect();
        assert_eq!(rest, [name("b", "2"), name("c", "1")]);
    }

    #[test]
    fn changes_since_reports_what_happened_after_a_version() {
        let mut state = StoreState::default();
        state.insert(&key(), name("a", "x"), json!({"metadata": {}}));
        state.insert(&key(), name("a", "y"), json!({"metadata": {}}));
        state.remove(&key(), &name("a", "x"));
        let changes = state.changes_since(1).unwrap();
        let kinds: Vec<_> = changes.iter().map(|change| change.kind).collect();
        assert_eq!(kinds, [ChangeKind::Added, ChangeKind::Deleted]);
        assert!(state.changes_since(3).unwrap().is_empty());
    }
}
