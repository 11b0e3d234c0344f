//! Snapshot: its phase from its components and conditions (KubeStash's rule in
//! `snapshot_helpers.go`).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::runtime::controller::Action;
use kube::runtime::{watcher, Controller};
use kube::{Api, ResourceExt};
use kubestash::api::storage::{Snapshot, SnapshotPhase};
use serde_json::json;

use super::Context;
use crate::util;
use crate::Result;

/// The phase of a Snapshot: Failed when metadata upload or the recent-list update failed or
/// the backup is incomplete; Pending without components; Failed when a component failed;
/// Succeeded when all `totalComponents` succeeded; Running otherwise.
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
    if succeeded >= total {
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
    let controller = Controller::new(
        Api::<Snapshot>::all(client.clone()),
        watcher::Config::default(),
    )
    .graceful_shutdown_on(super::stopper(stop))
    .run(
        |object, ctx| async move {
            super::timed(&ctx.clone(), "Snapshot", reconcile(object, ctx)).await
        },
        super::on_error,
        ctx.clone(),
    );
    super::drain(controller.boxed(), ctx).await;
}

async fn reconcile(snapshot: Arc<Snapshot>, ctx: Arc<Context>) -> Result<Action> {
    if snapshot.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
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
    }
}
