//! Addon: the backup and restore tasks for one kind of application.

use k8s_openapi::api::core::v1 as core;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{Driver, ParameterDefinition, VolumeSource};

/// The backup and restore tasks available for one kind of application.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "addons.kubestash.com",
    version = "v1alpha1",
    kind = "Addon",
    plural = "addons",
    derive = "PartialEq",
    derive = "Default",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct AddonSpec {
    /// Tasks that back up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_tasks: Option<Vec<Task>>,
    /// Tasks that restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_tasks: Option<Vec<Task>>,
}

impl AddonSpec {
    /// The backup task named `name`.
    pub fn backup_task(&self, name: &str) -> Option<&Task> {
        self.backup_tasks
            .iter()
            .flatten()
            .find(|task| task.name == name)
    }

    /// The restore task named `name`.
    pub fn restore_task(&self, name: &str) -> Option<&Task> {
        self.restore_tasks
            .iter()
            .flatten()
            .find(|task| task.name == name)
    }
}

/// One task of an Addon.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// Task name, referenced by `sessions[].addon.tasks[].name`.
    #[serde(default)]
    pub name: String,
    /// Function the task runs.
    #[serde(default)]
    pub function: String,
    /// The tool that moves the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<Driver>,
    /// How the task runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<TaskExecutor>,
    /// One Job for the whole target instead of one per pod or replica.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub singleton: bool,
    /// Parameters the task accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<ParameterDefinition>>,
    /// Volumes the task needs; overridable through `addonVolumes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_template: Option<Vec<VolumeTemplate>>,
    /// Where the task's volumes are mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Vec<core::VolumeMount>>,
}

/// How a task is run.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum TaskExecutor {
    /// A Job.
    Job,
    /// A sidecar container.
    Sidecar,
    /// An ephemeral container.
    EphemeralContainer,
    /// A multi-level Job.
    MultiLevelJob,
}

/// A volume a task needs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumeTemplate {
    /// Volume name.
    #[serde(default)]
    pub name: String,
    /// What the volume is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
    /// The volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<VolumeSource>,
}
