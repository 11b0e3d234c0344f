//! `validate`: every example passes; every single-object invalid case of
//! `../shared/examples/invalid/README.md` is rejected naming object, field and reason.

use std::path::Path;

use crate::{copy_examples, run, run_with_stdin};

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Runs `validate -f <file>` and asserts it is rejected with a message naming all of `expected`.
fn assert_rejected(file: &Path, expected: &[&str]) {
    let result = run(&["validate", "-f", file.to_str().unwrap()]);
    assert_eq!(
        result.code, 2,
        "expected exit 2\nstdout:\n{}\nstderr:\n{}",
        result.stdout, result.stderr
    );
    for part in expected {
        assert!(
            result.stdout.contains(part),
            "missing {part:?} in:\n{}",
            result.stdout
        );
    }
}

#[test]
fn every_example_manifest_is_valid() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    std::fs::remove_dir_all(directory.path().join("invalid")).unwrap();
    let result = run(&[
        "validate",
        "-R",
        "-f",
        directory.path().to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(
        result.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        result.stdout, result.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["errors"], 0);
    assert_eq!(report["warnings"], 0, "{:#}", report["findings"]);
    let kinds: Vec<&str> = report["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "BackupStorage",
        "RetentionPolicy",
        "BackupConfiguration",
        "RestoreSession",
        "BackupBlueprint",
    ] {
        assert!(kinds.contains(&kind), "{kind} not checked: {kinds:?}");
    }
}

#[test]
fn an_out_of_range_schedule_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let file = directory.path().join("workload/backupconfiguration.yaml");
    edit(
        &file,
        "schedule: \"30 2 * * *\"",
        "schedule: \"61 * * * *\"",
    );
    assert_rejected(
        &file,
        &[
            "BackupConfiguration shop/orders-backup",
            "spec.sessions[0].scheduler.schedule",
            "invalid cron schedule",
            "61 is out of range 0-59",
        ],
    );
}

#[test]
fn a_session_without_repositories_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let file = directory.path().join("workload/backupconfiguration.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let start = text.find("      repositories:").unwrap();
    let end = text.find("      addon:").unwrap();
    std::fs::write(&file, format!("{}{}", &text[..start], &text[end..])).unwrap();
    assert_rejected(
        &file,
        &[
            "BackupConfiguration shop/orders-backup",
            "spec.sessions[0].repositories",
            "at least one repository is required",
        ],
    );
}

#[test]
fn an_unknown_backend_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let file = directory.path().join("workload/backupconfiguration.yaml");
    edit(&file, "backend: local", "backend: nowhere");
    assert_rejected(
        &file,
        &[
            "BackupConfiguration shop/orders-backup",
            "spec.sessions[0].repositories[0].backend",
            "unknown backend `nowhere`",
        ],
    );
}

#[test]
fn duplicate_session_names_are_rejected() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let file = directory.path().join("workload/backupconfiguration.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let start = text.find("    - name: nightly").unwrap();
    let session = text[start..]
        .replace("orders-repo", "orders-repo-2")
        .replace("/shop/orders", "/shop/orders-2");
    std::fs::write(&file, format!("{text}{session}")).unwrap();
    assert_rejected(
        &file,
        &[
            "BackupConfiguration shop/orders-backup",
            "spec.sessions",
            "duplicate session name `nightly`",
        ],
    );
}

#[test]
fn a_repository_without_directory_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let file = directory.path().join("workload/backupconfiguration.yaml");
    edit(&file, "          directory: /shop/orders\n", "");
    assert_rejected(
        &file,
        &[
            "BackupConfiguration shop/orders-backup",
            "spec.sessions[0].repositories[0].directory",
            "directory is required",
        ],
    );
}

#[test]
fn a_retention_policy_without_rules_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let file = directory.path().join("shared/retentionpolicy.yaml");
    edit(&file, "  maxRetentionPeriod: 30d\n", "");
    edit(
        &file,
        "  successfulSnapshots:\n    last: 3\n    daily: 7\n",
        "",
    );
    assert_rejected(
        &file,
        &[
            "RetentionPolicy shop/keep-a-week",
            "spec",
            "one of `maxRetentionPeriod` or `successfulSnapshots` is required",
        ],
    );
}

#[test]
fn a_malformed_retention_period_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let file = directory.path().join("shared/retentionpolicy.yaml");
    edit(
        &file,
        "maxRetentionPeriod: 30d",
        "maxRetentionPeriod: 3 weeks",
    );
    assert_rejected(
        &file,
        &[
            "RetentionPolicy shop/keep-a-week",
            "spec.maxRetentionPeriod",
            "`3 weeks` is not a retention period",
        ],
    );
}

