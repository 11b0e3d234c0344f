//! The executor: what runs inside the Jobs the operator creates (and the CronJob's trigger).
//! Each step reads its session from the API, works on the repository through the engine and
//! writes its outcome into the status of the Snapshot, BackupSession, RestoreSession or
//! BackupStorage it works for, so a failure is explained where users look.

mod backup;
mod restore;
mod retention;

use std::collections::BTreeMap;

use kube::{Api, Client};
use kubestash::api::storage::BackupStorage;

pub use backup::{backup, BackupArgs};
pub use restore::{restore, RestoreArgs};
pub use retention::{apply_retention, retention, wipe_snapshot, wipe_snapshots};

use crate::util;
use crate::{Error, Result};

/// What a backup or restore works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Files under the task's `paths`.
    Paths,
    /// Kubernetes manifests (kubedump).
    Manifest,
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "paths" => Ok(Self::Paths),
            "manifest" => Ok(Self::Manifest),
            other => Err(format!("unknown mode `{other}` (paths, manifest)")),
        }
    }
}

/// Parses `key=value` task parameters; empty values are dropped (unset `${param:=}`).
pub fn parse_params(items: &[String]) -> Result<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    for item in items {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| Error::msg(format!("--param `{item}` is not key=value")))?;
        if !value.is_empty() {
            params.insert(key.to_string(), value.to_string());
        }
    }
    Ok(params)
}

/// Splits a comma-separated parameter.
pub fn list_param(params: &BTreeMap<String, String>, key: &str) -> Vec<String> {
    params
        .get(key)
        .map(|text| {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `executor trigger`: creates a BackupSession for a CronJob tick.
pub async fn trigger(
    client: &Client,
    namespace: &str,
    invoker_kind: &str,
    invoker_name: &str,
    session: &str,
) -> Result<String> {
    let created =
        crate::sessions::trigger(client, namespace, invoker_kind, invoker_name, session).await?;
    Ok(created.metadata.name.unwrap_or_default())
}

/// `executor sync-storage`: initializes a volume backend from inside a Job that mounts it.
pub async fn sync_storage(client: &Client, namespace: &str, name: &str) -> Result<()> {
    let api: Api<BackupStorage> = Api::namespaced(client.clone(), namespace);
    let storage = util::get_opt(&api, name)
        .await?
        .ok_or_else(|| Error::msg(format!("BackupStorage `{namespace}/{name}` not found")))?;
    crate::backend::sync_storage(client, &storage).await
}

/// The line prefix of the report `check-volume` prints, which `storage check` reads from the
/// Job's log.
pub const PROBE_LOG_PREFIX: &str = "kubestash-probe: ";

/// Probes a volume backend from a Job that mounts it: writes, reads back and deletes an
/// object under `container_path` (the storage's mount path and subPath).
pub fn check_volume(container_path: &std::path::Path) -> Result<crate::backend::ProbeReport> {
    let root = crate::mounts::Mounts::from_env().resolve(container_path);
    let mut report = crate::backend::probe(&kubestash::engine::Location::Local { root })?;
    report.location = container_path.display().to_string();
    Ok(report)
}

/// Empties a volume directory for a WipeOut delete (`executor wipe-volume`): everything
/// below `container_path` goes, the directory itself stays (it may be the mount point).
pub fn wipe_volume(container_path: &std::path::Path) -> Result<usize> {
    let root = crate::mounts::Mounts::from_env().resolve(container_path);
    let entries = match std::fs::read_dir(&root) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => {
            return Err(Error::msg(format!(
                "cannot read `{}`: {error}",
                container_path.display()
            )))
        }
    };
    let mut removed = 0;
    for entry in entries {
        let entry =
            entry.map_err(|e| Error::msg(format!("`{}`: {e}", container_path.display())))?;
        let path = entry.path();
        let result = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        result.map_err(|e| Error::msg(format!("cannot remove `{}`: {e}", path.display())))?;
        removed += 1;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_drop_empty_values_and_reject_garbage() {
        let params = parse_params(&["paths=/a,/b".into(), "exclude=".into()]).unwrap();
        assert_eq!(list_param(&params, "paths"), vec!["/a", "/b"]);
        assert!(!params.contains_key("exclude"));
        assert!(parse_params(&["oops".into()]).is_err());
    }

    #[test]
    fn a_volume_probe_writes_reads_and_leaves_nothing_behind() {
        let directory = tempfile::tempdir().unwrap();
        let report = check_volume(directory.path()).unwrap();
        assert!(!report.initialized);
        assert_eq!(report.location, directory.path().display().to_string());
        let probes = directory.path().join(crate::backend::PROBE_DIRECTORY);
        assert_eq!(std::fs::read_dir(probes).unwrap().count(), 0);
    }

    #[test]
    fn a_volume_probe_names_an_unwritable_directory() {
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join("not-a-directory");
        std::fs::write(&file, b"x").unwrap();
        let error = check_volume(&file).unwrap_err().to_string();
        assert!(error.contains("not-a-directory"), "{error}");
    }

    #[test]
    fn wiping_a_volume_empties_it_and_keeps_the_mount_point() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(directory.path().join("repo/data")).unwrap();
        std::fs::write(directory.path().join("metadata.yaml"), b"x").unwrap();
        assert_eq!(wipe_volume(directory.path()).unwrap(), 2);
        assert!(directory.path().exists());
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 0);
        assert_eq!(wipe_volume(&directory.path().join("gone")).unwrap(), 0);
    }
}
