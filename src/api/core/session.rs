//! Sub-structs shared by BackupConfiguration, BackupBatch, BackupBlueprint and RestoreSession:
//! sessions, schedulers, hooks, addon/task references and their status entries.

use k8s_openapi::api::core::v1 as core;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{
    conditions_schema, free_form_object, Condition, ContainerRuntimeSettings, ObjectReference,
    Parameters, PodTemplateSpec, RuntimeSettings, VolumeSource,
};

/// A backend a configuration writes to: a BackupStorage plus the RetentionPolicy applied there.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackendReference {
    /// Name of the backend, referenced by `sessions[].repositories[].backend`; unique.
    #[serde(default)]
    pub name: String,
    /// The BackupStorage; the namespace default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_ref: Option<ObjectReference>,
    /// The RetentionPolicy; the namespace default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_policy: Option<ObjectReference>,
}

/// Settings shared by every kind of backup session.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionConfig {
    /// Name of the session; unique within the configuration.
    #[serde(default)]
    pub name: String,
    /// When the session runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<SchedulerSpec>,
    /// Hooks run before and after the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<BackupHooks>,
    /// How a failed backup is retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_config: Option<RetryConfig>,
    /// Maximum duration of one backup, e.g. `2h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_timeout: Option<String>,
    /// How many finished BackupSessions to keep.
    #[serde(default = "one")]
    pub session_history_limit: i32,
}

/// One session of a BackupConfiguration (or BackupBlueprint template).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Session settings.
    #[serde(flatten)]
    pub config: SessionConfig,
    /// The Addon and task that back the target up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon: Option<AddonInfo>,
    /// Repositories the session writes to; at least one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repositories: Option<Vec<RepositoryInfo>>,
}

/// The CronJob settings of a session.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchedulerSpec {
    /// Cron schedule in the Kubernetes CronJob form, e.g. `30 2 * * *` or `@daily`.
    pub schedule: String,
    /// Deadline in seconds for starting a missed run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_deadline_seconds: Option<i64>,
    /// `Allow`, `Forbid` or `Replace` concurrent runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_policy: Option<ConcurrencyPolicy>,
    /// Suspend future runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Successful trigger Jobs to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful_jobs_history_limit: Option<i32>,
    /// Failed trigger Jobs to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_jobs_history_limit: Option<i32>,
    /// Settings of the Job the CronJob creates.
    pub job_template: JobTemplate,
}

/// How a CronJob treats concurrent runs.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ConcurrencyPolicy {
    /// Runs may overlap.
    Allow,
    /// A run is skipped while the previous one is active.
    Forbid,
    /// A new run replaces the active one.
    Replace,
}

/// Job settings of a scheduler (offshoot `JobTemplateSpec`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobTemplate {
    /// Pods running at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<i32>,
    /// Successful pods needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completions: Option<i32>,
    /// Deadline of the Job in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<i64>,
    /// Retries before the Job is marked failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_limit: Option<i32>,
    /// Pod template of the Job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<PodTemplateSpec>,
    /// Seconds after which a finished Job is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds_after_finished: Option<i32>,
    /// `NonIndexed` or `Indexed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_mode: Option<String>,
    /// Create the Job suspended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

/// Hooks of a backup session.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupHooks {
    /// Hooks run before the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_backup: Option<Vec<HookInfo>>,
    /// Hooks run after the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_backup: Option<Vec<HookInfo>>,
}

/// One hook: a HookTemplate with parameters.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookInfo {
    /// Name of the hook.
    #[serde(default)]
    pub name: String,
    /// The HookTemplate to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_template: Option<ObjectReference>,
    /// Parameters for the template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub params: Option<Parameters>,
    /// Retries after a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retry: Option<i32>,
    /// Timeout of one run, e.g. `30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// When the hook runs: `Always`, `OnSuccess` or `OnFailure`.
    #[serde(default)]
    pub execution_policy: HookExecutionPolicy,
    /// Environment for Function executors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<core::EnvVar>>,
    /// Volumes for Function executors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<core::Volume>>,
    /// Volume mounts for Function executors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Vec<core::VolumeMount>>,
    /// Runtime settings for Function executors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_settings: Option<RuntimeSettings>,
}

/// When a post hook runs.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum HookExecutionPolicy {
    /// After every backup or restore.
    #[default]
    Always,
    /// Only after a success.
    OnSuccess,
    /// Only after a failure.
    OnFailure,
}

