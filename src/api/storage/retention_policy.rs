//! RetentionPolicy: how many snapshots to keep and for how long.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::UsagePolicy;

/// How many snapshots a repository keeps, applied after each backup.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "storage.kubestash.com",
    version = "v1alpha1",
    kind = "RetentionPolicy",
    plural = "retentionpolicies",
    namespaced,
    derive = "PartialEq",
    derive = "Default",
    category = "kubestash",
    category = "appscode",
    printcolumn = r#"{"name":"Max-Retention-Period","type":"string","jsonPath":".spec.maxRetentionPeriod"}"#,
    printcolumn = r#"{"name":"Default","type":"boolean","jsonPath":".spec.default"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPolicySpec {
    /// Snapshots older than this are removed, e.g. `30d` or `1y2mo3w4d5h6m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retention_period: Option<String>,
    /// Which namespaces may use this policy; `from: Same` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_policy: Option<UsagePolicy>,
    /// How many successful snapshots to keep per time bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful_snapshots: Option<SuccessfulSnapshotsKeepPolicy>,
    /// How many failed snapshots to keep; `last: 1` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_snapshots: Option<FailedSnapshotsKeepPolicy>,
    /// Whether this is the namespace's default RetentionPolicy (at most one per namespace).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
}

impl RetentionPolicySpec {
    /// The failed-snapshot policy with the webhook default (`last: 1`) applied.
    pub fn effective_failed_snapshots(&self) -> FailedSnapshotsKeepPolicy {
        self.failed_snapshots.clone().unwrap_or_default()
    }
}

/// Counts of successful snapshots to keep (restic's `--keep-*`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuccessfulSnapshotsKeepPolicy {
    /// Keep the last n snapshots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<i32>,
    /// Keep the last snapshot of each of the last n hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly: Option<i32>,
    /// Keep the last snapshot of each of the last n days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily: Option<i32>,
    /// Keep the last snapshot of each of the last n weeks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly: Option<i32>,
    /// Keep the last snapshot of each of the last n months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly: Option<i32>,
    /// Keep the last snapshot of each of the last n years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yearly: Option<i32>,
}

/// Count of failed snapshots to keep.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedSnapshotsKeepPolicy {
    /// Keep the last n failed snapshots.
    #[serde(default = "one")]
    pub last: i32,
}

impl Default for FailedSnapshotsKeepPolicy {
    fn default() -> Self {
        Self { last: 1 }
    }
}

fn one() -> i32 {
    1
}
