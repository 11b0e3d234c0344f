//! `snapshots list|describe` and `pause|resume` against the sandbox cluster.

use std::process::Command;

use crate::sandbox::RunningSandbox;
use crate::{binary, copy_examples, repository_root};

fn plugin(sandbox: &RunningSandbox, args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .args(args)
        .arg("--kubeconfig")
        .arg(&sandbox.kubeconfig)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn snapshot(name: &str, repository: &str) -> String {
    format!(
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: Snapshot\nmetadata: {{name: {name}, namespace: shop}}\nspec: {{repository: {repository}, session: nightly, backupSession: orders-backup-nightly-1, version: v1}}\n---\n"
    )
}

fn prepared() -> RunningSandbox {
    let sandbox = RunningSandbox::start();
    let directory = tempfile::tempdir().unwrap();
    copy_examples(directory.path());
    sandbox.kubectl_ok(&[
        "apply",
        "-f",
        repository_root().join("crds").to_str().unwrap(),
    ]);
    for file in ["shared/namespace.yaml", "workload/backupconfiguration.yaml"] {
        sandbox.kubectl_ok(&["apply", "-f", directory.path().join(file).to_str().unwrap()]);
    }
    let snapshots = [
        ("orders-old", "orders-repo", "2026-11-01T02:30:00Z"),
        ("orders-new", "orders-repo", "2026-11-20T02:30:00Z"),
        ("ledger-one", "ledger-repo", "2026-11-10T00:00:00Z"),
    ];
    let file = directory.path().join("snapshots.yaml");
    std::fs::write(
        &file,
        snapshots
            .iter()
            .map(|(name, repository, _)| snapshot(name, repository))
            .collect::<String>(),
    )
    .unwrap();
    sandbox.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    for (name, _, time) in snapshots {
        let status = format!(
            r#"{{"status":{{"phase":"Succeeded","snapshotTime":"{time}","size":"1.5 MiB","integrity":true,"totalComponents":1,"components":{{"dump":{{"path":"repository/v1/nightly/dump","phase":"Succeeded","size":"1.5 MiB","integrity":true,"resticStats":[{{"summary":{{"id":"0123456789abcdef","size":"1.5 MiB"}}}}]}}}}}}}}"#
        );
        sandbox.kubectl_ok(&[
            "patch",
            "snapshot",
            name,
            "-n",
            "shop",
            "--subresource=status",
            "--type=merge",
            "-p",
            &status,
        ]);
    }
    sandbox
}

#[test]
fn snapshots_list_newest_first_and_filter() {
    let sandbox = prepared();
    let table = plugin(&sandbox, &["snapshots", "list", "-n", "shop"]);
    assert!(
        table.status.success(),
        "{}",
        String::from_utf8_lossy(&table.stderr)
    );
    let text = String::from_utf8_lossy(&table.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("NAME")
            && lines[0].contains("REPOSITORY")
            && lines[0].contains("PHASE"),
        "{text}"
    );
    let names: Vec<&str> = lines[1..]
        .iter()
        .map(|line| line.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, ["orders-new", "ledger-one", "orders-old"]);

    let json = plugin(
        &sandbox,
        &[
            "snapshots",
            "list",
            "-n",
            "shop",
            "--repository",
            "orders-repo",
            "-o",
            "json",
        ],
    );
    let items: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let names: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["orders-new", "orders-old"]);

    let by_configuration = plugin(
        &sandbox,
        &[
            "snapshots",
            "list",
            "-n",
            "shop",
            "--config",
            "orders-backup",
            "-o",
            "yaml",
        ],
    );
    let text = String::from_utf8_lossy(&by_configuration.stdout);
    assert!(
        text.contains("orders-new") && !text.contains("ledger-one"),
        "{text}"
    );

    let all = plugin(&sandbox, &["snapshots", "list", "-A"]);
    assert!(String::from_utf8_lossy(&all.stdout)
        .lines()
        .next()
        .unwrap()
        .starts_with("NAMESPACE"));
}

