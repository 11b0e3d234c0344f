//! Repository: status from its Snapshots (count, size, last backup, recent snapshots,
//! component paths, integrity). `repository.yaml` is written when its storage syncs. With
//! `deletionPolicy: WipeOut` a finalizer removes the repository's directory from the backend
//! before the object goes.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Api, ResourceExt};
use kubestash::api::storage::{Repository, RepositoryDeletionPolicy, Snapshot, SnapshotPhase};
use serde_json::{json, Value};

use super::snapshot::snapshot_phase;
use super::Context;
use crate::util;
use crate::{Error, Result};

/// How many snapshots `status.recentSnapshots` lists.
const RECENT: usize = 5;

/// Runs the controller until `stop`.
pub async fn run(ctx: Arc<Context>, stop: tokio::sync::watch::Receiver<bool>) {
    let client = ctx.client.clone();
    let controller = super::metadata_controller(
        Api::<Repository>::all(client.clone()),
        super::watch_config(),
    )
    .watches(
        Api::<Snapshot>::all(client.clone()),
        super::watch_config(),
        |snapshot| {
            Some(
                ObjectRef::new(&snapshot.spec.repository)
                    .within(&snapshot.namespace().unwrap_or_default()),
            )
        },
    )
    .with_config(super::controller_config())
    .graceful_shutdown_on(super::stopper(stop))
    .run(
        |object, ctx| async move {
            let work = async {
                match super::full::<Repository>(&ctx, &object).await? {
                    Some(repository) => reconcile(repository, ctx.clone()).await,
                    None => Ok(Action::await_change()),
                }
            };
            super::timed(&ctx.clone(), "Repository", work).await
        },
        super::on_error,
        ctx.clone(),
    );
    super::drain(controller.boxed(), ctx).await;
}

/// The WipeOut cleanup of a deleted Repository: its directory in the backend goes.
async fn wipe(repository: &Repository, ctx: &Context) -> Result<Action> {
    let namespace = repository.namespace().unwrap_or_default();
    let api: Api<Repository> = Api::namespaced(ctx.client.clone(), &namespace);
    let storage = match crate::backend::repository_storage(&ctx.client, repository).await {
        Ok(storage) if storage.metadata.deletion_timestamp.is_none() => storage,
        // The API server did not answer: not a reason to keep the data.
        Err(Error::Kube(error)) => return Err(Error::Kube(error)),
        // The storage is gone or going: its own deletionPolicy decides about the data.
        _ => {
            util::remove_cleanup_finalizer(&api, repository).await?;
            return Ok(Action::await_change());
        }
    };
    if let Some(why) = wipe_refused(ctx, repository, &storage).await? {
        tracing::warn!(
            repository = %format!("{namespace}/{}", repository.name_any()),
            %why,
            "WipeOut skipped, the data stays in the backend"
        );
        util::remove_cleanup_finalizer(&api, repository).await?;
        return Ok(Action::await_change());
    }
    let job = kubestash::naming::valid_name(
        "wipe",
        &format!("{namespace}-{}", repository.name_any()),
        "",
    );
    if super::wipe::wipe_directory(ctx, &storage, &repository.spec.path, &job).await? {
        util::remove_cleanup_finalizer(&api, repository).await?;
        Ok(Action::await_change())
    } else {
        Ok(Action::requeue(Duration::from_secs(2)))
    }
}

/// Why a Repository's WipeOut must leave its directory alone: the directory is not one below
/// the storage's root (an old object from before validation refused such paths), the
/// storage's usage policy does not admit the Repository's namespace (its directory may be
/// another namespace's), or another Repository uses that directory or one inside or around
/// it.
async fn wipe_refused(
    ctx: &Context,
    repository: &Repository,
    storage: &kubestash::api::storage::BackupStorage,
) -> Result<Option<String>> {
    use kubestash::engine::location::clean_prefix;
    let directory = clean_prefix(&repository.spec.path);
    if directory.is_empty() || directory.split('/').any(|part| part == "..") {
        return Ok(Some(format!(
            "spec.path `{}` does not name a directory below the storage's root",
            repository.spec.path
        )));
    }
    let namespace = repository.namespace().unwrap_or_default();
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(ctx.client.clone());
    let labels = namespaces
        .get_opt(&namespace)
        .await?
        .and_then(|found| found.metadata.labels)
        .unwrap_or_default();
    if let Some(denied) = crate::backend::usage_denied(storage, &namespace, &labels) {
        return Ok(Some(denied));
    }
    let within =
        |inner: &str, outer: &str| inner == outer || inner.starts_with(&format!("{outer}/"));
    let all: Api<Repository> = Api::all(ctx.client.clone());
    for other in util::list_all(&all, &Default::default()).await? {
        if other.metadata.uid == repository.metadata.uid
            || !crate::backend::uses_storage(&other, storage)
        {
            continue;
        }
        let theirs = clean_prefix(&other.spec.path);
        if within(&theirs, &directory) || within(&directory, &theirs) {
            return Ok(Some(format!(
                "Repository `{}/{}` uses directory `{theirs}` of the same storage",
                other.namespace().unwrap_or_default(),
                other.name_any()
            )));
        }
    }
    Ok(None)
}

