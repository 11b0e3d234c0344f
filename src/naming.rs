//! Names of the objects KubeStash creates, the way it names them, so a BackupSession made by
//! `kubectl kubestash backup now` and one made by a CronJob look alike.

/// The longest Kubernetes label value, and so the longest generated name.
const MAX_LENGTH: usize = 63;

/// `prefix-name-suffix`; when longer than 63 characters, its first 32 and last 31 characters,
/// with `-` trimmed from both ends (kmodules `ValidNameWithPrefixNSuffix`).
pub fn valid_name(prefix: &str, name: &str, suffix: &str) -> String {
    let joined = format!("{prefix}-{name}-{suffix}");
    let length = joined.len();
    if length <= MAX_LENGTH {
        return joined.trim_matches('-').to_string();
    }
    // Generated names are ASCII (DNS labels); cut on character boundaries to be safe anyway.
    let head: String = joined.chars().take(MAX_LENGTH.div_ceil(2)).collect();
    let tail: String = joined
        .chars()
        .skip(joined.chars().count() - MAX_LENGTH / 2)
        .collect();
    format!("{head}{tail}").trim_matches('-').to_string()
}

/// A BackupSession of a BackupConfiguration's session: `<configuration>-<session>-<unix seconds>`.
pub fn backup_session_name(configuration: &str, session: &str, unix_seconds: i64) -> String {
    valid_name(configuration, session, &unix_seconds.to_string())
}

/// A Snapshot of a repository made by a session: `<repository>-<configuration>-<session>-<unix seconds>`.
pub fn snapshot_name(
    repository: &str,
    configuration: &str,
    session: &str,
    unix_seconds: i64,
) -> String {
    valid_name(
        repository,
        &format!("{configuration}-{session}"),
        &unix_seconds.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_joined() {
        assert_eq!(
            backup_session_name("orders-backup", "nightly", 1_700_000_000),
            "orders-backup-nightly-1700000000"
        );
        assert_eq!(
            snapshot_name(
                "gcs-demo-repo",
                "sample-backup-sts",
                "demo-session",
                1_702_543_201
            ),
            "gcs-demo-repo-sample-backup-sts-demo-session-1702543201"
        );
    }

    #[test]
    fn long_names_keep_head_and_tail_within_63_characters() {
        let name = snapshot_name(
            "pvc-repo",
            "persistentvolumeclaim-new-pvc",
            "frequent-backup",
            1_704_779_101,
        );
        assert_eq!(
            name,
            "pvc-repo-persistentvolumeclaim-n-pvc-frequent-backup-1704779101"
        );
        assert!(name.len() <= 63);
        let trimmed = valid_name(&"a".repeat(31), "-", &"b".repeat(40));
        assert!(
            !trimmed.starts_with('-') && !trimmed.ends_with('-') && trimmed.len() <= 63,
            "{trimmed}"
        );
    }
}
