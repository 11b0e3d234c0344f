//! `executor backup`: one component of a BackupSession into every repository of its session.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::{Api, Client, ResourceExt};
use kubestash::api::core::BackupSession;
use kubestash::api::storage::{Repository, Snapshot, SnapshotPhase};
use kubestash::engine::{layout, BackupRequest, BackupSummary, ProgressEvent};
use kubestash::manifest::ManifestFilter;
use serde_json::{json, Value};

use super::{list_param, Mode};
use crate::backend;
use crate::mounts::Mounts;
use crate::util;
use crate::{Error, Result};

/// Arguments of `executor backup`.
#[derive(Clone, Debug)]
pub struct BackupArgs {
    /// Namespace of the BackupSession.
    pub namespace: String,
    /// The BackupSession.
    pub backup_session: String,
    /// The component this Job backs up.
    pub component: String,
    /// Files or manifests.
    pub mode: Mode,
    /// Task parameters.
    pub params: BTreeMap<String, String>,
}

async fn wait_for_snapshots(api: &Api<BackupSession>, name: &str) -> Result<BackupSession> {
    for _ in 0..60 {
        let session = util::get_opt(api, name)
            .await?
            .ok_or_else(|| Error::msg(format!("BackupSession `{name}` not found")))?;
        if session
            .status
            .as_ref()
            .and_then(|s| s.snapshots.as_ref())
            .is_some_and(|s| !s.is_empty())
        {
            return Ok(session);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(Error::msg(format!(
        "BackupSession `{name}` lists no snapshots"
    )))
}

/// Writes throttled progress into the component's resticStats until stopped.
struct ProgressReporter {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl ProgressReporter {
    /// Stops the reporter and waits for a progress write in flight: the final status write
    /// replaces `resticStats`, and a late progress write would drop the snapshot id from it.
    async fn stop(self) {
        drop(self.stop);
        let _ = self.task.await;
    }
}

fn progress_reporter(
    api: Api<Snapshot>,
    snapshot: String,
    component: String,
) -> (Arc<Mutex<Option<ProgressEvent>>>, ProgressReporter) {
    let latest: Arc<Mutex<Option<ProgressEvent>>> = Arc::new(Mutex::new(None));
    let shared = latest.clone();
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
            let event = shared.lock().expect("not poisoned").take();
            if let Some(event) = event {
                let progress = json!({
                    "secondsElapsed": format!("{:.0}", event.elapsed.as_secs_f64()),
                    "percentDone": format!("{:.1}", event.percent().unwrap_or(0.0)),
                    "backupDone": util::human_bytes(event.bytes_done),
                    "total": util::human_bytes(event.bytes_total),
                    "speed": format!("{}/s", util::human_bytes(event.bytes_per_second() as u64)),
                });
                let _ = util::patch_status(
                    &api,
                    &snapshot,
                    json!({"components": {&component: {"resticStats": [{"progress": progress}]}}}),
                )
                .await;
            }
        }
    });
    (latest, ProgressReporter { stop, task })
}

