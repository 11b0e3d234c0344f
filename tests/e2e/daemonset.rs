//! A DaemonSet target on the sandbox: one component per node, named after the node and
//! pinned to it, its hostPath volume picked without `targetVolumes`, and restored back.

use std::time::Duration;

use crate::operator::{restic, Operator, Setup};
use crate::sandbox::wait_for;

fn manifests(logs: &std::path::Path) -> String {
    format!(
        "\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: log-agent
  namespace: shop
spec:
  selector:
    matchLabels: {{app: log-agent}}
  template:
    metadata:
      labels: {{app: log-agent}}
    spec:
      containers:
        - name: agent
          image: busybox:1.36
          command: [sh, -c, sleep 3600]
          volumeMounts: [{{name: logs, mountPath: /var/log/app}}]
      volumes:
        - name: logs
          hostPath: {{path: {logs}, type: DirectoryOrCreate}}
---
apiVersion: core.kubestash.com/v1alpha1
kind: BackupConfiguration
metadata:
  name: log-agent-backup
  namespace: shop
spec:
  target: {{apiGroup: apps, kind: DaemonSet, name: log-agent, namespace: shop}}
  backends:
    - name: local
      storageRef: {{name: local-disk, namespace: shop}}
  sessions:
    - name: hourly
      scheduler: {{schedule: \"0 * * * *\", jobTemplate: {{backoffLimit: 1}}}}
      repositories:
        - name: log-agent-repo
          backend: local
          directory: /shop/log-agent
          encryptionSecret: {{name: shop-restic-password, namespace: shop}}
      addon:
        name: workload-addon
        tasks:
          - name: logical-backup
            params: {{paths: /var/log/app}}
---
apiVersion: core.kubestash.com/v1alpha1
kind: RestoreSession
metadata:
  name: log-agent-restore
  namespace: shop
spec:
  target: {{apiGroup: apps, kind: DaemonSet, name: log-agent, namespace: shop}}
  dataSource:
    repository: log-agent-repo
    snapshot: latest
    encryptionSecret: {{name: shop-restic-password, namespace: shop}}
  addon:
    name: workload-addon
    tasks: [{{name: logical-backup-restore}}]
",
        logs = logs.display()
    )
}

#[test]
fn a_daemon_set_is_backed_up_and_restored_per_node() {
    let setup = Setup::new();
    let _operator = Operator::start(&setup.sandbox);
    setup.shared();
    let scratch = tempfile::tempdir().unwrap();
    let logs = scratch.path().join("node-logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("app.log"), b"started\n").unwrap();
    let text = manifests(&logs);
    let (objects, restore) = text
        .split_once("---\napiVersion: core.kubestash.com/v1alpha1\nkind: RestoreSession")
        .unwrap();
    let file = scratch.path().join("objects.yaml");
    std::fs::write(&file, objects).unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    wait_for("the DaemonSet's pod", Duration::from_secs(30), || {
        let pods = setup.json(&["get", "pods", "-n", "shop", "-l", "app=log-agent"]);
        pods["items"][0]["spec"]["nodeName"].is_string()
    });
    let node = setup.json(&["get", "pods", "-n", "shop", "-l", "app=log-agent"])["items"][0]
        ["spec"]["nodeName"]
        .as_str()
        .unwrap()
        .to_string();

    // `backup now --wait` of the configuration; the run's output as JSON.
    let backup_now = || {
        setup.sandbox.plugin(&[
            "backup",
            "now",
            "log-agent-backup",
            "-n",
            "shop",
            "--wait",
            "--timeout",
            "2m",
            "-o",
            "json",
        ])
    };
    let backup = backup_now();
    assert_eq!(backup.code, 0, "{}{}", backup.stdout, backup.stderr);
    let result = crate::only_session(&backup.stdout);
    let components = &result["snapshots"][0]["components"];
    assert_eq!(components[0]["name"], node.as_str(), "{result}");
    assert_eq!(components.as_array().unwrap().len(), 1, "{result}");
    // The Job ran on the node whose directory it read.
    let session = result["backupSession"].as_str().unwrap();
    let jobs = setup.json(&[
        "get",
        "jobs",
        "-n",
        "shop",
        "-l",
        &format!("kubestash.com/backup-session={session}"),
    ]);
    assert_eq!(
        jobs["items"][0]["spec"]["template"]["spec"]["nodeName"],
        node.as_str(),
        "{jobs}"
    );
    // ...and could not write to it: the node's directory is mounted read-only.
    let mounts = jobs["items"][0]["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let logs_mount = mounts
        .iter()
        .find(|mount| mount["name"] == "logs")
        .unwrap_or_else(|| panic!("no `logs` mount in {jobs}"));
    assert_eq!(logs_mount["readOnly"], true, "{logs_mount}");
    let repository = setup
        .storage()
        .join("shop/log-agent/repository/v1/hourly")
        .join(&node);
    let tree = restic(&repository, &["ls", "latest"]);
    assert!(tree.contains("/var/log/app/app.log"), "{tree}");
    let listed = restic(&repository, &["snapshots", "--json"]);
    assert!(
        listed.contains(&format!("\"hostname\":\"{node}\"")),
        "{listed}"
    );

    std::fs::remove_file(logs.join("app.log")).unwrap();
    let restore_file = scratch.path().join("restore.yaml");
    std::fs::write(
        &restore_file,
        format!("apiVersion: core.kubestash.com/v1alpha1\nkind: RestoreSession{restore}"),
    )
    .unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", restore_file.to_str().unwrap()]);
    wait_for("the restore", Duration::from_secs(60), || {
        let phase = setup.field(
            &["get", "restoresession", "log-agent-restore", "-n", "shop"],
            "/status/phase",
        );
        assert!(phase != "Failed" && phase != "Invalid", "{phase}");
        phase == "Succeeded"
    });
    assert_eq!(std::fs::read(logs.join("app.log")).unwrap(), b"started\n");

    // A node the DaemonSet ran on is gone (its pod is still listed): the Job pinned to it
    // could never start, so the session fails naming the node instead of waiting for good.
    let pod = &setup.json(&["get", "pods", "-n", "shop", "-l", "app=log-agent"])["items"][0];
    let orphan = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "log-agent-edge",
            "namespace": "shop",
            "labels": pod["metadata"]["labels"],
            "ownerReferences": pod["metadata"]["ownerReferences"],
        },
        "spec": {
            "nodeName": "edge-gone",
            "containers": [{"name": "agent", "image": "busybox:1.36"}],
        },
    });
    let orphan_file = scratch.path().join("orphan.json");
    std::fs::write(&orphan_file, orphan.to_string()).unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", orphan_file.to_str().unwrap()]);
    let failed = backup_now();
    assert_ne!(failed.code, 0, "{}{}", failed.stdout, failed.stderr);
    let said = format!("{}{}", failed.stdout, failed.stderr);
    assert!(
        said.contains("pinned to node `edge-gone`, which no longer exists"),
        "{said}"
    );
}
