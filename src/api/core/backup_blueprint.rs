//! BackupBlueprint: a BackupConfiguration template applied to annotated targets (auto-backup).

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::UsagePolicy;
use crate::api::core::session::{BackendReference, Session};

/// Annotation naming the BackupBlueprint of a target.
pub const BLUEPRINT_NAME_ANNOTATION: &str = "blueprint.kubestash.com/name";
/// Annotation naming the BackupBlueprint's namespace.
pub const BLUEPRINT_NAMESPACE_ANNOTATION: &str = "blueprint.kubestash.com/namespace";
/// Annotation selecting a comma-separated subset of the blueprint's sessions.
pub const BLUEPRINT_SESSIONS_ANNOTATION: &str = "blueprint.kubestash.com/session-names";
/// Prefix of annotations that give `${variable}` values.
pub const VARIABLES_ANNOTATION_PREFIX: &str = "variables.kubestash.com/";

/// A template from which the operator creates BackupConfigurations for annotated targets.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "core.kubestash.com",
    version = "v1alpha1",
    kind = "BackupBlueprint",
    plural = "backupblueprints",
    namespaced,
    derive = "PartialEq",
    derive = "Default",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct BackupBlueprintSpec {
    /// Which namespaces' targets may use this blueprint; `from: Same` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_policy: Option<UsagePolicy>,
    /// Kinds the operator watches for blueprint annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subjects: Option<Vec<ResourceKind>>,
    /// The BackupConfiguration to create; may contain `${variable}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_configuration_template: Option<BackupConfigurationTemplate>,
}

/// An API version and kind.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceKind {
    /// API version, e.g. `apps/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind, e.g. `Deployment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The BackupConfiguration part of a blueprint.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupConfigurationTemplate {
    /// Namespace of the created BackupConfigurations; the blueprint's namespace when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Backends of the created configurations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backends: Option<Vec<BackendReference>>,
    /// Sessions of the created configurations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<Session>>,
    /// `OnDelete`: delete the created configurations with the blueprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<BlueprintDeletionPolicy>,
}

/// What happens to generated configurations when the blueprint goes.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum BlueprintDeletionPolicy {
    /// Delete them with the blueprint.
    OnDelete,
}
