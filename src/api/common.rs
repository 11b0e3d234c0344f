//! Sub-structs shared by several KubeStash kinds: object references, conditions, usage
//! policies, runtime settings and the inline volume source.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

/// A reference to a namespaced object by name (kmodules `ObjectReference`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// Namespace of the referent; empty means the namespace of the referring object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the referent.
    pub name: String,
}

impl ObjectReference {
    /// The referent's namespace, falling back to `default_namespace` when unset or empty.
    pub fn namespace_or<'a>(&'a self, default_namespace: &'a str) -> &'a str {
        match self.namespace.as_deref() {
            Some(namespace) if !namespace.is_empty() => namespace,
            _ => default_namespace,
        }
    }
}

/// A reference to an object of any kind (kmodules `TypedObjectReference`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypedObjectReference {
    /// API group of the referent; empty for the core group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// Kind of the referent, e.g. `Deployment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the referent.
    pub name: String,
}

impl TypedObjectReference {
    /// The referent's namespace, falling back to `default_namespace` when unset or empty.
    pub fn namespace_or<'a>(&'a self, default_namespace: &'a str) -> &'a str {
        match self.namespace.as_deref() {
            Some(namespace) if !namespace.is_empty() => namespace,
            _ => default_namespace,
        }
    }
}

/// A status condition (kmodules `Condition`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Type of the condition, e.g. `ValidationPassed`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Status of the condition: `True`, `False` or `Unknown`.
    pub status: String,
    /// The `.metadata.generation` the condition was set for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Severity of a `False` condition: `Error`, `Warning` or `Info`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Last time the condition changed status.
    pub last_transition_time: Time,
    /// One-word CamelCase reason for the last transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human-readable message about the last transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Which namespaces may use a shared object (a BackupStorage, RetentionPolicy, HookTemplate
/// or BackupBlueprint).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsagePolicy {
    /// The namespaces allowed to use the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_namespaces: Option<AllowedNamespaces>,
}

/// The namespace part of a [`UsagePolicy`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowedNamespaces {
    /// `Same` (the object's own namespace), `All`, or `Selector` (namespaces matching `selector`).
    #[serde(default)]
    pub from: FromNamespaces,
    /// Label selector over namespaces; required when `from` is `Selector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
}

/// Where an object may be used from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum FromNamespaces {
    /// Every namespace.
    All,
    /// Namespaces whose labels match the selector.
    Selector,
    /// Only the object's own namespace.
    #[default]
    Same,
}

/// A parameter an Addon task or HookTemplate accepts.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParameterDefinition {
    /// Name of the parameter, used as `${name}` in Function arguments.
    pub name: String,
    /// What the parameter is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
    /// Whether the parameter must be given.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Value used when the parameter is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// The tool a task uses to move data.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum Driver {
    /// restic-format repositories.
    Restic,
    /// WAL-G.
    WalG,
    /// CSI VolumeSnapshots.
    VolumeSnapshotter,
    /// Solr's backup API.
    Solr,
    /// Cassandra Medusa.
    Medusa,
    /// clickhouse-backup.
    ClickHouseBackup,
    /// neo4j-admin.
    Neo4jAdmin,
}

/// A volume source given inline: the common core volume sources plus a claim template.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSource {
    /// A directory on the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<core::HostPathVolumeSource>,
    /// A scratch directory that lives as long as the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<core::EmptyDirVolumeSource>,
    /// An existing PersistentVolumeClaim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim: Option<core::PersistentVolumeClaimVolumeSource>,
    /// An NFS export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfs: Option<core::NFSVolumeSource>,
    /// A Secret's keys as files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<core::SecretVolumeSource>,
    /// A ConfigMap's keys as files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<core::ConfigMapVolumeSource>,
    /// A CSI volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csi: Option<core::CSIVolumeSource>,
    /// A generic ephemeral volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral: Option<core::EphemeralVolumeSource>,
    /// Pod fields as files.
    #[serde(
        default,
        rename = "downwardAPI",
        skip_serializing_if = "Option::is_none"
    )]
    pub downward_api: Option<core::DownwardAPIVolumeSource>,
    /// An Azure File share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_file: Option<core::AzureFileVolumeSource>,
    /// A CephFS mount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cephfs: Option<core::CephFSVolumeSource>,
    /// An iSCSI disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iscsi: Option<core::ISCSIVolumeSource>,
    /// A Fibre Channel disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fc: Option<core::FCVolumeSource>,
    /// A Ceph RBD image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rbd: Option<core::RBDVolumeSource>,
    /// Several sources projected into one directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projected: Option<core::ProjectedVolumeSource>,
    /// A claim created for the job from this template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_claim_template: Option<core::PersistentVolumeClaimTemplate>,
}