#[test]
fn latest_without_a_repository_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let file = directory.path().join("workload/restoresession.yaml");
    edit(&file, "    repository: orders-repo\n", "");
    assert_rejected(
        &file,
        &[
            "RestoreSession shop/orders-restore",
            "spec.dataSource.repository",
            "repository is required when snapshot is `latest`",
        ],
    );
}

#[test]
fn an_unresolved_blueprint_variable_is_reported_by_name() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let folder = directory.path().join("auto-backup");
    edit(
        &folder.join("deployment.yaml"),
        "    variables.kubestash.com/paths: /srv/invoices\n",
        "",
    );
    let result = run(&["validate", "-f", folder.to_str().unwrap()]);
    assert_eq!(result.code, 2, "{}\n{}", result.stdout, result.stderr);
    assert!(
        result.stdout.contains("Deployment shop/invoices"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("unresolved `${paths}`"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("variables.kubestash.com/paths"),
        "{}",
        result.stdout
    );
}

#[test]
fn a_storage_limited_to_its_namespace_is_denied_elsewhere() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let storage = directory.path().join("s3/backupstorage-s3.yaml");
    let configuration = directory.path().join("workload/backupconfiguration.yaml");
    edit(
        &configuration,
        "namespace: shop\nspec:",
        "namespace: other\nspec:",
    );
    edit(
        &configuration,
        "name: local-disk\n        namespace: shop",
        "name: s3-bucket\n        namespace: shop",
    );
    let result = run(&[
        "validate",
        "-f",
        storage.to_str().unwrap(),
        "-f",
        configuration.to_str().unwrap(),
    ]);
    assert_eq!(result.code, 2, "{}\n{}", result.stdout, result.stderr);
    for part in [
        "BackupConfiguration other/orders-backup",
        "spec.backends[0].storageRef",
        "BackupStorage shop/s3-bucket cannot be used from namespace `other`",
        "from: Same",
    ] {
        assert!(
            result.stdout.contains(part),
            "missing {part:?} in:\n{}",
            result.stdout
        );
    }
}

#[test]
fn a_second_default_storage_in_a_namespace_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let file = directory.path().join("shared/backupstorage-local.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let second = text
        .replace("name: local-disk", "name: local-disk-2")
        .replace("path: ", "path: /other");
    std::fs::write(&file, format!("{text}---\n{second}")).unwrap();
    assert_rejected(
        &file,
        &[
            "BackupStorage shop/local-disk-2",
            "spec.default",
            "already has a default BackupStorage: `local-disk`",
        ],
    );
}

#[test]
fn legacy_fields_are_tolerated_with_a_warning() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let file = directory.path().join("workload/backupconfiguration.yaml");
    edit(
        &file,
        "    - name: nightly\n",
        "    - name: nightly\n      failurePolicy: Fail\n",
    );
    let result = run(&["validate", "-f", file.to_str().unwrap()]);
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert!(
        result.stdout.contains("spec.sessions[0].failurePolicy"),
        "{}",
        result.stdout
    );
    assert!(result.stdout.contains("warning"), "{}", result.stdout);
}

#[test]
fn a_wrongly_typed_field_names_its_path() {
    let result = run_with_stdin(
        &["validate", "-f", "-"],
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: RetentionPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  successfulSnapshots:\n    last: three\n",
    );
    assert_eq!(result.code, 2, "{}\n{}", result.stdout, result.stderr);
    assert!(
        result.stdout.contains("RetentionPolicy shop/p"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("spec.successfulSnapshots.last"),
        "{}",
        result.stdout
    );
}

#[test]
fn stdin_and_json_output_work_together() {
    let result = run_with_stdin(
        &["validate", "-f", "-", "-o", "json"],
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: RetentionPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  maxRetentionPeriod: 2w\n",
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    let report: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    assert_eq!(report["checked"][0]["name"], "p");
}

#[test]
fn a_missing_file_is_bad_input() {
    let result = run(&["validate", "-f", "/nonexistent/manifest.yaml"]);
    assert_eq!(result.code, 2);
    assert!(
        result
            .stderr
            .contains("unable to read `/nonexistent/manifest.yaml`"),
        "{}",
        result.stderr
    );
}

#[test]
fn a_file_without_objects_is_bad_input() {
    let result = run_with_stdin(&["validate", "-f", "-"], "# nothing here\n");
    assert_eq!(result.code, 2);
    assert!(
        result.stderr.contains("no objects found"),
        "{}",
        result.stderr
    );
    assert!(result.stderr.contains("hint:"), "{}", result.stderr);
}

#[test]
fn broken_yaml_is_reported_not_crashed_on() {
    let result = run_with_stdin(
        &["validate", "-f", "-"],
        "apiVersion: v1\nkind: [unclosed\n",
    );
    assert_eq!(result.code, 2, "{}\n{}", result.stdout, result.stderr);
    assert!(
        result.stdout.contains("not valid YAML"),
        "{}",
        result.stdout
    );
}
