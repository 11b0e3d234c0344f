//! BackupStorage: checks its Secret, initializes the backend (`metadata.yaml`, and
//! `repository.yaml` of the Repositories using it) in-process for cloud backends and through
//! a short Job that mounts the volume for local ones, and keeps phase and conditions current.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Api, ResourceExt};
use kubestash::api::storage::{BackupStorage, BackupStorageStatus, Repository, RepositoryInfo};
use kubestash::engine::layout;
use kubestash::naming;
use serde_json::json;

use super::{job_log_tail, job_outcome, managed_labels, Context};
use crate::backend::{self, storage_secret_name};
use crate::jobs::{self, JobSpec};
use crate::util::{self, condition, set_condition};
use crate::{Result, LABEL_STORAGE};

/// Runs the controller until `stop`.
pub async fn run(ctx: Arc<Context>, stop: tokio::sync::watch::Receiver<bool>) {
    let client = ctx.client.clone();
    let controller = super::lean_controller(
        Api::<BackupStorage>::all(client.clone()),
        super::watch_config(),
    )
    .owns(
        Api::<Job>::all(client.clone()),
        super::watch_config().labels(LABEL_STORAGE),
    )
    .watches(
        Api::<Repository>::all(client.clone()),
        super::watch_config(),
        |repository| {
            let namespace = repository.namespace().unwrap_or_default();
            let reference = &repository.spec.storage_ref;
            Some(ObjectRef::new(&reference.name).within(reference.namespace_or(&namespace)))
        },
    )
    .with_config(super::controller_config())
    .graceful_shutdown_on(super::stopper(stop))
    .run(
        |storage, ctx| async move {
            super::timed(&ctx.clone(), "BackupStorage", reconcile(storage, ctx)).await
        },
        super::on_error,
        ctx.clone(),
    );
    super::drain(controller.boxed(), ctx).await;
}

/// The Repositories using `storage`, those on their way out included.
async fn repositories_using(ctx: &Context, storage: &BackupStorage) -> Result<Vec<Repository>> {
    let all: Api<Repository> = Api::all(ctx.client.clone());
    Ok(util::list_all(&all, &Default::default())
        .await?
        .into_iter()
        .filter(|r| backend::uses_storage(r, storage))
        .collect())
}

/// Of `repositories`, those with no `repository.yaml` yet.
fn uninitialized(repositories: &[Repository]) -> Vec<String> {
    let mut names: Vec<String> = repositories
        .iter()
        .filter(|r| {
            !util::is_true(
                r.status.as_ref().and_then(|s| s.conditions.as_ref()),
                "RepositoryInitialized",
            )
        })
        .map(|r| format!("{}/{}", r.namespace().unwrap_or_default(), r.name_any()))
        .collect();
    names.sort();
    names
}

/// `status.repositories` and `status.totalSize` as they stand now: one entry per Repository
/// using the storage, with the size its own status gives (the size the last sync measured in
/// the backend until its first backup), and the total of those sizes. Entries for directories
/// the first sync found in the backend but could not re-create a Repository for stay, with
/// their error, as do errors recorded for Repositories that are still there.
fn current_usage(
    previous: &BackupStorageStatus,
    repositories: &[Repository],
) -> (Vec<RepositoryInfo>, Option<String>) {
    let recorded = previous.repositories.as_deref().unwrap_or_default();
    let mut entries: Vec<RepositoryInfo> = repositories
        .iter()
        .filter(|r| r.metadata.deletion_timestamp.is_none())
        .map(|r| {
            let namespace = r.namespace();
            let name = r.name_any();
            let before = recorded
                .iter()
                .find(|e| e.name == name && e.namespace == namespace);
            RepositoryInfo {
                size: r
                    .status
                    .as_ref()
                    .and_then(|s| s.size.clone())
                    .or_else(|| before.and_then(|e| e.size.clone())),
                synced: Some(util::is_true(
                    r.status.as_ref().and_then(|s| s.conditions.as_ref()),
                    "RepositoryInitialized",
                )),
                error: before.and_then(|e| e.error.clone()),
                name,
                namespace,
                path: r.spec.path.clone(),
            }
        })
        .collect();
    entries.extend(
        recorded
            .iter()
            .filter(|e| e.synced == Some(false) && e.error.is_some())
            .filter(|e| {
                !entries
                    .iter()
                    .any(|current| layout::same_directory(&current.path, &e.path))
            })
            .cloned()
            .collect::<Vec<_>>(),
    );
    entries.sort_by(|a, b| (&a.namespace, &a.name, &a.path).cmp(&(&b.namespace, &b.name, &b.path)));
    let sizes: Vec<u64> = entries
        .iter()
        .filter_map(|e| e.size.as_deref().and_then(util::parse_human_bytes))
        .collect();
    let total = if sizes.is_empty() {
        previous.total_size.clone().filter(|_| !entries.is_empty())
    } else {
        Some(util::human_bytes(sizes.iter().sum()))
    };
    (entries, total)
}

