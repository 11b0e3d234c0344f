//! Repository: one backup directory of one target inside a BackupStorage.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{conditions_schema, Condition, ObjectReference, TypedObjectReference};

/// A directory in a BackupStorage holding the restic repositories of one target.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "storage.kubestash.com",
    version = "v1alpha1",
    kind = "Repository",
    plural = "repositories",
    namespaced,
    status = "RepositoryStatus",
    derive = "PartialEq",
    derive = "Default",
    shortname = "repo",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Integrity","type":"boolean","jsonPath":".status.integrity"}"#,
    printcolumn = r#"{"name":"Snapshot-Count","type":"integer","jsonPath":".status.snapshotCount"}"#,
    printcolumn = r#"{"name":"Size","type":"string","jsonPath":".status.size"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Last-Successful-Backup","type":"date","jsonPath":".status.lastBackupTime"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct RepositorySpec {
    /// The application whose backups this repository holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_ref: Option<TypedObjectReference>,
    /// The BackupStorage the repository lives in.
    pub storage_ref: ObjectReference,
    /// Directory inside the BackupStorage; cannot change after creation.
    pub path: String,
    /// `Delete` keeps the backed-up data when the object is deleted, `WipeOut` removes it.
    #[serde(default)]
    pub deletion_policy: RepositoryDeletionPolicy,
    /// Secret whose `RESTIC_PASSWORD` key encrypts the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_secret: Option<ObjectReference>,
    /// Whether backups into this repository are paused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
}

/// What happens to backed-up data when a Repository or Snapshot is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum RepositoryDeletionPolicy {
    /// Keep the data.
    #[default]
    Delete,
    /// Remove the data.
    WipeOut,
}

/// Observed state of a Repository.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryStatus {
    /// `Ready` once the repository is initialized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RepositoryPhase>,
    /// Time of the last successful backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_backup_time: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
    /// Whether the last integrity check passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<bool>,
    /// Number of snapshots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_count: Option<i32>,
    /// Size of the repository, e.g. `12.222 MiB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// The latest snapshots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recent_snapshots: Option<Vec<SnapshotInfo>>,
    /// `RepositoryInitialized`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Option<Vec<Condition>>,
    /// Component repositories, relative to `spec.path`, e.g. `repository/v1/nightly/dump`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_paths: Option<Vec<String>>,
}

/// Phase of a Repository.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum RepositoryPhase {
    /// Not initialized yet.
    NotReady,
    /// Initialized and usable.
    Ready,
}

/// A short description of a snapshot in [`RepositoryStatus::recent_snapshots`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    /// Snapshot name.
    #[serde(default)]
    pub name: String,
    /// Snapshot phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<crate::api::storage::SnapshotPhase>,
    /// Session that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Snapshot size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// When the snapshot was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_time: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
}