/// Runs one component's backup.
pub async fn backup(client: &Client, args: &BackupArgs) -> Result<()> {
    let namespace = &args.namespace;
    let sessions: Api<BackupSession> = Api::namespaced(client.clone(), namespace);
    let session = wait_for_snapshots(&sessions, &args.backup_session).await?;
    let invoker = session
        .spec
        .invoker
        .clone()
        .ok_or_else(|| Error::msg("spec.invoker is missing"))?;
    // A batch's Job backs up one target: only that target's repositories are its to write.
    let own_repositories: Option<Vec<String>> = std::env::var(crate::invoker::REPOSITORIES_ENV)
        .ok()
        .map(|list| {
            list.split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect()
        });
    let session_name = session.spec.session.clone().unwrap_or_default();
    let snapshots_api: Api<Snapshot> = Api::namespaced(client.clone(), namespace);
    let repositories_api: Api<Repository> = Api::namespaced(client.clone(), namespace);
    let mounts = Mounts::from_env();
    let files = match args.mode {
        Mode::Manifest => {
            let parameters: serde_json::Map<String, Value> = args
                .params
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            let filter = ManifestFilter::from_parameters(&parameters);
            Some(
                kubestash::manifest::cluster::dump(client, &filter)
                    .await
                    .map_err(|e| Error::msg(e.to_string()))?,
            )
        }
        Mode::Paths => None,
    };
    let mut failures = Vec::new();
    for entry in session
        .status
        .as_ref()
        .and_then(|s| s.snapshots.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|entry| {
            own_repositories.as_ref().is_none_or(|own| {
                own.iter()
                    .any(|r| Some(r.as_str()) == entry.repository.as_deref())
            })
        })
    {
        let component = args.component.clone();
        // A Job's earlier attempt (its pod failed after this repository) already wrote it:
        // backing up again would leave an unrecorded restic snapshot behind.
        let current = util::get_opt(&snapshots_api, &entry.name).await?;
        let earlier = current.as_ref().and_then(|snapshot| {
            snapshot
                .status
                .as_ref()?
                .components
                .as_ref()?
                .get(&component)
        });
        let done_before =
            earlier.is_some_and(|status| status.phase == Some(SnapshotPhase::Succeeded));
        // An earlier attempt that saved an incomplete snapshot: this attempt replaces it, and
        // its id, about to be overwritten, would leave it for retention never to forget.
        let superseded: Vec<String> = earlier
            .filter(|status| status.phase == Some(SnapshotPhase::Failed))
            .map(super::retention::component_ids)
            .unwrap_or_default();
        if done_before {
            tracing::info!(snapshot = %entry.name, %component, "already backed up by an earlier attempt of this Job");
            // That attempt may have died before its copy reached the backend; the condition
            // may be another component's, so the copy is written again.
            if let Some(snapshot) = current {
                let repository_name = entry.repository.clone().unwrap_or_default();
                upload_metadata(
                    client,
                    &snapshots_api,
                    &repositories_api,
                    &repository_name,
                    snapshot,
                )
                .await;
            }
            continue;
        }
        let component_path = layout::component_path(&session_name, &component);
        let started = util::now();
        util::patch_status(&snapshots_api, &entry.name, json!({"components": {&component: {"phase": "Running", "path": component_path, "driver": "Restic"}}})).await?;
        let repository_name = entry.repository.clone().unwrap_or_default();
        let result: Result<BackupSummary> = async {
            let repository = util::get_opt(&repositories_api, &repository_name)
                .await?
                .ok_or_else(|| {
                    Error::msg(format!(
                        "Repository `{namespace}/{repository_name}` not found"
                    ))
                })?;
            let (latest, reporter) =
                progress_reporter(snapshots_api.clone(), entry.name.clone(), component.clone());
            let sink = latest.clone();
            let engine = backend::component_repository(client, &repository, &component_path, None)
                .await?
                .with_progress(Arc::new(move |event: &ProgressEvent| {
                    *sink.lock().expect("not poisoned") = Some(event.clone());
                }));
            let tags = vec![
                format!("kubestash.com/session:{session_name}"),
                format!("kubestash.com/backup-session:{}", args.backup_session),
                format!("kubestash.com/component:{component}"),
                format!(
                    "kubestash.com/app:{}",
                    entry
                        .app_ref
                        .as_ref()
                        .map(|t| t.name.clone())
                        .filter(|name| !name.is_empty())
                        .unwrap_or_else(|| invoker.name.clone())
                ),
            ];
            let host = component.clone();
            let outcome = match &files {
                Some(files) => {
                    let files = files.clone();
                    let superseded = superseded.clone();
                    backend::blocking(move || {
                        engine.init()?;
                        forget_superseded(&engine, &superseded);
                        Ok(engine.backup_files(files, Some(&host), &tags)?)
                    })
                    .await
                }
                None => {
                    let paths = list_param(&args.params, "paths");
                    if paths.is_empty() {
                        return Err(Error::msg(
                            "task parameter `paths` is empty: nothing to back up",
                        ));
                    }
                    let resolved: Vec<PathBuf> = paths
                        .iter()
                        .map(|p| mounts.resolve(std::path::Path::new(p)))
                        .collect();
                    for (path, resolved) in paths.iter().zip(&resolved) {
                        if let Some(credentials) = holds_credentials(resolved) {
                            return Err(Error::msg(format!(
                                "task parameter `paths`: `{path}` leads to where the Job's credentials are mounted ({credentials}); they are never backed up"
                            )));
                        }
                    }
                    // Absolute excludes name container paths: read them where the data is.
                    let mut excludes: Vec<String> = list_param(&args.params, "exclude")
                        .into_iter()
                        .map(|e| {
                            if e.starts_with('/') {
                                mounts
                                    .resolve(std::path::Path::new(&e))
                                    .display()
                                    .to_string()
                            } else {
                                e
                            }
                        })
                        .collect();
                    // A path above them (`/`) leaves them out.
                    excludes.extend(CREDENTIAL_DIRS.iter().map(|dir| dir.to_string()));
                    let request = BackupRequest {
                        record_as: (paths.len() == 1).then(|| PathBuf::from(&paths[0])),
                        paths: resolved,
                        excludes,
                        host: Some(host),
                        tags,
                    };
                    let superseded = superseded.clone();
                    backend::blocking(move || {
                        engine.init()?;
                        forget_superseded(&engine, &superseded);
                        Ok(engine.backup(&request)?)
                    })
                    .await
                }
            };
            reporter.stop().await;
            outcome
        }
        .await;
        let written = Recorded {
            client,
            snapshots: &snapshots_api,
            repositories: &repositories_api,
            repository: &repository_name,
        };
        match result {
            Ok(summary) => {
                // As restic's exit code 3: the snapshot holds the rest, and says so.
                let incomplete = incomplete_backup(&summary);
                let mut component_status = json!({
                    "phase": if incomplete.is_some() { "Failed" } else { "Succeeded" },
                    "path": component_path,
                    "driver": "Restic",
                    "size": util::human_bytes(summary.bytes_processed),
                    "duration": kubestash::duration::format_go_duration(summary.duration()),
                    "integrity": true,
                    "resticStats": [{"summary": {
                        "id": summary.snapshot_id,
                        "uploaded": util::human_bytes(summary.bytes_uploaded),
                        "hostPath": summary.paths.join(","),
                        "size": util::human_bytes(summary.bytes_processed),
                        "startTime": started,
                        "endTime": util::now(),
                    }}],
                });
                // A merge patch keeps fields it does not name: an earlier attempt's error
                // must not stay next to Succeeded.
                component_status["error"] = json!(incomplete);
                written
                    .component(&entry.name, &component, component_status)
                    .await?;
                match incomplete {
                    Some(message) => {
                        eprintln!(
                            "error: backup of component `{component}` into Snapshot `{}` is incomplete: {message}",
                            entry.name
                        );
                        failures.push(format!("{}: {message}", entry.name));
                    }
                    None => eprintln!(
                        "backed up component `{component}` of Snapshot `{}`: {} read, {} added",
                        entry.name,
                        util::human_bytes(summary.bytes_processed),
                        util::human_bytes(summary.bytes_uploaded)
                    ),
                }
            }
            Err(error) => {
                let message = error.to_string();
                eprintln!(
                    "error: backup of component `{component}` into Snapshot `{}` failed: {message}",
                    entry.name
                );
                // The backend's copy says so too: imported into a new cluster, a copy that
                // still reads Running would stay Running.
                written
                    .component(
                        &entry.name,
                        &component,
                        json!({"phase": "Failed", "error": message}),
                    )
                    .await?;
                failures.push(format!("{}: {message}", entry.name));
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::msg(failures.join("; ")))
    }
}

/// Forgets the restic snapshots an earlier attempt of this Job saved incomplete (their ids are
/// about to be overwritten); one that cannot be forgotten is logged and left to a later
/// `forget`.
fn forget_superseded(engine: &kubestash::engine::ComponentRepository, recorded: &[String]) {
    if recorded.is_empty() {
        return;
    }
    let present = match super::retention::present(engine, recorded) {
        Ok(present) => present,
        Err(error) => {
            tracing::warn!(%error, ids = ?recorded, "unable to list the snapshots of an earlier attempt");
            return;
        }
    };
    if !present.is_empty() {
        if let Err(error) = engine.forget(&present) {
            tracing::warn!(%error, ids = ?present, "unable to forget the incomplete snapshot of an earlier attempt");
        }
    }
}

/// Where Kubernetes mounts a pod's credentials: the executor's ServiceAccount token, which
/// may read Secrets of every namespace, must not end up in a backup its owner can restore.
const CREDENTIAL_DIRS: [&str; 2] = ["/var/run/secrets", "/run/secrets"];

/// The credentials directory `path` is in, as given or with its symbolic links resolved.
fn holds_credentials(path: &std::path::Path) -> Option<&'static str> {
    credentials_in(path, &CREDENTIAL_DIRS)
}

