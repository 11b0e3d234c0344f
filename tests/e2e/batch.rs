//! BackupBatch on the sandbox: a Deployment and a PVC backed up together by one session,
//! each with its own Addon and repository; the CronJob tick and `backup now --batch`; a
//! restore of one target pausing and resuming the whole batch; an invalid batch.

use std::time::Duration;

use serde_json::Value;

use crate::operator::{restic, Operator, Setup};
use crate::sandbox::wait_for;

const BATCH: &str = "\
apiVersion: core.kubestash.com/v1alpha1
kind: BackupBatch
metadata:
  name: shop-batch
  namespace: shop
spec:
  backends:
    - name: local
      storageRef: {name: local-disk, namespace: shop}
      retentionPolicy: {name: keep-a-week, namespace: shop}
  targets:
    - name: orders
      appRef: {apiGroup: apps, kind: Deployment, name: orders, namespace: shop}
    - name: ledger
      appRef: {apiGroup: \"\", kind: PersistentVolumeClaim, name: ledger, namespace: shop}
  sessions:
    - name: nightly
      scheduler:
        schedule: \"0 1 * * *\"
        jobTemplate: {backoffLimit: 1}
      targets:
        - name: orders
          addon:
            name: workload-addon
            tasks:
              - name: logical-backup
                targetVolumes:
                  volumeMounts: [{name: orders-data, mountPath: /var/lib/orders}]
                params: {paths: /var/lib/orders}
          repositories:
            - name: batch-orders
              backend: local
              directory: /shop/batch/orders
              encryptionSecret: {name: shop-restic-password, namespace: shop}
        - name: ledger
          addon: {name: pvc-addon, tasks: [{name: logical-backup}]}
          repositories:
            - name: batch-ledger
              backend: local
              directory: /shop/batch/ledger
              encryptionSecret: {name: shop-restic-password, namespace: shop}
";

const RESTORE: &str = "\
apiVersion: core.kubestash.com/v1alpha1
kind: RestoreSession
metadata:
  name: orders-from-batch
  namespace: shop
spec:
  target: {apiGroup: apps, kind: Deployment, name: orders, namespace: shop}
  dataSource:
    repository: batch-orders
    snapshot: latest
    encryptionSecret: {name: shop-restic-password, namespace: shop}
  addon:
    name: workload-addon
    tasks: [{name: logical-backup-restore}]
";

fn apply_text(setup: &Setup, dir: &std::path::Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", &path.display().to_string()]);
}

fn phase(setup: &Setup, kind: &str, name: &str) -> Value {
    setup.field(&["get", kind, name, "-n", "shop"], "/status/phase")
}

#[test]
fn a_batch_backs_up_each_target_into_its_own_repository_and_a_restore_pauses_the_batch() {
    let setup = Setup::new();
    let _operator = Operator::start(&setup.sandbox);
    setup.shared();
    setup.apply(&[
        "workload/pvc.yaml",
        "workload/deployment.yaml",
        "pvc/pvc.yaml",
    ]);
    setup.seed_orders_data();
    let ledger = setup.pvc("shop", "ledger");
    std::fs::create_dir_all(&ledger).unwrap();
    std::fs::write(ledger.join("ledger.txt"), b"credit 10\n").unwrap();
    let scratch = tempfile::tempdir().unwrap();
    apply_text(&setup, scratch.path(), "batch.yaml", BATCH);

    wait_for("the batch to become Ready", Duration::from_secs(60), || {
        phase(&setup, "backupbatch", "shop-batch") == "Ready"
    });
    let status = setup.json(&["get", "backupbatch", "shop-batch", "-n", "shop"])["status"].clone();
    let found: Vec<(String, bool)> = status["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["found"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [("orders".to_string(), true), ("ledger".to_string(), true)]
    );
    for (repository, kind) in [
        ("batch-orders", "Deployment"),
        ("batch-ledger", "PersistentVolumeClaim"),
    ] {
        let object = setup.json(&["get", "repository", repository, "-n", "shop"]);
        assert_eq!(object["spec"]["appRef"]["kind"], kind, "{object}");
        assert_eq!(
            object["metadata"]["ownerReferences"][0]["kind"],
            "BackupBatch"
        );
    }
    let cron = setup.json(&[
        "get",
        "cronjob",
        "trigger-batch-shop-batch-nightly",
        "-n",
        "shop",
    ]);
    assert_eq!(cron["spec"]["schedule"], "0 1 * * *");
    let args = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
        .to_string();
    assert!(args.contains("--invoker-kind=BackupBatch"), "{args}");

    // A CronJob tick runs one session over both targets.
    setup.tick("trigger-batch-shop-batch-nightly");
    let mut session = Value::Null;
    wait_for("a finished BackupSession", Duration::from_secs(90), || {
        let list = setup.json(&["get", "backupsessions", "-n", "shop"]);
        session = list["items"][0].clone();
        let phase = session["status"]["phase"].as_str().unwrap_or_default();
        assert!(
            phase != "Failed" && phase != "Skipped",
            "{}",
            session["status"]
        );
        phase == "Succeeded"
    });
    let name = session["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("shop-batch-nightly-"), "{name}");
    assert_eq!(session["spec"]["invoker"]["kind"], "BackupBatch");
    assert_eq!(session["status"]["totalSnapshots"], 2);
    let snapshots = setup.json(&["get", "snapshots", "-n", "shop"])["items"].clone();
    let snapshots = snapshots.as_array().unwrap();
    assert_eq!(snapshots.len(), 2, "{snapshots:?}");
    for snapshot in snapshots {
        let (repository, app) = match snapshot["spec"]["repository"].as_str().unwrap() {
            "batch-orders" => ("shop/batch/orders", "orders"),
            "batch-ledger" => ("shop/batch/ledger", "ledger"),
            other => panic!("unexpected repository {other}"),
        };
        assert_eq!(snapshot["status"]["phase"], "Succeeded", "{snapshot}");
        assert_eq!(snapshot["status"]["totalComponents"], 1, "{snapshot}");
        assert_eq!(snapshot["spec"]["appRef"]["name"], app);
        let components = snapshot["status"]["components"].as_object().unwrap();
        assert_eq!(components.keys().collect::<Vec<_>>(), ["dump"]);
        let tree = restic(
            &setup
                .storage()
                .join(repository)
                .join("repository/v1/nightly/dump"),
            &["ls", "latest"],
        );
        // Each repository holds its own target's data and only that.
        if app == "orders" {
            assert!(tree.contains("/var/lib/orders/a"), "{tree}");
            assert!(!tree.contains("ledger.txt"), "{tree}");
        } else {
            assert!(tree.contains("ledger.txt"), "{tree}");
            assert!(!tree.contains("/var/lib/orders"), "{tree}");
        }
        let tags = restic(
            &setup
                .storage()
                .join(repository)
                .join("repository/v1/nightly/dump"),
            &["snapshots", "--json"],
        );
        assert!(tags.contains(&format!("kubestash.com/app:{app}")), "{tags}");
    }

    // `backup now --batch` waits for the same.
    let now = setup.sandbox.plugin(&[
        "backup",
        "now",
        "shop-batch",
        "--batch",
        "-n",
        "shop",
        "--wait",
        "--timeout",
        "2m",
        "-o",
        "json",
    ]);
    assert_eq!(now.code, 0, "{}{}", now.stdout, now.stderr);
    let result = crate::only_session(&now.stdout);
    assert_eq!(result["phase"], "Succeeded", "{result}");
    assert_eq!(result["snapshots"].as_array().unwrap().len(), 2, "{result}");

    // `snapshots list --batch` lists both targets' snapshots of both sessions, nothing else.
    let listed = setup.sandbox.plugin(&[
        "snapshots",
        "list",
        "--batch",
        "shop-batch",
        "-n",
        "shop",
        "-o",
        "json",
    ]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let listed: Value = serde_json::from_str(&listed.stdout).unwrap();
    let repositories: Vec<&str> = listed
        .as_array()
        .or_else(|| listed["items"].as_array())
        .expect("a JSON list")
        .iter()
        .map(|snapshot| snapshot["spec"]["repository"].as_str().unwrap())
        .collect();
    assert_eq!(repositories.len(), 4, "{listed}");
    assert!(
        repositories
            .iter()
            .all(|name| *name == "batch-orders" || *name == "batch-ledger"),
        "{repositories:?}"
    );
    let missing = setup
        .sandbox
        .plugin(&["backup", "now", "nobody", "--batch", "-n", "shop"]);
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("BackupBatch shop/nobody not found"),
        "{}",
        missing.stderr
    );

    // Restoring one target pauses the whole batch, then resumes it.
    let data = setup.pvc("shop", "orders-data");
    std::fs::remove_file(data.join("a")).unwrap();
    apply_text(&setup, scratch.path(), "restore.yaml", RESTORE);
    wait_for("the restore to end", Duration::from_secs(60), || {
        let phase = phase(&setup, "restoresession", "orders-from-batch");
        assert!(phase != "Failed" && phase != "Invalid", "{phase}");
        phase == "Succeeded"
    });
    assert_eq!(std::fs::read(data.join("a")).unwrap(), b"a");
    let paused = setup.field(
        &["get", "restoresession", "orders-from-batch", "-n", "shop"],
        "/status/pausedBackups",
    );
    assert_eq!(paused[0]["kind"], "BackupBatch", "{paused}");
    assert_eq!(paused[0]["name"], "shop-batch", "{paused}");
    wait_for("the batch resumed", Duration::from_secs(20), || {
        setup.field(
            &["get", "backupbatch", "shop-batch", "-n", "shop"],
            "/spec/paused",
        ) != true
    });

    // `pause --batch` suspends the batch's CronJob; `resume --batch` lifts it.
    let pause = setup
        .sandbox
        .plugin(&["pause", "shop-batch", "--batch", "-n", "shop"]);
    assert_eq!(pause.code, 0, "{}", pause.stderr);
    let suspended = || {
        setup.field(
            &[
                "get",
                "cronjob",
                "trigger-batch-shop-batch-nightly",
                "-n",
                "shop",
            ],
            "/spec/suspend",
        ) == true
    };
    wait_for(
        "the batch CronJob suspended",
        Duration::from_secs(20),
        suspended,
    );
    let resume = setup
        .sandbox
        .plugin(&["resume", "shop-batch", "--batch", "-n", "shop"]);
    assert_eq!(resume.code, 0, "{}", resume.stderr);
    wait_for("the batch CronJob resumed", Duration::from_secs(20), || {
        !suspended()
    });
    let missing = setup
        .sandbox
        .plugin(&["pause", "shop-orders", "--batch", "-n", "shop"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("BackupBatch shop/shop-orders not found"),
        "{}",
        missing.stderr
    );

    // A session target that names no target makes the batch Invalid, naming the field.
    let invalid = BATCH
        .replace("name: shop-batch", "name: broken-batch")
        .replace("        - name: ledger\n", "        - name: ledgr\n")
        .replace("batch-orders", "broken-orders")
        .replace("batch-ledger", "broken-ledger");
    apply_text(&setup, scratch.path(), "invalid.yaml", &invalid);
    wait_for("the broken batch Invalid", Duration::from_secs(30), || {
        phase(&setup, "backupbatch", "broken-batch") == "Invalid"
    });
    let conditions = setup.field(
        &["get", "backupbatch", "broken-batch", "-n", "shop"],
        "/status/conditions",
    );
    assert!(
        conditions
            .to_string()
            .contains("spec.sessions[0].targets[1].name"),
        "{conditions}"
    );
}
