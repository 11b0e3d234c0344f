//! `executor retention`: after a successful session, each repository's RetentionPolicy
//! decides which Snapshots stay; the others are forgotten in restic (then pruned), their
//! backend copies removed and their objects deleted.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kube::api::DeleteParams;
use kube::{Api, Client, ResourceExt};
use kubestash::api::core::BackupSession;
use kubestash::api::storage::{Component, Repository, RetentionPolicy, Snapshot, SnapshotPhase};
use kubestash::engine::layout;
use kubestash::engine::retention::{select_failed, select_successful};
use serde_json::json;

use crate::backend;
use crate::controllers::snapshot::snapshot_phase;
use crate::util;
use crate::{Error, Result};

/// Applies `policy` to the Snapshots of `repository`. Returns the names removed.
pub async fn apply_retention(
    client: &Client,
    repository: &Repository,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let namespace = repository.namespace().unwrap_or_default();
    let api: Api<Snapshot> = Api::namespaced(client.clone(), &namespace);
    let snapshots: Vec<Snapshot> = api
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .filter(|s| s.spec.repository == repository.name_any())
        .collect();
    let dated = |s: &Snapshot| -> (Snapshot, DateTime<Utc>) {
        let time = s
            .status
            .as_ref()
            .and_then(|st| st.snapshot_time.clone())
            .or(s.metadata.creation_timestamp.clone())
            .map(|t| util::to_chrono(&t))
            .unwrap_or(now);
        (s.clone(), time)
    };
    let succeeded: Vec<(Snapshot, DateTime<Utc>)> = snapshots
        .iter()
        .filter(|s| snapshot_phase(s) == SnapshotPhase::Succeeded)
        .map(dated)
        .collect();
    let failed: Vec<(Snapshot, DateTime<Utc>)> = snapshots
        .iter()
        .filter(|s| snapshot_phase(s) == SnapshotPhase::Failed)
        .map(dated)
        .collect();
    let mut forget: Vec<Snapshot> = select_successful(&succeeded, &policy.spec, now)
        .forget
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    forget.extend(
        select_failed(&failed, &policy.spec)
            .forget
            .into_iter()
            .map(|(s, _)| s),
    );
    if forget.is_empty() {
        return Ok(Vec::new());
    }
    wipe_snapshots(client, repository, &forget).await?;
    let names: Vec<String> = forget.iter().map(|s| s.name_any()).collect();
    for name in &names {
        // Already wiped: a WipeOut finalizer is released without a second cleanup.
        let mark = json!({"metadata": {"annotations": {crate::controllers::snapshot::WIPED_ANNOTATION: "true"}}});
        match util::patch_merge(&api, name, mark).await {
            Ok(_) => {}
            Err(crate::Error::Kube(kube::Error::Api(status))) if status.code == 404 => continue,
            Err(error) => return Err(error),
        }
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(names)
}

/// Removes what these Snapshot objects recorded from the backend: their restic snapshots
/// (forgotten, then the repository pruned) and their copies under `<directory>/snapshots/`.
/// Ids already gone from the repository are skipped, so a retry is harmless.
pub async fn wipe_snapshots(
    client: &Client,
    repository: &Repository,
    snapshots: &[Snapshot],
) -> Result<()> {
    let by_path = recorded_ids(snapshots);
    for (path, ids) in by_path {
        if ids.is_empty() {
            continue;
        }
        let engine = backend::component_repository(client, repository, &path, None).await?;
        backend::blocking(move || {
            if !engine.exists()? {
                return Ok(());
            }
            let present = present(&engine, &ids)?;
            if !present.is_empty() {
                engine.forget(&present)?;
                engine.prune()?;
            }
            Ok(())
        })
        .await?;
    }
    let storage = backend::repository_storage(client, repository).await?;
    let store = backend::storage_location(client, &storage).await?.store()?;
    let directory = repository.spec.path.clone();
    let names: Vec<String> = snapshots.iter().map(|s| s.name_any()).collect();
    backend::blocking(move || {
        for name in &names {
            layout::delete_snapshot(&store, &directory, name)?;
        }
        Ok(())
    })
    .await
}

/// `executor wipe-snapshot`: the WipeOut cleanup of a deleted Snapshot, then its finalizer
/// is released.
pub async fn wipe_snapshot(client: &Client, namespace: &str, name: &str) -> Result<()> {
    let api: Api<Snapshot> = Api::namespaced(client.clone(), namespace);
    let Some(snapshot) = util::get_opt(&api, name).await? else {
        return Ok(());
    };
    let repositories: Api<Repository> = Api::namespaced(client.clone(), namespace);
    if let Some(repository) = util::get_opt(&repositories, &snapshot.spec.repository).await? {
        wipe_snapshots(client, &repository, std::slice::from_ref(&snapshot)).await?;
    }
    crate::controllers::snapshot::release(client, &snapshot).await
}

/// Applies the retention policies of every repository of a session and records the outcome
/// in `status.retentionPolicy`.
pub async fn retention(client: &Client, namespace: &str, backup_session: &str) -> Result<()> {
    let sessions: Api<BackupSession> = Api::namespaced(client.clone(), namespace);
    let session = util::get_opt(&sessions, backup_session)
        .await?
        .ok_or_else(|| {
            Error::msg(format!(
                "BackupSession `{namespace}/{backup_session}` not found"
            ))
        })?;
    let invoker = session
        .spec
        .invoker
        .clone()
        .ok_or_else(|| Error::msg("spec.invoker is missing"))?;
    let configuration =
        crate::invoker::Invoker::fetch(client, namespace, &invoker.kind, &invoker.name)
            .await?
            .map_err(Error::msg)?;
    let session_name = session.spec.session.clone().unwrap_or_default();
    let config = configuration
        .session(&session_name)
        .cloned()
        .ok_or_else(|| Error::msg(format!("session `{session_name}` not found")))?;
    let repositories: Api<Repository> = Api::namespaced(client.clone(), namespace);
    let mut statuses = Vec::new();
    let mut errors = Vec::new();
    for info in config.repositories() {
        let Some(reference) = configuration
            .backend_of(info)
            .and_then(|b| b.retention_policy.clone())
        else {
            continue;
        };
        let policy_namespace = reference.namespace_or(namespace).to_string();
        let result: Result<Vec<String>> = async {
            let policies: Api<RetentionPolicy> = Api::namespaced(client.clone(), &policy_namespace);
            let policy = util::get_opt(&policies, &reference.name)
                .await?
                .ok_or_else(|| {
                    Error::msg(format!(
                        "RetentionPolicy `{policy_namespace}/{}` not found",
                        reference.name
                    ))
                })?;
            let repository = repositories.get(&info.name).await?;
            apply_retention(client, &repository, &policy, Utc::now()).await
        }
        .await;
        let mut entry = json!({
            "ref": {"namespace": policy_namespace, "name": reference.name},
            "repository": info.name,
        });
        match result {
            Ok(removed) => {
                eprintln!(
                    "retention of Repository `{}`: {} snapshot(s) removed",
                    info.name,
                    removed.len()
                );
                entry["phase"] = json!("Applied");
            }
            Err(error) => {
                let message = format!("Repository `{}`: {error}", info.name);
                entry["phase"] = json!("FailedToApply");
                entry["error"] = json!(message);
                errors.push(message);
            }
        }
        statuses.push(entry);
    }
    util::patch_status(
        &sessions,
        backup_session,
        json!({"retentionPolicy": statuses}),
    )
    .await?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::msg(errors.join("; ")))
    }
}