/// Also a path that leads above them through a symbolic link (`/data/link` to `/run`): the
/// walk follows a link given as a path, and the excludes name only the usual spellings.
fn credentials_in<'a>(path: &std::path::Path, dirs: &[&'a str]) -> Option<&'a str> {
    let canonical = std::fs::canonicalize(path).ok();
    let spelled_above = dirs
        .iter()
        .any(|dir| std::path::Path::new(dir).starts_with(path));
    dirs.iter().copied().find(|dir| {
        let dir = std::path::Path::new(dir);
        let real = std::fs::canonicalize(dir).ok();
        let inside = [Some(path.to_path_buf()), canonical.clone()]
            .iter()
            .flatten()
            .any(|p| p.starts_with(dir) || real.as_ref().is_some_and(|real| p.starts_with(real)));
        let linked_above = !spelled_above
            && canonical
                .as_ref()
                .zip(real.as_ref())
                .is_some_and(|(canonical, real)| real.starts_with(canonical));
        inside || linked_above
    })
}

/// Why a backup that left files out is not a success: how many, the first few and the restic
/// snapshot that holds the rest.
fn incomplete_backup(summary: &BackupSummary) -> Option<String> {
    if summary.unreadable == 0 {
        return None;
    }
    let mut named = summary.unreadable_named.join("; ");
    if summary.unreadable > summary.unreadable_named.len() {
        named.push_str("; ...");
    }
    Some(format!(
        "{} file(s) or directories could not be read and are missing from restic snapshot {}: {named}",
        summary.unreadable,
        &summary.snapshot_id[..summary.snapshot_id.len().min(8)],
    ))
}

