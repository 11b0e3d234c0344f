//! Snapshot: its phase from its components and conditions (KubeStash's rule in
//! `snapshot_helpers.go`), and with `deletionPolicy: WipeOut` a finalizer that removes the
//! restic snapshot and the backend copy before the object goes.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use kube::runtime::controller::Action;
use kube::{Api, Client, ResourceExt};
use kubestash::api::storage::{Repository, RepositoryDeletionPolicy, Snapshot, SnapshotPhase};
use kubestash::naming;
use serde_json::json;

use super::{job_outcome, managed_labels, Context};
use crate::backend;
use crate::jobs::{self, JobSpec};
use crate::util;
use crate::Result;

/// Set on a Snapshot whose backend data is already gone (retention wipes before deleting),
/// so its finalizer is released without a second cleanup.
pub const WIPED_ANNOTATION: &str = "kubestash.com/backend-wiped";

fn has_finalizer(snapshot: &Snapshot) -> bool {
    util::has_cleanup_finalizer(snapshot)
}

/// Removes the cleanup finalizer.
pub async fn release(client: &Client, snapshot: &Snapshot) -> Result<()> {
    let api: Api<Snapshot> =
        Api::namespaced(client.clone(), &snapshot.namespace().unwrap_or_default());
    util::remove_cleanup_finalizer(&api, snapshot).await
}

/// The Job that cleans a Snapshot on a volume backend.
pub fn wipe_job_name(snapshot: &str) -> String {
    naming::valid_name("wipe", snapshot, "")
}

/// The WipeOut cleanup of a deleted Snapshot: in this process for cloud backends, through a
/// Job that mounts the volume otherwise. Released without cleanup when the Repository is gone
/// or itself being deleted (its own deletionPolicy decides about the data then).
async fn cleanup(snapshot: &Snapshot, ctx: &Context) -> Result<Action> {
    let client = &ctx.client;
    let namespace = snapshot.namespace().unwrap_or_default();
    if snapshot.annotations().contains_key(WIPED_ANNOTATION) {
        release(client, snapshot).await?;
        return Ok(Action::await_change());
    }
    let repositories: Api<Repository> = Api::namespaced(client.clone(), &namespace);
    let repository = util::get_opt(&repositories, &snapshot.spec.repository).await?;
    let Some(repository) = repository.filter(|r| r.metadata.deletion_timestamp.is_none()) else {
        release(client, snapshot).await?;
        return Ok(Action::await_change());
    };
    let storage = match backend::repository_storage(client, &repository).await {
        Ok(storage) => storage,
        Err(error) => {
            tracing::warn!(snapshot = %snapshot.name_any(), %error, "no storage to clean; releasing");
            release(client, snapshot).await?;
            return Ok(Action::await_change());
        }
    };
    if !backend::is_local(&storage) {
        crate::executor::wipe_snapshots(client, &repository, std::slice::from_ref(snapshot))
            .await?;
        release(client, snapshot).await?;
        return Ok(Action::await_change());
    }
    let job_name = wipe_job_name(&snapshot.name_any());
    let jobs_api: Api<Job> = Api::namespaced(client.clone(), &namespace);
    let job = match util::get_opt(&jobs_api, &job_name).await? {
        Some(job) => job,
        None => {
            let account = ctx.ensure_executor_account(&namespace).await?;
            let base = JobSpec {
                name: job_name.clone(),
                namespace: namespace.clone(),
                labels: managed_labels(&[]),
                image: ctx.options.image.clone(),
                args: vec![
                    "executor".into(),
                    "wipe-snapshot".into(),
                    format!("--namespace={namespace}"),
                    format!("--snapshot={}", snapshot.name_any()),
                ],
                service_account: Some(account),
                ..JobSpec::default()
            };
            let job = jobs::storage_job(&storage, base, 1, 600)
                .ok_or_else(|| crate::Error::msg("spec.storage.local is missing"))?;
            ctx.ensure_job(&job).await?
        }
    };
    match job_outcome(&job) {
        // The executor released the finalizer; this covers a release that did not land.
        Some(Ok(())) => {
            release(client, snapshot).await?;
            Ok(Action::await_change())
        }
        Some(Err(reason)) => {
            let logs = super::job_log_tail(client, &job, 3)
                .await
                .unwrap_or_default();
            tracing::warn!(snapshot = %snapshot.name_any(), %reason, %logs, "WipeOut cleanup failed; retrying");
            let _ = jobs_api
                .delete(&job_name, &kube::api::DeleteParams::background())
                .await;
            Ok(Action::requeue(Duration::from_secs(30)))
        }
        None => Ok(Action::requeue(Duration::from_secs(2))),
    }
}

