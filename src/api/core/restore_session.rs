//! RestoreSession: restores a snapshot (or a subset of its components) into a target.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::TypedLocalObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{conditions_schema, Condition, ObjectReference, TypedObjectReference};
use crate::api::core::session::{AddonInfo, HookInfo, HookStatus, ResourceFoundStatus};

/// The snapshot name that means "the newest successful snapshot of the repository".
pub const LATEST_SNAPSHOT: &str = "latest";

/// Restores data from a snapshot into a target.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "core.kubestash.com",
    version = "v1alpha1",
    kind = "RestoreSession",
    plural = "restoresessions",
    namespaced,
    status = "RestoreSessionStatus",
    derive = "PartialEq",
    derive = "Default",
    shortname = "restore",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Repository","type":"string","jsonPath":".spec.dataSource.repository"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Duration","type":"string","jsonPath":".status.duration"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSessionSpec {
    /// Where to restore; may be omitted for manifest restores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TypedObjectReference>,
    /// Which snapshot to restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source: Option<RestoreDataSource>,
    /// The Addon and restore task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon: Option<AddonInfo>,
    /// Hooks run before and after the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<RestoreHooks>,
    /// Maximum duration of the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_timeout: Option<String>,
    /// Options for restoring manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_options: Option<ManifestRestoreOptions>,
}

/// The snapshot a RestoreSession reads.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreDataSource {
    /// Namespace of the Repository and Snapshot; the RestoreSession's own when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Repository name; required with `snapshot: latest` and `pitr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Snapshot name, or `latest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// Point in time to restore to, instead of a snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitr: Option<PitrSpec>,
    /// Components to restore; all when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
    /// Secret whose `RESTIC_PASSWORD` key decrypts the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_secret: Option<ObjectReference>,
}

/// Point-in-time recovery settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PitrSpec {
    /// The time to restore to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_time: Option<Time>,
    /// Stop just before `targetTime` instead of at it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive: bool,
}

/// Hooks of a restore.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreHooks {
    /// Hooks run before the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_restore: Option<Vec<HookInfo>>,
    /// Hooks run after the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_restore: Option<Vec<HookInfo>>,
}

/// Options for restoring the manifests of an application.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManifestRestoreOptions {
    /// A workload's manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadManifestOptions>,
    /// A MongoDB's manifests.
    #[serde(rename = "mongoDB", default, skip_serializing_if = "Option::is_none")]
    pub mongodb: Option<KubeDbManifestOptions>,
    /// A Postgres's manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<KubeDbManifestOptions>,
    /// A MySQL's manifests.
    #[serde(rename = "mySQL", default, skip_serializing_if = "Option::is_none")]
    pub mysql: Option<KubeDbManifestOptions>,
    /// A MariaDB's manifests.
    #[serde(rename = "mariaDB", default, skip_serializing_if = "Option::is_none")]
    pub mariadb: Option<KubeDbManifestOptions>,
    /// A Redis's manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<KubeDbManifestOptions>,
    /// A ZooKeeper's manifests.
    #[serde(rename = "zooKeeper", default, skip_serializing_if = "Option::is_none")]
    pub zookeeper: Option<KubeDbManifestOptions>,
    /// A SingleStore's manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub singlestore: Option<KubeDbManifestOptions>,
    /// A ClickHouse's manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clickhouse: Option<KubeDbManifestOptions>,
    /// An MSSQLServer's manifests.
    #[serde(
        rename = "msSQLServer",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub mssqlserver: Option<MsSqlServerManifestOptions>,
    /// A Druid's manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub druid: Option<DruidManifestOptions>,
    /// A RedisSentinel's manifests.
    #[serde(
        rename = "redisSentinel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub redis_sentinel: Option<RedisSentinelManifestOptions>,
}

/// Where a workload's manifests are restored.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadManifestOptions {
    /// Namespace to restore into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_namespace: Option<String>,
}

/// Which parts of a KubeDB database's manifests to restore.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubeDbManifestOptions {
    /// Namespace to restore into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_namespace: Option<String>,
    /// Restore the database object.
    #[serde(default = "yes")]
    pub db: bool,
    /// New name of the database object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_name: Option<String>,
    /// Restore the auth Secret.
    #[serde(default = "yes")]
    pub auth_secret: bool,
    /// New name of the auth Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_secret_name: Option<String>,
    /// Restore the archiver reference.
    #[serde(default)]
    pub archiver: bool,
    /// Archiver to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archiver_ref: Option<ObjectReference>,
    /// Restore the config Secret.
    #[serde(default = "yes")]
    pub config_secret: bool,
    /// New name of the config Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_secret_name: Option<String>,
    /// Restore the init script.
    #[serde(default = "yes")]
    pub init_script: bool,
    /// TLS issuer to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_issuer_ref: Option<TypedLocalObjectReference>,
}