/// How failed backups are retried.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetryConfig {
    /// Maximum retries (at least 1).
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    pub max_retry: i32,
    /// Delay between retries, e.g. `30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<String>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retry: 1,
            delay: None,
        }
    }
}

/// The Addon and tasks that do the work.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddonInfo {
    /// Addon name, e.g. `workload-addon`.
    #[serde(default)]
    pub name: String,
    /// Tasks of the Addon to run; at least one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<TaskReference>>,
    /// Runtime settings of the task containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_runtime_settings: Option<ContainerRuntimeSettings>,
    /// Pod template of the task Jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_template: Option<PodTemplateSpec>,
}

/// One task of an Addon with its inputs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskReference {
    /// Task name, e.g. `logical-backup`.
    #[serde(default)]
    pub name: String,
    /// Extra environment variables of the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<core::EnvVar>>,
    /// Parameters, substituted for `${name}` in the Function arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub params: Option<Parameters>,
    /// Target volumes to mount into the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_volumes: Option<TargetVolumeInfo>,
    /// Overrides of the Addon's volume templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon_volumes: Option<Vec<AddonVolumeInfo>>,
}

/// The target's volumes a task mounts.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetVolumeInfo {
    /// Volumes of the task pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<core::Volume>>,
    /// Where the volumes are mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Vec<core::VolumeMount>>,
    /// Claims to create for the restore target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_claim_templates: Option<Vec<core::PersistentVolumeClaim>>,
}

/// An override of an Addon volume template.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddonVolumeInfo {
    /// Name of the Addon's volume template.
    #[serde(default)]
    pub name: String,
    /// The volume to use instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<VolumeSource>,
}

/// A repository a session writes to.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryInfo {
    /// Name of the Repository object; unique.
    #[serde(default)]
    pub name: String,
    /// Name of the backend (`backends[].name`); the default backend when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// Directory in the backend; becomes the Repository's `spec.path`.
    #[serde(default)]
    pub directory: String,
    /// Secret whose `RESTIC_PASSWORD` key encrypts the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_secret: Option<ObjectReference>,
    /// BackupVerifier that checks new snapshots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_verifier: Option<ObjectReference>,
    /// What happens to the data when the Repository is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
}

/// What happens to data when its owner is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Delete the object, keep the data.
    Delete,
    /// Delete the object and the data.
    WipeOut,
    /// Keep both.
    Retain,
}

/// Status of one backend of a configuration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackendStatus {
    /// Backend name.
    #[serde(default)]
    pub name: String,
    /// Whether the storage and retention policy are usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    /// State of the BackupStorage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageStatus>,
    /// State of the RetentionPolicy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_policy: Option<RetentionPolicyStatus>,
}

/// State of a referenced BackupStorage.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorageStatus {
    /// The BackupStorage.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ObjectReference>,
    /// Its phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Why it is not usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// State of a referenced RetentionPolicy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPolicyStatus {
    /// The RetentionPolicy.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ObjectReference>,
    /// Whether it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<bool>,
    /// Why it is not usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Status of one repository of a configuration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryStatusEntry {
    /// Repository name.
    #[serde(default)]
    pub name: String,
    /// Its phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<crate::api::storage::RepositoryPhase>,
    /// Why it is not ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether a BackupVerifier is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_configured: Option<bool>,
}

/// Whether a referenced object exists.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceFoundStatus {
    /// API group of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// Kind of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the object.
    #[serde(default)]
    pub name: String,
    /// Whether it was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<bool>,
}

/// Status of one session of a configuration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus {
    /// Session name.
    #[serde(default)]
    pub name: String,
    /// Next scheduled run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_schedule: Option<String>,
    /// Conditions of the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Option<Vec<Condition>>,
}

/// Phase of a BackupConfiguration or BackupBatch.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum BackupInvokerPhase {
    /// Waiting for a dependency.
    NotReady,
    /// Scheduled.
    Ready,
    /// The spec is invalid; see the conditions.
    Invalid,
}

/// Phase of one hook run.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum HookPhase {
    /// Ran successfully.
    Succeeded,
    /// Failed.
    Failed,
    /// Not run yet.
    Pending,
}

/// Phase of one hook.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookExecutionStatus {
    /// Hook name.
    #[serde(default)]
    pub name: String,
    /// Its phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<HookPhase>,
}

/// Phases of the hooks of a session.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookStatus {
    /// Pre hooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_hooks: Option<Vec<HookExecutionStatus>>,
    /// Post hooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_hooks: Option<Vec<HookExecutionStatus>>,
}

fn one() -> i32 {
    1
}
