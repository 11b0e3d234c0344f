//! BackupBatch: several co-related targets backed up together under one configuration.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{conditions_schema, Condition, TypedObjectReference};
use crate::api::core::session::{
    AddonInfo, BackendReference, BackendStatus, BackupInvokerPhase, RepositoryInfo,
    RepositoryStatusEntry, ResourceFoundStatus, SessionConfig, SessionStatus,
};

/// Backs up several targets (e.g. an application and its database) on one schedule.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "core.kubestash.com",
    version = "v1alpha1",
    kind = "BackupBatch",
    plural = "backupbatches",
    namespaced,
    status = "BackupBatchStatus",
    derive = "PartialEq",
    derive = "Default",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Paused","type":"boolean","jsonPath":".spec.paused"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct BackupBatchSpec {
    /// Backends to write to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backends: Option<Vec<BackendReference>>,
    /// The targets, each with an identifier used by the sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<BatchTarget>>,
    /// Sessions; each backs up some of the targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<BatchSession>>,
    /// Suspends the schedules.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
}

/// One target of a batch.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchTarget {
    /// Identifier of the target within the batch.
    #[serde(default)]
    pub name: String,
    /// The object to back up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_ref: Option<TypedObjectReference>,
}

/// One session of a batch.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchSession {
    /// Session settings.
    #[serde(flatten)]
    pub config: SessionConfig,
    /// How each target is backed up in this session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<BatchSessionTarget>>,
}

/// How one target is backed up in a batch session.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchSessionTarget {
    /// Identifier of the target (`spec.targets[].name`).
    #[serde(default)]
    pub name: String,
    /// The Addon and task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon: Option<AddonInfo>,
    /// Repositories for this target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repositories: Option<Vec<RepositoryInfo>>,
}

/// Observed state of a BackupBatch.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupBatchStatus {
    /// `Ready`, `NotReady` or `Invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BackupInvokerPhase>,
    /// State of each backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backends: Option<Vec<BackendStatus>>,
    /// State of each repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repositories: Option<Vec<RepositoryStatusEntry>>,
    /// Whether the Addons and other dependencies exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<ResourceFoundStatus>>,
    /// State of each session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<SessionStatus>>,
    /// Whether each target exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<ResourceFoundStatus>>,
    /// Conditions of the batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Option<Vec<Condition>>,
}
