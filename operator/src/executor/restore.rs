//! `executor restore`: one component of a Snapshot back into the target's volumes, or its
//! manifests back into the cluster.

use std::collections::BTreeMap;
use std::path::Path;

use kube::{Api, Client};
use kubestash::api::common::ObjectReference;
use kubestash::api::core::RestoreSession;
use kubestash::api::storage::{Repository, Snapshot};
use kubestash::engine::RestoreRequest;
use serde_json::json;

use super::{list_param, Mode};
use crate::backend;
use crate::mounts::Mounts;
use crate::util;
use crate::{Error, Result};

/// Arguments of `executor restore`.
#[derive(Clone, Debug)]
pub struct RestoreArgs {
    /// Namespace of the RestoreSession.
    pub namespace: String,
    /// The RestoreSession.
    pub restore_session: String,
    /// The Snapshot (in the data source's namespace).
    pub snapshot: String,
    /// The component to restore.
    pub component: String,
    /// Files or manifests.
    pub mode: Mode,
    /// Task parameters.
    pub params: BTreeMap<String, String>,
}

/// Runs one component's restore and records the outcome in the RestoreSession.
pub async fn restore(client: &Client, args: &RestoreArgs) -> Result<()> {
    let api: Api<RestoreSession> = Api::namespaced(client.clone(), &args.namespace);
    let component = args.component.clone();
    util::patch_status(
        &api,
        &args.restore_session,
        json!({"components": {&component: {"phase": "Running"}}}),
    )
    .await?;
    let started = std::time::Instant::now();
    let result = run(client, args, &api).await;
    let duration = kubestash::duration::format_go_duration(started.elapsed());
    match &result {
        Ok(summary) => {
            eprintln!("restored component `{component}`: {summary}");
            util::patch_status(
                &api,
                &args.restore_session,
                json!({"components": {&component: {"phase": "Succeeded", "duration": duration}}}),
            )
            .await?;
        }
        Err(error) => {
            eprintln!("error: restore of component `{component}` failed: {error}");
            util::patch_status(&api, &args.restore_session, json!({"components": {&component: {"phase": "Failed", "duration": duration, "error": error.to_string()}}})).await?;
        }
    }
    result.map(|_| ())
}

async fn run(client: &Client, args: &RestoreArgs, api: &Api<RestoreSession>) -> Result<String> {
    let session = util::get_opt(api, &args.restore_session)
        .await?
        .ok_or_else(|| {
            Error::msg(format!(
                "RestoreSession `{}/{}` not found",
                args.namespace, args.restore_session
            ))
        })?;
    let source = session.spec.data_source.clone().unwrap_or_default();
    let source_namespace = source
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| args.namespace.clone());
    let snapshots: Api<Snapshot> = Api::namespaced(client.clone(), &source_namespace);
    let snapshot = util::get_opt(&snapshots, &args.snapshot)
        .await?
        .ok_or_else(|| {
            Error::msg(format!(
                "Snapshot `{source_namespace}/{}` not found",
                args.snapshot
            ))
        })?;
    let component = snapshot
        .status
        .as_ref()
        .and_then(|s| s.components.as_ref())
        .and_then(|c| c.get(&args.component))
        .cloned()
        .ok_or_else(|| {
            Error::msg(format!(
                "Snapshot `{}` has no component `{}`",
                args.snapshot, args.component
            ))
        })?;
    let summary = component
        .restic_stats
        .iter()
        .flatten()
        .find_map(|s| s.summary.clone())
        .ok_or_else(|| {
            Error::msg(format!(
                "component `{}` of Snapshot `{}` records no restic snapshot",
                args.component, args.snapshot
            ))
        })?;
    let restic_id = summary.id.clone().unwrap_or_default();
    let repositories: Api<Repository> = Api::namespaced(client.clone(), &source_namespace);
    let repository = util::get_opt(&repositories, &snapshot.spec.repository)
        .await?
        .ok_or_else(|| {
            Error::msg(format!(
                "Repository `{source_namespace}/{}` not found",
                snapshot.spec.repository
            ))
        })?;
    // The RestoreSession's own Secret reference is relative to its namespace.
    let password_secret = source
        .encryption_secret
        .clone()
        .map(|secret| ObjectReference {
            namespace: Some(secret.namespace_or(&args.namespace).to_string()),
            name: secret.name,
        });
    let engine = backend::component_repository(
        client,
        &repository,
        component.path.as_deref().unwrap_or_default(),
        password_secret.as_ref(),
    )
    .await?;
    match args.mode {
        Mode::Paths => {
            let mounts = Mounts::from_env();
            let includes = list_param(&args.params, "include");
            let excludes = list_param(&args.params, "exclude");
            let recorded: Vec<String> = summary
                .host_path
                .unwrap_or_default()
                .split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
            if recorded.is_empty() {
                return Err(Error::msg(format!(
                    "component `{}` of Snapshot `{}` records no paths",
                    args.component, args.snapshot
                )));
            }
            let requests: Vec<RestoreRequest> = recorded
                .iter()
                .map(|path| RestoreRequest {
                    snapshot: restic_id.clone(),
                    path: Some(path.clone()),
                    destination: mounts.resolve(Path::new(path)),
                    includes: includes.clone(),
                    excludes: excludes.clone(),
                })
                .collect();
            backend::blocking(move || {
                let mut files = 0;
                let mut bytes = 0;
                for request in &requests {
                    // The engine creates the destination: a directory for a directory, only
                    // the parent for a single backed-up file.
                    let done = engine.restore(request)?;
                    files += done.files;
                    bytes += done.bytes_restored;
                }
                Ok(format!("{files} file(s), {}", util::human_bytes(bytes)))
            })
            .await
        }
        Mode::Manifest => {
            let id = restic_id.clone();
            let files = backend::blocking(move || Ok(engine.read_files(&id, "/")?)).await?;
            let target_namespace = crate::preview::restore_namespace(&session, &args.params);
            let objects = crate::preview::plan(&files, &args.params, target_namespace.as_deref())?;
            let override_existing = args
                .params
                .get("OverrideResources")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            let report = kubestash::manifest::cluster::apply(client, &objects, override_existing)
                .await
                .map_err(|e| Error::msg(e.to_string()))?;
            let text = format!(
                "{} object(s) created, {} replaced, {} already there",
                report.created.len(),
                report.replaced.len(),
                report.skipped.len()
            );
            if !report.failed.is_empty() {
                return Err(Error::msg(format!(
                    "{} object(s) could not be restored: {}",
                    report.failed.len(),
                    report
                        .failed
                        .iter()
                        .map(|(o, e)| format!("{o}: {e}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                )));
            }
            Ok(text)
        }
    }
}