impl Default for KubeDbManifestOptions {
    fn default() -> Self {
        Self {
            restore_namespace: None,
            db: true,
            db_name: None,
            auth_secret: true,
            auth_secret_name: None,
            archiver: false,
            archiver_ref: None,
            config_secret: true,
            config_secret_name: None,
            init_script: true,
            tls_issuer_ref: None,
        }
    }
}

/// Which parts of an MSSQLServer's manifests to restore.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MsSqlServerManifestOptions {
    /// Namespace to restore into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_namespace: Option<String>,
    /// Restore the database object.
    #[serde(default = "yes")]
    pub db: bool,
    /// New name of the database object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_name: Option<String>,
    /// Restore the auth Secret.
    #[serde(default = "yes")]
    pub auth_secret: bool,
    /// New name of the auth Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_secret_name: Option<String>,
    /// Restore the init script.
    #[serde(default = "yes")]
    pub init_script: bool,
    /// Restore the archiver reference.
    #[serde(default)]
    pub archiver: bool,
    /// Archiver to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archiver_ref: Option<ObjectReference>,
    /// TLS issuer to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_issuer_ref: Option<TypedLocalObjectReference>,
}

/// Which parts of a Druid's manifests to restore.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DruidManifestOptions {
    /// Namespace to restore into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_namespace: Option<String>,
    /// Restore the database object.
    #[serde(default = "yes")]
    pub db: bool,
    /// New name of the database object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_name: Option<String>,
    /// Restore the auth Secret.
    #[serde(default = "yes")]
    pub auth_secret: bool,
    /// New name of the auth Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_secret_name: Option<String>,
    /// Restore the config Secret.
    #[serde(default = "yes")]
    pub config_secret: bool,
    /// New name of the config Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_secret_name: Option<String>,
    /// Restore the deep storage Secret.
    #[serde(default = "yes")]
    pub deep_storage_secret: bool,
}

/// Which parts of a RedisSentinel's manifests to restore.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedisSentinelManifestOptions {
    /// Namespace to restore into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_namespace: Option<String>,
    /// Restore the sentinel object.
    #[serde(default = "yes")]
    pub sentinel: bool,
    /// New name of the sentinel object (the JSON key is capitalised, as in KubeStash).
    #[serde(
        rename = "SentinelName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sentinel_name: Option<String>,
    /// Restore the auth Secret.
    #[serde(default = "yes")]
    pub auth_secret: bool,
    /// New name of the auth Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_secret_name: Option<String>,
    /// TLS issuer to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_issuer_ref: Option<TypedLocalObjectReference>,
}

fn yes() -> bool {
    true
}

/// Phase of a RestoreSession or of one of its components.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum RestorePhase {
    /// Not started.
    Pending,
    /// Restoring.
    Running,
    /// Failed.
    Failed,
    /// Done.
    Succeeded,
    /// The spec is invalid.
    Invalid,
    /// The state could not be determined.
    Unknown,
}

impl RestorePhase {
    /// Whether the restore has ended.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Failed | Self::Succeeded | Self::Invalid)
    }
}

/// Observed state of a RestoreSession.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSessionStatus {
    /// Phase of the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RestorePhase>,
    /// Whether the target exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_found: Option<bool>,
    /// How long the restore took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// When the restore times out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_deadline: Option<Time>,
    /// Number of components to restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_components: Option<i32>,
    /// Status per component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<BTreeMap<String, ComponentRestoreStatus>>,
    /// Hook phases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<HookStatus>,
    /// Whether the Snapshot, Addon and other dependencies exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<ResourceFoundStatus>>,
    /// Backups paused while the restore runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_backups: Option<Vec<TypedObjectReference>>,
    /// `ValidationPassed`, `RestoreExecutorEnsured`, `RestoreTargetFound`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Option<Vec<Condition>>,
}

/// Status of restoring one component.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentRestoreStatus {
    /// Phase of this component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RestorePhase>,
    /// Progress while running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<RestoreProgress>,
    /// How long it took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Progress of restoring one component.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreProgress {
    /// Seconds since the restore started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_elapsed: Option<String>,
    /// Percentage done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_done: Option<String>,
    /// Files to restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_files: Option<i64>,
    /// Files restored so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files_done: Option<i64>,
    /// Bytes restored so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_done: Option<String>,
    /// Bytes to restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
    /// Current speed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<String>,
}
