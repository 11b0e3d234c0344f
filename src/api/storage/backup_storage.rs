//! BackupStorage: a bucket or volume that holds repositories, usable across namespaces.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{
    conditions_schema, Condition, RuntimeSettings, UsagePolicy, VolumeSource,
};

/// A bucket or volume that holds KubeStash repositories.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "storage.kubestash.com",
    version = "v1alpha1",
    kind = "BackupStorage",
    plural = "backupstorages",
    namespaced,
    status = "BackupStorageStatus",
    derive = "PartialEq",
    derive = "Default",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Provider","type":"string","jsonPath":".spec.storage.provider"}"#,
    printcolumn = r#"{"name":"Default","type":"boolean","jsonPath":".spec.default"}"#,
    printcolumn = r#"{"name":"Deletion-Policy","type":"string","jsonPath":".spec.deletionPolicy"}"#,
    printcolumn = r#"{"name":"Total-Size","type":"string","jsonPath":".status.totalSize"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct BackupStorageSpec {
    /// The backend: a provider and its settings.
    pub storage: Backend,
    /// Which namespaces may store backups here; `from: Same` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_policy: Option<crate::api::common::UsagePolicy>,
    /// Whether this is the namespace's default BackupStorage (at most one per namespace).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    /// `Delete` keeps the backend data when the object is deleted, `WipeOut` removes it.
    #[serde(default)]
    pub deletion_policy: BackupStorageDeletionPolicy,
    /// Settings for the initializer and cleaner jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_settings: Option<RuntimeSettings>,
}

impl BackupStorageSpec {
    /// The usage policy, with the webhook default (`Same`) applied.
    pub fn effective_usage_policy(&self) -> UsagePolicy {
        self.usage_policy.clone().unwrap_or_default()
    }
}

/// What happens to backend data when a BackupStorage is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum BackupStorageDeletionPolicy {
    /// Keep the data.
    #[default]
    Delete,
    /// Remove the data.
    WipeOut,
}

/// A storage backend (KubeStash `Backend`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Backend {
    /// Provider name: `s3`, `gcs`, `azure` or `local`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// S3 or S3-compatible settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Spec>,
    /// Google Cloud Storage settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs: Option<GcsSpec>,
    /// Azure Blob Storage settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureSpec>,
    /// A volume mounted into jobs (hostPath, NFS, PVC, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalSpec>,
}

/// The providers this project knows.
pub const PROVIDERS: [&str; 4] = ["s3", "gcs", "azure", "local"];

/// S3 or S3-compatible backend settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct S3Spec {
    /// Endpoint URL, e.g. `https://s3.amazonaws.com`.
    #[serde(default)]
    pub endpoint: String,
    /// Bucket name.
    #[serde(default)]
    pub bucket: String,
    /// Directory inside the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Region of the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Secret with `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`; empty means credential-less.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// Maximum parallel connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<i64>,
    /// Skip TLS certificate verification.
    #[serde(
        rename = "insecureTLS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub insecure_tls: Option<bool>,
}

/// Google Cloud Storage backend settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GcsSpec {
    /// Bucket name.
    #[serde(default)]
    pub bucket: String,
    /// Directory inside the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Maximum parallel connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<i64>,
    /// Secret with `GOOGLE_PROJECT_ID`/`GOOGLE_SERVICE_ACCOUNT_JSON_KEY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
}

/// Azure Blob Storage backend settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AzureSpec {
    /// Storage account name.
    #[serde(default)]
    pub storage_account: String,
    /// Container name.
    #[serde(default)]
    pub container: String,
    /// Directory inside the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Maximum parallel connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<i64>,
    /// Secret with `AZURE_ACCOUNT_KEY`; empty means credential-less.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
}

/// A volume backend: an inline volume source mounted at `mountPath` in jobs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalSpec {
    /// The volume.
    #[serde(flatten)]
    pub volume_source: VolumeSource,
    /// Where the volume is mounted in backup, restore and initializer jobs.
    #[serde(default)]
    pub mount_path: String,
    /// Sub-directory of the volume that is the backend root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
    /// Maximum parallel connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<i64>,
}

/// Observed state of a BackupStorage.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupStorageStatus {
    /// `Ready` once the backend is initialized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BackupStoragePhase>,
    /// Total size of the repositories, e.g. `12.222 MiB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_size: Option<String>,
    /// Repositories stored in this backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repositories: Option<Vec<RepositoryInfo>>,
    /// `BackendInitialized`, `BackendSecretFound`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Option<Vec<Condition>>,
}

/// Phase of a BackupStorage.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum BackupStoragePhase {
    /// The backend is initialized and usable.
    Ready,
    /// The backend is not usable yet; see the conditions.
    NotReady,
}

/// A repository as seen from its BackupStorage.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryInfo {
    /// Repository name.
    pub name: String,
    /// Repository namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Directory of the repository inside the backend.
    #[serde(default)]
    pub path: String,
    /// Size of the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Whether the Repository object was re-created from the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced: Option<bool>,
    /// Why the repository could not be synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