/// Writes `current_usage` when it differs from the status.
async fn refresh_usage(
    api: &Api<BackupStorage>,
    storage: &BackupStorage,
    repositories: &[Repository],
) -> Result<()> {
    let previous = storage.status.clone().unwrap_or_default();
    let (entries, total) = current_usage(&previous, repositories);
    if previous.repositories.as_deref().unwrap_or_default() != entries.as_slice()
        || previous.total_size != total
    {
        util::patch_status(
            api,
            &storage.name_any(),
            json!({"repositories": entries, "totalSize": total}),
        )
        .await?;
    }
    Ok(())
}

/// Whether a sync Job of this storage is still running.
async fn sync_running(jobs: &Api<Job>, storage: &str) -> Result<bool> {
    let running = jobs
        .list(&kube::api::ListParams::default().labels(&format!("{LABEL_STORAGE}={storage}")))
        .await?
        .items
        .iter()
        .any(|job| job.name_any().starts_with("sync-") && job_outcome(job).is_none());
    Ok(running)
}

async fn reconcile(storage: Arc<BackupStorage>, ctx: Arc<Context>) -> Result<Action> {
    let namespace = storage.namespace().unwrap_or_default();
    let name = storage.name_any();
    let api: Api<BackupStorage> = Api::namespaced(ctx.client.clone(), &namespace);
    if storage.metadata.deletion_timestamp.is_some() {
        if !util::has_cleanup_finalizer(storage.as_ref()) {
            return Ok(Action::await_change());
        }
        // WipeOut: everything below the backend root goes before the object, once no
        // Repository that stays uses it (their backups would go on into an empty backend).
        let users: Vec<String> = repositories_using(&ctx, &storage)
            .await?
            .iter()
            .filter(|r| r.metadata.deletion_timestamp.is_none())
            .map(|r| format!("{}/{}", r.namespace().unwrap_or_default(), r.name_any()))
            .collect();
        if !users.is_empty() {
            tracing::info!(storage = %format!("{namespace}/{name}"), repositories = ?users, "WipeOut waits for the Repositories that use the storage");
            return Ok(Action::requeue(Duration::from_secs(10)));
        }
        if let Some(secret) = storage_secret_name(&storage) {
            let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
            if util::get_opt(&secrets, &secret).await?.is_none() {
                // Deleted with it (a namespace going away): the backend cannot be reached,
                // and waiting would hold the deletion for good.
                tracing::warn!(storage = %format!("{namespace}/{name}"), %secret, "WipeOut skipped: the storage's Secret is gone, the data stays in the backend");
                util::remove_cleanup_finalizer(&api, storage.as_ref()).await?;
                return Ok(Action::await_change());
            }
        }
        let job = naming::valid_name("wipe", &name, "");
        return if super::wipe::wipe_directory(&ctx, &storage, "", &job).await? {
            util::remove_cleanup_finalizer(&api, storage.as_ref()).await?;
            Ok(Action::await_change())
        } else {
            Ok(Action::requeue(Duration::from_secs(2)))
        };
    }
    match storage.spec.deletion_policy {
        kubestash::api::storage::BackupStorageDeletionPolicy::WipeOut => {
            util::add_cleanup_finalizer(&api, storage.as_ref()).await?
        }
        _ => util::remove_cleanup_finalizer(&api, storage.as_ref()).await?,
    }
    let status = storage.status.clone().unwrap_or_default();
    let mut conditions = status.conditions.clone().unwrap_or_default();
    if let Some(secret) = storage_secret_name(&storage) {
        let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
        let found = util::get_opt(&secrets, &secret).await?.is_some();
        let message = if found {
            String::new()
        } else {
            format!(
                "Secret `{namespace}/{secret}` named in spec.storage.{}.secretName not found",
                storage.spec.storage.provider.as_deref().unwrap_or_default()
            )
        };
        let reason = if found {
            "SecretAvailable"
        } else {
            "SecretNotAvailable"
        };
        set_condition(
            &mut conditions,
            condition("BackendSecretFound", found, reason, message),
        );
        if !found {
            util::patch_status(
                &api,
                &name,
                json!({"phase": "NotReady", "conditions": conditions}),
            )
            .await?;
            return Ok(Action::requeue(Duration::from_secs(10)));
        }
        if status.conditions.as_ref() != Some(&conditions) {
            let mut patch = json!({"conditions": conditions});
            if util::is_true(Some(&conditions), "BackendInitialized") {
                // The Secret is back: Ready again, which the early return below would skip.
                patch["phase"] = json!("Ready");
            }
            util::patch_status(&api, &name, patch).await?;
        }
    }
    let repositories = repositories_using(&ctx, &storage).await?;
    let pending = uninitialized(&repositories);
    let initialized = util::is_true(status.conditions.as_ref(), "BackendInitialized");
    let synced_generation = storage
        .annotations()
        .get("kubestash.com/synced-generation")
        .cloned();
    let generation = storage.metadata.generation.unwrap_or(0).to_string();
    if initialized
        && pending.is_empty()
        && synced_generation.as_deref() == Some(generation.as_str())
    {
        refresh_usage(&api, &storage, &repositories).await?;
        return Ok(Action::requeue(Duration::from_secs(300)));
    }
    if !backend::is_local(&storage) {
        let result = backend::sync_storage(&ctx.client, &storage).await;
        if result.is_ok() {
            util::patch_merge(&api, &name, json!({"metadata": {"annotations": {"kubestash.com/synced-generation": generation}}})).await?;
        }
        return Ok(Action::requeue(Duration::from_secs(if result.is_ok() {
            300
        } else {
            15
        })));
    }
    // A volume: only a pod that mounts it can write there.
    let mut hasher = DefaultHasher::new();
    (&generation, &pending, storage.metadata.uid.as_deref()).hash(&mut hasher);
    let hash = format!("{:08x}", hasher.finish() as u32);
    let job_name = naming::valid_name("sync", &name, &hash);
    let jobs_api: Api<Job> = Api::namespaced(ctx.client.clone(), &namespace);
    let job = match util::get_opt(&jobs_api, &job_name).await? {
        Some(job) => job,
        // One sync at a time per storage: while Repositories keep arriving (a thousand
        // BackupConfigurations applied at once), the next Job waits for the running one and
        // then takes everything still pending, instead of one Job per arrival.
        None if sync_running(&jobs_api, &name).await? => {
            return Ok(Action::requeue(Duration::from_secs(2)))
        }
        None => {
            let account = ctx.ensure_executor_account(&namespace).await?;
            let base = JobSpec {
                name: job_name.clone(),
                namespace: namespace.clone(),
                labels: managed_labels(&[(LABEL_STORAGE, &name)]),
                owner: Some(util::owner_reference(storage.as_ref(), true)),
                image: ctx.options.image.clone(),
                args: vec![
                    "executor".into(),
                    "sync-storage".into(),
                    format!("--namespace={namespace}"),
                    format!("--storage={name}"),
                ],
                service_account: Some(account),
                ..JobSpec::default()
            };
            let job = jobs::storage_job(&storage, base, 1, 3600)
                .ok_or_else(|| crate::Error::msg("spec.storage.local is missing"))?;
            ctx.ensure_job(&job).await?
        }
    };
    match job_outcome(&job) {
        Some(Ok(())) => {
            util::patch_merge(&api, &name, json!({"metadata": {"annotations": {"kubestash.com/synced-generation": generation}}})).await?;
            Ok(Action::requeue(Duration::from_secs(300)))
        }
        Some(Err(reason)) => {
            // The executor records its own error; this covers one that died before it could.
            let fresh = api.get(&name).await?;
            let recorded = util::find(
                fresh.status.as_ref().and_then(|s| s.conditions.as_ref()),
                "BackendInitialized",
            )
            .is_some_and(|c| c.status == "False");
            if !recorded {
                let logs = job_log_tail(&ctx.client, &job, 5).await.unwrap_or_default();
                set_condition(
                    &mut conditions,
                    condition(
                        "BackendInitialized",
                        false,
                        "BackendInitializationFailed",
                        format!("sync Job `{job_name}` failed: {reason} {logs}")
                            .trim()
                            .to_string(),
                    ),
                );
                util::patch_status(
                    &api,
                    &name,
                    json!({"phase": "NotReady", "conditions": conditions}),
                )
                .await?;
            }
            // Retry a failed initialization after a while with a fresh Job.
            let age = job
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| chrono::Utc::now() - util::to_chrono(t));
            if age.is_some_and(|age| age > chrono::Duration::seconds(60)) {
                let _ = jobs_api
                    .delete(&job_name, &kube::api::DeleteParams::background())
                    .await;
                return Ok(Action::requeue(Duration::from_secs(1)));
            }
            Ok(Action::requeue(Duration::from_secs(60)))
        }
        None => Ok(Action::requeue(Duration::from_secs(30))),
    }
}