async fn reconcile(repository: Arc<Repository>, ctx: Arc<Context>) -> Result<Action> {
    if repository.metadata.deletion_timestamp.is_some() {
        if util::has_cleanup_finalizer(repository.as_ref()) {
            return wipe(&repository, &ctx).await;
        }
        return Ok(Action::await_change());
    }
    let namespace = repository.namespace().unwrap_or_default();
    let name = repository.name_any();
    let api: Api<Repository> = Api::namespaced(ctx.client.clone(), &namespace);
    if repository.spec.deletion_policy == RepositoryDeletionPolicy::WipeOut {
        util::add_cleanup_finalizer(&api, repository.as_ref()).await?;
    } else {
        util::remove_cleanup_finalizer(&api, repository.as_ref()).await?;
    }
    let snapshots_api: Api<Snapshot> = Api::namespaced(ctx.client.clone(), &namespace);
    let mut snapshots: Vec<Snapshot> = util::list_all(&snapshots_api, &Default::default())
        .await?
        .into_iter()
        .filter(|s| s.spec.repository == name)
        .collect();
    let time_of = |s: &Snapshot| {
        s.status
            .as_ref()
            .and_then(|st| st.snapshot_time.clone())
            .or(s.metadata.creation_timestamp.clone())
            .map(|t| t.0)
    };
    snapshots.sort_by_key(|s| std::cmp::Reverse(time_of(s)));
    let succeeded: Vec<&Snapshot> = snapshots
        .iter()
        .filter(|s| snapshot_phase(s) == SnapshotPhase::Succeeded)
        .collect();
    let last_backup = succeeded
        .first()
        .and_then(|s| s.status.as_ref())
        .and_then(|s| s.snapshot_time.clone());
    let size = succeeded
        .first()
        .and_then(|s| s.status.as_ref())
        .and_then(|s| s.size.clone());
    let integrity = succeeded
        .first()
        .and_then(|s| s.status.as_ref())
        .and_then(|s| s.integrity);
    let mut paths: Vec<String> = snapshots
        .iter()
        .flat_map(|s| {
            s.status
                .as_ref()
                .and_then(|st| st.components.clone())
                .unwrap_or_default()
                .into_values()
        })
        .filter_map(|c| c.path)
        .collect();
    paths.sort();
    paths.dedup();
    let recent: Vec<Value> = snapshots
        .iter()
        .take(RECENT)
        .map(|s| {
            json!({
                "name": s.name_any(),
                "phase": snapshot_phase(s),
                "session": s.spec.session,
                "size": s.status.as_ref().and_then(|st| st.size.clone()),
                "snapshotTime": s.status.as_ref().and_then(|st| st.snapshot_time.clone()),
            })
        })
        .collect();
    let status = json!({
        "snapshotCount": snapshots.len(),
        "lastBackupTime": last_backup,
        "size": size,
        "integrity": integrity,
        "recentSnapshots": recent,
        "componentPaths": paths,
    });
    let current = serde_json::to_value(repository.status.clone().unwrap_or_default())?;
    let differs = status
        .as_object()
        .expect("an object")
        .iter()
        .any(|(key, value)| {
            current.get(key).unwrap_or(&Value::Null) != value
                && !(value.is_null() && current.get(key).is_none())
        });
    if differs {
        let api: Api<Repository> = Api::namespaced(ctx.client.clone(), &namespace);
        util::patch_status(&api, &name, status).await?;
    }
    Ok(Action::requeue(Duration::from_secs(600)))
}