#[test]
fn snapshots_describe_shows_components() {
    let sandbox = prepared();
    let described = plugin(
        &sandbox,
        &["snapshots", "describe", "orders-new", "-n", "shop"],
    );
    assert!(
        described.status.success(),
        "{}",
        String::from_utf8_lossy(&described.stderr)
    );
    let text = String::from_utf8_lossy(&described.stdout);
    for part in [
        "Repository:    orders-repo",
        "Phase:         Succeeded",
        "repository/v1/nightly/dump",
        "01234567",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
    let missing = plugin(
        &sandbox,
        &["snapshots", "describe", "nothing", "-n", "shop"],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("Snapshot shop/nothing not found"));
}

#[test]
fn pause_and_resume_flip_spec_paused() {
    let sandbox = prepared();
    let paused = plugin(&sandbox, &["pause", "orders-backup", "-n", "shop"]);
    assert!(
        paused.status.success(),
        "{}",
        String::from_utf8_lossy(&paused.stderr)
    );
    assert!(paused.stdout.is_empty(), "messages go to stderr");
    assert_eq!(
        sandbox.kubectl_ok(&[
            "get",
            "bc",
            "orders-backup",
            "-n",
            "shop",
            "-o",
            "jsonpath={.spec.paused}"
        ]),
        "true"
    );
    assert!(plugin(&sandbox, &["resume", "orders-backup", "-n", "shop"])
        .status
        .success());
    assert_ne!(
        sandbox.kubectl_ok(&[
            "get",
            "bc",
            "orders-backup",
            "-n",
            "shop",
            "-o",
            "jsonpath={.spec.paused}"
        ]),
        "true"
    );
    let missing = plugin(&sandbox, &["pause", "nothing", "-n", "shop"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("BackupConfiguration shop/nothing not found"));
}

#[test]
fn waiting_past_the_timeout_exits_3_and_names_the_session() {
    let sandbox = prepared();
    // Without --wait and with no operator, the session would sit Pending: the CLI says so.
    let unwatched = plugin(&sandbox, &["backup", "now", "orders-backup", "-n", "shop"]);
    let stderr = String::from_utf8_lossy(&unwatched.stderr);
    assert_eq!(unwatched.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: no operator is running")
            && stderr.contains("stays Pending until one does"),
        "{stderr}"
    );
    // A live Lease held by an operator that never acts: nothing embedded starts, the session
    // stays Pending, and the wait runs out.
    sandbox.kubectl_ok(&["create", "namespace", "kubestash"]);
    let lease = format!(
        "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {{name: kubestash-operator, namespace: kubestash}}\nspec: {{holderIdentity: elsewhere, leaseDurationSeconds: 3600, renewTime: \"{}\"}}\n",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ")
    );
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("lease.yaml");
    std::fs::write(&file, lease).unwrap();
    sandbox.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    let run = plugin(
        &sandbox,
        &[
            "backup",
            "now",
            "orders-backup",
            "-n",
            "shop",
            "--wait",
            "--timeout",
            "2s",
            "-o",
            "json",
        ],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("timed out after 2s waiting for orders-backup-nightly-"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("in this process"),
        "an operator holds the Lease: {stderr}"
    );
    assert!(
        stderr.contains("hint: see `kubectl describe backupsession"),
        "{stderr}"
    );
    // The result still comes, as far as it got, for a CI step to parse.
    let result: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(result["phase"], "TimedOut", "{result}");
    let sessions = result["backupSessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{result}");
    assert_eq!(sessions[0]["phase"], "Pending", "{result}");
    assert!(
        sessions[0]["backupSession"]
            .as_str()
            .unwrap()
            .starts_with("orders-backup-nightly-"),
        "{result}"
    );
    // A restore that runs out of time reports the same way.
    let repository = directory.path().join("repository.yaml");
    std::fs::write(
        &repository,
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: Repository\nmetadata: {name: orders-repo, namespace: shop}\nspec: {appRef: {kind: Deployment, name: orders, namespace: shop}, storageRef: {name: s3-storage, namespace: stash}, path: /orders, encryptionSecret: {name: shop-restic-password, namespace: shop}}\n",
    )
    .unwrap();
    sandbox.kubectl_ok(&["apply", "-f", repository.to_str().unwrap()]);
    let restore = plugin(
        &sandbox,
        &[
            "restore",
            "-n",
            "shop",
            "--from-repository",
            "orders-repo",
            "--target",
            "deployment/orders",
            "--wait",
            "--timeout",
            "2s",
            "-o",
            "json",
        ],
    );
    let stderr = String::from_utf8_lossy(&restore.stderr);
    assert_eq!(restore.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("waiting for RestoreSession shop/"),
        "{stderr}"
    );
    let result: serde_json::Value = serde_json::from_slice(&restore.stdout).unwrap();
    assert_eq!(result["phase"], "TimedOut", "{result}");
    assert_eq!(result["reason"], "timed out after 2s", "{result}");
    assert!(result["restoreSession"].is_string(), "{result}");
    // Without --wait, the same shape: what was created, Pending.
    let created = plugin(
        &sandbox,
        &["backup", "now", "orders-backup", "-n", "shop", "-o", "json"],
    );
    assert_eq!(created.status.code(), Some(0));
    let result: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    assert_eq!(result["phase"], "Pending", "{result}");
    assert_eq!(result["namespace"], "shop", "{result}");
    assert_eq!(
        result["backupSessions"][0]["session"], "nightly",
        "{result}"
    );
    let bad = plugin(
        &sandbox,
        &[
            "backup",
            "now",
            "orders-backup",
            "-n",
            "shop",
            "--timeout",
            "soon",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--timeout `soon`"));
}
