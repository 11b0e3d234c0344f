//! BackupConfiguration: what to back up, where to, and on which schedule.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{conditions_schema, Condition, TypedObjectReference};
use crate::api::core::session::{
    BackendReference, BackendStatus, BackupInvokerPhase, RepositoryStatusEntry,
    ResourceFoundStatus, Session, SessionStatus,
};

/// Backs up one target into one or more repositories on a schedule.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "core.kubestash.com",
    version = "v1alpha1",
    kind = "BackupConfiguration",
    plural = "backupconfigurations",
    namespaced,
    status = "BackupConfigurationStatus",
    derive = "PartialEq",
    derive = "Default",
    shortname = "bc",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Paused","type":"boolean","jsonPath":".spec.paused"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct BackupConfigurationSpec {
    /// The object to back up; omitted for cluster-wide manifest backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TypedObjectReference>,
    /// Backends to write to; the namespace's default BackupStorage when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backends: Option<Vec<BackendReference>>,
    /// Backup sessions; at least one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<Session>>,
    /// Suspends the schedules.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
}

/// Observed state of a BackupConfiguration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupConfigurationStatus {
    /// `Ready`, `NotReady` or `Invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BackupInvokerPhase>,
    /// Whether the target exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_found: Option<bool>,
    /// State of each backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backends: Option<Vec<BackendStatus>>,
    /// State of each repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repositories: Option<Vec<RepositoryStatusEntry>>,
    /// Whether the Addon and other dependencies exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<ResourceFoundStatus>>,
    /// State of each session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<SessionStatus>>,
    /// `ValidationPassed`, `SchedulerEnsured`, `InitialBackupTriggered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Option<Vec<Condition>>,
}
