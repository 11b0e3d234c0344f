//! Function: the container a task runs, with `${variable}` placeholders in its arguments.

use k8s_openapi::api::core::v1 as core;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::ContainerRuntimeSettings;

/// A container template run by Addon tasks and hooks.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "addons.kubestash.com",
    version = "v1alpha1",
    kind = "Function",
    plural = "functions",
    derive = "PartialEq",
    derive = "Default",
    shortname = "fn",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct FunctionSpec {
    /// Container image; may contain `${variable}` placeholders.
    #[serde(default)]
    pub image: String,
    /// Entrypoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Arguments with `${name}` and `${name:=default}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Ports to expose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<core::ContainerPort>>,
    /// Volume mounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Vec<core::VolumeMount>>,
    /// Raw block devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_devices: Option<Vec<core::VolumeDevice>>,
    /// Runtime settings of the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_settings: Option<ContainerRuntimeSettings>,
    /// Allowed values of a version variable in the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_versions: Option<Vec<String>>,
}
