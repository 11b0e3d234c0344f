//! BackupSession: one run of one session of a BackupConfiguration or BackupBatch.

use k8s_openapi::api::core::v1::TypedLocalObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{conditions_schema, Condition, ObjectReference, TypedObjectReference};
use crate::api::core::session::HookStatus;
use crate::api::storage::SnapshotPhase;

/// One backup run; created by the schedule, `kubectl kubestash backup now`, or by hand.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "core.kubestash.com",
    version = "v1alpha1",
    kind = "BackupSession",
    plural = "backupsessions",
    namespaced,
    status = "BackupSessionStatus",
    derive = "PartialEq",
    derive = "Default",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Invoker-Type","type":"string","jsonPath":".spec.invoker.kind"}"#,
    printcolumn = r#"{"name":"Invoker-Name","type":"string","jsonPath":".spec.invoker.name"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Duration","type":"string","jsonPath":".status.duration"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct BackupSessionSpec {
    /// The BackupConfiguration or BackupBatch that runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoker: Option<TypedLocalObjectReference>,
    /// The session of the invoker that runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Retries left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_left: Option<i32>,
    /// Maximum duration of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_timeout: Option<String>,
}

/// Phase of a BackupSession.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum BackupSessionPhase {
    /// Not started.
    Pending,
    /// Backing up.
    Running,
    /// Every snapshot succeeded.
    Succeeded,
    /// A snapshot, hook or the executor failed.
    Failed,
    /// Not run (paused, or another session was running).
    Skipped,
}

impl BackupSessionPhase {
    /// Whether the session has ended.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Skipped)
    }
}

/// Observed state of a BackupSession.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupSessionStatus {
    /// Phase of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BackupSessionPhase>,
    /// How long the run took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// When the run times out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_deadline: Option<Time>,
    /// Number of snapshots the run makes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_snapshots: Option<i32>,
    /// The snapshots of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<Vec<SnapshotStatusEntry>>,
    /// Hook phases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<HookStatus>,
    /// Retention applied per repository after the run.
    #[serde(
        rename = "retentionPolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retention_policy: Option<Vec<RetentionPolicyApplyStatus>>,
    /// Whether this run was retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retried: Option<bool>,
    /// When the next retry starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_retry: Option<Time>,
    /// `BackupSkipped`, `SessionHistoryCleaned`, `BackupExecutorEnsured`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Option<Vec<Condition>>,
}

/// One snapshot of a BackupSession.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotStatusEntry {
    /// Snapshot name.
    #[serde(default)]
    pub name: String,
    /// Its phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<SnapshotPhase>,
    /// The backed-up application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_ref: Option<TypedObjectReference>,
    /// The repository written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

/// Retention applied to one repository.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPolicyApplyStatus {
    /// The RetentionPolicy.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ObjectReference>,
    /// The repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// `Pending`, `Applied` or `FailedToApply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RetentionPolicyApplyPhase>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Phase of applying a RetentionPolicy.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum RetentionPolicyApplyPhase {
    /// Not applied yet.
    Pending,
    /// Applied.
    Applied,
    /// Failed.
    FailedToApply,
}