/// The restic snapshot ids a component records. Only ids of 8 hex digits or more (restic's
/// short form) count: an empty or edited one would match, and forget, every snapshot of the
/// repository.
pub(crate) fn component_ids(component: &Component) -> Vec<String> {
    component
        .restic_stats
        .iter()
        .flatten()
        .filter_map(|s| s.summary.as_ref().and_then(|s| s.id.clone()))
        .filter(|id| id.len() >= 8 && id.chars().all(|c| c.is_ascii_hexdigit()))
        .collect()
}

/// The full ids of the restic snapshots of `engine` that `recorded` names (by prefix).
pub(crate) fn present(
    engine: &kubestash::engine::ComponentRepository,
    recorded: &[String],
) -> std::result::Result<Vec<String>, kubestash::engine::EngineError> {
    Ok(engine
        .snapshots(&[])?
        .into_iter()
        .map(|s| s.id)
        .filter(|id| recorded.iter().any(|r| id.starts_with(r.as_str())))
        .collect())
}

/// The restic snapshot ids the Snapshots record ([`component_ids`]), per component repository.
fn recorded_ids(snapshots: &[Snapshot]) -> BTreeMap<String, Vec<String>> {
    let mut by_path: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for snapshot in snapshots {
        for component in snapshot
            .status
            .as_ref()
            .and_then(|s| s.components.clone())
            .unwrap_or_default()
            .into_values()
        {
            let Some(path) = component.path.clone() else {
                continue;
            };
            by_path
                .entry(path)
                .or_default()
                .extend(component_ids(&component));
        }
    }
    by_path
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_real_ids_select_restic_snapshots() {
        let snapshot: kubestash::api::storage::Snapshot =
            serde_json::from_value(serde_json::json!({
                "apiVersion": "storage.kubestash.com/v1alpha1",
                "kind": "Snapshot",
                "metadata": {"name": "s", "namespace": "demo"},
                "spec": {"repository": "r"},
                "status": {"components": {
                    "dump": {"path": "repository/v1/daily/dump", "resticStats": [
                        {"summary": {"id": ""}},
                        {"summary": {"id": "abc"}},
                        {"summary": {"id": "not-hex-at-all"}},
                        {"summary": {"id": "0123abcd"}},
                    ]},
                }},
            }))
            .unwrap();
        let ids = super::recorded_ids(&[snapshot]);
        assert_eq!(
            ids["repository/v1/daily/dump"],
            vec!["0123abcd".to_string()]
        );
    }
}
