//! The backup and restore flows end to end: the real binary as operator (`operator run`) or
//! embedded in `backup now --wait`, the sandbox as cluster, `../shared/examples` as input,
//! and the stock `restic` as the judge of what was written.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::sandbox::{wait_for, RunningSandbox};
use crate::{binary, copy_examples};

pub(crate) const PASSWORD: &str = "correct-horse-battery-staple";

/// `operator run` against a sandbox; killed on drop.
pub(crate) struct Operator(Child);

impl Operator {
    pub(crate) fn start(sandbox: &RunningSandbox) -> Self {
        Self::start_with(sandbox, &[])
    }

    /// `operator run` with `flags`.
    pub(crate) fn start_with(sandbox: &RunningSandbox, flags: &[&str]) -> Self {
        let child = Command::new(binary())
            .args(["operator", "run"])
            .args(flags)
            .env("KUBECONFIG", &sandbox.kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let operator = Self(child);
        wait_for(
            "the operator's CRDs and catalog",
            Duration::from_secs(30),
            || {
                sandbox
                    .kubectl(&["get", "addon", "workload-addon"])
                    .status
                    .success()
            },
        );
        operator
    }
}

impl Operator {
    /// `operator run` with its Lease in `namespace`.
    pub(crate) fn start_in(sandbox: &RunningSandbox, namespace: &str) -> Self {
        let child = Command::new(binary())
            .args(["operator", "run", "-n", namespace])
            .env("KUBECONFIG", &sandbox.kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let operator = Self(child);
        wait_for("the operator's Lease", Duration::from_secs(30), || {
            sandbox
                .kubectl(&["get", "lease", "kubestash-operator", "-n", namespace])
                .status
                .success()
        });
        operator
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// A sandbox with the examples copied next to it.
pub(crate) struct Setup {
    pub(crate) sandbox: RunningSandbox,
    examples: tempfile::TempDir,
}

impl Setup {
    pub(crate) fn new() -> Self {
        let sandbox = RunningSandbox::start();
        let examples = tempfile::tempdir().unwrap();
        copy_examples(examples.path());
        Self { sandbox, examples }
    }

    pub(crate) fn file(&self, relative: &str) -> String {
        self.examples.path().join(relative).display().to_string()
    }

    pub(crate) fn storage(&self) -> PathBuf {
        // `copy_examples` puts the storage beside the file that names it.
        self.examples.path().join("shared/storage")
    }

    pub(crate) fn apply(&self, files: &[&str]) {
        for file in files {
            self.sandbox.kubectl_ok(&["apply", "-f", &self.file(file)]);
        }
    }

    pub(crate) fn pvc(&self, namespace: &str, claim: &str) -> PathBuf {
        self.sandbox
            .data_dir()
            .join("pvc")
            .join(namespace)
            .join(claim)
    }

    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.sandbox.kubectl_ok(&all)).unwrap()
    }

    pub(crate) fn field(&self, args: &[&str], pointer: &str) -> Value {
        self.json(args)
            .pointer(pointer)
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// The shared objects plus the workload example's claim, Deployment and configuration.
    /// `backup now orders-backup -n shop --wait --timeout 2m` plus `extra`.
    pub(crate) fn backup_wait(&self, extra: &[&str]) -> crate::Run {
        let mut args = vec![
            "backup",
            "now",
            "orders-backup",
            "-n",
            "shop",
            "--wait",
            "--timeout",
            "2m",
        ];
        args.extend_from_slice(extra);
        self.sandbox.plugin(&args)
    }

    /// A tick of the CronJob `cronjob` in `shop`, as `kubectl create job --from` makes one
    /// (built client-side: the sandbox decodes protobuf bodies only for a few kinds).
    pub(crate) fn tick(&self, cronjob: &str) {
        let job = self.sandbox.kubectl_ok(&[
            "create",
            "job",
            &format!("--from=cronjob/{cronjob}"),
            "tick",
            "-n",
            "shop",
            "--dry-run=client",
            "-o",
            "json",
        ]);
        let job_file = self.examples.path().join("tick.json");
        std::fs::write(&job_file, job).unwrap();
        self.sandbox
            .kubectl_ok(&["create", "-f", job_file.to_str().unwrap()]);
    }

    /// Without an operator: the install, the shared objects and the PVC example, files in
    /// the claim, then `backup now ledger-pvc-backup --wait` plus `extra`, which runs the
    /// controllers in-process. Returns the files written and the run.
    pub(crate) fn embedded_pvc_backup(
        &self,
        extra: &[&str],
    ) -> (Vec<(PathBuf, Vec<u8>)>, crate::Run) {
        let install = self.sandbox.plugin(&["install", "--no-operator"]);
        assert_eq!(install.code, 0, "{}", install.stderr);
        self.shared();
        self.apply(&["pvc/pvc.yaml", "pvc/backupconfiguration.yaml"]);
        let files = write_files(&self.pvc("shop", "ledger"));
        let mut args = vec![
            "backup",
            "now",
            "ledger-pvc-backup",
            "-n",
            "shop",
            "--wait",
            "--timeout",
            "2m",
        ];
        args.extend_from_slice(extra);
        (files, self.sandbox.plugin(&args))
    }

    /// One small file in the workload example's volume.
    pub(crate) fn seed_orders_data(&self) {
        let data = self.pvc("shop", "orders-data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("a"), b"a").unwrap();
    }

    pub(crate) fn workload(&self) {
        self.shared();
        self.apply(&[
            "workload/pvc.yaml",
            "workload/deployment.yaml",
            "workload/backupconfiguration.yaml",
        ]);
    }

    pub(crate) fn shared(&self) {
        self.apply(&[
            "shared/namespace.yaml",
            "shared/encryption-secret.yaml",
            "shared/backupstorage-local.yaml",
            "shared/retentionpolicy.yaml",
        ]);
    }
}

pub(crate) fn restic(repository: &Path, args: &[&str]) -> String {
    let output = Command::new("restic")
        .arg("-r")
        .arg(repository)
        .args(args)
        .env("RESTIC_PASSWORD", PASSWORD)
        .output()
        .expect("restic is installed");
    assert!(
        output.status.success(),
        "restic {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn write_files(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let files: Vec<(PathBuf, Vec<u8>)> = vec![
        (
            PathBuf::from("orders.db"),
            (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect(),
        ),
        (
            PathBuf::from("nested/deeper/notes.txt"),
            b"ship it\n".to_vec(),
        ),
        (PathBuf::from("empty"), Vec::new()),
    ];
    for (path, data) in &files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, data).unwrap();
    }
    files
}

fn assert_files(root: &Path, files: &[(PathBuf, Vec<u8>)]) {
    for (path, data) in files {
        let restored =
            std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            restored == *data,
            "{} differs after restore",
            path.display()
        );
    }
}

#[test]
fn workload_backup_from_the_cronjob_then_restore_brings_files_back_byte_for_byte() {
    let setup = Setup::new();
    let _operator = Operator::start(&setup.sandbox);
    setup.workload();
    let data = setup.pvc("shop", "orders-data");
    let files = write_files(&data);
    std::fs::create_dir_all(data.join("tmp")).unwrap();
    std::fs::write(data.join("tmp/scratch"), b"excluded").unwrap();

    wait_for("BackupStorage Ready", Duration::from_secs(30), || {
        setup.field(
            &["get", "backupstorage", "local-disk", "-n", "shop"],
            "/status/phase",
        ) == "Ready"
    });
    assert!(
        setup.storage().join("metadata.yaml").exists(),
        "metadata.yaml is written at the backend root"
    );
    wait_for("BackupConfiguration Ready", Duration::from_secs(30), || {
        setup.field(
            &["get", "backupconfiguration", "orders-backup", "-n", "shop"],
            "/status/phase",
        ) == "Ready"
    });
    assert!(setup.storage().join("shop/orders/repository.yaml").exists());
    assert_eq!(
        setup.field(
            &["get", "repository", "orders-repo", "-n", "shop"],
            "/spec/path"
        ),
        "/shop/orders"
    );
    assert_eq!(
        setup.field(
            &[
                "get",
                "cronjob",
                "trigger-orders-backup-nightly",
                "-n",
                "shop"
            ],
            "/spec/schedule"
        ),
        "30 2 * * *"
    );
    // The trigger pod follows the jobTemplate's pod settings.
    setup.sandbox.kubectl_ok(&[
        "patch", "backupconfiguration", "orders-backup", "-n", "shop", "--type=json", "-p",
        r#"[{"op":"add","path":"/spec/sessions/0/scheduler/jobTemplate/template","value":{"spec":{"imagePullSecrets":[{"name":"regcred"}],"securityContext":{"runAsUser":0}}}}]"#,
    ]);
    wait_for(
        "the CronJob to take the pod settings",
        Duration::from_secs(30),
        || {
            let cronjob = setup.json(&[
                "get",
                "cronjob",
                "trigger-orders-backup-nightly",
                "-n",
                "shop",
            ]);
            let pod = &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"];
            pod["imagePullSecrets"] == json!([{"name": "regcred"}])
                && pod["securityContext"]["runAsUser"] == 0
        },
    );

    setup.tick("trigger-orders-backup-nightly");
    let mut session = String::new();
    wait_for("a Succeeded BackupSession", Duration::from_secs(60), || {
        let list = setup.json(&["get", "backupsessions", "-n", "shop"]);
        let items = list["items"].as_array().cloned().unwrap_or_default();
        if let Some(item) = items.first() {
            session = item["metadata"]["name"].as_str().unwrap().to_string();
            let phase = item["status"]["phase"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert!(
                phase != "Failed" && phase != "Skipped",
                "the session ended {phase}: {}",
                item["status"]
            );
            return phase == "Succeeded";
        }
        false
    });
    assert!(session.starts_with("orders-backup-nightly-"), "{session}");
    let snapshots = setup.json(&["get", "snapshots", "-n", "shop"]);
    let snapshot = &snapshots["items"][0];
    assert_eq!(snapshot["status"]["phase"], "Succeeded", "{snapshot}");
    assert_eq!(snapshot["spec"]["backupSession"], session.as_str());
    let component = &snapshot["status"]["components"]["dump"];
    assert_eq!(component["path"], "repository/v1/nightly/dump");
    let restic_id = component["resticStats"][0]["summary"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let name = snapshot["metadata"]["name"].as_str().unwrap();
    assert!(
        setup
            .storage()
            .join(format!("shop/orders/snapshots/{name}.yaml"))
            .exists(),
        "the Snapshot is copied into the backend"
    );
    // The storage's status follows the Repository's size after the backup.
    wait_for(
        "the storage to show the repository's size",
        Duration::from_secs(30),
        || {
            let size = setup.field(
                &["get", "repository", "orders-repo", "-n", "shop"],
                "/status/size",
            );
            let storage = setup.json(&["get", "backupstorage", "local-disk", "-n", "shop"]);
            size.is_string()
                && storage["status"]["repositories"][0]["size"] == size
                && storage["status"]["totalSize"] == size
        },
    );

    // The stock restic reads it; the exclude held.
    let repository = setup
        .storage()
        .join("shop/orders/repository/v1/nightly/dump");
    let listed = restic(&repository, &["snapshots", "--json"]);
    assert!(listed.contains(&restic_id), "{listed}");
    let tree = restic(&repository, &["ls", "latest"]);
    assert!(
        tree.contains("/var/lib/orders/nested/deeper/notes.txt"),
        "{tree}"
    );
    assert!(!tree.contains("scratch"), "tmp/ is excluded: {tree}");

    // Lose the data, restore it.
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    setup.apply(&["workload/restoresession.yaml"]);
    wait_for("the RestoreSession to end", Duration::from_secs(60), || {
        let phase = setup.field(
            &["get", "restoresession", "orders-restore", "-n", "shop"],
            "/status/phase",
        );
        assert!(
            phase != "Failed" && phase != "Invalid",
            "{}",
            setup.json(&["get", "restoresession", "orders-restore", "-n", "shop"])["status"]
        );
        phase == "Succeeded"
    });
    assert_files(&data, &files);
    // Backups of the target were paused during the restore and are resumed after it.
    let status =
        setup.json(&["get", "restoresession", "orders-restore", "-n", "shop"])["status"].clone();
    assert_eq!(status["pausedBackups"][0]["name"], "orders-backup");
    wait_for("backups resumed", Duration::from_secs(20), || {
        setup.field(
            &["get", "backupconfiguration", "orders-backup", "-n", "shop"],
            "/spec/paused",
        ) != true
    });
    // A restore deleted while it ran (here: one that never existed) leaves its pause behind;
    // the operator lets go of it and the backups run again.
    setup.sandbox.kubectl_ok(&[
        "patch",
        "backupconfiguration",
        "orders-backup",
        "-n",
        "shop",
        "--type=merge",
        "-p",
        r#"{"metadata":{"annotations":{"kubestash.com/paused-by-restore":"shop/deleted-restore"}},"spec":{"paused":true}}"#,
    ]);
    wait_for(
        "the orphaned pause released",
        Duration::from_secs(30),
        || {
            let configuration =
                setup.json(&["get", "backupconfiguration", "orders-backup", "-n", "shop"]);
            configuration["spec"]["paused"] != true
                && configuration["metadata"]["annotations"]["kubestash.com/paused-by-restore"]
                    .is_null()
        },
    );
    let repo = setup.json(&["get", "repository", "orders-repo", "-n", "shop"]);
    assert_eq!(repo["status"]["snapshotCount"], 1, "{}", repo["status"]);
}

#[test]
fn embedded_pvc_backup_restores_into_a_fresh_claim_in_another_namespace() {
    // No operator: `backup now --wait` runs the controllers itself.
    let setup = Setup::new();
    let (files, run) = setup.embedded_pvc_backup(&["-o", "json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("running the controllers in this process"),
        "{}",
        run.stderr
    );
    let result = crate::only_session(&run.stdout);
    assert_eq!(result["phase"], "Succeeded");
    assert_eq!(result["snapshots"][0]["repository"], "ledger-repo");
    assert_eq!(result["snapshots"][0]["components"][0]["name"], "dump");

    // The fresh namespace and claim of the example, without its RestoreSession: the CLI makes one.
    let text = std::fs::read_to_string(setup.file("pvc/restoresession.yaml")).unwrap();
    let without_restore: Vec<&str> = text
        .split("---")
        .filter(|doc| !doc.contains("kind: RestoreSession"))
        .collect();
    let target = setup.examples.path().join("staging.yaml");
    std::fs::write(&target, without_restore.join("---")).unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", target.to_str().unwrap()]);
    // A CLI restore into the fresh claim from `repository` in `shop`, with these flags as well.
    let restore_from = |repository: &str, extra: &[&str]| {
        let mut args = vec![
            "restore",
            "-n",
            "shop-staging",
            "--from-repository",
            repository,
            "--repository-namespace",
            "shop",
            "--target",
            "pvc/ledger-copy",
        ];
        args.extend_from_slice(extra);
        setup.sandbox.plugin(&args)
    };
    let run = restore_from(
        "ledger-repo",
        &["--wait", "--timeout", "2m", "--name", "from-cli"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_files(&setup.pvc("shop-staging", "ledger-copy"), &files);

    // A RestoreSession's own encryptionSecret without a namespace is in the RestoreSession's
    // namespace, for the operator's check and for the restore Job alike.
    std::fs::remove_dir_all(setup.pvc("shop-staging", "ledger-copy")).unwrap();
    std::fs::create_dir_all(setup.pvc("shop-staging", "ledger-copy")).unwrap();
    let secret_file = setup.examples.path().join("staging-secret.yaml");
    std::fs::write(
        &secret_file,
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: staging-password, namespace: shop-staging}}\nstringData: {{RESTIC_PASSWORD: {PASSWORD}}}\n"),
    )
    .unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", secret_file.to_str().unwrap()]);
    let session = setup.examples.path().join("own-secret.yaml");
    std::fs::write(
        &session,
        "apiVersion: core.kubestash.com/v1alpha1\nkind: RestoreSession\nmetadata: {name: own-secret, namespace: shop-staging}\nspec:\n  target: {apiGroup: \"\", kind: PersistentVolumeClaim, name: ledger-copy, namespace: shop-staging}\n  dataSource:\n    repository: ledger-repo\n    namespace: shop\n    snapshot: latest\n    encryptionSecret: {name: staging-password}\n  addon:\n    name: pvc-addon\n    tasks: [{name: logical-backup-restore}]\n",
    )
    .unwrap();
    let run = setup.sandbox.plugin(&[
        "restore",
        "-f",
        session.to_str().unwrap(),
        "--wait",
        "--timeout",
        "2m",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_files(&setup.pvc("shop-staging", "ledger-copy"), &files);

    // A Repository whose encryptionSecret leaves the namespace out means its own namespace;
    // the RestoreSession in another namespace names it.
    let bare = setup.examples.path().join("bare-repo.yaml");
    std::fs::write(
        &bare,
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: Repository\nmetadata: {name: bare-repo, namespace: shop}\nspec:\n  storageRef: {name: local-disk, namespace: shop}\n  path: /bare\n  encryptionSecret: {name: shop-restic-password}\n",
    )
    .unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", bare.to_str().unwrap()]);
    let dry = restore_from("bare-repo", &["--dry-run", "-o", "json"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let restore: Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(
        restore["spec"]["dataSource"]["encryptionSecret"],
        json!({"name": "shop-restic-password", "namespace": "shop"}),
        "{restore}"
    );
}

#[test]
fn a_new_cluster_on_the_old_backend_gets_its_repositories_and_snapshots_back_and_restores() {
    // The old cluster: one PVC backup into the local storage, then the cluster is gone.
    let old = Setup::new();
    let (files, run) = old.embedded_pvc_backup(&[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let snapshot_name = old.field(
        &["get", "snapshots", "-n", "shop"],
        "/items/0/metadata/name",
    );
    let backend = old.storage();
    drop(old.sandbox);
    let metadata = std::fs::read_to_string(backend.join("metadata.yaml")).unwrap();
    assert!(
        metadata.contains("name: ledger-repo") && metadata.contains("path: /shop/ledger"),
        "metadata.yaml lists the repository:\n{metadata}"
    );

    // The new cluster: the namespace, the password and a storage on the same directory.
    let new = Setup::new();
    new.apply(&["shared/namespace.yaml", "shared/encryption-secret.yaml"]);
    let text = std::fs::read_to_string(new.file("shared/backupstorage-local.yaml")).unwrap();
    let text = text.replace(new.storage().to_str().unwrap(), backend.to_str().unwrap());
    assert!(text.contains(backend.to_str().unwrap()), "{text}");
    let storage_file = new.examples.path().join("old-storage.yaml");
    std::fs::write(&storage_file, text).unwrap();
    let _operator = Operator::start(&new.sandbox);
    new.sandbox
        .kubectl_ok(&["apply", "-f", storage_file.to_str().unwrap()]);
    wait_for(
        "the Repository and its Snapshot, re-created from the backend",
        Duration::from_secs(60),
        || {
            new.sandbox
                .kubectl(&[
                    "get",
                    "snapshot",
                    snapshot_name.as_str().unwrap(),
                    "-n",
                    "shop",
                    "-o",
                    "jsonpath={.status.phase}",
                ])
                .stdout
                == b"Succeeded"
        },
    );
    let repository = new.json(&["get", "repository", "ledger-repo", "-n", "shop"]);
    assert_eq!(repository["spec"]["path"], "/shop/ledger", "{repository}");
    assert_eq!(repository["spec"]["storageRef"]["name"], "local-disk");
    let snapshot = new.json(&[
        "get",
        "snapshot",
        snapshot_name.as_str().unwrap(),
        "-n",
        "shop",
    ]);
    assert_eq!(snapshot["spec"]["repository"], "ledger-repo");
    assert_eq!(
        snapshot["metadata"]["ownerReferences"][0]["uid"], repository["metadata"]["uid"],
        "{snapshot}"
    );
    assert_eq!(
        snapshot["status"]["components"]["dump"]["phase"],
        "Succeeded"
    );
    wait_for(
        "the storage to list the repository",
        Duration::from_secs(30),
        || {
            new.field(
                &["get", "backupstorage", "local-disk", "-n", "shop"],
                "/status/repositories/0/name",
            ) == "ledger-repo"
        },
    );

    // `latest` of the re-created Repository restores the files into a fresh claim.
    let text = std::fs::read_to_string(new.file("pvc/restoresession.yaml")).unwrap();
    let without_restore: Vec<&str> = text
        .split("---")
        .filter(|doc| !doc.contains("kind: RestoreSession"))
        .collect();
    let target = new.examples.path().join("staging.yaml");
    std::fs::write(&target, without_restore.join("---")).unwrap();
    new.sandbox
        .kubectl_ok(&["apply", "-f", target.to_str().unwrap()]);
    let run = new.sandbox.plugin(&[
        "restore",
        "-n",
        "shop-staging",
        "--from-repository",
        "ledger-repo",
        "--repository-namespace",
        "shop",
        "--target",
        "pvc/ledger-copy",
        "--wait",
        "--timeout",
        "2m",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_files(&new.pvc("shop-staging", "ledger-copy"), &files);

    // Once this cluster runs the storage, a Repository deleted here stays deleted: its files
    // remain (Delete policy), and the sync for another Repository does not bring it back.
    new.sandbox
        .kubectl_ok(&["delete", "repository", "ledger-repo", "-n", "shop"]);
    let other = new.examples.path().join("other-repo.yaml");
    std::fs::write(
        &other,
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: Repository\nmetadata: {name: other-repo, namespace: shop}\nspec:\n  storageRef: {name: local-disk, namespace: shop}\n  path: /shop/other\n  encryptionSecret: {name: shop-restic-password}\n",
    )
    .unwrap();
    new.sandbox
        .kubectl_ok(&["apply", "-f", other.to_str().unwrap()]);
    wait_for(
        "the other Repository to be initialized",
        Duration::from_secs(60),
        || {
            new.field(
                &["get", "repository", "other-repo", "-n", "shop"],
                "/status/phase",
            ) == "Ready"
        },
    );
    assert!(backend.join("shop/ledger/repository.yaml").is_file());
    assert!(!new
        .sandbox
        .kubectl(&["get", "repository", "ledger-repo", "-n", "shop"])
        .status
        .success());
}

#[test]
fn a_configuration_without_backends_gets_the_default_storage_and_retention_policy() {
    let setup = Setup::new();
    let _operator = Operator::start(&setup.sandbox);
    setup.shared();
    setup.apply(&["workload/pvc.yaml", "workload/deployment.yaml"]);
    setup.seed_orders_data();
    let text = std::fs::read_to_string(setup.file("workload/backupconfiguration.yaml")).unwrap();
    let start = text.find("  backends:").unwrap();
    let end = text.find("  sessions:").unwrap();
    let text =
        format!("{}{}", &text[..start], &text[end..]).replace("          backend: local\n", "");
    let file = setup.examples.path().join("no-backends.yaml");
    std::fs::write(&file, &text).unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    wait_for(
        "the configuration to be Ready",
        Duration::from_secs(60),
        || {
            setup.field(
                &["get", "backupconfiguration", "orders-backup", "-n", "shop"],
                "/status/phase",
            ) == "Ready"
        },
    );
    let backends = setup.field(
        &["get", "backupconfiguration", "orders-backup", "-n", "shop"],
        "/spec/backends",
    );
    assert_eq!(
        backends,
        json!([{
            "name": "default",
            "storageRef": {"name": "local-disk", "namespace": "shop"},
            "retentionPolicy": {"name": "keep-a-week", "namespace": "shop"},
        }])
    );
    let run = setup.backup_wait(&[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // A RetentionPolicy applied without validation makes the configuration Invalid.
    let policy = setup.examples.path().join("bad-policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: RetentionPolicy\nmetadata: {name: sloppy, namespace: shop}\nspec:\n  maxRetentionPeriod: 3 weeks\n",
    )
    .unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", policy.to_str().unwrap()]);
    setup.sandbox.kubectl_ok(&[
        "patch",
        "backupconfiguration",
        "orders-backup",
        "-n",
        "shop",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/backends/0/retentionPolicy/name","value":"sloppy"}]"#,
    ]);
    wait_for(
        "the configuration to be Invalid",
        Duration::from_secs(60),
        || {
            setup.field(
                &["get", "backupconfiguration", "orders-backup", "-n", "shop"],
                "/status/phase",
            ) == "Invalid"
        },
    );
    let conditions = setup
        .field(
            &["get", "backupconfiguration", "orders-backup", "-n", "shop"],
            "/status/conditions",
        )
        .to_string();
    assert!(
        conditions.contains("RetentionPolicyInvalid")
            && conditions
                .contains("RetentionPolicy `shop/sloppy` is invalid: spec.maxRetentionPeriod"),
        "{conditions}"
    );

    // A configuration that runs without a retention policy keeps running without one when
    // a default policy appears later.
    let patch_default = |value: bool| {
        setup.sandbox.kubectl_ok(&[
            "patch",
            "retentionpolicy",
            "keep-a-week",
            "-n",
            "shop",
            "--type=merge",
            "-p",
            &format!(r#"{{"spec":{{"default":{value}}}}}"#),
        ]);
    };
    patch_default(false);
    let keep_all = setup.examples.path().join("keep-all.yaml");
    std::fs::write(
        &keep_all,
        text.replace("name: orders-backup", "name: keep-all")
            .replace("name: orders-repo", "name: keep-all-repo")
            .replace("directory: /shop/orders", "directory: /shop/keep-all")
            .replace(
                "  sessions:",
                "  backends:\n    - name: local\n      storageRef: {name: local-disk, namespace: shop}\n  sessions:",
            ),
    )
    .unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", keep_all.to_str().unwrap()]);
    wait_for("keep-all to be Ready", Duration::from_secs(60), || {
        setup.field(
            &["get", "backupconfiguration", "keep-all", "-n", "shop"],
            "/status/phase",
        ) == "Ready"
    });
    patch_default(true);
    setup.sandbox.kubectl_ok(&[
        "annotate",
        "backupconfiguration",
        "keep-all",
        "-n",
        "shop",
        "touched=yes",
    ]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        setup.field(
            &["get", "backupconfiguration", "keep-all", "-n", "shop"],
            "/spec/backends/0/retentionPolicy"
        ),
        Value::Null
    );

    // With no default storage left: NotReady, saying so.
    setup.sandbox.kubectl_ok(&[
        "patch",
        "backupstorage",
        "local-disk",
        "-n",
        "shop",
        "--type=merge",
        "-p",
        r#"{"spec":{"default":false}}"#,
    ]);
    setup.sandbox.kubectl_ok(&["create", "namespace", "bare"]);
    let bare = setup.examples.path().join("bare.yaml");
    std::fs::write(&bare, text.replace("namespace: shop", "namespace: bare")).unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", bare.to_str().unwrap()]);
    wait_for(
        "the bare configuration to say why",
        Duration::from_secs(60),
        || {
            setup
                .field(
                    &["get", "backupconfiguration", "orders-backup", "-n", "bare"],
                    "/status/conditions",
                )
                .to_string()
                .contains("no BackupStorage named and no single default one")
        },
    );
    assert_eq!(
        setup.field(
            &["get", "backupconfiguration", "orders-backup", "-n", "bare"],
            "/status/phase"
        ),
        "NotReady"
    );
}

#[test]
fn a_backup_waits_on_the_operator_whose_lease_is_in_another_namespace() {
    let setup = Setup::new();
    let _operator = Operator::start_in(&setup.sandbox, "backup-system");
    setup.workload();
    setup.seed_orders_data();
    let run = setup.backup_wait(&[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        !run.stderr
            .contains("running the controllers in this process"),
        "{}",
        run.stderr
    );
    // No second Lease was taken in the default namespace.
    assert!(!setup
        .sandbox
        .kubectl(&["get", "lease", "kubestash-operator", "-n", "kubestash"])
        .status
        .success());
}

#[test]
fn manifest_backup_takes_exactly_the_selection_and_restores_into_a_fresh_namespace() {
    let setup = Setup::new();
    let _operator = Operator::start(&setup.sandbox);
    setup.shared();
    setup.apply(&[
        "manifests/objects.yaml",
        "manifests/backupconfiguration.yaml",
    ]);
    let run = setup.sandbox.plugin(&[
        "backup",
        "now",
        "shop-manifests",
        "-n",
        "shop",
        "--wait",
        "--timeout",
        "2m",
        "-o",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        !run.stderr.contains("in this process"),
        "an operator is running: {}",
        run.stderr
    );
    let result = crate::only_session(&run.stdout);
    assert_eq!(result["snapshots"][0]["components"][0]["name"], "manifest");
    // The dump ran as the account that may list every kind; the others may not.
    let jobs = setup.json(&["get", "jobs", "-n", "shop"]);
    let accounts: Vec<(String, String)> = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| {
            (
                job["spec"]["template"]["spec"]["containers"][0]["args"].to_string(),
                job["spec"]["template"]["spec"]["serviceAccountName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    assert!(
        accounts
            .iter()
            .any(|(args, account)| args.contains("--mode=manifest")
                && account == "kubestash-manifest-executor"),
        "{accounts:?}"
    );
    assert!(
        accounts
            .iter()
            .filter(|(args, _)| !args.contains("--mode=manifest"))
            .all(|(_, account)| account != "kubestash-manifest-executor"),
        "{accounts:?}"
    );
    setup.sandbox.kubectl_ok(&[
        "get",
        "clusterrolebinding",
        "kubestash-manifest-executor-shop",
    ]);

    let repository = setup
        .storage()
        .join("shop/manifests/repository/v1/hourly/manifest");
    let listed = restic(&repository, &["ls", "latest"]);
    let mut files: Vec<&str> = listed.lines().filter(|l| l.ends_with(".yaml")).collect();
    files.sort();
    assert_eq!(
        files,
        vec![
            "/configmaps/namespaces/shop/orders-config.yaml",
            "/secrets/namespaces/shop/orders-db-credentials.yaml",
            "/services/namespaces/shop/orders.yaml",
        ],
        "{listed}"
    );

    let restore = setup.examples.path().join("manifest-restore.yaml");
    std::fs::write(
        &restore,
        "apiVersion: core.kubestash.com/v1alpha1\nkind: RestoreSession\nmetadata:\n  name: manifests-back\n  namespace: shop\nspec:\n  dataSource:\n    repository: shop-manifests-repo\n    snapshot: latest\n    encryptionSecret:\n      name: shop-restic-password\n      namespace: shop\n  manifestOptions:\n    workload:\n      restoreNamespace: shop-restored\n  addon:\n    name: kubedump-addon\n    tasks:\n      - name: manifest-restore\n",
    )
    .unwrap();
    // The dry run lists what the restore would create (read by a Job from the volume
    // storage) and creates nothing.
    let dry = setup
        .sandbox
        .plugin(&["restore", "-f", restore.to_str().unwrap(), "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    // -n and the file's namespace must agree, as with kubectl.
    let other = setup.sandbox.plugin(&[
        "restore",
        "-f",
        restore.to_str().unwrap(),
        "-n",
        "shop-restored",
        "--dry-run",
    ]);
    assert_eq!(other.code, 2, "{}", other.stderr);
    assert!(
        other
            .stderr
            .contains("(metadata.namespace `shop`) does not match -n `shop-restored`"),
        "{}",
        other.stderr
    );
    assert!(
        dry.stdout
            .starts_with("apiVersion: core.kubestash.com/v1alpha1"),
        "{}",
        dry.stdout
    );
    let listed: Vec<&str> = dry
        .stdout
        .lines()
        .filter(|l| l.starts_with("#   "))
        .collect();
    assert_eq!(
        listed,
        vec![
            "#   configmaps shop-restored/orders-config",
            "#   secrets shop-restored/orders-db-credentials",
            "#   services shop-restored/orders",
        ],
        "{}",
        dry.stdout
    );
    let dry_json = setup.sandbox.plugin(&[
        "restore",
        "-f",
        restore.to_str().unwrap(),
        "--dry-run",
        "-o",
        "json",
    ]);
    assert_eq!(dry_json.code, 0, "{}", dry_json.stderr);
    let preview: Value = serde_json::from_str(&dry_json.stdout).unwrap();
    assert_eq!(preview["restoreSession"]["kind"], "RestoreSession");
    assert_eq!(preview["objects"]["manifest"].as_array().unwrap().len(), 3);
    assert!(!setup
        .sandbox
        .kubectl(&["get", "restoresession", "manifests-back", "-n", "shop"])
        .status
        .success());

    setup
        .sandbox
        .kubectl_ok(&["create", "namespace", "shop-restored"]);
    let run = setup.sandbox.plugin(&[
        "restore",
        "-f",
        restore.to_str().unwrap(),
        "--wait",
        "--timeout",
        "2m",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let config = setup.json(&["get", "configmap", "orders-config", "-n", "shop-restored"]);
    assert_eq!(config["metadata"]["labels"]["tier"], "backend");
    setup.sandbox.kubectl_ok(&[
        "get",
        "secret",
        "orders-db-credentials",
        "-n",
        "shop-restored",
    ]);
    assert!(!setup
        .sandbox
        .kubectl(&[
            "get",
            "configmap",
            "storefront-theme",
            "-n",
            "shop-restored"
        ])
        .status
        .success());
}

#[test]
fn retention_keeps_what_the_policy_says_in_restic_and_as_snapshots() {
    let setup = Setup::new();
    let _operator = Operator::start(&setup.sandbox);
    setup.workload();
    let data = setup.pvc("shop", "orders-data");
    for round in 0..6 {
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("round.txt"), format!("round {round}")).unwrap();
        // A session named twice is backed up once.
        let run = if round == 0 {
            setup.backup_wait(&["--session", "nightly", "--session", "nightly"])
        } else {
            setup.backup_wait(&[])
        };
        assert_eq!(run.code, 0, "round {round}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(run.stderr.matches(" created").count(), 1, "{}", run.stderr);
    }
    // keep-a-week: last 3 (daily 7 keeps one of today, already among them).
    let snapshots = setup.json(&["get", "snapshots", "-n", "shop"]);
    assert_eq!(
        snapshots["items"].as_array().unwrap().len(),
        3,
        "{snapshots}"
    );
    let repository = setup
        .storage()
        .join("shop/orders/repository/v1/nightly/dump");
    let listed: Value =
        serde_json::from_str(&restic(&repository, &["snapshots", "--json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    restic(&repository, &["check"]);
    let copies = std::fs::read_dir(setup.storage().join("shop/orders/snapshots"))
        .unwrap()
        .count();
    assert_eq!(copies, 3, "backend copies follow the Snapshot objects");
    // sessionHistoryLimit: 2.
    let sessions = setup.json(&["get", "backupsessions", "-n", "shop"]);
    assert_eq!(sessions["items"].as_array().unwrap().len(), 2);
    let session = &sessions["items"][1];
    assert_eq!(
        session["status"]["retentionPolicy"][0]["phase"], "Applied",
        "{}",
        session["status"]
    );
}

#[test]
fn failures_end_with_a_phase_and_a_condition_naming_the_cause_and_the_next_run_works() {
    let setup = Setup::new();
    let _operator = Operator::start(&setup.sandbox);
    setup.workload();
    setup.seed_orders_data();
    let backup = || setup.backup_wait(&["-o", "json"]);
    // The CI gate script passes on a good backup...
    let gate = || {
        let output = Command::new(crate::repository_root().join("tests/ci/backup-gate.sh"))
            .args(["orders-backup", "shop", "2m"])
            .env("KUBECTL_KUBESTASH", binary())
            .env("KUBECONFIG", &setup.sandbox.kubeconfig)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        crate::Run::from_output(output)
    };
    let ok = gate();
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout.contains(": Succeeded; snapshots: "),
        "{}",
        ok.stdout
    );
    assert!(ok
        .stdout
        .contains("backup gate passed for shop/orders-backup"));

    // A failed session with retries left: `--follow-retries` waits for the operator's retry
    // and exits with its outcome. The first attempt fails on the missing encryption Secret,
    // which is back before the retry starts.
    let retry_config = |value: &str| {
        setup.sandbox.kubectl_ok(&[
            "patch",
            "backupconfiguration",
            "orders-backup",
            "-n",
            "shop",
            "--type=json",
            "-p",
            &format!(
                r#"[{{"op":"replace","path":"/spec/sessions/0/retryConfig","value":{value}}}]"#
            ),
        ]);
    };
    retry_config(r#"{"maxRetry":1,"delay":"8s"}"#);
    let sessions = || -> Vec<(String, String)> {
        let list: Value = serde_json::from_str(&setup.sandbox.kubectl_ok(&[
            "get",
            "backupsessions",
            "-n",
            "shop",
            "-o",
            "json",
        ]))
        .unwrap();
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["metadata"]["name"].as_str().unwrap().to_string(),
                    s["status"]["phase"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect()
    };
    let before: Vec<String> = sessions().into_iter().map(|(name, _)| name).collect();
    setup
        .sandbox
        .kubectl_ok(&["delete", "secret", "shop-restic-password", "-n", "shop"]);
    let follower = Command::new(binary())
        .args([
            "backup",
            "now",
            "orders-backup",
            "-n",
            "shop",
            "--wait",
            "--follow-retries",
            "--timeout",
            "2m",
            "-o",
            "json",
        ])
        .env("KUBECONFIG", &setup.sandbox.kubeconfig)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    wait_for(
        "the first attempt to fail",
        Duration::from_secs(60),
        || match sessions()
            .into_iter()
            .find(|(name, phase)| !before.contains(name) && phase == "Failed")
        {
            Some((name, _)) => {
                first = name;
                true
            }
            None => false,
        },
    );
    // Paused past the retry's delay: no retry while paused, and it still comes once resumed
    // (nothing wakes the failed session but its own requeue).
    let set_paused = |paused: bool| {
        setup.sandbox.kubectl_ok(&[
            "patch",
            "backupconfiguration",
            "orders-backup",
            "-n",
            "shop",
            "--type=merge",
            "-p",
            &format!(r#"{{"spec":{{"paused":{paused}}}}}"#),
        ]);
    };
    set_paused(true);
    setup.apply(&["shared/encryption-secret.yaml"]);
    std::thread::sleep(Duration::from_secs(12));
    let during_pause: Vec<String> = sessions()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !before.contains(name) && *name != first)
        .collect();
    assert!(
        during_pause.is_empty(),
        "retried while paused: {during_pause:?}"
    );
    set_paused(false);
    let followed = crate::Run::from_output(follower.wait_with_output().unwrap());
    assert_eq!(followed.code, 0, "{}\n{}", followed.stdout, followed.stderr);
    assert!(
        followed
            .stderr
            .contains(&format!("BackupSession shop/{first} Failed")),
        "{}",
        followed.stderr
    );
    assert!(
        followed.stderr.contains("following its retry"),
        "{}",
        followed.stderr
    );
    let result = crate::only_session(&followed.stdout);
    assert_eq!(result["phase"], "Succeeded", "{result}");
    let retry = result["backupSession"].as_str().unwrap().to_string();
    assert_ne!(retry, first);
    let retry_of = setup.sandbox.kubectl_ok(&[
        "get",
        "backupsession",
        &retry,
        "-n",
        "shop",
        "-o",
        "jsonpath={.metadata.annotations.kubestash\\.com/retry-of}",
    ]);
    assert_eq!(retry_of.trim(), first);
    // A retry due after --timeout is not waited for: the wait ends with this attempt.
    // (Here, where no earlier failure's retry can start meanwhile and get it Skipped.)
    retry_config(r#"{"maxRetry":2,"delay":"10m"}"#);
    setup
        .sandbox
        .kubectl_ok(&["delete", "secret", "shop-restic-password", "-n", "shop"]);
    let started = std::time::Instant::now();
    let run = setup.sandbox.plugin(&[
        "backup",
        "now",
        "orders-backup",
        "-n",
        "shop",
        "--wait",
        "--follow-retries",
        "--timeout",
        "90s",
        "-o",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(75),
        "waited {:?}: {}",
        started.elapsed(),
        run.stderr
    );
    assert!(
        run.stderr.contains("no retry follows in time") && run.stderr.contains("after --timeout"),
        "{}",
        run.stderr
    );
    assert_eq!(crate::only_session(&run.stdout)["phase"], "Failed");
    setup.apply(&["shared/encryption-secret.yaml"]);

    // The example's retries again for the steps below.
    retry_config(r#"{"maxRetry":2,"delay":"30s"}"#);

    // Missing encryption Secret: the gate fails the pipeline with the reason...
    setup
        .sandbox
        .kubectl_ok(&["delete", "secret", "shop-restic-password", "-n", "shop"]);
    let failed_gate = gate();
    assert_ne!(failed_gate.code, 0, "{}", failed_gate.stdout);
    assert!(
        failed_gate.stdout.contains(": Failed: "),
        "{}",
        failed_gate.stdout
    );
    assert!(
        failed_gate.stdout.contains("shop/shop-restic-password"),
        "{}",
        failed_gate.stdout
    );
    assert!(!failed_gate.stdout.contains("backup gate passed"));
    // ...and so does the JSON for any other parser.
    let run = backup();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let result = crate::only_session(&run.stdout);
    assert_eq!(result["phase"], "Failed");
    assert!(
        result["reason"]
            .as_str()
            .unwrap()
            .contains("shop/shop-restic-password"),
        "{result}"
    );

    // Wrong password.
    setup.sandbox.kubectl_ok(&[
        "create",
        "secret",
        "generic",
        "shop-restic-password",
        "-n",
        "shop",
        "--from-literal=RESTIC_PASSWORD=not-the-password",
    ]);
    let run = backup();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("wrong password"), "{}", run.stdout);

    // The right one again: the next run works.
    setup
        .sandbox
        .kubectl_ok(&["delete", "secret", "shop-restic-password", "-n", "shop"]);
    setup.apply(&["shared/encryption-secret.yaml"]);
    let run = backup();
    assert_eq!(run.code, 0, "{}", run.stderr);

    // The backup Job deleted while the session runs (128 MiB that neither compresses nor
    // deduplicates keep the backup busy long enough).
    std::fs::write(
        setup.pvc("shop", "orders-data").join("big.bin"),
        incompressible(128 * 1024 * 1024, 0),
    )
    .unwrap();
    let created = setup
        .sandbox
        .plugin(&["backup", "now", "orders-backup", "-n", "shop"]);
    assert!(
        !created.stderr.contains("no operator is running"),
        "{}",
        created.stderr
    );
    let session = created
        .stdout
        .trim()
        .trim_start_matches("backupsession/")
        .to_string();
    wait_for("the backup Job", Duration::from_secs(30), || {
        setup
            .sandbox
            .kubectl(&["get", "job", &format!("{session}-dump"), "-n", "shop"])
            .status
            .success()
    });
    setup.sandbox.kubectl(&[
        "delete",
        "job",
        &format!("{session}-dump"),
        "-n",
        "shop",
        "--wait=false",
    ]);
    wait_for("the session to end", Duration::from_secs(60), || {
        let phase = setup.field(
            &["get", "backupsession", &session, "-n", "shop"],
            "/status/phase",
        );
        phase == "Failed" || phase == "Succeeded"
    });
    let status = setup.json(&["get", "backupsession", &session, "-n", "shop"])["status"].clone();
    assert_eq!(status["phase"], "Failed", "{status}");
    assert!(status.to_string().contains("was deleted"), "{status}");
    // Stopped with SIGTERM, the executor took its repository lock with it.
    let locks = setup
        .storage()
        .join("shop/orders/repository/v1/nightly/dump/locks");
    wait_for("the executor's lock to go", Duration::from_secs(15), || {
        std::fs::read_dir(&locks).map_or(true, |mut entries| entries.next().is_none())
    });
    std::fs::remove_file(setup.pvc("shop", "orders-data").join("big.bin")).unwrap();

    // A request the API server refuses for good (the session's name, too long for the label
    // its Snapshot and Job carry) ends the session instead of retrying it forever.
    let long = format!("orders-by-hand-{}", "x".repeat(56));
    let by_hand = setup.examples.path().join("long-session.yaml");
    std::fs::write(
        &by_hand,
        format!("apiVersion: core.kubestash.com/v1alpha1\nkind: BackupSession\nmetadata:\n  name: {long}\n  namespace: shop\nspec:\n  invoker: {{apiGroup: core.kubestash.com, kind: BackupConfiguration, name: orders-backup}}\n  session: nightly\n"),
    )
    .unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", by_hand.to_str().unwrap()]);
    assert_eq!(wait_final(&setup, &long), "Failed");
    let status = setup.json(&["get", "backupsession", &long, "-n", "shop"])["status"].clone();
    assert!(
        status.to_string().contains("RequestRefused")
            && status.to_string().contains("no more than 63 characters"),
        "{status}"
    );

    // Target missing: a backup fails at once, naming it.
    setup
        .sandbox
        .kubectl_ok(&["delete", "deployment", "orders", "-n", "shop"]);
    let run = backup();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("target Deployment `shop/orders` not found"),
        "{}",
        run.stdout
    );

    // Storage not Ready: an S3 storage whose Secret is missing.
    let storage = setup.examples.path().join("bad-storage.yaml");
    std::fs::write(&storage, "apiVersion: storage.kubestash.com/v1alpha1\nkind: BackupStorage\nmetadata:\n  name: nowhere\n  namespace: shop\nspec:\n  storage:\n    provider: s3\n    s3:\n      endpoint: http://127.0.0.1:9\n      bucket: b\n      secretName: no-such-secret\n").unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", storage.to_str().unwrap()]);
    wait_for("NotReady storage", Duration::from_secs(30), || {
        let status =
            setup.json(&["get", "backupstorage", "nowhere", "-n", "shop"])["status"].clone();
        status["phase"] == "NotReady" && status.to_string().contains("shop/no-such-secret")
    });

    // An invalid configuration is Invalid with the field named.
    let invalid = setup.examples.path().join("invalid.yaml");
    let text = std::fs::read_to_string(setup.file("workload/backupconfiguration.yaml"))
        .unwrap()
        .replace("30 2 * * *", "61 * * * *");
    std::fs::write(
        &invalid,
        text.replace("name: orders-backup", "name: bad-schedule"),
    )
    .unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", invalid.to_str().unwrap()]);
    wait_for("Invalid phase", Duration::from_secs(30), || {
        let status = setup.json(&["get", "backupconfiguration", "bad-schedule", "-n", "shop"])
            ["status"]
            .clone();
        status["phase"] == "Invalid" && status.to_string().contains("schedule")
    });
}

#[test]
fn a_backup_whose_job_pod_cannot_start_fails_with_the_pending_condition() {
    let setup = Setup::new();
    let _operator = Operator::start_with(&setup.sandbox, &["--pending-pod-timeout", "3s"]);
    setup.workload();
    // The catalog's workload backup Function and Addon, copied with an image no registry
    // serves (the sandbox's kubelet fails to pull from `.invalid` registries, as any would).
    let mut function = setup.json(&["get", "function", "workload-backup"]);
    function["metadata"] = json!({"name": "unpullable-backup"});
    function["spec"]["image"] = json!("registry.invalid/kubestash/workload:missing");
    let mut addon = setup.json(&["get", "addon", "workload-addon"]);
    addon["metadata"] = json!({"name": "unpullable-addon"});
    for task in addon["spec"]["backupTasks"].as_array_mut().unwrap() {
        task["function"] = json!("unpullable-backup");
    }
    for object in [function, addon] {
        let path = setup.examples.path().join("object.json");
        std::fs::write(&path, object.to_string()).unwrap();
        setup
            .sandbox
            .kubectl_ok(&["apply", "-f", path.to_str().unwrap()]);
    }
    setup.sandbox.kubectl_ok(&[
        "patch",
        "backupconfiguration",
        "orders-backup",
        "-n",
        "shop",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/sessions/0/addon/name","value":"unpullable-addon"}]"#,
    ]);
    let run = setup.backup_wait(&["-o", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let result = crate::only_session(&run.stdout);
    let session = result["backupSession"].as_str().unwrap();
    let status = setup.json(&["get", "backupsession", session, "-n", "shop"])["status"].clone();
    assert_eq!(status["phase"], "Failed", "{status}");
    let pending = status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "PodHasBeenInPendingStateForLongerThanExpected")
        .unwrap_or_else(|| panic!("{status}"));
    assert_eq!(pending["status"], "True");
    assert!(
        pending["message"]
            .as_str()
            .unwrap()
            .contains("ErrImagePull"),
        "{pending}"
    );
    assert!(
        result["reason"]
            .as_str()
            .unwrap()
            .contains("Pending for more than 3s"),
        "{result}"
    );
}

#[test]
fn a_repository_directory_cannot_move_under_its_snapshots() {
    let setup = Setup::new();
    let _operator = Operator::start(&setup.sandbox);
    setup.workload();
    let phase = || {
        setup.field(
            &["get", "backupconfiguration", "orders-backup", "-n", "shop"],
            "/status/phase",
        )
    };
    wait_for("BackupConfiguration Ready", Duration::from_secs(30), || {
        phase() == "Ready"
    });
    setup.sandbox.kubectl_ok(&[
        "patch",
        "backupconfiguration",
        "orders-backup",
        "-n",
        "shop",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/sessions/0/repositories/0/directory","value":"/shop/elsewhere"}]"#,
    ]);
    wait_for("Invalid", Duration::from_secs(30), || phase() == "Invalid");
    let status = setup.json(&["get", "backupconfiguration", "orders-backup", "-n", "shop"])
        ["status"]
        .clone();
    assert!(status.to_string().contains("cannot change"), "{status}");
    assert_eq!(
        setup.field(
            &["get", "repository", "orders-repo", "-n", "shop"],
            "/spec/path"
        ),
        "/shop/orders",
        "the Repository keeps its directory"
    );
    // The conflict is recorded once: its transition time holds across reconciles.
    let since = |setup: &Setup| {
        setup.json(&["get", "backupconfiguration", "orders-backup", "-n", "shop"])["status"]
            ["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "ValidationPassed")
            .unwrap()["lastTransitionTime"]
            .clone()
    };
    let first = since(&setup);
    std::thread::sleep(Duration::from_secs(2));
    setup.sandbox.kubectl_ok(&[
        "annotate",
        "backupconfiguration",
        "orders-backup",
        "-n",
        "shop",
        "touched=yes",
    ]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(since(&setup), first);
}

#[test]
fn a_configuration_does_not_take_over_another_ones_cronjob() {
    let setup = Setup::new();
    let _operator = Operator::start(&setup.sandbox);
    setup.workload();
    let phase = |name: &str| {
        setup.field(
            &["get", "backupconfiguration", name, "-n", "shop"],
            "/status/phase",
        )
    };
    wait_for("orders-backup Ready", Duration::from_secs(30), || {
        phase("orders-backup") == "Ready"
    });
    // `orders` + session `backup-nightly` names the same CronJob as `orders-backup` +
    // `nightly`: trigger-orders-backup-nightly.
    let text = std::fs::read_to_string(setup.file("workload/backupconfiguration.yaml"))
        .unwrap()
        .replace("name: orders-backup", "name: orders")
        .replace("- name: nightly", "- name: backup-nightly")
        .replace("name: orders-repo", "name: orders-repo-two")
        .replace("directory: /shop/orders", "directory: /shop/orders-two");
    let clash = setup.examples.path().join("clash.yaml");
    std::fs::write(&clash, text).unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", clash.to_str().unwrap()]);
    wait_for("the clash to be reported", Duration::from_secs(30), || {
        setup.json(&["get", "backupconfiguration", "orders", "-n", "shop"])["status"]
            .to_string()
            .contains("belongs to BackupConfiguration `orders-backup`")
    });
    assert_eq!(phase("orders"), "NotReady");
    let owner = setup.field(
        &[
            "get",
            "cronjob",
            "trigger-orders-backup-nightly",
            "-n",
            "shop",
        ],
        "/metadata/labels/kubestash.com~1invoker-name",
    );
    assert_eq!(owner, "orders-backup", "the CronJob keeps its owner");
}

#[test]
fn an_operator_that_loses_its_lease_stops() {
    let setup = Setup::new();
    let mut operator = Operator::start(&setup.sandbox);
    wait_for("the operator to lead", Duration::from_secs(30), || {
        setup
            .sandbox
            .kubectl(&["get", "lease", "kubestash-operator", "-n", "kubestash"])
            .status
            .success()
    });
    // Another holder takes the Lease over (as one would after a network partition).
    let now = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    setup.sandbox.kubectl_ok(&[
        "patch",
        "lease",
        "kubestash-operator",
        "-n",
        "kubestash",
        "--type=merge",
        "-p",
        &format!(r#"{{"spec":{{"holderIdentity":"someone-else","renewTime":"{now}"}}}}"#),
    ]);
    wait_for("the operator to stop", Duration::from_secs(20), || {
        operator.0.try_wait().unwrap().is_some()
    });
    let holder = setup.sandbox.kubectl_ok(&[
        "get",
        "lease",
        "kubestash-operator",
        "-n",
        "kubestash",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert_eq!(holder.trim(), "someone-else", "the new holder keeps it");
}

#[test]
fn wipeout_deletes_of_snapshot_repository_and_storage_remove_their_backend_data() {
    let setup = Setup::new();
    let _operator = Operator::start(&setup.sandbox);
    let configuration = setup
        .examples
        .path()
        .join("workload/backupconfiguration.yaml");
    let text = std::fs::read_to_string(&configuration).unwrap();
    std::fs::write(
        &configuration,
        text.replace(
            "          directory: /shop/orders\n",
            "          directory: /shop/orders\n          deletionPolicy: WipeOut\n",
        ),
    )
    .unwrap();
    setup.workload();
    setup.seed_orders_data();
    let mut names = Vec::new();
    for _ in 0..2 {
        let run = setup.backup_wait(&["-o", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let result = crate::only_session(&run.stdout);
        names.push(result["snapshots"][0]["name"].as_str().unwrap().to_string());
    }
    let repository = setup
        .storage()
        .join("shop/orders/repository/v1/nightly/dump");
    let copies = setup.storage().join("shop/orders/snapshots");
    assert_eq!(
        restic(&repository, &["snapshots", "--json"])
            .matches("\"id\"")
            .count(),
        2
    );
    let finalizers = setup.field(
        &["get", "snapshot", &names[0], "-n", "shop"],
        "/metadata/finalizers",
    );
    assert_eq!(finalizers, json!(["kubestash.com/cleanup"]));

    // kubectl waits for the finalizer: the cleanup Job mounts the volume and removes the data.
    setup.sandbox.kubectl_ok(&[
        "delete",
        "snapshot",
        &names[0],
        "-n",
        "shop",
        "--timeout=90s",
    ]);
    assert_eq!(
        restic(&repository, &["snapshots", "--json"])
            .matches("\"id\"")
            .count(),
        1
    );
    assert!(!copies.join(format!("{}.yaml", names[0])).exists());
    assert!(copies.join(format!("{}.yaml", names[1])).exists());
    restic(&repository, &["check"]);

    // A WipeOut Repository takes its directory with it (the configuration goes first, or it
    // would recreate the Repository).
    setup.sandbox.kubectl_ok(&[
        "delete",
        "backupconfiguration",
        "orders-backup",
        "-n",
        "shop",
    ]);
    setup.sandbox.kubectl(&[
        "delete",
        "repository",
        "orders-repo",
        "-n",
        "shop",
        "--timeout=90s",
    ]);
    wait_for("the Repository to go", Duration::from_secs(60), || {
        !setup
            .sandbox
            .kubectl(&["get", "repository", "orders-repo", "-n", "shop"])
            .status
            .success()
    });
    let orders = setup.storage().join("shop/orders");
    assert!(
        !orders.exists() || std::fs::read_dir(&orders).unwrap().count() == 0,
        "the repository directory is wiped"
    );
    assert!(
        setup.storage().join("metadata.yaml").exists(),
        "the rest of the backend stays"
    );

    // A Repository that names the storage's root (made by hand; validation refuses it) is
    // not allowed to wipe the whole backend.
    let root = setup.examples.path().join("root-repository.yaml");
    std::fs::write(
        &root,
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: Repository\nmetadata:\n  name: everything\n  namespace: shop\nspec:\n  storageRef: {name: local-disk, namespace: shop}\n  path: /\n  deletionPolicy: WipeOut\n  encryptionSecret: {name: shop-restic-password, namespace: shop}\n",
    )
    .unwrap();
    setup
        .sandbox
        .kubectl_ok(&["apply", "-f", root.to_str().unwrap()]);
    wait_cleanup_finalizer(&setup, "repository", "everything");
    setup.sandbox.kubectl_ok(&[
        "delete",
        "repository",
        "everything",
        "-n",
        "shop",
        "--timeout=60s",
    ]);
    assert!(
        setup.storage().join("metadata.yaml").exists(),
        "a Repository on the root does not wipe the backend"
    );

    // A WipeOut BackupStorage empties the backend.
    setup.sandbox.kubectl_ok(&[
        "patch",
        "backupstorage",
        "local-disk",
        "-n",
        "shop",
        "--type=merge",
        "-p",
        r#"{"spec":{"deletionPolicy":"WipeOut"}}"#,
    ]);
    wait_cleanup_finalizer(&setup, "backupstorage", "local-disk");
    setup.sandbox.kubectl_ok(&[
        "delete",
        "backupstorage",
        "local-disk",
        "-n",
        "shop",
        "--timeout=90s",
    ]);
    assert!(setup.storage().exists(), "the mount point stays");
    assert_eq!(
        std::fs::read_dir(setup.storage()).unwrap().count(),
        0,
        "the backend is empty"
    );
}

/// `len` bytes from a xorshift generator: no compression, no deduplication (within one
/// call, and between calls with different seeds).
fn incompressible(len: usize, seed: u64) -> Vec<u8> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (0..len.div_ceil(8))
        .flat_map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()
        })
        .take(len)
        .collect()
}

/// Waits until the operator put its cleanup finalizer on `kind` `name` in `shop`.
fn wait_cleanup_finalizer(setup: &Setup, kind: &str, name: &str) {
    wait_for(
        &format!("the cleanup finalizer of {kind} {name}"),
        Duration::from_secs(30),
        || {
            setup.field(&["get", kind, name, "-n", "shop"], "/metadata/finalizers")
                == json!(["kubestash.com/cleanup"])
        },
    );
}

fn kill_9(pattern: &str) -> bool {
    Command::new("pkill")
        .args(["-9", "-f", "--", pattern])
        .status()
        .unwrap()
        .success()
}

fn session_phase(setup: &Setup, session: &str) -> String {
    setup
        .field(
            &["get", "backupsession", session, "-n", "shop"],
            "/status/phase",
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn wait_final(setup: &Setup, session: &str) -> String {
    let mut phase = String::new();
    wait_for("the session to end", Duration::from_secs(120), || {
        phase = session_phase(setup, session);
        matches!(phase.as_str(), "Succeeded" | "Failed" | "Skipped")
    });
    phase
}

/// The workload example with 128 MiB that does not compress or deduplicate in its volume, so
/// a backup takes a moment, and its configuration Ready; the volume's directory.
fn slow_workload(setup: &Setup, seed: u64) -> PathBuf {
    setup.workload();
    let data = setup.pvc("shop", "orders-data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("big.bin"),
        incompressible(128 * 1024 * 1024, seed),
    )
    .unwrap();
    wait_for("BackupConfiguration Ready", Duration::from_secs(30), || {
        setup.field(
            &["get", "backupconfiguration", "orders-backup", "-n", "shop"],
            "/status/phase",
        ) == "Ready"
    });
    data
}

/// `backup now` of the workload example's configuration; the new BackupSession's name.
fn trigger_backup(setup: &Setup) -> String {
    let run = setup
        .sandbox
        .plugin(&["backup", "now", "orders-backup", "-n", "shop"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
        .trim()
        .trim_start_matches("backupsession/")
        .to_string()
}

/// Kills the operator (SIGKILL) once `session`'s backup Job exists.
fn kill_once_the_job_exists(setup: &Setup, operator: Operator, session: &str) {
    wait_for("the backup Job", Duration::from_secs(30), || {
        setup
            .sandbox
            .kubectl(&["get", "job", &format!("{session}-dump"), "-n", "shop"])
            .status
            .success()
    });
    kill(operator);
}

/// Kills the operator (SIGKILL).
fn kill(operator: Operator) {
    Command::new("kill")
        .args(["-9", &operator.0.id().to_string()])
        .status()
        .unwrap();
    drop(operator);
}

/// Waits for `job` to complete, then marks it failed as the Job controller does when its
/// deadline passes (with the operator down meanwhile, it sees only the failure).
fn fail_after_completion(setup: &Setup, job: &str) {
    // The Job runs on; its executor records the component before it exits.
    wait_for("the Job to complete", Duration::from_secs(120), || {
        setup.field(&["get", "job", job, "-n", "shop"], "/status/succeeded") == 1
    });
    setup.sandbox.kubectl_ok(&[
        "patch", "job", job, "-n", "shop", "--subresource=status", "--type=merge", "-p",
        r#"{"status":{"succeeded":0,"failed":1,"conditions":[{"type":"Failed","status":"True","reason":"DeadlineExceeded","message":"Job was active longer than specified deadline"}]}}"#,
    ]);
}

#[test]
fn a_restarted_operator_finishes_the_session_and_a_killed_executor_fails_it_cleanly() {
    let setup = Setup::new();
    let operator = Operator::start(&setup.sandbox);
    let data = slow_workload(&setup, 0);

    // The operator dies (SIGKILL) once the backup Job exists; a new one finishes the session.
    let session = trigger_backup(&setup);
    kill_once_the_job_exists(&setup, operator, &session);
    let operator = Operator::start(&setup.sandbox);
    assert_eq!(wait_final(&setup, &session), "Succeeded");

    // The executor dies mid-backup (the repository is locked): with no Job retries left the
    // session fails, saying which Job failed.
    setup.sandbox.kubectl_ok(&[
        "patch", "backupconfiguration", "orders-backup", "-n", "shop", "--type=json", "-p",
        r#"[{"op":"replace","path":"/spec/sessions/0/scheduler/jobTemplate/backoffLimit","value":0}]"#,
    ]);
    std::thread::sleep(Duration::from_secs(2));
    // New data, or the re-backup skips the unchanged file and is over before it can be
    // killed.
    std::fs::write(data.join("big2.bin"), incompressible(128 * 1024 * 1024, 2)).unwrap();
    let session = trigger_backup(&setup);
    let locks = setup
        .storage()
        .join("shop/orders/repository/v1/nightly/dump/locks");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !std::fs::read_dir(&locks).is_ok_and(|mut d| d.next().is_some()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the backup never took its lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        kill_9(&format!("--backupsession={session}")),
        "the executor was running"
    );
    assert_eq!(wait_final(&setup, &session), "Failed");
    let status =
        setup.json(&["get", "backupsession", &session, "-n", "shop"])["status"].to_string();
    assert!(
        status.contains(&format!("{session}-dump")),
        "names the Job: {status}"
    );

    // The next run clears the dead executor's lock and works; restic agrees.
    let run = setup.backup_wait(&[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    restic(
        &setup
            .storage()
            .join("shop/orders/repository/v1/nightly/dump"),
        &["check"],
    );
    drop(operator);
}

/// A backup Job that is marked failed after its executor recorded the component Succeeded
/// (its deadline passing as the pod exits, say) leaves the session Succeeded: the backup is
/// in the repository and recorded, and a Failed session would contradict both.
#[test]
fn a_job_failed_after_its_executor_recorded_success_keeps_the_session_succeeded() {
    let setup = Setup::new();
    let operator = Operator::start(&setup.sandbox);
    slow_workload(&setup, 5);
    let session = trigger_backup(&setup);
    let job = format!("{session}-dump");
    kill_once_the_job_exists(&setup, operator, &session);
    assert_eq!(session_phase(&setup, &session), "Running");
    fail_after_completion(&setup, &job);

    let operator = Operator::start(&setup.sandbox);
    assert_eq!(wait_final(&setup, &session), "Succeeded");
    let snapshots = setup.json(&["get", "snapshots", "-n", "shop"]);
    let phases: Vec<&str> = snapshots["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["spec"]["backupSession"] == session.as_str())
        .map(|s| s["status"]["phase"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(phases, ["Succeeded"], "{snapshots}");
    drop(operator);
}

/// The same for a restore: a restore Job marked failed after its executor recorded the
/// component Succeeded leaves the RestoreSession Succeeded, with the data back.
#[test]
fn a_restore_job_failed_after_its_executor_recorded_success_keeps_the_restore_succeeded() {
    let setup = Setup::new();
    let operator = Operator::start(&setup.sandbox);
    let data = slow_workload(&setup, 7);
    let run = setup.backup_wait(&[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let original = std::fs::read(data.join("big.bin")).unwrap();
    std::fs::remove_file(data.join("big.bin")).unwrap();

    setup.apply(&["workload/restoresession.yaml"]);
    let jobs = || {
        setup.json(&[
            "get",
            "jobs",
            "-n",
            "shop",
            "-l",
            "kubestash.com/restore-session=orders-restore",
        ])["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    wait_for("the restore Job", Duration::from_secs(30), || {
        !jobs().is_empty()
    });
    kill(operator);
    let job = jobs()[0]["metadata"]["name"].as_str().unwrap().to_string();
    let phase = |setup: &Setup| {
        setup.field(
            &["get", "restoresession", "orders-restore", "-n", "shop"],
            "/status/phase",
        )
    };
    assert_eq!(phase(&setup), "Running");
    fail_after_completion(&setup, &job);

    let operator = Operator::start(&setup.sandbox);
    wait_for("the RestoreSession to end", Duration::from_secs(60), || {
        matches!(phase(&setup).as_str(), Some("Succeeded" | "Failed"))
    });
    assert_eq!(
        phase(&setup),
        "Succeeded",
        "{}",
        setup.json(&["get", "restoresession", "orders-restore", "-n", "shop"])["status"]
    );
    assert!(std::fs::read(data.join("big.bin")).unwrap() == original);
    drop(operator);
}

#[test]
fn uninstall_removes_the_bundle_and_keeps_the_crds_unless_asked() {
    let sandbox = RunningSandbox::start();
    let install = sandbox.plugin(&["install", "--no-operator"]);
    assert_eq!(install.code, 0, "{}", install.stderr);
    sandbox.kubectl_ok(&["get", "addon", "workload-addon"]);
    sandbox.kubectl_ok(&["get", "clusterrole", "kubestash-operator"]);

    // `-n` naming an application's namespace, or another one, deletes nothing.
    sandbox.kubectl_ok(&["create", "namespace", "shop"]);
    let wrong = sandbox.plugin(&["uninstall", "-n", "shop"]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("namespace `shop` was not created by"),
        "{}",
        wrong.stderr
    );
    let elsewhere = sandbox.plugin(&["uninstall", "-n", "backup-system"]);
    assert_eq!(elsewhere.code, 2, "{}", elsewhere.stderr);
    assert!(
        elsewhere
            .stderr
            .contains("installed in namespace `kubestash`"),
        "{}",
        elsewhere.stderr
    );
    sandbox.kubectl_ok(&["get", "namespace", "shop"]);
    sandbox.kubectl_ok(&["get", "clusterrole", "kubestash-operator"]);

    // What the operator made for the namespace's Jobs, and a backup schedule.
    let made = tempfile::tempdir().unwrap();
    let made_file = made.path().join("made.yaml");
    std::fs::write(
        &made_file,
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: kubestash-executor, namespace: shop, labels: {app.kubernetes.io/managed-by: kubestash.com}}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: kubestash-executor-shop, labels: {app.kubernetes.io/managed-by: kubestash.com}}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubestash-executor}\nsubjects: [{kind: ServiceAccount, name: kubestash-executor, namespace: shop}]\n---\n\
         apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: trigger-orders-backup-nightly, namespace: shop, labels: {app.kubernetes.io/managed-by: kubestash.com}}\nspec:\n  schedule: '30 2 * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: trigger, image: kubestash}]\n",
    )
    .unwrap();
    sandbox.kubectl_ok(&["apply", "-f", made_file.to_str().unwrap()]);

    let uninstall = sandbox.plugin(&["uninstall"]);
    assert_eq!(uninstall.code, 0, "{}", uninstall.stderr);
    assert!(!sandbox
        .kubectl(&["get", "clusterrolebinding", "kubestash-executor-shop"])
        .status
        .success());
    assert!(!sandbox
        .kubectl(&["get", "serviceaccount", "kubestash-executor", "-n", "shop"])
        .status
        .success());
    assert_eq!(
        sandbox.kubectl_ok(&[
            "get",
            "cronjob",
            "trigger-orders-backup-nightly",
            "-n",
            "shop",
            "-o",
            "jsonpath={.spec.suspend}"
        ]),
        "true"
    );
    assert!(uninstall
        .stderr
        .contains("the CRDs and your KubeStash objects were kept"));
    assert!(!sandbox
        .kubectl(&["get", "addon", "workload-addon"])
        .status
        .success());
    assert!(!sandbox
        .kubectl(&["get", "clusterrole", "kubestash-operator"])
        .status
        .success());
    sandbox.kubectl_ok(&["get", "crd", "backupconfigurations.core.kubestash.com"]);

    // A Repository still holding the operator's cleanup finalizer must not keep the CRD
    // Terminating once the operator is gone.
    let held = tempfile::tempdir().unwrap();
    let repository = held.path().join("repository.yaml");
    std::fs::write(
        &repository,
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: Repository\nmetadata: {name: held, namespace: shop, finalizers: [kubestash.com/cleanup]}\nspec:\n  storageRef: {name: s, namespace: shop}\n  path: /held\n",
    )
    .unwrap();
    sandbox.kubectl_ok(&["apply", "-f", repository.to_str().unwrap()]);
    let all = sandbox.plugin(&["uninstall", "--include-crds"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert!(
        all.stderr.contains("released 1 KubeStash objects"),
        "{}",
        all.stderr
    );
    wait_for("the CRDs to go", Duration::from_secs(20), || {
        !sandbox
            .kubectl(&["get", "crd", "repositories.storage.kubestash.com"])
            .status
            .success()
    });
    assert!(!sandbox
        .kubectl(&["get", "crd", "backupconfigurations.core.kubestash.com"])
        .status
        .success());
}

#[test]
fn install_wait_runs_the_operator_deployment_which_then_serves_backups() {
    // The only test that installs the Deployment: its pod serves metrics on port 8080.
    let setup = Setup::new();
    let install = setup
        .sandbox
        .plugin(&["install", "--wait", "--timeout", "60s"]);
    assert_eq!(install.code, 0, "{}", install.stderr);
    assert!(
        install.stderr.contains("holds the leader Lease"),
        "{}",
        install.stderr
    );
    setup.workload();
    setup.seed_orders_data();
    let run = setup.backup_wait(&[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        !run.stderr.contains("in this process"),
        "the installed operator did the work: {}",
        run.stderr
    );
}
