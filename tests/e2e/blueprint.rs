//! `blueprint preview`: offline from files, and against the sandbox cluster.

use std::process::Command;

use crate::sandbox::RunningSandbox;
use crate::{binary, copy_examples, run};

#[test]
fn a_blueprint_resolves_offline_from_files() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let blueprint = directory.path().join("auto-backup/backupblueprint.yaml");
    let target = directory.path().join("auto-backup/deployment.yaml");
    let result = run(&[
        "blueprint",
        "preview",
        "-f",
        blueprint.to_str().unwrap(),
        "--target-file",
        target.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let configuration: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    assert_eq!(configuration["kind"], "BackupConfiguration");
    assert_eq!(configuration["metadata"]["name"], "deployment-invoices");
    let session = &configuration["spec"]["sessions"][0];
    assert_eq!(session["scheduler"]["schedule"], "15 3 * * *");
    assert_eq!(session["repositories"][0]["name"], "invoices-repo");
    assert_eq!(
        session["addon"]["tasks"][0]["params"]["paths"],
        "/srv/invoices"
    );
    // What preview prints is itself a valid BackupConfiguration.
    let printed = directory.path().join("preview.json");
    std::fs::write(&printed, &result.stdout).unwrap();
    assert_eq!(run(&["validate", "-f", printed.to_str().unwrap()]).code, 0);

    // A target file without a namespace is in the one -n names, as with kubectl apply.
    let text = std::fs::read_to_string(&target).unwrap();
    let unplaced = directory.path().join("unplaced.yaml");
    std::fs::write(&unplaced, text.replacen("  namespace: shop\n", "", 1)).unwrap();
    let result = run(&[
        "blueprint",
        "preview",
        "-f",
        blueprint.to_str().unwrap(),
        "--target-file",
        unplaced.to_str().unwrap(),
        "-n",
        "billing",
        "-o",
        "json",
    ]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let configuration: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    assert_eq!(configuration["spec"]["target"]["namespace"], "billing");
}

#[test]
fn unresolved_variables_are_named_and_exit_two() {
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    let target = directory.path().join("auto-backup/deployment.yaml");
    let text = std::fs::read_to_string(&target)
        .unwrap()
        .replace("    variables.kubestash.com/paths: /srv/invoices\n", "");
    std::fs::write(&target, text).unwrap();
    let blueprint = directory.path().join("auto-backup/backupblueprint.yaml");
    let result = run(&[
        "blueprint",
        "preview",
        "-f",
        blueprint.to_str().unwrap(),
        "--target-file",
        target.to_str().unwrap(),
    ]);
    assert_eq!(result.code, 2);
    assert!(
        result.stdout.is_empty(),
        "nothing half-resolved on stdout: {}",
        result.stdout
    );
    assert!(result.stderr.contains("${paths}"), "{}", result.stderr);
    assert!(
        result
            .stderr
            .contains("hint: annotate the target with variables.kubestash.com/paths"),
        "{}",
        result.stderr
    );
}

#[test]
fn a_blueprint_resolves_against_the_cluster() {
    let sandbox = RunningSandbox::start();
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    sandbox.kubectl_ok(&[
        "apply",
        "-f",
        crate::repository_root().join("crds").to_str().unwrap(),
    ]);
    for file in [
        "shared/namespace.yaml",
        "auto-backup/backupblueprint.yaml",
        "auto-backup/deployment.yaml",
    ] {
        sandbox.kubectl_ok(&["apply", "-f", directory.path().join(file).to_str().unwrap()]);
    }
    let output = Command::new(binary())
        .args([
            "blueprint",
            "preview",
            "--target",
            "deployment/invoices",
            "-n",
            "shop",
            "--kubeconfig",
        ])
        .arg(&sandbox.kubeconfig)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("name: deployment-invoices") && text.contains("directory: shop/invoices"),
        "{text}"
    );

    let missing = Command::new(binary())
        .args([
            "blueprint",
            "preview",
            "--target",
            "deployment/nowhere",
            "-n",
            "shop",
            "--kubeconfig",
        ])
        .arg(&sandbox.kubeconfig)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("shop/nowhere"));
}
