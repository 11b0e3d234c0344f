//! BackupVerifier: how and when new snapshots are checked by restoring them.

use k8s_openapi::api::core::v1 as core;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{free_form_object, RuntimeSettings, TypedObjectReference};
use crate::api::core::session::{AddonInfo, RetryConfig, SchedulerSpec};

/// Verifies snapshots of a repository by restoring them and checking the result.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "core.kubestash.com",
    version = "v1alpha1",
    kind = "BackupVerifier",
    plural = "backupverifier",
    namespaced,
    derive = "PartialEq",
    derive = "Default",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct BackupVerifierSpec {
    /// How the snapshot is restored for verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_option: Option<RestoreOption>,
    /// When verification runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<SchedulerSpec>,
    /// Function that runs the verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Volumes of the verification pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<core::Volume>>,
    /// Volume mounts of the verification container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Vec<core::VolumeMount>>,
    /// `RestoreOnly`, `Query` or `Script`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<VerificationType>,
    /// Database query to check, per database type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub query: Option<serde_json::Value>,
    /// Script to check with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<ScriptVerifierSpec>,
    /// How failed verifications are retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_config: Option<RetryConfig>,
    /// How many finished verification sessions to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_history_limit: Option<i32>,
    /// Runtime settings of the verification pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_settings: Option<RuntimeSettings>,
}

/// The restore part of a verification.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreOption {
    /// Where to restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TypedObjectReference>,
    /// Addon and restore task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon_info: Option<AddonInfo>,
}

/// How a snapshot is verified.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum VerificationType {
    /// A successful restore is enough.
    RestoreOnly,
    /// Run a query against the restored database.
    Query,
    /// Run a script.
    Script,
}

/// A verification script.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScriptVerifierSpec {
    /// Path of the script in the verification container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Arguments of the script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
}