/// The phase of a Snapshot: Failed when metadata upload or the recent-list update failed or
/// the backup is incomplete; Pending without components; Failed when a component failed;
/// Succeeded when all `totalComponents` succeeded and the metadata is uploaded; Running
/// otherwise.
pub fn snapshot_phase(snapshot: &Snapshot) -> SnapshotPhase {
    let Some(status) = &snapshot.status else {
        return SnapshotPhase::Pending;
    };
    let conditions = status.conditions.as_ref();
    let failed_condition = util::find(conditions, "SnapshotMetadataUploaded")
        .is_some_and(|c| c.status == "False")
        || util::find(conditions, "RecentSnapshotListUpdated").is_some_and(|c| c.status == "False")
        || util::is_true(conditions, "BackupIncomplete");
    if failed_condition {
        return SnapshotPhase::Failed;
    }
    let components = status.components.clone().unwrap_or_default();
    if components.is_empty() {
        return SnapshotPhase::Pending;
    }
    if components
        .values()
        .any(|c| c.phase == Some(SnapshotPhase::Failed))
    {
        return SnapshotPhase::Failed;
    }
    let total = status
        .total_components
        .unwrap_or(components.len() as i32)
        .max(1) as usize;
    let succeeded = components
        .values()
        .filter(|c| c.phase == Some(SnapshotPhase::Succeeded))
        .count();
    // KubeStash's rule: not Succeeded before the copy of the Snapshot is in the backend (a
    // failed component still fails it at once: the executor uploads only on success).
    if succeeded >= total && util::is_true(conditions, "SnapshotMetadataUploaded") {
        SnapshotPhase::Succeeded
    } else if components.values().any(|c| {
        c.phase == Some(SnapshotPhase::Running) || c.phase == Some(SnapshotPhase::Succeeded)
    }) {
        SnapshotPhase::Running
    } else {
        SnapshotPhase::Pending
    }
}

/// Runs the controller until `stop`.
pub async fn run(ctx: Arc<Context>, stop: tokio::sync::watch::Receiver<bool>) {
    let client = ctx.client.clone();
    let controller =
        super::metadata_controller(Api::<Snapshot>::all(client.clone()), super::watch_config())
            .with_config(super::controller_config())
            .graceful_shutdown_on(super::stopper(stop))
            .run(
                |object, ctx| async move {
                    let work = async {
                        match super::full::<Snapshot>(&ctx, &object).await? {
                            Some(snapshot) => reconcile(snapshot, ctx.clone()).await,
                            None => Ok(Action::await_change()),
                        }
                    };
                    super::timed(&ctx.clone(), "Snapshot", work).await
                },
                super::on_error,
                ctx.clone(),
            );
    super::drain(controller.boxed(), ctx).await;
}

