//! WipeOut deletes of Repositories and BackupStorages: a directory of the backend (or all of
//! it) is removed before the object goes. Cloud backends are cleaned in this process; a
//! volume through a Job that mounts it (`executor wipe-volume`, which needs no API access).

use k8s_openapi::api::batch::v1::Job;
use kube::api::DeleteParams;
use kube::{Api, ResourceExt};
use kubestash::api::storage::BackupStorage;
use kubestash::engine::location::clean_prefix;

use super::{job_outcome, managed_labels, Context};
use crate::backend;
use crate::jobs::{self, JobSpec};
use crate::util;
use crate::{Error, Result, LABEL_STORAGE};

/// Removes `directory` below the storage's root (everything when empty). `Ok(true)` once
/// done, `Ok(false)` while the Job runs; a failed Job is an error and is recreated on the
/// next call.
pub async fn wipe_directory(
    ctx: &Context,
    storage: &BackupStorage,
    directory: &str,
    job_name: &str,
) -> Result<bool> {
    let directory = clean_prefix(directory);
    if !backend::is_local(storage) {
        let store = backend::storage_location(&ctx.client, storage)
            .await?
            .store()?;
        backend::blocking(move || Ok(store.delete_all(&directory)?)).await?;
        return Ok(true);
    }
    let namespace = storage.namespace().unwrap_or_default();
    let path = jobs::storage_container_path(storage, &[&directory])
        .ok_or_else(|| Error::msg("spec.storage.local is missing"))?;
    let jobs_api: Api<Job> = Api::namespaced(ctx.client.clone(), &namespace);
    let job = match util::get_opt(&jobs_api, job_name).await? {
        Some(job) => job,
        None => {
            let base = JobSpec {
                name: job_name.to_string(),
                namespace: namespace.clone(),
                labels: managed_labels(&[(LABEL_STORAGE, &storage.name_any())]),
                image: ctx.options.image.clone(),
                args: vec![
                    "executor".into(),
                    "wipe-volume".into(),
                    format!("--path={}", path.display()),
                ],
                ..JobSpec::default()
            };
            let job = jobs::storage_job(storage, base, 1, 600)
                .ok_or_else(|| Error::msg("spec.storage.local is not a volume"))?;
            ctx.ensure_job(&job).await?
        }
    };
    match job_outcome(&job) {
        Some(Ok(())) => {
            let _ = jobs_api.delete(job_name, &DeleteParams::background()).await;
            Ok(true)
        }
        Some(Err(reason)) => {
            let logs = super::job_log_tail(&ctx.client, &job, 3)
                .await
                .unwrap_or_default();
            let _ = jobs_api.delete(job_name, &DeleteParams::background()).await;
            Err(Error::msg(format!(
                "WipeOut Job `{namespace}/{job_name}` failed: {reason} {logs}"
            )))
        }
        None => Ok(false),
    }
}
