//! Rules for storage.kubestash.com kinds: BackupStorage, Repository, RetentionPolicy, Snapshot.

use crate::api::storage::{BackupStorage, Repository, RetentionPolicy, Snapshot, PROVIDERS};
use crate::retention::RetentionPeriod;

use super::{usage_policy, Findings};

pub(super) fn backup_storage(storage: &BackupStorage, findings: &mut Findings) {
    let backend = &storage.spec.storage;
    usage_policy::check(
        storage.spec.usage_policy.as_ref(),
        "spec.usagePolicy",
        findings,
    );
    let Some(provider) = backend
        .provider
        .as_deref()
        .filter(|provider| !provider.is_empty())
    else {
        findings.error(
            "spec.storage.provider",
            format!("provider is required (one of {})", PROVIDERS.join(", ")),
        );
        return;
    };
    let field = format!("spec.storage.{provider}");
    match provider {
        "s3" => match &backend.s3 {
            None => findings.error(field, "required when provider is `s3`"),
            Some(s3) => {
                if s3.bucket.trim_matches('/').is_empty() {
                    findings.error("spec.storage.s3.bucket", "bucket is required");
                }
                if s3.endpoint.is_empty() {
                    findings.error(
                        "spec.storage.s3.endpoint",
                        "endpoint is required (e.g. `https://s3.amazonaws.com`)",
                    );
                } else if !(s3.endpoint.starts_with("http://")
                    || s3.endpoint.starts_with("https://"))
                {
                    findings.warning(
                        "spec.storage.s3.endpoint",
                        format!("`{}` has no scheme; https:// is assumed", s3.endpoint),
                    );
                }
            }
        },
        "gcs" => match &backend.gcs {
            None => findings.error(field, "required when provider is `gcs`"),
            Some(gcs) if gcs.bucket.trim_matches('/').is_empty() => {
                findings.error("spec.storage.gcs.bucket", "bucket is required")
            }
            Some(_) => {}
        },
        "azure" => match &backend.azure {
            None => findings.error(field, "required when provider is `azure`"),
            Some(azure) => {
                if azure.storage_account.is_empty() {
                    findings.error(
                        "spec.storage.azure.storageAccount",
                        "storage account is required",
                    );
                }
                if azure.container.is_empty() {
                    findings.error("spec.storage.azure.container", "container is required");
                }
            }
        },
        "local" => {
            match &backend.local {
                None => findings.error(field, "required when provider is `local`"),
                Some(local) => {
                    if local.mount_path.is_empty() {
                        findings.error("spec.storage.local.mountPath", "mount path is required");
                    } else if !local.mount_path.starts_with('/') {
                        findings.error("spec.storage.local.mountPath", "must be an absolute path");
                    }
                    let source = &local.volume_source;
                    let sources = [
                        source.host_path.is_some(),
                        source.nfs.is_some(),
                        source.persistent_volume_claim.is_some(),
                        source.empty_dir.is_some(),
                        source.csi.is_some(),
                        source.secret.is_some(),
                        source.config_map.is_some(),
                        source.ephemeral.is_some(),
                        source.downward_api.is_some(),
                        source.azure_file.is_some(),
                        source.cephfs.is_some(),
                        source.iscsi.is_some(),
                        source.fc.is_some(),
                        source.rbd.is_some(),
                        source.projected.is_some(),
                        source.volume_claim_template.is_some(),
                    ]
                    .into_iter()
                    .filter(|set| *set)
                    .count();
                    match sources {
                    0 => findings.error(
                        "spec.storage.local",
                        "a volume source is required (hostPath, nfs, persistentVolumeClaim, ...)",
                    ),
                    1 => {}
                    _ => findings.error("spec.storage.local", "exactly one volume source may be given"),
                }
                }
            }
        }
        other => findings.error(
            "spec.storage.provider",
            format!(
                "unknown provider `{other}` (one of {})",
                PROVIDERS.join(", ")
            ),
        ),
    }
}

pub(super) fn repository(repository: &Repository, findings: &mut Findings) {
    if repository.spec.storage_ref.name.is_empty() {
        findings.error("spec.storageRef.name", "the BackupStorage name is required");
    }
    if let Some(problem) = directory_problem(&repository.spec.path) {
        findings.error("spec.path", problem);
    }
}

/// What is wrong with a repository directory below a storage's root, if anything. Empty,
/// `/` and `.` name the whole storage, which a WipeOut delete would then erase with every
/// other repository in it; `..` would leave the storage.
pub(super) fn directory_problem(directory: &str) -> Option<&'static str> {
    let parts: Vec<&str> = directory
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if parts.is_empty() {
        Some("directory is required: empty, `/` and `.` name the storage's root, not a directory below it")
    } else if parts.contains(&"..") {
        Some("must not contain `..`: a repository stays inside its storage")
    } else {
        None
    }
}

pub(super) fn retention_policy(policy: &RetentionPolicy, findings: &mut Findings) {
    let spec = &policy.spec;
    usage_policy::check(spec.usage_policy.as_ref(), "spec.usagePolicy", findings);
    if spec.max_retention_period.is_none() && spec.successful_snapshots.is_none() {
        findings.error(
            "spec",
            "one of `maxRetentionPeriod` or `successfulSnapshots` is required",
        );
    }
    if let Some(period) = &spec.max_retention_period {
        if let Err(error) = period.parse::<RetentionPeriod>() {
            findings.error("spec.maxRetentionPeriod", error.to_string());
        }
    }
    if let Some(successful) = &spec.successful_snapshots {
        let counts = [
            ("last", successful.last),
            ("hourly", successful.hourly),
            ("daily", successful.daily),
            ("weekly", successful.weekly),
            ("monthly", successful.monthly),
            ("yearly", successful.yearly),
        ];
        for (name, count) in counts {
            if count.is_some_and(|count| count < 0) {
                findings.error(
                    format!("spec.successfulSnapshots.{name}"),
                    "must not be negative",
                );
            }
        }
        if spec.max_retention_period.is_none()
            && counts.iter().all(|(_, count)| count.unwrap_or(0) == 0)
        {
            findings.warning(
                "spec.successfulSnapshots",
                "sets no count above zero and no maxRetentionPeriod: as in restic, a zero count is no rule, so no successful snapshot is ever forgotten",
            );
        }
    }
    if spec
        .failed_snapshots
        .as_ref()
        .is_some_and(|failed| failed.last < 0)
    {
        findings.error("spec.failedSnapshots.last", "must not be negative");
    }
}

pub(super) fn snapshot(snapshot: &Snapshot, findings: &mut Findings) {
    if snapshot.spec.repository.is_empty() {
        findings.error("spec.repository", "the Repository name is required");
    }
}

#[cfg(test)]
mod directory_tests {
    use super::directory_problem;

    #[test]
    fn a_repository_directory_is_below_the_root_and_stays_inside() {
        for whole in ["", "/", ".", "./", "//./"] {
            assert!(directory_problem(whole).is_some(), "{whole:?}");
        }
        assert!(directory_problem("/shop/../other").unwrap().contains(".."));
        assert_eq!(directory_problem("/shop/./orders"), None);
    }
}