async fn reconcile(snapshot: Arc<Snapshot>, ctx: Arc<Context>) -> Result<Action> {
    if snapshot.metadata.deletion_timestamp.is_some() {
        if has_finalizer(&snapshot) {
            return cleanup(&snapshot, &ctx).await;
        }
        return Ok(Action::await_change());
    }
    let api: Api<Snapshot> = Api::namespaced(
        ctx.client.clone(),
        &snapshot.namespace().unwrap_or_default(),
    );
    if snapshot.spec.deletion_policy == RepositoryDeletionPolicy::WipeOut {
        util::add_cleanup_finalizer(&api, snapshot.as_ref()).await?;
    } else {
        util::remove_cleanup_finalizer(&api, snapshot.as_ref()).await?;
    }
    let phase = snapshot_phase(&snapshot);
    let current = snapshot.status.as_ref().and_then(|s| s.phase);
    if current != Some(phase) {
        let api: Api<Snapshot> = Api::namespaced(
            ctx.client.clone(),
            &snapshot.namespace().unwrap_or_default(),
        );
        let components = snapshot
            .status
            .as_ref()
            .and_then(|s| s.components.clone())
            .unwrap_or_default();
        let size: u64 = components
            .values()
            .filter_map(|c| c.size.as_deref().and_then(util::parse_human_bytes))
            .sum();
        let integrity =
            !components.is_empty() && components.values().all(|c| c.integrity == Some(true));
        let mut status = json!({"phase": phase, "lastUpdateTime": util::now()});
        if matches!(phase, SnapshotPhase::Succeeded | SnapshotPhase::Failed) {
            status["size"] = json!(util::human_bytes(size));
            status["integrity"] = json!(integrity);
        }
        util::patch_status(&api, &snapshot.name_any(), status).await?;
    }
    Ok(Action::requeue(Duration::from_secs(600)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubestash::api::storage::{Component, SnapshotStatus};

    fn with(components: &[(&str, SnapshotPhase)], total: i32) -> Snapshot {
        let mut snapshot = Snapshot::new("s", Default::default());
        snapshot.status = Some(SnapshotStatus {
            total_components: Some(total),
            conditions: Some(vec![util::condition(
                "SnapshotMetadataUploaded",
                true,
                "SnapshotMetadataUploaded",
                "",
            )]),
            components: Some(
                components
                    .iter()
                    .map(|(name, phase)| {
                        (
                            name.to_string(),
                            Component {
                                phase: Some(*phase),
                                ..Default::default()
                            },
                        )
                    })
                    .collect(),
            ),
            ..Default::default()
        });
        snapshot
    }

    #[test]
    fn the_phase_follows_the_components() {
        assert_eq!(
            snapshot_phase(&Snapshot::new("s", Default::default())),
            SnapshotPhase::Pending
        );
        assert_eq!(
            snapshot_phase(&with(&[("dump", SnapshotPhase::Succeeded)], 1)),
            SnapshotPhase::Succeeded
        );
        assert_eq!(
            snapshot_phase(&with(&[("pod-0", SnapshotPhase::Succeeded)], 2)),
            SnapshotPhase::Running
        );
        assert_eq!(
            snapshot_phase(&with(
                &[
                    ("pod-0", SnapshotPhase::Succeeded),
                    ("pod-1", SnapshotPhase::Failed)
                ],
                2
            )),
            SnapshotPhase::Failed
        );
        assert_eq!(
            snapshot_phase(&with(&[("dump", SnapshotPhase::Running)], 1)),
            SnapshotPhase::Running
        );
        // Every component done, the copy not yet in the backend.
        let mut pending_upload = with(&[("dump", SnapshotPhase::Succeeded)], 1);
        pending_upload.status.as_mut().unwrap().conditions = None;
        assert_eq!(snapshot_phase(&pending_upload), SnapshotPhase::Running);
        let mut failed_upload = with(&[("dump", SnapshotPhase::Succeeded)], 1);
        failed_upload.status.as_mut().unwrap().conditions = Some(vec![util::condition(
            "SnapshotMetadataUploaded",
            false,
            "SnapshotMetadataUploadFailed",
            "denied",
        )]);
        assert_eq!(snapshot_phase(&failed_upload), SnapshotPhase::Failed);
    }
}