#[cfg(test)]
mod tests {
    use kubestash::api::storage::{BackupStorageStatus, Repository, RepositoryInfo};

    fn repository(name: &str, path: &str, size: Option<&str>, initialized: bool) -> Repository {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "storage.kubestash.com/v1alpha1",
            "kind": "Repository",
            "metadata": {"name": name, "namespace": "demo"},
            "spec": {"storageRef": {"name": "s3", "namespace": "stash"}, "path": path,
                     "encryptionSecret": {"name": "enc", "namespace": "demo"}},
            "status": {
                "size": size,
                "conditions": [{"type": "RepositoryInitialized",
                    "status": if initialized { "True" } else { "False" },
                    "lastTransitionTime": "2026-11-30T00:00:00Z", "reason": "x"}],
            },
        }))
        .unwrap()
    }

    fn entry(name: &str, path: &str, size: Option<&str>) -> RepositoryInfo {
        RepositoryInfo {
            name: name.into(),
            namespace: Some("demo".into()),
            path: path.into(),
            size: size.map(Into::into),
            synced: Some(true),
            error: None,
        }
    }

    #[test]
    fn usage_follows_the_repositories_and_their_sizes() {
        // As the first sync left it: measured sizes, one directory it could not take over,
        // and one Repository since deleted.
        let unsynced = RepositoryInfo {
            name: "old".into(),
            namespace: Some("gone".into()),
            path: "/old".into(),
            size: None,
            synced: Some(false),
            error: Some("namespace `gone` not found".into()),
        };
        let previous = BackupStorageStatus {
            total_size: Some("3 KiB".into()),
            repositories: Some(vec![
                entry("app", "/app", Some("1 KiB")),
                entry("fresh", "/fresh", Some("2 KiB")),
                entry("deleted", "/deleted", Some("1 KiB")),
                unsynced.clone(),
            ]),
            ..Default::default()
        };
        let mut leaving = repository("leaving", "/leaving", Some("9 MiB"), true);
        leaving.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::now(),
            ));
        let repositories = vec![
            // Backed up since: its own status has the size.
            repository("app", "/app", Some("1 MiB"), true),
            // No backup yet: the measured size stays.
            repository("fresh", "/fresh", None, true),
            // Created since, not initialized yet.
            repository("new", "/new", None, false),
            leaving,
        ];
        let (entries, total) = super::current_usage(&previous, &repositories);
        let mut new = entry("new", "/new", None);
        new.synced = Some(false);
        assert_eq!(
            entries,
            vec![
                entry("app", "/app", Some("1 MiB")),
                entry("fresh", "/fresh", Some("2 KiB")),
                new,
                unsynced,
            ]
        );
        assert_eq!(total.as_deref(), Some("1.002 MiB"));

        // Nothing left: no total either.
        let (entries, total) = super::current_usage(&BackupStorageStatus::default(), &[]);
        assert!(entries.is_empty());
        assert_eq!(total, None);
    }
}