/// Where a component's outcome goes: its Snapshot, and the Snapshot's copy in the backend.
struct Recorded<'a> {
    client: &'a Client,
    snapshots: &'a Api<Snapshot>,
    repositories: &'a Api<Repository>,
    repository: &'a str,
}

impl Recorded<'_> {
    /// Writes `status` as the component's and copies the Snapshot into the backend.
    async fn component(&self, snapshot: &str, component: &str, status: Value) -> Result<()> {
        let updated = util::patch_status(
            self.snapshots,
            snapshot,
            json!({"components": {component: status}}),
        )
        .await?;
        upload_metadata(
            self.client,
            self.snapshots,
            self.repositories,
            self.repository,
            updated,
        )
        .await;
        Ok(())
    }
}

/// Copies the Snapshot (and, when missing, the Repository) into the backend.
async fn upload_metadata(
    client: &Client,
    snapshots: &Api<Snapshot>,
    repositories: &Api<Repository>,
    repository_name: &str,
    snapshot: Snapshot,
) {
    let result: Result<()> = async {
        let repository = repositories.get(repository_name).await?;
        let storage = backend::repository_storage(client, &repository).await?;
        let store = backend::storage_location(client, &storage).await?.store()?;
        let directory = repository.spec.path.clone();
        let store = std::sync::Arc::new(store);
        let mut copy = snapshot.clone();
        // Components in other Jobs finish at their own pace: whichever writes last must write
        // them all, so the copy is written again while the object has moved on.
        for attempt in 0..3 {
            let (store, directory, repository, written) = (
                store.clone(),
                directory.clone(),
                repository.clone(),
                copy.clone(),
            );
            backend::blocking(move || {
                if attempt == 0 && layout::read_repository(&store, &directory)?.is_none() {
                    layout::write_repository(&store, &repository)?;
                }
                layout::write_snapshot(&store, &directory, &written)?;
                Ok(())
            })
            .await?;
            let fresh = snapshots.get(&copy.name_any()).await?;
            let components = |s: &Snapshot| s.status.as_ref().and_then(|s| s.components.clone());
            if components(&fresh) == components(&copy) {
                break;
            }
            copy = fresh;
        }
        Ok(())
    }
    .await;
    let (status, message) = match &result {
        Ok(()) => (true, String::new()),
        Err(error) => (false, error.to_string()),
    };
    let mut conditions = snapshot
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    util::set_condition(
        &mut conditions,
        util::condition(
            "SnapshotMetadataUploaded",
            status,
            if status {
                "SnapshotMetadataUploaded"
            } else {
                "SnapshotMetadataUploadFailed"
            },
            message,
        ),
    );
    // Without the condition the Snapshot never becomes Succeeded: retry a failed write.
    let patch = json!({"conditions": conditions});
    for attempt in 0..3 {
        match util::patch_status(snapshots, &snapshot.name_any(), patch.clone()).await {
            Ok(_) => break,
            Err(error) if attempt < 2 => {
                tracing::warn!(snapshot = %snapshot.name_any(), %error, "recording SnapshotMetadataUploaded failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1 << attempt)).await;
            }
            Err(error) => {
                eprintln!(
                    "error: recording SnapshotMetadataUploaded on Snapshot `{}`: {error}",
                    snapshot.name_any()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn credentials_are_refused_under_any_spelling() {
        assert_eq!(
            super::holds_credentials(Path::new("/var/run/secrets/kubernetes.io/serviceaccount")),
            Some("/var/run/secrets")
        );
        assert_eq!(
            super::holds_credentials(Path::new("/run/secrets")),
            Some("/run/secrets")
        );
        assert_eq!(super::holds_credentials(Path::new("/var/lib/orders")), None);
        // Above them: backed up, with the credentials excluded.
        assert_eq!(super::holds_credentials(Path::new("/")), None);

        let scratch = tempfile::tempdir().unwrap();
        let secrets = scratch.path().join("secrets");
        std::fs::create_dir_all(secrets.join("token-dir")).unwrap();
        let link = scratch.path().join("innocent");
        std::os::unix::fs::symlink(&secrets, &link).unwrap();
        let dirs = [secrets.to_str().unwrap()];
        assert!(super::credentials_in(&link.join("token-dir"), &dirs).is_some());
        assert!(super::credentials_in(&link, &dirs).is_some());
        // A link to a directory above them: the walk would go through it.
        let above = scratch.path().join("above");
        std::os::unix::fs::symlink(scratch.path(), &above).unwrap();
        assert!(super::credentials_in(&above, &dirs).is_some());
        // The directory above them, spelled as such: walked with them excluded.
        assert!(super::credentials_in(scratch.path(), &dirs).is_none());
    }

    #[test]
    fn an_incomplete_backup_names_what_is_missing() {
        let summary = kubestash::engine::BackupSummary {
            snapshot_id: "0123456789abcdef".into(),
            paths: vec![],
            files: 3,
            files_new: 3,
            bytes_processed: 10,
            bytes_uploaded: 10,
            started: chrono::Utc::now(),
            ended: chrono::Utc::now(),
            unreadable: 7,
            unreadable_named: vec!["/data/a: Permission denied (os error 13)".into()],
        };
        let message = super::incomplete_backup(&summary).unwrap();
        assert_eq!(
            message,
            "7 file(s) or directories could not be read and are missing from restic snapshot 01234567: /data/a: Permission denied (os error 13); ..."
        );
        let complete = kubestash::engine::BackupSummary {
            unreadable: 0,
            unreadable_named: vec![],
            ..summary
        };
        assert_eq!(super::incomplete_backup(&complete), None);
    }
}