/// Settings for the pods and containers the operator creates (offshoot `RuntimeSettings`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeSettings {
    /// Pod-level settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<PodRuntimeSettings>,
    /// Container-level settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerRuntimeSettings>,
}

/// Pod-level runtime settings (offshoot `PodRuntimeSettings`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodRuntimeSettings {
    /// Node labels the pod must be scheduled on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// ServiceAccount the pod runs as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Whether the ServiceAccount token is mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<bool>,
    /// A node to run on, bypassing the scheduler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// Pod security context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<core::PodSecurityContext>,
    /// Secrets used to pull images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Vec<core::LocalObjectReference>>,
    /// Scheduling constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<core::Affinity>,
    /// Scheduler to dispatch the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Option<String>,
    /// Tolerations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<core::Toleration>>,
    /// PriorityClass of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// Priority value of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// Readiness gates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_gates: Option<Vec<core::PodReadinessGate>>,
    /// RuntimeClass of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_class_name: Option<String>,
    /// Whether Service environment variables are injected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_service_links: Option<bool>,
    /// Topology spread constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology_spread_constraints: Option<Vec<core::TopologySpreadConstraint>>,
}

/// Container-level runtime settings (offshoot `ContainerRuntimeSettings`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContainerRuntimeSettings {
    /// Compute resources of the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<core::ResourceRequirements>,
    /// Liveness probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<core::Probe>,
    /// Readiness probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<core::Probe>,
    /// Lifecycle hooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<core::Lifecycle>,
    /// Container security context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<core::SecurityContext>,
    /// CPU scheduling priority (`nice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nice: Option<NiceSettings>,
    /// I/O scheduling class (`ionice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ionice: Option<IoNiceSettings>,
    /// Environment taken from Secrets or ConfigMaps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_from: Option<Vec<core::EnvFromSource>>,
    /// Extra environment variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<core::EnvVar>>,
}

/// `nice` adjustment for the container's process.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NiceSettings {
    /// Niceness adjustment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment: Option<i32>,
}

/// `ionice` settings for the container's process.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IoNiceSettings {
    /// Scheduling class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<i32>,
    /// Priority within the class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_data: Option<i32>,
}

/// Labels and annotations for generated pods or their controller (offshoot `ObjectMeta`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateMeta {
    /// Labels added to the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Annotations added to the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// A pod template for backup/restore jobs (offshoot `PodTemplateSpec`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplateSpec {
    /// Labels and annotations of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<TemplateMeta>,
    /// Labels and annotations of the pod's controller (the Job).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<TemplateMeta>,
    /// Pod settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<PodSpec>,
}

/// The pod settings of a [`PodTemplateSpec`] (offshoot `PodSpec`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// ServiceAccount the pod runs as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Node labels the pod must be scheduled on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Compute resources of the main container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<core::ResourceRequirements>,
    /// Scheduling constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<core::Affinity>,
    /// Scheduler to dispatch the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Option<String>,
    /// Tolerations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<core::Toleration>>,
    /// Secrets used to pull images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Vec<core::LocalObjectReference>>,
    /// Extra environment variables of the main container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<core::EnvVar>>,
    /// Extra arguments of the main container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// PriorityClass of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// Priority value of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// Pod security context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<core::PodSecurityContext>,
    /// Security context of the main container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_security_context: Option<core::SecurityContext>,
    /// Extra volumes of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<core::Volume>>,
    /// Extra volume mounts of the main container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Vec<core::VolumeMount>>,
}

/// Schema of a free-form object whose fields the API server must keep as they are.
pub fn free_form_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// Schema of a list of free-form objects.
pub fn free_form_list(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
    })
}

/// Schema of a list of conditions, keyed by `type` as a list-map.
pub fn conditions_schema(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = generator.subschema_for::<Vec<Condition>>();
    schema.insert("x-kubernetes-list-type".into(), "map".into());
    schema.insert(
        "x-kubernetes-list-map-keys".into(),
        serde_json::json!(["type"]),
    );
    schema
}

/// Free-form parameters: keys with (usually string) values, kept as written.
pub type Parameters = serde_json::Map<String, serde_json::Value>;

/// The value of every parameter: each definition's default, overridden by `given` (values
/// that are not strings as their JSON text).
pub fn parameter_values(
    definitions: Option<&Vec<ParameterDefinition>>,
    given: Option<&Parameters>,
) -> BTreeMap<String, String> {
    let mut values: BTreeMap<String, String> = definitions
        .into_iter()
        .flatten()
        .filter_map(|d| Some((d.name.clone(), d.default.clone()?)))
        .collect();
    for (key, value) in given.into_iter().flatten() {
        let text = match value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        values.insert(key.clone(), text);
    }
    values
}
