//! Snapshot: the record of one backup of one repository, with a status per component.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{conditions_schema, Condition, Driver, TypedObjectReference};
use crate::api::storage::RepositoryDeletionPolicy;

/// One backup of one repository. Created by the operator; users should not edit it.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "storage.kubestash.com",
    version = "v1alpha1",
    kind = "Snapshot",
    plural = "snapshots",
    namespaced,
    status = "SnapshotStatus",
    derive = "PartialEq",
    derive = "Default",
    category = "kubestash",
    category = "appscode",
    printcolumn = r#"{"name":"Repository","type":"string","jsonPath":".spec.repository"}"#,
    printcolumn = r#"{"name":"Session","type":"string","jsonPath":".spec.session"}"#,
    printcolumn = r#"{"name":"Snapshot-Time","type":"string","jsonPath":".status.snapshotTime"}"#,
    printcolumn = r#"{"name":"Deletion-Policy","type":"string","jsonPath":".spec.deletionPolicy"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Verification-Status","type":"string","jsonPath":".status.verificationStatus"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotSpec {
    /// A ULID identifying the snapshot.
    #[serde(
        rename = "snapshotID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub snapshot_id: Option<String>,
    /// `FullBackup` or `IncrementalBackup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Repository name (same namespace).
    #[serde(default)]
    pub repository: String,
    /// Session name in the BackupConfiguration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// BackupSession name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_session: Option<String>,
    /// Data layout version, currently `v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The application that was backed up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_ref: Option<TypedObjectReference>,
    /// `Delete` keeps the data when the object is deleted, `WipeOut` removes it.
    #[serde(default)]
    pub deletion_policy: RepositoryDeletionPolicy,
    /// Whether the snapshot is paused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
}

/// Phase of a Snapshot or of one of its components.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum SnapshotPhase {
    /// Waiting for components.
    Pending,
    /// Being written.
    Running,
    /// Every component succeeded.
    Succeeded,
    /// A component or the metadata upload failed.
    Failed,
}

/// Result of verifying a snapshot.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum VerificationStatus {
    /// The verifier restored and checked it.
    Verified,
    /// Not verified yet.
    NotVerified,
    /// Verification failed.
    VerificationFailed,
}

/// Observed state of a Snapshot.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotStatus {
    /// Phase, derived from the components and conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<SnapshotPhase>,
    /// Verification result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_status: Option<VerificationStatus>,
    /// The BackupVerificationSession that verified it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_session: Option<String>,
    /// When the backup started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_time: Option<Time>,
    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
    /// Sum of the component sizes, e.g. `12.222 MiB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// AND of the component integrities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<bool>,
    /// `SnapshotMetadataUploaded`, `RecentSnapshotListUpdated`, `BackupIncomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Option<Vec<Condition>>,
    /// Number of components the backup writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_components: Option<i32>,
    /// Status per component, keyed by component name (`dump`, `pod-0`, `manifest`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<BTreeMap<String, Component>>,
}

/// Status of one component of a snapshot.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// Path relative to the repository: `repository/<version>/<session>/<component>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Phase of this component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<SnapshotPhase>,
    /// Size of this component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// How long the backup of this component took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Why the component failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether the component's repository passed its check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<bool>,
    /// The tool that wrote the component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<Driver>,
    /// restic statistics, one entry per backed-up host path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restic_stats: Option<Vec<ResticStats>>,
    /// WAL-G statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::common::free_form_object")]
    pub wal_g_stats: Option<serde_json::Value>,
    /// VolumeSnapshot statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_snapshotter_stats: Option<Vec<VolumeSnapshotterStats>>,
    /// Medusa (Cassandra) statistics, kept as written by KubeStash's addons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::common::free_form_object")]
    pub medusa_stats: Option<serde_json::Value>,
    /// Solr statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::common::free_form_list")]
    pub solr_stats: Option<Vec<serde_json::Value>>,
    /// ClickHouse statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::common::free_form_list")]
    pub click_house_stats: Option<Vec<serde_json::Value>>,
    /// Neo4j statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::common::free_form_list")]
    pub neo4j_stats: Option<Vec<serde_json::Value>>,
    /// WAL/binlog archiver ranges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::common::free_form_object")]
    pub log_stats: Option<serde_json::Value>,
}

/// restic statistics of one backed-up path.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResticStats {
    /// Summary of the finished backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<ResticSummary>,
    /// Progress of a running backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<ResticProgress>,
}

/// Summary of one restic backup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResticSummary {
    /// restic snapshot id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Bytes uploaded, e.g. `1.2 MiB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploaded: Option<String>,
    /// The backed-up path on the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<String>,
    /// Size of the backed-up data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// When the backup started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the backup ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Time>,
}

/// Progress of one running restic backup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResticProgress {
    /// Seconds since the backup started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_elapsed: Option<String>,
    /// Percentage done, e.g. `42.5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_done: Option<String>,
    /// Files to back up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_files: Option<i64>,
    /// Files backed up so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files_done: Option<i64>,
    /// Bytes backed up so far, e.g. `1.2 GiB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_done: Option<String>,
    /// Bytes to back up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
    /// Current speed, e.g. `80 MiB/s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<String>,
}

/// Statistics of one VolumeSnapshot.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSnapshotterStats {
    /// The PVC that was snapshotted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc_name: Option<String>,
    /// Mount path of the PVC in the workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<String>,
    /// Name of the VolumeSnapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_snapshot_name: Option<String>,
    /// When it was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_snapshot_time: Option<Time>,
}
